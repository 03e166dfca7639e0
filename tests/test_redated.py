"""The queue re-dates a stored request on its data (one validation) exactly as issued_now does."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from fe_tui.domain.models import COLOMBIA_TZ, DocumentRequest
from fe_tui.services import documents

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "factura.json"


def test_redated_moves_issue_and_due_dates_like_issued_now() -> None:
    raw = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    when = datetime(2026, 12, 3, 9, 30, 5, tzinfo=COLOMBIA_TZ)
    moved = documents.redated(raw, when)
    # The input is untouched (the ledger's copy must not change under the queue).
    assert raw["document"]["issue_at"] == "2026-11-20T10:15:00-05:00"
    assert moved["document"]["issue_at"] == when.isoformat()
    # 30 days of credit stay 30 days (2026-11-20 → 2026-12-20, now 2026-12-03 → 2027-01-02).
    assert moved["document"]["due_date"] == "2027-01-02"
    assert moved["document"]["payment"]["due_date"] == "2027-01-02"
    once = DocumentRequest.model_validate(moved)
    twice = documents.issued_now(DocumentRequest.model_validate(raw), when)
    assert once.model_dump(mode="json") == twice.model_dump(mode="json")


def test_redated_reads_a_utc_issue_time_as_its_colombian_date() -> None:
    raw = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    # 02:00 UTC on the 21st is still the 20th in Colombia: the term is counted from the 20th.
    raw["document"]["issue_at"] = "2026-11-21T02:00:00+00:00"
    moved = documents.redated(raw, datetime(2026, 11, 21, 8, 0, tzinfo=COLOMBIA_TZ))
    assert moved["document"]["due_date"] == "2026-12-21"
