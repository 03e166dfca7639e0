"""The invoice data-entry form: a keyboard screen over :mod:`fe_tui.services.invoice_entry`.

Push :class:`InvoiceFormScreen` from the console with a callback; it
dismisses with a :class:`~fe_tui.services.invoice_entry.SavedDocument`
(document id, state, kind) when something was saved, or ``None`` when the
agent cancelled, so the caller can refresh its queue pane::

    app.push_screen(InvoiceFormScreen(store, settings, company), on_saved)
    app.push_screen(
        InvoiceFormScreen(store, settings, company, note_of="SETP990000000",
                          note_kind="credit_note"),
        on_saved,
    )

Keys: ``tab``/``shift+tab`` move, ``enter`` in the line row adds the line,
``F2`` opens the unit (or municipality) list with type-to-filter, ``F3`` jumps
to the line row, ``F4`` to the row of document discounts and charges, ``F7``
to the withholdings row (invoices only), ``F5`` asks
DIAN for the buyer (GetAcquirer), ``F6`` final consumer, ``ctrl+s`` saves a
draft, ``F9`` signs and sends after a confirmation, ``escape`` cancels (asking
when there are unsaved changes). In the line, discount/charge and
withholding tables ``enter`` takes the row back into its entry row (``enter``
there saves it in its place) and ``delete`` removes it.

Everything the form checks, computes or saves is the service's: this module
only reads widgets, shows messages and calls it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Resize
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from fe_tui.domain import codelists
from fe_tui.domain.models import COLOMBIA_TZ, FINAL_CONSUMER_ID
from fe_tui.domain.money import format_money
from fe_tui.errors import FeError
from fe_tui.services import invoice_entry as ie
from fe_tui.services.invoice_queue import InvoiceQueue

if TYPE_CHECKING:
    import httpx

    from fe_tui.crypto.certificates import LoadedCertificate
    from fe_tui.domain.company import Company
    from fe_tui.settings import Settings
    from fe_tui.store.db import Store

__all__ = [
    "ChargeSelect",
    "ChargeTable",
    "CodePickerModal",
    "ConfirmModal",
    "InvoiceFormScreen",
    "LineTable",
    "TaxSelect",
    "WithholdingSelect",
    "WithholdingTable",
]

#: Width from which the form puts the customer and the payment side by side.
WIDE = 110

#: Where each service field message is shown: field → message label id.
_MESSAGE_ROWS = {
    "customer.id_type": "msg-customer-id",
    "customer.id_number": "msg-customer-id",
    "customer.dv": "msg-customer-id",
    "customer.name": "msg-customer-name",
    "customer.email": "msg-customer-email",
    "customer.address_line": "msg-customer-address",
    "customer.municipality": "msg-customer-address",
    "customer.responsibilities": "msg-customer-resp",
    "payment.form": "msg-payment",
    "payment.method": "msg-payment",
    "payment.due_date": "msg-payment",
    "note.concept": "msg-note",
    "note.reference": "msg-note",
    "invoice.prefix": "msg-prefix",
    "lines": "msg-lines",
    "charges": "msg-charges",
    "withholdings": "msg-withholdings",
}
_CHARGE_INPUTS = ("charge-value", "charge-reason")
_WITHHOLDING_INPUTS = ("withholding-percent", "withholding-base")
#: Short names of the discount codes for the row's picker (the list's are long).
_DISCOUNT_CODE_SHORT = {"00": "00 no condic.", "01": "01 condic."}
_CUSTOMER_WIDGETS = (
    "#customer-id-type",
    "#customer-id-number",
    "#customer-dv",
    "#lookup",
    "#customer-name",
    "#customer-email",
    "#customer-address",
    "#customer-municipality",
    "#customer-responsibilities",
)


class TypeAheadInput(Input):
    """An ``Input`` for fast typists (over SSH keys arrive in bursts).

    Textual queues each key on the widget focused when the key arrives, and moves
    the focus later. So keys typed right after Enter (or after a picker closes)
    used to land in the field the agent was leaving. Here Enter acts at once (the
    screen's ``enter_now`` moves the focus before the next key is read), and a key
    that reaches a field whose turn is over goes back to the app, which hands it
    to the field that has the focus now.
    """

    #: This field's turn is over (its picker is closing): keys go to what comes next.
    done = False

    async def _on_key(self, event: events.Key) -> None:
        focused = self.app.focused
        if self.done or (focused is not None and focused is not self):
            event.stop()
            event.prevent_default()
            again = events.Key(event.key, event.character)
            again.set_sender(self.app)
            self.app.post_message(again)
            return
        if event.key == "enter":
            enter_now = getattr(self.screen, "enter_now", None)
            if enter_now is not None and enter_now(self):
                event.stop()
                event.prevent_default()
                return
        await super()._on_key(event)


class ConfirmModal(ModalScreen[bool]):
    """A yes/no question: ``s``/``y``/``enter`` on Sí, ``n``/``escape`` no."""

    DEFAULT_CSS = """
    ConfirmModal { align: center middle; }
    ConfirmModal > Vertical {
        width: 64; max-width: 95%; height: auto; padding: 1 2;
        border: thick $warning; background: $surface;
    }
    ConfirmModal #confirm-text { width: 100%; margin-bottom: 1; }
    ConfirmModal Horizontal { height: auto; align-horizontal: right; }
    ConfirmModal Button { margin-left: 2; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "answer(False)", "No"),
        Binding("s,y", "answer(True)", "Sí"),
    ]

    def __init__(self, text: str, *, yes: str = "Sí", no: str = "No") -> None:
        super().__init__()
        self.text = text
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.text, id="confirm-text")
            with Horizontal():
                yield Button(self.no, id="confirm-no")
                yield Button(self.yes, id="confirm-yes", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def action_answer(self, value: bool) -> None:
        """Dismiss with ``value``."""
        self.dismiss(value)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")


class CodePickerModal(ModalScreen[str | None]):
    """Choose a code from a long DIAN list: type to filter, arrows to move, enter to take."""

    DEFAULT_CSS = """
    CodePickerModal { align: center middle; }
    CodePickerModal > Vertical {
        width: 72; max-width: 95%; height: 80%; max-height: 30;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    CodePickerModal #picker-title { text-style: bold; }
    CodePickerModal #picker-count { color: $text-muted; }
    CodePickerModal OptionList { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", "Cancelar"),
        Binding("down", "move(1)", "Bajar", show=False),
        Binding("up", "move(-1)", "Subir", show=False),
        Binding("pagedown", "move(10)", "Página", show=False),
        Binding("pageup", "move(-10)", "Página", show=False),
    ]

    def __init__(
        self,
        title: str,
        options: list[ie.CodeOption],
        query: str = "",
        *,
        on_pick: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__()
        #: Called with the code at once on Enter, before the picker closes, so the form has
        #: moved its focus before the keys typed after Enter are handed on.
        self.on_pick = on_pick
        self.title_text = title
        self.options = options
        self.initial_query = query
        self.shown: list[ie.CodeOption] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, id="picker-title")
            yield TypeAheadInput(
                self.initial_query,
                placeholder="Escriba código o nombre para filtrar",
                id="picker-filter",
                compact=True,
            )
            yield Label("", id="picker-count")
            yield OptionList(id="picker-list", compact=True)

    def on_mount(self) -> None:
        self._refilter(self.initial_query)
        self.query_one("#picker-filter", Input).focus()

    def _refilter(self, query: str) -> None:
        self.shown = ie.filter_options(self.options, query)
        listing = self.query_one("#picker-list", OptionList)
        listing.set_options(Option(o.label, id=o.code) for o in self.shown)
        if self.shown:
            listing.highlighted = 0
        total = len(self.options)
        count = f"{len(self.shown)} de {total}"
        if len(self.shown) >= 200:
            count += " (se muestran los primeros; escriba para filtrar)"
        self.query_one("#picker-count", Label).update(
            count if self.shown else "Nada coincide; borre parte del texto."
        )

    @on(Input.Changed, "#picker-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._refilter(event.value)

    @on(Input.Submitted, "#picker-filter")
    def _take_highlighted(self, event: Input.Submitted) -> None:
        event.stop()
        self.enter_now(event.input)

    def enter_now(self, field: Input) -> bool:
        """Enter in the filter: take the highlighted code; later keys go to the form."""
        listing = self.query_one("#picker-list", OptionList)
        if listing.highlighted is not None and self.shown:
            code = self.shown[listing.highlighted].code
            if isinstance(field, TypeAheadInput):
                field.done = True
            if self.on_pick is not None:
                self.on_pick(code)
            self.dismiss(code)
        return True

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_move(self, step: int) -> None:
        """Move the highlight while the filter keeps the focus."""
        listing = self.query_one("#picker-list", OptionList)
        if not self.shown:
            return
        current = listing.highlighted or 0
        listing.highlighted = max(0, min(len(self.shown) - 1, current + step))

    def action_dismiss_none(self) -> None:
        """Close without choosing."""
        self.dismiss(None)


class LineTable(DataTable[str]):
    """The document's lines; ``enter`` edits the line under the cursor, ``delete`` removes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("delete", "screen.remove_line", "Quitar línea"),
        Binding("enter", "screen.edit_line", "Editar línea"),
    ]


