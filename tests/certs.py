"""Throwaway CAs, signing certificates and PKCS#12 containers for the test suite.

Everything here is made with keys generated for the tests: nothing is a real
certificate and no key is secret. Key generation is the slow part, so RSA keys
are cached by index (:func:`rsa_key`) and the default CA chain and leaf are
built once per process; certificates themselves are cheap and built fresh.

Subjects look like a Colombian CA's (GSE style, SPEC §9)::

    leaf    CN=<company>,serialNumber=<NIT>,1.3.6.1.4.1.4710.1.3.2=<NIT>,O=<company>,
            L=Bogotá D.C.,C=CO
    issuer  CN=Autoridad Subordinada 01 Prueba,O=Prueba,C=CO
    root    CN=Autoridad Raíz Prueba,O=Prueba,C=CO

PKCS#12 flavours (:func:`make_p12`, ``legacy=``):

* ``False``      PBES2 / AES-256-CBC, as modern tools write (cryptography).
* ``"3des"``     pbeWithSHA1And3-KeyTripleDES-CBC for key and certificates, SHA-1 MAC
  (cryptography's encryption builder).
* ``"rc2"``      certificates RC2-40, key 3DES: what Colombian CAs and old
  Windows/OpenSSL 1.x exports produce. cryptography cannot *write* RC2-40, so
  this calls the ``openssl`` command (``pkcs12 -export -legacy``; OpenSSL 1.x
  writes RC2-40 by default and has no ``-legacy``). Tests using it skip when
  :func:`openssl_can_make_rc2` is False.
* ``"rc2-all"``  key RC2-40 as well (``-keypbe PBE-SHA1-RC2-40``).

Because the ``openssl`` command may be missing where the suite runs, one RC2
container is also committed: ``tests/data/legacy_rc2.p12`` (password
:data:`RC2_FIXTURE_PASSWORD`, NIT :data:`RC2_FIXTURE_NIT`, chain of 2). It was
made with a throwaway key by ``PYTHONPATH=. python -m tests.certs`` (see
:func:`write_rc2_fixture`) on OpenSSL 3.0 and is valid 2024-01-01 … 2049-12-31.

SHA-1 certificates: cryptography no longer signs with SHA-1, so
:func:`make_leaf` with ``hash_algorithm=hashes.SHA1()`` signs with SHA-256,
swaps the two sha256WithRSAEncryption OIDs for sha1WithRSAEncryption (same
length) and re-signs the TBS bytes with SHA-1.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    PrivateKeyTypes,
)
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

DEFAULT_NIT = "900373076"
DEFAULT_COMPANY = "Empresa de Prueba S.A.S."
DEFAULT_PASSWORD = "Clave-De-Prueba-2024"
ROOT_CN = "Autoridad Raíz Prueba"
SUB_CA_CN = "Autoridad Subordinada 01 Prueba"
GSE_NIT_OID = x509.ObjectIdentifier("1.3.6.1.4.1.4710.1.3.2")

DATA_DIR = Path(__file__).parent / "data"
RC2_FIXTURE = DATA_DIR / "legacy_rc2.p12"
RC2_FIXTURE_PASSWORD = "prueba-rc2"
RC2_FIXTURE_NIT = "900373076"

#: Default KeyUsage of a signing certificate (cryptography's attribute names;
#: ``content_commitment`` is nonRepudiation).
SIGNING_KEY_USAGE = frozenset({"digital_signature", "content_commitment"})
_CA_KEY_USAGE = frozenset({"key_cert_sign", "crl_sign"})
_KEY_USAGE_FLAGS = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)

_SHA256_RSA_OID = bytes.fromhex("06092a864886f70d01010b")
_SHA1_RSA_OID = bytes.fromhex("06092a864886f70d010105")

Legacy = Literal[False, "3des", "rc2", "rc2-all"]


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key."""

    key: rsa.RSAPrivateKey
    cert: x509.Certificate


@functools.cache
def rsa_key(index: int = 0, bits: int = 2048) -> rsa.RSAPrivateKey:
    """The ``index``-th throwaway RSA key (cached: the suite makes only a few).

    Conventional indexes: 0 root CA, 1 subordinate CA, 2 default leaf, 3+ free
    (e.g. a key that matches nothing).
    """
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _key_usage(flags: Iterable[str]) -> x509.KeyUsage:
    chosen = set(flags)
    unknown = chosen.difference(_KEY_USAGE_FLAGS)
    if unknown:
        raise ValueError(f"unknown KeyUsage flags: {sorted(unknown)}")
    return x509.KeyUsage(**{flag: flag in chosen for flag in _KEY_USAGE_FLAGS})


