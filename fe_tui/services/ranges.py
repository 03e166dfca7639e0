"""A company's numbering ranges in the store: sync from DIAN, manual entry, overview.

Issue 11, item 4 (seed 004, SPEC §8). The analysis itself is
:func:`fe_tui.services.resolutions.analyze_numbering`; this module feeds it
from the store (resolutions, prefix associations, thresholds) and the
document ledger (last number per prefix, daily usage), and writes what
``ranges sync`` and ``ranges add`` bring:

- :func:`sync_ranges`: GetNumberingRange through
  :func:`fe_tui.services.sessions.open_company_session`. The technical keys
  are served by DIAN's **production** endpoint once the range is associated
  with the software (SPEC §8.2), so that is the default even for a company
  still in habilitación; a company on the simulator asks its simulator.
  Ranges come back with their technical keys and are stored with source
  ``"dian"`` (replacing a manual entry of the same prefix and number).
- :func:`add_range`: formulario 1876 data typed in (source ``"manual"``);
  refused when it overlaps another range of the same prefix.
- :func:`record_association`: the agent associated a prefix in DIAN's portal;
  for about 2 hours DIAN may not serve it yet (seed 004).
- :func:`numbering_overview`: the :class:`~fe_tui.services.resolutions.NumberingReport`.

Store: table ``resolutions`` (:meth:`~fe_tui.store.db.Store.save_resolution`),
table ``numbering`` key ``associations`` ``{"items": [PrefixAssociation…]}``,
setting ``numbering_thresholds`` (a :class:`NumberingThresholds` dict).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Literal

import httpx
from pydantic import ValidationError

from fe_tui.crypto.certificates import LoadedCertificate
from fe_tui.dian import outcomes as oc
from fe_tui.domain.company import Company
from fe_tui.domain.models import Resolution, _Model, format_validation_error
from fe_tui.domain.workflows import colombian_date
from fe_tui.errors import FeError, InputError
from fe_tui.services.resolutions import (
    NumberingReport,
    NumberingThresholds,
    PrefixAssociation,
    analyze_numbering,
    check_prefix,
)
from fe_tui.services.sessions import open_company_session
from fe_tui.settings import Settings
from fe_tui.store.db import Store
from fe_tui.store.ledger import Ledger

__all__ = [
    "THRESHOLDS_SETTING",
    "RangeSyncError",
    "SyncResult",
    "add_range",
    "daily_usage",
    "numbering_overview",
    "numbering_thresholds",
    "prefix_associations",
    "range_sources",
    "record_association",
    "set_numbering_thresholds",
    "sync_ranges",
]

#: Store setting holding the warning thresholds.
THRESHOLDS_SETTING = "numbering_thresholds"
_TABLE = "numbering"
_ASSOCIATIONS = "associations"

SyncEndpoint = Literal["produccion", "empresa"]


class RangeSyncError(FeError):
    """DIAN did not return the ranges (its Spanish explanation in the message)."""

    exit_code = 1


class SyncResult(_Model):
    """What :func:`sync_ranges` brought."""

    company_nit: str
    endpoint: str
    added: list[Resolution]
    updated: list[Resolution]
    unchanged: list[Resolution]
    #: Ranges DIAN reported without a technical key (documento soporte…): not stored.
    skipped: int = 0
    message: str


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None or now.utcoffset() is None:
        raise InputError("la hora de referencia debe incluir zona horaria", field="now")
    return now


def numbering_thresholds(store: Store) -> NumberingThresholds:
    """The thresholds saved for this data directory (defaults when none)."""
    raw = store.setting(THRESHOLDS_SETTING)
    if not isinstance(raw, dict):
        return NumberingThresholds()
    try:
        return NumberingThresholds.model_validate(raw)
    except ValidationError:
        return NumberingThresholds()


def set_numbering_thresholds(store: Store, **changes: int | None) -> NumberingThresholds:
    """Save new thresholds (``None`` values keep the saved ones) and return them."""
    current = numbering_thresholds(store).model_dump()
    current.update({k: v for k, v in changes.items() if v is not None})
    try:
        thresholds = NumberingThresholds.model_validate(current)
    except ValidationError as exc:
        raise InputError(f"Umbrales no válidos:\n{format_validation_error(exc)}") from None
    store.set_setting(THRESHOLDS_SETTING, thresholds.model_dump(mode="json"))
    return thresholds


def range_sources(store: Store, nit: str) -> dict[tuple[str, str], str]:
    """``(prefix, resolution number) → source`` ("dian", "manual", "simulador"…)."""
    return {(r.prefix, r.number): source for r, source in store.resolution_records(nit)}


def prefix_associations(store: Store, nit: str) -> list[PrefixAssociation]:
    """The prefix associations the agent recorded, oldest first."""
    raw = (store.get(_TABLE, nit, _ASSOCIATIONS) or {}).get("items") or []
    items = []
    for item in raw:
        try:
            items.append(PrefixAssociation.model_validate(item))
        except ValidationError:
            continue  # a damaged entry is not worth failing the whole overview
    return sorted(items, key=lambda a: a.associated_at)


def record_association(
    store: Store,
    company: Company,
    prefix: str,
    resolution_number: str,
    *,
    at: datetime | None = None,
) -> PrefixAssociation:
    """Record that ``prefix`` of ``resolution_number`` was associated in DIAN's portal at ``at``."""
    moment = _now(at)
    try:
        assoc = PrefixAssociation(
            company_nit=company.nit,
            prefix=check_prefix(prefix),
            resolution_number=resolution_number.strip(),
            associated_at=moment,
        )
    except ValidationError as exc:
        raise InputError(f"Asociación no válida:\n{format_validation_error(exc)}") from None
    with store.transaction():
        items = [
            a
            for a in prefix_associations(store, company.nit)
            if (a.prefix, a.resolution_number) != (assoc.prefix, assoc.resolution_number)
        ]
        items.append(assoc)
        store.put(
            _TABLE,
            company.nit,
            _ASSOCIATIONS,
            {"items": [a.model_dump(mode="json") for a in items]},
        )
    return assoc


