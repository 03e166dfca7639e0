"""Companies, certificate records and a fixed clock shared by the workflow tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fe_tui.domain.colombia import COLOMBIA_TZ
from fe_tui.domain.company import Company
from fe_tui.domain.models import Issuer, Software
from fe_tui.domain.workflows import CertificateRecord, CertificateState
from tests.conftest import EXAMPLES

#: The fixed clock of the workflow tests: 2026-11-20 09:00 in Colombia.
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=COLOMBIA_TZ)
NIT = "900373076"
OTHER_NIT = "860001022"
FINGERPRINT = ":".join(["AB"] * 32)


def example_parts() -> dict[str, Any]:
    return json.loads((EXAMPLES / "factura.json").read_text(encoding="utf-8"))


def company(**changes: Any) -> Company:
    """The examples' issuer as a fully set-up company (own software, TestSetId, e-mail)."""
    raw = example_parts()
    base: dict[str, Any] = {
        "nit": NIT,
        "dv": "4",
        "name": "Tostadora Andina de Café S.A.S.",
        "reception_email": "recepcion@cafeandino.com.co",
        "test_set_id": "c3b9f2a0-5d1e-4f7a-9b8c-2e6d4a1f0b37",
        "issuer": Issuer.model_validate(raw["issuer"]),
        "software": Software.model_validate(raw["software"]),
    }
    base.update(changes)
    return Company(**base)


def record(
    *,
    days_left: int = 200,
    valid_days: int = 365,
    nit: str | None = NIT,
    company_nit: str = NIT,
    state: CertificateState = CertificateState.ACTIVE,
    fingerprint: str = FINGERPRINT,
    installed_at: datetime | None = None,
) -> CertificateRecord:
    """A certificate record ending ``days_left`` days after :data:`NOW` (at 23:00 UTC)."""
    end = datetime(2026, 11, 20, 23, 0, tzinfo=UTC) + timedelta(days=days_left)
    return CertificateRecord(
        company_nit=company_nit,
        path="/datos/certs/empresa.p12",
        sha256_fingerprint=fingerprint,
        subject="CN=Tostadora Andina de Café S.A.S.",
        subject_cn="Tostadora Andina de Café S.A.S.",
        issuer_cn="Autoridad Subordinada 01 Prueba",
        serial_number="1A2B",
        nit=nit,
        not_before=end - timedelta(days=valid_days),
        not_after=end,
        state=state,
        installed_at=installed_at or NOW - timedelta(days=10),
    )
