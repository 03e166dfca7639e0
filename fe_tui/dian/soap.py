"""SOAP 1.2 + WS-Addressing + WS-Security of DIAN's ``WcfDianCustomerServices`` (SPEC §5.2, §15.4).

Both sides of the wire live here so that they cannot drift apart: the client
builds and signs request envelopes; the simulator parses them and checks the
WS-Security header exactly as DIAN does.

The request header carries a ``wsu:Timestamp``, the company certificate as a
``wsse:BinarySecurityToken`` and an XMLDSig signature over ``wsa:To`` only
(exclusive C14N with the inclusive-prefix lists DIAN's WSDL policy names,
RSA-SHA256). That is what DIAN's consumption guide and every peer send, and
DIAN accepts it. The verifier also accepts the WSDL's ``ThumbprintSHA1`` key
reference, given the certificates it may refer to.

Envelopes are built as text around a small lxml-canonicalized header: the
base64 ``contentFile`` (the largest part) is never parsed or canonicalized on
the client side.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from fe_tui import xmlsafe
from fe_tui.crypto.xades import certificate_data
from fe_tui.errors import EnvelopeError, FeError, SecurityFault

SOAP = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
WCF = "http://wcf.dian.colombia"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
BASE64_BINARY = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)
THUMBPRINT_SHA1 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.1#ThumbprintSHA1"
ACTION_BASE = "http://wcf.dian.colombia/IWcfDianCustomerServices/"

#: Operation → parameter names, in the order the WSDL declares them.
OPERATIONS: dict[str, tuple[str, ...]] = {
    "SendBillSync": ("fileName", "contentFile"),
    "SendBillAsync": ("fileName", "contentFile"),
    "SendTestSetAsync": ("fileName", "contentFile", "testSetId"),
    "GetStatus": ("trackId",),
    "GetStatusZip": ("trackId",),
    "GetNumberingRange": ("accountCode", "accountCodeT", "softwareCode"),
    "GetXmlByDocumentKey": ("trackId",),
    "SendEventUpdateStatus": ("contentFile",),
    "GetAcquirer": ("identificationType", "identificationNumber"),
}

#: Inclusive-prefix lists of DIAN's WSDL policy (SignedInfo, and the wsa:To reference).
SIGNED_INFO_PREFIXES = ("wsa", "soap", "wcf")
REFERENCE_PREFIXES = ("soap", "wcf")
_SI_PREFIXES = " ".join(SIGNED_INFO_PREFIXES)
_REF_PREFIXES = " ".join(REFERENCE_PREFIXES)
#: Lifetime we give our Timestamp; DIAN's own answers use 5 minutes.
TIMESTAMP_TTL = timedelta(seconds=60)


def content_type(operation: str) -> str:
    """SOAP 1.2 carries the action in the content type, not in a SOAPAction header."""
    return f'application/soap+xml;charset=UTF-8;action="{ACTION_BASE}{operation}"'


def _utc(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _escape(text: str) -> str:
    """Character data as C14N writes it (so the same text serves both forms)."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#xD;")
    )


