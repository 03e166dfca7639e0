"""A new company from nothing to "ready to invoice", from the command line, against the
in-process simulator: company add, cert install, the habilitación checklist, the test set
accepted, the production range synced, certificate valid, doctor clean."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from fe_tui.cli import main
from fe_tui.dian import outcomes as oc
from fe_tui.domain.models import Resolution
from fe_tui.services.demo import DEMO_CERT_PASSWORD, demo_issuer, make_test_certificate
from fe_tui.services.documents import load_certificate
from fe_tui.services.sessions import active_certificate_path, open_company_session
from fe_tui.settings import Settings
from fe_tui.store.db import Store

NIT, DV, NAME = "901234567", "7", "Panadería La Espiga S.A.S."
SOFTWARE_ID = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"
TEST_SET_ID = "d2b7c1a0-3e4f-4a5b-9c8d-7e6f5a4b3c2d"


class Cli:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.runner = CliRunner()
        self.env = {
            "FE_TUI_CERT_PASSWORD": DEMO_CERT_PASSWORD,
            "FE_TUI_AGENT": "Laura Gómez",
            "PIN_ESPIGA": "54321",
        }

    def __call__(self, *args: str, code: int = 0) -> Any:
        result = self.runner.invoke(main, ["--data-dir", str(self.data_dir), *args], env=self.env)
        assert result.exit_code == code, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.output
        text = result.stdout
        return json.loads(text) if "--json" in args else text


def _sync_production_ranges(data_dir: Path) -> None:
    """What `ranges add` + `ranges sync` do (that CLI is not on this branch's main yet): the
    formulario 1876 data typed in, then GetNumberingRange through the company's session and
    the ranges DIAN returns stored with their technical key and source ``dian``."""
    settings = Settings.load(data_dir, env={})
    store = Store(settings.data_dir)
    company = store.require_company(NIT)
    manual = Resolution(
        number="18764031407250",
        date=date(2026, 11, 1),
        prefix="ESP",
        from_number=1,
        to_number=5000,
        valid_from=date(2026, 11, 1),
        valid_to=date(2028, 11, 1),
        technical_key="b" * 40,
    )
    store.save_resolution(NIT, manual, source="manual")
    cert = load_certificate(active_certificate_path(store, company), DEMO_CERT_PASSWORD)

    async def sync() -> oc.Outcome:
        async with open_company_session(store, settings, company, cert) as session:
            assert company.software is not None
            return await session.ranges(NIT, company.software.software_id)

    answer = asyncio.run(sync())
    assert isinstance(answer, oc.NumberingRanges), answer.message
    for found in answer.ranges:
        if found.prefix == "ESP":
            store.save_resolution(NIT, manual, source="dian")


def test_new_company_from_nothing_to_ready_to_invoice(tmp_path: Path) -> None:
    data_dir = tmp_path / "datos"
    cli = Cli(data_dir)
    cli(
        "company",
        "add",
        f"{NIT}-{DV}",
        "--name",
        NAME,
        "--env",
        "simulador",
        "--mode",
        "propio",
        "--software-id",
        SOFTWARE_ID,
        "--pin-env",
        "PIN_ESPIGA",
        "--test-set-id",
        TEST_SET_ID,
        "--email",
        "recepcion@espiga.com.co",
        "--use",
    )
    # The issuer data the documents carry (address, responsibilities): no command sets them
    # yet, so they go in through the store, as the console's company form will.
    store = Store(data_dir)
    company = store.require_company(NIT)
    issuer = demo_issuer().model_copy(
        update={"nit": NIT, "dv": DV, "registration_name": NAME, "trade_name": None}
    )
    store.save_company(company.model_copy(update={"issuer": issuer}))

    status = cli("habilitacion", "status", "--json")
    assert status["next_step"] == "registro" and status["ready"] is False
    blocked = {b["step"]: b["reason"] for b in status["blocked"]}
    assert "instale uno vigente" in blocked["envio_set_pruebas"]  # no certificate yet

    p12 = tmp_path / "espiga.p12"
    p12.write_bytes(make_test_certificate(NIT, NAME))
    cli("cert", "install", str(p12))
    cli("habilitacion", "check", "registro", "--note", "Registrado en el portal de la DIAN")
    cli("habilitacion", "check", "rut_responsabilidad_52")

    result = cli("habilitacion", "run-test-set", "--json")
    assert result["status"] == "aceptado"
    assert result["accepted"] == result["required"] and result["rejected"]["invoices"] == 0

    cli("habilitacion", "check", "inicio_produccion", "--date", "2026-12-04")
    cli("habilitacion", "check", "solicitud_numeracion", "--reference", "18764031407250")
    cli("habilitacion", "check", "asociacion_prefijos", "--note", "Prefijo ESP asociado")
    status = cli("habilitacion", "status", "--json")
    assert status["next_step"] == "sincronizar_numeracion"
    waiting = next(s for s in status["steps"] if s["step"] == "sincronizar_numeracion")
    assert waiting["state"] == "en_espera" and "2 horas" in waiting["detail"]

    _sync_production_ranges(data_dir)
    status = cli("habilitacion", "status", "--json")
    assert status["ready"] is True and status["next_step"] is None, status["next_action"]
    assert "puede facturar" in status["next_action"]

    report = cli("doctor", "--json")
    assert report["ok"] is True
    sections = {s["name"]: s for s in report["reports"][0]["sections"]}
    assert sections["habilitacion"]["status"] == "ok"
    assert sections["certificate"]["status"] == "warning"  # the test file has no CA chain
    assert "vigente" in sections["certificate"]["message"]
    assert sections["resolutions"]["status"] == "ok" and "ESP" in sections["resolutions"]["message"]
    assert sections["dian"]["status"] == "ok" and sections["queue"]["status"] == "ok"
    triage = cli("triage", "--json")
    assert triage["companies"][0]["company_nit"] == NIT
    assert triage["companies"][0]["reason"] is None
    assert triage["companies"][0]["next_action"] == "Todo en orden."
