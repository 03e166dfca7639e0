"""A company's way to DIAN: its environment, its certificate and one session.

The CLI, the queue and the console open DIAN sessions for a *company* through
here, so the choice of endpoint is made in one place:

- ``produccion`` and ``habilitacion`` go to DIAN's endpoints (or the
  company's ``dian_url`` override, HTTPS only);
- ``simulator`` goes to the company's ``dian_url`` when it has one (a
  separately started ``fe-tui simulator``), else to a simulator **in this
  process**, configured with the company's own registration (issuer,
  software, resolutions) and keeping its state in ``<data_dir>/simulator`` so
  that a later run can still ask it for documents sent earlier.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from fe_tui.crypto.certificates import LoadedCertificate
from fe_tui.dian import environments
from fe_tui.dian.environments import Environment
from fe_tui.domain.company import Company
from fe_tui.errors import InputError
from fe_tui.services.dian_ops import DianSession, open_session
from fe_tui.settings import Settings
from fe_tui.store.db import Store

#: Where the in-process simulator listens (never a network address: the transport is ASGI).
IN_PROCESS_URL = "http://simulador-local/WcfDianCustomerServices.svc"


def company_environment(company: Company, settings: Settings) -> Environment:
    """The DIAN environment this company's documents go to."""
    url = company.dian_url
    if company.environment == "simulator" and url is None:
        url = IN_PROCESS_URL
    return environments.resolve(company.environment, url)


def active_certificate_path(store: Store, company: Company) -> Path:
    """The PKCS#12 the company signs with; a Spanish error when none is installed."""
    record = store.get("certificates", company.nit, "active")
    if record is None or not record.get("path"):
        raise InputError(
            f"La empresa {company.label} no tiene un certificado instalado "
            "(`fe-tui cert install ARCHIVO.p12`)."
        )
    path = Path(str(record["path"]))
    if not path.is_file():
        raise InputError(
            f"El certificado de {company.label} ya no está en {path}; instálelo de nuevo."
        )
    return path


def simulator_config_for(store: Store, company: Company, settings: Settings) -> Any:
    """The simulator configuration that knows this company's registration (a test double).

    The demo configuration (acquirers, test set) with the company as its issuer:
    its software and the resolutions in the store, and its TestSetId as a test
    set (with the counts recorded for it by ``habilitacion run-test-set``, else
    the demo set's small counts). State in ``<data_dir>/simulator``.
    """
    from fe_tui.simulator import demo_config
    from fe_tui.simulator.config import Issuer as SimIssuer

    config = demo_config(state_dir=settings.data_dir / "simulator")
    if company.test_set_id and config.test_set(company.test_set_id) is None:
        config = config.model_copy(
            update={"test_sets": [*config.test_sets, _company_test_set(store, company)]}
        )
    if company.software is None:
        return config
    issuer = SimIssuer(
        nit=company.nit,
        dv=company.dv,
        name=company.name,
        software=[company.software],
        ranges=store.resolutions(company.nit),
    )
    others = [i for i in config.issuers if i.nit != company.nit]
    return config.model_copy(update={"issuers": [issuer, *others]})


#: Rejections the simulator allows a company's test set (as the demo set: 4).
SIMULATED_SET_REJECTIONS = 4


def _company_test_set(store: Store, company: Company) -> Any:
    """The company's TestSetId as a simulator test set (counts as recorded, else 2/1/1)."""
    from fe_tui.services.habilitacion import recorded_test_set
    from fe_tui.simulator.config import TestSet

    assert company.test_set_id is not None
    record = recorded_test_set(store, company)
    if record is not None:
        wanted = record.progress.required
        counts = (wanted.invoices, wanted.credit_notes, wanted.debit_notes)
    else:
        counts = (2, 1, 1)
    return TestSet(
        test_set_id=company.test_set_id,
        issuer_nit=company.nit,
        invoices=counts[0],
        credit_notes=counts[1],
        debit_notes=counts[2],
        total_required=sum(counts) + SIMULATED_SET_REJECTIONS,
    )


def in_process_simulator(
    store: Store, company: Company, settings: Settings
) -> httpx.AsyncBaseTransport:
    """An ASGI transport to a local simulator that knows this company's registration."""
    from fe_tui.simulator import create_app

    return httpx.ASGITransport(app=create_app(simulator_config_for(store, company, settings)))


@contextlib.asynccontextmanager
async def open_company_session(
    store: Store,
    settings: Settings,
    company: Company,
    certificate: LoadedCertificate,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[DianSession]:
    """A DIAN session for ``company`` (see the module docstring).

    ``transport`` replaces the network (tests mount their own simulator).
    """
    environment = company_environment(company, settings)
    if transport is None and environment.is_test_double and environment.url == IN_PROCESS_URL:
        transport = in_process_simulator(store, company, settings)
    async with open_session(environment, certificate, settings, transport=transport) as session:
        yield session
