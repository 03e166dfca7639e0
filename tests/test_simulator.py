"""The local DIAN simulator (a test double): contract, document rules, test sets, faults.

Served in-process through ``httpx.ASGITransport`` and spoken to with raw
``soap.build_request`` envelopes and ``messages.parse_*`` (not the DIAN client),
plus one real uvicorn server on 127.0.0.1 for the timeout fault (ASGITransport
has no socket timeouts).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from lxml import etree

from fe_tui import ns, xmlsafe
from fe_tui.crypto.certificates import LoadedCertificate
from fe_tui.crypto.verify import verify_document
from fe_tui.dian import messages, soap
from fe_tui.domain.models import COLOMBIA_TZ, BillingReference, DocumentRequest
from fe_tui.domain.nit import nit_check_digit
from fe_tui.errors import InputError
from fe_tui.services import documents
from fe_tui.simulator import Faults, Simulator, SimulatorConfig, create_app, demo_config
from fe_tui.simulator.config import (
    DEMO_ACQUIRER_EMAIL,
    DEMO_ACQUIRER_NAME,
    DEMO_SOFTWARE_ID,
    DEMO_TEST_SET_ID,
)
from fe_tui.simulator.server import build_server
from fe_tui.ubl import packaging, xsd
from tests import certs
from tests.conftest import example_request

PATH = "/WcfDianCustomerServices.svc"
TO = "http://simulador" + PATH


# -- helpers ---------------------------------------------------------------------------------------
def envelope(
    op: str,
    params: dict[str, str],
    *,
    leaf: certs.Issued | None = None,
    now: datetime | None = None,
    to: str = TO,
) -> bytes:
    issued = leaf or certs.default_leaf()
    return soap.build_request(
        op, params, to=to, private_key=issued.key, certificate=issued.cert, now=now
    )


async def post(client: httpx.AsyncClient, op: str, body: bytes) -> httpx.Response:
    return await client.post(PATH, content=body, headers={"content-type": soap.content_type(op)})


async def call(
    client: httpx.AsyncClient, op: str, params: dict[str, str], **kw: Any
) -> httpx.Response:
    return await post(client, op, envelope(op, params, **kw))


def with_doc(request: DocumentRequest, **changes: Any) -> DocumentRequest:
    """The request with document fields replaced (no re-validation, like a buggy ERP)."""
    return request.model_copy(update={"document": request.document.model_copy(update=changes)})


def sign(
    request: DocumentRequest,
    cert: LoadedCertificate,
    *,
    tamper: Callable[[etree._Element], None] | None = None,
) -> tuple[bytes, str]:
    """Build, optionally tamper with the tree, sign; returns (signed XML, declared UUID)."""
    built = documents.build(request, validate=False).document
    if tamper is not None:
        tamper(built.root)
    uuid = built.root.findtext(f"{{{ns.CBC}}}UUID") or ""
    return documents.sign_tree(built.root, cert), uuid


_counter = iter(range(1, 10_000))


def package(xml: bytes, document_type: str = "01") -> packaging.Package:
    return packaging.pack(
        xml, document_type=document_type, nit="900373076", year=2026, consecutive=next(_counter)
    )


def invoice(number: int = 990000001, **changes: Any) -> DocumentRequest:
    return with_doc(example_request("factura"), number=number, **changes)


def note(kind: str, number: int, ref_id: str, ref_uuid: str) -> DocumentRequest:
    ref = BillingReference(
        number=ref_id, uuid=ref_uuid, issue_date=datetime.now(COLOMBIA_TZ).date()
    )
    return with_doc(example_request(kind), number=number, billing_reference=ref)


async def send_sync(
    client: httpx.AsyncClient, xml: bytes, document_type: str = "01", **kw: Any
) -> messages.DianResponse:
    pkg = package(xml, document_type)
    resp = await call(
        client, "SendBillSync", {"fileName": pkg.zip_name, "contentFile": pkg.content_b64}, **kw
    )
    assert resp.status_code == 200, resp.text
    return messages.parse_dian_response(resp.content, "SendBillSync")


def codes(answer: messages.DianResponse) -> list[str | None]:
    return [e.code for e in answer.errors]


def signed_event(
    document_id: str, key: str, cert: LoadedCertificate, *, ar_number: int, code: str = "030"
) -> bytes:
    """A signed event ApplicationResponse (030 acuse de recibo by default) about an invoice."""
    from fe_tui.simulator import appresponse

    tree = appresponse.build(
        appresponse.Verdict(
            document_id, key, "CUFE-SHA384", "01", "900373076", "4", "Tostadora", True
        ),
        ar_number=ar_number,
        environment="2",
    )
    response_code = tree.find("cac:DocumentResponse/cac:Response/cbc:ResponseCode", ns.XPATH)
    assert response_code is not None
    response_code.text = code
    return documents.sign_tree(tree, cert, check_issue_date=False)


@pytest.fixture
def sim() -> Simulator:
    return create_app(demo_config())


@pytest.fixture
async def client(sim: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sim)
    async with httpx.AsyncClient(transport=transport, base_url="http://simulador") as c:
        yield c


# -- accepted documents ----------------------------------------------------------------------------
async def test_accepted_invoice_with_signed_application_response(
    client: httpx.AsyncClient, signing_cert: LoadedCertificate
) -> None:
    xml, key = sign(invoice(), signing_cert)
    answer = await send_sync(client, xml)
    assert answer.is_valid and answer.status_code == "00", answer.errors
    assert answer.status_description == "Procesado Correctamente."
    assert answer.status_message == "La Factura electrónica SETP-990000001, ha sido autorizada."
    assert answer.xml_document_key == key and answer.errors == []
    assert answer.xml_file_name and answer.xml_file_name.startswith("fv0900373076")
    ar = answer.application_response
    assert ar is not None and ar.response_code == "02" and ar.document_key == key
    assert ar.document_id == "SETP990000001" and ar.line_responses == []
    report = verify_document(ar.xml)
    assert report.valid, report.diagnosis
    assert xsd.schema_errors(xmlsafe.parse_bytes(ar.xml)) == []

    status = messages.parse_dian_response(
        (await call(client, "GetStatus", {"trackId": key})).content, "GetStatus"
    )
    assert status.is_valid and status.xml_document_key == key
    assert status.application_response is not None
    stored = messages.parse_xml_by_key(
        (await call(client, "GetXmlByDocumentKey", {"trackId": key})).content
    )
    assert stored.code == "100" and stored.xml == xml
    missing = messages.parse_xml_by_key(
        (await call(client, "GetXmlByDocumentKey", {"trackId": "ab" * 48})).content
    )
    assert missing.code == "404" and missing.xml is None
    unknown = messages.parse_dian_response(
        (await call(client, "GetStatus", {"trackId": "cd" * 48})).content, "GetStatus"
    )
    assert unknown.status_code == "66" and not unknown.is_valid


async def test_credit_note_needs_an_accepted_invoice(
    client: httpx.AsyncClient, signing_cert: LoadedCertificate
) -> None:
    unknown = note("nota-credito", 1, "SETP990000001", "ab" * 48)
    answer = await send_sync(client, sign(unknown, signing_cert)[0], "91")
    assert answer.status_code == "99" and codes(answer) == ["CBG04a"]
    ar = answer.application_response
    assert ar is not None and ar.response_code == "04"
    assert [(lr.line_id, lr.code) for lr in ar.line_responses] == [("1", "CBG04a")]

    inv_xml, inv_key = sign(invoice(990000002), signing_cert)
    assert (await send_sync(client, inv_xml)).is_valid
    known = note("nota-credito", 2, "SETP990000002", inv_key)
    ok = await send_sync(client, sign(known, signing_cert)[0], "91")
    assert ok.is_valid, ok.errors
    assert ok.status_message == "La Nota crédito electrónica NC-2, ha sido autorizada."


# -- rejections ------------------------------------------------------------------------------------
async def test_wrong_cufe_is_fad06(
    client: httpx.AsyncClient, signing_cert: LoadedCertificate
) -> None:
    def wrong_uuid(root: etree._Element) -> None:
        el = root.find(f"{{{ns.CBC}}}UUID")
        assert el is not None
        el.text = "0" * 96

    xml, _ = sign(invoice(), signing_cert, tamper=wrong_uuid)
    answer = await send_sync(client, xml)
    assert not answer.is_valid and answer.status_code == "99"
    assert answer.status_description == "Validación contiene errores en campos mandatorios."
    assert codes(answer) == ["FAD06"]
    assert answer.errors[0].text == "Valor del CUFE no está calculado correctamente."
    assert answer.xml_document_key == "0" * 96


async def test_tampered_signature_is_ze02(
    client: httpx.AsyncClient, signing_cert: LoadedCertificate
) -> None:
    xml, _ = sign(invoice(), signing_cert)
    tampered = xml.replace(b"Pedido entregado", b"Pedido entregadX", 1)
    assert tampered != xml
    answer = await send_sync(client, tampered)
    assert codes(answer) == ["ZE02"]
    assert answer.errors[0].text == "Valor de la firma inválido."


async def test_number_outside_range_is_fad05d(
    client: httpx.AsyncClient, signing_cert: LoadedCertificate
) -> None:
    xml, _ = sign(invoice(996000000), signing_cert)
    answer = await send_sync(client, xml)
    assert codes(answer) == ["FAD05d"]


async def test_expired_resolution_is_fab08b(signing_cert: LoadedCertificate) -> None:
    config = demo_config()
    expired = config.issuers[0].ranges[0].model_copy(update={"valid_to": date(2020, 1, 19)})
    config.issuers[0].ranges[0] = expired
    request = invoice().model_copy(update={"resolution": expired})
    transport = httpx.ASGITransport(app=create_app(config))
    async with httpx.AsyncClient(transport=transport, base_url="http://simulador") as c:
        answer = await send_sync(c, sign(request, signing_cert)[0])
    assert codes(answer) == ["FAB08b"]


async def test_unauthorized_sender_certificate_is_89(
    client: httpx.AsyncClient, signing_cert: LoadedCertificate
) -> None:
    provider = certs.make_leaf(nit="800123456", cn="Proveedor Tecnológico S.A.S.")
    xml, _ = sign(invoice(), signing_cert)
    answer = await send_sync(client, xml, leaf=provider)
    assert answer.status_code == "89" and not answer.is_valid
    expected = "NIT 800123456 no autorizado a enviar documentos para emisor con NIT 900373076"
    assert answer.status_description == expected
    # An authorized technology provider may send for the issuer.
    config = demo_config()
    config.issuers[0].authorized_providers.append("800123456")
    transport = httpx.ASGITransport(app=create_app(config))
    async with httpx.AsyncClient(transport=transport, base_url="http://simulador") as c:
        assert (await send_sync(c, xml, leaf=provider)).is_valid


async def test_unregistered_issuer_is_faj21(
    client: httpx.AsyncClient, signing_cert: LoadedCertificate
) -> None:
    request = invoice()
    other = request.model_copy(
        update={"issuer": request.issuer.model_copy(update={"nit": "800199436", "dv": "4"})}
    )
    leaf = certs.make_leaf(nit="800199436")
    answer = await send_sync(client, sign(other, signing_cert)[0], leaf=leaf)
    assert "FAJ21" in codes(answer) and answer.status_code == "99"


async def test_duplicate_is_regla_90_with_the_original_key(
    client: httpx.AsyncClient, signing_cert: LoadedCertificate
) -> None:
    first_xml, first_key = sign(invoice(), signing_cert)
    assert (await send_sync(client, first_xml)).is_valid
    again = await send_sync(client, first_xml)
    assert again.status_code == "99" and codes(again) == ["90"]
    assert again.errors[0].raw == (
        f"Regla: 90, Rechazo: Documento con CUFE '{first_key}' procesado anteriormente."
    )
    assert again.xml_document_key == first_key
    assert again.application_response is not None
    assert again.application_response.response_code == "02"
    # The same number written with a leading zero (different CUFE) is the same number.
    zero_xml, zero_key = sign(invoice(prefix="SETP0"), signing_cert)
    assert zero_key != first_key
    zeroed = await send_sync(client, zero_xml)
    assert codes(zeroed) == ["90"] and zeroed.xml_document_key == first_key


async def test_rejection_does_not_consume_the_number(
    client: httpx.AsyncClient, signing_cert: LoadedCertificate
) -> None:
    xml, _ = sign(invoice(), signing_cert)
    assert codes(await send_sync(client, xml.replace(b"Pedido", b"Pedid0", 1))) == ["ZE02"]
    assert (await send_sync(client, xml)).is_valid


async def test_off_pattern_file_name_is_only_a_notification(
    client: httpx.AsyncClient, signing_cert: LoadedCertificate
) -> None:
    xml, _ = sign(invoice(), signing_cert)
    content = base64.b64encode(packaging.zip_files({"factura.xml": xml})).decode()
    resp = await call(client, "SendBillSync", {"fileName": "factura.zip", "contentFile": content})
    answer = messages.parse_dian_response(resp.content, "SendBillSync")
    assert answer.is_valid and [(n.code, n.kind) for n in answer.errors] == [
        ("SIM01", "Notificación")
    ]
    assert answer.xml_file_name == "factura"


async def test_production_checks_the_cufe_with_the_range_key(
    signing_cert: LoadedCertificate,
) -> None:
    key = "b" * 40
    config = demo_config().model_copy(update={"environment": "produccion"})
    config.issuers[0].ranges[0] = (
        config.issuers[0].ranges[0].model_copy(update={"technical_key": key})
    )
    production = invoice().model_copy(update={"environment": 1})
    right = production.model_copy(update={"resolution": config.issuers[0].ranges[0]})
    transport = httpx.ASGITransport(app=create_app(config))
    async with httpx.AsyncClient(transport=transport, base_url="http://simulador") as c:
        assert codes(await send_sync(c, sign(production, signing_cert)[0])) == ["FAD06"]
        assert (await send_sync(c, sign(right, signing_cert)[0])).is_valid
        hab = await send_sync(c, sign(invoice(990000002), signing_cert)[0])
        assert "FAD04" in codes(hab)


async def test_sync_zip_errors_are_89(client: httpx.AsyncClient) -> None:
    two = base64.b64encode(packaging.zip_files({"a.xml": b"<a/>", "b.xml": b"<b/>"})).decode()
    resp = await call(client, "SendBillSync", {"fileName": "z.zip", "contentFile": two})
    answer = messages.parse_dian_response(resp.content, "SendBillSync")
    assert answer.status_code == "89"
    assert answer.status_description == "El método síncrono solo puede recibir un documento."
    resp = await call(client, "SendBillSync", {"fileName": "z.zip", "contentFile": "bm8gemlw"})
    answer = messages.parse_dian_response(resp.content, "SendBillSync")
    assert answer.status_code == "89"
    assert answer.status_description.startswith("Error descomprimiendo el archivo ZIP")


# -- WS-Security and envelope ----------------------------------------------------------------------
async def test_bad_ws_security_signature_is_invalid_security(client: httpx.AsyncClient) -> None:
    body = envelope("GetStatus", {"trackId": "x"}).replace(
        b"http://simulador/", b"http://otro.host/", 1
    )
    resp = await post(client, "GetStatus", body)
    assert resp.status_code == 500
    fault = messages.parse_fault(resp.content)
    assert fault == ("a:InvalidSecurity", soap_reason())
    assert "wsa:To" in resp.text  # the precise reason, in the second s:Text


async def test_thumbprint_key_reference(client: httpx.AsyncClient) -> None:
    """The WSDL's ThumbprintSHA1 form works for a certificate DIAN already knows (§15.4)."""
    body = envelope("GetStatus", {"trackId": "x"})
    root = etree.fromstring(body)
    sec = root.find(f".//{{{soap.WSSE}}}Security")
    assert sec is not None
    token = sec.find(f"{{{soap.WSSE}}}BinarySecurityToken")
    ref = sec.find(f".//{{{soap.WSSE}}}SecurityTokenReference/{{{soap.WSSE}}}Reference")
    assert token is not None and ref is not None
    thumb = certs.default_leaf().cert.fingerprint(hashes.SHA1())
    key_id = etree.Element(f"{{{soap.WSSE}}}KeyIdentifier", ValueType=soap.THUMBPRINT_SHA1)
    key_id.text = base64.b64encode(thumb).decode()
    ref.getparent().replace(ref, key_id)  # type: ignore[union-attr]
    sec.remove(token)
    thumb_body = etree.tostring(root)
    unknown = await post(client, "GetStatus", thumb_body)
    assert unknown.status_code == 500 and "ThumbprintSHA1" in unknown.text
    assert (await call(client, "GetStatus", {"trackId": "x"})).status_code == 200  # learns it
    assert (await post(client, "GetStatus", thumb_body)).status_code == 200


