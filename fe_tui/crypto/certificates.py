"""Loading and inspecting the company's PKCS#12 (.p12 / .pfx) signing certificate.

:func:`load_pkcs12` / :func:`load_pkcs12_file` open the container, pick the
certificate that belongs to the private key and return a
:class:`LoadedCertificate`; :meth:`LoadedCertificate.info` summarises it as a
:class:`~fe_tui.domain.certificate.CertificateInfo` for the support agent.

Legacy containers
    Colombian CAs still issue PKCS#12 files encrypted with RC2-40 (certificates)
    and 3DES (key), which OpenSSL 3 refuses unless its "legacy" provider is
    loaded. The ``cryptography`` wheel ships its own OpenSSL and loads that
    provider into its private library context, so these files open without
    touching the system OpenSSL configuration, without the ``openssl`` command
    and without ever writing a decrypted key to disk. If the provider was
    disabled (``CRYPTOGRAPHY_OPENSSL_NO_LEGACY``) a clear error says so.

Wrong password or damaged file?
    ``cryptography`` raises ``ValueError`` for both. A minimal DER check tells
    them apart: a PFX is a SEQUENCE whose first element is INTEGER 3 and whose
    second is a PKCS#7 ContentInfo (data or signedData), all within the bytes
    given. A file of that shape that does not open is reported as a wrong
    password (the MAC is what fails; a bit flip inside a well-formed PFX is
    indistinguishable from a wrong password, and the message says so);
    anything else is "not PKCS#12", with a hint when the file is recognisably
    something else (PEM, a lone .cer, base64, a Java keystore).

Passwords
    ``None`` and ``""`` are both tried when the user gives no password. A
    non-ASCII password is also tried in Latin-1, and a password with stray
    surrounding whitespace (pasted from an e-mail) is tried stripped after the
    exact one fails. The password never reaches a message, an exception field,
    a repr, or (it is wrapped and the parameter deleted) a traceback's locals.

Holder NIT (first match wins; every match is kept in ``nit_candidates``)

    =====  ===========================================  =======================
    order  subject attribute                            ``nit_source``
    =====  ===========================================  =======================
    1      OID 1.3.6.1.4.1.4710.1.3.2 (GSE: "NIT")      "OID 1.3.6.1.4.1.4710.1.3.2"
    2      serialNumber (2.5.4.5)                       "serialNumber"
    3      UID (0.9.2342.19200300.100.1.1)              "UID"
    4      any other private-enterprise OID             "OID <dotted>"
           (1.3.6.1.4.1.*) whose whole value is NIT-like
    5      "NIT <number>" written inside any attribute  "<attr> (texto «NIT …»)"
           (OU, O, description, …)
    =====  ===========================================  =======================

    A value is NIT-like after this normalisation: trim and upper-case; drop an
    ETSI EN 319 412-1 prefix (``VATCO-``, ``NTRCO-``, ``IDCCO-``…); drop a
    leading label ``NIT``/``CC``/``C.C.``/``CE``/``RUT``/``TI`` and its
    punctuation; drop thousands separators (``.`` ``,``) and spaces. What is
    left must be 6–10 digits, optionally followed by ``-`` and one digit, the
    DV, which is split off: ``"900123456-7"`` → NIT ``900123456``, DV ``7``.
    Digits are never cut without a ``-``: a 10-digit value may be a cédula,
    so ``"9001234567"`` stays ``9001234567``. The agent confirms the NIT.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from fe_tui.domain.certificate import (
    EXPIRY_WARNING_DAYS,
    CertificateInfo,
    ChainEntry,
    NitCandidate,
)
from fe_tui.domain.colombia import COLOMBIA_TZ
from fe_tui.errors import (
    CertificateError,
    CertificateExpiredError,
    CertificateNotYetValidError,
    InputError,
    KeyMismatchError,
    MissingPasswordError,
    NoPrivateKeyError,
    NotPkcs12Error,
    WrongPasswordError,
)

__all__ = [
    "DEFAULT_SOURCE",
    "GSE_NIT_OID",
    "MAX_PKCS12_BYTES",
    "LoadedCertificate",
    "certificate_info",
    "check_key_matches",
    "find_nit_candidates",
    "key_matches_certificate",
    "load_pkcs12",
    "load_pkcs12_file",
    "order_chain",
    "pkcs12_encryption",
]

#: Name used in messages when the caller does not name the certificate.
DEFAULT_SOURCE = "el certificado"

#: A .p12 is a few KB; anything this large is the wrong file.
MAX_PKCS12_BYTES = 1024 * 1024

#: GSE (Gestión de Seguridad Electrónica) puts the holder's NIT here (SPEC §9).
GSE_NIT_OID = "1.3.6.1.4.1.4710.1.3.2"

_UID_OID = NameOID.USER_ID.dotted_string
_SERIAL_OID = NameOID.SERIAL_NUMBER.dotted_string
_PRIVATE_ENTERPRISE_ARC = "1.3.6.1.4.1."

#: Colombia has no daylight saving time: always UTC-5.

# DER contents of the two ContentInfo types a PFX's authSafe may have.
_OID_PKCS7_DATA = bytes.fromhex("2a864886f70d010701")
_OID_PKCS7_SIGNED = bytes.fromhex("2a864886f70d010702")

# Full DER encodings (tag, length, value) of the container encryption OIDs.
_PKCS12_PBE_PREFIX = bytes.fromhex("060a2a864886f70d010c01")
_ENCRYPTION_OIDS: dict[bytes, str] = {
    _PKCS12_PBE_PREFIX + b"\x01": "RC4-128",
    _PKCS12_PBE_PREFIX + b"\x02": "RC4-40",
    _PKCS12_PBE_PREFIX + b"\x03": "3DES",
    _PKCS12_PBE_PREFIX + b"\x04": "2DES",
    _PKCS12_PBE_PREFIX + b"\x05": "RC2-128",
    _PKCS12_PBE_PREFIX + b"\x06": "RC2-40",
    bytes.fromhex("06092a864886f70d01050d"): "PBES2",
    bytes.fromhex("0609608648016503040102"): "AES-128-CBC",
    bytes.fromhex("0609608648016503040116"): "AES-192-CBC",
    bytes.fromhex("060960864801650304012a"): "AES-256-CBC",
}
# Ciphers that need OpenSSL 3's legacy provider.
_LEGACY_PROVIDER_CIPHERS = frozenset({"RC2-40", "RC2-128", "RC4-40", "RC4-128"})

# RFC 4519 names cryptography does not print by itself (RFC 4514 allows them).
_NAME_OVERRIDES = {
    NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.TITLE: "title",
    x509.ObjectIdentifier("2.5.4.13"): "description",
    x509.ObjectIdentifier("2.5.4.41"): "name",
}

_WEAK_HASHES = frozenset({"sha1", "md5"})
_MIN_RSA_BITS = 2048


# --------------------------------------------------------------------------- secrets


class _Secret:
    """A password candidate that never shows itself in a repr or a traceback."""

    __slots__ = ("value",)

    def __init__(self, value: bytes | None) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<contraseña oculta>"

    __str__ = __repr__


def _password_candidates(password: str | bytes | None) -> list[_Secret]:
    """Encodings of the user's password worth trying, most likely first."""
    if password is None:
        return [_Secret(None), _Secret(b"")]
    if not password:
        return [_Secret(b""), _Secret(None)]
    values: list[bytes] = []
    if isinstance(password, str):
        values.append(password.encode("utf-8"))
        if not password.isascii():
            with contextlib.suppress(UnicodeEncodeError):
                values.append(password.encode("latin-1"))
        if password.strip() and password.strip() != password:
            values.append(password.strip().encode("utf-8"))
    else:
        values.append(password)
        if password.strip() and password.strip() != password:
            values.append(password.strip())
    return [_Secret(value) for value in dict.fromkeys(values)]


