"""The Certificado pane: the active certificate, its days left (with colour), records, install."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.widgets import Static

from fe_tui.errors import FeError
from fe_tui.services.console import CertificateView, certificate_view
from fe_tui.tui.panes import LOADING, Pane

HEALTH_LABELS = {
    "vigente": "[green]● VIGENTE[/]",
    "por_vencer": "[yellow]▲ POR VENCER[/]",
    "vencido": "[red]✖ VENCIDO[/]",
    "invalido": "[red]✖ INVÁLIDO[/]",
    "sin_inspeccionar": "[yellow]? SIN INSPECCIONAR[/]",
    "sin_certificado": "[red]✖ SIN CERTIFICADO[/]",
}


def render_certificate(view: CertificateView) -> str:
    """The pane's text (Textual markup)."""
    lines = [f"[b]{HEALTH_LABELS.get(view.health, escape(view.health))}[/b]"]
    if view.days_left is not None:
        colour = "red" if view.days_left < 0 else "yellow" if view.days_left <= 30 else "green"
        word = "día" if abs(view.days_left) == 1 else "días"
        left = (
            f"vencido hace {-view.days_left} {word}"
            if view.days_left < 0
            else f"{view.days_left} {word} de vigencia"
        )
        lines.append(f"[{colour}]{left}[/]")
    active = view.active
    if active is not None:
        lines.append(f"Vence: {active.not_after:%Y-%m-%d}")
    lines.append(
        "[green]Desbloqueado en esta sesión[/]"
        if view.unlocked
        else "[dim]Bloqueado: se pide la contraseña al firmar (u)[/]"
    )
    lines.append(escape(view.message))
    if view.notice:
        lines.append(f"[yellow]{escape(view.notice)}[/]")
    if view.renewal is not None:
        state = getattr(view.renewal, "state", "")
        lines.append(f"Renovación: {escape(str(getattr(state, 'value', state)))}")
    if view.purchase_next:
        lines.append(f"Compra: {escape(view.purchase_next)}")
    # The holder's long name last: at 80×24 the state, days and expiry come first.
    if active is not None:
        lines.append(f"Titular: {escape(str(active.subject_cn or active.subject))}")
        if active.issuer_cn:
            lines.append(f"Emisor: {escape(str(active.issuer_cn))}")
    if len(view.records) > 1:
        lines.append(f"[dim]{len(view.records)} certificados registrados[/]")
        for r in view.records[:5]:
            state = getattr(r.state, "value", r.state)
            lines.append(f"[dim]  {r.not_after:%Y-%m-%d} {escape(str(state))}[/]")
    return "\n".join(lines)


class CertificatePane(Pane):
    """Pane 1."""

    NUMBER = 1
    TITLE = "Certificado"
    HELP = """\
## Certificado de firma

El certificado digital (PKCS#12) con el que la empresa firma sus documentos: su estado
(vigente, por vencer, vencido), los días que le quedan y su titular.

- **u** desbloquea el certificado con su contraseña para firmar en esta sesión: la
  contraseña se usa una vez y la clave queda solo en memoria (nunca en disco, en
  registros ni en pantalla). El certificado de la demostración se desbloquea solo.
- **i** instala un certificado nuevo: ruta del .p12 y contraseña; se comprueba antes de
  reemplazar el actual.
"""
    BINDINGS = [
        Binding("u", "unlock", "Desbloquear", id="cert.unlock"),
        Binding("i", "install", "Instalar", id="cert.install"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.view: CertificateView | None = None

    def compose(self) -> ComposeResult:
        """The text."""
        yield Static("", id="cert-body")

    def reload(self) -> None:
        """Read the certificate state."""
        company = self.console.company
        if company is None:
            self.show(None)
            return
        try:
            view: CertificateView | FeError = certificate_view(
                self.console.workspace, company, self.console.loaded_certificate(company)
            )
        except FeError as exc:
            view = exc
        self.show(view)

    def show(self, view: CertificateView | FeError | None) -> None:
        """Draw ``view`` (an error: its message; ``None``: no company, or still loading)."""
        body = self.query_one("#cert-body", Static)
        if isinstance(view, FeError):
            body.update(escape(view.message))
            return
        self.view = view
        if view is None:
            body.update(LOADING if self.console.loading else "Sin empresa elegida (ctrl+e).")
        else:
            body.update(render_certificate(view))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Unlock only a locked certificate."""
        if action == "unlock":
            return self.view is not None and self.view.path is not None and not self.view.unlocked
        if action == "install":
            return self.console.company is not None and self.console.certificate_install_available()
        return True

    @work(exclusive=True, group="cert-unlock")
    async def action_unlock(self) -> None:
        """Ask the password and load the certificate."""
        company = self.console.company
        if company is not None:
            await self.console.certificate_for(company)
            self.console.refresh_panes()

    @work(exclusive=True, group="cert-install")
    async def action_install(self) -> None:
        """Install a new PKCS#12."""
        from fe_tui.tui.modals import InstallCertificateModal

        company = self.console.company
        if company is None:
            return
        answer = await self.app.push_screen_wait(InstallCertificateModal())
        if answer is None:
            return
        path, password = answer
        try:
            message = await self.console.install_certificate(company, path, password)
        except FeError as exc:
            self.console.report(exc)
            return
        finally:
            del password
        self.app.notify(message, title="Certificado")
        self.console.refresh_panes()
