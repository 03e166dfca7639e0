"""Scriptable command line over the services (Click).

Exit codes, the same for every command, live in :mod:`fe_tui.exit_codes`
(0 success, 1 check failed or DIAN said no, 2 usage or input error, 3 no
verdict from DIAN, 70 unexpected failure, 74 the data folder cannot be read or written).

Every command takes ``--json`` for machine-readable output. Errors are one
Spanish line on stderr, never a traceback; Click itself speaks Spanish through
:mod:`fe_tui.cli_spanish` (``main`` is a :class:`~fe_tui.cli_spanish.SpanishGroup`,
so every command and group added under it is Spanish too).
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from fe_tui import cli_spanish, exit_codes
from fe_tui.errors import FeError

if TYPE_CHECKING:
    from fe_tui.dian.environments import Environment
    from fe_tui.services.dian_ops import DianSession
    from fe_tui.settings import Settings

cli_spanish.install()

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_CHECK_FAILED, EXIT_INPUT = exit_codes.OK, exit_codes.CHECK_FAILED, exit_codes.USAGE
EXIT_UNEXPECTED = exit_codes.INTERNAL
DEFAULT_PASSWORD_ENV = "FE_TUI_CERT_PASSWORD"


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def handle_errors(fn: F) -> F:
    """Turn fe-tui errors into one Spanish line and the family's exit code."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        as_json = kwargs.get("as_json") or getattr(kwargs.get("opts"), "as_json", False)
        try:
            return fn(*args, **kwargs)
        except FeError as exc:
            if as_json:
                _emit_json({"ok": False, "error": exc.message, "kind": type(exc).__name__})
            else:
                click.echo(f"Error: {exc.message}", err=True)
            sys.exit(exc.exit_code)
        except BrokenPipeError:
            # The reader of our output went away (`| head`): stop quietly, as Unix tools do.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(EXIT_OK)
        except KeyboardInterrupt:
            click.echo("Interrumpido.", err=True)
            sys.exit(exit_codes.INTERRUPTED)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:  # last resort: one line, never a traceback
            click.echo(f"Error inesperado ({type(exc).__name__}): {exc}", err=True)
            sys.exit(EXIT_UNEXPECTED)

    return wrapper  # type: ignore[return-value]


def _password(env_var: str) -> str | None:
    """The PKCS#12 password: from the named environment variable, else asked on a terminal."""
    value = os.environ.get(env_var)
    if value is not None:
        return value
    if sys.stdin.isatty():
        return getpass.getpass("Contraseña del certificado: ")
    return None


def _load_certificate(path: Path, password_env: str) -> Any:
    """Load the PKCS#12 at ``path``; when it needs a password nobody gave, say how to give one."""
    from fe_tui.errors import MissingPasswordError
    from fe_tui.services.documents import load_certificate

    try:
        return load_certificate(path, _password(password_env))
    except MissingPasswordError as exc:
        # Only reached without a terminal: on one, getpass asks (and "" is a wrong password).
        raise MissingPasswordError(
            f"{exc.message.removesuffix('.')}: la variable de entorno {password_env} no existe "
            f"y no hay una terminal donde preguntarla. Dela con «export {password_env}=…» "
            "(o nombre otra variable con --password-env VAR); nunca en la línea de comandos.",
            **exc.fields,
        ) from None


def output_option(help_text: str) -> Callable[[F], F]:
    """``-o/--output FILE``: written atomically, mode 0600, only when the command succeeds."""
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        required=True,
        help=help_text,
    )


json_option = click.option("--json", "as_json", is_flag=True, help="Salida en JSON.")
company_option = click.option(
    "--company",
    "company_nit",
    default=None,
    metavar="NIT",
    help="NIT de la empresa (sin DV); por defecto, la empresa actual.",
)
password_option = click.option(
    "--password-env",
    default=DEFAULT_PASSWORD_ENV,
    show_default=True,
    metavar="VAR",
    help="Variable de entorno con la contraseña del PKCS#12 (si no existe, se pregunta).",
)


_EXIT_CODES_EPILOG = "Códigos de salida: " + "; ".join(
    f"{code} {meaning}" for code, meaning in exit_codes.MEANINGS.items()
)


@dataclass
class _CliState:
    """What the ``main`` group leaves in the click context for its commands."""

    data_dir: Path | None = None
    settings: Settings | None = None
    company_nit: str | None = None