def build_request(
    operation: str,
    params: Mapping[str, str],
    *,
    to: str,
    private_key: rsa.RSAPrivateKey,
    certificate: x509.Certificate,
    now: datetime | None = None,
    ttl: timedelta = TIMESTAMP_TTL,
) -> bytes:
    """A signed SOAP 1.2 request envelope for ``operation`` addressed to ``to``."""
    try:
        names = OPERATIONS[operation]
    except KeyError:
        raise EnvelopeError(f"Operación DIAN desconocida: {operation}.") from None
    missing = [n for n in names if n not in params]
    if missing:
        raise EnvelopeError(f"Faltan parámetros para {operation}: {', '.join(missing)}.")
    created = now or datetime.now(UTC)
    suffix = uuid.uuid4().hex
    ts_id, x509_id, sig_id, ki_id, str_id, to_id = (
        f"{p}-{suffix}" for p in ("TS", "X509", "SIG", "KI", "STR", "id")
    )
    to_text = _escape(to)
    # Exclusive C14N written out (cross-checked against lxml in the tests): the
    # visibly used prefixes plus the InclusiveNamespaces list, sorted by prefix,
    # on the apex; empty elements expanded; each ec:InclusiveNamespaces carries
    # its own declaration.
    to_c14n = (
        f'<wsa:To xmlns:soap="{SOAP}" xmlns:wcf="{WCF}" xmlns:wsa="{WSA}" xmlns:wsu="{WSU}" '
        f'wsu:Id="{to_id}">{to_text}</wsa:To>'
    )
    digest = base64.b64encode(hashlib.sha256(to_c14n.encode()).digest()).decode()
    signed_info_body = (
        f'<ds:CanonicalizationMethod Algorithm="{EXC_C14N}">'
        f'<ec:InclusiveNamespaces xmlns:ec="{EXC_C14N}" PrefixList="{_SI_PREFIXES}">'
        f"</ec:InclusiveNamespaces></ds:CanonicalizationMethod>"
        f'<ds:SignatureMethod Algorithm="{RSA_SHA256}"></ds:SignatureMethod>'
        f'<ds:Reference URI="#{to_id}"><ds:Transforms><ds:Transform Algorithm="{EXC_C14N}">'
        f'<ec:InclusiveNamespaces xmlns:ec="{EXC_C14N}" PrefixList="{_REF_PREFIXES}">'
        f"</ec:InclusiveNamespaces></ds:Transform></ds:Transforms>"
        f'<ds:DigestMethod Algorithm="{SHA256}"></ds:DigestMethod>'
        f"<ds:DigestValue>{digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>"
    )
    signed_info_c14n = (
        f'<ds:SignedInfo xmlns:ds="{DS}" xmlns:soap="{SOAP}" xmlns:wcf="{WCF}" '
        f'xmlns:wsa="{WSA}">{signed_info_body}'
    )
    signature = private_key.sign(signed_info_c14n.encode(), padding.PKCS1v15(), hashes.SHA256())
    body = "".join(f"<wcf:{n}>{_escape(params[n])}</wcf:{n}>" for n in names)
    return (
        f'<soap:Envelope xmlns:soap="{SOAP}" xmlns:wcf="{WCF}">'
        f'<soap:Header xmlns:wsa="{WSA}">'
        f'<wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}">'
        f'<wsu:Timestamp wsu:Id="{ts_id}"><wsu:Created>{_utc(created)}</wsu:Created>'
        f"<wsu:Expires>{_utc(created + ttl)}</wsu:Expires></wsu:Timestamp>"
        f'<wsse:BinarySecurityToken EncodingType="{BASE64_BINARY}" ValueType="{X509V3}" '
        f'wsu:Id="{x509_id}">{certificate_data(certificate).b64}</wsse:BinarySecurityToken>'
        f'<ds:Signature xmlns:ds="{DS}" Id="{sig_id}"><ds:SignedInfo>{signed_info_body}'
        f"<ds:SignatureValue>{base64.b64encode(signature).decode()}</ds:SignatureValue>"
        f'<ds:KeyInfo Id="{ki_id}"><wsse:SecurityTokenReference wsu:Id="{str_id}">'
        f'<wsse:Reference URI="#{x509_id}" ValueType="{X509V3}"/></wsse:SecurityTokenReference>'
        f"</ds:KeyInfo></ds:Signature></wsse:Security>"
        f"<wsa:Action>{ACTION_BASE}{operation}</wsa:Action>"
        f'<wsa:To xmlns:wsu="{WSU}" wsu:Id="{to_id}">{to_text}</wsa:To>'
        f"</soap:Header><soap:Body><wcf:{operation}>{body}</wcf:{operation}></soap:Body>"
        f"</soap:Envelope>"
    ).encode()


@dataclass
class ParsedRequest:
    """A request envelope as the service sees it."""

    operation: str
    action: str
    to: str | None
    params: dict[str, str]
    root: etree._Element = field(repr=False)


def parse_request(data: bytes, *, max_bytes: int = 40 * 1024 * 1024) -> ParsedRequest:
    """Parse a request envelope (untrusted) into operation, action, ``wsa:To`` and parameters."""
    try:
        root = xmlsafe.parse_bytes(data, max_bytes=max_bytes, what="la petición SOAP")
    except FeError as exc:
        raise EnvelopeError(exc.message) from None
    if root.tag != f"{{{SOAP}}}Envelope":
        raise EnvelopeError("La petición no es un sobre SOAP 1.2.")
    body = root.find(f"{{{SOAP}}}Body")
    if body is None or len(body) == 0:
        raise EnvelopeError("El sobre SOAP no tiene cuerpo.")
    op_el = body[0]
    operation = etree.QName(op_el).localname
    if operation not in OPERATIONS:
        raise EnvelopeError(f"Operación desconocida: {operation}.")
    params = {etree.QName(p).localname: (p.text or "").strip() for p in op_el}
    action = (root.findtext(f"{{{SOAP}}}Header/{{{WSA}}}Action") or "").strip()
    to = root.findtext(f"{{{SOAP}}}Header/{{{WSA}}}To")
    return ParsedRequest(operation, action, to.strip() if to else None, params, root)


