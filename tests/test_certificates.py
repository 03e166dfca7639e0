"""PKCS#12 loading and certificate inspection (fe_tui.crypto.certificates)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import traceback
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from fe_tui.crypto.certificates import (
    MAX_PKCS12_BYTES,
    LoadedCertificate,
    certificate_info,
    check_key_matches,
    find_nit_candidates,
    key_matches_certificate,
    load_pkcs12,
    load_pkcs12_file,
    order_chain,
)
from fe_tui.domain.certificate import CertificateInfo
from fe_tui.errors import (
    CertificateError,
    CertificateExpiredError,
    CertificateNotYetValidError,
    FeError,
    InputError,
    KeyMismatchError,
    MissingPasswordError,
    NoPrivateKeyError,
    NotPkcs12Error,
    WrongPasswordError,
)
from tests.certs import (
    DEFAULT_COMPANY,
    DEFAULT_NIT,
    DEFAULT_PASSWORD,
    GSE_NIT_OID,
    RC2_FIXTURE,
    RC2_FIXTURE_NIT,
    RC2_FIXTURE_PASSWORD,
    SUB_CA_CN,
    default_chain,
    default_leaf,
    leaf_subject,
    make_ca,
    make_leaf,
    make_p12,
    make_root,
    openssl_can_make_rc2,
    rsa_key,
)

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
COLOMBIA = timedelta(hours=-5)

needs_openssl_rc2 = pytest.mark.skipif(
    not openssl_can_make_rc2(), reason="the openssl command cannot write RC2-40 PKCS#12 here"
)


def _col(moment: datetime) -> str:
    """How messages print a moment: Colombian wall-clock time."""
    return (moment + COLOMBIA).strftime("%Y-%m-%d %H:%M:%S")


def _leaf_valid_around(now: datetime, days_left: float, **kwargs: object) -> LoadedCertificate:
    leaf = make_leaf(
        not_before=now - timedelta(days=300),
        not_after=now + timedelta(days=days_left),
        **kwargs,  # type: ignore[arg-type]
    )
    return LoadedCertificate(private_key=leaf.key, certificate=leaf.cert)


# --------------------------------------------------------------------------- formats


def test_modern_aes_p12_loads_with_chain() -> None:
    leaf = default_leaf()
    data = make_p12(leaf.key, leaf.cert, default_chain(), DEFAULT_PASSWORD)
    loaded = load_pkcs12(data, DEFAULT_PASSWORD)
    assert loaded.certificate == leaf.cert
    assert loaded.private_key.private_numbers() == leaf.key.private_numbers()
    assert loaded.chain == default_chain()
    assert "AES-256-CBC" in loaded.pkcs12_encryption
    assert loaded.certificate_der == leaf.cert.public_bytes(serialization.Encoding.DER)
    info = loaded.info(NOW)
    assert info.key_matches is True
    assert info.pkcs12_legacy is False


def test_3des_legacy_p12_loads() -> None:
    leaf = default_leaf()
    data = make_p12(leaf.key, leaf.cert, default_chain(), DEFAULT_PASSWORD, legacy="3des")
    loaded = load_pkcs12(data, DEFAULT_PASSWORD)
    assert loaded.certificate == leaf.cert
    assert loaded.pkcs12_encryption == ("3DES",)
    assert loaded.info(NOW).pkcs12_legacy is True


def test_committed_rc2_fixture_loads_in_process() -> None:
    """RC2-40 (refused by a stock OpenSSL 3) opens via cryptography's own OpenSSL."""
    data = RC2_FIXTURE.read_bytes()
    loaded = load_pkcs12(data, RC2_FIXTURE_PASSWORD)
    assert loaded.pkcs12_encryption == ("RC2-40", "3DES")
    info = loaded.info(datetime(2030, 1, 1, tzinfo=UTC))
    assert info.nit == RC2_FIXTURE_NIT
    assert info.key_matches
    assert info.status == "vigente"
    assert [entry.subject_cn for entry in info.chain] == [SUB_CA_CN, "Autoridad Raíz Prueba"]
    assert info.pkcs12_legacy


