"""Habilitación per company: the checklist in the store, the status from facts, the test set."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from fe_tui.domain.models import Resolution
from fe_tui.domain.workflows import HabilitacionStep as Step
from fe_tui.domain.workflows import TestSetCounts, TestSetProgress
from fe_tui.errors import InputError
from fe_tui.services import habilitacion as hab
from fe_tui.services import invoice_queue as iq
from fe_tui.services.sessions import simulator_config_for
from fe_tui.settings import Settings
from fe_tui.simulator import create_app
from fe_tui.store.db import Store
from tests.habilitacion_fixtures import install_test_certificate, new_company
from tests.workflow_fixtures import NOW

SMALL = TestSetCounts(invoices=2, credit_notes=1, debit_notes=1)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.load(tmp_path / "datos", env={})


@pytest.fixture
def store(settings: Settings) -> Store:
    return Store(settings.data_dir)


def production_range(**changes: object) -> Resolution:
    data: dict[str, object] = {
        "number": "18764031407250",
        "prefix": "FE",
        "from_number": 1,
        "to_number": 5000,
        "valid_from": date(2026, 1, 1),
        "valid_to": date(2028, 1, 1),
        "technical_key": "a" * 40,
    }
    data.update(changes)
    return Resolution.model_validate(data)


# --- checklist and status ---------------------------------------------------------------------


def test_a_new_company_starts_at_registration_and_checks_persist(
    store: Store, settings: Settings
) -> None:
    company = new_company(store)
    status = hab.habilitacion_overview(store, company, NOW)
    assert status.next_step is Step.REGISTER and not status.ready
    assert "recepcion@espiga.com.co" in status.next_action
    after = hab.check_step(
        store, company, "registro", agent="Laura", note="Registrado en el portal", now=NOW
    )
    assert after.step_status(Step.REGISTER).state == "hecho"
    # Another process (a new Store on the same directory) sees the mark, with who and when.
    again = hab.habilitacion_overview(Store(settings.data_dir), company, NOW)
    done = again.step_status(Step.REGISTER)
    assert done.agent == "Laura" and done.done_at == NOW and done.note == "Registrado en el portal"
    # Operation mode and TestSetId come from the company's data: done already.
    assert again.step_status(Step.OPERATION_MODE).state == "hecho"
    assert again.step_status(Step.TEST_SET_ID).state == "hecho"
    assert again.next_step is Step.SEND_TEST_SET
    back = hab.uncheck_step(store, company, Step.REGISTER, now=NOW)
    assert back.next_step is Step.REGISTER
    assert hab.load_checklist(store, company.nit).checks == []


def test_refusals_are_spanish(store: Store) -> None:
    company = new_company(store)
    with pytest.raises(InputError, match="se marca solo"):
        hab.check_step(store, company, "set_aceptado", agent="Laura", now=NOW)
    with pytest.raises(InputError, match="Paso desconocido"):
        hab.check_step(store, company, "nada", agent="Laura", now=NOW)
    with pytest.raises(InputError, match="no está marcado"):
        hab.uncheck_step(store, company, "registro", now=NOW)
    with pytest.raises(InputError, match="quién"):
        hab.check_step(store, company, "registro", agent="  ", now=NOW)
    # Production start comes after the accepted test set: blocked, with the reason.
    with pytest.raises(InputError, match="Primero"):
        hab.check_step(
            store, company, "inicio_produccion", agent="Laura", production_start=NOW.date()
        )
    # RUT 52 may be checked at any time.
    hab.check_step(store, company, "rut_responsabilidad_52", agent="Laura", now=NOW)
    with pytest.raises(InputError, match="ya está marcado"):
        hab.check_step(store, company, "rut_responsabilidad_52", agent="Laura", now=NOW)


def test_facts_block_steps_for_their_own_reasons(store: Store, settings: Settings) -> None:
    company = new_company(store, software=False, test_set=False)
    hab.check_step(store, company, "registro", agent="Laura", now=NOW)
    status = hab.habilitacion_overview(store, company, NOW)
    assert status.next_step is Step.OPERATION_MODE
    company = new_company(store)
    status = hab.habilitacion_overview(store, company, NOW)
    # No certificate installed: the test set cannot be signed.
    send = status.step_status(Step.SEND_TEST_SET)
    assert send.state == "bloqueado" and "certificado" in send.detail
    assert status.next_action.startswith("Bloqueado")
    install_test_certificate(store, settings, company)
    status = hab.habilitacion_overview(store, company, NOW)
    assert status.step_status(Step.SEND_TEST_SET).state == "disponible"


def test_only_production_ranges_synced_from_dian_count(store: Store) -> None:
    company = new_company(store)
    store.save_resolution(company.nit, production_range(), source="manual")
    store.save_resolution(
        company.nit,
        production_range(
            prefix="SETP", number="18760000001", from_number=990000000, to_number=995000000
        ),
        source="dian",
    )
    assert hab.habilitacion_facts(store, company, NOW).production_ranges_synced == 0
    store.save_resolution(company.nit, production_range(prefix="FEV"), source="dian")
    facts = hab.habilitacion_facts(store, company, NOW)
    assert facts.production_ranges_synced == 1


# --- the test set against the in-process simulator --------------------------------------------


def test_run_test_set_is_accepted_and_the_overview_moves_on(
    store: Store, settings: Settings
) -> None:
    company = new_company(store)
    _, cert = install_test_certificate(store, settings, company)
    hab.check_step(store, company, "registro", agent="Laura", now=NOW)
    seen: list[TestSetProgress] = []
    result = asyncio.run(hab.run_test_set(store, settings, company, cert, progress=seen.append))
    assert result.effective_status == "aceptado" and result.status == "aceptado"
    # The simulator's set for a new company: 2 invoices, 1 credit note, 1 debit note.
    assert result.required == SMALL and result.accepted == SMALL and result.rejected.total == 0
    assert seen and seen[-1].accepted == SMALL
    assert any(p.accepted.invoices == 2 and p.accepted.credit_notes == 0 for p in seen)
    record = hab.recorded_test_set(store, company)
    assert record is not None and record.progress == result
    assert record.dian_message and "Aceptado" in record.dian_message
    # Notes reference invoices DIAN accepted (the queue took their CUFE).
    queue = iq.InvoiceQueue(store, company, settings)
    recs = {r.doc_id: r for r in queue.list()}
    assert sorted(recs) == ["NC1", "ND1", "SETP990000000", "SETP990000001"]
    assert {recs["NC1"].reference, recs["ND1"].reference} == {"SETP990000000", "SETP990000001"}
    assert all(r.state == iq.ACCEPTED for r in recs.values())
    status = hab.habilitacion_overview(store, company, NOW)
    assert status.step_status(Step.SEND_TEST_SET).state == "hecho"
    assert status.step_status(Step.TEST_SET_ACCEPTED).state == "hecho"
    assert status.next_step is Step.PRODUCTION_START
    # Running again sends nothing more.
    again = asyncio.run(hab.run_test_set(store, settings, company, cert))
    assert again == result and len(queue.list()) == 4


def test_simulator_registers_the_company_test_set_with_the_recorded_counts(
    store: Store, settings: Settings
) -> None:
    company = new_company(store)
    assert company.test_set_id is not None
    found = simulator_config_for(store, company, settings).test_set(company.test_set_id)
    assert found is not None and found.issuer_nit == company.nit
    assert (found.invoices, found.credit_notes, found.debit_notes) == (2, 1, 1)
    _, cert = install_test_certificate(store, settings, company)
    counts = TestSetCounts(invoices=3, credit_notes=1, debit_notes=0)
    result = asyncio.run(hab.run_test_set(store, settings, company, cert, counts=counts))
    assert result.status == "aceptado" and result.accepted == counts
    found = simulator_config_for(store, company, settings).test_set(company.test_set_id)
    assert found is not None and (found.invoices, found.debit_notes) == (3, 0)


def test_rejections_void_the_documents_and_a_rejected_set_needs_a_new_one(
    store: Store, settings: Settings
) -> None:
    company = new_company(store)
    _, cert = install_test_certificate(store, settings, company)
    # DIAN knows another PIN: every SoftwareSecurityCode is wrong, every document rejected.
    config = simulator_config_for(store, company, settings)
    issuer = config.issuer(company.nit)
    assert issuer is not None and company.software is not None
    wrong = company.software.model_copy(update={"pin": "99999"})
    issuers = [issuer.model_copy(update={"software": [wrong]})]
    app = create_app(config.model_copy(update={"issuers": issuers}))

    def run() -> TestSetProgress:
        return asyncio.run(
            hab.run_test_set(
                store,
                settings,
                company,
                cert,
                counts=TestSetCounts(invoices=3, credit_notes=1, debit_notes=1),
                transport=httpx.ASGITransport(app=app),
            )
        )

    first = run()
    assert first.effective_status == "en_proceso"
    assert first.rejected.invoices == 3 and first.accepted.total == 0
    assert first.sent.invoices == 3 and first.sent.credit_notes == 0  # no notes without invoices
    queue = iq.InvoiceQueue(store, company, settings)
    assert {r.state for r in queue.list()} == {iq.VOID}
    assert "en proceso" in hab.describe_test_set(first)
    # The next run generates new invoices; 6 rejections exceed the 4 allowed: Rechazado.
    second = run()
    assert second.status == "rechazado" and second.rejected.invoices >= 5
    status = hab.habilitacion_overview(store, company, NOW)
    blocked = status.step_status(Step.TEST_SET_ACCEPTED)
    assert blocked.state == "bloqueado" and "solicite un set nuevo" in blocked.detail
    assert "set nuevo" in hab.describe_test_set(second)
    # A decided set is not sent again.
    before = len(queue.list())
    assert run() == second and len(queue.list()) == before
    # A new TestSetId starts from nothing.
    renewed = company.model_copy(update={"test_set_id": "0f0e0d0c-0b0a-4909-8807-060504030201"})
    store.save_company(renewed)
    fresh = hab.habilitacion_overview(store, renewed, NOW).step_status(Step.TEST_SET_ACCEPTED)
    assert "Aún no hay resultados" in fresh.detail and "set nuevo" not in fresh.detail


def test_run_test_set_refuses_what_cannot_be_sent(store: Store, settings: Settings) -> None:
    company = new_company(store, test_set=False)
    _, cert = install_test_certificate(store, settings, company)
    with pytest.raises(InputError, match="TestSetId"):
        asyncio.run(hab.run_test_set(store, settings, company, cert))
    prod = new_company(store, environment="produccion")
    with pytest.raises(InputError, match="producción"):
        asyncio.run(hab.run_test_set(store, settings, prod, cert))
    with pytest.raises(InputError, match="al menos"):
        asyncio.run(
            hab.run_test_set(store, settings, new_company(store), cert, counts=TestSetCounts())
        )


def test_association_delay_then_sync(store: Store) -> None:
    """After associating prefixes DIAN may take ~2 h: the sync step waits, then is done."""
    company = new_company(store)
    store.put(
        hab.TABLE,
        company.nit,
        "test_set:" + (company.test_set_id or "").lower(),
        hab.TestSetRecord(
            progress=TestSetProgress(
                test_set_id=company.test_set_id or "",
                required=SMALL,
                accepted=SMALL,
                sent=SMALL,
                status="aceptado",
            )
        ).model_dump(mode="json"),
    )
    for step, extra in (
        ("registro", {}),
        ("inicio_produccion", {"production_start": NOW.date()}),
        ("rut_responsabilidad_52", {}),
        ("solicitud_numeracion", {"reference": "18764031407250"}),
        ("asociacion_prefijos", {}),
    ):
        hab.check_step(store, company, step, agent="Laura", now=NOW, **extra)  # type: ignore[arg-type]
    status = hab.habilitacion_overview(store, company, NOW + timedelta(minutes=30))
    assert status.step_status(Step.SYNC_NUMBERING).state == "en_espera"
    store.save_resolution(company.nit, production_range(), source="dian")
    status = hab.habilitacion_overview(store, company, NOW + timedelta(hours=3))
    assert status.ready and status.next_step is None


def test_an_expired_certificate_record_blocks_the_test_set(store: Store) -> None:
    from tests.workflow_fixtures import record

    company = new_company(store, nit="900373076", name="Tostadora Andina de Café S.A.S.")
    store.put("certificates", company.nit, "r1", record(days_left=-5).model_dump(mode="json"))
    send = hab.habilitacion_overview(store, company, NOW).step_status(Step.SEND_TEST_SET)
    assert send.state == "bloqueado" and "certificado" in send.detail
    store.put("certificates", company.nit, "r1", record(days_left=20).model_dump(mode="json"))
    assert hab.habilitacion_facts(store, company, NOW).certificate_valid is True
