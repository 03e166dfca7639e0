"""Line, tax and monetary totals of a document, in exact ``Decimal`` arithmetic.

Rules (``dian/SPEC.md`` §2.6, §2.8, §11):

* Per line: ``gross = round2(quantity × unit_price / base_quantity)``; each
  allowance/charge is rounded to 2 decimals; ``line_extension = gross −
  allowances + charges`` (0 on free-of-charge lines). The taxable base of
  every tax of the line is the line extension (on free lines: the reference
  value, ``round2(reference_price × quantity)``) and
  ``tax_amount = round2(taxable × percent / 100)``.
* Header taxes: one :class:`TaxTotal` per tributo, ordered by code; one
  :class:`TaxSubtotal` per rate; every header figure is the sum of the
  *rounded* line figures, so the header always equals what the lines say
  (FAS, FAU02/FAU04/FAU06).
* Monetary totals: see :func:`compute`.

Rounding: ``ROUND_HALF_UP`` to 2 decimals, the rule people apply by hand and
the one most peers use. SPEC §11 leaves half-up vs half-even UNCONFIRMED and
DIAN's ±2.00 tolerance accepts either; what matters is that each amount is
rounded once and sums are made of rounded values.

This module must not import :mod:`fe_tui.domain.models` at run time (the
models import :func:`round2` and :func:`line_totals` from here); it reads the
models by attribute only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from fe_tui.domain import codelists

if TYPE_CHECKING:
    from fe_tui.domain.models import AllowanceCharge, DocumentBase, Line

__all__ = [
    "ROUNDING",
    "AllowanceChargeAmount",
    "DocumentTotals",
    "LineTaxAmount",
    "LineTotals",
    "TaxSubtotal",
    "TaxTotal",
    "compute",
    "format_amount",
    "format_percent",
    "format_quantity",
    "line_totals",
    "round2",
]

#: Rounding mode of every monetary amount (see the module docstring).
ROUNDING = ROUND_HALF_UP

_CENT = Decimal("0.01")
_MIL = Decimal("0.001")
_MICRO = Decimal("0.000001")
_ZERO = Decimal("0.00")
_HUNDRED = Decimal(100)


def round2(value: Decimal) -> Decimal:
    """Round ``value`` to 2 decimals, half up (``Decimal("2.005")`` → ``2.01``)."""
    return value.quantize(_CENT, rounding=ROUNDING)


def _percent_of(base: Decimal, percent: Decimal) -> Decimal:
    return round2(base * percent / _HUNDRED)


def _total(values: Iterable[Decimal]) -> Decimal:
    return sum(values, _ZERO)


# --- Results -----------------------------------------------------------------------


@dataclass(frozen=True)
class AllowanceChargeAmount:
    """One line- or document-level allowance (discount) or charge, computed.

    ``base_amount`` is the amount the percentage applies to (line gross for
    line-level entries, Σ line extensions for document-level ones); ``percent``
    is the given percentage, or ``None`` when a fixed amount was given.
    """

    is_charge: bool
    amount: Decimal
    base_amount: Decimal
    percent: Decimal | None
    reason: str
    reason_code: str | None


@dataclass(frozen=True)
class LineTaxAmount:
    """One tax of one line: the line's ``cac:TaxTotal/cac:TaxSubtotal``."""

    scheme: str
    name: str
    percent: Decimal
    taxable_amount: Decimal
    tax_amount: Decimal

    @property
    def exempt(self) -> bool:
        """IVA at 0 % (exento): still reported, with Percent 0.00."""
        return self.scheme == "01" and self.percent == 0


@dataclass(frozen=True)
class LineTotals:
    """Computed figures of one line (``number`` is its 1-based ``cbc:ID``)."""

    number: int
    gross_amount: Decimal
    allowances_charges: tuple[AllowanceChargeAmount, ...]
    allowance_total: Decimal
    charge_total: Decimal
    line_extension: Decimal
    #: Base of the line's taxes (reference value on free lines).
    taxable_amount: Decimal
    taxes: tuple[LineTaxAmount, ...]

    @property
    def tax_total(self) -> Decimal:
        """Σ of the line's tax amounts."""
        return _total(t.tax_amount for t in self.taxes)

    def tax_amount_for(self, scheme: str) -> Decimal:
        """Tax amount of tributo ``scheme`` on this line (``0.00`` when absent)."""
        return _total(t.tax_amount for t in self.taxes if t.scheme == scheme)


@dataclass(frozen=True)
class TaxSubtotal:
    """Header ``cac:TaxSubtotal``: one rate of one tributo."""

    taxable_amount: Decimal
    tax_amount: Decimal
    percent: Decimal


