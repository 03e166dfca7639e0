"""``fe-tui company add|list|show|edit|use`` through the CLI, with a temporary data directory."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from fe_tui.cli import main
from fe_tui.store.db import Store

SOFTWARE_ID = "49fab599-4556-4828-a30b-852a910c5bb1"
PIN_ENV = {"FE_TUI_TEST_PIN": "75315"}


def run(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["--data-dir", str(data_dir), *args], env=env)


def add_cafe(data_dir: Path) -> Result:
    return run(
        data_dir,
        "company",
        "add",
        "900.373.076-4",
        "--name",
        "Tostadora Andina",
        "--software-id",
        SOFTWARE_ID,
        "--pin-env",
        "FE_TUI_TEST_PIN",
        "--email",
        "recepcion@cafe.co",
        "--env",
        "simulador",
        "--test-set-id",
        "ea09391-85cb",
        env=PIN_ENV,
    )


def test_add_checks_the_dv_and_requires_it(tmp_path: Path) -> None:
    wrong = run(tmp_path, "company", "add", "900373076-5", "--name", "X")
    assert wrong.exit_code == 2
    assert "para el NIT 900373076 es 4" in wrong.output and "Traceback" not in wrong.output
    missing = run(tmp_path, "company", "add", "900373076", "--name", "X")
    assert missing.exit_code == 2 and "900373076-4" in missing.output
    assert Store(tmp_path).companies() == []


def test_add_list_show_never_print_the_pin(tmp_path: Path) -> None:
    added = add_cafe(tmp_path)
    assert added.exit_code == 0, added.output
    assert "(actual)" in added.output  # the first company becomes current
    store = Store(tmp_path)
    company = store.require_company()
    assert company.software is not None and company.software.pin == "75315"
    assert company.software.provider_nit == "900373076"  # own software: the company itself
    assert company.environment == "simulator" and company.test_set_id == "ea09391-85cb"
    for args in (("list",), ("list", "--json"), ("show",), ("show", "--json")):
        result = run(tmp_path, "company", *args)
        assert result.exit_code == 0, result.output
        assert "75315" not in result.output
        assert "Tostadora Andina" in result.output
    shown = json.loads(run(tmp_path, "company", "show", "900373076-4", "--json").output)
    assert shown["company"]["software"]["pin"] == "•••••"
    assert shown["company"]["current"] is True
    assert shown["company"]["reception_email"] == "recepcion@cafe.co"


def test_duplicate_add_is_refused(tmp_path: Path) -> None:
    assert add_cafe(tmp_path).exit_code == 0
    again = add_cafe(tmp_path)
    assert again.exit_code == 2 and "company edit" in again.output


def test_provider_mode_needs_the_provider_nit(tmp_path: Path) -> None:
    args = ["company", "add", "860001022-7", "--name", "Otra", "--mode", "proveedor"]
    args += ["--software-id", SOFTWARE_ID, "--pin-env", "FE_TUI_TEST_PIN"]
    refused = run(tmp_path, *args, env=PIN_ENV)
    assert refused.exit_code == 2 and "--provider-nit" in refused.output
    ok = run(tmp_path, *args, "--provider-nit", "900373076-4", env=PIN_ENV)
    assert ok.exit_code == 0, ok.output
    company = Store(tmp_path).require_company("860001022")
    assert company.software is not None and company.software.provider_nit == "900373076"


def test_edit_changes_only_what_is_given_and_appends_notes(tmp_path: Path) -> None:
    assert add_cafe(tmp_path).exit_code == 0
    first = run(tmp_path, "company", "edit", "--add-note", "Llamar el lunes")
    assert first.exit_code == 0, first.output
    second = run(tmp_path, "company", "edit", "--add-note", "Pidió factura", "--env", "produccion")
    assert second.exit_code == 0, second.output
    company = Store(tmp_path).require_company()
    assert company.notes == "Llamar el lunes\nPidió factura"
    assert company.environment == "produccion"
    assert company.software is not None and company.software.pin == "75315"  # kept
    assert company.test_set_id == "ea09391-85cb"
    bad = run(tmp_path, "company", "edit", "--email", "no-es-correo")
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert Store(tmp_path).require_company().reception_email == "recepcion@cafe.co"


def test_use_switches_the_current_company(tmp_path: Path) -> None:
    assert add_cafe(tmp_path).exit_code == 0
    assert run(tmp_path, "company", "add", "860001022-7", "--name", "Otra").exit_code == 0
    assert Store(tmp_path).current_company_nit() == "900373076"
    used = run(tmp_path, "company", "use", "860001022", "--json")
    assert used.exit_code == 0 and json.loads(used.output)["current"] == "860001022"
    listing = json.loads(run(tmp_path, "company", "list", "--json").output)
    assert [c["nit"] for c in listing["companies"] if c["current"]] == ["860001022"]
    assert len(listing["companies"]) == 2
    unknown = run(tmp_path, "company", "use", "12345")
    assert unknown.exit_code == 2 and "12345" in unknown.output


ISSUER_ARGS = (
    "--address",
    "Carrera 7 # 71-21",
    "--municipality",
    "05001",
    "--responsibilities",
    "o-13, O-15,R-99-PN",
    "--org-type",
    "juridica",
    "--phone",
    "+57 604 1234567",
)


def test_add_with_issuer_data_derives_the_department_and_shows_it(tmp_path: Path) -> None:
    added = run(
        tmp_path,
        "company",
        "add",
        "900373076-4",
        "--name",
        "Tostadora Andina",
        "--email",
        "recepcion@cafe.co",
        *ISSUER_ARGS,
    )
    assert added.exit_code == 0, added.output
    issuer = Store(tmp_path).require_company().issuer
    assert issuer is not None
    assert issuer.registration_name == "Tostadora Andina" and issuer.nit == "900373076"
    assert issuer.address.department_code == "05" and issuer.address.country_code == "CO"
    assert issuer.tax_responsibilities == ["O-13", "O-15", "R-99-PN"]
    assert issuer.organization_type == "1" and issuer.email == "recepcion@cafe.co"
    shown = run(tmp_path, "company", "show")
    assert "Medellín (05001), Antioquia (05), CO" in shown.output
    assert "O-13, O-15, R-99-PN" in shown.output
    view = json.loads(run(tmp_path, "company", "show", "--json").output)["company"]
    assert view["issuer"]["address"]["department_code"] == "05"
    assert view["issuer"]["responsibilities"] == ["O-13", "O-15", "R-99-PN"]


def test_bad_municipality_or_responsibility_is_refused_in_spanish(tmp_path: Path) -> None:
    base = ["company", "add", "900373076-4", "--name", "X", "--email", "a@b.co"]
    bad_town = run(tmp_path, *base, *ISSUER_ARGS[:2], "--municipality", "99999", *ISSUER_ARGS[4:])
    assert bad_town.exit_code == 2 and "Traceback" not in bad_town.output
    assert "municipio 99999 no existe" in bad_town.stderr
    assert len(bad_town.stderr.strip().splitlines()) == 1
    bad_code = run(
        tmp_path, *base, *ISSUER_ARGS[:4], "--responsibilities", "O-13,O-99", "--org-type", "1"
    )
    assert bad_code.exit_code == 2 and "'O-99' no válida" in bad_code.stderr
    incomplete = run(tmp_path, *base, "--address", "Calle 1")
    assert incomplete.exit_code == 2 and "--municipality" in incomplete.stderr
    assert Store(tmp_path).companies() == []


def test_edit_issuer_keeps_what_is_not_given(tmp_path: Path) -> None:
    assert add_cafe(tmp_path).exit_code == 0
    partial = run(tmp_path, "company", "edit", "--municipality", "11001")
    assert partial.exit_code == 2 and "--address" in partial.stderr  # no issuer data yet
    full = run(tmp_path, "company", "edit", *ISSUER_ARGS)
    assert full.exit_code == 0, full.output
    moved = run(
        tmp_path, "company", "edit", "--municipality", "11001", "--name", "Tostadora S.A.S."
    )
    assert moved.exit_code == 0, moved.output
    issuer = Store(tmp_path).require_company().issuer
    assert issuer is not None and issuer.address.department_code == "11"
    assert issuer.address.line == "Carrera 7 # 71-21" and issuer.phone == "+57 604 1234567"
    assert issuer.registration_name == "Tostadora S.A.S."
    bad = run(tmp_path, "company", "edit", "--responsibilities", "X-1")
    assert bad.exit_code == 2 and "'X-1' no válida" in bad.stderr
    after = Store(tmp_path).require_company().issuer
    assert after is not None and after.tax_responsibilities == ["O-13", "O-15", "R-99-PN"]
