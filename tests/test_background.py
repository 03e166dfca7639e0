"""services/background.BackgroundRun and the simulator's cross-loop state lock."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from fe_tui.services.background import BackgroundRun, RunAborted
from fe_tui.simulator.app import _StateLock


async def test_the_work_runs_on_its_own_loop_in_its_own_thread() -> None:
    here = asyncio.get_running_loop()

    async def work(stopping: Callable[[], bool]) -> tuple[str, bool]:
        assert asyncio.get_running_loop() is not here
        return threading.current_thread().name, stopping()

    run = BackgroundRun(work, name="prueba").start()
    assert await run.wait() == ("prueba", False)
    assert run.done() and run.join(timeout=10)


async def test_stop_is_seen_by_the_work_and_it_finishes_what_it_was_doing() -> None:
    started = threading.Event()
    steps: list[int] = []

    async def work(stopping: Callable[[], bool]) -> list[int]:
        started.set()
        n = 0
        while not stopping():
            n += 1
            steps.append(n)
            await asyncio.sleep(0.001)
        return steps

    run = BackgroundRun(work).start()
    assert await asyncio.to_thread(started.wait, 10)
    run.stop()
    assert await run.wait() == steps


async def test_abort_cancels_the_work() -> None:
    started = threading.Event()

    async def work(stopping: Callable[[], bool]) -> None:
        started.set()
        await asyncio.sleep(3600)

    run = BackgroundRun(work).start()
    assert await asyncio.to_thread(started.wait, 10)
    run.abort()
    with pytest.raises(RunAborted):
        await run.wait()
    assert run.join(timeout=10)


async def test_errors_reach_whoever_waits() -> None:
    async def work(stopping: Callable[[], bool]) -> None:
        raise ValueError("roto")

    with pytest.raises(ValueError, match="roto"):
        await BackgroundRun(work).start().wait()


def _contend(lock: _StateLock, log: list[str], tag: str) -> None:
    """Two tasks of one fresh loop take ``lock`` in turn, awaiting inside it."""

    async def task(n: int) -> None:
        async with lock:
            log.append(f"{tag}{n}+")
            await asyncio.sleep(0.005)
            log.append(f"{tag}{n}-")

    async def main() -> None:
        await asyncio.gather(task(1), task(2))

    asyncio.run(main())


def test_the_simulator_lock_serves_one_loop_after_another() -> None:
    # An asyncio.Lock waited on in one loop raises in the next (bound to the first).
    lock = _StateLock()
    log: list[str] = []
    _contend(lock, log, "a")
    _contend(lock, log, "b")
    assert log == ["a1+", "a1-", "a2+", "a2-", "b1+", "b1-", "b2+", "b2-"]


def test_the_simulator_lock_excludes_loops_in_other_threads() -> None:
    lock = _StateLock()
    log: list[str] = []
    threads = [threading.Thread(target=_contend, args=(lock, log, t)) for t in "xy"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(log) == 8
    # Every holder leaves before the next one enters, whichever loop it belongs to.
    for enter, leave in zip(log[::2], log[1::2], strict=True):
        assert enter.endswith("+") and leave == enter[:-1] + "-"
