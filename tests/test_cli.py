"""The command line as a support agent uses it: exit codes, Spanish errors, no tracebacks."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from fe_tui.cli import main
from tests import certs
from tests.conftest import EXAMPLES

PASSWORD_ENV = {"FE_TUI_CERT_PASSWORD": certs.DEFAULT_PASSWORD}


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def today_json(tmp_path: Path, name: str = "factura") -> Path:
    """An example JSON re-dated to today (signing refuses other dates).

    Re-dated as ``build --now`` does: the due dates keep their term from the issue date,
    so the example stays valid whatever today is.
    """
    from fe_tui.services import documents

    request = documents.issued_now(documents.load_request(EXAMPLES / f"{name}.json"))
    data = request.model_dump(mode="json")
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture()
def signed_invoice(tmp_path: Path, p12_file: Path) -> Path:
    src = today_json(tmp_path)
    unsigned = tmp_path / "factura.xml"
    assert run("build", str(src), "-o", str(unsigned)).exit_code == 0
    signed = tmp_path / "factura-firmada.xml"
    result = run(
        "sign", str(unsigned), "--cert", str(p12_file), "-o", str(signed), env=PASSWORD_ENV
    )
    assert result.exit_code == 0, result.output
    return signed


def test_build_sign_verify_cufe_round_trip(
    tmp_path: Path, p12_file: Path, signed_invoice: Path
) -> None:
    # Written for the owner only (secrets and documents are private).
    assert stat.S_IMODE(signed_invoice.stat().st_mode) == 0o600
    verified = run("verify", str(signed_invoice))
    assert verified.exit_code == 0, verified.output
    assert "VÁLIDA" in verified.output
    cufe = run("cufe", str(signed_invoice), "--key", "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c")
    assert cufe.exit_code == 0, cufe.output
    assert "Coincide" in cufe.output
    assert "fc8eac42" not in cufe.output  # the key is not echoed back


def test_build_json_output(tmp_path: Path) -> None:
    out = tmp_path / "nc.xml"
    result = run("build", str(EXAMPLES / "nota-credito.json"), "-o", str(out), "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["ok"] is True and data["document_type"] == "91"
    assert data["uuid_scheme"] == "CUDE-SHA384" and len(data["uuid"]) == 96


def test_cert_info_text_and_json(p12_file: Path) -> None:
    text = run("cert", "info", str(p12_file), env=PASSWORD_ENV)
    assert text.exit_code == 0, text.output
    assert certs.DEFAULT_NIT in text.output
    assert certs.DEFAULT_PASSWORD not in text.output
    as_json = run("cert", "info", str(p12_file), "--json", env=PASSWORD_ENV)
    info = json.loads(as_json.output)["certificate"]
    assert info["nit"] == certs.DEFAULT_NIT and info["key_matches"] is True


def test_cert_info_exit_1_for_an_expired_certificate(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    leaf = certs.make_leaf(not_before=now - timedelta(days=400), not_after=now - timedelta(days=3))
    path = tmp_path / "vencido.p12"
    path.write_bytes(certs.make_p12(leaf.key, leaf.cert))
    result = run("cert", "info", str(path), env=PASSWORD_ENV)
    assert result.exit_code == 1
    assert "vencido" in result.output and "no puede firmar" in result.output
    data = json.loads(run("cert", "info", str(path), "--json", env=PASSWORD_ENV).output)
    assert data["ok"] is False and data["certificate"]["status"] == "vencido"


def test_wrong_password_is_exit_2_without_leaking_it(p12_file: Path, tmp_path: Path) -> None:
    result = run("cert", "info", str(p12_file), env={"FE_TUI_CERT_PASSWORD": "no-es-esta"})
    assert result.exit_code == 2
    assert "contraseña" in result.output.lower()
    assert "no-es-esta" not in result.output
    unsigned = tmp_path / "f.xml"
    run("build", str(today_json(tmp_path)), "-o", str(unsigned))
    out = tmp_path / "out.xml"
    result = run(
        "sign",
        str(unsigned),
        "--cert",
        str(p12_file),
        "-o",
        str(out),
        env={"FE_TUI_CERT_PASSWORD": "no-es-esta"},
    )
    assert result.exit_code == 2
    assert not out.exists(), "nothing is written when signing fails"


def test_tampered_document_exit_1_with_reason(signed_invoice: Path, tmp_path: Path) -> None:
    data = signed_invoice.read_bytes().replace(b">1018060.00<", b">1018061.00<", 1)
    tampered = tmp_path / "editada.xml"
    tampered.write_bytes(data)
    result = run("verify", str(tampered))
    assert result.exit_code == 1
    assert "NO VÁLIDA" in result.output
    assert "modific" in result.output
    as_json = run("verify", str(tampered), "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.output)["ok"] is False


def test_cufe_wrong_key_names_component(signed_invoice: Path) -> None:
    result = run("cufe", str(signed_invoice), "--key", "0" * 40, "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False and data["culprit"] == "ClTec/PIN"
    # The document was made with the public habilitación key: the diagnosis says so.
    assert "habilitación" in data["explanation"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"environment": 2, "issuer": ', "JSON"),
        (b"", "JSON"),
        (b"[1, 2]", "objeto"),
    ],
    ids=["truncated", "empty", "not-an-object"],
)
def test_build_malformed_json(tmp_path: Path, content: bytes, expected: str) -> None:
    src = tmp_path / "mala.json"
    src.write_bytes(content)
    out = tmp_path / "out.xml"
    result = run("build", str(src), "-o", str(out))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert expected.lower() in result.output.lower()
    assert not out.exists()


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["document"]["lines"][0].update(unit_code="XXX"), "unit_code"),
        (lambda d: d["document"]["lines"][0].update(unit_price="-5"), "unit_price"),
        (lambda d: d["issuer"].update(dv="0"), "dv"),
        (lambda d: d["document"].update(number=1), "FAD05d"),
        (lambda d: d["document"]["payment"].pop("due_date"), "IA04"),
        (lambda d: d["document"]["lines"][0].update(quantity="0"), "quantity"),
    ],
    ids=[
        "unknown-unit",
        "negative-price",
        "wrong-dv",
        "outside-range",
        "credit-no-due",
        "zero-quantity",
    ],
)
def test_build_invalid_content(tmp_path: Path, mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    data = json.loads((EXAMPLES / "factura.json").read_text(encoding="utf-8"))
    mutate(data)
    src = tmp_path / "f.json"
    src.write_text(json.dumps(data), encoding="utf-8")
    result = run("build", str(src), "-o", str(tmp_path / "out.xml"))
    assert result.exit_code == 2, result.output
    assert field in result.output
    assert "Traceback" not in result.output


def test_verify_refuses_non_dian_and_unsafe_and_huge(tmp_path: Path) -> None:
    plain = tmp_path / "plain.xml"
    plain.write_bytes(b"<html><body>hola</body></html>")
    r = run("verify", str(plain))
    assert r.exit_code == 2 and "DIAN" in r.output

    xxe = tmp_path / "xxe.xml"
    xxe.write_bytes(
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    )
    r = run("verify", str(xxe))
    assert r.exit_code == 2 and "DOCTYPE" in r.output
    assert "root:" not in r.output

    bomb = tmp_path / "bomb.xml"
    bomb.write_bytes(
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><l>&b;</l>'
    )
    assert run("verify", str(bomb)).exit_code == 2

    huge = tmp_path / "huge.xml"
    with huge.open("wb") as fh:
        fh.write(b"<Invoice>")
        fh.write(b"<a>x</a>" * (50 * 1024 * 1024 // 8))
        fh.write(b"</Invoice>")
    r = run("verify", str(huge))
    assert r.exit_code == 2 and "límite" in r.output

    r = run("verify", str(tmp_path / "no-existe.xml"))
    assert r.exit_code == 2 and "No existe" in r.output


def test_usage_error_is_exit_2() -> None:
    assert run("build").exit_code == 2
    assert run("no-such-command").exit_code == 2


def test_console_script_runs_as_a_process(tmp_path: Path) -> None:
    """The real entry point: no traceback on stderr for bad input, exit 2."""
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "fe_tui.cli", "build", str(bad), "-o", str(tmp_path / "x.xml")],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(EXAMPLES.parent)},
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error:")
    assert "Traceback" not in proc.stderr


def test_the_console_without_a_terminal_is_refused_in_spanish(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["--data-dir", str(tmp_path / "datos")], env={"TEXTUAL_DRIVER": ""}
    )
    assert result.exit_code == 2, result.output
    assert "La consola necesita una terminal" in result.output
    assert "Traceback" not in result.output


def test_textual_serve_opens_the_console_through_its_driver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`textual serve "fe-tui demo"` runs fe-tui with pipes and TEXTUAL_DRIVER set to its
    web driver: the console must open (it was refused as "no terminal")."""
    from fe_tui.tui import app

    opened: list[object] = []
    monkeypatch.setattr(app, "run_console", lambda **kw: opened.append(kw) or 0)
    result = CliRunner().invoke(
        main,
        ["--data-dir", str(tmp_path / "datos")],
        env={"TEXTUAL_DRIVER": "textual.drivers.web_driver:WebDriver"},
    )
    assert result.exit_code == 0, result.output
    assert len(opened) == 1