def add_range(
    store: Store,
    company: Company,
    *,
    number: str,
    prefix: str,
    from_number: int,
    to_number: int,
    valid_from: date,
    valid_to: date,
    technical_key: str,
    resolution_date: date | None = None,
) -> Resolution:
    """Store a range typed in from formulario 1876 (source ``"manual"``).

    Refused when it overlaps another range of the same prefix (two sales
    could get one number) or when the data is not a valid resolution.
    """
    try:
        resolution = Resolution(
            number=number.strip(),
            date=resolution_date,
            prefix=check_prefix(prefix),
            from_number=from_number,
            to_number=to_number,
            valid_from=valid_from,
            valid_to=valid_to,
            technical_key=technical_key.strip(),
        )
    except ValidationError as exc:
        raise InputError(f"Resolución no válida:\n{format_validation_error(exc)}") from None
    with store.transaction():
        for other in store.resolutions(company.nit, resolution.prefix):
            if other.number == resolution.number:
                continue  # the same resolution entered again: replaced
            if other.from_number <= resolution.to_number and resolution.from_number <= (
                other.to_number
            ):
                raise InputError(
                    f"El rango {resolution.from_number}–{resolution.to_number} del prefijo "
                    f"«{resolution.prefix or '(sin prefijo)'}» se cruza con la resolución "
                    f"{other.number} ({other.from_number}–{other.to_number}); revise el "
                    "formulario 1876."
                )
        store.save_resolution(company.nit, resolution, source="manual")
    return resolution


