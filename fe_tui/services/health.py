"""``fe-tui doctor`` and ``fe-tui triage`` over the store: one report per company, one list.

:func:`doctor_report` gathers, for one company, what the other services know
and turns it into the five sections of :mod:`fe_tui.services.doctor`:

- ``certificate``: the active certificate's validity, NIT and key match
  (from the certificate loaded for this session when given, else from the
  records in the store);
- ``resolutions``: active ranges, near exhaustion or expiry, gaps
  (:func:`fe_tui.services.ranges.numbering_overview`, what ``ranges list`` shows: the store's
  resolutions and the queue's last numbers);
- ``habilitacion``: the state and next step
  (:func:`fe_tui.services.habilitacion.habilitacion_overview`);
- ``dian``: endpoint reachable, TLS, clock skew, WS-Security accepted
  (:func:`fe_tui.services.doctor.probe_dian`); a network failure is a
  finding, never an exception;
- ``queue``: documents stuck, retryable, rejected or needing a reconcile.

:func:`triage_all` puts every company of the data directory in one list,
the one that breaks first on top (:func:`fe_tui.services.triage.triage`).
Nothing here talks to DIAN except the ``dian`` probe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from fe_tui.crypto.certificates import LoadedCertificate
from fe_tui.domain.colombia import COLOMBIA_TZ
from fe_tui.domain.company import Company
from fe_tui.domain.workflows import (
    CertificateHealth,
    CertificateStatus,
    certificate_status,
)
from fe_tui.errors import FeError
from fe_tui.services import doctor, ranges
from fe_tui.services import invoice_queue as iq
from fe_tui.services.certificates import certificate_record
from fe_tui.services.doctor import DoctorReport, DoctorSection, QueueCounts
from fe_tui.services.habilitacion import habilitacion_overview
from fe_tui.services.resolutions import NumberingReport
from fe_tui.services.triage import CompanySnapshot, TriageEntry, triage
from fe_tui.settings import Settings
from fe_tui.store.db import Store

__all__ = [
    "STUCK_AFTER",
    "CertificateCheck",
    "certificate_state",
    "doctor_report",
    "doctor_reports",
    "numbering_report",
    "queue_counts",
    "triage_all",
]

#: A document signed or sending for longer than this, with no run going, is stuck.
STUCK_AFTER = timedelta(hours=1)


def _now() -> datetime:
    return datetime.now(COLOMBIA_TZ).replace(microsecond=0)


# --- certificate --------------------------------------------------------------------------------


def _record_from_loaded(company: Company, cert: LoadedCertificate, now: datetime) -> Any:
    """The record of the certificate loaded for this session (public facts only)."""
    info = cert.info(now)
    accepted = {company.nit}
    if company.software is not None:
        accepted.add(company.software.provider_nit)
    found = [c.nit for c in info.nit_candidates]
    nit = next((n for n in found if n in accepted), found[0] if found else None)
    record = certificate_record(
        company,
        str(cert.source or "certificado de la sesión"),
        info,
        nit,
        now,
        [w for w in info.warnings if "vence" not in w],
    )
    return record, info.key_matches


@dataclass(frozen=True)
class CertificateCheck:
    """The certificate's classification, its warnings and informative lines."""

    status: CertificateStatus
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: The renewal notice (seed 002, from month 11 of validity), when due.
    notice: str | None = None
    #: Its dates were read (from the file or a record); ``False`` for a bare path.
    verified: bool = True


