"""The async client of DIAN's ``WcfDianCustomerServices`` (SPEC §5, §10.3).

One :class:`DianClient` holds one ``httpx.AsyncClient`` (pooled keep-alive
connections) for one environment and one certificate. Every operation signs
a SOAP 1.2 envelope with :func:`fe_tui.dian.soap.build_request`, POSTs it and
**returns** an outcome from :mod:`fe_tui.dian.outcomes`; network and DIAN
trouble never raise. Only bad arguments raise :class:`~fe_tui.errors.FeError`.

Transport failures are mapped by *when* they happened, because that decides
whether a document may be sent again (DESIGN invariant 3):

- connect / TLS / pool errors: nothing was sent → ``ConnectionFailed``;
- write or read errors and timeouts, a connection dropped mid-answer: the
  request may have reached DIAN → ``TimeoutAfterSend`` (ask GetStatus first).

The answer is read as a stream and abandoned at ``max_answer_bytes``; a
compressed answer (we ask for ``identity``) is inflated within the same cap,
so neither a huge body nor a gzip bomb is ever held in memory.

CPU work runs in a worker thread (:func:`fe_tui.offload.to_thread`: the loop's
default executor, or a queue run's own worker), never on the event loop:
signing each envelope (RSA, plus base64 of a zip of up to a few MB) and
parsing and classifying each answer (lxml, an ApplicationResponse to unzip).
A hop costs tens of microseconds; a console whose loop stalls for every
document of a batch costs far more.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import ssl
import time
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Protocol

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from fe_tui import __version__ as _version
from fe_tui import offload
from fe_tui.dian import messages, outcomes, soap
from fe_tui.dian.environments import Environment
from fe_tui.dian.outcomes import CallRecord, Outcome
from fe_tui.domain.models import CUSTOMER_ID_TYPES
from fe_tui.errors import FeError, InputError
from fe_tui.ubl.packaging import Package

log = logging.getLogger(__name__)

#: Timeouts, per phase (httpx applies read/write per socket operation, not to the whole call):
#:
#: - connect 10 s: a TLS handshake with vpfe takes well under a second; waiting longer only
#:   delays the retry/contingency decision when DIAN is down, and nothing has been sent yet.
#: - write 30 s: room for a SendBillAsync zip of a few MB over a slow uplink.
#: - read 60 s: SendBillSync validates synchronously and DIAN takes tens of seconds under load;
#:   every read timeout is ambiguous and costs a GetStatus, so we wait longer than peers (3–30 s).
#: - pool 10 s: waiting for a free pooled connection; giving up there is safe (nothing sent).
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, write=30.0, read=60.0, pool=10.0)
#: At most 8 connections to DIAN at once (SPEC §10.3: no published limit; be modest).
DEFAULT_LIMITS = httpx.Limits(max_connections=8, max_keepalive_connections=8)

_EXCERPT = 300
_NO_HEADERS = httpx.Headers()
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.I | re.S)
_TAGS = re.compile(r"<[^>]+>")
#: Identification types whose numbers are digits only (the others: letters, digits, hyphens).
_NUMERIC_ID_TYPES = frozenset({"11", "12", "13", "31", "47", "48", "91"})
_DIGITS = re.compile(r"\d{1,20}")
_ALNUM = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,19}")


class SigningIdentity(Protocol):
    """What the client needs from a certificate (``LoadedCertificate`` fits)."""

    @property
    def private_key(self) -> rsa.RSAPrivateKey: ...

    @property
    def certificate(self) -> x509.Certificate: ...


class _TooLarge(Exception):
    """The answer went past the byte cap; carries what was read and its first bytes."""

    def __init__(self, read: int = 0, head: bytes = b"") -> None:
        super().__init__(read)
        self.read = read
        self.head = head


def _head(chunks: list[bytes]) -> bytes:
    """The first :data:`CallRecord.ANSWER_CAP` bytes of ``chunks`` (for the journal)."""
    cap, out, size = CallRecord.ANSWER_CAP, [], 0
    for chunk in chunks:
        out.append(chunk)
        size += len(chunk)
        if size >= cap:
            break
    return b"".join(out)[:cap]


class _BadEncoding(Exception):
    """The answer came with a content coding we cannot inflate safely."""


def _require(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"Falta {what}. No se consultó a la DIAN.", field=what)
    return value.strip()


_HEX96 = re.compile(r"[0-9a-fA-F]{96}")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _shown(value: str) -> str:
    return value if len(value) <= 24 else f"{value[:20]}…"


def check_document_key(value: str) -> str:
    """A CUFE/CUDE as DIAN takes it (96 hex characters, SHA-384), or InputError; nothing sent."""
    key = _require(value, "el CUFE/CUDE")
    if not _HEX96.fullmatch(key):
        problem = (
            f"tiene {len(key)}"
            if re.fullmatch(r"[0-9a-fA-F]*", key)
            else "trae caracteres que no son hexadecimales"
        )
        raise InputError(
            f"«{_shown(key)}» no es un CUFE/CUDE: debe tener 96 caracteres hexadecimales "
            f"(0-9, a-f) y {problem}. No se consultó a la DIAN.",
            field="trackId",
        )
    return key.lower()


def is_zip_key(value: str) -> bool:
    """Whether ``value`` has the shape of a ZipKey/trackId (a GUID: 8-4-4-4-12 hex)."""
    return _GUID.fullmatch(value.strip()) is not None


def check_zip_key(value: str) -> str:
    """A ZipKey (the trackId of an asynchronous upload: a GUID), or InputError; nothing sent."""
    key = _require(value, "el ZipKey")
    if not _GUID.fullmatch(key):
        raise InputError(
            f"«{_shown(key)}» no es un ZipKey: es un GUID como "
            "4d1c5f0e-1b2a-4c3d-8e9f-0a1b2c3d4e5f. No se consultó a la DIAN.",
            field="trackId",
        )
    return key


def _identification(id_type: str, id_number: str) -> tuple[str, str]:
    """Check a buyer identification for GetAcquirer: a DIAN type code and its number."""
    kind = _require(id_type, "el tipo de identificación")
    number = _require(id_number, "el número de identificación")
    if kind not in CUSTOMER_ID_TYPES:
        raise InputError(
            f"Tipo de identificación «{kind}» no válido; use un código de la DIAN: "
            f"{', '.join(CUSTOMER_ID_TYPES)} (13 cédula de ciudadanía, 31 NIT).",
            field="identification_type",
        )
    if kind in _NUMERIC_ID_TYPES:
        if not _DIGITS.fullmatch(number):
            dv = " y sin dígito de verificación" if kind == "31" else ""
            raise InputError(
                f"Número de identificación «{number}» no válido para el tipo {kind}: solo "
                f"dígitos (hasta 20), sin puntos, guiones ni espacios{dv}.",
                field="identification_number",
            )
    elif not _ALNUM.fullmatch(number):
        raise InputError(
            f"Número de identificación «{number}» no válido para el tipo {kind}: letras, "
            "dígitos o guiones (hasta 20), sin espacios.",
            field="identification_number",
        )
    return kind, number


def _excerpt(body: bytes) -> str:
    m = _TITLE.search(body[:65536])
    raw = m.group(1) if m else body[:4096]
    text = _TAGS.sub(" ", raw.decode("utf-8", "replace"))
    return outcomes._one_line(text, _EXCERPT)


class DianClient:
    """Async client for one DIAN environment and one certificate.

    Use as ``async with DianClient(env, cert) as client:`` or call
    :meth:`aclose`. Operations return :class:`~fe_tui.dian.outcomes.Outcome`;
    each outcome carries the :class:`~fe_tui.dian.outcomes.CallRecord` of its
    call (``outcome.record``), which is also handed to ``on_call``.

    ``transport`` replaces the network (``httpx.ASGITransport`` for the
    in-process simulator, ``httpx.MockTransport`` in tests); ``verify_tls``
    and ``limits`` then do not apply. Turning TLS verification off needs an
    ``insecure_tls_reason`` and shows in :attr:`description`.

    ``on_call`` runs before the outcome is returned; an exception there
    propagates (a journal that cannot write must not be ignored). A call
    cancelled mid-flight raises ``CancelledError`` like any coroutine: treat
    that as ambiguous (ask GetStatus) for a submission.

    One client may serve many concurrent tasks; it keeps no per-call state.
    """

    def __init__(
        self,
        environment: Environment,
        certificate: SigningIdentity,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        max_answer_bytes: int = messages.MAX_ANSWER_BYTES,
        verify_tls: bool = True,
        insecure_tls_reason: str | None = None,
        limits: httpx.Limits = DEFAULT_LIMITS,
        on_call: Callable[[CallRecord], None] | None = None,
    ) -> None:
        if not verify_tls and not (insecure_tls_reason or "").strip():
            raise InputError(
                "Desactivar la verificación TLS exige indicar el motivo (insecure_tls_reason); "
                "sin verificación cualquiera en la red podría hacerse pasar por la DIAN.",
                field="insecure_tls_reason",
            )
        if max_answer_bytes <= 0:
            raise InputError("max_answer_bytes debe ser positivo.", field="max_answer_bytes")
        self.environment = environment
        self._key = certificate.private_key
        self._cert = certificate.certificate
        self._url = environment.url
        self._max = max_answer_bytes
        self._on_call = on_call
        self._insecure_reason = None if verify_tls else (insecure_tls_reason or "").strip()
        if self._insecure_reason:
            log.warning(
                "TLS verification disabled for %s: %s", environment.url, self._insecure_reason
            )
        # One header dict per operation, built once: no per-call allocation.
        self._headers: dict[str, dict[str, str]] = {
            op: {"Content-Type": soap.content_type(op)} for op in soap.OPERATIONS
        }
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=timeout,
            limits=limits,
            verify=verify_tls,
            follow_redirects=False,
            headers={"User-Agent": f"fe-tui/{_version}", "Accept-Encoding": "identity"},
        )

    # -- lifecycle --------------------------------------------------------------------------------
    async def __aenter__(self) -> DianClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._http.aclose()

    @property
    def description(self) -> str:
        """Where this client sends, in Spanish; says so when TLS is not verified."""
        text = f"{self.environment.label} — {self._url}"
        if self._insecure_reason:
            text += f" — ¡TLS SIN VERIFICAR! ({self._insecure_reason})"
        return text

    @property
    def tls_verified(self) -> bool:
        """``False`` when TLS verification was turned off (with a reason)."""
        return self._insecure_reason is None

    # -- operations -------------------------------------------------------------------------------
    async def send_bill_sync(self, package: Package) -> Outcome:
        """SendBillSync: one document, validated synchronously (Accepted, Rejected, …)."""
        return await self._call(
            "SendBillSync", {"fileName": package.zip_name, "contentFile": package.content_b64}
        )

    async def send_bill_async(self, package: Package) -> Outcome:
        """SendBillAsync: Queued (ZipKey for GetStatusZip) or QueueRefused."""
        return await self._call(
            "SendBillAsync", {"fileName": package.zip_name, "contentFile": package.content_b64}
        )

    async def send_test_set_async(self, package: Package, test_set_id: str) -> Outcome:
        """SendTestSetAsync (habilitación): Queued or QueueRefused."""
        return await self._call(
            "SendTestSetAsync",
            {
                "fileName": package.zip_name,
                "contentFile": package.content_b64,
                "testSetId": _require(test_set_id, "el identificador del set de pruebas"),
            },
        )

    async def get_status(self, track_id: str) -> Outcome:
        """GetStatus by CUFE/CUDE: the document's verdict, InProcess or NotFound."""
        return await self._call("GetStatus", {"trackId": check_document_key(track_id)})

    async def get_status_zip(self, zip_key: str) -> Outcome:
        """GetStatusZip by ZipKey: a BatchStatus."""
        return await self._call("GetStatusZip", {"trackId": check_zip_key(zip_key)})

    async def get_numbering_range(
        self, account_code: str, account_code_t: str, software_code: str
    ) -> Outcome:
        """GetNumberingRange: NumberingRanges (→ Resolution models) or NumberingFailed."""
        return await self._call(
            "GetNumberingRange",
            {
                "accountCode": _require(account_code, "el NIT del emisor"),
                "accountCodeT": _require(account_code_t, "el NIT del proveedor"),
                "softwareCode": _require(software_code, "el identificador del software"),
            },
        )

    async def get_xml_by_document_key(self, track_id: str) -> Outcome:
        """GetXmlByDocumentKey: StoredXml or NotFound."""
        return await self._call("GetXmlByDocumentKey", {"trackId": check_document_key(track_id)})

    async def send_event_update_status(self, package: Package) -> Outcome:
        """SendEventUpdateStatus: register an event (ApplicationResponse zip)."""
        return await self._call("SendEventUpdateStatus", {"contentFile": package.content_b64})

    async def get_acquirer(self, identification_type: str, identification_number: str) -> Outcome:
        """GetAcquirer: the buyer's registered name and reception e-mail (Acquirer), or
        AcquirerNotFound. ``identification_type`` is DIAN's code ("31" NIT, "13" cédula…);
        the NIT goes without its check digit."""
        kind, number = _identification(identification_type, identification_number)
        return await self._call(
            "GetAcquirer", {"identificationType": kind, "identificationNumber": number}
        )

    # -- the exchange -----------------------------------------------------------------------------
    async def _call(self, operation: str, params: Mapping[str, str]) -> Outcome:
        body = await offload.to_thread(
            soap.build_request,
            operation,
            params,
            to=self._url,
            private_key=self._key,
            certificate=self._cert,
        )
        started = datetime.now(UTC)
        t0 = time.perf_counter()
        status: int | None = None
        answer = b""
        read = -1
        failure: Outcome | None = None
        headers = _NO_HEADERS
        try:
            async with self._http.stream(
                "POST", self._url, content=body, headers=self._headers[operation]
            ) as response:
                status = response.status_code
                headers = response.headers
                answer = await self._read_capped(response)
        except _TooLarge as exc:
            answer = exc.head
            read = exc.read
            failure = outcomes.MalformedAnswer(
                f"la respuesta supera el límite de {self._max // 1_048_576 or 1} MB "
                f"({self._max} bytes); se dejó de leer.",
                http_status=status,
                operation=operation,
            )
        except _BadEncoding as exc:
            failure = outcomes.MalformedAnswer(str(exc), http_status=status, operation=operation)
        except (
            httpx.ConnectError,
            httpx.ConnectTimeout,
            httpx.PoolTimeout,
            httpx.UnsupportedProtocol,
            httpx.ProxyError,
            httpx.LocalProtocolError,
        ) as exc:
            failure = _connection_failed(exc, operation)
        except (httpx.WriteTimeout, httpx.WriteError) as exc:
            failure = outcomes.TimeoutAfterSend(
                _reason(exc), cause=type(exc).__name__, phase="write", operation=operation
            )
        except httpx.TransportError as exc:  # ReadTimeout, ReadError, RemoteProtocolError…
            failure = outcomes.TimeoutAfterSend(
                _reason(exc), cause=type(exc).__name__, phase="read", operation=operation
            )
        ended = datetime.now(UTC)
        cap = CallRecord.ENVELOPE_CAP
        record = CallRecord(
            operation=operation,
            url=self._url,
            started=started,
            ended=ended,
            duration_ms=(time.perf_counter() - t0) * 1000.0,
            http_status=status,
            request_bytes=len(body),
            response_bytes=len(answer) if read < 0 else read,
            request_envelope=body[:cap],
            response_envelope=answer[: CallRecord.ANSWER_CAP],
        )
        if self._on_call is not None:
            self._on_call(record)
        if failure is not None:
            return _with_record(failure, record)
        assert status is not None
        return await offload.to_thread(
            classify_answer,
            operation,
            answer,
            http_status=status,
            content_type=headers.get("content-type", ""),
            location=headers.get("location"),
            record=record,
        )

    async def _read_capped(self, response: httpx.Response) -> bytes:
        """The body, stopping at ``max_answer_bytes`` (raw stream; bounded inflation)."""
        cap = self._max
        try:  # in-memory answers (mock transports) arrive already read and decoded
            body = response.content
        except httpx.ResponseNotRead:
            pass
        else:
            if len(body) > cap:
                raise _TooLarge(len(body), body[: CallRecord.ANSWER_CAP])
            return body
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise _TooLarge(0)
        coding = response.headers.get("content-encoding", "").strip().lower()
        inflater: zlib._Decompress | None = None
        if coding in ("gzip", "x-gzip"):
            inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif coding == "deflate":
            inflater = zlib.decompressobj()
        elif coding not in ("", "identity"):
            raise _BadEncoding(f"la respuesta viene codificada como {coding!r}, que no se admite.")
        chunks: list[bytes] = []
        total = 0
        async for raw in response.aiter_raw():
            if inflater is None:
                total += len(raw)
                chunks.append(raw)
                if total > cap:
                    raise _TooLarge(total, _head(chunks))
                continue
            data = raw
            while data:
                try:
                    out = inflater.decompress(data, cap - total + 1)
                except zlib.error:
                    raise _BadEncoding("la respuesta comprimida está dañada.") from None
                total += len(out)
                chunks.append(out)
                if total > cap:
                    raise _TooLarge(total, _head(chunks))
                data = inflater.unconsumed_tail
        return b"".join(chunks)


