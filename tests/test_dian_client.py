"""The async DIAN client against ``httpx.MockTransport`` handlers (no network).

Requests are checked the way DIAN checks them (SOAP 1.2, action in the
content type, WS-Security over ``wsa:To``); answers are rendered with the
same renderer the simulator uses, and each classifies into its outcome.
Failures cover the transport (refused, timeouts), HTTP errors, SOAP faults
and hostile answers (HTML, truncation, DOCTYPE, 100 MB streams, zip bombs).
"""

from __future__ import annotations

import base64
import gzip
import io
import socket
import tracemalloc
import zipfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from fe_tui.dian import environments, messages, outcomes, soap
from fe_tui.dian.client import DEFAULT_TIMEOUT, DianClient
from fe_tui.dian.environments import Environment
from fe_tui.dian.messages import (
    AcquirerResponse,
    DianResponse,
    NumberingRange,
    NumberingRangeResponse,
    RuleMessage,
    TrackIdMessage,
    UploadDocumentResponse,
    XmlDocumentResponse,
)
from fe_tui.domain.models import Resolution
from fe_tui.errors import InputError
from fe_tui.services import dian_ops
from fe_tui.ubl import packaging
from tests import certs

CUFE = (
    "8bb918b19ba22a694f1da11c643b5e9de39adf60311cf179"
    "179e9b33381030bcd4c3c3f156c506ed5908f9276f5bd9b4"
)
OTHER_CUFE = "a" * 96
ACTION = soap.ACTION_BASE


@dataclass(frozen=True)
class Identity:
    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate


@pytest.fixture(scope="module")
def identity() -> Identity:
    leaf = certs.default_leaf()
    return Identity(leaf.key, leaf.cert)


@pytest.fixture(scope="module")
def package() -> packaging.Package:
    xml = b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>'
    return packaging.pack(xml, document_type="01", nit="900373076", year=2026, consecutive=1)


ENV = environments.habilitation()

Handler = Callable[[httpx.Request], httpx.Response]


def client_for(identity: Identity, handler: Handler, env: Environment = ENV, **kw) -> DianClient:
    return DianClient(env, identity, transport=httpx.MockTransport(handler), **kw)


def answer(operation: str, body_xml: str, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status,
        content=soap.envelope(body_xml, action=f"{ACTION}{operation}Response"),
        headers={"Content-Type": "application/soap+xml; charset=utf-8"},
    )


def respond(operation: str, body_xml: str) -> Handler:
    return lambda request: answer(operation, body_xml)


def application_response(code: str = "02") -> messages.ApplicationResponse:
    xml = (
        '<ApplicationResponse xmlns="urn:oasis:names:specification:ubl:schema:xsd:'
        'ApplicationResponse-2" xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:'
        'CommonAggregateComponents-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:'
        'CommonBasicComponents-2"><cac:DocumentResponse><cac:Response>'
        f"<cbc:ResponseCode>{code}</cbc:ResponseCode><cbc:Description>Documento validado por la "
        "DIAN</cbc:Description></cac:Response><cac:DocumentReference><cbc:ID>SETP990000001"
        f"</cbc:ID><cbc:UUID>{CUFE}</cbc:UUID></cac:DocumentReference></cac:DocumentResponse>"
        "</ApplicationResponse>"
    ).encode()
    return messages.parse_application_response(xml)


def dian(**kw: Any) -> DianResponse:
    """A DianResponse (rejected by default); ``errors`` given as DIAN's strings."""
    base: dict[str, Any] = {"is_valid": False, "status_code": "99"}
    base.update(kw)
    if "errors" in base:
        base["errors"] = [RuleMessage.parse(s) for s in base["errors"]]
    return DianResponse(**base)


# -- requests -------------------------------------------------------------------------------------
CALLS = {
    "SendBillSync": lambda c, p: c.send_bill_sync(p),
    "SendBillAsync": lambda c, p: c.send_bill_async(p),
    "SendTestSetAsync": lambda c, p: c.send_test_set_async(
        p, "e07c1748-0000-4000-8000-000000000001"
    ),
    "GetStatus": lambda c, p: c.get_status(CUFE),
    "GetStatusZip": lambda c, p: c.get_status_zip("4d1c5f0e-0000-4000-8000-000000000002"),
    "GetNumberingRange": lambda c, p: c.get_numbering_range("900373076", "900373076", "sw-1"),
    "GetXmlByDocumentKey": lambda c, p: c.get_xml_by_document_key(CUFE),
    "SendEventUpdateStatus": lambda c, p: c.send_event_update_status(p),
    "GetAcquirer": lambda c, p: c.get_acquirer("31", "800199436"),
}


