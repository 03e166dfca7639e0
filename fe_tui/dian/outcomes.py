"""What one call to DIAN's web service came to: one tree of outcomes (SPEC §5.7–5.9, §10.3).

The client never raises for network or DIAN trouble: every call returns one
of these frozen dataclasses. Each carries a Spanish one-line ``message`` for
a support agent and four flags the queue engine decides on:

``sent``
    bytes of the request reached the wire (``None``: unknown, e.g. a write
    that stalled half-way).
``may_have_reached_dian``
    DIAN may have processed the request. For a document submission that did
    not end in a verdict, the engine must ask ``GetStatus`` before sending
    again (DESIGN invariant 3); :attr:`Outcome.needs_status_check` says so.
``retryable``
    the condition is transient: the same call later may give another answer
    (SPEC §10.3 retry policy; for submissions, after the status check).
``final``
    the answer settles the question asked; polling or retrying will not
    change it.

Tree::

    Outcome
    ├── Failure                         no answer from DIAN that can be read as a verdict
    │   ├── ConnectionFailed            DNS, refused, TLS handshake, pool: nothing sent
    │   ├── TimeoutAfterSend            request written, answer lost: ask GetStatus first
    │   ├── HttpError                   HTTP ≥ 400 without a SOAP fault (403/5xx retryable)
    │   ├── SoapFault                   a SOAP 1.2 fault (InvalidSecurity…) with a Spanish hint
    │   └── MalformedAnswer             not SOAP, HTML, truncated, DOCTYPE, over a cap, zip bomb
    ├── DocumentOutcome                 one DianResponse (SendBillSync, GetStatus, events…)
    │   ├── Accepted                    IsValid true
    │   ├── AcceptedWithNotifications   IsValid true with "Notificación" rules
    │   ├── Rejected                    IsValid false: rules explained (StatusCode 99, 89…)
    │   ├── AlreadyProcessed            Regla 90: processed before; keep the number, fetch it
    │   ├── InProcess                   StatusCode 98, or a batch still in validation
    │   ├── NotFound                    StatusCode 66 (also GetXmlByDocumentKey without XML)
    │   └── TestSetStatus               habilitación: "Set de prueba … se encuentra Aceptado."
    ├── Queued                          SendBillAsync / SendTestSetAsync got a ZipKey
    ├── QueueRefused                    no ZipKey, or pre-validation errors
    ├── BatchStatus                     GetStatusZip: one classified outcome per document
    ├── NumberingRanges                 GetNumberingRange OperationCode "100"
    ├── NumberingFailed                 any other OperationCode
    ├── StoredXml                       GetXmlByDocumentKey Code "100"
    ├── Acquirer                        GetAcquirer StatusCode "200": registered name and e-mail
    └── AcquirerNotFound                GetAcquirer: any other StatusCode, or no e-mail

The ``classify*`` functions are pure: the queue engine uses them on answers
it stored, the client on answers it just read. Every outcome can carry the
:class:`CallRecord` of the call that produced it (``record``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal

from fe_tui.dian.messages import (
    AcquirerResponse,
    DianResponse,
    NumberingRange,
    NumberingRangeResponse,
    UploadDocumentResponse,
    XmlDocumentResponse,
)
from fe_tui.dian.rules import ExplainedRule, explain_all
from fe_tui.domain.models import Resolution

#: Operations that hand DIAN a document; an ambiguous failure on them needs a
#: GetStatus before the document is sent again. The others only read.
DOCUMENT_SENDS = frozenset(
    {"SendBillSync", "SendBillAsync", "SendTestSetAsync", "SendEventUpdateStatus"}
)

_CUFE_IN_TEXT = re.compile(r"CU[A-Z]{2}\s*[:'\"]?\s*'?([0-9A-Fa-f]{32,128})")
_TEST_SET = re.compile(
    r"Set de prueba con identificador\s+(?P<id>\S+)\s+se encuentra\s+(?P<state>\w+)", re.I
)
_SPACES = re.compile(r"\s+")
#: StatusCode 66 "TrackId no existe…" and the annex's 90 "TrackId no encontrado" (SPEC §5.7).
_NOT_FOUND_CODES = frozenset({"66", "90"})


def _one_line(text: str, limit: int = 400) -> str:
    text = _SPACES.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


class OutcomeKind(StrEnum):
    """The ``kind`` of every outcome (stable strings for journals and logs)."""

    CONNECTION_FAILED = "connection_failed"
    TIMEOUT_AFTER_SEND = "timeout_after_send"
    HTTP_ERROR = "http_error"
    SOAP_FAULT = "soap_fault"
    MALFORMED_ANSWER = "malformed_answer"
    ACCEPTED = "accepted"
    ACCEPTED_WITH_NOTIFICATIONS = "accepted_with_notifications"
    REJECTED = "rejected"
    ALREADY_PROCESSED = "already_processed"
    IN_PROCESS = "in_process"
    NOT_FOUND = "not_found"
    TEST_SET_STATUS = "test_set_status"
    QUEUED = "queued"
    QUEUE_REFUSED = "queue_refused"
    BATCH_STATUS = "batch_status"
    NUMBERING_RANGES = "numbering_ranges"
    NUMBERING_FAILED = "numbering_failed"
    STORED_XML = "stored_xml"
    ACQUIRER = "acquirer"
    ACQUIRER_NOT_FOUND = "acquirer_not_found"


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One HTTP exchange with DIAN, for the journal.

    The request envelope is cut at :data:`ENVELOPE_CAP` (it is mostly the
    base64 zip, which the journal keeps anyway), the answer at
    :data:`ANSWER_CAP`. The request envelope holds the certificate and a
    signature, never a password or a private key; answers hold no secrets.
    """

    operation: str
    url: str
    started: datetime  #: UTC
    ended: datetime  #: UTC
    duration_ms: float
    http_status: int | None  #: None when no HTTP answer arrived
    request_bytes: int
    response_bytes: int  #: bytes read (stops at the client's cap)
    request_envelope: bytes = field(repr=False)
    response_envelope: bytes = field(repr=False)

    #: Largest part of the request envelope kept in the record.
    ENVELOPE_CAP: ClassVar[int] = 64 * 1024
    #: Largest part of the answer kept in the record (and in the send journal). DIAN's
    #: answers are a few KB; one with its ApplicationResponse rarely passes 64 KB.
    ANSWER_CAP: ClassVar[int] = 256 * 1024

    @property
    def answer_truncated(self) -> bool:
        """The answer was longer than what the record keeps."""
        return self.response_bytes > len(self.response_envelope)


