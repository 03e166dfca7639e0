"""A new company from nothing to "ready to invoice", from the command line, against the
in-process simulator: company add, cert install, the habilitación checklist, the test set
accepted, the production range synced, certificate valid, doctor clean."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from fe_tui.cli import main
from fe_tui.services.demo import DEMO_CERT_PASSWORD, make_test_certificate

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
    # The issuer data every document carries, as the RUT has them.
    shown = cli(
        "company",
        "edit",
        "--address",
        "Calle 45 # 12-30",
        "--municipality",
        "76001",
        "--postal-code",
        "760001",
        "--responsibilities",
        "O-13,O-47",
        "--org-type",
        "juridica",
        "--phone",
        "+57 602 5551234",
        "--json",
    )
    assert shown["company"]["issuer"]["address"]["department_code"] == "76"

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

    # Formulario 1876 typed in, then GetNumberingRange (the simulator) confirms the range.
    cli(
        "ranges",
        "add",
        "--number",
        "18764031407250",
        "--prefix",
        "ESP",
        "--from",
        "1",
        "--to",
        "5000",
        "--valid-from",
        "2026-11-01",
        "--valid-to",
        "2028-11-01",
        "--date",
        "2026-11-01",
        "--technical-key",
        "b" * 40,
    )
    synced = cli("ranges", "sync", "--json")
    assert synced["ok"] is True, synced
    assert "ESP" in {r["prefix"] for r in synced["updated"] + synced["unchanged"]}
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
