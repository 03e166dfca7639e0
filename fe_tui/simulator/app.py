"""The local DIAN simulator as a plain ASGI app: a TEST DOUBLE of ``WcfDianCustomerServices``.

It answers ``POST /WcfDianCustomerServices.svc`` with DIAN's SOAP 1.2 contract
(:mod:`fe_tui.dian.soap` parses and checks the envelope, :mod:`fe_tui.dian.messages`
renders the answers) and checks locally what DIAN checks: WS-Security, the
caller's certificate NIT, the zip, the document rules (:mod:`.validation`),
duplicates (Regla 90), notes against the invoices it accepted, test-set
bookkeeping. Nothing it says has legal or tax effect; every banner says so.

Routes::

    POST /WcfDianCustomerServices.svc     the SOAP service (9 operations of soap.OPERATIONS)
    GET  /WcfDianCustomerServices.svc     an HTML page saying what this is
    GET  /_simulator/state                JSON summary for agents (documents, batches, sets,
                                          sends_total / max_sends_per_document)
    GET  /_simulator/faults               the fault switches now in force (JSON)
    POST /_simulator/faults               replace them (JSON body of config.Faults; {} = all off)

Envelope-level answers (as WCF gives them): unreadable envelope → HTTP 400, fault
``s:Sender``/``a:BadRequest``; ``wsa:Action`` not the operation's → HTTP 500
``a:ActionNotSupported``; ``wsa:To`` not ending in ``/WcfDianCustomerServices.svc`` →
HTTP 500 ``a:DestinationUnreachable``; WS-Security failure → HTTP 500
``a:InvalidSecurity`` "An error occurred when verifying security for the message.",
with the precise reason in a second ``s:Text`` (es-CO) so agents can see it locally.
An exception inside an operation (a defect of the double) → HTTP 500
``a:InternalServiceFault``, WCF's own answer, never a bare error page.

Choices where DIAN's behaviour is not documented (kept small and said here):

- Batches (SendBillAsync / SendTestSetAsync) are processed before the ZipKey is
  returned; ``faults.async_delay_polls`` makes GetStatusZip answer "Batch en proceso de
  validación." (empty StatusCode) that many times first.
- GetStatusZip of a test-set batch adds one set-level DianResponse once the set is decided:
  IsValid false, StatusCode "2", StatusDescription and StatusMessage "Set de prueba con
  identificador {id} se encuentra Aceptado." (or Rechazado). A batch sent to a set already
  decided is not processed and answers only that entry (as DIAN does).
- Unknown trackId: StatusCode "66" "TrackId no existe en los registros de la DIAN.".
- GetXmlByDocumentKey of a document not accepted here: Code "404", "Documento no encontrado
  en los registros de la DIAN.".
- GetNumberingRange for an unknown issuer/software pair: OperationCode "302" "No registra
  prefijos asociados al codigo de software: {id}." (text seen in a public fixture).
- GetAcquirer of an identification not in ``config.acquirers``: StatusCode "404",
  Message "No se encontró el adquiriente con tipo de identificación {type} y número
  {number}." (DIAN's not-found code is not documented; SPEC §5.3 only gives "200").
  Found: "200", "Acción completada OK.", ReceiverName and ReceiverEmail.
- A StatusCode 89 answer carries the reason in StatusDescription and ErrorMessage.
- File names off DIAN's pattern get the simulator-only notification ``SIM01``.
- SendEventUpdateStatus: a zipped, schema-valid, signed ApplicationResponse 030–034 whose
  DocumentReference/UUID is a document accepted here is registered (00); anything else is
  99 with ZB01 / ZE02 / AA09 and the reason. The event's CUDE is not recomputed.
- ``accept_all`` stores nothing.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import logging
import re
import threading
import uuid
import weakref
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from lxml import etree
from pydantic import ValidationError

from fe_tui import ns, xmlsafe
from fe_tui.crypto.certificates import find_nit_candidates
from fe_tui.crypto.verify import verify_document
from fe_tui.dian import messages, soap
from fe_tui.errors import FeError
from fe_tui.simulator import appresponse
from fe_tui.simulator.config import ENDPOINT_PATH, Faults, SimulatorConfig
from fe_tui.simulator.state import (
    DocumentRecord,
    EventRecord,
    State,
    StoredResponse,
    ZipItem,
    ZipRecord,
    document_group,
    dumps,
    number_key,
)
from fe_tui.simulator.validation import (
    Checked,
    check_document,
    reference_rules,
    rule,
    status_message,
    xsd_errors,
)
from fe_tui.ubl import packaging

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

LABEL = "Simulador local de la DIAN (doble de pruebas)"
SOAP_CONTENT_TYPE = "application/soap+xml; charset=utf-8"
ACCEPTED_DESCRIPTION = "Procesado Correctamente."
REJECTED_DESCRIPTION = "Validación contiene errores en campos mandatorios."
REJECTED_MESSAGE = "Documento con errores en campos mandatorios."
NOT_FOUND = "TrackId no existe en los registros de la DIAN."
ACQUIRER_NOT_FOUND = (
    "No se encontró el adquiriente con tipo de identificación {type} y número {number}."
)
IN_PROCESS = "Batch en proceso de validación."
ZIP_ERROR = "Error descomprimiendo el archivo ZIP: {reason}"
SYNC_ONE = "El método síncrono solo puede recibir un documento."
NOT_AUTHORIZED = "NIT {cert} no autorizado a enviar documentos para emisor con NIT {issuer}"
SECURITY_REASON = "An error occurred when verifying security for the message."
#: WCF's reason for an exception inside a service operation (IncludeExceptionDetailInFaults off).
INTERNAL_REASON = "The server was unable to process the request due to an internal error."
_log = logging.getLogger(__name__)
EVENT_CODES = frozenset({"030", "031", "032", "033", "034"})
_UUID_RE = re.compile(rb"<(?:\w+:)?UUID\b[^>]*>\s*([0-9a-fA-F]{96})\s*<")
_ID_RE = re.compile(rb"</(?:\w+:)?ProfileExecutionID>\s*<(?:\w+:)?ID\b[^>]*>([^<]{1,40})<")
_OP_RE = re.compile(rb"IWcfDianCustomerServices/(\w+)")


@dataclass
class _Answer:
    status: int
    body: bytes
    content_type: str = SOAP_CONTENT_TYPE


def _fault(
    code: str, subcode: str, reason: str, detail: str | None = None, *, english: bool = True
) -> bytes:
    """``soap.fault`` with DIAN's (English) reason first and, optionally, our reason in es-CO."""
    body = soap.fault(code, subcode, reason)
    if english:
        body = body.replace(b'xml:lang="es-CO"', b'xml:lang="en-US"', 1)
    if detail:
        text = detail.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        extra = f'<s:Text xml:lang="es-CO">{text}</s:Text>'.encode()
        body = body.replace(b"</s:Reason>", extra + b"</s:Reason>", 1)
    return body