# -- the base -------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Outcome:
    """Base of every outcome. Subclasses set the flags; ``message`` is Spanish, one line."""

    kind: ClassVar[OutcomeKind]
    _SENT: ClassVar[bool | None] = True
    _REACHED: ClassVar[bool] = True
    _RETRYABLE: ClassVar[bool] = False
    _FINAL: ClassVar[bool] = True

    #: The DIAN operation (``SendBillSync``…); "" when unknown.
    operation: str = ""
    #: The HTTP exchange that produced this outcome, when it came from the client.
    record: CallRecord | None = field(default=None, repr=False, compare=False)

    @property
    def message(self) -> str:
        """One Spanish line for a support agent (every concrete outcome words its own)."""
        return f"Resultado de {self.operation or 'la operación'}: {self.kind.value}"

    @property
    def sent(self) -> bool | None:
        """Did bytes of the request reach the wire (``None``: unknown)."""
        return self._SENT

    @property
    def may_have_reached_dian(self) -> bool:
        """Could DIAN have processed the request."""
        return self._REACHED

    @property
    def retryable(self) -> bool:
        """Is the condition transient (trying later may give another answer)."""
        return self._RETRYABLE

    @property
    def final(self) -> bool:
        """Does the answer settle the question asked."""
        return self._FINAL

    @property
    def needs_status_check(self) -> bool:
        """A document submission ended without a verdict but may have reached DIAN:
        ask GetStatus (by CUFE/CUDE) before sending it again."""
        return not self.final and self.may_have_reached_dian and self.operation in DOCUMENT_SENDS

    def __str__(self) -> str:
        return self.message


def _resend_advice(operation: str) -> str:
    if operation in DOCUMENT_SENDS:
        return (
            "La DIAN pudo haberla recibido: consulte GetStatus con el CUFE/CUDE antes de reenviar."
        )
    return "Es una consulta: puede repetirla."


# -- failures -------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Failure(Outcome):
    """No answer that can be read as DIAN's verdict."""

    _FINAL: ClassVar[bool] = False


