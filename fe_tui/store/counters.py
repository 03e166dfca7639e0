"""File-name consecutives: per issuer, per year and per file type (SPEC §6, §15.7).

DIAN file names end in an 8-digit hexadecimal consecutive that counts the
files an issuer sent in the year. It must never repeat, including across
processes (a CLI run while the console is open), so the counter file is
locked with ``fcntl.flock`` while it is read, incremented and replaced
atomically. One small JSON file suffices: there is one counter per issuer,
year and type, and an increment rewrites a few hundred bytes.

Concurrent :meth:`FileCounters.anext` calls of one event loop are coalesced:
the calls that arrive while a write is in flight are served by the next one
(one lock, one replace and one fsync for all of them, each caller still gets
its own consecutive, in order, and the file is durable before any of them is
returned). The counter never advances for a number nobody asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from fe_tui import offload
from fe_tui.errors import CounterError
from fe_tui.fileio import private_dir, write_private


def default_state_dir() -> Path:
    """The state folder of :class:`fe_tui.settings.Settings` (``FE_TUI_STATE_DIR``, else the
    data folder). Kept for callers that have no settings object at hand."""
    from fe_tui.settings import Settings

    return Settings.load().state_dir


class FileCounters:
    """Consecutives for DIAN file names, safe across processes."""

    def __init__(self, state_dir: Path | None = None, *, legacy: Path | None = None) -> None:
        self.dir = state_dir or default_state_dir()
        self.path = self.dir / "file-counters.json"
        #: the counters file of an older state folder: a new file starts from its values
        self.legacy = legacy / "file-counters.json" if legacy is not None else None
        #: per event loop: callers waiting for the next coalesced write
        self._waiting: dict[
            asyncio.AbstractEventLoop, list[tuple[tuple[str, int, str], asyncio.Future[int]]]
        ] = {}
        self._writers: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, int]]:
        try:
            private_dir(self.dir)
            fd = os.open(self.dir / ".file-counters.lock", os.O_RDWR | os.O_CREAT, 0o600)
            os.fchmod(fd, 0o600)  # os.open's mode is filtered by the umask
        except OSError as exc:
            raise CounterError(
                f"No se puede usar la carpeta de estado {self.dir}: {exc.strerror}."
            ) from None
        with os.fdopen(fd, "r+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                data: dict[str, int] = json.loads(self.path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                data = self._legacy_values()
            except (OSError, ValueError):
                raise CounterError(
                    f"El archivo de consecutivos {self.path} está dañado; revíselo antes de "
                    "enviar (los nombres de archivo no deben repetirse)."
                ) from None
            yield data
            write_private(self.path, json.dumps(data, indent=1, sort_keys=True).encode())

    def _legacy_values(self) -> dict[str, int]:
        """The older folder's counters (empty when there are none): never reuse a file name."""
        if self.legacy is None or self.legacy == self.path:
            return {}
        try:
            raw = json.loads(self.legacy.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            raise CounterError(
                f"El archivo de consecutivos anterior {self.legacy} está dañado; revíselo antes "
                "de enviar (los nombres de archivo no deben repetirse)."
            ) from None
        if not isinstance(raw, dict):
            return {}
        return {str(k): v for k, v in raw.items() if isinstance(v, int) and v > 0}

    def next(self, nit: str, year: int, kind: str) -> int:
        """Reserve and return the next consecutive (1, 2, …) for ``kind`` ("fv", "nc", "z"…)."""
        key = f"{nit}/{year}/{kind}"
        with self._locked() as data:
            value = data.get(key, 0) + 1
            data[key] = value
        return value

    def next_many(self, keys: Sequence[tuple[str, int, str]]) -> list[int]:
        """:meth:`next` for each ``(nit, year, kind)``, in order, under one lock and one write."""
        values = []
        with self._locked() as data:
            for nit, year, kind in keys:
                key = f"{nit}/{year}/{kind}"
                value = data.get(key, 0) + 1
                data[key] = value
                values.append(value)
        return values

    async def anext(self, nit: str, year: int, kind: str) -> int:
        """:meth:`next` in a thread (it locks and fsyncs), coalesced with concurrent calls."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        self._waiting.setdefault(loop, []).append(((nit, year, kind), future))
        writer = self._writers.get(loop)
        if writer is None or writer.done():
            self._writers[loop] = loop.create_task(self._drain(loop))
        return await future

    async def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            while self._waiting.get(loop):
                batch = self._waiting.pop(loop)
                try:
                    values = await offload.to_disk(self.next_many, [k for k, _ in batch])
                except BaseException as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                    continue
                for (_, future), value in zip(batch, values, strict=True):
                    if not future.done():
                        future.set_result(value)
        finally:
            self._writers.pop(loop, None)

    def peek(self, nit: str, year: int, kind: str) -> int:
        """The last consecutive used (0 if none)."""
        with self._locked() as data:
            return data.get(f"{nit}/{year}/{kind}", 0)
