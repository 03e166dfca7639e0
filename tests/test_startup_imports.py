"""The console's first frame must not wait for the signing/DIAN stack (issue 12, start-up)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "fe_tui.services.invoice_queue",
    "fe_tui.checks",
    "fe_tui.crypto.certificates",
    "fe_tui.dian.outcomes",
    "cryptography",
    "lxml",
    "httpx",
)


def test_opening_the_console_does_not_import_the_signing_stack() -> None:
    code = (
        "import json, sys\n"
        "import fe_tui.services.console, fe_tui.tui.app, fe_tui.settings, fe_tui.store.db\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == []


def test_the_queue_engine_re_exports_the_light_states() -> None:
    from fe_tui.services import invoice_queue, queue_states

    for name in ("STATES", "STATE_LABELS", "FINAL", "ACTIVE", "ATTENTION", "HELD", "DRAFT"):
        assert getattr(invoice_queue, name) is getattr(queue_states, name)
