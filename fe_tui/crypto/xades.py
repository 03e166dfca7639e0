"""XAdES-EPES signer for DIAN documents (SPEC §4).

Shape of what we write (the one DIAN accepts from ODOO, FACHO and LOPEZ):
enveloped ``ds:Signature`` in the second ``ext:UBLExtension``, inclusive
C14N 1.0 everywhere, RSA PKCS#1 v1.5, three references (the whole document
with the enveloped transform, ``ds:KeyInfo``, ``xades:SignedProperties``),
``SigningTime`` in Colombian time (``-05:00``, milliseconds), one
``SigningCertificate`` entry for the signer's certificate, DIAN's policy v2
with its digest, and the signer role.

How it is fast (``bench/sign.py`` measures it against the floor)
-----------------------------------------------------------------
The document is canonicalized once with lxml. Those canonical bytes are both
the digest input of the document reference (the enveloped transform removes
the signature, leaving the empty ``ExtensionContent`` the unsigned document
already has) and the bytes we send. The signature itself is written directly
as canonical text: inclusive C14N of ``KeyInfo``, ``SignedProperties`` and
``SignedInfo`` *in the context of the document* puts every namespace
declaration in scope (the root's) on the apex element, sorted, and nothing on
the descendants. We write exactly that for digesting, and the same text
without the declarations when splicing it into the document, where the root
supplies them. The result is a canonical document; python-xmlsec, the
``xmlsec1`` command and our own verifier check it in the tests.

Preconditions (checked): no ``xml:*`` attributes above the signature, the
``ds`` and ``xades`` namespaces declared on the root, an empty
``ExtensionContent`` in the last ``UBLExtension``.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from fe_tui import ns
from fe_tui.crypto.policy import (
    C14N_INCLUSIVE,
    DIGEST_URIS,
    POLICY_DESCRIPTION,
    POLICY_HASHES,
    POLICY_URL,
    SIGNATURE_URIS,
)
from fe_tui.domain.colombia import COLOMBIA_TZ
from fe_tui.errors import CertificateExpiredError, CertificateNotYetValidError, SigningError

ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>'
ROLES = ("supplier", "third party")

_HASHES: dict[str, Any] = {
    "sha256": (hashlib.sha256, hashes.SHA256),
    "sha384": (hashlib.sha384, hashes.SHA384),
    "sha512": (hashlib.sha512, hashes.SHA512),
}


class SigningKey(Protocol):
    """What the signer needs of a loaded PKCS#12 (see ``crypto.certificates``)."""

    private_key: Any
    certificate: x509.Certificate


@dataclass(frozen=True)
class CertificateData:
    """What signatures write about a certificate: base64 DER, issuer, serial, digests."""

    b64: str
    issuer: str
    serial: str
    digests: Mapping[str, str]


#: Keyed by the certificate itself (equal DER, equal key); never by ``id()``, which a
#: later certificate can reuse once the first one is garbage-collected.
_cert_cache: dict[x509.Certificate, CertificateData] = {}


def certificate_data(cert: x509.Certificate) -> CertificateData:
    """Per-certificate values, computed once per process (they never change).

    Shared by the XAdES signer and the WS-Security envelope (``dian.soap``).
    """
    cached = _cert_cache.get(cert)
    if cached is None:
        der = cert.public_bytes(serialization.Encoding.DER)
        cached = CertificateData(
            b64=base64.b64encode(der).decode("ascii"),
            issuer=cert.issuer.rfc4514_string(),
            serial=str(cert.serial_number),
            digests={
                name: base64.b64encode(fn(der).digest()).decode("ascii")
                for name, (fn, _) in _HASHES.items()
            },
        )
        _cert_cache[cert] = cached
    return cached


def c14n_text(value: str) -> str:
    """Escape character data as C14N 1.0 does."""
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#xD;")
    )


def c14n_attr(value: str) -> str:
    """Escape an attribute value as C14N 1.0 does."""
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace('"', "&quot;")
        .replace("\t", "&#x9;")
        .replace("\n", "&#xA;")
        .replace("\r", "&#xD;")
    )


def format_signing_time(when: datetime) -> str:
    """``2024-05-01T10:20:30.123-05:00``: Colombian time, milliseconds."""
    local = when.astimezone(COLOMBIA_TZ)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}-05:00"


