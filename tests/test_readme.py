"""README.md's shell examples run as written (issue 14, item 1).

Every ```bash block of the README is run, in order, in one bash session inside a
temporary folder that holds a link to ``examples/`` (so ``examples/factura.json``
and ``bash examples/walkthrough.sh`` resolve as they do from a clone). What is not run:

* the setup steps of a line (``python3 -m venv``, ``. .venv/bin/activate``,
  ``pip install``): the tests already run inside the installed package;
* ``pytest`` (this very suite);
* ``fe-tui demo`` without ``--no-ui``: it opens the console, which needs a terminal;
  ``tests/tui/test_demo_tmux.py`` runs it in a real one (tmux) and reads the screen.

Every command must exit 0 unless its line ends in a comment ``# código N``. The
simulator's port 8089 is swapped for a free one (other runs may hold 8089).
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
_BLOCK = re.compile(r"^```bash\n(.*?)^```", re.S | re.M)
_EXPECTED = re.compile(r"#\s*código\s+(\d+)\b")
_SETUP = ("python3 -m venv", ". .venv/bin/activate", "pip install", "pytest")
_INTERACTIVE = re.compile(r"^fe-tui demo(?!.*--no-ui)\s*$")


def blocks() -> list[str]:
    return _BLOCK.findall(README.read_text(encoding="utf-8"))


def commands(block: str) -> list[str]:
    """The block's commands: continuation lines joined, setup steps left out."""
    joined = re.sub(r"\\\n\s*", " ", block)
    result = []
    for line in joined.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [
            p
            for p in line.split(" && ")
            if not p.strip().startswith(_SETUP) and not _INTERACTIVE.match(p.strip())
        ]
        if parts:
            result.append(" && ".join(parts))
    return result


def script(port: int) -> str:
    lines = ["set -u", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT"]
    for block in blocks():
        for command in commands(block):
            command = command.replace("8089", str(port))
            if command.rstrip().endswith("&") or command.startswith(("export ", "kill ")):
                lines.append(command)
                continue
            match = _EXPECTED.search(command)
            expected = match.group(1) if match else "0"
            shown = shlex.quote(command)
            lines.append(command)
            lines.append(
                f'rc=$?; if [ "$rc" != {expected} ]; then '
                f"printf 'README: %s salió con %s (se esperaba {expected})\\n' "
                f'{shown} "$rc" >&2; '
                "exit 99; fi"
            )
    return "\n".join(lines) + "\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_readme_has_the_examples_the_issue_names() -> None:
    text = "\n".join(blocks())
    assert "fe-tui build examples/factura.json" in text  # the "Ejemplo" block
    assert "bash examples/walkthrough.sh" in text
    assert "fe-tui simulator" in text
    # The first command is the console on the demo company (issue 12, item 6).
    assert blocks()[0].strip().endswith("&& fe-tui demo"), blocks()[0]
    for block in blocks():
        assert commands(block) or "pytest" in block or "fe-tui demo" in block, block


def test_readme_examples_run_as_written(tmp_path: Path) -> None:
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    bindir = str(Path(sys.executable).parent)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("FE_TUI_") and key not in ("VIRTUAL_ENV",)
    }
    env.update(
        HOME=str(tmp_path / "home"),
        FE_TUI_STATE_DIR=str(tmp_path / "estado"),
        PATH=f"{bindir}{os.pathsep}{env.get('PATH', '')}",
        FE_TUI_SIM_PORT=str(_free_port()),  # the walkthrough's own simulator
    )
    (tmp_path / "home").mkdir()
    body = script(_free_port())
    proc = subprocess.run(
        ["bash", "-c", body],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"exit {proc.returncode}\n{proc.stderr[-3000:]}\n{proc.stdout[-3000:]}")
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "factura-firmada.xml").exists()
    assert "Coincide." in proc.stdout
    assert "ha sido autorizada" in proc.stdout
    # The walkthrough's queue part: both examples numbered, checked, sent and accepted.
    assert re.search(r"SETP990000000 +01 +aceptada", proc.stdout), proc.stdout[-2000:]
    assert re.search(r"SETP990000001 +01 +aceptada", proc.stdout), proc.stdout[-2000:]
    # Its workflows part: the demo company's test set goes through the queue and is accepted.
    assert re.search(r"Set de pruebas \S+ aceptado por la DIAN", proc.stdout), proc.stdout[-2000:]
    assert "Doctor — Tostadora Andina" in proc.stdout