@dataclass(frozen=True)
class ConnectionFailed(Failure):
    """DNS, connection refused, TLS handshake or a full connection pool: nothing was sent."""

    kind: ClassVar[OutcomeKind] = OutcomeKind.CONNECTION_FAILED
    _SENT: ClassVar[bool | None] = False
    _REACHED: ClassVar[bool] = False
    _RETRYABLE: ClassVar[bool] = True

    reason: str
    cause: str = ""  #: the exception class, for logs
    tls: bool = False  #: the TLS handshake or certificate check failed

    @property
    def message(self) -> str:
        if self.tls:
            return _one_line(
                f"No se pudo establecer la conexión segura (TLS) con la DIAN: {self.reason}. "
                "Revise la fecha del equipo, el proxy o los certificados raíz. No se envió nada."
            )
        return _one_line(
            f"No se pudo conectar con la DIAN ({self.reason}). No se envió nada; puede "
            "reintentar con seguridad."
        )


@dataclass(frozen=True)
class TimeoutAfterSend(Failure):
    """The request was (at least partly) written and no complete answer came back."""

    kind: ClassVar[OutcomeKind] = OutcomeKind.TIMEOUT_AFTER_SEND
    _RETRYABLE: ClassVar[bool] = True

    reason: str
    cause: str = ""
    phase: Literal["write", "read"] = "read"

    @property
    def sent(self) -> bool | None:
        return True if self.phase == "read" else None

    @property
    def message(self) -> str:
        what = "al enviar la petición" if self.phase == "write" else "esperando la respuesta"
        return _one_line(
            f"Sin respuesta de la DIAN {what} ({self.reason}). {_resend_advice(self.operation)}"
        )


#: HTTP statuses the DIAN answers when overloaded or down (SPEC §5.8) and other transient ones.
_TRANSIENT_HTTP = frozenset({403, 408, 425, 429})
#: Statuses refused at the door: the request was not processed.
_NOT_PROCESSED_HTTP = frozenset({403, 429, 503})


@dataclass(frozen=True)
class HttpError(Failure):
    """HTTP ≥ 400 without a SOAP fault (an IIS or proxy page)."""

    kind: ClassVar[OutcomeKind] = OutcomeKind.HTTP_ERROR

    status_code: int
    body_excerpt: str = ""

    @property
    def retryable(self) -> bool:
        return self.status_code >= 500 or self.status_code in _TRANSIENT_HTTP

    @property
    def may_have_reached_dian(self) -> bool:
        return self.status_code not in _NOT_PROCESSED_HTTP and self.status_code >= 500

    @property
    def message(self) -> str:
        if self.retryable:
            advice = (
                "Servicio no disponible o saturado: aplique la política de reintentos "
                "(y de contingencia si persiste)."
            )
        else:
            advice = "Revise la URL del ambiente y la configuración."
        if self.may_have_reached_dian and self.operation in DOCUMENT_SENDS:
            advice += " Consulte GetStatus antes de reenviar."
        excerpt = f" «{self.body_excerpt}»" if self.body_excerpt else ""
        return _one_line(f"La DIAN respondió HTTP {self.status_code}.{excerpt} {advice}")


#: Known faults: local name of the fault (sub)code or a piece of the reason → (hint, retryable,
#: may have reached DIAN).
_FAULT_HINTS: tuple[tuple[str, str, bool, bool], ...] = (
    (
        "Certificado aún no se encuentra vigente",
        "El certificado aún no es válido: espere la fecha de inicio de vigencia o revise la "
        "fecha y hora del equipo.",
        False,
        False,
    ),
    (
        "InvalidSecurity",
        "La DIAN no aceptó la firma WS-Security: revise que el certificado esté vigente y "
        "registrado para el emisor, y que el reloj del equipo esté en hora.",
        False,
        False,
    ),
    (
        "InternalServiceFault",
        "Error interno del servicio de la DIAN: reintente más tarde según la política de "
        "reintentos.",
        True,
        True,
    ),
    (
        "ActionNotSupported",
        "El servicio no reconoce la operación: revise la URL del ambiente.",
        False,
        False,
    ),
    (
        "DestinationUnreachable",
        "La dirección wsa:To no corresponde al servicio: revise la URL del ambiente.",
        False,
        False,
    ),
    (
        "did not specify a Reason",
        "La DIAN no entendió la petición (sobre SOAP o parámetros inválidos).",
        False,
        False,
    ),
)


