"""Numbering resolutions: figures, burn-rate forecast, overlaps, gaps, seed 004 cases."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from fe_tui.domain.models import Resolution
from fe_tui.errors import InputError
from fe_tui.services import resolutions as rs
from tests.workflow_fixtures import NIT, NOW

TODAY = date(2026, 11, 20)
KEY = "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c"


def res(
    number: str = "18764031407250",
    prefix: str = "FE",
    start: int = 1,
    end: int = 1000,
    valid_from: date = date(2026, 1, 1),
    valid_to: date = date(2027, 6, 30),
) -> Resolution:
    return Resolution(
        number=number,
        prefix=prefix,
        from_number=start,
        to_number=end,
        valid_from=valid_from,
        valid_to=valid_to,
        technical_key=KEY,
    )


def codes(report: rs.NumberingReport) -> list[str]:
    return [f.code for f in report.findings]


def test_prefix_check() -> None:
    assert rs.check_prefix(" fe1 ") == "FE1"
    assert rs.check_prefix("") == ""
    for bad in ("SETPX", "F-1", "F E"):
        with pytest.raises(InputError, match="hasta 4"):
            rs.check_prefix(bad)


def test_used_remaining_expiry_and_forecast() -> None:
    report = rs.analyze_numbering(
        NIT, [res()], {"FE": 400}, TODAY, daily_usage={"FE": [10] * 20 + [20] * 10}
    )
    (status,) = report.resolutions
    assert (status.used, status.remaining, status.size) == (400, 600, 1000)
    assert status.state == "vigente" and status.current
    assert status.days_to_expiry == (date(2027, 6, 30) - TODAY).days
    # 30-day window: (20×10 + 10×20) / 30 = 13.33 a day → ceil(600 / 13.33) = 46 days.
    assert status.daily_rate == Decimal("13.33")
    assert status.days_to_exhaustion == 46
    assert status.exhaustion_date == TODAY + timedelta(days=46)
    assert report.findings == [] and report.severity == "ok"
    assert report.days_until_trouble == 46
    assert rs.NumberingReport.model_validate(report.model_dump(mode="json")) == report


def test_forecast_window_is_configurable_and_warns() -> None:
    usage = {"FE": [1] * 20 + [60] * 5}
    short = rs.NumberingThresholds(forecast_window_days=5)
    report = rs.analyze_numbering(
        NIT, [res()], {"FE": 400}, TODAY, daily_usage=usage, thresholds=short
    )
    status = report.resolutions[0]
    assert status.daily_rate == Decimal("60.00") and status.days_to_exhaustion == 10
    (finding,) = report.findings
    assert finding.code == "se_agota_pronto" and finding.severity == "warning"
    assert "10 días" in finding.message and "formulario 1876" in finding.message
    # No usage at all: no forecast, no warning.
    quiet = rs.analyze_numbering(NIT, [res()], {"FE": 400}, TODAY, daily_usage={"FE": [0] * 9})
    assert quiet.resolutions[0].days_to_exhaustion is None and quiet.findings == []


def test_near_exhaustion_thresholds() -> None:
    report = rs.analyze_numbering(NIT, [res()], {"FE": 905}, TODAY)
    assert codes(report) == ["pocos_numeros"] and "Quedan 95 de 1000" in report.findings[0].message
    relaxed = rs.NumberingThresholds(remaining_numbers=10, remaining_percent=5)
    assert rs.analyze_numbering(NIT, [res()], {"FE": 905}, TODAY, thresholds=relaxed).findings == []


def test_near_expiry_and_successor_downgrades() -> None:
    ending = res(valid_to=TODAY + timedelta(days=12))
    report = rs.analyze_numbering(NIT, [ending], {"FE": 10}, TODAY)
    (finding,) = report.findings
    assert finding.code == "vence_pronto" and finding.severity == "warning"
    assert "en 12 días" in finding.message
    successor = res(number="18764031407999", start=1001, end=5000, valid_to=date(2028, 1, 1))
    both = rs.analyze_numbering(NIT, [ending, successor], {"FE": 10}, TODAY)
    assert [f.severity for f in both.findings] == ["info"]
    assert "rango siguiente" in both.findings[0].message


def test_expired_with_numbers_left_needs_habilitar() -> None:
    old = res(valid_from=date(2024, 1, 1), valid_to=date(2025, 12, 31))
    report = rs.analyze_numbering(NIT, [old], {"FE": 300}, TODAY)
    assert report.resolutions[0].state == "vencida" and report.resolutions[0].remaining == 700
    assert "vencida_con_numeros" in codes(report) and report.severity == "problem"
    finding = next(f for f in report.findings if f.code == "vencida_con_numeros")
    assert "Habilitar rangos" in finding.message and "700" in finding.message
    assert "sin_resolucion_vigente" in codes(report)


def test_ranges_of_one_prefix_are_used_in_order() -> None:
    first = res(number="1", start=1, end=100)
    second = res(number="2", start=101, end=200)
    report = rs.analyze_numbering(NIT, [second, first], {"FE": 150}, TODAY)
    a, b = report.resolutions
    assert (a.resolution_number, a.state, a.used, a.current) == ("1", "agotada", 100, False)
    assert (b.resolution_number, b.used, b.remaining, b.current) == ("2", 50, 50, True)
    assert report.current("FE") == b


def test_overlaps_and_gaps() -> None:
    a = res(number="1", start=1, end=100)
    b = res(number="2", start=90, end=150)
    c = res(number="3", start=301, end=400)
    report = rs.analyze_numbering(NIT, [a, b, c], {}, TODAY)
    (overlap,) = report.overlaps
    assert overlap.resolutions == ("1", "2") and (overlap.from_number, overlap.to_number) == (
        90,
        100,
    )
    (gap,) = report.gaps
    assert (gap.from_number, gap.to_number) == (151, 300)
    assert gap.after_resolution == "2" and gap.before_resolution == "3"
    assert {"superposicion", "hueco"} <= set(codes(report))
    # Different prefixes never overlap.
    other = res(number="4", prefix="FV", start=1, end=100)
    assert rs.analyze_numbering(NIT, [a, other], {}, TODAY).overlaps == []


def test_recent_association_waits_about_two_hours() -> None:
    assoc = rs.PrefixAssociation(
        company_nit=NIT, prefix="FE", resolution_number="18764000000001", associated_at=NOW
    )
    soon = rs.analyze_numbering(
        NIT, [res()], {}, TODAY, associations=[assoc], now=NOW + timedelta(minutes=30)
    )
    finding = next(f for f in soon.findings if f.code == "asociacion_reciente")
    assert finding.severity == "info" and "11:00" in finding.message
    late = rs.analyze_numbering(
        NIT, [res()], {}, TODAY, associations=[assoc], now=NOW + timedelta(hours=3)
    )
    assert "asociacion_sin_sincronizar" in codes(late)
    # Once synced (the resolution is known), nothing to say.
    synced = rs.analyze_numbering(
        NIT, [res(number="18764000000001")], {}, TODAY, associations=[assoc], now=NOW
    )
    assert synced.findings == []
    with pytest.raises(InputError):
        rs.analyze_numbering(NIT, [res()], {}, TODAY, associations=[assoc])


def test_no_resolution_at_all() -> None:
    report = rs.analyze_numbering(NIT, [], {}, TODAY)
    assert codes(report) == ["sin_resolucion_vigente"] and report.days_until_trouble is None


def test_slow_pace_on_a_huge_range_has_no_exhaustion_date() -> None:
    """5 million numbers at 0.1 a day outlast the calendar: days, but no date (no crash)."""
    big = res(start=990000000, end=995000000)
    usage = {"FE": [0] * 29 + [3]}
    report = rs.analyze_numbering(NIT, [big], {"FE": 990000002}, TODAY, daily_usage=usage)
    status = report.resolutions[0]
    assert status.days_to_exhaustion is not None and status.days_to_exhaustion > 3_000_000
    assert status.exhaustion_date is None
