"""The detail of one document: fields, totals, CUFE, XML, DIAN's answer explained, history, SOAP.

Data from :func:`fe_tui.services.evidence.document_detail`; the evidence zip from
:func:`fe_tui.services.evidence.export_bundle`. Copying uses
``App.copy_to_clipboard`` (OSC 52): the text reaches the agent's own clipboard,
over SSH too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane, TextArea

from fe_tui.errors import FeError
from fe_tui.services.evidence import DocumentDetail, document_detail, export_bundle

if TYPE_CHECKING:
    from fe_tui.tui.app import FeConsole

_EVENT_LABELS = {
    "added": "agregado",
    "state": "estado",
    "attempt": "intento",
    "retry": "reintento",
    "void": "anulación",
    "corrected": "corrección",
    "numbered": "numerado",
}


def _xml_area(xml: bytes, widget_id: str) -> TextArea:
    text = xml.decode("utf-8", errors="replace")
    language = "xml" if "xml" in TextArea().available_languages else None
    return TextArea(text, language=language, read_only=True, id=widget_id, soft_wrap=False)


def render_summary(d: DocumentDetail) -> str:
    """Key fields and totals (Textual markup)."""
    r = d.record
    lines = [
        f"[b]{escape(str(r['id']))}[/b]  tipo {escape(str(r['document_type']))} · "
        f"[b]{escape(d.state_label)}[/b] · revisión {r['revision']} · {r['attempts']} intento(s)",
        f"Fecha de emisión: {escape(str(d.issue_date or '—'))}",
        f"Cliente: {escape(d.customer or '—')}"
        + (f" (NIT {escape(d.customer_id)})" if d.customer_id else ""),
    ]
    if r.get("reference"):
        lines.append(f"Referencia: {escape(str(r['reference']))}")
    lines.append(f"CUFE/CUDE: {escape(d.cufe) if d.cufe else '— (aún no firmado)'}")
    if d.track_id:
        lines.append(f"trackId: {escape(d.track_id)}")
    if r.get("message"):
        lines.append(f"Último mensaje: {escape(str(r['message']))}")
    if r.get("void_reason"):
        lines.append(f"Motivo de anulación: {escape(str(r['void_reason']))}")
    if d.totals:
        lines.append("")
        lines.append(f"[b]Totales[/b] ({escape(d.currency or 'COP')})")
        width = max(len(label) for label, _ in d.totals)
        for label, amount in d.totals:
            lines.append(f"  {label:<{width}}  {amount:>18}")
    elif d.xml is None:
        lines.append("")
        lines.append("Los totales se muestran cuando el documento esté firmado.")
    return "\n".join(lines)


def render_answers(d: DocumentDetail) -> str:
    """Every call to DIAN with its rules explained (Textual markup)."""
    if not d.answers:
        return (
            "Aún no hay respuesta de la DIAN para este documento: se envía con el próximo "
            "lote (tecla e en la Cola)."
        )
    out = []
    for a in d.answers:
        kind = a.kind or "—"
        colour = (
            "green" if kind.startswith("accepted") else "red" if kind == "rejected" else "yellow"
        )
        out.append(
            f"[b]{escape(a.time[:19])}[/b] {escape(a.operation or a.event)}: "
            f"[{colour}]{escape(kind)}[/] — {escape(a.message)}"
        )
        for rule in a.rules:
            code = rule.code or "sin código"
            rk = rule.kind or ""
            rcol = "red" if rk == "Rechazo" else "yellow"
            out.append(
                f"  [{rcol} b]Regla {escape(code)}[/] {escape(rk)}: {escape(rule.dian_text)}"
            )
            if rule.explanation:
                out.append(f"    Qué revisa: {escape(rule.explanation)}")
            if rule.xpath:
                out.append(f"    Elemento: {escape(rule.xpath)}")
            if rule.value is not None:
                out.append(f"    Valor en el documento: [b]{escape(rule.value)}[/b]")
            if rule.fix:
                out.append(f"    Cómo corregir: {escape(rule.fix)}")
        out.append("")
    return "\n".join(out)


def render_history(d: DocumentDetail) -> str:
    """The ledger history (Textual markup)."""
    if not d.history:
        return "Sin historia."
    lines = []
    for ev in d.history:
        when = str(ev.get("t", ""))[:19].replace("T", " ")
        what = _EVENT_LABELS.get(str(ev.get("e")), str(ev.get("e")))
        state = ev.get("state", "")
        msg = ev.get("message") or ""
        lines.append(f"{escape(when)}  {escape(what):<10} {escape(str(state)):<16} {escape(msg)}")
    return "\n".join(lines)


class DetailScreen(Screen[None]):
    """One document (see the module docstring)."""

    HELP = """\
## Detalle del documento

Pestañas: Resumen (campos, totales, CUFE), XML firmado, Respuesta DIAN (cada regla
explicada con el valor del documento), Historia (cada cambio de estado) y SOAP (la
petición y la respuesta, con lo sensible oculto).

