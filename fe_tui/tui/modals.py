"""Modal screens of the console: help, company switcher, filter, void, password, install, confirm.

Each is a ``ModalScreen[T]`` that dismisses with its result (``None`` on escape),
so the panes can ``await self.app.push_screen_wait(...)`` inside a worker.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Markdown, OptionList, Select, Static
from textual.widgets.option_list import Option

from fe_tui.services.queue_states import STATE_LABELS, STATES

_MODAL_CSS = """
{name} {{
    align: center middle;
}}
{name} > Vertical {{
    width: 76;
    max-width: 100%;
    height: auto;
    max-height: 90%;
    border: thick $primary;
    background: $surface;
    padding: 0 1;
}}
{name} Label {{
    width: 100%;
}}
{name} .modal-title {{
    text-style: bold;
    width: 100%;
    content-align: center middle;
}}
{name} .modal-hint {{
    color: $text-muted;
}}
{name} .modal-error {{
    color: $error;
    text-style: bold;
}}
{name} Horizontal {{
    height: auto;
    align-horizontal: right;
}}
{name} Button {{
    margin: 0 1;
}}
"""


def modal_css(name: str) -> str:
    """The shared look of a modal called ``name``."""
    return _MODAL_CSS.format(name=name)


class HelpModal(ModalScreen[None]):
    """F1: the focused pane's help (Markdown) and its keys."""

    DEFAULT_CSS = (
        modal_css("HelpModal")
        + """
    HelpModal > Vertical { width: 90; height: 90%; }
    HelpModal VerticalScroll { height: 1fr; }
    """
    )
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Cerrar")]

    def __init__(self, title: str, markdown: str, keys: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.help_title = title
        self.markdown = markdown
        self.keys = keys

    def compose(self) -> ComposeResult:
        """Title, help text, keys."""
        lines = ["| Tecla | Acción |", "|---|---|"]
        lines += [f"| `{k}` | {d} |" for k, d in self.keys]
        with Vertical():
            yield Label(f"Ayuda: {self.help_title}", classes="modal-title")
            with VerticalScroll():
                yield Markdown(self.markdown + "\n\n### Teclas\n\n" + "\n".join(lines))
            yield Label("Esc cierra la ayuda.", classes="modal-hint")

    def action_dismiss(self, result: Any = None) -> None:  # type: ignore[override]
        """Close."""
        self.dismiss(None)


class CompanySwitcher(ModalScreen[str | None]):
    """A list of the store's companies (most urgent first); enter chooses one."""

    DEFAULT_CSS = (
        modal_css("CompanySwitcher")
        + """
    CompanySwitcher OptionList { height: auto; max-height: 16; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", "Cancelar")]

    def __init__(self, companies: Sequence[tuple[str, str]], current: str | None) -> None:
        super().__init__()
        self.companies = companies
        self.current_nit = current

    def compose(self) -> ComposeResult:
        """The list."""
        with Vertical():
            yield Label("Cambiar de empresa", classes="modal-title")
            if not self.companies:
                yield Static(
                    "No hay empresas en esta carpeta de datos. Cree una con "
                    "`fe-tui company add` o pruebe `fe-tui demo`."
                )
            options = [
                Option(("● " if nit == self.current_nit else "  ") + label, id=nit)
                for nit, label in self.companies
            ]
            yield OptionList(*options, id="companies")
            yield Label("↑↓ elegir · Enter abrir · Esc cancelar", classes="modal-hint")

    def on_mount(self) -> None:
        """Highlight the current company."""
        options = self.query_one(OptionList)
        for i, (nit, _label) in enumerate(self.companies):
            if nit == self.current_nit:
                options.highlighted = i
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Choose."""
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Keep the current company."""
        self.dismiss(None)


class FilterModal(ModalScreen[dict[str, str | None] | None]):
    """Filter the queue by state, issue date and prefix."""

    DEFAULT_CSS = (
        modal_css("FilterModal")
        + """
    FilterModal Select, FilterModal Input { margin-bottom: 1; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", "Cancelar")]

    def __init__(
        self, state: str | None, day: str | None, prefix: str | None, prefixes: Sequence[str]
    ) -> None:
        super().__init__()
        self.initial = (state, day, prefix)
        self.prefixes = prefixes

    def compose(self) -> ComposeResult:
        """State, date, prefix."""
        state, day, prefix = self.initial
        with Vertical():
            yield Label("Filtrar la cola", classes="modal-title")
            yield Label("Estado")
            yield Select(
                [(STATE_LABELS[s], s) for s in STATES],
                value=state if state else Select.NULL,
                prompt="Todos los estados",
                id="state",
            )
            yield Label("Fecha de emisión (AAAA-MM-DD, o AAAA-MM para un mes)")
            yield Input(value=day or "", placeholder="p. ej. 2026-12", id="date")
            yield Label("Prefijo")
            yield Select(
                [(p or "(sin prefijo)", p) for p in self.prefixes],
                value=prefix if prefix is not None else Select.NULL,
                prompt="Todos los prefijos",
                id="prefix",
            )
            yield Label("", id="error", classes="modal-error")
            with Horizontal():
                yield Button("Aplicar", variant="primary", id="apply")
                yield Button("Quitar filtros", id="clear")

    def _apply(self) -> None:
        import re

        state = self.query_one("#state", Select).value
        prefix = self.query_one("#prefix", Select).value
        day = self.query_one("#date", Input).value.strip()
        if day and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", day):
            self.query_one("#error", Label).update(
                "La fecha va como AAAA-MM-DD (o AAAA-MM, o AAAA)."
            )
            return
        self.dismiss(
            {
                "state": None if state is Select.NULL else str(state),
                "date": day or None,
                "prefix": None if prefix is Select.NULL else str(prefix),
            }
        )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the date applies."""
        self._apply()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Apply or clear."""
        if event.button.id == "apply":
            self._apply()
        else:
            self.dismiss({"state": None, "date": None, "prefix": None})

    def action_cancel(self) -> None:
        """Leave the filter as it was."""
        self.dismiss(None)


class TextModal(ModalScreen[str | None]):
    """Ask one line of text (a void reason, a path…); empty is refused with a message."""

    DEFAULT_CSS = modal_css("TextModal")
    BINDINGS = [Binding("escape", "cancel", "Cancelar")]

    def __init__(
        self,
        title: str,
        prompt: str,
        *,
        placeholder: str = "",
        password: bool = False,
        hint: str = "",
        empty_error: str = "Escriba un valor.",
    ) -> None:
        super().__init__()
        self.modal_title = title
        self.prompt = prompt
        self.placeholder = placeholder
        self.password = password
        self.hint = hint
        self.empty_error = empty_error

    def compose(self) -> ComposeResult:
        """Prompt, input, hint."""
        with Vertical():
            yield Label(self.modal_title, classes="modal-title")
            yield Label(self.prompt)
            yield Input(placeholder=self.placeholder, password=self.password, id="value")
            yield Label("", id="error", classes="modal-error")
            yield Label(self.hint or "Enter acepta · Esc cancela", classes="modal-hint")

    def on_mount(self) -> None:
        """Focus the input."""
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Accept a non-empty value."""
        value = event.value if self.password else event.value.strip()
        if not value:
            self.query_one("#error", Label).update(self.empty_error)
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        """Nothing."""
        self.dismiss(None)


class InstallCertificateModal(ModalScreen[tuple[str, str] | None]):
    """Path and password of a new PKCS#12 (the password stays in memory, never shown)."""

    DEFAULT_CSS = modal_css("InstallCertificateModal")
    BINDINGS = [Binding("escape", "cancel", "Cancelar")]

    def compose(self) -> ComposeResult:
        """Path, password."""
        with Vertical():
            yield Label("Instalar un certificado nuevo", classes="modal-title")
            yield Label("Archivo .p12 / .pfx")
            yield Input(placeholder="/ruta/al/certificado.p12", id="path")
            yield Label("Contraseña (no se guarda ni se muestra)")
            yield Input(password=True, id="password")
            yield Label("", id="error", classes="modal-error")
            yield Label(
                "Se comprueba (NIT, vigencia, firma de prueba) antes de reemplazar el actual.",
                classes="modal-hint",
            )

    def on_mount(self) -> None:
        """Focus the path."""
        self.query_one("#path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the path goes to the password; in the password, installs."""
        path = self.query_one("#path", Input).value.strip()
        if event.input.id == "path":
            self.query_one("#password", Input).focus()
            return
        if not path:
            self.query_one("#error", Label).update("Indique la ruta del archivo .p12.")
            return
        self.dismiss((path, self.query_one("#password", Input).value))

    def action_cancel(self) -> None:
        """Nothing."""
        self.dismiss(None)


class ConfirmModal(ModalScreen[bool]):
    """Yes or no to an action with consequences."""

    DEFAULT_CSS = modal_css("ConfirmModal")
    BINDINGS = [
        Binding("escape,n", "answer(False)", "No"),
        Binding("y,s", "answer(True)", "Sí"),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.modal_title = title
        self.text = text

    def compose(self) -> ComposeResult:
        """Question and buttons."""
        with Vertical():
            yield Label(self.modal_title, classes="modal-title")
            yield Static(self.text)
            with Horizontal():
                yield Button("Sí (s)", variant="primary", id="yes")
                yield Button("No (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Answer."""
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        """Answer by key."""
        self.dismiss(value)
