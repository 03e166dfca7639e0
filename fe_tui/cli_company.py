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
from pathlib import Path
from typing import Any

import click

from fe_tui.cli import (
    DEFAULT_PASSWORD_ENV,
    _emit_json,
    _load_certificate,
    _password,
    cert,
    handle_errors,
    json_option,
    main,
    password_option,
    settings_from_context,
)
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


def _issuer_fields(fn: Any) -> Any:
    """The issuer options (the data every document carries) ``add`` and ``edit`` share."""
    options = [
        click.option(
            "--address",
            "address_line",
            default=None,
            metavar="DIRECCIÓN",
            help="Dirección del emisor (calle y número, como en el RUT).",
        ),
        click.option(
            "--municipality",
            "municipality_code",
            default=None,
            metavar="CÓDIGO",
            help="Municipio del emisor: código DIVIPOLA de 5 dígitos de la lista de la DIAN "
            "(p. ej. 11001 Bogotá); el departamento se deduce de él. País: CO.",
        ),
        click.option(
            "--postal-code", default=None, metavar="CÓDIGO", help="Código postal del emisor."
        ),
        click.option(
            "--responsibilities",
            default=None,
            metavar="CÓDIGOS",
            help="Responsabilidades fiscales del RUT separadas por comas "
            "(p. ej. O-13,O-15,O-23,O-47,R-99-PN).",
        ),
        click.option(
            "--org-type",
            "organization_type",
            default=None,
            metavar="TIPO",
            help="Tipo de organización: juridica (1) o natural (2).",
        ),
        click.option(
            "--tax-scheme",
            default=None,
            metavar="CÓDIGO",
            help="Tributo del emisor: 01 IVA (por defecto), 04 INC, ZA IVA e INC, ZZ no aplica.",
        ),
        click.option(
            "--issuer-email",
            default=None,
            metavar="CORREO",
            help="Correo del emisor en las facturas (por defecto, el de recepción).",
        ),
        click.option("--phone", default=None, metavar="TELÉFONO", help="Teléfono del emisor."),
        click.option(
            "--trade-name", default=None, metavar="NOMBRE", help="Nombre comercial del emisor."
        ),
        click.option(
            "--commercial-registration",
            default=None,
            metavar="NÚMERO",
            help="Matrícula mercantil del emisor.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _issuer_arg(values: dict[str, Any]) -> dict[str, Any] | None:
    """The ``issuer`` mapping of the services from the CLI options given (``None`` if none)."""
    from fe_tui.services.companies import ISSUER_FIELDS

    # The issuer's e-mail is the --issuer-email option (--email is the recepción e-mail).
    option = {field: "issuer_email" if field == "email" else field for field in ISSUER_FIELDS}
    given = {field: values.pop(name) for field, name in option.items() if name in values}
    given = {k: v for k, v in given.items() if v is not None}
    return given or None


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
    issuer = view["issuer"]
    if issuer is None:
        click.echo(
            "  Emisor               sin datos (dirección, municipio, responsabilidades: "
            "`fe-tui company edit --address … --municipality … --responsibilities …`)"
        )
    else:
        address = issuer["address"]
        place = f"{address['city_name']} ({address['municipality_code']}), "
        place += f"{address['department_name']} ({address['department_code']}), CO"
        emitter = [
            ("Tipo de organización", issuer["organization_type_label"]),
            ("Nombre comercial", issuer["trade_name"] or "—"),
            ("Dirección", address["line"]),
            ("Municipio", place),
            ("Código postal", address["postal_code"] or "—"),
            ("Responsabilidades", ", ".join(issuer["responsibilities"])),
            ("Tributo", issuer["tax_scheme"]),
            ("Correo del emisor", issuer["email"]),
            ("Teléfono", issuer["phone"] or "—"),
            ("Matrícula mercantil", issuer["commercial_registration"] or "—"),
        ]
        for label, value in emitter:
            click.echo(f"  {label:<20} {value}")
    if view["notes"]:
        click.echo("  Notas:")
        for line in view["notes"].splitlines():
            click.echo(f"    {line}")


@company.command("add")
@click.argument("nit", metavar="NIT-DV")
@click.option("--name", required=True, metavar="NOMBRE", help="Razón social (como en el RUT).")
@_company_fields
@_issuer_fields
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
    **issuer_options: str | None,
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
        issuer=_issuer_arg(issuer_options),
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
@_issuer_fields
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
    **issuer_options: str | None,
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
        issuer=_issuer_arg(issuer_options),
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


# -- cert install | status | track | purchase ------------------------------------------------------


def _agent(agent: str | None) -> str:
    """Who records a step: ``--agent``, else ``FE_TUI_AGENT``, else the login name."""
    if agent and agent.strip():
        return agent.strip()
    env = os.environ.get("FE_TUI_AGENT", "").strip()
    if env:
        return env
    import getpass

    try:
        return getpass.getuser() or "agente"
    except (KeyError, OSError):
        return "agente"


agent_option = click.option(
    "--agent",
    default=None,
    metavar="NOMBRE",
    help="Quién registra el paso (por defecto FE_TUI_AGENT o el usuario del sistema).",
)


def _date(text: str | None, what: str) -> Any:
    from datetime import date

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{what}: fecha no válida «{text}»; use AAAA-MM-DD.") from None


def _short_date(moment: datetime) -> str:
    from fe_tui.domain.workflows import colombian_date

    return colombian_date(moment).strftime("%d/%m/%Y")


@cert.command("install")
@click.argument("file", metavar="ARCHIVO", type=click.Path(dir_okay=False, path_type=Path))
@company_option
@password_option
@click.option(
    "--no-copy",
    is_flag=True,
    help="No guardar una copia privada en la carpeta de datos (usar el archivo donde está).",
)
@json_option
@handle_errors
def cert_install(
    file: Path, company_nit: str | None, password_env: str, no_copy: bool, as_json: bool
) -> None:
    """Instala ARCHIVO.p12 como certificado de firma de la empresa (tras una firma de prueba)."""
    from fe_tui.errors import MissingPasswordError
    from fe_tui.services import companies, company_certs

    store = _store()
    target = companies.get_company(store, company_nit)
    try:
        result = company_certs.install_certificate(
            store, target, file, _password(password_env), cli_now(), copy=not no_copy
        )
    except MissingPasswordError as exc:
        raise MissingPasswordError(
            f"{exc.message} Dé la contraseña en la variable {password_env} "
            "(o nombre otra con --password-env VAR); nunca en la línea de comandos.",
            **exc.fields,
        ) from None
    record = result.record
    if as_json:
        _emit_json(
            {
                "ok": True,
                "company": target.nit,
                "record": record.model_dump(mode="json"),
                "replaced": None
                if result.replaced is None
                else result.replaced.model_dump(mode="json"),
                "reinstalled": result.reinstalled,
            }
        )
        return
    click.echo(f"Certificado instalado para {target.label}: {record.subject_cn or record.subject}")
    click.echo(f"  Vigente hasta el {_short_date(record.not_after)}; firma de prueba verificada.")
    click.echo(f"  Archivo: {record.path}")
    if result.replaced is not None:
        click.echo(
            f"  El anterior (vence el {_short_date(result.replaced.not_after)}) queda como "
            "reemplazado."
        )
    elif result.reinstalled:
        click.echo("  Era el mismo certificado ya registrado; queda activo.")
    for warning in record.warnings:
        click.echo(f"Advertencia: {warning}")


def _status_line(overview: Any) -> str:
    status = overview.status
    if status is None:
        return f"{'Sin revisar':<12} {'—':>6}  {overview.company_label}: {overview.notice}"
    days = "—" if status.days_left is None else str(status.days_left)
    return f"{status.label:<12} {days:>6}  {overview.company_label}: {status.message}"


@cert.command("status")
@company_option
@click.option(
    "--all", "all_companies", is_flag=True, help="Todas las empresas, la más urgente primero."
)
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Días antes del vencimiento para «Por vencer» (por defecto 30).",
)
@json_option
@handle_errors
def cert_status(
    company_nit: str | None, all_companies: bool, days: int | None, as_json: bool
) -> None:
    """Estado del certificado: Vigente, Por vencer, Vencido o Inválido, con los días que quedan.

    Sale con 1 si alguno no está vigente.
    """
    import sys

    from fe_tui.services import companies, company_certs

    store = _store()
    now = cli_now()
    if all_companies:
        overviews = company_certs.certificate_statuses(store, now, warn=days)
    else:
        target = companies.get_company(store, company_nit)
        overviews = [company_certs.certificate_overview(store, target, now, warn=days)]
    healthy = all(o.status is not None and o.status.health.value == "vigente" for o in overviews)
    if as_json:
        _emit_json(
            {
                "ok": healthy,
                "companies": [o.model_dump(mode="json") for o in overviews],
            }
        )
        sys.exit(0 if healthy else 1)
    if not overviews:
        click.echo("No hay empresas.")
    click.echo(f"{'Estado':<12} {'Días':>6}  Empresa")
    for overview in overviews:
        click.echo(_status_line(overview))
        if not all_companies:
            if overview.active is not None:
                a = overview.active
                click.echo(f"  Titular: {a.subject_cn or a.subject}")
                click.echo(f"  Entidad: {a.issuer_cn or '—'}")
                click.echo(f"  Vigencia: {_short_date(a.not_before)} – {_short_date(a.not_after)}")
                click.echo(f"  Archivo: {a.path}")
            for record in overview.records:
                if record.state.value != "active":
                    extra = f" ({record.rejected_reason})" if record.rejected_reason else ""
                    click.echo(
                        f"  {record.state.label}: {record.subject_cn or record.subject}, "
                        f"vence el {_short_date(record.not_after)}{extra}"
                    )
            if overview.renewal is not None:
                r = overview.renewal
                click.echo(
                    f"  Renovación: {r.state.label} (solicitada el {r.requested_on:%d/%m/%Y})"
                    + (f" — {r.observaciones}" if r.observaciones else "")
                )
            if overview.purchase_next is not None:
                click.echo(f"  Compra: {overview.purchase_next}")
        if overview.notice and overview.status is not None:
            click.echo(f"  Aviso: {overview.notice}")
    sys.exit(0 if healthy else 1)


@cert.command("track")
@company_option
@click.option(
    "--state",
    type=click.Choice(["en_tramite", "rechazado", "completado"]),
    default=None,
    help="Nuevo estado de la solicitud (sin él: inicia una, o muestra la actual).",
)
@click.option("--requested-on", default=None, metavar="AAAA-MM-DD", help="Fecha de la solicitud.")
@click.option("--ca", "ca_name", default=None, metavar="NOMBRE", help="Entidad certificadora.")
@click.option(
    "--observaciones",
    default="",
    metavar="TEXTO",
    help="Observaciones de la entidad (obligatorias al pasar a rechazado).",
)
@click.option("--show", is_flag=True, help="Solo mostrar la solicitud, sin cambiarla.")
@agent_option
@json_option
@handle_errors
def cert_track(
    company_nit: str | None,
    state: str | None,
    requested_on: str | None,
    ca_name: str | None,
    observaciones: str,
    show: bool,
    agent: str | None,
    as_json: bool,
) -> None:
    """Seguimiento de la renovación del certificado (En trámite, Rechazado, Completado)."""
    from fe_tui.services import companies, company_certs

    store = _store()
    target = companies.get_company(store, company_nit)
    if show:
        request = company_certs.renewal_request(store, target.nit)
    else:
        request = company_certs.track_renewal(
            store,
            target,
            state,
            agent=_agent(agent),
            requested_on=_date(requested_on, "--requested-on"),
            observaciones=observaciones,
            ca_name=ca_name,
            now=cli_now(),
        )
    if as_json:
        _emit_json(
            {"ok": True, "renewal": None if request is None else request.model_dump(mode="json")}
        )
        return
    if request is None:
        click.echo(f"{target.label}: no hay solicitud de renovación registrada.")
        return
    click.echo(
        f"{target.label}: solicitud del {request.requested_on:%d/%m/%Y}"
        + (f" a {request.ca_name}" if request.ca_name else "")
        + f" — {request.state.label}"
    )
    if request.observaciones:
        click.echo(f"  Observaciones: {request.observaciones}")
    for event in request.history:
        note = f" — {event.observaciones}" if event.observaciones else ""
        click.echo(f"  {_short_date(event.at)} {event.state.label} ({event.agent}){note}")


@cert.command("purchase")
@company_option
@click.option(
    "--step",
    type=click.Choice(
        [
            "pago_verificado",
            "representante_legal",
            "carta_descargada",
            "carta_firmada_adjunta",
            "continuar",
        ]
    ),
    default=None,
    help="Paso a marcar como hecho (sin él: muestra la lista).",
)
@click.option("--note", default="", metavar="TEXTO", help="Nota del paso.")
@click.option("--rep-name", default=None, metavar="NOMBRE", help="Representante legal: nombre.")
@click.option("--rep-id", default=None, metavar="NÚMERO", help="Representante legal: documento.")
@click.option(
    "--rep-id-type",
    default="13",
    show_default=True,
    metavar="CÓDIGO",
    help="Representante legal: tipo de documento (13 cédula).",
)
@click.option("--rep-email", default=None, metavar="CORREO", help="Representante legal: correo.")
@click.option(
    "--letter",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="ARCHIVO.pdf",
    help="Carta de exoneración firmada (PDF, máximo 1 MB).",
)
@agent_option
@json_option
@handle_errors
def cert_purchase(
    company_nit: str | None,
    step: str | None,
    note: str,
    rep_name: str | None,
    rep_id: str | None,
    rep_id_type: str,
    rep_email: str | None,
    letter: Path | None,
    agent: str | None,
    as_json: bool,
) -> None:
    """Lista de compra y activación del certificado: pago, representante, carta, continuar."""
    from pydantic import ValidationError

    from fe_tui.domain.models import format_validation_error
    from fe_tui.domain.workflows import (
        PURCHASE_ORDER,
        LegalRepresentative,
        PurchaseChecklist,
        purchase_next_action,
    )
    from fe_tui.services import companies, company_certs

    store = _store()
    target = companies.get_company(store, company_nit)
    if step is None:
        checklist = company_certs.purchase_checklist(store, target.nit) or PurchaseChecklist(
            company_nit=target.nit
        )
    else:
        representative = None
        if rep_name or rep_id:
            try:
                representative = LegalRepresentative(
                    name=rep_name or "",
                    id_type=rep_id_type,
                    id_number=rep_id or "",
                    email=rep_email,
                )
            except ValidationError as exc:
                raise InputError(
                    f"Datos del representante legal no válidos:\n{format_validation_error(exc)}"
                ) from None
        checklist = company_certs.complete_purchase_step(
            store,
            target,
            step,
            agent=_agent(agent),
            note=note,
            legal_representative=representative,
            letter=letter,
            now=cli_now(),
        )
    if as_json:
        _emit_json(
            {
                "ok": True,
                "purchase": checklist.model_dump(mode="json"),
                "next_step": None if checklist.next_step is None else checklist.next_step.value,
                "next_action": purchase_next_action(checklist),
            }
        )
        return
    click.echo(f"Compra del certificado de {target.label}:")
    done = {s.step: s for s in checklist.steps}
    for item in PURCHASE_ORDER:
        record = done.get(item.value)
        if record is None:
            click.echo(f"  [ ] {item.label}")
        else:
            extra = f" — {record.note}" if record.note else ""
            click.echo(f"  [x] {item.label} ({_short_date(record.done_at)}, {record.agent}){extra}")
    click.echo(f"Siguiente: {purchase_next_action(checklist)}")


# -- ranges ----------------------------------------------------------------------------------------
@main.group()
def ranges() -> None:
    """Resoluciones de numeración: sincronizar con la DIAN, registrar, revisar."""


_SOURCE_LABELS = {"dian": "DIAN", "manual": "manual", "simulador": "simulador"}
_STATE_LABELS = {
    "vigente": "Vigente",
    "vencida": "Vencida",
    "aun_no_vigente": "Aún no vigente",
    "agotada": "Agotada",
}
_SEVERITY_LABELS = {"info": "Info", "warning": "Aviso", "problem": "Problema"}


@ranges.command("sync")
@company_option
@click.option(
    "--endpoint",
    type=click.Choice(["produccion", "empresa"]),
    default="produccion",
    show_default=True,
    help="Dónde consultar: producción (donde están las claves técnicas) o el ambiente de la "
    "empresa. Una empresa en el simulador consulta siempre su simulador.",
)
@click.option(
    "--password-env",
    default=DEFAULT_PASSWORD_ENV,
    show_default=True,
    metavar="VAR",
    help="Variable de entorno con la contraseña del certificado activo (si no existe, se "
    "pregunta).",
)
@json_option
@handle_errors
def ranges_sync(company_nit: str | None, endpoint: str, password_env: str, as_json: bool) -> None:
    """Trae de la DIAN (GetNumberingRange) los rangos y claves técnicas del software."""
    import asyncio

    from fe_tui.services import companies
    from fe_tui.services import ranges as svc
    from fe_tui.services.sessions import active_certificate_path

    settings = settings_from_context()
    store = _store()
    target = companies.get_company(store, company_nit)
    loaded = _load_certificate(active_certificate_path(store, target), password_env)
    result = asyncio.run(
        svc.sync_ranges(
            store,
            settings,
            target,
            loaded,
            endpoint="empresa" if endpoint == "empresa" else "produccion",
        )
    )
    if as_json:
        _emit_json({"ok": True, **result.model_dump(mode="json")})
        return
    click.echo(result.message)
    for label, items in (("Nuevo", result.added), ("Actualizado", result.updated)):
        for res in items:
            click.echo(
                f"  {label}: {res.prefix or '(sin prefijo)'} {res.from_number}–{res.to_number} "
                f"resolución {res.number}, vigente {res.valid_from:%d/%m/%Y}–"
                f"{res.valid_to:%d/%m/%Y}"
            )


@ranges.command("add")
@company_option
@click.option("--number", required=True, metavar="NÚMERO", help="Número de la resolución.")
@click.option("--prefix", default="", metavar="PREFIJO", help="Prefijo (hasta 4 letras o dígitos).")
@click.option("--from", "from_number", type=int, required=True, metavar="N", help="Desde.")
@click.option("--to", "to_number", type=int, required=True, metavar="N", help="Hasta.")
@click.option("--valid-from", required=True, metavar="AAAA-MM-DD", help="Vigente desde.")
@click.option("--valid-to", required=True, metavar="AAAA-MM-DD", help="Vigente hasta.")
@click.option(
    "--date", "resolution_date", default=None, metavar="AAAA-MM-DD", help="Fecha de la resolución."
)
@click.option(
    "--technical-key",
    required=True,
    metavar="CLAVE",
    help="Clave técnica del rango (portal de la DIAN o GetNumberingRange).",
)
@json_option
@handle_errors
def ranges_add(
    company_nit: str | None,
    number: str,
    prefix: str,
    from_number: int,
    to_number: int,
    valid_from: str,
    valid_to: str,
    resolution_date: str | None,
    technical_key: str,
    as_json: bool,
) -> None:
    """Registra a mano una resolución (datos del formulario 1876)."""
    from fe_tui.services import companies
    from fe_tui.services import ranges as svc

    store = _store()
    target = companies.get_company(store, company_nit)
    res = svc.add_range(
        store,
        target,
        number=number,
        prefix=prefix,
        from_number=from_number,
        to_number=to_number,
        valid_from=_date(valid_from, "--valid-from"),
        valid_to=_date(valid_to, "--valid-to"),
        technical_key=technical_key,
        resolution_date=_date(resolution_date, "--date"),
    )
    if as_json:
        _emit_json({"ok": True, "resolution": res.model_dump(mode="json"), "source": "manual"})
        return
    click.echo(
        f"Resolución {res.number} registrada para {target.label}: prefijo "
        f"{res.prefix or '(sin prefijo)'} {res.from_number}–{res.to_number}, vigente "
        f"{res.valid_from:%d/%m/%Y}–{res.valid_to:%d/%m/%Y}."
    )


@ranges.command("associate")
@company_option
@click.option("--prefix", default="", metavar="PREFIJO", help="Prefijo asociado.")
@click.option("--number", required=True, metavar="NÚMERO", help="Número de la resolución.")
@json_option
@handle_errors
def ranges_associate(company_nit: str | None, prefix: str, number: str, as_json: bool) -> None:
    """Anota que el prefijo se asoció al software en el portal de la DIAN (ahora)."""
    from fe_tui.services import companies
    from fe_tui.services import ranges as svc

    store = _store()
    target = companies.get_company(store, company_nit)
    assoc = svc.record_association(store, target, prefix, number, at=cli_now())
    if as_json:
        _emit_json({"ok": True, "association": assoc.model_dump(mode="json")})
        return
    click.echo(
        f"Prefijo {assoc.prefix or '(sin prefijo)'} de la resolución {assoc.resolution_number} "
        "asociado; la DIAN puede tardar unas 2 horas en publicarlo: luego «fe-tui ranges sync»."
    )


_THRESHOLD_OPTIONS = [
    click.option(
        "--remaining-percent",
        type=click.IntRange(0, 100),
        default=None,
        metavar="N",
        help="Avisar cuando quede a lo sumo este porcentaje del rango (10).",
    ),
    click.option(
        "--remaining-numbers",
        type=click.IntRange(min=0),
        default=None,
        metavar="N",
        help="… o a lo sumo estos números (100).",
    ),
    click.option(
        "--expiry-days",
        type=click.IntRange(min=0),
        default=None,
        metavar="N",
        help="Avisar cuando la vigencia termine en estos días (30).",
    ),
    click.option(
        "--exhaustion-days",
        type=click.IntRange(min=0),
        default=None,
        metavar="N",
        help="Avisar cuando el pronóstico diga que se agota en estos días (30).",
    ),
    click.option(
        "--window",
        "forecast_window_days",
        type=click.IntRange(1, 366),
        default=None,
        metavar="DÍAS",
        help="Días de uso reciente que promedia el pronóstico (30).",
    ),
]


def _threshold_options(fn: Any) -> Any:
    for option in reversed(_THRESHOLD_OPTIONS):
        fn = option(fn)
    return fn


@ranges.command("list")
@company_option
@_threshold_options
@json_option
@handle_errors
def ranges_list(company_nit: str | None, as_json: bool, **limits: int | None) -> None:
    """Rangos con números usados y restantes, vencimiento, pronóstico y avisos.

    Sale con 1 si hay un problema (sin resolución vigente, rangos cruzados…).
    """
    import sys

    from fe_tui.services import companies
    from fe_tui.services import ranges as svc

    store = _store()
    target = companies.get_company(store, company_nit)
    saved = svc.numbering_thresholds(store)
    thresholds = saved.model_copy(update={k: v for k, v in limits.items() if v is not None})
    report = svc.numbering_overview(store, target, cli_now(), thresholds=thresholds)
    sources = svc.range_sources(store, target.nit)
    failed = report.severity == "problem"
    if as_json:
        data = report.model_dump(mode="json")
        for item in data["resolutions"]:
            item["source"] = sources.get((item["prefix"], item["resolution_number"]))
        _emit_json(
            {
                "ok": not failed,
                "company": target.nit,
                "severity": report.severity,
                "thresholds": thresholds.model_dump(mode="json"),
                **data,
            }
        )
        sys.exit(1 if failed else 0)
    click.echo(f"Numeración de {target.label} al {report.today:%d/%m/%Y}:")
    if not report.resolutions:
        click.echo("  Sin resoluciones: «fe-tui ranges sync» o «fe-tui ranges add».")
    for r in report.resolutions:
        mark = "→" if r.current else " "
        forecast = ""
        if r.days_to_exhaustion is not None and r.exhaustion_date is not None:
            forecast = (
                f", {r.daily_rate}/día: se agota en {r.days_to_exhaustion} días "
                f"({r.exhaustion_date:%d/%m/%Y})"
            )
        elif r.daily_rate is not None:
            forecast = f", {r.daily_rate}/día"
        source = _SOURCE_LABELS.get(sources.get((r.prefix, r.resolution_number), ""), "—")
        expiry = (
            f"vence en {r.days_to_expiry} días"
            if r.days_to_expiry >= 0
            else f"venció hace {-r.days_to_expiry} días"
        )
        click.echo(
            f"{mark} {r.prefix or '(sin)':<5} {r.from_number}–{r.to_number} resolución "
            f"{r.resolution_number} [{_STATE_LABELS[r.state]}, {source}]: usados {r.used}, "
            f"quedan {r.remaining}; {expiry} ({r.valid_to:%d/%m/%Y}){forecast}"
        )
    for finding in report.findings:
        click.echo(f"{_SEVERITY_LABELS[finding.severity]}: {finding.message}")
    sys.exit(1 if failed else 0)


@ranges.command("thresholds")
@_threshold_options
@json_option
@handle_errors
def ranges_thresholds(as_json: bool, **limits: int | None) -> None:
    """Muestra o cambia los umbrales de aviso de la numeración (para todas las empresas)."""
    from fe_tui.services import ranges as svc

    store = _store()
    if any(v is not None for v in limits.values()):
        thresholds = svc.set_numbering_thresholds(store, **limits)
    else:
        thresholds = svc.numbering_thresholds(store)
    if as_json:
        _emit_json({"ok": True, "thresholds": thresholds.model_dump(mode="json")})
        return
    click.echo(
        f"Avisar con {thresholds.remaining_percent} % o {thresholds.remaining_numbers} números "
        f"restantes, vencimiento a {thresholds.expiry_days} días, agotamiento pronosticado a "
        f"{thresholds.exhaustion_days} días (promedio de {thresholds.forecast_window_days} días)."
    )
