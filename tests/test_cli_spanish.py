"""Every command's help and Click's usage errors read in Spanish, on one line (issue 14, item 3).

The commands are found by walking ``main``, so a command added later is checked too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from fe_tui import exit_codes
from fe_tui.cli import main
from fe_tui.cli_spanish import SpanishCommand, SpanishGroup

#: Click's English boilerplate; none of it may reach the user.
ENGLISH = re.compile(
    r"Usage:|Options:|Commands:|Show this message|Show the version|\[required\]|default:|"
    r"env var:|Missing |Invalid value|No such|Try '|Did you mean|is a directory|"
    r"does not exist|is not one of|is not a valid|\b(?:TEXT|INTEGER|FLOAT|PATH|FILE|FILENAME|"
    r"OPTIONS|COMMAND|ARGS|SOURCE|KEY|BOOLEAN)\b"
)


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name)


COMMANDS = list(_commands(main))


def test_every_command_is_of_the_spanish_classes() -> None:
    """``command_class``/``group_class`` reach every level, so later commands inherit them."""
    assert len(COMMANDS) > 8

    def walk(command: click.Command) -> Iterator[click.Command]:
        yield command
        if isinstance(command, click.Group):
            for sub in command.commands.values():
                yield from walk(sub)

    for command in walk(main):
        assert isinstance(command, SpanishCommand | SpanishGroup), command.name

    @main.command("zz-probe")
    @click.argument("archivo")
    def probe(archivo: str) -> None:
        """Prueba."""

    try:
        assert isinstance(main.commands["zz-probe"], SpanishCommand)
        result = CliRunner().invoke(main, ["zz-probe"])
        assert result.exit_code == exit_codes.USAGE
        assert result.output.strip().startswith("Error: Falta el argumento")
    finally:
        del main.commands["zz-probe"]


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "fe-tui")
def test_help_reads_in_spanish(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Uso: "), result.output
    assert "Opciones:" in result.output
    assert "Muestra esta ayuda y sale." in result.output
    english = ENGLISH.findall(result.output)
    assert not english, f"{' '.join(path)} --help: {english}\n{result.output}"
    # Every option explains itself (in Spanish, above).
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"{' '.join(path)} {param.opts}: sin ayuda"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["verify", "/tmp"], "'/tmp' es una carpeta; se esperaba un archivo"),
        (["dian", "send", "x.xml"], "Falta la opción obligatoria '--cert'"),
        (["build"], "Falta el argumento 'ARCHIVO'"),
        (["no-such-command"], "No existe el comando 'no-such-command'"),
        (["build", "--nw"], "No existe la opción '--nw'. ¿Quiso decir una de '--json', '--now'?"),
        (["sign", "x.xml", "--digest", "md5"], "'md5' no es uno de 'sha256'"),
        (["simulator", "--port", "abc"], "'abc' no es un número válido"),
        (["simulator", "--port", "0"], "0 está fuera del rango 1<=x<=65535"),
        (["cufe", "x.xml", "--key"], "A la opción '--key' le falta su valor"),
        (["verify", "a.xml", "b.xml"], "Sobra un argumento (b.xml)"),
    ],
)
def test_usage_errors_are_one_spanish_line(args: list[str], expected: str) -> None:
    result = CliRunner().invoke(main, args, env={"FE_TUI_CERT": None})
    assert result.exit_code == exit_codes.USAGE
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ") and expected in lines[0], lines[0]
    assert not ENGLISH.findall(lines[0]), lines[0]


def test_group_without_subcommand_shows_its_help() -> None:
    result = CliRunner().invoke(main, ["dian"])
    assert result.exit_code == exit_codes.USAGE
    assert result.output.startswith("Uso: ") and "Comandos:" in result.output


def test_version_in_spanish() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and "versión" in result.output


def test_exit_codes_are_distinct_and_documented() -> None:
    from pathlib import Path

    values = [
        exit_codes.OK,
        exit_codes.CHECK_FAILED,
        exit_codes.USAGE,
        exit_codes.NO_VERDICT,
        exit_codes.INTERNAL,
        exit_codes.STORAGE,
        exit_codes.INTERRUPTED,
    ]
    assert len(set(values)) == len(values)
    assert set(exit_codes.MEANINGS) == set(values)
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for code in values:
        assert f"**{code}**" in readme, code
    help_text = CliRunner().invoke(main, ["--help"]).output
    assert "70 error interno" in " ".join(help_text.split())


def test_an_unexpected_failure_is_not_no_verdict(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    """A crash exits 70, never 3 (a script retrying on "no verdict" must not retry bugs)."""
    from fe_tui.services import documents

    def boom(_path: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(documents, "load_request", boom)
    result = CliRunner().invoke(main, ["build", "x.json", "-o", "x.xml"])
    assert result.exit_code == exit_codes.INTERNAL == 70
    assert result.output.startswith("Error inesperado") and len(result.output.splitlines()) == 1
