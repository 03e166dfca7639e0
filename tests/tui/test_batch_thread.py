"""The Cola pane's batch runs on its own loop in a thread (issue 12, event-loop stalls).

Behaviour, not time: a DIAN transport that *blocks its thread* until the test lets it go
shows that the console keeps working while the batch is stuck in the middle of a send
(with the batch on the console's loop the keys would wait for it), and that ctrl+q in
the middle of a batch closes the console without losing a document.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from fe_tui.services.console import Workspace
from fe_tui.services.invoice_queue import ACCEPTED, READY, InvoiceQueue
from fe_tui.services.sessions import in_process_simulator, open_company_session
from fe_tui.settings import Settings
from fe_tui.store.db import Store
from fe_tui.tui.app import FeConsole
from fe_tui.tui.modals import HelpModal
from fe_tui.tui.panes.certificate import CertificatePane
from fe_tui.tui.panes.queue import QueuePane
from tests.tui.conftest import demo_workspace


class GatedTransport(httpx.AsyncBaseTransport):
    """The in-process simulator behind a gate: after ``free`` requests, each one blocks the
    thread that sends it (a ``threading.Event``, not an await) until :attr:`gate` is set."""

    def __init__(self, inner: httpx.AsyncBaseTransport, free: int = 0) -> None:
        self.inner = inner
        self.free = free
        self.requests = 0
        self.blocked = threading.Event()
        self.gate = threading.Event()
        self.threads: set[str] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        self.threads.add(threading.current_thread().name)
        if self.requests > self.free and not self.gate.is_set():
            self.blocked.set()
            assert self.gate.wait(timeout=60), "the test never opened the gate"
        return await self.inner.handle_async_request(request)


async def wait_until(pilot: object, condition: object, rounds: int = 400) -> bool:
    """Let the console run until ``condition()`` holds (bounded; no time is asserted)."""
    for _ in range(rounds):
        if condition():  # type: ignore[operator]
            return True
        await pilot.pause(0.05)  # type: ignore[attr-defined]
    return bool(condition())  # type: ignore[operator]


async def settle(app: FeConsole, pilot: object) -> None:
    await pilot.pause()  # type: ignore[attr-defined]
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]


async def run_the_rest(
    ws: Workspace, queue: InvoiceQueue, transport: httpx.AsyncBaseTransport
) -> None:
    """What a next ``queue run`` does after the console closed: the queue, reopened from
    disk (``queue``), run to its end on ``transport`` with the session's certificate."""
    company = queue.company
    cert = ws.load_certificate(company, ws.known_password(company))
    async with open_company_session(
        queue.store, queue.settings, company, cert, transport=transport
    ) as session:
        await queue.run(session, cert)


async def test_the_console_answers_keys_while_a_batch_is_stuck_in_a_send(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path, documents=4)
    company = ws.current()
    assert company is not None
    gated = GatedTransport(in_process_simulator(ws.store, company, ws.settings))
    app = FeConsole(ws, refresh_seconds=0, transport=gated)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        pane = app.screen.query_one(QueuePane)
        await pilot.press("e")
        assert await wait_until(pilot, gated.blocked.is_set)
        # The batch is stuck inside a send, its thread blocked: the console still works.
        assert pane.running
        await pilot.press("1")
        assert app.focused_pane() is app.screen.query_one(CertificatePane)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpModal) and app.screen.help_title == "Certificado"
        await pilot.press("escape", "4")
        assert app.focused_pane() is pane and pane.running
        gated.gate.set()
        assert await wait_until(pilot, lambda: not pane.running)
        await pilot.pause()
        assert {r.state for r in pane.table.rows} == {ACCEPTED}
        assert pane.last_progress is not None and pane.last_progress.done == 4
    # The sends came from the batch's own thread, not the console's.
    assert threading.main_thread().name not in gated.threads
    assert all(name.startswith("fe-tui-lote-") for name in gated.threads)