def _ca_name(cn: str) -> x509.Name:
    # Encoded country first, so the RFC 4514 string reads "CN=…,O=Prueba,C=CO".
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CO"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Prueba"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _sign(
    builder: x509.CertificateBuilder,
    key: CertificateIssuerPrivateKeyTypes,
    hash_algorithm: hashes.HashAlgorithm,
) -> x509.Certificate:
    if not isinstance(hash_algorithm, hashes.SHA1):
        return builder.sign(key, hash_algorithm)  # type: ignore[arg-type]
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("SHA-1 test certificates need an RSA issuer key")
    der = builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    if der.count(_SHA256_RSA_OID) != 2:
        raise RuntimeError("unexpected certificate layout for the SHA-1 rewrite")
    swapped = x509.load_der_x509_certificate(der.replace(_SHA256_RSA_OID, _SHA1_RSA_OID))
    signature = key.sign(swapped.tbs_certificate_bytes, padding.PKCS1v15(), hashes.SHA1())
    size = len(swapped.signature)
    if len(signature) != size:
        raise RuntimeError("signature length changed")
    raw = swapped.public_bytes(serialization.Encoding.DER)
    return x509.load_der_x509_certificate(raw[:-size] + signature)


def _build_ca(
    cn: str,
    key: rsa.RSAPrivateKey,
    parent: Issued | None,
    not_before: datetime,
    not_after: datetime,
) -> Issued:
    name = _ca_name(cn)
    issuer_name = parent.cert.subject if parent else name
    signer = parent.key if parent else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(_CA_KEY_USAGE), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    return Issued(key=key, cert=_sign(builder, signer, hashes.SHA256()))


@functools.cache
def make_root(cn: str = ROOT_CN, *, key_index: int = 0) -> Issued:
    """A self-signed root CA (cached per arguments), valid from 5 years ago to +20."""
    now = _now()
    return _build_ca(
        cn, rsa_key(key_index), None, now - timedelta(days=5 * 365), now + timedelta(days=20 * 365)
    )


@functools.cache
def make_ca(cn: str = SUB_CA_CN, *, parent: Issued | None = None, key_index: int = 1) -> Issued:
    """A subordinate CA signed by ``parent`` (default: :func:`make_root`). Cached."""
    now = _now()
    return _build_ca(
        cn,
        rsa_key(key_index),
        parent or make_root(),
        now - timedelta(days=3 * 365),
        now + timedelta(days=10 * 365),
    )


def leaf_subject(
    *,
    cn: str = DEFAULT_COMPANY,
    nit: str | None = DEFAULT_NIT,
    serial_number: str | None = None,
    gse_nit: str | None = None,
    extra: Sequence[x509.NameAttribute] = (),
) -> x509.Name:
    """A GSE-style subject. ``serial_number``/``gse_nit`` default to ``nit``; pass
    ``""`` to leave an attribute out (``nit=None`` leaves both out)."""
    serial_value = nit if serial_number is None else serial_number
    gse_value = nit if gse_nit is None else gse_nit
    # Encoded country first, so the RFC 4514 string starts with the CN.
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CO"),
        x509.NameAttribute(NameOID.LOCALITY_NAME, "Bogotá D.C."),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, cn),
        *extra,
    ]
    if gse_value:
        attrs.append(x509.NameAttribute(GSE_NIT_OID, gse_value))
    if serial_value:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_value))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def colombian_noon_in(days: int) -> datetime:
    """Noon, Colombian time, ``days`` Colombian calendar days from today.

    Days left are counted in Colombian calendar days (``colombian_days_between``); an
    instant ``now + N days`` would be N + 1 of them when run between 23:00 and midnight
    in Colombia (04:00–05:00 UTC), so tests that assert "vence en N días" use this.
    """
    from fe_tui.domain.colombia import COLOMBIA_TZ

    today = datetime.now(COLOMBIA_TZ).date() + timedelta(days=days)
    return datetime(today.year, today.month, today.day, 12, tzinfo=COLOMBIA_TZ)


def make_leaf(
    ca: Issued | None = None,
    *,
    nit: str | None = DEFAULT_NIT,
    cn: str = DEFAULT_COMPANY,
    subject: x509.Name | None = None,
    key: rsa.RSAPrivateKey | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    key_usage: Iterable[str] | None = SIGNING_KEY_USAGE,
    hash_algorithm: hashes.HashAlgorithm | None = None,
    serial: int | None = None,
) -> Issued:
    """A signing certificate for a company, issued by ``ca`` (default :func:`make_ca`).

    Defaults: key :func:`rsa_key` (2), valid from 30 days ago for one year,
    KeyUsage digitalSignature + nonRepudiation (``key_usage=None`` omits the
    extension), signed with SHA-256 (``hashes.SHA1()`` is supported too).
    ``subject`` overrides the GSE-style subject built from ``cn``/``nit``.
    """
    issuer = ca or make_ca()
    leaf_key = key or rsa_key(2)
    now = _now()
    start = not_before or now - timedelta(days=30)
    end = not_after or start + timedelta(days=365)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject or leaf_subject(cn=cn, nit=nit))
        .issuer_name(issuer.cert.subject)
        .public_key(leaf_key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if key_usage is not None:
        builder = builder.add_extension(_key_usage(key_usage), critical=True)
    return Issued(key=leaf_key, cert=_sign(builder, issuer.key, hash_algorithm or hashes.SHA256()))


@functools.cache
def default_leaf() -> Issued:
    """The default leaf (cached): :func:`make_leaf` with no arguments."""
    return make_leaf()


def default_chain() -> list[x509.Certificate]:
    """The default leaf's chain, issuer first: [subordinate CA, root]."""
    return [make_ca().cert, make_root().cert]


def _pem(items: Iterable[x509.Certificate]) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in items)