def soap_reason() -> str:
    return "An error occurred when verifying security for the message."


async def test_stale_timestamp_is_a_fault(client: httpx.AsyncClient) -> None:
    old = datetime.now(UTC) - timedelta(minutes=10)
    resp = await call(client, "GetStatus", {"trackId": "x"}, now=old)
    assert resp.status_code == 500
    assert messages.parse_fault(resp.content) == ("a:InvalidSecurity", soap_reason())
    assert "venció" in resp.text


async def test_envelope_checks(client: httpx.AsyncClient) -> None:
    resp = await post(client, "GetStatus", b"<no-soap/>")
    assert resp.status_code == 400 and messages.parse_fault(resp.content) is not None
    wrong_to = await call(client, "GetStatus", {"trackId": "x"}, to="http://simulador/otro.svc")
    assert messages.parse_fault(wrong_to.content)[0] == "a:DestinationUnreachable"  # type: ignore[index]
    body = envelope("GetStatus", {"trackId": "x"}).replace(
        b"IWcfDianCustomerServices/GetStatus</", b"IWcfDianCustomerServices/GetStatusZip</", 1
    )
    wrong_action = await post(client, "GetStatus", body)
    assert messages.parse_fault(wrong_action.content)[0] == "a:ActionNotSupported"  # type: ignore[index]


