"""Invoice data entry: what an agent types, checked field by field, turned into queue input.

The console's invoice form (:mod:`fe_tui.tui.invoice_form`) keeps the text
the agent typed in the plain dataclasses below (:class:`InvoiceEntry`,
:class:`CustomerEntry`, :class:`LineEntry`) and asks this module, which knows
nothing of Textual:

- for **field-level Spanish messages** while typing (:func:`check_nit`,
  :func:`line_errors`, :func:`entry_errors`), keyed by field names the form
  uses as widget ids (``customer.dv``, ``line.unit_price``, ``lines.2.quantity``…);
- for the **document data** the queue takes (:func:`to_document_data`: the
  same ``{"document": {...}}`` dict as ``fe-tui queue add`` reads from a
  file; number, prefix, issuer, software and resolution come from the
  company when the queue adds it);
- for **live totals** (:func:`live_totals`), computed by the engine's own
  :func:`fe_tui.domain.totals.compute` over validated :class:`Line` models:
  the form never does tax arithmetic itself;
- for the **buyer look-up** at DIAN (:func:`lookup_acquirer`, GetAcquirer
  through a :class:`~fe_tui.services.dian_ops.DianSession`): a network failure
  is a Spanish message, never an exception;
- to **save a draft** (:func:`save_draft`, ``queue.add(draft=True)``) or to
  queue the document **for signing and sending** (:func:`queue_for_sending`:
  ``queue.add`` as ``ready``; :meth:`InvoiceQueue.run` has no way to run one
  document alone, so the console's queue pane, or a ``send`` callback the
  console hands the form, runs it);
- for a **credit or debit note** from an accepted invoice of the queue
  (:func:`note_from_invoice`: reference, CUFE, date, buyer and lines copied);
- for **document-level discounts and charges** (:class:`AllowanceChargeEntry`,
  :func:`allowance_charge_errors`; the domain's
  :class:`~fe_tui.domain.models.AllowanceCharge`, a percentage of Σ line
  extensions or a fixed amount) and **withholdings** (:class:`WithholdingEntry`,
  :func:`withholding_errors`; 05 ReteIVA, 06 ReteFuente, 07 ReteICA, the
  domain's :class:`~fe_tui.domain.models.Withholding`): discounts and charges
  move the payable amount, withholdings are informative (``WithholdingTaxTotal``)
  and never do.

Amounts are typed as text and parsed to :class:`Decimal` here (never float).
A decimal comma is accepted (``25000,50``); a thousands separator is refused
(``25.000`` could mean 25 or 25 000) with a message that says so.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Protocol

import httpx
from pydantic import ValidationError

from fe_tui.dian import outcomes as oc
from fe_tui.domain import codelists, tax_rates
from fe_tui.domain.models import (
    CUSTOMER_ID_TYPES,
    FINAL_CONSUMER_ID,
    Address,
    AllowanceCharge,
    Customer,
    Line,
    PaymentMeans,
    Withholding,
    format_validation_error,
)
from fe_tui.domain.money import format_money
from fe_tui.domain.nit import nit_check_digit
from fe_tui.domain.totals import DocumentTotals, compute
from fe_tui.errors import FeError, InputError
from fe_tui.services.invoice_queue import (
    ACCEPTED,
    ACCEPTED_WITH_NOTICES,
    DRAFT,
    STATE_LABELS,
    InvoiceQueue,
)

if TYPE_CHECKING:
    from fe_tui.crypto.certificates import LoadedCertificate
    from fe_tui.domain.company import Company
    from fe_tui.settings import Settings
    from fe_tui.store.db import Store

__all__ = [
    "AMOUNT",
    "DEFAULT_DISCOUNT_CODE",
    "DEFAULT_TAX",
    "DEFAULT_WITHHOLDING",
    "EXCLUDED",
    "KIND_LABELS",
    "PERCENT",
    "AcquirerLookup",
    "AdjustmentAmount",
    "AllowanceChargeEntry",
    "CodeOption",
    "CustomerEntry",
    "EntryInvalid",
    "InvoiceEntry",
    "LineEntry",
    "LiveTotals",
    "NoteReference",
    "SavedDocument",
    "TaxOption",
    "WithholdingEntry",
    "allowance_charge_errors",
    "check_nit",
    "concept_options",
    "default_withholding_base",
    "discount_code_options",
    "entry_totals",
    "entry_errors",
    "filter_options",
    "format_money",
    "draft_entry",
    "update_draft",
    "promote_draft",
    "id_type_options",
    "invoice_prefixes",
    "line_errors",
    "live_totals",
    "lookup_acquirer",
    "lookup_acquirer_for",
    "municipality_options",
    "note_from_invoice",
    "parse_decimal",
    "parse_percent",
    "payment_form_options",
    "payment_method_options",
    "queue_for_sending",
    "save_draft",
    "tax_options",
    "to_document_data",
    "to_line",
    "unit_options",
    "withholding_errors",
    "withholding_options",
]

#: Tax option key of a line excluded from IVA (no taxes at all).
EXCLUDED = "excluido"
#: Tax option key preselected for a new line: IVA at the general rate.
DEFAULT_TAX = "01:19"

KIND_LABELS = {"invoice": "Factura", "credit_note": "Nota crédito", "debit_note": "Nota débito"}

#: A discount or charge given as a percentage of Σ line extensions…
PERCENT = "percent"
#: … or as a fixed amount.
AMOUNT = "amount"
#: Discount reason preselected for a new document discount (CodigoDescuento 00).
DEFAULT_DISCOUNT_CODE = "00"
#: Withholding preselected for a new one: 06 ReteFuente, the most common.
DEFAULT_WITHHOLDING = "06"
#: Withholding tributos a document may carry (TipoImpuesto).
WITHHOLDING_CODES = ("05", "06", "07")


class EntryInvalid(InputError):
    """The form has errors; ``errors`` maps field names to Spanish messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        count = len(errors)
        first = next(iter(errors.values()), "")
        super().__init__(
            f"El documento tiene {count} error(es): {first}" if count > 1 else first,
            errors=count,
        )
        self.errors = errors


# --- What the agent typed ------------------------------------------------------------


@dataclass
class LineEntry:
    """One line as typed: text fields, the unit code and a tax option key.

    ``extra`` carries fields the form does not edit but a note copies from its
    invoice (seller code, standard code, discounts), so totals stay right.
    """

    description: str = ""
    quantity: str = "1"
    unit_code: str = "94"
    unit_price: str = ""
    tax: str = DEFAULT_TAX
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class CustomerEntry:
    """The buyer as typed. ``responsibilities`` is a comma-separated list of codes."""

    id_type: str = "31"
    id_number: str = ""
    dv: str = ""
    name: str = ""
    email: str = ""
    address_line: str = ""
    municipality_code: str = ""
    responsibilities: str = "R-99-PN"

    @property
    def is_final_consumer(self) -> bool:
        """The anonymous buyer 222222222222 (no e-mail needed)."""
        return self.id_number.strip() == FINAL_CONSUMER_ID