@dataclass(frozen=True)
class SecurityInfo:
    """What a valid WS-Security header established."""

    certificate: x509.Certificate
    created: datetime
    expires: datetime
    key_reference: str  #: "BinarySecurityToken" or "ThumbprintSHA1"


def _parse_time(text: str | None, what: str) -> datetime:
    if not text:
        raise SecurityFault(f"El encabezado WS-Security no tiene {what}.")
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SecurityFault(f"{what} no es una fecha válida: {text!r}.") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _exc_c14n(el: etree._Element, prefixes: list[str] | None) -> bytes:
    try:
        return etree.tostring(
            el, method="c14n", exclusive=True, with_comments=False, inclusive_ns_prefixes=prefixes
        )
    except (etree.C14NError, ValueError):
        raise SecurityFault(
            f"No se pudo canonicalizar <{etree.QName(el).localname}> para verificar la firma "
            "WS-Security (espacios de nombres inválidos)."
        ) from None


def _b64(text: str | None, what: str) -> bytes:
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except ValueError:
        raise SecurityFault(f"{what} de la firma WS-Security no es base64 válido.") from None


def _by_wsu_id(root: etree._Element, ident: str) -> etree._Element:
    found = [el for el in root.iter() if el.get(f"{{{WSU}}}Id") == ident or el.get("Id") == ident]
    if len(found) != 1:
        raise SecurityFault(
            f"La referencia #{ident} de la firma WS-Security no apunta a un único elemento."
        )
    return found[0]


def _prefixes(el: etree._Element | None) -> list[str] | None:
    if el is None:
        return None
    inc = el.find(f"{{{EXC_C14N}}}InclusiveNamespaces")
    if inc is None:
        return None
    return (inc.get("PrefixList") or "").split()