# -- acquirers (GetAcquirer, FAJ71) ---------------------------------------------------------------
async def get_acquirer(client: httpx.AsyncClient, id_type: str, id_number: str) -> Any:
    resp = await call(
        client, "GetAcquirer", {"identificationType": id_type, "identificationNumber": id_number}
    )
    assert resp.status_code == 200, resp.text
    return messages.parse_acquirer(resp.content)


async def test_get_acquirer(client: httpx.AsyncClient) -> None:
    found = await get_acquirer(client, "31", "800199436")
    assert (found.status_code, found.receiver_email, found.receiver_name) == (
        "200",
        DEMO_ACQUIRER_EMAIL,
        DEMO_ACQUIRER_NAME,
    )
    person = await get_acquirer(client, "13", "1020304050")
    assert person.status_code == "200" and person.receiver_name == "María Fernanda Restrepo Gómez"
    for id_type, id_number in (("31", "900000001"), ("13", "800199436")):  # unknown, wrong type
        missing = await get_acquirer(client, id_type, id_number)
        assert missing.status_code == "404"
        assert missing.receiver_email is None and missing.receiver_name is None
        assert missing.message == (
            f"No se encontró el adquiriente con tipo de identificación {id_type} y número "
            f"{id_number}."
        )


def with_customer(request: DocumentRequest, **changes: Any) -> DocumentRequest:
    customer = request.document.customer
    assert customer is not None
    return with_doc(request, customer=customer.model_copy(update=changes))


