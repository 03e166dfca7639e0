"""Reading DIAN documents back: the fields a support agent checks, and CUFE/CUDE diagnosis.

Works on any DIAN UBL document (ours or another software's): elements are
found by namespace-qualified path, amounts are read as written, and the
CUFE/CUDE is recomputed from what the document says.

When the recomputed hash differs from ``cbc:UUID`` we cannot invert SHA-384,
but the mistakes are few and well known (SPEC §3, §15.6 item 4): amounts
rounded instead of truncated, the hour without its offset, the wrong secret
(technical key vs PIN, production key vs habilitación key), the wrong
environment digit, the buyer's DV appended, taxes summed from the lines
instead of the header, the supplier or buyer NIT read from another element
(``PartyLegalEntity/CompanyID`` instead of ``PartyTaxScheme/CompanyID``), the
hour in another form (without offset, with milliseconds, in UTC, ``Z``), IVA
taken as TaxInclusiveAmount − TaxExclusiveAmount when the document has no
TaxTotal. :func:`diagnose_uuid` tries each single change, then each pair, and
names the component(s) whose alternative reproduces the UUID. Before that it
says what the document lacks: an empty ``cbc:UUID`` (no CUFE/CUDE at all) or
no ``LegalMonetaryTotal`` (DIAN then hashes 0.00 amounts).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import combinations

from lxml import etree

from fe_tui import ns
from fe_tui.domain.colombia import HABILITACION_TEST_KEY
from fe_tui.errors import NotDianDocumentError
from fe_tui.ubl.hashes import PIN_DOCUMENT_TYPES, HashComponents

P = ns.XPATH


@dataclass(frozen=True)
class DocumentFacts:
    """What a DIAN document says about itself."""

    root_name: str
    document_type: str
    document_id: str
    uuid: str
    uuid_scheme: str
    environment: str
    issue_date: str
    issue_time: str
    components: HashComponents  #: with an empty secret; fill it with ``with_secret``
    header_taxes: dict[str, Decimal]
    line_taxes: dict[str, Decimal]
    raw_amounts: dict[str, str]  #: the amount texts as written (before truncation)
    customer_dv: str | None
    #: Every distinct identification the supplier / buyer party carries, in reading order
    #: (PartyTaxScheme/CompanyID first): where another software may have taken NitFE/NumAdq.
    supplier_ids: tuple[tuple[str, str], ...] = field(default=())
    customer_ids: tuple[tuple[str, str], ...] = field(default=())
    #: LegalMonetaryTotal (RequestedMonetaryTotal in debit notes) is present.
    has_monetary_total: bool = True
    tax_inclusive: Decimal | None = None
    tax_exclusive: Decimal | None = None

    def with_secret(self, secret: str) -> HashComponents:
        return replace(self.components, secret=secret)

    @property
    def uses_pin(self) -> bool:
        return self.document_type in PIN_DOCUMENT_TYPES


@functools.cache
def _compiled(path: str) -> etree.XPath:
    # ElementPath re-parses a path on every find; the reader runs in every preflight.
    return etree.XPath(path, namespaces=P)


def _text(root: etree._Element, path: str) -> str | None:
    found = _compiled(path)(root)
    first = found[0] if isinstance(found, list) and found else None
    if not isinstance(first, etree._Element) or first.text is None:
        return None
    return first.text.strip()


#: xsd:decimal's lexical form: no exponent, no NaN or Infinity (which Decimal() accepts).
_XSD_DECIMAL = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
#: More integer digits than any DIAN amount (15) with room; beyond it rounding overflows.
_MAX_DIGITS = 20


def _dec(value: str | None, what: str) -> Decimal:
    if value is None:
        return Decimal(0)
    if not _XSD_DECIMAL.match(value):
        # Decimal("NaN") / "Infinity" / "1E+999999" would reach the CUFE text or overflow.
        raise NotDianDocumentError(f"El valor de {what} no es un número decimal: {value!r}.")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise NotDianDocumentError(f"El valor de {what} no es un número: {value!r}.") from None
    if number.adjusted() >= _MAX_DIGITS:
        raise NotDianDocumentError(
            f"El valor de {what} tiene demasiados dígitos ({len(value)} caracteres); un valor "
            "de la DIAN tiene como máximo 15 enteros."
        )
    return number


def _taxes(parents: list[etree._Element]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for tax_total in parents:
        scheme = _text(tax_total, "cac:TaxSubtotal/cac:TaxCategory/cac:TaxScheme/cbc:ID")
        if scheme is None:
            continue
        out[scheme] = out.get(scheme, Decimal(0)) + _dec(
            _text(tax_total, "cbc:TaxAmount"), f"TaxTotal {scheme}"
        )
    return out


def read_facts(root: etree._Element) -> DocumentFacts:
    """Extract the hash components and identifying fields of a DIAN document."""
    local = etree.QName(root).localname
    if local not in ("Invoice", "CreditNote", "DebitNote") or etree.QName(
        root
    ).namespace != ns.ROOT_NS.get(local):
        raise NotDianDocumentError(
            f"El XML no es una factura, nota crédito o nota débito UBL 2.1 (raíz <{local}>).",
        )
    if local == "Invoice":
        doc_type = _text(root, "cbc:InvoiceTypeCode") or "01"
    elif local == "CreditNote":
        doc_type = _text(root, "cbc:CreditNoteTypeCode") or "91"
    else:
        doc_type = "92"
    total_tag = "cac:RequestedMonetaryTotal" if local == "DebitNote" else "cac:LegalMonetaryTotal"
    document_id = _text(root, "cbc:ID")
    uuid_el = root.find("cbc:UUID", P)
    if document_id is None or uuid_el is None:
        raise NotDianDocumentError(
            "El documento no tiene cbc:ID o cbc:UUID; no es un documento DIAN."
        )
    raw = {
        "ValFac": _text(root, f"{total_tag}/cbc:LineExtensionAmount") or "0",
        "ValTot": _text(root, f"{total_tag}/cbc:PayableAmount") or "0",
    }
    header = _taxes(root.findall("cac:TaxTotal", P))
    line_tax_totals = [
        tt
        for line in root
        if etree.QName(line).localname.endswith("Line")
        for tt in line.findall("cac:TaxTotal", P)
    ]
    lines = _taxes(line_tax_totals)
    supplier = _text(root, "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID")
    supplier_ids = _party_ids(root, "cac:AccountingSupplierParty/cac:Party")
    customer_ids = _party_ids(root, "cac:AccountingCustomerParty/cac:Party")
    monetary = root.find(total_tag, P)
    inclusive = _text(root, f"{total_tag}/cbc:TaxInclusiveAmount")
    exclusive = _text(root, f"{total_tag}/cbc:TaxExclusiveAmount")
    customer_el = root.find(
        "cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID", P
    )
    if customer_el is None:
        customer_el = root.find(
            "cac:AccountingCustomerParty/cac:Party/cac:PartyIdentification/cbc:ID", P
        )
    customer = (customer_el.text or "").strip() if customer_el is not None else ""
    components = HashComponents(
        number=document_id,
        issue_date=_text(root, "cbc:IssueDate") or "",
        issue_time=_text(root, "cbc:IssueTime") or "",
        line_extension=_dec(raw["ValFac"], "LineExtensionAmount"),
        tax_01=header.get("01", Decimal(0)),
        tax_04=header.get("04", Decimal(0)),
        tax_03=header.get("03", Decimal(0)),
        payable=_dec(raw["ValTot"], "PayableAmount"),
        supplier_id=supplier or "",
        customer_id=customer,
        secret="",
        environment=_text(root, "cbc:ProfileExecutionID") or "",
    )
    return DocumentFacts(
        root_name=local,
        document_type=doc_type,
        document_id=document_id,
        uuid=(uuid_el.text or "").strip(),
        uuid_scheme=uuid_el.get("schemeName", ""),
        environment=components.environment,
        issue_date=components.issue_date,
        issue_time=components.issue_time,
        components=components,
        header_taxes=header,
        line_taxes=lines,
        raw_amounts=raw,
        customer_dv=customer_el.get("schemeID") if customer_el is not None else None,
        supplier_ids=supplier_ids,
        customer_ids=customer_ids,
        has_monetary_total=monetary is not None,
        tax_inclusive=_dec(inclusive, "TaxInclusiveAmount") if inclusive is not None else None,
        tax_exclusive=_dec(exclusive, "TaxExclusiveAmount") if exclusive is not None else None,
    )


#: Where a party's identification may be written, with the name the diagnosis uses.
_ID_PATHS = (
    ("PartyTaxScheme/CompanyID", "cac:PartyTaxScheme/cbc:CompanyID"),
    ("PartyLegalEntity/CompanyID", "cac:PartyLegalEntity/cbc:CompanyID"),
    ("PartyIdentification/ID", "cac:PartyIdentification/cbc:ID"),
)


def _party_ids(root: etree._Element, party: str) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for label, path in _ID_PATHS:
        for el in _compiled(f"{party}/{path}")(root):  # type: ignore[union-attr]
            if not isinstance(el, etree._Element):
                continue
            value = (el.text or "").strip()
            if value and value not in (v for _, v in found):
                found.append((label, value))
    return tuple(found)


@dataclass(frozen=True)
class UuidCheck:
    """Result of recomputing a document's CUFE/CUDE."""

    matches: bool
    expected: str  #: what DIAN computes from the document with the given secret
    declared: str  #: the document's cbc:UUID
    components: HashComponents
    culprit: str | None = None  #: label of the component found to differ
    explanation: str | None = None  #: Spanish explanation of the difference