def _ns_declarations(nsmap: Mapping[str | None, str]) -> str:
    """In-scope namespace declarations as inclusive C14N renders them on an apex."""
    items = sorted(((p or ""), u) for p, u in nsmap.items())
    return "".join(
        f' xmlns="{c14n_attr(u)}"' if not p else f' xmlns:{p}="{c14n_attr(u)}"'
        for p, u in items
        if not (p == "" and u == "")
    )


def _prefix_for(nsmap: Mapping[str | None, str], uri: str, what: str) -> str:
    for prefix, value in nsmap.items():
        if value == uri and prefix:
            return prefix
    raise SigningError(
        f"El documento no declara el espacio de nombres {what} ({uri}) en la raíz; "
        "no se puede firmar sin cambiar sus declaraciones.",
    )


def _placeholder(root: etree._Element) -> etree._Element:
    exts = root.find(ns.q(ns.EXT, "UBLExtensions"))
    if exts is None or len(exts) == 0:
        raise SigningError(
            "El documento no tiene ext:UBLExtensions; no es un documento DIAN firmable."
        )
    last = exts[-1]
    content = last.find(ns.q(ns.EXT, "ExtensionContent"))
    if content is None or len(content) or (content.text or "").strip():
        raise SigningError(
            "La última ext:UBLExtension debe tener un ext:ExtensionContent vacío para la firma "
            "(¿el documento ya está firmado?).",
        )
    return content


def prepare_for_signing(root: etree._Element) -> etree._Element:
    """Normalise a document from elsewhere so it can be signed our way.

    Removes whitespace-only text (the signature policy forbids indentation),
    drops an existing signature's extension, adds an empty second
    ``UBLExtension`` when missing and declares ``ds``/``xades``/``xades141``
    on the root. Returns a new root; the input is not modified.
    """
    nsmap = dict(root.nsmap)
    wanted = {"ds": ns.DS, "xades": ns.XADES, "xades141": ns.XADES141}
    for prefix, uri in wanted.items():
        if uri not in nsmap.values():
            if prefix in nsmap:
                raise SigningError(f"El prefijo '{prefix}' ya se usa para otro espacio de nombres.")
            nsmap[prefix] = uri
    new_root = etree.Element(root.tag, attrib=dict(root.attrib), nsmap=nsmap)
    new_root.text = None
    for child in root:
        new_root.append(_strip_blank(child))
    exts = new_root.find(ns.q(ns.EXT, "UBLExtensions"))
    if exts is None:
        raise SigningError(
            "El documento no tiene ext:UBLExtensions; no es un documento DIAN firmable."
        )
    for ext in list(exts):
        if ext.find(f".//{{{ns.DS}}}Signature") is not None:
            exts.remove(ext)
    last = exts[-1] if len(exts) else None
    content = last.find(ns.q(ns.EXT, "ExtensionContent")) if last is not None else None
    if content is None or len(content):
        ext = etree.SubElement(exts, ns.q(ns.EXT, "UBLExtension"))
        etree.SubElement(ext, ns.q(ns.EXT, "ExtensionContent"))
    return new_root


def _strip_blank(el: etree._Element) -> etree._Element:
    clone = etree.fromstring(etree.tostring(el))
    for node in clone.iter():
        if node.text is not None and not node.text.strip() and len(node):
            node.text = None
        if node.tail is not None and not node.tail.strip():
            node.tail = None
    clone.tail = None
    return clone