@dataclass(frozen=True)
class SoapFault(Failure):
    """A SOAP 1.2 fault (DIAN sends them with HTTP 500). ``code`` is the subcode when present."""

    kind: ClassVar[OutcomeKind] = OutcomeKind.SOAP_FAULT

    code: str
    reason: str
    http_status: int | None = None

    def _known(self) -> tuple[str, bool, bool] | None:
        local = self.code.rsplit(":", 1)[-1]
        for needle, hint, retry, reached in _FAULT_HINTS:
            if needle == local or needle in self.reason:
                return hint, retry, reached
        return None

    @property
    def hint(self) -> str:
        """What the agent should do about this fault (Spanish)."""
        known = self._known()
        return known[0] if known else "Error SOAP no catalogado: revise el detalle con soporte."

    @property
    def retryable(self) -> bool:
        known = self._known()
        return known[1] if known else False

    @property
    def may_have_reached_dian(self) -> bool:
        known = self._known()
        return known[2] if known else True

    @property
    def message(self) -> str:
        return _one_line(f"Error SOAP de la DIAN ({self.code}): {self.reason} — {self.hint}")


@dataclass(frozen=True)
class MalformedAnswer(Failure):
    """An answer that cannot be read safely (anything ``messages.AnswerError`` reports)."""

    kind: ClassVar[OutcomeKind] = OutcomeKind.MALFORMED_ANSWER

    reason: str
    http_status: int | None = None

    @property
    def message(self) -> str:
        advice = "Consulte GetStatus antes de reenviar." if self.operation in DOCUMENT_SENDS else ""
        return _one_line(f"Respuesta de la DIAN ilegible: {self.reason} {advice}")


# -- one document ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class DocumentOutcome(Outcome):
    """An outcome read from one ``DianResponse``."""

    response: DianResponse

    @property
    def document_key(self) -> str | None:
        """CUFE/CUDE DIAN reports (``XmlDocumentKey``)."""
        return self.response.xml_document_key

    def _dian_text(self) -> str:
        r = self.response
        return r.status_message or r.status_description or f"StatusCode {r.status_code!r}"

    @property
    def attachment_error(self) -> str | None:
        """Why DIAN's attached ApplicationResponse could not be read (None: read or absent)."""
        return self.response.attachment_error

    def _attachment_note(self) -> str:
        """A sentence on a damaged attachment; the verdict above is the envelope's."""
        problem = self.response.attachment_error
        if not problem:
            return ""
        return (
            f" El ApplicationResponse adjunto no se pudo leer ({problem.rstrip('.')}); "
            "el veredicto y las reglas son los del sobre SOAP."
        )


@dataclass(frozen=True)
class Accepted(DocumentOutcome):
    """IsValid true, without notifications. ``response.application_response`` is DIAN's AR."""

    kind: ClassVar[OutcomeKind] = OutcomeKind.ACCEPTED

    @property
    def message(self) -> str:
        return _one_line(f"Aceptado por la DIAN: {self._dian_text()}{self._attachment_note()}")


@dataclass(frozen=True)
class AcceptedWithNotifications(DocumentOutcome):
    """IsValid true with ``Notificación`` entries (explained in ``rules``)."""

    kind: ClassVar[OutcomeKind] = OutcomeKind.ACCEPTED_WITH_NOTIFICATIONS

    rules: list[ExplainedRule] = field(default_factory=list)

    @property
    def message(self) -> str:
        codes = ", ".join(r.code for r in self.rules if r.code)
        return _one_line(
            f"Aceptado por la DIAN con {len(self.rules)} notificación(es) ({codes}): "
            f"{self._dian_text()}{self._attachment_note()}"
        )


@dataclass(frozen=True)
class Rejected(DocumentOutcome):
    """IsValid false (StatusCode 99 without Regla 90, 89…): fix, re-sign, same number."""

    kind: ClassVar[OutcomeKind] = OutcomeKind.REJECTED

    rules: list[ExplainedRule] = field(default_factory=list)

    @property
    def rejections(self) -> list[ExplainedRule]:
        """The rules that caused the rejection (notifications left out)."""
        return [r for r in self.rules if r.kind != "Notificación"]

    @property
    def message(self) -> str:
        rejections = self.rejections
        if not rejections:
            return _one_line(
                f"Rechazado por la DIAN (StatusCode {self.response.status_code}): "
                f"{self._dian_text()}{self._attachment_note()}"
            )
        first = rejections[0]
        more = f" y {len(rejections) - 1} regla(s) más" if len(rejections) > 1 else ""
        return _one_line(
            f"Rechazado por la DIAN: regla {first.code}: {first.dian_text.rstrip('.')}{more}. "
            f"Corrija y vuelva a firmar con el mismo número.{self._attachment_note()}",
            limit=700,
        )


