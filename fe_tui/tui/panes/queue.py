"""The Cola pane: every document of the company, filters, search, batch runs and actions."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, ProgressBar, Static

from fe_tui.errors import FeError
from fe_tui.services.background import BackgroundRun, RunAborted
from fe_tui.services.console import QueueFilter, QueueView
from fe_tui.services.queue_states import (
    ACCEPTED,
    ACCEPTED_WITH_NOTICES,
    DRAFT,
    NEEDS_RECONCILE,
    REJECTED,
    RETRYABLE,
    SENDING,
    STATE_LABELS,
    VOID,
)
from fe_tui.tui.panes import LOADING, PaneMixin
from fe_tui.tui.queue_table import QueueTable, header_line

_RETRYABLE = frozenset({REJECTED, RETRYABLE, NEEDS_RECONCILE})
_NOT_VOIDABLE = frozenset({ACCEPTED, ACCEPTED_WITH_NOTICES, SENDING, NEEDS_RECONCILE, VOID})
#: States shown in the counts line, in this order.
_COUNT_ORDER = (
    "ready",
    "sending",
    "accepted",
    "accepted_with_notices",
    "rejected",
    "retryable",
    "needs_reconcile",
    "draft",
    "void",
)


def fmt_int(n: int) -> str:
    """12345 → 12.345 (Colombian thousands separator)."""
    return f"{n:,}".replace(",", ".")


def fmt_progress(p: Any) -> str:
    """One line: done/total, documents per second, ETA."""
    eta = "—" if p.eta is None else (f"{p.eta:.0f} s" if p.eta < 120 else f"{p.eta / 60:.0f} min")
    rate = f"{p.rate:.1f}".replace(".", ",")
    return f"{fmt_int(p.done)}/{fmt_int(p.total)} · {rate} doc/s · faltan {eta}"


class QueuePane(PaneMixin, Vertical, can_focus=False):
    """Pane 4: the queue (see the module docstring)."""

    NUMBER = 4
    TITLE = "Cola"
    HELP = """\
## Cola de documentos

Cada documento de la empresa, del más reciente al más antiguo, con su estado
(lista, enviando, aceptada, rechazada, por reintentar, por conciliar, anulada).

- **e** ejecuta un lote: firma y envía todo lo pendiente a la DIAN de la empresa
  (o al simulador) en segundo plano, con barra de progreso, documentos por segundo y
  tiempo restante; puede seguir trabajando mientras tanto.
- **c** concilia: pregunta a la DIAN (GetStatus) por lo que pudo llegarle, sin enviar.
- **r** reintenta el documento elegido (rechazado, por reintentar o por conciliar).
- **v** anula un número que no se enviará, con su motivo (queda registrado).
- **Enter** abre el detalle: campos, totales, CUFE, XML, respuesta de la DIAN con cada
  regla explicada, historia, SOAP, y la exportación de evidencia.
