"""The console's first frame must not wait for the signing/DIAN stack (issue 12, start-up).

Nor for pydantic and the domain models: the first frame shows the company from its raw
record (:meth:`Workspace.heading`); the models are imported by the thread that reads the
company's panes after that frame.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = (
    "pydantic",
    "fe_tui.domain.models",
    "fe_tui.domain.company",
    "fe_tui.services.sessions",
    "fe_tui.services.company_certs",
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


def test_building_the_console_and_its_header_does_not_import_them(tmp_path: Path) -> None:
    from fe_tui.services.demo import create_demo_company
    from fe_tui.settings import Settings
    from fe_tui.store.db import Store

    settings = Settings.load(tmp_path / "datos", env={})
    create_demo_company(Store(settings.data_dir), settings)
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from fe_tui.services.console import Workspace\n"
        "from fe_tui.settings import Settings\n"
        "from fe_tui.store.db import Store\n"
        "from fe_tui.tui.app import FeConsole, header_text\n"
        f"settings = Settings.load(Path({str(settings.data_dir)!r}), env={{}})\n"
        "app = FeConsole(Workspace(Store(settings.data_dir), settings))\n"
        "print(json.dumps([header_text(app.heading), app.loading,\n"
        f"    [m for m in {HEAVY!r} if m in sys.modules]]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    header, loading, imported = json.loads(out)
    assert header.startswith("SIMULADOR · ") and "(900373076-4)" in header
    assert loading is True
    assert imported == []


def test_the_queue_engine_re_exports_the_light_states() -> None:
    from fe_tui.services import invoice_queue, queue_states

    for name in ("STATES", "STATE_LABELS", "FINAL", "ACTIVE", "ATTENTION", "HELD", "DRAFT"):
        assert getattr(invoice_queue, name) is getattr(queue_states, name)
