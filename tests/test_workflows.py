"""Workflow models and transitions (fe_tui.domain.workflows) with a fixed clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from fe_tui.domain import workflows as wf
from fe_tui.domain.colombia import COLOMBIA_TZ
from fe_tui.domain.workflows import (
    CertificateHealth,
    CertificateState,
    HabilitacionStep,
    PurchaseStep,
    RenewalState,
)
from fe_tui.errors import InputError
from tests.workflow_fixtures import FINGERPRINT, NIT, NOW, OTHER_NIT, company, record

H = HabilitacionStep


# --- certificates ------------------------------------------------------------------------------


def test_days_left_are_colombian_calendar_days() -> None:
    # Ends 2026-11-21 02:00 UTC = 2026-11-20 21:00 in Colombia: 0 days left, not 1.
    end = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
    assert wf.colombian_days_between(NOW, end) == 0
    # A UTC reading of "now" just past midnight UTC is still the 20th in Colombia.
    assert wf.colombian_days_between(datetime(2026, 11, 21, 3, 0, tzinfo=UTC), end) == 0
    with pytest.raises(InputError):
        wf.colombian_date(datetime(2026, 11, 20, 9, 0))


@pytest.mark.parametrize(
    ("days_left", "warn_days", "health"),
    [
        (200, 30, CertificateHealth.VIGENTE),
        (31, 30, CertificateHealth.VIGENTE),
        (30, 30, CertificateHealth.POR_VENCER),
        (0, 30, CertificateHealth.POR_VENCER),
        (45, 60, CertificateHealth.POR_VENCER),
        (-1, 30, CertificateHealth.VENCIDO),
    ],
)
def test_certificate_health(days_left: int, warn_days: int, health: CertificateHealth) -> None:
    status = wf.certificate_status(NIT, record(days_left=days_left), NOW, warn_days=warn_days)
    assert status.health is health
    assert status.days_left == days_left
    assert status.message


def test_certificate_invalid_cases() -> None:
    none = wf.certificate_status(NIT, None, NOW)
    assert none.health is CertificateHealth.INVALIDO and "cert install" in none.message
    other = wf.certificate_status(NIT, record(nit=OTHER_NIT), NOW)
    assert other.health is CertificateHealth.INVALIDO and OTHER_NIT in other.message
    future = record(days_left=400, valid_days=365)
    assert wf.certificate_status(NIT, future, NOW).label == "Inválido"
    rejected = record(state=CertificateState.REJECTED)
    assert wf.certificate_status(NIT, rejected, NOW).health is CertificateHealth.INVALIDO


def test_sort_by_urgency() -> None:
    statuses = [
        wf.certificate_status(
            "900000001", record(days_left=200, company_nit="900000001", nit="900000001"), NOW
        ),
        wf.certificate_status(
            "900000002", record(days_left=10, company_nit="900000002", nit="900000002"), NOW
        ),
        wf.certificate_status("900000003", None, NOW),
        wf.certificate_status(
            "900000004", record(days_left=-5, company_nit="900000004", nit="900000004"), NOW
        ),
        wf.certificate_status(
            "900000005", record(days_left=3, company_nit="900000005", nit="900000005"), NOW
        ),
    ]
    order = [s.company_nit for s in wf.sort_by_urgency(statuses)]
    assert order == ["900000004", "900000003", "900000005", "900000002", "900000001"]


def test_record_round_trips_through_json() -> None:
    rec = record()
    assert wf.CertificateRecord.model_validate(rec.model_dump(mode="json")) == rec
    with pytest.raises(ValueError):
        wf.CertificateRecord.model_validate({**rec.model_dump(mode="json"), "extra": 1})


def test_activate_certificate_keeps_the_old_one_replaced() -> None:
    old = record(fingerprint=FINGERPRINT)
    new = record(fingerprint=":".join(["CD"] * 32), days_left=700, installed_at=NOW)
    result = wf.activate_certificate([old], new, NOW)
    assert [r.state for r in result] == [CertificateState.REPLACED, CertificateState.ACTIVE]
    assert result[0].replaced_at == NOW
    assert wf.active_certificate(result) == new
    # Installing the same certificate again does not duplicate it.
    again = wf.activate_certificate(result, new, NOW)
    assert len(again) == 2
    with pytest.raises(InputError):
        wf.activate_certificate([old], record(company_nit=OTHER_NIT), NOW)


# --- renewal (seed 002) ------------------------------------------------------------------------


def test_renewal_transitions() -> None:
    req = wf.start_renewal(NIT, date(2026, 11, 18), at=NOW, agent="ana", ca_name="Andes SCD")
    assert req.state is RenewalState.EN_TRAMITE and req.open
    with pytest.raises(InputError, match="observaciones"):
        wf.update_renewal(req, RenewalState.RECHAZADO, at=NOW, agent="ana")
    rejected = wf.update_renewal(
        req, RenewalState.RECHAZADO, at=NOW, agent="ana", observaciones="RUT sin firma"
    )
    assert rejected.observaciones == "RUT sin firma" and rejected.state.label == "Rechazado"
    with pytest.raises(InputError, match="no puede pasar"):
        wf.update_renewal(rejected, RenewalState.COMPLETADO, at=NOW, agent="ana")
    again = wf.update_renewal(rejected, RenewalState.EN_TRAMITE, at=NOW, agent="ana")
    done = wf.update_renewal(again, RenewalState.COMPLETADO, at=NOW, agent="ana")
    assert not done.open and len(done.history) == 4
    with pytest.raises(InputError):
        wf.update_renewal(done, RenewalState.EN_TRAMITE, at=NOW, agent="ana")
    assert wf.RenewalRequest.model_validate(done.model_dump(mode="json")) == done


def test_renewal_notice_from_month_eleven() -> None:
    # Valid one year from 2025-12-01 (Colombia): month 11 of validity starts 2026-10-01.
    start = datetime(2025, 12, 1, 12, 0, tzinfo=COLOMBIA_TZ)
    rec = record().model_copy(
        update={"not_before": start, "not_after": start + timedelta(days=365)}
    )
    assert wf.renewal_notice_date(rec) == date(2026, 10, 1)
    assert wf.renewal_notice(rec, None, datetime(2026, 9, 30, 23, 0, tzinfo=COLOMBIA_TZ)) is None
    notice = wf.renewal_notice(rec, None, NOW)
    assert notice is not None and "mes 11" in notice and "renovación" in notice
    open_req = wf.start_renewal(NIT, date(2026, 11, 10), at=NOW, agent="ana")
    tracked = wf.renewal_notice(rec, open_req, NOW)
    assert tracked is not None and "en trámite desde el 10/11/2026" in tracked.lower()
    rejected = wf.update_renewal(
        open_req, RenewalState.RECHAZADO, at=NOW, agent="ana", observaciones="Falta cédula."
    )
    assert "Falta cédula." in (wf.renewal_notice(rec, rejected, NOW) or "")
    # Month-end arithmetic: a start on 31 January gives a notice on 30 November.
    jan = rec.model_copy(update={"not_before": datetime(2026, 1, 31, 12, tzinfo=COLOMBIA_TZ)})
    assert wf.renewal_notice_date(jan) == date(2026, 11, 30)


# --- purchase checklist (seed 001) -------------------------------------------------------------


PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_signed_letter_checks() -> None:
    letter = wf.check_signed_letter("carta.pdf", PDF)
    assert letter.size == len(PDF) and len(letter.sha256) == 64
    with pytest.raises(InputError, match="no es un PDF"):
        wf.check_signed_letter("carta.jpg", b"\xff\xd8\xff\xe0JFIF")
    with pytest.raises(InputError, match="máximo es 1 MB"):
        wf.check_signed_letter("carta.pdf", PDF + b"0" * wf.MAX_LETTER_BYTES)
    with pytest.raises(InputError, match="vacío"):
        wf.check_signed_letter("carta.pdf", b"")
    # Exactly 1 MB is accepted.
    exact = PDF + b"0" * (wf.MAX_LETTER_BYTES - len(PDF))
    assert wf.check_signed_letter("carta.pdf", exact).size == wf.MAX_LETTER_BYTES


def test_purchase_checklist_in_order() -> None:
    chk = wf.PurchaseChecklist(company_nit=NIT)
    assert chk.next_step is PurchaseStep.PAYMENT_VERIFIED
    assert "pago" in wf.purchase_next_action(chk)
    with pytest.raises(InputError, match="primero complete «Pago"):
        wf.complete_purchase_step(chk, PurchaseStep.LETTER_DOWNLOADED, at=NOW, agent="ana")
    chk = wf.complete_purchase_step(
        chk, PurchaseStep.PAYMENT_VERIFIED, at=NOW, agent="ana", note="recibo 123"
    )
    with pytest.raises(InputError, match="ya está hecho"):
        wf.complete_purchase_step(chk, PurchaseStep.PAYMENT_VERIFIED, at=NOW, agent="ana")
    with pytest.raises(InputError, match="representante legal"):
        wf.complete_purchase_step(chk, PurchaseStep.LEGAL_REPRESENTATIVE, at=NOW, agent="ana")
    rep = wf.LegalRepresentative(name="Juana Pérez", id_number="52123456")
    chk = wf.complete_purchase_step(
        chk, PurchaseStep.LEGAL_REPRESENTATIVE, at=NOW, agent="ana", legal_representative=rep
    )
    chk = wf.complete_purchase_step(chk, PurchaseStep.LETTER_DOWNLOADED, at=NOW, agent="ana")
    with pytest.raises(InputError, match="adjunte"):
        wf.complete_purchase_step(chk, PurchaseStep.SIGNED_LETTER_ATTACHED, at=NOW, agent="ana")
    chk = wf.complete_purchase_step(
        chk,
        PurchaseStep.SIGNED_LETTER_ATTACHED,
        at=NOW,
        agent="ana",
        letter=wf.check_signed_letter("carta.pdf", PDF),
    )
    chk = wf.complete_purchase_step(chk, PurchaseStep.CONTINUED, at=NOW, agent="ana")
    assert chk.next_step is None and "completas" in wf.purchase_next_action(chk)
    assert [s.step for s in chk.steps] == [s.value for s in wf.PURCHASE_ORDER]
    assert chk.steps[0].note == "recibo 123" and chk.steps[0].done_at == NOW
    assert wf.PurchaseChecklist.model_validate(chk.model_dump(mode="json")) == chk


# --- habilitación (seed 003, SPEC §7) ----------------------------------------------------------


def progress(**kw: object) -> wf.TestSetProgress:
    base: dict[str, object] = {
        "test_set_id": company().test_set_id,
        "required": wf.TestSetCounts(invoices=2, credit_notes=1, debit_notes=1),
    }
    base.update(kw)
    return wf.TestSetProgress.model_validate(base)


def mark(chk: wf.HabilitacionChecklist, step: H, facts: wf.HabilitacionFacts, **kw: object):
    return wf.check_habilitacion_step(company(), chk, facts, step, at=NOW, agent="ana", **kw)  # type: ignore[arg-type]


def test_new_company_is_blocked_on_the_reception_email() -> None:
    bare = company(reception_email=None, software=None, test_set_id=None, issuer=None)
    status = wf.habilitacion_status(
        bare, wf.HabilitacionChecklist(company_nit=NIT), wf.HabilitacionFacts(), NOW
    )
    assert status.next_step is H.REGISTER and not status.ready
    first = status.step_status(H.REGISTER)
    assert first.state == "bloqueado" and "correo de recepción" in first.detail
    assert status.next_action.startswith("Bloqueado — Registro")
    later = status.step_status(H.TEST_SET_ID)
    assert later.state == "bloqueado" and later.detail.startswith("Primero: Registro")
    # RUT 52 may be checked at any time.
    assert status.step_status(H.RUT_52).state == "disponible"
    with pytest.raises(InputError, match="correo de recepción"):
        wf.check_habilitacion_step(
            bare,
            wf.HabilitacionChecklist(company_nit=NIT),
            wf.HabilitacionFacts(),
            H.REGISTER,
            at=NOW,
            agent="ana",
        )


def test_habilitacion_walks_to_ready() -> None:
    chk = wf.HabilitacionChecklist(company_nit=NIT)
    facts = wf.HabilitacionFacts(certificate_valid=True)
    status = wf.habilitacion_status(company(), chk, facts, NOW)
    assert status.next_step is H.REGISTER and "recepcion@cafeandino.com.co" in status.next_action
    with pytest.raises(InputError, match="se marca solo"):
        mark(chk, H.OPERATION_MODE, facts)
    with pytest.raises(InputError, match="Primero: Registro"):
        mark(chk, H.PRODUCTION_START, facts, production_start=date(2026, 12, 1))
    chk = mark(chk, H.REGISTER, facts, note="registrado en el portal")
    status = wf.habilitacion_status(company(), chk, facts, NOW)
    # Software and TestSetId are filled in: the next step is sending the test set.
    assert status.step_status(H.OPERATION_MODE).state == "hecho"
    assert status.step_status(H.TEST_SET_ID).state == "hecho"
    assert status.next_step is H.SEND_TEST_SET

    facts = facts.model_copy(
        update={
            "test_set": progress(
                sent=wf.TestSetCounts(invoices=2, credit_notes=1),
                accepted=wf.TestSetCounts(invoices=2),
            )
        }
    )
    status = wf.habilitacion_status(company(), chk, facts, NOW)
    assert status.next_step is H.TEST_SET_ACCEPTED
    waiting = status.step_status(H.TEST_SET_ACCEPTED)
    assert waiting.state == "en_espera" and "1 nota crédito, 1 nota débito" in waiting.detail

    # DIAN's word on the set is enough, even without local send counts.
    facts = facts.model_copy(update={"test_set": progress(status="aceptado")})
    status = wf.habilitacion_status(company(), chk, facts, NOW)
    assert status.next_step is H.PRODUCTION_START
    with pytest.raises(InputError, match="fecha de inicio"):
        mark(chk, H.PRODUCTION_START, facts)
    chk = mark(chk, H.PRODUCTION_START, facts, production_start=date(2026, 12, 1))
    chk = mark(chk, H.RUT_52, facts)
    with pytest.raises(InputError, match="resolución"):
        mark(chk, H.REQUEST_NUMBERING, facts)
    chk = mark(chk, H.REQUEST_NUMBERING, facts, reference="18764031407250")
    chk = mark(chk, H.ASSOCIATE_PREFIXES, facts, note="prefijo FE")

    # Associated one hour ago: DIAN may take ~2 hours to serve the new range (seed 004).
    status = wf.habilitacion_status(company(), chk, facts, NOW + timedelta(hours=1))
    sync = status.step_status(H.SYNC_NUMBERING)
    assert sync.state == "en_espera" and "11:00" in sync.detail and "2 horas" in sync.detail
    later = wf.habilitacion_status(company(), chk, facts, NOW + timedelta(hours=3))
    assert later.step_status(H.SYNC_NUMBERING).state == "disponible"

    facts = facts.model_copy(update={"production_ranges_synced": 1, "last_sync_at": NOW})
    status = wf.habilitacion_status(company(), chk, facts, NOW + timedelta(hours=3))
    assert status.ready and status.next_step is None and "completa" in status.next_action
    assert "18764031407250" in status.step_status(H.REQUEST_NUMBERING).detail
    assert wf.HabilitacionChecklist.model_validate(chk.model_dump(mode="json")) == chk

    undone = wf.uncheck_habilitacion_step(chk, H.RUT_52)
    assert wf.habilitacion_status(company(), undone, facts, NOW).next_step is H.RUT_52


def test_rejected_test_set_says_to_request_a_new_one() -> None:
    chk = mark(wf.HabilitacionChecklist(company_nit=NIT), H.REGISTER, wf.HabilitacionFacts())
    facts = wf.HabilitacionFacts(
        test_set=progress(
            sent=wf.TestSetCounts(invoices=8),
            rejected=wf.TestSetCounts(invoices=5),
            status="rechazado",
        )
    )
    status = wf.habilitacion_status(company(), chk, facts, NOW)
    assert status.next_step is H.TEST_SET_ACCEPTED
    step = status.step_status(H.TEST_SET_ACCEPTED)
    assert step.state == "bloqueado" and "solicite un set nuevo" in step.detail
    assert status.blocked == [step] or step in status.blocked


def test_sending_blocked_by_an_unusable_certificate() -> None:
    chk = mark(wf.HabilitacionChecklist(company_nit=NIT), H.REGISTER, wf.HabilitacionFacts())
    facts = wf.HabilitacionFacts(certificate_valid=False)
    step = wf.habilitacion_status(company(), chk, facts, NOW).step_status(H.SEND_TEST_SET)
    assert step.state == "bloqueado" and "certificado" in step.detail


def test_status_refuses_another_companys_checklist() -> None:
    with pytest.raises(InputError):
        wf.habilitacion_status(
            company(), wf.HabilitacionChecklist(company_nit=OTHER_NIT), wf.HabilitacionFacts(), NOW
        )