@dataclass(frozen=True)
class AlreadyProcessed(DocumentOutcome):
    """Regla 90: DIAN processed this document before. Do not renumber: fetch the result."""

    kind: ClassVar[OutcomeKind] = OutcomeKind.ALREADY_PROCESSED

    existing_key: str | None = None

    @property
    def message(self) -> str:
        key = f" (CUFE/CUDE {self.existing_key})" if self.existing_key else ""
        return _one_line(
            f"La DIAN ya había procesado este documento{key} (Regla 90). No lo renumere: "
            f"consulte GetStatus para obtener el resultado original.{self._attachment_note()}"
        )


@dataclass(frozen=True)
class InProcess(DocumentOutcome):
    """StatusCode 98, or a GetStatusZip batch still in validation: ask again later."""

    kind: ClassVar[OutcomeKind] = OutcomeKind.IN_PROCESS
    _RETRYABLE: ClassVar[bool] = True
    _FINAL: ClassVar[bool] = False

    @property
    def message(self) -> str:
        return _one_line(f"La DIAN aún está validando: {self._dian_text()} Consulte más tarde.")


@dataclass(frozen=True)
class NotFound(Outcome):
    """DIAN has no such document (StatusCode 66 or 90; GetXmlByDocumentKey without XML).

    After an ambiguous send this usually means the document never arrived and
    can be sent again under the same number; SPEC §5.7 notes that 66 can also
    mean "no results yet", so ask once more after a short wait before resending.
    """

    kind: ClassVar[OutcomeKind] = OutcomeKind.NOT_FOUND

    response: DianResponse | XmlDocumentResponse

    @property
    def message(self) -> str:
        r = self.response
        if isinstance(r, XmlDocumentResponse):
            text = r.message or f"Code {r.code!r}"
        else:
            text = r.status_description or r.status_message or f"StatusCode {r.status_code!r}"
        return _one_line(f"La DIAN no encontró el documento: {text}")


@dataclass(frozen=True)
class TestSetStatus(DocumentOutcome):
    """Habilitación: GetStatusZip reports the state of the whole test set.

    It comes with IsValid false even when the set is accepted; it is
    information about the set, not a verdict on one document.
    """

    __test__ = False  # not a pytest class

    kind: ClassVar[OutcomeKind] = OutcomeKind.TEST_SET_STATUS

    test_set_id: str = ""
    accepted: bool = False

    @property
    def message(self) -> str:
        state = "aceptado" if self.accepted else "no aceptado"
        return _one_line(f"Set de pruebas {self.test_set_id}: {state}. {self._dian_text()}")


# -- queues, numbering, stored documents ----------------------------------------------------------
@dataclass(frozen=True)
class Queued(Outcome):
    """SendBillAsync / SendTestSetAsync accepted the zip for validation: poll GetStatusZip."""

    kind: ClassVar[OutcomeKind] = OutcomeKind.QUEUED
    _FINAL: ClassVar[bool] = False

    upload: UploadDocumentResponse

    @property
    def zip_key(self) -> str:
        """The ZipKey to pass to GetStatusZip."""
        return self.upload.zip_key or ""

    @property
    def message(self) -> str:
        return f"Lote recibido por la DIAN (ZipKey {self.zip_key}); consulte GetStatusZip."


@dataclass(frozen=True)
class QueueRefused(Outcome):
    """No ZipKey, or documents DIAN refused before queueing (``upload.errors``)."""

    kind: ClassVar[OutcomeKind] = OutcomeKind.QUEUE_REFUSED

    upload: UploadDocumentResponse

    @property
    def message(self) -> str:
        failed = [e for e in self.upload.errors if not e.success]
        detail = "; ".join(
            f"{e.xml_file_name or e.document_key or '?'}: {e.processed_message or 'sin detalle'}"
            for e in failed[:3]
        )
        if not detail:
            detail = "la DIAN no devolvió ZipKey"
        return _one_line(f"La DIAN no encoló el lote: {detail}")


