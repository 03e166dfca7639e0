"""Regenerate ``screenshots/*.svg``: the console on the demo company, as the README shows it.

    python scripts/screenshots.py

A fresh demo company in a temporary folder (the local DIAN simulator, a test double),
three example invoices sent through the queue, then one SVG per view: the main
screen at 80×24 and 120×40, the queue's detail of a document, and the invoice form.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fe_tui.services.console import Workspace  # noqa: E402
from fe_tui.services.demo import create_demo_company  # noqa: E402
from fe_tui.services.invoice_queue import InvoiceQueue  # noqa: E402
from fe_tui.settings import Settings  # noqa: E402
from fe_tui.store.db import Store  # noqa: E402
from fe_tui.tui.app import FeConsole  # noqa: E402

OUT = ROOT / "screenshots"


def workspace(root: Path) -> Workspace:
    settings = Settings.load(root / "datos", env={})
    store = Store(settings.data_dir)
    made = create_demo_company(store, settings)
    queue = InvoiceQueue(store, made.company, settings)
    for name in ("factura", "factura-consumidor-final", "factura"):
        queue.add(json.loads((ROOT / "examples" / f"{name}.json").read_text()))
    return Workspace(store, settings)


async def shoot(root: Path) -> list[Path]:
    ws = workspace(root)
    saved: list[Path] = []

    def save(app: FeConsole, name: str) -> None:
        saved.append(Path(app.save_screenshot(filename=f"{name}.svg", path=str(OUT))))

    app = FeConsole(ws)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(1.0)
        await pilot.press("4", "e")  # the queue: sign and send the batch
        for _ in range(120):
            await pilot.pause(0.25)
            pane = app.queue_pane
            if pane is not None and not pane.running:
                break
        await pilot.pause(0.5)
        save(app, "consola-120x40")
        await pilot.press("enter")  # the first document's detail
        await pilot.pause(1.0)
        save(app, "detalle-120x40")
        await pilot.press("escape")
        await pilot.pause(0.3)
        await pilot.press("n")  # the invoice form
        await pilot.pause(1.0)
        save(app, "formulario-120x40")
    app = FeConsole(ws)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(1.0)
        save(app, "consola-80x24")
    return saved


def main() -> int:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fe-tui-shots-") as tmp:
        for path in asyncio.run(shoot(Path(tmp))):
            print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
