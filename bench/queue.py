"""The invoice queue's costs, against floors measured in the same run (issue 10).

Prints, each on its own line:

- ``ratio pipeline / sign+zip  X.XX``: documents through add → build → sign →
  send → accepted (the simulator in-process in accept-all mode, journal and
  ledger on disk), throughput divided by the bare sign+zip throughput of the
  same documents (goal ≥ 0.7);
- ``ratio state change 100k / 1k  X.XX``: median cost of one durable state
  change in a ledger holding 100k documents vs 1k (goal ≤ 2);
- ``peak RSS 100k documents  N MB``: a fresh process opening the 100k-document
  ledger and changing one state (goal ≤ 200);
- ``pipeline CPU per document  N ms`` (this process's CPU time, every thread, the
  in-process simulator and any worker process included, divided by the documents) and
  ``ceiling on N cores  N documents/s, ratio X.XX``: the throughput that CPU cost
  allows if every core of this machine (``os.cpu_count()``) were busy with it, and
  the ratio to sign+zip it implies. The measured ratio cannot exceed that ceiling.

Run: ``python bench/queue.py [--docs 10000] [--changes 200]``
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named queue.py: take its folder off the path so the standard
# library's ``queue`` (used by asyncio's thread pool) is the one imported.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402 - after the path fix above
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import httpx  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fe_tui.services import documents  # noqa: E402
from fe_tui.services import invoice_queue as iq  # noqa: E402
from fe_tui.services.demo import DEMO_CERT_PASSWORD, create_demo_company  # noqa: E402
from fe_tui.services.sessions import open_company_session, simulator_config_for  # noqa: E402
from fe_tui.settings import Settings  # noqa: E402
from fe_tui.simulator import Faults, create_app  # noqa: E402
from fe_tui.store.db import Store  # noqa: E402
from fe_tui.store.ledger import Ledger  # noqa: E402
from fe_tui.ubl import packaging  # noqa: E402


def cpu_time() -> float:
    """CPU seconds of this process (every thread) and of its ended, waited-for children (a
    worker process the run started and joined counts too)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def pipeline(docs: int, *, force: bool = False) -> tuple[float, float, float]:
    """(pipeline documents/s, bare sign+zip documents/s, pipeline CPU seconds per document)
    on the same machine, same run.

    The pipeline is what ``queue add FILE…`` + ``queue run`` do: one ``add_many``
    (numbers allocated and durable), then the run (build, sign, preflight, journal,
    send, verdict). ``force`` skips the preflight (``queue run --force``).
    """
    root = Path(tempfile.mkdtemp(prefix="fe-bench-queue-"))
    settings = Settings.load(root / "datos", env={})
    store = Store(settings.data_dir)
    made = create_demo_company(store, settings)
    cert = documents.load_certificate(made.certificate_path, DEMO_CERT_PASSWORD)
    config = simulator_config_for(store, made.company, settings)
    config = config.model_copy(update={"faults": Faults(accept_all=True), "state_dir": None})
    sim = create_app(config)
    data = json.loads((ROOT / "examples" / "factura.json").read_text())
    queue = iq.InvoiceQueue(store, made.company, settings)

    # Floor: sign + zip of the same document, nothing else.
    request = documents.issued_now(documents.load_request(ROOT / "examples" / "factura.json"))
    n_floor = min(docs, 500)
    documents.sign_tree(documents.build(request).document.root, cert)  # warm-up
    floor_time = 0.0
    for i in range(n_floor):
        built = documents.build(request, validate=False)
        t = time.perf_counter()
        signed = documents.sign_tree(built.document.root, cert)
        packaging.pack(signed, document_type="01", nit="900373076", year=2026, consecutive=i + 1)
        floor_time += time.perf_counter() - t
    floor_rate = n_floor / floor_time

    start = time.perf_counter()
    cpu_start = cpu_time()
    queue.add_many([data] * docs)

    async def run() -> iq.RunSummary:
        async with open_company_session(
            store, settings, made.company, cert, transport=httpx.ASGITransport(app=sim)
        ) as session:
            return await queue.run(session, cert, force=force)

    summary = asyncio.run(run())
    elapsed = time.perf_counter() - start
    cpu = cpu_time() - cpu_start
    print(
        f"  ({docs} documents{' --force' if force else ''}: {elapsed / docs * 1000:.2f} ms wall, "
        f"{cpu / docs * 1000:.2f} ms CPU per document, all threads; floor "
        f"{1000 / floor_rate:.2f} ms per sign+zip)"
    )
    accepted = summary.counts.get(iq.ACCEPTED, 0)
    if accepted != docs:
        raise SystemExit(f"only {accepted} of {docs} accepted: {summary.counts}")
    return docs / elapsed, floor_rate, cpu / docs


