"""``fe-tui cert install|status|track|purchase`` through the CLI (issue 11, item 2).

Replacement refusals (wrong password, none given, another company's certificate,
expired, not yet valid, no private key) leave the active certificate untouched;
legacy RC2/3DES containers install; the switch keeps the old one as replaced and
moves ``certificates/active`` (what the queue signs with).
"""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from fe_tui.cli import main
from fe_tui.domain.workflows import CertificateState
from fe_tui.errors import SigningError
from fe_tui.services import company_certs
from fe_tui.services.sessions import active_certificate_path
from fe_tui.settings import Settings
from fe_tui.store.db import Store
from tests import certs

PASSWORD = certs.DEFAULT_PASSWORD
PW = {"FE_TUI_CERT_PASSWORD": PASSWORD}
NO_PW: dict[str, str | None] = {"FE_TUI_CERT_PASSWORD": None}


def run(data_dir: Path, *args: str, env: dict[str, Any] | None = None) -> Result:
    return CliRunner().invoke(main, ["--data-dir", str(data_dir), *args], env=env)


def p12(
    folder: Path,
    name: str,
    *,
    nit: str = certs.DEFAULT_NIT,
    start: datetime | None = None,
    days: int = 365,
    legacy: certs.Legacy = False,
    key_index: int = 2,
    with_key: bool = True,
) -> Path:
    begin = start or datetime.now(UTC) - timedelta(days=10)
    leaf = certs.make_leaf(
        nit=nit,
        not_before=begin,
        not_after=begin + timedelta(days=days),
        key=certs.rsa_key(key_index),
    )
    if with_key:
        data = certs.make_p12(leaf.key, leaf.cert, certs.default_chain(), PASSWORD, legacy)
    else:
        data = certs.make_p12(None, None, [leaf.cert, *certs.default_chain()], PASSWORD)
    path = folder / name
    path.write_bytes(data)
    return path


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "datos"
    result = run(folder, "company", "add", "900373076-4", "--name", "Tostadora Andina")
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture()
def installed(data_dir: Path, tmp_path: Path) -> dict[str, Any]:
    """A good certificate installed; what the store says about it."""
    path = p12(tmp_path, "actual.p12")
    result = run(data_dir, "cert", "install", str(path), "--json", env=PW)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["record"]


def _active(data_dir: Path) -> dict[str, Any]:
    store = Store(data_dir)
    pointer = store.get("certificates", "900373076", "active")
    assert pointer is not None
    return pointer


def test_install_copies_privately_and_points_the_queue_at_it(
    data_dir: Path, tmp_path: Path, installed: dict[str, Any]
) -> None:
    store = Store(data_dir)
    company = store.require_company()
    copy = Path(installed["path"])
    assert copy.is_relative_to(data_dir) and stat.S_IMODE(copy.stat().st_mode) == 0o600
    (tmp_path / "actual.p12").unlink()  # the original may move: the copy is what signs
    assert active_certificate_path(store, company) == copy
    assert _active(data_dir)["sha256_fingerprint"] == installed["sha256_fingerprint"]
    assert PASSWORD not in (data_dir / "store.json").read_text(encoding="utf-8")
    status = run(data_dir, "cert", "status", "--json")
    assert status.exit_code == 0, status.output
    [overview] = json.loads(status.output)["companies"]
    assert overview["status"]["health"] == "vigente" and overview["status"]["days_left"] == 355


def _assert_untouched(data_dir: Path, installed: dict[str, Any]) -> None:
    records = company_certs.certificate_records(Store(data_dir), "900373076")
    active = [r for r in records if r.state is CertificateState.ACTIVE]
    assert [r.sha256_fingerprint for r in active] == [installed["sha256_fingerprint"]]
    assert _active(data_dir)["path"] == installed["path"]


