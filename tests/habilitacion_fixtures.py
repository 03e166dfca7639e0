"""A new company in a data directory, set up step by step as an agent would (no demo data)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fe_tui.crypto.certificates import LoadedCertificate
from fe_tui.domain.company import Company
from fe_tui.domain.models import Software
from fe_tui.domain.nit import nit_check_digit
from fe_tui.fileio import private_dir, write_private
from fe_tui.services.demo import DEMO_CERT_PASSWORD, demo_issuer, make_test_certificate
from fe_tui.services.documents import load_certificate
from fe_tui.settings import Settings
from fe_tui.store.db import Store

NEW_NIT = "901234567"
NEW_NAME = "Panadería La Espiga S.A.S."


def new_company(
    store: Store,
    *,
    nit: str = NEW_NIT,
    name: str = NEW_NAME,
    software: bool = True,
    test_set: bool = True,
    **changes: Any,
) -> Company:
    """A company registered in the simulator environment (in-process), saved and current."""
    dv = nit_check_digit(nit)
    issuer = demo_issuer().model_copy(
        update={"nit": nit, "dv": dv, "registration_name": name, "trade_name": None}
    )
    data: dict[str, Any] = {
        "nit": nit,
        "dv": dv,
        "name": name,
        "environment": "simulator",
        "reception_email": "recepcion@espiga.com.co",
        "issuer": issuer,
        "software": Software(
            software_id=str(uuid.UUID(int=int(nit))),
            pin="54321",
            provider_nit=nit,
            provider_dv=dv,
            provider_name=name,
        )
        if software
        else None,
        "test_set_id": str(uuid.UUID(int=int(nit) * 7)) if test_set else None,
    }
    data.update(changes)
    company = Company(**data)
    with store.transaction():
        store.save_company(company)
        store.set_current_company(company.nit)
    return company


def install_test_certificate(
    store: Store, settings: Settings, company: Company, *, days: int = 365
) -> tuple[Path, LoadedCertificate]:
    """A self-signed certificate for the company, recorded as its active one."""
    folder = private_dir(settings.data_dir / "companies" / company.nit / "certificates")
    path = folder / "firma.p12"
    write_private(path, make_test_certificate(company.nit, company.name, days=days))
    store.put("certificates", company.nit, "active", {"path": str(path), "state": "active"})
    return path, load_certificate(path, DEMO_CERT_PASSWORD)
