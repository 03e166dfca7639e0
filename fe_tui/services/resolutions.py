"""Numbering resolutions at a glance: used, remaining, expiry, forecast, overlaps, gaps.

Pure functions over plain data (seed 004, SPEC §8): the company's
:class:`~fe_tui.domain.models.Resolution` list, the last number used per
prefix (from the numbering allocator), the recent daily usage per prefix,
the prefix associations the agent recorded and a clock. The result,
:class:`NumberingReport`, is a pydantic model (``ranges list --json``, the
doctor, triage).

Numbers of one prefix are used in order across its ranges: a range entirely
below the last number used is spent, the one containing it is current, the
ones above it are still whole.

Warnings (thresholds in :class:`NumberingThresholds`): few numbers left (a
share of the range or an absolute count), the forecast says the range runs
out soon, the validity ends soon. A successor range already authorized for
the same prefix turns those into information. Seed 004's cases: an expired
resolution with numbers left (ask DIAN to *Habilitar* it, or authorize a new
one) and a range associated less than ~2 hours ago that DIAN may not serve
yet.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from fe_tui.domain.colombia import COLOMBIA_TZ
from fe_tui.domain.models import NitNumber, Resolution, _Model
from fe_tui.domain.workflows import ASSOCIATION_DELAY
from fe_tui.errors import InputError

__all__ = [
    "NumberingFinding",
    "NumberingReport",
    "NumberingThresholds",
    "PrefixAssociation",
    "RangeGap",
    "RangeOverlap",
    "ResolutionStatus",
    "analyze_numbering",
    "check_prefix",
]

Severity = Literal["info", "warning", "problem"]
_PREFIX = re.compile(r"[A-Za-z0-9]{0,4}")


def check_prefix(prefix: str) -> str:
    """A prefix as DIAN allows it: up to 4 letters or digits (SPEC §8.1); upper-cased."""
    value = prefix.strip()
    if not _PREFIX.fullmatch(value):
        raise InputError(
            f"prefijo «{value}» no válido: hasta 4 letras o dígitos, sin espacios ni guiones",
            field="prefix",
        )
    return value.upper()


class NumberingThresholds(_Model):
    """When to warn (all configurable)."""

    #: Warn when at most this share of the range is left (percent).
    remaining_percent: Annotated[int, Field(ge=0, le=100)] = 10
    #: … or at most this many numbers (whichever is larger).
    remaining_numbers: Annotated[int, Field(ge=0)] = 100
    #: Warn when the validity ends within this many days.
    expiry_days: Annotated[int, Field(ge=0)] = 30
    #: Warn when the forecast runs out within this many days.
    exhaustion_days: Annotated[int, Field(ge=0)] = 30
    #: Days of recent usage the burn rate averages.
    forecast_window_days: Annotated[int, Field(ge=1, le=366)] = 30


class PrefixAssociation(_Model):
    """A prefix associated with the software in DIAN's portal, as the agent recorded it."""

    company_nit: NitNumber
    prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{0,4}$")]
    resolution_number: Annotated[str, Field(pattern=r"^\d{1,20}$")]
    associated_at: AwareDatetime


class NumberingFinding(_Model):
    """One thing to tell the agent about the numbering."""

    code: str
    severity: Severity
    prefix: str | None = None
    resolution_number: str | None = None
    #: Spanish: what is wrong and what to do.
    message: str


RangeState = Literal["vigente", "vencida", "aun_no_vigente", "agotada"]


class ResolutionStatus(_Model):
    """One resolution's figures at ``today``."""

    prefix: str
    resolution_number: str
    from_number: int
    to_number: int
    valid_from: date
    valid_to: date
    state: RangeState
    #: The range serves the next number of its prefix.
    current: bool
    size: int
    used: int
    remaining: int
    #: Negative once expired.
    days_to_expiry: int
    #: Average documents a day over the forecast window (current range only).
    daily_rate: Decimal | None = None
    days_to_exhaustion: int | None = None
    exhaustion_date: date | None = None


class RangeOverlap(_Model):
    """Two ranges of one prefix authorizing the same numbers (two sales could share one)."""

    prefix: str
    resolutions: tuple[str, str]
    from_number: int
    to_number: int


