"""A coroutine run on its own event loop in its own thread (the console's batches).

The queue engine and, in the demo, the in-process simulator do CPU work per document
(build, sign, preflight, the simulator's validation). On the console's event loop that
work would freeze the screen; :class:`BackgroundRun` gives it a loop of its own in a
thread, so the console's loop only draws and reads keys.

- The work is a coroutine *factory* ``work(stopping)``: it is called on the new loop
  (whatever it creates — locks, sessions, the simulator — belongs to that loop) and is
  handed ``stopping()``, true once :meth:`BackgroundRun.stop` was called: the queue
  engine takes it as ``until`` and starts no new document after it (those in flight
  finish), so a stop always falls on a document boundary.
- :meth:`BackgroundRun.abort` also cancels the coroutine: what was in flight stays as the
  journal recorded it (``sending`` is reconciled by the next run: the engine is crash-safe
  by design).
- :meth:`BackgroundRun.wait` awaits the result from another event loop (the console's);
  :meth:`BackgroundRun.join` blocks (a thread, or the end of the process).

No Textual here: progress goes out through whatever callback the work was given (the
console posts it as a message, which Textual makes thread-safe).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import os
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class RunAborted(Exception):
    """The work was cancelled by :meth:`BackgroundRun.abort` (what :meth:`~BackgroundRun.wait`
    raises then)."""


class BackgroundRun(Generic[T]):
    """``work(stopping)`` run to its end on a private event loop in a (non-daemon) thread.

    ``nice``: how much lower the run's threads are scheduled than the caller's (Linux
    per-thread niceness; 0 leaves it alone; ignored where the OS has no such thing).
    ``workers``: the threads of the run's loop's default executor (``asyncio.to_thread``).
    While any run is active the objects that existed before it are frozen out of the
    garbage collector (see :func:`_freeze`).
    """

    def __init__(
        self,
        work: Callable[[Callable[[], bool]], Coroutine[Any, Any, T]],
        *,
        name: str = "fe-tui-background",
        nice: int = 10,
        workers: int = 2,
    ) -> None:
        self._work = work
        self._nice = nice
        self._workers = max(1, workers)
        self._stop = threading.Event()
        self._future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[T] | None = None
        self._ready = threading.Lock()  # guards _loop, _task and _aborted between threads
        self._aborted = False
        # Not a daemon: the interpreter waits for the run at exit, so a stop (ctrl+q, a
        # lost terminal) lets the documents in flight finish and be journaled.
        self._thread = threading.Thread(target=self._main, name=name, daemon=False)

    def start(self) -> BackgroundRun[T]:
        """Start the thread; returns ``self``."""
        self._thread.start()
        return self

    # -- the thread ------------------------------------------------------------------------------
    def _main(self) -> None:
        if not self._future.set_running_or_notify_cancel():
            return
        _freeze(True)
        try:
            result = asyncio.run(self._run())
        except asyncio.CancelledError:
            self._future.set_exception(RunAborted())
        except BaseException as exc:  # handed to whoever waits, not lost
            self._future.set_exception(exc)
        else:
            self._future.set_result(result)
        finally:
            _freeze(False)

    async def _run(self) -> T:
        # The work's own threads (this one and its loop's executor: build, sign, check…)
        # yield the CPU to the console's: with the GIL shared, the scheduler then hands
        # the interpreter back to the thread that draws and reads keys first.
        # Few of them: every extra thread busy with Python code is one more in the GIL's
        # queue in front of the console's loop (and a 2-core box gains nothing from it).
        _lower_priority(self._nice)
        asyncio.get_running_loop().set_default_executor(
            concurrent.futures.ThreadPoolExecutor(
                self._workers,
                thread_name_prefix=f"{self._thread.name}-hilo",
                initializer=_lower_priority,
                initargs=(self._nice,),
            )
        )
        with self._ready:
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.current_task()  # type: ignore[assignment]
            aborted = self._aborted
        if aborted:
            raise asyncio.CancelledError
        refreeze = asyncio.create_task(_refreeze())
        try:
            return await self._work(self.stopping)
        finally:
            refreeze.cancel()

    # -- control, from any thread ----------------------------------------------------------------
    def stopping(self) -> bool:
        """Has a stop been asked (the work should start nothing new)."""
        return self._stop.is_set()

    def stop(self) -> None:
        """Ask the work to stop at the next document boundary (returns at once)."""
        self._stop.set()

    def abort(self) -> None:
        """Stop and cancel the work now (what is in flight is left as journaled)."""
        with self._ready:
            self._aborted = True
            self._stop.set()
            loop, task = self._loop, self._task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed already: the work is over
                loop.call_soon_threadsafe(task.cancel)

    def done(self) -> bool:
        """Has the work ended (result, error or cancellation)."""
        return self._future.done()

    async def wait(self) -> T:
        """The work's result (or its exception), awaited from another event loop."""
        return await asyncio.wrap_future(self._future)

    def join(self, timeout: float | None = None) -> bool:
        """Block until the thread ends (at most ``timeout`` s); ``True`` when it ended."""
        if self._thread.ident is None:
            return True  # never started
        self._thread.join(timeout)
        return not self._thread.is_alive()


def _lower_priority(nice: int) -> None:
    """Lower this thread's scheduling priority by ``nice`` (Linux: threads have their own)."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return
    with contextlib.suppress(OSError):
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))


_frozen = 0
_frozen_lock = threading.Lock()
#: How often a run moves what it made so far out of the collector's full passes (s).
REFREEZE_SECONDS = 1.0


async def _refreeze() -> None:
    """Every :data:`REFREEZE_SECONDS`, freeze again: the run's own survivors (its ledger,
    the simulator's state) would otherwise make each full pass longer as the batch goes."""
    while True:
        await asyncio.sleep(REFREEZE_SECONDS)
        with _frozen_lock:
            if _frozen:
                gc.freeze()


def _freeze(start: bool) -> None:
    """Keep the objects older than the active runs out of full collections while they work.

    A batch makes garbage fast, so the collector's oldest generation runs every few
    seconds; over the console's whole heap (Textual, the models, the ledger's records)
    each pass held the GIL for ~100 ms, every thread stopped. ``gc.freeze()`` moves what
    exists now to the permanent generation: passes during the run only look at what the
    run made since the last freeze (:func:`_refreeze`). The last run to end gives them
    back (``gc.unfreeze()``) to the collector: cyclic garbage frozen meanwhile is
    collected then, not lost.
    """
    global _frozen
    with _frozen_lock:
        if start:
            _frozen += 1
            gc.freeze()
        else:
            _frozen -= 1
            if _frozen == 0:
                gc.unfreeze()
