"""Independent verifier of DIAN XAdES-EPES signatures, with diagnostics.

``fe-tui verify FILE.xml`` runs :func:`verify_document` on a document signed
by fe-tui or by any other software. The implementation is independent of
python-xmlsec: references and SignedInfo are canonicalized with lxml (in the
context of the document, so inherited namespace declarations count), digests
come from :mod:`hashlib` and the signature value is checked with
:mod:`cryptography`.

Besides a yes/no answer, the report explains *why* a signature fails: which
reference broke, which canonicalization would have reproduced a declared
digest, and which failure pattern that points to (edited after signing,
re-indented, KeyInfo changed, certificate swapped, wrong policy hash, dates).
Every user-facing text is in Spanish; check names are stable identifiers.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from lxml import etree

from fe_tui import ns
from fe_tui.crypto import policy
from fe_tui.domain.colombia import COLOMBIA_TZ
from fe_tui.errors import NotDianDocumentError
from fe_tui.xmlsafe import parse_bytes

__all__ = ["Check", "VerificationReport", "verify_document", "COLOMBIA_TZ"]


_UBL_PREFIX = "urn:oasis:names:specification:ubl:schema:xsd:"
_XADES_NAMESPACES = (
    ns.XADES,
    "http://uri.etsi.org/01903/v1.2.2#",
    "http://uri.etsi.org/01903/v1.1.1#",
)
_WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_XML_NS = "http://www.w3.org/XML/1998/namespace"

_DS_SIGNATURE = ns.q(ns.DS, "Signature")
#: Every ID-type attribute (Id, id, ID, wsu:Id, xml:id) in the document, in one XPath pass.
_ID_VALUES = etree.XPath("//@Id|//@id|//@ID|//@wsu:Id|//@xml:id", namespaces={"wsu": _WSU})
#: The XPath transform old signers use instead of enveloped-signature.
_SIGNATURE_FILTER = re.compile(r"not\(ancestor-or-self::(?:(\w[\w.-]*):)?Signature\)")
_DS_KEYINFO = ns.q(ns.DS, "KeyInfo")

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_DIGEST_SIZES = {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}
#: DER prefix of PKCS#1 v1.5 DigestInfo per hash (to recover what was signed).
_DIGEST_INFO_PREFIX = {
    "sha1": bytes.fromhex("3021300906052b0e03021a05000414"),
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "sha512": bytes.fromhex("3051300d060960864801650304020305000440"),
}

#: Rule DIAN applies when IssueDate differs from the date of SigningTime.
_DATE_RULES = {"Invoice": "FAD09e", "CreditNote": "CAD09e", "DebitNote": "DAD09e"}
_TYPE_CODE_ELEMENTS = {
    "Invoice": "InvoiceTypeCode",
    "CreditNote": "CreditNoteTypeCode",
}
_IMPLIED_TYPE_CODES = {"DebitNote": "92", "ApplicationResponse": "96"}


# --------------------------------------------------------------------------
# Report model
# --------------------------------------------------------------------------


@dataclass
class Check:
    """One verification step.

    ``ok`` is ``True`` (passed), ``False`` (failed) or ``None`` (not
    applicable, or a warning that does not invalidate the signature).
    ``message`` is Spanish text for the support agent; ``detail`` holds
    JSON-serialisable facts (digests, algorithms, positions).
    """

    name: str
    ok: bool | None
    message: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {
            "name": self.name,
            "ok": self.ok,
            "message": self.message,
            "detail": _jsonable(self.detail),
        }


@dataclass
class VerificationReport:
    """Outcome of :func:`verify_document`.

    ``valid`` is true when the signature value, every reference and the
    binding between ``xades:SigningCertificate`` and the KeyInfo certificate
    hold (and the document and SignedProperties are covered by references).
    Policy, dates and certificate validity are reported as separate checks;
    ``all_ok`` is true when, in addition, no check failed.
    """

    valid: bool = False
    checks: list[Check] = field(default_factory=list)
    diagnosis: list[str] = field(default_factory=list)
    document_type: str | None = None
    document_type_code: str | None = None
    document_id: str | None = None
    uuid: str | None = None
    issue_date: str | None = None
    signature_id: str | None = None
    signature_method: str | None = None
    digest_methods: list[str] = field(default_factory=list)
    c14n_method: str | None = None
    signing_time: datetime | None = None
    signing_time_colombia: datetime | None = None
    claimed_role: str | None = None
    policy_identifier: str | None = None
    policy_hash_ok: bool | None = None
    certificate_subject: str | None = None
    certificate_issuer: str | None = None
    certificate_serial: str | None = None
    certificate_not_before: datetime | None = None
    certificate_not_after: datetime | None = None
    signer_nit: str | None = None
    certificate_valid_at_signing_time: bool | None = None
    certificate_valid_now: bool | None = None

    @property
    def all_ok(self) -> bool:
        """True when the signature is valid and no check failed (warnings allowed)."""
        return self.valid and all(c.ok is not False for c in self.checks)

    def check(self, name: str) -> Check | None:
        """Return the check called ``name``, if present."""
        return next((c for c in self.checks if c.name == name), None)

    def failed_checks(self) -> list[Check]:
        """Return the checks whose ``ok`` is ``False``."""
        return [c for c in self.checks if c.ok is False]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (datetimes as ISO 8601 strings)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "checks":
                out["checks"] = [c.to_dict() for c in value]
            else:
                out[f.name] = _jsonable(value)
        out["all_ok"] = self.all_ok
        return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


# --------------------------------------------------------------------------
# Canonicalization
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _C14n:
    """A canonicalization: ``variant`` is c14n, exc-c14n, c14n11 or detached."""

    variant: str
    comments: bool = False
    prefixes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        base = {
            "c14n": "C14N 1.0 inclusiva",
            "exc-c14n": "C14N exclusiva",
            "c14n11": "C14N 1.1",
            "detached": (
                "C14N inclusiva del elemento aislado (sin los espacios de nombres "
                "heredados del documento)"
            ),
        }[self.variant]
        if self.comments:
            base += " con comentarios"
        if self.prefixes:
            base += f" (PrefixList «{' '.join(self.prefixes)}»)"
        return base


_DEFAULT_C14N = _C14n("c14n")
_ALTERNATIVES = (
    _C14n("c14n"),
    _C14n("exc-c14n"),
    _C14n("c14n", comments=True),
    _C14n("exc-c14n", comments=True),
    _C14n("c14n11"),
    _C14n("detached"),
)


def _parse_c14n(el: etree._Element) -> _C14n | None:
    alg = el.get("Algorithm") or ""
    known = policy.C14N_ALGORITHMS.get(alg)
    if known is None:
        return None
    variant, comments = known
    prefixes: tuple[str, ...] = ()
    if variant == "exc-c14n":
        for child in el:
            if isinstance(child.tag, str) and etree.QName(child).localname == "InclusiveNamespaces":
                prefixes = tuple((child.get("PrefixList") or "").split())
    return _C14n(variant, comments, prefixes)


def _index_in(root: etree._Element, node: etree._Element) -> int:
    for i, candidate in enumerate(root.iter()):
        if candidate is node:
            return i
    raise ValueError("node not in tree")


def _inherited_xml_attributes(el: etree._Element, variant: str) -> dict[str, str]:
    """xml:* attributes an inclusive C14N of ``el`` imports from its ancestors."""
    names = ("lang", "space", "base", "id") if variant == "c14n" else ("lang", "space")
    wanted = {f"{{{_XML_NS}}}{n}" for n in names}
    found: dict[str, str] = {}
    for anc in el.iterancestors():
        for key, value in anc.attrib.items():
            if key in wanted and key not in found and key not in el.attrib:
                found[key] = value
    return found


class _Unsupported(Exception):
    """A transform the verifier does not implement."""


class _C14nFailed(Exception):
    """libxml2 refused to canonicalize (e.g. relative namespace URIs)."""


def _canonicalize(
    target: etree._Element | etree._ElementTree, spec: _C14n, *, keep_comments: bool
) -> bytes:
    """C14N of a whole document (``_ElementTree``) or of an element in its context."""
    with_comments = spec.comments and keep_comments
    if spec.variant == "detached":
        node = target.getroot() if isinstance(target, etree._ElementTree) else target
        try:
            return etree.tostring(copy.deepcopy(node), method="c14n", with_comments=with_comments)
        except etree.C14NError:
            raise _C14nFailed("la canonicalización falló") from None
    exclusive = spec.variant == "exc-c14n"
    if isinstance(target, etree._Element) and not exclusive:
        extra = _inherited_xml_attributes(target, spec.variant)
        if extra:
            root = target.getroottree().getroot()
            idx = _index_in(root, target)
            tree_copy = copy.deepcopy(target.getroottree())
            target = list(tree_copy.getroot().iter())[idx]
            for key, value in extra.items():
                target.set(key, value)
    prefixes = [p for p in spec.prefixes if p != "#default"]
    try:
        out = etree.tostring(
            target,
            method="c14n",
            exclusive=exclusive,
            with_comments=with_comments,
            inclusive_ns_prefixes=prefixes or None,
        )
    except etree.C14NError:
        raise _C14nFailed(
            "la canonicalización falló (¿un espacio de nombres con URI relativa?)"
        ) from None
    if exclusive and "#default" in spec.prefixes:
        out = _render_default_namespace(target, out)
    return out


_C14N_TOKENS = re.compile(rb"<!--.*?-->|<\?.*?\?>|<(?![!?/])([^\s>]+)", re.DOTALL)
_DEFAULT_DECL = re.compile(rb' xmlns="[^"]*"')


def _attr_escape(value: str) -> str:
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace('"', "&quot;")
        .replace("\t", "&#x9;")
        .replace("\n", "&#xA;")
        .replace("\r", "&#xD;")
    )


def _render_default_namespace(target: etree._Element | etree._ElementTree, out: bytes) -> bytes:
    """Apply ``#default`` of an exclusive-C14N PrefixList (lxml drops that token).

    With ``#default`` listed, the default namespace is handled as in inclusive
    C14N: its declaration is output on the apex when not empty, and on every
    element whose in-scope default namespace differs from its parent's. The
    default declaration always comes first after the element name in C14N
    output, so each start tag is rewritten in document order.
    """
    apex = target.getroot() if isinstance(target, etree._ElementTree) else target
    elements = list(apex.iter(etree.Element))
    tags = [m for m in _C14N_TOKENS.finditer(out) if m.group(1) is not None]
    if len(tags) != len(elements):
        return out
    pieces: list[bytes] = []
    pos = 0
    for el, m in zip(elements, tags, strict=True):
        default = el.nsmap.get(None) or ""
        parent = el.getparent() if el is not apex else None
        parent_default = (parent.nsmap.get(None) or "") if parent is not None else ""
        pieces.append(out[pos : m.end()])
        pos = m.end()
        existing = _DEFAULT_DECL.match(out, pos)
        if existing:
            pos = existing.end()
        if default != parent_default:
            pieces.append(f' xmlns="{_attr_escape(default)}"'.encode())
    pieces.append(out[pos:])
    return b"".join(pieces)


def _remove_keeping_tail(el: etree._Element) -> None:
    """Remove ``el`` from its parent; its tail text stays in the document."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def _b64(text: str | None) -> bytes | None:
    """Decode base64 tolerating whitespace, newlines and PEM armour."""
    if text is None:
        return None
    lines = [ln for ln in text.splitlines() if not ln.strip().startswith("-----")]
    compact = "".join("".join(lines).split())
    if not compact:
        return None
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None