- **/** busca por número o CUFE; **f** filtra por estado, fecha y prefijo; **x** quita
  los filtros.
- **n** abre el formulario de factura nueva (si esta versión lo trae).
- **o** (o **Enter**) sobre un borrador lo abre en el formulario: ctrl+s guarda los
  cambios en el mismo borrador y F9 lo numera, firma y envía.
"""

    BINDINGS = [
        # Short footer words: at 80 columns the pane's keys and F1/ctrl+q must fit.
        Binding("e", "run_batch", "Lote", id="queue.run", tooltip="Ejecutar un lote"),
        Binding("c", "reconcile", "Conciliar", show=False, id="queue.reconcile"),
        Binding("r", "retry", "Reintentar", id="queue.retry"),
        Binding("v", "void", "Anular", id="queue.void"),
        Binding("slash", "search", "Buscar", id="queue.search"),
        Binding("f", "filter", "Filtrar", id="queue.filter"),
        Binding("x", "clear_filter", "Quitar filtro", id="queue.clear"),
        Binding("n", "new_invoice", "Nueva", id="queue.new", tooltip="Nueva factura"),
        Binding("o", "open_draft", "Abrir borrador", id="queue.open_draft"),
    ]

    DEFAULT_CSS = """
    QueuePane { padding: 0 0 0 1; }
    QueuePane #queue-counts { height: 1; color: $text-muted; }
    QueuePane #queue-progress { height: 1; display: none; }
    QueuePane.-running #queue-progress { display: block; }
    QueuePane #queue-progress ProgressBar { width: 32; }
    QueuePane #queue-progress Label { width: 1fr; }
    QueuePane #queue-header { height: 1; text-style: bold; }
    QueuePane #queue-empty { height: auto; padding: 1 1; display: none; }
    QueuePane.-empty #queue-empty { display: block; }
    QueuePane.-empty QueueTable { display: none; }
    QueuePane #queue-search { display: none; dock: bottom; }
    QueuePane.-searching #queue-search { display: block; }
    """

    class BatchFinished(Message):
        """A batch (or a reconciliation) ended; ``summary`` is the queue's RunSummary."""

        def __init__(self, summary: Any) -> None:
            super().__init__()
            self.summary = summary

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._init_pane()
        self.view: QueueView | None = None
        self.running = False
        self._last_draw = 0.0
        self.last_progress: Any = None
        #: The batch's thread (see :meth:`QueueView.start_run`); ``None`` before the first.
        self._run: BackgroundRun[Any] | None = None
        self._reconciling = False
        self._after_batch: list[Callable[[], object]] = []
        #: The newest progress from the engine's thread, and whether a message is on its way.
        self._latest_progress: Any = None
        self._progress_posted = False
        self._last_bar = 0.0

    def compose(self) -> ComposeResult:
        """Counts, progress, header, rows, search."""
        yield Static("", id="queue-counts")
        with Horizontal(id="queue-progress"):
            yield ProgressBar(total=100, show_eta=False, id="queue-bar")
            yield Label("", id="queue-rate")
        yield Static("", id="queue-header")
        yield Static("", id="queue-empty")
        yield QueueTable(id="queue-table")
        yield Input(placeholder="Número o CUFE; Enter busca, Esc cierra", id="queue-search")

    @property
    def table(self) -> QueueTable:
        """The rows."""
        return self.query_one(QueueTable)

    def focus_pane(self) -> None:
        """Focus the rows."""
        self.table.focus()

    def on_resize(self) -> None:
        """The column titles follow the width."""
        self.query_one("#queue-header", Static).update(header_line(self.size.width))

    # -- data -------------------------------------------------------------------------------------
    def set_view(self, view: QueueView | None) -> None:
        """Show ``view`` (another company's queue, or none)."""
        self.view = view
        self.reload()

    def reload(self) -> None:
        """Catch up with the ledger and redraw."""
        if self.view is not None:
            try:
                self.view.reload()
            except FeError as exc:
                self.console.report(exc)
        self._redraw(keep=self.table.current)

    def _redraw(self, keep: Any = None) -> None:
        view = self.view
        empty = self.query_one("#queue-empty", Static)
        if view is None:
            self.set_class(True, "-empty")
            empty.update(
                LOADING
                if self.console.loading
                else "No hay empresa elegida: pulse ctrl+e para elegir una."
            )
            self.table.set_rows([])
            self.query_one("#queue-counts", Static).update("")
            return
        total = view.total()
        counts = view.counts()
        shown = [f"{STATE_LABELS[s]} {fmt_int(counts[s])}" for s in _COUNT_ORDER if counts.get(s)]
        self.query_one("#queue-counts", Static).update(
            " · ".join(shown) or "Cola vacía", layout=False  # one line, fixed height
        )
        title = f"{self.NUMBER} {self.TITLE} · {fmt_int(total)} documentos"
        described = view.filter.describe()
        if described:
            title += f" · {fmt_int(len(view.rows))} con {described}"
        self.border_title = title
        if not view.rows:
            self.set_class(True, "-empty")
            if total == 0:
                empty.update(
                    "La cola está vacía. Agregue documentos con `fe-tui queue add ARCHIVO.json`"
                    " o con n (factura nueva)."
                )
            else:
                empty.update(f"Ningún documento con {described}. Pulse x para quitar los filtros.")
        else:
            self.set_class(False, "-empty")
        self.table.set_rows(view.rows, keep=keep)
        if not self.running:  # during a batch the footer waits for its end (a recompose)
            self.refresh_bindings()

    def _apply(self, flt: QueueFilter) -> None:
        if self.view is None:
            return
        try:
            self.view.apply(flt)
        except FeError as exc:
            self.console.report(exc)
            return
        self._redraw()

    @on(QueueTable.Highlighted)
    def _highlighted(self, event: QueueTable.Highlighted) -> None:
        self.refresh_bindings()

    @on(QueueTable.Chosen)
    def _chosen(self, event: QueueTable.Chosen) -> None:
        if event.record.state == DRAFT and self.console.invoice_form_available():
            self.console.open_invoice_form(draft_of=event.record.doc_id)
            return
        self.console.open_detail(event.record.doc_id)

    # -- which keys apply now ----------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide the keys that do not apply to the selected document or the pane's state."""
        actions = ("run_batch", "reconcile", "retry", "void", "search", "filter")
        if action in actions and self.view is None:
            return False
        if action in ("run_batch", "reconcile"):
            return not self.running
        current = self.table.current if self.is_mounted else None
        if action == "retry":
            return current is not None and current.state in _RETRYABLE
        if action == "void":
            return current is not None and current.state not in _NOT_VOIDABLE
        if action == "clear_filter":
            return self.view is not None and bool(self.view.filter.describe())
        if action == "open_draft":
            return (
                current is not None
                and current.state == DRAFT
                and self.console.invoice_form_available()
            )
        if action == "new_invoice":
            return self.console.invoice_form_available() and self.view is not None
        return True

    # -- actions ----------------------------------------------------------------------------------
    def action_search(self) -> None:
        """Show the search line."""
        self.set_class(True, "-searching")
        search = self.query_one("#queue-search", Input)
        search.value = self.view.filter.text if self.view else ""
        search.focus()

    @on(Input.Submitted, "#queue-search")
    def _search(self, event: Input.Submitted) -> None:
        if self.view is None:
            return
        flt = self.view.filter
        self._apply(QueueFilter(flt.state, flt.date, flt.prefix, event.value.strip()))
        self.set_class(False, "-searching")
        self.table.focus()

    def key_escape(self) -> None:
        """Escape closes the search line."""
        if self.has_class("-searching"):
            self.set_class(False, "-searching")
            self.table.focus()

    @work(exclusive=True, group="queue-filter")
    async def action_filter(self) -> None:
        """Filter by state, date and prefix."""
        from fe_tui.tui.modals import FilterModal

        if self.view is None:
            return
        flt = self.view.filter
        chosen = await self.app.push_screen_wait(
            FilterModal(flt.state, flt.date, flt.prefix, self.view.prefixes())
        )
        if chosen is not None:
            self._apply(QueueFilter(chosen["state"], chosen["date"], chosen["prefix"], flt.text))
        self.table.focus()

    def action_clear_filter(self) -> None:
        """Show every document."""
        self._apply(QueueFilter())

    def action_retry(self) -> None:
        """Put the selected document back to work."""
        rec = self.table.current
        if self.view is None or rec is None:
            return
        try:
            done = self.view.retry(rec.doc_id)
        except FeError as exc:
            self.console.report(exc)
            return
        self.app.notify(
            f"{done.doc_id}: {STATE_LABELS[done.state]}; el próximo lote (e) lo procesa.",
            title="Reintento",
        )
        self.reload()

    @work(exclusive=True, group="queue-void")
    async def action_void(self) -> None:
        """Void the selected number, with a reason."""
        from fe_tui.tui.modals import TextModal

        rec = self.table.current
        if self.view is None or rec is None:
            return
        reason = await self.app.push_screen_wait(
            TextModal(
                f"Anular {rec.doc_id}",
                "Motivo de la anulación (queda registrado; el número no se reutiliza):",
                placeholder="p. ej. venta cancelada por el cliente antes del envío",
                empty_error="La anulación necesita un motivo.",
            )
        )
        if not reason:
            return
        try:
            done = self.view.void(rec.doc_id, reason)
        except FeError as exc:
            self.console.report(exc)
            return
        self.app.notify(f"{done.doc_id} anulado: {reason}", title="Anulación")
        self.reload()

    def action_open_draft(self) -> None:
        """``o`` (or Enter) on a draft: the form, filled with it; saving updates the draft."""
        rec = self.table.current
        if rec is not None and rec.state == DRAFT:
            self.console.open_invoice_form(draft_of=rec.doc_id)

    def action_new_invoice(self) -> None:
        """Open the invoice form (when this build has it)."""
        self.console.open_invoice_form()

    def action_run_batch(self) -> None:
        """Sign and send everything pending, in the background."""
        self._start(reconcile=False)

    def action_reconcile(self) -> None:
        """Ask DIAN about what may have reached it."""
        self._start(reconcile=True)

    def _start(self, *, reconcile: bool) -> None:
        if self.view is None or self.running:
            return
        self.running = True
        self._latest_progress = None
        self._progress_posted = False
        self.set_class(True, "-running")
        self.query_one("#queue-rate", Label).update("Preparando…")
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.refresh_bindings()
        self._batch(reconcile)

    class Progressed(Message):
        """The engine's progress (``progress`` is its QueueProgress), posted from its thread."""

        def __init__(self, progress: Any) -> None:
            super().__init__()
            self.progress = progress

    def _post_progress(self, progress: Any) -> None:
        """The engine's callback, on its thread: keep the latest, post one message at a time.

        Under load the console draws the newest progress when it gets to it, instead of
        working through a backlog of stale ones (assignments are atomic across threads).
        """
        self._latest_progress = progress
        if not self._progress_posted:
            self._progress_posted = True
            self.post_message(self.Progressed(progress))

    def on_queue_pane_progressed(self, event: Progressed) -> None:
        """Bar and rate at most 10×/s; the rows (read from the ledger's files) at most 1×/s."""
        now = time.monotonic()
        if now - self._last_bar < 0.1:
            # Too soon: look again when the interval is over (the flag stays up meanwhile).
            self.set_timer(0.1 - (now - self._last_bar), self._show_progress)
            return
        self._show_progress()

    def _show_progress(self) -> None:
        self._progress_posted = False
        p = self._latest_progress
        if p is None or not self.running:
            return
        self._last_bar = now = time.monotonic()
        self.last_progress = p
        self.query_one(ProgressBar).update(total=max(1, p.total), progress=p.done)
        # One line of a fixed height: no layout pass (a full-screen repaint) per update.
        self.query_one("#queue-rate", Label).update(fmt_progress(p), layout=False)
        if now - self._last_draw >= 1.0:
            self._last_draw = now
            self._catch_up()

    def _catch_up(self) -> None:
        """Read what the batch journaled so far and redraw the rows (on the console's loop)."""
        if self.view is None:
            return
        try:
            self.view.reload()
        except FeError as exc:  # a ledger unreadable now: the rows wait for the next look
            self.console.report(exc)
            return
        self._redraw(keep=self.table.current)

    @property
    def background(self) -> BackgroundRun[Any] | None:
        """The thread of the current (or last) batch; ``None`` before the first."""
        return self._run

    def stop_batch(self, then: Callable[[], object] | None = None) -> None:
        """Stop the running batch at a document boundary, then call ``then`` (on this loop).

        The documents in flight finish and are journaled; the rest stay as they are for
        the next run. A reconciliation (GetStatus only) is cancelled outright. Without a
        batch, ``then`` is called now.
        """
        run = self._run
        if run is None or run.done() or not self.running:  # none, or still asking the password
            if then is not None:
                then()
            return
        if then is not None:
            self._after_batch.append(then)
        self.query_one("#queue-rate", Label).update("Deteniendo: terminan los documentos en curso…")
        if self._reconciling:
            run.abort()
        else:
            run.stop()

    def abort_batch(self) -> None:
        """Cancel the running batch now (what was in flight is reconciled by the next run)."""
        if self._run is not None:
            self._run.abort()

    @work(exclusive=True, group="queue-run", exit_on_error=False)
    async def _batch(self, reconcile: bool) -> None:
        """Ask for the certificate here (modals are the console's), run in a thread."""
        view = self.view
        assert view is not None
        summary = None
        try:
            cert = await self.console.certificate_for(view.company)
            if cert is None:
                return
            self._reconciling = reconcile
            self._run = view.start_run(
                cert,
                reconcile=reconcile,
                progress=self._post_progress,
                transport=self.console.transport,
            )
            summary = await self._run.wait()
        except RunAborted:
            pass
        except FeError as exc:
            self.console.report(exc)
        finally:
            # Cancelled (the console is closing): the engine stops at a document boundary
            # and the interpreter waits for its thread before the process ends.
            if self._run is not None and not self._run.done():
                self._run.stop()
            self.running = False
            if self._latest_progress is not None:
                self.last_progress = self._latest_progress
            self.set_class(False, "-running")
            if self.is_attached:
                self.reload()
            if summary is not None:
                self.post_message(self.BatchFinished(summary))
            after, self._after_batch = self._after_batch, []
            for then in after:
                then()

    def on_queue_pane_batch_finished(self, event: BatchFinished) -> None:
        """Say what the batch did."""
        s = event.summary
        counts = ", ".join(
            f"{STATE_LABELS.get(k, k)} {fmt_int(v)}" for k, v in sorted(s.counts.items())
        )
        problems = sum(s.counts.get(k, 0) for k in _RETRYABLE)
        self.app.notify(
            f"Procesados {fmt_int(s.processed)} en {s.elapsed:.1f} s. {counts}",
            title="Lote terminado",
            severity="warning" if problems else "information",
        )
        self.console.refresh_panes()
