"""The Habilitación pane: DIAN's checklist, the next step, the test-set run."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.markup import escape
from textual.widgets import Static

from fe_tui.errors import FeError
from fe_tui.services.console import habilitacion_view
from fe_tui.tui.panes import LOADING, Pane

STEP_MARKS = {
    "hecho": "[green]✔[/]",
    "disponible": "[cyan]▶[/]",
    "bloqueado": "[red]✖[/]",
    "en_espera": "[yellow]…[/]",
}


def render_habilitacion(status: Any) -> str:
    """The pane's text (Textual markup)."""
    done = sum(1 for s in status.steps if s.state == "hecho")
    head = (
        "[green b]✔ Habilitada: puede facturar en producción[/]"
        if status.ready
        else f"[b]{done}/{len(status.steps)} pasos[/b]"
    )
    lines = [head, f"[b]{escape(status.next_action)}[/b]"]
    for s in status.steps:
        mark = STEP_MARKS.get(s.state, "·")
        lines.append(f"{mark} {escape(s.label)}")
    return "\n".join(lines)


class HabilitacionPane(Pane):
    """Pane 2."""

    NUMBER = 2
    TITLE = "Habilitación"
    HELP = """\
## Habilitación ante la DIAN

La lista de pasos para que la empresa facture en producción: registro, modo de
operación y software, set de pruebas, fechas, RUT, numeración y prefijos. Cada paso
dice si está hecho (✔), disponible (▶), bloqueado (✖, con el motivo) o en espera (…),
y arriba va el siguiente paso a dar.

- **t** corre el set de pruebas automático contra la DIAN de habilitación (o el
  simulador) con progreso en vivo; puede seguir trabajando mientras tanto.
"""
    BINDINGS = [Binding("t", "test_set", "Set de pruebas", id="hab.test_set")]

    DEFAULT_CSS = """
    HabilitacionPane #hab-progress { display: none; color: $warning; text-style: bold; }
    HabilitacionPane.-running #hab-progress { display: block; }
    """

    def compose(self) -> ComposeResult:
        """Live progress of the test set, then the checklist."""
        yield Static("", id="hab-progress")
        yield Static("", id="hab-body")

    def show_progress(self, text: str | None) -> None:
        """The test set's live progress (``None``: it ended)."""
        self.set_class(text is not None, "-running")
        self.query_one("#hab-progress", Static).update(escape(text or ""))
        if text is None:
            self.reload()

    def reload(self) -> None:
        """Read the checklist."""
        company = self.console.company
        if company is None:
            self.show(None)
            return
        try:
            status: Any = habilitacion_view(self.console.workspace, company)
        except FeError as exc:
            status = exc
        self.show(status)

    def show(self, status: Any) -> None:
        """Draw ``status`` (an error: its message; ``None``: no company, or still loading)."""
        body = self.query_one("#hab-body", Static)
        if isinstance(status, FeError):
            body.update(escape(status.message))
        elif status is None:
            body.update(LOADING if self.console.loading else "Sin empresa elegida (ctrl+e).")
        else:
            body.update(render_habilitacion(status))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The test set needs the habilitación service."""
        if action == "test_set":
            company = self.console.company
            return (
                company is not None
                and company.environment != "produccion"
                and not self.has_class("-running")
                and self.console.test_set_available()
            )
        return True

    def action_test_set(self) -> None:
        """Run the test set (see :meth:`FeConsole.run_test_set`)."""
        self.console.run_test_set()
