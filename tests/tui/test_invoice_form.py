"""The invoice form (Pilot): a valid draft, bad input, GetAcquirer, a credit note, snapshots.

A tiny host App pushes :class:`InvoiceFormScreen` and keeps what it dismisses
with; the demo company lives in a temporary data directory and DIAN is the
in-process simulator of :class:`tests.test_queue.World`.
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.app import App
from textual.widgets import Input, Label, Select

from fe_tui.services import invoice_entry as ie
from fe_tui.services import invoice_queue as iq
from fe_tui.tui.invoice_form import CodePickerModal, ConfirmModal, InvoiceFormScreen
from tests.test_queue import FAST, World

TODAY = date(2026, 12, 3)
BUYER_NIT = "800199436"
BUYER_NAME = "Distribuidora Antioqueña de Alimentos S.A.S."
BUYER_EMAIL = "recepcion.facturas@distriantioquena.com.co"


class Host(App[None]):
    """Pushes the form on mount and records its result."""

    def __init__(self, make: Any) -> None:
        super().__init__()
        self.make = make
        self.results: list[ie.SavedDocument | None] = []

    def on_mount(self) -> None:
        self.push_screen(self.make(), self.results.append)


@pytest.fixture
def world(tmp_path: Path) -> World:
    w = World(tmp_path)
    w.queue = iq.InvoiceQueue(w.store, w.company, w.settings, policy=FAST, rng=random.Random(5))
    return w


def form_for(world: World, **kw: Any) -> Host:
    def make() -> InvoiceFormScreen:
        return InvoiceFormScreen(
            world.store,
            world.settings,
            world.company,
            certificate=world.cert,
            transport=httpx.ASGITransport(app=world.sim),
            today=TODAY,
            queue=world.queue,
            **kw,
        )

    return Host(make)


async def type_into(pilot: Any, selector: str, text: str) -> None:
    widget = pilot.app.screen.query_one(selector, Input)
    widget.focus()
    widget.value = ""
    await pilot.press(*text)


def message(pilot: Any, label_id: str) -> str:
    label = pilot.app.screen.query_one(f"#{label_id}", Label)
    return str(label.render()) if label.has_class("-shown") else ""


async def fill_customer(pilot: Any, dv: str = "4") -> None:
    await type_into(pilot, "#customer-id-number", BUYER_NIT)
    await pilot.press("tab", *dv)
    await type_into(pilot, "#customer-name", BUYER_NAME)
    await type_into(pilot, "#customer-email", BUYER_EMAIL)


async def add_line(pilot: Any, description: str, quantity: str, price: str) -> None:
    await pilot.press("f3")
    await pilot.press(*description, "tab")
    await type_into(pilot, "#line-quantity", quantity)
    await type_into(pilot, "#line-price", price)
    await pilot.press("enter")
    await pilot.pause()


def documents(world: World) -> list[iq.DocRecord]:
    return world.queue.list()


async def test_a_valid_invoice_is_saved_as_a_draft(world: World) -> None:
    app = form_for(world)
    async with app.run_test(size=(80, 24)) as pilot:
        await fill_customer(pilot)
        assert message(pilot, "msg-customer-id") == "NIT 800199436-4: DV correcto"
        await add_line(pilot, "Café tostado", "10", "25000")
        await add_line(pilot, "Molino", "2", "180000,00")
        screen = app.screen
        assert isinstance(screen, InvoiceFormScreen) and len(screen.lines) == 2
        bar = str(screen.query_one("#totals-bar").render())
        assert bar.startswith(
            "TOTAL $ 725.900,00 · Subtotal $ 610.000,00"
        )  # 610 000 + 19 % IVA, from the engine
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
    [saved] = app.results
    assert saved is not None and saved.state == iq.DRAFT and saved.kind == "invoice"
    [rec] = documents(world)
    assert rec.doc_id == saved.doc_id and rec.state == iq.DRAFT
    data = world.queue.ledger.request(rec)["document"]
    assert data["customer"]["name"] == BUYER_NAME
    assert [line["unit_price"] for line in data["lines"]] == ["25000.00", "180000.00"]


async def test_wrong_check_digit_is_shown_as_typed_and_saves_nothing(world: World) -> None:
    app = form_for(world)
    async with app.run_test(size=(80, 24)) as pilot:
        await fill_customer(pilot, dv="7")
        assert message(pilot, "msg-customer-id") == (
            "dígito de verificación incorrecto: para el NIT 800199436 es 4"
        )
        await add_line(pilot, "Café tostado", "10", "25000")
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        assert "no se guardó nada" in message(pilot, "form-msg")
        assert isinstance(app.screen, InvoiceFormScreen)
        assert "dígito de verificación incorrecto" in message(pilot, "msg-customer-id")
        assert app.focused is app.screen.query_one("#customer-dv")
    assert app.results == [] and documents(world) == []


async def test_no_lines_saves_nothing(world: World) -> None:
    app = form_for(world)
    async with app.run_test(size=(80, 24)) as pilot:
        await fill_customer(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "agregue al menos una línea" in message(pilot, "msg-lines")
        assert isinstance(app.screen, InvoiceFormScreen)
    assert app.results == [] and documents(world) == []


@pytest.mark.parametrize(
    ("quantity", "price", "expected"),
    [
        ("1", "25mil", "el precio debe ser un número"),
        ("0", "25000", "la cantidad debe ser mayor que 0"),
        ("-2", "25000", "la cantidad no puede ser menor que 0"),
        ("1", "25.000", "sin separador de miles"),
    ],
)
async def test_bad_line_is_refused_in_spanish(
    world: World, quantity: str, price: str, expected: str
) -> None:
    app = form_for(world)
    async with app.run_test(size=(80, 24)) as pilot:
        await fill_customer(pilot)
        await add_line(pilot, "Café tostado", quantity, price)
        screen = app.screen
        assert isinstance(screen, InvoiceFormScreen)
        assert screen.lines == []  # Enter did not add it
        assert expected in message(pilot, "msg-line")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Hay una línea sin agregar" in message(pilot, "msg-line")
        assert isinstance(app.screen, InvoiceFormScreen)
    assert app.results == [] and documents(world) == []


async def test_get_acquirer_fills_name_and_email(world: World) -> None:
    app = form_for(world)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_into(pilot, "#customer-id-number", BUYER_NIT)
        await pilot.press("tab", "4", "f5")
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert screen.query_one("#customer-name", Input).value == BUYER_NAME
        assert screen.query_one("#customer-email", Input).value == BUYER_EMAIL
        assert message(pilot, "msg-customer-id").startswith("DIAN: Distribuidora")
        # Someone DIAN does not know: a Spanish message, the form keeps what it had.
        await type_into(pilot, "#customer-id-number", "900123456")
        await pilot.press("tab", "backspace", "8", "f5")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "no devolvió un adquirente" in message(pilot, "msg-customer-id")
        assert screen.query_one("#customer-name", Input).value == BUYER_NAME


async def test_get_acquirer_without_network_keeps_the_form_usable(world: World) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("sin red", request=request)

    def make() -> InvoiceFormScreen:
        return InvoiceFormScreen(
            world.store,
            world.settings,
            world.company,
            certificate=world.cert,
            transport=httpx.MockTransport(refuse),
            today=TODAY,
            queue=world.queue,
        )

    app = Host(make)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_into(pilot, "#customer-id-number", BUYER_NIT)
        await pilot.press("tab", "4", "f5")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert message(pilot, "msg-customer-id").startswith("No se pudo consultar la DIAN")
        await type_into(pilot, "#customer-name", BUYER_NAME)
        assert app.screen.query_one("#customer-name", Input).value == BUYER_NAME


async def test_unit_picker_filters_the_code_list(world: World) -> None:
    app = form_for(world)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3", "f2")
        await pilot.pause()
        assert isinstance(app.screen, CodePickerModal)
        await pilot.press(*"kilogramo")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, InvoiceFormScreen)
        assert app.screen.query_one("#line-unit", Input).value == "KGM"


async def test_escape_asks_before_losing_changes(world: World) -> None:
    app = form_for(world)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_into(pilot, "#customer-name", "Alguien")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, InvoiceFormScreen)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
    assert app.results == [None]


async def test_credit_note_from_an_accepted_invoice_after_confirmation(world: World) -> None:
    entry = ie.InvoiceEntry(
        customer=ie.CustomerEntry("31", BUYER_NIT, "4", BUYER_NAME, BUYER_EMAIL),
        lines=[ie.LineEntry("Café tostado", "10", "94", "25000", "01:5")],
    )
    invoice = ie.queue_for_sending(world.queue, entry, TODAY)
    await world.run()
    rec = world.queue.ledger.get(invoice.doc_id)
    assert rec is not None and rec.state == iq.ACCEPTED

    async def send(saved: ie.SavedDocument) -> ie.SavedDocument:
        await world.run()
        done = world.queue.ledger.get(saved.doc_id)
        assert done is not None
        return ie.SavedDocument(done.doc_id, done.state, saved.kind)

    today = date.fromisoformat(rec.issue_date or "")

    def make() -> InvoiceFormScreen:
        return InvoiceFormScreen(
            world.store,
            world.settings,
            world.company,
            note_of=invoice.doc_id,
            note_kind="credit_note",
            today=today,
            queue=world.queue,
            send=send,
        )

    app = Host(make)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, InvoiceFormScreen)
        assert screen.query_one("#customer-name", Input).value == BUYER_NAME
        assert len(screen.lines) == 1
        await pilot.press("f9")
        await pilot.pause()
        assert "elija el concepto" in message(pilot, "msg-note")
        screen.query_one("#note-concept", Select).value = "1"
        # Take the line back, return 2 of the 10 bags, put it back in its place.
        screen.query_one("#lines").focus()
        await pilot.press("enter")
        await type_into(pilot, "#line-quantity", "2")
        await pilot.press("enter")
        await pilot.pause()
        assert screen.lines[0].quantity == "2"
        await pilot.press("f9")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause()
    [saved] = app.results
    assert saved is not None and (saved.doc_id, saved.state) == ("NC1", iq.ACCEPTED)
    note = world.queue.ledger.get("NC1")
    assert note is not None and note.reference == invoice.doc_id
    billing = world.queue.ledger.request(note)["document"]["billing_reference"]
    assert billing["uuid"] == rec.cufe


def test_a_note_of_a_document_that_is_not_accepted_is_refused(world: World) -> None:
    from fe_tui.errors import InputError

    with pytest.raises(InputError, match="no hay un documento|No hay un documento"):
        InvoiceFormScreen(
            world.store, world.settings, world.company, note_of="SETP1", queue=world.queue
        )


# --- snapshots ------------------------------------------------------------------------------


def snapshot_host(root: Path) -> Host:
    world = World(root)

    def make() -> InvoiceFormScreen:
        return InvoiceFormScreen(
            world.store, world.settings, world.company, today=TODAY, queue=world.queue
        )

    return Host(make)


async def _filled(pilot: Any) -> None:
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    await fill_customer(pilot)
    await add_line(pilot, "Café tostado en grano, bolsa 500 g", "10", "25000")
    await add_line(pilot, "Molino de café eléctrico", "2", "180000")
    await add_charge(pilot, "2", "Pronto pago")
    await add_withholding(pilot, "06", "2,5")
    await type_into(pilot, "#line-description", "Filtro")
    await type_into(pilot, "#line-price", "12a")
    await pilot.pause()


def test_snapshot_80x24(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(snapshot_host(tmp_path), terminal_size=(80, 24), run_before=_filled)


def test_snapshot_120x40(snap_compare: Any, tmp_path: Path) -> None:
    assert snap_compare(snapshot_host(tmp_path), terminal_size=(120, 40), run_before=_filled)


async def test_escape_on_an_untouched_form_closes_at_once(world: World) -> None:
    app = form_for(world)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None]


async def test_sign_and_send_without_a_runner_leaves_it_ready(world: World) -> None:
    app = form_for(world)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f6")  # final consumer: no e-mail needed
        await add_line(pilot, "Tinto", "3", "2500")
        await pilot.press("f9")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        text = str(app.screen.query_one("#confirm-text").render())
        assert "Consumidor final" in text and "$ 8.925,00" in text and "simulador" in text
        await pilot.press("escape")  # back to the form: nothing numbered
        await pilot.pause()
        assert isinstance(app.screen, InvoiceFormScreen) and documents(world) == []
        await pilot.press("f9")
        await pilot.pause()
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause()
    [saved] = app.results
    assert saved is not None and (saved.doc_id, saved.state) == ("SETP990000000", iq.READY)


async def test_several_resolutions_ask_for_the_prefix(world: World) -> None:
    from fe_tui.domain.models import Resolution

    second = Resolution(
        number="18760000002",
        prefix="FE",
        from_number=1,
        to_number=1000,
        valid_from=date(2026, 1, 1),
        valid_to=date(2030, 12, 31),
        technical_key="ab" * 20,
    )
    world.store.save_resolution(world.company.nit, second, source="prueba")
    assert ie.invoice_prefixes(world.queue, TODAY) == ["FE", "SETP"]
    app = form_for(world)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f6")
        await add_line(pilot, "Tinto", "3", "2500")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "elija el prefijo" in message(pilot, "msg-prefix")
        assert documents(world) == []
        app.screen.query_one("#invoice-prefix", Select).value = "FE"
        await pilot.press("f9")
        await pilot.pause()
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause()
    [saved] = app.results
    assert saved is not None and saved.doc_id == "FE1"


# --- type-ahead: keys typed with no pause land where the agent meant them ------------------


async def burst(pilot: Any, *keys: str) -> None:
    """Send ``keys`` as a fast typist over SSH does: all queued, no wait between them."""
    from textual import events

    app = pilot.app
    for key in keys:
        event = events.Key(key, key if len(key) == 1 else None)
        event.set_sender(app)
        app._driver.send_message(event)
    for _ in range(4):
        await pilot.pause()


async def test_keys_typed_right_after_enter_go_to_the_next_field(world: World) -> None:
    app = form_for(world)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_into(pilot, "#customer-id-number", BUYER_NIT)
        await burst(pilot, "enter", "4")
        screen = app.screen
        assert screen.query_one("#customer-id-number", Input).value == BUYER_NIT
        assert screen.query_one("#customer-dv", Input).value == "4"


async def test_the_next_line_typed_right_after_enter_starts_a_new_line(world: World) -> None:
    app = form_for(world)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f6")
        await pilot.press("f3", *"Tinto", "tab")
        await type_into(pilot, "#line-quantity", "3")
        await type_into(pilot, "#line-price", "2500")
        await burst(pilot, "enter", *"Molino")
        screen = app.screen
        assert isinstance(screen, InvoiceFormScreen)
        assert [(line.description, line.unit_price) for line in screen.lines] == [("Tinto", "2500")]
        assert screen.query_one("#line-description", Input).value == "Molino"
        assert screen.query_one("#line-price", Input).value == ""


async def test_keys_typed_right_after_a_picker_closes_go_to_the_price(world: World) -> None:
    app = form_for(world)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f6")
        await pilot.press("f3", *"Tinto", "tab")
        await type_into(pilot, "#line-unit", "")
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, CodePickerModal)
        await pilot.press(*"kgm")
        await pilot.pause()
        await burst(pilot, "enter", *"12000")
        screen = app.screen
        assert isinstance(screen, InvoiceFormScreen)
        assert screen.query_one("#line-unit", Input).value == "KGM"
        assert screen.query_one("#line-price", Input).value == "12000"


# --- reopening a draft ------------------------------------------------------------------------


async def _save_first_draft(world: World) -> str:
    app = form_for(world)
    async with app.run_test(size=(80, 24)) as pilot:
        await fill_customer(pilot)
        await add_line(pilot, "Café tostado", "10", "25000")
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
    [saved] = app.results
    assert saved is not None and saved.state == iq.DRAFT
    return saved.doc_id


async def test_a_draft_reopens_filled_and_saving_updates_the_same_draft(world: World) -> None:
    draft = await _save_first_draft(world)
    app = form_for(world, draft_of=draft)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, InvoiceFormScreen)
        assert screen.query_one("#customer-name", Input).value == BUYER_NAME
        assert screen.query_one("#customer-dv", Input).value == "4"
        assert [line.description for line in screen.lines] == ["Café tostado"]
        assert not screen.dirty  # nothing typed yet: escape would close at once
        await add_line(pilot, "Molino", "1", "180000")
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
    [saved] = app.results
    assert saved is not None and (saved.doc_id, saved.state) == (draft, iq.DRAFT)
    [rec] = documents(world)  # the same draft, not a second one
    assert rec.doc_id == draft and rec.revision == 1
    lines = world.queue.ledger.request(rec)["document"]["lines"]
    assert [line["description"] for line in lines] == ["Café tostado", "Molino"]


async def test_f9_on_a_reopened_draft_numbers_it(world: World) -> None:
    draft = await _save_first_draft(world)
    app = form_for(world, draft_of=draft)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f9")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause()
    [saved] = app.results
    assert saved is not None and saved.state == iq.READY and saved.doc_id.startswith("SETP")
    old = world.queue.ledger.get(draft)
    assert old is not None and old.state == iq.VOID and saved.doc_id in (old.void_reason or "")


def test_only_a_draft_reopens(world: World) -> None:
    from fe_tui.errors import InputError

    rec = world.queue.add(example_invoice()).record
    with pytest.raises(InputError, match="solo se reabre un borrador"):
        InvoiceFormScreen(
            world.store, world.settings, world.company, draft_of=rec.doc_id, queue=world.queue
        )


def example_invoice() -> dict[str, Any]:
    import json

    from tests.conftest import EXAMPLES

    return json.loads((EXAMPLES / "factura.json").read_text())


# --- document discounts, charges and withholdings -------------------------------------------


def bar(pilot: Any) -> str:
    return str(pilot.app.screen.query_one("#totals-bar").render())


async def add_charge(
    pilot: Any, value: str, reason: str = "", *, kind: str = "discount", mode: str = ie.PERCENT
) -> None:
    await pilot.press("f4")
    screen = pilot.app.screen
    assert pilot.app.focused is screen.query_one("#charge-kind")
    screen.query_one("#charge-kind", Select).value = kind
    screen.query_one("#charge-mode", Select).value = mode
    await type_into(pilot, "#charge-value", value)
    if reason:
        await type_into(pilot, "#charge-reason", reason)
    await pilot.pause()  # the live check of what was typed runs before Enter, as when typing
    await pilot.press("enter")
    await pilot.pause()


async def add_withholding(pilot: Any, scheme: str, percent: str, base: str = "") -> None:
    await pilot.press("f7")
    screen = pilot.app.screen
    assert pilot.app.focused is screen.query_one("#withholding-scheme")
    screen.query_one("#withholding-scheme", Select).value = scheme
    await type_into(pilot, "#withholding-percent", percent)
    if base:
        await type_into(pilot, "#withholding-base", base)
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()


async def test_discounts_charges_and_withholdings_add_edit_remove_and_reopen(
    world: World,
) -> None:
    app = form_for(world)
    async with app.run_test(size=(120, 40)) as pilot:
        await fill_customer(pilot)
        await add_line(pilot, "Café tostado", "10", "25000")
        await add_line(pilot, "Molino", "2", "180000")
        screen = app.screen
        assert isinstance(screen, InvoiceFormScreen)
        assert bar(pilot).startswith("TOTAL $ 725.900,00")  # 610 000 + IVA 19 %
        await add_charge(pilot, "2", "Pronto pago")
        assert screen.charges == [ie.AllowanceChargeEntry(False, ie.PERCENT, "2", "Pronto pago")]
        assert bar(pilot).startswith("TOTAL $ 713.700,00 · Subtotal $ 610.000,00 · Desc. -$ 12.")
        await add_charge(pilot, "15000", "Flete", kind="charge", mode=ie.AMOUNT)
        assert bar(pilot).startswith("TOTAL $ 728.700,00")
        assert "Cargos $ 15.000,00" in bar(pilot)
        totals = str(screen.query_one("#totals").render())
        assert "Descuentos" in totals and "-$ 12.200,00" in totals and "Cargos" in totals
        # Edit the discount: 3 % instead of 2 %.
        screen.query_one("#charges").focus()
        await pilot.press("enter")
        assert screen.query_one("#charge-value", Input).value == "2"
        await type_into(pilot, "#charge-value", "3")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert [c.value for c in screen.charges] == ["3", "15000"]
        assert bar(pilot).startswith("TOTAL $ 722.600,00")  # 725 900 − 18 300 + 15 000
        # Remove the charge.
        table = screen.query_one("#charges")
        table.focus()
        await pilot.press("down", "delete")
        await pilot.pause()
        assert [c.is_charge for c in screen.charges] == [False]
        assert bar(pilot).startswith("TOTAL $ 707.600,00")
        # A withholding: the hint names its automatic base, the total does not move.
        await pilot.press("f7")
        await type_into(pilot, "#withholding-percent", "2,5")
        hint = str(screen.query_one("#withholding-hint").render())
        assert "base automática: el subtotal ($ 610.000,00)" in hint
        await pilot.press("enter")
        await pilot.pause()
        assert screen.withholdings == [ie.WithholdingEntry("06", "2,5")]
        assert bar(pilot).startswith("TOTAL $ 707.600,00")
        assert "Retenciones $ 15.250,00 (no restan)" in bar(pilot)
        await add_withholding(pilot, "05", "15")
        assert "Retenciones $ 32.635,00" in bar(pilot)  # + 15 % of the IVA (115 900)
        totals = str(screen.query_one("#totals").render())
        assert "Retenciones (no restan)" in totals and "ReteIVA 15 %" in totals
        # Edit the ReteFuente to 4 %, remove the ReteIVA.
        screen.query_one("#withholdings").focus()
        await pilot.press("enter")
        await type_into(pilot, "#withholding-percent", "4")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        screen.query_one("#withholdings").focus()
        await pilot.press("down", "delete")
        await pilot.pause()
        assert screen.withholdings == [ie.WithholdingEntry("06", "4")]
        assert "Retenciones $ 24.400,00" in bar(pilot)
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
    [saved] = app.results
    assert saved is not None and saved.state == iq.DRAFT
    data = world.queue.ledger.request(documents(world)[0])["document"]

    def given(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in item.items() if v is not None} for item in items]

    assert given(data["allowances_charges"]) == [
        {"is_charge": False, "percent": "3", "reason": "Pronto pago", "reason_code": "00"}
    ]
    assert given(data["withholdings"]) == [{"scheme": "06", "percent": "4"}]
    # Reopened: the tables and the totals come back as they were.
    again = form_for(world, draft_of=saved.doc_id)
    async with again.run_test(size=(120, 40)) as pilot:
        screen = again.screen
        assert isinstance(screen, InvoiceFormScreen) and not screen.dirty
        assert screen.charges == [ie.AllowanceChargeEntry(False, ie.PERCENT, "3", "Pronto pago")]
        assert screen.withholdings == [ie.WithholdingEntry("06", "4")]
        assert bar(pilot).startswith("TOTAL $ 707.600,00")
        assert "Retenciones $ 24.400,00" in bar(pilot)
        assert screen.query_one("#charges").row_count == 1
        assert screen.query_one("#withholdings").row_count == 1


async def test_bad_discounts_and_withholdings_are_refused_in_spanish(world: World) -> None:
    app = form_for(world)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f6")
        await add_line(pilot, "Arroz", "1", "5000")
        screen = app.screen
        assert isinstance(screen, InvoiceFormScreen)
        # Typed: the message shows before Enter.
        await pilot.press("f4")
        await type_into(pilot, "#charge-value", "diez")
        assert "el porcentaje del descuento debe ser un número" in message(pilot, "msg-charge")
        for value, expected in [
            ("150", "no puede ser mayor que 100"),
            ("-5", "el porcentaje del descuento no puede ser menor que 0"),
            ("0", "el porcentaje del descuento debe ser mayor que 0"),
            ("", "escriba el porcentaje del descuento"),
        ]:
            await add_charge(pilot, value)
            assert expected in message(pilot, "msg-charge"), value
            assert screen.charges == []
        await add_charge(pilot, "0", kind="charge", mode=ie.AMOUNT)
        assert "el valor del cargo debe ser mayor que 0" in message(pilot, "msg-charge")
        await add_charge(pilot, "5mil", kind="charge", mode=ie.AMOUNT)
        assert "el valor del cargo debe ser un número" in message(pilot, "msg-charge")
        assert screen.charges == [] and app.focused is screen.query_one("#charge-value")
        # A discount larger than the document: refused when saving (VLR01).
        await add_charge(pilot, "9000", mode=ie.AMOUNT)
        assert len(screen.charges) == 1
        # Withholdings.
        await add_withholding(pilot, "06", "abc")
        assert "el porcentaje de ReteFuente debe ser un número" in message(pilot, "msg-withholding")
        await add_withholding(pilot, "07", "1", "0")
        assert "la base de ReteICA debe ser mayor que 0" in message(pilot, "msg-withholding")
        assert screen.withholdings == []
        # Something typed and not added: saving refuses and says so.
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Hay una retención sin agregar" in message(pilot, "msg-withholding")
        await type_into(pilot, "#withholding-base", "")
        await type_into(pilot, "#withholding-percent", "")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "superan el total" in message(pilot, "msg-charges")
        assert app.focused is screen.query_one("#charges")
        assert isinstance(app.screen, InvoiceFormScreen)
    assert app.results == [] and documents(world) == []


async def test_rete_iva_without_iva_needs_a_base(world: World) -> None:
    app = form_for(world)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f6")
        await add_line(pilot, "Arroz", "1", "5000")
        screen = app.screen
        assert isinstance(screen, InvoiceFormScreen)
        screen.lines[0].tax = ie.EXCLUDED  # an excluded good: no IVA to withhold from
        await pilot.press("f7")
        screen.query_one("#withholding-scheme", Select).value = "05"
        await type_into(pilot, "#withholding-percent", "15")
        assert "el documento no tiene IVA" in message(pilot, "msg-withholding")
        await pilot.press("enter")
        await pilot.pause()
        assert screen.withholdings == []
        await type_into(pilot, "#withholding-base", "1000")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert screen.withholdings == [ie.WithholdingEntry("05", "15", "1000")]


async def test_discounts_and_withholdings_typed_in_the_form_reach_the_signed_xml(
    world: World,
) -> None:
    from lxml import etree

    from fe_tui import ns
    from fe_tui.checks import Status, preflight
    from fe_tui.services.evidence import document_detail

    async def send(saved: ie.SavedDocument) -> ie.SavedDocument:
        await world.run()
        done = world.queue.ledger.get(saved.doc_id)
        assert done is not None
        return ie.SavedDocument(done.doc_id, done.state, saved.kind)

    app = form_for(world, send=send)
    async with app.run_test(size=(80, 24)) as pilot:
        await fill_customer(pilot)
        await add_line(pilot, "Café tostado", "10", "25000")
        await add_charge(pilot, "10", "Volumen")
        await add_charge(pilot, "8000", "Flete", kind="charge", mode=ie.AMOUNT)
        await add_withholding(pilot, "06", "2,5")
        await add_withholding(pilot, "05", "15")
        await pilot.press("f9")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        text = str(app.screen.query_one("#confirm-text").render())
        # 250 000 + IVA 47 500 − 25 000 + 8 000; withholdings 6 250 + 7 125 named apart.
        assert "$ 280.500,00" in text and "Retenciones informadas: $ 13.375,00" in text
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause()
    [saved] = app.results
    assert saved is not None and saved.state == iq.ACCEPTED, saved
    xml = document_detail(world.queue, saved.doc_id).xml
    assert xml is not None
    root = etree.fromstring(xml)

    def texts(path: str) -> list[str]:
        return [str(t) for t in root.xpath(path, namespaces=ns.XPATH)]

    assert texts("cac:AllowanceCharge/cbc:ChargeIndicator/text()") == ["false", "true"]
    assert texts("cac:AllowanceCharge/cbc:Amount/text()") == ["25000.00", "8000.00"]
    assert texts("cac:AllowanceCharge/cbc:AllowanceChargeReasonCode/text()") == ["00"]
    assert texts("cac:WithholdingTaxTotal/cbc:TaxAmount/text()") == ["7125.00", "6250.00"]
    assert texts("cac:LegalMonetaryTotal/cbc:PayableAmount/text()") == ["280500.00"]
    report = preflight(xml)
    assert report.ok, [f.to_dict() for f in report.rechazos]
    for code in ("FAU02", "FAU04", "FAU06", "FAU14"):
        assert {f.status for f in report.findings if f.code == code} == {Status.PASSED}, code