def sign(
    root: etree._Element,
    key: SigningKey,
    *,
    signing_time: datetime | None = None,
    role: str = "supplier",
    digest: str = "sha256",
    signature: str = "sha256",
    check_issue_date: bool = True,
) -> bytes:
    """Sign a DIAN document and return the bytes to zip and send.

    ``root`` is an unsigned document with an empty last ``ExtensionContent``
    (what :mod:`fe_tui.ubl.builder` produces, or :func:`prepare_for_signing`).
    ``digest`` and ``signature`` choose the hash of the references and of the
    RSA signature (sha256, sha384 or sha512).

    With ``check_issue_date`` the document's ``cbc:IssueDate`` must equal the
    Colombian date of the signing time, or DIAN rejects it (FAD09e/CAD09e/DAD09e).
    """
    if role not in ROLES:
        raise SigningError(
            f"Rol de firmante desconocido: {role!r} (use 'supplier' o 'third party')."
        )
    if digest not in _HASHES or signature not in _HASHES:
        raise SigningError("Algoritmo de resumen no admitido: use sha256, sha384 o sha512.")
    if not isinstance(key.private_key, rsa.RSAPrivateKey):
        raise SigningError("La DIAN exige firmas RSA; la llave del certificado no es RSA.")
    when = signing_time or datetime.now(UTC)
    if when.tzinfo is None:
        raise SigningError("La hora de firma debe llevar zona horaria.")
    cert = key.certificate
    _check_validity(cert, when)
    if check_issue_date:
        _check_issue_date(root, when)

    content = _placeholder(root)
    nsmap = content.nsmap
    ds = _prefix_for(nsmap, ns.DS, "ds (XMLDSig)")
    xa = _prefix_for(nsmap, ns.XADES, "xades (XAdES 1.3.2)")
    for el in content.iterancestors():
        if any(a.startswith("{http://www.w3.org/XML/1998/namespace}") for a in el.attrib):
            raise SigningError("Hay atributos xml:* sobre la firma; no se puede firmar así.")
    decls = _ns_declarations(nsmap)

    hash_fn = _HASHES[digest][0]
    digest_uri = DIGEST_URIS[digest]

    def b64digest(data: bytes) -> str:
        return base64.b64encode(hash_fn(data).digest()).decode("ascii")

    document_c14n: bytes = etree.tostring(root, method="c14n", with_comments=False)
    doc_digest = b64digest(document_c14n)

    cd = certificate_data(cert)
    sig_id = f"xmldsig-{uuid.uuid4()}"
    keyinfo_id = f"{sig_id}-keyinfo"
    sp_id = f"{sig_id}-signedprops"
    dm = f'<{ds}:DigestMethod Algorithm="{digest_uri}"></{ds}:DigestMethod>'

    keyinfo_body = (
        f"<{ds}:X509Data><{ds}:X509Certificate>{cd.b64}</{ds}:X509Certificate></{ds}:X509Data>"
        f"</{ds}:KeyInfo>"
    )
    keyinfo_canon = f'<{ds}:KeyInfo{decls} Id="{keyinfo_id}">{keyinfo_body}'
    keyinfo_doc = f'<{ds}:KeyInfo Id="{keyinfo_id}">{keyinfo_body}'

    sp_body = (
        f"<{xa}:SignedSignatureProperties>"
        f"<{xa}:SigningTime>{format_signing_time(when)}</{xa}:SigningTime>"
        f"<{xa}:SigningCertificate><{xa}:Cert><{xa}:CertDigest>{dm}"
        f"<{ds}:DigestValue>{cd.digests[digest]}</{ds}:DigestValue></{xa}:CertDigest>"
        f"<{xa}:IssuerSerial><{ds}:X509IssuerName>{c14n_text(cd.issuer)}</{ds}:X509IssuerName>"
        f"<{ds}:X509SerialNumber>{cd.serial}</{ds}:X509SerialNumber></{xa}:IssuerSerial>"
        f"</{xa}:Cert></{xa}:SigningCertificate>"
        f"<{xa}:SignaturePolicyIdentifier><{xa}:SignaturePolicyId><{xa}:SigPolicyId>"
        f"<{xa}:Identifier>{POLICY_URL}</{xa}:Identifier>"
        f"<{xa}:Description>{c14n_text(POLICY_DESCRIPTION)}</{xa}:Description></{xa}:SigPolicyId>"
        f"<{xa}:SigPolicyHash>{dm}<{ds}:DigestValue>{POLICY_HASHES[digest_uri]}</{ds}:DigestValue>"
        f"</{xa}:SigPolicyHash></{xa}:SignaturePolicyId></{xa}:SignaturePolicyIdentifier>"
        f"<{xa}:SignerRole><{xa}:ClaimedRoles><{xa}:ClaimedRole>{role}</{xa}:ClaimedRole>"
        f"</{xa}:ClaimedRoles></{xa}:SignerRole>"
        f"</{xa}:SignedSignatureProperties></{xa}:SignedProperties>"
    )
    sp_canon = f'<{xa}:SignedProperties{decls} Id="{sp_id}">{sp_body}'
    sp_doc = f'<{xa}:SignedProperties Id="{sp_id}">{sp_body}'

    signed_info_body = (
        f'<{ds}:CanonicalizationMethod Algorithm="{C14N_INCLUSIVE}"></{ds}:CanonicalizationMethod>'
        f'<{ds}:SignatureMethod Algorithm="{SIGNATURE_URIS["rsa-" + signature]}">'
        f"</{ds}:SignatureMethod>"
        f'<{ds}:Reference Id="{sig_id}-ref0" URI="">'
        f'<{ds}:Transforms><{ds}:Transform Algorithm="{ENVELOPED}"></{ds}:Transform>'
        f"</{ds}:Transforms>"
        f"{dm}<{ds}:DigestValue>{doc_digest}</{ds}:DigestValue></{ds}:Reference>"
        f'<{ds}:Reference URI="#{keyinfo_id}">{dm}'
        f"<{ds}:DigestValue>{b64digest(keyinfo_canon.encode())}</{ds}:DigestValue></{ds}:Reference>"
        f'<{ds}:Reference Type="{SIGNED_PROPERTIES_TYPE}" URI="#{sp_id}">{dm}'
        f"<{ds}:DigestValue>{b64digest(sp_canon.encode())}</{ds}:DigestValue></{ds}:Reference>"
        f"</{ds}:SignedInfo>"
    )
    signed_info_canon = f"<{ds}:SignedInfo{decls}>{signed_info_body}"
    signature_value = key.private_key.sign(
        signed_info_canon.encode(), padding.PKCS1v15(), _HASHES[signature][1]()
    )
    sv = base64.b64encode(signature_value).decode("ascii")

    signature_xml = (
        f'<{ds}:Signature Id="{sig_id}"><{ds}:SignedInfo>{signed_info_body}'
        f'<{ds}:SignatureValue Id="{sig_id}-sigvalue">{sv}</{ds}:SignatureValue>'
        f"{keyinfo_doc}"
        f'<{ds}:Object><{xa}:QualifyingProperties Target="#{sig_id}">{sp_doc}'
        f"</{xa}:QualifyingProperties></{ds}:Object></{ds}:Signature>"
    ).encode()

    ext_prefix = _prefix_for(nsmap, ns.EXT, "ext")
    empty = f"<{ext_prefix}:ExtensionContent></{ext_prefix}:ExtensionContent>".encode()
    at = document_c14n.rfind(empty)
    if at < 0:  # pragma: no cover - _placeholder guarantees it
        raise SigningError("No se encontró el lugar de la firma en el documento canónico.")
    cut = at + len(empty) - len(f"</{ext_prefix}:ExtensionContent>")
    return XML_DECLARATION + document_c14n[:cut] + signature_xml + document_c14n[cut:]


