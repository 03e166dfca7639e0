"""CLI commands over companies, their certificates and their numbering ranges.

``fe-tui company add|list|show|edit|use``, ``fe-tui cert install|status|track|purchase``
(the ``cert`` group itself lives in :mod:`fe_tui.cli`, next to ``cert info``) and
``fe-tui ranges sync|add|list``. Registered on :data:`fe_tui.cli.main` (this module
is imported at the end of ``cli.py``). Parsing and printing only: the work is in
:mod:`fe_tui.services.companies`, :mod:`fe_tui.services.company_certs` and
:mod:`fe_tui.services.ranges`.

The clock: every command that classifies by date reads ``FE_TUI_NOW`` (an ISO
8601 instant with its offset) when set, so scripts and tests can ask "as of
that day"; otherwise the real time.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import click

from fe_tui.cli import _emit_json, handle_errors, json_option, main, settings_from_context
from fe_tui.errors import InputError

#: Environment variable with a fixed "now" (ISO 8601 with offset), for scripts and tests.
NOW_ENV = "FE_TUI_NOW"


def cli_now() -> datetime:
    """The clock of this run: ``FE_TUI_NOW`` when set, else the real time (aware)."""
    raw = os.environ.get(NOW_ENV, "").strip()
    if not raw:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InputError(
            f"{NOW_ENV} debe ser una fecha y hora ISO 8601 con zona (se recibió {raw!r})."
        ) from None
    if value.tzinfo is None:
        raise InputError(f"{NOW_ENV} debe incluir la zona horaria (p. ej. -05:00).")
    return value


def _store() -> Any:
    from fe_tui.store.db import Store

    return Store(settings_from_context().data_dir)


company_option = click.option(
    "--company",
    "company_nit",
    default=None,
    metavar="NIT",
    help="NIT de la empresa (sin DV o NIT-DV); por defecto, la empresa actual.",
)


# -- company ---------------------------------------------------------------------------------------
@main.group()
def company() -> None:
    """Empresas atendidas: alta, datos de la DIAN, empresa actual."""


_MODE_HELP = "Modo de operación: propio, proveedor (tecnológico) o gratuito (solución de la DIAN)."
_ENV_HELP = "Ambiente: habilitacion, produccion o simulador."


def _company_fields(fn: Any) -> Any:
    """The options ``add`` and ``edit`` share."""
    options = [
        click.option("--mode", "operation_mode", default=None, metavar="MODO", help=_MODE_HELP),
        click.option("--env", "environment", default=None, metavar="AMBIENTE", help=_ENV_HELP),
        click.option(
            "--software-id", default=None, metavar="GUID", help="SoftwareID registrado en la DIAN."
        ),
        click.option(
            "--pin-env",
            default=None,
            metavar="VAR",
            help="Variable de entorno con el PIN del software (si no se da, se pregunta cuando "
            "se da --software-id por primera vez).",
        ),
        click.option(
            "--provider-nit",
            default=None,
            metavar="NIT-DV",
            help="NIT del proveedor tecnológico (modo proveedor).",
        ),
        click.option(
            "--provider-name", default=None, metavar="NOMBRE", help="Nombre del proveedor."
        ),
        click.option(
            "--test-set-id", default=None, metavar="ID", help="TestSetId del set de pruebas."
        ),
        click.option(
            "--email",
            "reception_email",
            default=None,
            metavar="CORREO",
            help="Correo de recepción de facturas registrado en la DIAN.",
        ),
        click.option(
            "--dian-url",
            default=None,
            metavar="URL",
            help="Dirección del servicio de la DIAN (p. ej. un simulador ya iniciado).",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _pin(pin_env: str | None, needed: bool) -> str | None:
    """The software PIN from the variable named, else asked on a terminal when ``needed``."""
    import sys

    if pin_env:
        value = os.environ.get(pin_env)
        if value is None:
            raise InputError(f"La variable de entorno {pin_env} (--pin-env) no existe.")
        return value
    if needed and sys.stdin.isatty():
        import getpass

        return getpass.getpass("PIN del software: ")
    return None


def _print_company(view: dict[str, Any]) -> None:
    mark = " (actual)" if view["current"] else ""
    click.echo(f"{view['name']}{mark}")
    software = view["software"]
    rows = [
        ("NIT", f"{view['nit']}-{view['dv']}"),
        ("Modo de operación", view["operation_mode_label"]),
        ("Ambiente", view["environment_label"]),
        ("Dirección DIAN", view["dian_url"] or "la del ambiente"),
        ("SoftwareID", software["software_id"] if software else "sin registrar"),
        ("PIN", software["pin"] if software else "sin registrar"),
        (
            "Proveedor",
            f"{software['provider_nit']}-{software['provider_dv']}"
            + (f" {software['provider_name']}" if software["provider_name"] else "")
            if software
            else "—",
        ),
        ("TestSetId", view["test_set_id"] or "sin registrar"),
        ("Correo de recepción", view["reception_email"] or "sin registrar"),
    ]
    for label, value in rows:
        click.echo(f"  {label:<20} {value}")
    if view["notes"]:
        click.echo("  Notas:")
        for line in view["notes"].splitlines():
            click.echo(f"    {line}")


@company.command("add")
@click.argument("nit", metavar="NIT-DV")
@click.option("--name", required=True, metavar="NOMBRE", help="Razón social (como en el RUT).")
@_company_fields
@click.option("--notes", default="", metavar="TEXTO", help="Notas del agente.")
@click.option("--use", "make_current", is_flag=True, help="Dejarla como empresa actual.")
@json_option
@handle_errors
def company_add(
    nit: str,
    name: str,
    operation_mode: str | None,
    environment: str | None,
    software_id: str | None,
    pin_env: str | None,
    provider_nit: str | None,
    provider_name: str | None,
    test_set_id: str | None,
    reception_email: str | None,
    dian_url: str | None,
    notes: str,
    make_current: bool,
    as_json: bool,
) -> None:
    """Da de alta una empresa (NIT con su dígito de verificación)."""
    from fe_tui.services import companies

    store = _store()
    made = companies.add_company(
        store,
        nit=nit,
        name=name,
        operation_mode=operation_mode or "propio",
        environment=environment or "habilitacion",
        software_id=software_id,
        pin=_pin(pin_env, software_id is not None),
        provider_nit=provider_nit,
        provider_name=provider_name,
        test_set_id=test_set_id,
        reception_email=reception_email,
        notes=notes,
        dian_url=dian_url,
        make_current=True if make_current else None,
    )
    view = companies.public_view(made, current=store.current_company_nit() == made.nit)
    if as_json:
        _emit_json({"ok": True, "company": view})
        return
    click.echo(f"Empresa creada: {made.label}" + (" (actual)" if view["current"] else ""))


@company.command("edit")
@click.argument("nit", metavar="NIT", required=False)
@click.option("--name", default=None, metavar="NOMBRE", help="Razón social.")
@_company_fields
@click.option("--notes", default=None, metavar="TEXTO", help="Reemplaza las notas del agente.")
@click.option("--add-note", default=None, metavar="TEXTO", help="Agrega una línea a las notas.")
@json_option
@handle_errors
def company_edit(
    nit: str | None,
    name: str | None,
    operation_mode: str | None,
    environment: str | None,
    software_id: str | None,
    pin_env: str | None,
    provider_nit: str | None,
    provider_name: str | None,
    test_set_id: str | None,
    reception_email: str | None,
    dian_url: str | None,
    notes: str | None,
    add_note: str | None,
    as_json: bool,
) -> None:
    """Cambia los datos de una empresa (por defecto, la actual); lo no indicado queda igual."""
    from fe_tui.services import companies

    store = _store()
    current = companies.get_company(store, nit)
    needs_pin = software_id is not None and current.software is None
    updated = companies.edit_company(
        store,
        current.nit,
        name=name,
        operation_mode=operation_mode,
        environment=environment,
        software_id=software_id,
        pin=_pin(pin_env, needs_pin),
        provider_nit=provider_nit,
        provider_name=provider_name,
        test_set_id=test_set_id,
        reception_email=reception_email,
        dian_url=dian_url,
        notes=notes,
        append_note=add_note,
    )
    view = companies.public_view(updated, current=store.current_company_nit() == updated.nit)
    if as_json:
        _emit_json({"ok": True, "company": view})
        return
    click.echo(f"Empresa actualizada: {updated.label}")


@company.command("list")
@json_option
@handle_errors
def company_list(as_json: bool) -> None:
    """Lista las empresas de la carpeta de datos (la actual marcada con *)."""
    from fe_tui.services import companies

    store = _store()
    current = store.current_company_nit()
    views = [
        companies.public_view(c, current=c.nit == current) for c in companies.list_companies(store)
    ]
    if as_json:
        _emit_json({"ok": True, "current": current, "companies": views})
        return
    if not views:
        click.echo("No hay empresas: cree una con `fe-tui company add NIT-DV --name NOMBRE`.")
        return
    for view in views:
        mark = "*" if view["current"] else " "
        click.echo(
            f"{mark} {view['nit']}-{view['dv']:<3} {view['name']:<40} "
            f"{view['environment_label']:<13} {view['operation_mode_label']}"
        )


@company.command("show")
@click.argument("nit", metavar="NIT", required=False)
@json_option
@handle_errors
def company_show(nit: str | None, as_json: bool) -> None:
    """Muestra una empresa (por defecto, la actual); el PIN nunca se muestra."""
    from fe_tui.services import companies

    store = _store()
    found = companies.get_company(store, nit)
    view = companies.public_view(found, current=store.current_company_nit() == found.nit)
    if as_json:
        _emit_json({"ok": True, "company": view})
        return
    _print_company(view)


@company.command("use")
@click.argument("nit", metavar="NIT")
@json_option
@handle_errors
def company_use(nit: str, as_json: bool) -> None:
    """Elige la empresa actual (la de los comandos sin --company)."""
    from fe_tui.services import companies

    chosen = companies.use_company(_store(), nit)
    if as_json:
        _emit_json({"ok": True, "current": chosen.nit, "company": chosen.label})
        return
    click.echo(f"Empresa actual: {chosen.label}")

