"""Triage across companies: what breaks first comes first."""

from __future__ import annotations

from datetime import date

from fe_tui.domain import workflows as wf
from fe_tui.domain.models import Resolution
from fe_tui.domain.nit import nit_check_digit
from fe_tui.services.doctor import QueueCounts
from fe_tui.services.resolutions import analyze_numbering
from fe_tui.services.triage import CompanySnapshot, triage
from tests.workflow_fixtures import NOW, company, record

TODAY = date(2026, 11, 20)


def other(nit: str, name: str):
    return company(nit=nit, dv=nit_check_digit(nit), name=name, issuer=None)


def res(to_number: int = 1000, valid_to: date = date(2027, 12, 31)) -> Resolution:
    return Resolution(
        number="18764031407250",
        prefix="FE",
        from_number=1,
        to_number=to_number,
        valid_from=date(2026, 1, 1),
        valid_to=valid_to,
        technical_key="fc8eac422eba16e22ffd8c6f94b3f40a6e38162c",
    )


def snapshot(c, *, days: int | None = 300, numbering=None, habilitacion=None, queue=None):
    rec = None if days is None else record(days_left=days, nit=c.nit, company_nit=c.nit)
    return CompanySnapshot(
        company=c,
        certificate=wf.certificate_status(c.nit, rec, NOW),
        numbering=numbering,
        habilitacion=habilitacion,
        queue=queue,
    )


def test_order_by_what_breaks_first() -> None:
    fine = other("900000001", "Bien S.A.S.")
    cert_soon = other("900000002", "Certificado Pronto S.A.S.")
    expired = other("900000003", "Vencida S.A.S.")
    range_soon = other("900000004", "Rango S.A.S.")
    rejected = other("900000005", "Rechazos S.A.S.")
    stuck = other("900000006", "Atascada S.A.S.")
    snaps = [
        snapshot(fine, numbering=analyze_numbering(fine.nit, [res()], {"FE": 10}, TODAY)),
        snapshot(cert_soon, days=12),
        snapshot(expired, days=-4),
        snapshot(
            range_soon,
            numbering=analyze_numbering(
                range_soon.nit, [res()], {"FE": 400}, TODAY, daily_usage={"FE": [30] * 30}
            ),
        ),
        snapshot(rejected, queue=QueueCounts(rejected=2)),
        snapshot(stuck, queue=QueueCounts(stuck=1)),
    ]
    entries = triage(snaps)
    order = [e.company_nit for e in entries]
    assert order == [
        expired.nit,  # broken 4 days ago
        rejected.nit,  # broken now
        cert_soon.nit,  # 12 days
        range_soon.nit,  # 600 / 30 = 20 days
        stuck.nit,  # warning without deadline
        fine.nit,
    ]
    top = entries[0]
    assert top.reason == "certificado" and top.days_left == -4 and "venció" in top.next_action
    assert entries[3].reason == "numeracion" and entries[3].days_left == 20
    assert entries[-1].reason is None and entries[-1].next_action == "Todo en orden."
    assert entries[-1].days_left is not None and entries[-1].severity == "ok"


def test_habilitacion_blocked_and_no_range_during_habilitacion() -> None:
    new = other("900000007", "Nueva S.A.S.").model_copy(update={"reception_email": None})
    status = wf.habilitacion_status(
        new, wf.HabilitacionChecklist(company_nit=new.nit), wf.HabilitacionFacts(), NOW
    )
    snap = snapshot(new, habilitacion=status, numbering=analyze_numbering(new.nit, [], {}, TODAY))
    (entry,) = triage([snap])
    assert entry.reason == "habilitacion" and entry.severity == "problem"
    assert "correo de recepción" in entry.next_action
    # "No resolution" is expected while habilitación is under way: not an item.
    assert [i.kind for i in entry.items] == ["habilitacion", "certificado"]


def test_company_without_certificate_is_broken() -> None:
    c = other("900000008", "Sin Certificado S.A.S.")
    (entry,) = triage([snapshot(c, days=None)])
    assert (
        entry.severity == "problem" and entry.days_left == 0 and "cert install" in entry.next_action
    )
