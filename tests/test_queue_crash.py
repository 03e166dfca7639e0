"""Crash safety: ``fe-tui queue run`` killed with SIGKILL at random moments, again and again.

A separate ``fe-tui simulator`` process plays DIAN (with some latency, so each
run is killed in the middle of real work); a 200-document batch is run by
``fe-tui queue run`` subprocesses that are killed at random moments (set by
each run's progress, see ``_kill_after_sends``), then one uninterrupted run
finishes it. Afterwards the store loads, every document is accepted under 200
distinct consecutive numbers, and the simulator saw each document key exactly
once (``max_sends_per_document`` = 1).

The default run kills a few times; the ``slow`` variant (run by CI) kills at
least 50 times.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import EXAMPLES

DOCUMENTS = 200
CLI = [sys.executable, "-m", "fe_tui.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    log = open(tmp_path / "simulator.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [*CLI, "simulator", "--port", str(port), "--state-dir", str(tmp_path / "sim")],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/_simulator/state", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the simulator did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _cli(data: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FE_TUI_CERT_PASSWORD": "fe-tui-demo"}
    env.pop("FE_TUI_DATA_DIR", None)
    done = subprocess.run(
        [*CLI, "--data-dir", str(data), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"{args}: {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


def _sends_total(base: str) -> int:
    state = httpx.get(f"{base}/_simulator/state", timeout=10).json()
    return int(state["documents"]["sends_total"])


def _kill_after_sends(proc: subprocess.Popen[bytes], base: str, sends: int, then: float) -> None:
    """SIGKILL ``proc`` once the simulator has counted ``sends`` sends, ``then`` seconds later.

    The kill moment follows the run's progress, not the wall clock, so the test
    means the same on a slow machine and a fast one (timed kills let a whole
    run finish between kills on a fast one). No new send kills the run while it
    starts, loads the store or reconciles; ``then`` (a part of one send's
    latency) lands the kill before, during or after an answer. Measured here,
    50 kills leave about half the batch to the final run (95-109 of 200 sent,
    three seeds).
    """
    deadline = time.monotonic() + 60
    while _sends_total(base) < sends:
        if proc.poll() is not None:
            break
        if time.monotonic() > deadline:
            raise AssertionError("a run sent nothing for a minute")
        time.sleep(0.01)
    else:
        time.sleep(then)
    if proc.poll() is not None:
        raise AssertionError(f"a run ended by itself (exit {proc.returncode}) mid-batch")
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _crash_until_done(tmp_path: Path, base: str, kills: int, latency_ms: int) -> int:
    data = tmp_path / "datos"
    url = f"{base}/WcfDianCustomerServices.svc"
    _cli(data, "demo", "--no-ui", "--dian-url", url)
    _cli(data, "queue", "add", *([str(EXAMPLES / "factura.json")] * DOCUMENTS))
    httpx.post(f"{base}/_simulator/faults", json={"latency_ms": latency_ms}).raise_for_status()
    rng = random.Random(int(os.environ.get("FE_TUI_CRASH_SEED", "20261203")))
    env = {**os.environ, "FE_TUI_CERT_PASSWORD": "fe-tui-demo"}
    killed = 0
    while killed < kills:
        sends_before = _sends_total(base)
        proc = subprocess.Popen(
            [*CLI, "--data-dir", str(data), "queue", "run", "--json"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        _kill_after_sends(
            proc, base, sends_before + rng.randint(0, 1), rng.uniform(0, latency_ms / 2000)
        )
        killed += 1
    # Every kill interrupted real work: documents were still pending after the last one.
    pending = [
        d
        for d in json.loads(_cli(data, "queue", "list", "--json").stdout)
        if d["state"] != "accepted"
    ]
    assert pending, "the batch finished before the last kill"
    httpx.post(f"{base}/_simulator/faults", json={}).raise_for_status()
    # Then one run, uninterrupted, finishes the batch (reconciling what the kills left).
    _cli(data, "queue", "run")
    listed = json.loads(_cli(data, "queue", "list", "--json").stdout)
    states = {d["state"] for d in listed}
    numbers = sorted(d["number"] for d in listed)
    assert len(listed) == DOCUMENTS
    assert states == {"accepted"}, [
        (d["id"], d["state"], d["message"]) for d in listed if d["state"] != "accepted"
    ]
    assert numbers == list(range(990000000, 990000000 + DOCUMENTS))
    assert len({d["cufe"] for d in listed}) == DOCUMENTS
    sim = httpx.get(f"{base}/_simulator/state").json()["documents"]
    assert sim["max_sends_per_document"] == 1, sim
    assert sim["accepted"] == DOCUMENTS
    return killed


def test_killed_runs_lose_and_duplicate_nothing(tmp_path: Path, simulator: str) -> None:
    assert _crash_until_done(tmp_path, simulator, kills=4, latency_ms=40) == 4


@pytest.mark.slow
def test_fifty_kills_lose_and_duplicate_nothing(tmp_path: Path, simulator: str) -> None:
    assert _crash_until_done(tmp_path, simulator, kills=50, latency_ms=150) >= 50
