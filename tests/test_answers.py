"""Saved DIAN answers (tests/data/answers): a damaged attachment keeps the envelope's verdict."""

from __future__ import annotations

from pathlib import Path

import pytest

from fe_tui.dian import messages, outcomes

ANSWERS = Path(__file__).parent / "data" / "answers"
CUT = ANSWERS / "getstatuszip_rejected_21_rules_cut_attachment.xml"
PLACEHOLDER = ANSWERS / "getstatuszip_accepted_placeholder_attachment.xml"
READABLE = ANSWERS / "sendbillsync_accepted_with_notification.xml"


def test_cut_short_attachment_keeps_the_verdict_and_all_21_rules() -> None:
    [response] = messages.parse_status_zip(CUT.read_bytes())
    assert not response.is_valid and response.status_code == "99"
    assert len(response.errors) == 21
    assert all(e.code and e.kind for e in response.errors)
    assert response.application_response is None
    assert response.attachment_error and "ApplicationResponse" in response.attachment_error
    batch = outcomes.classify_batch([response])
    [outcome] = batch.items
    assert isinstance(outcome, outcomes.Rejected)
    assert len(outcome.rules) == 21
    assert outcome.attachment_error == response.attachment_error
    assert "no se pudo leer" in outcome.message and "sobre SOAP" in outcome.message


def test_placeholder_attachment_keeps_the_acceptance_and_notifications() -> None:
    [response] = messages.parse_status_zip(PLACEHOLDER.read_bytes())
    assert response.is_valid and [e.code for e in response.errors] == ["FAJ43b", "FAZ09"]
    assert response.application_response is None and response.attachment_error
    outcome = outcomes.classify("GetStatusZip", response)
    assert isinstance(outcome, outcomes.AcceptedWithNotifications)
    assert "no se pudo leer" in outcome.message


def test_readable_attachment_has_no_attachment_error() -> None:
    response = messages.parse_dian_response(READABLE.read_bytes(), "SendBillSync")
    assert response.application_response is not None and response.attachment_error is None
    assert "no se pudo leer" not in outcomes.classify("SendBillSync", response).message


def test_pretty_printed_rule_texts_are_whitespace_normalised() -> None:
    [response] = messages.parse_status_zip(CUT.read_bytes())
    first = response.errors[0]
    assert first.code == "FAJ08" and first.kind == "Rechazo"
    assert "\n" not in first.text and "  " not in first.text
    assert "\n" in first.raw  # the raw string is kept as it came


@pytest.mark.parametrize(
    "b64",
    [
        "UEsDBBQAAAAIAAAAIQ",  # a zip cut after its first bytes
        "bm8gZXMgWE1M",  # "no es XML"
        "@@@ no es base64 @@@",
    ],
)
def test_every_damaged_attachment_shape_keeps_the_rules(b64: str) -> None:
    body = messages.render_dian_response(
        "SendBillSync",
        messages.DianResponse(
            is_valid=False,
            status_code="99",
            errors=[
                messages.RuleMessage.parse(
                    "Regla: FAD06, Rechazo: Valor del CUFE no está calculado correctamente."
                )
            ],
        ),
    ).replace('<b:XmlBase64Bytes i:nil="true"/>', f"<b:XmlBase64Bytes>{b64}</b:XmlBase64Bytes>")
    from fe_tui.dian import soap

    envelope = soap.envelope(body, action=soap.ACTION_BASE + "SendBillSyncResponse")
    response = messages.parse_dian_response(envelope, "SendBillSync")
    assert [e.code for e in response.errors] == ["FAD06"]
    assert response.attachment_error