async def test_buyer_email_other_than_registered_is_faj71(
    client: httpx.AsyncClient, signing_cert: LoadedCertificate
) -> None:
    changed = with_customer(invoice(990000011), email="compras@distriantioquena.com.co")
    xml, _ = sign(changed, signing_cert)
    answer = await send_sync(client, xml)
    assert not answer.is_valid and answer.status_code == "99"
    assert codes(answer) == ["FAJ71"]
    assert answer.errors[0].raw == (
        "Regla: FAJ71, Rechazo: El correo electrónico del adquiriente no corresponde al "
        "registrado ante la DIAN."
    )
    ar = answer.application_response
    assert ar is not None and ar.response_code == "04"
    # The registered e-mail, in another case: accepted (the number was not consumed).
    upper = with_customer(invoice(990000011), email=DEMO_ACQUIRER_EMAIL.upper())
    assert (await send_sync(client, sign(upper, signing_cert)[0])).is_valid


async def test_faj71_only_for_registered_buyers_with_an_email(
    client: httpx.AsyncClient, signing_cert: LoadedCertificate
) -> None:
    no_email = with_customer(invoice(990000012), email=None)
    answer = await send_sync(client, sign(no_email, signing_cert)[0])
    assert answer.is_valid, answer.errors
    nit = "900123456"
    stranger = with_customer(
        invoice(990000013), id_number=nit, dv=nit_check_digit(nit), email="otro@example.com"
    )
    answer = await send_sync(client, sign(stranger, signing_cert)[0])
    assert answer.is_valid, answer.errors


