"""Reading DIAN documents back: the fields a support agent checks, and CUFE/CUDE diagnosis.

Works on any DIAN UBL document (ours or another software's): elements are
found by namespace-qualified path, amounts are read as written, and the
CUFE/CUDE is recomputed from what the document says.

When the recomputed hash differs from ``cbc:UUID`` we cannot invert SHA-384,
but the mistakes are few and well known (SPEC §3, §15.6 item 4): amounts
rounded instead of truncated, the hour without its offset, the wrong secret
(technical key vs PIN, production key vs habilitación key), the wrong
environment digit, the buyer's DV appended, taxes summed from the lines
instead of the header. :func:`diagnose_uuid` tries each single change and,
when one reproduces the UUID, names that component as the culprit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

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

    def with_secret(self, secret: str) -> HashComponents:
        return replace(self.components, secret=secret)

    @property
    def uses_pin(self) -> bool:
        return self.document_type in PIN_DOCUMENT_TYPES


def _text(root: etree._Element, path: str) -> str | None:
    found = root.find(path, P)
    if found is None or found.text is None:
        return None
    return found.text.strip()


def _dec(value: str | None, what: str) -> Decimal:
    if value is None:
        return Decimal(0)
    try:
        return Decimal(value)
    except InvalidOperation:
        raise NotDianDocumentError(f"El valor de {what} no es un número: {value!r}.") from None


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
    )


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


def diagnose_uuid(facts: DocumentFacts, secret: str) -> UuidCheck:
    """Recompute the CUFE/CUDE with ``secret`` and, on mismatch, find the likely culprit."""
    base = facts.with_secret(secret)
    expected = base.digest()
    declared = facts.uuid.lower()
    if expected == declared:
        return UuidCheck(True, expected, facts.uuid, base)
    name = "CUDE" if facts.uses_pin else "CUFE"
    variants: list[tuple[str, HashComponents, str]] = []
    c = base
    # Amounts rounded rather than truncated (visible only when the XML has > 2 decimals).
    rounded = replace(
        c,
        line_extension=_round2(c.line_extension),
        payable=_round2(c.payable),
        tax_01=_round2(c.tax_01),
        tax_04=_round2(c.tax_04),
        tax_03=_round2(c.tax_03),
    )
    variants.append(
        (
            "ValFac/ValImp/ValTot",
            rounded,
            f"el {name} del documento se calculó redondeando los valores; la DIAN los trunca a 2 "
            "decimales",
        )
    )
    secret_hint = "el PIN del software" if facts.uses_pin else "la clave técnica del rango"
    if not facts.uses_pin and secret != HABILITACION_TEST_KEY:
        variants.append(
            (
                "ClTec/PIN",
                replace(c, secret=HABILITACION_TEST_KEY),
                "el documento se calculó con la clave técnica pública de habilitación, "
                "no con la clave "
                "dada",
            )
        )
    for label, value in (("HorFac", c.issue_time.split("-")[0].split("+")[0]),):
        variants.append(
            (
                label,
                replace(c, issue_time=value),
                "la hora se incluyó sin el desfase -05:00; la DIAN usa HH:MM:SS-05:00",
            )
        )
    other_env = {"1": "2", "2": "1"}.get(c.environment)
    if other_env:
        variants.append(
            (
                "TipoAmbiente",
                replace(c, environment=other_env),
                f"el documento se calculó con TipoAmbiente {other_env} pero declara "
                f"ProfileExecutionID {c.environment}",
            )
        )
    if facts.customer_dv:
        variants.append(
            (
                "NumAdq",
                replace(c, customer_id=c.customer_id + facts.customer_dv),
                "la identificación del adquirente se incluyó con su dígito de verificación",
            )
        )
    if facts.line_taxes != facts.header_taxes:
        lt = facts.line_taxes
        variants.append(
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
    for label, variant, why in variants:
        if variant.digest() == declared:
            return UuidCheck(False, expected, facts.uuid, base, label, why)
    return UuidCheck(
        False,
        expected,
        facts.uuid,
        base,
        "ClTec/PIN",
        f"ningún error conocido reproduce el {name} del documento; lo más probable es que "
        f"{secret_hint} no sea la que usó el software emisor, o que el documento se modificara "
        "después de calcularlo",
    )