def _openssl_rc2(
    key: PrivateKeyTypes,
    cert: x509.Certificate,
    chain: Sequence[x509.Certificate],
    password: str | bytes | None,
    encrypt_key_with_rc2: bool,
) -> bytes:
    exe = shutil.which("openssl")
    if exe is None:
        raise RuntimeError("the openssl command is needed to write RC2-40 PKCS#12 files")
    secret = password.decode() if isinstance(password, bytes) else (password or "")
    with tempfile.TemporaryDirectory(prefix="fe-tui-p12-") as tmp:
        folder = Path(tmp)
        key_file = folder / "key.pem"
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        key_file.chmod(0o600)
        (folder / "cert.pem").write_bytes(_pem([cert]))
        out = folder / "out.p12"
        args = [
            "pkcs12",
            "-export",
            "-inkey",
            str(key_file),
            "-in",
            str(folder / "cert.pem"),
            "-out",
            str(out),
            "-name",
            "fe-tui prueba",
            "-certpbe",
            "PBE-SHA1-RC2-40",
            "-keypbe",
            "PBE-SHA1-RC2-40" if encrypt_key_with_rc2 else "PBE-SHA1-3DES",
            "-macalg",
            "sha1",
            "-passout",
            "env:FE_TUI_TEST_P12_PASSWORD",
        ]
        if chain:
            (folder / "chain.pem").write_bytes(_pem(chain))
            args += ["-certfile", str(folder / "chain.pem")]
        env = {**os.environ, "FE_TUI_TEST_P12_PASSWORD": secret}
        # OpenSSL 3 needs -legacy to reach RC2; OpenSSL 1.x does not know the flag.
        result = subprocess.run([exe, *args, "-legacy"], env=env, capture_output=True, check=False)
        if result.returncode != 0:
            result = subprocess.run([exe, *args], env=env, capture_output=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(
                "openssl pkcs12 -export failed: " + result.stderr.decode(errors="replace")
            )
        return out.read_bytes()


def make_p12(
    key: pkcs12.PKCS12PrivateKeyTypes | None,
    cert: x509.Certificate | None,
    chain: Sequence[x509.Certificate] = (),
    password: str | bytes | None = DEFAULT_PASSWORD,
    legacy: Legacy = False,
    *,
    name: bytes = b"fe-tui prueba",
) -> bytes:
    """A PKCS#12 holding ``key``, ``cert`` and ``chain`` (see the module docstring).

    ``key=None`` makes a certificate-only container; ``cert=None`` with the
    certificates in ``chain`` leaves the pairing to the reader (and is how a
    key/certificate mismatch is built, since cryptography refuses to pair a
    ``cert`` with a key it does not match). ``password=None`` writes an
    unencrypted container (modern and 3DES flavours only).
    """
    secret = password.encode() if isinstance(password, str) else password
    if legacy in ("rc2", "rc2-all"):
        if key is None or cert is None:
            raise ValueError("RC2 test containers need both a key and a certificate")
        return _openssl_rc2(key, cert, chain, password, legacy == "rc2-all")
    encryption: serialization.KeySerializationEncryption
    if not secret:
        encryption = serialization.NoEncryption()
    elif legacy == "3des":
        encryption = (
            serialization.PrivateFormat.PKCS12.encryption_builder()
            .kdf_rounds(2048)
            .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
            .hmac_hash(hashes.SHA1())
            .build(secret)
        )
    else:
        encryption = serialization.BestAvailableEncryption(secret)
    return pkcs12.serialize_key_and_certificates(name, key, cert, list(chain) or None, encryption)


@functools.cache
def openssl_can_make_rc2() -> bool:
    """True when the ``openssl`` command can write an RC2-40 PKCS#12 here."""
    if shutil.which("openssl") is None:
        return False
    leaf = default_leaf()
    try:
        data = make_p12(leaf.key, leaf.cert, (), "x", legacy="rc2")
    except RuntimeError:
        return False
    return bytes.fromhex("060a2a864886f70d010c0106") in data


def write_rc2_fixture(path: Path = RC2_FIXTURE) -> Path:
    """(Re)write the committed RC2-40 fixture with fresh throwaway keys.

    Run ``PYTHONPATH=. python -m tests.certs`` from the repository root. The
    leaf uses a fresh key (not the cached suite keys) and fixed validity
    2024-01-01 … 2049-12-31 so the file stays usable; its chain is a fresh
    subordinate + root pair.
    """
    fresh = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3)]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    end = datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC)
    root = _build_ca(ROOT_CN, fresh[0], None, start, end)
    sub = _build_ca(SUB_CA_CN, fresh[1], root, start, end)
    leaf = make_leaf(sub, nit=RC2_FIXTURE_NIT, key=fresh[2], not_before=start, not_after=end)
    data = make_p12(leaf.key, leaf.cert, [sub.cert, root.cert], RC2_FIXTURE_PASSWORD, "rc2")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else RC2_FIXTURE
    print(f"wrote {write_rc2_fixture(target)}")