class TaxSelect(Select[str]):
    """The line's tax: ``space``/arrows open the list; ``enter`` adds the line like the inputs."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "screen.add_line", "Agregar línea", show=False),
        Binding("down,space,up", "show_overlay", "Ver lista", show=False),
    ]


class ChargeTable(DataTable[str]):
    """Document discounts and charges; ``enter`` edits the one under the cursor, ``delete``
    removes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("delete", "screen.remove_charge", "Quitar"),
        Binding("enter", "screen.edit_charge", "Editar"),
    ]


class WithholdingTable(DataTable[str]):
    """Withholdings; ``enter`` edits the one under the cursor, ``delete`` removes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("delete", "screen.remove_withholding", "Quitar"),
        Binding("enter", "screen.edit_withholding", "Editar"),
    ]


class ChargeSelect(Select[str]):
    """A picker of the discount/charge row: ``enter`` adds it like the row's inputs."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "screen.add_charge", "Agregar", show=False),
        Binding("down,space,up", "show_overlay", "Ver lista", show=False),
    ]


class WithholdingSelect(Select[str]):
    """The withholding's tributo: ``enter`` adds it like the row's inputs."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "screen.add_withholding", "Agregar", show=False),
        Binding("down,space,up", "show_overlay", "Ver lista", show=False),
    ]


class InvoiceFormScreen(Screen[ie.SavedDocument | None]):
    """Invoice (or credit/debit note) data entry; dismisses with the saved document or ``None``.

    Args:
        store: the data directory's store.
        settings: the program settings.
        company: the company issuing the document.
        note_of: the id of an accepted invoice in the queue; the form then
            makes a note of ``note_kind`` that corrects it (buyer and lines copied).
        note_kind: ``credit_note`` or ``debit_note``.
        certificate: the company's loaded certificate, for GetAcquirer (without
            it the look-up says so and the agent types name and e-mail).
        transport: replaces the network for DIAN calls (tests, a mounted simulator).
        send: called with the document once it is ``ready``; the console passes
            a coroutine that runs its queue and returns the document's new
            state. Without it the document stays ``ready`` for the queue pane.
        today: the issue date the form checks against (default: today in Colombia).
        queue: the company's queue (default: a new :class:`InvoiceQueue`).

    Raises:
        fe_tui.errors.InputError: ``note_of`` is not an accepted invoice (Spanish).
    """

    DEFAULT_CSS = """
    InvoiceFormScreen { background: $background; }
    InvoiceFormScreen #form-title {
        height: 1; padding: 0 1; background: $primary; color: $text; text-style: bold;
    }
    InvoiceFormScreen #form-title.-production { background: $error; }
    InvoiceFormScreen #form-body { height: 1fr; padding: 0 1; }
    InvoiceFormScreen .section { height: auto; }
    InvoiceFormScreen .section-title { color: $accent; text-style: bold; margin-top: 1; }
    InvoiceFormScreen .section-title.-first { margin-top: 0; }
    InvoiceFormScreen.-wide .section-title.-side-first { margin-top: 0; }
    InvoiceFormScreen .row { height: 1; margin-top: 0; }
    InvoiceFormScreen .row > Label { width: auto; padding: 0 1 0 0; }
    InvoiceFormScreen .row > .cap { width: 12; }
    InvoiceFormScreen .row > Input { width: 1fr; }
    InvoiceFormScreen .row > Select { width: 1fr; }
    InvoiceFormScreen .gap { margin-left: 1; }
    InvoiceFormScreen .msg {
        height: auto; width: 100%; color: $error; display: none; padding-left: 12;
    }
    InvoiceFormScreen .msg.-shown { display: block; }
    InvoiceFormScreen .msg.-info { color: $success; }
    InvoiceFormScreen .hint { color: $text-muted; width: 1fr; }
    InvoiceFormScreen #customer-id-type { width: 26; }
    InvoiceFormScreen #customer-id-number { width: 14; }
    InvoiceFormScreen #customer-dv { width: 3; }
    InvoiceFormScreen #lookup {
        width: auto; min-width: 0; height: 1; border: none; margin-left: 1;
    }
    InvoiceFormScreen #customer-municipality { width: 7; }
    InvoiceFormScreen #municipality-name { width: 1fr; color: $text-muted; padding-left: 1; }
    InvoiceFormScreen #customer-responsibilities { width: 16; }
    InvoiceFormScreen #payment-due { width: 12; }
    InvoiceFormScreen #payment-form { width: 14; }
    InvoiceFormScreen #top { height: auto; }
    InvoiceFormScreen #customer { height: auto; width: 1fr; }
    InvoiceFormScreen #side { height: auto; width: 1fr; }
    InvoiceFormScreen.-wide #top { layout: horizontal; }
    InvoiceFormScreen.-wide #side { width: 48; margin-left: 2; }
    InvoiceFormScreen .line-caps { height: 1; color: $text-muted; }
    InvoiceFormScreen .line-caps > Label { padding: 0; }
    InvoiceFormScreen #line-row { height: 1; }
    InvoiceFormScreen #line-row > * { margin-right: 1; }
    InvoiceFormScreen .w-desc { width: 1fr; }
    InvoiceFormScreen .w-qty { width: 8; }
    InvoiceFormScreen .w-unit { width: 6; }
    InvoiceFormScreen .w-price { width: 13; }
    InvoiceFormScreen .w-tax { width: 20; }
    InvoiceFormScreen .line-caps > .w-desc, InvoiceFormScreen .line-caps > .w-qty,
    InvoiceFormScreen .line-caps > .w-unit, InvoiceFormScreen .line-caps > .w-price,
    InvoiceFormScreen .line-caps > .w-tax { margin-right: 1; }
    InvoiceFormScreen #line-hint { height: 1; color: $text-muted; }
    InvoiceFormScreen #msg-line, InvoiceFormScreen #msg-lines { padding-left: 0; }
    InvoiceFormScreen #bottom { height: auto; }
    InvoiceFormScreen.-wide #bottom { layout: horizontal; }
    InvoiceFormScreen #lines { height: auto; max-height: 12; width: 1fr; }
    InvoiceFormScreen #bottom { align-horizontal: right; }
    InvoiceFormScreen #totals {
        height: auto; width: 40; padding: 0 1; border: round $primary; margin-top: 1;
    }
    InvoiceFormScreen.-wide #totals { width: 40; margin-left: 2; margin-top: 0; }
    InvoiceFormScreen #totals-bar {
        height: 1; padding: 0 1; background: $boost; text-style: bold;
    }
    InvoiceFormScreen.-wide #totals-bar { display: none; }
    InvoiceFormScreen #totals { display: none; }
    InvoiceFormScreen.-wide #totals { display: block; }
    InvoiceFormScreen #form-msg { height: auto; padding: 0 1; display: none; }
    InvoiceFormScreen #form-msg.-shown { display: block; }
    InvoiceFormScreen #form-msg.-error { color: $error; }
    InvoiceFormScreen #reference { color: $text-muted; height: auto; }
    InvoiceFormScreen .entry-row { height: 1; }
    InvoiceFormScreen .entry-row > * { margin-right: 1; }
    InvoiceFormScreen .line-caps > .w-kind, InvoiceFormScreen .line-caps > .w-mode,
    InvoiceFormScreen .line-caps > .w-value, InvoiceFormScreen .line-caps > .w-reason,
    InvoiceFormScreen .line-caps > .w-code, InvoiceFormScreen .line-caps > .w-scheme,
    InvoiceFormScreen .line-caps > .w-pct, InvoiceFormScreen .line-caps > .w-base {
        margin-right: 1;
    }
    InvoiceFormScreen .w-kind { width: 13; }
    InvoiceFormScreen .w-mode { width: 7; }
    InvoiceFormScreen .w-value { width: 13; }
    InvoiceFormScreen .w-reason { width: 1fr; }
    InvoiceFormScreen .w-code { width: 17; }
    InvoiceFormScreen .w-scheme { width: 20; }
    InvoiceFormScreen .w-pct { width: 10; }
    InvoiceFormScreen .w-base { width: 16; }
    InvoiceFormScreen .row-hint { height: 1; color: $text-muted; }
    InvoiceFormScreen #msg-charge, InvoiceFormScreen #msg-charges,
    InvoiceFormScreen #msg-withholding, InvoiceFormScreen #msg-withholdings { padding-left: 0; }
    InvoiceFormScreen #charges, InvoiceFormScreen #withholdings {
        height: auto; max-height: 8; width: 1fr;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save_draft", "Borrador", id="form.save_draft"),
        Binding("f9", "sign_and_send", "Firmar y enviar", id="form.sign_and_send"),
        Binding("f5", "lookup_acquirer", "DIAN", id="form.lookup"),
        Binding("f2", "pick_code", "Lista", id="form.pick"),
        Binding("f3", "focus_lines", "Líneas", id="form.lines"),
        # Not in the footer: at 80 columns it is full; the section titles name these keys.
        Binding("f4", "focus_charges", "Desc./cargos", id="form.charges", show=False),
        Binding("f7", "focus_withholdings", "Retenciones", id="form.withholdings", show=False),
        Binding("f6", "final_consumer", "Cons. final", id="form.final_consumer", show=False),
        Binding("escape", "cancel", "Salir", id="form.cancel"),
    ]

    def __init__(
        self,
        store: Store,
        settings: Settings,
        company: Company,
        *,
        note_of: str | None = None,
        note_kind: str = "credit_note",
        certificate: LoadedCertificate | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        send: Callable[[ie.SavedDocument], Awaitable[ie.SavedDocument]] | None = None,
        today: date | None = None,
        queue: InvoiceQueue | None = None,
        draft_of: str | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.settings = settings
        self.company = company
        self.certificate = certificate
        self.transport = transport
        self.send = send
        self.today = today or datetime.now(COLOMBIA_TZ).date()
        self.queue = queue or InvoiceQueue(store, company, settings)
        #: The draft this form edits (ctrl+s saves over it, F9 numbers it), if any.
        self.draft_of = draft_of
        if draft_of is not None:
            self.initial = ie.draft_entry(self.queue, draft_of, self.today)
        elif note_of is not None:
            self.initial = ie.note_from_invoice(self.queue, note_of, note_kind, self.today)
        else:
            self.initial = ie.InvoiceEntry()
        self.kind = self.initial.kind
        self.lines: list[ie.LineEntry] = list(self.initial.lines)
        #: Document discounts and charges, and withholdings (invoices only), as in the tables.
        self.charges: list[ie.AllowanceChargeEntry] = list(self.initial.allowances_charges)
        self.withholdings: list[ie.WithholdingEntry] = list(self.initial.withholdings)
        self.taxes = ie.tax_options(self.today)
        self.prefixes = [] if self.initial.is_note else ie.invoice_prefixes(self.queue, self.today)
        self.units = ie.unit_options()
        self._busy = False
        self._saved = False
        self._editing: int | None = None  #: index of the table line in the line row
        self._editing_extra: dict[str, Any] = {}
        self._editing_charge: int | None = None  #: index of the table charge in its row
        self._editing_withholding: int | None = None

    # -- layout ---------------------------------------------------------------------------------
    def _title(self) -> str:
        what = ie.KIND_LABELS[self.kind]
        ref = self.initial.reference
        head = f"Nueva {what.lower()}" if ref is None else f"{what} sobre {ref.number}"
        if self.draft_of is not None:
            head = f"Borrador {self.draft_of} · {what.lower()}"
        environment = {
            "produccion": "PRODUCCIÓN",
            "habilitacion": "habilitación",
            "simulator": "simulador",
        }.get(self.company.environment, self.company.environment)
        # The environment before the company's name: a narrow terminal cuts the name, not it.
        return f"{head} · {environment} · {self.today.isoformat()} · {self.company.name}"

    def compose(self) -> ComposeResult:
        entry = self.initial
        c = entry.customer
        yield Static(
            self._title(),
            id="form-title",
            markup=False,
            classes="-production" if self.company.environment == "produccion" else "",
        )
        with VerticalScroll(id="form-body"):
            with Vertical(id="top"):
                with Vertical(id="customer", classes="section"):
                    yield Label("Cliente", classes="section-title -first")
                    with Horizontal(classes="row"):
                        yield Label("Identific.", classes="cap")
                        yield Select(
                            [(o.label, o.code) for o in ie.id_type_options()],
                            value=c.id_type,
                            allow_blank=False,
                            id="customer-id-type",
                            compact=True,
                        )
                        yield Label("N.º", classes="gap")
                        yield TypeAheadInput(
                            c.id_number,
                            placeholder="sin DV",
                            id="customer-id-number",
                            compact=True,
                            max_length=20,
                        )
                        yield Label("DV", classes="gap")
                        yield TypeAheadInput(c.dv, id="customer-dv", compact=True, max_length=1)
                        yield Button("F5 DIAN", id="lookup", compact=True)
                    yield Label("", id="msg-customer-id", classes="msg", markup=False)
                    with Horizontal(classes="row"):
                        yield Label("Nombre", classes="cap")
                        yield TypeAheadInput(
                            c.name,
                            placeholder="razón social o nombre",
                            id="customer-name",
                            compact=True,
                        )
                    yield Label("", id="msg-customer-name", classes="msg", markup=False)
                    with Horizontal(classes="row"):
                        yield Label("Correo", classes="cap")
                        yield TypeAheadInput(
                            c.email,
                            placeholder="correo de recepción de facturas",
                            id="customer-email",
                            compact=True,
                        )
                    yield Label("", id="msg-customer-email", classes="msg", markup=False)
                    with Horizontal(classes="row"):
                        yield Label("Dirección", classes="cap")
                        yield TypeAheadInput(
                            c.address_line,
                            placeholder="opcional",
                            id="customer-address",
                            compact=True,
                        )
                        yield Label("Mun.", classes="gap")
                        yield TypeAheadInput(
                            c.municipality_code,
                            placeholder="F2",
                            id="customer-municipality",
                            compact=True,
                            max_length=5,
                        )
                        yield Label(
                            self._municipality_name(c.municipality_code), id="municipality-name"
                        )
                    yield Label("", id="msg-customer-address", classes="msg", markup=False)
                    with Horizontal(classes="row"):
                        yield Label("Resp. fisc.", classes="cap")
                        yield TypeAheadInput(
                            c.responsibilities, id="customer-responsibilities", compact=True
                        )
                        yield Label(
                            "O-13 O-15 O-23 O-47 R-99-PN · F6 cons. final",
                            classes="hint gap",
                        )
                    yield Label("", id="msg-customer-resp", classes="msg", markup=False)
                with Vertical(id="side", classes="section"):
                    yield Label("Pago", classes="section-title -side-first")
                    with Horizontal(classes="row"):
                        yield Label("Forma", classes="cap")
                        yield Select(
                            [(o.name, o.code) for o in ie.payment_form_options()],
                            value=entry.payment_form,
                            allow_blank=False,
                            id="payment-form",
                            compact=True,
                        )
                        yield Label("Vence", classes="gap")
                        yield TypeAheadInput(
                            entry.due_date,
                            placeholder="AAAA-MM-DD",
                            id="payment-due",
                            compact=True,
                            max_length=10,
                        )
                    with Horizontal(classes="row"):
                        yield Label("Medio", classes="cap")
                        yield Select(
                            [(o.label, o.code) for o in ie.payment_method_options()],
                            value=entry.payment_method,
                            allow_blank=False,
                            id="payment-method",
                            compact=True,
                        )
                    yield Label("", id="msg-payment", classes="msg", markup=False)
                    if entry.is_note:
                        yield Label("Corrección", classes="section-title")
                        ref = entry.reference
                        if ref is not None:
                            yield Static(
                                f"Factura {ref.number} del {ref.issue_date} · CUFE "
                                f"{ref.cufe[:16]}…",
                                id="reference",
                                markup=False,
                            )
                        with Horizontal(classes="row"):
                            yield Label("Concepto", classes="cap")
                            yield Select(
                                [(o.label, o.code) for o in ie.concept_options(self.kind)],
                                prompt="Elija el concepto (lista DIAN)",
                                id="note-concept",
                                compact=True,
                            )
                        with Horizontal(classes="row"):
                            yield Label("Motivo", classes="cap")
                            yield TypeAheadInput(
                                entry.concept_description,
                                placeholder="opcional: descripción de la corrección",
                                id="note-description",
                                compact=True,
                            )
                        yield Label("", id="msg-note", classes="msg", markup=False)
                    else:
                        if len(self.prefixes) > 1:
                            with Horizontal(classes="row"):
                                yield Label("Prefijo", classes="cap")
                                yield Select(
                                    [(p or "(sin prefijo)", p) for p in self.prefixes],
                                    prompt="Elija la resolución (prefijo)",
                                    id="invoice-prefix",
                                    compact=True,
                                )
                            yield Label("", id="msg-prefix", classes="msg", markup=False)
                        with Horizontal(classes="row"):
                            yield Label("Orden", classes="cap")
                            yield TypeAheadInput(
                                entry.order_reference,
                                placeholder="opcional: orden de compra",
                                id="order-reference",
                                compact=True,
                            )
                    with Horizontal(classes="row"):
                        yield Label("Nota", classes="cap")
                        yield TypeAheadInput(
                            entry.note, placeholder="opcional", id="doc-note", compact=True
                        )
            yield Label("Líneas", classes="section-title")
            with Horizontal(classes="line-caps"):
                yield Label("Descripción", classes="w-desc")
                yield Label("Cantidad", classes="w-qty")
                yield Label("Unid.", classes="w-unit")
                yield Label("Precio unit.", classes="w-price")
                yield Label("Impuesto", classes="w-tax")
            with Horizontal(id="line-row"):
                yield TypeAheadInput(
                    placeholder="producto o servicio",
                    id="line-description",
                    classes="w-desc",
                    compact=True,
                )
                yield TypeAheadInput("1", id="line-quantity", classes="w-qty", compact=True)
                yield TypeAheadInput(
                    "94", id="line-unit", classes="w-unit", compact=True, max_length=3
                )
                yield TypeAheadInput(
                    placeholder="0,00", id="line-price", classes="w-price", compact=True
                )
                yield TaxSelect(
                    [(t.label, t.key) for t in self.taxes],
                    value=ie.DEFAULT_TAX,
                    allow_blank=False,
                    id="line-tax",
                    classes="w-tax",
                    compact=True,
                )
            yield Label("", id="line-hint", markup=False)
            yield Label("", id="msg-line", classes="msg", markup=False)
            yield Label("", id="msg-lines", classes="msg", markup=False)
            with Vertical(id="bottom"):
                yield LineTable(id="lines", cursor_type="row", zebra_stripes=True)
                yield Static("", id="totals", markup=False)
            yield from self._compose_charges()
            if not entry.is_note:
                yield from self._compose_withholdings()
        yield Label("", id="form-msg", markup=False)
        yield Static("", id="totals-bar", markup=False)
        yield Footer()

    def _compose_charges(self) -> ComposeResult:
        yield Label("Descuentos y cargos del documento (F4)", classes="section-title")
        with Horizontal(classes="line-caps"):
            yield Label("Tipo", classes="w-kind")
            yield Label("% o $", classes="w-mode")
            yield Label("Valor", classes="w-value")
            yield Label("Motivo", classes="w-reason")
            yield Label("Código DIAN", classes="w-code")
        with Horizontal(id="charge-row", classes="entry-row"):
            yield ChargeSelect(
                [("Descuento", "discount"), ("Cargo", "charge")],
                value="discount",
                allow_blank=False,
                id="charge-kind",
                classes="w-kind",
                compact=True,
            )
            yield ChargeSelect(
                [("%", ie.PERCENT), ("$", ie.AMOUNT)],
                value=ie.PERCENT,
                allow_blank=False,
                id="charge-mode",
                classes="w-mode",
                compact=True,
            )
            yield TypeAheadInput(
                placeholder="10 o 2,5", id="charge-value", classes="w-value", compact=True
            )
            yield TypeAheadInput(
                placeholder="opcional: pronto pago, flete…",
                id="charge-reason",
                classes="w-reason",
                compact=True,
                max_length=450,
            )
            yield ChargeSelect(
                [
                    (_DISCOUNT_CODE_SHORT.get(o.code, o.label), o.code)
                    for o in ie.discount_code_options()
                ],
                value=ie.DEFAULT_DISCOUNT_CODE,
                allow_blank=False,
                id="charge-code",
                classes="w-code",
                compact=True,
            )
        yield Label("", id="charge-hint", classes="row-hint", markup=False)
        yield Label("", id="msg-charge", classes="msg", markup=False)
        yield Label("", id="msg-charges", classes="msg", markup=False)
        yield ChargeTable(id="charges", cursor_type="row", zebra_stripes=True)

    def _compose_withholdings(self) -> ComposeResult:
        yield Label(
            "Retenciones (F7; informativas: no cambian el total a pagar)",
            classes="section-title",
        )
        with Horizontal(classes="line-caps"):
            yield Label("Retención", classes="w-scheme")
            yield Label("Porcentaje", classes="w-pct")
            yield Label("Base", classes="w-base")
        with Horizontal(id="withholding-row", classes="entry-row"):
            yield WithholdingSelect(
                [(o.label, o.code) for o in ie.withholding_options()],
                value=ie.DEFAULT_WITHHOLDING,
                allow_blank=False,
                id="withholding-scheme",
                classes="w-scheme",
                compact=True,
            )
            yield TypeAheadInput(
                placeholder="2,5", id="withholding-percent", classes="w-pct", compact=True
            )
            yield TypeAheadInput(
                placeholder="automática", id="withholding-base", classes="w-base", compact=True
            )
        yield Label("", id="withholding-hint", classes="row-hint", markup=False)
        yield Label("", id="msg-withholding", classes="msg", markup=False)
        yield Label("", id="msg-withholdings", classes="msg", markup=False)
        yield WithholdingTable(id="withholdings", cursor_type="row", zebra_stripes=True)

    @property
    def has_withholdings(self) -> bool:
        """Invoices inform withholdings; notes do not (no WithholdingTaxTotal)."""
        return not self.initial.is_note

    def on_mount(self) -> None:
        table = self.query_one(LineTable)
        table.add_columns("#", "Descripción", "Cant.", "Unid.", "Precio", "Impuesto", "Total")
        self.query_one(ChargeTable).add_columns("#", "Tipo", "Valor", "Motivo", "Código", "Total")
        if self.has_withholdings:
            self.query_one(WithholdingTable).add_columns("#", "Retención", "%", "Base", "Valor")
        self._refresh_lines()
        self._unit_hint()
        self.set_class(self.app.size.width >= WIDE, "-wide")
        if self.initial.is_note:
            # A note's buyer is its invoice's (DIAN matches them): shown, not edited.
            for selector in _CUSTOMER_WIDGETS:
                self.query_one(selector).disabled = True
            self.set_focus(self.query_one("#note-concept"))
        else:
            self.set_focus(self.query_one("#customer-id-number", Input))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A note's buyer is fixed (no look-up, no final consumer) and it informs no
        withholdings: those keys are hidden from the footer."""
        note_only = ("lookup_acquirer", "final_consumer", "focus_withholdings")
        return not (action in note_only and self.initial.is_note)

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width >= WIDE, "-wide")

    # -- reading the widgets --------------------------------------------------------------------
    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value

    def _select(self, selector: str) -> str:
        value = self.query_one(selector, Select).value
        return "" if value is Select.NULL else str(value)

    def _pending_line(self) -> ie.LineEntry:
        return ie.LineEntry(
            description=self._value("#line-description"),
            quantity=self._value("#line-quantity"),
            unit_code=self._value("#line-unit"),
            unit_price=self._value("#line-price"),
            tax=self._select("#line-tax"),
            extra=dict(self._editing_extra),
        )

    def _pending_started(self) -> bool:
        return bool(self._value("#line-description").strip() or self._value("#line-price").strip())

    def _pending_charge(self) -> ie.AllowanceChargeEntry:
        return ie.AllowanceChargeEntry(
            is_charge=self._select("#charge-kind") == "charge",
            mode=self._select("#charge-mode"),
            value=self._value("#charge-value"),
            reason=self._value("#charge-reason"),
            reason_code=self._select("#charge-code"),
        )

    def _pending_charge_started(self) -> bool:
        return bool(self._value("#charge-value").strip() or self._value("#charge-reason").strip())

    def _pending_withholding(self) -> ie.WithholdingEntry:
        return ie.WithholdingEntry(
            scheme=self._select("#withholding-scheme"),
            percent=self._value("#withholding-percent"),
            base=self._value("#withholding-base"),
        )

    def _pending_withholding_started(self) -> bool:
        if not self.has_withholdings:
            return False
        return bool(
            self._value("#withholding-percent").strip() or self._value("#withholding-base").strip()
        )

    def read_entry(self) -> ie.InvoiceEntry:
        """The form's content as a service entry (the table's lines, not the line row)."""
        customer = ie.CustomerEntry(
            id_type=self._select("#customer-id-type"),
            id_number=self._value("#customer-id-number"),
            dv=self._value("#customer-dv"),
            name=self._value("#customer-name"),
            email=self._value("#customer-email"),
            address_line=self._value("#customer-address"),
            municipality_code=self._value("#customer-municipality"),
            responsibilities=self._value("#customer-responsibilities"),
        )
        entry = replace(
            self.initial,
            customer=customer,
            lines=list(self.lines),
            payment_form=self._select("#payment-form"),
            payment_method=self._select("#payment-method"),
            due_date=self._value("#payment-due"),
            note=self._value("#doc-note"),
            allowances_charges=list(self.charges),
            withholdings=list(self.withholdings),
        )
        if entry.is_note:
            entry.concept_code = self._select("#note-concept")
            entry.concept_description = self._value("#note-description")
        else:
            entry.order_reference = self._value("#order-reference")
            if len(self.prefixes) > 1:
                value = self.query_one("#invoice-prefix", Select).value
                entry.prefix = None if value is Select.NULL else str(value)
        return entry

    @property
    def dirty(self) -> bool:
        """Something was typed that is not saved."""
        if self._saved:
            return False
        return (
            self.read_entry() != self.initial
            or self._pending_started()
            or self._pending_charge_started()
            or self._pending_withholding_started()
        )

    # -- messages -------------------------------------------------------------------------------
    def _show(self, label_id: str, text: str, *, info: bool = False) -> None:
        label = self.query_one(f"#{label_id}", Label)
        label.update(text)
        label.set_class(bool(text), "-shown")
        label.set_class(info, "-info")

    def _form_message(self, text: str, *, error: bool = False) -> None:
        label = self.query_one("#form-msg", Label)
        label.update(text)
        label.set_class(bool(text), "-shown")
        label.set_class(error, "-error")

    def _clear_messages(self) -> None:
        for label in self.query(".msg").results(Label):
            label.update("")
            label.remove_class("-shown", "-info")

    def _show_errors(self, errors: dict[str, str]) -> None:
        """Put each field message on its row; line messages name their line."""
        self._clear_messages()
        rows: dict[str, list[str]] = {}
        for name, message in errors.items():
            if name.startswith("lines."):
                index, _, _ = name.removeprefix("lines.").partition(".")
                rows.setdefault("msg-lines", []).append(f"Línea {int(index) + 1}: {message}")
                continue
            if name.startswith("charges."):
                index, _, _ = name.removeprefix("charges.").partition(".")
                rows.setdefault("msg-charges", []).append(
                    f"Descuento/cargo {int(index) + 1}: {message}"
                )
                continue
            if name.startswith("withholdings."):
                index, _, _ = name.removeprefix("withholdings.").partition(".")
                rows.setdefault("msg-withholdings", []).append(
                    f"Retención {int(index) + 1}: {message}"
                )
                continue
            rows.setdefault(_MESSAGE_ROWS.get(name, "msg-lines"), []).append(message)
        for label_id, messages in rows.items():
            self._show(label_id, " · ".join(dict.fromkeys(messages)))
        self._check_nit()
        count = len(errors)
        self._form_message(
            f"Revise {count} campo(s) marcados en rojo; no se guardó nada.", error=True
        )
        first = next(iter(errors))
        target = {
            "customer.id_number": "#customer-id-number",
            "customer.dv": "#customer-dv",
            "customer.name": "#customer-name",
            "customer.email": "#customer-email",
            "customer.address_line": "#customer-address",
            "customer.municipality": "#customer-municipality",
            "customer.responsibilities": "#customer-responsibilities",
            "payment.due_date": "#payment-due",
            "note.concept": "#note-concept",
            "invoice.prefix": "#invoice-prefix",
            "lines": "#line-description",
        }.get(first)
        if first.startswith("charges") and self.charges:
            target = "#charges"
        elif first.startswith("withholdings") and self.withholdings:
            target = "#withholdings"
        if target:
            self.set_focus(self.query_one(target))

    # -- live checks ----------------------------------------------------------------------------
    def _check_nit(self) -> None:
        if self._select("#customer-id-type") != "31":
            if self.query_one("#msg-customer-id", Label).has_class("-info"):
                self._show("msg-customer-id", "")
            return
        number = self._value("#customer-id-number")
        dv = self._value("#customer-dv")
        problem = ie.check_nit(number, dv)
        if problem:
            self._show("msg-customer-id", problem)
        elif number.strip() and dv.strip():
            ok = f"NIT {number.strip()}-{dv.strip()}: DV correcto"
            self._show("msg-customer-id", ok, info=True)
        else:
            self._show("msg-customer-id", "")

    @on(Input.Changed, "#customer-id-number, #customer-dv")
    def _nit_changed(self) -> None:
        self._check_nit()

    @on(Select.Changed, "#customer-id-type")
    def _id_type_changed(self) -> None:
        dv = self.query_one("#customer-dv", Input)
        dv.disabled = self._select("#customer-id-type") != "31"
        if dv.disabled:
            dv.value = ""
        self._check_nit()

    def _municipality_name(self, code: str) -> str:
        name = codelists.municipio().name_of(code.strip())
        return name or ("F2: elegir de la lista" if not code.strip() else "código desconocido")

    @on(Input.Changed, "#customer-municipality")
    def _municipality_changed(self, event: Input.Changed) -> None:
        self.query_one("#municipality-name", Label).update(self._municipality_name(event.value))

    def _unit_hint(self) -> None:
        code = self._value("#line-unit").strip()
        units = codelists.unidades_medida()
        name = units.name_of(code) or units.name_of(code.upper())
        unit = f"unidad {code} = {name}" if name else f"unidad {code!r} desconocida"
        action = "Enter guarda la línea" if self._editing is not None else "Enter agrega la línea"
        self.query_one("#line-hint", Label).update(f"{unit} · F2 lista de unidades · {action}")

    @on(Input.Changed, "#line-description, #line-quantity, #line-unit, #line-price")
    def _line_changed(self, event: Input.Changed) -> None:
        if event.input.id == "line-unit":
            self._unit_hint()
        self._live_line_check()
        self._refresh_totals()

    @on(Select.Changed, "#line-tax")
    def _tax_changed(self) -> None:
        self._live_line_check()
        self._refresh_totals()

    def _live_line_check(self) -> None:
        """Messages for what was typed in the line row (empty fields wait for Enter)."""
        line = self._pending_line()
        errors = ie.line_errors(line, self.today)
        typed = {
            "line.description": line.description,
            "line.quantity": line.quantity,
            "line.unit_code": line.unit_code,
            "line.unit_price": line.unit_price,
            "line.tax": line.tax,
        }
        shown = [m for name, m in errors.items() if typed.get(name, "x").strip()]
        self._show("msg-line", " · ".join(shown))

    # -- lines ----------------------------------------------------------------------------------
    def _tax_label(self, key: str) -> str:
        return next((t.label for t in self.taxes if t.key == key), key)

    @staticmethod
    def _money_text(text: str) -> str:
        try:
            return format_money(ie.parse_decimal(text, "el precio"))
        except ValueError:
            return text

    def _refresh_lines(self) -> None:
        table = self.query_one(LineTable)
        table.clear()
        live = ie.live_totals(self.lines, self.today)
        amounts = iter(live.totals.lines)
        for number, line in enumerate(self.lines, start=1):
            valid = not ie.line_errors(line, self.today)
            total = format_money(next(amounts).line_extension) if valid else "¿?"
            marks = " (desc.)" if line.extra.get("allowances_charges") else ""
            table.add_row(
                str(number),
                line.description + marks,
                line.quantity,
                line.unit_code,
                self._money_text(line.unit_price),
                self._tax_label(line.tax),
                total,
                key=str(number - 1),
            )
        table.display = bool(self.lines)
        self._refresh_charges()
        self._refresh_withholdings()
        self._refresh_totals()

    def _live(self) -> ie.LiveTotals:
        """The service's totals of the tables (no line row, no entry rows)."""
        return ie.live_totals(
            self.lines, self.today, self.charges, self.withholdings if self.has_withholdings else ()
        )

    def _refresh_charges(self) -> None:
        table = self.query_one(ChargeTable)
        table.clear()
        computed = {a.index: a for a in self._live().allowances_charges}
        for index, charge in enumerate(self.charges):
            amount = computed.get(index)
            if charge.mode == ie.PERCENT:
                value = f"{charge.value.strip()} %"
            else:
                value = self._money_text(charge.value)
            total = "¿?"
            if amount is not None:
                total = format_money(amount.amount if charge.is_charge else -amount.amount)
            table.add_row(
                str(index + 1),
                "Cargo" if charge.is_charge else "Descuento",
                value,
                charge.reason.strip() or "—",
                "" if charge.is_charge else charge.reason_code,
                total,
                key=str(index),
            )
        table.display = bool(self.charges)

    def _refresh_withholdings(self) -> None:
        if not self.has_withholdings:
            return
        table = self.query_one(WithholdingTable)
        table.clear()
        computed = {a.index: a for a in self._live().withholdings}
        names = {o.code: o.name for o in ie.withholding_options()}
        for index, held in enumerate(self.withholdings):
            amount = computed.get(index)
            if held.base.strip():
                base = self._money_text(held.base)
            elif amount is not None:
                base = f"auto {format_money(amount.base)}"
            else:
                base = "auto"
            table.add_row(
                str(index + 1),
                f"{held.scheme} {names.get(held.scheme, '')}".strip(),
                held.percent.strip(),
                base,
                format_money(amount.amount) if amount is not None else "¿?",
                key=str(index),
            )
        table.display = bool(self.withholdings)

    def _refresh_totals(self) -> None:
        pending = self._pending_line()
        lines = list(self.lines)
        counting_pending = self._pending_started() and not ie.line_errors(pending, self.today)
        if counting_pending:
            lines.append(pending)
        charges = list(self.charges)
        charge = self._pending_charge()
        counting_charge = self._pending_charge_started() and not ie.allowance_charge_errors(charge)
        if counting_charge:
            charges.append(charge)
        withholdings = list(self.withholdings)
        counting_withholding = False
        if self._pending_withholding_started():
            held = self._pending_withholding()
            counting_withholding = not ie.withholding_errors(held, lines, self.today)
            if counting_withholding:
                withholdings.append(held)
        live = ie.live_totals(lines, self.today, charges, withholdings)
        width = 18

        def row(label: str, amount: Decimal) -> str:
            return f"{label:<16}{format_money(amount):>{width}}"

        rows = [row("Subtotal", live.subtotal)]
        rows += [row(label, amount) for label, amount in live.taxes]
        if live.allowance_total:
            rows.append(row("Descuentos", -live.allowance_total))
        if live.charge_total:
            rows.append(row("Cargos", live.charge_total))
        rows.append(row("TOTAL", live.payable))
        if live.withholding_taxes:
            rows.append("Retenciones (no restan):")
            rows += [row(label, amount) for label, amount in live.withholding_taxes]
        count = len(self.lines)
        note = f"{count} línea(s)" + (" + la línea en edición" if counting_pending else "")
        if counting_charge or counting_withholding:
            note += " + fila en edición"
        if live.skipped or live.skipped_adjustments:
            note += f" · {live.skipped + live.skipped_adjustments} sin contar (con errores)"
        rows.append(note)
        self.query_one("#totals", Static).update("\n".join(rows))
        taxes = " · ".join(f"{label} {format_money(amount)}" for label, amount in live.taxes)
        # TOTAL first: a narrow terminal cuts the detail, not the figure the agent checks.
        bar = f"TOTAL {format_money(live.payable)} · Subtotal {format_money(live.subtotal)}"
        if live.allowance_total:
            bar += f" · Desc. {format_money(-live.allowance_total)}"
        if live.charge_total:
            bar += f" · Cargos {format_money(live.charge_total)}"
        if taxes:
            bar += f" · {taxes}"
        if live.withholding_taxes:
            bar += f" · Retenciones {format_money(live.withholding_total)} (no restan)"
        self.query_one("#totals-bar", Static).update(bar)
        self._charge_hint(live)
        self._withholding_hint(lines)

    def _clear_line_row(self) -> None:
        self.query_one("#line-description", Input).value = ""
        self.query_one("#line-quantity", Input).value = "1"
        self.query_one("#line-unit", Input).value = "94"
        self.query_one("#line-price", Input).value = ""
        self.query_one("#line-tax", Select).value = ie.DEFAULT_TAX
        self._editing = None
        self._editing_extra = {}
        self._unit_hint()

    @on(Input.Submitted, "#line-description, #line-quantity, #line-unit, #line-price")
    def _add_line(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_add_line()

    def action_add_line(self) -> None:
        """Check the line row and put it in the table (or back in its place when editing)."""
        line = self._pending_line()
        fields = {
            "line.description": "#line-description",
            "line.quantity": "#line-quantity",
            "line.unit_code": "#line-unit",
            "line.unit_price": "#line-price",
            "line.tax": "#line-tax",
        }
        if self._row_refused("msg-line", ie.line_errors(line, self.today), fields):
            return
        line.unit_code = line.unit_code.strip()
        self._put_row(self.lines, self._editing, line, "line", self._clear_line_row)
        self.set_focus(self.query_one("#line-description", Input))

    def _row_refused(
        self,
        message: str,
        errors: dict[str, str],
        fields: dict[str, str],
        fallback: str | None = None,
    ) -> bool:
        """An entry row's errors: shown in ``message``, the first wrong field focused
        (``fields`` maps an error's name to its widget; others focus ``fallback``, by
        default the first field). ``True`` when there were any."""
        if not errors:
            return False
        self._show(message, " · ".join(errors.values()))
        first = next(iter(errors))
        self.set_focus(self.query_one(fields.get(first, fallback or next(iter(fields.values())))))
        return True

    def _put_row(
        self,
        items: list[Any],
        editing: int | None,
        item: Any,
        row: str,
        clear: Callable[[], None],
    ) -> None:
        """A checked entry row into its table: in its place when it was taken from there
        (``editing``), else at the end; the row's messages (``msg-<row>``, ``msg-<row>s``)
        and fields are cleared and the tables and totals redrawn."""
        if editing is not None and editing < len(items):
            items[editing] = item
        else:
            items.append(item)
        self._show(f"msg-{row}", "")
        self._show(f"msg-{row}s", "")
        clear()
        self._refresh_lines()

    def action_remove_line(self) -> None:
        """Remove the line under the table's cursor."""
        table = self.query_one(LineTable)
        if not self.lines:
            return
        index = table.cursor_row
        if 0 <= index < len(self.lines):
            removed = self.lines.pop(index)
            self._form_message(f"Se quitó la línea {index + 1}: {removed.description}")
            self._refresh_lines()
            if self.lines:
                table.move_cursor(row=min(index, len(self.lines) - 1))
            else:
                self.set_focus(self.query_one("#line-description", Input))

    def action_edit_line(self) -> None:
        """Take the line under the cursor back into the line row."""
        table = self.query_one(LineTable)
        index = table.cursor_row
        if not 0 <= index < len(self.lines):
            return
        line = self.lines[index]
        self.query_one("#line-description", Input).value = line.description
        self.query_one("#line-quantity", Input).value = line.quantity
        self.query_one("#line-unit", Input).value = line.unit_code
        self.query_one("#line-price", Input).value = line.unit_price
        tax = line.tax if any(t.key == line.tax for t in self.taxes) else ie.DEFAULT_TAX
        self.query_one("#line-tax", Select).value = tax
        self._editing = index
        self._editing_extra = dict(line.extra)
        self._unit_hint()
        self._form_message(f"Editando la línea {index + 1}: Enter la guarda en su lugar.")
        self.set_focus(self.query_one("#line-description", Input))

    # -- document discounts and charges ---------------------------------------------------------
    def _charge_hint(self, live: ie.LiveTotals) -> None:
        charge = self._pending_charge()
        what = "el cargo" if charge.is_charge else "el descuento"
        if charge.mode == ie.PERCENT:
            base = f"% sobre el subtotal ({format_money(live.subtotal)})"
        else:
            base = "valor fijo en pesos"
        action = "Enter guarda" if self._editing_charge is not None else "Enter agrega"
        self.query_one("#charge-hint", Label).update(f"{base} · {action} {what}")

    def _live_charge_check(self) -> None:
        """Messages for what was typed in the discount/charge row (empty waits for Enter)."""
        charge = self._pending_charge()
        errors = ie.allowance_charge_errors(charge)
        typed = {"charge.value": charge.value, "charge.reason": charge.reason}
        shown = [m for name, m in errors.items() if typed.get(name, "x").strip()]
        self._show("msg-charge", " · ".join(shown))

    @on(Input.Changed, "#charge-value, #charge-reason")
    def _charge_changed(self) -> None:
        self._live_charge_check()
        self._refresh_totals()

    @on(Select.Changed, "#charge-kind, #charge-mode, #charge-code")
    def _charge_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "charge-kind":
            # A charge has no DIAN reason code (CodigoDescuento is for discounts).
            self.query_one("#charge-code", Select).disabled = (
                self._select("#charge-kind") == "charge"
            )
        if event.select.id == "charge-mode":
            value = self.query_one("#charge-value", Input)
            value.placeholder = "10 o 2,5" if self._select("#charge-mode") == ie.PERCENT else "0,00"
        self._live_charge_check()
        self._refresh_totals()

    def _clear_charge_row(self) -> None:
        self.query_one("#charge-kind", Select).value = "discount"
        self.query_one("#charge-mode", Select).value = ie.PERCENT
        self.query_one("#charge-value", Input).value = ""
        self.query_one("#charge-reason", Input).value = ""
        self.query_one("#charge-code", Select).value = ie.DEFAULT_DISCOUNT_CODE
        self._editing_charge = None

    def action_focus_charges(self) -> None:
        """F4: jump to the row of document discounts and charges."""
        self.set_focus(self.query_one("#charge-kind"))

    def action_add_charge(self) -> None:
        """Check the discount/charge row and put it in its table (or back in its place)."""
        charge = self._pending_charge()
        fields = {
            "charge.value": "#charge-value",
            "charge.mode": "#charge-mode",
            "charge.reason": "#charge-reason",
            "charge.reason_code": "#charge-code",
        }
        if self._row_refused("msg-charge", ie.allowance_charge_errors(charge), fields):
            return
        charge.value = charge.value.strip()
        charge.reason = charge.reason.strip()
        self._put_row(self.charges, self._editing_charge, charge, "charge", self._clear_charge_row)
        self.set_focus(self.query_one("#charge-kind"))

    def action_remove_charge(self) -> None:
        """Remove the discount or charge under the table's cursor."""
        table = self.query_one(ChargeTable)
        index = table.cursor_row
        if not 0 <= index < len(self.charges):
            return
        removed = self.charges.pop(index)
        what = "el cargo" if removed.is_charge else "el descuento"
        self._form_message(f"Se quitó {what} {index + 1}.")
        self._show("msg-charges", "")
        self._refresh_lines()
        if self.charges:
            table.move_cursor(row=min(index, len(self.charges) - 1))
        else:
            self.set_focus(self.query_one("#charge-kind"))

    def action_edit_charge(self) -> None:
        """Take the discount or charge under the cursor back into its row."""
        index = self.query_one(ChargeTable).cursor_row
        if not 0 <= index < len(self.charges):
            return
        charge = self.charges[index]
        self.query_one("#charge-kind", Select).value = "charge" if charge.is_charge else "discount"
        self.query_one("#charge-mode", Select).value = charge.mode
        self.query_one("#charge-value", Input).value = charge.value
        self.query_one("#charge-reason", Input).value = charge.reason
        codes = {o.code for o in ie.discount_code_options()}
        code = charge.reason_code if charge.reason_code in codes else ie.DEFAULT_DISCOUNT_CODE
        self.query_one("#charge-code", Select).value = code
        self._editing_charge = index
        what = "el cargo" if charge.is_charge else "el descuento"
        self._form_message(f"Editando {what} {index + 1}: Enter lo guarda en su lugar.")
        self._refresh_totals()
        self.set_focus(self.query_one("#charge-value", Input))

    # -- withholdings -------------------------------------------------------------------------
    def _withholding_hint(self, lines: list[ie.LineEntry]) -> None:
        if not self.has_withholdings:
            return
        held = self._pending_withholding()
        if held.base.strip():
            base = "base escrita"
        else:
            what, amount = ie.default_withholding_base(held.scheme, lines, self.today)
            base = f"base automática: {what} ({format_money(amount)})"
        action = "Enter guarda" if self._editing_withholding is not None else "Enter agrega"
        self.query_one("#withholding-hint", Label).update(f"{base} · {action} la retención")

    def _live_withholding_check(self) -> None:
        """Messages for what was typed in the withholding row (empty waits for Enter)."""
        held = self._pending_withholding()
        errors = ie.withholding_errors(held, self.lines, self.today)
        percent_typed = bool(held.percent.strip())
        typed = {"withholding.percent": held.percent, "withholding.base": held.base}
        shown = [
            m
            for name, m in errors.items()
            # "no base to apply to" is said as soon as a percentage is typed.
            if typed.get(name, "x").strip() or (name == "withholding.base" and percent_typed)
        ]
        self._show("msg-withholding", " · ".join(shown))

    @on(Input.Changed, "#withholding-percent, #withholding-base")
    @on(Select.Changed, "#withholding-scheme")
    def _withholding_changed(self) -> None:
        self._live_withholding_check()
        self._refresh_totals()

    def _clear_withholding_row(self) -> None:
        self.query_one("#withholding-scheme", Select).value = ie.DEFAULT_WITHHOLDING
        self.query_one("#withholding-percent", Input).value = ""
        self.query_one("#withholding-base", Input).value = ""
        self._editing_withholding = None

    def action_focus_withholdings(self) -> None:
        """F7: jump to the withholdings row (invoices only)."""
        if self.has_withholdings:
            self.set_focus(self.query_one("#withholding-scheme"))

    def action_add_withholding(self) -> None:
        """Check the withholding row and put it in its table (or back in its place)."""
        held = self._pending_withholding()
        errors = ie.withholding_errors(held, self.lines, self.today)
        fields = {
            "withholding.scheme": "#withholding-scheme",
            "withholding.percent": "#withholding-percent",
            "withholding.base": "#withholding-base",
        }
        if self._row_refused("msg-withholding", errors, fields, "#withholding-percent"):
            return
        held.percent = held.percent.strip()
        held.base = held.base.strip()
        self._put_row(
            self.withholdings,
            self._editing_withholding,
            held,
            "withholding",
            self._clear_withholding_row,
        )
        self.set_focus(self.query_one("#withholding-scheme"))

    def action_remove_withholding(self) -> None:
        """Remove the withholding under the table's cursor."""
        table = self.query_one(WithholdingTable)
        index = table.cursor_row
        if not 0 <= index < len(self.withholdings):
            return
        self.withholdings.pop(index)
        self._form_message(f"Se quitó la retención {index + 1}.")
        self._show("msg-withholdings", "")
        self._refresh_lines()
        if self.withholdings:
            table.move_cursor(row=min(index, len(self.withholdings) - 1))
        else:
            self.set_focus(self.query_one("#withholding-scheme"))

    def action_edit_withholding(self) -> None:
        """Take the withholding under the cursor back into its row."""
        index = self.query_one(WithholdingTable).cursor_row
        if not 0 <= index < len(self.withholdings):
            return
        held = self.withholdings[index]
        codes = {o.code for o in ie.withholding_options()}
        scheme = held.scheme if held.scheme in codes else ie.DEFAULT_WITHHOLDING
        self.query_one("#withholding-scheme", Select).value = scheme
        self.query_one("#withholding-percent", Input).value = held.percent
        self.query_one("#withholding-base", Input).value = held.base
        self._editing_withholding = index
        self._form_message(f"Editando la retención {index + 1}: Enter la guarda en su lugar.")
        self._refresh_totals()
        self.set_focus(self.query_one("#withholding-percent", Input))

    # -- enter moves on in the header fields ----------------------------------------------------
    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        name = event.input.id or ""
        if name in _CHARGE_INPUTS:
            event.stop()
            self.action_add_charge()
        elif name in _WITHHOLDING_INPUTS:
            event.stop()
            self.action_add_withholding()
        elif name and not name.startswith("line-"):
            self.focus_next()

    def enter_now(self, field: Input) -> bool:
        """Enter in a field (:class:`TypeAheadInput`): add the line (or the discount/charge,
        or the withholding), or on to the next field.

        Runs while the key is read, so the focus has moved before the next key is.
        """
        if field.id in ("line-description", "line-quantity", "line-unit", "line-price"):
            self.action_add_line()
            return True
        if field.id in _CHARGE_INPUTS:
            self.action_add_charge()
            return True
        if field.id in _WITHHOLDING_INPUTS:
            self.action_add_withholding()
            return True
        if field.id and not field.id.startswith("line-"):
            self.focus_next()
            return True
        return False

    # -- pickers --------------------------------------------------------------------------------
    def action_pick_code(self) -> None:
        """F2: the municipality list when its field has the focus, else the unit list."""
        focused = self.focused
        if isinstance(focused, Input) and focused.id == "customer-municipality":
            options = ie.municipality_options()
            target = focused

            def took_town(code: str | None) -> None:
                if code:
                    target.value = code
                self.set_focus(target)

            self.app.push_screen(
                CodePickerModal("Municipio (DIVIPOLA)", options, "", on_pick=took_town), took_town
            )
            return
        unit = self.query_one("#line-unit", Input)

        def took_unit(code: str | None) -> None:
            if code:
                unit.value = code
                self.set_focus(self.query_one("#line-price", Input))
            else:
                self.set_focus(unit)

        self.app.push_screen(
            CodePickerModal(
                "Unidad de medida (UnidadesMedida, DIAN)", self.units, "", on_pick=took_unit
            ),
            took_unit,
        )

    def action_focus_lines(self) -> None:
        """F3: jump to the line row (or the table when the row is empty and lines exist)."""
        self.set_focus(self.query_one("#line-description", Input))

    def action_final_consumer(self) -> None:
        """F6: the anonymous buyer 222222222222 (cédula, no e-mail needed)."""
        self.query_one("#customer-id-type", Select).value = "13"
        self.query_one("#customer-id-number", Input).value = FINAL_CONSUMER_ID
        self.query_one("#customer-name", Input).value = "Consumidor final"
        self.query_one("#customer-responsibilities", Input).value = "R-99-PN"
        self._form_message("Comprador: consumidor final (222222222222).")
        self.set_focus(self.query_one("#line-description", Input))

    # -- DIAN look-up ---------------------------------------------------------------------------
    @on(Button.Pressed, "#lookup")
    def _lookup_pressed(self) -> None:
        self.action_lookup_acquirer()

    def action_lookup_acquirer(self) -> None:
        """F5: GetAcquirer for the typed identification; fills name and e-mail."""
        id_type = self._select("#customer-id-type")
        number = self._value("#customer-id-number").strip()
        if id_type == "31":
            problem = ie.check_nit(number, self._value("#customer-dv"))
            if problem and "verificación incorrecto" in problem:
                self._show("msg-customer-id", problem)
                return
        if not number:
            self._show("msg-customer-id", "Escriba primero la identificación del comprador.")
            self.set_focus(self.query_one("#customer-id-number", Input))
            return
        self._show("msg-customer-id", "Consultando la DIAN (GetAcquirer)…", info=True)
        self._lookup(id_type, number)

    @work(exclusive=True, group="acquirer", exit_on_error=False)
    async def _lookup(self, id_type: str, number: str) -> None:
        result = await ie.lookup_acquirer_for(
            self.store,
            self.settings,
            self.company,
            self.certificate,
            id_type,
            number,
            transport=self.transport,
        )
        if self._value("#customer-id-number").strip() != number:
            return  # the agent typed another number meanwhile: a stale answer
        if result.found:
            if result.name:
                self.query_one("#customer-name", Input).value = result.name
            self.query_one("#customer-email", Input).value = result.email
            self._show("msg-customer-name", "")
            self._show("msg-customer-email", "")
            self._show("msg-customer-id", result.message, info=True)
            self.set_focus(self.query_one("#customer-name", Input))
        else:
            self._show("msg-customer-id", result.message)

    # -- saving ---------------------------------------------------------------------------------
    def _ready_entry(self) -> ie.InvoiceEntry | None:
        """The entry when it can be saved; otherwise the messages are shown and ``None``."""
        if self._pending_started():
            self._show(
                "msg-line",
                "Hay una línea sin agregar: Enter la agrega (o bórrela) antes de guardar.",
            )
            self._form_message("Hay una línea sin agregar; no se guardó nada.", error=True)
            self.set_focus(self.query_one("#line-description", Input))
            return None
        if self._pending_charge_started():
            self._show(
                "msg-charge",
                "Hay un descuento o cargo sin agregar: Enter lo agrega (o bórrelo) antes de "
                "guardar.",
            )
            self._form_message(
                "Hay un descuento o cargo sin agregar; no se guardó nada.", error=True
            )
            self.set_focus(self.query_one("#charge-value", Input))
            return None
        if self._pending_withholding_started():
            self._show(
                "msg-withholding",
                "Hay una retención sin agregar: Enter la agrega (o bórrela) antes de guardar.",
            )
            self._form_message("Hay una retención sin agregar; no se guardó nada.", error=True)
            self.set_focus(self.query_one("#withholding-percent", Input))
            return None
        entry = self.read_entry()
        errors = ie.entry_errors(entry, self.today)
        if len(self.prefixes) > 1 and entry.prefix is None:
            errors["invoice.prefix"] = (
                "la empresa tiene varias resoluciones vigentes: elija el prefijo de la factura"
            )
        if errors:
            self._show_errors(errors)
            return None
        self._clear_messages()
        self._check_nit()
        return entry

    def action_save_draft(self) -> None:
        """ctrl+s: keep the document as a draft (no number) and close."""
        if self._busy:
            return
        entry = self._ready_entry()
        if entry is not None:
            self._save(entry, draft=True)

    def action_sign_and_send(self) -> None:
        """F9: number, sign and send after a confirmation."""
        if self._busy:
            return
        entry = self._ready_entry()
        if entry is None:
            return
        live = ie.entry_totals(entry, self.today)
        what = ie.KIND_LABELS[entry.kind].lower()
        environment = {
            "produccion": "a la DIAN en PRODUCCIÓN (tiene efecto legal)",
            "habilitacion": "a la DIAN, habilitación (pruebas)",
            "simulator": "al simulador local de la DIAN (sin efecto legal)",
        }.get(self.company.environment, self.company.environment)
        text = (
            f"Se numerará y firmará la {what} para {entry.customer.name.strip()} por "
            f"{format_money(live.payable)} ({len(entry.lines)} línea(s)), y se enviará "
            f"{environment}."
        )
        if live.withholding_taxes:
            text += (
                f"\nRetenciones informadas: {format_money(live.withholding_total)} (no cambian "
                "el total)."
            )
        text += "\n\nUn número asignado no se reutiliza. ¿Firmar y enviar?"

        def answered(yes: bool | None) -> None:
            if yes:
                self._save(entry, draft=False)

        self.app.push_screen(ConfirmModal(text, yes="Firmar y enviar", no="Volver"), answered)

    @work(exclusive=True, group="save", exit_on_error=False)
    async def _save(self, entry: ie.InvoiceEntry, *, draft: bool) -> None:
        self._busy = True
        self._form_message("Guardando…")
        try:
            if self.draft_of is not None:
                # A reopened draft: saved over itself, or numbered (promoted) by F9.
                again = ie.update_draft if draft else ie.promote_draft
                saved = await asyncio.to_thread(again, self.queue, self.draft_of, entry, self.today)
            else:
                add = ie.save_draft if draft else ie.queue_for_sending
                saved = await asyncio.to_thread(add, self.queue, entry, self.today)
        except ie.EntryInvalid as exc:
            self._busy = False
            self._show_errors(exc.errors)
            return
        except FeError as exc:
            self._busy = False
            self._form_message(exc.message, error=True)
            return
        self._saved = True
        if not draft and self.send is not None:
            self._form_message(f"{saved.doc_id} numerado; firmando y enviando…")
            try:
                saved = await self.send(saved)
            except FeError as exc:
                # The document is in the queue (ready): the queue pane retries it.
                self.app.notify(
                    f"{saved.doc_id} quedó en la cola: {exc.message}", severity="warning"
                )
        self._busy = False
        self.dismiss(saved)

    # -- leaving --------------------------------------------------------------------------------
    def action_cancel(self) -> None:
        """escape: close; asks first when something typed would be lost."""
        if self._busy:
            return
        if not self.dirty:
            self.dismiss(None)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmModal(
                "Hay cambios sin guardar. ¿Salir y descartarlos?\n(ctrl+s los guarda como "
                "borrador)",
                yes="Descartar",
                no="Seguir editando",
            ),
            answered,
        )
