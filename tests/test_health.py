"""``doctor`` over the store (DIAN unreachable, a skewed clock, an expired certificate) and
``triage`` across companies."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from fe_tui.cli import main
from fe_tui.crypto.certificates import load_pkcs12
from fe_tui.domain.workflows import CertificateRecord
from fe_tui.services import health
from fe_tui.services import invoice_queue as iq
from fe_tui.services.demo import DEMO_CERT_PASSWORD
from fe_tui.services.sessions import simulator_config_for
from fe_tui.settings import Settings
from fe_tui.simulator import create_app
from fe_tui.store.db import Store
from tests import certs
from tests.habilitacion_fixtures import (
    install_test_certificate,
    new_company,
    put_certificate_records,
)
from tests.test_queue import example


class _Dated(httpx.AsyncBaseTransport):
    """The simulator with the HTTP Date header a real server sends, from ``clock``."""

    def __init__(self, inner: httpx.AsyncBaseTransport, clock: Callable[[], datetime]) -> None:
        self.inner, self.clock = inner, clock

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        response.headers["Date"] = format_datetime(self.clock(), usegmt=True)
        return response


class _Unreachable(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.load(tmp_path / "datos", env={})


@pytest.fixture
def store(settings: Settings) -> Store:
    return Store(settings.data_dir)


def _record(nit: str, *, days_left: int, fingerprint: str = "AB") -> CertificateRecord:
    end = certs.colombian_noon_in(days_left)
    return CertificateRecord(
        company_nit=nit,
        path="/datos/firma.p12",
        sha256_fingerprint=":".join([fingerprint] * 32),
        subject="CN=Empresa",
        issuer_cn="Autoridad de prueba",
        serial_number="1A",
        nit=nit,
        not_before=end - timedelta(days=365),
        not_after=end,
        installed_at=end - timedelta(days=360),
    )


def test_doctor_with_dian_unreachable_is_a_finding(store: Store, settings: Settings) -> None:
    company = new_company(store)
    _, cert = install_test_certificate(store, settings, company)
    report = asyncio.run(
        health.doctor_report(store, settings, company, cert, transport=_Unreachable())
    )
    dian = report.section("dian")
    assert dian is not None and dian.status == "problem" and "no responde" in dian.message
    assert report.exit_code == 1
    assert [s.name for s in report.sections] == [
        "certificate",
        "resolutions",
        "habilitacion",
        "dian",
        "queue",
    ]
    cert_section = report.section("certificate")
    # The self-signed test certificate has no CA chain: a warning, not a problem.
    assert cert_section is not None and cert_section.status == "warning"
    assert "La clave privada corresponde al certificado." in cert_section.details
    assert any("cadena" in d for d in cert_section.details)


@pytest.mark.parametrize(("minutes", "status"), [(15, "problem"), (0, "ok")])
def test_doctor_measures_the_clock_against_the_server_date(
    store: Store, settings: Settings, minutes: int, status: str
) -> None:
    company = new_company(store)
    _, cert = install_test_certificate(store, settings, company)
    app = create_app(simulator_config_for(store, company, settings))
    transport = _Dated(
        httpx.ASGITransport(app=app), lambda: datetime.now(UTC) - timedelta(minutes=minutes)
    )
    report = asyncio.run(health.doctor_report(store, settings, company, cert, transport=transport))
    dian = report.section("dian")
    assert dian is not None and dian.status == status, dian
    if status == "problem":
        assert "reloj del equipo" in dian.message.lower() and "NTP" in dian.message
    else:
        assert any("WS-Security aceptado" in d for d in dian.details)


def test_doctor_with_an_expired_certificate(store: Store, settings: Settings) -> None:
    company = new_company(store)
    now = datetime.now(UTC)
    leaf = certs.make_leaf(
        nit=company.nit,
        not_before=now - timedelta(days=400),
        not_after=now - timedelta(days=3),
        key=certs.rsa_key(2),
    )
    expired = load_pkcs12(
        certs.make_p12(leaf.key, leaf.cert, certs.default_chain(), certs.DEFAULT_PASSWORD),
        certs.DEFAULT_PASSWORD,
    )
    report = asyncio.run(health.doctor_report(store, settings, company, expired, probe=False))
    section = report.section("certificate")
    assert section is not None and section.status == "problem" and "venció" in section.message
    assert report.section("dian") is None and report.exit_code == 1
    # Without the session's certificate, the store's record says the same.
    put_certificate_records(store, company.nit, _record(company.nit, days_left=-3))
    report = asyncio.run(health.doctor_report(store, settings, company, probe=False))
    section = report.section("certificate")
    assert section is not None and section.status == "problem" and "venció" in section.message


def test_doctor_counts_the_queue(store: Store, settings: Settings) -> None:
    from tests.test_queue import World

    world = World(settings.data_dir.parent / "mundo")
    rec = world.queue.add(example("factura")).record
    with world.queue.ledger.transaction() as ledger:
        ledger.append("state", rec.doc_id, state=iq.NEEDS_RECONCILE)
    counts = health.queue_counts(world.store, world.settings, world.company)
    assert counts.needs_reconcile == 1
    report = asyncio.run(
        health.doctor_report(world.store, world.settings, world.company, probe=False)
    )
    queue = report.section("queue")
    assert queue is not None and queue.status == "problem" and "GetStatus" in queue.message


def test_triage_orders_three_companies_by_what_breaks_first(
    store: Store, settings: Settings
) -> None:
    fine = new_company(store, nit="901234567", name="Cafetería Bien")
    soon = new_company(store, nit="800197268", name="Almacén Pronto")
    broken = new_company(store, nit="860001022", name="Distribuidora Vencida")
    put_certificate_records(store, fine.nit, _record(fine.nit, days_left=300))
    put_certificate_records(store, soon.nit, _record(soon.nit, days_left=10))
    put_certificate_records(store, broken.nit, _record(broken.nit, days_left=-2))
    entries = health.triage_all(store, settings)
    assert [e.company_nit for e in entries] == [broken.nit, soon.nit, fine.nit]
    assert entries[0].severity == "problem" and entries[0].reason == "certificado"
    assert entries[1].reason == "certificado" and entries[1].days_left == 10
    assert "renovación" in entries[1].next_action
    assert entries[2].reason == "habilitacion"
    # The CLI shows the same order; --json for scripts.
    runner = CliRunner()
    result = runner.invoke(main, ["--data-dir", str(settings.data_dir), "triage", "--json"])
    assert result.exit_code == 0, result.output
    listed = [c["company_nit"] for c in json.loads(result.stdout)["companies"]]
    assert listed == [broken.nit, soon.nit, fine.nit]
    text = runner.invoke(main, ["--data-dir", str(settings.data_dir), "triage"]).stdout
    assert text.index("Distribuidora Vencida") < text.index("Almacén Pronto")


def test_doctor_cli_exit_codes(store: Store, settings: Settings) -> None:
    runner = CliRunner()
    base = ["--data-dir", str(settings.data_dir)]
    result = runner.invoke(main, [*base, "doctor"])
    assert result.exit_code == 2 and "No hay una empresa" in result.stderr
    company = new_company(store)
    install_test_certificate(store, settings, company)
    env = {"FE_TUI_CERT_PASSWORD": DEMO_CERT_PASSWORD}
    result = runner.invoke(main, [*base, "doctor", "--json"], env=env)
    data = json.loads(result.stdout)
    # Habilitación not started: a warning; the in-process simulator answers.
    assert result.exit_code == 0, result.stdout
    assert data["ok"] is True and data["reports"][0]["status"] == "warning"
    statuses = {s["name"]: s["status"] for s in data["reports"][0]["sections"]}
    assert statuses["dian"] == "ok" and statuses["certificate"] == "warning"
    put_certificate_records(store, company.nit, _record(company.nit, days_left=-1))
    result = runner.invoke(main, [*base, "doctor", "--all", "--no-probe"])
    assert result.exit_code == 1 and "[problema] Certificado" in result.stdout
    assert "Traceback" not in result.output
    result = runner.invoke(main, [*base, "doctor", "--all", "--company", company.nit])
    assert result.exit_code == 2


def test_doctor_wrong_password_is_a_finding(store: Store, settings: Settings) -> None:
    runner = CliRunner()
    base = ["--data-dir", str(settings.data_dir)]
    company = new_company(store)
    install_test_certificate(store, settings, company)
    env = {"FE_TUI_CERT_PASSWORD": "otra"}
    result = runner.invoke(main, [*base, "doctor", "--no-probe", "--json"], env=env)
    assert result.exit_code == 1
    section = json.loads(result.stdout)["reports"][0]["sections"][0]
    assert section["status"] == "problem" and "Contraseña incorrecta" in section["message"]
    # With --all one password cannot fit every company: the records decide, the file is noted.
    result = runner.invoke(main, [*base, "doctor", "--all", "--no-probe", "--json"], env=env)
    section = json.loads(result.stdout)["reports"][0]["sections"][0]
    assert section["status"] == "warning" and "vigente" in section["message"]
    assert any("No se abrió el archivo" in d for d in section["details"])


def test_doctor_reads_the_numbering_as_ranges_list_does(store: Store, settings: Settings) -> None:
    """Saved thresholds change what both say (one source: ranges.numbering_overview)."""
    from fe_tui.services import ranges
    from tests.test_queue import World

    world = World(settings.data_dir.parent / "mundo")
    world.queue.add(example("factura"))
    # Warn when 99% of a range is left: the demo ranges are then "near exhaustion".
    ranges.set_numbering_thresholds(world.store, remaining_percent=100)
    shown = ranges.numbering_overview(world.store, world.company)
    doctor_view = health.numbering_report(world.store, world.settings, world.company)
    assert doctor_view.model_dump() == shown.model_dump()
    assert any(f.code == "pocos_numeros" for f in doctor_view.findings)