@pytest.mark.parametrize("operation", sorted(CALLS))
async def test_request_is_signed_soap12_addressed_to_environment(
    operation: str, identity: Identity, package: packaging.Package
) -> None:
    seen: list[soap.ParsedRequest] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert str(request.url) == ENV.url
        assert request.headers["content-type"] == soap.content_type(operation)
        assert f'action="{ACTION}{operation}"' in request.headers["content-type"]
        parsed = soap.parse_request(request.content)
        info = soap.verify_security(parsed)
        assert info.certificate == identity.certificate
        assert info.key_reference == "BinarySecurityToken"
        seen.append(parsed)
        return httpx.Response(503, text="<html><title>Service Unavailable</title></html>")

    async with client_for(identity, handler) as client:
        outcome = await CALLS[operation](client, package)
    assert isinstance(outcome, outcomes.HttpError)
    (parsed,) = seen
    assert parsed.operation == operation
    assert parsed.action == f"{ACTION}{operation}"
    assert parsed.to == ENV.url
    assert set(parsed.params) == set(soap.OPERATIONS[operation])
    if "contentFile" in parsed.params:
        assert base64.b64decode(parsed.params["contentFile"]) == package.zip_bytes
    if "fileName" in parsed.params:
        assert parsed.params["fileName"] == package.zip_name
    record = outcome.record
    assert record is not None and record.operation == operation and record.http_status == 503
    assert record.request_envelope.startswith(b"<soap:Envelope")


async def test_call_record_and_callback(identity: Identity, package: packaging.Package) -> None:
    records: list[outcomes.CallRecord] = []
    big = packaging.Package("z.zip", "z.zip", b"x" * 200_000)
    handler = respond("SendBillSync", messages.render_dian_response("SendBillSync", dian()))
    async with client_for(identity, handler, on_call=records.append) as client:
        outcome = await client.send_bill_sync(big)
    (record,) = records
    assert outcome.record is record
    assert record.url == ENV.url and record.http_status == 200
    assert record.request_bytes > 260_000
    assert len(record.request_envelope) == outcomes.CallRecord.ENVELOPE_CAP
    assert record.response_bytes == len(record.response_envelope)
    assert record.ended >= record.started and record.duration_ms >= 0
    assert record.started.tzinfo is not None


async def test_bad_arguments_raise(identity: Identity) -> None:
    async with client_for(identity, respond("GetStatus", "")) as client:
        with pytest.raises(InputError, match="CUFE"):
            await client.get_status("  ")
        with pytest.raises(InputError, match="set de pruebas"):
            await client.send_test_set_async(packaging.Package("a.xml", "z.zip", b"PK"), "")


# -- DIAN's verdicts ------------------------------------------------------------------------------
async def test_accepted(identity: Identity, package: packaging.Package) -> None:
    r = dian(
        is_valid=True,
        status_code="00",
        status_description="Procesado Correctamente.",
        status_message="La Factura electrónica SETP-990000001, ha sido autorizada.",
        xml_document_key=CUFE,
        xml_file_name="fv09003730760002600000001.xml",
        application_response=application_response(),
    )
    handler = respond("SendBillSync", messages.render_dian_response("SendBillSync", r))
    async with client_for(identity, handler) as client:
        outcome = await client.send_bill_sync(package)
    assert isinstance(outcome, outcomes.Accepted)
    assert outcome.kind == "accepted" and outcome.final and not outcome.retryable
    assert outcome.sent is True and outcome.may_have_reached_dian
    assert not outcome.needs_status_check
    assert outcome.document_key == CUFE
    ar = outcome.response.application_response
    assert ar is not None and ar.response_code == "02" and ar.document_key == CUFE
    assert "ha sido autorizada" in outcome.message


async def test_accepted_with_notifications(identity: Identity, package: packaging.Package) -> None:
    r = dian(
        is_valid=True,
        status_code="00",
        errors=[
            "Regla: FAJ43b, Notificación: Nombre informado no corresponde al registrado en el "
            "RUT con respecto al Nit suminstrado."
        ],
        xml_document_key=CUFE,
    )
    handler = respond("SendBillSync", messages.render_dian_response("SendBillSync", r))
    async with client_for(identity, handler) as client:
        outcome = await client.send_bill_sync(package)
    assert isinstance(outcome, outcomes.AcceptedWithNotifications)
    assert [rule.code for rule in outcome.rules] == ["FAJ43b"]
    assert outcome.rules[0].kind == "Notificación"
    assert "FAJ43b" in outcome.message and outcome.final


