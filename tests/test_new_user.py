"""What a new user hit in the CLI (issue 14): each defect, reproduced and fixed.

Items 5–7 (journal, zip counter, permissions, resend hint) and 11 live with the store tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from fe_tui import exit_codes
from fe_tui.cli import main
from tests import certs
from tests.test_cli import today_json

NO_PASSWORD: dict[str, str | None] = {"FE_TUI_CERT_PASSWORD": None}


def run(*args: str, env: dict[str, str | None] | None = None, stdin: str = "") -> Result:
    return CliRunner().invoke(main, list(args), env=env, input=stdin, catch_exceptions=False)


# -- item 2: a missing password is not a wrong one ----------------------------------------------
@pytest.mark.parametrize(
    "extra", [[], ["--password-env", "NO_SUCH_VAR"]], ids=["default-var", "named-var"]
)
def test_missing_password_says_how_to_give_one(p12_file: Path, extra: list[str]) -> None:
    result = run("cert", "info", str(p12_file), *extra, env=NO_PASSWORD)
    assert result.exit_code == exit_codes.USAGE
    line = result.output.strip()
    assert len(line.splitlines()) == 1
    assert "incorrecta" not in line
    assert "no se dio ninguna" in line
    var = extra[-1] if extra else "FE_TUI_CERT_PASSWORD"
    assert f"export {var}=" in line and "--password-env" in line


def test_missing_password_when_signing(p12_file: Path, tmp_path: Path) -> None:
    unsigned = tmp_path / "f.xml"
    assert run("build", str(today_json(tmp_path)), "-o", str(unsigned)).exit_code == 0
    result = run(
        "sign",
        str(unsigned),
        "--cert",
        str(p12_file),
        "-o",
        str(tmp_path / "o.xml"),
        env=NO_PASSWORD,
    )
    assert result.exit_code == exit_codes.USAGE
    assert "no se dio ninguna" in result.output and "incorrecta" not in result.output


def test_wrong_password_is_still_wrong(p12_file: Path) -> None:
    result = run("cert", "info", str(p12_file), env={"FE_TUI_CERT_PASSWORD": "mala"})
    assert result.exit_code == exit_codes.USAGE
    assert "Contraseña incorrecta" in result.output


def test_password_less_pkcs12_needs_no_password(tmp_path: Path) -> None:
    leaf = certs.default_leaf()
    path = tmp_path / "sin-clave.p12"
    path.write_bytes(certs.make_p12(leaf.key, leaf.cert, (), None))
    result = run("cert", "info", str(path), env=NO_PASSWORD)
    assert result.exit_code == 0, result.output
