"""Invoice data entry (no Textual): field messages, document data, totals, look-up, notes."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from fe_tui.errors import InputError
from fe_tui.services import invoice_entry as ie
from fe_tui.services import invoice_queue as iq
from fe_tui.services.sessions import open_company_session
from tests.test_queue import FAST, World

TODAY = date(2026, 12, 3)
BUYER_NIT, BUYER_DV = "800199436", "4"
BUYER_NAME = "Distribuidora Antioqueña de Alimentos S.A.S."
BUYER_EMAIL = "recepcion.facturas@distriantioquena.com.co"


def valid_entry() -> ie.InvoiceEntry:
    return ie.InvoiceEntry(
        customer=ie.CustomerEntry(
            id_type="31", id_number=BUYER_NIT, dv=BUYER_DV, name=BUYER_NAME, email=BUYER_EMAIL
        ),
        lines=[
            ie.LineEntry("Café tostado en grano, bolsa 500 g", "10", "94", "25000", "01:5"),
            ie.LineEntry("Molino de café eléctrico", "2", "94", "180000,00", "01:19"),
        ],
    )


@pytest.fixture
def world(tmp_path: Path) -> World:
    w = World(tmp_path)
    w.queue = iq.InvoiceQueue(w.store, w.company, w.settings, policy=FAST, rng=random.Random(3))
    return w


# --- field checks ---------------------------------------------------------------------------


def test_check_nit_as_typed() -> None:
    assert ie.check_nit("", "") is None
    assert ie.check_nit(BUYER_NIT, BUYER_DV) is None
    assert ie.check_nit(BUYER_NIT, "5") == (
        f"dígito de verificación incorrecto: para el NIT {BUYER_NIT} es 4"
    )
    assert "falta el dígito de verificación" in (ie.check_nit(BUYER_NIT, "") or "")
    assert "solo dígitos" in (ie.check_nit("800.199.436", "4") or "")
    assert "de 5 a 10 dígitos" in (ie.check_nit("123", "4") or "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("25000", "25000"), ("25000,50", "25000.50"), ("$ 1500.5", "1500.5"), ("0,125", "0.125")],
)
def test_parse_decimal_accepts(text: str, expected: str) -> None:
    assert ie.parse_decimal(text, "el precio") == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12a", "el precio debe ser un número"),
        ("abc", "se recibió 'abc'"),
        ("25.000", "sin separador de miles"),
        ("1.250.000", "¿1250000?"),
        ("-5", "no puede ser menor que 0"),
        ("", "escriba el precio"),
    ],
)
def test_parse_decimal_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("?", r"\?").replace("$", r"\$")):
        ie.parse_decimal(text, "el precio")


def test_a_valid_entry_has_no_errors_and_becomes_queue_data() -> None:
    entry = valid_entry()
    assert ie.entry_errors(entry, TODAY) == {}
    data = ie.to_document_data(entry, TODAY)
    doc = data["document"]
    assert doc["kind"] == "invoice" and doc["customer"]["dv"] == "4"
    assert doc["lines"][1]["unit_price"] == "180000.00"
    assert doc["lines"][1]["taxes"] == [{"scheme": "01", "percent": "19"}]
    assert "number" not in doc


def test_field_messages_in_spanish() -> None:
    entry = valid_entry()
    entry.customer.dv = "7"
    entry.customer.email = ""
    entry.lines[0].unit_price = "veinte mil"
    entry.lines[1].quantity = "0"
    entry.lines.append(ie.LineEntry("Bolsa", "1", "XXX", "100", "01:19"))
    entry.lines.append(ie.LineEntry("Servicio", "1", "94", "100", "01:16"))
    errors = ie.entry_errors(entry, TODAY)
    assert errors["customer.dv"].startswith("dígito de verificación incorrecto")
    assert "correo de recepción" in errors["customer.email"]
    assert "el precio debe ser un número" in errors["lines.0.unit_price"]
    assert errors["lines.1.quantity"] == "la cantidad debe ser mayor que 0"
    assert "no existe en la lista DIAN UnidadesMedida" in errors["lines.2.unit_code"]
    assert "no está en la lista de tributos" in errors["lines.3.tax"]
    with pytest.raises(ie.EntryInvalid) as caught:
        ie.to_document_data(entry, TODAY)
    assert caught.value.errors == errors
    assert caught.value.message.startswith("El documento tiene 6 error(es)")


def test_no_lines_and_negative_quantity() -> None:
    entry = valid_entry()
    entry.lines = []
    assert "agregue al menos una línea" in ie.entry_errors(entry, TODAY)["lines"]
    line = ie.LineEntry("Café", "-1", "94", "100")
    assert ie.line_errors(line, TODAY) == {"line.quantity": "la cantidad no puede ser menor que 0"}


def test_final_consumer_needs_no_email_and_credit_needs_a_due_date() -> None:
    entry = valid_entry()
    entry.customer = ie.CustomerEntry(
        id_type="13", id_number="222222222222", name="Consumidor final"
    )
    assert ie.entry_errors(entry, TODAY) == {}
    entry.payment_form = "2"
    assert "fecha de vencimiento" in ie.entry_errors(entry, TODAY)["payment.due_date"]
    entry.due_date = "2026-12-01"
    assert "anterior a hoy" in ie.entry_errors(entry, TODAY)["payment.due_date"]
    entry.due_date = "2027-01-02"
    assert ie.entry_errors(entry, TODAY) == {}
    assert ie.to_document_data(entry, TODAY)["document"]["due_date"] == "2027-01-02"


def test_bad_municipality_is_named() -> None:
    entry = valid_entry()
    entry.customer.address_line = "Calle 10"
    entry.customer.municipality_code = "99999"
    assert (
        "no existe en la lista DIVIPOLA" in ie.entry_errors(entry, TODAY)["customer.municipality"]
    )


# --- pickers and totals ---------------------------------------------------------------------


def test_pickers_filter_code_lists() -> None:
    units = ie.unit_options()
    assert units[0].code == "94" and len(units) > 1000
    assert ie.filter_options(units, "KGM")[0].code == "KGM"
    assert "KGM" in [o.code for o in ie.filter_options(units, "kilogramo")]
    towns = ie.filter_options(ie.municipality_options(), "medellin")
    assert towns[0].code == "05001"
    taxes = {t.key: t.label for t in ie.tax_options(TODAY)}
    assert taxes["01:19"] == "IVA 19 %" and taxes["01:0"] == "IVA 0 % (exento)"
    assert "01:16" not in taxes  # IVA 16 % ended in 2016
    assert taxes[ie.EXCLUDED] == "Excluido de IVA"


def test_live_totals_come_from_the_engine() -> None:
    lines = valid_entry().lines + [ie.LineEntry("a medias", "x", "94", "1")]
    live = ie.live_totals(lines, TODAY)
    assert (live.counted, live.skipped) == (2, 1)
    assert live.subtotal == Decimal("610000.00")
    assert live.taxes == (("IVA 5 %", Decimal("12500.00")), ("IVA 19 %", Decimal("68400.00")))
    assert live.payable == Decimal("690900.00")
    assert ie.format_money(live.payable) == "$ 690.900,00"


# --- queue ----------------------------------------------------------------------------------


def test_save_draft_and_queue_for_sending(world: World) -> None:
    draft = ie.save_draft(world.queue, valid_entry(), TODAY)
    assert draft.state == iq.DRAFT and draft.doc_id.startswith("BORRADOR-")
    assert draft.state_label == "borrador"
    assert world.queue.ledger.get(draft.doc_id) is not None
    ready = ie.queue_for_sending(world.queue, valid_entry(), TODAY)
    assert (ready.doc_id, ready.state) == ("SETP990000000", iq.READY)


def test_invalid_entry_saves_nothing(world: World) -> None:
    entry = valid_entry()
    entry.lines = []
    with pytest.raises(ie.EntryInvalid):
        ie.save_draft(world.queue, entry, TODAY)
    assert world.queue.list() == []


async def test_acquirer_lookup_through_the_simulator(world: World) -> None:
    transport = httpx.ASGITransport(app=world.sim)
    async with open_company_session(
        world.store, world.settings, world.company, world.cert, transport=transport
    ) as session:
        found = await ie.lookup_acquirer(session, "31", BUYER_NIT)
        missing = await ie.lookup_acquirer(session, "31", "900123456")
    assert found.found and found.name == BUYER_NAME and found.email == BUYER_EMAIL
    assert not missing.found and "no devolvió un adquirente" in missing.message


async def test_acquirer_lookup_network_failure_is_a_message(world: World) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("conexión rechazada", request=request)

    async with open_company_session(
        world.store,
        world.settings,
        world.company,
        world.cert,
        transport=httpx.MockTransport(refuse),
    ) as session:
        result = await ie.lookup_acquirer(session, "31", BUYER_NIT)
    assert not result.found and result.message.startswith("No se pudo consultar la DIAN")
    assert "a mano" in result.message


async def test_credit_note_from_an_accepted_invoice(world: World) -> None:
    sent = ie.queue_for_sending(world.queue, valid_entry(), TODAY)
    with pytest.raises(InputError, match="solo se hace una nota de una factura aceptada"):
        ie.note_from_invoice(world.queue, sent.doc_id, "credit_note")
    await world.run()
    rec = world.queue.ledger.get(sent.doc_id)
    assert rec is not None and rec.state == iq.ACCEPTED, rec.message
    entry = ie.note_from_invoice(world.queue, sent.doc_id, "credit_note")
    assert entry.reference == ie.NoteReference(sent.doc_id, rec.cufe or "", rec.issue_date or "")
    assert entry.customer.name == BUYER_NAME and len(entry.lines) == 2
    assert entry.lines[1].unit_price == "180000" and entry.lines[1].tax == "01:19"
    today = date.fromisoformat(rec.issue_date or "")
    assert "note.concept" in ie.entry_errors(entry, today)
    entry.concept_code = "1"
    entry.lines = entry.lines[:1]
    entry.lines[0].quantity = "2"
    note = ie.queue_for_sending(world.queue, entry, today)
    assert note.doc_id == "NC1" and note.kind == "credit_note"
    note_rec = world.queue.ledger.get("NC1")
    assert note_rec is not None and note_rec.reference == sent.doc_id
    await world.run()
    assert world.queue.ledger.get("NC1").state == iq.ACCEPTED  # type: ignore[union-attr]
    with pytest.raises(InputError, match="no es una factura"):
        ie.note_from_invoice(world.queue, "NC1", "debit_note")


async def test_lookup_without_a_certificate_says_so(world: World) -> None:
    result = await ie.lookup_acquirer_for(
        world.store, world.settings, world.company, None, "31", BUYER_NIT
    )
    assert not result.found and "hace falta el certificado" in result.message


def test_debit_note_concepts_and_kind_checks(world: World) -> None:
    assert [o.code for o in ie.concept_options("debit_note")] == ["1", "2", "3", "4"]
    with pytest.raises(InputError, match="Tipo de nota desconocido"):
        ie.note_from_invoice(world.queue, "SETP990000000", "factura")
    with pytest.raises(InputError, match="No hay un documento"):
        ie.note_from_invoice(world.queue, "SETP990000000", "debit_note")


# --- document discounts, charges and withholdings ------------------------------------------


def with_adjustments() -> ie.InvoiceEntry:
    """610 000 of lines (IVA 5 % and 19 %: 80 900), a 2 % discount, a 15 000 charge, three
    withholdings (ReteFuente 2,5 % and ReteIVA 15 % on their default bases, ReteICA on a typed
    base)."""
    entry = valid_entry()
    entry.allowances_charges = [
        ie.AllowanceChargeEntry(False, ie.PERCENT, "2", "Pronto pago", "00"),
        ie.AllowanceChargeEntry(True, ie.AMOUNT, "15000", "Flete"),
    ]
    entry.withholdings = [
        ie.WithholdingEntry("06", "2,5"),
        ie.WithholdingEntry("05", "15"),
        ie.WithholdingEntry("07", "0,966", "100000"),
    ]
    return entry


def test_discounts_charges_and_withholdings_become_queue_data() -> None:
    entry = with_adjustments()
    assert ie.entry_errors(entry, TODAY) == {}
    doc = ie.to_document_data(entry, TODAY)["document"]
    assert doc["allowances_charges"] == [
        {"is_charge": False, "percent": "2", "reason": "Pronto pago", "reason_code": "00"},
        {"is_charge": True, "amount": "15000", "reason": "Flete"},
    ]
    assert doc["withholdings"] == [
        {"scheme": "06", "percent": "2.5"},
        {"scheme": "05", "percent": "15"},
        {"scheme": "07", "percent": "0.966", "taxable_amount": "100000"},
    ]
    assert [o.code for o in ie.discount_code_options()] == ["00", "01"]
    assert [o.label for o in ie.withholding_options()] == [
        "05 — ReteIVA",
        "06 — ReteFuente",
        "07 — ReteICA",
    ]


def test_live_totals_with_discounts_charges_and_withholdings() -> None:
    entry = with_adjustments()
    live = ie.entry_totals(entry, TODAY)
    # 690 900 (lines + IVA) − 2 % of 610 000 + 15 000 of freight.
    assert (live.allowance_total, live.charge_total) == (Decimal("12200.00"), Decimal("15000.00"))
    assert live.payable == Decimal("693700.00")
    assert [(a.index, a.label, a.base, a.amount) for a in live.allowances_charges] == [
        (0, "Descuento 2 %", Decimal("610000.00"), Decimal("12200.00")),
        (1, "Cargo", Decimal("610000.00"), Decimal("15000.00")),
    ]
    # Withholdings: ReteFuente on the subtotal, ReteIVA on the IVA, ReteICA on its own base.
    assert [(a.label, a.base, a.amount) for a in live.withholdings] == [
        ("ReteFuente 2,5 %", Decimal("610000.00"), Decimal("15250.00")),
        ("ReteIVA 15 %", Decimal("80900.00"), Decimal("12135.00")),
        ("ReteICA 0,966 %", Decimal("100000.00"), Decimal("966.00")),
    ]
    assert live.withholding_total == Decimal("28351.00")
    # … and they do not change the payable amount (DIAN: informative).
    entry.withholdings = []
    assert ie.entry_totals(entry, TODAY).payable == Decimal("693700.00")
    # Something invalid is left out of the totals and counted.
    entry.allowances_charges.append(ie.AllowanceChargeEntry(value="diez"))
    live = ie.entry_totals(entry, TODAY)
    assert live.payable == Decimal("693700.00") and live.skipped_adjustments == 1


@pytest.mark.parametrize(
    ("charge", "message"),
    [
        (ie.AllowanceChargeEntry(value="diez"), "el porcentaje del descuento debe ser un número"),
        (ie.AllowanceChargeEntry(value="150"), "no puede ser mayor que 100 (se recibió 150 %)"),
        (ie.AllowanceChargeEntry(value="-5"), "el porcentaje del descuento no puede ser menor"),
        (ie.AllowanceChargeEntry(value=""), "escriba el porcentaje del descuento"),
        (ie.AllowanceChargeEntry(value="0"), "el porcentaje del descuento debe ser mayor que 0"),
        (ie.AllowanceChargeEntry(True, ie.AMOUNT, "0"), "el valor del cargo debe ser mayor que 0"),
        (ie.AllowanceChargeEntry(True, ie.AMOUNT, ""), "escriba el valor del cargo"),
        (ie.AllowanceChargeEntry(True, ie.AMOUNT, "5mil"), "el valor del cargo debe ser un número"),
        (
            ie.AllowanceChargeEntry(True, ie.AMOUNT, "12,5555"),
            "admite como máximo 2 decimales",
        ),
    ],
)
def test_bad_discount_or_charge_in_spanish(charge: ie.AllowanceChargeEntry, message: str) -> None:
    errors = ie.allowance_charge_errors(charge)
    assert list(errors) == ["charge.value"] and message in errors["charge.value"], errors
    entry = valid_entry()
    entry.allowances_charges = [charge]
    assert message in ie.entry_errors(entry, TODAY)["charges.0.value"]


def test_discount_code_must_be_from_the_list_and_a_charge_has_none() -> None:
    errors = ie.allowance_charge_errors(ie.AllowanceChargeEntry(value="5", reason_code="07"))
    assert "CodigoDescuento" in errors["charge.reason_code"]
    charge = ie.AllowanceChargeEntry(True, ie.PERCENT, "5", reason_code="07")
    assert ie.allowance_charge_errors(charge) == {}
    entry = valid_entry()
    entry.allowances_charges = [charge]
    assert (
        "reason_code" not in ie.to_document_data(entry, TODAY)["document"]["allowances_charges"][0]
    )


def test_discounts_larger_than_the_total_are_refused() -> None:
    entry = valid_entry()
    entry.allowances_charges = [ie.AllowanceChargeEntry(False, ie.AMOUNT, "700000")]
    assert ie.allowance_charge_errors(entry.allowances_charges[0]) == {}
    assert "quedaría negativo (regla VLR01)" in ie.entry_errors(entry, TODAY)["charges"]


@pytest.mark.parametrize(
    ("withholding", "lines", "field", "message"),
    [
        (ie.WithholdingEntry("06", "x"), None, "percent", "el porcentaje de ReteFuente debe ser"),
        (ie.WithholdingEntry("06", "101"), None, "percent", "no puede ser mayor que 100"),
        (ie.WithholdingEntry("06", "-1"), None, "percent", "no puede ser menor que 0"),
        (ie.WithholdingEntry("06", ""), None, "percent", "escriba el porcentaje de ReteFuente"),
        (ie.WithholdingEntry("07", "1", "0"), None, "base", "la base de ReteICA debe ser mayor"),
        (ie.WithholdingEntry("07", "1", "mil"), None, "base", "la base de ReteICA debe ser un"),
        (ie.WithholdingEntry("08", "1"), None, "scheme", "elija la retención"),
        (
            ie.WithholdingEntry("05", "15"),
            [ie.LineEntry("Arroz", "1", "94", "5000", ie.EXCLUDED)],
            "base",
            "ReteIVA se calcula sobre el IVA y el documento no tiene IVA",
        ),
        (ie.WithholdingEntry("06", "2,5"), [], "base", "aún no hay líneas con valor"),
    ],
)
def test_bad_withholding_in_spanish(
    withholding: ie.WithholdingEntry,
    lines: list[ie.LineEntry] | None,
    field: str,
    message: str,
) -> None:
    lines = valid_entry().lines if lines is None else lines
    errors = ie.withholding_errors(withholding, lines, TODAY)
    assert list(errors) == [f"withholding.{field}"], errors
    assert message in errors[f"withholding.{field}"]
    if lines:
        entry = valid_entry()
        entry.lines = lines
        entry.withholdings = [withholding]
        assert message in ie.entry_errors(entry, TODAY)[f"withholdings.0.{field}"]


def test_a_typed_base_makes_rete_iva_possible_without_iva() -> None:
    lines = [ie.LineEntry("Arroz", "1", "94", "5000", ie.EXCLUDED)]
    assert ie.withholding_errors(ie.WithholdingEntry("05", "15", "1000"), lines, TODAY) == {}


def test_drafts_keep_discounts_charges_and_withholdings(world: World) -> None:
    entry = with_adjustments()
    draft = ie.save_draft(world.queue, entry, TODAY)
    again = ie.draft_entry(world.queue, draft.doc_id, TODAY)
    assert again.allowances_charges == [
        ie.AllowanceChargeEntry(False, ie.PERCENT, "2", "Pronto pago", "00"),
        ie.AllowanceChargeEntry(True, ie.AMOUNT, "15000", "Flete", ie.DEFAULT_DISCOUNT_CODE),
    ]
    assert again.withholdings == [
        ie.WithholdingEntry("06", "2.5"),
        ie.WithholdingEntry("05", "15"),
        ie.WithholdingEntry("07", "0.966", "100000"),
    ]
    assert ie.entry_totals(again, TODAY) == ie.entry_totals(entry, TODAY)
    again.withholdings = again.withholdings[:1]
    again.allowances_charges[0].value = "3"
    ie.update_draft(world.queue, draft.doc_id, again, TODAY)
    third = ie.draft_entry(world.queue, draft.doc_id, TODAY)
    assert third.allowances_charges[0].value == "3" and len(third.withholdings) == 1


async def test_discounts_charges_and_withholdings_reach_the_signed_xml(world: World) -> None:
    from lxml import etree

    from fe_tui import ns
    from fe_tui.checks import Status, preflight
    from fe_tui.services.evidence import document_detail

    sent = ie.queue_for_sending(world.queue, with_adjustments(), TODAY)
    await world.run()
    rec = world.queue.ledger.get(sent.doc_id)
    assert rec is not None and rec.state == iq.ACCEPTED, rec.message
    xml = document_detail(world.queue, sent.doc_id).xml
    assert xml is not None
    root = etree.fromstring(xml)

    def texts(path: str) -> list[str]:
        return [str(t) for t in root.xpath(path, namespaces=ns.XPATH)]

    charges = root.xpath("cac:AllowanceCharge", namespaces=ns.XPATH)
    assert [
        (
            c.findtext(f"{{{ns.CBC}}}ChargeIndicator"),
            c.findtext(f"{{{ns.CBC}}}AllowanceChargeReasonCode"),
            c.findtext(f"{{{ns.CBC}}}AllowanceChargeReason"),
            c.findtext(f"{{{ns.CBC}}}Amount"),
            c.findtext(f"{{{ns.CBC}}}BaseAmount"),
        )
        for c in charges
    ] == [
        ("false", "00", "Pronto pago", "12200.00", "610000.00"),
        ("true", None, "Flete", "15000.00", "610000.00"),
    ]
    held = "cac:WithholdingTaxTotal"
    assert texts(f"{held}/cac:TaxSubtotal/cac:TaxCategory/cac:TaxScheme/cbc:ID/text()") == [
        "05",
        "06",
        "07",
    ]
    assert texts(f"{held}/cbc:TaxAmount/text()") == ["12135.00", "15250.00", "966.00"]
    assert texts(f"{held}/cac:TaxSubtotal/cbc:TaxableAmount/text()") == [
        "80900.00",
        "610000.00",
        "100000.00",
    ]
    total = "cac:LegalMonetaryTotal/cbc:"
    assert texts(f"{total}AllowanceTotalAmount/text()") == ["12200.00"]
    assert texts(f"{total}ChargeTotalAmount/text()") == ["15000.00"]
    assert texts(f"{total}PayableAmount/text()") == ["693700.00"]  # withholdings not subtracted
    report = preflight(xml)
    assert report.ok, [f.to_dict() for f in report.rechazos]
    for code in ("FAU02", "FAU04", "FAU06", "FAU14"):
        assert {f.status for f in report.findings if f.code == code} == {Status.PASSED}, code


async def test_a_note_copies_document_discounts_but_takes_no_withholdings(world: World) -> None:
    sent = ie.queue_for_sending(world.queue, with_adjustments(), TODAY)
    await world.run()
    rec = world.queue.ledger.get(sent.doc_id)
    assert rec is not None and rec.state == iq.ACCEPTED, rec.message
    note = ie.note_from_invoice(world.queue, sent.doc_id, "credit_note")
    assert [(a.is_charge, a.value) for a in note.allowances_charges] == [
        (False, "2"),
        (True, "15000"),
    ]
    assert note.withholdings == []
    note.concept_code = "2"
    note.withholdings = [ie.WithholdingEntry("06", "2,5")]
    today = date.fromisoformat(rec.issue_date or "")
    assert "solo se informan en facturas" in ie.entry_errors(note, today)["withholdings"]
