"""The XAdES-EPES signer: every signature is checked by three verifiers.

python-xmlsec and the ``xmlsec1`` command are independent implementations;
our own verifier is the third. Documents are built from the shipped examples,
signed, and must also validate against DIAN's XSDs once signed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import xmlsec
from cryptography.hazmat.primitives import serialization
from lxml import etree

from fe_tui import ns
from fe_tui.crypto import xades
from fe_tui.crypto.certificates import LoadedCertificate, load_pkcs12
from fe_tui.crypto.verify import verify_document
from fe_tui.domain.models import COLOMBIA_TZ
from fe_tui.errors import CertificateExpiredError, SigningError
from fe_tui.services import documents
from fe_tui.ubl import xsd
from tests import certs
from tests.conftest import example_request

EXAMPLES = ["factura", "nota-credito", "nota-debito", "factura-consumidor-final"]
XMLSEC1 = shutil.which("xmlsec1")


def xmlsec_verify(signed: bytes, cert: LoadedCertificate) -> None:
    """python-xmlsec verification; raises xmlsec.Error when the signature fails."""
    root = etree.fromstring(signed)
    xmlsec.tree.add_ids(root, ["Id"])
    sig = root.find(f".//{{{ns.DS}}}Signature")
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_memory(
        cert.certificate.public_bytes(serialization.Encoding.PEM), xmlsec.KeyFormat.CERT_PEM
    )
    ctx.verify(sig)


def xmlsec1_verify(signed: bytes, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "signed.xml"
    path.write_bytes(signed)
    return subprocess.run(
        [
            "xmlsec1",
            "--verify",
            "--insecure",
            "--id-attr:Id",
            "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
            "--id-attr:Id",
            "http://www.w3.org/2000/09/xmldsig#:KeyInfo",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def need_xmlsec1() -> None:
    if XMLSEC1 is None:
        if os.environ.get("CI"):
            pytest.fail("xmlsec1 must be installed in CI (.ci/run installs it)")
        pytest.skip("xmlsec1 not installed")


def sign_example(name: str, cert: LoadedCertificate, **kw: object) -> bytes:
    built = documents.build(example_request(name))
    return documents.sign_tree(built.document.root, cert, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", EXAMPLES)
def test_signed_examples_verify_everywhere(
    name: str, signing_cert: LoadedCertificate, tmp_path: Path
) -> None:
    signed = sign_example(name, signing_cert)
    # 1. python-xmlsec
    xmlsec_verify(signed, signing_cert)
    # 2. our verifier
    report = verify_document(signed)
    assert report.valid, report.diagnosis
    # 3. DIAN's schemas, now with the signature in place
    assert xsd.schema_errors(etree.fromstring(signed)) == []
    # 4. the xmlsec1 command
    need_xmlsec1()
    result = xmlsec1_verify(signed, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "SignedInfo References (ok/all): 3/3" in result.stderr


@pytest.mark.parametrize("digest", ["sha256", "sha384", "sha512"])
def test_digest_choices_verify(digest: str, signing_cert: LoadedCertificate) -> None:
    signed = sign_example("factura", signing_cert, digest=digest)
    xmlsec_verify(signed, signing_cert)
    assert verify_document(signed).valid
    assert f"#{digest}" in signed.decode() or f"-more#{digest}" in signed.decode()


def test_signature_shape_is_dian_xades_epes(signing_cert: LoadedCertificate) -> None:
    signed = sign_example("factura", signing_cert, role="third party")
    assert signed.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="no"?><Invoice ')
    assert b"\n" not in signed and b"\t" not in signed and b"\r" not in signed
    root = etree.fromstring(signed)
    exts = root.find(ns.q(ns.EXT, "UBLExtensions"))
    assert exts is not None
    sig = exts[1].find(f"{{{ns.EXT}}}ExtensionContent/{{{ns.DS}}}Signature")
    assert sig is not None, "signature must be in the second UBLExtension"
    refs = sig.findall(f"{{{ns.DS}}}SignedInfo/{{{ns.DS}}}Reference")
    assert [r.get("URI", "")[:1] for r in refs] == ["", "#", "#"]
    assert refs[2].get("Type") == "http://uri.etsi.org/01903#SignedProperties"
    c14n = sig.find(f"{{{ns.DS}}}SignedInfo/{{{ns.DS}}}CanonicalizationMethod")
    assert c14n is not None
    assert c14n.get("Algorithm") == "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    x = {"xades": ns.XADES, "ds": ns.DS}
    assert root.findtext(".//xades:ClaimedRole", namespaces=x) == "third party"
    assert root.findtext(".//xades:SigPolicyHash/ds:DigestValue", namespaces=x) == (
        "dMoMvtcG5aIzgYo0tIsSQeVJBDnUnfSOfBpxXrmor0Y="
    )
    signing_time = root.findtext(".//xades:SigningTime", namespaces=x)
    assert signing_time is not None and signing_time.endswith("-05:00")
    assert len(signing_time) == len("2024-05-01T10:20:30.123-05:00")


def test_signing_time_is_colombian_whatever_the_machine_zone(
    signing_cert: LoadedCertificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        # 01:30 UTC is 20:30 of the previous day in Bogotá.
        when = datetime(2026, 11, 21, 1, 30, tzinfo=UTC)
        req = example_request("factura", issue_at=when)
        built = documents.build(req)
        assert built.document.root.findtext(ns.q(ns.CBC, "IssueDate")) == "2026-11-20"
        assert built.document.root.findtext(ns.q(ns.CBC, "IssueTime")) == "20:30:00-05:00"
        signed = xades.sign(built.document.root, signing_cert, signing_time=when)
        assert b"2026-11-20T20:30:00.000-05:00" in signed
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_issue_date_guard_refuses_yesterday(signing_cert: LoadedCertificate) -> None:
    yesterday = datetime.now(COLOMBIA_TZ) - timedelta(days=1)
    built = documents.build(example_request("factura", issue_at=yesterday))
    with pytest.raises(SigningError, match="FAD09e"):
        documents.sign_tree(built.document.root, signing_cert)
    # The override exists for support cases (re-signing an old document on purpose).
    signed = documents.sign_tree(built.document.root, signing_cert, check_issue_date=False)
    assert verify_document(signed).valid


def test_expired_certificate_cannot_sign() -> None:
    now = datetime.now(UTC)
    leaf = certs.make_leaf(not_before=now - timedelta(days=400), not_after=now - timedelta(days=2))
    expired = load_pkcs12(certs.make_p12(leaf.key, leaf.cert), certs.DEFAULT_PASSWORD)
    built = documents.build(example_request("factura"))
    with pytest.raises(CertificateExpiredError, match="venció"):
        documents.sign_tree(built.document.root, expired)


def test_tampered_amount_fails_in_xmlsec_and_ours(signing_cert: LoadedCertificate) -> None:
    signed = sign_example("factura", signing_cert)
    tampered = signed.replace(b">1018060.00<", b">1018061.00<", 1)
    assert tampered != signed
    with pytest.raises(xmlsec.Error):
        xmlsec_verify(tampered, signing_cert)
    report = verify_document(tampered)
    assert not report.valid
    assert any("modific" in d for d in report.diagnosis)


def test_sign_document_from_another_builder(signing_cert: LoadedCertificate) -> None:
    """A pretty-printed, one-extension document is normalised and signed."""
    built = documents.build(example_request("factura"))
    root = etree.fromstring(built.xml)
    exts = root.find(ns.q(ns.EXT, "UBLExtensions"))
    assert exts is not None
    exts.remove(exts[1])
    pretty = etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8")
    assert b"\n  " in pretty
    signed = documents.sign_xml(pretty, signing_cert)
    xmlsec_verify(signed, signing_cert)
    assert verify_document(signed).valid
    assert b"\n" not in signed


def test_already_signed_document_is_resigned_not_double_signed(
    signing_cert: LoadedCertificate,
) -> None:
    signed = sign_example("factura", signing_cert)
    again = documents.sign_xml(signed, signing_cert)
    assert again.count(b"<ds:Signature ") == 1
    xmlsec_verify(again, signing_cert)


def test_comments_are_not_part_of_the_document_digest(signing_cert: LoadedCertificate) -> None:
    """The enveloped reference canonicalizes without comments (C14N 1.0 default)."""
    built = documents.build(example_request("factura"))
    root = built.document.root
    root.insert(1, etree.Comment(" generado por otro sistema "))
    signed = xades.sign(root, signing_cert)
    xmlsec_verify(signed, signing_cert)
    assert verify_document(signed).valid
