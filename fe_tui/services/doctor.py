"""``fe-tui doctor`` building blocks: one report per company, five sections.

Sections (issue 11): ``certificate``, ``resolutions``, ``habilitacion``,
``dian`` and ``queue``. Each is :data:`ok <SectionStatus>`, ``warning`` or
``problem`` with a Spanish sentence saying what to do, plus detail lines.
The report's :attr:`DoctorReport.exit_code` is 0 when nothing is a problem
and 1 otherwise.

The section functions take the models the other services produce
(:class:`~fe_tui.domain.workflows.CertificateStatus`,
:class:`~fe_tui.services.resolutions.NumberingReport`,
:class:`~fe_tui.domain.workflows.HabilitacionStatus`, :class:`QueueCounts`).
:func:`probe_dian` talks to the network: endpoint reachable, TLS, clock skew
against the server's HTTP ``Date`` header, and a signed call
(GetNumberingRange, or GetStatus) to see WS-Security accepted. A network
failure is a finding, never an exception.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Annotated, Literal

import httpx
from pydantic import AwareDatetime, Field

from fe_tui.dian import outcomes
from fe_tui.dian.client import DianClient, SigningIdentity
from fe_tui.dian.environments import Environment
from fe_tui.domain.models import NitNumber, _Model
from fe_tui.domain.workflows import (
    CertificateHealth,
    CertificateStatus,
    HabilitacionStatus,
)
from fe_tui.services.resolutions import NumberingReport

__all__ = [
    "DoctorReport",
    "DoctorSection",
    "QueueCounts",
    "build_report",
    "certificate_section",
    "doctor_exit_code",
    "habilitacion_section",
    "probe_dian",
    "queue_section",
    "resolutions_section",
]

SectionName = Literal["certificate", "resolutions", "habilitacion", "dian", "queue"]
SectionStatus = Literal["ok", "warning", "problem"]
_RANK = {"ok": 0, "warning": 1, "problem": 2}

#: DIAN's WS-Security Timestamp window is 5 minutes: past it every call is refused.
MAX_CLOCK_SKEW = timedelta(minutes=5)
#: From this skew on the doctor warns (the window shrinks with network latency).
WARN_CLOCK_SKEW = timedelta(minutes=1)
PROBE_TIMEOUT = httpx.Timeout(connect=10.0, read=20.0, write=10.0, pool=5.0)


class DoctorSection(_Model):
    """One section of the report."""

    name: SectionName
    status: SectionStatus
    #: Spanish: the state and what to do.
    message: str
    details: list[str] = Field(default_factory=list)


class DoctorReport(_Model):
    """The doctor's report for one company."""

    company_nit: NitNumber
    company_label: str
    checked_at: AwareDatetime
    sections: list[DoctorSection]

    @property
    def status(self) -> SectionStatus:
        """The worst section status."""
        return max((s.status for s in self.sections), key=_RANK.__getitem__, default="ok")

    @property
    def exit_code(self) -> int:
        """0 when no section has a problem, 1 otherwise."""
        return 1 if self.status == "problem" else 0

    def section(self, name: SectionName) -> DoctorSection | None:
        """The section called ``name``, if present."""
        return next((s for s in self.sections if s.name == name), None)


def doctor_exit_code(reports: Sequence[DoctorReport]) -> int:
    """0 when every report is free of problems, 1 otherwise (``doctor --all``)."""
    return max((r.exit_code for r in reports), default=0)


def _worst(*statuses: SectionStatus) -> SectionStatus:
    return max(statuses, key=_RANK.__getitem__, default="ok")


_ORDER: tuple[SectionName, ...] = ("certificate", "resolutions", "habilitacion", "dian", "queue")