async def test_rejected_with_rules_explained(
    identity: Identity, package: packaging.Package
) -> None:
    r = dian(
        status_description="Validación contiene errores en campos mandatorios.",
        errors=[
            "Regla: FAD06, Rechazo: Valor del CUFE no está calculado correctamente.",
            "Regla: FAB05b, Notificación: Fecha de validez de la resolución no vigente.",
            "texto libre sin regla",
        ],
    )
    handler = respond("SendBillSync", messages.render_dian_response("SendBillSync", r))
    async with client_for(identity, handler) as client:
        outcome = await client.send_bill_sync(package)
    assert isinstance(outcome, outcomes.Rejected)
    assert outcome.final and not outcome.retryable and not outcome.needs_status_check
    codes = [rule.code for rule in outcome.rules]
    assert "FAD06" in codes and "FAB05b" in codes
    fad06 = next(rule for rule in outcome.rules if rule.code == "FAD06")
    assert fad06.known and fad06.explanation
    assert [rule.code for rule in outcome.rejections][0] == "FAD06"
    assert "FAD06" in outcome.message and "mismo número" in outcome.message
    assert "\n" not in outcome.message


async def test_regla_90_is_already_processed_with_key(
    identity: Identity, package: packaging.Package
) -> None:
    r = dian(
        errors=[f"Regla: 90, Rechazo: Documento con CUFE '{OTHER_CUFE}' procesado anteriormente."],
        xml_document_key=CUFE,
    )
    handler = respond("SendBillSync", messages.render_dian_response("SendBillSync", r))
    async with client_for(identity, handler) as client:
        outcome = await client.send_bill_sync(package)
    assert isinstance(outcome, outcomes.AlreadyProcessed)
    assert outcome.existing_key == CUFE  # XmlDocumentKey first
    assert "Regla 90" in outcome.message and "No lo renumere" in outcome.message


def test_regla_90_key_from_text() -> None:
    r = dian(
        errors=[f"Regla: 90, Rechazo: Documento con CUFE '{OTHER_CUFE}' procesado anteriormente."]
    )
    outcome = outcomes.classify("SendBillSync", r)
    assert isinstance(outcome, outcomes.AlreadyProcessed)
    assert outcome.existing_key == OTHER_CUFE


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (dian(status_code="98", status_description="En Proceso"), outcomes.InProcess),
        (
            dian(
                status_code="66",
                status_description="TrackId no existe en los registros de la DIAN.",
            ),
            outcomes.NotFound,
        ),
    ],
)
async def test_get_status_in_process_and_not_found(
    response: DianResponse, expected: type, identity: Identity
) -> None:
    handler = respond("GetStatus", messages.render_dian_response("GetStatus", response))
    async with client_for(identity, handler) as client:
        outcome = await client.get_status(CUFE)
    assert isinstance(outcome, expected)
    if expected is outcomes.InProcess:
        assert outcome.retryable and not outcome.final
    else:
        assert outcome.final and "TrackId no existe" in outcome.message


async def test_status_zip_in_process(identity: Identity) -> None:
    r = dian(status_code="", status_description="Batch en proceso de validación.")
    handler = respond("GetStatusZip", messages.render_status_zip([r]))
    async with client_for(identity, handler) as client:
        outcome = await client.get_status_zip("4d1c5f0e-0000-4000-8000-000000000003")
    assert isinstance(outcome, outcomes.BatchStatus)
    assert outcome.in_process and not outcome.final and outcome.retryable
    assert isinstance(outcome.items[0], outcomes.InProcess)
    assert not outcome.test_set_accepted


async def test_status_zip_test_set_accepted(identity: Identity) -> None:
    text = (
        "Set de prueba con identificador e07c1748-0000-4000-8000-000000000001 "
        "se encuentra Aceptado."
    )
    items = [
        dian(is_valid=True, status_code="00", xml_document_key=CUFE),
        dian(status_code="2", status_description=text, status_message=text),
    ]
    handler = respond("GetStatusZip", messages.render_status_zip(items))
    async with client_for(identity, handler) as client:
        outcome = await client.get_status_zip("4d1c5f0e-0000-4000-8000-000000000003")
    assert isinstance(outcome, outcomes.BatchStatus)
    assert outcome.final and not outcome.in_process
    assert outcome.test_set_accepted
    assert outcome.test_set is not None
    assert outcome.test_set.test_set_id == "e07c1748-0000-4000-8000-000000000001"
    assert isinstance(outcome.items[0], outcomes.Accepted)
    assert "Set de pruebas aceptado" in outcome.message


def test_test_set_rejected_is_not_accepted() -> None:
    text = "Set de prueba con identificador abc se encuentra Rechazado."
    batch = outcomes.classify_batch([dian(status_code="2", status_description=text)])
    assert batch.test_set is not None and not batch.test_set_accepted


