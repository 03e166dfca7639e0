"""The queue runs the local preflight before sending: a Rechazo holds a document out of DIAN."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import etree

from fe_tui import ns
from fe_tui.checks import Finding, PreflightReport, Status
from fe_tui.cli import main
from fe_tui.services import invoice_queue as iq
from tests.test_queue import World, example


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def shrink_range(world: World, to_number: int) -> None:
    (resolution,) = world.store.resolutions(world.company.nit)
    world.store.save_resolution(
        world.company.nit, resolution.model_copy(update={"to_number": to_number}), source="prueba"
    )


async def test_a_number_outside_the_range_is_held_not_sent(world: World) -> None:
    q = world.queue
    first = q.add(example("factura")).record
    second = q.add(example("factura")).record
    # The resolution was corrected after numbering: it now ends at the first number, so
    # both documents declare the old range end (FAB12b) and the second number is outside
    # it (FAD05d). The simulator still has the old range and would accept both.
    shrink_range(world, first.number or 0)
    summary = await world.run()
    assert summary.counts == {iq.HELD: 2}
    held = q.ledger.get(second.doc_id)
    assert held is not None and held.state == iq.HELD and held.cufe is None
    assert "FAD05d" in (held.message or "") and "la DIAN no lo recibió" in (held.message or "")
    event = q.show(second.doc_id)["history"][-1]
    assert event["e"] == "preflight" and event["origin"] == "preflight"
    rules = {r["code"]: r for r in event["rules"]}
    assert {"FAD05d", "FAB12b"} <= set(rules)
    assert rules["FAD05d"]["text"].startswith("Regla: FAD05d, Rechazo:")
    assert rules["FAD05d"]["explanation"] and rules["FAD05d"]["value"] == second.doc_id
    first_rules = {r["code"] for r in q.show(first.doc_id)["history"][-1]["rules"]}
    assert "FAB12b" in first_rules and "FAD05d" not in first_rules
    assert world.sends() == (0, 0)
    # A second run leaves them held (not retried on their own).
    await world.run()
    assert q.counts() == {iq.HELD: 2} and world.sends() == (0, 0)

    # --force sends them without the preflight, and the history says so.
    summary = await world.run(force=True)
    assert summary.counts == {iq.ACCEPTED: 2}
    kinds = [e["e"] for e in q.show(second.doc_id)["history"]]
    assert kinds.index("preflight") < kinds.index("forced") < kinds.index("attempt")
    assert world.sends() == (2, 1)


async def test_a_wrong_cufe_is_held_and_the_correction_is_sent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_sign = iq.documents.sign_tree

    def sign_with_a_wrong_cufe(root: etree._Element, *args: Any, **kw: Any) -> bytes:
        uuid = root.find("cbc:UUID", ns.XPATH)
        assert uuid is not None and uuid.text
        uuid.text = "0" * 96
        return real_sign(root, *args, **kw)

    q = world.queue
    rec = q.add(example("factura")).record
    monkeypatch.setattr(iq.documents, "sign_tree", sign_with_a_wrong_cufe)
    await world.run()
    held = q.ledger.get(rec.doc_id)
    assert held is not None and held.state == iq.HELD and "FAD06" in (held.message or "")
    assert world.sends() == (0, 0)
    assert not (world.settings.state_dir / "journal").exists() or not any(
        (world.settings.state_dir / "journal").iterdir()
    )
    # Fixed (here: the builder is right again) and retried: checked again, then sent.
    monkeypatch.setattr(iq.documents, "sign_tree", real_sign)
    assert q.retry(rec.doc_id).state == iq.READY
    await world.run()
    assert q.ledger.get(rec.doc_id).state == iq.ACCEPTED  # type: ignore[union-attr]
    assert world.sends() == (1, 1)


async def test_notificaciones_do_not_hold_a_document(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def only_a_notice(xml: bytes, registry: Any = None, key: Any = None) -> PreflightReport:
        return PreflightReport([Finding("FAB10b", Status.FAILED, "Notificación", "prefijo")])

    monkeypatch.setattr(iq, "preflight", only_a_notice)
    rec = world.queue.add(example("factura")).record
    summary = await world.run()
    assert summary.counts == {iq.ACCEPTED: 1}
    assert world.queue.ledger.get(rec.doc_id).state == iq.ACCEPTED  # type: ignore[union-attr]


def test_held_is_corrected_or_voided_like_a_rejection(world: World) -> None:
    q = world.queue
    rec = q.add(example("factura")).record
    with q.ledger.transaction() as ledger:
        ledger.append("preflight", rec.doc_id, state=iq.HELD, origin="preflight", rules=[])
    fixed = q.correct(rec.doc_id, example("factura"))
    assert fixed.state == iq.READY and fixed.number == rec.number
    with q.ledger.transaction() as ledger:
        ledger.append("preflight", rec.doc_id, state=iq.HELD, origin="preflight", rules=[])
    assert q.void(rec.doc_id, "el cliente canceló").state == iq.VOID
    assert iq.HELD in iq.STATES and iq.HELD in iq.ATTENTION and iq.HELD not in iq.ACTIVE


def test_cli_run_holds_then_force_sends(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    q = world.queue
    q.add(example("factura"))
    second = q.add(example("factura")).record
    shrink_range(world, 990000000)
    monkeypatch.setenv("FE_TUI_CERT_PASSWORD", "fe-tui-demo")
    base = ["--data-dir", str(world.settings.data_dir), "queue"]
    runner = CliRunner()
    result = runner.invoke(main, [*base, "run"])
    assert result.exit_code == 1, result.output
    assert "retenida (revisión local): 2" in result.output
    assert "fe-tui queue list --state held" in result.output
    result = runner.invoke(main, [*base, "show", second.doc_id])
    assert "Regla: FAD05d, Rechazo:" in result.output and "Qué revisa:" in result.output
    listed = json.loads(runner.invoke(main, [*base, "list", "--state", "held", "--json"]).output)
    assert second.doc_id in [d["id"] for d in listed] and len(listed) == 2
    # Forced: they go to DIAN (here the in-process simulator, which knows the same
    # shrunk range and rejects them: DIAN's verdict, not ours).
    result = runner.invoke(main, [*base, "run", "--force", "--json"])
    data = json.loads(result.output)
    assert data["counts"] == {"rejected": 2}, data
    history = q.show(second.doc_id)["history"]
    assert [e["e"] for e in history].count("forced") == 1
    assert "--force" in runner.invoke(main, [*base, "run", "--help"]).output