@dataclass(frozen=True)
class NumberingRanges(Outcome):
    """GetNumberingRange answered OperationCode "100"."""

    kind: ClassVar[OutcomeKind] = OutcomeKind.NUMBERING_RANGES

    response: NumberingRangeResponse

    @property
    def ranges(self) -> list[NumberingRange]:
        return self.response.ranges

    def resolutions(self) -> list[Resolution]:
        """Each range with a technical key as a :class:`~fe_tui.domain.models.Resolution`.

        Ranges without a technical key (documento soporte) are left out; see
        :attr:`ranges`. Raises :class:`~fe_tui.dian.messages.AnswerError`
        when DIAN's data does not fit the model.
        """
        return [r.to_resolution() for r in self.response.ranges if r.technical_key]

    @property
    def message(self) -> str:
        return _one_line(
            f"La DIAN devolvió {len(self.response.ranges)} rango(s) de numeración: "
            + ", ".join(
                f"{r.prefix or '(sin prefijo)'} {r.from_number}–{r.to_number}"
                for r in self.response.ranges[:5]
            )
        )


@dataclass(frozen=True)
class NumberingFailed(Outcome):
    """GetNumberingRange answered an OperationCode other than "100"."""

    kind: ClassVar[OutcomeKind] = OutcomeKind.NUMBERING_FAILED

    response: NumberingRangeResponse

    @property
    def message(self) -> str:
        r = self.response
        return _one_line(
            f"La DIAN no devolvió rangos (código {r.operation_code or '?'}): "
            f"{r.operation_description or 'sin descripción'}. Revise NIT y SoftwareID."
        )


@dataclass(frozen=True)
class StoredXml(Outcome):
    """GetXmlByDocumentKey found the document; ``response.xml`` holds it."""

    kind: ClassVar[OutcomeKind] = OutcomeKind.STORED_XML

    response: XmlDocumentResponse

    @property
    def xml(self) -> bytes:
        return self.response.xml or b""

    @property
    def message(self) -> str:
        return f"XML descargado de la DIAN ({len(self.xml)} bytes)."


@dataclass(frozen=True)
class Acquirer(Outcome):
    """GetAcquirer found the buyer: the name and reception e-mail registered with DIAN.

    Since Res. 000202/2025 that e-mail is the one the invoice must carry for the
    buyer; another one is rejected with FAJ71 (SPEC §15.1).
    """

    kind: ClassVar[OutcomeKind] = OutcomeKind.ACQUIRER

    response: AcquirerResponse

    @property
    def name(self) -> str:
        """The registered name (ReceiverName); "" when DIAN sent none."""
        return self.response.receiver_name or ""

    @property
    def email(self) -> str:
        """The registered reception e-mail (ReceiverEmail)."""
        return self.response.receiver_email or ""

    @property
    def message(self) -> str:
        return _one_line(
            f"Adquirente registrado en la DIAN: {self.name or '(sin nombre)'} — correo de "
            f"recepción {self.email}. Use ese correo en el documento (regla FAJ71)."
        )


@dataclass(frozen=True)
class AcquirerNotFound(Outcome):
    """GetAcquirer did not return the buyer (StatusCode other than "200", or no e-mail).

    Not :class:`NotFound`: that one is about documents and the resend decision.
    """

    kind: ClassVar[OutcomeKind] = OutcomeKind.ACQUIRER_NOT_FOUND

    response: AcquirerResponse

    @property
    def message(self) -> str:
        r = self.response
        text = r.message or "sin mensaje"
        code = f" (código {r.status_code})" if r.status_code else ""
        return _one_line(
            f"La DIAN no devolvió un adquirente con esa identificación: {text.rstrip('.')}"
            f"{code}. Revise el tipo y el número de identificación; si son correctos, pida al "
            "comprador su correo de recepción (Res. 000202/2025: nombre, identificación y "
            "correo)."
        )