def _check_validity(cert: x509.Certificate, when: datetime) -> None:
    if when < cert.not_valid_before_utc:
        raise CertificateNotYetValidError(
            "El certificado aún no es válido a la hora de firma "
            f"(válido desde {cert.not_valid_before_utc.astimezone(COLOMBIA_TZ):%Y-%m-%d %H:%M} "
            "hora de Colombia). Revise el reloj del equipo.",
        )
    if when > cert.not_valid_after_utc:
        raise CertificateExpiredError(
            f"El certificado venció el {_colombian_day(cert.not_valid_after_utc)}; "
            "la DIAN rechaza la firma. "
            "Renueve el certificado con su entidad de certificación.",
        )


def _colombian_day(moment: datetime) -> str:
    return f"{moment.astimezone(COLOMBIA_TZ):%Y-%m-%d}"


def _check_issue_date(root: etree._Element, when: datetime) -> None:
    issue = root.findtext(ns.q(ns.CBC, "IssueDate"))
    signing_day = when.astimezone(COLOMBIA_TZ).date().isoformat()
    if issue is not None and issue.strip() != signing_day:
        raise SigningError(
            f"La fecha de emisión del documento ({issue}) no es la fecha de la firma en hora de "
            f"Colombia ({signing_day}); la DIAN lo rechazaría (reglas FAD09e/CAD09e/DAD09e). "
            "Genere el documento con la fecha de hoy.",
            issue_date=issue,
            signing_date=signing_day,
        )