@click.group(
    cls=cli_spanish.SpanishGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=_EXIT_CODES_EPILOG + ".",
    invoke_without_command=True,
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="CARPETA",
    help="Carpeta de datos de fe-tui (diario de envíos, consecutivos…); también "
    "FE_TUI_DATA_DIR. Por defecto, la de la plataforma (~/.local/share/fe-tui).",
)
@click.option(
    "--company",
    "company_nit",
    default=None,
    metavar="NIT",
    help="Empresa que la consola abre (NIT sin DV); por defecto, la empresa actual.",
)
@click.version_option(package_name="fe-tui")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, company_nit: str | None) -> None:
    """fe-tui: facturación electrónica DIAN desde la terminal.

    Sin comando abre la consola sobre la carpeta de datos; `fe-tui demo` la abre
    sobre una empresa de demostración y el simulador local de la DIAN.
    """
    state = ctx.ensure_object(_CliState)
    state.data_dir = data_dir
    state.company_nit = company_nit
    if ctx.invoked_subcommand is None:
        open_console(company_nit=company_nit)


@handle_errors
def open_console(company_nit: str | None = None, settings: Settings | None = None) -> None:
    """Open the console (Textual is imported only now: the CLI stays fast without it)."""
    # A driver named by the environment draws elsewhere: `textual serve` runs the console
    # with pipes, not a terminal, and sets TEXTUAL_DRIVER to its web driver.
    driven = bool(os.environ.get("TEXTUAL_DRIVER"))
    if not driven and (not sys.stdin.isatty() or not sys.stdout.isatty()):
        from fe_tui.errors import InputError

        raise InputError(
            "La consola necesita una terminal; use `fe-tui --help` para los comandos."
        )
    from fe_tui.services.console import Workspace
    from fe_tui.store.db import Store
    from fe_tui.tui.app import run_console

    settings = settings or settings_from_context()
    code = run_console(
        company_nit=company_nit, workspace=Workspace(Store(settings.data_dir), settings)
    )
    if code:
        sys.exit(code)


def settings_from_context() -> Settings:
    """The :class:`~fe_tui.settings.Settings` of this run: ``--data-dir``, the ``FE_TUI_*``
    variables, the defaults. Loaded once per run, when a command first asks (so a bad
    variable is reported by that command, as one Spanish line)."""
    from fe_tui.settings import Settings

    ctx = click.get_current_context(silent=True)
    state = ctx.find_object(_CliState) if ctx is not None else None
    if state is None:
        return Settings.load()
    if state.settings is None:
        state.settings = Settings.load(state.data_dir)
    return state.settings


# -- cert ------------------------------------------------------------------------------------------
@main.group()
def cert() -> None:
    """Certificados digitales (PKCS#12)."""


@cert.command("info")
@click.argument("file", metavar="ARCHIVO", type=click.Path(dir_okay=False, path_type=Path))
@password_option
@json_option
@handle_errors
def cert_info(file: Path, password_env: str, as_json: bool) -> None:
    """Muestra titular, CA, NIT, vigencia y cadena de ARCHIVO.p12."""
    loaded = _load_certificate(file, password_env)
    info = loaded.info(datetime.now(UTC))
    # A check, like the others: exit 1 when this certificate cannot sign today.
    usable = info.is_valid and info.key_matches
    if as_json:
        _emit_json({"ok": usable, "certificate": info.model_dump(mode="json")})
        sys.exit(EXIT_OK if usable else EXIT_CHECK_FAILED)
    rows = [
        ("Titular", info.subject),
        ("Entidad (CA)", info.issuer),
        ("Serial", str(info.serial_number)),
        ("NIT", f"{info.nit} ({info.nit_source})" if info.nit else "no encontrado"),
        ("Válido desde", _colombian(info.not_before)),
        ("Válido hasta", _colombian(info.not_after)),
        ("Días restantes", str(info.days_left)),
        ("Estado", info.status),
        ("Llave y certificado", "coinciden" if info.key_matches else "NO coinciden"),
        ("Algoritmo", f"{info.key_type} {info.key_size} / {info.signature_hash_algorithm}"),
        ("Huella SHA-256", info.sha256_fingerprint),
    ]
    for label, value in rows:
        click.echo(f"{label:<20} {value}")
    for entry in info.chain:
        click.echo(f"{'Cadena':<20} {entry.subject} (vence {_colombian(entry.not_after)[:10]})")
    for warning in info.warnings:
        click.echo(f"Advertencia: {warning}")
    if not usable:
        click.echo("Este certificado no puede firmar hoy (vencido, aún no vigente o llave ajena).")
    sys.exit(EXIT_OK if usable else EXIT_CHECK_FAILED)


