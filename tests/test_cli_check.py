# ruff: noqa: E501
"""`fe-tui check` and `fe-tui dian explain`: output, JSON and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from fe_tui import ns
from fe_tui.cli import main
from fe_tui.crypto.certificates import LoadedCertificate
from fe_tui.dian import messages, soap
from fe_tui.services import documents
from tests.conftest import example_request

ANSWERS = Path(__file__).parent / "data" / "answers"


@pytest.fixture(scope="module")
def signed_file(tmp_path_factory: pytest.TempPathFactory, signing_cert: LoadedCertificate) -> Path:
    built = documents.build(example_request("factura"), validate=False).document
    path = tmp_path_factory.mktemp("check") / "factura.xml"
    path.write_bytes(documents.sign_tree(built.root, signing_cert))
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_check_accepts_a_document_built_by_fe_tui(signed_file: Path) -> None:
    code, out = run("check", str(signed_file))
    assert code == 0, out
    assert "Sin rechazos" in out and "No verificables aquí" in out and "FAJ21" in out


def test_check_reports_each_failed_rule_as_dian_writes_it(
    signed_file: Path, tmp_path: Path
) -> None:
    root = etree.fromstring(signed_file.read_bytes())
    total = root.find("cac:LegalMonetaryTotal/cbc:LineExtensionAmount", ns.XPATH)
    assert total is not None
    total.text = "1.00"
    bad = tmp_path / "mala.xml"
    bad.write_bytes(etree.tostring(root))
    code, out = run("check", str(bad))
    assert code == 1
    assert "Regla: FAU02, Rechazo: El valor bruto del documento" in out
    assert "En el documento: LineExtensionAmount 1.00" in out and "Cómo corregir:" in out
    code, out = run("check", str(bad), "--json")
    data = json.loads(out)
    assert code == 1 and data["ok"] is False
    fau02 = next(r for r in data["rechazos"] if r["code"] == "FAU02")
    assert fau02["dian_message"].startswith("Regla: FAU02, Rechazo:")
    assert fau02["value"] == "1.00" and fau02["xpath"].endswith("LineExtensionAmount")


def test_check_with_the_key(signed_file: Path) -> None:
    from fe_tui.domain.colombia import HABILITACION_TEST_KEY

    code, out = run("check", str(signed_file), "--key", HABILITACION_TEST_KEY, "--json")
    assert code == 0 and "FAD06" in json.loads(out)["passed"]
    code, out = run("check", str(signed_file), "--key", "otra")
    assert code == 1 and "Regla: FAD06" in out
    code, out = run("check", str(signed_file), "--key", "  ")
    assert code == 2 and "vacía" in out


def test_check_unreadable_input_is_exit_2(tmp_path: Path) -> None:
    junk = tmp_path / "x.xml"
    junk.write_bytes(b"no es XML")
    assert run("check", str(junk))[0] == 2
    assert run("check", str(tmp_path / "no-existe.xml"))[0] == 2


@pytest.mark.parametrize(
    ("name", "code", "words"),
    [
        (
            "getstatuszip_rejected_21_rules_cut_attachment.xml",
            1,
            "ApplicationResponse adjunto ilegible",
        ),
        (
            "getstatuszip_accepted_placeholder_attachment.xml",
            0,
            "ApplicationResponse adjunto ilegible",
        ),
        ("sendbillsync_accepted_with_notification.xml", 0, "ApplicationResponse adjunto leído"),
    ],
)
def test_explain_saved_answers(name: str, code: int, words: str) -> None:
    exit_code, out = run("dian", "explain", str(ANSWERS / name))
    assert exit_code == code, out
    assert words in out


def test_explain_keeps_all_21_rules_and_explains_them() -> None:
    code, out = run(
        "dian",
        "explain",
        str(ANSWERS / "getstatuszip_rejected_21_rules_cut_attachment.xml"),
        "--json",
    )
    data = json.loads(out)
    assert code == 1 and data["verdict"] == "rejected"
    assert len(data["rules"]) == 21 and all(r["explanation"] for r in data["rules"])
    assert all(r["known"] for r in data["rules"])


def _envelope(op: str, body: str) -> bytes:
    return soap.envelope(body, action=soap.ACTION_BASE + op + "Response")


def test_explain_no_verdict_and_bare_application_response(tmp_path: Path) -> None:
    in_process = tmp_path / "lote.xml"
    in_process.write_bytes(
        _envelope(
            "GetStatusZip",
            messages.render_status_zip(
                [
                    messages.DianResponse(
                        is_valid=False,
                        status_code="",
                        status_description="Batch en proceso de validación.",
                    )
                ]
            ),
        )
    )
    assert run("dian", "explain", str(in_process))[0] == 3
    from fe_tui.simulator import appresponse

    for accepted, code in ((True, 0), (False, 1)):
        tree = appresponse.build(
            appresponse.Verdict(
                "SETP990000001",
                "ab" * 48,
                "CUFE-SHA384",
                "01",
                "900373076",
                "4",
                "X",
                accepted,
                rules=[
                    messages.RuleMessage.parse(
                        "Regla: FAD06, Rechazo: Valor del CUFE no está calculado correctamente."
                    )
                ]
                if not accepted
                else [],
            ),
            ar_number=1,
            environment="2",
        )
        path = tmp_path / f"ar-{accepted}.xml"
        path.write_bytes(etree.tostring(tree))
        exit_code, out = run("dian", "explain", str(path))
        assert exit_code == code, out
        assert "ApplicationResponse" in out
        if not accepted:
            assert "FAD06" in out and "Qué revisa" in out


def test_explain_unreadable_is_exit_2(tmp_path: Path, signed_file: Path) -> None:
    junk = tmp_path / "r.xml"
    junk.write_bytes(b"\x00 nada")
    assert run("dian", "explain", str(junk))[0] == 2
    code, out = run("dian", "explain", str(signed_file))
    assert code == 2 and "no un sobre SOAP" in out


def test_send_printer_explains_each_rule_as_dian_explain_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A code explainable through the catalogue (its invoice twin, its family) was printed
    "sin ficha" by `dian send`'s printer while `dian explain` explained it (issue 13)."""
    from fe_tui.cli import _print_outcome
    from fe_tui.dian.outcomes import classify

    errors = [
        messages.RuleMessage.parse(f"Regla: {code}, Rechazo: {text}")
        for code, text in [
            ("CAJ24", "El DV del NIT del emisor no es correcto."),  # the twin of FAJ24
            ("FAZ99", "Algo del artículo de la línea."),  # only its family is known
            ("FAD06", "Valor del CUFE no está calculado correctamente."),  # an entry
            ("QQ7", "Texto de una regla que nadie conoce."),  # nothing at all
        ]
    ]
    response = messages.DianResponse(
        is_valid=False,
        status_code="99",
        status_description="Validación contiene errores en campos mandatorios.",
        errors=errors,
        xml_document_key="ab" * 48,
    )
    envelope = _envelope("SendBillSync", messages.render_dian_response("SendBillSync", response))
    saved = tmp_path / "respuesta.xml"
    saved.write_bytes(envelope)
    code, explained = run("dian", "explain", str(saved))
    assert code == 1, explained

    _print_outcome(classify("SendBillSync", messages.parse_dian_response(envelope, "SendBillSync")))
    printed = capsys.readouterr().out

    def blocks(text: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        current = None
        for line in text.splitlines():
            if line.startswith("  [") and "]" in line:
                current = line.split("]", 1)[1].split(":", 1)[0].strip()
                out[current] = []
            elif line.startswith("      ") and current is not None:
                out[current].append(line.strip())
        return out

    sent, saved_blocks = blocks(printed), blocks(explained)
    assert sent == saved_blocks
    assert any("Variante de FAJ24" in line for line in sent["CAJ24"]), sent["CAJ24"]
    assert any("Regla aún no catalogada" in line for line in sent["FAZ99"]), sent["FAZ99"]
    for code in ("CAJ24", "FAZ99", "FAD06"):
        assert not any("sin ficha" in line for line in sent[code]), (code, sent[code])
    assert any("sin ficha" in line for line in sent["QQ7"]), sent["QQ7"]