@dataclass(frozen=True)
class NoteReference:
    """The invoice a note corrects: its number, CUFE and issue date (ISO)."""

    number: str
    cufe: str
    issue_date: str


@dataclass
class AllowanceChargeEntry:
    """A document-level discount (``is_charge`` false) or charge as typed.

    ``mode`` is :data:`PERCENT` (``value`` is a percentage of Σ line
    extensions, the base the domain applies) or :data:`AMOUNT` (``value`` is a
    fixed amount). ``reason_code`` (CodigoDescuento: 00 no condicionado, 01
    condicionado) applies to discounts only; a charge ignores it.
    """

    is_charge: bool = False
    mode: str = PERCENT
    value: str = ""
    reason: str = ""
    reason_code: str = DEFAULT_DISCOUNT_CODE


@dataclass
class WithholdingEntry:
    """A withholding as typed: tributo (05/06/07), percentage and optional base.

    An empty ``base`` means the domain's default: the document's IVA for 05
    ReteIVA, Σ line extensions for 06 ReteFuente and 07 ReteICA.
    """

    scheme: str = DEFAULT_WITHHOLDING
    percent: str = ""
    base: str = ""


@dataclass
class InvoiceEntry:
    """The whole form. ``kind`` is ``invoice``, ``credit_note`` or ``debit_note``.

    ``allowances_charges`` are document-level discounts and charges;
    ``withholdings`` (invoices only) are informative retenciones.
    """

    kind: str = "invoice"
    customer: CustomerEntry = field(default_factory=CustomerEntry)
    lines: list[LineEntry] = field(default_factory=list)
    payment_form: str = "1"
    payment_method: str = "10"
    due_date: str = ""
    order_reference: str = ""
    note: str = ""
    prefix: str | None = None
    reference: NoteReference | None = None
    concept_code: str = ""
    concept_description: str = ""
    allowances_charges: list[AllowanceChargeEntry] = field(default_factory=list)
    withholdings: list[WithholdingEntry] = field(default_factory=list)

    @property
    def is_note(self) -> bool:
        """A credit or debit note."""
        return self.kind != "invoice"


# --- Pickers ------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeOption:
    """One entry of a DIAN code list for a picker: ``code`` and its Spanish ``name``."""

    code: str
    name: str

    @property
    def label(self) -> str:
        """``94 — unidad``."""
        return f"{self.code} — {self.name}" if self.name else self.code


@dataclass(frozen=True)
class TaxOption:
    """A line's tax choice: a tributo and rate in force, or excluded from IVA."""

    key: str
    label: str
    scheme: str | None
    percent: Decimal | None

    @property
    def excluded(self) -> bool:
        """No taxes at all (excluido de IVA)."""
        return self.scheme is None


def _fold(text: str) -> str:
    return "".join(
        ch
        for ch in unicodedata.normalize("NFD", text.casefold())
        if unicodedata.category(ch) != "Mn"
    )


def _options(entries: Iterable[tuple[str, str]]) -> list[CodeOption]:
    return [CodeOption(code, name) for code, name in entries]


#: Units people use every day, shown first (the list has over a thousand).
_COMMON_UNITS = ("94", "KGM", "GRM", "LTR", "MTR", "MTK", "HUR", "DAY", "MON", "BX", "PR", "ZZ")


def unit_options() -> list[CodeOption]:
    """DIAN's units of measure (UnidadesMedida), the everyday ones first."""
    units = codelists.unidades_medida()
    common = [c for c in _COMMON_UNITS if c in units]
    rest = [c for c in units.codes if c not in common]
    return [CodeOption(c, units.name_of(c) or "") for c in (*common, *rest)]


def municipality_options() -> list[CodeOption]:
    """DIVIPOLA municipalities with their department (``05001 — Medellín (Antioquia)``)."""
    departments = codelists.departamentos()
    return [
        CodeOption(code, f"{name} ({departments.name_of(code[:2]) or code[:2]})")
        for code, name in codelists.municipio().entries.items()
    ]


def id_type_options() -> list[CodeOption]:
    """Buyer identification types accepted on invoices (TipoIdFiscal)."""
    types = codelists.tipo_id_fiscal()
    return [CodeOption(c, types.name_of(c) or c) for c in CUSTOMER_ID_TYPES]


def payment_form_options() -> list[CodeOption]:
    """1 Contado, 2 Crédito."""
    return _options(codelists.formas_pago().entries.items())


def payment_method_options() -> list[CodeOption]:
    """Payment means (MediosPago), e.g. 10 Efectivo, 42 Consignación."""
    return _options(codelists.medios_pago().entries.items())


def concept_options(kind: str) -> list[CodeOption]:
    """Correction concepts of a credit (ConceptoNotaCredito) or debit note."""
    if kind == "credit_note":
        return _options(codelists.concepto_nota_credito().entries.items())
    if kind == "debit_note":
        return _options(codelists.concepto_nota_debito().entries.items())
    return []


def discount_code_options() -> list[CodeOption]:
    """Discount reasons (CodigoDescuento): 00 no condicionado, 01 condicionado."""
    return _options(codelists.codigo_descuento().entries.items())


def withholding_options() -> list[CodeOption]:
    """Withholdings a document informs: 05 ReteIVA, 06 ReteFuente, 07 ReteICA (TipoImpuesto)."""
    names = codelists.tipo_impuesto()
    return [CodeOption(c, names.name_of(c) or c) for c in WITHHOLDING_CODES]


