"""The document checks DIAN runs on an invoice or note, done locally (SPEC §3, §8, §10).

:func:`check_document` is pure (it reads only the configuration) and CPU-bound
(XSD, signature, hashes: a few milliseconds), so the app runs it in a worker
thread. The checks that need the simulator's memory (Regla 90 duplicates,
the invoice a note refers to) live in :func:`reference_rules` and run under
the app's lock.

Every failure is the message DIAN writes, from the rule catalogue
(:func:`fe_tui.dian.rules.message`); DIAN lists every rule that failed, so the
checks go on after a failure, except when the document cannot be read at all
(unsafe or malformed XML, wrong root, schema errors: ZB01 alone).

Codes emitted (F… invoice, C… credit note, D… debit note):

=========================  =================================================================
ZB01                       unreadable XML, not an invoice/note, XSD error (first one appended)
ZE02                       signature value/references ("Valor de la firma inválido.") or
                           policy ("Política de firma inválida.")
FAD09e / CAD09e / DAD09e   IssueDate ≠ date of SigningTime in Colombia
FAD04 / CAD04 / DAD04      ProfileExecutionID ≠ the simulator's environment (2 habilitación)
FAJ21 / CAJ21 / DAJ21      issuer not registered or not enabled
FAJ24 / CAJ24 / DAJ24      supplier DV ≠ the registered one
FAB24b / CAB24b / DAB24b   SoftwareID not registered (for this issuer)
FAB19b / CAB19b / DAB19b   ProviderID ≠ the software's provider
FAB27b / CAB27b / DAB27b   SoftwareSecurityCode ≠ SHA-384(SoftwareID + PIN + ID)
FAB05b                     InvoiceAuthorization not among the issuer's ranges (or missing)
FAB10b (Notificación)      AuthorizedInvoices/Prefix ≠ the range's prefix
FAB11b / FAB12b            From / To ≠ the range's
FAB07b / FAB08b            AuthorizationPeriod start / end ≠ the range's, and also IssueDate
                           before the start / after the end of the range's validity: DIAN
                           compares against the *vigentes* ranges, and an expired range is
                           not one (the catalogue has no separate "fuera de vigencia" code)
FAD05d                     number outside the range (or not under the range's prefix)
FAD06 / CAD06 / DAD06      CUFE/CUDE recomputed ≠ cbc:UUID (habilitación: DIAN's test key)
FAJ71                      invoice buyer registered as an acquirer (config.acquirers) and
                           Contact/ElectronicMail ≠ its registered e-mail (case-insensitive);
                           no e-mail in the document, or an unregistered buyer: not checked
CBG02 / DBG02              note 20/30 without the referenced invoice
CBG04a / DBG04a            referenced invoice not accepted here (state)
CBG04b / DBG04b            referenced invoice of another issuer (state)
90                         same issuer + type + number already accepted (state)
=========================  =================================================================

Codes not in the catalogue are built locally in DIAN's format with the text
of the invoice (F…) variant, or a wording in DIAN's style: see
:data:`LOCAL_TEXTS`.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal

from lxml import etree

from fe_tui import ns, xmlsafe
from fe_tui.crypto.verify import COLOMBIA_TZ, verify_document
from fe_tui.dian import rules
from fe_tui.dian.messages import RuleMessage
from fe_tui.dian.simulator.config import Issuer, SimulatorConfig
from fe_tui.dian.simulator.state import State
from fe_tui.domain.colombia import HABILITACION_TEST_KEY
from fe_tui.domain.models import Resolution, Software
from fe_tui.errors import FeError
from fe_tui.ubl import xsd
from fe_tui.ubl.hashes import PIN_DOCUMENT_TYPES, software_security_code
from fe_tui.ubl.reader import DocumentFacts, diagnose_uuid, read_facts

Kind = Literal["Rechazo", "Notificación"]

#: Texts for codes the catalogue lacks (and ZE02's policy variant).
LOCAL_TEXTS: dict[str, str] = {
    "ZE02/policy": "Política de firma inválida.",
    "AD04": "El valor de ProfileExecutionID no corresponde al ambiente de destino.",
}

_PREFIX = {"Invoice": "F", "CreditNote": "C", "DebitNote": "D"}
_ROOTS = ("Invoice", "CreditNote", "DebitNote")
_DOC_NAMES = {
    "01": "Factura electrónica",
    "02": "Factura electrónica de exportación",
    "03": "Factura electrónica de contingencia",
    "04": "Factura electrónica de contingencia DIAN",
    "91": "Nota crédito electrónica",
    "92": "Nota débito electrónica",
}
_SPLIT = re.compile(r"^(?P<prefix>.*?)(?P<digits>\d+)$")
#: lxml keeps a schema's error log on the schema object: validate one document at a time.
_XSD_LOCK = threading.Lock()


def rule(
    code: str, kind: Kind | None = None, *, detail: str | None = None, **values: str
) -> RuleMessage:
    """DIAN's message for ``code``; ``detail`` is appended after a colon (ZB01's first error)."""
    try:
        msg = rules.message(code, kind, **values)
    except KeyError:
        msg = _local(code, kind)
    if detail:
        msg = RuleMessage.parse(f"Regla: {msg.code}, {msg.kind}: {msg.text.rstrip('.')}: {detail}")
    return msg


def _local(code: str, kind: Kind | None) -> RuleMessage:
    text = LOCAL_TEXTS.get(code[1:]) if code[:1] in "FCD" else None
    if text is None and code[:1] in "CD":
        base = rules.get("F" + code[1:]) or rules.get("C" + code[1:])
        text = base.dian_text if base is not None else None
        kind = kind or (base.kind if base is not None else None)
    if text is None:
        text = LOCAL_TEXTS.get(code, "Validación no superada.")
    return RuleMessage.parse(f"Regla: {code}, {kind or 'Rechazo'}: {text}")


def policy_rule() -> RuleMessage:
    return RuleMessage.parse(f"Regla: ZE02, Rechazo: {LOCAL_TEXTS['ZE02/policy']}")


def document_name(document_type: str) -> str:
    """The document's name in StatusMessage, e.g. "Factura electrónica"."""
    return _DOC_NAMES.get(document_type, "Documento electrónico")


