"""The Resoluciones pane: each numbering range with a consumption bar, expiry and forecast."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.markup import escape
from textual.widgets import Static

from fe_tui.errors import FeError
from fe_tui.services.console import numbering_view
from fe_tui.tui.panes import LOADING, Pane

_SEVERITY = {"problem": "red", "warning": "yellow", "info": "cyan"}


def bar(used: int, size: int, width: int = 12) -> str:
    """A consumption bar: ``████░░░░ 42 %`` (coloured by how full it is)."""
    frac = 0.0 if size <= 0 else min(1.0, used / size)
    filled = round(frac * width)
    colour = "red" if frac >= 0.9 else "yellow" if frac >= 0.7 else "green"
    return f"[{colour}]{'█' * filled}[/][dim]{'░' * (width - filled)}[/] {frac * 100:.0f} %"


def render_numbering(report: object) -> str:
    """The pane's text (Textual markup)."""
    resolutions = getattr(report, "resolutions", [])
    if not resolutions:
        return (
            "No hay resoluciones de numeración. Sincronícelas con la DIAN "
            "(`fe-tui ranges sync`) o agréguelas (`fe-tui ranges add`)."
        )
    lines = []
    for r in resolutions:
        prefix = r.prefix or "(sin prefijo)"
        mark = "▶" if r.current else " "
        lines.append(f"{mark} [b]{escape(prefix)}[/b] {bar(r.used, r.size)}")
        expiry = (
            f"[red]vencida hace {-r.days_to_expiry} d[/]"
            if r.days_to_expiry < 0
            else f"vence {r.valid_to:%Y-%m-%d} ({r.days_to_expiry} d)"
        )
        lines.append(f"   {r.used}/{r.size} · {expiry}")
        if r.days_to_exhaustion is not None:
            if r.days_to_exhaustion > max(r.days_to_expiry, 0):
                lines.append("   al ritmo actual no se agota antes de vencer")
            else:
                lines.append(f"[yellow]   se agota en ~{r.days_to_exhaustion} d al ritmo actual[/]")
    for f in getattr(report, "findings", []):
        colour = _SEVERITY.get(f.severity, "white")
        lines.append(f"[{colour}]• {escape(f.message)}[/]")
    return "\n".join(lines)


class ResolutionsPane(Pane):
    """Pane 3."""

    NUMBER = 3
    TITLE = "Resoluciones"
    HELP = """\
## Resoluciones de numeración

Cada rango autorizado por la DIAN (prefijo, desde–hasta, vigencia): una barra con lo
consumido, los días hasta el vencimiento y, con el ritmo de los últimos 30 días, cuándo
se agotará. El rango marcado ▶ es el que da el siguiente número de su prefijo. Debajo,
los hallazgos (rangos solapados, huecos, vencimientos próximos).
"""

    def compose(self) -> ComposeResult:
        """The text."""
        yield Static("", id="res-body")

    def reload(self) -> None:
        """Read the resolutions."""
        company = self.console.company
        if company is None:
            self.show(None)
            return
        try:
            report: object = numbering_view(
                self.console.workspace, company, self.console.queue_view
            )
        except FeError as exc:
            report = exc
        self.show(report)

    def show(self, report: object) -> None:
        """Draw ``report`` (an error: its message; ``None``: no company, or still loading)."""
        body = self.query_one("#res-body", Static)
        if isinstance(report, FeError):
            body.update(escape(report.message))
        elif report is None:
            body.update(LOADING if self.console.loading else "Sin empresa elegida (ctrl+e).")
        else:
            body.update(render_numbering(report))