def _colombian(moment: datetime) -> str:
    """A moment as ``verify`` prints it: Colombian wall-clock time."""
    from fe_tui.domain.colombia import COLOMBIA_TZ

    return f"{moment.astimezone(COLOMBIA_TZ):%Y-%m-%d %H:%M:%S} (hora Colombia)"


# -- build -----------------------------------------------------------------------------------------
@main.command()
@click.argument("source", metavar="ARCHIVO", type=click.Path(dir_okay=False, path_type=Path))
@output_option("Archivo XML de salida (sin firmar).")
@click.option(
    "--now",
    "issue_now",
    is_flag=True,
    help="Usar la fecha y hora actuales de Colombia como emisión (p. ej. al reexpedir).",
)
@json_option
@handle_errors
def build(source: Path, output: Path, issue_now: bool, as_json: bool) -> None:
    """Construye el XML UBL 2.1 (sin firmar) desde un JSON (docs/invoice-json.md)."""
    from fe_tui.fileio import write_private
    from fe_tui.services import documents

    request = documents.load_request(source)
    if issue_now:
        request = documents.issued_now(request)
    result = documents.build(request)
    write_private(output, result.xml)
    doc = result.document
    if as_json:
        _emit_json(
            {
                "ok": True,
                "output": str(output),
                "document_type": doc.document_type,
                "id": doc.document_id,
                "uuid": doc.uuid,
                "uuid_scheme": doc.uuid_scheme,
                "payable": str(doc.totals.payable),
            }
        )
        return
    click.echo(f"{doc.document_id} ({doc.document_type}) → {output}")
    click.echo(f"{doc.uuid_scheme.split('-')[0]}: {doc.uuid}")
    click.echo(f"Total a pagar: {doc.totals.payable} | válido contra el XSD de la DIAN")


# -- sign ------------------------------------------------------------------------------------------
@main.command()
@click.argument("source", metavar="ARCHIVO", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--cert",
    "cert_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Certificado PKCS#12 (.p12/.pfx).",
)
@password_option
@output_option("Archivo XML firmado de salida.")
@click.option(
    "--role",
    type=click.Choice(["supplier", "third party"]),
    default="supplier",
    show_default=True,
    help="Rol del firmante (third party = proveedor tecnológico).",
)
@click.option(
    "--digest",
    type=click.Choice(["sha256", "sha384", "sha512"]),
    default="sha256",
    show_default=True,
    help="Algoritmo de resumen de la firma.",
)
@click.option(
    "--allow-other-date",
    is_flag=True,
    help="Firmar aunque la fecha de emisión no sea la de hoy (la DIAN lo rechaza).",
)
@json_option
@handle_errors
def sign(
    source: Path,
    cert_path: Path,
    password_env: str,
    output: Path,
    role: str,
    digest: str,
    allow_other_date: bool,
    as_json: bool,
) -> None:
    """Firma un XML DIAN con XAdES-EPES."""
    from fe_tui import xmlsafe
    from fe_tui.errors import SigningError
    from fe_tui.fileio import write_private
    from fe_tui.services import documents

    data, _ = xmlsafe.read_file(source)
    loaded = _load_certificate(cert_path, password_env)
    try:
        signed, warnings = documents.sign_xml_noting(
            data, loaded, role=role, digest=digest, check_issue_date=not allow_other_date
        )
    except SigningError as exc:
        if "signing_date" not in exc.fields:
            raise
        raise SigningError(
            f"{exc.message.removesuffix(' Genere el documento con la fecha de hoy.')} "
            f"Vuelva a construirlo con «fe-tui build ARCHIVO.json --now -o "
            f"{source.name}» (mismo número, fecha de hoy) o, solo para una prueba local, "
            "firme con --allow-other-date.",
            **exc.fields,
        ) from None
    write_private(output, signed)
    if as_json:
        _emit_json(
            {"ok": True, "output": str(output), "bytes": len(signed), "warnings": warnings}
        )
        return
    for warning in warnings:
        click.echo(f"Advertencia: {warning}", err=True)
    click.echo(f"Firmado → {output} ({len(signed)} bytes, {digest}, rol {role})")