# -- numbering and test sets -----------------------------------------------------------------------
async def test_get_numbering_range(client: httpx.AsyncClient) -> None:
    params = {"accountCode": "900373076", "accountCodeT": "900373076"}
    ok = messages.parse_numbering(
        (
            await call(client, "GetNumberingRange", {**params, "softwareCode": DEMO_SOFTWARE_ID})
        ).content
    )
    assert ok.operation_code == "100" and ok.operation_description == "Acción completada OK."
    [r] = ok.ranges
    assert (r.prefix, r.from_number, r.to_number, r.resolution_number) == (
        "SETP",
        990000000,
        995000000,
        "18760000001",
    )
    assert r.technical_key == "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c"
    assert r.valid_date_to == date(2030, 1, 19)
    other = "11111111-2222-4333-8444-555555555555"
    bad = messages.parse_numbering(
        (await call(client, "GetNumberingRange", {**params, "softwareCode": other})).content
    )
    assert bad.operation_code == "302" and bad.ranges == [] and other in bad.operation_description


async def test_test_set_becomes_accepted(
    sim: Simulator, client: httpx.AsyncClient, signing_cert: LoadedCertificate
) -> None:
    sim.faults = Faults(async_delay_polls=1)
    inv1, key1 = sign(invoice(990000101), signing_cert)
    inv2, _ = sign(invoice(990000102), signing_cert)
    nc, _ = sign(note("nota-credito", 101, "SETP990000101", key1), signing_cert)
    nd, _ = sign(note("nota-debito", 101, "SETP990000101", key1), signing_cert)
    files = {f"fv090037307600026000000{i}.xml": x for i, x in enumerate((inv1, inv2, nc, nd))}
    content = base64.b64encode(packaging.zip_files(files)).decode()
    params = {"fileName": "z09003730760002600000001.zip", "contentFile": content}
    resp = await call(client, "SendTestSetAsync", {**params, "testSetId": DEMO_TEST_SET_ID})
    upload = messages.parse_upload(resp.content, "SendTestSetAsync")
    assert upload.zip_key and upload.errors == []

    pending = messages.parse_status_zip(
        (await call(client, "GetStatusZip", {"trackId": upload.zip_key})).content
    )
    assert [(p.status_code, p.status_description) for p in pending] == [
        ("", "Batch en proceso de validación.")
    ]
    done = messages.parse_status_zip(
        (await call(client, "GetStatusZip", {"trackId": upload.zip_key})).content
    )
    assert [d.status_code for d in done[:4]] == ["00"] * 4, [d.errors for d in done]
    accepted = f"Set de prueba con identificador {DEMO_TEST_SET_ID} se encuentra Aceptado."
    assert done[4].status_code == "2" and done[4].status_message == accepted
    assert sim.state.test_sets[DEMO_TEST_SET_ID].status == "Aceptado"

    unknown = await call(client, "SendTestSetAsync", {**params, "testSetId": "no-existe"})
    refused = messages.parse_upload(unknown.content, "SendTestSetAsync")
    assert refused.zip_key is None and len(refused.errors) == 1
    missing = messages.parse_status_zip(
        (await call(client, "GetStatusZip", {"trackId": "no-existe"})).content
    )
    assert [m.status_code for m in missing] == ["66"]