def verify_security(
    request: ParsedRequest,
    *,
    now: datetime | None = None,
    clock_skew: timedelta = timedelta(minutes=5),
    known_certificates: Iterable[x509.Certificate] = (),
) -> SecurityInfo:
    """Check the WS-Security header as DIAN does; raise :class:`SecurityFault` with the reason.

    Checks: a Timestamp whose window contains ``now`` (± skew); a signature
    whose single reference is ``wsa:To``, with exclusive C14N, valid for the
    certificate given as BinarySecurityToken (or found by ThumbprintSHA1 among
    ``known_certificates``); that certificate valid now.
    """
    now = now or datetime.now(UTC)
    root = request.root
    header = root.find(f"{{{SOAP}}}Header")
    security = header.find(f"{{{WSSE}}}Security") if header is not None else None
    if security is None:
        raise SecurityFault("El sobre no trae encabezado wsse:Security.")
    ts = security.find(f"{{{WSU}}}Timestamp")
    if ts is None:
        raise SecurityFault("El encabezado WS-Security no trae wsu:Timestamp.")
    created = _parse_time(ts.findtext(f"{{{WSU}}}Created"), "wsu:Created")
    expires = _parse_time(ts.findtext(f"{{{WSU}}}Expires"), "wsu:Expires")
    if created - clock_skew > now:
        raise SecurityFault(
            f"wsu:Created ({_utc(created)}) está en el futuro; revise el reloj del equipo."
        )
    if expires + clock_skew < now:
        raise SecurityFault(
            f"El Timestamp WS-Security venció ({_utc(expires)}); la petición es vieja o el reloj "
            "del equipo está atrasado."
        )
    sig = security.find(f"{{{DS}}}Signature")
    if sig is None:
        raise SecurityFault("El encabezado WS-Security no está firmado (falta ds:Signature).")
    signed_info = sig.find(f"{{{DS}}}SignedInfo")
    if signed_info is None:
        raise SecurityFault("La firma WS-Security no tiene SignedInfo.")
    refs = signed_info.findall(f"{{{DS}}}Reference")
    to_el = header.find(f"{{{WSA}}}To") if header is not None else None
    if to_el is None:
        raise SecurityFault("El sobre no trae wsa:To.")
    signed_to = False
    for ref in refs:
        target = _by_wsu_id(root, (ref.get("URI") or "").lstrip("#"))
        transform = ref.find(f"{{{DS}}}Transforms/{{{DS}}}Transform")
        canonical = _exc_c14n(target, _prefixes(transform))
        method = ref.find(f"{{{DS}}}DigestMethod")
        algorithm = method.get("Algorithm") if method is not None else None
        hash_name = {SHA256: "sha256", "http://www.w3.org/2000/09/xmldsig#sha1": "sha1"}.get(
            algorithm or ""
        )
        if hash_name is None:
            raise SecurityFault(f"Algoritmo de resumen no admitido en WS-Security: {algorithm}.")
        declared = (ref.findtext(f"{{{DS}}}DigestValue") or "").strip()
        actual = base64.b64encode(hashlib.new(hash_name, canonical).digest()).decode()
        if declared != actual:
            raise SecurityFault(
                "El resumen de wsa:To en la firma WS-Security no coincide (el encabezado cambió "
                "después de firmarlo)."
            )
        signed_to = signed_to or target is to_el
    if not signed_to:
        raise SecurityFault("La firma WS-Security no cubre wsa:To.")
    cert, reference = _security_certificate(root, sig, known_certificates)
    canonical_si = _exc_c14n(
        signed_info, _prefixes(signed_info.find(f"{{{DS}}}CanonicalizationMethod"))
    )
    value = _b64(sig.findtext(f"{{{DS}}}SignatureValue"), "SignatureValue")
    public = cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise SecurityFault("El certificado WS-Security no tiene llave RSA.")
    try:
        public.verify(value, canonical_si, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise SecurityFault(
            "An error occurred when verifying security for the message: la firma WS-Security no "
            "corresponde al certificado."
        ) from None
    if now < cert.not_valid_before_utc:
        raise SecurityFault("Certificado aún no se encuentra vigente.")
    if now > cert.not_valid_after_utc:
        raise SecurityFault("El certificado del encabezado WS-Security está vencido.")
    return SecurityInfo(cert, created, expires, reference)


def _security_certificate(
    root: etree._Element, sig: etree._Element, known: Iterable[x509.Certificate]
) -> tuple[x509.Certificate, str]:
    str_el = sig.find(f"{{{DS}}}KeyInfo/{{{WSSE}}}SecurityTokenReference")
    if str_el is None:
        raise SecurityFault("La firma WS-Security no dice con qué certificado se hizo.")
    ref = str_el.find(f"{{{WSSE}}}Reference")
    if ref is not None:
        token = _by_wsu_id(root, (ref.get("URI") or "").lstrip("#"))
        try:
            der = base64.b64decode("".join((token.text or "").split()))
            cert = x509.load_der_x509_certificate(der)
            # cryptography parses lazily: touch what callers read so a damaged
            # certificate fails here, as a security fault, not later.
            _ = (cert.subject, cert.issuer, cert.not_valid_before_utc, cert.not_valid_after_utc)
            cert.public_key()
            return cert, "BinarySecurityToken"
        except (ValueError, UnsupportedAlgorithm):
            raise SecurityFault("El BinarySecurityToken no es un certificado X.509.") from None
    key_id = str_el.find(f"{{{WSSE}}}KeyIdentifier")
    if key_id is not None and key_id.get("ValueType") == THUMBPRINT_SHA1:
        thumb = _b64(key_id.text, "KeyIdentifier")
        for cert in known:
            if cert.fingerprint(hashes.SHA1()) == thumb:  # noqa: S303 - WS-Security's identifier
                return cert, "ThumbprintSHA1"
        raise SecurityFault("El certificado referido por ThumbprintSHA1 no está registrado.")
    raise SecurityFault("Referencia de llave WS-Security no admitida.")


def envelope(body_xml: str, *, action: str, now: datetime | None = None) -> bytes:
    """A response envelope in DIAN's shape (SOAP 1.2, ``a:Action``, a 5-minute Timestamp)."""
    created = now or datetime.now(UTC)
    return (
        f'<s:Envelope xmlns:s="{SOAP}" xmlns:a="{WSA}" xmlns:u="{WSU}"><s:Header>'
        f'<a:Action s:mustUnderstand="1">{action}</a:Action>'
        f'<o:Security xmlns:o="{WSSE}" s:mustUnderstand="1"><u:Timestamp u:Id="_0">'
        f"<u:Created>{_utc(created)}</u:Created>"
        f"<u:Expires>{_utc(created + timedelta(minutes=5))}</u:Expires></u:Timestamp></o:Security>"
        f"</s:Header><s:Body>{body_xml}</s:Body></s:Envelope>"
    ).encode()


def fault(code: str, subcode: str, reason: str) -> bytes:
    """A SOAP 1.2 fault, e.g. ``fault("s:Sender", "a:InvalidSecurity", "An error occurred…")``."""
    return (
        f'<s:Envelope xmlns:s="{SOAP}" xmlns:a="http://schemas.xmlsoap.org/ws/2005/02/sc">'
        f"<s:Body><s:Fault><s:Code><s:Value>{code}</s:Value><s:Subcode><s:Value>{subcode}"
        f'</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="es-CO">{_escape(reason)}'
        f"</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>"
    ).encode()