async def test_numbering_ranges_become_resolutions(identity: Identity) -> None:
    key = "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c"
    r = NumberingRangeResponse(
        operation_code="100",
        operation_description="Acción completada OK.",
        ranges=[
            NumberingRange(
                resolution_number="18760000001",
                resolution_date=date(2019, 1, 19),
                prefix="SETP",
                from_number=990000000,
                to_number=995000000,
                valid_date_from=date(2019, 1, 19),
                valid_date_to=date(2030, 1, 19),
                technical_key=key,
            ),
            NumberingRange(
                resolution_number="18764000000002",
                prefix="FE",
                from_number=1,
                to_number=1000,
                valid_date_from=date(2024, 1, 1),
                valid_date_to=date(2026, 12, 31),
                technical_key="b" * 64,
            ),
            NumberingRange(  # documento soporte: no technical key
                resolution_number="18764000000003",
                prefix="DS",
                from_number=1,
                to_number=10,
                valid_date_from=date(2024, 1, 1),
                valid_date_to=date(2026, 12, 31),
            ),
        ],
    )
    handler = respond("GetNumberingRange", messages.render_numbering(r))
    async with client_for(identity, handler) as client:
        outcome = await client.get_numbering_range("900373076", "900373076", "sw-1")
    assert isinstance(outcome, outcomes.NumberingRanges)
    assert len(outcome.ranges) == 3
    resolutions = outcome.resolutions()
    assert all(isinstance(x, Resolution) for x in resolutions)
    first, second = resolutions
    assert first.number == "18760000001" and first.date == date(2019, 1, 19)
    assert first.prefix == "SETP" and first.technical_key == key
    assert first.contains(990000001) and first.valid_on(date(2026, 5, 1))
    assert second.date is None  # ResolutionDate missing


async def test_numbering_failed(identity: Identity) -> None:
    r = NumberingRangeResponse(
        operation_code="301", operation_description="Software no asociado al NIT."
    )
    handler = respond("GetNumberingRange", messages.render_numbering(r))
    async with client_for(identity, handler) as client:
        outcome = await client.get_numbering_range("900373076", "900373076", "sw-1")
    assert isinstance(outcome, outcomes.NumberingFailed)
    assert "Software no asociado" in outcome.message


async def test_queued_and_queue_refused(identity: Identity, package: packaging.Package) -> None:
    ok = UploadDocumentResponse(zip_key="4d1c5f0e-0000-4000-8000-000000000002")
    refused = UploadDocumentResponse(
        zip_key=None,
        errors=[
            TrackIdMessage(
                success=False,
                xml_file_name="fv09003730760002600000001.xml",
                processed_message="El archivo no es un zip válido.",
            )
        ],
    )
    async with client_for(
        identity, respond("SendBillAsync", messages.render_upload("SendBillAsync", ok))
    ) as client:
        queued = await client.send_bill_async(package)
    async with client_for(
        identity, respond("SendTestSetAsync", messages.render_upload("SendTestSetAsync", refused))
    ) as client:
        refused_outcome = await client.send_test_set_async(package, "set-1")
    assert isinstance(queued, outcomes.Queued)
    assert queued.zip_key == ok.zip_key and not queued.final
    assert isinstance(refused_outcome, outcomes.QueueRefused)
    assert "no es un zip válido" in refused_outcome.message


async def test_xml_by_document_key(identity: Identity) -> None:
    found = XmlDocumentResponse(code="100", message="Accion completada OK", xml=b"<Invoice/>")
    missing = XmlDocumentResponse(code="404", message="No se encontró el documento.")
    async with client_for(
        identity, respond("GetXmlByDocumentKey", messages.render_xml_by_key(found))
    ) as client:
        stored = await client.get_xml_by_document_key(CUFE)
    async with client_for(
        identity, respond("GetXmlByDocumentKey", messages.render_xml_by_key(missing))
    ) as client:
        not_found = await client.get_xml_by_document_key(CUFE)
    assert isinstance(stored, outcomes.StoredXml) and stored.xml == b"<Invoice/>"
    assert isinstance(not_found, outcomes.NotFound)
    assert "No se encontró" in not_found.message


# -- GetAcquirer ----------------------------------------------------------------------------------
ACQUIRER_EMAIL = "recepcion.facturas@distriantioquena.com.co"


async def test_acquirer_found(identity: Identity) -> None:
    found = AcquirerResponse(
        status_code="200",
        message="Acción completada OK.",
        receiver_email=ACQUIRER_EMAIL,
        receiver_name="Distribuidora Antioqueña de Alimentos S.A.S.",
    )
    seen: list[soap.ParsedRequest] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(soap.parse_request(request.content))
        return answer("GetAcquirer", messages.render_acquirer(found))

    async with client_for(identity, handler) as client:
        outcome = await client.get_acquirer(" 31 ", " 800199436 ")
    assert seen[0].params == {"identificationType": "31", "identificationNumber": "800199436"}
    assert isinstance(outcome, outcomes.Acquirer)
    assert outcome.email == ACQUIRER_EMAIL and outcome.name.startswith("Distribuidora")
    assert ACQUIRER_EMAIL in outcome.message and "FAJ71" in outcome.message
    assert outcome.final and not outcome.retryable and not outcome.needs_status_check
    assert outcome.record is not None and outcome.operation == "GetAcquirer"
    assert dian_ops.exit_code(outcome) == 0
    data = dian_ops.outcome_to_dict(outcome)
    assert data["kind"] == "acquirer" and data["status_code"] == "200"
    assert data["receiver_email"] == ACQUIRER_EMAIL
    assert data["receiver_name"] == "Distribuidora Antioqueña de Alimentos S.A.S."