def split_number(document_id: str, prefix: str | None = None) -> tuple[str, str]:
    """``("SETP", "990000001")``: the series and the consecutive of a document ID."""
    if prefix and document_id.startswith(prefix) and document_id[len(prefix) :].isdigit():
        return prefix, document_id[len(prefix) :]
    m = _SPLIT.match(document_id)
    return (m.group("prefix"), m.group("digits")) if m else ("", document_id)


@dataclass
class Checked:
    """What :func:`check_document` learned about one document."""

    xml: bytes
    root_name: str | None = None
    facts: DocumentFacts | None = None
    issuer: Issuer | None = None
    software: Software | None = None
    range: Resolution | None = None
    customization_id: str | None = None
    #: (ID, UUID) of the invoice a note 20/30 refers to.
    reference: tuple[str, str] | None = None
    rules: list[RuleMessage] = field(default_factory=list)

    @property
    def document_type(self) -> str | None:
        return self.facts.document_type if self.facts else None

    @property
    def key(self) -> str | None:
        return self.facts.uuid.lower() if self.facts and self.facts.uuid else None

    @property
    def issuer_nit(self) -> str | None:
        return self.facts.components.supplier_id if self.facts else None

    @property
    def rejections(self) -> list[RuleMessage]:
        return [r for r in self.rules if r.kind == "Rechazo"]

    @property
    def notifications(self) -> list[RuleMessage]:
        return [r for r in self.rules if r.kind == "Notificación"]

    def code(self, suffix: str) -> str:
        """The document-specific code: "AD06" → FAD06 / CAD06 / DAD06."""
        return _PREFIX.get(self.root_name or "Invoice", "F") + suffix

    def add(self, code: str, kind: Kind | None = None, **values: str) -> None:
        self.rules.append(rule(code, kind, **values))


def xsd_errors(root: etree._Element) -> list[str]:
    """:func:`fe_tui.ubl.xsd.schema_errors`, one document at a time (thread-safe)."""
    with _XSD_LOCK:
        return xsd.schema_errors(root)


def _text(root: etree._Element, path: str) -> str | None:
    found = root.find(path, ns.XPATH)
    return found.text.strip() if found is not None and found.text else None


def _dian_extensions(root: etree._Element) -> etree._Element | None:
    for uri in ns.STS_ALTERNATIVES:
        found = root.find(f".//{{{uri}}}DianExtensions")
        if found is not None:
            return found
    return None


