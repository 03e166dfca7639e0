"""Snapshot tests of the console: the main screen and its key modals at 80×24 and 120×40.

Deterministic on purpose: the demo company in a temporary folder, the console's
clock fixed at :data:`~tests.tui.conftest.FIXED_NOW`, the demo certificate issued
at that same instant (so its days left never move), no cursor blink, no toasts.
Nothing of the temporary folder reaches the screen (a test says so). Update with
``pytest tests/tui/test_snapshots.py --snapshot-update`` after looking at the
report.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.widgets import Input

from fe_tui.crypto import certificates
from fe_tui.services.console import Workspace
from fe_tui.services.demo import DEMO_CERT_PASSWORD
from fe_tui.services.documents import load_certificate
from fe_tui.services.invoice_queue import InvoiceQueue
from fe_tui.services.sessions import open_company_session, simulator_config_for
from fe_tui.simulator import create_app
from fe_tui.tui.app import FeConsole
from tests.test_queue import FAST
from tests.tui.conftest import FIXED_NOW, demo_workspace, example

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


class _FixedDatetime(datetime):
    """``datetime`` whose ``now`` is :data:`FIXED_NOW` (the demo certificate's issue time)."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> Any:  # type: ignore[override]
        return FIXED_NOW if tz is None else FIXED_NOW.astimezone(tz)


def snapshot_workspace(root: Path, *, sent: int = 0) -> Workspace:
    """The demo company, three ready invoices (and ``sent`` more accepted), fixed clock."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(certificates, "datetime", _FixedDatetime)
        ws = demo_workspace(root, documents=0, clock=lambda: FIXED_NOW)
    company = ws.current()
    assert company is not None
    queue = InvoiceQueue(
        ws.store, company, ws.settings, clock=lambda: FIXED_NOW, policy=FAST, rng=random.Random(3)
    )
    if sent:
        for _ in range(sent):
            queue.add(example())
        path = ws.certificate_path(company)
        assert path is not None
        cert = load_certificate(path, DEMO_CERT_PASSWORD)
        sim = create_app(simulator_config_for(ws.store, company, ws.settings))

        async def send() -> None:
            async with open_company_session(
                ws.store, ws.settings, company, cert, transport=httpx.ASGITransport(app=sim)
            ) as session:
                await queue.run(session, cert)

        asyncio.run(send())
    for name in ("factura", "factura-consumidor-final", "factura"):
        queue.add(example(name))
    return ws


def steady(*keys: str, then: Callable[[Any], Awaitable[None]] | None = None) -> Any:
    """``run_before``: settle the start-up, press ``keys``, drop toasts and cursor blink."""

    async def run_before(pilot: Any) -> None:
        app = pilot.app
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
        if then is not None:
            await then(pilot)
        await app.workers.wait_for_complete() if not app.screen.is_modal else None
        await pilot.pause()
        for widget in app.screen.query(Input):
            widget.cursor_blink = False
        app.clear_notifications()
        await pilot.pause()

    return run_before


def console(root: Path, **kw: Any) -> FeConsole:
    return FeConsole(snapshot_workspace(root, **kw), refresh_seconds=0)


@pytest.mark.parametrize("size", SIZES)
def test_main_screen(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(console(tmp_path), terminal_size=size, run_before=steady())


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(console(tmp_path), terminal_size=size, run_before=steady("f1"))


@pytest.mark.parametrize("size", SIZES)
def test_command_palette(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    async def type_query(pilot: Any) -> None:
        await pilot.press(*"cola")
        await pilot.pause(0.3)

    run = steady("ctrl+p", then=type_query)
    assert snap_compare(console(tmp_path), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_company_switcher(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    assert snap_compare(console(tmp_path), terminal_size=size, run_before=steady("ctrl+e"))


@pytest.mark.parametrize("size", SIZES)
def test_void_with_reason(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    run = steady("v", *"venta cancelada", "end")
    assert snap_compare(console(tmp_path), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_certificate_unlock(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    from tests.tui.conftest import locked

    app = FeConsole(locked(snapshot_workspace(tmp_path)), refresh_seconds=0)
    assert snap_compare(app, terminal_size=size, run_before=steady("1", "u", *"secreto"))


@pytest.mark.parametrize("size", SIZES)
def test_certificate_install(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    run = steady("1", "i", *"/srv/certificados/empresa.p12")
    assert snap_compare(console(tmp_path), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES)
def test_document_detail(snap_compare: Any, tmp_path: Path, size: tuple[int, int]) -> None:
    run = steady("4", "end", "enter")
    assert snap_compare(console(tmp_path, sent=1), terminal_size=size, run_before=run)


def test_no_temporary_folder_reaches_the_screen(tmp_path: Path) -> None:
    app = console(tmp_path, sent=1)
    screens: list[str] = []

    async def walk() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await steady()(pilot)
            screens.append(app.export_screenshot())
            for keys in (("f1",), ("escape", "end", "enter"), ("escape", "1", "f1")):
                for key in keys:
                    await pilot.press(key)
                await pilot.pause()
                screens.append(app.export_screenshot())

    asyncio.run(walk())
    assert len(screens) == 4
    for svg in screens:
        assert tmp_path.name not in svg and "/tmp" not in svg
