"""Findings of the local checks and the preflight report."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from fe_tui.ubl.reader import DocumentFacts

Kind = Literal["Rechazo", "Notificación"]


class Status(StrEnum):
    """The three answers a check gives."""

    PASSED = "passed"
    FAILED = "failed"
    #: The data needed is not here (no registry, an issuer the registry does not know,
    #: no key for the CUFE, the document could not be read far enough).
    CANNOT_CHECK = "cannot_check"


#: Codes whose usual severity is Notificación (everything else the checks emit is a
#: Rechazo); the rule catalogue is the authority and a test keeps both in step.
NOTIFICATIONS = frozenset({"FAB10b", "CAB10b", "DAB10b", "FAJ43b", "FAJ44b", "FAM37", "FAJ62"})


def usual_kind(code: str) -> Kind:
    return "Notificación" if code in NOTIFICATIONS else "Rechazo"


@dataclass(frozen=True)
class Finding:
    """One rule, checked.

    ``text`` is DIAN's own wording when the check knows a variant the catalogue
    cannot tell (ZE02 "Política de firma inválida."); ``detail`` is the Spanish
    specifics (what was expected, what the document says); ``value`` the
    offending value as written; ``xpath`` the element.
    """

    code: str
    status: Status
    kind: Kind = "Rechazo"
    detail: str | None = None
    xpath: str | None = None
    value: str | None = None
    text: str | None = None

    @property
    def failed(self) -> bool:
        return self.status is Status.FAILED

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "status": self.status.value,
            "kind": self.kind,
            "detail": self.detail,
            "xpath": self.xpath,
            "value": self.value,
            "text": self.text,
        }


@dataclass
class PreflightReport:
    """Everything the preflight learned about one document (:func:`fe_tui.checks.preflight`)."""

    findings: list[Finding] = field(default_factory=list)
    facts: DocumentFacts | None = None
    root_name: str | None = None
    #: False when the document could not be read as a DIAN document at all (ZB01 alone).
    readable: bool = True

    @property
    def rechazos(self) -> list[Finding]:
        """Failed rules DIAN would reject the document for."""
        return [f for f in self.findings if f.failed and f.kind == "Rechazo"]

    @property
    def notificaciones(self) -> list[Finding]:
        """Failed rules DIAN would only notify (the document is still accepted)."""
        return [f for f in self.findings if f.failed and f.kind == "Notificación"]

    @property
    def passed(self) -> list[Finding]:
        return [f for f in self.findings if f.status is Status.PASSED]

    @property
    def cannot_check(self) -> list[Finding]:
        return [f for f in self.findings if f.status is Status.CANNOT_CHECK]

    @property
    def ok(self) -> bool:
        """No Rechazo (notifications may be listed)."""
        return not self.rechazos

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "readable": self.readable,
            "document_type": self.facts.document_type if self.facts else None,
            "document_id": self.facts.document_id if self.facts else None,
            "key": self.facts.uuid if self.facts else None,
            "rechazos": [f.to_dict() for f in self.rechazos],
            "notificaciones": [f.to_dict() for f in self.notificaciones],
            "cannot_check": [f.to_dict() for f in self.cannot_check],
            "passed": sorted({f.code for f in self.passed}),
        }
