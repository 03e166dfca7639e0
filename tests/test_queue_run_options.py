"""InvoiceQueue.run options for the test set: batch wait, only these documents, observers."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fe_tui.dian import outcomes as oc
from fe_tui.services import invoice_queue as iq
from fe_tui.simulator.config import DEMO_TEST_SET_ID
from tests.test_queue import World, example


def _world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_only_restricts_the_run_and_on_outcome_sees_each_answer(tmp_path: Path) -> None:
    world = _world(tmp_path)
    first = world.queue.add(example("factura")).record
    second = world.queue.add(example("factura-consumidor-final")).record
    seen: list[tuple[str, str]] = []
    summary = asyncio.run(
        world.run(only={first.doc_id}, on_outcome=lambda d, o: seen.append((d, o.kind.value)))
    )
    recs = {r.doc_id: r for r in world.queue.list()}
    assert recs[first.doc_id].state == iq.ACCEPTED
    assert recs[second.doc_id].state == iq.READY and recs[second.doc_id].cufe is None
    assert summary.processed == 1
    assert [d for d, _ in seen] == [first.doc_id]


def test_until_stops_starting_documents(tmp_path: Path) -> None:
    world = _world(tmp_path)
    for _ in range(3):
        world.queue.add(example("factura"))
    seen: list[str] = []
    asyncio.run(
        world.run(concurrency=1, on_outcome=lambda d, o: seen.append(d), until=lambda: bool(seen))
    )
    states = sorted(r.state for r in world.queue.list())
    assert states == [iq.ACCEPTED, iq.READY, iq.READY]


def test_batch_wait_hands_the_batch_with_the_set_status_to_the_observer(tmp_path: Path) -> None:
    world = _world(tmp_path)
    world.queue.add(example("factura"))
    seen: list[oc.Outcome] = []
    asyncio.run(
        world.run(
            test_set_id=DEMO_TEST_SET_ID, batch_wait=5.0, on_outcome=lambda d, o: seen.append(o)
        )
    )
    assert isinstance(seen[0], oc.BatchStatus) and not seen[0].in_process
    assert [r.state for r in world.queue.list()] == [iq.ACCEPTED]
    # Without the wait the send answers only "queued": the document is reconciled later.
    world.queue.add(example("factura"))
    seen.clear()
    asyncio.run(world.run(test_set_id=DEMO_TEST_SET_ID, on_outcome=lambda d, o: seen.append(o)))
    assert isinstance(seen[0], oc.Queued)


def test_a_failing_observer_does_not_stop_the_run(tmp_path: Path) -> None:
    world = _world(tmp_path)
    world.queue.add(example("factura"))

    def broken(doc_id: str, outcome: oc.Outcome) -> None:
        raise RuntimeError("observer bug")

    summary = asyncio.run(asyncio.wait_for(world.run(on_outcome=broken), 30))
    assert summary.counts == {iq.ACCEPTED: 1}


def test_a_plain_run_never_sends_a_test_sets_documents(tmp_path: Path) -> None:
    """Sent without its TestSetId, a set document would reach DIAN as a normal sale."""
    world = _world(tmp_path)
    sale = world.queue.add(example("factura")).record
    in_set = world.queue.add(example("factura"), test_set=DEMO_TEST_SET_ID.upper()).record
    assert in_set.test_set == DEMO_TEST_SET_ID.lower()
    asyncio.run(world.run())
    recs = {r.doc_id: r for r in world.queue.list()}
    assert recs[sale.doc_id].state == iq.ACCEPTED
    assert recs[in_set.doc_id].state == iq.READY and recs[in_set.doc_id].cufe is None
    # Neither does a run for another set; the set's own run sends it (SendTestSetAsync).
    asyncio.run(world.run(test_set_id="otro-set-de-pruebas"))
    assert world.queue.ledger.get(in_set.doc_id).state == iq.READY  # type: ignore[union-attr]
    asyncio.run(world.run(test_set_id=DEMO_TEST_SET_ID, batch_wait=5.0))
    assert world.queue.ledger.get(in_set.doc_id).state == iq.ACCEPTED  # type: ignore[union-attr]


def test_set_documents_queued_before_the_mark_are_known_from_the_sets_record(
    tmp_path: Path,
) -> None:
    world = _world(tmp_path)
    old = world.queue.add(example("factura")).record  # no mark, as before December 2026
    world.store.put(
        "habilitacion",
        world.company.nit,
        f"test_set:{DEMO_TEST_SET_ID.lower()}",
        {"documents": [{"doc_id": old.doc_id, "document_type": "01"}]},
    )
    asyncio.run(world.run())
    assert world.queue.ledger.get(old.doc_id).state == iq.READY  # type: ignore[union-attr]
    asyncio.run(world.run(test_set_id=DEMO_TEST_SET_ID, batch_wait=5.0))
    assert world.queue.ledger.get(old.doc_id).state == iq.ACCEPTED  # type: ignore[union-attr]