# -- verify ----------------------------------------------------------------------------------------
@main.command()
@click.argument("file", metavar="ARCHIVO", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@handle_errors
def verify(file: Path, as_json: bool) -> None:
    """Verifica la firma XAdES de cualquier documento DIAN y explica qué falla."""
    from fe_tui.services.documents import verify_file

    parts = verify_file(file)
    valid = all(part.report.valid for part in parts)
    main_report = parts[0].report
    if as_json:
        data: dict[str, Any] = {"ok": valid, **main_report.to_dict()}
        if len(parts) > 1:
            data["embedded"] = [
                {"label": p.label, "ok": p.report.valid, **p.report.to_dict()} for p in parts[1:]
            ]
        _emit_json(data)
    else:
        for part in parts:
            state = "VÁLIDA" if part.report.valid else "NO VÁLIDA"
            click.echo(f"Firma: {state} — {file.name} ({part.label})")
            for check in part.report.checks:
                mark = {True: "ok ", False: "MAL", None: " ! "}[check.ok]
                click.echo(f"[{mark}] {check.message}")
            for sentence in part.report.diagnosis:
                click.echo(f"Diagnóstico: {sentence}")
            if len(parts) > 1:
                click.echo("")
    sys.exit(EXIT_OK if valid else EXIT_CHECK_FAILED)


# -- cufe ------------------------------------------------------------------------------------------
@main.command()
@click.argument("file", metavar="ARCHIVO", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--key",
    required=True,
    metavar="CLAVE_O_PIN",
    help="Clave técnica del rango (CUFE) o PIN del software (CUDE).",
)
@json_option
@handle_errors
def cufe(file: Path, key: str, as_json: bool) -> None:
    """Recalcula el CUFE/CUDE del documento y muestra cada componente."""
    from fe_tui.services.documents import check_uuid_file

    result = check_uuid_file(file, key)
    parts = result.components.parts()
    if as_json:
        _emit_json(
            {
                "ok": result.matches,
                "declared": result.declared,
                "computed": result.expected,
                "components": [
                    {"name": n, "value": "(oculta)" if n == "ClTec/PIN" else v} for n, v in parts
                ],
                "culprit": result.culprit,
                "explanation": result.explanation,
            }
        )
    else:
        for name, value in parts:
            shown = "(oculta)" if name == "ClTec/PIN" else value
            click.echo(f"{name:<13} {shown}")
        click.echo(f"{'Declarado':<13} {result.declared}")
        click.echo(f"{'Calculado':<13} {result.expected}")
        if result.matches:
            click.echo("Coincide.")
        else:
            click.echo(f"NO coincide. Componente: {result.culprit}. {result.explanation}.")
    sys.exit(EXIT_OK if result.matches else EXIT_CHECK_FAILED)


# -- dian ------------------------------------------------------------------------------------------
def dian_options(fn: F) -> F:
    """Options shared by the commands that talk to DIAN's web service."""
    options = [
        click.option(
            "--env",
            "env_key",
            type=click.Choice(["habilitacion", "produccion", "simulator"]),
            default=None,
            help="Ambiente DIAN (por defecto FE_TUI_ENV, o habilitacion); «simulator» es el "
            "simulador local (doble de pruebas).",
        ),
        click.option(
            "--url",
            default=None,
            help="URL del servicio (por defecto FE_TUI_DIAN_URL, o la del ambiente); para el "
            "simulador, p. ej. http://127.0.0.1:8089/WcfDianCustomerServices.svc.",
        ),
        click.option(
            "--cert",
            "cert_path",
            envvar="FE_TUI_CERT",
            type=click.Path(dir_okay=False, path_type=Path),
            required=True,
            help="PKCS#12 de la empresa (o del proveedor) que firma el encabezado WS-Security.",
        ),
        password_option,
        click.option(
            "--timeout",
            type=click.FloatRange(1, 600),
            default=None,
            help="Segundos de espera de la respuesta de la DIAN (por defecto FE_TUI_TIMEOUT, "
            "o 60).",
        ),
        json_option,
    ]

    @wraps(fn)
    def wrapper(
        *args: Any,
        env_key: str | None,
        url: str | None,
        cert_path: Path,
        password_env: str,
        timeout: float | None,
        as_json: bool,
        **kwargs: Any,
    ) -> Any:
        opts = DianCall(env_key, url, cert_path, password_env, timeout, as_json)
        return fn(*args, opts=opts, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


T = TypeVar("T")


@dataclass(frozen=True)
class DianCall:
    """The options every ``fe-tui dian`` command shares, and how such a command runs."""

    env_key: str | None
    url: str | None
    cert_path: Path
    password_env: str
    timeout: float | None
    as_json: bool

    def session(self, call: Callable[[DianSession], Any]) -> tuple[Environment, Any]:
        """Open a DIAN session (services.dian_ops.open_session) and run ``call(session)``
        (a coroutine function); returns the environment and what ``call`` returned."""
        import asyncio

        from fe_tui.dian.environments import resolve
        from fe_tui.services import dian_ops

        settings = settings_from_context()
        if self.timeout is not None:
            settings = settings.with_(read_timeout=self.timeout)
        environment = resolve(self.env_key or settings.environment, self.url or settings.dian_url)
        loaded = _load_certificate(self.cert_path, self.password_env)

        async def go() -> Any:
            async with dian_ops.open_session(environment, loaded, settings) as session:
                return await call(session)

        return environment, asyncio.run(go())

    def status_command(self, key: str) -> str:
        """The ``fe-tui dian status`` command line for ``key`` with the options of this run
        (data folder, environment, URL, certificate…), ready to copy and run."""
        import shlex

        ctx = click.get_current_context(silent=True)
        state = ctx.find_object(_CliState) if ctx is not None else None
        words = ["fe-tui"]
        if state is not None and state.data_dir is not None:
            words += ["--data-dir", str(state.data_dir)]
        words += ["dian", "status", key]
        if self.env_key:
            words += ["--env", self.env_key]
        if self.url:
            words += ["--url", self.url]
        words += ["--cert", str(self.cert_path)]
        if self.password_env != DEFAULT_PASSWORD_ENV:
            words += ["--password-env", self.password_env]
        if self.timeout is not None:
            words += ["--timeout", f"{self.timeout:g}"]
        return shlex.join(words)

    def runnable(self, text: str) -> str:
        """``text`` (a service's warning or note) with each bare ``fe-tui dian status KEY``
        hint replaced by the full command of :meth:`status_command`."""
        import re

        return re.sub(
            r"fe-tui dian status ([0-9a-fA-F]{96})(?![0-9a-fA-F])",
            lambda m: self.status_command(m.group(1)),
            text,
        )

    def finish(
        self,
        environment: Environment,
        outcome: Any,
        *,
        notes: tuple[str, ...] | list[str] = (),
        extra: dict[str, Any] | None = None,
        key: str | None = None,
    ) -> None:
        """Print ``outcome`` (text or ``--json``) and exit by it. ``key`` is the document's
        CUFE/CUDE (or the ZipKey): when DIAN gave no verdict, the command that asks for it
        is printed in full (``status_command`` in ``--json``)."""
        from fe_tui.services import dian_ops

        ask = (
            self.status_command(key)
            if key and getattr(outcome, "needs_status_check", False)
            else None
        )
        notes = [self.runnable(note) for note in notes]
        if self.as_json:
            _emit_json(
                {
                    "ok": dian_ops.exit_code(outcome) == 0,
                    "environment": {
                        "key": environment.key,
                        "label": environment.label,
                        "url": environment.url,
                    },
                    **dian_ops.outcome_to_dict(outcome),
                    **(extra or {}),
                    "notes": list(notes),
                    "status_command": ask,
                }
            )
        else:
            click.echo(f"Ambiente: {environment.label} — {environment.url}")
            _print_outcome(outcome, status_command=ask)
            for note in notes:
                click.echo(f"Nota: {note}")
        sys.exit(dian_ops.exit_code(outcome))

    def run(self, call: Callable[[DianSession], Any], *, key: str | None = None) -> None:
        """:meth:`session`, then :meth:`finish` with the outcome ``call`` returned."""
        environment, outcome = self.session(call)
        self.finish(environment, outcome, key=key)


def _print_outcome(outcome: Any, indent: str = "", *, status_command: str | None = None) -> None:
    from fe_tui.dian import outcomes as oc

    click.echo(f"{indent}{outcome.message}")
    _print_rules(getattr(outcome, "rules", []) or [], indent)
    if isinstance(outcome, oc.NumberingRanges):
        for r in outcome.response.ranges:
            click.echo(
                f"{indent}  Resolución {r.resolution_number} prefijo {r.prefix or '(sin prefijo)'} "
                f"{r.from_number}–{r.to_number}, vigente {r.valid_date_from} a {r.valid_date_to}, "
                f"clave técnica {r.technical_key or '(no trae)'}"
            )
    if isinstance(outcome, oc.BatchStatus):
        for item in outcome.items:
            _print_outcome(item, indent + "  ")
    if isinstance(outcome, oc.Queued):
        click.echo(f"{indent}ZipKey: {outcome.zip_key}")
    if isinstance(outcome, oc.Acquirer):
        click.echo(f"{indent}  Nombre registrado: {outcome.name or '(la DIAN no lo envió)'}")
        click.echo(f"{indent}  Correo de recepción: {outcome.email}")
    if getattr(outcome, "needs_status_check", False):
        if status_command:
            click.echo(f"{indent}La DIAN pudo recibirlo: antes de reenviar, consulte su estado:")
            click.echo(f"{indent}  {status_command}")
        else:
            click.echo(
                f"{indent}La DIAN pudo recibirlo: antes de reenviar, consulte su estado con "
                "fe-tui dian status y la clave del documento."
            )


def _print_rules(explained: Any, indent: str = "") -> None:
    """Each rule of a DIAN answer with what the catalogue says of it, as ``dian send`` and
    ``dian explain`` both print it: the entry itself, its invoice twin (CAJ24 → FAJ24) or
    its family; "sin ficha" only when the catalogue has nothing at all to say."""
    for rule in explained:
        click.echo(f"{indent}  [{rule.kind or '—'}] {rule.code or 'sin código'}: {rule.dian_text}")
        if rule.explanation:
            click.echo(f"{indent}      Qué revisa: {rule.explanation}")
        if rule.xpath:
            click.echo(f"{indent}      Dónde: {rule.xpath}")
        if rule.fix:
            click.echo(f"{indent}      Cómo corregir: {rule.fix}")
        if not (rule.explanation or rule.fix):
            click.echo(f"{indent}      (regla sin ficha en el catálogo; se muestra como llegó)")


@main.group()
def dian() -> None:
    """Web service de la DIAN: enviar documentos, consultar estado, rangos y adquirentes."""


@dian.command("status")
@click.argument("key", metavar="CUFE_O_ZIPKEY")
@dian_options
@handle_errors
def dian_status(
    key: str,
    opts: DianCall,
) -> None:
    """Estado de un documento en la DIAN por su CUFE/CUDE (GetStatus), o de un lote por ZipKey."""
    from fe_tui.services.dian_ops import check_key

    check_key(key)  # a key that cannot be one is refused before the certificate is opened
    opts.run(lambda session: session.status(key), key=key)


@dian.command("ranges")
@click.option("--nit", envvar="FE_TUI_NIT", required=True, help="NIT del emisor (sin DV).")
@click.option(
    "--provider-nit", default=None, help="NIT de quien consulta (por defecto, el emisor)."
)
@click.option(
    "--software-id",
    envvar="FE_TUI_SOFTWARE_ID",
    required=True,
    help="SoftwareID registrado en el portal.",
)
@dian_options
@handle_errors
def dian_ranges(
    nit: str,
    provider_nit: str | None,
    software_id: str,
    opts: DianCall,
) -> None:
    """Rangos de numeración y claves técnicas asociados al software (GetNumberingRange)."""
    opts.run(lambda session: session.ranges(nit, software_id, provider_nit))


@dian.command("acquirer")
@click.option(
    "--id-type",
    "id_type",
    required=True,
    help="Tipo de identificación del comprador (código DIAN): 31 NIT, 13 cédula, 22 cédula de "
    "extranjería, 41 pasaporte…",
)
@click.option("--id", "id_number", required=True, help="Número de identificación (el NIT sin DV).")
@dian_options
@handle_errors
def dian_acquirer(
    id_type: str,
    id_number: str,
    opts: DianCall,
) -> None:
    """Nombre y correo de recepción registrados del comprador (GetAcquirer); evita FAJ71."""
    opts.run(lambda session: session.acquirer(id_type, id_number))


@dian.command("send")
@click.argument("file", metavar="ARCHIVO", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--test-set-id",
    default=None,
    help="TestSetId del set de pruebas (habilitación): envía con SendTestSetAsync.",
)
@click.option(
    "--wait",
    type=click.FloatRange(0, 600),
    default=30.0,
    show_default=True,
    help="Con --test-set-id: segundos que se espera el resultado del lote.",
)
@dian_options
@handle_errors
def dian_send(
    file: Path,
    test_set_id: str | None,
    wait: float,
    opts: DianCall,
) -> None:
    """Envía un XML firmado (SendBillSync, o SendTestSetAsync con --test-set-id).

    El archivo se nombra (consecutivo) solo si se va a enviar; un reintento
    reenvía el mismo zip del diario de envíos.
    """
    from fe_tui import xmlsafe
    from fe_tui.dian.outcomes import outcome_to_dict

    data, _ = xmlsafe.read_file(file)
    environment, result = opts.session(
        lambda session: session.submit(data, test_set_id=test_set_id, wait=wait)
    )
    warnings = [opts.runnable(warning) for warning in result.warnings]
    for warning in warnings:
        click.echo(f"Advertencia: {warning}", err=True)
    if not opts.as_json:
        where = f" → {result.zip_name}" if result.zip_name else ""
        click.echo(f"{result.document_id}{where} (CUFE/CUDE {result.document_key})")
    check = result.status_check
    opts.finish(
        environment,
        result.outcome,
        notes=result.notes,
        extra={
            "document_key": result.document_key,
            "document_id": result.document_id,
            "document_type": result.document_type,
            "zip_name": result.zip_name,
            "submitted": result.sent,
            "status_check": outcome_to_dict(check) if check is not None else None,
            "warnings": warnings,
        },
        key=result.document_key,
    )


# -- simulator -------------------------------------------------------------------------------------
@main.command()
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8089,
    show_default=True,
    help="Puerto TCP donde escucha.",
)
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Solo direcciones locales (loopback)."
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Configuración JSON (emisores, software, rangos, sets de prueba, fallas). "
    "Por defecto, la de los ejemplos; vea --print-config.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Carpeta donde guardar el estado (por defecto, en memoria).",
)
@click.option("--accept-all", is_flag=True, help="Modo rápido: acepta todo (para benchmarks).")
@click.option("--print-config", is_flag=True, help="Imprime la configuración en JSON y sale.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Salida en JSON: al iniciar, una línea con la URL y lo que sabe el simulador.",
)
@handle_errors
def simulator(
    port: int,
    host: str,
    config_path: Path | None,
    state_dir: Path | None,
    accept_all: bool,
    print_config: bool,
    as_json: bool,
) -> None:
    """Simulador local del web service de la DIAN (doble de pruebas, no es la DIAN)."""
    from pydantic import ValidationError

    from fe_tui.domain.models import format_validation_error
    from fe_tui.errors import InputError
    from fe_tui.fileio import read_input
    from fe_tui.simulator.config import SimulatorConfig, demo_config
    from fe_tui.simulator.server import serve

    config = demo_config()
    if config_path is not None:
        raw = read_input(config_path, max_bytes=5 * 1024 * 1024, what="La configuración")
        try:
            config = SimulatorConfig.model_validate_json(raw)
        except ValidationError as exc:
            raise InputError(
                f"Configuración del simulador inválida ({config_path.name}):\n"
                + format_validation_error(exc)
            ) from None
    updates: dict[str, Any] = {}
    if state_dir is not None:
        updates["state_dir"] = state_dir
    if accept_all:
        updates["faults"] = config.faults.model_copy(update={"accept_all": True})
    if updates:
        config = config.model_copy(update=updates)
    if print_config:
        click.echo(config.model_dump_json(indent=2))
        return
    serve(port=port, host=host, config=config, as_json=as_json)


