"""The preflight: every rule fe-tui can check before a document goes to DIAN."""

from __future__ import annotations

from datetime import datetime

from fe_tui.checks import local
from fe_tui.checks.document import Checked, check_document
from fe_tui.checks.registry import Registry
from fe_tui.checks.results import PreflightReport


def preflight(
    xml: bytes,
    registry: Registry | None = None,
    key: str | None = None,
    *,
    now: datetime | None = None,
) -> PreflightReport:
    """Check a signed DIAN document (invoice, credit or debit note) as DIAN would.

    ``xml`` is the document exactly as it will be sent (bytes; never re-serialized).
    ``registry`` supplies the registration data (:class:`~fe_tui.checks.registry.Registry`:
    the company store, or the simulator's configuration); without it the
    registry-dependent rules (issuer, software, range, buyer e-mail, environment)
    come back ``cannot_check``. ``key`` is the technical key (CUFE) or the
    software PIN (CUDE) to recompute ``cbc:UUID`` with; without it the CUFE of a
    habilitación invoice is checked with DIAN's public test key and anything else
    with the registry's key or PIN, or ``cannot_check``. ``now`` is the validation
    time (certificate validity; default: now).

    Runs: XSD (ZB01; if it fails, nothing else), signature (ZE02, policy), IssueDate
    against SigningTime (FAD09e), the registry rules, the CUFE/CUDE (FAD06), note
    references (CBG02), and every registry-free rule of :mod:`fe_tui.checks.local`.

    Returns a :class:`~fe_tui.checks.results.PreflightReport`: ``.rechazos`` (a
    non-empty list means DIAN would reject it: keep it out of DIAN until it is
    corrected), ``.notificaciones`` (accepted with warnings), ``.cannot_check``,
    ``.passed``, ``.ok`` and ``.to_dict()``. Never raises for a bad document:
    an unreadable one is a ZB01 Rechazo with ``readable`` False.
    """
    checked = run(xml, registry, key, now=now)
    return report_of(checked)


def run(
    xml: bytes, registry: Registry | None, key: str | None = None, *, now: datetime | None = None
) -> Checked:
    """The checks with their working state (the simulator needs the range, the reference…)."""
    checked = check_document(xml, registry, key=key, now=now)
    local.run(checked)
    return checked


def report_of(checked: Checked) -> PreflightReport:
    return PreflightReport(
        findings=list(checked.findings),
        facts=checked.facts,
        root_name=checked.root_name,
        readable=checked.facts is not None,
    )