def classify_answer(
    operation: str,
    answer: bytes,
    *,
    http_status: int = 200,
    content_type: str = "",
    location: str | None = None,
    record: CallRecord | None = None,
) -> Outcome:
    """The outcome of one complete HTTP answer to ``operation`` (pure: no I/O).

    The client calls it on every answer it reads; the send journal's stored
    answers go through it again to re-read them (``record`` is then ``None``).
    """
    if http_status >= 300:  # DIAN sends faults with HTTP 500; redirects mean a wrong URL
        fault = messages.parse_fault(answer) if http_status >= 400 else None
        if fault is not None:
            return outcomes.SoapFault(
                fault[0], fault[1], http_status=http_status, operation=operation, record=record
            )
        excerpt = f"redirige a {location}" if http_status < 400 and location else _excerpt(answer)
        return outcomes.HttpError(http_status, excerpt, operation=operation, record=record)
    try:
        return _PARSERS[operation](operation, answer, record)
    except (FeError, ValueError) as exc:
        return _unreadable(operation, answer, http_status, content_type, exc, record)


# -- helpers --------------------------------------------------------------------------------------
#: httpx's transport exceptions → a Spanish reason (the class name stays in ``cause`` for logs).
_TRANSPORT_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (httpx.ConnectTimeout, "el servidor no aceptó la conexión a tiempo"),
    (httpx.PoolTimeout, "no hubo una conexión libre a tiempo"),
    (httpx.ReadTimeout, "se agotó el tiempo de espera de la respuesta"),
    (httpx.WriteTimeout, "se agotó el tiempo mientras se enviaba la petición"),
    (httpx.UnsupportedProtocol, "la URL no empieza por https:// (ni http:// para el simulador)"),
    (httpx.ProxyError, "falló el proxy"),
    (httpx.LocalProtocolError, "la petición HTTP no se pudo formar"),
    (httpx.RemoteProtocolError, "el servidor cerró la conexión o no respondió HTTP válido"),
    (httpx.WriteError, "se cortó la conexión mientras se enviaba la petición"),
    (httpx.ReadError, "se cortó la conexión mientras llegaba la respuesta"),
)
#: Texts of the OS and of the TLS library inside a ConnectError → Spanish.
_CONNECT_REASONS: tuple[tuple[str, str], ...] = (
    ("CERTIFICATE_VERIFY_FAILED", "el certificado del servidor no es de confianza"),
    ("certificate verify failed", "el certificado del servidor no es de confianza"),
    ("SSL", "falló la negociación TLS"),
    ("Name or service not known", "no se encontró el nombre del servidor (DNS)"),
    ("nodename nor servname", "no se encontró el nombre del servidor (DNS)"),
    ("Temporary failure in name resolution", "no se pudo resolver el nombre del servidor (DNS)"),
    ("getaddrinfo failed", "no se encontró el nombre del servidor (DNS)"),
    ("No address associated", "no se encontró el nombre del servidor (DNS)"),
    ("Connection refused", "el servidor rechazó la conexión (¿apagado o puerto equivocado?)"),
    ("Network is unreachable", "la red no está disponible"),
    ("No route to host", "no hay ruta hasta el servidor"),
    (
        "All connection attempts failed",
        "el servidor no acepta conexiones (¿apagado o URL equivocada?)",
    ),
)


