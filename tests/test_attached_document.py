"""`fe-tui verify` on an AttachedDocument checks the container and what it carries."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from lxml import etree

from fe_tui import ns
from fe_tui.cli import main
from fe_tui.crypto import xades
from fe_tui.crypto.certificates import LoadedCertificate
from fe_tui.services import documents
from fe_tui.simulator import appresponse
from tests.conftest import example_request

ATTACHED = "urn:oasis:names:specification:ubl:schema:xsd:AttachedDocument-2"


def attached_document(invoice: bytes, ar: bytes) -> etree._Element:
    """A minimal AttachedDocument (SPEC §2.11) carrying ``invoice`` and DIAN's ``ar``."""
    inv = invoice.decode()
    dian_ar = ar.decode()
    text = (
        f'<AttachedDocument xmlns="{ATTACHED}" xmlns:cac="{ns.CAC}" xmlns:cbc="{ns.CBC}" '
        f'xmlns:ds="{ns.DS}" xmlns:ext="{ns.EXT}" xmlns:xades="{ns.XADES}" '
        f'xmlns:xades141="{ns.XADES141}">'
        "<ext:UBLExtensions><ext:UBLExtension><ext:ExtensionContent/></ext:UBLExtension>"
        "</ext:UBLExtensions>"
        "<cbc:UBLVersionID>UBL 2.1</cbc:UBLVersionID>"
        "<cbc:CustomizationID>Documentos adjuntos</cbc:CustomizationID>"
        "<cbc:ProfileID>DIAN 2.1</cbc:ProfileID><cbc:ProfileExecutionID>2</cbc:ProfileExecutionID>"
        "<cbc:ID>SETP990000001</cbc:ID>"
        "<cac:Attachment><cac:ExternalReference><cbc:MimeCode>text/xml</cbc:MimeCode>"
        f"<cbc:EncodingCode>UTF-8</cbc:EncodingCode><cbc:Description><![CDATA[{inv}]]>"
        "</cbc:Description></cac:ExternalReference></cac:Attachment>"
        "<cac:ParentDocumentLineReference><cbc:LineID>1</cbc:LineID><cac:DocumentReference>"
        "<cbc:ID>SETP990000001</cbc:ID><cac:Attachment><cac:ExternalReference>"
        f"<cbc:MimeCode>text/xml</cbc:MimeCode><cbc:Description><![CDATA[{dian_ar}]]>"
        "</cbc:Description></cac:ExternalReference></cac:Attachment></cac:DocumentReference>"
        "</cac:ParentDocumentLineReference></AttachedDocument>"
    )
    return etree.fromstring(text.encode())


def signed_pair(cert: LoadedCertificate) -> tuple[bytes, bytes]:
    built = documents.build(example_request("factura")).document
    invoice = documents.sign_tree(built.root, cert)
    verdict = appresponse.Verdict(
        built.document_id, built.uuid, "CUFE-SHA384", "01", "900373076", "4", "Tostadora", True
    )
    ar = documents.sign_tree(
        appresponse.build(verdict, ar_number=1, environment="2"), cert, check_issue_date=False
    )
    return invoice, ar


def run(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["verify", str(path), "--json"])
    return result.exit_code, result.output


def test_container_and_embedded_documents_are_verified(
    tmp_path: Path, signing_cert: LoadedCertificate
) -> None:
    invoice, ar = signed_pair(signing_cert)
    signed = xades.sign(attached_document(invoice, ar), signing_cert, check_issue_date=False)
    path = tmp_path / "ad.xml"
    path.write_bytes(signed)
    parts = documents.verify_file(path)
    assert [p.label for p in parts] == [
        "contenedor AttachedDocument",
        "factura adjunta",
        "ApplicationResponse adjunto (respuesta de la DIAN)",
    ]
    assert all(p.report.valid for p in parts)
    code, out = run(path)
    data = json.loads(out)
    assert code == 0 and data["ok"] and len(data["embedded"]) == 2


def test_invoice_edited_inside_a_resigned_container_is_caught(
    tmp_path: Path, signing_cert: LoadedCertificate
) -> None:
    """A sender that edits the invoice and re-signs only the container still fails."""
    invoice, ar = signed_pair(signing_cert)
    edited = invoice.replace(b">1018060.00<", b">1018061.00<", 1)
    signed = xades.sign(attached_document(edited, ar), signing_cert, check_issue_date=False)
    path = tmp_path / "ad.xml"
    path.write_bytes(signed)
    parts = documents.verify_file(path)
    assert parts[0].report.valid  # the container's own signature holds
    assert not parts[1].report.valid
    assert any("modific" in d for d in parts[1].report.diagnosis)
    code, out = run(path)
    data = json.loads(out)
    assert code == 1 and not data["ok"] and data["embedded"][0]["ok"] is False
