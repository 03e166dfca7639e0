"""The one Colombian money formatter (fe_tui.domain.money) and where it shows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fe_tui.domain.money import format_money, format_money_text


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("944000"), "$ 944.000,00"),
        (Decimal("64260"), "$ 64.260,00"),
        (Decimal("1018060.5"), "$ 1.018.060,50"),
        (Decimal("0"), "$ 0,00"),
        (Decimal("0.005"), "$ 0,01"),  # half up, as DIAN rounds
        (Decimal("999.994"), "$ 999,99"),
        (Decimal("-1234.5"), "-$ 1.234,50"),
        (12, "$ 12,00"),
    ],
)
def test_colombian_format(value: Decimal, shown: str) -> None:
    assert format_money(value) == shown


def test_without_the_sign_and_from_document_text() -> None:
    assert format_money(Decimal("944000"), symbol=False) == "944.000,00"
    assert format_money_text("944000.00") == "$ 944.000,00"
    assert format_money_text("n/d") == "n/d"


@pytest.mark.parametrize("bad", [1.5, "10", True])
def test_floats_and_text_are_refused(bad: object) -> None:
    with pytest.raises(TypeError):
        format_money(bad)  # type: ignore[arg-type]


def test_the_form_and_the_detail_view_share_it() -> None:
    from fe_tui.services import invoice_entry

    assert invoice_entry.format_money is format_money
