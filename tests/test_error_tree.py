"""Foreign exceptions stay inside fe-tui's one error tree (issue 14, item 16).

A damaged KeyInfo certificate is a finding of ``verify`` and a rejection of the
simulator, not a ``ValueError``; a defect inside a simulator operation is a SOAP
fault, not a bare HTTP 500; the SOAP and storage errors are part of the
documented tree with the exit codes their meaning asks for.
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from cryptography import x509

import fe_tui
from fe_tui import errors, exit_codes
from fe_tui.cli import main
from fe_tui.crypto.certificates import LoadedCertificate
from fe_tui.crypto.verify import verify_document
from fe_tui.dian import messages, soap
from fe_tui.services import documents
from fe_tui.simulator import create_app, demo_config
from fe_tui.store import db
from tests.conftest import example_request
from tests.test_robustness import _post_to_fresh_simulator, _send_bill_sync_envelope

_X509 = re.compile(rb"<ds:X509Certificate>([^<]+)</ds:X509Certificate>")


def _damaged_keyinfo(doc: bytes) -> bytes:
    """``doc`` with one byte of its KeyInfo leaf certificate's issuer changed so that the
    certificate still loads but its issuer no longer parses (cryptography parses lazily)."""
    m = _X509.search(doc)
    assert m is not None
    der = base64.b64decode(m.group(1))
    issuer = x509.load_der_x509_certificate(der).issuer.public_bytes()
    start = der.find(issuer)
    for at in range(start, start + len(issuer)):
        bad = bytearray(der)
        bad[at] ^= 0x5A
        try:
            cert = x509.load_der_x509_certificate(bytes(bad))
        except ValueError:
            continue  # refused at load time: not the lazy case
        try:
            cert.issuer.rfc4514_string()
        except ValueError:
            return doc[: m.start(1)] + base64.b64encode(bytes(bad)) + doc[m.end(1) :]
    raise AssertionError("no byte of the issuer breaks it lazily")


@pytest.fixture(scope="module")
def signed(signing_cert: LoadedCertificate) -> bytes:
    return documents.sign_tree(
        documents.build(example_request("factura")).document.root, signing_cert
    )


def test_damaged_keyinfo_certificate_is_a_finding(signed: bytes) -> None:
    report = verify_document(_damaged_keyinfo(signed))  # raised ValueError before
    assert report.valid is False
    damaged = report.check("keyinfo_certificate")
    assert damaged is not None and damaged.ok is False
    assert "dañado" in damaged.message and "campo emisor" in damaged.message
    assert any("ya no se puede leer" in line for line in report.diagnosis), report.diagnosis
    # Only what can be proved: not "replaced", since nothing says another certificate was used.
    assert not any("reemplazó" in line for line in report.diagnosis), report.diagnosis


def test_verify_cli_reports_a_damaged_keyinfo_certificate(signed: bytes, tmp_path: Path) -> None:
    path = tmp_path / "dañada.xml"
    path.write_bytes(_damaged_keyinfo(signed))
    result = CliRunner().invoke(main, ["verify", str(path)], catch_exceptions=False)
    assert result.exit_code == exit_codes.CHECK_FAILED, result.output
    assert "Error inesperado" not in result.output
    assert "dañado" in result.output


def test_simulator_rejects_a_damaged_keyinfo_certificate(signed: bytes) -> None:
    response = _post_to_fresh_simulator(_send_bill_sync_envelope(_damaged_keyinfo(signed)))
    assert response.status_code == 200, response.text[:300]  # raised ValueError (HTTP 500) before
    answer = messages.parse_dian_response(response.content, "SendBillSync")
    assert answer.is_valid is False and answer.status_code == "99"
    assert "ZE02" in {e.code for e in answer.errors}


def test_a_defect_inside_a_simulator_operation_is_a_soap_fault(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dataclasses import dataclass

    from fe_tui.dian import environments
    from fe_tui.dian.client import DianClient
    from fe_tui.dian.outcomes import SoapFault
    from fe_tui.simulator.app import Simulator
    from tests import certs

    async def broken(self: object, *args: object) -> str:
        raise RuntimeError("defecto")

    monkeypatch.setattr(Simulator, "_op_GetStatus", broken)
    leaf = certs.default_leaf()

    @dataclass
    class Identity:
        private_key: object
        certificate: object

    async def ask() -> object:
        env = environments.simulator("http://simulador/WcfDianCustomerServices.svc")
        transport = httpx.ASGITransport(app=create_app(demo_config()))
        async with DianClient(env, Identity(leaf.key, leaf.cert), transport=transport) as client:  # type: ignore[arg-type]
            return await client.get_status("a" * 96)

    outcome = asyncio.run(ask())  # the ASGI app raised RuntimeError before
    assert isinstance(outcome, SoapFault), outcome
    assert outcome.code.endswith("InternalServiceFault") and outcome.http_status == 500
    assert "internal error" in outcome.reason


def test_soap_and_storage_errors_are_in_the_tree() -> None:
    # The old import paths still name the same classes (callers keep working).
    assert messages.AnswerError is errors.AnswerError
    assert soap.SecurityFault is errors.SecurityFault
    assert soap.EnvelopeError is errors.EnvelopeError
    assert db.StoreError is errors.StoreError
    for cls in (errors.AnswerError, errors.EnvelopeError, errors.SecurityFault):
        assert issubclass(cls, errors.SoapError)
    for cls in (errors.StoreError, errors.JournalError, errors.CounterError):
        assert issubclass(cls, errors.StorageError)
    assert errors.AnswerError("x").exit_code == exit_codes.NO_VERDICT
    assert errors.StoreError("x").exit_code == exit_codes.STORAGE
    assert exit_codes.STORAGE not in (exit_codes.USAGE, exit_codes.INTERNAL)


def _fe_error_classes() -> dict[str, str]:
    """Every FeError subclass defined in fe_tui (outside the console), by name → module."""
    found: dict[str, str] = {}
    for info in pkgutil.walk_packages(fe_tui.__path__, "fe_tui."):
        if info.name.startswith("fe_tui.tui") or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, errors.FeError)
                and obj.__module__ == info.name
            ):
                found[name] = info.name
    return found


def test_every_fe_error_is_documented_in_the_tree() -> None:
    tree = errors.__doc__ or ""
    classes = _fe_error_classes()
    assert "AnswerError" in classes and "StoreError" in classes
    missing = sorted(f"{mod}.{name}" for name, mod in classes.items() if name not in tree)
    assert not missing, f"document these in fe_tui/errors.py: {missing}"


def test_storage_errors_exit_with_their_own_code(tmp_path: Path) -> None:
    (tmp_path / "store.json").write_text('{"companies": {')
    result = CliRunner().invoke(
        main, ["--data-dir", str(tmp_path), "queue", "list"], catch_exceptions=False
    )
    assert result.exit_code == exit_codes.STORAGE, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "dañado" in lines[0], result.output


def test_a_damaged_counter_file_is_a_storage_error(tmp_path: Path) -> None:
    from fe_tui.store.counters import FileCounters

    counters = FileCounters(tmp_path)
    counters.path.parent.mkdir(parents=True, exist_ok=True)
    counters.path.write_text("{no")
    with pytest.raises(errors.CounterError, match="dañado") as caught:
        counters.next("900373076", 2026, "01")
    assert caught.value.exit_code == exit_codes.STORAGE
