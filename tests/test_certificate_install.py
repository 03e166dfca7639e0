"""Certificate candidates: inspection refusals, legacy containers, probe signature, switch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fe_tui.domain.company import OperationMode
from fe_tui.domain.models import Software
from fe_tui.domain.workflows import CertificateState, active_certificate
from fe_tui.errors import (
    CertificateError,
    CertificateExpiredError,
    CertificateNotYetValidError,
    NoPrivateKeyError,
    SigningError,
    WrongCompanyCertificateError,
    WrongPasswordError,
)
from fe_tui.services import certificates as svc
from tests import certs
from tests.workflow_fixtures import NOW, OTHER_NIT, company

START = datetime(2026, 6, 1, tzinfo=UTC)
END = START + timedelta(days=365)
PASSWORD = certs.DEFAULT_PASSWORD


def p12(
    *,
    nit: str = certs.DEFAULT_NIT,
    not_before: datetime = START,
    not_after: datetime = END,
    chain: bool = True,
    legacy: certs.Legacy = False,
    key_index: int = 2,
) -> bytes:
    leaf = certs.make_leaf(
        nit=nit, not_before=not_before, not_after=not_after, key=certs.rsa_key(key_index)
    )
    return certs.make_p12(
        leaf.key, leaf.cert, certs.default_chain() if chain else (), PASSWORD, legacy
    )


def test_good_candidate_becomes_a_record() -> None:
    cand = svc.inspect_candidate(p12(), PASSWORD, company(), NOW, path="/c/a.p12")
    rec = cand.record
    assert rec.company_nit == company().nit and rec.nit == company().nit
    assert rec.state is CertificateState.ACTIVE and rec.installed_at == NOW
    assert rec.not_after == END and rec.path == "/c/a.p12"
    assert rec.sha256_fingerprint == cand.info.sha256_fingerprint
    assert not any("cadena" in w for w in rec.warnings)
    assert PASSWORD not in repr(cand) and PASSWORD not in rec.model_dump_json()


def test_missing_chain_is_a_warning() -> None:
    cand = svc.inspect_candidate(p12(chain=False), PASSWORD, company(), NOW, path="/c/a.p12")
    assert any("cadena" in w for w in cand.record.warnings)


def test_refusals_in_spanish() -> None:
    with pytest.raises(WrongPasswordError, match="Contraseña incorrecta"):
        svc.inspect_candidate(p12(), "otra-clave", company(), NOW, path="/c/a.p12")
    with pytest.raises(WrongCompanyCertificateError, match=OTHER_NIT) as info:
        svc.inspect_candidate(p12(nit=OTHER_NIT), PASSWORD, company(), NOW, path="/c/a.p12")
    assert "no es de Tostadora" in info.value.message
    expired = p12(not_before=START - timedelta(days=400), not_after=START - timedelta(days=35))
    with pytest.raises(CertificateExpiredError, match="venció"):
        svc.inspect_candidate(expired, PASSWORD, company(), NOW, path="/c/a.p12")
    future = p12(not_before=NOW + timedelta(days=3), not_after=NOW + timedelta(days=400))
    with pytest.raises(CertificateNotYetValidError, match="aún no es vigente"):
        svc.inspect_candidate(future, PASSWORD, company(), NOW, path="/c/a.p12")
    leaf = certs.make_leaf(not_before=START, not_after=END)
    no_key = certs.make_p12(None, leaf.cert, certs.default_chain(), PASSWORD)
    with pytest.raises(NoPrivateKeyError, match="no contiene la clave privada"):
        svc.inspect_candidate(no_key, PASSWORD, company(), NOW, path="/c/a.p12")


def test_provider_certificate_is_accepted_for_a_provider_company() -> None:
    provider = Software(
        software_id="008a4a33-98a2-4b15-a4bb-152b4d6abad0",
        pin="12345",
        provider_nit=OTHER_NIT,
        provider_dv="7",
        provider_name="Proveedor S.A.S.",
    )
    client = company(operation_mode=OperationMode.PROVIDER, software=provider)
    cand = svc.inspect_candidate(p12(nit=OTHER_NIT), PASSWORD, client, NOW, path="/c/p.p12")
    assert cand.record.nit == OTHER_NIT
    with pytest.raises(WrongCompanyCertificateError):
        svc.inspect_candidate(p12(nit=OTHER_NIT), PASSWORD, company(), NOW, path="/c/p.p12")


def test_legacy_3des_container() -> None:
    cand = svc.inspect_candidate(p12(legacy="3des"), PASSWORD, company(), NOW, path="/c/l.p12")
    assert "3DES" in cand.info.pkcs12_encryption
    svc.probe_signature(cand.loaded, NOW)


def test_legacy_rc2_fixture() -> None:
    data = certs.RC2_FIXTURE.read_bytes()
    cand = svc.inspect_candidate(
        data, certs.RC2_FIXTURE_PASSWORD, company(), NOW, path="/c/rc2.p12"
    )
    assert cand.info.pkcs12_legacy and cand.record.nit == certs.RC2_FIXTURE_NIT
    svc.probe_signature(cand.loaded, NOW)


def test_probe_signature_verifies() -> None:
    cand = svc.inspect_candidate(p12(), PASSWORD, company(), NOW, path="/c/a.p12")
    result = svc.probe_signature(cand.loaded, NOW)
    assert result.report.valid and result.signed_bytes > 1000


def test_probe_signature_failure_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    cand = svc.inspect_candidate(p12(), PASSWORD, company(), NOW, path="/c/a.p12")
    real_sign = svc.xades.sign

    def tampered(*args: object, **kw: object) -> bytes:
        return real_sign(*args, **kw).replace(b"PRUEBAFIRMA1", b"PRUEBAFIRMA2")  # type: ignore[arg-type]

    monkeypatch.setattr(svc.xades, "sign", tampered)
    with pytest.raises(SigningError, match="no verificó") as failure:
        svc.probe_signature(cand.loaded, NOW)
    kept = cand.rejected(failure.value.message)
    assert kept.state is CertificateState.REJECTED and "no verificó" in (kept.rejected_reason or "")
    assert cand.record.state is CertificateState.ACTIVE  # the candidate itself is unchanged


def test_install_switches_only_after_everything_passed() -> None:
    first, records = svc.install_candidate([], p12(), PASSWORD, company(), NOW, path="/c/1.p12")
    assert active_certificate(records) == first.record
    renewed = p12(
        not_before=NOW - timedelta(days=1), not_after=NOW + timedelta(days=730), key_index=3
    )
    later = NOW + timedelta(hours=1)
    second, after = svc.install_candidate(
        records, renewed, PASSWORD, company(), later, path="/c/2.p12"
    )
    assert active_certificate(after) == second.record
    old = next(r for r in after if r.path == "/c/1.p12")
    assert old.state is CertificateState.REPLACED and old.replaced_at == later
    # A refused candidate leaves the records as they were (nothing returned to persist).
    with pytest.raises(CertificateError):
        svc.install_candidate(after, renewed, "mala", company(), later, path="/c/3.p12")