def _round2(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _time_forms(time: str) -> list[tuple[str, str]]:
    """Other ways software writes IssueTime into the hash, each with its description."""
    forms: list[tuple[str, str]] = []
    bare = time.split("-")[0].split("+")[0].rstrip("Z")
    seconds = bare.split(".")[0]
    if bare != time:
        forms.append(
            (
                bare,
                "la hora se incluyó sin el desfase -05:00; la DIAN usa la hora tal como está "
                "escrita",
            )
        )
    if seconds != bare:
        forms.append((seconds, "la hora se incluyó sin milisegundos ni desfase"))
    offset = time[len(bare) :]
    if seconds != bare and offset:
        forms.append((seconds + offset, "la hora se incluyó sin los milisegundos"))
    if offset in ("", "Z"):
        forms.append(
            (
                seconds + "-05:00",
                "la hora se incluyó con -05:00, pero el documento la escribe sin desfase",
            )
        )
    try:
        parsed = datetime.strptime(seconds, "%H:%M:%S")
    except ValueError:
        return forms
    utc = (parsed + timedelta(hours=5)).strftime("%H:%M:%S")
    forms.append((utc + "Z", "la hora se incluyó en UTC (Z) en lugar de la hora de Colombia"))
    forms.append(
        (utc + "+00:00", "la hora se incluyó en UTC (+00:00) en lugar de la hora de Colombia")
    )
    forms.append((utc, "la hora se incluyó en UTC sin desfase"))
    return [(value, why) for value, why in forms if value != time]


def _variants(
    facts: DocumentFacts, base: HashComponents, secret: str, name: str
) -> list[tuple[str, HashComponents, str]]:
    """Single-component alternatives: (component label, components, Spanish explanation)."""
    c = base
    out: list[tuple[str, HashComponents, str]] = []
    rounded = replace(
        c,
        line_extension=_round2(c.line_extension),
        payable=_round2(c.payable),
        tax_01=_round2(c.tax_01),
        tax_04=_round2(c.tax_04),
        tax_03=_round2(c.tax_03),
    )
    if rounded != c:
        out.append(
            (
                "ValFac/ValImp/ValTot",
                rounded,
                f"el {name} del documento se calculó redondeando los valores; la DIAN los trunca a "
                "2 decimales",
            )
        )
    if not facts.uses_pin and secret != HABILITACION_TEST_KEY:
        out.append(
            (
                "ClTec/PIN",
                replace(c, secret=HABILITACION_TEST_KEY),
                "el documento se calculó con la clave técnica pública de habilitación, no con la "
                "clave dada",
            )
        )
    for value, why in _time_forms(c.issue_time):
        out.append(("HorFac", replace(c, issue_time=value), why))
    other_env = {"1": "2", "2": "1"}.get(c.environment)
    if other_env:
        out.append(
            (
                "TipoAmbiente",
                replace(c, environment=other_env),
                f"el documento se calculó con TipoAmbiente {other_env} pero declara "
                f"ProfileExecutionID {c.environment}",
            )
        )
    for label, value in facts.supplier_ids:
        if value != c.supplier_id:
            out.append(
                (
                    "NitFE",
                    replace(c, supplier_id=value),
                    f"el NIT del emisor se tomó de {label} ({value}); la DIAN usa "
                    f"PartyTaxScheme/CompanyID ({c.supplier_id or 'vacío'})",
                )
            )
    for label, value in facts.customer_ids:
        if value != c.customer_id:
            out.append(
                (
                    "NumAdq",
                    replace(c, customer_id=value),
                    f"la identificación del adquiriente se tomó de {label} ({value}); la DIAN usa "
                    f"{c.customer_id or 'vacío'}",
                )
            )
    if facts.customer_dv:
        out.append(
            (
                "NumAdq",
                replace(c, customer_id=c.customer_id + facts.customer_dv),
                "la identificación del adquiriente se incluyó con su dígito de verificación",
            )
        )
    if facts.line_taxes != facts.header_taxes:
        lt = facts.line_taxes
        out.append(
            (
                "ValImp1/ValImp2/ValImp3",
                replace(
                    c,
                    tax_01=lt.get("01", Decimal(0)),
                    tax_04=lt.get("04", Decimal(0)),
                    tax_03=lt.get("03", Decimal(0)),
                ),
                "los impuestos se tomaron de la suma de las líneas; la DIAN usa los TaxTotal del "
                "encabezado",
            )
        )
    if facts.tax_inclusive is not None and facts.tax_exclusive is not None:
        difference = facts.tax_inclusive - facts.tax_exclusive
        if difference != c.tax_01:
            without = "" if facts.header_taxes else " (el documento no trae TaxTotal)"
            out.append(
                (
                    "ValImp1",
                    replace(c, tax_01=difference),
                    "el IVA (ValImp1) se calculó como TaxInclusiveAmount − TaxExclusiveAmount "
                    f"({difference}); la DIAN toma el TaxTotal de IVA del encabezado"
                    f"{without}, {c.tax_01}",
                )
            )
    return out


def diagnose_uuid(facts: DocumentFacts, secret: str) -> UuidCheck:
    """Recompute the CUFE/CUDE with ``secret`` and, on mismatch, find the likely culprit.

    Order: an empty ``cbc:UUID`` (the document carries no CUFE/CUDE); each single
    alternative (:func:`_variants`), then each pair of alternatives of different
    components; a missing LegalMonetaryTotal; only then "the secret is not the one
    the issuer used" (``ClTec/PIN``), which nothing in the document can prove.
    """
    base = facts.with_secret(secret)
    expected = base.digest()
    declared = facts.uuid.lower()
    name = "CUDE" if facts.uses_pin else "CUFE"
    if not declared:
        return UuidCheck(
            False,
            expected,
            facts.uuid,
            base,
            "UUID",
            f"el documento no trae {name}: cbc:UUID está vacío, así que no hay valor que "
            f"comprobar; el {name} esperado con la clave dada es el que se muestra",
        )
    if expected == declared:
        return UuidCheck(True, expected, facts.uuid, base)
    variants = _variants(facts, base, secret, name)
    for label, variant, why in variants:
        if variant.digest() == declared:
            return UuidCheck(False, expected, facts.uuid, base, label, why)
    for (label1, v1, why1), (label2, v2, why2) in combinations(variants, 2):
        if label1 == label2:
            continue
        both = _merge(base, v1, v2)
        if both.digest() == declared:
            return UuidCheck(
                False, expected, facts.uuid, base, f"{label1} + {label2}", f"{why1}; y {why2}"
            )
    if not facts.has_monetary_total:
        total = "RequestedMonetaryTotal" if facts.root_name == "DebitNote" else "LegalMonetaryTotal"
        return UuidCheck(
            False,
            expected,
            facts.uuid,
            base,
            "ValFac/ValTot",
            f"faltan los valores: el documento no trae cac:{total}, así que ValFac y ValTot "
            f"valen 0.00 para la DIAN y el {name} declarado, calculado con los importes, no "
            "puede coincidir; agregue el bloque de totales y vuelva a calcular",
        )
    secret_hint = "el PIN del software" if facts.uses_pin else "la clave técnica del rango"
    return UuidCheck(
        False,
        expected,
        facts.uuid,
        base,
        "ClTec/PIN",
        f"ningún error conocido reproduce el {name} del documento; lo más probable es que "
        f"{secret_hint} no sea el valor que usó el software emisor, o que el documento se "
        "modificara después de calcularlo",
    )


def _merge(base: HashComponents, a: HashComponents, b: HashComponents) -> HashComponents:
    """``base`` with the fields ``a`` changes and the fields ``b`` changes."""
    changes = {}
    for variant in (a, b):
        for name in HashComponents.__dataclass_fields__:
            value = getattr(variant, name)
            if value != getattr(base, name):
                changes[name] = value
    return replace(base, **changes)