def test_committed_rc2_fixture_wrong_password() -> None:
    with pytest.raises(WrongPasswordError):
        load_pkcs12(RC2_FIXTURE.read_bytes(), "otra-clave")


@needs_openssl_rc2
@pytest.mark.parametrize(
    ("legacy", "expected"), [("rc2", ("RC2-40", "3DES")), ("rc2-all", ("RC2-40",))]
)
def test_rc2_legacy_p12_loads(legacy: str, expected: tuple[str, ...]) -> None:
    leaf = default_leaf()
    data = make_p12(leaf.key, leaf.cert, default_chain(), DEFAULT_PASSWORD, legacy=legacy)  # type: ignore[arg-type]
    loaded = load_pkcs12(data, DEFAULT_PASSWORD)
    assert loaded.certificate == leaf.cert
    assert loaded.chain == default_chain()
    assert loaded.pkcs12_encryption == expected
    with pytest.raises(WrongPasswordError):
        load_pkcs12(data, DEFAULT_PASSWORD + "x")


def test_legacy_provider_disabled_is_explained() -> None:
    """With cryptography's legacy provider off, RC2 files get a specific message."""
    code = (
        "import sys\n"
        "from fe_tui.crypto.certificates import load_pkcs12\n"
        "from fe_tui.errors import CertificateError\n"
        "try:\n"
        f"    load_pkcs12(open({str(RC2_FIXTURE)!r}, 'rb').read(), {RC2_FIXTURE_PASSWORD!r})\n"
        "except CertificateError as exc:\n"
        "    print(type(exc).__name__, exc.fields['reason'])\n"
        "    print(exc)\n"
    )
    env = {
        **os.environ,
        "CRYPTOGRAPHY_OPENSSL_NO_LEGACY": "1",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    first, message = result.stdout.split("\n", 1)
    assert first == "CertificateError legacy_provider_disabled"
    assert "RC2-40" in message and "CRYPTOGRAPHY_OPENSSL_NO_LEGACY" in message


def test_unencrypted_p12_loads_with_empty_or_no_password() -> None:
    leaf = default_leaf()
    data = make_p12(leaf.key, leaf.cert, (), None)
    for password in (None, "", b""):
        assert load_pkcs12(data, password).certificate == leaf.cert


@needs_openssl_rc2
def test_empty_password_p12_loads_with_none() -> None:
    leaf = default_leaf()
    data = make_p12(leaf.key, leaf.cert, (), "", legacy="rc2")
    assert load_pkcs12(data, None).certificate == leaf.cert
    assert load_pkcs12(data, "").certificate == leaf.cert


def test_non_ascii_password_and_pasted_whitespace() -> None:
    leaf = default_leaf()
    data = make_p12(leaf.key, leaf.cert, (), "Contraseña-Año")
    assert load_pkcs12(data, "Contraseña-Año").certificate == leaf.cert
    assert load_pkcs12(data, "Contraseña-Año".encode()).certificate == leaf.cert
    assert load_pkcs12(data, " Contraseña-Año\n").certificate == leaf.cert


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("legacy", [False, "3des"])
def test_wrong_password(legacy: str | bool) -> None:
    leaf = default_leaf()
    data = make_p12(leaf.key, leaf.cert, (), DEFAULT_PASSWORD, legacy=legacy)  # type: ignore[arg-type]
    with pytest.raises(WrongPasswordError) as caught:
        load_pkcs12(data, "no-es-la-clave")
    assert "Contraseña incorrecta" in caught.value.message
    assert caught.value.fields["reason"] == "wrong_password"


def test_no_password_given_is_not_a_wrong_password() -> None:
    leaf = default_leaf()
    with pytest.raises(MissingPasswordError) as caught:
        load_pkcs12(make_p12(leaf.key, leaf.cert), None)
    assert "no se dio ninguna" in caught.value.message
    assert "incorrecta" not in caught.value.message
    assert caught.value.fields["reason"] == "no_password"
    # An empty password is a password: wrong, not missing.
    with pytest.raises(WrongPasswordError):
        load_pkcs12(make_p12(leaf.key, leaf.cert), "")


def _modern_p12() -> bytes:
    leaf = default_leaf()
    return make_p12(leaf.key, leaf.cert, default_chain(), DEFAULT_PASSWORD)


@pytest.mark.parametrize(
    ("make_data", "hint"),
    [
        (lambda: b"", "vacío"),
        (lambda: b"esto no es un certificado \x00\x01\x02" * 20, "no es un archivo PKCS#12"),
        (lambda: os.urandom(64), "no es un archivo PKCS#12"),
        (lambda: _modern_p12()[: len(_modern_p12()) // 2], "incompleto"),
        (lambda: _modern_p12()[:-1], "incompleto"),
        (
            lambda: default_leaf().cert.public_bytes(serialization.Encoding.PEM),
            "-----BEGIN CERTIFICATE-----",
        ),
        (
            lambda: default_leaf().key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            "PEM",
        ),
        (
            lambda: default_leaf().cert.public_bytes(serialization.Encoding.DER),
            "certificado suelto",
        ),
        (lambda: base64.encodebytes(_modern_p12()), "base64"),
        (lambda: b"\xfe\xed\xfe\xed" + b"\x00" * 60, "JKS"),
    ],
    ids=[
        "empty",
        "garbage",
        "random",
        "half",
        "minus-one-byte",
        "pem-cert",
        "pem-key",
        "der-cert",
        "base64",
        "jks",
    ],
)
def test_not_pkcs12(make_data, hint: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotPkcs12Error) as caught:
        load_pkcs12(make_data(), DEFAULT_PASSWORD, source="el archivo «empresa.p12»")
    message = str(caught.value)
    assert message.startswith("No se pudo leer el archivo «empresa.p12»")
    assert hint in message


def test_damaged_mac_is_reported_as_wrong_password() -> None:
    """A bit flip inside a well-formed PFX cannot be told from a wrong password."""
    data = bytearray(_modern_p12())
    data[-5] ^= 0xFF
    with pytest.raises(WrongPasswordError) as caught:
        load_pkcs12(bytes(data), DEFAULT_PASSWORD)
    assert "dañado" in str(caught.value)


def test_too_large() -> None:
    with pytest.raises(NotPkcs12Error, match="demasiado"):
        load_pkcs12(b"\x30" * (MAX_PKCS12_BYTES + 1), DEFAULT_PASSWORD)


def test_certificate_only_p12_has_no_private_key() -> None:
    data = make_p12(None, default_leaf().cert, default_chain(), DEFAULT_PASSWORD)
    with pytest.raises(NoPrivateKeyError) as caught:
        load_pkcs12(data, DEFAULT_PASSWORD)
    assert DEFAULT_COMPANY in str(caught.value)
    assert "no contiene la clave privada" in str(caught.value)


def test_key_that_matches_no_certificate() -> None:
    data = make_p12(rsa_key(3), None, [*default_chain(), default_leaf().cert], DEFAULT_PASSWORD)
    with pytest.raises(KeyMismatchError) as caught:
        load_pkcs12(data, DEFAULT_PASSWORD, source="el archivo «x.p12»")
    assert f"no corresponde al certificado «{DEFAULT_COMPANY}»" in str(caught.value)
    assert "«x.p12»" in str(caught.value)


def test_check_key_matches_directly() -> None:
    leaf = default_leaf()
    assert key_matches_certificate(leaf.key, leaf.cert)
    assert not key_matches_certificate(rsa_key(3), leaf.cert)
    check_key_matches(leaf.key, leaf.cert)
    with pytest.raises(KeyMismatchError):
        check_key_matches(rsa_key(3), leaf.cert)
    info = certificate_info(leaf.cert, private_key=rsa_key(3), now=NOW)
    assert info.key_matches is False
    assert any("no corresponde" in w for w in info.warnings)


def test_non_rsa_key_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    ca = make_ca()
    cert = (
        x509.CertificateBuilder()
        .subject_name(leaf_subject())
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=365))
        .sign(ca.key, hashes.SHA256())
    )
    with pytest.raises(CertificateError, match="RSA") as caught:
        load_pkcs12(make_p12(key, cert), DEFAULT_PASSWORD)
    assert caught.value.fields["reason"] == "unsupported_key_type"


def test_error_families() -> None:
    for error in (WrongPasswordError, NotPkcs12Error, NoPrivateKeyError, KeyMismatchError):
        assert issubclass(error, CertificateError)
    assert issubclass(CertificateError, FeError)


# --------------------------------------------------------------------------- chain


def test_leaf_is_the_certificate_that_matches_the_key() -> None:
    leaf = default_leaf()
    root, sub = make_root().cert, make_ca().cert
    data = make_p12(leaf.key, None, [root, leaf.cert, sub], DEFAULT_PASSWORD)
    loaded = load_pkcs12(data, DEFAULT_PASSWORD)
    assert loaded.certificate == leaf.cert
    assert loaded.chain == [sub, root]


def test_order_chain_with_intermediate() -> None:
    leaf = default_leaf().cert
    root, sub = make_root().cert, make_ca().cert
    stranger = make_root("Otra Raíz Prueba", key_index=4).cert
    assert order_chain(leaf, [root, stranger, sub, leaf, root]) == [sub, root, stranger]
    assert order_chain(leaf, []) == []


def test_chain_entries_in_info() -> None:
    leaf = default_leaf()
    data = make_p12(leaf.key, leaf.cert, [make_root().cert, make_ca().cert], DEFAULT_PASSWORD)
    info = load_pkcs12(data, DEFAULT_PASSWORD).info(NOW)
    assert [(e.subject_cn, e.self_signed) for e in info.chain] == [
        (SUB_CA_CN, False),
        ("Autoridad Raíz Prueba", True),
    ]
    assert info.chain[0].issuer == "CN=Autoridad Raíz Prueba,O=Prueba,C=CO"


# --------------------------------------------------------------------------- validity


def test_expired_certificate_loads_and_is_reported() -> None:
    not_after = datetime(2026, 1, 31, 23, 59, 59, tzinfo=UTC)
    leaf = make_leaf(not_before=not_after - timedelta(days=365), not_after=not_after)
    loaded = load_pkcs12(make_p12(leaf.key, leaf.cert), DEFAULT_PASSWORD)
    info = loaded.info(NOW)
    assert info.status == "vencido"
    assert info.days_left == -38  # 2026-01-31 to 2026-03-10, Colombian calendar days
    assert info.is_valid is False
    assert any("venció" in w for w in info.warnings)

    with pytest.raises(CertificateExpiredError) as caught:
        loaded.check_valid_at(NOW)
    message = str(caught.value)
    assert _col(not_after) in message  # 2026-01-31 18:59:59 hora de Colombia
    assert "2026-01-31 23:59:59 UTC" in message
    assert _col(NOW) in message
    assert SUB_CA_CN in message  # whom to ask for the renewal
    assert caught.value.fields["not_after"] == not_after.isoformat()


def test_not_yet_valid_certificate() -> None:
    not_before = NOW + timedelta(days=2)
    leaf = make_leaf(not_before=not_before, not_after=not_before + timedelta(days=365))
    loaded = LoadedCertificate(private_key=leaf.key, certificate=leaf.cert)
    info = loaded.info(NOW)
    assert info.status == "aún no vigente"
    assert any("aún no es vigente" in w for w in info.warnings)
    with pytest.raises(CertificateNotYetValidError) as caught:
        loaded.check_valid_at(NOW)
    assert _col(not_before) in str(caught.value)
    loaded.check_valid_at(not_before)  # the first instant is valid


def test_check_valid_at_bounds_and_naive_datetimes() -> None:
    leaf = make_leaf(not_before=NOW - timedelta(days=1), not_after=NOW + timedelta(days=1))
    loaded = LoadedCertificate(private_key=leaf.key, certificate=leaf.cert)
    loaded.check_valid_at(NOW)
    loaded.check_valid_at(NOW + timedelta(days=1))  # notAfter is inclusive
    with pytest.raises(CertificateExpiredError):
        loaded.check_valid_at(NOW + timedelta(days=1, seconds=1))
    with pytest.raises(ValueError):
        loaded.check_valid_at(NOW.replace(tzinfo=None))
    with pytest.raises(ValueError):
        loaded.info(NOW.replace(tzinfo=None))
    bogota = NOW.astimezone(timezone(COLOMBIA))
    assert loaded.info(bogota).checked_at == NOW


@pytest.mark.parametrize(
    ("days", "status", "expected"),
    [
        (200, "vigente", None),
        (61, "vigente", None),
        (45.5, "vigente", "Planee la renovación"),
        (30.2, "vence pronto", "Inicie la renovación"),
        (10.5, "vence pronto", "Inicie la renovación"),
        (5.1, "vence pronto", "Renuévelo ya"),
        (0.5, "vence pronto", "vence hoy"),
        (1.2, "vence pronto", "vence mañana"),
    ],
)
def test_days_left_status_and_expiry_warnings(
    days: float, status: str, expected: str | None
) -> None:
    info = _leaf_valid_around(NOW, days).info(NOW)
    assert info.days_left == int(days)
    assert info.status == status
    expiry = [w for w in info.warnings if "vence" in w]
    if expected is None:
        assert expiry == []
    else:
        assert len(expiry) == 1 and expected in expiry[0]


# --------------------------------------------------------------------------- info


def test_info_of_default_leaf() -> None:
    leaf = default_leaf()
    info = LoadedCertificate(private_key=leaf.key, certificate=leaf.cert).info()
    assert info.subject.startswith(f"CN={DEFAULT_COMPANY},serialNumber={DEFAULT_NIT},")
    assert info.subject.endswith("C=CO")
    assert info.subject_cn == DEFAULT_COMPANY
    assert info.issuer == f"CN={SUB_CA_CN},O=Prueba,C=CO"
    assert info.issuer_cn == SUB_CA_CN
    assert info.serial_number == leaf.cert.serial_number
    assert info.serial_number_hex == format(leaf.cert.serial_number, "X")
    assert (info.key_type, info.key_size) == ("RSA", 2048)
    assert info.signature_hash_algorithm == "sha256"
    assert info.key_usage_digital_signature is True
    assert info.key_usage_non_repudiation is True
    assert info.nit == DEFAULT_NIT
    assert info.nit_source == "OID 1.3.6.1.4.1.4710.1.3.2"
    assert len(info.nit_candidates) == 1  # serialNumber says the same
    assert info.warnings == []
    assert info.status == "vigente"
    fingerprint = leaf.cert.fingerprint(hashes.SHA256()).hex().upper()
    assert info.sha256_fingerprint.replace(":", "") == fingerprint
    assert len(info.sha256_fingerprint.split(":")) == 32
    dumped = info.model_dump(mode="json")
    assert dumped["status"] == "vigente"
    assert CertificateInfo.model_validate_json(info.model_dump_json()).nit == DEFAULT_NIT


def test_sha1_signed_certificate_warns() -> None:
    info = _leaf_valid_around(NOW, 200, hash_algorithm=hashes.SHA1()).info(NOW)
    assert info.signature_hash_algorithm == "sha1"
    assert any("SHA1" in w and "SHA-256" in w for w in info.warnings)


def test_missing_non_repudiation_warns() -> None:
    info = _leaf_valid_around(NOW, 200, key_usage={"digital_signature"}).info(NOW)
    assert info.key_usage_digital_signature is True
    assert info.key_usage_non_repudiation is False
    assert [w for w in info.warnings if "KeyUsage" in w] == [
        "El KeyUsage del certificado no incluye nonRepudiation (no repudio), que la DIAN exige."
    ]


def test_missing_key_usage_extension_warns() -> None:
    info = _leaf_valid_around(NOW, 200, key_usage=None).info(NOW)
    assert info.key_usage_digital_signature is None
    assert info.key_usage_non_repudiation is None
    assert any("no trae la extensión KeyUsage" in w for w in info.warnings)
    info = _leaf_valid_around(NOW, 200, key_usage={"content_commitment"}).info(NOW)
    assert any("digitalSignature" in w for w in info.warnings)


def test_lone_certificate_can_be_inspected() -> None:
    info = certificate_info(default_leaf().cert, now=NOW)
    assert info.key_matches is False
    assert info.nit == DEFAULT_NIT


def test_certificate_info_model_rejects_naive_datetimes() -> None:
    info = certificate_info(default_leaf().cert, now=NOW)
    data = info.model_dump()
    data["checked_at"] = NOW.replace(tzinfo=None)
    with pytest.raises(ValidationError):
        CertificateInfo.model_validate(data)


# --------------------------------------------------------------------------- NIT


def _name(*attrs: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attrs])


