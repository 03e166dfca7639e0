"""DIAN web-service answers: typed models, a tolerant parser and a renderer (SPEC §5.4–5.7).

The parser reads real DIAN answers: elements are matched by **local name**
(DIAN's prefixes and data-contract namespaces vary), unknown elements are
ignored, and every piece of untrusted content is bounded (XML size, base64
size, zip entries and decompressed size). The renderer writes the same shapes
DIAN writes; the local simulator uses it, and the round trip is tested.

``ErrorMessage`` strings look like ``Regla: FAD06, Rechazo: Valor del CUFE no
está calculado correctamente.``; they become :class:`RuleMessage` with the
rule code, the kind (Rechazo or Notificación) and the text. Strings that do
not follow the pattern are kept whole, never dropped.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date
from typing import Literal

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fe_tui import xmlsafe
from fe_tui.domain.models import Resolution
from fe_tui.errors import AnswerError, FeError
from fe_tui.ubl import packaging

#: Largest SOAP answer we read (DIAN answers with an AR are tens of KB).
MAX_ANSWER_BYTES = 10 * 1024 * 1024
#: Largest decoded attachment (ApplicationResponse, stored XML).
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024

DIAN_RESPONSE_NS = "http://schemas.datacontract.org/2004/07/DianResponse"
ARRAYS_NS = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
UPLOAD_NS = "http://schemas.datacontract.org/2004/07/UploadDocumentResponse"
XML_PARAMS_NS = "http://schemas.datacontract.org/2004/07/XmlParamsResponseTrackId"
NUMBER_RANGE_LIST_NS = "http://schemas.datacontract.org/2004/07/NumberRangeResponseList"
NUMBER_RANGE_NS = "http://schemas.datacontract.org/2004/07/NumberRangeResponse"
EVENT_RESPONSE_NS = "http://schemas.datacontract.org/2004/07/EventResponse"
#: GetAcquirer's data contract (``AdquirienteResponse``, SPEC §5.3).
ACQUIRER_NS = "http://schemas.datacontract.org/2004/07/Gosocket.Dian.Services.Utils.Common"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

_RULE = re.compile(
    r"^\s*Regla:\s*(?P<code>[^,]+?)\s*,\s*(?P<kind>Rechazo|Notificaci[oó]n)\s*:\s*(?P<text>.*)$",
    re.S,
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class RuleMessage(_Model):
    """One ``ErrorMessage`` entry."""

    code: str | None  #: e.g. "FAD06", "90"; None when the text has no rule
    kind: Literal["Rechazo", "Notificación"] | None
    text: str
    raw: str

    @classmethod
    def parse(cls, raw: str) -> RuleMessage:
        m = _RULE.match(raw)
        if not m:
            return cls(code=None, kind=None, text=" ".join(raw.split()), raw=raw)
        kind: Literal["Rechazo", "Notificación"] = (
            "Rechazo" if m.group("kind") == "Rechazo" else "Notificación"
        )
        # Pretty-printed answers break and indent the text; DIAN's wording is the words.
        text = " ".join(m.group("text").split())
        return cls(code=m.group("code").strip(), kind=kind, text=text, raw=raw)

    def render(self) -> str:
        if self.code is None or self.kind is None:
            return self.raw
        return f"Regla: {self.code}, {self.kind}: {self.text}"


class LineResponse(_Model):
    """A ``cac:LineResponse`` of an ApplicationResponse (one rule applied)."""

    line_id: str | None
    code: str | None
    description: str


class ApplicationResponse(_Model):
    """DIAN's signed ApplicationResponse, decoded and read."""

    response_code: str | None  #: "02" validated, "04" rejected
    description: str | None
    document_id: str | None
    document_key: str | None
    line_responses: list[LineResponse] = Field(default_factory=list)
    xml: bytes = Field(repr=False)


class DianResponse(_Model):
    """``DianResponse`` (SendBillSync, GetStatus, SendEventUpdateStatus, GetStatusZip items)."""

    is_valid: bool
    status_code: str  #: a string: "00", "66", "89", "90", "98", "99", or ""
    status_description: str = ""
    status_message: str = ""
    errors: list[RuleMessage] = Field(default_factory=list)
    xml_document_key: str | None = None
    xml_file_name: str | None = None
    application_response: ApplicationResponse | None = None
    #: Why ``XmlBase64Bytes`` was present but could not be read (cut short, not XML, over a
    #: limit…), in Spanish; the verdict and rules of the envelope stand on their own.
    attachment_error: str | None = None

    @property
    def rejections(self) -> list[RuleMessage]:
        return [e for e in self.errors if e.kind == "Rechazo"]

    @property
    def notifications(self) -> list[RuleMessage]:
        return [e for e in self.errors if e.kind == "Notificación"]