def _reason(exc: Exception) -> str:
    """One Spanish phrase for a transport failure (never httpx's English)."""
    if isinstance(exc, httpx.ConnectError):
        text = str(exc)
        for needle, spanish in _CONNECT_REASONS:
            if needle in text:
                return spanish
        return "no se pudo abrir la conexión"
    for kind, spanish in _TRANSPORT_REASONS:
        if isinstance(exc, kind):
            return spanish
    return "falló la comunicación"


def _connection_failed(exc: httpx.HTTPError, operation: str) -> Outcome:
    chain: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and len(chain) < 6:
        chain.append(cur)
        cur = cur.__cause__ or cur.__context__
    tls = (
        any(isinstance(e, ssl.SSLError) for e in chain)
        or "SSL" in str(exc)
        or ("CERTIFICATE_VERIFY_FAILED" in str(exc))
    )
    return outcomes.ConnectionFailed(
        _reason(exc), cause=type(exc).__name__, tls=tls, operation=operation
    )


def _with_record(outcome: Outcome, record: CallRecord) -> Outcome:
    # Failures are built before the record exists (error path only, so the copy is fine).
    return dataclasses.replace(outcome, record=record)


def _unreadable(
    operation: str,
    answer: bytes,
    status: int,
    content_type: str,
    exc: Exception,
    record: CallRecord | None,
) -> Outcome:
    # Only on the error path: a fault sent with HTTP 200 is still a fault.
    fault = messages.parse_fault(answer)
    if fault is not None:
        return outcomes.SoapFault(
            fault[0], fault[1], http_status=status, operation=operation, record=record
        )
    if "html" in content_type.lower() or answer.lstrip()[:15].lower().startswith(
        (b"<!doctype html", b"<html")
    ):
        reason = f"llegó una página HTML en lugar de SOAP («{_excerpt(answer)}»)."
    elif not answer.strip():
        reason = "la respuesta llegó vacía."
    else:
        reason = exc.message if isinstance(exc, FeError) else "datos inválidos."
    return outcomes.MalformedAnswer(reason, http_status=status, operation=operation, record=record)


