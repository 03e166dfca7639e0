"""The checks DIAN runs that need the document read whole, and the registry-dependent ones.

:func:`check_document` is pure and CPU-bound (XSD, signature, hashes). It stops
at the first of: unreadable or unsafe XML, a root that is not an invoice/note,
schema errors (ZB01 alone, as DIAN answers). Otherwise every rule is checked and
reported, DIAN's way: the check goes on after a failure.

With ``registry`` None every registry rule is ``cannot_check``. With a registry
that is not ``authoritative`` an issuer it does not know makes the issuer rules
``cannot_check`` too (FAJ21 is not "unregistered" just because the local data
lacks it); FAJ21 is ``cannot_check`` even for an issuer it knows (only DIAN
confirms habilitación), and a SoftwareID or resolution the local data lacks
makes the software or numbering rules ``cannot_check`` rather than FAB24b/FAB05b.
What a local copy knows (DV, PIN, a known range's limits and dates, the
technical key) is checked as usual. The CUFE/CUDE is checked with ``key`` when
given (technical key for a CUFE, software PIN for a CUDE); otherwise with
DIAN's public habilitación key for invoices that declare ProfileExecutionID 2,
or the registry's range key / software PIN; else it is ``cannot_check``.

Codes (F… invoice, C… credit note, D… debit note):

=========================  =================================================================
ZB01                       unreadable XML, not an invoice/note, XSD error (first one appended)
ZE02                       signature value/references, or the policy ("Política de firma
                           inválida.")
FAD09e / CAD09e / DAD09e   IssueDate ≠ date of SigningTime in Colombia
FAD04 / CAD04 / DAD04      ProfileExecutionID ≠ the registry's environment
FAJ21 / CAJ21 / DAJ21      issuer not registered or not enabled
FAJ24 / CAJ24 / DAJ24      supplier DV ≠ the registered one
FAB24b / FAB19b / FAB27b   software unknown / ProviderID ≠ its provider / SoftwareSecurityCode
FAB05b, FAB10b, FAB11b,    numbering range (invoices): authorization, prefix (Notificación),
FAB12b, FAB07b, FAB08b,    from / to, validity dates (and IssueDate inside them), number in
FAD05d                     the range
FAD06 / CAD06 / DAD06      CUFE/CUDE recomputed ≠ cbc:UUID
FAJ71                      buyer registered as an acquirer with another e-mail
CBG02 / DBG02              note 20/30 without the referenced invoice
=========================  =================================================================
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from lxml import etree

from fe_tui import ns, xmlsafe
from fe_tui.checks.registry import IssuerRecord, Registry
from fe_tui.checks.results import Finding, Kind, Status, usual_kind
from fe_tui.crypto.verify import COLOMBIA_TZ, verify_document
from fe_tui.domain.colombia import HABILITACION_TEST_KEY
from fe_tui.domain.models import Resolution, Software
from fe_tui.errors import FeError
from fe_tui.ubl import xsd
from fe_tui.ubl.hashes import PIN_DOCUMENT_TYPES, software_security_code
from fe_tui.ubl.reader import DocumentFacts, diagnose_uuid, read_facts

POLICY_TEXT = "Política de firma inválida."
_PREFIX = {"Invoice": "F", "CreditNote": "C", "DebitNote": "D"}
_ROOTS = ("Invoice", "CreditNote", "DebitNote")
#: lxml keeps a schema's error log on the schema object: validate one document at a time.
_XSD_LOCK = threading.Lock()
SUPPLIER = "cac:AccountingSupplierParty/cac:Party/"
EXTENSIONS = "ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/sts:DianExtensions/"
CUSTOMER = "cac:AccountingCustomerParty/cac:Party/"


@dataclass
class Checked:
    """What :func:`check_document` learned about one document."""

    xml: bytes
    root: etree._Element | None = None
    root_name: str | None = None
    facts: DocumentFacts | None = None
    issuer: IssuerRecord | None = None
    software: Software | None = None
    range: Resolution | None = None
    customization_id: str | None = None
    #: (ID, UUID) of the invoice a note 20/30 refers to.
    reference: tuple[str, str] | None = None
    findings: list[Finding] = field(default_factory=list)

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
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.failed]

    def code(self, suffix: str) -> str:
        """The document-specific code: "AD06" → FAD06 / CAD06 / DAD06."""
        return _PREFIX.get(self.root_name or "Invoice", "F") + suffix

    def record(
        self,
        code: str,
        status: Status,
        *,
        kind: Kind | None = None,
        detail: str | None = None,
        xpath: str | None = None,
        value: str | None = None,
        text: str | None = None,
    ) -> None:
        self.findings.append(
            Finding(code, status, kind or usual_kind(code), detail, xpath, value, text)
        )

    def fail(
        self,
        code: str,
        detail: str | None = None,
        *,
        xpath: str | None = None,
        value: str | None = None,
        text: str | None = None,
    ) -> None:
        self.record(code, Status.FAILED, detail=detail, xpath=xpath, value=value, text=text)

    def check(
        self,
        code: str,
        ok: bool,
        detail: str | None = None,
        *,
        xpath: str | None = None,
        value: str | None = None,
    ) -> None:
        """One finding: passed when ``ok`` (detail dropped), failed otherwise."""
        status = Status.PASSED if ok else Status.FAILED
        self.record(code, status, detail=None if ok else detail, xpath=xpath, value=value)

    def cannot(self, code: str, why: str) -> None:
        self.record(code, Status.CANNOT_CHECK, detail=why)


def xsd_errors(root: etree._Element) -> list[str]:
    """:func:`fe_tui.ubl.xsd.schema_errors`, one document at a time (thread-safe)."""
    with _XSD_LOCK:
        return xsd.schema_errors(root)


def _text(root: etree._Element, path: str) -> str | None:
    found = root.find(path, ns.XPATH)
    return found.text.strip() if found is not None and found.text else None


_DIAN_EXTENSIONS = tuple(f"{{{uri}}}DianExtensions" for uri in ns.STS_ALTERNATIVES)


def dian_extensions(root: etree._Element) -> etree._Element | None:
    """The first sts:DianExtensions, in the namespace of ns.STS_ALTERNATIVES' earliest match."""
    found: dict[str, etree._Element] = {}
    for el in root.iter(*_DIAN_EXTENSIONS):
        found.setdefault(el.tag, el)
    for tag in _DIAN_EXTENSIONS:
        if tag in found:
            return found[tag]
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