def certificate_state(
    store: Store,
    company: Company,
    cert: LoadedCertificate | None = None,
    now: datetime | None = None,
) -> CertificateCheck:
    """The certificate's classification and the lines to show with it.

    From the company's certificate records
    (:func:`fe_tui.services.company_certs.certificate_overview`: status,
    inspection warnings, renewal notice). With ``cert`` (the certificate
    loaded for this session) its own dates, NIT and key match are checked
    too. A file configured without a record (never inspected) is reported as
    not verified, a warning.
    """
    from fe_tui.services.company_certs import certificate_overview

    moment = now or _now()
    overview = certificate_overview(store, company, moment)
    active = overview.active
    if cert is not None:
        record, key_matches = _record_from_loaded(company, cert, moment)
        status = certificate_status(company.nit, record, moment)
        same = active is not None and active.sha256_fingerprint == record.sha256_fingerprint
        warnings = list(active.warnings if same and active is not None else record.warnings)
        notes = [f"NIT del certificado: {record.nit or 'no encontrado'}"]
        if not key_matches:
            status = status.model_copy(
                update={
                    "health": CertificateHealth.INVALIDO,
                    "message": "La clave privada no corresponde al certificado: pida el .p12 "
                    "correcto a la entidad certificadora.",
                }
            )
        else:
            notes.append("La clave privada corresponde al certificado.")
        if active is not None and not same:
            warnings.append(
                "El certificado de esta sesión no es el activo registrado para la empresa "
                "(cert status)."
            )
        return CertificateCheck(status, warnings, notes, overview.notice)
    if overview.status is not None:
        return CertificateCheck(
            overview.status, list(active.warnings) if active else [], notice=overview.notice
        )
    pointer = store.get("certificates", company.nit, "active")
    path = str(pointer.get("path")) if pointer else ""
    if path and Path(path).is_file():
        status = CertificateStatus(
            company_nit=company.nit,
            health=CertificateHealth.VIGENTE,
            message=overview.notice
            or f"Hay un certificado configurado ({path}) que no se ha revisado.",
        )
        return CertificateCheck(
            status,
            ["Vigencia no verificada: instálelo con «fe-tui cert install» o dé su contraseña."],
            verified=False,
        )
    return CertificateCheck(certificate_status(company.nit, None, moment))


def _certificate_section(check: CertificateCheck) -> DoctorSection:
    section = doctor.certificate_section(
        check.status, warnings=check.warnings, renewal_notice=check.notice
    )
    return section.model_copy(update={"details": [*section.details, *check.notes]})


# --- resolutions and queue -----------------------------------------------------------------------


def numbering_report(
    store: Store, settings: Settings, company: Company, now: datetime | None = None
) -> NumberingReport:
    """The company's numbering as ``ranges list`` shows it (:func:`ranges.numbering_overview`:
    the saved thresholds, the burn-rate forecast and the prefix associations included)."""
    moment = now or _now()
    queue = iq.InvoiceQueue(store, company, settings)
    queue.ledger.refresh()
    return ranges.numbering_overview(store, company, moment, ledger=queue.ledger)


def _resolutions_section(report: NumberingReport, habilitado: bool) -> DoctorSection:
    """The numbering section; before the habilitación ends, having no production range yet is
    a step of the habilitación (a warning), not a breakdown (as triage reads it)."""
    missing = [f for f in report.findings if f.code == "sin_resolucion_vigente"]
    if habilitado or not missing:
        return doctor.resolutions_section(report)
    rest = report.model_copy(update={"findings": [f for f in report.findings if f not in missing]})
    section = doctor.resolutions_section(rest)
    if section.status == "problem":
        return section
    return section.model_copy(
        update={
            "status": "warning",
            "message": "Aún no hay numeración vigente: se solicita, se asocia y se sincroniza "
            "en los últimos pasos de la habilitación (habilitacion status).",
        }
    )


def _parse_time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def queue_counts(
    store: Store, settings: Settings, company: Company, now: datetime | None = None
) -> QueueCounts:
    """What the company's queue holds that needs attention."""
    moment = now or _now()
    queue = iq.InvoiceQueue(store, company, settings)
    stuck_ages: list[float] = []
    data: dict[str, int] = {
        "pending": 0,
        "stuck": 0,
        "retryable": 0,
        "needs_reconcile": 0,
        "rejected": 0,
    }
    for rec in queue.list():
        if rec.state in (iq.READY, iq.DRAFT):
            data["pending"] += 1
        elif rec.state == iq.RETRYABLE:
            data["retryable"] += 1
        elif rec.state == iq.NEEDS_RECONCILE:
            data["needs_reconcile"] += 1
        elif rec.state == iq.REJECTED:
            data["rejected"] += 1
        elif rec.state in (iq.SIGNED, iq.SENDING):
            updated = _parse_time(rec.updated)
            age = (moment - updated) if updated is not None else STUCK_AFTER
            if age >= STUCK_AFTER:
                data["stuck"] += 1
                stuck_ages.append(age.total_seconds() / 3600)
            else:
                data["pending"] += 1
    return QueueCounts(**data, oldest_stuck_hours=int(max(stuck_ages)) if stuck_ages else None)