@pytest.mark.parametrize(
    ("value", "nit", "dv"),
    [
        ("900373076", "900373076", None),
        ("900123456-7", "900123456", "7"),
        ("900.123.456-7", "900123456", "7"),
        ("NIT 900123456-7", "900123456", "7"),
        ("NIT: 900.123.456 - 7", "900123456", "7"),
        ("VATCO-900123456", "900123456", None),
        ("IDCCO-1020304050", "1020304050", None),
        ("CC 79123456", "79123456", None),
        ("C.C. 79.123.456", "79123456", None),
        ("9001234567", "9001234567", None),  # never cut without a '-': may be a cédula
    ],
)
def test_nit_from_serial_number(value: str, nit: str, dv: str | None) -> None:
    (candidate,) = find_nit_candidates(
        _name((NameOID.COMMON_NAME, "X"), (NameOID.SERIAL_NUMBER, value))
    )
    assert (candidate.nit, candidate.dv, candidate.source, candidate.raw) == (
        nit,
        dv,
        "serialNumber",
        value,
    )


@pytest.mark.parametrize("value", ["12345", "12345678901", "ABC123", "900123456-78", ""])
def test_serial_number_that_is_not_a_nit(value: str) -> None:
    attrs = [(NameOID.COMMON_NAME, "X")] + ([(NameOID.SERIAL_NUMBER, value)] if value else [])
    assert find_nit_candidates(_name(*attrs)) == []