# -- check / dian explain (issue 13) ---------------------------------------------------------------
@main.command("check")
@click.argument("file", metavar="ARCHIVO", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--key",
    default=None,
    metavar="CLAVE_O_PIN",
    help="Clave técnica del rango (CUFE) o PIN del software (CUDE) para recalcular cbc:UUID.",
)
@click.option(
    "--company",
    "company_nit",
    default=None,
    metavar="NIT",
    help="Revisar también las reglas del registro (rango, software, PIN, NIT) con los datos "
    "de esta empresa en el almacén.",
)
@json_option
@handle_errors
def check_command(file: Path, key: str | None, company_nit: str | None, as_json: bool) -> None:
    """Revisa un documento como lo haría la DIAN, antes de enviarlo.

    XSD, firma, fechas, CUFE/CUDE (con --key, o la clave pública de habilitación),
    totales, tributos, líneas, listas de códigos y referencias de notas. Sale con 0
    si no hay Rechazo (puede listar Notificaciones), 1 con al menos un Rechazo, 2 si
    el archivo no se puede leer. Sin --company, las reglas que dependen del registro
    de la DIAN (rango, software, NIT habilitado) se listan como no verificables aquí;
    con --company se revisan con los datos locales de la empresa (su rango, clave
    técnica, software y PIN), y lo que solo la DIAN sabe (habilitación, correo del
    comprador) sigue como no verificable.
    """
    from fe_tui.services.checking import EXIT_UNREADABLE, check_file, describe

    registry = None
    if company_nit is not None:
        from fe_tui.services.registry import registry_for
        from fe_tui.store.db import Store

        registry = registry_for(Store(settings_from_context().data_dir), company_nit)
    report = check_file(file, key=key, registry=registry)
    code = EXIT_UNREADABLE if not report.readable else EXIT_OK if report.ok else EXIT_CHECK_FAILED
    if as_json:
        _emit_json(
            {
                **report.to_dict(),
                "company": registry.company.nit if registry is not None else None,
                "rechazos": [describe(f) for f in report.rechazos],
                "notificaciones": [describe(f) for f in report.notificaciones],
                "cannot_check": [describe(f) for f in report.cannot_check],
            }
        )
        sys.exit(code)
    facts = report.facts
    if facts is not None:
        click.echo(f"Documento {facts.document_id} (tipo {facts.document_type}) — {file.name}")
    if registry is not None:
        company = registry.company
        click.echo(f"Registro: datos locales de {company.label} (no el registro de la DIAN).")
        if facts is not None and facts.components.supplier_id != company.nit:
            click.echo(
                f"Atención: el emisor del documento es {facts.components.supplier_id}, no "
                f"{company.nit}; las reglas del registro quedan sin verificar."
            )
    for finding in [*report.rechazos, *report.notificaciones]:
        _print_finding(describe(finding))
    if report.ok:
        click.echo(
            f"Sin rechazos: {len(report.passed)} verificaciones superadas"
            + (
                f", {len(report.notificaciones)} notificación(es)."
                if report.notificaciones
                else "."
            )
        )
    else:
        click.echo(f"{len(report.rechazos)} rechazo(s): la DIAN no aceptaría este documento.")
    pending = sorted({f.code for f in report.cannot_check})
    if pending:
        click.echo(
            f"No verificables aquí (faltan datos del registro o la clave): {', '.join(pending)}."
        )
    sys.exit(code)


