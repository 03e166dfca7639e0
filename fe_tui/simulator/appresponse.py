"""DIAN's verdict document: a signed UBL 2.1 ApplicationResponse (SPEC §2.12, §5.4).

DIAN answers every processed document with an ApplicationResponse: ResponseCode
``02`` "Documento validado por la DIAN" or ``04`` "Documento rechazado por la
DIAN", one ``cac:LineResponse`` per rule applied (code and text), the
document's ID and CUFE/CUDE in ``cac:DocumentReference``, DIAN (800197268) as
sender and the issuer as receiver. The buyer's AttachedDocument embeds it.

The simulator signs it with its own certificate, generated once per process
(RSA 2048, "CN=Simulador local DIAN (doble de pruebas)", serialNumber
800197268) and never trusted by anything real: it is a test double. The
document validates against the ApplicationResponse XSD and
:func:`fe_tui.crypto.verify.verify_document` accepts its signature.

Differences from DIAN's own (on purpose, documented): the first UBLExtension
carries a ``sts:QRCode`` (our DIAN-extension schema requires it; DIAN's AR
omits it), and no filler ``LineResponse`` "0000"/"0" is written.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from fe_tui import ns
from fe_tui.crypto import xades
from fe_tui.crypto.certificates import self_signed_signing_certificate
from fe_tui.dian.messages import RuleMessage
from fe_tui.domain.colombia import COLOMBIA_TZ, DIAN_DV, DIAN_NAME, DIAN_NIT
from fe_tui.ubl.builder import dian_extensions
from fe_tui.ubl.builder import sub as _sub
from fe_tui.ubl.hashes import qr_url, sha384_hex

SUBJECT_CN = "Simulador local DIAN (doble de pruebas)"
#: SoftwareID and PIN the simulator writes in its own DianExtensions (not DIAN's).
SIMULATOR_SOFTWARE_ID = "00000000-0000-4000-8000-0000d1a05100"
SIMULATOR_PIN = "00000"
ACCEPTED_CODE, REJECTED_CODE = "02", "04"
DESCRIPTIONS = {
    ACCEPTED_CODE: "Documento validado por la DIAN",
    REJECTED_CODE: "Documento rechazado por la DIAN",
}
PROFILE_ID = "DIAN 2.1"

CAC = f"{{{ns.CAC}}}"
CBC = f"{{{ns.CBC}}}"
EXT = f"{{{ns.EXT}}}"
STS = f"{{{ns.STS}}}"
_NSMAP: dict[str | None, str] = {
    None: ns.APPLICATION_RESPONSE,
    "cac": ns.CAC,
    "cbc": ns.CBC,
    "ext": ns.EXT,
    "sts": ns.STS,
    "ds": ns.DS,
    "xades": ns.XADES,
    "xades141": ns.XADES141,
}


@dataclass
class SimulatorCertificate:
    """The simulator's signing key and certificate (fits ``xades.SigningKey``)."""

    private_key: rsa.RSAPrivateKey = field(repr=False)
    certificate: x509.Certificate


