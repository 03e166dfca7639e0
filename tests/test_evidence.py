"""The evidence service: redaction, a document's detail and the zip bundle (no Textual)."""

from __future__ import annotations

import asyncio
import json
import zipfile
from pathlib import Path

from fe_tui.services import evidence
from fe_tui.services.console import Workspace
from fe_tui.services.demo import DEMO_CERT_PASSWORD, create_demo_company
from fe_tui.settings import Settings
from fe_tui.store.db import Store
from tests.conftest import EXAMPLES


def test_redact_blanks_credentials_and_shortens_the_zip() -> None:
    envelope = (
        b'<s:Envelope><s:Header><wsse:BinarySecurityToken EncodingType="x">MIIB'
        b"</wsse:BinarySecurityToken><ds:SignatureValue>abc==</ds:SignatureValue>"
        b"<wsse:Password>secreto</wsse:Password></s:Header><s:Body><wcf:SendBillSync>"
        b"<wcf:fileName>z.zip</wcf:fileName><wcf:contentFile>UEsDBAo=</wcf:contentFile>"
        b"</wcf:SendBillSync></s:Body></s:Envelope>"
    )
    out = evidence.redact(envelope)
    assert b"MIIB" not in out and b"abc==" not in out and b"secreto" not in out
    assert out.count(b"[oculto]") == 3
    assert b"<wcf:fileName>z.zip</wcf:fileName>" in out
    assert b"[zip en base64, 8 caracteres]" in out


def test_detail_and_bundle_of_a_rejected_document(tmp_path: Path) -> None:
    settings = Settings.load(tmp_path / "datos", env={})
    ws = Workspace(Store(settings.data_dir), settings)
    create_demo_company(ws.store, settings)
    company = ws.current()
    assert company is not None
    view = ws.queue(company)
    bad = json.loads((EXAMPLES / "factura.json").read_text())
    bad["document"]["customer"]["email"] = "otro@ejemplo.com"
    rec = view.queue.add(bad).record
    cert = ws.load_certificate(company, DEMO_CERT_PASSWORD)
    asyncio.run(view.start_run(cert).wait())  # the console's batch: its own loop and thread
    view.reload()  # the run journals in its own ledger; the view catches up from the files
    detail = evidence.document_detail(view.queue, rec.doc_id)
    assert detail.record["state"] == "rejected" and detail.cufe and detail.xml
    assert "Total a pagar" in dict(detail.totals)
    # Colombian money, the same formatter as the invoice form: "$ 1.018.060,00".
    assert all(amount.startswith("$ ") and "," in amount for _, amount in detail.totals)
    assert dict(detail.totals)["Subtotal"] == "$ 944.000,00"
    rules = [r for a in detail.answers for r in a.rules]
    faj71 = next(r for r in rules if r.code == "FAJ71")
    assert faj71.explanation and faj71.fix and faj71.value == "otro@ejemplo.com"
    sent = detail.answers[0]
    assert sent.request is not None and b"[oculto]" in sent.request
    assert sent.answer is not None
    path = evidence.export_bundle(detail, tmp_path / "evidencia")
    assert path.stat().st_mode & 0o777 == 0o600
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert zf.read("documento-firmado.xml") == detail.xml
        explained = json.loads(zf.read("reglas-explicadas.json"))
        request_name = next(n for n in names if n.endswith("-peticion.xml"))
        assert b"BinarySecurityToken" in zf.read(request_name)
        assert DEMO_CERT_PASSWORD.encode() not in b"".join(zf.read(n) for n in names)
    assert any(n.startswith("paquete/") and n.endswith(".zip") for n in names)
    assert "LEAME.txt" in names and "historia.json" in names
    assert any(r["regla"] == "FAJ71" for r in explained)


def test_a_document_never_sent_has_no_answers(tmp_path: Path) -> None:
    settings = Settings.load(tmp_path / "datos", env={})
    ws = Workspace(Store(settings.data_dir), settings)
    create_demo_company(ws.store, settings)
    company = ws.current()
    assert company is not None
    view = ws.queue(company)
    rec = view.queue.add(json.loads((EXAMPLES / "factura.json").read_text())).record
    detail = evidence.document_detail(view.queue, rec.doc_id)
    assert detail.xml is None and detail.answers == [] and detail.totals == []
    assert detail.customer == "Distribuidora Antioqueña de Alimentos S.A.S."
    with zipfile.ZipFile(evidence.export_bundle(detail, tmp_path / "e")) as zf:
        assert "documento-firmado.xml" not in zf.namelist()
