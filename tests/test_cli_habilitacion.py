"""``fe-tui habilitacion``: status, check, uncheck and run-test-set from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fe_tui.cli import main
from fe_tui.services.demo import DEMO_CERT_PASSWORD


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "datos"
    result = CliRunner().invoke(main, ["--data-dir", str(folder), "demo", "--no-ui"])
    assert result.exit_code == 0, result.output
    return folder


def run(data_dir: Path, *args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["--data-dir", str(data_dir), *args],
        env={"FE_TUI_CERT_PASSWORD": DEMO_CERT_PASSWORD, "FE_TUI_AGENT": "Laura"},
    )
    return result.exit_code, result.stdout, result.stderr


def test_status_names_the_next_step_and_why_steps_are_blocked(data_dir: Path) -> None:
    code, out, _ = run(data_dir, "habilitacion", "status")
    assert code == 0
    assert "Siguiente paso — Registro como facturador" in out and "Código del paso: registro" in out
    code, out, _ = run(data_dir, "habilitacion", "status", "--json")
    data = json.loads(out)
    assert data["next_step"] == "registro" and data["ready"] is False
    blocked = {b["step"]: b["reason"] for b in data["blocked"]}
    assert blocked["envio_set_pruebas"].startswith("Primero: Registro")


def test_check_and_uncheck(data_dir: Path) -> None:
    code, out, _ = run(data_dir, "habilitacion", "check", "registro", "--note", "Portal DIAN")
    assert code == 0 and "Marcado: Registro" in out and "Envío del set de pruebas" in out
    code, out, _ = run(data_dir, "habilitacion", "status", "--json")
    step = json.loads(out)["steps"][0]
    assert step["state"] == "hecho" and step["agent"] == "Laura" and step["note"] == "Portal DIAN"
    code, out, err = run(data_dir, "habilitacion", "check", "registro")
    assert (
        code == 2
        and err.strip()
        == "Error: el paso «Registro como facturador con el correo de recepción» ya está marcado"
    )
    code, out, _ = run(data_dir, "habilitacion", "uncheck", "registro", "--json")
    assert code == 0 and json.loads(out)["next_step"] == "registro"
    code, _, err = run(data_dir, "habilitacion", "check", "inicio-produccion", "--date", "mañana")
    assert code == 2 and "AAAA-MM-DD" in err and "Traceback" not in err
    code, out, _ = run(data_dir, "habilitacion", "check", "volar", "--json")
    assert code == 2 and "Paso desconocido" in json.loads(out)["error"]


def test_run_test_set_from_the_cli(data_dir: Path) -> None:
    code, out, err = run(data_dir, "habilitacion", "run-test-set", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["status"] == "aceptado" and data["accepted"] == data["required"]
    assert data["missing"] == {"invoices": 0, "credit_notes": 0, "debit_notes": 0}
    code, out, _ = run(data_dir, "habilitacion", "run-test-set")
    assert code == 0 and "aceptado por la DIAN" in out
    code, out, _ = run(data_dir, "habilitacion", "status", "--json")
    steps = {s["step"]: s["state"] for s in json.loads(out)["steps"]}
    assert steps["set_aceptado"] == "hecho"


def test_run_test_set_without_certificate_password(data_dir: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["--data-dir", str(data_dir), "habilitacion", "run-test-set"],
        env={"FE_TUI_CERT_PASSWORD": None},
    )
    assert result.exit_code == 2 and "FE_TUI_CERT_PASSWORD" in result.stderr
