"""What the console shows, gathered from the services in one place (no Textual here).

The console (:mod:`fe_tui.tui`) never touches the store, the ledger or DIAN
itself: it opens a :class:`Workspace` over a data directory and asks it for
each pane's state. This module is the one adapter between the panes and the
services; when a richer service appears (``company_certs``, ``ranges``,
``habilitacion``, ``health``), the adapter switches to it and the panes do not
change.

- :class:`Workspace`: store + settings, the companies (triage order when
  :mod:`fe_tui.services.health` is available), the current company
  (:meth:`Workspace.heading`: what the console's first frame shows of it, read
  without the domain models; :meth:`Workspace.load_company`: everything the panes
  show, computed in one call a worker thread makes after that frame).
- :class:`QueueView`: the queue of one company as a filtered, searchable index
  of :class:`~fe_tui.store.ledger.DocRecord` (no copies: the index holds
  references), so a pane can draw only the rows on screen at 100k documents.
- :func:`certificate_view`, :func:`habilitacion_view`, :func:`numbering_view`:
  each pane's real state, or an empty state that says so and what to do.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fe_tui.domain.colombia import COLOMBIA_TZ
from fe_tui.errors import FeError, InputError
from fe_tui.services.background import BackgroundRun
from fe_tui.services.queue_states import STATE_LABELS, STATES
from fe_tui.settings import Settings
from fe_tui.store.db import Store
from fe_tui.store.ledger import DocRecord

if TYPE_CHECKING:  # the signing/DIAN stack is imported on first use, after the first frame
    from fe_tui.crypto.certificates import LoadedCertificate
    from fe_tui.domain.company import Company
    from fe_tui.services.invoice_queue import InvoiceQueue

#: Environment names as the header shows them.
ENVIRONMENT_LABELS = {
    "produccion": "PRODUCCIÓN",
    "habilitacion": "habilitación",
    "simulator": "simulador",
}


def now_co() -> datetime:
    """Now, Colombian time."""
    return datetime.now(COLOMBIA_TZ).replace(microsecond=0)


@dataclass(frozen=True)
class CompanyHeading:
    """What the header shows of a company, read from its raw record (no pydantic).

    The console's first frame is drawn before the domain models are imported; this
    is the part of :class:`~fe_tui.domain.company.Company` that frame needs.
    """

    nit: str
    label: str
    environment: str

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> CompanyHeading:
        """From the stored JSON of a company (``Company.label``: ``Name (NIT-DV)``)."""
        nit, dv = str(record.get("nit", "")), str(record.get("dv", ""))
        name = str(record.get("name", ""))
        return cls(nit, f"{name} ({nit}-{dv})", str(record.get("environment", "")))


@dataclass
class CompanyPanes:
    """A company with everything its panes show, or for each pane the error that stopped it."""

    company: Company
    queue: QueueView | None
    #: Why there is no queue (``None``: there is one).
    queue_error: FeError | None
    certificate: CertificateView | FeError
    habilitacion: Any
    numbering: Any
    #: The certificate's password is known (the demo's, ``FE_TUI_CERT_PASSWORD``).
    quiet_unlock: bool = False


@dataclass
class Workspace:
    """The data directory the console works on."""

    store: Store
    settings: Settings
    #: The console's clock (tests and screenshots pass a fixed one).
    clock: Callable[[], datetime] = now_co

    @classmethod
    def open(cls, data_dir: Path | None = None, **kwargs: Any) -> Workspace:
        """Open ``data_dir`` (default: ``FE_TUI_DATA_DIR`` or the platform's)."""
        settings = Settings.load(data_dir)
        return cls(Store(settings.data_dir), settings, **kwargs)

    def companies(self) -> list[Company]:
        """Every company, most urgent first when triage is available, else by name."""
        companies = sorted(self.store.companies(), key=lambda c: c.name.lower())
        from fe_tui.services.health import triage_all

        try:
            entries = triage_all(self.store, self.settings, now=self.clock())
        except FeError:  # triage orders the list; a broken company must not hide the others
            return companies
        order = {e.company_nit: i for i, e in enumerate(entries)}
        return sorted(companies, key=lambda c: order.get(c.nit, len(order)))

    def current_record(self, nit: str | None = None) -> dict[str, Any] | None:
        """The raw record of :meth:`current` (no validation: cheap, no domain import)."""
        if nit:
            record = self.store.company_record(nit)
            if record is None:
                raise InputError(f"No hay una empresa con NIT {nit} en {self.settings.data_dir}.")
            return record
        current = self.store.current_company_nit()
        if current:
            record = self.store.company_record(current)
            if record is not None:
                return record
        records = self.store.company_records()
        return records[0] if len(records) == 1 else None

    def current(self, nit: str | None = None) -> Company | None:
        """The company ``nit``, else the current one, else the only one (``None``: none)."""
        record = self.current_record(nit)
        return None if record is None else self.store.company(str(record.get("nit", "")))

    def heading(self, nit: str | None = None) -> CompanyHeading | None:
        """What the header shows of :meth:`current` (for the first frame, before the models)."""
        record = self.current_record(nit)
        return None if record is None else CompanyHeading.from_record(record)

    def load_company(
        self, nit: str | None, loaded: LoadedCertificate | None = None
    ) -> CompanyPanes | None:
        """Company ``nit`` (or the current one) and each pane's state, in one blocking call.

        The console calls this in a worker thread after its first frame: it imports the
        domain models and the signing stack, reads the whole ledger and computes the
        summaries. A pane whose service fails gets the error instead of its state.
        """
        company = self.current(nit)
        if company is None:
            return None
        queue: QueueView | None = None
        queue_error: FeError | None = None
        try:
            queue = self.queue(company)
        except FeError as exc:
            queue_error = exc

        def attempt(fn: Callable[[], Any]) -> Any:
            try:
                return fn()
            except FeError as exc:
                return exc

        return CompanyPanes(
            company,
            queue,
            queue_error,
            attempt(lambda: certificate_view(self, company, loaded)),
            attempt(lambda: habilitacion_view(self, company)),
            attempt(lambda: numbering_view(self, company, queue)),
            quiet_unlock=self.certificate_path(company) is not None
            and self.known_password(company) is not None,
        )

    def use(self, company: Company) -> None:
        """Make ``company`` the current one (the CLI sees the change too)."""
        self.store.set_current_company(company.nit)

    def queue(self, company: Company) -> QueueView:
        """The queue of ``company``."""
        from fe_tui.services.invoice_queue import InvoiceQueue

        return QueueView(InvoiceQueue(self.store, company, self.settings, clock=self.clock))

    # -- the certificate -------------------------------------------------------------------------
    def certificate_path(self, company: Company) -> Path | None:
        """The company's active PKCS#12 (``None`` when none is installed)."""
        from fe_tui.services.sessions import active_certificate_path

        try:
            return active_certificate_path(self.store, company)
        except InputError:
            return None

    def known_password(self, company: Company) -> str | None:
        """A password the console may use without asking: the demo's, or the environment's.

        The demo's is known only for its own generated test certificate
        (``certificado-demo.p12`` of a company on the simulator): a throwaway key.
        """
        from fe_tui.services.demo import DEMO_CERT_PASSWORD

        path = self.certificate_path(company)
        demo = self.settings.data_dir / "companies" / company.nit / "certificates"
        if (
            company.environment == "simulator"
            and path is not None
            and path == demo / "certificado-demo.p12"
        ):
            return DEMO_CERT_PASSWORD
        return os.environ.get("FE_TUI_CERT_PASSWORD")

    def load_certificate(self, company: Company, password: str | None) -> LoadedCertificate:
        """Load the active certificate with ``password`` (held by the caller, in memory only)."""
        from fe_tui.services.documents import load_certificate
        from fe_tui.services.sessions import active_certificate_path

        return load_certificate(active_certificate_path(self.store, company), password)


# -- the queue -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QueueFilter:
    """What the queue pane shows: a state, an issue date (prefix of ISO), a prefix, a search."""

    state: str | None = None
    date: str | None = None
    prefix: str | None = None
    text: str = ""

    def describe(self) -> str:
        """Spanish summary for the pane's title."""
        parts = []
        if self.state:
            parts.append(f"estado {STATE_LABELS.get(self.state, self.state)}")
        if self.date:
            parts.append(f"fecha {self.date}")
        if self.prefix is not None:
            parts.append(f"prefijo {self.prefix or '(sin prefijo)'}")
        if self.text:
            parts.append(f"«{self.text}»")
        return ", ".join(parts)


@dataclass
class QueueView:
    """One company's queue as an index the pane draws from (newest first)."""

    queue: InvoiceQueue
    filter: QueueFilter = field(default_factory=QueueFilter)
    rows: list[DocRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.reload()

    @property
    def company(self) -> Company:
        """The company of this queue."""
        return self.queue.company

    def reload(self) -> None:
        """Catch up with the ledger (this or another process) and re-apply the filter."""
        self.queue.ledger.refresh()
        self.apply(self.filter)

    def apply(self, flt: QueueFilter) -> None:
        """Rebuild the index for ``flt`` (one pass over the documents: O(n), no copies)."""
        if flt.state is not None and flt.state not in STATES:
            raise InputError(f"Estado desconocido: {flt.state!r}.")
        self.filter = flt
        text = flt.text.strip().lower()
        digits = text.isdigit()
        state, day, prefix = flt.state, flt.date, flt.prefix
        out = []
        for rec in self.queue.ledger.docs.values():
            if state is not None and rec.state != state:
                continue
            if prefix is not None and rec.prefix != prefix:
                continue
            if day and not (rec.issue_date or rec.created[:10]).startswith(day):
                continue
            if text and not (
                (digits and rec.number is not None and text in str(rec.number))
                or text in rec.doc_id.lower()
                or (rec.cufe is not None and rec.cufe.startswith(text))
            ):
                continue
            out.append(rec)
        out.reverse()
        self.rows = out

    def counts(self) -> dict[str, int]:
        """Documents per state (all of them, not just the filtered)."""
        return self.queue.ledger.counts()

    def prefixes(self) -> list[str]:
        """The prefixes in use."""
        return sorted({r.prefix for r in self.queue.ledger.docs.values()})

    def total(self) -> int:
        """How many documents the queue holds."""
        return len(self.queue.ledger.docs)

    # -- actions ----------------------------------------------------------------------------------
    def retry(self, doc_id: str) -> DocRecord:
        """Put a document back to work (see :meth:`InvoiceQueue.retry`)."""
        return self.queue.retry(doc_id)

    def void(self, doc_id: str, reason: str) -> DocRecord:
        """Void an unsent number with its reason (see :meth:`InvoiceQueue.void`)."""
        return self.queue.void(doc_id, reason)

    def start_run(
        self,
        certificate: LoadedCertificate,
        *,
        reconcile: bool = False,
        progress: Callable[[Any], None] | None = None,
        transport: Any = None,
    ) -> BackgroundRun[Any]:
        """Run the queue (or only reconcile) in a thread with its own event loop.

        The run has its own store and ledger (this view's are never touched from that
        thread: :meth:`reload` catches up from the ledger's files, as with another
        process) and its own DIAN session, in-process simulator included. ``progress``
        is called **on the run's thread**. :meth:`BackgroundRun.stop` ends a batch at a
        document boundary (the engine's ``until``); a reconciliation only asks DIAN,
        so it is stopped with :meth:`BackgroundRun.abort`. The result is the
        engine's ``RunSummary``.
        """
        q = self.queue
        data_dir, company, settings = q.store.data_dir, q.company, q.settings
        clock, policy = q.clock, q.policy
        seed = q.rng.getrandbits(64)

        async def work(stopping: Callable[[], bool]) -> Any:
            import random

            from fe_tui.services.invoice_queue import InvoiceQueue
            from fe_tui.services.sessions import open_company_session

            twin = InvoiceQueue(
                Store(data_dir),
                company,
                settings,
                policy=policy,
                clock=clock,
                rng=random.Random(seed),
            )
            async with open_company_session(
                twin.store, settings, company, certificate, transport=transport
            ) as session:
                if reconcile:
                    return await twin.reconcile(session, certificate)
                return await twin.run(session, certificate, progress=progress, until=stopping)

        return BackgroundRun(work, name=f"fe-tui-lote-{company.nit}").start()


# -- the other panes -------------------------------------------------------------------------------
@dataclass
class CertificateView:
    """What the Certificado pane shows."""

    path: Path | None
    #: Public facts of the active certificate (``None``: none installed / never inspected).
    active: Any = None
    days_left: int | None = None
    health: str = "sin_certificado"  #: vigente, por_vencer, vencido, invalido, sin_certificado
    message: str = ""
    records: list[Any] = field(default_factory=list)
    notice: str | None = None
    renewal: Any = None
    purchase_next: str | None = None
    #: The certificate is unlocked in this session (ready to sign a batch).
    unlocked: bool = False


def certificate_view(
    ws: Workspace, company: Company, loaded: LoadedCertificate | None
) -> CertificateView:
    """The certificate pane's state, from the company's certificate records (no password)."""
    from fe_tui.services.company_certs import certificate_overview

    path = ws.certificate_path(company)
    overview = certificate_overview(ws.store, company, now=ws.clock())
    status = overview.status
    if status is None and path is None:
        return CertificateView(
            None,
            health="sin_certificado",
            message="No hay un certificado instalado. Instale el .p12 de la empresa con la "
            "tecla i (o `fe-tui cert install ARCHIVO.p12`).",
            records=list(overview.records),
        )
    if status is None:
        return CertificateView(
            path,
            health="sin_inspeccionar",
            message="El certificado no se ha inspeccionado: instálelo de nuevo (tecla i) "
            "para ver su vigencia.",
            records=list(overview.records),
            unlocked=loaded is not None,
        )
    return CertificateView(
        path,
        active=overview.active,
        days_left=status.days_left,
        health=str(status.health.value),
        message=status.message,
        records=list(overview.records),
        notice=overview.notice,
        renewal=overview.renewal,
        purchase_next=overview.purchase_next,
        unlocked=loaded is not None,
    )


def habilitacion_view(ws: Workspace, company: Company) -> Any:
    """The company's habilitación status (:class:`~fe_tui.domain.workflows.HabilitacionStatus`)."""
    from fe_tui.services.habilitacion import habilitacion_overview

    return habilitacion_overview(ws.store, company, now=ws.clock())


def numbering_view(ws: Workspace, company: Company, queue: QueueView | None = None) -> Any:
    """The company's numbering report (:class:`~fe_tui.services.resolutions.NumberingReport`)."""
    from fe_tui.services.resolutions import analyze_numbering

    resolutions = ws.store.resolutions(company.nit)
    last_used: dict[str, int] = {}
    usage: dict[str, list[int]] = {}
    today: date = ws.clock().date()
    if queue is not None:
        last_used = dict(queue.queue.ledger.last_numbers)
        per_day: dict[str, dict[str, int]] = {}
        for rec in queue.queue.ledger.docs.values():
            if rec.number is None:
                continue
            day = rec.issue_date or rec.created[:10]
            per_day.setdefault(rec.prefix, {})
            per_day[rec.prefix][day] = per_day[rec.prefix].get(day, 0) + 1
        for prefix, days in per_day.items():
            series = []
            for back in range(30, 0, -1):
                d = date.fromordinal(today.toordinal() - back + 1).isoformat()
                series.append(days.get(d, 0))
            usage[prefix] = series
    return analyze_numbering(
        company.nit, resolutions, last_used, today, daily_usage=usage, now=ws.clock()
    )