def _html(status: int, title: str, text: str) -> bytes:
    return (
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">'
        f"<HTML><HEAD><TITLE>{title}</TITLE>"
        '<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>'
        f"<BODY><h2>{title}</h2><hr><p>HTTP Error {status}. {text}</p></BODY></HTML>"
    ).encode()


def _rejected(code: str, text: str) -> StoredResponse:
    return StoredResponse(is_valid=False, status_code=code, status_description=text, errors=[text])


def _not_found() -> messages.DianResponse:
    return messages.DianResponse(is_valid=False, status_code="66", status_description=NOT_FOUND)


class _StateLock:
    """Mutual exclusion over the simulator's state for tasks of any event loop.

    One simulator may serve several loops in one process (the console runs each batch
    on a loop of its own in a thread; tests reuse one transport across runs), and an
    ``asyncio.Lock`` belongs to the first loop that waits on it. This one keeps an
    ``asyncio.Lock`` per loop (tasks of one loop queue there, without polling) and a
    ``threading.Lock`` between loops, taken without blocking the loop.
    """

    def __init__(self) -> None:
        self._between = threading.Lock()
        self._guard = threading.Lock()
        self._per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def _loop_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._guard:
            lock = self._per_loop.get(loop)
            if lock is None:
                lock = self._per_loop[loop] = asyncio.Lock()
            return lock

    async def __aenter__(self) -> None:
        lock = self._loop_lock()
        await lock.acquire()
        try:
            # Another loop (thread) holds the state: rare and short, so a light poll (no
            # asyncio.Event can be set across loops; blocking would stop this loop).
            while not self._between.acquire(blocking=False):  # noqa: ASYNC110
                await asyncio.sleep(0.001)
        except BaseException:
            lock.release()
            raise

    async def __aexit__(self, *exc: object) -> None:
        self._between.release()
        self._loop_lock().release()