# --------------------------------------------------------------------------- messages


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def _where(source: str) -> str:
    """Parenthetical naming the certificate's source, empty for the default source."""
    return "" if source == DEFAULT_SOURCE else f" ({source})"


def _fmt_when(moment: datetime) -> str:
    """A date for messages: Colombian time first, UTC in parentheses."""
    col = moment.astimezone(COLOMBIA_TZ)
    utc = moment.astimezone(UTC)
    return f"{col:%Y-%m-%d %H:%M:%S} hora de Colombia ({utc:%Y-%m-%d %H:%M:%S} UTC)"


def _fmt_day(moment: datetime) -> str:
    return f"{moment.astimezone(COLOMBIA_TZ):%Y-%m-%d}"


def _days(n: int) -> str:
    return f"{n} día" if n == 1 else f"{n} días"


def _as_utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime")
    return moment.astimezone(UTC)


# --------------------------------------------------------------------------- DER sniffing


def _der_header(data: bytes, pos: int) -> tuple[int, int | None, int] | None:
    """(tag, length or None if indefinite, content offset) of the TLV at ``pos``."""
    if pos + 2 > len(data):
        return None
    tag = data[pos]
    if tag & 0x1F == 0x1F:  # high tag numbers never occur in a PFX header
        return None
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        return tag, first, pos
    if first == 0x80:  # BER indefinite length (old Windows / Netscape exports)
        return tag, None, pos
    count = first & 0x7F
    if count > 4 or pos + count > len(data):
        return None
    return tag, int.from_bytes(data[pos : pos + count], "big"), pos + count