def _digest(name: str, data: bytes) -> bytes:
    return hashlib.new(name, data).digest()


def _text(el: etree._Element | None) -> str | None:
    if el is None:
        return None
    value = "".join(el.itertext()).strip()
    return value or None


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _xades_tags(local: str) -> list[str]:
    return [ns.q(n, local) for n in _XADES_NAMESPACES]


def _xchild(el: etree._Element | None, local: str) -> etree._Element | None:
    if el is None:
        return None
    for tag in _xades_tags(local):
        found = el.find(tag)
        if found is not None:
            return found
    return None


def _xpath_chain(el: etree._Element | None, *locals_: str) -> etree._Element | None:
    for local in locals_:
        el = _xchild(el, local)
    return el


def _b64str(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode("ascii") if data is not None else None


def _digest_name(uri: str | None) -> str | None:
    return policy.DIGEST_ALGORITHMS.get(uri or "")


def _c14n_label_for_uri(uri: str | None) -> str:
    spec = _parse_c14n(etree.Element("x", Algorithm=uri or ""))
    return spec.label if spec else (uri or "(sin algoritmo)")


# --------------------------------------------------------------------------
# Distinguished names (lenient comparison)
# --------------------------------------------------------------------------

_DN_ALIASES = {
    "CN": "2.5.4.3",
    "C": "2.5.4.6",
    "L": "2.5.4.7",
    "ST": "2.5.4.8",
    "S": "2.5.4.8",
    "STREET": "2.5.4.9",
    "O": "2.5.4.10",
    "OU": "2.5.4.11",
    "T": "2.5.4.12",
    "TITLE": "2.5.4.12",
    "SERIALNUMBER": "2.5.4.5",
    "SN": "2.5.4.4",
    "SURNAME": "2.5.4.4",
    "G": "2.5.4.42",
    "GN": "2.5.4.42",
    "GIVENNAME": "2.5.4.42",
    "POSTALCODE": "2.5.4.17",
    "DESCRIPTION": "2.5.4.13",
    "BUSINESSCATEGORY": "2.5.4.15",
    "ORGANIZATIONIDENTIFIER": "2.5.4.97",
    "E": "1.2.840.113549.1.9.1",
    "EMAIL": "1.2.840.113549.1.9.1",
    "EMAILADDRESS": "1.2.840.113549.1.9.1",
    "DC": "0.9.2342.19200300.100.1.25",
    "UID": "0.9.2342.19200300.100.1.1",
}


def _split_unescaped(text: str, seps: str) -> list[str]:
    parts: list[str] = []
    buf: list[str] = []
    escaped = quoted = False
    for ch in text:
        if escaped:
            buf.append(ch)
            escaped = False
        elif ch == "\\":
            buf.append(ch)
            escaped = True
        elif ch == '"':
            buf.append(ch)
            quoted = not quoted
        elif ch in seps and not quoted:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return parts


def _unescape_dn_value(value: str) -> str:
    value = value.strip()
    if value.startswith("#") and re.fullmatch(r"#[0-9A-Fa-f]+", value):
        raw = bytes.fromhex(value[1:])
        # DER TLV of a string type: skip tag and (short or long) length.
        if len(raw) >= 2:
            length_byte = raw[1]
            offset = 2 + (length_byte & 0x7F if length_byte & 0x80 else 0)
            raw = raw[offset:]
        return raw.decode("utf-8", errors="replace")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    out = bytearray()
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            pair = value[i + 1 : i + 3]
            if re.fullmatch(r"[0-9A-Fa-f]{2}", pair):
                out += bytes.fromhex(pair)
                i += 3
                continue
            out += value[i + 1].encode("utf-8")
            i += 2
            continue
        out += ch.encode("utf-8")
        i += 1
    return out.decode("utf-8", errors="replace")


def _norm_value(value: str) -> str:
    return " ".join(value.split()).casefold()


def _parse_dn(text: str) -> list[tuple[str, str]]:
    attrs: list[tuple[str, str]] = []
    for rdn in _split_unescaped(text, ",;"):
        for ava in _split_unescaped(rdn, "+"):
            if not ava.strip():
                continue
            if "=" not in ava:
                attrs.append(("?", _norm_value(_unescape_dn_value(ava))))
                continue
            key, _, value = ava.partition("=")
            key = key.strip()
            upper = key.upper()
            if upper.startswith("OID."):
                oid = key[4:]
            elif re.fullmatch(r"[0-9.]+", key):
                oid = key
            else:
                oid = _DN_ALIASES.get(upper, upper)
            attrs.append((oid, _norm_value(_unescape_dn_value(value))))
    return attrs


def _name_attrs(name: x509.Name) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for attr in name:
        value = attr.value
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        out.append((attr.oid.dotted_string, _norm_value(text)))
    return out


def _dn_matches(text: str, name: x509.Name) -> tuple[bool, bool]:
    """Compare a written DN with a certificate name: (matches, exact_types)."""
    written = _parse_dn(text)
    actual = _name_attrs(name)
    if sorted(written) == sorted(actual):
        return True, True
    if sorted(v for _, v in written) == sorted(v for _, v in actual):
        return True, False
    return False, False


def _parse_serial(text: str | None) -> int | None:
    if not text:
        return None
    value = text.strip()
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return int(value.removeprefix("0x").removeprefix("0X").replace(":", ""), 16)
    except ValueError:
        return None


def _nit_from_subject(name: x509.Name) -> str | None:
    for oid in ("2.5.4.5", "1.3.6.1.4.1.23267.2.3", "2.5.4.97"):
        for attr in name.get_attributes_for_oid(x509.ObjectIdentifier(oid)):
            value = attr.value
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            match = re.search(r"\d{5,}", text.replace(".", ""))
            if match:
                return match.group(0)
    return None


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------

_DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def _parse_xs_datetime(text: str) -> tuple[datetime, str | None]:
    """Parse an xs:dateTime; return (datetime, written zone or None when absent)."""
    m = _DATETIME_RE.match(text.strip())
    if not m:
        raise ValueError(text)
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    micro = int((m.group(7) or "0")[:6].ljust(6, "0"))
    zone = m.group(8)
    tz: timezone
    if zone is None:
        tz = COLOMBIA_TZ
    elif zone == "Z":
        tz = UTC
    else:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz), zone