class RangeGap(_Model):
    """Numbers between two ranges of one prefix that no resolution authorizes."""

    prefix: str
    after_resolution: str
    before_resolution: str
    from_number: int
    to_number: int


class NumberingReport(_Model):
    """The company's numbering at one date."""

    company_nit: NitNumber
    today: date
    resolutions: list[ResolutionStatus]
    overlaps: list[RangeOverlap] = Field(default_factory=list)
    gaps: list[RangeGap] = Field(default_factory=list)
    findings: list[NumberingFinding] = Field(default_factory=list)

    @property
    def severity(self) -> Literal["ok", "info", "warning", "problem"]:
        """The worst finding."""
        for level in ("problem", "warning", "info"):
            if any(f.severity == level for f in self.findings):
                return level  # type: ignore[return-value]
        return "ok"

    def current(self, prefix: str) -> ResolutionStatus | None:
        """The range serving ``prefix`` now (vigente and with numbers left)."""
        return next((r for r in self.resolutions if r.prefix == prefix and r.current), None)

    @property
    def days_until_trouble(self) -> int | None:
        """Fewest days until a current range expires or runs out (``None``: no current range)."""
        days = []
        for r in self.resolutions:
            if r.current:
                days.append(r.days_to_expiry)
                if r.days_to_exhaustion is not None:
                    days.append(r.days_to_exhaustion)
        return min(days) if days else None