def _percent_text(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _percent_label(value: Decimal) -> str:
    """``2,5 %`` (a decimal comma, as people in Colombia write it)."""
    return f"{_percent_text(value).replace('.', ',')} %"


def tax_options(on: date) -> list[TaxOption]:
    """Line taxes in force on ``on``: IVA and INC rates from the rate table, then excluded.

    Names come from DIAN's TipoImpuesto list, rates and their validity from
    ``data/tax_rates.json`` (so an expired rate is never offered).
    """
    names = codelists.tipo_impuesto()
    result: list[TaxOption] = []
    schemes = sorted({r.scheme for r in tax_rates.table()})
    for scheme in schemes:
        rates = sorted(tax_rates.rates_on(scheme, on), key=lambda r: r.percent, reverse=True)
        for rate in rates:
            name = names.name_of(scheme) or scheme
            extra = " (exento)" if rate.label == "exento" else ""
            result.append(
                TaxOption(
                    f"{scheme}:{_percent_text(rate.percent)}",
                    f"{name} {_percent_text(rate.percent)} %{extra}",
                    scheme,
                    rate.percent,
                )
            )
    result.append(TaxOption(EXCLUDED, "Excluido de IVA", None, None))
    return result


def _tax_option(key: str, on: date) -> TaxOption | None:
    return next((t for t in tax_options(on) if t.key == key), None)


def filter_options(options: Iterable[CodeOption], query: str, limit: int = 200) -> list[CodeOption]:
    """Options matching ``query`` (code or name, no accents, any case), best first.

    An exact code comes first, then codes starting with the query, then names
    containing every word of it.
    """
    words = _fold(query).split()
    if not words:
        return list(options)[:limit]
    needle = " ".join(words)
    exact: list[CodeOption] = []
    prefix: list[CodeOption] = []
    named: list[CodeOption] = []
    for option in options:
        code = _fold(option.code)
        if code == needle:
            exact.append(option)
        elif code.startswith(needle):
            prefix.append(option)
        elif all(w in _fold(option.name) or w in code for w in words):
            named.append(option)
    return (exact + prefix + named)[:limit]


# --- Field checks ----------------------------------------------------------------------


def check_nit(id_number: str, dv: str) -> str | None:
    """Spanish message about a NIT and its check digit as typed, or ``None`` when right.

    Meant to run on every key press: an empty number says nothing yet; an
    empty DV states which digit is expected.
    """
    number = id_number.strip()
    digit = dv.strip()
    if not number:
        return None
    if not number.isascii() or not number.isdigit():
        return "el NIT lleva solo dígitos, sin puntos, guiones ni DV"
    if len(number) < 5 or len(number) > 10:
        return "el NIT tiene de 5 a 10 dígitos (sin el DV)"
    expected = nit_check_digit(number)
    if not digit:
        return f"falta el dígito de verificación (para el NIT {number} es {expected})"
    if digit != expected:
        return f"dígito de verificación incorrecto: para el NIT {number} es {expected}"
    return None


_THOUSANDS = re.compile(r"\d{1,3}([.,]\d{3})+")
_NUMBER = re.compile(r"\d+([.,]\d+)?")


def parse_decimal(
    text: str,
    what: str,
    *,
    positive: bool = False,
    example: str = "25000 o 25000,50",
    grouping: bool = True,
) -> Decimal:
    """Read an amount or quantity typed by a person (raises :class:`ValueError`, Spanish).

    ``what`` names the field in the message ("el precio", "la cantidad");
    ``example`` is the hint of the "not a number" message. With ``grouping``
    false (percentages, never in the thousands) ``2,500`` is read as 2.5
    instead of being refused as a thousands separator.
    """
    value = text.strip().replace(" ", "").removeprefix("$")
    if not value:
        raise ValueError(f"escriba {what}")
    if value.startswith("-"):
        raise ValueError(f"{what} no puede ser menor que 0")
    if grouping and _THOUSANDS.fullmatch(value) and not value.startswith("0"):
        whole = value.replace(".", "").replace(",", "")
        raise ValueError(
            f"¿{whole}? escriba {what} sin separador de miles (p. ej. {whole} o {whole},50)"
        )
    if not _NUMBER.fullmatch(value):
        raise ValueError(
            f"{what} debe ser un número (p. ej. {example}); se recibió {text.strip()!r}"
        )
    try:
        number = Decimal(value.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise ValueError(f"{what} no es un número válido") from None
    if positive and number == 0:
        raise ValueError(f"{what} debe ser mayor que 0")
    return number


def parse_percent(text: str, what: str = "el porcentaje") -> Decimal:
    """Read a percentage typed by a person: greater than 0, at most 100 (``%`` allowed at the end).

    Raises :class:`ValueError` with a Spanish message naming ``what``.
    """
    value = text.strip().removesuffix("%")
    number = parse_decimal(value, what, positive=True, example="10 o 2,5", grouping=False)
    if number > 100:
        raise ValueError(f"{what} no puede ser mayor que 100 (se recibió {_percent_label(number)})")
    return number


def _pydantic_messages(exc: ValidationError, prefix: str, known: dict[str, str]) -> dict[str, str]:
    """Map a model's errors to form fields (``known``: model path → form field)."""
    errors: dict[str, str] = {}
    for text in format_validation_error(exc).splitlines():
        path, _, message = text.partition(": ")
        head = path.split(".")[0].split("[")[0]
        name = known.get(path) or known.get(head) or prefix
        errors.setdefault(name, message)
    return errors


def line_errors(line: LineEntry, on: date, *, prefix: str = "line") -> dict[str, str]:
    """Spanish messages for one line, keyed ``<prefix>.<field>`` (empty when valid)."""
    errors, _ = _check_line(line, on, prefix)
    return errors


def to_line(line: LineEntry, on: date) -> Line:
    """The validated :class:`Line` of ``line`` (raises :class:`EntryInvalid`)."""
    errors, model = _check_line(line, on, "line")
    if model is None:
        raise EntryInvalid(errors)
    return model


def _line_data(line: LineEntry, on: date, prefix: str) -> tuple[dict[str, str], dict[str, Any]]:
    errors: dict[str, str] = {}
    data: dict[str, Any] = {**line.extra}
    description = line.description.strip()
    if not description:
        errors[f"{prefix}.description"] = "escriba la descripción del producto o servicio"
    data["description"] = description
    try:
        data["quantity"] = str(parse_decimal(line.quantity, "la cantidad", positive=True))
    except ValueError as exc:
        errors[f"{prefix}.quantity"] = str(exc)
    typed = line.unit_code.strip()
    unit = typed if typed in codelists.unidades_medida() else typed.upper()
    if unit not in codelists.unidades_medida():
        errors[f"{prefix}.unit_code"] = (
            f"la unidad {unit!r} no existe en la lista DIAN UnidadesMedida; elíjala de la lista"
            if unit
            else "elija la unidad de medida"
        )
    data["unit_code"] = unit
    try:
        data["unit_price"] = str(parse_decimal(line.unit_price, "el precio"))
    except ValueError as exc:
        errors[f"{prefix}.unit_price"] = str(exc)
    option = _tax_option(line.tax, on)
    if option is None:
        errors[f"{prefix}.tax"] = (
            f"el impuesto {line.tax!r} no está en la lista de tributos y tarifas vigentes el {on}"
        )
    elif option.excluded:
        data["excluded"] = True
        data["taxes"] = []
    else:
        data["excluded"] = False
        data["taxes"] = [
            {"scheme": option.scheme, "percent": _percent_text(option.percent or Decimal(0))}
        ]
    return errors, data


def _check_line(line: LineEntry, on: date, prefix: str) -> tuple[dict[str, str], Line | None]:
    errors, data = _line_data(line, on, prefix)
    if errors:
        return errors, None
    try:
        model = Line.model_validate(data)
    except ValidationError as exc:
        fields = {
            name: f"{prefix}.{name}"
            for name in ("description", "quantity", "unit_code", "unit_price")
        }
        fields["taxes"] = f"{prefix}.tax"
        return _pydantic_messages(exc, f"{prefix}.unit_price", fields), None
    for tax in model.taxes:
        problem = tax.check_in_force(on)
        if problem:
            return {f"{prefix}.tax": problem}, None
    return {}, model


def _customer_data(entry: CustomerEntry) -> tuple[dict[str, str], dict[str, Any]]:
    errors: dict[str, str] = {}
    c = entry
    id_type = c.id_type.strip()
    number = c.id_number.strip()
    data: dict[str, Any] = {"id_type": id_type, "id_number": number, "name": c.name.strip()}
    if id_type not in CUSTOMER_ID_TYPES:
        errors["customer.id_type"] = "elija el tipo de identificación del comprador"
    if not number:
        errors["customer.id_number"] = "escriba la identificación del comprador"
    elif id_type == "31":
        problem = check_nit(number, c.dv)
        if problem:
            field_name = "customer.dv" if "verificación" in problem else "customer.id_number"
            errors[field_name] = problem
        data["dv"] = c.dv.strip()
    if not c.name.strip():
        errors["customer.name"] = "escriba el nombre o la razón social del comprador"
    email = c.email.strip()
    if email:
        data["email"] = email
    elif not c.is_final_consumer:
        errors["customer.email"] = (
            "escriba el correo de recepción de facturas del comprador (obligatorio, Res. "
            "000202/2025; F5 lo consulta en la DIAN)"
        )
    codes = [p.strip().upper() for p in re.split(r"[,;\s]+", c.responsibilities) if p.strip()]
    data["tax_responsibilities"] = codes or ["R-99-PN"]
    if c.address_line.strip() or c.municipality_code.strip():
        address = {
            "line": c.address_line.strip(),
            "municipality_code": c.municipality_code.strip(),
        }
        try:
            Address.model_validate(address)
        except ValidationError as exc:
            errors.update(
                _pydantic_messages(
                    exc,
                    "customer.address_line",
                    {"line": "customer.address_line", "municipality_code": "customer.municipality"},
                )
            )
        data["address"] = address
    if c.is_final_consumer:
        data.update(
            id_type="13",
            organization_type="2",
            tax_responsibilities=["R-99-PN"],
            tax_scheme="ZZ",
        )
        data.pop("dv", None)
    if not errors:
        try:
            Customer.model_validate(data)
        except ValidationError as exc:
            errors.update(
                _pydantic_messages(
                    exc,
                    "customer.id_number",
                    {
                        "id_type": "customer.id_type",
                        "id_number": "customer.id_number",
                        "dv": "customer.dv",
                        "name": "customer.name",
                        "email": "customer.email",
                        "tax_responsibilities": "customer.responsibilities",
                        "address": "customer.address_line",
                    },
                )
            )
    return errors, data


def _payment_data(entry: InvoiceEntry, on: date) -> tuple[dict[str, str], dict[str, Any]]:
    errors: dict[str, str] = {}
    data: dict[str, Any] = {"form": entry.payment_form, "method_code": entry.payment_method}
    due_text = entry.due_date.strip()
    if due_text:
        try:
            due = date.fromisoformat(due_text)
        except ValueError:
            errors["payment.due_date"] = "fecha no válida; use AAAA-MM-DD (p. ej. 2026-12-31)"
        else:
            if due < on:
                errors["payment.due_date"] = f"el vencimiento no puede ser anterior a hoy ({on})"
            data["due_date"] = due.isoformat()
    elif entry.payment_form == "2":
        errors["payment.due_date"] = "en una venta a crédito escriba la fecha de vencimiento"
    if "payment.due_date" not in errors:
        try:
            PaymentMeans.model_validate(data)
        except ValidationError as exc:
            errors.update(
                _pydantic_messages(
                    exc,
                    "payment.method",
                    {
                        "form": "payment.form",
                        "method_code": "payment.method",
                        "due_date": "payment.due_date",
                    },
                )
            )
    return errors, data


# --- Document discounts, charges and withholdings ------------------------------------------


def _charge_word(entry: AllowanceChargeEntry) -> str:
    return "del cargo" if entry.is_charge else "del descuento"


def _allowance_data(
    entry: AllowanceChargeEntry, prefix: str
) -> tuple[dict[str, str], dict[str, Any], AllowanceCharge | None]:
    """Field messages, the document data and the validated model of one discount or charge."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {"is_charge": entry.is_charge}
    word = _charge_word(entry)
    if entry.mode == PERCENT:
        try:
            data["percent"] = _percent_text(parse_percent(entry.value, f"el porcentaje {word}"))
        except ValueError as exc:
            errors[f"{prefix}.value"] = str(exc)
    elif entry.mode == AMOUNT:
        try:
            data["amount"] = str(parse_decimal(entry.value, f"el valor {word}", positive=True))
        except ValueError as exc:
            errors[f"{prefix}.value"] = str(exc)
    else:
        errors[f"{prefix}.mode"] = "elija porcentaje (%) o valor fijo ($)"
    reason = entry.reason.strip()
    if reason:
        data["reason"] = reason
    if not entry.is_charge:
        code = entry.reason_code.strip()
        if code not in codelists.codigo_descuento():
            errors[f"{prefix}.reason_code"] = (
                "elija el código del descuento (lista DIAN CodigoDescuento: 00 no condicionado, "
                "01 condicionado)"
            )
        data["reason_code"] = code
    if errors:
        return errors, data, None
    try:
        model = AllowanceCharge.model_validate(data)
    except ValidationError as exc:
        fields = {
            "amount": f"{prefix}.value",
            "percent": f"{prefix}.value",
            "reason": f"{prefix}.reason",
            "reason_code": f"{prefix}.reason_code",
        }
        return _pydantic_messages(exc, f"{prefix}.value", fields), data, None
    return {}, data, model


def allowance_charge_errors(
    entry: AllowanceChargeEntry, *, prefix: str = "charge"
) -> dict[str, str]:
    """Spanish messages for one document discount or charge, keyed ``<prefix>.<field>``.

    Fields: ``value`` (percentage or amount, as ``mode`` says), ``mode``,
    ``reason``, ``reason_code``. Empty when it is valid.
    """
    return _allowance_data(entry, prefix)[0]


def _withholding_data(
    entry: WithholdingEntry, prefix: str
) -> tuple[dict[str, str], dict[str, Any], Withholding | None]:
    errors: dict[str, str] = {}
    scheme = entry.scheme.strip()
    data: dict[str, Any] = {"scheme": scheme}
    names = codelists.tipo_impuesto()
    name = names.name_of(scheme) or "la retención"
    if scheme not in WITHHOLDING_CODES:
        errors[f"{prefix}.scheme"] = "elija la retención: 05 ReteIVA, 06 ReteFuente o 07 ReteICA"
    try:
        data["percent"] = _percent_text(parse_percent(entry.percent, f"el porcentaje de {name}"))
    except ValueError as exc:
        errors[f"{prefix}.percent"] = str(exc)
    if entry.base.strip():
        try:
            data["taxable_amount"] = str(
                parse_decimal(entry.base, f"la base de {name}", positive=True)
            )
        except ValueError as exc:
            errors[f"{prefix}.base"] = str(exc)
    if errors:
        return errors, data, None
    try:
        model = Withholding.model_validate(data)
    except ValidationError as exc:
        fields = {
            "scheme": f"{prefix}.scheme",
            "percent": f"{prefix}.percent",
            "taxable_amount": f"{prefix}.base",
        }
        return _pydantic_messages(exc, f"{prefix}.percent", fields), data, None
    return {}, data, model


def _valid_lines(lines: Iterable[LineEntry], on: date) -> list[Line]:
    models = []
    for line in lines:
        _, model = _check_line(line, on, "line")
        if model is not None:
            models.append(model)
    return models


def _no_base(model: Withholding, totals: DocumentTotals) -> str | None:
    """Spanish message when a withholding without a typed base has nothing to apply to."""
    if model.taxable_amount is not None:
        return None
    if model.scheme == "05":
        if totals.tax_amount_for("01") == 0:
            return (
                "ReteIVA se calcula sobre el IVA y el documento no tiene IVA: escriba la base "
                "o quite la retención"
            )
        return None
    if totals.line_extension == 0:
        return (
            f"{model.name} se calcula sobre el subtotal y aún no hay líneas con valor: agregue "
            "líneas o escriba la base"
        )
    return None


def default_withholding_base(
    scheme: str, lines: Iterable[LineEntry], on: date
) -> tuple[str, Decimal]:
    """What a withholding of ``scheme`` applies to without a typed base, and its amount now.

    ``("el IVA", …)`` for 05 ReteIVA, ``("el subtotal", …)`` for 06 and 07 (the
    domain's rule, read from :func:`~fe_tui.domain.totals.compute` over the valid lines).
    """
    code = scheme if scheme in WITHHOLDING_CODES else DEFAULT_WITHHOLDING
    probe = Withholding(scheme=code, percent=Decimal(1))  # type: ignore[arg-type]
    totals = compute(_LinesOnly(_valid_lines(lines, on), [], [probe]))  # type: ignore[arg-type]
    [total] = totals.withholding_totals
    what = "el IVA" if code == "05" else "el subtotal"
    return what, total.subtotals[0].taxable_amount


def withholding_errors(
    entry: WithholdingEntry,
    lines: Iterable[LineEntry],
    on: date,
    *,
    prefix: str = "withholding",
) -> dict[str, str]:
    """Spanish messages for one withholding, keyed ``<prefix>.<field>`` (empty when valid).

    Fields: ``scheme``, ``percent``, ``base``. ``lines`` are the document's
    (its valid ones give the default base: without a typed base, a ReteIVA on
    a document with no IVA, or a ReteFuente/ReteICA on one with no value, is
    refused on ``base``).
    """
    errors, _, model = _withholding_data(entry, prefix)
    if model is None:
        return errors
    totals = compute(_LinesOnly(_valid_lines(lines, on)))  # type: ignore[arg-type]
    problem = _no_base(model, totals)
    return {f"{prefix}.base": problem} if problem else {}


def _collect(entry: InvoiceEntry, on: date) -> tuple[dict[str, str], dict[str, Any]]:
    errors, customer = _customer_data(entry.customer)
    document: dict[str, Any] = {"kind": entry.kind, "customer": customer}
    if entry.prefix:
        document["prefix"] = entry.prefix
    if not entry.lines:
        errors["lines"] = "agregue al menos una línea (descripción, cantidad y precio, luego Enter)"
    lines = []
    models: list[Line] = []
    for index, line in enumerate(entry.lines):
        line_errs, line_data = _line_data(line, on, f"lines.{index}")
        if not line_errs:
            checked, model = _check_line(line, on, f"lines.{index}")
            line_errs = checked
            if model is not None:
                models.append(model)
                line_data = {k: v for k, v in line_data.items() if v not in (None, [], False)}
        errors.update(line_errs)
        lines.append(line_data)
    document["lines"] = lines
    lines_valid = len(models) == len(entry.lines)
    charges: list[AllowanceCharge] = []
    charge_data = []
    for index, ac in enumerate(entry.allowances_charges):
        ac_errors, ac_data, ac_model = _allowance_data(ac, f"charges.{index}")
        errors.update(ac_errors)
        charge_data.append(ac_data)
        if ac_model is not None:
            charges.append(ac_model)
    if charge_data:
        document["allowances_charges"] = charge_data
    withholdings: list[tuple[int, Withholding]] = []
    withholding_data = []
    if entry.withholdings and entry.is_note:
        errors["withholdings"] = (
            "las retenciones solo se informan en facturas (WithholdingTaxTotal); quítelas de "
            "la nota"
        )
    for index, wh in enumerate(entry.withholdings):
        wh_errors, wh_data, wh_model = _withholding_data(wh, f"withholdings.{index}")
        errors.update(wh_errors)
        withholding_data.append(wh_data)
        if wh_model is not None:
            withholdings.append((index, wh_model))
    if withholding_data:
        document["withholdings"] = withholding_data
    if lines_valid and (charges or withholdings):
        totals = compute(
            _LinesOnly(models, charges, [w for _, w in withholdings])  # type: ignore[arg-type]
        )
        for index, wh_model in withholdings:
            problem = _no_base(wh_model, totals)
            if problem:
                errors[f"withholdings.{index}.base"] = problem
        if len(charges) == len(entry.allowances_charges) and totals.payable < 0:
            errors["charges"] = (
                f"los descuentos del documento ({format_money(totals.allowance_total)}) superan "
                f"el total ({format_money(totals.tax_inclusive + totals.charge_total)}); el valor "
                "a pagar quedaría negativo (regla VLR01)"
            )
    pay_errors, payment = _payment_data(entry, on)
    errors.update(pay_errors)
    document["payment"] = payment
    if entry.payment_form == "2" and entry.kind == "invoice" and "due_date" in payment:
        document["due_date"] = payment["due_date"]
    if entry.order_reference.strip():
        document["order_reference"] = entry.order_reference.strip()
    if entry.note.strip():
        document["notes"] = [entry.note.strip()]
    if entry.is_note:
        document["operation_type"] = "20" if entry.kind == "credit_note" else "30"
        concepts = {o.code for o in concept_options(entry.kind)}
        if entry.concept_code not in concepts:
            errors["note.concept"] = "elija el concepto de la corrección (lista DIAN)"
        document["concept_code"] = entry.concept_code
        if entry.concept_description.strip():
            document["concept_description"] = entry.concept_description.strip()
        ref = entry.reference
        if ref is None:
            errors["note.reference"] = "la nota necesita la factura que corrige"
        else:
            document["billing_reference"] = {
                "number": ref.number,
                "uuid": ref.cufe,
                "issue_date": ref.issue_date,
            }
    return errors, document


def entry_errors(entry: InvoiceEntry, on: date) -> dict[str, str]:
    """Every Spanish field message of the form (empty when it can be saved)."""
    return _collect(entry, on)[0]


def to_document_data(entry: InvoiceEntry, on: date) -> dict[str, Any]:
    """The queue's input (``{"document": {...}}``) or :class:`EntryInvalid` with every error."""
    errors, document = _collect(entry, on)
    if errors:
        raise EntryInvalid(errors)
    return {"document": document}


# --- Live totals -------------------------------------------------------------------------


@dataclass(frozen=True)
class AdjustmentAmount:
    """One document discount, charge or withholding as the engine computed it.

    ``index`` is its place in the entry's list (invalid ones are not computed,
    so the form matches rows by it); ``base`` is what a percentage applies to.
    """

    index: int
    label: str  #: "Descuento 2 %", "Cargo", "ReteFuente 2,5 %"
    base: Decimal
    amount: Decimal
    is_charge: bool = False


@dataclass(frozen=True)
class LiveTotals:
    """The engine's totals of the valid lines, with Spanish labels for each tax.

    Document discounts and charges are inside ``payable``; withholdings are
    informative and never are (``withholding_taxes``, DIAN's
    ``WithholdingTaxTotal``).
    """

    totals: DocumentTotals
    taxes: tuple[tuple[str, Decimal], ...]  #: ("IVA 19 %", amount) per tributo and rate
    counted: int  #: lines included
    skipped: int  #: lines left out because they are not valid yet
    #: ("ReteFuente 2,5 %", amount) per withholding tributo and rate (informative).
    withholding_taxes: tuple[tuple[str, Decimal], ...] = ()
    allowances_charges: tuple[AdjustmentAmount, ...] = ()  #: each valid discount or charge
    withholdings: tuple[AdjustmentAmount, ...] = ()  #: each valid withholding
    skipped_adjustments: int = 0  #: discounts, charges and withholdings not valid yet

    @property
    def subtotal(self) -> Decimal:
        """Σ line extensions (before taxes)."""
        return self.totals.line_extension

    @property
    def tax_total(self) -> Decimal:
        """Σ taxes."""
        return self.totals.tax_total

    @property
    def payable(self) -> Decimal:
        """Total to pay (PayableAmount: discounts and charges in, withholdings not)."""
        return self.totals.payable

    @property
    def allowance_total(self) -> Decimal:
        """Σ document discounts (AllowanceTotalAmount)."""
        return self.totals.allowance_total

    @property
    def charge_total(self) -> Decimal:
        """Σ document charges (ChargeTotalAmount)."""
        return self.totals.charge_total

    @property
    def withholding_total(self) -> Decimal:
        """Σ withholdings (informative: not subtracted from :attr:`payable`)."""
        return sum((amount for _, amount in self.withholding_taxes), Decimal("0.00"))


@dataclass
class _LinesOnly:
    """What :func:`fe_tui.domain.totals.compute` reads of a document (lines, no header extras)."""

    lines: list[Line]
    allowances_charges: list[Any] = field(default_factory=list)
    withholdings: list[Any] = field(default_factory=list)
    prepaid_amount: Decimal = Decimal("0.00")


def _charge_label(model: AllowanceCharge) -> str:
    what = "Cargo" if model.is_charge else "Descuento"
    return f"{what} {_percent_label(model.percent)}" if model.percent is not None else what


def live_totals(
    lines: Iterable[LineEntry],
    on: date,
    allowances_charges: Iterable[AllowanceChargeEntry] = (),
    withholdings: Iterable[WithholdingEntry] = (),
) -> LiveTotals:
    """Totals of what is valid now (invalid lines are counted in ``skipped``, invalid
    discounts, charges and withholdings in ``skipped_adjustments``).

    A withholding without a base to apply to (:func:`withholding_errors`) is
    computed as 0.
    """
    models: list[Line] = []
    skipped = 0
    for line in lines:
        _, model = _check_line(line, on, "line")
        if model is None:
            skipped += 1
        else:
            models.append(model)
    skipped_adjustments = 0
    charges: list[tuple[int, AllowanceCharge]] = []
    for index, ac in enumerate(allowances_charges):
        ac_model = _allowance_data(ac, "charge")[2]
        if ac_model is None:
            skipped_adjustments += 1
        else:
            charges.append((index, ac_model))
    held: list[tuple[int, Withholding]] = []
    for index, wh in enumerate(withholdings):
        wh_model = _withholding_data(wh, "withholding")[2]
        if wh_model is None:
            skipped_adjustments += 1
        else:
            held.append((index, wh_model))
    totals = compute(
        _LinesOnly(models, [m for _, m in charges], [m for _, m in held])  # type: ignore[arg-type]
    )
    taxes = tuple(
        (f"{t.name} {_percent_text(s.percent)} %", s.tax_amount)
        for t in totals.tax_totals
        for s in t.subtotals
    )
    withholding_taxes = tuple(
        (f"{t.name} {_percent_label(s.percent)}", s.tax_amount)
        for t in totals.withholding_totals
        for s in t.subtotals
    )
    computed = tuple(
        AdjustmentAmount(
            index, _charge_label(model), amount.base_amount, amount.amount, model.is_charge
        )
        for (index, model), amount in zip(charges, totals.allowances_charges, strict=True)
    )
    # The engine groups withholdings by tributo and rate; each one alone gives its own row.
    rows = []
    for index, wh_model in held:
        alone = compute(_LinesOnly(models, [], [wh_model]))  # type: ignore[arg-type]
        [total] = alone.withholding_totals
        [sub] = total.subtotals
        label = f"{wh_model.name} {_percent_label(wh_model.percent)}"
        rows.append(AdjustmentAmount(index, label, sub.taxable_amount, sub.tax_amount))
    return LiveTotals(
        totals,
        taxes,
        len(models),
        skipped,
        withholding_taxes,
        computed,
        tuple(rows),
        skipped_adjustments,
    )


def entry_totals(entry: InvoiceEntry, on: date) -> LiveTotals:
    """:func:`live_totals` of a whole entry: its lines, discounts, charges and withholdings."""
    return live_totals(
        entry.lines,
        on,
        entry.allowances_charges,
        [] if entry.is_note else entry.withholdings,
    )


# --- DIAN look-up ----------------------------------------------------------------------


class AcquirerSource(Protocol):
    """What the look-up needs of a DIAN session (:class:`~fe_tui.services.dian_ops.DianSession`)."""

    async def acquirer(self, id_type: str, id_number: str) -> oc.Outcome:
        """GetAcquirer."""


@dataclass(frozen=True)
class AcquirerLookup:
    """The answer of a buyer look-up: ``found`` with name and e-mail, or a Spanish message."""

    found: bool
    name: str = ""
    email: str = ""
    message: str = ""


async def lookup_acquirer(session: AcquirerSource, id_type: str, id_number: str) -> AcquirerLookup:
    """Ask DIAN (GetAcquirer) for the buyer's registered name and reception e-mail.

    Never raises for DIAN's or the network's sake: a failure comes back as
    ``found=False`` with a Spanish message and the form stays as it was.
    """
    number = id_number.strip()
    if not number:
        return AcquirerLookup(False, message="Escriba primero la identificación del comprador.")
    try:
        outcome = await session.acquirer(id_type.strip(), number)
    except FeError as exc:
        return AcquirerLookup(False, message=f"No se pudo consultar la DIAN: {exc.message}")
    except OSError as exc:
        return AcquirerLookup(False, message=f"No se pudo consultar la DIAN (red: {exc}).")
    if isinstance(outcome, oc.Acquirer):
        return AcquirerLookup(
            True,
            outcome.name,
            outcome.email,
            f"DIAN: {outcome.name or 'sin nombre'} · {outcome.email}",
        )
    if isinstance(outcome, oc.AcquirerNotFound):
        return AcquirerLookup(False, message=outcome.message)
    return AcquirerLookup(
        False,
        message=f"No se pudo consultar la DIAN: {outcome.message} Puede escribir el nombre y el "
        "correo a mano.",
    )


async def lookup_acquirer_for(
    store: Store,
    settings: Settings,
    company: Company,
    certificate: LoadedCertificate | None,
    id_type: str,
    id_number: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AcquirerLookup:
    """:func:`lookup_acquirer` over a session of ``company`` (its environment, its certificate).

    DIAN signs nothing without the company's certificate: without one the
    answer is a Spanish message. ``transport`` replaces the network (tests,
    a simulator mounted by the caller).
    """
    from fe_tui.services.sessions import open_company_session

    if certificate is None:
        return AcquirerLookup(
            False,
            message="Para consultar la DIAN hace falta el certificado de la empresa cargado en la "
            "consola; escriba el nombre y el correo a mano.",
        )
    try:
        async with open_company_session(
            store, settings, company, certificate, transport=transport
        ) as session:
            return await lookup_acquirer(session, id_type, id_number)
    except FeError as exc:
        return AcquirerLookup(False, message=f"No se pudo consultar la DIAN: {exc.message}")
    except (OSError, httpx.HTTPError) as exc:
        return AcquirerLookup(False, message=f"No se pudo consultar la DIAN (red: {exc}).")


def invoice_prefixes(queue: InvoiceQueue, on: date) -> list[str]:
    """Prefixes of the company's resolutions in force on ``on`` (the form offers a choice
    when there is more than one; with one, the queue takes it by itself)."""
    return sorted({r.prefix for r in queue.store.resolutions(queue.company.nit) if r.valid_on(on)})


# --- Saving ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedDocument:
    """A document the form put in the queue (what the form dismisses with)."""

    doc_id: str
    state: str
    kind: str
    warnings: tuple[str, ...] = ()

    @property
    def state_label(self) -> str:
        """Spanish state ("borrador", "lista"…)."""
        return STATE_LABELS.get(self.state, self.state)


def _add(queue: InvoiceQueue, entry: InvoiceEntry, on: date, *, draft: bool) -> SavedDocument:
    data = to_document_data(entry, on)
    result = queue.add(data, draft=draft)
    # The queue warns about a number in the data; the form never sends one.
    return SavedDocument(result.record.doc_id, result.record.state, entry.kind, result.warnings)


def save_draft(queue: InvoiceQueue, entry: InvoiceEntry, on: date) -> SavedDocument:
    """Keep the document as a draft (no number yet): ``queue.add(draft=True)``.

    Raises :class:`EntryInvalid` (field messages) or the queue's
    :class:`~fe_tui.services.invoice_queue.QueueError` (Spanish, whole document).
    """
    return _add(queue, entry, on, draft=True)


def queue_for_sending(queue: InvoiceQueue, entry: InvoiceEntry, on: date) -> SavedDocument:
    """Number the document and put it ``ready`` in the queue, for the next run to sign and send.

    :meth:`InvoiceQueue.run` works on every due document of the company; this
    does not run it (the console's queue pane does, or the form's ``send``
    callback).
    """
    return _add(queue, entry, on, draft=False)


# --- Notes from an invoice -----------------------------------------------------------------


def _line_entry(raw: dict[str, Any], on: date) -> LineEntry:
    taxes = raw.get("taxes") or []
    if raw.get("excluded") or not taxes:
        tax = EXCLUDED
    else:
        first = taxes[0]
        tax = f"{first['scheme']}:{_percent_text(Decimal(str(first['percent'])))}"
        if _tax_option(tax, on) is None:
            tax = DEFAULT_TAX
    kept = ("seller_code", "standard_code", "standard_scheme", "base_quantity")
    extra = {k: raw[k] for k in kept if raw.get(k) is not None}
    if raw.get("allowances_charges"):
        extra["allowances_charges"] = raw["allowances_charges"]
    return LineEntry(
        description=str(raw.get("description", "")),
        quantity=_plain(raw.get("quantity", "1")),
        unit_code=str(raw.get("unit_code", "94")),
        unit_price=_plain(raw.get("unit_price", "")),
        tax=tax,
        extra=extra,
    )


def _allowance_entry(raw: dict[str, Any]) -> AllowanceChargeEntry:
    percent = raw.get("percent")
    is_charge = bool(raw.get("is_charge"))
    return AllowanceChargeEntry(
        is_charge=is_charge,
        mode=PERCENT if percent is not None else AMOUNT,
        value=_plain(percent if percent is not None else raw.get("amount", "")),
        reason=str(raw.get("reason") or ""),
        reason_code=str(raw.get("reason_code") or DEFAULT_DISCOUNT_CODE),
    )


def _withholding_entry(raw: dict[str, Any]) -> WithholdingEntry:
    base = raw.get("taxable_amount")
    return WithholdingEntry(
        scheme=str(raw.get("scheme", DEFAULT_WITHHOLDING)),
        percent=_plain(raw.get("percent", "")),
        base=_plain(base) if base is not None else "",
    )


def _plain(value: Any) -> str:
    text = str(value)
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    if number == number.to_integral_value():
        return f"{number.quantize(Decimal(1)):f}"
    return f"{number.normalize():f}"


def _customer_entry(raw_customer: dict[str, Any]) -> CustomerEntry:
    address = raw_customer.get("address") or {}
    return CustomerEntry(
        id_type=str(raw_customer.get("id_type", "31")),
        id_number=str(raw_customer.get("id_number", "")),
        dv=str(raw_customer.get("dv") or ""),
        name=str(raw_customer.get("name", "")),
        email=str(raw_customer.get("email") or ""),
        address_line=str(address.get("line") or ""),
        municipality_code=str(address.get("municipality_code") or ""),
        responsibilities=", ".join(raw_customer.get("tax_responsibilities") or ["R-99-PN"]),
    )


def note_from_invoice(
    queue: InvoiceQueue, doc_id: str, kind: str, on: date | None = None
) -> InvoiceEntry:
    """A credit or debit note entry for an accepted invoice of the queue.

    The reference (number, CUFE, issue date), the buyer and the lines are
    copied; the agent chooses the concept and adjusts lines and amounts.
    Raises :class:`InputError` (Spanish) when the document is not an accepted
    invoice.
    """
    if kind not in ("credit_note", "debit_note"):
        raise InputError(f"Tipo de nota desconocido: {kind!r} (credit_note o debit_note).")
    queue.ledger.refresh()
    rec = queue.ledger.find(doc_id)
    if rec is None:
        raise InputError(f"No hay un documento {doc_id!r} en la cola de {queue.company.label}.")
    if rec.kind != "invoice":
        raise InputError(f"{rec.doc_id} no es una factura: una nota corrige una factura.")
    if rec.state not in (ACCEPTED, ACCEPTED_WITH_NOTICES) or not rec.cufe or not rec.issue_date:
        raise InputError(
            f"{rec.doc_id} está {STATE_LABELS.get(rec.state, rec.state)}: solo se hace una nota "
            "de una factura aceptada por la DIAN (con su CUFE)."
        )
    day = on or date.fromisoformat(rec.issue_date)
    document = queue.ledger.request(rec).get("document") or {}
    customer = _customer_entry(document.get("customer") or {})
    payment = document.get("payment") or {}
    # Document discounts and charges change the amount the note corrects: copied like the
    # lines. Withholdings are not: a note does not carry WithholdingTaxTotal.
    return InvoiceEntry(
        kind=kind,
        customer=customer,
        lines=[_line_entry(raw, day) for raw in document.get("lines") or []],
        payment_form="1",
        payment_method=str(payment.get("method_code", "10")),
        reference=NoteReference(rec.doc_id, rec.cufe, rec.issue_date),
        allowances_charges=[
            _allowance_entry(raw) for raw in document.get("allowances_charges") or []
        ],
    )


# --- Drafts: reopen, save again, number ------------------------------------------------------


def _draft_record(queue: InvoiceQueue, doc_id: str) -> Any:
    queue.ledger.refresh()
    rec = queue.ledger.find(doc_id)
    if rec is None:
        raise InputError(f"No hay un documento {doc_id!r} en la cola de {queue.company.label}.")
    if rec.state != DRAFT:
        raise InputError(
            f"{rec.doc_id} está {STATE_LABELS.get(rec.state, rec.state)}: solo se reabre un "
            "borrador en el formulario."
        )
    return rec


def draft_entry(queue: InvoiceQueue, doc_id: str, on: date | None = None) -> InvoiceEntry:
    """The form's content of draft ``doc_id`` (what :func:`save_draft` stored), to edit it again.

    Raises :class:`InputError` (Spanish) when ``doc_id`` is not a draft of the queue.
    """
    rec = _draft_record(queue, doc_id)
    day = on or date.today()
    document = queue.ledger.request(rec).get("document") or {}
    payment = document.get("payment") or {}
    notes = document.get("notes") or []
    billing = document.get("billing_reference") or None
    reference = None
    if billing:
        reference = NoteReference(
            str(billing.get("number", "")),
            str(billing.get("uuid", "")),
            str(billing.get("issue_date", "")),
        )
    kind = str(document.get("kind", rec.kind or "invoice"))
    return InvoiceEntry(
        kind=kind,
        customer=_customer_entry(document.get("customer") or {}),
        lines=[_line_entry(raw, day) for raw in document.get("lines") or []],
        payment_form=str(payment.get("form") or "1"),
        payment_method=str(payment.get("method_code") or "10"),
        due_date=str(payment.get("due_date") or document.get("due_date") or ""),
        order_reference=str(document.get("order_reference") or ""),
        note=str(notes[0]) if notes else "",
        prefix=(str(document["prefix"]) if document.get("prefix") else None)
        if kind == "invoice"
        else None,
        reference=reference,
        concept_code=str(document.get("concept_code") or ""),
        concept_description=str(document.get("concept_description") or ""),
        allowances_charges=[
            _allowance_entry(raw) for raw in document.get("allowances_charges") or []
        ],
        withholdings=[_withholding_entry(raw) for raw in document.get("withholdings") or []],
    )


def update_draft(queue: InvoiceQueue, doc_id: str, entry: InvoiceEntry, on: date) -> SavedDocument:
    """Save the form over draft ``doc_id`` (same id, still without a number)."""
    _draft_record(queue, doc_id)
    rec = queue.update_draft(doc_id, to_document_data(entry, on))
    return SavedDocument(rec.doc_id, rec.state, entry.kind)


def promote_draft(queue: InvoiceQueue, doc_id: str, entry: InvoiceEntry, on: date) -> SavedDocument:
    """Save the form over draft ``doc_id``, then number it: ``ready`` under its new number.

    The draft is retired by :meth:`InvoiceQueue.promote` (``void``, naming the number).
    """
    update_draft(queue, doc_id, entry, on)
    rec = queue.promote(doc_id)
    return SavedDocument(rec.doc_id, rec.state, entry.kind)