def _dian(operation: str, data: bytes, record: CallRecord | None) -> Outcome:
    return outcomes.classify(
        operation, messages.parse_dian_response(data, operation), record=record
    )


def _upload(operation: str, data: bytes, record: CallRecord | None) -> Outcome:
    return outcomes.classify_upload(
        operation, messages.parse_upload(data, operation), record=record
    )


def _zip(operation: str, data: bytes, record: CallRecord | None) -> Outcome:
    return outcomes.classify_batch(messages.parse_status_zip(data), record=record)


def _numbering(operation: str, data: bytes, record: CallRecord | None) -> Outcome:
    return outcomes.classify_numbering(messages.parse_numbering(data), record=record)


def _xml(operation: str, data: bytes, record: CallRecord | None) -> Outcome:
    return outcomes.classify_xml(messages.parse_xml_by_key(data), record=record)


def _acquirer(operation: str, data: bytes, record: CallRecord | None) -> Outcome:
    return outcomes.classify_acquirer(messages.parse_acquirer(data), record=record)


_PARSERS: dict[str, Callable[[str, bytes, CallRecord | None], Outcome]] = {
    "SendBillSync": _dian,
    "GetStatus": _dian,
    "SendEventUpdateStatus": _dian,
    "SendBillAsync": _upload,
    "SendTestSetAsync": _upload,
    "GetStatusZip": _zip,
    "GetNumberingRange": _numbering,
    "GetXmlByDocumentKey": _xml,
    "GetAcquirer": _acquirer,
}
