"""A data directory with the demo company, for the console's tests (fixed clock and dates)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from fe_tui.domain.models import COLOMBIA_TZ
from fe_tui.services.console import Workspace
from fe_tui.services.demo import create_demo_company
from fe_tui.services.invoice_queue import InvoiceQueue
from fe_tui.settings import Settings
from fe_tui.store.db import Store
from fe_tui.tui.app import FeConsole
from tests.conftest import EXAMPLES

#: The fixed instant of screenshots and snapshots.
FIXED_NOW = datetime(2026, 12, 3, 9, 30, tzinfo=COLOMBIA_TZ)


def example(name: str = "factura") -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def demo_workspace(
    root: Path, *, documents: int = 0, clock: Callable[[], datetime] | None = None
) -> Workspace:
    """The demo company in ``root`` with ``documents`` invoices ready (dated by ``clock``)."""
    settings = Settings.load(root / "datos", env={})
    store = Store(settings.data_dir)
    made = create_demo_company(store, settings)
    if documents:
        queue = InvoiceQueue(store, made.company, settings, clock=clock or (lambda: FIXED_NOW))
        data = example()
        for _ in range(documents):
            queue.add(data)
    if clock is None:
        return Workspace(store, settings)
    return Workspace(store, settings, clock=clock)


def locked(ws: Workspace) -> Workspace:
    """The demo certificate installed as a customer's would be (the console must ask)."""
    from fe_tui.services.company_certs import install_certificate
    from fe_tui.services.demo import DEMO_CERT_PASSWORD

    company = ws.current()
    assert company is not None
    demo = ws.certificate_path(company)
    assert demo is not None
    target = demo.with_name("empresa.p12")
    shutil.copyfile(demo, target)
    install_certificate(ws.store, company, target, DEMO_CERT_PASSWORD, copy=False)
    assert ws.known_password(company) is None
    return ws


@pytest.fixture(autouse=True)
def _truecolor_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests (and their snapshots) run as on a truecolor terminal, whatever TERM the runner
    has: with ``TERM=xterm`` Textual detects 16 colours and the console then takes its
    16-colour theme (``tui.app.theme_for``), which its own test asks for."""
    from textual import constants

    monkeypatch.setattr(constants, "COLOR_SYSTEM", "truecolor")


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.delenv("FE_TUI_CERT_PASSWORD", raising=False)
    return demo_workspace(tmp_path, documents=3)


@pytest.fixture
def console(workspace: Workspace) -> FeConsole:
    return FeConsole(workspace, refresh_seconds=0)
