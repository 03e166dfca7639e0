"""File-name consecutives: concurrent requests share one locked write (issue 10, performance)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fe_tui.store import counters as counters_mod
from fe_tui.store.counters import FileCounters


async def test_concurrent_consecutives_are_distinct_in_order_and_share_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[bytes] = []
    real = counters_mod.write_private

    def counted(path: Path, data: bytes) -> Path:
        writes.append(data)
        return real(path, data)

    monkeypatch.setattr(counters_mod, "write_private", counted)
    counters = FileCounters(tmp_path)
    values = await asyncio.gather(*(counters.anext("900373076", 2026, "z") for _ in range(40)))
    assert sorted(values) == list(range(1, 41)) and values == sorted(values)
    assert 1 <= len(writes) < 40
    # Another key in the same batches keeps its own count; a fresh instance reads the file.
    mixed = await asyncio.gather(
        counters.anext("900373076", 2026, "z"), counters.anext("900373076", 2026, "fv")
    )
    assert mixed == [41, 1]
    assert FileCounters(tmp_path).peek("900373076", 2026, "z") == 41


async def test_a_failed_write_fails_every_waiting_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(path: Path, data: bytes) -> Path:
        raise counters_mod.CounterError("disco lleno")

    monkeypatch.setattr(counters_mod, "write_private", broken)
    counters = FileCounters(tmp_path)
    results = await asyncio.gather(
        *(counters.anext("1", 2026, "z") for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, counters_mod.CounterError) for r in results)
