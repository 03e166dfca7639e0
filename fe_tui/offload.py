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

_EXECUTOR: contextvars.ContextVar[Executor | None] = contextvars.ContextVar(
    "fe_tui_offload_executor", default=None
)


async def to_thread(func: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """:func:`asyncio.to_thread`, on the pool of the enclosing :func:`dedicated` block if any."""
    executor = _EXECUTOR.get()
    if executor is None:
        return await asyncio.to_thread(func, *args, **kwargs)
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    call = functools.partial(context.run, func, *args, **kwargs)
    return await loop.run_in_executor(executor, call)


@contextlib.contextmanager
def dedicated(workers: int = 1, *, name: str = "fe-tui") -> Iterator[None]:
    """Run the :func:`to_thread` calls of this block (and of the tasks it creates) on a pool
    of ``workers`` threads of its own; the pool is shut down (after its work) on exit.

    Tasks created inside the block must be finished before it ends (a call made
    after the pool is shut down raises ``RuntimeError``).
    """
    pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix=name)
    token = _EXECUTOR.set(pool)
    try:
        yield
    finally:
        _EXECUTOR.reset(token)
        pool.shutdown(wait=True)
