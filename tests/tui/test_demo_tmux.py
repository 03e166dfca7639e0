"""``fe-tui demo`` in a real terminal (tmux, 80×24), as an agent over SSH runs it.

The README's first command: the console opens on the demo company with the
simulator's label in the header, the four panes and a footer; ``ctrl+q`` quits
cleanly (no traceback left on the screen).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux no instalado")


def _tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", *args], capture_output=True, text=True, check=True, timeout=30
    ).stdout


def _wait_for(session: str, text: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _tmux("capture-pane", "-p", "-t", session)
        if text in screen:
            return screen
        time.sleep(0.3)
    raise AssertionError(f"{text!r} no apareció en la pantalla:\n{screen}")


def test_fe_tui_demo_opens_the_console_in_a_real_terminal(tmp_path: Path) -> None:
    session = f"fe-tui-{uuid.uuid4().hex[:8]}"
    done = tmp_path / "rc"
    bindir = Path(sys.executable).parent
    env = " ".join(
        f"{k}={v}"
        for k, v in {
            "PATH": f"{bindir}:{os.environ.get('PATH', '')}",
            "HOME": str(tmp_path),
            "TERM": "xterm-256color",
        }.items()
    )
    # Textual draws on stderr: it stays the terminal; what is left on screen after the
    # exit is read for a traceback.
    command = f"env {env} fe-tui demo; echo $? > {done}; sleep 30"
    _tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24", command)
    try:
        _wait_for(session, "VIGENTE")  # the panes are filled from the demo company's store
        screen = _wait_for(session, "SIMULADOR")
        # The footer shows the focused pane's keys; "Comandos" (ctrl+p) is always there.
        for text in ("Certificado", "Habilitación", "Resoluciones", "Cola", "Comandos", "SETP"):
            assert text in screen, screen
        _tmux("send-keys", "-t", session, "C-q")
        deadline = time.monotonic() + 20
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert done.exists(), _tmux("capture-pane", "-p", "-t", session)
        assert done.read_text().strip() == "0"
        after = _tmux("capture-pane", "-p", "-t", session)
        assert "Traceback" not in after, after
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False, timeout=30)
