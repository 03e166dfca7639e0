"""Click in Spanish: help, usage errors and Click's own texts, for every command.

Two pieces, both applied once, centrally, so that a command added later reads
in Spanish without doing anything:

* :func:`install` gives Click a Spanish catalogue. Click marks every text it
  shows (``Usage:``, ``Options``, ``Show this message and exit.``,
  ``[required]``, ``default: …``, ``Missing option``, ``File … is a
  directory.``…) with :mod:`gettext`; :func:`install` points the ``_`` and
  ``ngettext`` names of Click's modules at :data:`CATALOGUE`. Texts missing from
  the catalogue fall back to Click's English (``tests/test_cli_spanish.py``
  renders every command's help and common usage errors and fails on English).
* :class:`SpanishGroup` is the class of ``fe-tui`` itself. Its ``command_class``
  and ``group_class`` make every ``@main.command()`` / ``@main.group()`` (and
  their subcommands) a :class:`SpanishCommand` / :class:`SpanishGroup`, with
  Spanish placeholders (``[OPCIONES]``, ``COMANDO``), Spanish type names in the
  help, and a usage error printed as **one** Spanish line on stderr with exit
  code :data:`fe_tui.exit_codes.USAGE` (Click prints usage, a hint and the error
  on three lines).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import click
import click.core
import click.decorators
import click.exceptions
import click.formatting
import click.parser
import click.termui
import click.types

from fe_tui import exit_codes

#: Click's message ids → Spanish. Plural forms are keyed by the singular id and
#: hold a (singular, plural) pair. Developer-only texts (bad decorators) stay English.
CATALOGUE: dict[str, str | tuple[str, str]] = {
    # help
    "Usage:": "Uso:",
    "Options": "Opciones",
    "Positional arguments": "Argumentos",
    "Commands": "Comandos",
    "Show this message and exit.": "Muestra esta ayuda y sale.",
    "Show the version and exit.": "Muestra la versión y sale.",
    "%(prog)s, version %(version)s": "%(prog)s, versión %(version)s",
    "env var: {var}": "variable de entorno: {var}",
    "default: {default}": "por defecto: {default}",
    "(dynamic)": "(calculado)",
    "required": "obligatorio",
    "deprecated": "obsoleto",
    "Do you want to continue?": "¿Desea continuar?",
    "Confirm the action without prompting.": "Confirma la acción sin preguntar.",
    # usage errors
    "Error: {message}": "Error: {message}",
    "Try '{command} {option}' for help.": "Vea «{command} {option}».",
    "Invalid value: {message}": "valor no válido: {message}",
    "Invalid value for {param_hint}: {message}": "valor no válido para {param_hint}: {message}",
    "Missing argument": "falta el argumento",
    "Missing option": "falta la opción obligatoria",
    "Missing parameter": "falta el parámetro",
    "Missing {param_type}": "falta {param_type}",
    "Missing parameter: {param_name}": "falta el parámetro {param_name}",
    "Missing command.": "falta el comando.",
    "No such option {name!r}.": "no existe la opción {name!r}.",
    "No such command {name!r}.": "no existe el comando {name!r}.",
    "Did you mean {possibility}?": (
        "¿Quiso decir {possibility}?",
        "¿Quiso decir una de {possibilities}?",
    ),
    "Got unexpected extra argument ({args})": (
        "sobra un argumento ({args})",
        "sobran argumentos ({args})",
    ),
    "Takes {nargs} values but 1 was given.": (
        "espera {nargs} valores y se dio 1.",
        "espera {nargs} valores y se dieron {len}.",
    ),
    "Value must be an iterable.": "el valor debe ser una lista.",
    "unknown error": "error desconocido",
    "Could not open file {filename!r}: {message}": "no se pudo abrir {filename!r}: {message}",
    "Invalid start character for option ({option})": (
        "carácter inicial no válido para una opción ({option})"
    ),
    "Argument {name!r} takes {nargs} values.": "el argumento {name!r} recibe {nargs} valores.",
    "Option {name!r} does not take a value.": "la opción {name!r} no lleva valor.",
    "Option {name!r} requires an argument.": (
        "a la opción {name!r} le falta su valor.",
        "a la opción {name!r} le faltan sus {nargs} valores.",
    ),
    "Aborted!": "Interrumpido.",
    "Repeat for confirmation": "Repita para confirmar",
    "Error: The two entered values do not match.": "Error: los dos valores no coinciden.",
    "Error: invalid input": "Error: entrada no válida",
    "Press any key to continue...": "Pulse una tecla para continuar…",
    # parameter types
    "Choose from:\n\t{choices}": "Valores posibles: {choices}",
    "{value!r} is not {choice}.": (
        "{value!r} no es {choice}.",
        "{value!r} no es uno de {choices}.",
    ),
    "{value!r} does not match the format {format}.": (
        "{value!r} no tiene el formato {format}.",
        "{value!r} no tiene ninguno de los formatos {formats}.",
    ),
    "{value!r} is not a valid {number_type}.": "{value!r} no es un número válido.",
    "{value} is not in the range {range}.": "{value} está fuera del rango {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}": (
        "{value!r} no es un sí/no válido; valores reconocidos: {states}"
    ),
    "{value!r} is not a valid UUID.": "{value!r} no es un UUID válido.",
    "file": "archivo",
    "directory": "carpeta",
    "path": "ruta",
    "{name} {filename!r} does not exist.": "{name} {filename!r} no existe.",
    "{name} {filename!r} is a file.": "{filename!r} es un archivo; se esperaba una carpeta.",
    "{name} {filename!r} is a directory.": "{filename!r} es una carpeta; se esperaba un archivo.",
    "{name} {filename!r} is not readable.": "sin permiso para leer {filename!r}.",
    "{name} {filename!r} is not writable.": "sin permiso para escribir {filename!r}.",
    "{name} {filename!r} is not executable.": "{filename!r} no es ejecutable.",
    "{len_type} values are required, but {len_value} was given.": (
        "se esperan {len_type} valores y se dio {len_value}.",
        "se esperan {len_type} valores y se dieron {len_value}.",
    ),
}

#: Click's type names as shown in help (``--timeout FLOAT RANGE``) → Spanish.
_METAVARS = (
    (re.compile(r"\bFLOAT RANGE\b"), "NÚMERO"),
    (re.compile(r"\bINTEGER RANGE\b"), "ENTERO"),
    (re.compile(r"\bFLOAT\b"), "NÚMERO"),
    (re.compile(r"\bINTEGER\b"), "ENTERO"),
    (re.compile(r"\bTEXT\b"), "TEXTO"),
    (re.compile(r"\bBOOLEAN\b"), "SÍ/NO"),
    (re.compile(r"\bFILENAME\b"), "ARCHIVO"),
    (re.compile(r"\bDIRECTORY\b"), "CARPETA"),
)


def gettext(message: str) -> str:
    """Click's ``_``: the Spanish text of ``message``, or ``message`` itself."""
    found = CATALOGUE.get(message)
    if found is None:
        return message
    return found if isinstance(found, str) else found[0]


