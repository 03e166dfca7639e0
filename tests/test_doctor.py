"""The doctor: sections from the workflow models and the DIAN probe (simulator, failures)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from fe_tui.crypto.certificates import LoadedCertificate, load_pkcs12
from fe_tui.dian import environments
from fe_tui.domain import workflows as wf
from fe_tui.domain.models import Resolution
from fe_tui.services import doctor
from fe_tui.services.resolutions import analyze_numbering
from fe_tui.simulator import create_app, demo_config
from fe_tui.simulator.config import DEMO_SOFTWARE_ID
from tests import certs
from tests.workflow_fixtures import NIT, NOW, company, record

URL = "http://simulador/WcfDianCustomerServices.svc"
SIM = environments.simulator(URL)


class _Dated(httpx.AsyncBaseTransport):
    """Adds the HTTP Date header a real server sends, from ``clock`` (the server's time)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, clock: Callable[[], datetime]) -> None:
        self.inner, self.clock = inner, clock

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        response.headers["Date"] = format_datetime(self.clock(), usegmt=True)
        return response


def sim_transport(server_offset: timedelta = timedelta(0)) -> httpx.AsyncBaseTransport:
    inner = httpx.ASGITransport(app=create_app(demo_config()))
    return _Dated(inner, lambda: datetime.now(UTC) + server_offset)


# --- sections ---------------------------------------------------------------------------------


def test_certificate_section_levels() -> None:
    ok = doctor.certificate_section(wf.certificate_status(NIT, record(days_left=200), NOW))
    assert ok.status == "ok" and ok.name == "certificate"
    soon = doctor.certificate_section(wf.certificate_status(NIT, record(days_left=5), NOW))
    assert soon.status == "warning" and "renovación" in soon.message
    expired = doctor.certificate_section(wf.certificate_status(NIT, record(days_left=-3), NOW))
    assert expired.status == "problem" and "venció" in expired.message
    noted = doctor.certificate_section(
        wf.certificate_status(NIT, record(days_left=200), NOW), warnings=["Sin cadena."]
    )
    assert noted.status == "warning" and "Sin cadena." in noted.details


def test_resolutions_section() -> None:
    res = Resolution(
        number="18764031407250",
        prefix="FE",
        from_number=1,
        to_number=1000,
        valid_from=date(2026, 1, 1),
        valid_to=date(2027, 1, 1),
        technical_key="fc8eac422eba16e22ffd8c6f94b3f40a6e38162c",
    )
    good = doctor.resolutions_section(analyze_numbering(NIT, [res], {"FE": 10}, date(2026, 6, 1)))
    assert good.status == "ok" and "FE (990 números)" in good.message
    low = doctor.resolutions_section(analyze_numbering(NIT, [res], {"FE": 950}, date(2026, 6, 1)))
    assert low.status == "warning" and "Quedan 50" in low.message
    none = doctor.resolutions_section(analyze_numbering(NIT, [], {}, date(2026, 6, 1)))
    assert none.status == "problem"


def test_habilitacion_section() -> None:
    chk = wf.HabilitacionChecklist(company_nit=NIT)
    blocked = wf.habilitacion_status(
        company(reception_email=None), chk, wf.HabilitacionFacts(), NOW
    )
    section = doctor.habilitacion_section(blocked)
    assert section.status == "problem" and "correo de recepción" in section.message
    pending = wf.habilitacion_status(company(), chk, wf.HabilitacionFacts(), NOW)
    assert doctor.habilitacion_section(pending).status == "warning"


def test_queue_section() -> None:
    assert doctor.queue_section(doctor.QueueCounts(pending=3)).status == "ok"
    stuck = doctor.queue_section(doctor.QueueCounts(stuck=2, oldest_stuck_hours=5))
    assert stuck.status == "warning" and "hace 5 h" in stuck.message
    bad = doctor.queue_section(doctor.QueueCounts(needs_reconcile=1, rejected=2))
    assert bad.status == "problem" and "GetStatus" in bad.message and "mismo número" in bad.message


def test_report_exit_code() -> None:
    ok = doctor.DoctorSection(name="queue", status="ok", message="bien")
    warn = doctor.DoctorSection(name="dian", status="warning", message="ojo")
    bad = doctor.DoctorSection(name="certificate", status="problem", message="mal")
    fine = doctor.DoctorReport(
        company_nit=NIT, company_label="x", checked_at=NOW, sections=[ok, warn]
    )
    assert fine.status == "warning" and fine.exit_code == 0
    broken = fine.model_copy(update={"sections": [ok, bad]})
    assert broken.exit_code == 1 and broken.section("certificate") == bad
    assert doctor.doctor_exit_code([fine, broken]) == 1 and doctor.doctor_exit_code([]) == 0
    again = doctor.DoctorReport.model_validate(broken.model_dump(mode="json"))
    assert again == broken


# --- the DIAN probe ---------------------------------------------------------------------------


async def test_probe_against_the_simulator(signing_cert: LoadedCertificate) -> None:
    section = await doctor.probe_dian(
        SIM,
        signing_cert,
        account_nit=NIT,
        software_id=DEMO_SOFTWARE_ID,
        transport=sim_transport(),
    )
    assert section.status == "ok", section
    assert any("WS-Security aceptado (GetNumberingRange)" in d for d in section.details)
    assert any("simulador local" in d for d in section.details)
    assert any("Reloj del equipo" in d for d in section.details)


async def test_probe_without_software_uses_get_status(signing_cert: LoadedCertificate) -> None:
    section = await doctor.probe_dian(SIM, signing_cert, transport=sim_transport())
    assert section.status == "ok"
    assert any("(GetStatus)" in d for d in section.details)


@pytest.mark.parametrize(("minutes", "status"), [(10, "problem"), (-2, "warning")])
async def test_probe_detects_a_skewed_clock(
    signing_cert: LoadedCertificate, minutes: int, status: str
) -> None:
    section = await doctor.probe_dian(
        SIM,
        signing_cert,
        transport=sim_transport(),
        now=lambda: datetime.now(UTC) + timedelta(minutes=minutes),
    )
    assert section.status == status
    assert "reloj del equipo" in section.message.lower() and "NTP" in section.message
    word = "adelantado" if minutes > 0 else "atrasado"
    assert word in section.message


async def test_probe_dian_unreachable(signing_cert: LoadedCertificate) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    section = await doctor.probe_dian(
        environments.habilitation(), signing_cert, transport=httpx.MockTransport(refuse)
    )
    assert section.status == "problem" and "no responde" in section.message
    assert any("Connection refused" in d for d in section.details)


async def test_probe_tls_failure(signing_cert: LoadedCertificate) -> None:
    def bad_tls(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", request=request
        )

    section = await doctor.probe_dian(
        environments.production(), signing_cert, transport=httpx.MockTransport(bad_tls)
    )
    assert section.status == "problem" and "TLS" in section.message


async def test_probe_ws_security_refused_for_an_expired_certificate() -> None:
    now = datetime.now(UTC)
    leaf = certs.make_leaf(not_before=now - timedelta(days=400), not_after=now - timedelta(days=2))
    expired = load_pkcs12(
        certs.make_p12(leaf.key, leaf.cert, certs.default_chain()), certs.DEFAULT_PASSWORD
    )
    section = await doctor.probe_dian(SIM, expired, transport=sim_transport())
    assert section.status == "problem"
    assert "no aceptó la llamada firmada" in section.message


async def test_probe_reports_unknown_software(signing_cert: LoadedCertificate) -> None:
    section = await doctor.probe_dian(
        SIM,
        signing_cert,
        account_nit=NIT,
        software_id="11111111-2222-4333-8444-555555555555",
        transport=sim_transport(),
    )
    assert section.status == "warning" and "SoftwareID" in section.message


async def test_doctor_report_with_unreachable_dian_and_expired_certificate(
    signing_cert: LoadedCertificate,
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("timed out", request=request)

    sections = [
        doctor.certificate_section(wf.certificate_status(NIT, record(days_left=-1), NOW)),
        await doctor.probe_dian(SIM, signing_cert, transport=httpx.MockTransport(refuse)),
        doctor.queue_section(doctor.QueueCounts()),
    ]
    report = doctor.build_report(NIT, company().label, NOW, list(reversed(sections)))
    assert report.exit_code == 1
    assert [s.name for s in report.sections] == ["certificate", "dian", "queue"]
    assert [s.status for s in report.sections] == ["problem", "problem", "ok"]
    with pytest.raises(ValueError):
        doctor.build_report(NIT, "x", NOW, [sections[0], sections[0]])