@pytest.mark.parametrize(
    ("make", "env", "expected"),
    [
        ({"key_index": 3}, {"FE_TUI_CERT_PASSWORD": "no-es-esta"}, "contraseña"),
        ({"key_index": 3}, NO_PW, "FE_TUI_CERT_PASSWORD"),
        ({"key_index": 3, "nit": "860001022"}, PW, "860001022"),
        ({"key_index": 3, "start": datetime(2024, 1, 1, tzinfo=UTC)}, PW, "venció"),
        ({"key_index": 3, "start": datetime.now(UTC) + timedelta(days=5)}, PW, "vigente"),
        ({"key_index": 3, "with_key": False}, PW, "clave privada"),
    ],
    ids=["wrong-password", "no-password", "other-company", "expired", "not-yet-valid", "no-key"],
)
def test_refused_replacement_keeps_the_active_certificate(
    data_dir: Path,
    tmp_path: Path,
    installed: dict[str, Any],
    make: dict[str, Any],
    env: dict[str, Any],
    expected: str,
) -> None:
    candidate = p12(tmp_path, "nuevo.p12", **make)
    result = run(data_dir, "cert", "install", str(candidate), env=env)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: ") and "Traceback" not in result.output
    assert expected.lower() in result.output.lower(), result.output
    assert "sigue igual" in result.output or "no se cambió" in result.output
    _assert_untouched(data_dir, installed)
    assert len(list((data_dir / "companies" / "900373076" / "certificates").iterdir())) == 1


@pytest.mark.parametrize("legacy", ["3des", "rc2"])
def test_legacy_container_replaces_the_active_one(
    data_dir: Path, tmp_path: Path, installed: dict[str, Any], legacy: certs.Legacy
) -> None:
    if legacy == "rc2":
        if not certs.RC2_FIXTURE.exists():
            pytest.skip("no RC2 fixture")
        candidate = tmp_path / "rc2.p12"
        candidate.write_bytes(certs.RC2_FIXTURE.read_bytes())
        env = {"FE_TUI_CERT_PASSWORD": certs.RC2_FIXTURE_PASSWORD}
    else:
        candidate = p12(tmp_path, "3des.p12", legacy="3des", key_index=3)
        env = PW
    result = run(data_dir, "cert", "install", str(candidate), env=env)
    assert result.exit_code == 0, result.output
    assert "reemplazado" in result.output
    records = company_certs.certificate_records(Store(data_dir), "900373076")
    states = {r.sha256_fingerprint: r.state for r in records}
    assert states[installed["sha256_fingerprint"]] is CertificateState.REPLACED
    [new] = [r for r in records if r.state is CertificateState.ACTIVE]
    assert _active(data_dir)["path"] == new.path != installed["path"]


def test_same_certificate_again_is_not_duplicated(
    data_dir: Path, tmp_path: Path, installed: dict[str, Any]
) -> None:
    result = run(data_dir, "cert", "install", str(tmp_path / "actual.p12"), env=PW)
    assert result.exit_code == 0, result.output
    assert len(company_certs.certificate_records(Store(data_dir), "900373076")) == 1