async def test_test_set_rejected_after_too_many_rejections(
    sim: Simulator, client: httpx.AsyncClient, signing_cert: LoadedCertificate
) -> None:
    bad, _ = sign(invoice(990000200), signing_cert)
    bad = bad.replace(b"Pedido", b"Pedid0", 1)
    files = {f"fv09003730760002600000{i:03d}.xml": bad for i in range(5)}
    content = base64.b64encode(packaging.zip_files(files)).decode()
    params = {"fileName": "z.zip", "contentFile": content, "testSetId": DEMO_TEST_SET_ID}
    upload = messages.parse_upload(
        (await call(client, "SendTestSetAsync", params)).content, "SendTestSetAsync"
    )
    status = messages.parse_status_zip(
        (await call(client, "GetStatusZip", {"trackId": upload.zip_key or ""})).content
    )
    assert status[-1].status_message.endswith("se encuentra Rechazado.")
    assert sim.state.test_sets[DEMO_TEST_SET_ID].status == "Rechazado"


async def test_send_bill_async_does_not_count_for_test_sets(
    sim: Simulator, client: httpx.AsyncClient, signing_cert: LoadedCertificate
) -> None:
    xml, key = sign(invoice(990000300), signing_cert)
    pkg = package(xml)
    upload = messages.parse_upload(
        (
            await call(
                client, "SendBillAsync", {"fileName": pkg.zip_name, "contentFile": pkg.content_b64}
            )
        ).content,
        "SendBillAsync",
    )
    [item] = messages.parse_status_zip(
        (await call(client, "GetStatusZip", {"trackId": upload.zip_key or ""})).content
    )
    assert item.is_valid and item.xml_document_key == key
    assert sim.state.test_sets == {}


