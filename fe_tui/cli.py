"""Scriptable command line over the services (Click).

Exit codes, the same for every command:

- 0: success;
- 1: the check ran and failed (signature does not hold, CUFE differs…);
- 2: usage or input error (bad JSON, wrong password, unreadable file…).

Every command takes ``--json`` for machine-readable output. Errors are one
Spanish line on stderr, never a traceback.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from fe_tui.errors import FeError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_CHECK_FAILED, EXIT_INPUT, EXIT_UNEXPECTED = 0, 1, 2, 3
DEFAULT_PASSWORD_ENV = "FE_TUI_CERT_PASSWORD"


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def handle_errors(fn: F) -> F:
    """Turn fe-tui errors into one Spanish line and the family's exit code."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        as_json = kwargs.get("as_json", False)
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
            sys.exit(130)
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


json_option = click.option("--json", "as_json", is_flag=True, help="Salida en JSON.")
password_option = click.option(
    "--password-env",
    default=DEFAULT_PASSWORD_ENV,
    show_default=True,
    metavar="VAR",
    help="Variable de entorno con la contraseña del PKCS#12 (si no existe, se pregunta).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fe-tui")
def main() -> None:
    """fe-tui: facturación electrónica DIAN desde la terminal."""


# -- cert ------------------------------------------------------------------------------------------
@main.group()
def cert() -> None:
    """Certificados digitales (PKCS#12)."""


@cert.command("info")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@password_option
@json_option
@handle_errors
def cert_info(file: Path, password_env: str, as_json: bool) -> None:
    """Muestra titular, CA, NIT, vigencia y cadena de FILE.p12."""
    from fe_tui.services.documents import load_certificate

    loaded = load_certificate(file, _password(password_env))
    info = loaded.info(datetime.now(UTC))
    if as_json:
        _emit_json({"ok": True, "certificate": info.model_dump(mode="json")})
        return
    rows = [
        ("Titular", info.subject),
        ("Entidad (CA)", info.issuer),
        ("Serial", str(info.serial_number)),
        ("NIT", f"{info.nit} ({info.nit_source})" if info.nit else "no encontrado"),
        ("Válido desde", f"{info.not_before:%Y-%m-%d %H:%M} UTC"),
        ("Válido hasta", f"{info.not_after:%Y-%m-%d %H:%M} UTC"),
        ("Días restantes", str(info.days_left)),
        ("Estado", info.status),
        ("Llave y certificado", "coinciden" if info.key_matches else "NO coinciden"),
        ("Algoritmo", f"{info.key_type} {info.key_size} / {info.signature_hash_algorithm}"),
        ("Huella SHA-256", info.sha256_fingerprint),
    ]
    for label, value in rows:
        click.echo(f"{label:<20} {value}")
    for entry in info.chain:
        click.echo(f"{'Cadena':<20} {entry.subject} (vence {entry.not_after:%Y-%m-%d})")
    for warning in info.warnings:
        click.echo(f"Advertencia: {warning}")


# -- build -----------------------------------------------------------------------------------------
@main.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Archivo XML de salida (sin firmar).",
)
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
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--cert",
    "cert_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Certificado PKCS#12 (.p12/.pfx).",
)
@password_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
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
    from fe_tui.fileio import write_private
    from fe_tui.services import documents

    data, _ = xmlsafe.read_file(source)
    loaded = documents.load_certificate(cert_path, _password(password_env))
    signed = documents.sign_xml(
        data, loaded, role=role, digest=digest, check_issue_date=not allow_other_date
    )
    write_private(output, signed)
    if as_json:
        _emit_json({"ok": True, "output": str(output), "bytes": len(signed)})
        return
    click.echo(f"Firmado → {output} ({len(signed)} bytes, {digest}, rol {role})")


# -- verify ----------------------------------------------------------------------------------------
@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@handle_errors
def verify(file: Path, as_json: bool) -> None:
    """Verifica la firma XAdES de cualquier documento DIAN y explica qué falla."""
    from fe_tui.services.documents import verify_file

    report = verify_file(file)
    if as_json:
        _emit_json({"ok": report.valid, **report.to_dict()})
    else:
        click.echo(f"Firma: {'VÁLIDA' if report.valid else 'NO VÁLIDA'} — {file.name}")
        for check in report.checks:
            mark = {True: "ok ", False: "MAL", None: " ! "}[check.ok]
            click.echo(f"[{mark}] {check.message}")
        for sentence in report.diagnosis:
            click.echo(f"Diagnóstico: {sentence}")
    sys.exit(EXIT_OK if report.valid else EXIT_CHECK_FAILED)


# -- cufe ------------------------------------------------------------------------------------------
@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
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


if __name__ == "__main__":  # pragma: no cover
    main()