@functools.cache
def simulator_certificate() -> SimulatorCertificate:
    """A self-signed certificate made once per process; never trusted anywhere real."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CO"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "fe-tui"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, DIAN_NIT),
            x509.NameAttribute(NameOID.COMMON_NAME, SUBJECT_CN),
        ]
    )
    cert = self_signed_signing_certificate(key, name, days=3650)
    return SimulatorCertificate(key, cert)


@dataclass(frozen=True)
class Verdict:
    """What the ApplicationResponse says about one document."""

    document_id: str
    document_key: str
    uuid_scheme: str  #: "CUFE-SHA384" or "CUDE-SHA384"
    document_type: str
    issuer_nit: str
    issuer_dv: str | None
    issuer_name: str | None
    accepted: bool
    rules: Sequence[RuleMessage] = ()


def _party(parent: etree._Element, tag: str, name: str | None, nit: str, dv: str | None) -> None:
    pts = _sub(_sub(parent, CAC + tag), CAC + "PartyTaxScheme")
    if name:
        _sub(pts, CBC + "RegistrationName", name)
    attrs = {"schemeID": dv, "schemeName": "31"} if dv else {"schemeName": "31"}
    _sub(pts, CBC + "CompanyID", nit, **attrs)
    scheme = _sub(pts, CAC + "TaxScheme")
    _sub(scheme, CBC + "ID", "01")
    _sub(scheme, CBC + "Name", "IVA")


def build(
    verdict: Verdict, *, ar_number: int, environment: str, issued_at: datetime | None = None
) -> etree._Element:
    """The unsigned ApplicationResponse tree (empty second UBLExtension for the signature)."""
    when = (issued_at or datetime.now(UTC)).astimezone(COLOMBIA_TZ)
    issue_date = when.date().isoformat()
    issue_time = when.strftime("%H:%M:%S") + "-05:00"
    code = ACCEPTED_CODE if verdict.accepted else REJECTED_CODE
    ar_id = str(ar_number)
    # CUDE of an event (SPEC §3.4), with the simulator's own PIN.
    cude = sha384_hex(
        f"{ar_id}{issue_date}{issue_time}{DIAN_NIT}{verdict.issuer_nit}{code}"
        f"{verdict.document_id}{verdict.document_type}{SIMULATOR_PIN}"
    )

    root = etree.Element(f"{{{ns.APPLICATION_RESPONSE}}}ApplicationResponse", nsmap=_NSMAP)
    exts = _sub(root, EXT + "UBLExtensions")
    dian_extensions(
        _sub(_sub(exts, EXT + "UBLExtension"), EXT + "ExtensionContent"),
        software_id=SIMULATOR_SOFTWARE_ID,
        pin=SIMULATOR_PIN,
        provider_nit=DIAN_NIT,
        provider_dv=DIAN_DV,
        document_id=ar_id,
        qr=qr_url(int(environment), verdict.document_key),
    )
    _sub(_sub(exts, EXT + "UBLExtension"), EXT + "ExtensionContent")

    _sub(root, CBC + "UBLVersionID", "UBL 2.1")
    _sub(root, CBC + "CustomizationID", "1")
    _sub(root, CBC + "ProfileID", PROFILE_ID)
    _sub(root, CBC + "ProfileExecutionID", environment)
    _sub(root, CBC + "ID", ar_id)
    _sub(root, CBC + "UUID", cude, schemeName="CUDE-SHA384")
    _sub(root, CBC + "IssueDate", issue_date)
    _sub(root, CBC + "IssueTime", issue_time)
    _party(root, "SenderParty", DIAN_NAME, DIAN_NIT, DIAN_DV)
    _party(root, "ReceiverParty", verdict.issuer_name, verdict.issuer_nit, verdict.issuer_dv)

    dr = _sub(root, CAC + "DocumentResponse")
    response = _sub(dr, CAC + "Response")
    _sub(response, CBC + "ResponseCode", code)
    _sub(response, CBC + "Description", DESCRIPTIONS[code])
    ref = _sub(dr, CAC + "DocumentReference")
    _sub(ref, CBC + "ID", verdict.document_id)
    _sub(ref, CBC + "UUID", verdict.document_key, schemeName=verdict.uuid_scheme)
    for line_id, rule in enumerate(verdict.rules, start=1):
        lr = _sub(dr, CAC + "LineResponse")
        _sub(_sub(lr, CAC + "LineReference"), CBC + "LineID", str(line_id))
        resp = _sub(lr, CAC + "Response")
        _sub(resp, CBC + "ResponseCode", rule.code or "")
        _sub(resp, CBC + "Description", rule.text)
    return root


def signed(
    verdict: Verdict,
    *,
    ar_number: int,
    environment: str,
    issued_at: datetime | None = None,
    signer: SimulatorCertificate | None = None,
) -> bytes:
    """Build and sign the ApplicationResponse; returns the bytes DIAN would send."""
    root = build(verdict, ar_number=ar_number, environment=environment, issued_at=issued_at)
    return xades.sign(
        root, signer or simulator_certificate(), signing_time=issued_at, check_issue_date=False
    )