def fill(folder: Path, count: int) -> Ledger:
    """A ledger with ``count`` documents (batched appends: the setup, not what is measured)."""
    led = Ledger(folder)
    batch = 5000
    for start in range(0, count, batch):
        with led.transaction() as tx:
            for i in range(start, min(count, start + batch)):
                doc = f"SETP{990000000 + i}"
                tx.append(
                    "added",
                    doc,
                    number=990000000 + i,
                    prefix="SETP",
                    type="01",
                    kind="invoice",
                    state="ready",
                    issue_date="2026-12-03",
                    req=[1, 0, 0],
                )
                tx.append("state", doc, state="accepted", cufe=f"{i:096x}")
    return led


def state_change_cost(led: Ledger, changes: int) -> float:
    """Median seconds of one durable state change (a transaction with one event)."""
    times = []
    for i in range(changes):
        doc = f"SETP{990000000 + i}"
        t = time.perf_counter()
        with led.transaction() as tx:
            tx.append("state", doc, state="needs_reconcile" if i % 2 else "accepted")
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def peak_rss_child(folder: Path) -> float:
    code = (
        "import resource, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from fe_tui.store.ledger import Ledger\n"
        f"led = Ledger(__import__('pathlib').Path({str(folder)!r}))\n"
        "with led.transaction() as tx:\n"
        "    tx.append('state', 'SETP990000000', state='accepted')\n"
        "print(len(led.docs), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    count, kb = out.stdout.split()
    assert int(count) == 100_000
    return int(kb) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument(
        "--no-force-run", action="store_true", help="skip the pipeline run without preflight"
    )
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="fe-bench-ledger-"))
    small = fill(root / "1k", 1_000)
    big = fill(root / "100k", 100_000)
    small_cost = state_change_cost(small, args.changes)
    big_cost = state_change_cost(big, args.changes)
    print(f"state change 1k  {small_cost * 1000:.2f} ms, 100k  {big_cost * 1000:.2f} ms (median)")
    print(f"ratio state change 100k / 1k  {big_cost / small_cost:.2f}")
    print(f"peak RSS 100k documents  {peak_rss_child(root / '100k'):.0f} MB")

    rate, floor, cpu = pipeline(args.docs)
    print(f"pipeline {rate:.0f} documents/s ({args.docs} documents), sign+zip {floor:.0f}/s")
    print(f"ratio pipeline / sign+zip  {rate / floor:.2f}")
    cores = os.cpu_count() or 1
    ceiling = cores / cpu
    print(f"pipeline CPU per document  {cpu * 1000:.2f} ms (process CPU time / documents)")
    print(
        f"ceiling on {cores} cores  {ceiling:.0f} documents/s, ratio {ceiling / floor:.2f} "
        f"(ratio 0.7 needs ≤ {cores / (0.7 * floor) * 1000:.2f} ms CPU per document)"
    )
    if not args.no_force_run:
        # Same pipeline without the preflight, on fewer documents (it is the comparison,
        # not the measure the issue asks for).
        n_forced = min(args.docs, 2000)
        forced, floor2, _ = pipeline(n_forced, force=True)
        print(
            f"pipeline without the preflight (--force) {forced:.0f} documents/s "
            f"({n_forced} documents), sign+zip {floor2:.0f}/s, ratio {forced / floor2:.2f}"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(this process peak RSS {rss:.0f} MB)")


if __name__ == "__main__":
    main()