def build_report(
    company_nit: str, company_label: str, checked_at: datetime, sections: Sequence[DoctorSection]
) -> DoctorReport:
    """The report with its sections in the documented order (one of each name at most)."""
    names = [s.name for s in sections]
    if len(set(names)) != len(names):
        raise ValueError(f"repeated doctor sections: {names}")
    ordered = sorted(sections, key=lambda s: _ORDER.index(s.name))
    return DoctorReport(
        company_nit=company_nit,
        company_label=company_label,
        checked_at=checked_at,
        sections=ordered,
    )


# --- sections from models ---------------------------------------------------------------------


_HEALTH_LEVEL: dict[CertificateHealth, SectionStatus] = {
    CertificateHealth.VIGENTE: "ok",
    CertificateHealth.POR_VENCER: "warning",
    CertificateHealth.VENCIDO: "problem",
    CertificateHealth.INVALIDO: "problem",
}


def certificate_section(
    status: CertificateStatus,
    *,
    warnings: Sequence[str] = (),
    renewal_notice: str | None = None,
) -> DoctorSection:
    """From the certificate's classification; ``warnings`` are the record's inspection notes."""
    level = _HEALTH_LEVEL[status.health]
    details = [f"Estado: {status.label}"]
    if status.days_left is not None:
        details.append(f"Días restantes: {status.days_left}")
    details.extend(warnings)
    if renewal_notice:
        details.append(renewal_notice)
    if level == "ok" and warnings:
        level = "warning"
    return DoctorSection(name="certificate", status=level, message=status.message, details=details)


def resolutions_section(report: NumberingReport) -> DoctorSection:
    """From :func:`~fe_tui.services.resolutions.analyze_numbering`."""
    details = [
        f"{r.prefix or '(sin prefijo)'} {r.resolution_number}: {r.state}, usados {r.used}, "
        f"quedan {r.remaining}, vence en {r.days_to_expiry} días"
        + (
            f", se agota en ~{r.days_to_exhaustion} días"
            if r.days_to_exhaustion is not None
            else ""
        )
        for r in report.resolutions
    ]
    details.extend(f.message for f in report.findings if f.severity == "info")
    severity = report.severity
    if severity == "problem" or severity == "warning":
        worst = next(f for f in report.findings if f.severity == severity)
        others = [f.message for f in report.findings if f is not worst and f.severity != "info"]
        return DoctorSection(
            name="resolutions",
            status=severity,
            message=worst.message,
            details=others + details,
        )
    current = [r for r in report.resolutions if r.current]
    text = ", ".join(f"{r.prefix or '(sin prefijo)'} ({r.remaining} números)" for r in current)
    return DoctorSection(
        name="resolutions",
        status="ok",
        message=f"Numeración vigente: {text}.",
        details=details,
    )


def habilitacion_section(status: HabilitacionStatus) -> DoctorSection:
    """From :func:`~fe_tui.domain.workflows.habilitacion_status`."""
    details = [
        f"{s.label}: {s.state}" + (f" — {s.detail}" if s.detail else "") for s in status.steps
    ]
    if status.ready:
        return DoctorSection(
            name="habilitacion", status="ok", message=status.next_action, details=details
        )
    assert status.next_step is not None
    current = status.step_status(status.next_step)
    level: SectionStatus = "problem" if current.state == "bloqueado" else "warning"
    return DoctorSection(
        name="habilitacion", status=level, message=status.next_action, details=details
    )


class QueueCounts(_Model):
    """What the queue engine counts for a company (plain input)."""

    pending: Annotated[int, Field(ge=0)] = 0
    #: Sent, no verdict for too long (InProcess / polling without end).
    stuck: Annotated[int, Field(ge=0)] = 0
    #: Failed transiently; will be retried.
    retryable: Annotated[int, Field(ge=0)] = 0
    #: Ambiguous failure: GetStatus must be asked before sending again (invariant 3).
    needs_reconcile: Annotated[int, Field(ge=0)] = 0
    #: Rejected by DIAN, waiting for correction (same number).
    rejected: Annotated[int, Field(ge=0)] = 0
    #: Age of the oldest stuck document, in hours.
    oldest_stuck_hours: Annotated[int, Field(ge=0)] | None = None


