"""Untrusted input never escapes as a traceback: mutated documents, answers, requests, files.

Each target must either work or raise from fe-tui's own error tree (which the
CLI turns into one Spanish line). Inputs are valid artefacts with random byte
edits, so the parsers get past the first checks and meet broken structure.
"""

from __future__ import annotations

import asyncio
import contextlib

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from fe_tui import exit_codes, xmlsafe
from fe_tui.crypto.certificates import LoadedCertificate, load_pkcs12
from fe_tui.crypto.verify import verify_document
from fe_tui.dian import messages, soap
from fe_tui.errors import FeError, InputError
from fe_tui.services import documents
from fe_tui.simulator import create_app, demo_config
from fe_tui.ubl import packaging
from tests import certs
from tests.conftest import example_request

_SIGNED: dict[str, bytes] = {}


def _signed_invoice(cert: LoadedCertificate) -> bytes:
    if "invoice" not in _SIGNED:
        built = documents.build(example_request("factura"))
        _SIGNED["invoice"] = documents.sign_tree(built.document.root, cert)
    return _SIGNED["invoice"]


@st.composite
def _edits(draw: st.DrawFn, size: int) -> list[tuple[int, int, bytes]]:
    """1–6 edits: replace ``length`` bytes at ``at`` with ``chunk`` (insert, delete, flip)."""
    n = draw(st.integers(1, 6))
    return [
        (
            draw(st.integers(0, size - 1)),
            draw(st.integers(0, 4)),
            draw(st.binary(min_size=0, max_size=4) | st.sampled_from([b"<", b">", b"&", b'"'])),
        )
        for _ in range(n)
    ]


def _apply(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    out = bytearray(data)
    for at, length, chunk in edits:
        at = min(at, len(out))
        out[at : at + length] = chunk
    return bytes(out)


FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _send_bill_sync_envelope(xml: bytes) -> bytes:
    """A valid, signed SendBillSync envelope carrying ``xml`` (zipped and named)."""
    pkg = packaging.pack(xml, document_type="01", nit="900373076", year=2026, consecutive=1)
    leaf = certs.default_leaf()
    return soap.build_request(
        "SendBillSync",
        {"fileName": pkg.zip_name, "contentFile": pkg.content_b64},
        to="http://simulador/WcfDianCustomerServices.svc",
        private_key=leaf.key,
        certificate=leaf.cert,
    )


def _post_to_fresh_simulator(body: bytes) -> httpx.Response:
    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(demo_config()))
        async with httpx.AsyncClient(transport=transport, base_url="http://simulador") as c:
            return await c.post(
                "/WcfDianCustomerServices.svc",
                content=body,
                headers={"content-type": soap.content_type("SendBillSync")},
            )

    return asyncio.run(post())


_DS = "http://www.w3.org/2000/09/xmldsig#"
_XADES = "http://uri.etsi.org/01903/v1.3.2#"


def _c14n(node: etree._Element | etree._ElementTree) -> bytes:
    return etree.tostring(node, method="c14n", with_comments=False)


def _signed_parts(data: bytes) -> tuple[bytes, bytes | None, bytes | None] | None:
    """What the signature's digests cover, canonicalised: the document without its
    ``ds:Signature`` (the enveloped reference), the KeyInfo and the SignedProperties.
    None when the bytes do not parse."""
    try:
        root = xmlsafe.parse_bytes(data, what="el documento")
    except FeError:
        return None
    key_info = root.find(f".//{{{_DS}}}Signature/{{{_DS}}}KeyInfo")
    props = root.find(f".//{{{_DS}}}Signature//{{{_XADES}}}SignedProperties")
    parts = (
        _c14n(key_info) if key_info is not None else None,
        _c14n(props) if props is not None else None,
    )
    for sig in root.findall(f".//{{{_DS}}}Signature"):
        parent = sig.getparent()
        if parent is not None:
            parent.remove(sig)
    return (_c14n(root.getroottree()), *parts)


@FUZZ
@given(data=st.data())
def test_verifier_on_mutated_signed_documents(
    signing_cert: LoadedCertificate, data: st.DataObject
) -> None:
    """A mutation that changes what the signature covers is reported invalid; one that
    leaves the canonical document untouched still verifies."""
    doc = _signed_invoice(signing_cert)
    mutated = _apply(doc, data.draw(_edits(len(doc))))
    try:
        report = verify_document(mutated)
    except FeError as exc:
        assert isinstance(exc, InputError) and exc.exit_code == exit_codes.USAGE, exc
        assert exc.message
        return
    original = _signed_parts(doc)
    after = _signed_parts(mutated)
    assert after is not None  # the verifier read it, so it parses
    if after != original:
        assert not report.valid, "a change to the signed content verified"
    whole = xmlsafe.parse_bytes(mutated, what="el documento").getroottree()
    if _c14n(whole) == _c14n(xmlsafe.parse_bytes(doc, what="el documento").getroottree()):
        assert report.valid, report.diagnosis


def _answer() -> bytes:
    r = messages.DianResponse(
        is_valid=False,
        status_code="99",
        errors=[messages.RuleMessage.parse("Regla: FAD06, Rechazo: Valor del CUFE no está")],
        xml_document_key="a" * 96,
    )
    return soap.envelope(messages.render_dian_response("SendBillSync", r), action="x")