def test_acquirer_answer_round_trip_and_foreign_prefixes() -> None:
    r = AcquirerResponse(
        status_code="200", message="OK", receiver_email="a&b@x.co", receiver_name="<Ñandú>"
    )
    data = soap.envelope(messages.render_acquirer(r), action=f"{ACTION}GetAcquirerResponse")
    assert b"Gosocket.Dian.Services.Utils.Common" in data
    assert messages.parse_acquirer(data) == r
    # Another prefix, another order, unknown elements: read by local name.
    other = (
        f'<s:Envelope xmlns:s="{soap.SOAP}"><s:Body><GetAcquirerResponse xmlns="{soap.WCF}">'
        '<GetAcquirerResult xmlns:c="urn:otro"><c:StatusCode>200</c:StatusCode><c:Extra/>'
        "<c:ReceiverName>Ana</c:ReceiverName><c:ReceiverEmail> ana@x.co </c:ReceiverEmail>"
        "</GetAcquirerResult></GetAcquirerResponse></s:Body></s:Envelope>"
    ).encode()
    parsed = messages.parse_acquirer(other)
    assert (parsed.status_code, parsed.receiver_email, parsed.message) == ("200", "ana@x.co", "")


@pytest.mark.parametrize(
    "response",
    [
        AcquirerResponse(
            status_code="404",
            message="No se encontró el adquiriente con tipo de identificación 31 y número 1.",
        ),
        AcquirerResponse(status_code="200", message="Acción completada OK."),  # no e-mail
    ],
    ids=["404", "200-without-email"],
)
async def test_acquirer_not_found(identity: Identity, response: AcquirerResponse) -> None:
    handler = respond("GetAcquirer", messages.render_acquirer(response))
    async with client_for(identity, handler) as client:
        outcome = await client.get_acquirer("31", "800199436")
    assert isinstance(outcome, outcomes.AcquirerNotFound)
    assert outcome.final and not outcome.retryable
    assert response.message.rstrip(".") in outcome.message
    assert "Res. 000202/2025" in outcome.message
    assert dian_ops.exit_code(outcome) == 1
    data = dian_ops.outcome_to_dict(outcome)
    assert data["kind"] == "acquirer_not_found" and data["receiver_email"] is None


@pytest.mark.parametrize(
    "body",
    [
        "<GetAcquirerResponse xmlns='http://wcf.dian.colombia'/>",  # no GetAcquirerResult
        "<GetStatusResponse xmlns='http://wcf.dian.colombia'><GetStatusResult/>"
        "</GetStatusResponse>",
    ],
    ids=["no-result", "other-operation"],
)
async def test_acquirer_malformed(identity: Identity, body: str) -> None:
    async with client_for(identity, respond("GetAcquirer", body)) as client:
        outcome = await client.get_acquirer("13", "1020304050")
    assert isinstance(outcome, outcomes.MalformedAnswer)
    assert "GetAcquirerResult" in outcome.message
    assert not outcome.needs_status_check and dian_ops.exit_code(outcome) == 3


async def test_acquirer_truncated_answer_is_malformed(identity: Identity) -> None:
    full = soap.envelope(
        messages.render_acquirer(AcquirerResponse(status_code="200", receiver_email="a@b.co")),
        action=f"{ACTION}GetAcquirerResponse",
    )

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=full[: len(full) // 2])

    async with client_for(identity, handler) as client:
        outcome = await client.get_acquirer("31", "800199436")
    assert isinstance(outcome, outcomes.MalformedAnswer)


@pytest.mark.parametrize(
    ("id_type", "id_number", "match"),
    [
        ("NIT", "800199436", "Tipo de identificación «NIT» no válido"),
        ("99", "800199436", "no válido"),
        ("", "800199436", "tipo de identificación"),
        ("31", "  ", "número de identificación"),
        ("31", "800.199.436", "solo dígitos"),
        ("31", "800199436-4", "sin dígito de verificación"),
        ("13", "10203A", "solo dígitos"),
        ("41", "AB 123", "letras, dígitos o guiones"),
        ("31", "1" * 21, "hasta 20"),
    ],
)
async def test_acquirer_bad_arguments_raise(
    identity: Identity, id_type: str, id_number: str, match: str
) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500)

    async with client_for(identity, handler) as client:
        with pytest.raises(InputError, match=match):
            await client.get_acquirer(id_type, id_number)
        ok = await client.get_acquirer("41", "AB-123")  # passports: letters and hyphens
    assert isinstance(ok, outcomes.HttpError) and len(calls) == 1


