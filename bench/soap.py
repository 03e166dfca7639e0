"""DIAN client overhead and throughput against the local simulator (accept-all mode, loopback).

Starts ``fe-tui simulator --accept-all`` as its own process on 127.0.0.1 and measures:

- the bare HTTP round trip: ``httpx.AsyncClient.post`` of a pre-built, pre-signed
  SendBillSync envelope (what any client must at least pay);
- ``DianClient.send_bill_sync``: envelope building, WS-Security signature, POST,
  capped read, parsing and classification;
- the client's overhead = client − bare, as wall-clock median latency and as
  CPU time of this process per call (the simulator runs in another process, so
  this process's CPU is the client's). Target: ≤ 1 ms;
- sustained throughput at concurrency 1, 8 and 32.

Run: ``python bench/soap.py [--calls 400]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sign import BenchKey, ten_line_request  # noqa: E402
from fe_tui.crypto import xades  # noqa: E402
from fe_tui.dian import environments, soap  # noqa: E402
from fe_tui.dian.client import DianClient  # noqa: E402
from fe_tui.dian.outcomes import Accepted  # noqa: E402
from fe_tui.ubl import builder, packaging  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_simulator(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "fe_tui.cli", "simulator", "--port", str(port), "--accept-all"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("el simulador no arrancó")


async def timed_calls(fn, n: int) -> tuple[list[float], float]:  # type: ignore[no-untyped-def]
    for _ in range(20):
        await fn()
    latencies = []
    cpu0 = time.process_time()
    for _ in range(n):
        t0 = time.perf_counter()
        await fn()
        latencies.append((time.perf_counter() - t0) * 1000)
    return latencies, (time.process_time() - cpu0) / n * 1000


async def throughput(
    client: DianClient, package: packaging.Package, concurrency: int, n: int
) -> float:
    sem = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with sem:
            outcome = await client.send_bill_sync(package)
            assert isinstance(outcome, Accepted), outcome.message

    t0 = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    return n / (time.perf_counter() - t0)


async def run(port: int, calls: int) -> None:
    key = BenchKey()
    root = builder.build(ten_line_request()).root
    signed = xades.sign(root, key)
    package = packaging.pack(signed, document_type="01", nit="900373076", year=2026, consecutive=1)
    env = environments.simulator(f"http://127.0.0.1:{port}/WcfDianCustomerServices.svc")
    params = {"fileName": package.zip_name, "contentFile": package.content_b64}
    envelope = soap.build_request(
        "SendBillSync", params, to=env.url, private_key=key.private_key, certificate=key.certificate
    )
    headers = {"Content-Type": soap.content_type("SendBillSync")}
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)

    async with httpx.AsyncClient(limits=limits, timeout=30) as bare:

        async def bare_call() -> None:
            r = await bare.post(env.url, content=envelope, headers=headers)
            r.raise_for_status()

        bare_lat, bare_cpu = await timed_calls(bare_call, calls)

    async with DianClient(env, key, limits=limits) as client:  # type: ignore[arg-type]

        async def client_call() -> None:
            outcome = await client.send_bill_sync(package)
            assert isinstance(outcome, Accepted), outcome.message

        client_lat, client_cpu = await timed_calls(client_call, calls)
        rates = {c: await throughput(client, package, c, max(calls, 200)) for c in (1, 8, 32)}

    bare_med, client_med = statistics.median(bare_lat), statistics.median(client_lat)
    print(f"SendBillSync of a 10-line invoice ({len(envelope)} B envelope), {calls} calls each")
    for label, med, cpu in (
        ("bare httpx POST round trip", bare_med, bare_cpu),
        ("DianClient.send_bill_sync", client_med, client_cpu),
    ):
        print(f"  {label:<33} median {med:6.3f} ms   CPU {cpu:.3f} ms/call")
    print(f"  client overhead (latency)         {client_med - bare_med:6.3f} ms  (target <= 1 ms)")
    print(f"  client overhead (CPU per call)    {client_cpu - bare_cpu:6.3f} ms  (target <= 1 ms)")
    for c, rate in rates.items():
        print(f"  throughput, concurrency {c:>2}        {rate:7.0f} documents/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400)
    args = parser.parse_args()
    port = free_port()
    proc = start_simulator(port)
    try:
        asyncio.run(run(port, args.calls))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