@dataclass(frozen=True)
class BatchStatus(Outcome):
    """GetStatusZip: the outcome of each document of the zip, classified."""

    kind: ClassVar[OutcomeKind] = OutcomeKind.BATCH_STATUS

    items: list[Outcome]

    @property
    def in_process(self) -> bool:
        """The batch (or one of its documents) is still being validated."""
        return not self.items or any(isinstance(i, InProcess) for i in self.items)

    @property
    def test_set(self) -> TestSetStatus | None:
        """The test-set report, when DIAN included one (habilitación)."""
        return next((i for i in self.items if isinstance(i, TestSetStatus)), None)

    @property
    def test_set_accepted(self) -> bool:
        """Habilitación: DIAN says the test set is accepted."""
        ts = self.test_set
        return ts is not None and ts.accepted

    @property
    def retryable(self) -> bool:
        return self.in_process

    @property
    def final(self) -> bool:
        return not self.in_process

    @property
    def message(self) -> str:
        if self.in_process:
            return "El lote sigue en validación en la DIAN; consulte más tarde."
        counts: dict[OutcomeKind, int] = {}
        for item in self.items:
            counts[item.kind] = counts.get(item.kind, 0) + 1
        parts = [f"{n} {_KIND_ES.get(k, k)}" for k, n in counts.items()]
        extra = " Set de pruebas aceptado." if self.test_set_accepted else ""
        return _one_line(f"Lote validado: {', '.join(parts)}.{extra}")


_KIND_ES = {
    OutcomeKind.ACCEPTED: "aceptado(s)",
    OutcomeKind.ACCEPTED_WITH_NOTIFICATIONS: "aceptado(s) con notificaciones",
    OutcomeKind.REJECTED: "rechazado(s)",
    OutcomeKind.ALREADY_PROCESSED: "ya procesado(s)",
    OutcomeKind.NOT_FOUND: "no encontrado(s)",
    OutcomeKind.TEST_SET_STATUS: "estado(s) de set de pruebas",
}


# -- classification -------------------------------------------------------------------------------
def _existing_key(response: DianResponse, text: str) -> str | None:
    if response.xml_document_key:
        return response.xml_document_key
    m = _CUFE_IN_TEXT.search(text)
    return m.group(1) if m else None


def classify(
    operation: str, response: DianResponse, *, record: CallRecord | None = None
) -> Outcome:
    """The outcome of one ``DianResponse`` (SendBillSync, GetStatus, events, GetStatusZip items).

    Order: Regla 90 → AlreadyProcessed; 98 / empty batch status → InProcess;
    66/90 → NotFound; test-set report → TestSetStatus; then IsValid decides
    between Accepted(WithNotifications) and Rejected.
    """
    r = response
    if not r.is_valid:
        for e in r.errors:
            if e.code == "90":
                return AlreadyProcessed(
                    r, existing_key=_existing_key(r, e.text), operation=operation, record=record
                )
    code = r.status_code.strip()
    if code == "98" or (
        not code
        and not r.is_valid
        and (operation == "GetStatusZip" or "en proceso" in r.status_description.lower())
    ):
        return InProcess(r, operation=operation, record=record)
    if code in _NOT_FOUND_CODES and not r.is_valid:
        return NotFound(r, operation=operation, record=record)
    if not r.is_valid and (
        m := _TEST_SET.search(r.status_message) or _TEST_SET.search(r.status_description)
    ):
        return TestSetStatus(
            r,
            test_set_id=m.group("id"),
            accepted=m.group("state").lower() == "aceptado",
            operation=operation,
            record=record,
        )
    if r.is_valid:
        notifications = r.notifications
        if notifications:
            return AcceptedWithNotifications(
                r, rules=explain_all(notifications), operation=operation, record=record
            )
        return Accepted(r, operation=operation, record=record)
    return Rejected(r, rules=explain_all(r.errors), operation=operation, record=record)


def classify_batch(
    responses: Sequence[DianResponse], *, record: CallRecord | None = None
) -> BatchStatus:
    """GetStatusZip: classify each document's answer."""
    items = [classify("GetStatusZip", r) for r in responses]
    return BatchStatus(items, operation="GetStatusZip", record=record)


def classify_upload(
    operation: str, upload: UploadDocumentResponse, *, record: CallRecord | None = None
) -> Outcome:
    """SendBillAsync / SendTestSetAsync: Queued with a ZipKey and no failed entry, else refused."""
    if upload.zip_key and not any(not e.success for e in upload.errors):
        return Queued(upload, operation=operation, record=record)
    return QueueRefused(upload, operation=operation, record=record)