# -- transport failures ---------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_connection_refused_is_connection_failed(
    identity: Identity, package: packaging.Package
) -> None:
    env = environments.simulator(f"http://127.0.0.1:{_free_port()}/WcfDianCustomerServices.svc")
    async with DianClient(env, identity) as client:
        outcome = await client.send_bill_sync(package)
    assert isinstance(outcome, outcomes.ConnectionFailed)
    assert outcome.sent is False and not outcome.may_have_reached_dian
    assert outcome.retryable and not outcome.final and not outcome.needs_status_check
    assert "No se envió nada" in outcome.message
    assert outcome.record is not None and outcome.record.http_status is None


async def test_tls_failure_is_connection_failed(
    identity: Identity, package: packaging.Package
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")

    async with client_for(identity, handler) as client:
        outcome = await client.send_bill_sync(package)
    assert isinstance(outcome, outcomes.ConnectionFailed) and outcome.tls
    assert "TLS" in outcome.message


async def test_read_timeout_is_timeout_after_send(
    identity: Identity, package: packaging.Package
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with client_for(identity, handler) as client:
        sent = await client.send_bill_sync(package)
        query = await client.get_status(CUFE)
    assert isinstance(sent, outcomes.TimeoutAfterSend)
    assert sent.sent is True and sent.may_have_reached_dian and sent.needs_status_check
    assert "GetStatus" in sent.message and "antes de reenviar" in sent.message
    assert isinstance(query, outcomes.TimeoutAfterSend) and not query.needs_status_check
    assert "puede repetirla" in query.message


@pytest.mark.parametrize(
    "exc",
    [httpx.RemoteProtocolError("Server disconnected"), httpx.ReadError("reset by peer")],
)
async def test_dropped_answer_is_timeout_after_send(
    exc: Exception, identity: Identity, package: packaging.Package
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    async with client_for(identity, handler) as client:
        outcome = await client.send_bill_sync(package)
    assert isinstance(outcome, outcomes.TimeoutAfterSend) and outcome.may_have_reached_dian


async def test_write_timeout_sent_unknown(identity: Identity, package: packaging.Package) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.WriteTimeout("write timed out")

    async with client_for(identity, handler) as client:
        outcome = await client.send_bill_sync(package)
    assert isinstance(outcome, outcomes.TimeoutAfterSend)
    assert outcome.sent is None and outcome.phase == "write" and outcome.needs_status_check


async def test_http_503_html_is_retryable_http_error(
    identity: Identity, package: packaging.Package
) -> None:
    page = (
        "<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head>"
        "<body>x</body></html>"
    )

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, text=page, headers={"Content-Type": "text/html"})

    async with client_for(identity, handler) as client:
        outcome = await client.send_bill_sync(package)
    assert isinstance(outcome, outcomes.HttpError)
    assert outcome.status_code == 503 and outcome.retryable and not outcome.final
    assert not outcome.may_have_reached_dian
    assert "503 Service Unavailable" in outcome.body_excerpt
    assert "HTTP 503" in outcome.message and "reintentos" in outcome.message


async def test_redirect_is_http_error(identity: Identity) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(301, headers={"Location": "https://elsewhere.example/"})

    async with client_for(identity, handler) as client:
        outcome = await client.get_status(CUFE)
    assert isinstance(outcome, outcomes.HttpError) and not outcome.retryable
    assert "elsewhere.example" in outcome.message and "URL" in outcome.message


async def test_http_404_is_not_retryable(identity: Identity) -> None:
    async with client_for(identity, lambda r: httpx.Response(404, text="Not Found")) as client:
        outcome = await client.get_status(CUFE)
    assert isinstance(outcome, outcomes.HttpError) and not outcome.retryable


@pytest.mark.parametrize(
    ("subcode", "reason", "hint"),
    [
        (
            "a:InvalidSecurity",
            "An error occurred when verifying security for the message.",
            "WS-Security",
        ),
        ("a:InvalidSecurity", "Certificado aún no se encuentra vigente.", "aún no es válido"),
        ("a:InternalServiceFault", "The server was unable to process the request.", "reintente"),
    ],
)
async def test_http_500_fault_is_soap_fault_with_hint(
    subcode: str, reason: str, hint: str, identity: Identity, package: packaging.Package
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, content=soap.fault("s:Sender", subcode, reason))

    async with client_for(identity, handler) as client:
        outcome = await client.send_bill_sync(package)
    assert isinstance(outcome, outcomes.SoapFault)
    assert outcome.code == subcode and outcome.reason == reason
    assert outcome.http_status == 500
    assert hint in outcome.hint and hint in outcome.message
    assert outcome.retryable is (subcode == "a:InternalServiceFault")


async def test_fault_with_http_200(identity: Identity) -> None:
    fault = soap.fault("s:Receiver", "a:InternalServiceFault", "boom")
    async with client_for(identity, lambda r: httpx.Response(200, content=fault)) as client:
        outcome = await client.get_status(CUFE)
    assert isinstance(outcome, outcomes.SoapFault) and outcome.retryable


# -- hostile or broken answers --------------------------------------------------------------------
ACCEPTED_XML = soap.envelope(
    messages.render_dian_response(
        "SendBillSync", DianResponse(is_valid=True, status_code="00", xml_document_key=CUFE)
    ),
    action=f"{ACTION}SendBillSyncResponse",
)


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"hola, esto no es XML", "text/plain", "no es XML bien formado"),
        (
            b"<!DOCTYPE html><html><head><title>Runtime Error</title></head><body><p>x</body>",
            "text/html",
            "página HTML",
        ),
        (ACCEPTED_XML[: len(ACCEPTED_XML) // 2], "application/soap+xml", "no es XML bien formado"),
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
            b'"&lol;&lol;&lol;">]><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">'
            b"<s:Body>&lol2;</s:Body></s:Envelope>",
            "application/soap+xml",
            "DOCTYPE",
        ),
        (b"", "application/soap+xml", "vacía"),
        (b"<a>not soap</a>", "application/xml", "no es un sobre SOAP"),
    ],
    ids=["not-xml", "html", "truncated", "entities", "empty", "not-soap"],
)
async def test_unreadable_answer_is_malformed(
    body: bytes,
    content_type: str,
    expected: str,
    identity: Identity,
    package: packaging.Package,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"Content-Type": content_type})

    async with client_for(identity, handler) as client:
        outcome = await client.send_bill_sync(package)
    assert isinstance(outcome, outcomes.MalformedAnswer), outcome
    assert expected in outcome.message
    assert outcome.needs_status_check and "GetStatus" in outcome.message
    assert outcome.record is not None and outcome.record.http_status == 200


