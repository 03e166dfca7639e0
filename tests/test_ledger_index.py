"""The ledger's group commit and in-memory indexes (issue 10, performance).

One transaction may hold many requests and events: they are written with one
fsync per file, requests first; the per-state, per-number and per-CUFE indexes
always say what a full scan (and a replay from disk) says.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from fe_tui.services import invoice_queue as iq
from fe_tui.store import ledger as ledger_mod
from fe_tui.store.ledger import DocRecord, Ledger
from tests.test_queue import World, example

STATES = ["ready", "signed", "sending", "accepted", "rejected", "retryable", "held", "void"]


def scan(led: Ledger) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for rec in led.docs.values():
        out.setdefault(rec.state, []).append(rec.doc_id)
    return out


def indexed(led: Ledger) -> dict[str, list[str]]:
    return {s: [r.doc_id for r in led.in_state(s)] for s in led.counts()}


def test_indexes_match_a_scan_and_a_replay(tmp_path: Path) -> None:
    led = Ledger(tmp_path / "l")
    rng = random.Random(3)
    with led.transaction() as tx:
        for i in range(300):
            tx.append("added", f"SETP{i}", number=i, prefix="SETP", kind="invoice", state="ready")
    for _ in range(40):
        with led.transaction() as tx:
            for _ in range(rng.randrange(1, 20)):
                doc = f"SETP{rng.randrange(300)}"
                tx.append("state", doc, state=rng.choice(STATES), cufe=f"{rng.randrange(50):096x}")
    assert {s: sorted(v) for s, v in indexed(led).items()} == {
        s: sorted(v) for s, v in scan(led).items()
    }
    assert led.counts() == {s: len(v) for s, v in scan(led).items()}
    replay = Ledger(tmp_path / "l")
    assert indexed(replay) == indexed(led)
    # find: by id, by number, by CUFE; what a scan finds more than once is ambiguous (None).
    rec = led.docs["SETP7"]
    assert led.find("SETP7") is rec and led.find("7") is rec
    for cufe in {r.cufe for r in led.docs.values() if r.cufe}:
        # The old full scan: same number (a key of digits only) or same CUFE.
        owners = [
            r
            for r in led.docs.values()
            if r.cufe == cufe or (cufe.isdigit() and r.number == int(cufe))
        ]
        expected = owners[0] if len(owners) == 1 else None
        assert led.find(cufe.upper()) is expected


def test_in_state_keeps_the_order_documents_entered_the_state(tmp_path: Path) -> None:
    led = Ledger(tmp_path / "l")
    with led.transaction() as tx:
        for i in range(5):
            tx.append("added", f"D{i}", number=i, prefix="D", kind="invoice", state="ready")
    with led.transaction() as tx:
        tx.append("state", "D3", state="rejected")
        tx.append("state", "D1", state="rejected")
    assert [r.doc_id for r in led.in_state("ready")] == ["D0", "D2", "D4"]
    assert [r.doc_id for r in led.in_state("rejected")] == ["D3", "D1"]


def test_one_transaction_one_fsync_per_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    led = Ledger(tmp_path / "l")
    calls: list[Path] = []
    real = ledger_mod._append_fsync

    def counted(path: Path, lines: list[bytes]) -> int:
        calls.append(path)
        return real(path, lines)

    monkeypatch.setattr(ledger_mod, "_append_fsync", counted)
    with led.transaction() as tx:
        for i in range(50):
            ref = tx.store_request(f"D{i}", {"document": {"n": i}})
            tx.append("added", f"D{i}", number=i, prefix="D", kind="invoice", req=list(ref))
    assert [p.name for p in calls] == ["requests-000001.jsonl", "events-000001.jsonl"]
    # Every buffered request is where its event says, in a fresh reader too.
    for reader in (led, Ledger(tmp_path / "l")):
        for i in (0, 17, 49):
            assert reader.request(reader.docs[f"D{i}"]) == {"document": {"n": i}}


def test_requests_after_a_line_cut_by_a_crash_are_found(tmp_path: Path) -> None:
    led = Ledger(tmp_path / "l")
    with led.transaction() as tx:
        ref = tx.store_request("A", {"a": 1})
        tx.append("added", "A", number=1, prefix="", kind="invoice", req=list(ref))
    requests = tmp_path / "l" / "requests-000001.jsonl"
    with open(requests, "ab") as fh:
        fh.write(b'{"doc": "cut by a cra')  # no newline: a crash mid-append
    with led.transaction() as tx:
        ref = tx.store_request("B", {"b": 2})
        tx.append("added", "B", number=2, prefix="", kind="invoice", req=list(ref))
    assert Ledger(tmp_path / "l").request(led.docs["B"]) == {"b": 2}


def test_a_failed_write_records_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    led = Ledger(tmp_path / "l")

    def broken(path: Path, lines: list[bytes]) -> int:
        raise ledger_mod.LedgerError("disco lleno")

    monkeypatch.setattr(ledger_mod, "_append_fsync", broken)
    with pytest.raises(ledger_mod.LedgerError), led.transaction() as tx:
        tx.append("added", "A", number=1, prefix="P", kind="invoice")
    assert led.docs == {} and led.last_number("P") is None and not led.has("A")


def test_add_many_numbers_in_order_all_or_none(tmp_path: Path) -> None:
    world = World(tmp_path)
    q = world.queue
    results = q.add_many([example("factura")] * 5)
    assert [r.record.number for r in results] == list(range(990000000, 990000005))
    bad = example("factura")
    bad["document"]["kind"] = "recibo"
    with pytest.raises(iq.QueueError, match="tercero.json: Tipo de documento desconocido"):
        q.add_many([example("factura"), example("factura"), bad], labels=["a", "b", "tercero.json"])
    # Nothing from the refused batch: the next number follows the first batch.
    assert q.add(example("factura")).record.number == 990000005
    assert len(q.list()) == 6


def test_list_pages_and_search(tmp_path: Path) -> None:
    world = World(tmp_path)
    q = world.queue
    recs = [r.record for r in q.add_many([example("factura")] * 12)]
    with q.ledger.transaction() as tx:
        for rec in recs[::3]:
            tx.append("state", rec.doc_id, state=iq.HELD, cufe=f"{rec.number:096x}")
    assert [r.doc_id for r in q.list(offset=2, limit=3)] == [r.doc_id for r in recs[2:5]]
    held = q.list(iq.HELD)
    assert [r.doc_id for r in held] == [r.doc_id for r in recs[::3]]
    assert [r.doc_id for r in q.list(iq.HELD, offset=1, limit=2)] == [r.doc_id for r in recs[3:9:3]]
    assert q.list(iq.HELD, prefix="NC") == [] and q.list(limit=0) == []
    assert q.counts() == {iq.READY: 8, iq.HELD: 4}
    target = recs[3]
    found = q.search(f"{target.number:096x}")
    assert found is not None and found.doc_id == target.doc_id
    assert q.search(str(target.number)) is q.search(target.doc_id)
    assert q.search("no-existe") is None
    from click.testing import CliRunner

    from fe_tui.cli import main

    base = ["--data-dir", str(world.settings.data_dir), "queue", "list", "--json"]
    page = CliRunner().invoke(main, [*base, "--state", "held", "--offset", "1", "--limit", "2"])
    assert [d["id"] for d in json.loads(page.output)] == [r.doc_id for r in recs[3:9:3]]
    assert CliRunner().invoke(main, [*base, "--limit", "-1"]).exit_code == 2


async def test_the_runner_group_commits_and_keeps_records_durable_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fewer event appends than events, and every CUFE is on disk before its submit."""
    world = World(tmp_path)
    q = world.queue
    q.add_many([example("factura")] * 12)
    appends: list[int] = []
    real = ledger_mod._append_fsync

    def counted(path: Path, lines: list[bytes]) -> int:
        if path.name.startswith("events"):
            appends.append(len(lines))
        return real(path, lines)

    monkeypatch.setattr(ledger_mod, "_append_fsync", counted)
    from fe_tui.services import dian_ops

    real_submit = dian_ops.DianSession.submit
    folder = q.ledger.folder

    async def checked_submit(self: Any, xml: bytes, **kw: Any) -> Any:
        on_disk = Ledger(folder)  # what a crash right now would leave
        mine = [r for r in on_disk.docs.values() if r.cufe and r.cufe.encode() in xml]
        assert len(mine) == 1 and mine[0].state == iq.SENDING
        return await real_submit(self, xml, **kw)

    monkeypatch.setattr(dian_ops.DianSession, "submit", checked_submit)
    summary = await world.run(concurrency=4)
    assert summary.counts == {iq.ACCEPTED: 12}
    assert sum(appends) >= 12 * 3 and len(appends) < sum(appends)
    assert isinstance(q.ledger.docs["SETP990000000"], DocRecord)


async def test_an_unexpected_worker_error_ends_the_run_instead_of_hanging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    world = World(tmp_path)
    world.queue.add_many([example("factura")] * 3)

    async def broken(self: Any, rec: Any) -> None:
        raise ZeroDivisionError("fallo de programación")

    monkeypatch.setattr(iq._Runner, "_send", broken)
    with pytest.raises(ZeroDivisionError):
        await asyncio.wait_for(world.run(), timeout=20)