def test_nit_from_gse_oid_only() -> None:
    leaf = make_leaf(subject=leaf_subject(nit=None, gse_nit="900555111"))
    info = certificate_info(leaf.cert, private_key=leaf.key)  # default leaf dates: real now
    assert (info.nit, info.nit_source) == ("900555111", "OID 1.3.6.1.4.1.4710.1.3.2")
    assert info.warnings == []


def test_nit_from_serial_number_in_a_certificate() -> None:
    leaf = make_leaf(subject=leaf_subject(nit=None, serial_number="900123456-7"))
    info = certificate_info(leaf.cert, private_key=leaf.key, now=NOW)
    assert (info.nit, info.nit_dv, info.nit_source) == ("900123456", "7", "serialNumber")


def test_nit_priority_and_other_sources() -> None:
    other_ca_oid = x509.ObjectIdentifier("1.3.6.1.4.1.23267.2.3")
    name = _name(
        (NameOID.COUNTRY_NAME, "CO"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "Facturación NIT No. 800.111.222-3"),
        (other_ca_oid, "800222333"),
        (NameOID.USER_ID, "800333444"),
        (NameOID.SERIAL_NUMBER, "79123456"),
        (GSE_NIT_OID, "900373076"),
        (NameOID.COMMON_NAME, "Empresa"),
    )
    found = [(c.nit, c.source) for c in find_nit_candidates(name)]
    assert found == [
        ("900373076", "OID 1.3.6.1.4.1.4710.1.3.2"),
        ("79123456", "serialNumber"),
        ("800333444", "UID"),
        ("800222333", "OID 1.3.6.1.4.1.23267.2.3"),
        ("800111222", "OU (texto «NIT …»)"),
    ]