class Simulator:
    """The ASGI callable. ``config``, ``state``, ``faults`` and ``certificate`` are public.

    ``faults`` may be replaced at any time (``sim.faults = Faults(timeout=True)``), as
    ``POST /_simulator/faults`` does.
    """

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.faults: Faults = config.faults.model_copy()
        self.state = State(config.state_dir)
        self._lock = _StateLock()
        self._known: dict[bytes, x509.Certificate] = {}
        for pem in config.known_certificates:
            self._remember(x509.load_pem_x509_certificate(pem.encode()))
        for pem in self.state.certificates.values():
            self._remember(x509.load_pem_x509_certificate(pem.encode()))

    @property
    def certificate(self) -> appresponse.SimulatorCertificate:
        """The simulator's own signing certificate (made once per process)."""
        return appresponse.simulator_certificate()

    # -- ASGI ----------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope.get("path", ""), scope.get("method", "GET")
        if path == ENDPOINT_PATH and method == "POST":
            body = await self._read_body(receive)
            if body is None:
                await self._send(
                    send,
                    _Answer(
                        413,
                        _html(413, "Request Entity Too Large", "The request is too large."),
                        "text/html",
                    ),
                )
                return
            await self._soap(body, receive, send)
        elif path == ENDPOINT_PATH and method == "GET":
            page = (
                f"<html><body><h1>{LABEL}</h1><p>Este servicio NO es la DIAN: es un doble de "
                "pruebas local de WcfDianCustomerServices (fe-tui). Nada de lo que responde "
                "tiene efecto legal ni tributario.</p></body></html>"
            )
            await self._send(send, _Answer(200, page.encode(), "text/html; charset=utf-8"))
        elif path == "/_simulator/state" and method == "GET":
            await self._json(send, 200, self._summary())
        elif path == "/_simulator/faults" and method == "GET":
            await self._json(send, 200, self.faults.model_dump())
        elif path == "/_simulator/faults" and method == "POST":
            raw = await self._read_body(receive)
            try:
                self.faults = Faults.model_validate_json(raw or b"{}")
            except ValidationError as exc:
                await self._json(send, 422, {"error": str(exc)})
                return
            await self._json(send, 200, self.faults.model_dump())
        else:
            await self._send(send, _Answer(404, _html(404, "Not Found", "Not found."), "text/html"))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _read_body(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.config.max_request_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    @staticmethod
    async def _send(send: Send, answer: _Answer) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": [
                    (b"content-type", answer.content_type.encode()),
                    (b"content-length", str(len(answer.body)).encode()),
                    (b"x-simulator", b"fe-tui DIAN test double"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": answer.body})

    async def _json(self, send: Send, status: int, value: Any) -> None:
        await self._send(send, _Answer(status, dumps(value), "application/json"))

    @staticmethod
    async def _hang(receive: Receive, seconds: float) -> None:
        """Hold the answer for ``seconds`` or until the client goes away."""

        async def disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(disconnected(), seconds)

    async def _persist(self) -> None:
        """Write state changes (call under the lock); file I/O goes to a worker thread."""
        if self.state.directory is None:
            self.state.persist()
        else:
            await asyncio.to_thread(self.state.persist)

    def _summary(self) -> dict[str, Any]:
        return {
            "simulator": LABEL,
            "environment": self.config.environment,
            "faults": self.faults.model_dump(),
            **self.state.summary(),
        }

    # -- faults --------------------------------------------------------------------------------
    def _take_faults(self) -> Faults:
        """The switches for this request; counts one use when ``count`` is set."""
        current = self.faults
        if current.count is not None:
            left = current.count - 1
            self.faults = Faults() if left <= 0 else current.model_copy(update={"count": left})
        return current

    async def _hang_then_gateway_timeout(
        self, receive: Receive, send: Send, seconds: float
    ) -> None:
        """Never answer in time: hold the request, then give up as a gateway would (504)."""
        await self._hang(receive, seconds)
        gateway = _html(504, "Gateway Timeout", "The gateway did not receive a timely response.")
        await self._send(send, _Answer(504, gateway, "text/html"))

    async def _soap(self, body: bytes, receive: Receive, send: Send) -> None:
        faults = self._take_faults()
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.timeout:
            await self._hang_then_gateway_timeout(receive, send, faults.hang_seconds)
            return
        if faults.http_status is not None:
            status = faults.http_status
            phrase = (
                HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
            )
            text = "The service is unavailable." if status == 503 else "Internal server error."
            await self._send(send, _Answer(status, _html(status, phrase, text), "text/html"))
            return
        if faults.soap_fault is not None:
            await self._send(
                send,
                _Answer(
                    500,
                    _fault(
                        "s:Receiver", "a:InternalServiceFault", faults.soap_fault, english=False
                    ),
                ),
            )
            return
        if faults.malformed is not None:
            await self._send(send, self._malformed(faults.malformed, body))
            return
        answer = await self._handle(body, faults)
        if faults.accept_then_drop:
            await self._hang_then_gateway_timeout(receive, send, faults.hang_seconds)
            return
        await self._send(send, answer)

    @staticmethod
    def _malformed(kind: str, body: bytes) -> _Answer:
        if kind == "html":
            page = (
                "<html><head><title>DIAN</title></head><body><h1>Servicio en mantenimiento"
                "</h1><p>Intente más tarde.</p></body></html>"
            )
            return _Answer(200, page.encode(), "text/html; charset=utf-8")
        if kind == "not-xml":
            return _Answer(200, b"\x00\x01 esto no es XML \xff", SOAP_CONTENT_TYPE)
        m = _OP_RE.search(body[:8192])
        operation = m.group(1).decode() if m else "SendBillSync"
        operation = operation if operation in soap.OPERATIONS else "SendBillSync"
        full = soap.envelope(
            messages.render_dian_response(
                operation,
                messages.DianResponse(
                    is_valid=True, status_code="00", status_description=ACCEPTED_DESCRIPTION
                ),
            ),
            action=soap.ACTION_BASE + operation + "Response",
        )
        return _Answer(200, full[: len(full) // 2], SOAP_CONTENT_TYPE)

    # -- SOAP ----------------------------------------------------------------------------------
    async def _handle(self, body: bytes, faults: Faults) -> _Answer:
        try:
            request = soap.parse_request(body, max_bytes=self.config.max_request_bytes)
        except soap.EnvelopeError as exc:
            return _Answer(
                400,
                _fault(
                    "s:Sender",
                    "a:BadRequest",
                    "The creator of this fault did not specify a Reason.",
                    exc.message,
                ),
            )
        op = request.operation
        if request.action != soap.ACTION_BASE + op:
            return _Answer(
                500,
                _fault(
                    "s:Sender",
                    "a:ActionNotSupported",
                    f"The message with Action '{request.action}' cannot be processed at the "
                    "receiver, due to a ContractFilter mismatch at the EndpointDispatcher.",
                    f"wsa:Action debe ser {soap.ACTION_BASE}{op}.",
                ),
            )
        if not (request.to or "").endswith(ENDPOINT_PATH):
            return _Answer(
                500,
                _fault(
                    "s:Sender",
                    "a:DestinationUnreachable",
                    f"The message with To '{request.to or ''}' cannot be processed at the "
                    "receiver, due to an AddressFilter mismatch at the EndpointDispatcher. "
                    "Check that the sender and receiver's EndpointAddresses agree.",
                    f"wsa:To debe terminar en {ENDPOINT_PATH}.",
                ),
            )
        caller: set[str] | None = None
        if not faults.accept_all:
            try:
                info = soap.verify_security(
                    request,
                    clock_skew=timedelta(seconds=self.config.clock_skew_seconds),
                    known_certificates=list(self._known.values()),
                )
            except soap.SecurityFault as exc:
                return _Answer(
                    500, _fault("s:Sender", "a:InvalidSecurity", SECURITY_REASON, exc.message)
                )
            if info.key_reference == "BinarySecurityToken" and self._remember(
                info.certificate, persist=True
            ):
                async with self._lock:
                    await self._persist()
            caller = {c.nit for c in find_nit_candidates(info.certificate.subject)}
        elif op == "SendBillSync":
            return self._ok(op, messages.render_dian_response(op, self._fast_accept(request)))
        elif op == "GetStatus":
            fast = messages.DianResponse(
                is_valid=True,
                status_code="00",
                status_description=ACCEPTED_DESCRIPTION,
                xml_document_key=request.params.get("trackId") or None,
            )
            return self._ok(op, messages.render_dian_response(op, fast))
        handler = getattr(self, f"_op_{op}")
        try:
            result: str = await handler(request.params, caller, faults)
        except Exception as exc:
            # A defect of this double must still answer as WCF does (a SOAP fault the client
            # reads as "no verdict"), never the server's bare 500 page; the log keeps the trace.
            _log.exception("simulator: %s failed", op)
            return _Answer(
                500,
                _fault(
                    "s:Receiver",
                    "a:InternalServiceFault",
                    INTERNAL_REASON,
                    f"Error interno del simulador ({type(exc).__name__}); no es un veredicto.",
                ),
            )
        return self._ok(op, result)

    @staticmethod
    def _ok(operation: str, body_xml: str) -> _Answer:
        return _Answer(
            200, soap.envelope(body_xml, action=soap.ACTION_BASE + operation + "Response")
        )

    def _remember(self, cert: x509.Certificate, *, persist: bool = False) -> bool:
        """Keep ``cert`` for ThumbprintSHA1 references; ``True`` when it is new."""
        thumb = cert.fingerprint(hashes.SHA1())  # noqa: S303 - WS-Security's identifier
        if thumb in self._known:
            return False
        self._known[thumb] = cert
        if persist:
            pem = cert.public_bytes(serialization.Encoding.PEM).decode()
            self.state.remember_certificate(thumb.hex(), pem)
        return True

    def _fast_accept(self, request: soap.ParsedRequest) -> messages.DianResponse:
        """accept_all: the key and ID found by a regex in the zip, nothing verified or stored."""
        key = document_id = xml_name = None
        document_type = "01"
        try:
            files = packaging.unzip(base64.b64decode(request.params.get("contentFile", "")))
            name, xml = next((k, v) for k, v in files.items() if k.lower().endswith(".xml"))
            xml_name = name.rsplit(".", 1)[0]
            if m := _UUID_RE.search(xml):
                key = m.group(1).decode().lower()
            self.state.count_send(key)
            if m := _ID_RE.search(xml):
                document_id = m.group(1).decode().strip()
            head = xml[:1024]
            document_type = (
                "91" if b"CreditNote" in head else "92" if b"DebitNote" in head else "01"
            )
        except (FeError, ValueError, binascii.Error, StopIteration):
            pass
        return messages.DianResponse(
            is_valid=True,
            status_code="00",
            status_description=ACCEPTED_DESCRIPTION,
            status_message=status_message(document_type, document_id) if document_id else "",
            xml_document_key=key,
            xml_file_name=xml_name,
        )

    # -- helpers for documents -----------------------------------------------------------------
    def _unzip(
        self, content: str, *, max_entries: int
    ) -> tuple[list[tuple[str, bytes]], str | None]:
        try:
            data = base64.b64decode("".join(content.split()), validate=True)
        except (binascii.Error, ValueError):
            return [], ZIP_ERROR.format(reason="el contenido no es base64 válido.")
        try:
            files = packaging.unzip(data, max_entries=max_entries)
        except FeError as exc:
            return [], ZIP_ERROR.format(reason=exc.message)
        return [(k, v) for k, v in files.items() if k.lower().endswith(".xml")], None

    @staticmethod
    def _file_notice(*names: str) -> list[messages.RuleMessage]:
        bad = [n for n in names if not packaging.NAME_RE.match(n)]
        if not bad:
            return []
        return [
            messages.RuleMessage.parse(
                f"Regla: SIM01, Notificación: (simulador) El nombre de archivo '{bad[0]}' no "
                "sigue la nomenclatura del anexo técnico (fv/nc/nd/z + NIT de 10 dígitos + "
                "código de proveedor + año + consecutivo); la DIAN no lo exige."
            )
        ]

    def _authorized(self, checked: Checked, caller: set[str] | None) -> str | None:
        """The StatusCode 89 text when the caller's certificate may not send for the issuer."""
        nit = checked.issuer_nit
        if caller is None or not nit:
            return None
        issuer = self.config.issuer(nit)
        if any((issuer.may_send(n) if issuer else n == nit) for n in caller):
            return None
        shown = sorted(caller)[0] if caller else "desconocido"
        return NOT_AUTHORIZED.format(cert=shown, issuer=nit)

    async def _process(
        self,
        xml: bytes,
        xml_name: str,
        caller: set[str] | None,
        *,
        test_set_id: str | None = None,
        extra: list[messages.RuleMessage] | None = None,
    ) -> tuple[StoredResponse, str | None]:
        """Validate one document, decide, store; returns the answer and the key to look up."""
        checked = await asyncio.to_thread(check_document, xml, self.config)
        file_name = xml_name.rsplit(".", 1)[0]
        self._count_send(checked.facts.uuid if checked.facts is not None else None, xml)
        denied = self._authorized(checked, caller)
        if denied is not None:
            return _rejected("89", denied).model_copy(update={"xml_file_name": file_name}), None
        facts = checked.facts
        async with self._lock:
            if facts is None:
                response = StoredResponse(
                    is_valid=False,
                    status_code="99",
                    status_description=REJECTED_DESCRIPTION,
                    status_message=REJECTED_MESSAGE,
                    errors=[r.render() for r in checked.rules],
                    xml_file_name=file_name,
                )
                self._count(test_set_id, None, accepted=False)
                await self._persist()
                return response, None
            key = facts.uuid.lower()
            original = self.state.accepted_for_number(
                number_key(facts.components.supplier_id, facts.document_type, facts.document_id)
            )
            if original is not None:
                response = StoredResponse(
                    is_valid=False,
                    status_code="99",
                    status_description=REJECTED_DESCRIPTION,
                    status_message=REJECTED_MESSAGE,
                    errors=[rule("90", key=original.key).render()],
                    xml_document_key=original.key,
                    xml_file_name=file_name,
                )
                self._count(test_set_id, checked, accepted=False)
                await self._persist()
                return response, original.key
            found = checked.rules + reference_rules(checked, self.state) + (extra or [])
            accepted = not any(r.kind == "Rechazo" for r in found)
            issuer = self.config.issuer(facts.components.supplier_id)
            verdict = appresponse.Verdict(
                document_id=facts.document_id,
                document_key=key,
                uuid_scheme=facts.uuid_scheme or "CUFE-SHA384",
                document_type=facts.document_type,
                issuer_nit=facts.components.supplier_id,
                issuer_dv=issuer.dv if issuer else None,
                issuer_name=issuer.name if issuer else None,
                accepted=accepted,
                rules=found,
            )
            ar = await asyncio.to_thread(
                appresponse.signed,
                verdict,
                ar_number=self.state.next_ar_number(),
                environment=self.config.profile_execution_id,
            )
            prefix = checked.range.prefix if checked.range is not None else None
            response = StoredResponse(
                is_valid=accepted,
                status_code="00" if accepted else "99",
                status_description=ACCEPTED_DESCRIPTION if accepted else REJECTED_DESCRIPTION,
                status_message=(
                    status_message(facts.document_type, facts.document_id, prefix)
                    if accepted
                    else REJECTED_MESSAGE
                ),
                errors=[r.render() for r in found],
                xml_document_key=key,
                xml_file_name=file_name,
            )
            existing = self.state.documents.get(key)
            if existing is None or not existing.accepted:
                self.state.put_document(
                    DocumentRecord(
                        key=key,
                        issuer_nit=facts.components.supplier_id,
                        document_type=facts.document_type,
                        document_id=facts.document_id,
                        accepted=accepted,
                        response=response,
                        xml_b64=base64.b64encode(xml).decode() if accepted else None,
                        ar_b64=base64.b64encode(ar).decode(),
                        test_set_id=test_set_id,
                    )
                )
            self._count(test_set_id, checked, accepted=accepted)
            await self._persist()
            return response, key

    def _count_send(self, key: str | None, xml: bytes) -> None:
        """Count one arriving document (see State.count_send); the key by regex if unread."""
        if not key and (m := _UUID_RE.search(xml)):
            key = m.group(1).decode()
        self.state.count_send(key)

    def _count(self, test_set_id: str | None, checked: Checked | None, *, accepted: bool) -> None:
        """Test-set bookkeeping (DIAN's UpdateTestSetResult); call under the lock."""
        if test_set_id is None:
            return
        test_set = self.config.test_set(test_set_id)
        if test_set is None:
            return
        if checked is not None and checked.issuer_nit not in (None, test_set.issuer_nit):
            return  # another issuer's document does not count for this set
        progress = self.state.test_set_progress(test_set.test_set_id)
        if progress.status != "En proceso":
            return
        doc_type = checked.document_type if checked is not None else None
        group = document_group(doc_type) if doc_type else "invoice"
        tally = progress.accepted if accepted else progress.rejected
        tally[group] = tally.get(group, 0) + 1
        groups = ("invoice", "credit_note", "debit_note")
        if all(progress.accepted.get(g, 0) >= test_set.required(g) for g in groups):
            progress.status = "Aceptado"
        elif progress.rejected_total > test_set.max_rejections:
            progress.status = "Rechazado"

    def _message(self, response: StoredResponse, key: str | None) -> messages.DianResponse:
        record = self.state.documents.get(key) if key else None
        ar = base64.b64decode(record.ar_b64) if record is not None and record.ar_b64 else None
        return response.to_message(ar)

    # -- operations ----------------------------------------------------------------------------
    async def _op_SendBillSync(  # noqa: N802 - named after the operation
        self, params: dict[str, str], caller: set[str] | None, faults: Faults
    ) -> str:
        file_name = params.get("fileName", "")
        xmls, error = self._unzip(params.get("contentFile", ""), max_entries=10)
        if error is None and len(xmls) != 1:
            error = SYNC_ONE
        if error is not None:
            return messages.render_dian_response(
                "SendBillSync", _rejected("89", error).to_message()
            )
        name, xml = xmls[0]
        response, key = await self._process(
            xml, name, caller, extra=self._file_notice(file_name, name)
        )
        return messages.render_dian_response("SendBillSync", self._message(response, key))

    async def _op_SendBillAsync(  # noqa: N802
        self, params: dict[str, str], caller: set[str] | None, faults: Faults
    ) -> str:
        return await self._batch("SendBillAsync", params, caller, faults, None)

    async def _op_SendTestSetAsync(  # noqa: N802
        self, params: dict[str, str], caller: set[str] | None, faults: Faults
    ) -> str:
        wanted = params.get("testSetId", "")
        test_set = self.config.test_set(wanted)
        if test_set is None:
            refused = messages.UploadDocumentResponse(
                zip_key=None,
                errors=[
                    messages.TrackIdMessage(
                        success=False,
                        xml_file_name=params.get("fileName") or None,
                        processed_message=(
                            f"Set de pruebas con identificador {wanted} no existe en los "
                            "registros de la DIAN."
                        ),
                    )
                ],
            )
            return messages.render_upload("SendTestSetAsync", refused)
        return await self._batch("SendTestSetAsync", params, caller, faults, test_set.test_set_id)

    async def _batch(
        self,
        operation: str,
        params: dict[str, str],
        caller: set[str] | None,
        faults: Faults,
        test_set_id: str | None,
    ) -> str:
        file_name = params.get("fileName", "")
        xmls, error = self._unzip(
            params.get("contentFile", ""), max_entries=packaging.MAX_ZIP_ENTRIES
        )
        if error is None and not xmls:
            error = "El archivo ZIP no contiene documentos XML."
        if error is not None:
            refused = messages.UploadDocumentResponse(
                zip_key=None,
                errors=[
                    messages.TrackIdMessage(
                        success=False, xml_file_name=file_name or None, processed_message=error
                    )
                ],
            )
            return messages.render_upload(operation, refused)
        record = ZipRecord(
            zip_key=str(uuid.uuid4()),
            file_name=file_name,
            test_set_id=test_set_id,
            pending_polls=faults.async_delay_polls,
        )
        progress = self.state.test_sets.get(test_set_id) if test_set_id else None
        if progress is not None and progress.status != "En proceso":
            record.set_already = progress.status
        else:
            for name, xml in xmls:
                response, key = await self._process(
                    xml,
                    name,
                    caller,
                    test_set_id=test_set_id,
                    extra=self._file_notice(file_name, name),
                )
                record.items.append(ZipItem(key=key, response=response))
        async with self._lock:
            self.state.put_zip(record)
            await self._persist()
        return messages.render_upload(
            operation, messages.UploadDocumentResponse(zip_key=record.zip_key)
        )

    async def _op_GetStatusZip(  # noqa: N802
        self, params: dict[str, str], caller: set[str] | None, faults: Faults
    ) -> str:
        record = self.state.zips.get(params.get("trackId", "").strip())
        if record is None:
            return messages.render_status_zip([_not_found()])
        if record.pending_polls > 0:
            async with self._lock:
                record.pending_polls -= 1
                self.state.mark_dirty()
                await self._persist()
            return messages.render_status_zip(
                [
                    messages.DianResponse(
                        is_valid=False, status_code="", status_description=IN_PROCESS
                    )
                ]
            )
        items = (
            [] if record.set_already else [self._message(i.response, i.key) for i in record.items]
        )
        if record.test_set_id is not None:
            progress = self.state.test_sets.get(record.test_set_id)
            status = record.set_already or (progress.status if progress else "En proceso")
            if status != "En proceso":
                text = (
                    f"Set de prueba con identificador {record.test_set_id} se encuentra {status}."
                )
                items.append(
                    messages.DianResponse(
                        is_valid=False,
                        status_code="2",
                        status_description=text,
                        status_message=text,
                    )
                )
        return messages.render_status_zip(items)

    async def _op_GetStatus(  # noqa: N802
        self, params: dict[str, str], caller: set[str] | None, faults: Faults
    ) -> str:
        record = self.state.documents.get(params.get("trackId", "").strip().lower())
        answer = record.message() if record is not None else _not_found()
        return messages.render_dian_response("GetStatus", answer)

    async def _op_GetXmlByDocumentKey(  # noqa: N802
        self, params: dict[str, str], caller: set[str] | None, faults: Faults
    ) -> str:
        record = self.state.documents.get(params.get("trackId", "").strip().lower())
        if record is None or not record.accepted or not record.xml_b64:
            answer = messages.XmlDocumentResponse(
                code="404", message="Documento no encontrado en los registros de la DIAN."
            )
        else:
            answer = messages.XmlDocumentResponse(
                code="100",
                message="Accion completada OK",
                xml=base64.b64decode(record.xml_b64),
                validation_date=record.received_at.isoformat(),
            )
        return messages.render_xml_by_key(answer)

    async def _op_GetNumberingRange(  # noqa: N802
        self, params: dict[str, str], caller: set[str] | None, faults: Faults
    ) -> str:
        account, account_t = params.get("accountCode", ""), params.get("accountCodeT", "")
        software_code = params.get("softwareCode", "")
        issuer = self.config.issuer(account.strip())
        software = (
            next(
                (s for s in issuer.software if s.software_id.lower() == software_code.lower()),
                None,
            )
            if issuer is not None
            else None
        )
        allowed = (
            issuer is not None
            and software is not None
            and (issuer.may_send(account_t.strip()) or account_t.strip() == software.provider_nit)
        )
        if not allowed or issuer is None:
            answer = messages.NumberingRangeResponse(
                operation_code="302",
                operation_description=(
                    f"No registra prefijos asociados al codigo de software: {software_code}."
                ),
            )
            return messages.render_numbering(answer)
        answer = messages.NumberingRangeResponse(
            operation_code="100",
            operation_description="Acción completada OK.",
            ranges=[messages.NumberingRange.from_resolution(r) for r in issuer.ranges],
        )
        return messages.render_numbering(answer)

    async def _op_GetAcquirer(  # noqa: N802
        self, params: dict[str, str], caller: set[str] | None, faults: Faults
    ) -> str:
        kind = params.get("identificationType", "").strip()
        number = params.get("identificationNumber", "").strip()
        found = self.config.acquirer(number, kind) if kind and number else None
        if found is None:
            answer = messages.AcquirerResponse(
                status_code="404", message=ACQUIRER_NOT_FOUND.format(type=kind, number=number)
            )
        else:
            answer = messages.AcquirerResponse(
                status_code="200",
                message="Acción completada OK.",
                receiver_email=found.email,
                receiver_name=found.name,
            )
        return messages.render_acquirer(answer)

    async def _op_SendEventUpdateStatus(  # noqa: N802
        self, params: dict[str, str], caller: set[str] | None, faults: Faults
    ) -> str:
        xmls, error = self._unzip(params.get("contentFile", ""), max_entries=10)
        if error is None and len(xmls) != 1:
            error = SYNC_ONE
        if error is not None:
            return messages.render_dian_response(
                "SendEventUpdateStatus", _rejected("89", error).to_message()
            )
        name, xml = xmls[0]
        answer = await asyncio.to_thread(self._check_event, xml)
        if isinstance(answer, messages.DianResponse):
            return messages.render_dian_response("SendEventUpdateStatus", answer)
        event = answer
        async with self._lock:
            target = self.state.documents.get(event.document_key)
            problem = None
            if target is None or not target.accepted:
                problem = "el documento referenciado no existe en los registros de la DIAN"
            elif event.code in target.events:
                problem = "Evento registrado previamente"
            if problem is None and target is not None:
                target.events.append(event.code)
                self.state.touch_document(target.key)
                self.state.put_event(event)
                await self._persist()
        if problem is not None:
            return messages.render_dian_response(
                "SendEventUpdateStatus", self._event_rejected([rule("AA09", detail=problem)], name)
            )
        ok = messages.DianResponse(
            is_valid=True,
            status_code="00",
            status_description=ACCEPTED_DESCRIPTION,
            status_message=f"La ApplicationResponse {event.event_id}, ha sido autorizada.",
            xml_document_key=event.event_key,
            xml_file_name=name.rsplit(".", 1)[0],
        )
        return messages.render_dian_response("SendEventUpdateStatus", ok)

    @staticmethod
    def _event_rejected(found: list[messages.RuleMessage], name: str) -> messages.DianResponse:
        return messages.DianResponse(
            is_valid=False,
            status_code="99",
            status_description=REJECTED_DESCRIPTION,
            status_message=REJECTED_MESSAGE,
            errors=found,
            xml_file_name=name.rsplit(".", 1)[0],
        )

    def _check_event(self, xml: bytes) -> EventRecord | messages.DianResponse:
        """Schema, signature and event code of an ApplicationResponse (runs in a thread)."""
        name = "evento"
        try:
            root = xmlsafe.parse_bytes(xml, what="el evento")
        except FeError as exc:
            return self._event_rejected([rule("ZB01", detail=exc.message)], name)
        if etree.QName(root).localname != "ApplicationResponse":
            return self._event_rejected(
                [rule("ZB01", detail="el evento debe ser un ApplicationResponse")], name
            )
        errors = xsd_errors(root)
        if errors:
            return self._event_rejected([rule("ZB01", detail=errors[0])], name)
        found: list[messages.RuleMessage] = []
        if not verify_document(xml).valid:
            found.append(rule("ZE02"))
        x = ns.XPATH
        code = root.findtext("cac:DocumentResponse/cac:Response/cbc:ResponseCode", None, x) or ""
        doc_key = root.findtext("cac:DocumentResponse/cac:DocumentReference/cbc:UUID", None, x)
        if code.strip() not in EVENT_CODES:
            found.append(rule("AA09", detail=f"el código de evento '{code}' no es 030 a 034"))
        if not doc_key:
            found.append(rule("AA09", detail="falta DocumentReference/UUID"))
        if found:
            return self._event_rejected(found, name)
        event_key = (root.findtext("cbc:UUID", None, x) or "").strip().lower()
        return EventRecord(
            event_key=event_key or hashlib.sha384(xml).hexdigest(),
            document_key=(doc_key or "").strip().lower(),
            code=code.strip(),
            event_id=(root.findtext("cbc:ID", None, x) or "").strip(),
        )


def create_app(config: SimulatorConfig | None = None) -> Simulator:
    """The simulator ASGI app for ``config`` (default: :func:`config.demo_config`)."""
    from fe_tui.simulator.config import demo_config

    return Simulator(config if config is not None else demo_config())
