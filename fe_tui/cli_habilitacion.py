"""CLI commands over habilitación and health: ``habilitacion``, ``doctor`` and ``triage``.

Registered on :data:`fe_tui.cli.main` (imported at the end of ``cli.py``).
Parsing and printing only: the work is in :mod:`fe_tui.services.habilitacion`
and :mod:`fe_tui.services.health`.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from datetime import date
from typing import Any

import click

from fe_tui import exit_codes
from fe_tui.cli import (
    EXIT_CHECK_FAILED,
    EXIT_OK,
    _emit_json,
    _load_certificate,
    company_option,
    handle_errors,
    json_option,
    main,
    password_option,
    settings_from_context,
)
from fe_tui.errors import InputError

#: Who checks a step off, when --agent is not given.
AGENT_ENV = "FE_TUI_AGENT"

_MARKS = {"hecho": "[x]", "disponible": "[ ]", "bloqueado": "[!]", "en_espera": "[~]"}
_STATES = {
    "hecho": "hecho",
    "disponible": "disponible",
    "bloqueado": "bloqueado",
    "en_espera": "en espera",
}


def _store_and_company(company_nit: str | None) -> tuple[Any, Any, Any]:
    from fe_tui.store.db import Store

    settings = settings_from_context()
    store = Store(settings.data_dir)
    return settings, store, store.require_company(company_nit)


def _agent(agent: str | None) -> str:
    if agent and agent.strip():
        return agent.strip()
    value = os.environ.get(AGENT_ENV, "").strip()
    if value:
        return value
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        raise InputError(
            f"Indique quién marca el paso con --agent NOMBRE (o la variable {AGENT_ENV})."
        ) from None


def _print_status(status: Any, company: Any) -> None:
    from fe_tui.domain.colombia import COLOMBIA_TZ

    click.echo(f"Habilitación de {company.label}")
    for step in status.steps:
        line = f"  {_MARKS[step.state]} {step.label} — {_STATES[step.state]}"
        if step.state == "hecho" and step.agent:
            when = (
                step.done_at.astimezone(COLOMBIA_TZ).strftime("%d/%m/%Y %H:%M")
                if step.done_at
                else ""
            )
            line += f" ({step.agent}, {when})"
        click.echo(line)
        if step.detail:
            click.echo(f"      {step.detail}")
    click.echo(status.next_action)
    if status.next_step is not None:
        click.echo(f"Código del paso: {status.next_step.value}")


def _status_json(status: Any) -> dict[str, Any]:
    data = status.model_dump(mode="json")
    data["blocked"] = [
        {"step": s.step.value, "label": s.label, "reason": s.detail} for s in status.blocked
    ]
    return {"ok": True, **data}


# -- habilitacion ----------------------------------------------------------------------------------
@main.group()
def habilitacion() -> None:
    """Habilitación ante la DIAN: lista de pasos, set de pruebas y estado de cada empresa."""


@habilitacion.command("status")
@company_option
@json_option
@handle_errors
def habilitacion_status(company_nit: str | None, as_json: bool) -> None:
    """Estado de la habilitación: cada paso, el siguiente y por qué un paso está bloqueado."""
    from fe_tui.services.habilitacion import habilitacion_overview

    _, store, company = _store_and_company(company_nit)
    status = habilitacion_overview(store, company)
    if as_json:
        _emit_json(_status_json(status))
    else:
        _print_status(status, company)


@habilitacion.command("check")
@click.argument("step", metavar="PASO")
@company_option
@click.option("--agent", default=None, metavar="NOMBRE", help="Quién marca el paso.")
@click.option("--note", default="", metavar="TEXTO", help="Nota para el registro del paso.")
@click.option(
    "--date",
    "production_start",
    default=None,
    metavar="AAAA-MM-DD",
    help="Fecha de inicio en producción (paso inicio_produccion).",
)
@click.option(
    "--reference",
    default=None,
    metavar="NÚMERO",
    help="Número de la resolución del formulario 1876 (paso solicitud_numeracion).",
)
@json_option
@handle_errors
def habilitacion_check(
    step: str,
    company_nit: str | None,
    agent: str | None,
    note: str,
    production_start: str | None,
    reference: str | None,
    as_json: bool,
) -> None:
    """Marca un paso manual: registro, inicio_produccion, rut_responsabilidad_52,
    solicitud_numeracion o asociacion_prefijos."""
    from fe_tui.services.habilitacion import check_step, parse_step

    start = None
    if production_start is not None:
        try:
            start = date.fromisoformat(production_start.strip())
        except ValueError:
            raise InputError(
                f"La fecha {production_start!r} no es válida: use AAAA-MM-DD."
            ) from None
    _, store, company = _store_and_company(company_nit)
    chosen = parse_step(step)
    status = check_step(
        store,
        company,
        chosen,
        agent=_agent(agent),
        note=note,
        production_start=start,
        reference=reference,
    )
    if as_json:
        _emit_json(_status_json(status))
        return
    click.echo(f"Marcado: {chosen.label}.")
    click.echo(status.next_action)


@habilitacion.command("uncheck")
@click.argument("step", metavar="PASO")
@company_option
@json_option
@handle_errors
def habilitacion_uncheck(step: str, company_nit: str | None, as_json: bool) -> None:
    """Desmarca un paso manual marcado por error."""
    from fe_tui.services.habilitacion import parse_step, uncheck_step

    _, store, company = _store_and_company(company_nit)
    chosen = parse_step(step)
    status = uncheck_step(store, company, chosen)
    if as_json:
        _emit_json(_status_json(status))
        return
    click.echo(f"Desmarcado: {chosen.label}.")
    click.echo(status.next_action)


class _SetProgress:
    """One progress line on stderr when it is a terminal; silent otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()

    def __call__(self, p: Any) -> None:
        if not self.enabled:
            return
        a, r = p.accepted, p.required
        line = (
            f"\rFacturas {a.invoices}/{r.invoices}  NC {a.credit_notes}/{r.credit_notes}  "
            f"ND {a.debit_notes}/{r.debit_notes}  rechazados {p.rejected.total}"
        )
        click.echo(line, nl=False, err=True)

    def close(self) -> None:
        if self.enabled:
            click.echo("", err=True)