def test_same_nit_in_two_attributes_keeps_the_dv() -> None:
    subject = leaf_subject(nit=None, serial_number="900373076-1", gse_nit="900373076")
    info = certificate_info(make_leaf(subject=subject).cert, now=NOW)
    assert (info.nit, info.nit_dv, info.nit_source) == (
        "900373076",
        "1",
        f"OID {GSE_NIT_OID.dotted_string}",
    )
    assert not any("varios números" in w for w in info.warnings)


def test_several_numbers_warn() -> None:
    subject = leaf_subject(nit=None, serial_number="79123456", gse_nit="900373076")
    info = certificate_info(make_leaf(subject=subject).cert, now=NOW)
    assert info.nit == "900373076"
    assert any("varios números" in w and "79123456" in w for w in info.warnings)


def test_nit_not_found_warns() -> None:
    leaf = make_leaf(subject=leaf_subject(nit=None))
    info = certificate_info(leaf.cert, private_key=leaf.key, now=NOW)
    assert info.nit is None and info.nit_source is None
    assert any("No se encontró el NIT" in w for w in info.warnings)


# --------------------------------------------------------------------------- files


def test_load_from_file(tmp_path: Path) -> None:
    path = tmp_path / "empresa.p12"
    path.write_bytes(_modern_p12())
    loaded = load_pkcs12_file(path, DEFAULT_PASSWORD)
    assert loaded.certificate == default_leaf().cert
    assert loaded.source == "el archivo «empresa.p12»"
    with pytest.raises(WrongPasswordError, match="«empresa.p12»"):
        load_pkcs12_file(str(path), "mala")