def queue_section(counts: QueueCounts) -> DoctorSection:
    """From the queue's counts."""
    details = [
        f"Pendientes: {counts.pending}",
        f"Atascados: {counts.stuck}",
        f"Por reintentar: {counts.retryable}",
        f"Por conciliar: {counts.needs_reconcile}",
        f"Rechazados: {counts.rejected}",
    ]
    problems: list[str] = []
    warnings: list[str] = []
    if counts.needs_reconcile:
        problems.append(
            f"{counts.needs_reconcile} documento(s) con resultado incierto: consulte su estado "
            "en la DIAN (GetStatus) antes de reenviarlos."
        )
    if counts.rejected:
        problems.append(
            f"{counts.rejected} documento(s) rechazados por la DIAN: corríjalos y reenvíelos con "
            "el mismo número."
        )
    if counts.stuck:
        age = (
            f" (el más antiguo hace {counts.oldest_stuck_hours} h)"
            if counts.oldest_stuck_hours is not None
            else ""
        )
        warnings.append(
            f"{counts.stuck} documento(s) sin respuesta de la DIAN{age}: consulte su estado."
        )
    if counts.retryable:
        warnings.append(f"{counts.retryable} documento(s) se reintentarán automáticamente.")
    if problems:
        return DoctorSection(
            name="queue", status="problem", message=" ".join(problems + warnings), details=details
        )
    if warnings:
        return DoctorSection(
            name="queue", status="warning", message=" ".join(warnings), details=details
        )
    return DoctorSection(
        name="queue",
        status="ok",
        message="La cola no tiene documentos con problemas.",
        details=details,
    )