def _fmt_col(moment: datetime) -> str:
    return moment.astimezone(COLOMBIA_TZ).strftime("%Y-%m-%d %H:%M:%S") + " (hora Colombia)"


# --------------------------------------------------------------------------
# References and certificates
# --------------------------------------------------------------------------


@dataclass
class _Reference:
    element: etree._Element
    uri: str | None
    type: str | None
    digest_uri: str | None
    digest_value: bytes | None
    transforms: list[etree._Element]
    name: str = ""
    target: etree._Element | None = None  # None = whole document
    whole_document: bool = False
    keep_comments: bool = False
    error: str | None = None
    ok: bool = False
    explanation: str | None = None


@dataclass
class _Cert:
    cert: x509.Certificate
    der: bytes


#: The certificate fields cryptography parses lazily, in Spanish, by the name its errors use.
_CERT_PARTS = {
    "issuer": "emisor",
    "subject": "titular",
    "validity": "vigencia",
    "extensions": "extensiones",
    "subject_public_key_info": "llave pública",
    "serial": "serial",
}
_LOCATION = re.compile(r"location: \[([^\]]*)\]")


def _readable_certificate(der: bytes) -> x509.Certificate:
    """Load a DER certificate and read every field the verifier uses now.

    cryptography parses the subject, issuer, extensions and key lazily, so a
    damaged byte surfaces as ``ValueError`` wherever a field is first read; reading
    them here turns that into one place the caller handles (issue 14, item 16).
    """
    cert = x509.load_der_x509_certificate(der)
    _ = (cert.subject, cert.issuer, cert.serial_number)
    _ = (cert.not_valid_before_utc, cert.not_valid_after_utc, cert.extensions)
    cert.public_key()
    return cert


def _damaged_part(exc: Exception) -> str:
    """Which part of a certificate failed to parse, in Spanish (from cryptography's message)."""
    found = _LOCATION.search(str(exc))
    names = re.findall(r'"([^"]+)"', found.group(1)) if found else []
    for name in names:
        for key, spanish in _CERT_PARTS.items():
            if key in name.lower():
                return f"campo {spanish}"
    return "estructura DER"


def _verify_raw(
    cert: x509.Certificate, sig_uri: str, signature: bytes, data: bytes
) -> tuple[bool, str | None]:
    """Check ``signature`` over ``data``; return (ok, Spanish reason when not ok)."""
    algo = policy.SIGNATURE_ALGORITHMS.get(sig_uri)
    if algo is None:
        return False, f"algoritmo de firma no soportado: {sig_uri}"
    key_type, hash_name = algo
    hash_alg = _HASHES[hash_name]()
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return False, "no se pudo leer la clave pública del certificado"
    try:
        if key_type == "rsa":
            if not isinstance(key, rsa.RSAPublicKey):
                return False, "la firma declara RSA pero la clave del certificado no es RSA"
            key.verify(signature, data, padding.PKCS1v15(), hash_alg)
        else:
            if not isinstance(key, ec.EllipticCurvePublicKey):
                return False, "la firma declara ECDSA pero la clave del certificado no es EC"
            half = len(signature) // 2
            der = encode_dss_signature(
                int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
            )
            key.verify(der, data, ec.ECDSA(hash_alg))
    except InvalidSignature:
        return False, None
    except (ValueError, TypeError) as exc:
        return False, f"la firma no se pudo comprobar ({exc})"
    return True, None


def _recover_rsa_digest(cert: x509.Certificate, signature: bytes) -> tuple[str, bytes] | None:
    """Return (hash name, digest) that an RSA PKCS#1 v1.5 signature carries, if any."""
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return None
    if not isinstance(key, rsa.RSAPublicKey):
        return None
    try:
        info = key.recover_data_from_signature(signature, padding.PKCS1v15(), None)
    except (InvalidSignature, ValueError):
        return None
    for name, prefix in _DIGEST_INFO_PREFIX.items():
        if info.startswith(prefix) and len(info) == len(prefix) + _DIGEST_SIZES[name]:
            return name, info[len(prefix) :]
    return "desconocido", info


# --------------------------------------------------------------------------
# The verifier
# --------------------------------------------------------------------------