_COUNT = click.IntRange(0, 1000)


@habilitacion.command("run-test-set")
@company_option
@click.option("--invoices", type=_COUNT, default=None, metavar="N", help="Facturas requeridas.")
@click.option(
    "--credit-notes", type=_COUNT, default=None, metavar="N", help="Notas crédito requeridas."
)
@click.option(
    "--debit-notes", type=_COUNT, default=None, metavar="N", help="Notas débito requeridas."
)
@click.option(
    "--wait",
    "batch_wait",
    type=click.FloatRange(0, 600),
    default=None,
    metavar="SEGUNDOS",
    help="Espera máxima por el resultado de cada lote (GetStatusZip); por defecto 60.",
)
@password_option
@json_option
@handle_errors
def habilitacion_run_test_set(
    company_nit: str | None,
    invoices: int | None,
    credit_notes: int | None,
    debit_notes: int | None,
    batch_wait: float | None,
    password_env: str,
    as_json: bool,
) -> None:
    """Genera y envía el set de pruebas (SendTestSetAsync con el TestSetId) y cuenta el resultado.

    Las cantidades por defecto son las ya registradas para el set, las del simulador o las de
    la guía de la DIAN (60/20/20); indíquelas según «Detalles del set de pruebas» del portal.
    """
    from fe_tui.domain.workflows import TestSetCounts
    from fe_tui.services.habilitacion import (
        DEFAULT_BATCH_WAIT,
        describe_test_set,
        recorded_test_set,
        run_test_set,
    )
    from fe_tui.services.sessions import active_certificate_path

    settings, store, company = _store_and_company(company_nit)
    counts = None
    given = (invoices, credit_notes, debit_notes)
    if any(v is not None for v in given):
        base = recorded_test_set(store, company)
        current = base.progress.required if base else TestSetCounts()
        counts = TestSetCounts(
            invoices=current.invoices if invoices is None else invoices,
            credit_notes=current.credit_notes if credit_notes is None else credit_notes,
            debit_notes=current.debit_notes if debit_notes is None else debit_notes,
        )
    cert = _load_certificate(active_certificate_path(store, company), password_env)
    bar = _SetProgress(not as_json)
    try:
        result = asyncio.run(
            run_test_set(
                store,
                settings,
                company,
                cert,
                counts=counts,
                progress=bar,
                batch_wait=DEFAULT_BATCH_WAIT if batch_wait is None else batch_wait,
            )
        )
    finally:
        bar.close()
    status = result.effective_status
    if status == "aceptado":
        code = EXIT_OK
    elif status == "rechazado" or result.rejected.total:
        code = EXIT_CHECK_FAILED
    else:
        code = exit_codes.NO_VERDICT
    summary = describe_test_set(result)
    if as_json:
        _emit_json(
            {
                "ok": status == "aceptado",
                "status": status,
                "summary": summary,
                **result.model_dump(mode="json"),
                "missing": result.missing.model_dump(mode="json"),
            }
        )
    else:
        click.echo(summary)
    sys.exit(code)


# -- doctor and triage ----------------------------------------------------------------------------
_SECTION_LABELS = {
    "certificate": "Certificado",
    "resolutions": "Numeración",
    "habilitacion": "Habilitación",
    "dian": "DIAN",
    "queue": "Cola",
}
_LEVELS = {"ok": "ok", "warning": "advertencia", "problem": "problema"}