# --- the network probe ------------------------------------------------------------------------


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _is_tls(exc: BaseException) -> bool:
    cur: BaseException | None = exc
    for _ in range(6):
        if cur is None:
            break
        if isinstance(cur, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(cur):
            return True
        cur = cur.__cause__ or cur.__context__
    return "SSL" in str(exc)


def _fmt_skew(seconds: float) -> str:
    minutes, secs = divmod(round(abs(seconds)), 60)
    text = f"{minutes} min {secs} s" if minutes else f"{secs} s"
    return f"{text} {'adelantado' if seconds > 0 else 'atrasado'}"


async def probe_dian(
    environment: Environment,
    certificate: SigningIdentity | None,
    *,
    account_nit: str | None = None,
    software_id: str | None = None,
    provider_nit: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    now: Callable[[], datetime] = _utc_now,
    http_timeout: httpx.Timeout = PROBE_TIMEOUT,
    max_skew: timedelta = MAX_CLOCK_SKEW,
    warn_skew: timedelta = WARN_CLOCK_SKEW,
) -> DoctorSection:
    """Check the endpoint of ``environment`` the way a send would use it.

    1. A GET of the service URL: reachable, TLS verified (HTTPS), the
       server's ``Date`` against ``now()`` (this machine's clock).
    2. A signed call through :class:`~fe_tui.dian.client.DianClient`:
       GetNumberingRange when ``account_nit`` and ``software_id`` are given
       (what ``ranges sync`` does), else GetStatus of an unknown key. Any
       DIAN answer proves WS-Security accepted; an InvalidSecurity fault
       does not.

    ``transport`` replaces the network (the in-process simulator in tests).
    Never raises for network trouble: it becomes the section's finding.
    Without ``certificate`` (no password at hand) step 2 is skipped and said
    so, as a warning.
    """
    details: list[str] = [f"Servicio: {environment.label} — {environment.url}"]
    levels: list[SectionStatus] = []
    messages: list[str] = []
    secure = environment.url.lower().startswith("https://")
    try:
        async with httpx.AsyncClient(
            transport=transport, timeout=http_timeout, follow_redirects=False
        ) as http:
            answer = await http.get(environment.url)
            local = now()
    except httpx.HTTPError as exc:
        if _is_tls(exc):
            return DoctorSection(
                name="dian",
                status="problem",
                message=(
                    "No se pudo establecer la conexión segura (TLS) con la DIAN: revise la fecha "
                    "del equipo, el proxy o los certificados raíz del sistema."
                ),
                details=[*details, f"Detalle: {type(exc).__name__}: {exc}"],
            )
        return DoctorSection(
            name="dian",
            status="problem",
            message=(
                "La DIAN no responde: revise la conexión a internet, el proxy o el firewall; si "
                "todo está bien, la DIAN puede estar caída (consulte su estado y use "
                "contingencia si hace falta)."
            ),
            details=[*details, f"Detalle: {type(exc).__name__}: {exc}"],
        )
    details.append(f"Servicio alcanzable (HTTP {answer.status_code}).")
    if secure:
        details.append("Conexión TLS verificada.")
    elif environment.is_test_double:
        details.append("Sin TLS: es el simulador local (doble de pruebas).")
    else:  # pragma: no cover - environments refuse plain HTTP for DIAN
        levels.append("problem")
        messages.append("La conexión con la DIAN no usa TLS: corrija la URL (https://).")

    server_date = answer.headers.get("date")
    if server_date:
        try:
            server = parsedate_to_datetime(server_date)
        except (TypeError, ValueError):
            server = None
        if server is not None and server.tzinfo is not None:
            skew = (local - server).total_seconds()
            details.append(f"Reloj del equipo frente al servidor: {_fmt_skew(skew)}.")
            if abs(skew) > max_skew.total_seconds():
                levels.append("problem")
                messages.append(
                    f"El reloj del equipo está {_fmt_skew(skew)} respecto a la DIAN; con más de "
                    f"{int(max_skew.total_seconds() // 60)} minutos la DIAN rechaza la firma "
                    "WS-Security y las fechas de los documentos: sincronice la hora del equipo "
                    "(NTP)."
                )
            elif abs(skew) > warn_skew.total_seconds():
                levels.append("warning")
                messages.append(
                    f"El reloj del equipo está {_fmt_skew(skew)} respecto a la DIAN: sincronice "
                    "la hora (NTP) antes de que el desfase cause rechazos."
                )
        else:
            details.append(f"Cabecera Date ilegible: {server_date!r}.")
    else:
        details.append("El servidor no envió la cabecera Date: no se pudo medir el desfase.")

    if certificate is None:
        levels.append("warning")
        messages.append(
            "No se probó la llamada firmada (WS-Security): hace falta la contraseña del "
            "certificado de la empresa."
        )
        return DoctorSection(
            name="dian", status=_worst(*levels), message=" ".join(messages), details=details
        )
    async with DianClient(
        environment, certificate, transport=transport, timeout=http_timeout
    ) as dian:
        if account_nit and software_id:
            outcome = await dian.get_numbering_range(
                account_nit, provider_nit or account_nit, software_id
            )
        else:
            outcome = await dian.get_status("0" * 96)
    if isinstance(outcome, outcomes.SoapFault):
        levels.append("problem")
        messages.append(f"La DIAN no aceptó la llamada firmada: {outcome.message}")
    elif isinstance(outcome, outcomes.Failure):
        levels.append("problem")
        messages.append(f"La llamada firmada a la DIAN falló: {outcome.message}")
    else:
        details.append(
            f"WS-Security aceptado ({outcome.record.operation if outcome.record else ''})."
        )
        if isinstance(outcome, outcomes.NumberingFailed):
            levels.append("warning")
            messages.append(outcome.message)
    level = _worst(*levels)
    if not messages:
        messages.append("La DIAN responde, la hora coincide y acepta la firma WS-Security.")
    return DoctorSection(name="dian", status=level, message=" ".join(messages), details=details)
