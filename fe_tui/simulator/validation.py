"""The simulator's view of DIAN's document checks (the checks live in :mod:`fe_tui.checks`).

:func:`check_document` runs :func:`fe_tui.checks.engine.run` with the
simulator's configuration as the registry (authoritative: an issuer it does not
know is unregistered, FAJ21) and turns every failed finding into the message
DIAN writes, from the rule catalogue (:func:`fe_tui.dian.rules.message`); DIAN
lists every rule that failed. The checks that need the simulator's memory
(Regla 90 duplicates, the invoice a note refers to) live in
:func:`reference_rules` and run under the app's lock.

Codes not in the catalogue are built locally in DIAN's format with the text of
the invoice (F…) variant, or a wording in DIAN's style: see :data:`LOCAL_TEXTS`.
The codes emitted are listed in :mod:`fe_tui.checks.document` and
:mod:`fe_tui.checks.local`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from fe_tui.checks.document import Checked as _Checked
from fe_tui.checks.document import split_number, xsd_errors
from fe_tui.checks.engine import run as run_checks
from fe_tui.checks.results import Finding
from fe_tui.dian import rules
from fe_tui.dian.messages import RuleMessage
from fe_tui.domain.models import Resolution
from fe_tui.simulator.config import SimulatorConfig
from fe_tui.simulator.state import State
from fe_tui.ubl.reader import DocumentFacts

__all__ = [
    "LOCAL_TEXTS",
    "Checked",
    "check_document",
    "document_name",
    "reference_rules",
    "rule",
    "split_number",
    "status_message",
    "xsd_errors",
]

Kind = Literal["Rechazo", "Notificación"]

#: Texts for codes the catalogue lacks (and ZE02's policy variant).
LOCAL_TEXTS: dict[str, str] = {
    "ZE02/policy": "Política de firma inválida.",
    "AD04": "El valor de ProfileExecutionID no corresponde al ambiente de destino.",
}

_DOC_NAMES = {
    "01": "Factura electrónica",
    "02": "Factura electrónica de exportación",
    "03": "Factura electrónica de contingencia",
    "04": "Factura electrónica de contingencia DIAN",
    "91": "Nota crédito electrónica",
    "92": "Nota débito electrónica",
}


def rule(
    code: str, kind: Kind | None = None, *, detail: str | None = None, **values: str
) -> RuleMessage:
    """DIAN's message for ``code``; ``detail`` is appended after a colon (ZB01's first error)."""
    try:
        msg = rules.message(code, kind, **values)
    except KeyError:
        msg = _local(code, kind)
    if detail:
        msg = RuleMessage.parse(f"Regla: {msg.code}, {msg.kind}: {msg.text.rstrip('.')}: {detail}")
    return msg


def _local(code: str, kind: Kind | None) -> RuleMessage:
    text = LOCAL_TEXTS.get(code[1:]) if code[:1] in "FCD" else None
    if text is None and code[:1] in "CD":
        base = rules.get("F" + code[1:]) or rules.get("C" + code[1:])
        text = base.dian_text if base is not None else None
        kind = kind or (base.kind if base is not None else None)
    if text is None:
        text = LOCAL_TEXTS.get(code, "Validación no superada.")
    return RuleMessage.parse(f"Regla: {code}, {kind or 'Rechazo'}: {text}")


def policy_rule() -> RuleMessage:
    return RuleMessage.parse(f"Regla: ZE02, Rechazo: {LOCAL_TEXTS['ZE02/policy']}")


def document_name(document_type: str) -> str:
    """The document's name in StatusMessage, e.g. "Factura electrónica"."""
    return _DOC_NAMES.get(document_type, "Documento electrónico")


@dataclass
class Checked:
    """What the checks learned about one document, with DIAN's messages for the failures."""

    inner: _Checked
    rules: list[RuleMessage]

    @property
    def xml(self) -> bytes:
        return self.inner.xml

    @property
    def root_name(self) -> str | None:
        return self.inner.root_name

    @property
    def facts(self) -> DocumentFacts | None:
        return self.inner.facts

    @property
    def range(self) -> Resolution | None:
        return self.inner.range

    @property
    def reference(self) -> tuple[str, str] | None:
        return self.inner.reference

    @property
    def document_type(self) -> str | None:
        return self.inner.document_type

    @property
    def key(self) -> str | None:
        return self.inner.key

    @property
    def issuer_nit(self) -> str | None:
        return self.inner.issuer_nit

    @property
    def rejections(self) -> list[RuleMessage]:
        return [r for r in self.rules if r.kind == "Rechazo"]

    @property
    def notifications(self) -> list[RuleMessage]:
        return [r for r in self.rules if r.kind == "Notificación"]


def message_of(finding: Finding) -> RuleMessage:
    """DIAN's message for a failed finding (ZB01 carries the first schema error)."""
    if finding.text is not None:
        return RuleMessage.parse(f"Regla: {finding.code}, {finding.kind}: {finding.text}")
    detail = finding.detail if finding.code == "ZB01" else None
    return rule(finding.code, finding.kind, detail=detail)


def check_document(xml: bytes, config: SimulatorConfig, *, now: datetime | None = None) -> Checked:
    """Run every state-independent check DIAN runs on one document."""
    inner = run_checks(xml, config, now=now)
    return Checked(inner, [message_of(f) for f in inner.findings if f.failed])


def status_message(document_type: str, document_id: str, prefix: str | None = None) -> str:
    """StatusMessage when accepted: "La Factura electrónica SETP-1, ha sido autorizada."."""
    series, number = split_number(document_id, prefix)
    shown = f"{series}-{number}" if series else number
    return f"La {document_name(document_type)} {shown}, ha sido autorizada."


def reference_rules(checked: Checked, state: State) -> list[RuleMessage]:
    """CBG04a/CBG04b (DBG04a/DBG04b): the invoice a note refers to, as this simulator knows it."""
    if checked.reference is None:
        return []
    letter = "C" if checked.root_name == "CreditNote" else "D"
    _, ref_uuid = checked.reference
    invoice = state.documents.get(ref_uuid)
    if invoice is None or not invoice.accepted:
        return [rule(f"{letter}BG04a")]
    if invoice.issuer_nit != checked.issuer_nit:
        return [rule(f"{letter}BG04b")]
    return []