async def test_huge_streamed_answer_stops_at_cap(
    identity: Identity, package: packaging.Package
) -> None:
    produced = 0
    chunk = b"<x>" + b"A" * (64 * 1024 - 7) + b"</x>"
    total = 100 * 1024 * 1024

    async def stream() -> AsyncIterator[bytes]:
        nonlocal produced
        yield b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
        while produced < total:
            produced += len(chunk)
            yield chunk

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=stream())

    cap = messages.MAX_ANSWER_BYTES
    tracemalloc.start()
    try:
        async with client_for(identity, handler) as client:
            outcome = await client.send_bill_sync(package)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(outcome, outcomes.MalformedAnswer)
    assert "supera el límite" in outcome.message
    assert produced <= cap + 2 * len(chunk)  # stopped reading near the cap
    assert peak < 3 * cap  # the 100 MB never sat in memory
    record = outcome.record
    assert record is not None and cap < record.response_bytes <= cap + 2 * len(chunk)
    assert record.response_envelope.startswith(b"<s:Envelope")
    assert len(record.response_envelope) == outcomes.CallRecord.ANSWER_CAP
    assert record.answer_truncated


async def test_declared_length_over_cap_is_refused_unread(identity: Identity) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"x" * 2048)

    async with client_for(identity, handler, max_answer_bytes=1024) as client:
        outcome = await client.get_status(CUFE)
    assert isinstance(outcome, outcomes.MalformedAnswer) and "supera el límite" in outcome.message


async def test_gzip_bomb_answer_stops_at_cap(identity: Identity) -> None:
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 100_000

    async def stream() -> AsyncIterator[bytes]:  # a stream: not pre-read by httpx.Response
        for at in range(0, len(bomb), 4096):
            yield bomb[at : at + 4096]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=stream(), headers={"Content-Encoding": "gzip"})

    async with client_for(identity, handler, max_answer_bytes=1024 * 1024) as client:
        outcome = await client.get_status(CUFE)
    assert isinstance(outcome, outcomes.MalformedAnswer) and "supera el límite" in outcome.message


async def test_gzip_answer_within_cap_is_read(identity: Identity) -> None:
    async def stream() -> AsyncIterator[bytes]:
        yield gzip.compress(ACCEPTED_XML)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=stream(), headers={"Content-Encoding": "gzip"})

    async with client_for(identity, handler) as client:
        outcome = await client.send_bill_sync(packaging.Package("a.xml", "z.zip", b"PK"))
    assert isinstance(outcome, outcomes.Accepted)


