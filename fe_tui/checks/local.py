"""The rules that need no DIAN registry: totals, taxes, lines, code lists, values, notes, dates.

Every function reads the document as written (amounts as Decimal, never float)
and records one finding per rule and occurrence. Where DIAN rounds, the
comparison allows :data:`TOLERANCE` (±2.00, the tolerance the catalogue records
for FAU02, applied to every computed total and tax so that a document DIAN
accepted is never rejected here); sums of values the document itself states are
compared with the same tolerance. Code lists are the genericode lists shipped in
``fe_tui/data/codelists`` (:mod:`fe_tui.domain.codelists`); a list value is only
checked when the element is present (absence is the schema's business, ZB01).

Codes are the invoice's (F…), with C…/D… for notes where DIAN numbers the same
rule for them (FAU02 → CAU02 / DAU02).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from lxml import etree

from fe_tui import ns
from fe_tui.checks.document import Checked, dian_extensions, sts_text
from fe_tui.domain import codelists
from fe_tui.domain.colombia import DIAN_NIT

TOLERANCE = Decimal("2.00")
P = ns.XPATH
_LINE = {"Invoice": "InvoiceLine", "CreditNote": "CreditNoteLine", "DebitNote": "DebitNoteLine"}
_QTY = {
    "Invoice": "InvoicedQuantity",
    "CreditNote": "CreditedQuantity",
    "DebitNote": "DebitedQuantity",
}


def _dec(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


@functools.cache
def _xpath(path: str) -> etree.XPath:
    """A compiled XPath for an ElementPath-style relative path (compiled once)."""
    return etree.XPath(path, namespaces=P)


def _all(el: etree._Element, path: str) -> list[etree._Element]:
    return _xpath(path)(el)  # type: ignore[return-value]


def _first(el: etree._Element, path: str) -> etree._Element | None:
    found = _all(el, path)
    return found[0] if found else None


def _num(el: etree._Element, path: str) -> Decimal | None:
    found = _first(el, path)
    return _dec(found.text) if found is not None and found.text else None


def _txt(el: etree._Element, path: str) -> str | None:
    found = _first(el, path)
    return found.text.strip() if found is not None and found.text and found.text.strip() else None


_KEY = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{96}(?![0-9a-fA-F])")
#: Amounts (elements with a currencyID) whose text starts with a minus sign.
_NEGATIVE = etree.XPath("//*[@currencyID][starts-with(normalize-space(.), '-')]")


def _close(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) <= TOLERANCE


def _sum(values: Iterable[Decimal | None]) -> Decimal:
    return sum((v for v in values if v is not None), Decimal(0))


@dataclass(frozen=True)
class _Sub:
    """One cac:TaxSubtotal, read once."""

    scheme: str | None
    percent: Decimal | None
    taxable: Decimal | None
    amount: Decimal | None


@dataclass(frozen=True)
class _TaxTotal:
    amount: Decimal | None
    subtotals: list[_Sub]


def _tax_totals(parent: etree._Element) -> list[_TaxTotal]:
    return [
        _TaxTotal(
            _num(tt, "cbc:TaxAmount"),
            [
                _Sub(
                    _txt(st, "cac:TaxCategory/cac:TaxScheme/cbc:ID"),
                    _num(st, "cac:TaxCategory/cbc:Percent"),
                    _num(st, "cbc:TaxableAmount"),
                    _num(st, "cbc:TaxAmount"),
                )
                for st in _all(tt, "cac:TaxSubtotal")
            ],
        )
        for tt in _all(parent, "cac:TaxTotal")
    ]


def run(out: Checked) -> None:
    """All registry-free rules on a document :func:`~fe_tui.checks.document.check_document` read."""
    root = out.root
    if root is None or out.root_name is None or out.facts is None:
        return
    name = out.root_name
    lines = _all(root, f"cac:{_LINE[name]}")
    header = _tax_totals(root)
    per_line = [_tax_totals(line) for line in lines]
    _header(out, root, name)
    _totals(out, root, name, lines, header, per_line)
    _taxes(out, name, header, per_line)
    _lines(out, root, name, lines)
    _negative_values(out, root, name)
    _code_lists(out, root, name)
    _notes(out, root, name)
    _due_date(out, root, name)


def _header(out: Checked, root: etree._Element, name: str) -> None:
    """Fixed values of the header and the DIAN extension (FAD01/07/08/13, FAJ/FAK02, FAB31/34)."""
    facts = out.facts
    assert facts is not None
    version = _txt(root, "cbc:UBLVersionID")
    out.check(
        out.code("AD01"),
        version == "UBL 2.1",
        f"UBLVersionID {version!r}; debe ser 'UBL 2.1'",
        xpath=f"/{name}/cbc:UBLVersionID",
        value=version,
    )
    uuid = _first(root, "cbc:UUID")
    scheme_id = uuid.get("schemeID") if uuid is not None else None
    if scheme_id is not None:
        out.check(
            out.code("AD07"),
            scheme_id == facts.environment,
            f"UUID/@schemeID {scheme_id}; ProfileExecutionID es {facts.environment}",
            xpath=f"/{name}/cbc:UUID/@schemeID",
            value=scheme_id,
        )
    scheme_name = uuid.get("schemeName") if uuid is not None else None
    if scheme_name is not None:
        wanted = "CUDE-SHA384" if facts.uses_pin else "CUFE-SHA384"
        out.check(
            out.code("AD08"),
            scheme_name == wanted,
            f"UUID/@schemeName {scheme_name}; debe ser {wanted}",
            xpath=f"/{name}/cbc:UUID/@schemeName",
            value=scheme_name,
        )
    if name == "Invoice":
        type_code = _txt(root, "cbc:InvoiceTypeCode")
        out.check(
            "FAD13",
            type_code in ("01", "02", "03", "04"),
            f"InvoiceTypeCode {type_code}; una factura es 01, 02, 03 o 04",
            xpath="/Invoice/cbc:InvoiceTypeCode",
            value=type_code,
        )
    for letter, party in (("J", "AccountingSupplierParty"), ("K", "AccountingCustomerParty")):
        account = _txt(root, f"cac:{party}/cbc:AdditionalAccountID")
        if account is not None:
            out.check(
                out.code(f"A{letter}02"),
                account in codelists.tipo_organizacion(),
                f"AdditionalAccountID {account}; debe ser 1 (jurídica) o 2 (natural)",
                xpath=f"/{name}/cac:{party}/cbc:AdditionalAccountID",
                value=account,
            )
    ext = dian_extensions(root)
    provider = sts_text(ext, "AuthorizationProvider", "AuthorizationProviderID")
    if provider is not None:
        out.check(
            out.code("AB31"),
            provider == DIAN_NIT,
            f"AuthorizationProviderID {provider}; debe ser el NIT de la DIAN, {DIAN_NIT}",
            value=provider,
        )
    qr = sts_text(ext, "QRCode")
    if qr is not None:
        # Real documents carry the URL or the annex 1.8 text block: both hold a CUFE/CUDE.
        # Whether DIAN compares it with cbc:UUID is not confirmed, so only its form is checked.
        out.check(
            out.code("AB34"),
            _KEY.search(qr) is not None,
            "sts:QRCode no contiene un CUFE/CUDE (96 caracteres hexadecimales)",
            value=qr[:120],
        )


def _totals(
    out: Checked,
    root: etree._Element,
    name: str,
    lines: list[etree._Element],
    header: list[_TaxTotal],
    per_line: list[list[_TaxTotal]],
) -> None:
    tag = "RequestedMonetaryTotal" if name == "DebitNote" else "LegalMonetaryTotal"
    total = _first(root, f"cac:{tag}")
    base = f"/{name}/cac:{tag}/cbc:"
    if total is None:
        for code in ("AU02", "AU04", "AU06", "AU14"):
            out.cannot(out.code(code), f"el documento no trae cac:{tag}")
        return
    line_ext = _num(total, "cbc:LineExtensionAmount")
    exclusive = _num(total, "cbc:TaxExclusiveAmount")
    inclusive = _num(total, "cbc:TaxInclusiveAmount")
    allowance = _num(total, "cbc:AllowanceTotalAmount") or Decimal(0)
    charge = _num(total, "cbc:ChargeTotalAmount") or Decimal(0)
    prepaid = _num(total, "cbc:PrepaidAmount") or Decimal(0)
    rounding = _num(total, "cbc:PayableRoundingAmount") or Decimal(0)
    payable = _num(total, "cbc:PayableAmount")

    sum_lines = _sum(_num(line, "cbc:LineExtensionAmount") for line in lines)
    if line_ext is not None:
        out.check(
            out.code("AU02"),
            _close(line_ext, sum_lines),
            f"LineExtensionAmount {line_ext}; la suma de las líneas es {sum_lines}",
            xpath=base + "LineExtensionAmount",
            value=str(line_ext),
        )
    if exclusive is not None:
        # A line taxed twice (IVA and INC) counts its base once (SPEC §2.8).
        bases = _sum(
            max((s.taxable or Decimal(0)) for s in subs)
            for totals in per_line
            if (subs := [s for tt in totals for s in tt.subtotals])
        )
        subs = [s for tt in header for s in tt.subtotals]
        all_bases = _sum(s.taxable for s in subs)
        iva_bases = _sum(s.taxable for s in subs if s.scheme == "01")
        accepted = [bases, all_bases, iva_bases] if subs or bases else [Decimal(0)]
        out.check(
            out.code("AU04"),
            any(_close(exclusive, a) for a in accepted),
            f"TaxExclusiveAmount {exclusive}; la suma de las bases gravables es {bases}",
            xpath=base + "TaxExclusiveAmount",
            value=str(exclusive),
        )
    taxes = _sum(tt.amount for tt in header)
    if inclusive is not None and line_ext is not None:
        out.check(
            out.code("AU06"),
            _close(inclusive, line_ext + taxes),
            f"TaxInclusiveAmount {inclusive}; LineExtensionAmount + tributos = {line_ext + taxes}",
            xpath=base + "TaxInclusiveAmount",
            value=str(inclusive),
        )
    if payable is not None and inclusive is not None:
        expected = inclusive - allowance + charge + rounding
        # Whether PrepaidAmount is subtracted is not confirmed (SPEC §2.8): accept both.
        out.check(
            out.code("AU14"),
            _close(payable, expected) or _close(payable, expected - prepaid),
            f"PayableAmount {payable}; TaxInclusiveAmount − descuentos + cargos "
            f"(+ redondeo) = {expected}",
            xpath=base + "PayableAmount",
            value=str(payable),
        )


def _taxes(
    out: Checked, name: str, header: list[_TaxTotal], per_line: list[list[_TaxTotal]]
) -> None:
    header_schemes = {s.scheme for tt in header for s in tt.subtotals}
    line_schemes = {
        s.scheme
        for totals in per_line
        for tt in totals
        for s in tt.subtotals
        if s.scheme is not None
    }
    missing = sorted(line_schemes - header_schemes)
    out.check(
        out.code("AS01a"),
        not missing,
        f"los tributos {', '.join(missing)} de las líneas no tienen TaxTotal en el encabezado",
        xpath=f"/{name}/cac:TaxTotal",
        value=", ".join(missing) or None,
    )
    for i, tt in enumerate(header, start=1):
        where = f"/{name}/cac:TaxTotal[{i}]"
        parts = _sum(s.amount for s in tt.subtotals)
        if tt.amount is not None and tt.subtotals:
            out.check(
                out.code("AS02"),
                _close(tt.amount, parts),
                f"TaxAmount {tt.amount}; la suma de sus subtotales es {parts}",
                xpath=where + "/cbc:TaxAmount",
                value=str(tt.amount),
            )
        seen: dict[tuple[str | None, str], int] = {}
        for sub in tt.subtotals:
            if sub.percent is not None:
                rate = (sub.scheme, f"{sub.percent.normalize():f}")
                seen[rate] = seen.get(rate, 0) + 1
        repeated = [f"{s} {p}%" for (s, p), n in seen.items() if n > 1]
        out.check(
            out.code("AS04"),
            not repeated,
            f"más de un subtotal para la misma tarifa: {', '.join(repeated)}",
            xpath=where + "/cac:TaxSubtotal",
            value=", ".join(repeated) or None,
        )
        for j, sub in enumerate(tt.subtotals, start=1):
            _rate_check(out, sub, "AS06", f"{where}/cac:TaxSubtotal[{j}]/cbc:TaxAmount")
    for n, totals in enumerate(per_line, start=1):
        for tt in totals:
            where = f"/{name}/cac:{_LINE[name]}[{n}]/cac:TaxTotal"
            parts = _sum(s.amount for s in tt.subtotals)
            if tt.amount is not None and tt.subtotals:
                out.check(
                    out.code("AX02"),
                    _close(tt.amount, parts),
                    f"línea {n}: TaxAmount {tt.amount}; la suma de sus subtotales es {parts}",
                    xpath=where + "/cbc:TaxAmount",
                    value=str(tt.amount),
                )
            for j, sub in enumerate(tt.subtotals, start=1):
                _rate_check(out, sub, "AX05", f"{where}/cac:TaxSubtotal[{j}]/cbc:TaxAmount", n)


def _rate_check(out: Checked, sub: _Sub, suffix: str, xpath: str, line: int | None = None) -> None:
    """TaxAmount = TaxableAmount × Percent / 100 (percentage taxes only; per-unit ones skip)."""
    if sub.percent is None or sub.taxable is None or sub.amount is None:
        return
    expected = sub.taxable * sub.percent / 100
    if _close(sub.amount, expected):
        out.check(out.code(suffix), True)
        return
    where = f"línea {line}: " if line is not None else ""
    out.fail(
        out.code(suffix),
        f"{where}TaxAmount {sub.amount}; {sub.taxable} × {sub.percent} % = "
        f"{expected.quantize(Decimal('0.01'))}",
        xpath=xpath,
        value=str(sub.amount),
    )


def _lines(out: Checked, root: etree._Element, name: str, lines: list[etree._Element]) -> None:
    ids = [_txt(line, "cbc:ID") for line in lines]
    expected = [str(i) for i in range(1, len(lines) + 1)]
    out.check(
        out.code("AV01"),
        ids == expected,
        f"las líneas están numeradas {', '.join(i or '(vacío)' for i in ids)}; deben ir de 1 a "
        f"{len(lines)}",
        xpath=f"/{name}/cac:{_LINE[name]}/cbc:ID",
        value=", ".join(i or "" for i in ids),
    )
    count = _txt(root, "cbc:LineCountNumeric")
    if count is not None:
        out.check(
            out.code("AD16"),
            count == str(len(lines)),
            f"LineCountNumeric {count}; el documento tiene {len(lines)} líneas",
            xpath=f"/{name}/cbc:LineCountNumeric",
            value=count,
        )
    _line_values(out, name, lines)
    empty = [
        n for n, line in enumerate(lines, start=1) if _txt(line, "cac:Item/cbc:Description") is None
    ]
    out.check(
        out.code("AZ02"),
        not empty,
        f"las líneas {', '.join(map(str, empty))} no traen descripción del artículo",
        xpath=f"/{name}/cac:{_LINE[name]}[{empty[0] if empty else 1}]/cac:Item/cbc:Description",
    )


def _line_values(out: Checked, name: str, lines: list[etree._Element]) -> None:
    """FAV02: each line's LineExtensionAmount is quantity × price − line discounts + charges.

    DIAN's exact formula is not published (the catalogue marks FAV02 unconfirmed), so
    only what every reading agrees on fails: the price read per unit (``PriceAmount``)
    and per ``BaseQuantity`` (``PriceAmount / BaseQuantity``) are both accepted, within
    :data:`TOLERANCE`. Free-of-charge lines (``FreeOfChargeIndicator`` true: commercial
    samples, whose value is the reference price) and lines missing a number are skipped.
    """
    quantity_tag = _QTY[name]
    bad: list[tuple[int, Decimal, list[Decimal]]] = []
    for n, line in enumerate(lines, start=1):
        if (_txt(line, "cbc:FreeOfChargeIndicator") or "").lower() == "true":
            continue
        value = _num(line, "cbc:LineExtensionAmount")
        quantity = _num(line, f"cbc:{quantity_tag}")
        price = _num(line, "cac:Price/cbc:PriceAmount")
        if value is None or quantity is None or price is None:
            continue
        adjustments = Decimal(0)
        for ac in _all(line, "cac:AllowanceCharge"):
            amount = _num(ac, "cbc:Amount") or Decimal(0)
            charge = (_txt(ac, "cbc:ChargeIndicator") or "").lower() == "true"
            adjustments += amount if charge else -amount
        base = _num(line, "cac:Price/cbc:BaseQuantity")
        try:
            gross = [quantity * price]
            if base is not None and base not in (0, 1):
                gross.append(quantity * price / base)
            expected = [g + adjustments for g in gross]
            close = any(_close(value, e) for e in expected)
        except ArithmeticError:  # absurd magnitudes overflow the decimal context: not ours
            continue
        if not close:
            bad.append((n, value, expected))
    first = bad[0] if bad else None
    out.check(
        out.code("AV02"),
        first is None,
        (
            f"línea {first[0]}: LineExtensionAmount {first[1]}; cantidad × precio "
            f"± descuentos/cargos = {first[2][0].quantize(Decimal('0.01'))}"
            + (f" (línea(s) {', '.join(str(b[0]) for b in bad)})" if len(bad) > 1 else "")
        )
        if first is not None
        else None,
        xpath=f"/{name}/cac:{_LINE[name]}[{first[0] if first else 1}]/cbc:LineExtensionAmount",
        value=str(first[1]) if first is not None else None,
    )


def _negative_values(out: Checked, root: etree._Element, name: str) -> None:
    negative = [
        (el, value)
        for el in _NEGATIVE(root)  # type: ignore[union-attr]
        if isinstance(el, etree._Element)
        and etree.QName(el).localname != "PayableRoundingAmount"
        and (value := _dec(el.text)) is not None
        and value < 0
    ]
    first = negative[0] if negative else None
    out.check(
        "VLR01",
        first is None,
        f"{etree.QName(first[0]).localname} vale {first[1]}" if first else None,
        xpath=root.getroottree().getpath(first[0]) if first else None,
        value=str(first[1]) if first else None,
    )


def _list_check(
    out: Checked,
    root: etree._Element,
    code: str,
    path: str,
    allowed: codelists.CodeList | Iterable[str],
    what: str,
    *,
    split: bool = False,
) -> None:
    for el in _all(root, path):
        text = (el.text or "").strip()
        values = [v.strip() for v in text.split(";")] if split else [text]
        bad = [v for v in values if v not in allowed]
        if not bad:
            out.check(code, True)
            continue
        out.fail(
            code,
            f"{what} {', '.join(bad)} no está en la lista del anexo",
            xpath=f"/{etree.QName(root).localname}/{path}",
            value=text,
        )


def _code_lists(out: Checked, root: etree._Element, name: str) -> None:
    for letter, party in (
        ("J", "cac:AccountingSupplierParty/cac:Party"),
        ("K", "cac:AccountingCustomerParty/cac:Party"),
    ):
        who = "emisor" if letter == "J" else "adquiriente"
        code = out.code("A" + letter)
        _list_check(
            out,
            root,
            code + "26",
            f"{party}/cac:PartyTaxScheme/cbc:TaxLevelCode",
            codelists.VALID_RESPONSIBILITIES,
            f"responsabilidad del {who}",
            split=True,
        )
        for where, suffix_mun, suffix_dep, suffix_country in (
            ("cac:PhysicalLocation/cac:Address", "08", "12", "14"),
            ("cac:PartyTaxScheme/cac:RegistrationAddress", "28", "31", "34"),
        ):
            address = f"{party}/{where}"
            country = _txt(root, f"{address}/cac:Country/cbc:IdentificationCode")
            _list_check(
                out,
                root,
                code + suffix_country,
                f"{address}/cac:Country/cbc:IdentificationCode",
                codelists.paises(),
                f"país del {who}",
            )
            if country not in (None, "CO"):
                continue  # DIVIPOLA codes are Colombian
            _list_check(
                out,
                root,
                code + suffix_mun,
                f"{address}/cbc:ID",
                codelists.municipio(),
                f"municipio del {who}",
            )
            _list_check(
                out,
                root,
                code + suffix_dep,
                f"{address}/cbc:CountrySubentityCode",
                codelists.departamentos(),
                f"departamento del {who}",
            )
    _list_check(
        out,
        root,
        out.code("AN02"),
        "cac:PaymentMeans/cbc:ID",
        codelists.formas_pago(),
        "forma de pago",
    )
    _list_check(
        out,
        root,
        out.code("AN02"),
        "cac:PaymentMeans/cbc:PaymentMeansCode",
        codelists.medios_pago(),
        "medio de pago",
    )
    _list_check(
        out, root, out.code("AD15"), "cbc:DocumentCurrencyCode", codelists.tipo_moneda(), "moneda"
    )


def _notes(out: Checked, root: etree._Element, name: str) -> None:
    if name != "CreditNote":
        return
    concept = _txt(root, "cac:DiscrepancyResponse/cbc:ResponseCode")
    customization = _txt(root, "cbc:CustomizationID")
    if concept is not None:
        out.check(
            "CBF03a",
            not (customization == "22" and concept == "2"),
            "el concepto 2 (anulación) exige CustomizationID 20 con referencia a la factura",
            xpath="/CreditNote/cac:DiscrepancyResponse/cbc:ResponseCode",
            value=concept,
        )


def _due_date(out: Checked, root: etree._Element, name: str) -> None:
    if name != "Invoice":
        return
    for pm in _all(root, "cac:PaymentMeans"):
        if _txt(pm, "cbc:ID") != "2":
            continue
        due = _txt(pm, "cbc:PaymentDueDate") or _txt(root, "cbc:DueDate")
        out.check(
            "IA04",
            due is not None,
            "venta a crédito (PaymentMeans/ID 2) sin fecha de vencimiento",
            xpath="/Invoice/cac:PaymentMeans/cbc:PaymentDueDate",
        )