async def sync_ranges(
    store: Store,
    settings: Settings,
    company: Company,
    cert: LoadedCertificate,
    *,
    endpoint: SyncEndpoint = "produccion",
    transport: httpx.AsyncBaseTransport | None = None,
) -> SyncResult:
    """GetNumberingRange for the company's software; store the ranges with source ``"dian"``.

    ``endpoint="produccion"`` (default) asks DIAN's production endpoint, where
    the technical keys are (SPEC §8.2), unless the company works against the
    simulator; ``"empresa"`` asks the company's own environment. ``transport``
    replaces the network (tests).
    """
    if company.software is None:
        raise InputError(
            f"La empresa {company.label} no tiene software registrado (SoftwareID): "
            "agréguelo con «fe-tui company edit --software-id GUID»."
        )
    target = company
    if endpoint == "produccion" and company.environment != "simulator":
        target = company.model_copy(update={"environment": "produccion", "dian_url": None})
    async with open_company_session(store, settings, target, cert, transport=transport) as s:
        outcome = await s.ranges(
            company.nit, company.software.software_id, company.software.provider_nit
        )
        label = s.environment.label
    if not isinstance(outcome, oc.NumberingRanges):
        raise RangeSyncError(
            f"La DIAN no devolvió los rangos de {company.label}: {outcome.message}",
            kind=type(outcome).__name__,
        )
    incoming = outcome.resolutions()
    skipped = len(outcome.ranges) - len(incoming)
    added: list[Resolution] = []
    updated: list[Resolution] = []
    unchanged: list[Resolution] = []
    with store.transaction():
        existing = {
            (r.prefix, r.number): (r, src) for r, src in store.resolution_records(company.nit)
        }
        for res in incoming:
            before = existing.get((res.prefix, res.number))
            if before is None:
                added.append(res)
            elif before[0] == res and before[1] == "dian":
                unchanged.append(res)
            else:
                updated.append(res)
            store.save_resolution(company.nit, res, source="dian")
    message = (
        f"{len(incoming)} rango(s) de {company.label} desde {label}: {len(added)} nuevo(s), "
        f"{len(updated)} actualizado(s), {len(unchanged)} sin cambios"
        + (f"; {skipped} sin clave técnica no se guardaron" if skipped else "")
        + "."
    )
    return SyncResult(
        company_nit=company.nit,
        endpoint=label,
        added=added,
        updated=updated,
        unchanged=unchanged,
        skipped=skipped,
        message=message,
    )


def _doc_day(issue_date: str | None, created: str) -> date | None:
    if issue_date:
        try:
            return date.fromisoformat(issue_date[:10])
        except ValueError:
            pass
    try:
        return colombian_date(datetime.fromisoformat(created))
    except (ValueError, InputError):
        return None


def daily_usage(ledger: Ledger, today: date, window: int) -> dict[str, list[int]]:
    """Numbered documents per prefix and day, oldest first, over the last ``window`` days.

    The window starts no earlier than the prefix's first document, so a prefix
    used for a week is not averaged over a month of zeros.
    """
    per_day: dict[str, Counter[date]] = {}
    first: dict[str, date] = {}
    for rec in ledger.docs.values():
        if rec.number is None:
            continue
        day = _doc_day(rec.issue_date, rec.created)
        if day is None or day > today:
            continue
        first[rec.prefix] = min(first.get(rec.prefix, day), day)
        per_day.setdefault(rec.prefix, Counter())[day] += 1
    usage: dict[str, list[int]] = {}
    for prefix, counts in per_day.items():
        start = max(today - timedelta(days=window - 1), first[prefix])
        days = (today - start).days + 1
        usage[prefix] = [counts.get(start + timedelta(days=i), 0) for i in range(days)]
    return usage


def numbering_overview(
    store: Store,
    company: Company,
    now: datetime | None = None,
    *,
    thresholds: NumberingThresholds | None = None,
    ledger: Ledger | None = None,
) -> NumberingReport:
    """The company's numbering at ``now``: used and remaining, expiry, forecast, findings.

    The last numbers and the daily usage come from the company's document
    ledger (``<data_dir>/companies/<NIT>/ledger``); ``thresholds`` default to
    the saved ones (:func:`numbering_thresholds`).
    """
    moment = _now(now)
    limits = thresholds or numbering_thresholds(store)
    today = colombian_date(moment)
    book = ledger or Ledger(store.data_dir / "companies" / company.nit / "ledger")
    return analyze_numbering(
        company.nit,
        store.resolutions(company.nit),
        dict(book.last_numbers),
        today,
        daily_usage=daily_usage(book, today, limits.forecast_window_days),
        associations=prefix_associations(store, company.nit),
        now=moment,
        thresholds=limits,
    )