def classify_numbering(
    response: NumberingRangeResponse, *, record: CallRecord | None = None
) -> Outcome:
    """GetNumberingRange: OperationCode "100" means the ranges came back."""
    if response.operation_code.strip() == "100":
        return NumberingRanges(response, operation="GetNumberingRange", record=record)
    return NumberingFailed(response, operation="GetNumberingRange", record=record)


def classify_xml(response: XmlDocumentResponse, *, record: CallRecord | None = None) -> Outcome:
    """GetXmlByDocumentKey: Code "100" with XML is the stored document; anything else NotFound."""
    if response.code.strip() == "100" and response.xml:
        return StoredXml(response, operation="GetXmlByDocumentKey", record=record)
    return NotFound(response, operation="GetXmlByDocumentKey", record=record)


def classify_acquirer(response: AcquirerResponse, *, record: CallRecord | None = None) -> Outcome:
    """GetAcquirer: StatusCode "200" with a ReceiverEmail is the buyer; anything else not found.

    A "200" without an e-mail is not found too: there is nothing to put in the document.
    """
    if response.status_code.strip() == "200" and (response.receiver_email or "").strip():
        return Acquirer(response, operation="GetAcquirer", record=record)
    return AcquirerNotFound(response, operation="GetAcquirer", record=record)


# -- serialisation --------------------------------------------------------------------------------
def _dian_response(r: DianResponse) -> dict[str, Any]:
    data: dict[str, Any] = {
        "status_code": r.status_code,
        "status_description": r.status_description,
        "status_message": r.status_message,
        "document_key": r.xml_document_key,
        "dian_messages": [e.raw for e in r.errors],
    }
    if r.application_response is not None:
        ar = r.application_response
        data["application_response"] = {
            "response_code": ar.response_code,
            "description": ar.description,
            "lines": [x.model_dump() for x in ar.line_responses],
        }
    if r.attachment_error is not None:
        data["application_response_error"] = r.attachment_error
    return data


def _rule(r: ExplainedRule) -> dict[str, Any]:
    return r.model_dump(mode="json")


def outcome_to_dict(outcome: Outcome) -> dict[str, Any]:
    """JSON-ready description of any outcome (no envelopes, no secrets).

    What the send journal stores beside each raw answer, and what ``--json`` prints.
    """
    data: dict[str, Any] = {
        "kind": outcome.kind.value,
        "message": outcome.message,
        "operation": outcome.operation,
        "sent": outcome.sent,
        "may_have_reached_dian": outcome.may_have_reached_dian,
        "retryable": outcome.retryable,
        "final": outcome.final,
        "needs_status_check": outcome.needs_status_check,
    }
    if outcome.record is not None:
        data["http_status"] = outcome.record.http_status
        data["duration_ms"] = round(outcome.record.duration_ms, 1)
    response = getattr(outcome, "response", None)
    if isinstance(response, DianResponse):
        data.update(_dian_response(response))
    if isinstance(outcome, Rejected | AcceptedWithNotifications):
        data["rules"] = [_rule(r) for r in outcome.rules]
    if isinstance(outcome, AlreadyProcessed):
        data["existing_key"] = outcome.existing_key
    if isinstance(outcome, Queued):
        data["zip_key"] = outcome.zip_key
    if isinstance(outcome, QueueRefused):
        data["errors"] = [e.model_dump() for e in outcome.upload.errors]
    if isinstance(outcome, BatchStatus):
        data["items"] = [outcome_to_dict(i) for i in outcome.items]
        data["test_set_accepted"] = outcome.test_set_accepted
    if isinstance(outcome, NumberingRanges | NumberingFailed):
        data["operation_code"] = outcome.response.operation_code
        data["ranges"] = [r.model_dump(mode="json") for r in outcome.response.ranges]
    if isinstance(outcome, Acquirer | AcquirerNotFound):
        data["status_code"] = outcome.response.status_code
        data["dian_message"] = outcome.response.message
        data["receiver_name"] = outcome.response.receiver_name
        data["receiver_email"] = outcome.response.receiver_email
    if isinstance(outcome, SoapFault):
        data["fault_code"] = outcome.code
        data["fault_reason"] = outcome.reason
        data["hint"] = outcome.hint
    if isinstance(outcome, HttpError):
        data["http_status"] = outcome.status_code
    return data