def _looks_like_pfx(data: bytes) -> bool:
    """True if ``data`` has the outer shape of a complete PKCS#12 PFX (RFC 7292 §4).

    ``PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe ContentInfo, macData … }``
    """
    outer = _der_header(data, 0)
    if outer is None or outer[0] != 0x30:
        return False
    _, length, pos = outer
    if length is not None and pos + length > len(data):
        return False  # truncated
    version = _der_header(data, pos)
    if version is None or version[0] != 0x02 or version[1] != 1:
        return False
    if version[2] >= len(data) or data[version[2]] != 3:
        return False
    content_info = _der_header(data, version[2] + 1)
    if content_info is None or content_info[0] != 0x30:
        return False
    oid = _der_header(data, content_info[2])
    if oid is None or oid[0] != 0x06 or oid[1] is None:
        return False
    return data[oid[2] : oid[2] + oid[1]] in (_OID_PKCS7_DATA, _OID_PKCS7_SIGNED)


def pkcs12_encryption(data: bytes) -> tuple[str, ...]:
    """Names of the encryption algorithms a PKCS#12 declares, in file order.

    The AlgorithmIdentifiers of the encrypted certificate bag and of the
    shrouded key bag are stored in clear, so their OIDs can be found without
    the password. Example results: ``("RC2-40", "3DES")`` for a legacy file,
    ``("PBES2", "AES-256-CBC")`` for a modern one.
    """
    found: list[tuple[int, str]] = []
    for encoded, name in _ENCRYPTION_OIDS.items():
        pos = data.find(encoded)
        if pos >= 0:
            found.append((pos, name))
    return tuple(name for _, name in sorted(found))