def test_missing_file_and_folder(tmp_path: Path) -> None:
    missing = tmp_path / "no-existe.pfx"
    with pytest.raises(InputError) as caught:
        load_pkcs12_file(missing, DEFAULT_PASSWORD)
    assert not isinstance(caught.value, CertificateError)
    assert "No se encontró el archivo del certificado" in str(caught.value)
    assert "no-existe.pfx" in str(caught.value)
    with pytest.raises(InputError, match="no es un archivo"):
        load_pkcs12_file(tmp_path, DEFAULT_PASSWORD)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "vacio.p12"
    path.write_bytes(b"")
    with pytest.raises(NotPkcs12Error, match="«vacio.p12»: está vacío"):
        load_pkcs12_file(path, DEFAULT_PASSWORD)


# --------------------------------------------------------------------------- secrecy

SECRET = "S3cr3t0-Ñandú-4242"


def _all_text(exc: BaseException) -> str:
    rendered = "".join(
        traceback.TracebackException.from_exception(exc, capture_locals=True).format()
    )
    fields = getattr(exc, "fields", {})
    return "\n".join([str(exc), repr(exc), repr(fields), rendered])


def test_password_never_leaks(tmp_path: Path) -> None:
    leaf = default_leaf()
    good = make_p12(leaf.key, leaf.cert, (), SECRET)
    path = tmp_path / "empresa.p12"
    path.write_bytes(make_p12(leaf.key, leaf.cert, (), "otra"))
    cases = [
        lambda: load_pkcs12(make_p12(leaf.key, leaf.cert, (), "otra"), SECRET),
        lambda: load_pkcs12_file(path, SECRET),
        lambda: load_pkcs12_file(tmp_path / "falta.p12", SECRET),
        lambda: load_pkcs12(b"basura", SECRET),
        lambda: load_pkcs12(make_p12(None, leaf.cert, (), SECRET), SECRET),
        lambda: load_pkcs12(make_p12(rsa_key(3), None, [leaf.cert], SECRET), SECRET),
    ]
    for case in cases:
        with pytest.raises(FeError) as caught:
            case()
        text = _all_text(caught.value)
        assert SECRET not in text
        assert SECRET.encode().hex() not in text
        assert "contraseña oculta" in text or "falta.p12" in text or "basura" in text

    loaded = load_pkcs12(good, SECRET)
    for text in (repr(loaded), str(loaded), loaded.info().model_dump_json()):
        assert SECRET not in text
        assert "PRIVATE KEY" not in text
        assert str(leaf.key.private_numbers().d) not in text
    assert "private_key" not in repr(loaded)


def test_expired_error_carries_no_secret() -> None:
    leaf = make_leaf(not_before=NOW - timedelta(days=400), not_after=NOW - timedelta(days=1))
    loaded = load_pkcs12(make_p12(leaf.key, leaf.cert, (), SECRET), SECRET)
    with pytest.raises(CertificateExpiredError) as caught:
        loaded.check_valid_at(NOW)
    assert SECRET not in _all_text(caught.value)


def test_no_textual_import() -> None:
    code = (
        "import sys, fe_tui.crypto.certificates, fe_tui.domain.certificate; "
        "sys.exit('textual' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
