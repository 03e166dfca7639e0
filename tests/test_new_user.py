"""What a new user hit in the CLI (issue 14): each defect, reproduced and fixed.

Items 5–7 (journal, zip counter, permissions, resend hint) and 11 live with the store tests.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from fe_tui import exit_codes, ns
from fe_tui.cli import main
from fe_tui.domain.models import COLOMBIA_TZ
from fe_tui.errors import InputError
from fe_tui.services import documents
from tests import certs
from tests.conftest import EXAMPLES
from tests.test_cli import PASSWORD_ENV, today_json

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


# -- item 3: libxml2's and httpx's English stay out; a zip is recognised --------------------------
LIBXML2_ENGLISH = (
    "Start tag",
    "Document is empty",
    "XML_PARSE_HUGE",
    "Excessive",
    "Premature",
    "Resource",
)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "vacío"),
        (b"hola", "no empieza con una etiqueta XML"),
        (b"<Invoice>" * 300, "256 niveles"),
        (b"<Invoice><a></Invoice>", "cierra </Invoice> donde se esperaba </a>"),
        (b"%PDF-1.7\n...", "es un PDF"),
        (b"<Invoice>" + b"x" * 10_500_000 + b"</Invoice>", "más de 10 MB"),
    ],
    ids=["empty", "text", "deep", "mismatch", "pdf", "huge-text"],
)
def test_unreadable_xml_is_one_spanish_line(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "doc.xml"
    path.write_bytes(content)
    for command in (["verify", str(path)], ["cufe", str(path), "--key", "x" * 40]):
        result = run(*command)
        assert result.exit_code == exit_codes.USAGE
        assert len(result.output.strip().splitlines()) == 1, result.output
        assert expected in result.output
        assert not any(text in result.output for text in LIBXML2_ENGLISH), result.output


def test_a_zip_where_xml_is_expected_is_named(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "z.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("fv.xml", "<Invoice/>")
    result = run("verify", str(path))
    assert result.exit_code == exit_codes.USAGE
    assert "es un archivo zip" in result.output and "Descomprímalo" in result.output


def test_connection_refused_reads_in_spanish(p12_file: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/WcfDianCustomerServices.svc"
    result = run(
        "dian",
        "status",
        "a" * 96,
        "--env",
        "simulator",
        "--url",
        url,
        "--cert",
        str(p12_file),
        env=PASSWORD_ENV,
    )
    assert result.exit_code == exit_codes.NO_VERDICT, result.output
    assert "No se pudo conectar" in result.output
    assert "ConnectError" not in result.output and "attempts" not in result.output


# -- item 4: deeply nested JSON is an input error ------------------------------------------------
@pytest.mark.parametrize("opening", ["[", '{"a":'], ids=["lists", "objects"])
def test_deeply_nested_json_is_an_input_error(tmp_path: Path, opening: str) -> None:
    path = tmp_path / "hondo.json"
    path.write_text(opening * 200_000, encoding="utf-8")
    result = run("build", str(path), "-o", str(tmp_path / "x.xml"))
    assert result.exit_code == exit_codes.USAGE, result.output
    assert "anida demasiados niveles" in result.output
    assert "inesperado" not in result.output and "Recursion" not in result.output


def test_nested_json_inside_a_valid_request_is_an_input_error(tmp_path: Path) -> None:
    data = json.loads(today_json(tmp_path).read_text(encoding="utf-8"))
    text = json.dumps(data)
    deep = text[:-1] + ', "extra": ' + "[" * 5000 + "]" * 5000 + "}"
    path = tmp_path / "hondo.json"
    path.write_text(deep, encoding="utf-8")
    result = run("build", str(path), "-o", str(tmp_path / "x.xml"))
    assert result.exit_code == exit_codes.USAGE, result.output
    assert "inesperado" not in result.output


# -- item 15: build --now validates the re-dated document -----------------------------------------
def _frozen(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 9, 30, tzinfo=COLOMBIA_TZ)


def test_redating_runs_the_date_checks_again() -> None:
    request = documents.load_request(EXAMPLES / "factura.json")
    with pytest.raises(InputError) as caught:
        documents.issued_now(request, _frozen(2031, 3, 1))
    message = caught.value.message
    assert message.startswith("con la fecha de emisión 2031-03-01 (--now)")
    assert "fuera de la vigencia de la resolución 18760000001" in message


def test_redating_keeps_the_payment_term() -> None:
    request = documents.load_request(EXAMPLES / "factura.json")
    term = request.document.payment.due_date - request.document.issue_date  # type: ignore[operator]
    redated = documents.issued_now(request, _frozen(2029, 6, 1))
    assert redated.document.issue_date == date(2029, 6, 1)
    assert redated.document.payment.due_date == date(2029, 6, 1) + term
    assert redated.document.effective_due_date == date(2029, 6, 1) + term
    built = documents.build(redated)
    assert built.document.root.findtext(f"{{{ns.CBC}}}DueDate") == str(date(2029, 6, 1) + term)


def test_build_now_refuses_a_date_outside_the_resolution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = documents.issued_now
    monkeypatch.setattr(documents, "issued_now", lambda r: real(r, _frozen(2031, 3, 1)))
    out = tmp_path / "f.xml"
    result = run("build", str(EXAMPLES / "factura.json"), "--now", "-o", str(out))
    assert result.exit_code == exit_codes.USAGE
    assert "vigencia de la resolución" in result.output and not out.exists()


# -- item 1: the date guard says how to get past it ---------------------------------------------
def test_sign_date_guard_names_build_now_and_allow_other_date(
    tmp_path: Path, p12_file: Path
) -> None:
    unsigned = tmp_path / "factura.xml"
    assert run("build", str(EXAMPLES / "factura.json"), "-o", str(unsigned)).exit_code == 0
    result = run(
        "sign",
        str(unsigned),
        "--cert",
        str(p12_file),
        "-o",
        str(tmp_path / "o.xml"),
        env=PASSWORD_ENV,
    )
    assert result.exit_code == exit_codes.USAGE
    line = result.output.strip()
    assert len(line.splitlines()) == 1
    assert "fe-tui build ARCHIVO.json --now -o factura.xml" in line
    assert "--allow-other-date" in line


# -- item 8: one size policy -----------------------------------------------------------------------
def test_build_refuses_a_document_that_sign_would_refuse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fe_tui import xmlsafe

    size = len(documents.build(documents.load_request(EXAMPLES / "factura.json")).xml)
    monkeypatch.setattr(xmlsafe, "MAX_UNSIGNED_BYTES", size - 1)
    out = tmp_path / "f.xml"
    result = run("build", str(EXAMPLES / "factura.json"), "-o", str(out))
    assert result.exit_code == exit_codes.USAGE
    assert "el límite de un documento" in result.output and "No se escribió nada" in result.output
    assert not out.exists()


def test_size_limits_agree() -> None:
    from fe_tui import xmlsafe

    # Anything build may write, signed, is still readable by sign/verify/dian send.
    assert xmlsafe.MAX_UNSIGNED_BYTES + xmlsafe.SIGNATURE_ALLOWANCE == xmlsafe.MAX_XML_BYTES
    assert xmlsafe.SIGNATURE_ALLOWANCE >= 32 * 1024


def test_sign_refuses_what_signed_would_exceed_the_limit(p12_file: Path, tmp_path: Path) -> None:
    from fe_tui import xmlsafe

    unsigned = tmp_path / "f.xml"
    assert run("build", str(today_json(tmp_path)), "-o", str(unsigned)).exit_code == 0
    data = unsigned.read_bytes()
    comment = b"<!--" + b"x" * 10_000 + b"-->"
    count = (xmlsafe.MAX_UNSIGNED_BYTES - len(data)) // len(comment) + 1
    padded = data.replace(b"</Invoice>", comment * count + b"</Invoice>")
    assert xmlsafe.MAX_UNSIGNED_BYTES < len(padded) < xmlsafe.MAX_XML_BYTES
    unsigned.write_bytes(padded)
    out = tmp_path / "o.xml"
    result = run("sign", str(unsigned), "--cert", str(p12_file), "-o", str(out), env=PASSWORD_ENV)
    assert result.exit_code == exit_codes.USAGE, result.output
    assert "el límite de un documento" in result.output and not out.exists()


# -- item 9: days left in Colombian calendar days; dates in Colombian time -------------------------
def test_expired_yesterday_is_minus_one_day(tmp_path: Path) -> None:
    from datetime import UTC, timedelta

    now = datetime.now(UTC)
    leaf = certs.make_leaf(
        not_before=now - timedelta(days=400), not_after=now - timedelta(hours=25)
    )
    path = tmp_path / "ayer.p12"
    path.write_bytes(certs.make_p12(leaf.key, leaf.cert))
    info = json.loads(run("cert", "info", str(path), "--json", env=PASSWORD_ENV).output)
    assert info["certificate"]["days_left"] in (-1, -2)  # 25 h ago: yesterday, or the day before
    expected = (
        (now - timedelta(hours=25)).astimezone(COLOMBIA_TZ).date()
        - now.astimezone(COLOMBIA_TZ).date()
    ).days
    assert info["certificate"]["days_left"] == expected


def test_days_left_counts_colombian_calendar_days() -> None:
    from datetime import UTC

    from fe_tui.crypto.certificates import certificate_info

    # 2026-03-10 10:00 in Colombia; the certificate ended 2026-03-09 09:00 in Colombia (25 h).
    now = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
    leaf = certs.make_leaf(
        not_before=datetime(2025, 3, 1, tzinfo=UTC),
        not_after=datetime(2026, 3, 9, 14, 0, tzinfo=UTC),
    )
    assert certificate_info(leaf.cert, now=now).days_left == -1
    # Ends tonight at 23:00 in Colombia (04:00 UTC tomorrow): today, 0 days left.
    leaf = certs.make_leaf(
        not_before=datetime(2025, 3, 1, tzinfo=UTC),
        not_after=datetime(2026, 3, 11, 4, 0, tzinfo=UTC),
    )
    info = certificate_info(leaf.cert, now=now)
    assert info.days_left == 0 and any("vence hoy" in w for w in info.warnings)


def test_cert_info_prints_validity_in_colombian_time(p12_file: Path) -> None:
    result = run("cert", "info", str(p12_file), env=PASSWORD_ENV)
    assert result.exit_code == 0
    rows = [line for line in result.output.splitlines() if line.startswith("Válido")]
    assert len(rows) == 2 and all(row.endswith("(hora Colombia)") for row in rows), rows
    assert "UTC" not in "\n".join(rows)


# -- item 10: input checked before use ------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("zzz", "no es un CUFE/CUDE"),
        ("a" * 95, "tiene 95"),
        ("g" * 96, "no son hexadecimales"),
        ("4d1c5f0e-1b2a-4c3d-8e9f-0a1b2c3d4e5", "no es un CUFE/CUDE"),
        ("   ", "Falta el CUFE/CUDE"),
    ],
    ids=["short", "95-hex", "not-hex", "almost-guid", "blank"],
)
def test_dian_status_refuses_a_malformed_key_without_sending(
    key: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fe_tui.dian import client

    def no_call(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("nothing may be sent")

    monkeypatch.setattr(client.DianClient, "_call", no_call)
    # No certificate and no password: the key is checked first.
    result = run("dian", "status", key, "--cert", "no-existe.p12", env=NO_PASSWORD)
    assert result.exit_code == exit_codes.USAGE, result.output
    assert expected in result.output
    if key.strip():
        assert "No se consultó a la DIAN" in result.output


async def test_client_refuses_malformed_keys() -> None:
    from fe_tui.dian.client import check_document_key, check_zip_key, is_zip_key

    assert check_document_key("A" * 96) == "a" * 96
    assert is_zip_key("4d1c5f0e-1b2a-4c3d-8e9f-0a1b2c3d4e5f")
    assert check_zip_key(" 4d1c5f0e-1b2a-4c3d-8e9f-0a1b2c3d4e5f ") == (
        "4d1c5f0e-1b2a-4c3d-8e9f-0a1b2c3d4e5f"
    )
    with pytest.raises(InputError, match="no es un ZipKey"):
        check_zip_key("zip-key")
    with pytest.raises(InputError, match="no es un CUFE/CUDE"):
        check_document_key("zzz")


@pytest.mark.parametrize("key", ["", "   "], ids=["empty", "blank"])
def test_cufe_refuses_an_empty_key(key: str) -> None:
    result = run("cufe", "cualquiera.xml", "--key", key)
    assert result.exit_code == exit_codes.USAGE
    assert "Falta la clave técnica" in result.output


# -- item 16: amounts whose product or sum overflows are input errors ---------------------------
def _with_lines(tmp_path: Path, lines: list[dict[str, str]]) -> Path:
    data = json.loads((EXAMPLES / "factura.json").read_text(encoding="utf-8"))
    first = data["document"]["lines"][0]
    data["document"]["lines"] = [{**first, **line} for line in lines]
    path = tmp_path / "grande.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_quantity_times_price_beyond_15_digits_is_an_input_error(tmp_path: Path) -> None:
    """Each passes the 15-digit cap; their product made `build` exit 70 (InvalidOperation)."""
    source = _with_lines(
        tmp_path, [{"quantity": "99999999999999.999999", "unit_price": "99999999999999.99"}]
    )
    result = run("build", str(source), "-o", str(tmp_path / "f.xml"))
    assert result.exit_code == exit_codes.USAGE, result.output
    assert "lines[0].unit_price" in result.output and "15 dígitos" in result.output
    assert "Error inesperado" not in result.output and not (tmp_path / "f.xml").exists()


def test_a_document_total_beyond_15_digits_is_an_input_error(tmp_path: Path) -> None:
    line = {"quantity": "1", "unit_price": "999999999999999.00"}
    source = _with_lines(tmp_path, [line, line])
    result = run("build", str(source), "-o", str(tmp_path / "f.xml"))
    assert result.exit_code == exit_codes.USAGE, result.output
    assert "total del documento" in result.output and "15 dígitos" in result.output


@pytest.mark.parametrize(
    ("amount", "says"),
    [
        ("NaN", "no es un número decimal"),
        ("sNaN", "no es un número decimal"),
        ("Infinity", "no es un número decimal"),
        ("1E+999999", "no es un número decimal"),
        ("1" + "0" * 40, "demasiados dígitos"),
    ],
)
def test_cufe_refuses_amounts_that_are_not_decimals(
    signing_cert: object, tmp_path: Path, amount: str, says: str
) -> None:
    """The reader took NaN into the CUFE text and Infinity/sNaN/huge values crashed it (70)."""
    import re

    from tests.conftest import example_request

    built = documents.build(example_request("factura")).document
    signed = documents.sign_tree(built.root, signing_cert)  # type: ignore[arg-type]
    damaged = re.sub(
        rb'(<cbc:PayableAmount currencyID="COP">)[^<]*', rb"\g<1>" + amount.encode(), signed
    )
    path = tmp_path / "f.xml"
    path.write_bytes(damaged)
    result = run("cufe", str(path), "--key", "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c")
    assert result.exit_code == exit_codes.USAGE, result.output
    assert says in result.output and "PayableAmount" in result.output
    assert "inesperado" not in result.output


# -- item 12: warnings a new user expected -------------------------------------------------------
def _p12(tmp_path: Path, leaf: certs.Issued) -> Path:
    path = tmp_path / "empresa.p12"
    path.write_bytes(certs.make_p12(leaf.key, leaf.cert, certs.default_chain()))
    return path


def test_sign_warns_about_a_certificate_expiring_in_4_days(tmp_path: Path) -> None:
    leaf = certs.make_leaf(not_after=certs.colombian_noon_in(4))
    p12 = _p12(tmp_path, leaf)
    src = today_json(tmp_path)
    assert run("build", str(src), "-o", str(tmp_path / "f.xml")).exit_code == 0
    result = run(
        "sign", str(tmp_path / "f.xml"), "--cert", str(p12), "-o", str(tmp_path / "g.xml"),
        env=PASSWORD_ENV,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Advertencia: El certificado vence en 4 días" in result.output, result.output
    as_json = run(
        "sign", str(tmp_path / "f.xml"), "--cert", str(p12), "-o", str(tmp_path / "h.xml"),
        "--json", env=PASSWORD_ENV,
    )  # fmt: skip
    assert any("vence en 4 días" in w for w in json.loads(as_json.output)["warnings"])


def test_re_signing_a_signed_document_says_so(p12_file: Path, tmp_path: Path) -> None:
    src = today_json(tmp_path)
    assert run("build", str(src), "-o", str(tmp_path / "f.xml")).exit_code == 0
    sign = ("--cert", str(p12_file))
    g, h = str(tmp_path / "g.xml"), str(tmp_path / "h.xml")
    first = run("sign", str(tmp_path / "f.xml"), *sign, "-o", g, env=PASSWORD_ENV)
    assert first.exit_code == 0 and "ya estaba firmado" not in first.output
    again = run("sign", g, *sign, "-o", h, env=PASSWORD_ENV)
    assert again.exit_code == 0, again.output
    assert "Advertencia: El documento ya estaba firmado" in again.output


def test_verify_names_an_encoding_other_than_utf8(signing_cert: object, tmp_path: Path) -> None:
    from tests.conftest import example_request

    built = documents.build(example_request("factura")).document
    signed = documents.sign_tree(built.root, signing_cert)  # type: ignore[arg-type]
    text = signed.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"', 1)
    path = tmp_path / "utf16.xml"
    path.write_bytes(text.encode("utf-16"))
    result = run("verify", str(path))
    assert result.exit_code == 0, result.output  # the characters are what was signed
    assert "El archivo está en UTF-16; la DIAN espera UTF-8" in result.output
    utf8 = tmp_path / "utf8.xml"
    utf8.write_bytes(signed)
    assert "la DIAN espera UTF-8" not in run("verify", str(utf8)).output


def test_an_environment_at_another_url_is_labelled_by_what_it_is() -> None:
    """`--env produccion --url https://otro…` was labelled "DIAN producción"."""
    from fe_tui.dian import environments

    assert environments.resolve("produccion").label == "DIAN producción"
    assert environments.resolve("habilitacion").label == "DIAN habilitación (pruebas)"
    other = environments.resolve("produccion", "https://proxy.example.com/WcfDianCustomerServices.svc")
    assert "DIAN producción" not in other.label
    assert "proxy.example.com" in other.label and "no es la URL de la DIAN" in other.label
    assert other.is_production and other.profile_execution_id == 1  # the guards still apply
    hab = environments.resolve("habilitacion", "https://proxy.example.com/x")
    assert "habilitación" in hab.label and "no es la URL de la DIAN" in hab.label


def _leaf_commands(group: object, path: tuple[str, ...] = ()) -> list[tuple[str, object]]:
    import click

    assert isinstance(group, click.Group)
    out: list[tuple[str, object]] = []
    for name, command in group.commands.items():
        if command.hidden:
            continue
        if isinstance(command, click.Group):
            out += _leaf_commands(command, (*path, name))
        else:
            out.append((" ".join((*path, name)), command))
    return out


def test_every_command_accepts_json_as_the_readme_says() -> None:
    """README: "Todos los comandos aceptan --json"; `simulator` had none."""
    import click

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert "Todos los comandos aceptan `--json`" in readme
    missing = [
        name
        for name, command in _leaf_commands(main)
        if isinstance(command, click.Command)
        and not any("--json" in p.opts for p in command.params)
    ]
    assert missing == [], missing


def test_simulator_json_is_one_json_line_with_its_url(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)
    result = run("simulator", "--port", "18089", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["url"] == "http://127.0.0.1:18089/WcfDianCustomerServices.svc"
    assert data["test_double"] is True and data["issuers"]
