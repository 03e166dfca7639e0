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

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from lxml import etree

from fe_tui import ns
from fe_tui.checks.document import Checked
from fe_tui.domain import codelists

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


def _num(el: etree._Element, path: str) -> Decimal | None:
    found = el.find(path, P)
    return _dec(found.text) if found is not None and found.text else None


def _txt(el: etree._Element, path: str) -> str | None:
    found = el.find(path, P)
    return found.text.strip() if found is not None and found.text and found.text.strip() else None


def _close(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) <= TOLERANCE


def _sum(values: Iterable[Decimal | None]) -> Decimal:
    return sum((v for v in values if v is not None), Decimal(0))


def run(out: Checked) -> None:
    """All registry-free rules on a document :func:`~fe_tui.checks.document.check_document` read."""
    root = out.root
    if root is None or out.root_name is None or out.facts is None:
        return
    name = out.root_name
    lines = root.findall(f"cac:{_LINE[name]}", {**P, "cac": ns.CAC})
    _totals(out, root, name, lines)
    _taxes(out, root, name, lines)
    _lines(out, root, name, lines)
    _negative_values(out, root, name)
    _code_lists(out, root, name)
    _notes(out, root, name)
    _due_date(out, root, name)


def _totals(out: Checked, root: etree._Element, name: str, lines: list[etree._Element]) -> None:
    tag = "RequestedMonetaryTotal" if name == "DebitNote" else "LegalMonetaryTotal"
    total = root.find(f"cac:{tag}", P)
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
    header_taxes = root.findall("cac:TaxTotal", P)
    if exclusive is not None:
        per_line = _sum(
            max(
                (_num(st, "cbc:TaxableAmount") or Decimal(0))
                for st in line.findall("cac:TaxTotal/cac:TaxSubtotal", P)
            )
            for line in lines
            if line.find("cac:TaxTotal/cac:TaxSubtotal", P) is not None
        )
        header = [st for tt in header_taxes for st in tt.findall("cac:TaxSubtotal", P)]
        all_bases = _sum(_num(st, "cbc:TaxableAmount") for st in header)
        iva_bases = _sum(
            _num(st, "cbc:TaxableAmount")
            for st in header
            if _txt(st, "cac:TaxCategory/cac:TaxScheme/cbc:ID") == "01"
        )
        accepted = [per_line, all_bases, iva_bases] if header or per_line else [Decimal(0)]
        out.check(
            out.code("AU04"),
            any(_close(exclusive, a) for a in accepted),
            f"TaxExclusiveAmount {exclusive}; la suma de las bases gravables es {per_line}",
            xpath=base + "TaxExclusiveAmount",
            value=str(exclusive),
        )
    taxes = _sum(_num(tt, "cbc:TaxAmount") for tt in header_taxes)
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


def _scheme(subtotal: etree._Element) -> str | None:
    return _txt(subtotal, "cac:TaxCategory/cac:TaxScheme/cbc:ID")


def _taxes(out: Checked, root: etree._Element, name: str, lines: list[etree._Element]) -> None:
    header = root.findall("cac:TaxTotal", P)
    header_schemes = {_scheme(st) for tt in header for st in tt.findall("cac:TaxSubtotal", P)}
    line_schemes = {
        s
        for line in lines
        for st in line.findall("cac:TaxTotal/cac:TaxSubtotal", P)
        if (s := _scheme(st)) is not None
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
        subtotals = tt.findall("cac:TaxSubtotal", P)
        amount = _num(tt, "cbc:TaxAmount")
        parts = _sum(_num(st, "cbc:TaxAmount") for st in subtotals)
        if amount is not None and subtotals:
            out.check(
                out.code("AS02"),
                _close(amount, parts),
                f"TaxAmount {amount}; la suma de sus subtotales es {parts}",
                xpath=where + "/cbc:TaxAmount",
                value=str(amount),
            )
        seen: dict[tuple[str | None, str], int] = {}
        for st in subtotals:
            percent = _num(st, "cac:TaxCategory/cbc:Percent")
            if percent is not None:
                rate = (_scheme(st), f"{percent.normalize():f}")
                seen[rate] = seen.get(rate, 0) + 1
        repeated = [f"{s} {p}%" for (s, p), n in seen.items() if n > 1]
        out.check(
            out.code("AS04"),
            not repeated,
            f"más de un subtotal para la misma tarifa: {', '.join(repeated)}",
            xpath=where + "/cac:TaxSubtotal",
            value=", ".join(repeated) or None,
        )
        for j, st in enumerate(subtotals, start=1):
            _rate_check(out, st, "AS06", f"{where}/cac:TaxSubtotal[{j}]/cbc:TaxAmount")
    for n, line in enumerate(lines, start=1):
        for tt in line.findall("cac:TaxTotal", P):
            where = f"/{name}/cac:{_LINE[name]}[{n}]/cac:TaxTotal"
            subtotals = tt.findall("cac:TaxSubtotal", P)
            amount = _num(tt, "cbc:TaxAmount")
            parts = _sum(_num(st, "cbc:TaxAmount") for st in subtotals)
            if amount is not None and subtotals:
                out.check(
                    out.code("AX02"),
                    _close(amount, parts),
                    f"línea {n}: TaxAmount {amount}; la suma de sus subtotales es {parts}",
                    xpath=where + "/cbc:TaxAmount",
                    value=str(amount),
                )
            for j, st in enumerate(subtotals, start=1):
                _rate_check(out, st, "AX05", f"{where}/cac:TaxSubtotal[{j}]/cbc:TaxAmount", n)


def _rate_check(
    out: Checked, subtotal: etree._Element, suffix: str, xpath: str, line: int | None = None
) -> None:
    """TaxAmount = TaxableAmount × Percent / 100 (percentage taxes only; per-unit ones skip)."""
    percent = _num(subtotal, "cac:TaxCategory/cbc:Percent")
    base = _num(subtotal, "cbc:TaxableAmount")
    amount = _num(subtotal, "cbc:TaxAmount")
    if percent is None or base is None or amount is None:
        return
    expected = base * percent / 100
    where = f"línea {line}: " if line is not None else ""
    out.check(
        out.code(suffix),
        _close(amount, expected),
        f"{where}TaxAmount {amount}; {base} × {percent} % = {expected.quantize(Decimal('0.01'))}",
        xpath=xpath,
        value=str(amount),
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
    for n, line in enumerate(lines, start=1):
        description = _txt(line, "cac:Item/cbc:Description")
        out.check(
            out.code("AZ02"),
            description is not None,
            f"la línea {n} no trae descripción del artículo",
            xpath=f"/{name}/cac:{_LINE[name]}[{n}]/cac:Item/cbc:Description",
        )


def _negative_values(out: Checked, root: etree._Element, name: str) -> None:
    negative = [
        (el, value)
        for el in root.iter(etree.Element)
        if el.get("currencyID") is not None
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
    for el in root.findall(path, P):
        text = (el.text or "").strip()
        values = [v.strip() for v in text.split(";")] if split else [text]
        bad = [v for v in values if v not in allowed]
        out.check(
            code,
            not bad,
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
    for pm in root.findall("cac:PaymentMeans", P):
        if _txt(pm, "cbc:ID") != "2":
            continue
        due = _txt(pm, "cbc:PaymentDueDate") or _txt(root, "cbc:DueDate")
        out.check(
            "IA04",
            due is not None,
            "venta a crédito (PaymentMeans/ID 2) sin fecha de vencimiento",
            xpath="/Invoice/cac:PaymentMeans/cbc:PaymentDueDate",
        )