@dataclass(frozen=True)
class TaxTotal:
    """Header ``cac:TaxTotal`` (or ``cac:WithholdingTaxTotal``) of one tributo."""

    scheme: str
    name: str
    tax_amount: Decimal
    subtotals: tuple[TaxSubtotal, ...]


@dataclass(frozen=True)
class DocumentTotals:
    """Everything the UBL builder writes as amounts, already rounded.

    Monetary fields map to ``LegalMonetaryTotal`` (``RequestedMonetaryTotal``
    in debit notes): ``line_extension`` → LineExtensionAmount,
    ``tax_exclusive`` → TaxExclusiveAmount, ``tax_inclusive`` →
    TaxInclusiveAmount, ``allowance_total`` / ``charge_total`` →
    AllowanceTotalAmount / ChargeTotalAmount, ``prepaid`` → PrepaidAmount,
    ``payable`` → PayableAmount.
    """

    lines: tuple[LineTotals, ...]
    tax_totals: tuple[TaxTotal, ...]
    withholding_totals: tuple[TaxTotal, ...]
    allowances_charges: tuple[AllowanceChargeAmount, ...]
    line_extension: Decimal
    tax_exclusive: Decimal
    tax_inclusive: Decimal
    allowance_total: Decimal
    charge_total: Decimal
    prepaid: Decimal
    payable: Decimal

    def tax_amount_for(self, scheme: str) -> Decimal:
        """Header tax amount of tributo ``scheme`` (``0.00`` when absent; CUFE ValImp)."""
        return _total(t.tax_amount for t in self.tax_totals if t.scheme == scheme)

    def withholding_amount_for(self, scheme: str) -> Decimal:
        """Withheld amount of ``scheme`` (05/06/07), ``0.00`` when absent."""
        return _total(t.tax_amount for t in self.withholding_totals if t.scheme == scheme)

    @property
    def tax_total(self) -> Decimal:
        """Σ of every header tax amount."""
        return _total(t.tax_amount for t in self.tax_totals)


# --- Computation -------------------------------------------------------------------


def _tax_name(scheme: str) -> str:
    return codelists.tipo_impuesto().name_of(scheme) or scheme


def allowance_charge_amount(entry: AllowanceCharge, base: Decimal) -> AllowanceChargeAmount:
    """Compute one allowance/charge against ``base`` (fixed amount or percentage)."""
    if entry.amount is not None:
        amount = round2(entry.amount)
    else:
        amount = _percent_of(base, entry.percent or _ZERO)
    return AllowanceChargeAmount(
        is_charge=entry.is_charge,
        amount=amount,
        base_amount=round2(base),
        percent=entry.percent,
        reason=entry.reason_text,
        reason_code=entry.reason_code,
    )


def line_totals(line: Line, number: int = 1) -> LineTotals:
    """Compute one line. ``number`` is only copied into the result."""
    if line.free_of_charge:
        gross = _ZERO
    else:
        gross = round2(line.quantity * line.unit_price / line.base_quantity)
    entries = tuple(allowance_charge_amount(ac, gross) for ac in line.allowances_charges)
    allowances = _total(e.amount for e in entries if not e.is_charge)
    charges = _total(e.amount for e in entries if e.is_charge)
    extension = _ZERO if line.free_of_charge else gross - allowances + charges
    if line.free_of_charge:
        taxable = round2((line.reference_price or _ZERO) * line.quantity)
    else:
        taxable = extension
    taxes = tuple(
        LineTaxAmount(
            scheme=tax.scheme,
            name=_tax_name(tax.scheme),
            percent=tax.percent,
            taxable_amount=taxable,
            tax_amount=_percent_of(taxable, tax.percent),
        )
        for tax in ([] if line.excluded else line.taxes)
    )
    return LineTotals(
        number=number,
        gross_amount=gross,
        allowances_charges=entries,
        allowance_total=allowances,
        charge_total=charges,
        line_extension=extension,
        taxable_amount=taxable,
        taxes=taxes,
    )


def _group(scheme_rows: Iterable[tuple[str, Decimal, Decimal, Decimal]]) -> tuple[TaxTotal, ...]:
    """Group ``(scheme, percent, taxable, amount)`` rows into TaxTotals."""
    grouped: dict[str, dict[Decimal, tuple[Decimal, Decimal]]] = {}
    for scheme, percent, taxable, amount in scheme_rows:
        by_rate = grouped.setdefault(scheme, {})
        # Decimal("19") == Decimal("19.00"): equal rates share one subtotal.
        old_taxable, old_amount = by_rate.get(percent, (_ZERO, _ZERO))
        by_rate[percent] = (old_taxable + taxable, old_amount + amount)
    result = []
    for scheme in sorted(grouped):
        subtotals = tuple(
            TaxSubtotal(taxable_amount=taxable, tax_amount=amount, percent=percent)
            for percent, (taxable, amount) in sorted(grouped[scheme].items())
        )
        result.append(
            TaxTotal(
                scheme=scheme,
                name=_tax_name(scheme),
                tax_amount=_total(s.tax_amount for s in subtotals),
                subtotals=subtotals,
            )
        )
    return tuple(result)


