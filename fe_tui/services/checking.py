"""Local preflight of a document and explanation of saved DIAN answers (``fe-tui check``,
``fe-tui dian explain``; the queue calls :func:`preflight_bytes` before the first send).

Both speak the support agent's language: each failed rule as DIAN would write it
(``Regla: FAD06, Rechazo: …``), what it checks, where, the offending value and the
usual fix, from the rule catalogue (:mod:`fe_tui.dian.rules`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lxml import etree

from fe_tui import xmlsafe
from fe_tui.checks import Finding, PreflightReport, Registry, preflight
from fe_tui.dian import messages, outcomes, rules
from fe_tui.dian.messages import AnswerError, ApplicationResponse, RuleMessage
from fe_tui.dian.outcomes import Outcome
from fe_tui.errors import FeError, InputError
from fe_tui.fileio import read_input
from fe_tui.services import dian_ops

#: Largest document or answer read (DIAN's own cap on a document is far below).
MAX_FILE_BYTES = 20 * 1024 * 1024
EXIT_ACCEPTED, EXIT_REJECTED, EXIT_UNREADABLE, EXIT_NO_VERDICT = 0, 1, 2, 3


def preflight_bytes(
    xml: bytes, registry: Registry | None = None, key: str | None = None
) -> PreflightReport:
    """:func:`fe_tui.checks.preflight` (the queue's entry point; see its docstring)."""
    return preflight(xml, registry, key)


def check_file(
    path: str | Path, *, key: str | None = None, registry: Registry | None = None
) -> PreflightReport:
    """Preflight a document on disk; InputError when the file cannot be read at all."""
    if key is not None and not key.strip():
        raise InputError("La clave técnica o PIN (--key) está vacía.")
    data = read_input(path, max_bytes=MAX_FILE_BYTES, what="El documento")
    return preflight(data, registry, key)


def describe(finding: Finding) -> dict[str, Any]:
    """A finding as the agent reads it: DIAN's message plus the catalogue's explanation."""
    message = rules.render(finding.code, finding.kind, finding.text)
    explained = rules.explain(message)
    return {
        "code": finding.code,
        "kind": finding.kind,
        "status": finding.status.value,
        "dian_message": message.raw,
        "detail": finding.detail,
        "xpath": finding.xpath or explained.xpath,
        "value": finding.value,
        "explanation": explained.explanation,
        "fix": explained.fix,
        "confirmed": explained.confirmed,
    }


# -- saved DIAN answers ----------------------------------------------------------------------------
Verdict = Literal["accepted", "rejected", "no_verdict"]


@dataclass
class ExplainedAnswer:
    """What a saved DIAN answer says: verdict, rules explained, the attachment's state."""

    operation: str  #: SOAP operation, or "ApplicationResponse" for a bare AR
    verdict: Verdict
    message: str  #: one Spanish line
    rules: list[rules.ExplainedRule] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)  #: one Spanish line per document
    outcome: Outcome | None = None

    @property
    def exit_code(self) -> int:
        return {
            "accepted": EXIT_ACCEPTED,
            "rejected": EXIT_REJECTED,
            "no_verdict": EXIT_NO_VERDICT,
        }[self.verdict]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "operation": self.operation,
            "verdict": self.verdict,
            "message": self.message,
            "rules": [r.model_dump(mode="json") for r in self.rules],
            "attachments": self.attachments,
        }
        if self.outcome is not None:
            data["outcome"] = dian_ops.outcome_to_dict(self.outcome)
        return data


def explain_file(path: str | Path) -> ExplainedAnswer:
    """Explain a saved answer on disk; InputError (exit 2) when it is not one."""
    return explain_answer(read_input(path, max_bytes=MAX_FILE_BYTES, what="La respuesta"))


def explain_answer(data: bytes) -> ExplainedAnswer:
    """A SOAP envelope of any DIAN operation, or an ApplicationResponse, explained."""
    try:
        root = xmlsafe.parse_bytes(data, max_bytes=MAX_FILE_BYTES, what="la respuesta")
    except FeError as exc:
        raise InputError(f"No es una respuesta de la DIAN legible: {exc.message}") from None
    local = etree.QName(root).localname
    if local == "ApplicationResponse":
        try:
            ar = messages.parse_application_response(data)
        except AnswerError as exc:
            raise InputError(exc.message) from None
        return _bare_ar(ar)
    if local != "Envelope":
        raise InputError(
            f"No es una respuesta de la DIAN: la raíz es <{local}>, no un sobre SOAP ni un "
            "ApplicationResponse."
        )
    fault = messages.parse_fault(data)
    if fault is not None:
        outcome: Outcome = outcomes.SoapFault(fault[0], fault[1], operation="")
        return ExplainedAnswer("Fault", "no_verdict", outcome.message, outcome=outcome)
    operation = _operation(root)
    try:
        outcome = _classify(operation, data)
    except AnswerError as exc:
        raise InputError(f"Respuesta de {operation} ilegible: {exc.message}") from None
    return _from_outcome(operation, outcome)