async def test_event_on_an_accepted_invoice(
    client: httpx.AsyncClient, signing_cert: LoadedCertificate
) -> None:

    inv, key = sign(invoice(990000400), signing_cert)
    assert (await send_sync(client, inv)).is_valid
    event = signed_event("SETP990000400", key, signing_cert, ar_number=7)
    content = base64.b64encode(packaging.zip_files({"ar.xml": event})).decode()
    ok = messages.parse_dian_response(
        (await call(client, "SendEventUpdateStatus", {"contentFile": content})).content,
        "SendEventUpdateStatus",
    )
    assert ok.is_valid and ok.status_code == "00"
    again = messages.parse_dian_response(
        (await call(client, "SendEventUpdateStatus", {"contentFile": content})).content,
        "SendEventUpdateStatus",
    )
    assert again.status_code == "99" and codes(again) == ["AA09"]


# -- fault switches --------------------------------------------------------------------------------
async def test_latency(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.faults = Faults(latency_ms=250)
    started = time.perf_counter()
    resp = await call(client, "GetStatus", {"trackId": "x"})
    assert resp.status_code == 200 and time.perf_counter() - started >= 0.25


async def test_http_status_soap_fault_and_count(sim: Simulator, client: httpx.AsyncClient) -> None:
    sim.faults = Faults(http_status=503, count=1)
    resp = await call(client, "GetStatus", {"trackId": "x"})
    assert resp.status_code == 503 and resp.headers["content-type"].startswith("text/html")
    assert "Service Unavailable" in resp.text
    assert (await call(client, "GetStatus", {"trackId": "x"})).status_code == 200
    sim.faults = Faults(http_status=500)
    assert (await call(client, "GetStatus", {"trackId": "x"})).status_code == 500
    sim.faults = Faults(soap_fault="Error interno del servicio.")
    resp = await call(client, "GetStatus", {"trackId": "x"})
    assert resp.status_code == 500
    assert messages.parse_fault(resp.content) == (
        "a:InternalServiceFault",
        "Error interno del servicio.",
    )


@pytest.mark.parametrize("kind", ["truncated", "html", "not-xml"])
async def test_malformed_answers(sim: Simulator, client: httpx.AsyncClient, kind: str) -> None:
    sim.faults = Faults(malformed=kind)  # type: ignore[arg-type]
    resp = await call(client, "GetStatus", {"trackId": "x"})
    assert resp.status_code == 200
    with pytest.raises(messages.AnswerError):
        messages.parse_dian_response(resp.content, "GetStatus")
    if kind == "html":
        assert resp.headers["content-type"].startswith("text/html")


async def test_accept_then_drop_then_get_status(
    sim: Simulator, client: httpx.AsyncClient, signing_cert: LoadedCertificate
) -> None:
    sim.faults = Faults(accept_then_drop=True, hang_seconds=30, count=1)
    xml, key = sign(invoice(990000500), signing_cert)
    pkg = package(xml)
    body = envelope("SendBillSync", {"fileName": pkg.zip_name, "contentFile": pkg.content_b64})
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(post(client, "SendBillSync", body), 0.5)
    status = messages.parse_dian_response(
        (await call(client, "GetStatus", {"trackId": key})).content, "GetStatus"
    )
    assert status.is_valid and status.status_code == "00"


async def test_accept_all_fast_path(
    sim: Simulator, client: httpx.AsyncClient, signing_cert: LoadedCertificate
) -> None:
    sim.faults = Faults(accept_all=True)
    xml, key = sign(invoice(), signing_cert, tamper=lambda r: None)
    stale = datetime.now(UTC) - timedelta(hours=1)  # security is not even looked at
    answer = await send_sync(client, xml.replace(b"Pedido", b"Pedid0", 1), now=stale)
    assert answer.is_valid and answer.xml_document_key == key
    assert answer.application_response is None
    assert sim.state.documents == {}


async def test_admin_endpoints(sim: Simulator, client: httpx.AsyncClient) -> None:
    resp = await client.post("/_simulator/faults", content=json.dumps({"latency_ms": 5}))
    assert resp.status_code == 200 and sim.faults.latency_ms == 5
    assert (await client.post("/_simulator/faults", content=b'{"bogus": 1}')).status_code == 422
    state = (await client.get("/_simulator/state")).json()
    assert state["simulator"].startswith("Simulador local de la DIAN")
    assert state["faults"]["latency_ms"] == 5
    assert (await client.post("/_simulator/faults", content=b"{}")).json()["latency_ms"] == 0
    page = await client.get(PATH)
    assert "doble de pruebas" in page.text


async def test_timeout_against_a_real_server() -> None:
    server, sim = build_server(0, log_level="warning")
    sim.faults = Faults(timeout=True, hang_seconds=5)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):  # uvicorn has no "started" event to await
            if server.started:
                break
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}{PATH}"
        body = envelope("GetStatus", {"trackId": "x"}, to=url)
        async with httpx.AsyncClient(timeout=httpx.Timeout(5.0, read=0.3)) as c:
            with pytest.raises(httpx.ReadTimeout):
                await c.post(url, content=body, headers={"content-type": soap.content_type("x")})
            sim.faults = Faults()
            resp = await c.post(url, content=body)
            assert resp.status_code == 200
    finally:
        server.should_exit = True
        await task
    with pytest.raises(InputError):
        build_server(8089, host="0.0.0.0")


