"""The command palette (ctrl+p): "pane: verb" commands, only those that apply now."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from fe_tui.tui.app import FeConsole


def _commands(app: FeConsole, screen: Any = None) -> list[tuple[str, str, Callable[[], Any]]]:
    """(title, help, callback) of every command valid on ``screen`` (the palette's origin).

    ``screen`` defaults to the app's current screen; the palette passes the screen
    it was opened from (while it is open, ``app.screen`` is the palette itself).
    """
    from fe_tui.tui.app import MainScreen

    if screen is None:
        screen = app.screen
    out: list[tuple[str, str, Callable[[], Any]]] = []
    out.append(("empresa: cambiar", "Elegir otra empresa (ctrl+e)", app.action_switch_company))
    out.append(("vista: actualizar", "Leer de nuevo el estado (F5)", app.action_reload))
    out.append(("ayuda: panel actual", "Ayuda del panel con el foco (F1)", app.action_help))
    if not isinstance(screen, MainScreen):
        return out
    for number, name in ((1, "Certificado"), (2, "Habilitación"), (3, "Resoluciones"), (4, "Cola")):
        out.append(
            (
                f"ir a: {name}",
                f"Enfocar el panel {name} ({number})",
                partial(app.action_focus_pane, number),
            )
        )
    queue = app.queue_pane
    if queue is not None and queue.view is not None:
        verbs = [
            ("run_batch", "cola: ejecutar lote", "Firmar y enviar lo pendiente (e)"),
            ("reconcile", "cola: conciliar", "Preguntar a la DIAN por lo enviado (c)"),
            ("retry", "cola: reintentar el documento elegido", "(r)"),
            ("void", "cola: anular el documento elegido", "Con motivo (v)"),
            ("search", "cola: buscar por número o CUFE", "(/)"),
            ("filter", "cola: filtrar por estado, fecha y prefijo", "(f)"),
            ("clear_filter", "cola: quitar filtros", "(x)"),
            ("new_invoice", "cola: nueva factura", "Formulario de factura (n)"),
        ]
        for action, title, text in verbs:
            if queue.check_action(action, ()):
                out.append((title, text, getattr(queue, f"action_{action}")))
        if queue.table.current is not None:
            doc = queue.table.current.doc_id
            out.append(
                (f"cola: ver {doc}", "Detalle del documento (Enter)", partial(app.open_detail, doc))
            )
    main = app.main_screen
    if main is not None:
        from fe_tui.tui.panes.certificate import CertificatePane
        from fe_tui.tui.panes.habilitacion import HabilitacionPane

        cert = main.query_one(CertificatePane)
        if cert.check_action("unlock", ()):
            out.append(("certificado: desbloquear", "Con su contraseña (u)", cert.action_unlock))
        if cert.check_action("install", ()):
            out.append(
                ("certificado: instalar uno nuevo", "Ruta y contraseña (i)", cert.action_install)
            )
        hab = main.query_one(HabilitacionPane)
        if hab.check_action("test_set", ()):
            out.append(("habilitación: correr el set de pruebas", "(t)", hab.action_test_set))
    return out


class ConsoleCommands(Provider):
    """The console's commands."""

    @property
    def console(self) -> FeConsole:
        """The app (typed)."""
        return self.app  # type: ignore[return-value]

    async def discover(self) -> Hits:
        """Every command, for the empty palette."""
        for title, text, callback in _commands(self.console, self.screen):
            yield DiscoveryHit(title, callback, help=text)

    async def search(self, query: str) -> AsyncIterator[Hit]:
        """Commands matching ``query``."""
        matcher = self.matcher(query)
        for title, text, callback in _commands(self.console, self.screen):
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=text)