class TrackIdMessage(_Model):
    """``XmlParamsResponseTrackId``: a document that could not even be queued."""

    success: bool
    document_key: str | None = None
    sender_code: str | None = None
    xml_file_name: str | None = None
    processed_message: str | None = None


class UploadDocumentResponse(_Model):
    """Answer of SendBillAsync and SendTestSetAsync."""

    zip_key: str | None
    errors: list[TrackIdMessage] = Field(default_factory=list)


class NumberingRange(_Model):
    """One ``NumberRangeResponse``."""

    resolution_number: str
    resolution_date: date | None = None
    prefix: str = ""
    from_number: int
    to_number: int
    valid_date_from: date
    valid_date_to: date
    technical_key: str | None = None

    @classmethod
    def from_resolution(cls, r: Resolution) -> NumberingRange:
        """The range as GetNumberingRange reports an authorized resolution."""
        return cls(
            resolution_number=r.number,
            resolution_date=r.date,
            prefix=r.prefix,
            from_number=r.from_number,
            to_number=r.to_number,
            valid_date_from=r.valid_from,
            valid_date_to=r.valid_to,
            technical_key=r.technical_key,
        )


    def to_resolution(self) -> Resolution:
        """The range as a :class:`~fe_tui.domain.models.Resolution`; AnswerError if invalid."""
        try:
            return Resolution(
                number=self.resolution_number,
                date=self.resolution_date,
                prefix=self.prefix,
                from_number=self.from_number,
                to_number=self.to_number,
                valid_from=self.valid_date_from,
                valid_to=self.valid_date_to,
                technical_key=self.technical_key or "",
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise AnswerError(
                f"El rango {self.prefix} {self.from_number}–{self.to_number} de la resolución "
                f"{self.resolution_number} no es una resolución válida "
                f"({where}: {first.get('msg')}).",
                resolution=self.resolution_number,
            ) from None


class NumberingRangeResponse(_Model):
    """Answer of GetNumberingRange."""

    operation_code: str
    operation_description: str = ""
    ranges: list[NumberingRange] = Field(default_factory=list)


class XmlDocumentResponse(_Model):
    """``EventResponse`` of GetXmlByDocumentKey: Code "100" means found."""

    code: str
    message: str = ""
    xml: bytes | None = Field(default=None, repr=False)
    validation_date: str | None = None


class AcquirerResponse(_Model):
    """Answer of GetAcquirer: the buyer's registered name and reception e-mail.

    StatusCode "200" means found (SPEC §5.3); the e-mail is the one rule FAJ71
    expects in ``AccountingCustomerParty/Party/Contact/ElectronicMail``.
    """

    status_code: str
    message: str = ""
    receiver_email: str | None = None
    receiver_name: str | None = None


# -- parsing ---------------------------------------------------------------------------------------
def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _child(el: etree._Element | None, name: str) -> etree._Element | None:
    if el is None:
        return None
    for c in el:
        if _local(c) == name:
            return c
    return None


def _children(el: etree._Element | None, name: str) -> list[etree._Element]:
    found = _child(el, name)
    return list(found) if found is not None else []


def _text(el: etree._Element | None, name: str) -> str | None:
    c = _child(el, name)
    if c is None or c.get(f"{{{XSI}}}nil") == "true":
        return None
    return (c.text or "").strip()


def decode_attachment(b64: str, *, what: str) -> bytes:
    """Decode a base64 attachment; if it is a zip, open its single XML within limits."""
    compact = "".join(b64.split())
    if len(compact) * 3 // 4 > MAX_ATTACHMENT_BYTES:
        raise AnswerError(f"{what} de la DIAN supera el límite de tamaño; no se leyó.")
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise AnswerError(f"{what} de la DIAN no es base64 válido.") from None
    if data.startswith(b"PK"):
        try:
            files = packaging.unzip(data, max_total=MAX_ATTACHMENT_BYTES, max_entries=10)
        except FeError as exc:
            raise AnswerError(f"{what} de la DIAN: {exc.message}") from None
        xmls = [v for k, v in files.items() if k.lower().endswith(".xml")]
        if len(xmls) != 1:
            raise AnswerError(f"{what} de la DIAN trae {len(xmls)} XML; se esperaba uno.")
        return xmls[0]
    return data


def parse_application_response(data: bytes) -> ApplicationResponse:
    """Read an ApplicationResponse XML (DIAN's verdict document)."""
    try:
        root = xmlsafe.parse_bytes(
            data, max_bytes=MAX_ATTACHMENT_BYTES, what="el ApplicationResponse"
        )
    except FeError as exc:
        raise AnswerError(exc.message) from None
    if _local(root) != "ApplicationResponse":
        raise AnswerError(f"Se esperaba un ApplicationResponse y llegó <{_local(root)}>.")
    doc_resp = _child(root, "DocumentResponse")
    response = _child(doc_resp, "Response")
    ref = _child(doc_resp, "DocumentReference")
    lines = []
    for el in doc_resp if doc_resp is not None else []:
        if _local(el) != "LineResponse":
            continue
        line_ref = _child(el, "LineReference")
        resp = _child(el, "Response")
        lines.append(
            LineResponse(
                line_id=_text(line_ref, "LineID"),
                code=_text(resp, "ResponseCode"),
                description=_text(resp, "Description") or "",
            )
        )
    return ApplicationResponse(
        response_code=_text(response, "ResponseCode"),
        description=_text(response, "Description"),
        document_id=_text(ref, "ID"),
        document_key=_text(ref, "UUID"),
        line_responses=lines,
        xml=data,
    )


def _dian_response(el: etree._Element) -> DianResponse:
    errors: list[RuleMessage] = []
    em = _child(el, "ErrorMessage")
    if em is not None:
        errors = [RuleMessage.parse(s.text or "") for s in em if _local(s) == "string"]
    ar: ApplicationResponse | None = None
    attachment_error: str | None = None
    ar_b64 = _text(el, "XmlBase64Bytes")
    if ar_b64:
        # A damaged attachment (cut short by whoever kept the answer, a placeholder, a bomb)
        # must not take the envelope's verdict and rules with it: report it on its own.
        try:
            ar = parse_application_response(
                decode_attachment(ar_b64, what="El ApplicationResponse")
            )
        except AnswerError as exc:
            attachment_error = exc.message
    is_valid = (_text(el, "IsValid") or "false").lower() == "true"
    return DianResponse(
        is_valid=is_valid,
        status_code=_text(el, "StatusCode") or "",
        status_description=_text(el, "StatusDescription") or "",
        status_message=_text(el, "StatusMessage") or "",
        errors=errors,
        xml_document_key=_text(el, "XmlDocumentKey") or None,
        xml_file_name=_text(el, "XmlFileName") or None,
        application_response=ar,
        attachment_error=attachment_error,
    )


def _body_result(data: bytes, operation: str) -> etree._Element:
    """The ``<OperationResult>`` element of a SOAP answer; faults are the caller's to detect."""
    try:
        root = xmlsafe.parse_bytes(data, max_bytes=MAX_ANSWER_BYTES, what="la respuesta de la DIAN")
    except FeError as exc:
        raise AnswerError(exc.message) from None
    if _local(root) != "Envelope":
        raise AnswerError("La respuesta de la DIAN no es un sobre SOAP.")
    body = _child(root, "Body")
    response = _child(body, f"{operation}Response")
    result = _child(response, f"{operation}Result")
    if result is None:
        raise AnswerError(f"La respuesta SOAP no trae {operation}Result.")
    return result


def parse_fault(data: bytes) -> tuple[str, str] | None:
    """``(subcode or code, reason)`` when ``data`` is a SOAP fault, else None."""
    try:
        root = xmlsafe.parse_bytes(data, max_bytes=MAX_ANSWER_BYTES, what="la respuesta de la DIAN")
    except FeError:
        return None
    if _local(root) != "Envelope":
        return None
    fault_el = _child(_child(root, "Body"), "Fault")
    if fault_el is None:
        return None
    code = fault_el.find(".//{*}Subcode/{*}Value")
    if code is None:
        code = fault_el.find(".//{*}Code/{*}Value")
    reason = fault_el.find(".//{*}Reason/{*}Text")
    return (
        (code.text or "").strip() if code is not None else "",
        (reason.text or "").strip() if reason is not None else "",
    )


def parse_dian_response(data: bytes, operation: str) -> DianResponse:
    """SendBillSync / GetStatus / SendEventUpdateStatus answers."""
    return _dian_response(_body_result(data, operation))


def parse_status_zip(data: bytes) -> list[DianResponse]:
    """GetStatusZip: one DianResponse per document in the zip."""
    result = _body_result(data, "GetStatusZip")
    return [_dian_response(el) for el in result if _local(el) == "DianResponse"]


def parse_upload(data: bytes, operation: str) -> UploadDocumentResponse:
    """SendBillAsync / SendTestSetAsync answers."""
    result = _body_result(data, operation)
    errors = []
    for item in _children(result, "ErrorMessageList"):
        if _local(item) != "XmlParamsResponseTrackId":
            continue
        errors.append(
            TrackIdMessage(
                success=(_text(item, "Success") or "false").lower() == "true",
                document_key=_text(item, "DocumentKey"),
                sender_code=_text(item, "SenderCode"),
                xml_file_name=_text(item, "XmlFileName"),
                processed_message=_text(item, "ProcessedMessage"),
            )
        )
    return UploadDocumentResponse(zip_key=_text(result, "ZipKey") or None, errors=errors)


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise AnswerError(f"Fecha inválida en la respuesta de la DIAN: {text!r}.") from None


def parse_numbering(data: bytes) -> NumberingRangeResponse:
    """GetNumberingRange answer."""
    result = _body_result(data, "GetNumberingRange")
    ranges = []
    for item in _children(result, "ResponseList"):
        if _local(item) != "NumberRangeResponse":
            continue
        try:
            valid_from = _date(_text(item, "ValidDateFrom"))
            valid_to = _date(_text(item, "ValidDateTo"))
            if valid_from is None or valid_to is None:
                raise AnswerError("Un rango de numeración llegó sin fechas de vigencia.")
            ranges.append(
                NumberingRange(
                    resolution_number=_text(item, "ResolutionNumber") or "",
                    resolution_date=_date(_text(item, "ResolutionDate")),
                    prefix=_text(item, "Prefix") or "",
                    from_number=int(_text(item, "FromNumber") or "0"),
                    to_number=int(_text(item, "ToNumber") or "0"),
                    valid_date_from=valid_from,
                    valid_date_to=valid_to,
                    technical_key=_text(item, "TechnicalKey") or None,
                )
            )
        except ValueError:
            raise AnswerError("Un rango de numeración trae números inválidos.") from None
    return NumberingRangeResponse(
        operation_code=_text(result, "OperationCode") or "",
        operation_description=_text(result, "OperationDescription") or "",
        ranges=ranges,
    )


def parse_xml_by_key(data: bytes) -> XmlDocumentResponse:
    """GetXmlByDocumentKey answer."""
    result = _body_result(data, "GetXmlByDocumentKey")
    b64 = _text(result, "XmlBytesBase64")
    return XmlDocumentResponse(
        code=_text(result, "Code") or "",
        message=_text(result, "Message") or "",
        xml=decode_attachment(b64, what="El XML") if b64 else None,
        validation_date=_text(result, "ValidationDate"),
    )


def parse_acquirer(data: bytes) -> AcquirerResponse:
    """GetAcquirer answer (fields by local name; empty ones become None)."""
    result = _body_result(data, "GetAcquirer")
    return AcquirerResponse(
        status_code=_text(result, "StatusCode") or "",
        message=_text(result, "Message") or "",
        receiver_email=_text(result, "ReceiverEmail") or None,
        receiver_name=_text(result, "ReceiverName") or None,
    )


# -- rendering (the simulator speaks with these) --------------------------------------------------
def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _el(prefix: str, name: str, value: str | None) -> str:
    if value is None:
        return f'<{prefix}:{name} i:nil="true"/>'
    return f"<{prefix}:{name}>{_esc(value)}</{prefix}:{name}>"


def _dian_response_xml(r: DianResponse, tag: str, prefix: str = "b") -> str:
    errors = "".join(f"<c:string>{_esc(e.render())}</c:string>" for e in r.errors)
    ar = base64.b64encode(r.application_response.xml).decode() if r.application_response else None
    return (
        f"<{tag}>"
        f'<{prefix}:ErrorMessage xmlns:c="{ARRAYS_NS}">{errors}</{prefix}:ErrorMessage>'
        f"{_el(prefix, 'IsValid', 'true' if r.is_valid else 'false')}"
        f"{_el(prefix, 'StatusCode', r.status_code)}"
        f"{_el(prefix, 'StatusDescription', r.status_description)}"
        f"{_el(prefix, 'StatusMessage', r.status_message)}"
        f"{_el(prefix, 'XmlBase64Bytes', ar)}"
        f"{_el(prefix, 'XmlBytes', None)}"
        f"{_el(prefix, 'XmlDocumentKey', r.xml_document_key)}"
        f"{_el(prefix, 'XmlFileName', r.xml_file_name)}"
        f"</{tag}>"
    )


def _result(operation: str, ns: str, inner: str) -> str:
    return (
        f'<{operation}Response xmlns="http://wcf.dian.colombia">'
        f'<{operation}Result xmlns:b="{ns}" xmlns:i="{XSI}">{inner}</{operation}Result>'
        f"</{operation}Response>"
    )


def render_dian_response(operation: str, r: DianResponse) -> str:
    inner = _dian_response_xml(r, "x")[3:-4]  # children only
    return _result(operation, DIAN_RESPONSE_NS, inner)


def render_status_zip(items: list[DianResponse]) -> str:
    inner = "".join(_dian_response_xml(r, "b:DianResponse") for r in items)
    return _result("GetStatusZip", DIAN_RESPONSE_NS, inner)


def render_upload(operation: str, r: UploadDocumentResponse) -> str:
    items = "".join(
        f"<c:XmlParamsResponseTrackId>"
        f"{_el('c', 'DocumentKey', e.document_key)}"
        f"{_el('c', 'ProcessedMessage', e.processed_message)}"
        f"{_el('c', 'SenderCode', e.sender_code)}"
        f"{_el('c', 'Success', 'true' if e.success else 'false')}"
        f"{_el('c', 'XmlFileName', e.xml_file_name)}</c:XmlParamsResponseTrackId>"
        for e in r.errors
    )
    error_list = (
        f'<b:ErrorMessageList xmlns:c="{XML_PARAMS_NS}">{items}</b:ErrorMessageList>'
        if r.errors
        else '<b:ErrorMessageList i:nil="true"/>'
    )
    return _result(operation, UPLOAD_NS, error_list + _el("b", "ZipKey", r.zip_key))


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


def render_numbering(r: NumberingRangeResponse) -> str:
    items = "".join(
        f'<c:NumberRangeResponse xmlns:c="{NUMBER_RANGE_NS}">'
        f"{_el('c', 'ResolutionNumber', x.resolution_number)}"
        f"{_el('c', 'ResolutionDate', _iso(x.resolution_date))}"
        f"{_el('c', 'Prefix', x.prefix)}{_el('c', 'FromNumber', str(x.from_number))}"
        f"{_el('c', 'ToNumber', str(x.to_number))}"
        f"{_el('c', 'ValidDateFrom', x.valid_date_from.isoformat())}"
        f"{_el('c', 'ValidDateTo', x.valid_date_to.isoformat())}"
        f"{_el('c', 'TechnicalKey', x.technical_key)}</c:NumberRangeResponse>"
        for x in r.ranges
    )
    inner = (
        f"{_el('b', 'OperationCode', r.operation_code)}"
        f"{_el('b', 'OperationDescription', r.operation_description)}"
        f"<b:ResponseList>{items}</b:ResponseList>"
    )
    return _result("GetNumberingRange", NUMBER_RANGE_LIST_NS, inner)


def render_xml_by_key(r: XmlDocumentResponse) -> str:
    b64 = base64.b64encode(r.xml).decode() if r.xml is not None else None
    inner = (
        f"{_el('b', 'Code', r.code)}{_el('b', 'Message', r.message)}"
        f"{_el('b', 'ValidationDate', r.validation_date)}{_el('b', 'XmlBytesBase64', b64)}"
    )
    return _result("GetXmlByDocumentKey", EVENT_RESPONSE_NS, inner)


def render_acquirer(r: AcquirerResponse) -> str:
    inner = (
        f"{_el('b', 'Message', r.message)}{_el('b', 'ReceiverEmail', r.receiver_email)}"
        f"{_el('b', 'ReceiverName', r.receiver_name)}{_el('b', 'StatusCode', r.status_code)}"
    )
    return _result("GetAcquirer", ACQUIRER_NS, inner)