async def test_zip_bomb_application_response_keeps_the_verdict(
    identity: Identity, package: packaging.Package
) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("ar.xml", b"<a>" + b" " * (messages.MAX_ATTACHMENT_BYTES + 1024) + b"</a>")
    bomb = base64.b64encode(buf.getvalue()).decode()
    assert len(bomb) < 100_000
    body = messages.render_dian_response(
        "SendBillSync", DianResponse(is_valid=True, status_code="00")
    ).replace('<b:XmlBase64Bytes i:nil="true"/>', f"<b:XmlBase64Bytes>{bomb}</b:XmlBase64Bytes>")
    assert bomb in body
    async with client_for(identity, respond("SendBillSync", body)) as client:
        outcome = await client.send_bill_sync(package)
    # The envelope's verdict stands; the attachment is reported as unreadable on its own.
    assert isinstance(outcome, outcomes.Accepted)
    assert outcome.response.application_response is None
    assert outcome.attachment_error and "bomba zip" in outcome.attachment_error
    assert "ApplicationResponse" in outcome.message and "no se pudo leer" in outcome.message


# -- configuration --------------------------------------------------------------------------------
def test_tls_verification_needs_a_reason(identity: Identity) -> None:
    with pytest.raises(InputError, match="motivo"):
        DianClient(ENV, identity, verify_tls=False)
    with pytest.raises(InputError):
        DianClient(ENV, identity, verify_tls=False, insecure_tls_reason="   ")


async def test_insecure_tls_is_visible(identity: Identity) -> None:
    client = DianClient(
        ENV, identity, verify_tls=False, insecure_tls_reason="proxy corporativo con MITM"
    )
    try:
        assert not client.tls_verified
        assert "TLS SIN VERIFICAR" in client.description
        assert "proxy corporativo" in client.description
    finally:
        await client.aclose()
    async with DianClient(ENV, identity) as secure:
        assert secure.tls_verified and "TLS" not in secure.description
        assert ENV.url in secure.description


def test_default_timeouts() -> None:
    assert DEFAULT_TIMEOUT.connect == 10 and DEFAULT_TIMEOUT.write == 30
    assert DEFAULT_TIMEOUT.read == 60 and DEFAULT_TIMEOUT.pool == 10


def test_environments() -> None:
    prod = environments.resolve("produccion")
    assert prod.url == "https://vpfe.dian.gov.co/WcfDianCustomerServices.svc"
    assert prod.profile_execution_id == 1 and not prod.is_test_double and prod.is_production
    hab = environments.resolve("habilitacion")
    assert hab.url == "https://vpfe-hab.dian.gov.co/WcfDianCustomerServices.svc"
    assert hab.profile_execution_id == 2
    sim = environments.resolve("simulator")
    assert sim.is_test_double and sim.profile_execution_id == 2
    assert sim.label == "Simulador local de la DIAN (doble de pruebas)"
    assert sim.url.startswith("http://127.0.0.1:")
    assert environments.resolve("simulator", "http://localhost:9000/x").url.endswith(":9000/x")
    assert environments.resolve("habilitacion", "https://proxy.example/x").url.startswith("https")


def test_environment_errors() -> None:
    with pytest.raises(InputError, match="Ambiente desconocido"):
        environments.resolve("pruebas")
    with pytest.raises(InputError, match="https"):
        environments.resolve("produccion", "http://vpfe.dian.gov.co/WcfDianCustomerServices.svc")
    with pytest.raises(InputError, match="https"):
        environments.resolve("habilitacion", "http://127.0.0.1:8089/x")


def test_outcome_kinds_are_unique() -> None:
    kinds = [
        cls.kind
        for cls in vars(outcomes).values()
        if isinstance(cls, type) and issubclass(cls, outcomes.Outcome) and "kind" in vars(cls)
    ]
    assert len(kinds) == len(set(kinds)) == len(outcomes.OutcomeKind)


@pytest.mark.parametrize(
    ("exc", "spanish"),
    [
        (httpx.ConnectError("All connection attempts failed"), "no acepta conexiones"),
        (httpx.ConnectError("[Errno -2] Name or service not known"), "DNS"),
        (httpx.ConnectTimeout("timed out"), "no aceptó la conexión a tiempo"),
        (httpx.ReadTimeout("timed out"), "se agotó el tiempo de espera"),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), "cerró"),
    ],
    ids=["refused", "dns", "connect-timeout", "read-timeout", "dropped"],
)
async def test_transport_failures_read_in_spanish(
    exc: Exception, spanish: str, identity: Identity, package: packaging.Package
) -> None:
    """httpx's English ("ConnectError: All connection attempts failed") never reaches the user."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    async with client_for(identity, handler) as client:
        outcome = await client.send_bill_sync(package)
    assert isinstance(outcome, outcomes.ConnectionFailed | outcomes.TimeoutAfterSend)
    assert spanish in outcome.message
    english = str(exc).split()[0] if str(exc) else type(exc).__name__
    assert type(exc).__name__ not in outcome.message and english not in outcome.message
    assert outcome.cause == type(exc).__name__  # still in the logs
