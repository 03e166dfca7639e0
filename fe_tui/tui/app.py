"""The console: :class:`FeConsole`, its main screen of four panes, header, footer and keys.

Launch it with :func:`run_console` (what ``fe-tui`` and ``fe-tui demo`` call) or
build ``FeConsole(Workspace.open(data_dir))`` yourself (tests, screenshots).

Keys everywhere: ``1``–``4`` focus Certificado, Habilitación, Resoluciones and
Cola; ``F1`` help for the focused pane; ``ctrl+p`` the command palette ("pane:
verb" commands); ``ctrl+e`` the company switcher; ``F5`` reload; ``ctrl+q``
quits. The footer shows only the keys that apply now (``check_action``).

SSH: animations off, no mouse needed, a clean exit on SIGHUP (the terminal went
away), colours from the 16 ANSI names and every state also in words, so it
reads with 16 colours (where the terminal has only those, a theme whose accent, warning
and error stay three colours, see :func:`theme_for`) and with ``NO_COLOR``.

The invoice form is another helper's: when ``fe_tui.tui.invoice_form`` exists,
``n`` pushes its ``InvoiceFormScreen`` (imported lazily, see
:meth:`FeConsole.open_invoice_form`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import importlib.util
import inspect
import signal
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.markup import escape
from textual.screen import Screen
from textual.theme import BUILTIN_THEMES, Theme
from textual.widgets import Footer, Static

from fe_tui.errors import FeError, InputError
from fe_tui.services.console import (
    ENVIRONMENT_LABELS,
    CompanyHeading,
    CompanyPanes,
    QueueView,
    Workspace,
)
from fe_tui.tui.panes import PANE_CSS, PaneMixin
from fe_tui.tui.panes.certificate import CertificatePane
from fe_tui.tui.panes.habilitacion import HabilitacionPane
from fe_tui.tui.panes.queue import QueuePane
from fe_tui.tui.panes.resolutions import ResolutionsPane

if TYPE_CHECKING:  # imported on first use: the first frame does not wait for them
    from fe_tui.crypto.certificates import LoadedCertificate
    from fe_tui.domain.company import Company

#: Where the invoice form lives (built separately; optional in this build).
INVOICE_FORM_MODULE = "fe_tui.tui.invoice_form"

APP_CSS = (
    PANE_CSS
    + """
Screen { layout: vertical; }
#env-bar { height: 1; padding: 0 1; background: $panel; }
#env-bar.env-produccion { background: ansi_red; color: ansi_bright_white; text-style: bold; }
#env-bar.env-habilitacion { background: ansi_yellow; color: ansi_black; text-style: bold; }
#env-bar.env-simulator { background: ansi_blue; color: ansi_bright_white; text-style: bold; }
#top { height: 9; }
MainScreen.-large #top { height: 13; }
#top > .pane { width: 1fr; }
QueuePane { height: 1fr; }
"""
)

ENV_BANNERS = {
    "produccion": ("PRODUCCIÓN", "documentos con efecto legal ante la DIAN"),
    "habilitacion": ("HABILITACIÓN", "pruebas ante la DIAN, sin efecto legal"),
    "simulator": ("SIMULADOR", "DIAN local de pruebas, nada sale de este equipo"),
}


def header_text(company: Company | CompanyHeading | None, width: int | None = None) -> str:
    """The header line: environment first (always in words), then the company.

    The environment's explanation goes last and is left out when the line would
    not fit in ``width`` columns (the word and the company always stay).
    """
    if company is None:
        return "fe-tui · sin empresa elegida (ctrl+e para elegir)"
    word, meaning = ENV_BANNERS.get(company.environment, (company.environment, ""))
    short = f"{word} · {company.label}"
    full = f"{short} · {meaning}" if meaning else short
    return short if width is not None and len(full) > width else full


def _console_commands() -> Any:
    """The console's palette provider (imported when the palette opens)."""
    from fe_tui.tui.commands import ConsoleCommands

    return ConsoleCommands


