"""Percentage tax rates with their validity dates (package data ``data/tax_rates.json``).

Rates change by law and date (SPEC §15.5: ICUI 10 % in 2023, 15 % in 2024,
20 % from 2025; IVA 16 % until 2016). They are data, not constants: a line's
rate is checked against the table on the document's issue date. A tributo
that is not in the table accepts any percentage (ICA varies by municipality).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class TaxRate:
    """One rate of one tributo, valid from ``valid_from`` to ``valid_to`` (inclusive)."""

    scheme: str
    percent: Decimal
    valid_from: date
    valid_to: date | None
    label: str
    source: str

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@cache
def table() -> tuple[TaxRate, ...]:
    """Every rate in the package's table."""
    raw = json.loads((resources.files("fe_tui") / "data" / "tax_rates.json").read_text("utf-8"))
    return tuple(
        TaxRate(
            scheme=r["scheme"],
            percent=Decimal(r["percent"]),
            valid_from=date.fromisoformat(r["valid_from"]),
            valid_to=date.fromisoformat(r["valid_to"]) if r["valid_to"] else None,
            label=r["label"],
            source=r["source"],
        )
        for r in raw["rates"]
    )


def regulated(scheme: str) -> bool:
    """True when the tributo's percentages are fixed by law (listed in the table)."""
    return any(r.scheme == scheme for r in table())


def rates_on(scheme: str, day: date) -> list[TaxRate]:
    """The rates of ``scheme`` in force on ``day``."""
    return [r for r in table() if r.scheme == scheme and r.valid_on(day)]


def describe(rates: list[TaxRate]) -> str:
    """``"0 (exento), 5 o 19"``: the rates as a Spanish list."""
    parts = [
        f"{r.percent.normalize():f}" + (" (exento)" if r.label == "exento" else "")
        for r in sorted(rates, key=lambda r: r.percent)
    ]
    if len(parts) <= 1:
        return "".join(parts) or "ninguna"
    return ", ".join(parts[:-1]) + " o " + parts[-1]