@FUZZ
@given(data=st.data())
def test_answer_parsers_on_mutated_envelopes(data: st.DataObject) -> None:
    answer = _answer()
    mutated = _apply(answer, data.draw(_edits(len(answer))))
    for parse in (
        lambda b: messages.parse_dian_response(b, "SendBillSync"),
        lambda b: messages.parse_upload(b, "SendBillSync"),
        messages.parse_numbering,
        messages.parse_status_zip,
        messages.parse_xml_by_key,
        messages.parse_fault,
    ):
        with contextlib.suppress(FeError, ValueError):  # the client maps both to MalformedAnswer
            parse(mutated)


@FUZZ
@given(data=st.data())
def test_simulator_answers_mutated_requests_without_crashing(
    signing_cert: LoadedCertificate, data: st.DataObject
) -> None:
    body = _send_bill_sync_envelope(_signed_invoice(signing_cert))
    response = _post_to_fresh_simulator(_apply(body, data.draw(_edits(len(body)))))
    # a DIAN-shaped answer or fault, never the server's own crash page
    assert response.status_code in (200, 400, 500)
    assert b"Envelope" in response.content
    # a fault about the request, never the double's own defect (a:InternalServiceFault)
    assert b"InternalServiceFault" not in response.content, response.text[:500]


@FUZZ
@given(data=st.data())
def test_pkcs12_loader_on_mutated_files(data: st.DataObject) -> None:
    leaf = certs.default_leaf()
    p12 = certs.make_p12(leaf.key, leaf.cert)
    mutated = _apply(p12, data.draw(_edits(len(p12))))
    with contextlib.suppress(FeError):
        load_pkcs12(mutated, certs.DEFAULT_PASSWORD)


def _verifies(data: bytes) -> bool:
    try:
        return verify_document(data).valid
    except FeError:
        return False


@FUZZ
@given(data=st.data())
def test_simulator_document_pipeline_on_mutated_documents(
    signing_cert: LoadedCertificate, data: st.DataObject
) -> None:
    """A valid envelope carrying a damaged document: a DIAN answer, never a crash, and a
    document whose signature no longer verifies is never accepted."""
    doc = _signed_invoice(signing_cert)
    mutated = _apply(doc, data.draw(_edits(len(doc))))
    response = _post_to_fresh_simulator(_send_bill_sync_envelope(mutated))
    assert response.status_code == 200, response.text[:300]
    answer = messages.parse_dian_response(response.content, "SendBillSync")
    assert answer.status_code in ("00", "99", "89")
    if not _verifies(mutated):
        assert not answer.is_valid and answer.status_code != "00", answer.errors
        assert answer.errors, "a rejection names its rules"
    if answer.is_valid:
        assert _signed_parts(mutated) == _signed_parts(doc)


@FUZZ
@given(data=st.data())
def test_request_loader_on_mutated_json(data: st.DataObject) -> None:
    from fe_tui.domain.models import load_document_request
    from tests.conftest import EXAMPLES

    raw = (EXAMPLES / "factura.json").read_bytes()
    mutated = _apply(raw, data.draw(_edits(len(raw))))
    try:
        request = load_document_request(mutated)
    except FeError:
        return
    documents.build(request)  # what the loader accepts builds schema-valid (SchemaError otherwise)


TECHNICAL_KEY = "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c"  # examples/factura.json


@FUZZ
@given(data=st.data())
def test_cufe_reader_on_mutated_documents(
    signing_cert: LoadedCertificate, data: st.DataObject
) -> None:
    """A changed CUFE component is reported as a mismatch with a culprit; unchanged
    components with the declared CUFE intact still match."""
    from fe_tui.ubl.reader import diagnose_uuid, read_facts

    doc = _signed_invoice(signing_cert)
    original = read_facts(xmlsafe.parse_bytes(doc))
    assert diagnose_uuid(original, TECHNICAL_KEY).matches
    mutated = _apply(doc, data.draw(_edits(len(doc))))
    try:
        facts = read_facts(xmlsafe.parse_bytes(mutated))
    except FeError as exc:
        assert isinstance(exc, InputError) and exc.exit_code == exit_codes.USAGE, exc
        return
    result = diagnose_uuid(facts, TECHNICAL_KEY)
    same_uuid = facts.uuid.lower() == original.uuid.lower()
    same_text = facts.components.composition() == original.components.composition()
    if same_uuid and not same_text:
        assert not result.matches, "a changed CUFE component went unnoticed"
        assert result.culprit, result.explanation
    if same_uuid and same_text:
        assert result.matches


@FUZZ
@given(
    text=st.text(min_size=1, max_size=60),
    where=st.sampled_from(["description", "customer", "note", "address", "order"]),
)
def test_any_text_in_any_field_loads_and_builds_or_is_refused(text: str, where: str) -> None:
    """Unicode from an ERP (controls, surrogates, emoji, RTL…): a clean error or a valid XML."""
    import json

    from fe_tui.domain.models import load_document_request
    from fe_tui.ubl import xsd
    from tests.conftest import EXAMPLES

    data = json.loads((EXAMPLES / "factura.json").read_text(encoding="utf-8"))
    doc = data["document"]
    if where == "description":
        doc["lines"][0]["description"] = text
    elif where == "customer":
        doc["customer"]["name"] = text
    elif where == "note":
        doc["notes"] = [text]
    elif where == "address":
        doc["customer"]["address"]["line"] = text
    else:
        doc["order_reference"] = text
    try:
        request = load_document_request(json.dumps(data))
    except FeError:
        return
    built = documents.build(request)
    assert xsd.schema_errors(built.document.root, unsigned=True) == []
