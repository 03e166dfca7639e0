"""Console start-up and responsiveness (issue 12): a script that prints numbers, not a test.

    python bench/startup.py [--docs 10000] [--batch 1000]

- ``first frame 10k documents``: a fresh process (cold start: imports included) opens the
  console headless on a store with that many documents and stops at its first frame;
- ``ratio first frame 10k / empty``: the same against an empty queue, in the same run;
- ``first frame bare Textual app``: the floor, an empty Textual app measured the same way
  (fresh process, Textual imports included), so the console's numbers can be read against it;
- ``longest event-loop stall during 1,000-document batch``: the console runs a batch of
  that many documents on the in-process simulator (a test double) while a timer measures
  how late the event loop wakes it (goal ≤ 50 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/queue.py would shadow the standard library's queue (Textual imports it).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

_FIRST_FRAME = r"""
import sys, time
t0 = float(sys.argv[2])
from fe_tui.services.console import Workspace
from fe_tui.settings import Settings
from fe_tui.store.db import Store
from fe_tui.tui.app import FeConsole

class Once(FeConsole):
    def on_mount(self) -> None:
        self.call_after_refresh(self._done)
    def _done(self) -> None:
        print(f"{time.time() - t0:.4f}")
        self.exit()

settings = Settings.load(__import__("pathlib").Path(sys.argv[1]), env={})
import asyncio
async def main():
    app = Once(Workspace(Store(settings.data_dir), settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
asyncio.run(main())
"""

_BARE_FRAME = r"""
import sys, time
t0 = float(sys.argv[2])
from textual.app import App
from textual.widgets import Footer, Static

class Once(App[None]):
    def compose(self):
        yield Static("fe-tui")
        yield Footer()
    def on_mount(self) -> None:
        self.call_after_refresh(self._done)
    def _done(self) -> None:
        print(f"{time.time() - t0:.4f}")
        self.exit()

import asyncio
async def main():
    async with Once().run_test(size=(120, 40)) as pilot:
        await pilot.pause()
asyncio.run(main())
"""


def make_store(root: Path, documents: int) -> Path:
    from fe_tui.services.demo import create_demo_company
    from fe_tui.services.invoice_queue import InvoiceQueue
    from fe_tui.settings import Settings
    from fe_tui.store.db import Store

    settings = Settings.load(root / "datos", env={})
    store = Store(settings.data_dir)
    made = create_demo_company(store, settings)
    if documents:
        data = json.loads((ROOT / "examples" / "factura.json").read_text())
        InvoiceQueue(store, made.company, settings).add_many([data] * documents)
    return settings.data_dir


def first_frame(data_dir: Path, runs: int = 3, script: str = _FIRST_FRAME) -> float:
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", script, str(data_dir), repr(time.time())],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout.strip().splitlines()
        times.append(float(out[-1]))
    return statistics.median(times)


async def batch_stall(data_dir: Path) -> tuple[float, int]:
    from fe_tui.services.console import Workspace
    from fe_tui.settings import Settings
    from fe_tui.store.db import Store
    from fe_tui.tui.app import FeConsole

    settings = Settings.load(data_dir, env={})
    app = FeConsole(Workspace(Store(settings.data_dir), settings))
    worst = 0.0
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(1.0)
        await pilot.press("4", "e")
        await pilot.pause(0.2)
        pane = app.queue_pane
        while pane is not None and pane.running:
            start = time.perf_counter()
            await asyncio.sleep(0.01)
            worst = max(worst, time.perf_counter() - start - 0.01)
        done = sum(app.queue_view.counts().values()) if app.queue_view else 0
    return worst * 1000, done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fe-tui-bench-") as tmp:
        root = Path(tmp)
        empty = first_frame(make_store(root / "vacia", 0))
        full = first_frame(make_store(root / "llena", args.docs))
        bare = first_frame(root, script=_BARE_FRAME)
        print(f"first frame bare Textual app  {bare:.2f} s")
        print(f"first frame empty  {empty:.2f} s")
        print(f"first frame {args.docs // 1000}k documents  {full:.2f} s")
        print(f"ratio first frame {args.docs // 1000}k / empty  {full / empty:.2f}")
        stall, done = asyncio.run(batch_stall(make_store(root / "lote", args.batch)))
        print(f"longest event-loop stall during {args.batch:,}-document batch  {stall:.0f} ms"
              f"  ({done} documents in the queue)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