async def test_quitting_in_the_middle_of_a_batch_loses_no_document(tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path, documents=20)
    company = ws.current()
    assert company is not None
    before = InvoiceQueue(ws.store, company, ws.settings).ledger
    numbers = sorted(r.number for r in before.docs.values() if r.number is not None)
    assert len(numbers) == 20
    gated = GatedTransport(in_process_simulator(ws.store, company, ws.settings), free=3)
    app = FeConsole(ws, refresh_seconds=0, transport=gated)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        pane = app.screen.query_one(QueuePane)
        await pilot.press("e")
        assert await wait_until(pilot, gated.blocked.is_set)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert pane.running  # closing waits for the documents in flight
        gated.gate.set()
        await app.workers.wait_for_complete()
        run = pane.background
        assert run is not None and run.join(timeout=60)
    assert app.return_code == 0

    # Reopened from disk: every document is there, none half-sent, numbers untouched.
    settings = Settings.load(ws.settings.data_dir, env={})
    store = Store(settings.data_dir)
    queue = InvoiceQueue(store, company, settings)
    docs = queue.ledger.docs.values()
    states = [r.state for r in docs]
    assert len(states) == 20
    assert set(states) <= {ACCEPTED, READY}, states
    assert 3 <= states.count(ACCEPTED) < 20  # it stopped at a document boundary, mid-batch
    assert sorted(r.number for r in docs if r.number is not None) == numbers
    assert all(r.cufe for r in docs if r.state == ACCEPTED)

    # The next run sends the rest, under the same numbers.
    await run_the_rest(ws, queue, in_process_simulator(store, company, settings))
    after = InvoiceQueue(store, company, settings).ledger.docs.values()
    assert {r.state for r in after} == {ACCEPTED}
    assert sorted(r.number for r in after if r.number is not None) == numbers


async def test_a_second_ctrl_q_cancels_the_batch_and_nothing_reaches_dian_twice(
    tmp_path: Path,
) -> None:
    from fe_tui.services.sessions import simulator_config_for
    from fe_tui.simulator import create_app

    ws = demo_workspace(tmp_path, documents=10)
    company = ws.current()
    assert company is not None
    numbers = sorted(
        r.number
        for r in InvoiceQueue(ws.store, company, ws.settings).ledger.docs.values()
        if r.number is not None
    )
    # One simulator for the console's batch and for the next run: it counts every send.
    sim = create_app(simulator_config_for(ws.store, company, ws.settings))
    gated = GatedTransport(httpx.ASGITransport(app=sim), free=3)
    app = FeConsole(ws, refresh_seconds=0, transport=gated)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        pane = app.screen.query_one(QueuePane)
        await pilot.press("e")
        assert await wait_until(pilot, gated.blocked.is_set)
        await pilot.press("ctrl+q")  # first: stop at a document boundary
        await pilot.pause()
        await pilot.press("ctrl+q")  # second: now
        gated.gate.set()
        await app.workers.wait_for_complete()
        run = pane.background
        assert run is not None and run.join(timeout=60)
    assert app.return_code == 0

    settings = Settings.load(ws.settings.data_dir, env={})
    store = Store(settings.data_dir)
    queue = InvoiceQueue(store, company, settings)
    docs = list(queue.ledger.docs.values())
    assert len(docs) == 10 and any(r.state != ACCEPTED for r in docs)
    assert sorted(r.number for r in docs if r.number is not None) == numbers

    # The next run reconciles what was on its way (GetStatus first) and sends the rest once.
    await run_the_rest(ws, queue, httpx.ASGITransport(app=sim))
    after = InvoiceQueue(store, company, settings).ledger.docs.values()
    assert {r.state for r in after} == {ACCEPTED}
    assert sorted(r.number for r in after if r.number is not None) == numbers
    documents = sim.state.summary()["documents"]
    assert documents["max_sends_per_document"] == 1, documents
    assert documents["sends_total"] == 10, documents