- **c** copia el CUFE/CUDE y **t** el trackId a su portapapeles (OSC 52: funciona por SSH).
- **x** exporta la evidencia (XML firmado, petición y respuesta, ApplicationResponse,
  historia) a un zip en la carpeta de datos.
- **Esc** vuelve a la cola.
"""

    BINDINGS = [
        Binding("escape,q", "back", "Volver", id="detail.back"),
        Binding("c", "copy_cufe", "Copiar CUFE", id="detail.copy_cufe"),
        Binding("t", "copy_track", "Copiar trackId", id="detail.copy_track"),
        Binding("x", "export", "Exportar evidencia", id="detail.export"),
        Binding("left", "tab(-1)", "Pestaña anterior", show=False),
        Binding("right", "tab(1)", "Pestaña siguiente", show=False),
    ]

    DEFAULT_CSS = """
    DetailScreen #detail-title { height: 1; background: $panel; text-style: bold; padding: 0 1; }
    DetailScreen TabbedContent { height: 1fr; }
    DetailScreen TabPane { padding: 0 1; }
    DetailScreen TextArea { height: 1fr; }
    """

    def __init__(self, detail: DocumentDetail) -> None:
        super().__init__()
        self.detail = detail

    @property
    def console(self) -> FeConsole:
        """The app (typed)."""
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        """Title and tabs."""
        d = self.detail
        yield Static(
            f"Documento {escape(str(d.record['id']))} · {escape(d.state_label)}", id="detail-title"
        )
        with TabbedContent(initial="tab-summary"):
            with TabPane("Resumen", id="tab-summary"), VerticalScroll(can_focus=True):
                yield Static(render_summary(d), id="detail-summary")
            with TabPane("Respuesta DIAN", id="tab-dian"), VerticalScroll(can_focus=True):
                yield Static(render_answers(d), id="detail-dian")
            with TabPane("XML", id="tab-xml"):
                if d.xml is not None:
                    yield _xml_area(d.xml, "detail-xml")
                else:
                    yield Static("El documento aún no está firmado: no hay XML que mostrar.")
            with TabPane("Historia", id="tab-history"), VerticalScroll(can_focus=True):
                yield Static(render_history(d), id="detail-history")
            with TabPane("SOAP", id="tab-soap"):
                yield from self._soap()
        yield Footer(compact=True)

    def _soap(self) -> ComposeResult:
        calls = [a for a in self.detail.answers if a.request or a.answer]
        if not calls:
            yield Static("No hay llamadas SOAP registradas para este documento.")
            return
        last = calls[-1]
        parts = []
        if last.request is not None:
            parts.append(b"<!-- Peticion SOAP (datos sensibles ocultos) -->\n" + last.request)
        else:
            parts.append(b"<!-- La peticion de esta llamada no quedo en el diario -->")
        if last.answer is not None:
            parts.append(b"<!-- Respuesta SOAP de la DIAN -->\n" + last.answer)
        yield _xml_area(b"\n\n".join(parts), "detail-soap")

    def on_mount(self) -> None:
        """Rejected documents open on DIAN's answer."""
        if self.detail.record.get("state") == "rejected" and self.detail.answers:
            self.query_one(TabbedContent).active = "tab-dian"

    def action_back(self) -> None:
        """Back to the main screen."""
        self.app.pop_screen()

    def action_tab(self, delta: int) -> None:
        """Next or previous tab."""
        tabs = self.query_one(TabbedContent)
        ids = ["tab-summary", "tab-dian", "tab-xml", "tab-history", "tab-soap"]
        current = ids.index(tabs.active) if tabs.active in ids else 0
        tabs.active = ids[(current + delta) % len(ids)]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Copy only what exists."""
        if action == "copy_cufe":
            return self.detail.cufe is not None
        if action == "copy_track":
            return self.detail.track_id is not None
        return True

    def action_copy_cufe(self) -> None:
        """CUFE to the agent's clipboard."""
        if self.detail.cufe:
            self.app.copy_to_clipboard(self.detail.cufe)
            self.app.notify("CUFE copiado a su portapapeles.", title="Copiado")

    def action_copy_track(self) -> None:
        """trackId to the agent's clipboard."""
        if self.detail.track_id:
            self.app.copy_to_clipboard(self.detail.track_id)
            self.app.notify("trackId copiado a su portapapeles.", title="Copiado")

    def action_export(self) -> None:
        """Write the evidence zip."""
        folder = self.console.workspace.settings.data_dir / "evidencia"
        try:
            path = export_bundle(self.detail, folder)
        except FeError as exc:
            self.console.report(exc)
            return
        self.last_export = path
        self.app.notify(f"Evidencia exportada: {path}", title="Evidencia", timeout=10)


def open_detail(queue: Any, doc_id: str) -> DetailScreen:
    """The detail screen of ``doc_id`` (raises FeError when it is not in the queue)."""
    return DetailScreen(document_detail(queue, doc_id))