# -- persistence -----------------------------------------------------------------------------------
async def test_state_persists_across_restarts(
    tmp_path: os.PathLike[str], signing_cert: LoadedCertificate
) -> None:
    from pathlib import Path

    state_dir = Path(tmp_path) / "estado"
    config = demo_config(state_dir=state_dir)
    xml, key = sign(invoice(990000600), signing_cert)
    transport = httpx.ASGITransport(app=create_app(config))
    async with httpx.AsyncClient(transport=transport, base_url="http://simulador") as c:
        assert (await send_sync(c, xml)).is_valid
    files = list((state_dir / "documents").glob("*.json"))
    assert [f.name for f in files] == [f"{key}.json"]
    assert all(os.stat(f).st_mode & 0o777 == 0o600 for f in [*files, state_dir / "index.json"])

    reloaded = create_app(SimulatorConfig.model_validate(config.model_dump()))
    transport = httpx.ASGITransport(app=reloaded)
    async with httpx.AsyncClient(transport=transport, base_url="http://simulador") as c:
        status = messages.parse_dian_response(
            (await call(c, "GetStatus", {"trackId": key})).content, "GetStatus"
        )
        assert status.is_valid and status.application_response is not None
        assert codes(await send_sync(c, xml)) == ["90"]


async def test_state_counts_sends_per_document(
    sim: Simulator, client: httpx.AsyncClient, signing_cert: LoadedCertificate
) -> None:
    """sends_total / max_sends_per_document count every arrival: Regla 90 and rejections too."""

    async def counters() -> tuple[int, int]:
        docs = (await client.get("/_simulator/state")).json()["documents"]
        return docs["sends_total"], docs["max_sends_per_document"]

    assert await counters() == (0, 0)
    first, _ = sign(invoice(990000700), signing_cert)
    second, _ = sign(invoice(990000701), signing_cert)
    assert (await send_sync(client, first)).is_valid
    assert (await send_sync(client, second)).is_valid
    assert await counters() == (2, 1)
    assert codes(await send_sync(client, first)) == ["90"]  # a duplicate arrives: counted
    assert await counters() == (3, 2)
    third, _ = sign(invoice(990000702), signing_cert)
    rejected = third.replace(b"Pedido", b"Pedid0", 1)
    for _ in range(2):
        assert codes(await send_sync(client, rejected)) == ["ZE02"]
    assert await counters() == (5, 2)
    assert (await send_sync(client, third)).is_valid  # the corrected one: its third arrival
    assert await counters() == (6, 3)
    sim.faults = Faults(http_status=503, count=1)  # refused before any document is looked at
    pkg = package(first)
    body = envelope("SendBillSync", {"fileName": pkg.zip_name, "contentFile": pkg.content_b64})
    assert (await post(client, "SendBillSync", body)).status_code == 503
    assert await counters() == (6, 3)
    sim.faults = Faults(accept_all=True)  # the benchmark path counts too
    for _ in range(3):
        assert (await send_sync(client, second)).is_valid
    assert await counters() == (9, 4)


async def test_send_counters_persist(
    tmp_path: os.PathLike[str], signing_cert: LoadedCertificate
) -> None:
    from pathlib import Path

    config = demo_config(state_dir=Path(tmp_path) / "estado")
    xml, _ = sign(invoice(990000710), signing_cert)
    transport = httpx.ASGITransport(app=create_app(config))
    async with httpx.AsyncClient(transport=transport, base_url="http://simulador") as c:
        assert (await send_sync(c, xml)).is_valid
        assert codes(await send_sync(c, xml)) == ["90"]
    log = Path(tmp_path) / "estado" / "sends.log"
    assert os.stat(log).st_mode & 0o777 == 0o600
    reloaded = create_app(SimulatorConfig.model_validate(config.model_dump()))
    docs = reloaded.state.summary()["documents"]
    assert (docs["sends_total"], docs["max_sends_per_document"]) == (2, 2)