def _operation(root: etree._Element) -> str:
    body = next((c for c in root if etree.QName(c).localname == "Body"), None)
    first = next(iter(body), None) if body is not None else None
    name = etree.QName(first).localname if first is not None else ""
    operation = name.removesuffix("Response")
    if not name.endswith("Response") or operation not in _PARSERS:
        raise InputError(
            f"El sobre SOAP no trae la respuesta de una operación de la DIAN ({name or 'vacío'})."
        )
    return operation


def _classify(operation: str, data: bytes) -> Outcome:
    kind = _PARSERS[operation]
    if kind == "dian":
        return outcomes.classify(operation, messages.parse_dian_response(data, operation))
    if kind == "upload":
        return outcomes.classify_upload(operation, messages.parse_upload(data, operation))
    if kind == "zip":
        return outcomes.classify_batch(messages.parse_status_zip(data))
    if kind == "numbering":
        return outcomes.classify_numbering(messages.parse_numbering(data))
    if kind == "xml":
        return outcomes.classify_xml(messages.parse_xml_by_key(data))
    return outcomes.classify_acquirer(messages.parse_acquirer(data))


_PARSERS = {
    "SendBillSync": "dian",
    "GetStatus": "dian",
    "SendEventUpdateStatus": "dian",
    "SendBillAsync": "upload",
    "SendTestSetAsync": "upload",
    "GetStatusZip": "zip",
    "GetNumberingRange": "numbering",
    "GetXmlByDocumentKey": "xml",
    "GetAcquirer": "acquirer",
}


def _attachment(outcome: Outcome) -> str | None:
    response = getattr(outcome, "response", None)
    if not isinstance(response, messages.DianResponse):
        return None
    who = f"documento {response.xml_document_key[:16]}…: " if response.xml_document_key else ""
    if response.attachment_error:
        return f"{who}ApplicationResponse adjunto ilegible ({response.attachment_error})"
    ar = response.application_response
    if ar is None:
        return f"{who}sin ApplicationResponse adjunto"
    return (
        f"{who}ApplicationResponse adjunto leído: ResponseCode {ar.response_code or '—'}, "
        f"{len(ar.line_responses)} línea(s)"
    )


def _from_outcome(operation: str, outcome: Outcome) -> ExplainedAnswer:
    items = outcome.items if isinstance(outcome, outcomes.BatchStatus) else [outcome]
    explained: list[rules.ExplainedRule] = []
    for item in items:
        response = getattr(item, "response", None)
        if isinstance(response, messages.DianResponse):
            explained += rules.explain_all(response.errors)
    attachments = [a for a in (_attachment(i) for i in items) if a]
    code = dian_ops.exit_code(outcome)
    verdict: Verdict = "accepted" if code == 0 else "rejected" if code == 1 else "no_verdict"
    return ExplainedAnswer(operation, verdict, outcome.message, explained, attachments, outcome)


def _bare_ar(ar: ApplicationResponse) -> ExplainedAnswer:
    accepted = ar.response_code == "02"
    rejected = ar.response_code == "04"
    lines: list[RuleMessage] = []
    for line in ar.line_responses:
        # The AR's lines carry no severity: an accepted document's are notifications,
        # a rejected one's take the catalogue's usual severity.
        base = rules.get(line.code or "") or rules.mirror(line.code or "")
        kind = "Notificación" if accepted else (base.kind if base is not None else "Rechazo")
        lines.append(RuleMessage.parse(f"Regla: {line.code or '—'}, {kind}: {line.description}"))
    verdict: Verdict = "accepted" if accepted else "rejected" if rejected else "no_verdict"
    state = {"accepted": "validado", "rejected": "rechazado", "no_verdict": "sin veredicto"}[
        verdict
    ]
    message = (
        f"ApplicationResponse de la DIAN: documento {ar.document_id or '—'} {state} "
        f"(ResponseCode {ar.response_code or '—'}: {ar.description or 'sin descripción'})."
    )
    return ExplainedAnswer("ApplicationResponse", verdict, message, rules.explain_all(lines))