class MainScreen(Screen[None]):
    """The four panes, the header and the footer."""

    def compose(self) -> ComposeResult:
        """Header, three summary panes on top, the queue below, the footer."""
        yield Static("", id="env-bar")
        with Horizontal(id="top"):
            yield CertificatePane(id="pane-cert")
            yield HabilitacionPane(id="pane-hab")
            yield ResolutionsPane(id="pane-res")
        yield QueuePane(id="pane-queue")
        yield Footer(compact=True)

    def on_resize(self) -> None:
        """Large terminals give the summary panes more room; the header fits the width."""
        self.set_class(self.size.height >= 34, "-large")
        app = self.app
        if isinstance(app, FeConsole):
            app.paint_header()


#: The theme for a terminal of 16 colours. There the default theme's accent (orange:
#: section titles, the focused pane), its warning and its error colour all become bright
#: red, so a title reads as an error. This one is the default with an accent that becomes
#: bright magenta and a warning that becomes bright yellow (error stays red, success
#: green, primary cyan). Textual's ``ansi-dark`` was tried: it drops the fields'
#: backgrounds, so in the form a label and its value run together.
SIXTEEN_COLOUR_THEME = dataclasses.replace(
    BUILTIN_THEMES["textual-dark"], name="fe-tui-16", accent="#ff55ff", warning="#ffff55"
)


def theme_for(color_system: str | None) -> Theme | None:
    """The theme to use for Rich's ``color_system`` of the terminal (``None``: the default)."""
    return SIXTEEN_COLOUR_THEME if color_system in ("standard", "windows") else None