def test_failed_probe_signature_is_recorded_as_rejected(
    data_dir: Path, tmp_path: Path, installed: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> None:
        raise SigningError("La firma de prueba con el certificado nuevo no verificó.")

    monkeypatch.setattr(company_certs, "probe_signature", broken)
    result = run(data_dir, "cert", "install", str(p12(tmp_path, "n.p12", key_index=3)), env=PW)
    assert result.exit_code == 2 and "no verificó" in result.output
    _assert_untouched(data_dir, installed)
    records = company_certs.certificate_records(Store(data_dir), "900373076")
    assert [r.state for r in records] == [CertificateState.ACTIVE, CertificateState.REJECTED]


def test_status_all_sorts_by_urgency_with_a_fixed_clock(
    data_dir: Path, tmp_path: Path, installed: dict[str, Any]
) -> None:
    assert run(data_dir, "company", "add", "860001022-7", "--name", "Sin Cert").exit_code == 0
    later = (datetime.now(UTC) + timedelta(days=340)).isoformat()
    result = run(data_dir, "cert", "status", "--all", "--json", env={"FE_TUI_NOW": later})
    assert result.exit_code == 1  # not every certificate is Vigente
    rows = json.loads(result.output)["companies"]
    assert [(r["company_nit"], r["status"]["health"]) for r in rows] == [
        ("860001022", "invalido"),
        ("900373076", "por_vencer"),
    ]
    # Month 11 of validity: the renewal notice shows.
    assert "mes 11" in rows[1]["notice"]
    relaxed = run(data_dir, "cert", "status", "--days", "10", env={"FE_TUI_NOW": later})
    assert relaxed.exit_code == 0 and "Vigente" in relaxed.output
    bad_clock = run(data_dir, "cert", "status", env={"FE_TUI_NOW": "mañana"})
    assert bad_clock.exit_code == 2 and "FE_TUI_NOW" in bad_clock.output


def test_renewal_tracker_flow(data_dir: Path, installed: dict[str, Any]) -> None:
    env = {"FE_TUI_AGENT": "Laura"}
    started = run(
        data_dir, "cert", "track", "--ca", "Andes", "--requested-on", "2026-11-02", env=env
    )
    assert started.exit_code == 0 and "En trámite" in started.output
    no_obs = run(data_dir, "cert", "track", "--state", "rechazado", env=env)
    assert no_obs.exit_code == 2 and "observaciones" in no_obs.output
    rejected = run(
        data_dir, "cert", "track", "--state", "rechazado", "--observaciones", "RUT vencido"
    )
    assert rejected.exit_code == 0 and "RUT vencido" in rejected.output
    again = run(data_dir, "cert", "track", "--state", "en_tramite", env=env)
    assert again.exit_code == 0
    done = run(data_dir, "cert", "track", "--state", "completado", "--json", env=env)
    renewal = json.loads(done.output)["renewal"]
    assert renewal["state"] == "completado" and renewal["ca_name"] == "Andes"
    assert renewal["requested_on"] == "2026-11-02"
    assert [e["state"] for e in renewal["history"]] == [
        "en_tramite",
        "rechazado",
        "en_tramite",
        "completado",
    ]
    final = run(data_dir, "cert", "track", "--state", "rechazado", "--observaciones", "x")
    assert final.exit_code == 2
    overview = company_certs.certificate_overview(
        Store(data_dir), Store(data_dir).require_company()
    )
    assert overview.renewal is not None and overview.renewal.state.value == "completado"


def test_purchase_checklist_in_order_with_the_signed_letter_checked(
    data_dir: Path, tmp_path: Path
) -> None:
    env = {"FE_TUI_AGENT": "Laura"}

    def step(*args: str) -> Result:
        return run(data_dir, "cert", "purchase", "--step", *args, env=env)

    assert step("carta_descargada").exit_code == 2  # out of order
    assert step("pago_verificado", "--note", "Pagó con PSE").exit_code == 0
    assert step("representante_legal").exit_code == 2  # data needed
    assert (
        step("representante_legal", "--rep-name", "Ana Pérez", "--rep-id", "52123456").exit_code
        == 0
    )
    assert step("carta_descargada").exit_code == 0
    big = tmp_path / "grande.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 1))
    too_big = step("carta_firmada_adjunta", "--letter", str(big))
    assert too_big.exit_code == 2 and "1 MB" in too_big.output
    not_pdf = tmp_path / "carta.pdf"
    not_pdf.write_bytes(b"\x89PNG....")
    assert "no es un PDF" in step("carta_firmada_adjunta", "--letter", str(not_pdf)).output
    letter = tmp_path / "carta-firmada.pdf"
    letter.write_bytes(b"%PDF-1.4\nfirmada\n%%EOF\n")
    assert step("carta_firmada_adjunta", "--letter", str(letter)).exit_code == 0
    shown = run(data_dir, "cert", "purchase", "--json")
    data = json.loads(shown.output)
    assert data["next_step"] == "continuar"
    assert data["purchase"]["signed_letter"]["file_name"] == "carta-firmada.pdf"
    assert data["purchase"]["steps"][0]["agent"] == "Laura"
    assert data["purchase"]["steps"][0]["note"] == "Pagó con PSE"
    assert step("continuar").exit_code == 0
    assert "completas" in run(data_dir, "cert", "purchase").output


def test_demo_company_goes_through_the_records(tmp_path: Path) -> None:
    from fe_tui.services.demo import create_demo_company

    settings = Settings.load(tmp_path)
    store = Store(tmp_path)
    made = create_demo_company(store, settings)
    overview = company_certs.certificate_overview(store, made.company)
    assert overview.status is not None and overview.status.label == "Vigente"
    assert active_certificate_path(store, made.company) == made.certificate_path
    # Created again: the same certificate, not a second record.
    create_demo_company(store, settings)
    assert len(company_certs.certificate_records(store, made.company.nit)) == 1
    status = run(tmp_path, "cert", "status")
    assert status.exit_code == 0 and "Vigente" in status.output
