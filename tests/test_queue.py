"""The invoice queue against the simulator: numbering, notes, rejections, faults, reconcile.

The simulator is mounted in-process (``httpx.ASGITransport``) with the demo
company's registration, so each test can flip its fault switches; the
journal and the ledger are real files in a temporary data directory.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import httpx
import pytest

from fe_tui.crypto.certificates import LoadedCertificate
from fe_tui.services import invoice_queue as iq
from fe_tui.services.demo import DEMO_CERT_PASSWORD, create_demo_company
from fe_tui.services.documents import load_certificate
from fe_tui.services.sessions import open_company_session, simulator_config_for
from fe_tui.settings import Settings
from fe_tui.simulator import Faults, Simulator, create_app
from fe_tui.store.db import Store
from tests.conftest import EXAMPLES

FAST = iq.RetryPolicy(
    base=0.001, cap=0.01, max_attempts=6, breaker_threshold=3, breaker_cooldown=0.05
)


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


class World:
    """A data directory with the demo company, its simulator and a way to run the queue."""

    def __init__(self, root: Path) -> None:
        self.settings = Settings.load(root / "datos", env={})
        self.store = Store(self.settings.data_dir)
        made = create_demo_company(self.store, self.settings)
        self.company = made.company
        self.cert: LoadedCertificate = load_certificate(made.certificate_path, DEMO_CERT_PASSWORD)
        self.sim: Simulator = create_app(
            simulator_config_for(self.store, self.company, self.settings)
        )
        self.queue = iq.InvoiceQueue(
            self.store, self.company, self.settings, policy=FAST, rng=random.Random(7)
        )

    async def run(self, **kw: Any) -> iq.RunSummary:
        async with open_company_session(
            self.store,
            self.settings,
            self.company,
            self.cert,
            transport=httpx.ASGITransport(app=self.sim),
        ) as session:
            return await self.queue.run(session, self.cert, **kw)

    async def reconcile(self) -> iq.RunSummary:
        async with open_company_session(
            self.store,
            self.settings,
            self.company,
            self.cert,
            transport=httpx.ASGITransport(app=self.sim),
        ) as session:
            return await self.queue.reconcile(session, self.cert)

    def sends(self) -> tuple[int, int]:
        docs = self.sim.state.summary()["documents"]
        return docs["sends_total"], docs["max_sends_per_document"]


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


async def test_numbers_notes_and_acceptance(world: World) -> None:
    q = world.queue
    first = q.add(example("factura"))
    assert first.record.doc_id == "SETP990000000" and first.record.state == iq.READY
    assert any("Se ignoró el número" in w for w in first.warnings)
    second = q.add(example("factura-consumidor-final"))
    note = example("nota-credito")
    note["document"]["billing_reference"]["number"] = first.record.doc_id
    credit = q.add(note)
    assert credit.record.doc_id == "NC1" and credit.record.reference == "SETP990000000"
    summary = await world.run(concurrency=3)
    assert summary.counts == {iq.ACCEPTED: 3}, [r.message for r in q.list()]
    recs = {r.doc_id: r for r in q.list()}
    assert second.record.doc_id == "SETP990000001"
    # The note took the CUFE of the invoice as DIAN accepted it.
    note_cufe, invoice_cufe = recs["NC1"].cufe, recs["SETP990000000"].cufe
    assert note_cufe and invoice_cufe
    signed = (world.settings.state_dir / "journal" / note_cufe / "document.xml").read_text()
    assert f">{invoice_cufe}</cbc:UUID>" in signed
    assert recs["NC1"].cufe and recs["SETP990000000"].cufe
    hist = q.show("NC1")["history"]
    assert [e["e"] for e in hist][-1] == "attempt"
    assert world.sends() == (3, 1)


async def test_note_waits_for_its_invoice(world: World) -> None:
    q = world.queue
    inv = q.add(example("factura")).record
    note = example("nota-credito")
    note["document"]["billing_reference"]["number"] = inv.doc_id
    q.add(note)
    world.sim.faults = Faults(http_status=503)
    await world.run()
    recs = {r.doc_id: r for r in q.list()}
    # The invoice never got through; the note was not even built.
    assert recs[inv.doc_id].state == iq.RETRYABLE or recs[inv.doc_id].state == iq.NEEDS_RECONCILE
    assert recs["NC1"].state == iq.READY and recs["NC1"].cufe is None
    world.sim.faults = Faults()
    q.retry(inv.doc_id)
    await world.run()
    assert {r.state for r in q.list()} == {iq.ACCEPTED}


async def test_rejected_is_corrected_under_the_same_number(world: World) -> None:
    q = world.queue
    bad = example("factura")
    bad["document"]["customer"]["email"] = "otro@ejemplo.com"  # not the registered one: FAJ71
    rec = q.add(bad).record
    await world.run()
    rec = q.ledger.get(rec.doc_id)
    assert rec is not None and rec.state == iq.REJECTED and "FAJ71" in (rec.message or "")
    first_cufe = rec.cufe
    fixed = q.correct(rec.doc_id, example("factura"))
    assert fixed.state == iq.READY and fixed.number == 990000000 and fixed.revision == 1
    await world.run()
    rec = q.ledger.get(rec.doc_id)
    assert rec is not None and rec.state == iq.ACCEPTED and rec.cufe
    # The corrected content went out (the CUFE does not cover the e-mail: it may repeat).
    signed = (world.settings.state_dir / "journal" / rec.cufe / "document.xml").read_text()
    assert "recepcion.facturas@distriantioquena.com.co" in signed
    assert first_cufe and world.sends()[0] == 2
    # The next document still gets the next number: the rejection consumed nothing.
    assert q.add(example("factura")).record.number == 990000001


async def test_void_needs_a_reason_and_keeps_the_number(world: World) -> None:
    q = world.queue
    rec = q.add(example("factura")).record
    with pytest.raises(iq.QueueError, match="motivo"):
        q.void(rec.doc_id, "  ")
    q.void(rec.doc_id, "cliente canceló el pedido")
    assert q.ledger.get(rec.doc_id).void_reason == "cliente canceló el pedido"  # type: ignore[union-attr]
    assert q.add(example("factura")).record.number == 990000001
    await world.run()
    states = {r.doc_id: r.state for r in q.list()}
    assert states == {"SETP990000000": iq.VOID, "SETP990000001": iq.ACCEPTED}
    with pytest.raises(iq.QueueError, match="nota crédito"):
        q.void("SETP990000001", "tarde")


def test_add_refuses_another_issuer(world: World) -> None:
    other = copy.deepcopy(example("factura"))
    other["issuer"]["nit"] = "800199436"
    with pytest.raises(iq.QueueError, match="emisor 800199436"):
        world.queue.add(other)
    assert world.queue.list() == []


@pytest.mark.parametrize(
    "faults",
    [
        Faults(http_status=500, count=2),
        Faults(http_status=503, count=3),
        Faults(soap_fault="Servicio no disponible", count=2),
        Faults(malformed="truncated", count=2),
        Faults(malformed="html", count=1),
        Faults(accept_then_drop=True, hang_seconds=0.2, count=2),
        Faults(timeout=True, hang_seconds=0.2, count=2),
        Faults(latency_ms=50, malformed="not-xml", count=3),
    ],
    ids=lambda f: ",".join(k for k, v in f.model_dump().items() if v and k != "count"),
)
async def test_faults_end_accepted_never_duplicated(world: World, faults: Faults) -> None:
    world.settings = world.settings.with_(read_timeout=0.1)
    world.queue.settings = world.settings
    for _ in range(3):
        world.queue.add(example("factura"))
    world.sim.faults = faults
    for _ in range(4):  # a few runs, as an agent would, until nothing is left
        await world.run(concurrency=2)
        if {r.state for r in world.queue.list()} == {iq.ACCEPTED}:
            break
    states = [r.state for r in world.queue.list()]
    assert states == [iq.ACCEPTED] * 3, [r.message for r in world.queue.list()]
    _, max_sends = world.sends()
    assert max_sends == 1


async def test_dian_down_leaves_documents_visibly_retryable(world: World) -> None:
    for _ in range(2):
        world.queue.add(example("factura"))
    world.sim.faults = Faults(http_status=503)
    summary = await world.run()
    recs = world.queue.list()
    assert {r.state for r in recs} <= {iq.RETRYABLE, iq.NEEDS_RECONCILE}
    assert all("503" in (r.message or "") or "intentos" in (r.message or "") for r in recs), [
        r.message for r in recs
    ]
    assert summary.circuit_opened >= 1
    world.sim.faults = Faults()
    await world.run()
    assert {r.state for r in world.queue.list()} == {iq.ACCEPTED}
    assert world.sends()[1] == 1


async def test_interrupted_send_is_reconciled_not_resent(world: World) -> None:
    """A run killed after the send left: the next one asks GetStatus and does not resend."""
    q = world.queue
    rec = q.add(example("factura")).record
    world.settings = world.settings.with_(read_timeout=0.1)
    q.settings = world.settings
    world.sim.faults = Faults(accept_then_drop=True, hang_seconds=0.3, count=1)
    q.policy = iq.RetryPolicy(base=10, cap=10, max_attempts=1)  # give up at once: "crash"
    await world.run()
    rec = q.ledger.get(rec.doc_id)
    assert rec is not None and rec.state == iq.NEEDS_RECONCILE
    summary = await world.reconcile()
    assert summary.counts == {iq.ACCEPTED: 1}
    assert world.sends() == (1, 1)


async def test_startup_turns_sending_into_reconcile(world: World) -> None:
    q = world.queue
    rec = q.add(example("factura")).record
    with q.ledger.transaction() as tx:  # what a crash right after "sending" leaves
        tx.append("state", rec.doc_id, state=iq.SENDING, cufe="ab" * 48)
    await world.run()
    # DIAN never had that CUFE: the document was signed again and sent once.
    rec = q.ledger.get(rec.doc_id)
    assert rec is not None and rec.state == iq.ACCEPTED and rec.cufe != "ab" * 48
    assert world.sends() == (1, 1)
    kinds = [e.get("outcome", {}).get("kind") for e in q.show(rec.doc_id)["history"]]
    assert "not_found" in kinds


async def test_progress_events(world: World) -> None:
    for _ in range(3):
        world.queue.add(example("factura"))
    seen: list[iq.QueueProgress] = []
    await world.run(progress=seen.append)
    assert seen[-1].done == 3 and seen[-1].total == 3
    assert seen[-1].counts == {iq.ACCEPTED: 3} and seen[-1].rate > 0, [
        r.message for r in world.queue.list()
    ]


async def test_one_runner_per_company(world: World) -> None:
    world.queue.add(example("factura"))
    other = iq.InvoiceQueue(world.store, world.company, world.settings)
    with other._run_lock(), pytest.raises(iq.QueueError, match="Otra ejecución"):
        await world.run()


async def test_a_document_is_signed_at_the_moment_it_is_dated(world: World) -> None:
    """IssueDate and SigningTime come from one moment of the queue's clock: a document
    dated just before midnight and signed just after it would be two days (FAD09)."""
    from datetime import datetime, timedelta

    from fe_tui.domain.colombia import COLOMBIA_TZ

    tomorrow = datetime.now(COLOMBIA_TZ).date() + timedelta(days=1)
    moment = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 0, 0, 5, tzinfo=COLOMBIA_TZ)
    world.queue.clock = lambda: moment  # another day than the machine's: any gap shows
    rec = world.queue.add(example("factura")).record
    await world.run()
    rec = world.queue.ledger.get(rec.doc_id)
    assert rec is not None and rec.cufe, rec
    signed = (world.settings.state_dir / "journal" / rec.cufe / "document.xml").read_text()
    assert f"<cbc:IssueDate>{tomorrow.isoformat()}</cbc:IssueDate>" in signed
    assert "<cbc:IssueTime>00:00:05-05:00</cbc:IssueTime>" in signed
    assert f"SigningTime>{tomorrow.isoformat()}T00:00:05" in signed, signed[-3000:]