def _fmt(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def _rate(usage: Sequence[int], window: int) -> Decimal | None:
    recent = list(usage)[-window:]
    if not recent:
        return None
    if any(n < 0 for n in recent):
        raise InputError("el uso diario no puede ser negativo", field="daily_usage")
    return (Decimal(sum(recent)) / Decimal(len(recent))).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def _used(res: Resolution, last: int | None) -> int:
    if last is None or last < res.from_number:
        return 0
    return min(last, res.to_number) - res.from_number + 1


def analyze_numbering(
    company_nit: str,
    resolutions: Sequence[Resolution],
    last_used: Mapping[str, int],
    today: date,
    *,
    daily_usage: Mapping[str, Sequence[int]] | None = None,
    associations: Sequence[PrefixAssociation] = (),
    now: datetime | None = None,
    thresholds: NumberingThresholds | None = None,
) -> NumberingReport:
    """Figures, forecasts, overlaps, gaps and findings for a company's resolutions.

    ``last_used`` maps a prefix to the last number issued under it (absent:
    none yet). ``daily_usage`` maps a prefix to documents per day, oldest
    first, most recent last (days without documents count as 0). ``now``
    (aware) is needed only to judge ``associations`` (seed 004's ~2 hours).
    """
    limits = thresholds or NumberingThresholds()
    usage = daily_usage or {}
    findings: list[NumberingFinding] = []
    statuses: list[ResolutionStatus] = []
    by_prefix: dict[str, list[Resolution]] = defaultdict(list)
    for res in resolutions:
        by_prefix[res.prefix].append(res)

    for prefix, group in sorted(by_prefix.items()):
        group.sort(key=lambda r: (r.from_number, r.valid_from))
        last = last_used.get(prefix)
        current_seen = False
        for res in group:
            size = res.to_number - res.from_number + 1
            used = _used(res, last)
            remaining = size - used
            days_to_expiry = (res.valid_to - today).days
            if remaining == 0:
                state: RangeState = "agotada"
            elif today > res.valid_to:
                state = "vencida"
            elif today < res.valid_from:
                state = "aun_no_vigente"
            else:
                state = "vigente"
            current = state == "vigente" and not current_seen
            current_seen = current_seen or current
            status = ResolutionStatus(
                prefix=prefix,
                resolution_number=res.number,
                from_number=res.from_number,
                to_number=res.to_number,
                valid_from=res.valid_from,
                valid_to=res.valid_to,
                state=state,
                current=current,
                size=size,
                used=used,
                remaining=remaining,
                days_to_expiry=days_to_expiry,
            )
            if current:
                rate = _rate(usage.get(prefix, ()), limits.forecast_window_days)
                if rate is not None and rate > 0:
                    days = math.ceil(Decimal(remaining) / rate)
                    # A large range at a slow pace lasts beyond any calendar: no date then.
                    try:
                        exhaustion: date | None = today + timedelta(days=days)
                    except OverflowError:
                        exhaustion = None
                    status = status.model_copy(
                        update={
                            "daily_rate": rate,
                            "days_to_exhaustion": days,
                            "exhaustion_date": exhaustion,
                        }
                    )
                elif rate is not None:
                    status = status.model_copy(update={"daily_rate": rate})
            statuses.append(status)

    for prefix in sorted(by_prefix):
        group_status = [s for s in statuses if s.prefix == prefix]
        findings.extend(_prefix_findings(prefix, group_status, limits))

    overlaps, gaps = _overlaps_and_gaps(by_prefix)
    for ov in overlaps:
        findings.append(
            NumberingFinding(
                code="superposicion",
                severity="problem",
                prefix=ov.prefix,
                resolution_number=ov.resolutions[1],
                message=(
                    f"Las resoluciones {ov.resolutions[0]} y {ov.resolutions[1]} del prefijo "
                    f"«{ov.prefix}» autorizan los mismos números ({ov.from_number} a "
                    f"{ov.to_number}): revise los datos del formulario 1876 y corrija o "
                    "inhabilite uno de los rangos."
                ),
            )
        )
    for gap in gaps:
        findings.append(
            NumberingFinding(
                code="hueco",
                severity="info",
                prefix=gap.prefix,
                resolution_number=gap.before_resolution,
                message=(
                    f"Entre las resoluciones {gap.after_resolution} y {gap.before_resolution} "
                    f"del prefijo «{gap.prefix}» los números {gap.from_number} a {gap.to_number} "
                    "no están autorizados: la numeración salta al siguiente rango."
                ),
            )
        )
    findings.extend(_association_findings(associations, resolutions, now))
    if not any(s.current for s in statuses):
        findings.append(
            NumberingFinding(
                code="sin_resolucion_vigente",
                severity="problem",
                message=(
                    "No hay ninguna resolución de numeración vigente con números disponibles: "
                    "solicite una (formulario 1876), asocie el prefijo y sincronice la numeración."
                ),
            )
        )
    return NumberingReport(
        company_nit=company_nit,
        today=today,
        resolutions=statuses,
        overlaps=overlaps,
        gaps=gaps,
        findings=findings,
    )


def _prefix_findings(
    prefix: str, group: list[ResolutionStatus], limits: NumberingThresholds
) -> list[NumberingFinding]:
    out: list[NumberingFinding] = []
    shown = prefix or "(sin prefijo)"
    current = next((s for s in group if s.current), None)
    successor = current is not None and any(
        s.state in ("vigente", "aun_no_vigente") and s.from_number > current.to_number
        for s in group
    )
    for s in group:
        if s.state == "vencida" and s.remaining > 0:
            out.append(
                NumberingFinding(
                    code="vencida_con_numeros",
                    severity="info" if current is not None else "problem",
                    prefix=prefix,
                    resolution_number=s.resolution_number,
                    message=(
                        f"La resolución {s.resolution_number} (prefijo {shown}) venció el "
                        f"{_fmt(s.valid_to)} con {s.remaining} números sin usar: para seguir "
                        "usándolos solicite «Habilitar rangos» en MUISCA (formulario 1876); si "
                        "no, pida una nueva autorización."
                    ),
                )
            )
    if current is None:
        if group and all(s.state != "aun_no_vigente" for s in group):
            out.append(
                NumberingFinding(
                    code="prefijo_sin_rango",
                    severity="warning",
                    prefix=prefix,
                    message=(
                        f"El prefijo {shown} no tiene un rango vigente con números: no se puede "
                        "facturar con él hasta autorizar y sincronizar uno nuevo."
                    ),
                )
            )
        return out
    severity: Severity = "info" if successor else "warning"
    then = (
        " Ya hay un rango siguiente autorizado para el prefijo."
        if successor
        else " Solicite ya una nueva numeración (formulario 1876), asocie el prefijo y "
        "sincronice: la DIAN puede tardar unas 2 horas en publicarla."
    )
    floor = max(limits.remaining_numbers, current.size * limits.remaining_percent // 100)
    if current.remaining <= floor:
        out.append(
            NumberingFinding(
                code="pocos_numeros",
                severity=severity,
                prefix=prefix,
                resolution_number=current.resolution_number,
                message=(
                    f"Quedan {current.remaining} de {current.size} números de la resolución "
                    f"{current.resolution_number} (prefijo {shown}).{then}"
                ),
            )
        )
    elif current.days_to_exhaustion is not None and (
        current.days_to_exhaustion <= limits.exhaustion_days
    ):
        assert current.exhaustion_date is not None
        out.append(
            NumberingFinding(
                code="se_agota_pronto",
                severity=severity,
                prefix=prefix,
                resolution_number=current.resolution_number,
                message=(
                    f"Al ritmo actual ({current.daily_rate} documentos por día) la resolución "
                    f"{current.resolution_number} (prefijo {shown}) se agota en unos "
                    f"{current.days_to_exhaustion} días, hacia el "
                    f"{_fmt(current.exhaustion_date)}.{then}"
                ),
            )
        )
    if current.days_to_expiry <= limits.expiry_days:
        when = "hoy" if current.days_to_expiry == 0 else f"en {current.days_to_expiry} días"
        out.append(
            NumberingFinding(
                code="vence_pronto",
                severity=severity,
                prefix=prefix,
                resolution_number=current.resolution_number,
                message=(
                    f"La resolución {current.resolution_number} (prefijo {shown}) vence {when} "
                    f"({_fmt(current.valid_to)}) con {current.remaining} números sin usar.{then}"
                ),
            )
        )
    return out


def _overlaps_and_gaps(
    by_prefix: Mapping[str, list[Resolution]],
) -> tuple[list[RangeOverlap], list[RangeGap]]:
    overlaps: list[RangeOverlap] = []
    gaps: list[RangeGap] = []
    for prefix, group in sorted(by_prefix.items()):
        ordered = sorted(group, key=lambda r: (r.from_number, r.to_number))
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                if b.from_number > a.to_number:
                    break
                overlaps.append(
                    RangeOverlap(
                        prefix=prefix,
                        resolutions=(a.number, b.number),
                        from_number=b.from_number,
                        to_number=min(a.to_number, b.to_number),
                    )
                )
        reach = None
        reach_res = None
        for res in ordered:
            if reach is not None and reach_res is not None and res.from_number > reach + 1:
                gaps.append(
                    RangeGap(
                        prefix=prefix,
                        after_resolution=reach_res.number,
                        before_resolution=res.number,
                        from_number=reach + 1,
                        to_number=res.from_number - 1,
                    )
                )
            if reach is None or res.to_number > reach:
                reach, reach_res = res.to_number, res
    return overlaps, gaps


def _association_findings(
    associations: Sequence[PrefixAssociation],
    resolutions: Sequence[Resolution],
    now: datetime | None,
) -> list[NumberingFinding]:
    out: list[NumberingFinding] = []
    known = {(r.prefix, r.number) for r in resolutions}
    for assoc in associations:
        if (assoc.prefix, assoc.resolution_number) in known:
            continue
        if now is None:
            raise InputError(
                "se necesita la hora actual para juzgar las asociaciones de prefijos", field="now"
            )
        ready = (assoc.associated_at + ASSOCIATION_DELAY).astimezone(COLOMBIA_TZ)
        shown = assoc.prefix or "(sin prefijo)"
        if now < assoc.associated_at + ASSOCIATION_DELAY:
            out.append(
                NumberingFinding(
                    code="asociacion_reciente",
                    severity="info",
                    prefix=assoc.prefix,
                    resolution_number=assoc.resolution_number,
                    message=(
                        f"El prefijo {shown} de la resolución {assoc.resolution_number} se asoció "
                        "hace menos de 2 horas; la DIAN puede tardar ese tiempo en publicarlo: "
                        f"sincronice la numeración después de las {ready:%H:%M} del "
                        f"{ready:%d/%m/%Y}."
                    ),
                )
            )
        else:
            out.append(
                NumberingFinding(
                    code="asociacion_sin_sincronizar",
                    severity="warning",
                    prefix=assoc.prefix,
                    resolution_number=assoc.resolution_number,
                    message=(
                        f"El prefijo {shown} de la resolución {assoc.resolution_number} se asoció "
                        "hace más de 2 horas y aún no está sincronizado: sincronice la numeración "
                        "(GetNumberingRange en producción); si no aparece, revise la asociación "
                        "en el portal de la DIAN."
                    ),
                )
            )
    return out