def compute(doc: DocumentBase) -> DocumentTotals:
    """Compute every amount of ``doc`` (an Invoice, CreditNote or DebitNote).

    * ``line_extension`` = Σ line extensions (FAU02).
    * ``tax_exclusive`` = Σ taxable bases of the lines with at least one tax;
      a line taxed by IVA and INC counts its base once; excluded lines and
      lines without taxes count nothing (FAU04).
    * ``tax_inclusive`` = ``line_extension`` + Σ header tax amounts (FAU06).
    * ``allowance_total`` / ``charge_total``: document-level entries only;
      percentages apply to ``line_extension``.
    * ``payable`` = ``tax_inclusive − allowance_total + charge_total`` (FAU14).
      ``prepaid`` is reported but **not** subtracted: SPEC §2.8 (ODOO says so
      explicitly; the annex formula is UNCONFIRMED, test in habilitación).
    * Withholdings (05/06/07) are informative and never enter ``payable``.
    """
    lines = tuple(line_totals(line, number) for number, line in enumerate(doc.lines, start=1))
    tax_totals = _group(
        (tax.scheme, tax.percent, tax.taxable_amount, tax.tax_amount)
        for line in lines
        for tax in line.taxes
    )
    line_extension = _total(line.line_extension for line in lines)
    tax_exclusive = _total(line.taxable_amount for line in lines if line.taxes)
    tax_sum = _total(t.tax_amount for t in tax_totals)
    tax_inclusive = line_extension + tax_sum

    doc_entries = tuple(
        allowance_charge_amount(ac, line_extension) for ac in doc.allowances_charges
    )
    allowance_total = _total(e.amount for e in doc_entries if not e.is_charge)
    charge_total = _total(e.amount for e in doc_entries if e.is_charge)

    iva_total = _total(t.tax_amount for t in tax_totals if t.scheme == "01")
    withholding_rows = []
    for wh in doc.withholdings:
        if wh.taxable_amount is not None:
            base = round2(wh.taxable_amount)
        elif wh.scheme == "05":
            # ReteIVA is a share of the IVA: its base is the IVA amount (SPEC §11).
            base = iva_total
        else:
            base = line_extension
        withholding_rows.append((wh.scheme, wh.percent, base, _percent_of(base, wh.percent)))

    return DocumentTotals(
        lines=lines,
        tax_totals=tax_totals,
        withholding_totals=_group(withholding_rows),
        allowances_charges=doc_entries,
        line_extension=line_extension,
        tax_exclusive=tax_exclusive,
        tax_inclusive=tax_inclusive,
        allowance_total=allowance_total,
        charge_total=charge_total,
        prepaid=round2(doc.prepaid_amount),
        payable=tax_inclusive - allowance_total + charge_total,
    )


# --- Formatting for the XML ----------------------------------------------------------


def _plain(value: Decimal, places: int) -> str:
    text = f"{value:.{places}f}"
    # Never write "-0.00".
    return text[1:] if text.startswith("-") and value == 0 else text


def format_amount(value: Decimal) -> str:
    """Monetary amount for the XML: 2 decimals, ``.`` separator, no exponent."""
    return _plain(round2(value), 2)


def format_percent(value: Decimal) -> str:
    """Tax percent: ``"19.00"``; 3 decimals only when the rate truly has 3 (``"0.966"``).

    SPEC §11: ``"19.000"`` triggers FAS01b, so 19.000 is written ``"19.00"``.
    """
    two = value.quantize(_CENT, rounding=ROUNDING)
    if two == value:
        return _plain(two, 2)
    return _plain(value.quantize(_MIL, rounding=ROUNDING), 3)


def format_quantity(value: Decimal) -> str:
    """Quantity: at least 2 and at most 6 decimals (SPEC §11: "up to 6").

    ``1`` → ``"1.00"``, ``2.5`` → ``"2.50"``, ``0.125`` → ``"0.125"``,
    ``1.2345678`` → ``"1.234568"``. Trailing zeros beyond the second decimal
    are dropped so the text stays readable and round-trips exactly.
    """
    six = value.quantize(_MICRO, rounding=ROUNDING)
    text = _plain(six, 6).rstrip("0")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"