def _print_finding(item: dict[str, Any]) -> None:
    click.echo(item["dian_message"])
    if item["detail"]:
        click.echo(f"    En el documento: {item['detail']}")
    if item["explanation"]:
        click.echo(f"    Qué revisa: {item['explanation']}")
    if item["xpath"]:
        click.echo(f"    Dónde: {item['xpath']}")
    if item["value"]:
        click.echo(f"    Valor: {item['value']}")
    if item["fix"]:
        click.echo(f"    Cómo corregir: {item['fix']}")


@dian.command("explain")
@click.argument("file", metavar="ARCHIVO", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@handle_errors
def dian_explain(file: Path, as_json: bool) -> None:
    """Explica una respuesta de la DIAN guardada (sobre SOAP de cualquier operación o
    ApplicationResponse): veredicto, cada regla con su explicación y el estado del adjunto.

    Sale con 0 aceptado, 1 rechazado, 2 archivo ilegible, 3 sin veredicto.
    """
    from fe_tui.services.checking import explain_file

    answer = explain_file(file)
    if as_json:
        _emit_json({"ok": answer.verdict == "accepted", **answer.to_dict()})
        sys.exit(answer.exit_code)
    verdicts = {"accepted": "ACEPTADO", "rejected": "RECHAZADO", "no_verdict": "SIN VEREDICTO"}
    click.echo(f"Respuesta de {answer.operation}: {verdicts[answer.verdict]}")
    click.echo(answer.message)
    _print_rules(answer.rules)
    for line in answer.attachments:
        click.echo(f"Adjunto: {line}")
    sys.exit(answer.exit_code)


# The store and queue commands live in their own module and register themselves on ``main``.
# Command groups in their own modules register themselves on ``main`` when imported.
from fe_tui import cli_company as _cli_company  # noqa: E402, F401, I001
from fe_tui import cli_habilitacion as _cli_habilitacion  # noqa: E402, F401, I001
from fe_tui import cli_queue as _cli_queue  # noqa: E402, F401, I001

if __name__ == "__main__":  # pragma: no cover
    # ``python -m fe_tui.cli``: run the importable module's group, on which the other
    # command modules registered themselves (this file runs here as ``__main__``).
    from fe_tui.cli import main as _main

    _main()
