"""DIAN use cases over the async client: send a signed document, ask its status, fetch ranges.

The CLI (and later the console) call these; they never speak SOAP themselves.
Outcomes come back as the client's outcome tree (:mod:`fe_tui.dian.outcomes`);
:func:`outcome_to_dict` turns any of them into JSON-ready data.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fe_tui import exit_codes, ns, xmlsafe
from fe_tui.dian import outcomes as oc
from fe_tui.dian.client import DianClient
from fe_tui.dian.environments import Environment
from fe_tui.dian.messages import DianResponse
from fe_tui.dian.rules import ExplainedRule
from fe_tui.domain.models import COLOMBIA_TZ
from fe_tui.errors import InputError
from fe_tui.store.counters import FileCounters
from fe_tui.store.journal import Journal
from fe_tui.ubl import packaging
from fe_tui.ubl.packaging import Package
from fe_tui.ubl.reader import read_facts


@dataclass(frozen=True)
class Submission:
    """A signed document ready to send: its package and what identifies it."""

    package: Package
    document_id: str
    document_key: str  #: CUFE/CUDE
    document_type: str
    profile_execution_id: str  #: "1" producción, "2" habilitación (as the document says)
    xml: bytes = field(repr=False)  #: the signed bytes, exactly as they go in the zip
    warnings: tuple[str, ...] = ()  #: Spanish; the document can be sent, but look first


def check_environment(
    document_id: str, profile_execution_id: str, environment: Environment
) -> None:
    """Refuse to send a habilitación document to producción, or the reverse.

    DIAN would reject it (ProfileExecutionID, and the CUFE uses the environment
    digit); the local simulator is left to decide for itself.
    """
    if environment.is_test_double:
        return
    expected = str(environment.profile_execution_id)
    if profile_execution_id != expected:
        names = {"1": "producción", "2": "habilitación"}
        raise InputError(
            f"{document_id} es de {names.get(profile_execution_id, '?')} "
            f"(ProfileExecutionID {profile_execution_id}) y el ambiente elegido es "
            f"{environment.label}; genérelo para ese ambiente o cambie --env."
        )


def prepare_submission(
    xml: bytes, counters: FileCounters, environment: Environment | None = None
) -> Submission:
    """Check that ``xml`` is a signed DIAN document for ``environment``; name and zip it.

    The file-name consecutive is reserved only once every check passed.
    """
    root = xmlsafe.parse_bytes(xml, what="el documento a enviar")
    facts = read_facts(root)
    if root.find(f".//{{{ns.DS}}}Signature") is None:
        raise InputError(
            f"{facts.document_id} no está firmado; fírmelo con `fe-tui sign` antes de enviarlo."
        )
    if environment is not None:
        check_environment(facts.document_id, facts.environment, environment)
    nit = facts.components.supplier_id
    try:
        year = int(facts.issue_date[:4])
    except ValueError:
        raise InputError(f"Fecha de emisión inválida en {facts.document_id}.") from None
    kind = packaging.PREFIXES.get(facts.document_type, "fv")
    package = packaging.pack(
        xml,
        document_type=facts.document_type,
        nit=nit,
        year=year,
        consecutive=counters.next(nit, year, kind),
    )
    warnings = []
    today = datetime.now(COLOMBIA_TZ).date().isoformat()
    if facts.issue_date != today:
        warnings.append(
            f"La fecha de emisión de {facts.document_id} ({facts.issue_date}) no es la de hoy en "
            f"Colombia ({today}); la DIAN espera que emisión, firma y transmisión coincidan "
            "(FAD09e). Si es un reenvío, consulte antes `fe-tui dian status` con su CUFE/CUDE."
        )
    return Submission(
        package,
        facts.document_id,
        facts.uuid,
        facts.document_type,
        facts.environment,
        xml,
        tuple(warnings),
    )


async def send(
    client: DianClient, submission: Submission, *, test_set_id: str | None = None
) -> oc.Outcome:
    """SendBillSync, or SendTestSetAsync when a TestSetId is given (habilitación)."""
    if test_set_id:
        return await client.send_test_set_async(submission.package, test_set_id)
    return await client.send_bill_sync(submission.package)


@dataclass(frozen=True)
class SendResult:
    """What a journaled send came to."""

    outcome: oc.Outcome  #: DIAN's answer to the send, or to the status check that replaced it
    status_check: oc.Outcome | None = None  #: GetStatus asked first (an earlier send was ambiguous)
    sent: bool = True  #: False when the status check showed there was nothing to send

    @property
    def note(self) -> str | None:
        """Spanish explanation of a status check, for the agent."""
        if self.status_check is None:
            return None
        if not self.sent:
            return (
                "El diario de envíos muestra un envío anterior de este documento; se consultó "
                "su estado en la DIAN antes de reenviar y no se reenvió."
            )
        return (
            "El diario de envíos muestra un envío anterior sin veredicto; la DIAN no lo tenía "
            "(o lo había rechazado), así que se envió de nuevo con el mismo número."
        )


#: Outcome kinds after which a resend must first ask DIAN (it may already have the document).
_ASK_FIRST = {
    oc.OutcomeKind.ACCEPTED,
    oc.OutcomeKind.ACCEPTED_WITH_NOTIFICATIONS,
    oc.OutcomeKind.ALREADY_PROCESSED,
}


async def send_journaled(
    client: DianClient,
    submission: Submission,
    journal: Journal,
    *,
    test_set_id: str | None = None,
) -> SendResult:
    """Journal first, then send (DESIGN invariant 3).

    When the journal shows an earlier send of the same document (same CUFE/CUDE)
    that ended without a verdict, or that DIAN accepted, DIAN is asked with
    GetStatus before anything is sent again: an accepted document is not sent
    twice, and a lost answer is recovered instead of provoking Regla 90.
    """
    key = submission.document_key
    status: oc.Outcome | None = None
    last = journal.last_call(key)
    if last is not None and (last.data.get("needs_status_check") or last.kind in _ASK_FIRST):
        status = await client.get_status(key)
        journal.append(key, "status_check", **outcome_to_dict(status))
        if not isinstance(status, oc.NotFound | oc.Rejected):
            # DIAN has it (accepted), or we cannot tell right now: do not send again.
            return SendResult(status, status_check=status, sent=False)
    journal.record_prepared(
        key,
        submission.xml,
        submission.package.zip_name,
        submission.package.zip_bytes,
        document_id=submission.document_id,
        environment=client.environment.key,
        test_set_id=test_set_id,
    )
    outcome = await send(client, submission, test_set_id=test_set_id)
    journal.append(key, "sent", zip_name=submission.package.zip_name, **outcome_to_dict(outcome))
    return SendResult(outcome, status_check=status)


async def wait_for_batch(client: DianClient, zip_key: str, *, wait: float = 30.0) -> oc.Outcome:
    """Poll GetStatusZip every 2 s until the batch leaves "en proceso" or ``wait`` seconds pass."""
    outcome = await client.get_status_zip(zip_key)
    # On timeout the last answer ("en proceso") is what the agent sees.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(wait):
            while isinstance(outcome, oc.BatchStatus) and outcome.in_process:
                await asyncio.sleep(2.0)
                outcome = await client.get_status_zip(zip_key)
    return outcome


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
    return data


def _rule(r: ExplainedRule) -> dict[str, Any]:
    return r.model_dump(mode="json")


def outcome_to_dict(outcome: oc.Outcome) -> dict[str, Any]:
    """JSON-ready description of any outcome (no envelopes, no secrets)."""
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
    if isinstance(outcome, oc.Rejected | oc.AcceptedWithNotifications):
        data["rules"] = [_rule(r) for r in outcome.rules]
    if isinstance(outcome, oc.AlreadyProcessed):
        data["existing_key"] = outcome.existing_key
    if isinstance(outcome, oc.Queued):
        data["zip_key"] = outcome.zip_key
    if isinstance(outcome, oc.QueueRefused):
        data["errors"] = [e.model_dump() for e in outcome.upload.errors]
    if isinstance(outcome, oc.BatchStatus):
        data["items"] = [outcome_to_dict(i) for i in outcome.items]
        data["test_set_accepted"] = outcome.test_set_accepted
    if isinstance(outcome, oc.NumberingRanges | oc.NumberingFailed):
        data["operation_code"] = outcome.response.operation_code
        data["ranges"] = [r.model_dump(mode="json") for r in outcome.response.ranges]
    if isinstance(outcome, oc.Acquirer | oc.AcquirerNotFound):
        data["status_code"] = outcome.response.status_code
        data["dian_message"] = outcome.response.message
        data["receiver_name"] = outcome.response.receiver_name
        data["receiver_email"] = outcome.response.receiver_email
    if isinstance(outcome, oc.SoapFault):
        data["fault_code"] = outcome.code
        data["fault_reason"] = outcome.reason
        data["hint"] = outcome.hint
    if isinstance(outcome, oc.HttpError):
        data["http_status"] = outcome.status_code
    return data


#: CLI exit codes for outcomes (:mod:`fe_tui.exit_codes`): DIAN said yes (or already has it,
#: or found the acquirer), DIAN said no (rejected, not found: a document or an acquirer),
#: no verdict (communication failure, malformed answer, still in process).
EXIT_YES, EXIT_NO, EXIT_NO_VERDICT = exit_codes.OK, exit_codes.CHECK_FAILED, exit_codes.NO_VERDICT


def exit_code(outcome: oc.Outcome) -> int:
    """How a script should read an outcome."""
    yes = (
        oc.Accepted,
        oc.AcceptedWithNotifications,
        oc.AlreadyProcessed,
        oc.NumberingRanges,
        oc.StoredXml,
        oc.Queued,
        oc.Acquirer,
    )
    if isinstance(outcome, yes):
        return EXIT_YES
    if isinstance(outcome, oc.BatchStatus):
        if outcome.in_process:
            return EXIT_NO_VERDICT
        codes = {exit_code(i) for i in outcome.items if not isinstance(i, oc.TestSetStatus)}
        return max(codes) if codes else EXIT_YES
    if isinstance(outcome, oc.Failure | oc.InProcess):
        return EXIT_NO_VERDICT
    return EXIT_NO
