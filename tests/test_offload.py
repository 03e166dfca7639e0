"""fe_tui.offload: a run's blocking work on its own threads, never on the event loop."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import traceback
from pathlib import Path
from typing import Any

import pytest

from fe_tui import offload

REQUEST = contextvars.ContextVar("request", default="none")


def where() -> tuple[str, str]:
    return threading.current_thread().name, REQUEST.get()


async def test_outside_a_block_it_is_asyncio_to_thread() -> None:
    REQUEST.set("outside")
    name, seen = await offload.to_thread(where)
    assert name != threading.current_thread().name
    assert not name.startswith("fe-tui")
    assert seen == "outside"  # the caller's context, as asyncio.to_thread
    name, _ = await offload.to_disk(where)
    assert not name.startswith("fe-tui")


async def test_a_block_and_the_tasks_it_creates_use_its_pools() -> None:
    loop_thread = threading.current_thread().name
    with offload.dedicated(1, 2, name="fe-tui-test"):
        REQUEST.set("inside")
        cpu, seen = await offload.to_thread(where)
        disk, _ = await offload.to_disk(where)

        async def child() -> tuple[str, str]:
            return await offload.to_thread(where)

        in_task, task_seen = await asyncio.create_task(child())
    assert cpu == in_task == "fe-tui-test_0"
    assert disk.startswith("fe-tui-test-disk_")
    assert seen == task_seen == "inside"
    assert loop_thread not in (cpu, disk)
    # After the block: back to the default executor.
    after, _ = await offload.to_thread(where)
    assert not after.startswith("fe-tui-test")


async def test_exceptions_come_back_to_the_caller() -> None:
    def fail() -> None:
        raise ValueError("no")

    with offload.dedicated():
        with pytest.raises(ValueError, match="no"):
            await offload.to_thread(fail)
        with pytest.raises(ValueError, match="no"):
            await offload.to_disk(fail)


async def test_one_worker_runs_the_calls_one_after_another() -> None:
    active = 0
    most = 0
    guard = threading.Lock()
    release = threading.Event()

    def work() -> None:
        nonlocal active, most
        with guard:
            active += 1
            most = max(most, active)
        release.wait(5)
        with guard:
            active -= 1

    with offload.dedicated(1):
        calls = [asyncio.create_task(offload.to_thread(work)) for _ in range(3)]
        await asyncio.sleep(0.05)
        release.set()
        await asyncio.gather(*calls)
    assert most == 1


async def test_a_queue_run_signs_and_writes_on_its_own_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Signing and preflight on the run's CPU worker, ledger and journal fsyncs on its disk
    pool; none of it on the event loop's thread."""
    import os

    from fe_tui.services import invoice_queue as iq
    from tests.test_queue import World, example

    world = World(tmp_path)
    seen: dict[str, set[str]] = {"sign": set(), "preflight": set(), "fsync": set()}

    def watch(name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            # The in-process simulator (DIAN's side) persists its own state: not ours.
            if not any("fe_tui/simulator/" in f.filename for f in traceback.extract_stack()):
                seen[name].add(threading.current_thread().name)
            return fn(*args, **kwargs)

        return wrapper

    loop_thread = threading.current_thread().name
    world.queue.add_many([example("factura")] * 3)
    monkeypatch.setattr(iq.documents, "sign_tree", watch("sign", iq.documents.sign_tree))
    monkeypatch.setattr(iq, "preflight", watch("preflight", iq.preflight))
    monkeypatch.setattr(os, "fsync", watch("fsync", os.fsync))
    summary = await world.run()
    assert summary.counts == {iq.ACCEPTED: 3}
    assert seen["sign"] == seen["preflight"] == {"fe-tui-queue_0"}
    assert seen["fsync"] and all(n.startswith("fe-tui-queue-disk_") for n in seen["fsync"])
    assert loop_thread not in seen["fsync"]
