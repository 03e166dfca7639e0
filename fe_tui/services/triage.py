"""``fe-tui triage``: every company in one list, ordered by what breaks first.

Input is one :class:`CompanySnapshot` per company, made of what the other
services already computed (certificate status, numbering report,
habilitación status, queue counts). Output is one :class:`TriageEntry` per
company with its items, the days left before the first deadline and the
next action, in this order:

1. something is broken now (a problem: expired or invalid certificate, no
   usable range, habilitación blocked, documents rejected or in doubt), the
   longest-broken first;
2. a deadline ahead (certificate por vencer, a range near exhaustion or
   expiry), the nearest first;
3. warnings without a deadline (documents stuck or retrying, habilitación in
   progress);
4. everything fine, by the nearest deadline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from fe_tui.domain.company import Company
from fe_tui.domain.models import NitNumber, _Model
from fe_tui.domain.workflows import CertificateHealth, CertificateStatus, HabilitacionStatus
from fe_tui.services.doctor import QueueCounts, queue_section
from fe_tui.services.resolutions import NumberingReport

__all__ = ["CompanySnapshot", "TriageEntry", "TriageItem", "triage"]

Severity = Literal["ok", "warning", "problem"]
ItemKind = Literal["certificado", "numeracion", "habilitacion", "cola"]
_RANK = {"ok": 0, "warning": 1, "problem": 2}


class CompanySnapshot(_Model):
    """What triage needs of one company."""

    company: Company
    certificate: CertificateStatus
    numbering: NumberingReport | None = None
    habilitacion: HabilitacionStatus | None = None
    queue: QueueCounts | None = None


class TriageItem(_Model):
    """One reason a company needs attention (or the fact that it does not)."""

    kind: ItemKind
    severity: Severity
    #: Days before it breaks (≤ 0: broken already); ``None``: no deadline.
    days_left: int | None = None
    #: Spanish: what to do.
    next_action: str


class TriageEntry(_Model):
    """A company's line in the triage list."""

    company_nit: NitNumber
    company_label: str
    severity: Severity
    days_left: int | None
    #: The most urgent item's kind and action.
    reason: ItemKind | None
    next_action: str
    items: list[TriageItem] = Field(default_factory=list)


_HEALTH_SEVERITY: dict[CertificateHealth, Severity] = {
    CertificateHealth.VIGENTE: "ok",
    CertificateHealth.POR_VENCER: "warning",
    CertificateHealth.VENCIDO: "problem",
    CertificateHealth.INVALIDO: "problem",
}


def _certificate_item(status: CertificateStatus) -> TriageItem:
    severity = _HEALTH_SEVERITY[status.health]
    days = status.days_left
    if status.health is CertificateHealth.INVALIDO:
        days = min(days, 0) if days is not None else 0
    return TriageItem(
        kind="certificado", severity=severity, days_left=days, next_action=status.message
    )


def _numbering_item(report: NumberingReport, habilitado: bool) -> TriageItem | None:
    findings = [
        f
        for f in report.findings
        if f.severity != "info" and (habilitado or f.code != "sin_resolucion_vigente")
    ]
    days = report.days_until_trouble
    if not findings:
        if days is None:
            return None
        return TriageItem(
            kind="numeracion",
            severity="ok",
            days_left=days,
            next_action="Numeración vigente.",
        )
    worst = max(findings, key=lambda f: _RANK[f.severity])
    if worst.severity == "problem" and (days is None or days > 0):
        days = 0
    return TriageItem(
        kind="numeracion",
        severity=worst.severity,  # type: ignore[arg-type]
        days_left=days,
        next_action=worst.message,
    )


def _habilitacion_item(status: HabilitacionStatus) -> TriageItem | None:
    if status.ready:
        return None
    assert status.next_step is not None
    blocked = status.step_status(status.next_step).state == "bloqueado"
    return TriageItem(
        kind="habilitacion",
        severity="problem" if blocked else "warning",
        days_left=0 if blocked else None,
        next_action=status.next_action,
    )


def _queue_item(counts: QueueCounts) -> TriageItem | None:
    section = queue_section(counts)
    if section.status == "ok":
        return None
    return TriageItem(
        kind="cola",
        severity=section.status,
        days_left=0 if section.status == "problem" else None,
        next_action=section.message,
    )


def _tier(item: TriageItem) -> int:
    if item.severity == "problem":
        return 0
    if item.severity == "warning":
        return 1 if item.days_left is not None else 2
    return 3


def _item_key(item: TriageItem) -> tuple[int, int]:
    return (_tier(item), item.days_left if item.days_left is not None else 10**6)


def triage(snapshots: Sequence[CompanySnapshot]) -> list[TriageEntry]:
    """One entry per company, the company that breaks first at the top (see module doc)."""
    entries: list[tuple[tuple[int, int, str], TriageEntry]] = []
    for snap in snapshots:
        if snap.certificate.company_nit != snap.company.nit:
            raise ValueError("certificate status of another company")
        items: list[TriageItem] = [_certificate_item(snap.certificate)]
        habilitado = snap.habilitacion is None or snap.habilitacion.ready
        for extra in (
            _numbering_item(snap.numbering, habilitado) if snap.numbering else None,
            _habilitacion_item(snap.habilitacion) if snap.habilitacion else None,
            _queue_item(snap.queue) if snap.queue else None,
        ):
            if extra is not None:
                items.append(extra)
        items.sort(key=_item_key)
        top = items[0]
        deadlines = [i.days_left for i in items if i.days_left is not None]
        severity = max((i.severity for i in items), key=_RANK.__getitem__)
        entry = TriageEntry(
            company_nit=snap.company.nit,
            company_label=snap.company.label,
            severity=severity,
            days_left=min(deadlines) if deadlines else None,
            reason=top.kind if top.severity != "ok" else None,
            next_action=top.next_action if top.severity != "ok" else "Todo en orden.",
            items=items,
        )
        entries.append(((*_item_key(top), snap.company.nit), entry))
    entries.sort(key=lambda pair: pair[0])
    return [entry for _, entry in entries]
