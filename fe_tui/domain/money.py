"""Colombian display of money: ``Decimal("944000")`` → ``$ 944.000,00``.

One formatter for every screen (panes, detail view, invoice form, modals) and
the CLI: thousands with ``.``, decimals with ``,``, two decimals rounded half up
(as DIAN's amounts are), the peso sign and a space in front, the minus before
the sign. ``Decimal`` (or ``int``) in: a ``float`` is refused, money is never a
binary fraction here (DESIGN.md, invariant 7).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = ["format_money", "format_money_text"]

_CENT = Decimal("0.01")


def format_money(value: Decimal | int, *, symbol: bool = True) -> str:
    """``$ 1.234.567,89`` (``-$ 1.234,50`` when negative; no ``$ `` with ``symbol=False``)."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"format_money needs a Decimal, not {type(value).__name__}")
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value}")
    rounded = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    text = f"{abs(rounded):,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return f"{sign}$ {text}" if symbol else f"{sign}{text}"


def format_money_text(text: str, *, symbol: bool = True) -> str:
    """An amount read from a document (``"944000.00"``), formatted; other text unchanged."""
    try:
        return format_money(Decimal(text.strip()), symbol=symbol)
    except (InvalidOperation, ValueError):
        return text