def _sts(ext: etree._Element | None, *path: str) -> etree._Element | None:
    if ext is None:
        return None
    uri = etree.QName(ext).namespace
    node: etree._Element | None = ext
    for step in path:
        if node is None:
            return None
        tag = f"{{{ns.CBC}}}{step[4:]}" if step.startswith("cbc:") else f"{{{uri}}}{step}"
        node = node.find(tag)
    return node


def _sts_text(ext: etree._Element | None, *path: str) -> str | None:
    node = _sts(ext, *path)
    return node.text.strip() if node is not None and node.text else None


def check_document(xml: bytes, config: SimulatorConfig, *, now: datetime | None = None) -> Checked:
    """Run every state-independent check DIAN runs on one document."""
    out = Checked(xml=xml)
    try:
        root = xmlsafe.parse_bytes(xml, what="el documento")
    except FeError as exc:
        out.rules.append(rule("ZB01", detail=exc.message))
        return out
    qname = etree.QName(root)
    if qname.localname not in _ROOTS or qname.namespace != ns.ROOT_NS.get(qname.localname):
        out.rules.append(
            rule(
                "ZB01",
                detail=(
                    f"la raíz <{qname.localname}> (espacio de nombres "
                    f"'{qname.namespace or ''}') no es una factura, nota crédito ni nota débito "
                    "UBL 2.1"
                ),
            )
        )
        return out
    out.root_name = qname.localname
    try:
        errors = xsd_errors(root)
        if not errors:
            out.facts = read_facts(root)
    except FeError as exc:
        errors = [exc.message]
    if errors:
        out.rules.append(rule("ZB01", detail=errors[0]))
        return out
    facts = out.facts
    assert facts is not None
    out.customization_id = _text(root, "cbc:CustomizationID")

    _signature(out, xml, facts, now)
    if facts.environment != config.profile_execution_id:
        out.add(out.code("AD04"))

    issuer = config.issuer(facts.components.supplier_id)
    out.issuer = issuer if issuer is not None and issuer.enabled else None
    if out.issuer is None:
        out.add(out.code("AJ21"))
    else:
        dv = root.find(
            "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID", ns.XPATH
        )
        if dv is not None and dv.get("schemeID") not in (None, out.issuer.dv):
            out.add(out.code("AJ24"))

    ext = _dian_extensions(root)
    _software(out, ext, config, facts)
    if out.root_name == "Invoice":
        _numbering(out, ext, facts)
    _uuid(out, config, facts)
    if out.root_name == "Invoice":
        _acquirer_email(out, root, config)
    if out.root_name in ("CreditNote", "DebitNote") and out.customization_id in ("20", "30"):
        ref_id = _text(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID")
        ref_uuid = _text(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:UUID")
        if not ref_id or not ref_uuid:
            out.add("CBG02" if out.root_name == "CreditNote" else "DBG02")
        else:
            out.reference = (ref_id, ref_uuid.lower())
    return out


def _signature(out: Checked, xml: bytes, facts: DocumentFacts, now: datetime | None) -> None:
    try:
        report = verify_document(xml, now=now or datetime.now(UTC))
    except FeError:
        out.add("ZE02")
        return
    if not report.valid:
        out.add("ZE02")
    policy = report.check("policy")
    if policy is not None and policy.ok is False:
        out.rules.append(policy_rule())
    signed = report.signing_time_colombia or (
        report.signing_time.astimezone(COLOMBIA_TZ) if report.signing_time else None
    )
    if signed is not None and signed.date().isoformat() != facts.issue_date:
        out.add(out.code("AD09e"))


def _software(
    out: Checked, ext: etree._Element | None, config: SimulatorConfig, facts: DocumentFacts
) -> None:
    software_id = _sts_text(ext, "SoftwareProvider", "SoftwareID") or ""
    candidates = out.issuer.software if out.issuer is not None else None
    if candidates is None:
        found = config.software(software_id)
        software = found[1] if found else None
    else:
        software = next(
            (s for s in candidates if s.software_id.lower() == software_id.lower()), None
        )
    if software is None:
        out.add(out.code("AB24b"))
        return
    out.software = software
    provider = _sts_text(ext, "SoftwareProvider", "ProviderID")
    if provider is not None and provider != software.provider_nit:
        out.add(out.code("AB19b"))
    declared = (_sts_text(ext, "SoftwareSecurityCode") or "").lower()
    expected = software_security_code(software.software_id, software.pin, facts.document_id)
    if declared != expected:
        out.add(out.code("AB27b"))


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _numbering(out: Checked, ext: etree._Element | None, facts: DocumentFacts) -> None:
    authorization = _sts_text(ext, "InvoiceControl", "InvoiceAuthorization")
    prefix = _sts_text(ext, "InvoiceControl", "AuthorizedInvoices", "Prefix") or ""
    issuer = out.issuer
    if issuer is None:
        return  # FAJ21 already says why nothing is registered
    ranges = [r for r in issuer.ranges if r.number == authorization]
    chosen = next((r for r in ranges if r.prefix == prefix), ranges[0] if ranges else None)
    if chosen is None:
        out.add("FAB05b")
        return
    out.range = chosen
    if prefix != chosen.prefix:
        out.add("FAB10b")
    if _sts_text(ext, "InvoiceControl", "AuthorizedInvoices", "From") != str(chosen.from_number):
        out.add("FAB11b")
    if _sts_text(ext, "InvoiceControl", "AuthorizedInvoices", "To") != str(chosen.to_number):
        out.add("FAB12b")
    start = _date(_sts_text(ext, "InvoiceControl", "AuthorizationPeriod", "cbc:StartDate"))
    end = _date(_sts_text(ext, "InvoiceControl", "AuthorizationPeriod", "cbc:EndDate"))
    issue = _date(facts.issue_date)
    if start != chosen.valid_from or (issue is not None and issue < chosen.valid_from):
        out.add("FAB07b")
    if end != chosen.valid_to or (issue is not None and issue > chosen.valid_to):
        out.add("FAB08b")
    series, digits = split_number(facts.document_id, chosen.prefix)
    if series != chosen.prefix or not digits.isdigit() or not chosen.contains(int(digits)):
        out.add("FAD05d")


def _uuid(out: Checked, config: SimulatorConfig, facts: DocumentFacts) -> None:
    if facts.document_type in PIN_DOCUMENT_TYPES:
        secret = out.software.pin if out.software is not None else None
    elif config.environment == "habilitacion":
        secret = HABILITACION_TEST_KEY
    else:
        secret = out.range.technical_key if out.range is not None else None
    if secret is None:
        return  # the missing software / range is already reported
    if not diagnose_uuid(facts, secret).matches:
        out.add(out.code("AD06"))


def _acquirer_email(out: Checked, root: etree._Element, config: SimulatorConfig) -> None:
    """FAJ71: the buyer's e-mail must be the reception e-mail it registered (Res. 000202/2025)."""
    party = "cac:AccountingCustomerParty/cac:Party/"
    email = _text(root, party + "cac:Contact/cbc:ElectronicMail")
    if not email:
        return
    id_el = root.find(party + "cac:PartyTaxScheme/cbc:CompanyID", ns.XPATH)
    if id_el is None or not (id_el.text or "").strip():
        id_el = root.find(party + "cac:PartyIdentification/cbc:ID", ns.XPATH)
    if id_el is None or not (id_el.text or "").strip():
        return
    registered = config.acquirer((id_el.text or "").strip(), id_el.get("schemeName"))
    if registered is not None and registered.email.strip().casefold() != email.casefold():
        out.add("FAJ71", "Rechazo")


def status_message(document_type: str, document_id: str, prefix: str | None = None) -> str:
    """StatusMessage when accepted: "La Factura electrónica SETP-1, ha sido autorizada."."""
    series, number = split_number(document_id, prefix)
    shown = f"{series}-{number}" if series else number
    return f"La {document_name(document_type)} {shown}, ha sido autorizada."


def reference_rules(checked: Checked, state: State) -> list[RuleMessage]:
    """CBG04a/CBG04b (DBG04a/DBG04b): the invoice a note refers to, as this simulator knows it."""
    if checked.reference is None:
        return []
    letter = "C" if checked.root_name == "CreditNote" else "D"
    _, ref_uuid = checked.reference
    invoice = state.documents.get(ref_uuid)
    if invoice is None or not invoice.accepted:
        return [rule(f"{letter}BG04a")]
    if invoice.issuer_nit != checked.issuer_nit:
        return [rule(f"{letter}BG04b")]
    return []
