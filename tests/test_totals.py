"""Tests of fe_tui.domain.totals: line, tax and monetary totals, rounding, formatting."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fe_tui.domain.models import Customer, Invoice, Line
from fe_tui.domain.totals import (
    DocumentTotals,
    compute,
    format_amount,
    format_percent,
    format_quantity,
    line_totals,
    round2,
)

D = Decimal


def make_invoice(lines: list[dict[str, Any]], **extra: Any) -> Invoice:
    data: dict[str, Any] = {
        "kind": "invoice",
        "prefix": "SETP",
        "number": 990000010,
        "issue_at": "2026-11-20T10:15:00-05:00",
        "customer": Customer.final_consumer(),
        "lines": lines,
    }
    data.update(extra)
    return Invoice.model_validate(data)


def line(qty: str, price: str, *taxes: tuple[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "description": "Artículo",
        "quantity": qty,
        "unit_price": price,
        "taxes": [{"scheme": s, "percent": p} for s, p in taxes],
        **extra,
    }


MIXED_LINES = [
    # 1) IVA 19 with a 5 % line discount: 3 × 10 000 = 30 000; −1 500 = 28 500; IVA 5 415.
    line(
        "3",
        "10000.00",
        ("01", "19"),
        allowances_charges=[{"percent": "5", "reason": "Pronto pago", "reason_code": "00"}],
    ),
    # 2) IVA 5: 2.5 × 3 333.33 = 8 333.325 → 8 333.33 (half up); IVA 416.6665 → 416.67.
    line("2.5", "3333.33", ("01", "5")),
    # 3) Exento (IVA 0): 50 000, tax 0.00 but reported.
    line("1", "50000", ("01", "0")),
    # 4) Excluido: 4 × 2 500 = 10 000, no tax group at all.
    line("4", "2500", excluded=True),
    # 5) INC 8: 2 × 45 000 = 90 000; INC 7 200.
    line("2", "45000", ("04", "8")),
]


class TestMixedInvoice:
    @pytest.fixture
    def totals(self) -> DocumentTotals:
        doc = make_invoice(
            MIXED_LINES,
            allowances_charges=[{"is_charge": True, "amount": "10000", "reason": "Flete"}],
        )
        return compute(doc)

    def test_lines(self, totals: DocumentTotals) -> None:
        first = totals.lines[0]
        assert first.number == 1
        assert first.gross_amount == D("30000.00")
        assert first.allowance_total == D("1500.00")
        assert first.allowances_charges[0].base_amount == D("30000.00")
        assert first.allowances_charges[0].percent == D("5")
        assert first.allowances_charges[0].reason == "Pronto pago"
        assert first.line_extension == D("28500.00")
        assert first.taxes[0].tax_amount == D("5415.00")
        assert first.tax_amount_for("01") == D("5415.00")
        second = totals.lines[1]
        assert second.line_extension == D("8333.33")
        assert second.taxes[0].tax_amount == D("416.67")
        exempt = totals.lines[2]
        assert exempt.taxes[0].exempt and exempt.taxes[0].tax_amount == D("0.00")
        excluded = totals.lines[3]
        assert excluded.line_extension == D("10000.00") and excluded.taxes == ()
        assert totals.lines[4].taxes[0].name == "INC"
        assert [t.number for t in totals.lines] == [1, 2, 3, 4, 5]

    def test_tax_totals(self, totals: DocumentTotals) -> None:
        assert [t.scheme for t in totals.tax_totals] == ["01", "04"]
        iva, inc = totals.tax_totals
        assert iva.name == "IVA"
        assert iva.tax_amount == D("5831.67")
        assert [(s.percent, s.taxable_amount, s.tax_amount) for s in iva.subtotals] == [
            (D("0"), D("50000.00"), D("0.00")),
            (D("5"), D("8333.33"), D("416.67")),
            (D("19"), D("28500.00"), D("5415.00")),
        ]
        assert inc.tax_amount == D("7200.00")
        assert [(s.taxable_amount, s.tax_amount) for s in inc.subtotals] == [
            (D("90000.00"), D("7200.00"))
        ]
        assert totals.tax_amount_for("01") == D("5831.67")
        assert totals.tax_amount_for("03") == D("0.00")
        assert totals.tax_total == D("13031.67")

    def test_monetary(self, totals: DocumentTotals) -> None:
        assert totals.line_extension == D("186833.33")
        assert totals.tax_exclusive == D("176833.33")  # excluded line left out
        assert totals.tax_inclusive == D("199865.00")
        assert totals.allowance_total == D("0.00")
        assert totals.charge_total == D("10000.00")
        assert totals.prepaid == D("0.00")
        assert totals.payable == D("209865.00")
        assert totals.allowances_charges[0].reason == "Flete"
        assert totals.withholding_totals == ()


def test_iva_and_inc_on_one_line_count_base_once() -> None:
    doc = make_invoice([line("1", "1000", ("01", "19"), ("04", "8"))])
    totals = compute(doc)
    assert totals.tax_exclusive == D("1000.00")
    assert totals.tax_amount_for("01") == D("190.00")
    assert totals.tax_amount_for("04") == D("80.00")
    assert totals.tax_inclusive == D("1270.00")


def test_document_discount_percent_and_prepaid_not_subtracted() -> None:
    doc = make_invoice(
        [line("1", "1000", ("01", "19")), line("1", "333.33", ("01", "19"))],
        allowances_charges=[{"percent": "10", "reason_code": "01"}],
        prepaid_amount="500",
    )
    totals = compute(doc)
    assert totals.line_extension == D("1333.33")
    assert totals.allowances_charges[0].base_amount == D("1333.33")
    assert totals.allowance_total == D("133.33")  # 133.333 → 133.33
    # Per-line rounding: 190.00 + 63.3327 → 63.33.
    assert totals.tax_amount_for("01") == D("253.33")
    assert totals.tax_inclusive == D("1586.66")
    assert totals.prepaid == D("500.00")
    # SPEC §2.8: prepaid is reported but not subtracted from PayableAmount.
    assert totals.payable == D("1453.33")


def test_base_quantity_and_line_charge() -> None:
    # 12 units priced 1 000 per dozen… base_quantity 12 → gross 1 000.
    doc = make_invoice(
        [
            line(
                "12",
                "1000",
                ("01", "19"),
                base_quantity="12",
                allowances_charges=[{"is_charge": True, "amount": "50"}],
            )
        ]
    )
    first = compute(doc).lines[0]
    assert first.gross_amount == D("1000.00")
    assert first.charge_total == D("50.00")
    assert first.line_extension == D("1050.00")
    assert first.taxes[0].tax_amount == D("199.50")


def test_free_of_charge_line() -> None:
    doc = make_invoice(
        [
            line("2", "0", ("01", "19"), free_of_charge=True, reference_price="15000"),
            line("1", "1000", ("01", "19")),
        ]
    )
    totals = compute(doc)
    sample = totals.lines[0]
    assert sample.line_extension == D("0.00")
    assert sample.taxable_amount == D("30000.00")
    assert sample.taxes[0].tax_amount == D("5700.00")
    assert totals.line_extension == D("1000.00")
    assert totals.tax_exclusive == D("31000.00")
    assert totals.tax_inclusive == D("6890.00")
    assert totals.payable == D("6890.00")


def test_withholdings_outside_payable() -> None:
    doc = make_invoice(
        [line("1", "100000", ("01", "19"))],
        withholdings=[
            {"scheme": "05", "percent": "15"},
            {"scheme": "06", "percent": "2.5"},
            {"scheme": "07", "percent": "0.966", "taxable_amount": "50000"},
        ],
    )
    totals = compute(doc)
    assert [w.scheme for w in totals.withholding_totals] == ["05", "06", "07"]
    assert totals.withholding_amount_for("05") == D("2850.00")  # 15 % of IVA 19 000
    assert totals.withholding_totals[0].subtotals[0].taxable_amount == D("19000.00")
    assert totals.withholding_totals[0].name == "ReteIVA"
    assert totals.withholding_amount_for("06") == D("2500.00")
    assert totals.withholding_amount_for("07") == D("483.00")
    assert totals.payable == D("119000.00")


def test_line_totals_direct() -> None:
    model = Line(description="x", quantity=D("0.333"), unit_price=D("10.00"))
    result = line_totals(model, 7)
    assert result.number == 7
    assert result.gross_amount == D("3.33")
    assert result.taxes == () and result.tax_total == D("0.00")


def test_round_half_up() -> None:
    assert round2(D("2.005")) == D("2.01")
    assert round2(D("2.015")) == D("2.02")
    assert round2(D("2.0049")) == D("2.00")
    assert round2(D("-2.005")) == D("-2.01")
    assert round2(D("7")) == D("7.00")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("19", "19.00"),
        ("19.000", "19.00"),
        ("5", "5.00"),
        ("0", "0.00"),
        ("0.966", "0.966"),
        ("4.140", "4.14"),
        ("1E+1", "10.00"),
    ],
)
def test_format_percent(value: str, text: str) -> None:
    assert format_percent(D(value)) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("1500000", "1500000.00"),
        ("1E+6", "1000000.00"),
        ("0.005", "0.01"),
        ("-0.001", "0.00"),
        ("12.3", "12.30"),
    ],
)
def test_format_amount(value: str, text: str) -> None:
    assert format_amount(D(value)) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("1", "1.00"),
        ("2.5", "2.50"),
        ("0.125", "0.125"),
        ("1.2345678", "1.234568"),
        ("1E+2", "100.00"),
        ("3.000000", "3.00"),
    ],
)
def test_format_quantity(value: str, text: str) -> None:
    assert format_quantity(D(value)) == text


# --- Property: the identities DIAN checks always hold --------------------------------------

_TAX_CHOICES = [
    [],
    [("01", "0")],
    [("01", "5")],
    [("01", "19")],
    [("04", "8")],
    [("04", "16")],
    [("01", "19"), ("04", "8")],
    [("03", "0.966")],
]


@st.composite
def _lines(draw: st.DrawFn) -> dict[str, Any]:
    quantity = D(draw(st.integers(1, 10**7))).scaleb(-draw(st.integers(0, 6)))
    price = D(draw(st.integers(0, 10**9))).scaleb(-2)
    taxes = draw(st.sampled_from(_TAX_CHOICES))
    excluded = not taxes and draw(st.booleans())
    allowances = draw(
        st.lists(
            st.builds(
                lambda is_charge, pct: {"is_charge": is_charge, "percent": str(pct)},
                st.booleans(),
                st.integers(0, 100),
            ),
            max_size=2,
        )
    )
    base_quantity = draw(st.sampled_from(["1", "1", "12", "0.5"]))
    # Line discounts are percentages ≤ 100 % each; keep their sum ≤ 100 %, and keep the
    # sum of the rounded discount amounts within the line's value: two 50 % discounts of
    # a 0.05 line round to 0.03 each, a negative line the model refuses (VLR01) by design.
    gross = round2(quantity * price / D(base_quantity))
    discounts = [int(a["percent"]) for a in allowances if not a["is_charge"]]
    rounded = sum((round2(gross * p / 100) for p in discounts), D(0))
    if sum(discounts) > 100 or rounded > gross:
        allowances = [a for a in allowances if a["is_charge"]]
    return line(
        str(quantity),
        str(price),
        *taxes,
        excluded=excluded,
        base_quantity=base_quantity,
        allowances_charges=allowances,
    )


@settings(max_examples=150, deadline=None)
@given(
    st.lists(_lines(), min_size=1, max_size=6),
    st.lists(st.integers(0, 100), max_size=2),
    st.lists(st.integers(0, 10**8), max_size=2),
    st.integers(0, 10**6),
)
def test_totals_identities(
    lines: list[dict[str, Any]],
    discount_percents: list[int],
    charge_cents: list[int],
    prepaid: int,
) -> None:
    entries: list[dict[str, Any]] = [{"percent": str(p)} for p in discount_percents[:1]]
    entries += [{"is_charge": True, "amount": str(D(c).scaleb(-2))} for c in charge_cents]
    doc = make_invoice(lines, allowances_charges=entries, prepaid_amount=str(prepaid))
    t = compute(doc)

    cent = D("0.01")
    amounts = [t.line_extension, t.tax_exclusive, t.tax_inclusive, t.allowance_total]
    amounts += [t.charge_total, t.prepaid, t.payable]
    for amount in amounts:
        assert amount == amount.quantize(cent) and amount >= 0

    assert t.line_extension == sum((x.line_extension for x in t.lines), D(0))
    assert t.tax_inclusive == t.line_extension + sum((x.tax_amount for x in t.tax_totals), D(0))
    assert t.payable == t.tax_inclusive - t.allowance_total + t.charge_total
    assert t.tax_exclusive == sum((x.taxable_amount for x in t.lines if x.taxes), D(0))
    assert t.tax_exclusive <= t.line_extension
    for total in t.tax_totals:
        assert total.tax_amount == sum((s.tax_amount for s in total.subtotals), D(0))
        line_sum = sum((x.tax_amount_for(total.scheme) for x in t.lines), D(0))
        assert total.tax_amount == line_sum
        assert len({s.percent for s in total.subtotals}) == len(total.subtotals)
    subtotal_sum = sum((s.tax_amount for x in t.tax_totals for s in x.subtotals), D(0))
    assert subtotal_sum == sum((x.tax_total for x in t.lines), D(0))
    assert [x.scheme for x in t.tax_totals] == sorted(x.scheme for x in t.tax_totals)
    for result, model in zip(t.lines, doc.lines, strict=True):
        if model.excluded:
            assert result.taxes == ()
        assert result.line_extension == (
            result.gross_amount - result.allowance_total + result.charge_total
        )