# --- the report ---------------------------------------------------------------------------------


def _failed(name: doctor.SectionName, exc: FeError) -> DoctorSection:
    """A section whose data could not be read: a problem with the reason, not a crash."""
    return DoctorSection(name=name, status="problem", message=exc.message)


async def _dian_section(
    store: Store,
    settings: Settings,
    company: Company,
    cert: LoadedCertificate | None,
    transport: httpx.AsyncBaseTransport | None,
    clock: Callable[[], datetime] | None,
) -> DoctorSection:
    from fe_tui.services.sessions import (
        IN_PROCESS_URL,
        company_environment,
        in_process_simulator,
    )

    environment = company_environment(company, settings)
    if transport is None and environment.is_test_double and environment.url == IN_PROCESS_URL:
        transport = in_process_simulator(store, company, settings)
    software = company.software
    kwargs: dict[str, Any] = {}
    if clock is not None:
        kwargs["now"] = clock
    try:
        return await doctor.probe_dian(
            environment,
            cert,
            account_nit=company.nit if software else None,
            software_id=software.software_id if software else None,
            provider_nit=software.provider_nit if software else None,
            transport=transport,
            **kwargs,
        )
    except (httpx.HTTPError, OSError) as exc:  # the probe's signed call met the network
        return DoctorSection(
            name="dian",
            status="problem",
            message="La DIAN no respondió a la llamada firmada: revise la conexión e intente de "
            "nuevo.",
            details=[f"Detalle: {type(exc).__name__}: {exc}"],
        )


async def doctor_report(
    store: Store,
    settings: Settings,
    company: Company,
    cert: LoadedCertificate | None = None,
    now: datetime | None = None,
    probe: bool = True,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
) -> DoctorReport:
    """The doctor's report for ``company``: certificate, resolutions, habilitación, dian, queue.

    ``cert`` is the certificate loaded for this session (its dates, NIT and
    key are checked, and it signs the DIAN probe); without it the certificate
    comes from the store and the probe skips the signed call. ``probe=False``
    leaves the ``dian`` section out (no network). ``transport`` replaces the
    network; ``clock`` is this machine's clock for the skew check (tests).
    Never raises for what it finds: an unreadable part is a problem section.
    """
    moment = now or _now()
    sections: list[DoctorSection] = []
    try:
        sections.append(_certificate_section(certificate_state(store, company, cert, moment)))
    except FeError as exc:
        sections.append(_failed("certificate", exc))
    ready = True
    try:
        hab_status = habilitacion_overview(store, company, moment)
        ready = hab_status.ready
        hab_section = doctor.habilitacion_section(hab_status)
    except FeError as exc:
        hab_section = _failed("habilitacion", exc)
    try:
        report = numbering_report(store, settings, company, moment)
        sections.append(_resolutions_section(report, ready))
    except FeError as exc:
        sections.append(_failed("resolutions", exc))
    sections.append(hab_section)
    if probe:
        sections.append(await _dian_section(store, settings, company, cert, transport, clock))
    try:
        sections.append(doctor.queue_section(queue_counts(store, settings, company, moment)))
    except FeError as exc:
        sections.append(_failed("queue", exc))
    return doctor.build_report(company.nit, company.label, moment, sections)


async def doctor_reports(
    store: Store,
    settings: Settings,
    now: datetime | None = None,
    probe: bool = True,
    certs: dict[str, LoadedCertificate] | None = None,
) -> list[DoctorReport]:
    """``doctor --all``: one report per company (by name), each with its certificate if given."""
    loaded = certs or {}
    return [
        await doctor_report(store, settings, c, loaded.get(c.nit), now, probe)
        for c in store.companies()
    ]


# --- triage -------------------------------------------------------------------------------------


def triage_all(store: Store, settings: Settings, now: datetime | None = None) -> list[TriageEntry]:
    """Every company of the data directory, ordered by what breaks first (no network)."""
    moment = now or _now()
    snapshots = []
    for company in store.companies():
        snapshots.append(
            CompanySnapshot(
                company=company,
                certificate=certificate_state(store, company, None, moment).status,
                numbering=numbering_report(store, settings, company, moment),
                habilitacion=habilitacion_overview(store, company, moment),
                queue=queue_counts(store, settings, company, moment),
            )
        )
    return triage(snapshots)