def _session_certificate(store: Any, company: Any, password_env: str) -> tuple[Any, str | None]:
    """The company's certificate when its password is in ``password_env`` (never asked).

    A certificate that cannot be opened is a finding of the report, not an error.
    """
    from fe_tui.errors import FeError
    from fe_tui.services.documents import load_certificate
    from fe_tui.services.sessions import active_certificate_path

    password = os.environ.get(password_env)
    if password is None:
        return None, None
    try:
        return load_certificate(active_certificate_path(store, company), password), None
    except FeError as exc:
        return None, exc.message


def _print_report(report: Any) -> None:
    from fe_tui.domain.colombia import COLOMBIA_TZ

    when = report.checked_at.astimezone(COLOMBIA_TZ).strftime("%d/%m/%Y %H:%M")
    click.echo(f"Doctor — {report.company_label} — {when}")
    for section in report.sections:
        click.echo(
            f"  [{_LEVELS[section.status]}] {_SECTION_LABELS[section.name]}: {section.message}"
        )
        if section.name == "habilitacion":
            continue  # every step is in `fe-tui habilitacion status`; the message names the next
        for line in section.details:
            click.echo(f"      {line}")
    verdict = {
        "ok": "Todo en orden.",
        "warning": "Hay advertencias; nada impide facturar.",
        "problem": "Hay problemas que resolver.",
    }[report.status]
    click.echo(f"Resultado: {verdict}")


@main.command("doctor")
@company_option
@click.option("--all", "all_companies", is_flag=True, help="Revisar todas las empresas.")
@click.option(
    "--no-probe", is_flag=True, help="No consultar a la DIAN (sin red): omite la sección dian."
)
@password_option
@json_option
@handle_errors
def doctor_command(
    company_nit: str | None, all_companies: bool, no_probe: bool, password_env: str, as_json: bool
) -> None:
    """Revisa certificado, numeración, habilitación, conexión con la DIAN y cola de cada empresa.

    Sale con 0 si no hay problemas y con 1 si encontró alguno. La contraseña del certificado se
    toma de la variable de --password-env (no se pregunta); sin ella, el certificado se revisa
    con lo registrado y no se prueba la llamada firmada.
    """
    from fe_tui.services.doctor import DoctorSection, doctor_exit_code
    from fe_tui.services.health import doctor_report
    from fe_tui.store.db import Store

    if all_companies and company_nit:
        raise InputError("Use --company NIT o --all, no los dos.")
    settings = settings_from_context()
    store = Store(settings.data_dir)
    companies = store.companies() if all_companies else [store.require_company(company_nit)]
    if not companies:
        raise InputError(f"No hay empresas en {settings.data_dir}.")

    async def go() -> list[Any]:
        reports = []
        for company in companies:
            cert, refused = _session_certificate(store, company, password_env)
            report = await doctor_report(store, settings, company, cert, probe=not no_probe)
            if refused is not None and all_companies:
                # One password for many companies: another company's file may well need
                # another one. Its records still speak; the file is just not re-checked.
                report = report.model_copy(
                    update={
                        "sections": [
                            s.model_copy(
                                update={
                                    "details": [
                                        *s.details,
                                        f"No se abrió el archivo con esa contraseña: {refused}",
                                    ]
                                }
                            )
                            if s.name == "certificate"
                            else s
                            for s in report.sections
                        ]
                    }
                )
            elif refused is not None:
                failed = DoctorSection(
                    name="certificate",
                    status="problem",
                    message=f"No se pudo abrir el certificado: {refused}",
                )
                report = report.model_copy(
                    update={
                        "sections": [
                            failed if s.name == "certificate" else s for s in report.sections
                        ]
                    }
                )
            reports.append(report)
        return reports

    reports = asyncio.run(go())
    code = doctor_exit_code(reports)
    if as_json:
        _emit_json(
            {
                "ok": code == 0,
                "reports": [{**r.model_dump(mode="json"), "status": r.status} for r in reports],
            }
        )
    else:
        for i, report in enumerate(reports):
            if i:
                click.echo("")
            _print_report(report)
    sys.exit(code)


@main.command("triage")
@json_option
@handle_errors
def triage_command(as_json: bool) -> None:
    """Todas las empresas en una lista, primero la que se rompe antes, con la próxima acción."""
    from fe_tui.services.health import triage_all
    from fe_tui.store.db import Store

    settings = settings_from_context()
    entries = triage_all(Store(settings.data_dir), settings)
    if as_json:
        _emit_json({"ok": True, "companies": [e.model_dump(mode="json") for e in entries]})
        return
    if not entries:
        click.echo(f"No hay empresas en {settings.data_dir}.")
        return
    for entry in entries:
        days = "—" if entry.days_left is None else f"{entry.days_left} d"
        click.echo(f"[{_LEVELS[entry.severity]}] {entry.company_label} · {days}")
        click.echo(f"      {entry.next_action}")
