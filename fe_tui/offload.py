"""Blocking work off the event loop: :func:`to_thread`, on a run's own worker thread when set.

The store, the journal, the counters, the DIAN client and the queue engine send
their blocking work (fsync, signing, parsing, verifying) here instead of calling
:func:`asyncio.to_thread` directly. Outside a :func:`dedicated` block it *is*
:func:`asyncio.to_thread` (the loop's default executor). Inside one, the work of
that block (and of every task created in it: the context variable is copied with
the task) goes to the block's own small pool.

Why: that work is Python holding the GIL most of the time. With the default
executor (up to ``cpu_count + 4`` threads) a batch keeps several threads runnable
at once; they only take turns on the GIL, and the hand-offs cost CPU of their own
(measured in ``bench/queue.py``: about a quarter of the queue's CPU per document
on a 2-core machine). One worker thread beside the loop does the same work with
less CPU, and the loop itself never runs it.

A task in the pool never waits for another task of the same pool (every call is
self-contained: it takes its locks and releases them before it returns), so one
worker cannot deadlock.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

#: (CPU pool, disk pool) of the enclosing :func:`dedicated` block.
_POOLS: contextvars.ContextVar[tuple[Executor, Executor] | None] = contextvars.ContextVar(
    "fe_tui_offload_pools", default=None
)


async def _run(executor: Executor, func: Callable[..., R], *args: object, **kwargs: object) -> R:
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    call = functools.partial(context.run, func, *args, **kwargs)
    return await loop.run_in_executor(executor, call)


async def to_thread(func: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """:func:`asyncio.to_thread`, on the CPU pool of the enclosing :func:`dedicated` block
    if any: signing, parsing, checking, reading small files."""
    pools = _POOLS.get()
    if pools is None:
        return await asyncio.to_thread(func, *args, **kwargs)
    return await _run(pools[0], func, *args, **kwargs)


async def to_disk(func: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """:func:`to_thread` for work that mostly waits on the disk (writes with fsync), on the
    block's disk pool: a fsync releases the GIL, and the CPU worker is not kept waiting."""
    pools = _POOLS.get()
    if pools is None:
        return await asyncio.to_thread(func, *args, **kwargs)
    return await _run(pools[1], func, *args, **kwargs)


@contextlib.contextmanager
def dedicated(
    workers: int = 1, disk_workers: int = 2, *, name: str = "fe-tui"
) -> Iterator[None]:
    """Run the :func:`to_thread` calls of this block (and of the tasks it creates) on a pool
    of ``workers`` threads of its own, and its :func:`to_disk` calls on ``disk_workers``
    more; both pools are shut down on exit.

    Tasks created inside the block must be finished before it ends (a call made
    after the pools are shut down raises ``RuntimeError``). The exit never blocks
    the event loop: work already handed to a pool (only a cancelled run leaves
    some) still runs to its end in its thread, as with :func:`asyncio.to_thread`,
    and then the threads end.
    """
    cpu = ThreadPoolExecutor(max(1, workers), thread_name_prefix=name)
    disk = ThreadPoolExecutor(max(1, disk_workers), thread_name_prefix=f"{name}-disk")
    token = _POOLS.set((cpu, disk))
    try:
        yield
    finally:
        _POOLS.reset(token)
        cpu.shutdown(wait=False)
        disk.shutdown(wait=False)