def sts_text(ext: etree._Element | None, *path: str) -> str | None:
    node = _sts(ext, *path)
    return node.text.strip() if node is not None and node.text else None


def check_document(
    xml: bytes,
    registry: Registry | None,
    *,
    key: str | None = None,
    now: datetime | None = None,
) -> Checked:
    """Run every state-independent, registry-aware check DIAN runs on one document."""
    out = Checked(xml=xml)
    try:
        root = xmlsafe.parse_bytes(xml, what="el documento")
    except FeError as exc:
        out.fail("ZB01", exc.message)
        return out
    qname = etree.QName(root)
    if qname.localname not in _ROOTS or qname.namespace != ns.ROOT_NS.get(qname.localname):
        out.fail(
            "ZB01",
            f"la raíz <{qname.localname}> (espacio de nombres '{qname.namespace or ''}') no es "
            "una factura, nota crédito ni nota débito UBL 2.1",
        )
        return out
    out.root = root
    out.root_name = qname.localname
    try:
        errors = xsd_errors(root)
        if not errors:
            out.facts = read_facts(root)
    except FeError as exc:
        errors = [exc.message]
    if errors:
        out.fail("ZB01", errors[0])
        return out
    out.record("ZB01", Status.PASSED)
    facts = out.facts
    assert facts is not None
    out.customization_id = _text(root, "cbc:CustomizationID")

    _signature(out, xml, root, facts, now)
    if registry is None:
        out.cannot(out.code("AD04"), "sin registro no se sabe a qué ambiente va el documento")
    else:
        out.check(
            out.code("AD04"),
            facts.environment == registry.profile_execution_id,
            f"ProfileExecutionID {facts.environment}; este ambiente espera "
            f"{registry.profile_execution_id}",
            xpath=f"/{out.root_name}/cbc:ProfileExecutionID",
            value=facts.environment,
        )
    _issuer(out, root, registry, facts)
    ext = dian_extensions(root)
    _software(out, ext, registry, facts)
    if out.root_name == "Invoice":
        _numbering(out, ext, registry, facts)
    _uuid(out, registry, facts, key)
    if out.root_name == "Invoice":
        _acquirer_email(out, root, registry)
    if out.root_name in ("CreditNote", "DebitNote") and out.customization_id in ("20", "30"):
        ref_id = _text(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID")
        ref_uuid = _text(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:UUID")
        code = "CBG02" if out.root_name == "CreditNote" else "DBG02"
        out.check(
            code,
            bool(ref_id and ref_uuid),
            f"el tipo de operación {out.customization_id} exige BillingReference con ID y UUID "
            "de la factura",
            xpath=f"/{out.root_name}/cac:BillingReference/cac:InvoiceDocumentReference",
        )
        if ref_id and ref_uuid:
            out.reference = (ref_id, ref_uuid.lower())
    return out


def _signature(
    out: Checked, xml: bytes, root: etree._Element, facts: DocumentFacts, now: datetime | None
) -> None:
    sig = (
        f"/{out.root_name}/ext:UBLExtensions/ext:UBLExtension[2]/ext:ExtensionContent/ds:Signature"
    )
    try:
        report = verify_document(xml, now=now or datetime.now(UTC), root=root)
    except FeError as exc:
        out.fail("ZE02", exc.message, xpath=sig)
        return
    problems = [c.message for c in report.failed_checks()]
    out.check("ZE02", report.valid, "; ".join(problems[:2]) or None, xpath=sig)
    policy = report.check("policy")
    if policy is not None and policy.ok is False:
        out.fail("ZE02", policy.message, xpath=sig, text=POLICY_TEXT)
    signed = report.signing_time_colombia or (
        report.signing_time.astimezone(COLOMBIA_TZ) if report.signing_time else None
    )
    if signed is None:
        out.cannot(out.code("AD09e"), "el documento no trae una hora de firma legible")
    else:
        out.check(
            out.code("AD09e"),
            signed.date().isoformat() == facts.issue_date,
            f"IssueDate {facts.issue_date}; se firmó el {signed.date().isoformat()} (hora de "
            "Colombia)",
            xpath=f"/{out.root_name}/cbc:IssueDate",
            value=facts.issue_date,
        )


def _issuer(
    out: Checked, root: etree._Element, registry: Registry | None, facts: DocumentFacts
) -> None:
    nit = facts.components.supplier_id
    if registry is None:
        out.cannot(out.code("AJ21"), "sin registro no se sabe si el emisor está habilitado")
        out.cannot(out.code("AJ24"), "sin registro no se conoce el DV registrado del emisor")
        return
    issuer = registry.issuer(nit)
    if issuer is None and not registry.authoritative:
        why = f"el emisor {nit} no está en los datos locales"
        out.cannot(out.code("AJ21"), why)
        out.cannot(out.code("AJ24"), why)
        return
    xpath = f"/{out.root_name}/{SUPPLIER}cac:PartyTaxScheme/cbc:CompanyID"
    if not registry.authoritative:
        # A local copy knows the issuer's data (DV, software, ranges) but cannot confirm
        # DIAN's habilitación: the rules below use the record, FAJ21 stays undecided.
        out.issuer = issuer
        out.cannot(
            out.code("AJ21"),
            f"el emisor {nit} está en los datos locales, pero solo la DIAN confirma que esté "
            "habilitado en este ambiente",
        )
    else:
        out.issuer = issuer if issuer is not None and issuer.enabled else None
        out.check(
            out.code("AJ21"),
            out.issuer is not None,
            f"el NIT {nit} no está habilitado como facturador en este ambiente",
            xpath=xpath,
            value=nit,
        )
    if out.issuer is None:
        return
    el = root.find(SUPPLIER + "cac:PartyTaxScheme/cbc:CompanyID", ns.XPATH)
    declared = el.get("schemeID") if el is not None else None
    out.check(
        out.code("AJ24"),
        declared in (None, out.issuer.dv),
        f"DV {declared}; el registrado es {out.issuer.dv}",
        xpath=xpath + "/@schemeID",
        value=declared,
    )


def _software(
    out: Checked, ext: etree._Element | None, registry: Registry | None, facts: DocumentFacts
) -> None:
    codes = [out.code("AB24b"), out.code("AB19b"), out.code("AB27b")]
    base = f"/{out.root_name}/{EXTENSIONS}"
    if registry is None:
        for code in codes:
            out.cannot(code, "sin registro no se conocen el software ni su PIN")
        return
    software_id = sts_text(ext, "SoftwareProvider", "SoftwareID") or ""
    issuer_known = out.issuer is not None or registry.issuer(facts.components.supplier_id)
    software: Software | None
    if out.issuer is not None:
        software = next(
            (s for s in out.issuer.software if s.software_id.lower() == software_id.lower()), None
        )
    else:
        found = registry.software(software_id)
        software = found[1] if found else None
    if software is None and not registry.authoritative:
        # The local data may hold only one of the issuer's registered software.
        why = (
            f"el SoftwareID {software_id or '(vacío)'} no está en los datos locales del emisor"
            if issuer_known
            else "el software no está en los datos locales"
        )
        for code in codes:
            out.cannot(code, why)
        return
    out.check(
        codes[0],
        software is not None,
        f"el SoftwareID {software_id or '(vacío)'} no está registrado para este emisor",
        xpath=base + "sts:SoftwareProvider/sts:SoftwareID",
        value=software_id,
    )
    if software is None:
        return
    out.software = software
    provider = sts_text(ext, "SoftwareProvider", "ProviderID")
    out.check(
        codes[1],
        provider is None or provider == software.provider_nit,
        f"ProviderID {provider}; el proveedor del software es {software.provider_nit}",
        xpath=base + "sts:SoftwareProvider/sts:ProviderID",
        value=provider,
    )
    declared = (sts_text(ext, "SoftwareSecurityCode") or "").lower()
    expected = software_security_code(software.software_id, software.pin, facts.document_id)
    out.check(
        codes[2],
        declared == expected,
        "SoftwareSecurityCode no es SHA-384(SoftwareID + PIN + número)",
        xpath=base + "sts:SoftwareSecurityCode",
        value=declared,
    )


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


NUMBERING = ("FAB05b", "FAB10b", "FAB11b", "FAB12b", "FAB07b", "FAB08b", "FAD05d")


def split_number(document_id: str, prefix: str | None = None) -> tuple[str, str]:
    """``("SETP", "990000001")``: the series and the consecutive of a document ID."""
    if prefix and document_id.startswith(prefix) and document_id[len(prefix) :].isdigit():
        return prefix, document_id[len(prefix) :]
    digits = len(document_id) - len(document_id.rstrip("0123456789"))
    if digits == 0:
        return "", document_id
    return document_id[:-digits], document_id[-digits:]


def _numbering(
    out: Checked, ext: etree._Element | None, registry: Registry | None, facts: DocumentFacts
) -> None:
    if out.issuer is None:
        why = (
            "sin registro no se conocen los rangos autorizados"
            if registry is None
            else "el emisor no está habilitado o no está en los datos locales"
        )
        for code in NUMBERING:
            out.cannot(code, why)
        return
    control = f"/{out.root_name}/{EXTENSIONS}sts:InvoiceControl/"
    authorization = sts_text(ext, "InvoiceControl", "InvoiceAuthorization")
    prefix = sts_text(ext, "InvoiceControl", "AuthorizedInvoices", "Prefix") or ""
    ranges = [r for r in out.issuer.ranges if r.number == authorization]
    chosen = next((r for r in ranges if r.prefix == prefix), ranges[0] if ranges else None)
    if chosen is None and registry is not None and not registry.authoritative:
        why = f"la resolución {authorization} no está en los datos locales del emisor"
        for code in NUMBERING:
            out.cannot(code, why)
        return
    out.check(
        "FAB05b",
        chosen is not None,
        f"la resolución {authorization} no es una de las del emisor",
        xpath=control + "sts:InvoiceAuthorization",
        value=authorization,
    )
    if chosen is None:
        for code in NUMBERING[1:]:
            out.cannot(code, "sin una resolución del emisor no hay rango con qué comparar")
        return
    out.range = chosen
    out.check(
        "FAB10b",
        prefix == chosen.prefix,
        f"prefijo {prefix!r}; el rango tiene {chosen.prefix!r}",
        value=prefix,
    )
    start_from = sts_text(ext, "InvoiceControl", "AuthorizedInvoices", "From")
    out.check(
        "FAB11b",
        start_from == str(chosen.from_number),
        f"From {start_from}; el rango empieza en {chosen.from_number}",
        value=start_from,
    )
    end_to = sts_text(ext, "InvoiceControl", "AuthorizedInvoices", "To")
    out.check(
        "FAB12b",
        end_to == str(chosen.to_number),
        f"To {end_to}; el rango termina en {chosen.to_number}",
        value=end_to,
    )
    start = _date(sts_text(ext, "InvoiceControl", "AuthorizationPeriod", "cbc:StartDate"))
    end = _date(sts_text(ext, "InvoiceControl", "AuthorizationPeriod", "cbc:EndDate"))
    issue = _date(facts.issue_date)
    out.check(
        "FAB07b",
        start == chosen.valid_from and not (issue is not None and issue < chosen.valid_from),
        f"inicio {start}; la resolución rige desde {chosen.valid_from}",
    )
    out.check(
        "FAB08b",
        end == chosen.valid_to and not (issue is not None and issue > chosen.valid_to),
        f"fin {end}; la resolución rige hasta {chosen.valid_to}",
    )
    series, digits = split_number(facts.document_id, chosen.prefix)
    out.check(
        "FAD05d",
        series == chosen.prefix and digits.isdigit() and chosen.contains(int(digits)),
        f"el número {facts.document_id} no está en {chosen.prefix} "
        f"{chosen.from_number}–{chosen.to_number}",
        xpath="/Invoice/cbc:ID",
        value=facts.document_id,
    )


def _uuid(out: Checked, registry: Registry | None, facts: DocumentFacts, key: str | None) -> None:
    code = out.code("AD06")
    uses_pin = facts.document_type in PIN_DOCUMENT_TYPES
    secret: str | None = key
    if secret is None:
        if uses_pin:
            secret = out.software.pin if out.software is not None else None
        elif (registry.profile_execution_id if registry is not None else facts.environment) == "2":
            # Habilitación: DIAN checks every CUFE with its public test key (SPEC §7.1).
            secret = HABILITACION_TEST_KEY
        else:
            secret = out.range.technical_key if out.range is not None else None
    if secret is None:
        what = "el PIN del software" if uses_pin else "la clave técnica del rango"
        out.cannot(code, f"sin {what} no se puede recalcular (use --key)")
        return
    check = diagnose_uuid(facts, secret)
    out.check(
        code,
        check.matches,
        f"componente {check.culprit}: {check.explanation}",
        xpath=f"/{out.root_name}/cbc:UUID",
        value=facts.uuid,
    )


def _acquirer_email(out: Checked, root: etree._Element, registry: Registry | None) -> None:
    """FAJ71: the buyer's e-mail must be the reception e-mail it registered (Res. 000202/2025)."""
    email = _text(root, CUSTOMER + "cac:Contact/cbc:ElectronicMail")
    if not email:
        return
    id_el = root.find(CUSTOMER + "cac:PartyTaxScheme/cbc:CompanyID", ns.XPATH)
    if id_el is None or not (id_el.text or "").strip():
        id_el = root.find(CUSTOMER + "cac:PartyIdentification/cbc:ID", ns.XPATH)
    if id_el is None or not (id_el.text or "").strip():
        return
    if registry is None:
        out.cannot("FAJ71", "sin registro no se conoce el correo registrado del comprador")
        return
    registered = registry.acquirer((id_el.text or "").strip(), id_el.get("schemeName"))
    if registered is None:
        out.cannot("FAJ71", "el comprador no está entre los adquirientes conocidos aquí")
        return
    out.check(
        "FAJ71",
        registered.email.strip().casefold() == email.casefold(),
        f"correo {email}; el registrado ante la DIAN es {registered.email}",
        xpath=f"/Invoice/{CUSTOMER}cac:Contact/cbc:ElectronicMail",
        value=email,
    )