class FeConsole(App[None]):
    """The support agent's console over one data directory (see the module docstring)."""

    TITLE = "fe-tui"
    CSS = APP_CSS
    COMMANDS = App.COMMANDS | {_console_commands}
    BINDINGS = [
        Binding("1", "focus_pane(1)", "Certificado", show=False, id="app.pane1"),
        Binding("2", "focus_pane(2)", "Habilitación", show=False, id="app.pane2"),
        Binding("3", "focus_pane(3)", "Resoluciones", show=False, id="app.pane3"),
        Binding("4", "focus_pane(4)", "Cola", show=False, id="app.pane4"),
        Binding("f1", "help", "Ayuda", id="app.help", tooltip="Ayuda del panel con el foco"),
        Binding(
            "ctrl+e",
            "switch_company",
            "Empresa",
            show=False,  # 80 columns: the footer keeps the pane's keys; F1 lists it
            id="app.company",
        ),
        Binding("f5", "reload", "Actualizar", show=False, id="app.reload"),
        Binding(
            "ctrl+p",
            "command_palette",
            "Comandos",
            show=False,
            priority=True,
            id="app.palette",
            tooltip="Abrir la paleta de comandos",
        ),
        Binding("ctrl+q", "quit", "Salir", priority=True, id="app.quit"),
    ]

    def __init__(
        self,
        workspace: Workspace,
        *,
        company_nit: str | None = None,
        transport: Any = None,
        refresh_seconds: float = 5.0,
    ) -> None:
        super().__init__()
        self.workspace = workspace
        #: DIAN transport override (tests); ``None``: the company's DIAN or the simulator.
        self.transport = transport
        self.refresh_seconds = refresh_seconds
        self.animation_level = "none"
        theme = theme_for(self.console.color_system)
        if theme is not None:
            self.register_theme(theme)
            self.theme = theme.name
        # The first frame shows the company from its raw record; the models, the queue
        # and the panes' states are read after it, in a thread (_load_company).
        self.heading: CompanyHeading | None = workspace.heading(company_nit)
        self.company: Company | None = None
        #: The company's panes are being read (they say "cargando…").
        self.loading = self.heading is not None
        self.queue_view: QueueView | None = None
        self._certificates: dict[str, LoadedCertificate] = {}
        self._quitting = False

    # -- lifecycle --------------------------------------------------------------------------------
    def on_mount(self) -> None:
        """Main screen, SIGHUP, periodic refresh."""
        self.push_screen(MainScreen())
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._hangup)
        self.call_after_refresh(self._show_company)
        if self.refresh_seconds > 0:
            self.set_interval(self.refresh_seconds, self._tick)

    def on_unmount(self) -> None:
        """Forget the certificates (keys live only in memory) and the signal handler."""
        self._certificates.clear()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)

    async def action_quit(self) -> None:
        """ctrl+q: a running batch first stops at a document boundary; a second ctrl+q: now.

        Either way nothing is lost: every document's state is journaled before its effect
        (the next run reconciles what was on its way to DIAN).
        """
        pane = self.queue_pane
        if pane is None or not pane.running:
            self.exit()
            return
        if self._quitting:
            pane.abort_batch()
            self.exit()
            return
        self._quitting = True
        self.notify(
            "Se cierra al terminar los documentos en curso (ctrl+q otra vez: cerrar ya).",
            title="Saliendo",
        )
        pane.stop_batch(then=self.exit)

    def _hangup(self) -> None:
        """The terminal went away (SSH dropped): stop now, cleanly."""
        self.exit(return_code=129)

    def _tick(self) -> None:
        """Catch up with changes made elsewhere (the CLI, another console)."""
        if not isinstance(self.screen, MainScreen):
            return
        pane = self.queue_pane
        if pane is not None and not pane.running:
            pane.reload()

    # -- panes ------------------------------------------------------------------------------------
    @property
    def main_screen(self) -> MainScreen | None:
        """The main screen (``None`` before mount)."""
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        return None

    def panes(self) -> list[PaneMixin]:
        """The four panes, in number order."""
        main = self.main_screen
        if main is None:
            return []
        found: list[PaneMixin] = []
        for widget in main.query(".pane"):
            if isinstance(widget, PaneMixin):
                found.append(widget)
        return sorted(found, key=lambda p: p.NUMBER)

    @property
    def queue_pane(self) -> QueuePane | None:
        """The Cola pane."""
        main = self.main_screen
        if main is None:
            return None
        return main.query_one(QueuePane)

    def _show_company(self) -> None:
        """Header and focus now; the company's panes from a worker thread (see _load_company)."""
        main = self.main_screen
        if main is None:
            return
        self.company = None  # until _load_company has read it: the panes say "cargando…"
        self.queue_view = None
        self.loading = self.heading is not None
        self.paint_header()
        queue = self.queue_pane
        if queue is not None:
            queue.set_view(None)
        self.refresh_panes(queue_too=False)
        if queue is not None:
            queue.focus_pane()
        if self.heading is not None:
            self._load_company(self.heading.nit)

    @work(exclusive=True, group="company-load", exit_on_error=False)
    async def _load_company(self, nit: str) -> None:
        """Read company ``nit`` and its panes in a thread, then draw them (on the loop)."""
        panes: CompanyPanes | None = None
        try:
            panes = await asyncio.to_thread(
                self.workspace.load_company, nit, self._certificates.get(nit)
            )
        except Exception as exc:  # noqa: BLE001 (shown, and the panes stop saying cargando…)
            self.report(exc)
        self.loading = False
        self.company = None if panes is None else panes.company
        if panes is None:
            self.heading = None
        else:
            self.heading = CompanyHeading(
                panes.company.nit, panes.company.label, panes.company.environment
            )
            if panes.queue_error is not None:
                self.report(panes.queue_error)
        self.queue_view = None if panes is None else panes.queue
        self.paint_header()
        main = self.main_screen
        if main is None:
            return
        queue = self.queue_pane
        if queue is not None:
            queue.set_view(self.queue_view)
            if self.focused is None:  # the rows were hidden while loading: they get the keys
                queue.focus_pane()
        if panes is None:
            self.refresh_panes(queue_too=False)
        else:
            main.query_one(CertificatePane).show(panes.certificate)
            main.query_one(HabilitacionPane).show(panes.habilitacion)
            main.query_one(ResolutionsPane).show(panes.numbering)
            if panes.quiet_unlock:
                self._unlock_quietly(panes.company)
        self.refresh_bindings()

    def paint_header(self) -> None:
        """The environment bar: the word (PRODUCCIÓN…), the company, its colour class."""
        main = self.main_screen
        if main is None:
            return
        bar = main.query_one("#env-bar", Static)
        # The bar's padding takes one column on each side.
        width = max(1, main.size.width - 2) if main.size.width else None
        shown = self.company or self.heading
        bar.update(escape(header_text(shown, width)))
        for env in ENVIRONMENT_LABELS:
            bar.set_class(shown is not None and shown.environment == env, f"env-{env}")

    @work(exclusive=True, group="unlock", exit_on_error=False)
    async def _unlock_quietly(self, company: Company) -> None:
        """The demo's (or FE_TUI_CERT_PASSWORD's) certificate needs no question."""
        if self.workspace.certificate_path(company) is None:
            return
        if await self.certificate_for(company) is not None and company is self.company:
            self.refresh_panes(queue_too=False)

    def refresh_panes(self, *, queue_too: bool = True) -> None:
        """Every pane reads its state again."""
        for pane in self.panes():
            if isinstance(pane, QueuePane) and not queue_too:
                continue
            pane.reload()

    def action_focus_pane(self, number: int) -> None:
        """Keys 1–4."""
        if not isinstance(self.screen, MainScreen):
            return
        for pane in self.panes():
            if number == pane.NUMBER:
                pane.focus_pane()

    def action_reload(self) -> None:
        """F5."""
        self.refresh_panes()

    def focused_pane(self) -> PaneMixin | None:
        """The pane that holds the focus."""
        node = self.focused
        while node is not None:
            if isinstance(node, PaneMixin):
                return node
            node = node.parent  # type: ignore[assignment]
        return None

    # -- help -------------------------------------------------------------------------------------
    def action_help(self) -> None:
        """F1: help for the focused pane (or the screen)."""
        from fe_tui.tui.modals import HelpModal

        pane = self.focused_pane()
        source: Any = pane if pane is not None else self.screen
        title = getattr(source, "TITLE", "") or "Consola"
        text = getattr(source, "HELP", None) or GENERAL_HELP
        keys = [
            # The footer's word is short (80 columns); the help says it in full.
            (b.key_display or b.key, b.tooltip or b.description)
            for b in getattr(source, "BINDINGS", [])
            if isinstance(b, Binding) and b.description
        ]
        keys += [
            ("1–4", "ir al panel Certificado, Habilitación, Resoluciones o Cola"),
            ("F1", "esta ayuda"),
            ("ctrl+p", "paleta de comandos"),
            ("ctrl+e", "cambiar de empresa"),
            ("F5", "actualizar"),
            ("ctrl+q", "salir"),
        ]
        self.push_screen(HelpModal(str(title), str(text), keys))

    # -- company ----------------------------------------------------------------------------------
    @work(exclusive=True, group="company")
    async def action_switch_company(self) -> None:
        """ctrl+e: the company switcher (most urgent first)."""
        from fe_tui.tui.modals import CompanySwitcher

        companies = await asyncio.to_thread(self.workspace.companies)
        env = {k: v for k, v in ENVIRONMENT_LABELS.items()}
        options = [
            (c.nit, f"{c.label} · {env.get(c.environment, c.environment)}") for c in companies
        ]
        chosen = await self.push_screen_wait(
            CompanySwitcher(options, self.company.nit if self.company else None)
        )
        if chosen is None:
            return
        self.choose_company(chosen)

    def choose_company(self, nit: str) -> None:
        """Show company ``nit`` (and make it the current one)."""
        try:
            company = self.workspace.current(nit)
        except FeError as exc:
            self.report(exc)
            return
        assert company is not None
        self.workspace.use(company)
        self.heading = CompanyHeading(company.nit, company.label, company.environment)
        self._show_company()

    # -- certificates (in memory only) ------------------------------------------------------------
    def loaded_certificate(self, company: Company) -> LoadedCertificate | None:
        """The certificate unlocked in this session, if any."""
        return self._certificates.get(company.nit)

    async def certificate_for(self, company: Company) -> LoadedCertificate | None:
        """The company's certificate: unlocked already, with a known password, or asked.

        Must run in a worker (it may push the password modal). The password is
        used once to decrypt and dropped; only the loaded key stays, in memory.
        """
        from fe_tui.tui.modals import TextModal

        cached = self._certificates.get(company.nit)
        if cached is not None:
            return cached
        if self.workspace.certificate_path(company) is None:
            self.report(
                InputError(
                    f"{company.label} no tiene un certificado instalado; instálelo en el panel "
                    "Certificado (1, luego i) o con `fe-tui cert install`."
                )
            )
            return None
        password = self.workspace.known_password(company)
        if password is None:
            password = await self.push_screen_wait(
                TextModal(
                    "Contraseña del certificado",
                    f"Contraseña del certificado de {company.label}:",
                    password=True,
                    hint="Queda solo en la memoria de esta sesión. Enter acepta · Esc cancela",
                    empty_error="Escriba la contraseña.",
                )
            )
            if password is None:
                return None
        try:
            loaded = await asyncio.to_thread(self.workspace.load_certificate, company, password)
        except FeError as exc:
            self.report(exc)
            return None
        finally:
            del password
        self._certificates[company.nit] = loaded
        return loaded

    def certificate_install_available(self) -> bool:
        """Installing needs the company-certificates service."""
        return _has("fe_tui.services.company_certs", "install_certificate")

    async def install_certificate(self, company: Company, path: str, password: str) -> str:
        """Install a new PKCS#12 through the company-certificates service."""
        module = importlib.import_module("fe_tui.services.company_certs")
        install = module.install_certificate
        target = await asyncio.to_thread(lambda: Path(path).expanduser())
        await asyncio.to_thread(install, self.workspace.store, company, target, password)
        self._certificates.pop(company.nit, None)
        return f"Certificado instalado para {company.label}."

    # -- habilitación test set --------------------------------------------------------------------
    def test_set_available(self) -> bool:
        """The automated test set needs the habilitación service."""
        return _has("fe_tui.services.habilitacion", "run_test_set")

    def run_test_set(self) -> None:
        """Run the test set in the background, progress in notifications."""
        self._test_set()

    @work(exclusive=True, group="test-set", exit_on_error=False)
    async def _test_set(self) -> None:
        company = self.company
        if company is None or not self.test_set_available():
            return
        cert = await self.certificate_for(company)
        if cert is None:
            return
        module = importlib.import_module("fe_tui.services.habilitacion")
        hab = self.main_screen.query_one(HabilitacionPane) if self.main_screen else None

        def progress(p: Any) -> None:
            if hab is not None:
                hab.show_progress(module.describe_test_set(p))

        try:
            result = await module.run_test_set(
                self.workspace.store,
                self.workspace.settings,
                company,
                cert,
                progress=progress,
                transport=self.transport,
            )
            self.notify(module.describe_test_set(result), title="Set de pruebas", timeout=10)
        except FeError as exc:
            self.report(exc)
        finally:
            if hab is not None:
                hab.show_progress(None)
        self.refresh_panes()

    # -- documents --------------------------------------------------------------------------------
    def open_detail(self, doc_id: str) -> None:
        """Push the detail screen of ``doc_id``."""
        from fe_tui.tui.detail import open_detail

        if self.queue_view is None:
            return
        try:
            screen = open_detail(self.queue_view.queue, doc_id)
        except FeError as exc:
            self.report(exc)
            return
        self.push_screen(screen)

    def invoice_form_available(self) -> bool:
        """Is the invoice form in this build."""
        try:
            return importlib.util.find_spec(INVOICE_FORM_MODULE) is not None
        except (ImportError, ValueError):
            return False

    def open_invoice_form(self, *, draft_of: str | None = None) -> None:
        """``n``: push ``InvoiceFormScreen`` of :data:`INVOICE_FORM_MODULE` (lazy import).

        It receives whichever of ``workspace``, ``company``, ``queue``, ``store``,
        ``settings`` its constructor names; when it is dismissed the panes reload.
        """
        if not self.invoice_form_available() or self.company is None:
            return
        module = importlib.import_module(INVOICE_FORM_MODULE)
        screen_cls = module.InvoiceFormScreen
        offered = {
            "workspace": self.workspace,
            "company": self.company,
            "queue": self.queue_view.queue if self.queue_view else None,
            "store": self.workspace.store,
            "settings": self.workspace.settings,
            # GetAcquirer needs the unlocked certificate; the demo's simulator its transport.
            "certificate": self.loaded_certificate(self.company),
            "transport": self.transport,
        }
        if draft_of is not None:
            offered["draft_of"] = draft_of  # reopen a saved draft
        try:
            params = inspect.signature(screen_cls).parameters
        except (TypeError, ValueError):
            params = {}  # type: ignore[assignment]
        kwargs = {k: v for k, v in offered.items() if k in params}
        try:
            screen = screen_cls(**kwargs)
        except FeError as exc:
            self.report(exc)
            return
        self.push_screen(screen, self._form_closed)

    def _form_closed(self, result: Any) -> None:
        """After the form: reload; "firmar y enviar" (a ``ready`` document) starts a batch."""
        self.refresh_panes()
        pane = self.queue_pane
        if result is not None and getattr(result, "state", None) == "ready" and pane is not None:
            pane.action_run_batch()

    # -- errors, in one place ---------------------------------------------------------------------
    def report(self, exc: BaseException) -> None:
        """Show an error: fe-tui errors by their Spanish message, anything else by its kind."""
        if isinstance(exc, FeError):
            self.notify(exc.message, title="No se pudo", severity="error", timeout=10)
        else:
            self.notify(
                f"Error inesperado ({type(exc).__name__}): {exc}",
                title="Error",
                severity="error",
                timeout=10,
            )

    def action_command_palette(self) -> None:
        """ctrl+p: the palette, in Spanish."""
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):  # type: ignore[arg-type]
            self.push_screen(CommandPalette(placeholder="Buscar comandos…", id="--command-palette"))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The application's own commands, in Spanish."""
        yield SystemCommand("app: salir", "Cerrar la consola (ctrl+q)", self.action_quit)
        yield SystemCommand(
            "app: tema", "Cambiar los colores de la consola", self.action_change_theme
        )
        yield SystemCommand(
            "app: captura de pantalla",
            "Guardar un SVG de la pantalla actual",
            lambda: self.set_timer(0.1, self.deliver_screenshot),
        )


GENERAL_HELP = """\
## fe-tui: consola de facturación electrónica DIAN

Cuatro paneles: **1** Certificado, **2** Habilitación, **3** Resoluciones y **4** Cola.
La barra de arriba dice la empresa y el ambiente (PRODUCCIÓN en rojo, habilitación en
amarillo, simulador en azul). Abajo, solo las teclas que sirven ahora.
"""


def _has(module: str, name: str) -> bool:
    try:
        return hasattr(importlib.import_module(module), name)
    except ImportError:
        return False


def run_console(
    data_dir: Path | None = None,
    *,
    company_nit: str | None = None,
    workspace: Workspace | None = None,
) -> int:
    """Open the console on ``data_dir`` (or ``workspace``) and return the exit code."""
    ws = workspace or Workspace.open(data_dir)
    app = FeConsole(ws, company_nit=company_nit)
    app.run()
    return app.return_code or 0