class _Verifier:
    def __init__(
        self, root: etree._Element, sig: etree._Element, report: VerificationReport, now: datetime
    ) -> None:
        self.root = root
        self.sig = sig
        self.report = report
        self.now = now
        self.refs: list[_Reference] = []
        self._ids: dict[str, list[etree._Element]] | None = None
        self.signer: _Cert | None = None
        self.sv_ok = False
        self.sv_explanation: str | None = None
        self.sv_wrong_key = False
        self.binding_ok = False
        self.coverage_ok = False
        self.signed_props: etree._Element | None = None
        self.signing_time: datetime | None = None
        #: Which part of each unreadable ds:X509Certificate failed to parse.
        self.damaged_certificates: list[str] = []

    # -- plumbing ----------------------------------------------------------

    def add(self, name: str, ok: bool | None, message: str, **detail: Any) -> Check:
        check = Check(name, ok, message, detail)
        self.report.checks.append(check)
        return check

    def ids(self) -> dict[str, list[etree._Element]]:
        if self._ids is None:
            index: dict[str, list[etree._Element]] = {}
            for value in _ID_VALUES(self.root):  # type: ignore[union-attr]
                el = value.getparent()  # an attribute result ("smart string") knows its element
                found = index.setdefault(str(value), [])
                if el not in found:
                    found.append(el)
            self._ids = index
        return self._ids

    def ds(self, el: etree._Element | None, local: str) -> etree._Element | None:
        return None if el is None else el.find(ns.q(ns.DS, local))

    # -- main --------------------------------------------------------------

    def run(self) -> None:
        signed_info = self.ds(self.sig, "SignedInfo")
        self.report.signature_id = self.sig.get("Id")
        if signed_info is None:
            self.add(
                "signed_info", False, "La firma no tiene ds:SignedInfo; no se puede verificar."
            )
            self.report.diagnosis.append("La firma está incompleta: falta ds:SignedInfo.")
            return
        c14n_el = self.ds(signed_info, "CanonicalizationMethod")
        sm_el = self.ds(signed_info, "SignatureMethod")
        self.report.c14n_method = c14n_el.get("Algorithm") if c14n_el is not None else None
        self.report.signature_method = sm_el.get("Algorithm") if sm_el is not None else None

        self.parse_references(signed_info)
        self.signed_props = self.find_signed_properties()
        certs = self.keyinfo_certificates()
        xades_certs = self.xades_cert_entries()

        for ref in self.refs:
            self.check_reference(ref)
        self.check_coverage()
        self.check_signature_value(signed_info, c14n_el, certs, xades_certs)
        self.check_binding(xades_certs)
        self.check_signing_time()
        self.check_policy()
        self.extract_role()
        self.check_certificate_facts()
        self.check_algorithms()

        self.report.valid = (
            bool(self.refs)
            and all(r.ok for r in self.refs)
            and self.sv_ok
            and self.binding_ok
            and self.coverage_ok
        )
        self.diagnose()

    # -- references --------------------------------------------------------

    def parse_references(self, signed_info: etree._Element) -> None:
        names: dict[str, int] = {}
        for el in signed_info.findall(ns.q(ns.DS, "Reference")):
            dm = self.ds(el, "DigestMethod")
            transforms_el = self.ds(el, "Transforms")
            ref = _Reference(
                element=el,
                uri=el.get("URI"),
                type=el.get("Type"),
                digest_uri=dm.get("Algorithm") if dm is not None else None,
                digest_value=_b64(_text(self.ds(el, "DigestValue"))),
                transforms=(
                    list(transforms_el.findall(ns.q(ns.DS, "Transform")))
                    if transforms_el is not None
                    else []
                ),
            )
            self.resolve(ref)
            base = self.reference_name(ref)
            names[base] = names.get(base, 0) + 1
            ref.name = base if names[base] == 1 else f"{base} ({names[base]})"
            self.refs.append(ref)
            if ref.digest_uri and ref.digest_uri not in self.report.digest_methods:
                self.report.digest_methods.append(ref.digest_uri)

    def resolve(self, ref: _Reference) -> None:
        uri = ref.uri
        if uri is None:
            ref.error = "la referencia no tiene atributo URI (no se sabe qué firma)"
            return
        if uri == "":
            ref.whole_document = True
            return
        if uri == "#xpointer(/)":
            ref.whole_document = True
            ref.keep_comments = True
            return
        m = re.fullmatch(r"#xpointer\(id\(['\"]([^'\"]+)['\"]\)\)", uri)
        if m:
            ident, ref.keep_comments = m.group(1), True
        elif uri.startswith("#"):
            ident = uri[1:]
        else:
            ref.error = f"referencia externa «{uri}»: no se puede resolver dentro del documento"
            return
        found = self.ids().get(ident, [])
        if not found:
            ref.error = f"ningún elemento del documento tiene Id=«{ident}»"
        elif len(found) > 1:
            ref.error = (
                f"el Id «{ident}» está repetido en {len(found)} elementos; la referencia es ambigua"
            )
        else:
            ref.target = found[0]
            if ref.target is self.root:
                ref.whole_document = True
                ref.target = None

    def reference_name(self, ref: _Reference) -> str:
        if ref.whole_document:
            return "documento"
        if ref.target is not None:
            if ref.target.tag == _DS_KEYINFO:
                return "KeyInfo"
            if ref.target.tag in _xades_tags("SignedProperties"):
                return "SignedProperties"
        if ref.type == policy.SIGNED_PROPERTIES_TYPE:
            return "SignedProperties"
        return ref.uri or "(sin URI)"

    def reference_plan(self, ref: _Reference) -> tuple[bool, bool, _C14n]:
        """Return (remove own signature, remove every signature, c14n) from the transforms."""
        remove_own = remove_all = False
        spec: _C14n | None = None
        for t in ref.transforms:
            alg = t.get("Algorithm") or ""
            if alg == policy.TRANSFORM_ENVELOPED:
                remove_own = True
            elif alg in policy.C14N_ALGORITHMS:
                if spec is None:
                    spec = _parse_c14n(t)
            elif alg == policy.TRANSFORM_XPATH and self.is_signature_filter(t):
                remove_all = True
            else:
                raise _Unsupported(alg)
        return remove_own, remove_all, spec or _DEFAULT_C14N

    def is_signature_filter(self, transform: etree._Element) -> bool:
        xp = transform.find(ns.q(ns.DS, "XPath"))
        if xp is None or not xp.text:
            return False
        m = _SIGNATURE_FILTER.fullmatch("".join(xp.text.split()))
        return m is not None and xp.nsmap.get(m.group(1)) == ns.DS

    def reference_octets(self, ref: _Reference, spec: _C14n | None = None) -> bytes:
        """Octets the reference digests: declared transforms, or ``spec`` instead of its C14N."""
        remove_own, remove_all, declared = self.reference_plan(ref)
        keep_comments = ref.keep_comments or (spec is not None and spec.comments)
        spec = spec or declared
        target: etree._Element | etree._ElementTree
        if ref.whole_document:
            target = self.root.getroottree()
        elif ref.target is not None:
            target = ref.target
        else:
            raise _Unsupported(ref.uri or "")
        if not (remove_own or remove_all):
            return _canonicalize(target, spec, keep_comments=keep_comments)
        originals = list(self.root.iter())
        tree_copy = copy.deepcopy(self.root.getroottree())
        nodes = list(tree_copy.getroot().iter())
        is_element = isinstance(target, etree._Element)
        target = nodes[originals.index(target)] if is_element else tree_copy
        if remove_all:
            doomed = [nodes[i] for i, n in enumerate(originals) if n.tag == _DS_SIGNATURE]
        else:
            doomed = [nodes[originals.index(self.sig)]]
        for el in doomed:
            _remove_keeping_tail(el)
        return _canonicalize(target, spec, keep_comments=keep_comments)

    def check_reference(self, ref: _Reference) -> None:
        name = f"reference:{ref.name}"
        detail: dict[str, Any] = {
            "uri": ref.uri,
            "type": ref.type,
            "digest_method": ref.digest_uri,
            "transforms": [t.get("Algorithm") for t in ref.transforms],
        }
        if ref.error:
            self.add(name, False, f"Referencia «{ref.name}»: {ref.error}.", **detail)
            return
        hash_name = _digest_name(ref.digest_uri)
        if hash_name is None:
            self.add(
                name,
                False,
                f"Referencia «{ref.name}»: algoritmo de resumen no soportado ({ref.digest_uri}).",
                **detail,
            )
            return
        if ref.digest_value is None:
            self.add(
                name, False, f"Referencia «{ref.name}»: DigestValue vacío o no es base64.", **detail
            )
            return
        try:
            octets = self.reference_octets(ref)
        except _C14nFailed as exc:
            self.add(name, False, f"Referencia «{ref.name}»: {exc.args[0]}.", **detail)
            return
        except _Unsupported as exc:
            self.add(
                name,
                False,
                f"Referencia «{ref.name}»: transformación no soportada ({exc.args[0]}).",
                **detail,
            )
            return
        computed = _digest(hash_name, octets)
        detail.update(declared=_b64str(ref.digest_value), computed=_b64str(computed))
        weak = " (SHA-1: DIAN lo rechaza)" if hash_name == "sha1" else ""
        if computed == ref.digest_value:
            ref.ok = True
            self.add(name, True, f"El resumen de «{ref.name}» coincide{weak}.", **detail)
            return
        ref.explanation = self.explain_digest(ref, hash_name)
        message = f"El resumen de «{ref.name}» NO coincide: ese contenido cambió o se firmó mal."
        if ref.explanation:
            message += f" {ref.explanation}"
            detail["explanation"] = ref.explanation
        if len(ref.digest_value) != _DIGEST_SIZES[hash_name]:
            message += (
                f" El DigestValue mide {len(ref.digest_value)} bytes, no "
                f"{_DIGEST_SIZES[hash_name]} como exige {hash_name.upper()}."
            )
        self.add(name, False, message, **detail)

    def explain_digest(self, ref: _Reference, hash_name: str) -> str | None:
        """Find the canonicalization (and hash) that reproduces a failing declared digest."""
        remove_own, remove_all, declared = self.reference_plan(ref)
        if ref.whole_document and not (remove_own or remove_all):
            return (
                "Diagnóstico: la referencia al documento no declara la transformación "
                "enveloped-signature, así que su resumen incluiría la propia firma y nunca puede "
                "coincidir (DIAN: «Reference '' cannot be validated»); es un error del software "
                "que firmó."
            )
        candidates = [hash_name] + [
            n
            for n, size in _DIGEST_SIZES.items()
            if n != hash_name and ref.digest_value is not None and size == len(ref.digest_value)
        ]
        variants = [declared] + [v for v in _ALTERNATIVES if v != declared]
        if ref.whole_document:
            variants = [v for v in variants if v.variant != "detached"]
        matches: list[tuple[_C14n, str]] = []
        for spec in variants:
            try:
                octets = self.reference_octets(ref, spec)
            except _C14nFailed:
                continue
            for candidate in candidates:
                if _digest(candidate, octets) == ref.digest_value:
                    matches.append((spec, candidate))
        if not matches:
            return None
        spec, candidate = matches[0]
        if spec == declared:
            return (
                f"Diagnóstico: el resumen de «{ref.name}» se calculó con {candidate.upper()} "
                f"aunque la firma declara {hash_name.upper()}; es un error del software que firmó."
            )
        what = "el documento" if ref.whole_document else f"el {ref.name}"
        alg = f" y {candidate.upper()}" if candidate != hash_name else ""
        same = [s.label for s, c in matches[1:] if c == candidate]
        also = f" (aquí equivale a {' o '.join(same)})" if same else ""
        return (
            f"Diagnóstico: {what} se digirió con {spec.label}{alg}{also} aunque la firma "
            f"declara {declared.label}; es un error del software que firmó, no un "
            "cambio posterior."
        )

    def check_coverage(self) -> None:
        doc_covered = any(r.whole_document and not r.error for r in self.refs)
        sp = self.signed_props
        sp_covered = sp is not None and any(r.target is sp for r in self.refs)
        problems = []
        if not doc_covered:
            problems.append('ninguna referencia cubre el documento completo (URI="")')
        if sp is None:
            problems.append("no hay xades:SignedProperties (la firma no es XAdES-EPES)")
        elif not sp_covered:
            problems.append("ninguna referencia cubre xades:SignedProperties")
        self.coverage_ok = not problems
        if problems:
            self.add(
                "coverage",
                False,
                "La firma no cubre lo que DIAN exige: " + "; ".join(problems) + ".",
            )
        else:
            self.add(
                "coverage",
                True,
                "La firma cubre el documento completo y las propiedades XAdES firmadas.",
            )

    # -- certificates and signature value --------------------------------

    def keyinfo_certificates(self) -> list[_Cert]:
        certs: list[_Cert] = []
        damaged: list[str] = []
        key_info = self.ds(self.sig, "KeyInfo")
        if key_info is None:
            return certs
        for el in key_info.iter(ns.q(ns.DS, "X509Certificate")):
            der = _b64(el.text)
            if der is None:
                continue
            try:
                certs.append(_Cert(_readable_certificate(der), der))
            except (ValueError, UnsupportedAlgorithm) as exc:
                damaged.append(_damaged_part(exc))
        if damaged:
            where = ", ".join(damaged)
            self.add(
                "keyinfo_certificate",
                False,
                f"Un ds:X509Certificate de ds:KeyInfo está dañado ({where}): no es un "
                "certificado X.509 legible. DIAN rechaza la firma (ZD06); firme de nuevo con el "
                "certificado original.",
                damaged=len(damaged),
            )
        self.damaged_certificates = damaged
        return certs

    def xades_cert_entries(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        ssp = _xchild(self.signed_props, "SignedSignatureProperties")
        sc = _xchild(ssp, "SigningCertificate")
        if sc is None:
            sc = _xchild(ssp, "SigningCertificateV2")
        if sc is None:
            return entries
        for cert_el in sc:
            if _local(cert_el) != "Cert":
                continue
            cd = _xchild(cert_el, "CertDigest")
            dm = self.ds(cd, "DigestMethod")
            iss = _xchild(cert_el, "IssuerSerial")
            entries.append(
                {
                    "digest_uri": dm.get("Algorithm") if dm is not None else None,
                    "digest": _b64(_text(self.ds(cd, "DigestValue"))),
                    "issuer": _text(self.ds(iss, "X509IssuerName")),
                    "serial": _parse_serial(_text(self.ds(iss, "X509SerialNumber"))),
                    "has_issuer_serial": iss is not None,
                }
            )
        return entries

    @staticmethod
    def cert_matches_entry(cert: _Cert, entry: dict[str, Any]) -> bool:
        hash_name = _digest_name(entry["digest_uri"])
        return hash_name is not None and _digest(hash_name, cert.der) == entry["digest"]

    def check_signature_value(
        self,
        signed_info: etree._Element,
        c14n_el: etree._Element | None,
        certs: list[_Cert],
        xades_certs: list[dict[str, Any]],
    ) -> None:
        name = "signature_value"
        sig_uri = self.report.signature_method or ""
        spec = _parse_c14n(c14n_el) if c14n_el is not None else None
        signature = _b64(_text(self.ds(self.sig, "SignatureValue")))
        if not certs:
            self.add(
                name,
                False,
                "ds:KeyInfo no trae un ds:X509Certificate legible; sin "
                "certificado no se puede comprobar la firma (DIAN: ZD06).",
            )
            return
        if spec is None:
            self.add(
                name,
                False,
                "Método de canonicalización de SignedInfo no soportado: "
                f"{self.report.c14n_method}.",
            )
            self.signer = certs[0]
            return
        if signature is None:
            self.add(name, False, "ds:SignatureValue vacío o no es base64.")
            self.signer = certs[0]
            return
        try:
            octets = _canonicalize(signed_info, spec, keep_comments=True)
        except _C14nFailed as exc:
            self.add(name, False, f"SignedInfo: {exc.args[0]}.")
            self.signer = certs[0]
            return
        matching = [c for c in certs if any(self.cert_matches_entry(c, e) for e in xades_certs)]
        ordered = matching + [c for c in certs if c not in matching]
        reason: str | None = None
        for cert in ordered:
            ok, why = _verify_raw(cert.cert, sig_uri, signature, octets)
            if ok:
                self.signer = cert
                self.sv_ok = True
                break
            reason = reason or why
        if self.signer is None:
            leaves = [c for c in ordered if not _is_ca(c.cert)]
            self.signer = (leaves or ordered)[0]
        detail: dict[str, Any] = {
            "signature_method": sig_uri,
            "c14n": self.report.c14n_method,
            "certificates_in_keyinfo": len(certs),
        }
        if self.sv_ok:
            weak = " (RSA-SHA1: DIAN lo rechaza)" if sig_uri == policy.SIGNATURE_RSA_SHA1 else ""
            self.add(
                name,
                True,
                "El valor de la firma (SignatureValue) es correcto para el "
                f"certificado de KeyInfo{weak}.",
                **detail,
            )
            return
        self.sv_explanation = reason or self.explain_signature_value(signed_info, spec, signature)
        message = "El valor de la firma (SignatureValue) NO verifica con el certificado de KeyInfo."
        if self.sv_explanation:
            message += f" {self.sv_explanation}"
            detail["explanation"] = self.sv_explanation
        self.add(name, False, message, **detail)

    def explain_signature_value(
        self, signed_info: etree._Element, declared: _C14n, signature: bytes
    ) -> str | None:
        assert self.signer is not None
        algo = policy.SIGNATURE_ALGORITHMS.get(self.report.signature_method or "")
        recovered = _recover_rsa_digest(self.signer.cert, signature)
        if algo is not None and algo[0] == "rsa" and recovered is None:
            self.sv_wrong_key = True
            return (
                "La firma no se hizo con la clave de este certificado: el certificado de "
                "KeyInfo se reemplazó o se firmó con otra clave."
            )
        variants = [declared] + [
            v for v in _ALTERNATIVES if v != declared and v.variant != "detached"
        ]
        for spec in variants:
            try:
                octets = _canonicalize(signed_info, spec, keep_comments=True)
            except _C14nFailed:
                continue
            if recovered is not None:
                hash_name, value = recovered
                if hash_name in _HASHES and _digest(hash_name, octets) == value:
                    declared_hash = algo[1] if algo else "?"
                    if spec == declared:
                        return (
                            f"Diagnóstico: la firma se calculó con {hash_name.upper()} aunque "
                            f"SignatureMethod declara {declared_hash.upper()}."
                        )
                    return (
                        f"Diagnóstico: SignedInfo se canonicalizó con {spec.label} aunque "
                        f"declara {declared.label}; es un error del software que firmó."
                    )
            elif spec != declared and algo is not None:
                ok, _ = _verify_raw(
                    self.signer.cert, self.report.signature_method or "", signature, octets
                )
                if ok:
                    return (
                        f"Diagnóstico: SignedInfo se canonicalizó con {spec.label} aunque "
                        f"declara {declared.label}."
                    )
        return None

    def check_binding(self, entries: list[dict[str, Any]]) -> None:
        name = "signing_certificate"
        signer = self.signer
        if self.signed_props is None:
            self.add(name, False, "No hay xades:SignedProperties: falta xades:SigningCertificate.")
            return
        if not entries:
            self.add(
                name,
                False,
                "xades:SigningCertificate no existe o no tiene xades:Cert; "
                "la firma no identifica su certificado (requisito XAdES-EPES).",
            )
            return
        if signer is None:
            self.add(
                name,
                False,
                "No hay certificado en KeyInfo con el cual comparar xades:SigningCertificate.",
            )
            return
        detail: dict[str, Any] = {"certs_listed": len(entries)}
        for i, entry in enumerate(entries):
            if not self.cert_matches_entry(signer, entry):
                continue
            detail["matching_entry"] = i + 1
            serial_ok = entry["serial"] == signer.cert.serial_number
            issuer_ok, exact = False, False
            if entry["issuer"]:
                issuer_ok, exact = _dn_matches(entry["issuer"], signer.cert.issuer)
            if not entry["has_issuer_serial"]:
                serial_ok = issuer_ok = exact = True  # SigningCertificateV2 without IssuerSerial
            if serial_ok and issuer_ok:
                self.binding_ok = True
                extra = (
                    ""
                    if exact
                    else (" (el nombre del emisor está escrito con otro formato, pero coincide)")
                )
                self.add(
                    name,
                    True,
                    "xades:SigningCertificate corresponde al certificado de "
                    f"KeyInfo (resumen, emisor y serial){extra}.",
                    **detail,
                )
                return
            problems = []
            if not serial_ok:
                problems.append(
                    f"el serial declarado ({entry['serial']}) no es el del certificado "
                    f"({signer.cert.serial_number})"
                )
            if not issuer_ok:
                problems.append(
                    f"el emisor declarado «{entry['issuer']}» no es "
                    f"«{signer.cert.issuer.rfc4514_string()}»"
                )
            self.add(
                name,
                False,
                "xades:SigningCertificate tiene el resumen del certificado "
                "pero " + " y ".join(problems) + ".",
                **detail,
            )
            return
        self.add(
            name,
            False,
            "Ningún xades:Cert de xades:SigningCertificate corresponde al "
            "certificado de KeyInfo: el certificado se reemplazó después de firmar o la "
            "firma lista otro certificado.",
            **detail,
        )

    # -- XAdES properties ------------------------------------------------

    def find_signed_properties(self) -> etree._Element | None:
        for ref in self.refs:
            if ref.target is not None and ref.target.tag in _xades_tags("SignedProperties"):
                return ref.target
        for qp in self.sig.iter(*_xades_tags("QualifyingProperties")):
            sp = _xchild(qp, "SignedProperties")
            if sp is not None:
                return sp
        return None

    def check_signing_time(self) -> None:
        ssp = _xchild(self.signed_props, "SignedSignatureProperties")
        st_text = _text(_xchild(ssp, "SigningTime"))
        if st_text is None:
            self.add(
                "signing_time",
                False,
                "No hay xades:SigningTime; DIAN cuenta los plazos "
                "desde la hora de firma y la exige.",
            )
            return
        try:
            moment, zone = _parse_xs_datetime(st_text)
        except ValueError:
            self.add(
                "signing_time",
                False,
                f"xades:SigningTime «{st_text}» no es una fecha y hora xs:dateTime válida.",
            )
            return
        self.signing_time = moment
        self.report.signing_time = moment
        self.report.signing_time_colombia = moment.astimezone(COLOMBIA_TZ)
        self.add(
            "signing_time", True, f"Hora de firma: {st_text} = {_fmt_col(moment)}.", written=st_text
        )
        if zone is None:
            self.add(
                "signing_time_zone",
                None,
                "xades:SigningTime no indica zona horaria; se "
                "interpreta como hora de Colombia (UTC-5).",
                written=st_text,
            )
        elif zone in ("Z", "+00:00", "+0000"):
            wall = moment.replace(tzinfo=COLOMBIA_TZ)
            self.add(
                "signing_time_zone",
                None,
                f"xades:SigningTime está rotulada en UTC ({zone}): equivale a "
                f"{_fmt_col(moment)}. Ojo: las ApplicationResponse de la propia DIAN escriben la "
                "hora de Bogotá rotulada +00:00; si este documento viene de allí, la hora real "
                f"sería {_fmt_col(wall)}.",
                written=st_text,
            )
        self.check_issue_date(moment, zone)

    def check_issue_date(self, moment: datetime, zone: str | None) -> None:
        issue = self.report.issue_date
        if not issue:
            return
        issue_day = issue[:10]
        col_day = moment.astimezone(COLOMBIA_TZ).date().isoformat()
        rule = _DATE_RULES.get(self.report.document_type or "", "FAD09e/CAD09e/DAD09e")
        if issue_day == col_day:
            self.add(
                "issue_date",
                True,
                f"cbc:IssueDate ({issue_day}) es la fecha de la firma en "
                f"hora de Colombia (regla {rule}).",
                issue_date=issue_day,
                signing_date=col_day,
            )
            return
        message = (
            f"cbc:IssueDate ({issue_day}) difiere de la fecha de firma en hora de Colombia "
            f"({col_day}). DIAN rechaza con {rule} «La fecha de generación es diferente a la "
            "fecha de firma»: suele pasar cuando un equipo en UTC firma después de las 7 p. m. "
            "de Bogotá."
        )
        if zone in ("Z", "+00:00", "+0000") and moment.date().isoformat() == issue_day:
            message += (
                " La fecha sí coincide con la hora tal como está escrita (+00:00); si es hora de "
                "Bogotá mal rotulada, DIAN podría aceptarla."
            )
        self.add("issue_date", None, message, issue_date=issue_day, signing_date=col_day, rule=rule)
        self.report.diagnosis.append(
            f"La fecha de emisión ({issue_day}) no es la fecha de firma en Colombia ({col_day}): "
            f"DIAN rechaza con {rule}."
        )

    def check_policy(self) -> None:
        ssp = _xchild(self.signed_props, "SignedSignatureProperties")
        spi = _xchild(ssp, "SignaturePolicyIdentifier")
        if spi is None:
            self.add(
                "policy",
                False,
                "No hay xades:SignaturePolicyIdentifier: la firma no es "
                "XAdES-EPES y DIAN la rechaza (ZE02 Política de firma inválida).",
            )
            self.report.diagnosis.append("Falta la política de firma de la DIAN (ZE02).")
            return
        spid = _xchild(spi, "SignaturePolicyId")
        if spid is None:
            self.add(
                "policy",
                False,
                "La política de firma es implícita "
                "(SignaturePolicyImplied); DIAN exige su política explícita (ZE02).",
            )
            self.report.diagnosis.append("Falta la política de firma de la DIAN (ZE02).")
            return
        identifier = _text(_xpath_chain(spid, "SigPolicyId", "Identifier"))
        self.report.policy_identifier = identifier
        hash_el = _xchild(spid, "SigPolicyHash")
        dm = self.ds(hash_el, "DigestMethod")
        method = dm.get("Algorithm") if dm is not None else None
        declared = _b64(_text(self.ds(hash_el, "DigestValue")))
        expected_b64 = policy.POLICY_HASHES.get(method or "")
        detail = {
            "identifier": identifier,
            "digest_method": method,
            "declared": _b64str(declared),
            "expected": expected_b64,
        }
        if expected_b64 is None:
            self.report.policy_hash_ok = False
            self.add(
                "policy",
                False,
                "ZE02 Política de firma inválida: el método de resumen de "
                f"SigPolicyHash no es reconocido ({method}).",
                **detail,
            )
            self.report.diagnosis.append(
                "ZE02 Política de firma inválida: método de resumen de la política desconocido."
            )
            return
        ok = declared == base64.b64decode(expected_b64)
        self.report.policy_hash_ok = ok
        if ok:
            self.add(
                "policy",
                True,
                "SigPolicyHash coincide con el resumen de la política de "
                f"firma v2 de la DIAN ({_digest_name(method)}).",
                **detail,
            )
        else:
            hint = ""
            for uri, value in policy.POLICY_HASHES.items():
                if declared == base64.b64decode(value) and uri != method:
                    hint = (
                        f" El valor es el resumen {_digest_name(uri)} de la política, pero "
                        f"el método declarado es {method}."
                    )
                    break
            self.add(
                "policy",
                False,
                "ZE02 Política de firma inválida: SigPolicyHash no es el "
                "resumen de la política v2 de la DIAN con el método declarado." + hint,
                **detail,
            )
            self.report.diagnosis.append(
                "ZE02 Política de firma inválida: el SigPolicyHash no "
                "corresponde a la política de la DIAN." + hint
            )
        if identifier != policy.POLICY_URL:
            self.add(
                "policy_identifier",
                None,
                f"El identificador de la política («{identifier}») "
                "no es la URL de la DIAN; se acepta porque lo que DIAN compara es el resumen.",
                identifier=identifier,
                expected=policy.POLICY_URL,
            )

    def extract_role(self) -> None:
        ssp = _xchild(self.signed_props, "SignedSignatureProperties")
        role_el = _xchild(ssp, "SignerRole")
        if role_el is None:
            role_el = _xchild(ssp, "SignerRoleV2")
        roles = (
            [_text(el) for el in role_el.iter(*_xades_tags("ClaimedRole"))]
            if role_el is not None
            else []
        )
        role = next((r for r in roles if r), None)
        self.report.claimed_role = role
        if role is not None:
            meaning = {
                policy.ROLE_SUPPLIER: "firma el emisor",
                policy.ROLE_THIRD_PARTY: "firma el proveedor tecnológico",
            }.get(role.casefold())
            suffix = f" ({meaning})." if meaning else " (DIAN usa «supplier» o «third party»)."
            self.add(
                "claimed_role",
                True if meaning else None,
                f"Rol declarado: «{role}»{suffix}",
                role=role,
            )

    def check_certificate_facts(self) -> None:
        signer = self.signer
        if signer is None:
            return
        cert = signer.cert
        r = self.report
        r.certificate_subject = cert.subject.rfc4514_string()
        r.certificate_issuer = cert.issuer.rfc4514_string()
        r.certificate_serial = str(cert.serial_number)
        r.certificate_not_before = cert.not_valid_before_utc
        r.certificate_not_after = cert.not_valid_after_utc
        r.signer_nit = _nit_from_subject(cert.subject)
        span = (
            f"vigente del {_fmt_col(cert.not_valid_before_utc)} al "
            f"{_fmt_col(cert.not_valid_after_utc)}"
        )
        if self.signing_time is not None:
            ok = cert.not_valid_before_utc <= self.signing_time <= cert.not_valid_after_utc
            r.certificate_valid_at_signing_time = ok
            if ok:
                self.add(
                    "certificate_at_signing",
                    True,
                    f"El certificado estaba vigente a la hora de firma ({span}).",
                )
            else:
                when = (
                    "antes de que empezara"
                    if self.signing_time < cert.not_valid_before_utc
                    else "después de que venciera"
                )
                self.add(
                    "certificate_at_signing",
                    False,
                    "La hora de firma "
                    f"({_fmt_col(self.signing_time)}) cae {when} la vigencia del certificado "
                    f"({span}). DIAN exige que SigningTime esté dentro de la vigencia.",
                )
                self.report.diagnosis.append(
                    f"La hora de firma cae {when} la vigencia del certificado: revise el reloj y "
                    "la zona horaria del equipo que firmó, o el certificado usado."
                )
        now_ok = cert.not_valid_before_utc <= self.now <= cert.not_valid_after_utc
        r.certificate_valid_now = now_ok
        self.add(
            "certificate_now",
            True if now_ok else None,
            "El certificado está vigente hoy."
            if now_ok
            else f"El certificado no está vigente hoy ({span}); no afecta a documentos firmados "
            "durante su vigencia, pero no sirve para firmar nuevos.",
        )
        try:
            ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
            ku_ok = ku.digital_signature and ku.content_commitment
        except (x509.ExtensionNotFound, ValueError):
            ku_ok = False
        if not ku_ok:
            self.add(
                "key_usage",
                None,
                "El uso de clave del certificado no incluye firma digital "
                "y no repudio, que la política de la DIAN pide.",
            )
        self.add(
            "chain",
            None,
            "La cadena de confianza no se verifica aquí; DIAN la valida "
            "contra sus autoridades de certificación (ZD06) y revisa la revocación (ZD04).",
            issuer=r.certificate_issuer,
        )

    def check_algorithms(self) -> None:
        weak = []
        if self.report.signature_method == policy.SIGNATURE_RSA_SHA1:
            weak.append("SignatureMethod rsa-sha1")
        if any(_digest_name(r.digest_uri) == "sha1" for r in self.refs):
            weak.append("DigestMethod SHA-1 en referencias")
        if weak:
            self.add(
                "algorithms",
                False,
                "Algoritmos débiles: " + ", ".join(weak) + ". DIAN rechaza SHA-1.",
            )
            return
        non_inclusive = []
        if self.report.c14n_method != policy.C14N_INCLUSIVE:
            non_inclusive.append(f"SignedInfo ({_c14n_label_for_uri(self.report.c14n_method)})")
        for r in self.refs:
            for t in r.transforms:
                alg = t.get("Algorithm") or ""
                if alg in policy.C14N_ALGORITHMS and alg != policy.C14N_INCLUSIVE:
                    non_inclusive.append(f"{r.name} ({_c14n_label_for_uri(alg)})")
        if non_inclusive:
            self.add(
                "algorithms",
                None,
                "Algoritmos SHA-2 correctos, pero la DIAN documenta C14N "
                "1.0 inclusiva y aquí se usa otra en: " + ", ".join(non_inclusive) + ".",
            )
        else:
            self.add(
                "algorithms", True, "Algoritmos aceptados por la DIAN (SHA-2, C14N inclusiva)."
            )

    # -- diagnosis -------------------------------------------------------

    def diagnose(self) -> None:
        d = self.report.diagnosis
        head: list[str] = []
        for ref in self.refs:
            if not ref.ok and ref.explanation and ref.explanation.startswith("Diagnóstico:"):
                head.append(_sentence(ref.explanation.removeprefix("Diagnóstico: ")))
        if self.sv_explanation and self.sv_explanation.startswith("Diagnóstico:"):
            head.append(_sentence(self.sv_explanation.removeprefix("Diagnóstico: ")))
        unexplained = {
            r.name
            for r in self.refs
            if not r.ok and not r.error and not (r.explanation or "").startswith("Diagnóstico:")
        }
        failed = {r.name for r in self.refs if not r.ok}
        all_names = {r.name for r in self.refs}
        sv_unexplained = not self.sv_ok and not (self.sv_explanation or "").startswith(
            "Diagnóstico:"
        )
        pattern: str | None = None
        if self.damaged_certificates and unexplained <= {"KeyInfo"}:
            # Only what can be proved: the certificate bytes no longer parse.
            pattern = (
                "El certificado incluido en ds:KeyInfo se alteró después de firmar: ya no se "
                f"puede leer ({', '.join(self.damaged_certificates)})."
            )
        elif self.refs and failed == all_names and len(all_names) > 1 and not self.sv_ok:
            pattern = self.everything_failed()
        elif unexplained == {"documento"} and self.sv_ok:
            pattern = (
                "El documento se modificó después de firmarlo: solo falla la referencia al "
                "documento completo (la firma y sus propiedades están intactas). Compare con el "
                "original o vuelva a firmar."
            )
        elif unexplained == {"SignedProperties"} and self.sv_ok:
            pattern = (
                "Las propiedades firmadas (xades:SignedProperties: hora de firma, certificado, "
                "política o rol) se editaron después de firmar."
            )
        elif unexplained == {"KeyInfo"} and (not self.binding_ok or self.sv_wrong_key):
            pattern = (
                "El certificado de KeyInfo se reemplazó después de firmar: no coincide con "
                "xades:SigningCertificate y la firma no verifica con su clave."
            )
        elif unexplained == {"KeyInfo"} and self.sv_ok:
            pattern = "El KeyInfo cambió después de firmar (certificado o su contenido editados)."
        elif not unexplained and sv_unexplained and not failed:
            if self.sv_wrong_key:
                pattern = (
                    "La firma no se hizo con la clave del certificado incluido en KeyInfo "
                    "(certificado reemplazado, o firmado con otra clave)."
                )
            else:
                pattern = (
                    "SignedInfo se modificó después de firmar (o se re-serializó): las "
                    "referencias coinciden pero el valor de la firma no."
                )
        elif unexplained:
            pattern = (
                "El documento se alteró después de firmarlo en varias partes; fallan: "
                + ", ".join(sorted(unexplained))
                + ("" if self.sv_ok else " y el valor de la firma")
                + "."
            )
        elif not self.binding_ok and self.sv_ok and not failed and self.signed_props is not None:
            pattern = (
                "xades:SigningCertificate no identifica el certificado que firmó (resumen, emisor "
                "o serial distintos)."
            )
        errors = [f"Referencia «{r.name}»: {r.error}." for r in self.refs if r.error]
        out = head + ([pattern] if pattern else []) + errors
        if not self.refs:
            out.append("SignedInfo no tiene referencias: la firma no protege nada.")
        elif not self.coverage_ok:
            coverage = self.report.check("coverage")
            if coverage is not None:
                out.append(coverage.message)
        if self.report.valid and not out:
            return
        d[:0] = out

    def everything_failed(self) -> str:
        """Every reference and the value fail: say what can be proved, guess nothing more.

        Inclusive C14N renders the root's namespace declarations on the apex of each
        signed element, so a declaration added, dropped or changed on the root after
        signing breaks every reference with not one byte of whitespace changed. When a
        single (or double) change to those declarations makes an element reference
        match again, that is proof; indentation is only reported, never assumed.
        """
        proof = self.namespace_context_proof()
        indented = _has_indentation(self.root)
        head = "Fallan todas las referencias y el valor de la firma."
        if proof is not None:
            names, change = proof
            return (
                f"{head} Lo que se demuestra: {names} vuelven a coincidir si en la raíz "
                f"{change}, sin tocar ningún espacio en blanco. El documento se firmó con otro "
                "contexto de espacios de nombres en la raíz (la C14N inclusiva lo incluye en "
                "cada parte firmada): alguien editó las declaraciones de la raíz después de "
                "firmar. Envíe los bytes exactos que produjo el firmador."
            )
        if not indented:
            return (
                f"{head} El documento no tiene saltos de línea ni indentación entre elementos, "
                "así que no es una re-indentación: cambió algo común a todas las partes "
                "firmadas, como las declaraciones de espacios de nombres de la raíz (la C14N "
                "inclusiva las incluye en cada parte) o la serialización. Compare con los "
                "bytes que produjo el firmador."
            )
        pattern = (
            "El documento se re-indentó o re-serializó después de firmarlo: fallan todas las "
            "referencias y el valor de la firma. Envíe los bytes exactos que produjo el "
            "firmador (sin pretty-print, sin cambiar saltos de línea ni espacios)."
        )
        if _has_indentation(self.sig):
            pattern += " La firma contiene saltos de línea e indentación entre elementos."
        return pattern

    def namespace_context_proof(self) -> tuple[str, str] | None:
        """(reference names, Spanish change) when a root-declaration change fixes them."""
        element_refs = []
        for ref in self.refs:
            if ref.whole_document or ref.target is None or ref.digest_value is None:
                continue
            hash_name = _digest_name(ref.digest_uri)
            try:
                remove_own, remove_all, spec = self.reference_plan(ref)
                if remove_own or remove_all or hash_name is None:
                    continue
                octets = self.reference_octets(ref)
            except (_Unsupported, _C14nFailed):
                continue
            element_refs.append((ref, hash_name, octets))
        if not element_refs:
            return None
        first_ref, first_hash, first_octets = element_refs[0]
        for change, rewrite in _namespace_rewrites(first_octets, self.root):
            fixed = [
                ref.name
                for ref, hash_name, octets in element_refs
                if (new := rewrite(octets)) is not None
                and _digest(hash_name, new) == ref.digest_value
            ]
            if first_ref.name in fixed:
                return " y ".join(fixed), change
        return None


_APEX = re.compile(rb"^<(?P<name>[^\s>/]+)(?P<attrs>[^>]*?)(?P<end>/?>)")
_ATTR = re.compile(rb'\s+(?P<key>[^\s=]+)="(?P<value>[^"]*)"')


def _namespace_rewrites(octets: bytes, root: etree._Element) -> Iterator[tuple[str, Any]]:
    """Changes to the namespace declarations the apex inherited from the root.

    Yields (Spanish description, function rewriting canonical octets or None). Singles
    first (drop one declaration, add or change the default one, another spelling of
    the DIAN extension namespace), then pairs of singles.
    """
    m = _APEX.match(octets)
    if m is None:
        return
    decls = [
        (a.group("key"), a.group("value"))
        for a in _ATTR.finditer(m.group("attrs"))
        if a.group("key") == b"xmlns" or a.group("key").startswith(b"xmlns:")
    ]
    root_decls = {
        (b"xmlns:" + p.encode() if p else b"xmlns"): u.encode() for p, u in root.nsmap.items()
    }
    singles: list[tuple[str, Any]] = []
    for key, value in decls:
        if root_decls.get(key) == value:
            singles.append((f'se quita {key.decode()}="{value.decode()}"', ("drop", key, value)))
    default = dict(decls).get(b"xmlns")
    for uri in ns.ROOT_NS.values():
        if default is None:
            singles.append((f'se declara xmlns="{uri}"', ("set", b"xmlns", uri.encode())))
        elif default != uri.encode():
            singles.append((f'xmlns vuelve a ser "{uri}"', ("set", b"xmlns", uri.encode())))
    for key, value in decls:
        if value.decode() in ns.STS_ALTERNATIVES:
            for other in ns.STS_ALTERNATIVES:
                if other.encode() != value:
                    singles.append(
                        (f'{key.decode()} vuelve a ser "{other}"', ("set", key, other.encode()))
                    )

    def rewriter(*edits: tuple[str, bytes, bytes]) -> Any:
        def apply(data: bytes) -> bytes | None:
            found = _APEX.match(data)
            if found is None:
                return None
            attrs = [
                (a.group("key"), a.group("value")) for a in _ATTR.finditer(found.group("attrs"))
            ]
            names = dict(attrs)
            for op, key, value in edits:
                if op == "drop":
                    if names.get(key) != value:
                        return None
                    del names[key]
                else:
                    names[key] = value
            nsdecl = sorted(
                (k for k in names if k == b"xmlns" or k.startswith(b"xmlns:")),
                key=lambda k: b"" if k == b"xmlns" else k[6:],
            )
            plain = [k for k, _ in attrs if k in names and k not in nsdecl]
            text = b"".join(b" " + k + b'="' + names[k] + b'"' for k in [*nsdecl, *plain])
            return b"<" + found.group("name") + text + found.group("end") + data[found.end() :]

        return apply

    for change, edit in singles:
        yield change, rewriter(edit)
    for (c1, e1), (c2, e2) in _pairs(singles):
        if e1[1] != e2[1]:
            yield f"{c1} y {c2}", rewriter(e1, e2)


def _pairs(items: list[Any]) -> Iterator[tuple[Any, Any]]:
    for i, first in enumerate(items):
        for second in items[i + 1 :]:
            yield first, second


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return cert.subject == cert.issuer
    except ValueError:
        return False


def _has_indentation(el: etree._Element) -> bool:
    return any((node.tail and "\n" in node.tail and not node.tail.strip()) for node in el.iter())


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------


def _require_dian(root: etree._Element) -> None:
    qname = etree.QName(root)
    namespace = qname.namespace or ""
    has_extensions = root.find(ns.q(ns.EXT, "UBLExtensions")) is not None
    if namespace.startswith(_UBL_PREFIX) or has_extensions:
        return
    shown = f"«{namespace}»" if namespace else "ninguno"
    raise NotDianDocumentError(
        f"El XML no es un documento electrónico DIAN (UBL 2.1): la raíz es «{qname.localname}» "
        f"con espacio de nombres {shown}.",
        root=qname.localname,
        namespace=namespace,
    )


def _document_facts(root: etree._Element, report: VerificationReport) -> None:
    local = etree.QName(root).localname
    report.document_type = local
    cbc = ns.CBC
    code_el = _TYPE_CODE_ELEMENTS.get(local)
    if code_el:
        report.document_type_code = _text(root.find(ns.q(cbc, code_el)))
    else:
        report.document_type_code = _IMPLIED_TYPE_CODES.get(local)
    report.document_id = _text(root.find(ns.q(cbc, "ID")))
    report.uuid = _text(root.find(ns.q(cbc, "UUID")))
    report.issue_date = _text(root.find(ns.q(cbc, "IssueDate")))


def _locate_signatures(root: etree._Element) -> Iterator[tuple[etree._Element, int | None]]:
    """Yield (signature, 1-based UBLExtension position) for signatures in UBLExtensions."""
    exts = root.find(ns.q(ns.EXT, "UBLExtensions"))
    if exts is None:
        return
    for pos, ext in enumerate(exts.findall(ns.q(ns.EXT, "UBLExtension")), start=1):
        content = ext.find(ns.q(ns.EXT, "ExtensionContent"))
        if content is None:
            continue
        for sig in content.findall(_DS_SIGNATURE):
            yield sig, pos


def _first(items: Iterable[etree._Element]) -> etree._Element | None:
    return next(iter(items), None)


def verify_document(
    data: bytes, *, now: datetime | None = None, root: etree._Element | None = None
) -> VerificationReport:
    """Verify the XAdES-EPES signature of a DIAN document and explain any failure.

    ``data`` are the exact bytes of the file (untrusted: parsed with
    :func:`fe_tui.xmlsafe.parse_bytes`). ``now`` (aware; defaults to the
    current time) is used only for the informational "certificate valid
    today" check. ``root`` is the tree a caller already parsed from exactly
    these bytes with :func:`fe_tui.xmlsafe.parse_bytes` (the preflight does);
    it is read, never changed, and saves a second parse.

    Raises :class:`~fe_tui.errors.NotDianDocumentError` for XML that is not a
    DIAN UBL document, and the :mod:`fe_tui.xmlsafe` errors for unsafe,
    malformed or oversized XML. A document without a signature is not an
    error: the report says so (``valid`` is false).
    """
    if root is None:
        root = parse_bytes(data, what="el documento")
    _require_dian(root)
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=COLOMBIA_TZ)
    report = VerificationReport()
    _document_facts(root, report)
    encoding = (root.getroottree().docinfo.encoding or "UTF-8").upper().replace("_", "-")
    if encoding not in ("UTF-8", "UTF8"):
        # The signature covers the characters, not the bytes, so it may verify; DIAN still
        # expects the file in UTF-8 (issue 14, item 12).
        report.checks.append(
            Check(
                "encoding",
                None,
                f"El archivo está en {encoding}; la DIAN espera UTF-8. La firma puede verificar "
                "aquí y aun así la DIAN rechazar el archivo: genérelo y fírmelo en UTF-8.",
                {"encoding": encoding},
            )
        )

    located = list(_locate_signatures(root))
    if located:
        sig, position = located[0]
        extra = f" Hay {len(located)} firmas; se verifica la primera." if len(located) > 1 else ""
        where = (
            "la segunda ext:UBLExtension"
            if position == 2
            else (f"la ext:UBLExtension número {position} (lo usual es la segunda)")
        )
        report.checks.append(
            Check(
                "location",
                True,
                f"Firma encontrada en {where}.{extra}",
                {"ubl_extension": position, "signatures": len(located)},
            )
        )
    else:
        sig = _first(root.iter(_DS_SIGNATURE))
        if sig is None:
            report.checks.append(
                Check(
                    "location",
                    False,
                    "El documento no tiene firma (no hay ds:Signature en ext:UBLExtensions).",
                )
            )
            report.diagnosis.append(
                "El documento no tiene firma: hay que firmarlo antes de enviarlo a la DIAN."
            )
            return report
        report.checks.append(
            Check(
                "location",
                False,
                "La firma no está dentro de "
                "ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent; DIAN la busca en la "
                "segunda UBLExtension (error «Reference '' cannot be validated»). Se verifica "
                "de todos modos.",
            )
        )
    _Verifier(root, sig, report, moment).run()
    return report