def ngettext(singular: str, plural: str, n: int) -> str:
    """Click's ``ngettext``: the Spanish singular or plural, or Click's English."""
    found = CATALOGUE.get(singular)
    if found is None:
        return singular if n == 1 else plural
    if isinstance(found, str):
        return found
    return found[0] if n == 1 else found[1]


_CLICK_MODULES = (
    click.core,
    click.decorators,
    click.exceptions,
    click.formatting,
    click.parser,
    click.termui,
    click.types,
)


def install() -> None:
    """Point Click's translation functions at :data:`CATALOGUE` (idempotent)."""
    for module in _CLICK_MODULES:
        if hasattr(module, "_"):
            module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]


def spanish_metavars(text: str) -> str:
    """Replace Click's English type names (``TEXT``, ``FLOAT RANGE``…) in help text."""
    for pattern, spanish in _METAVARS:
        text = pattern.sub(spanish, text)
    return text


def one_line(text: str) -> str:
    """Collapse Click's multi-line texts (``Choose from:\\n\\t…``) into one line."""
    return " ".join(text.split())


class SpanishFormatter(click.HelpFormatter):
    """Help formatter that writes Spanish type names in the option list."""

    def write_dl(
        self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        rows = [(spanish_metavars(term), text) for term, text in rows]
        super().write_dl(rows, col_max=col_max, col_spacing=col_spacing)


class SpanishContext(click.Context):
    """Context whose help formatter is :class:`SpanishFormatter`."""

    formatter_class = SpanishFormatter


class SpanishCommand(click.Command):
    """A command whose help and usage read in Spanish."""

    context_class = SpanishContext

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[OPCIONES]")
        super().__init__(*args, **kwargs)


class SpanishGroup(click.Group):
    """A group whose subcommands and subgroups are Spanish too; usage errors in one line."""

    context_class = SpanishContext
    command_class = SpanishCommand
    #: ``type`` means "subgroups are of the same class as this group" (Click ≥ 8.0).
    group_class = type

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[OPCIONES]")
        kwargs.setdefault("subcommand_metavar", "COMANDO [ARGUMENTOS]...")
        super().__init__(*args, **kwargs)

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the CLI; a usage error is one Spanish line on stderr and exit code 2."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            # ``fe-tui dian`` alone: the group's help, as Click does (a usage error all the same).
            click.echo(exc.ctx.get_help(), err=True)
            sys.exit(exit_codes.USAGE)
        except click.ClickException as exc:
            click.echo(usage_error_line(exc), err=True)
            sys.exit(exit_codes.USAGE)
        except click.Abort:
            click.echo("Interrumpido.", err=True)
            sys.exit(exit_codes.INTERRUPTED)
        # Without standalone mode Click returns the code of ``ctx.exit()`` (``--help``,
        # ``--version``) or the command's return value.
        sys.exit(result if isinstance(result, int) else exit_codes.OK)


def usage_error_line(exc: click.ClickException) -> str:
    """One Spanish line for a Click usage error, with where to find help."""
    message = one_line(exc.format_message())
    message = message[:1].upper() + message[1:]
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        message += f" Vea «{ctx.command_path} --help»."
    return f"Error: {message}"