def _describe_not_pkcs12(data: bytes) -> str:
    """Why ``data`` is not a PKCS#12, as precisely as can be told (Spanish)."""
    text = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"-----BEGIN"):
        label = text.split(b"\n", 1)[0].strip().decode("ascii", "replace")
        return (
            f"está en formato PEM (texto «{label}»), no es un contenedor PKCS#12 (.p12/.pfx). "
            "Si tiene la clave y el certificado por separado, únalos sin salir de su equipo: "
            "openssl pkcs12 -export -inkey clave.key -in certificado.crt -out certificado.p12"
        )
    if data[:4] == b"\xfe\xed\xfe\xed":
        return (
            "es un almacén Java (JKS), no un PKCS#12; conviértalo con "
            "keytool -importkeystore -deststoretype PKCS12"
        )
    if text[:3] == b"MII":
        try:
            decoded = base64.b64decode(b"".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            decoded = b""
        if decoded and _looks_like_pfx(decoded):
            return (
                "parece un PKCS#12 codificado en base64 (texto); decodifíquelo a binario "
                "antes de cargarlo"
            )
    try:
        x509.load_der_x509_certificate(data)
    except ValueError:
        pass
    else:
        return (
            "es un certificado suelto (.cer/.crt) sin clave privada; se necesita el "
            "archivo .p12/.pfx que incluye la clave"
        )
    return "no es un archivo PKCS#12 (.p12/.pfx) válido, o está dañado o incompleto"


def _legacy_provider_loaded() -> bool:
    """Whether cryptography's OpenSSL has the legacy provider (RC2, RC4) loaded."""
    try:
        from cryptography.hazmat.bindings._rust import openssl as rust_openssl
    except ImportError:  # pragma: no cover - layout of cryptography changed
        return True
    return bool(getattr(rust_openssl, "_legacy_provider_loaded", True))


# --------------------------------------------------------------------------- keys and chains


def key_matches_certificate(private_key: PrivateKeyTypes, certificate: x509.Certificate) -> bool:
    """True when ``certificate`` carries the public half of ``private_key``.

    RSA keys are compared by public numbers (modulus and exponent); other key
    types by their DER SubjectPublicKeyInfo.
    """
    public = certificate.public_key()
    if isinstance(private_key, rsa.RSAPrivateKey):
        return (
            isinstance(public, rsa.RSAPublicKey)
            and private_key.public_key().public_numbers() == public.public_numbers()
        )
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    try:
        return private_key.public_key().public_bytes(der, spki) == public.public_bytes(der, spki)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return False


def check_key_matches(
    private_key: PrivateKeyTypes,
    certificate: x509.Certificate,
    *,
    source: str = DEFAULT_SOURCE,
) -> None:
    """Raise :class:`KeyMismatchError` unless the key belongs to the certificate."""
    if not key_matches_certificate(private_key, certificate):
        cn = _cn(certificate.subject) or certificate.subject.rfc4514_string()
        raise KeyMismatchError(
            f"En {source}, la clave privada no corresponde al certificado «{cn}»: "
            "con ese par no se puede firmar. Suele pasar al combinar la clave de una "
            "solicitud con el certificado de otra (por ejemplo, de una renovación).",
            source=source,
            subject=certificate.subject.rfc4514_string(),
            reason="key_mismatch",
        )


def order_chain(
    leaf: x509.Certificate, others: Iterable[x509.Certificate]
) -> list[x509.Certificate]:
    """The certificates other than ``leaf``, ordered from the leaf's issuer upward.

    Certificates that do not continue the path (unrelated CAs, or after a
    self-signed root) follow in their original order. Duplicates of the leaf or
    of each other are dropped.
    """
    remaining: list[x509.Certificate] = []
    for cert in others:
        if cert != leaf and cert not in remaining:
            remaining.append(cert)
    ordered: list[x509.Certificate] = []
    current = leaf
    while remaining and current.issuer != current.subject:
        issuer = next((c for c in remaining if c.subject == current.issuer), None)
        if issuer is None:
            break
        ordered.append(issuer)
        remaining.remove(issuer)
        current = issuer
    return ordered + remaining


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except (x509.ExtensionNotFound, ValueError):
        return certificate.subject == certificate.issuer


def _key_description(public: object) -> tuple[str, int | None]:
    if isinstance(public, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return "RSA", public.key_size
    if isinstance(public, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return "EC", public.curve.key_size
    if isinstance(public, dsa.DSAPublicKey | dsa.DSAPrivateKey):
        return "DSA", public.key_size
    if isinstance(public, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "Ed25519", 256
    if isinstance(public, ed448.Ed448PublicKey | ed448.Ed448PrivateKey):
        return "Ed448", 456
    return type(public).__name__, None


# --------------------------------------------------------------------------- loading


@dataclass(eq=False)
class LoadedCertificate:
    """A decrypted PKCS#12: the private key, its certificate and the rest of the chain.

    The key lives only in memory. ``repr()``/``str()`` show the holder and the
    serial number, never the key.
    """

    private_key: rsa.RSAPrivateKey = field(repr=False)
    certificate: x509.Certificate
    chain: list[x509.Certificate] = field(default_factory=list)
    source: str = DEFAULT_SOURCE
    pkcs12_encryption: tuple[str, ...] = ()

    def __repr__(self) -> str:
        not_after = self.certificate.not_valid_after_utc.isoformat()
        return (
            f"LoadedCertificate(subject={_rfc4514(self.certificate.subject)!r}, "
            f"serial={self.certificate.serial_number}, not_after={not_after!r}, "
            f"chain={len(self.chain)}, source={self.source!r})"
        )

    __str__ = __repr__

    @property
    def certificate_der(self) -> bytes:
        """The signing certificate in DER (what goes into ds:X509Certificate)."""
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def chain_der(self) -> list[bytes]:
        """The chain certificates in DER, leaf's issuer first."""
        return [c.public_bytes(serialization.Encoding.DER) for c in self.chain]

    def info(self, now: datetime | None = None) -> CertificateInfo:
        """Summary for the agent, with ``days_left``/``status`` relative to ``now``."""
        return certificate_info(
            self.certificate,
            private_key=self.private_key,
            chain=self.chain,
            now=now,
            pkcs12_encryption=self.pkcs12_encryption,
        )

    def check_valid_at(self, when: datetime) -> None:
        """Raise unless ``when`` (aware) lies inside the certificate's validity.

        :raises CertificateNotYetValidError: ``when`` is before notBefore.
        :raises CertificateExpiredError: ``when`` is after notAfter.
        """
        moment = _as_utc(when, "when")
        cert = self.certificate
        not_before = cert.not_valid_before_utc
        not_after = cert.not_valid_after_utc
        cn = _cn(cert.subject) or cert.subject.rfc4514_string()
        fields = {
            "source": self.source,
            "subject": cert.subject.rfc4514_string(),
            "serial_number": str(cert.serial_number),
            "not_before": not_before.isoformat(),
            "not_after": not_after.isoformat(),
            "when": moment.isoformat(),
        }
        period = f"del {_fmt_when(not_before)} al {_fmt_when(not_after)}"
        if moment < not_before:
            raise CertificateNotYetValidError(
                f"El certificado «{cn}»{_where(self.source)} aún no es vigente en "
                f"{_fmt_when(moment)}: su vigencia va {period}.",
                reason="not_yet_valid",
                **fields,
            )
        if moment > not_after:
            issuer = _cn(cert.issuer) or "la entidad certificadora"
            raise CertificateExpiredError(
                f"El certificado «{cn}»{_where(self.source)} venció el {_fmt_when(not_after)}; "
                f"no sirve para firmar en {_fmt_when(moment)} (vigencia {period}). "
                f"Solicite la renovación a {issuer}.",
                reason="expired",
                **fields,
            )


def _try_load(
    data: bytes, secret: _Secret
) -> tuple[PrivateKeyTypes | None, x509.Certificate | None, list[x509.Certificate]] | None:
    """One decryption attempt; ``None`` when cryptography refuses the data/password."""
    try:
        return pkcs12.load_key_and_certificates(data, secret.value)
    except (ValueError, TypeError):
        return None


def _load(
    data: bytes, secrets: Sequence[_Secret], source: str, *, given: bool = True
) -> LoadedCertificate:
    if not data:
        raise NotPkcs12Error(
            f"No se pudo leer {source}: está vacío (0 bytes).", source=source, reason="empty"
        )
    if len(data) > MAX_PKCS12_BYTES:
        raise NotPkcs12Error(
            f"No se pudo leer {source}: pesa {len(data)} bytes, demasiado para un "
            f"certificado .p12/.pfx (máximo {MAX_PKCS12_BYTES}). ¿Es el archivo correcto?",
            source=source,
            reason="too_large",
            size=len(data),
        )
    encryption = pkcs12_encryption(data)
    loaded = None
    for secret in secrets:
        try:
            loaded = _try_load(data, secret)
        except UnsupportedAlgorithm:
            raise CertificateError(
                f"No se pudo abrir {source}: usa un algoritmo de cifrado o de clave que "
                "esta instalación no soporta.",
                source=source,
                reason="unsupported_algorithm",
                encryption=list(encryption),
            ) from None
        if loaded is not None:
            break
    if loaded is None:
        if not _looks_like_pfx(data):
            raise NotPkcs12Error(
                f"No se pudo leer {source}: {_describe_not_pkcs12(data)}.",
                source=source,
                reason="not_pkcs12",
                size=len(data),
            )
        legacy = sorted(_LEGACY_PROVIDER_CIPHERS.intersection(encryption))
        if legacy and not _legacy_provider_loaded():
            raise CertificateError(
                f"No se pudo abrir {source}: usa cifrado heredado ({', '.join(legacy)}) y en "
                "este entorno está desactivado el proveedor «legacy» de OpenSSL de la "
                "librería cryptography (variable de entorno CRYPTOGRAPHY_OPENSSL_NO_LEGACY). "
                "Quite esa variable y vuelva a intentar; no hace falta cambiar la "
                "configuración de OpenSSL del sistema.",
                source=source,
                reason="legacy_provider_disabled",
                encryption=list(encryption),
            )
        if not given:
            raise MissingPasswordError(
                f"{_capitalize(source)} pide contraseña y no se dio ninguna.",
                source=source,
                reason="no_password",
                encryption=list(encryption),
            )
        raise WrongPasswordError(
            f"Contraseña incorrecta para {source}. Si está seguro de la contraseña, el "
            "archivo puede estar dañado: pida una copia nueva a la entidad certificadora.",
            source=source,
            reason="wrong_password",
            encryption=list(encryption),
        )

    key, first_cert, additional = loaded
    certs: list[x509.Certificate] = []
    for cert in [first_cert, *additional]:
        if cert is not None and cert not in certs:
            certs.append(cert)

    if key is None:
        names = ", ".join(f"«{_cn(c.subject) or c.subject.rfc4514_string()}»" for c in certs)
        detail = f", solo {len(certs)} certificado(s): {names}" if certs else " ni certificados"
        raise NoPrivateKeyError(
            f"{_capitalize(source)} no contiene la clave privada{detail}. Sin la clave no se "
            "puede firmar: use el archivo .p12/.pfx completo que entregó la entidad "
            "certificadora (el que pide contraseña e incluye la clave).",
            source=source,
            reason="no_private_key",
            certificates=len(certs),
        )
    if not certs:
        raise CertificateError(
            f"{_capitalize(source)} contiene una clave privada pero ningún certificado; "
            "se necesita el archivo .p12/.pfx con el certificado emitido por la entidad.",
            source=source,
            reason="no_certificate",
        )
    if not isinstance(key, rsa.RSAPrivateKey):
        key_type, _ = _key_description(key)
        raise CertificateError(
            f"En {source}, la clave privada es {key_type}; la DIAN exige certificados con "
            "clave RSA.",
            source=source,
            reason="unsupported_key_type",
            key_type=key_type,
        )

    matching = [c for c in certs if key_matches_certificate(key, c)]
    if not matching:
        # Name the holder's certificate in the message, not a CA of the chain.
        named = first_cert or next((c for c in certs if not _is_ca(c)), certs[0])
        check_key_matches(key, named, source=source)
    # Prefer the certificate OpenSSL paired with the key (localKeyID), then the newest.
    if first_cert is not None and first_cert in matching:
        leaf = first_cert
    else:
        leaf = max(matching, key=lambda c: c.not_valid_after_utc)
    return LoadedCertificate(
        private_key=key,
        certificate=leaf,
        chain=order_chain(leaf, certs),
        source=source,
        pkcs12_encryption=encryption,
    )


def load_pkcs12(
    data: bytes, password: str | bytes | None, *, source: str = DEFAULT_SOURCE
) -> LoadedCertificate:
    """Open a PKCS#12 held in memory (modern AES or legacy RC2-40/3DES).

    ``source`` names the certificate in messages (e.g. ``"el archivo «x.p12»"``).
    An expired or not-yet-valid certificate loads fine; see
    :meth:`LoadedCertificate.check_valid_at` and :meth:`LoadedCertificate.info`.

    :raises NotPkcs12Error: empty, too large, corrupt, truncated or another format.
    :raises WrongPasswordError: a well-formed PKCS#12 that the password does not open.
    :raises MissingPasswordError: ``password`` is None and the PKCS#12 needs one.
    :raises NoPrivateKeyError: only certificates inside.
    :raises KeyMismatchError: the key belongs to none of the certificates.
    :raises CertificateError: other problems (non-RSA key, legacy provider disabled).
    """
    given = password is not None
    secrets = _password_candidates(password)
    del password  # keep it out of traceback locals
    return _load(data, secrets, source, given=given)


def load_pkcs12_file(
    path: str | os.PathLike[str],
    password: str | bytes | None,
    *,
    source: str | None = None,
) -> LoadedCertificate:
    """Read a .p12/.pfx file and open it with :func:`load_pkcs12`.

    :raises InputError: the file is missing, is a folder or cannot be read.
    """
    given = password is not None
    secrets = _password_candidates(password)
    del password  # keep it out of traceback locals
    file = Path(path)
    label = source or f"el archivo «{file.name}»"
    try:
        info = file.stat()
    except FileNotFoundError:
        raise InputError(
            f"No se encontró el archivo del certificado: {file}", path=str(file)
        ) from None
    except OSError as exc:
        raise InputError(
            f"No se pudo abrir el archivo del certificado {file}: {exc.strerror or exc}",
            path=str(file),
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(
            f"La ruta del certificado {file} no es un archivo (¿es una carpeta?).",
            path=str(file),
        )
    if info.st_size > MAX_PKCS12_BYTES:
        raise NotPkcs12Error(
            f"No se pudo leer {label}: pesa {info.st_size} bytes, demasiado para un "
            f"certificado .p12/.pfx (máximo {MAX_PKCS12_BYTES}). ¿Es el archivo correcto?",
            source=label,
            path=str(file),
            reason="too_large",
            size=info.st_size,
        )
    try:
        data = file.read_bytes()
    except PermissionError:
        raise InputError(
            f"No hay permiso para leer el archivo del certificado {file}.", path=str(file)
        ) from None
    except OSError as exc:
        raise InputError(
            f"No se pudo leer el archivo del certificado {file}: {exc.strerror or exc}",
            path=str(file),
        ) from None
    return _load(data, secrets, label, given=given)


# --------------------------------------------------------------------------- inspection


def _attr_text(attr: x509.NameAttribute) -> str | None:
    value = attr.value
    if isinstance(value, bytes):
        return None
    return value


def _cn(name: x509.Name) -> str | None:
    for attr in name.get_attributes_for_oid(NameOID.COMMON_NAME):
        text = _attr_text(attr)
        if text:
            return text
    return None


_ETSI_PREFIX = re.compile(r"^(?:VAT|NTR|IDC|PAS|PNO|TIN)[A-Z]{2}[-:]")
_LABEL_PREFIX = re.compile(r"^(?:NIT|C\.?\s?C|C\.?\s?E|RUT|T\.?\s?I)(?![A-Z])[\s.:#º°-]*")
_SEPARATORS = re.compile(r"[\s.,]")
_NIT_VALUE = re.compile(r"^(\d{6,10})(?:-(\d))?$")
_NIT_IN_TEXT = re.compile(
    r"\bNIT\b\W{0,4}(?:N[O°º]\.?\W{0,2})?(\d[\d.,\s]{4,16}\d)(?:\s*-\s*(\d)\b)?"
)


def _parse_nit(raw: str) -> tuple[str, str | None] | None:
    """(NIT, DV) from a whole attribute value, per the module docstring's rule."""
    value = raw.strip().upper()
    value = _ETSI_PREFIX.sub("", value, count=1)
    value = _LABEL_PREFIX.sub("", value, count=1)
    value = _SEPARATORS.sub("", value)
    match = _NIT_VALUE.match(value)
    if match is None:
        return None
    return match.group(1), match.group(2)


def _nit_in_text(raw: str) -> tuple[str, str | None] | None:
    match = _NIT_IN_TEXT.search(raw.upper())
    if match is None:
        return None
    digits = _SEPARATORS.sub("", match.group(1))
    if not digits.isdigit() or not 6 <= len(digits) <= 10:
        return None
    return digits, match.group(2)


def find_nit_candidates(subject: x509.Name) -> list[NitCandidate]:
    """Numbers in ``subject`` that may be the holder's NIT, best first.

    See the table in the module docstring for the order and the value rule.
    A NIT found by several attributes is listed once, under the best source.
    """
    ranked: list[tuple[int, int, NitCandidate]] = []
    for position, attr in enumerate(subject):
        text = _attr_text(attr)
        if not text:
            continue
        oid = attr.oid.dotted_string
        if oid == GSE_NIT_OID:
            rank, label = 1, f"OID {GSE_NIT_OID}"
        elif oid == _SERIAL_OID:
            rank, label = 2, "serialNumber"
        elif oid == _UID_OID:
            rank, label = 3, "UID"
        elif oid.startswith(_PRIVATE_ENTERPRISE_ARC):
            rank, label = 4, f"OID {oid}"
        else:
            rank, label = 5, ""
        parsed = _parse_nit(text) if rank < 5 else None
        if parsed is None:
            parsed = _nit_in_text(text)
            if parsed is None:
                continue
            rank = 5
            label = f"{_NAME_OVERRIDES.get(attr.oid, attr.rfc4514_attribute_name)} (texto «NIT …»)"
        nit, dv = parsed
        ranked.append((rank, position, NitCandidate(nit=nit, dv=dv, source=label, raw=text)))
    ranked.sort(key=lambda item: (item[0], item[1]))
    best: dict[str, NitCandidate] = {}
    for _, _, candidate in ranked:
        kept = best.get(candidate.nit)
        if kept is None:
            best[candidate.nit] = candidate
        elif kept.dv is None and candidate.dv is not None:
            # Same NIT under a weaker source that also carries the DV: keep the DV.
            best[candidate.nit] = kept.model_copy(update={"dv": candidate.dv})
    return list(best.values())


def _rfc4514(name: x509.Name) -> str:
    return name.rfc4514_string(attr_name_overrides=_NAME_OVERRIDES)


def _signature_hash_name(cert: x509.Certificate) -> str | None:
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return None
    return algorithm.name if algorithm is not None else None


def _validity_warnings(
    not_before: datetime, not_after: datetime, now: datetime, days_left: int, issuer: str
) -> list[str]:
    if now < not_before:
        return [
            f"El certificado aún no es vigente: su vigencia empieza el {_fmt_when(not_before)}."
        ]
    if now > not_after:
        return [
            f"El certificado venció el {_fmt_when(not_after)}; no sirve para firmar. "
            f"Solicite la renovación a {issuer}."
        ]
    if days_left > max(EXPIRY_WARNING_DAYS):
        return []
    when = {0: "hoy", 1: "mañana"}.get(days_left, f"en {_days(days_left)}")
    if days_left <= 7:
        advice = "Renuévelo ya: la entidad certificadora debe validar la identidad y eso toma días."
    elif days_left <= 30:
        advice = "Inicie la renovación ahora: la validación de identidad toma días."
    else:
        advice = "Planee la renovación con la entidad certificadora."
    return [f"El certificado vence {when}, el {_fmt_day(not_after)}. {advice}"]


def certificate_info(
    certificate: x509.Certificate,
    *,
    private_key: PrivateKeyTypes | None = None,
    chain: Sequence[x509.Certificate] = (),
    now: datetime | None = None,
    pkcs12_encryption: Sequence[str] = (),
) -> CertificateInfo:
    """Summarise ``certificate`` (and the rest of its PKCS#12) as of ``now`` (aware; default now).

    Works without a private key too (``key_matches`` is then False), so a lone
    certificate can be inspected.
    """
    moment = datetime.now(UTC) if now is None else _as_utc(now, "now")
    not_before = certificate.not_valid_before_utc
    not_after = certificate.not_valid_after_utc
    # Colombian calendar days, as verify dates things: expired yesterday is -1, not -2.
    days_left = (
        not_after.astimezone(COLOMBIA_TZ).date() - moment.astimezone(COLOMBIA_TZ).date()
    ).days
    issuer_cn = _cn(certificate.issuer)
    warnings = _validity_warnings(
        not_before, not_after, moment, days_left, issuer_cn or "la entidad certificadora"
    )

    hash_name = _signature_hash_name(certificate)
    if hash_name is not None and hash_name in _WEAK_HASHES:
        warnings.append(
            f"El certificado está firmado con {hash_name.upper()}; la DIAN exige SHA-256 o "
            "superior y rechaza SHA-1."
        )

    digital_signature: bool | None = None
    non_repudiation: bool | None = None
    try:
        key_usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        warnings.append(
            "El certificado no trae la extensión KeyUsage; la DIAN exige digitalSignature "
            "y nonRepudiation."
        )
    except ValueError:
        warnings.append("No se pudieron leer las extensiones del certificado (están mal formadas).")
    else:
        digital_signature = key_usage.digital_signature
        non_repudiation = key_usage.content_commitment
        if not digital_signature:
            warnings.append(
                "El KeyUsage del certificado no incluye digitalSignature (firma digital), "
                "que la DIAN exige."
            )
        if not non_repudiation:
            warnings.append(
                "El KeyUsage del certificado no incluye nonRepudiation (no repudio), "
                "que la DIAN exige."
            )

    key_type, key_size = _key_description(certificate.public_key())
    if key_type != "RSA":
        warnings.append(f"La clave del certificado es {key_type}; la DIAN exige RSA.")
    elif key_size is not None and key_size < _MIN_RSA_BITS:
        warnings.append(f"La clave RSA es de {key_size} bits; use al menos {_MIN_RSA_BITS} bits.")

    key_matches = private_key is not None and key_matches_certificate(private_key, certificate)
    if private_key is not None and not key_matches:
        warnings.append("La clave privada no corresponde a este certificado.")

    candidates = find_nit_candidates(certificate.subject)
    best = candidates[0] if candidates else None
    if best is None:
        warnings.append(
            "No se encontró el NIT en el sujeto del certificado (se buscó en serialNumber, "
            f"OID {GSE_NIT_OID}, UID y otros atributos); confírmelo manualmente."
        )
    elif len(candidates) > 1:
        others = ", ".join(f"{c.nit} ({c.source})" for c in candidates[1:])
        warnings.append(
            f"El sujeto del certificado trae varios números: se tomó {best.nit} "
            f"({best.source}); también {others}. Confirme cuál es el NIT del emisor."
        )

    return CertificateInfo(
        subject=_rfc4514(certificate.subject),
        subject_cn=_cn(certificate.subject),
        issuer=_rfc4514(certificate.issuer),
        issuer_cn=issuer_cn,
        serial_number=certificate.serial_number,
        not_before=not_before,
        not_after=not_after,
        checked_at=moment,
        days_left=days_left,
        nit=best.nit if best else None,
        nit_dv=best.dv if best else None,
        nit_source=best.source if best else None,
        nit_candidates=candidates,
        key_matches=key_matches,
        key_type=key_type,
        key_size=key_size,
        signature_hash_algorithm=hash_name,
        key_usage_digital_signature=digital_signature,
        key_usage_non_repudiation=non_repudiation,
        chain=[
            ChainEntry(
                subject=_rfc4514(c.subject),
                subject_cn=_cn(c.subject),
                issuer=_rfc4514(c.issuer),
                not_after=c.not_valid_after_utc,
                self_signed=c.subject == c.issuer,
            )
            for c in chain
        ],
        sha256_fingerprint=certificate.fingerprint(hashes.SHA256()).hex(":").upper(),
        pkcs12_encryption=list(pkcs12_encryption),
        warnings=warnings,
    )


def self_signed_signing_certificate(
    key: rsa.RSAPrivateKey, name: x509.Name, *, days: int
) -> x509.Certificate:
    """A self-signed end-entity certificate for signing (digitalSignature + nonRepudiation),
    valid from yesterday for ``days`` days. For test doubles and demos, never for DIAN."""
    now = datetime.now(UTC).replace(microsecond=0)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
