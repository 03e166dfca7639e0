"""Drafts: `queue add --draft` keeps a document without a number; `queue promote` numbers it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fe_tui.cli import main
from fe_tui.services import invoice_queue as iq
from fe_tui.store.ledger import Ledger
from tests.conftest import EXAMPLES
from tests.test_queue import World, example


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


async def test_a_promoted_draft_gets_the_next_number_and_is_sent(world: World) -> None:
    q = world.queue
    draft = q.add(example("factura"), draft=True).record
    assert draft.state == iq.DRAFT and draft.number is None
    first = q.add(example("factura")).record  # numbers go on while the draft waits
    promoted = q.promote(draft.doc_id)
    assert promoted.state == iq.READY and promoted.number == (first.number or 0) + 1
    old = q.ledger.get(draft.doc_id)
    assert old is not None and old.state == iq.VOID
    assert old.void_reason == f"borrador numerado como {promoted.doc_id}"
    with pytest.raises(iq.QueueError, match="no es un borrador"):
        q.promote(draft.doc_id)
    with pytest.raises(iq.QueueError, match="no es un borrador"):
        q.promote(promoted.doc_id)
    summary = await world.run()
    assert summary.counts == {iq.ACCEPTED: 2, iq.VOID: 1}


def test_promotion_is_one_line_in_the_ledger(world: World) -> None:
    """A crash after the numbered document's line can never leave the draft promotable."""
    q = world.queue
    draft = q.add(example("factura"), draft=True).record
    promoted = q.promote(draft.doc_id)
    (segment,) = sorted(q.ledger.folder.glob("events-*.jsonl"))
    lines = segment.read_bytes().splitlines(keepends=True)
    added = json.loads(lines[-2])
    assert added["e"] == "added" and added["promoted_from"] == draft.doc_id
    # Drop the draft's own void line, as if the process died between the two lines.
    segment.write_bytes(b"".join(lines[:-1]))
    replayed = Ledger(q.ledger.folder)
    assert replayed.docs[draft.doc_id].state == iq.VOID
    assert replayed.docs[promoted.doc_id].state == iq.READY


def test_cli_promote(world: World) -> None:
    base = ["--data-dir", str(world.settings.data_dir), "queue"]
    runner = CliRunner()
    factura = str(EXAMPLES / "factura.json")
    added = []
    for _ in range(2):
        result = runner.invoke(main, [*base, "add", "--draft", factura, "--json"])
        assert result.exit_code == 0, result.output
        added.append(json.loads(result.output)["added"][0]["id"])
    result = runner.invoke(main, [*base, "promote", added[0], "--json"])
    data = json.loads(result.output)
    assert result.exit_code == 0 and data["ok"] is True
    assert data["promoted"][0]["draft"] == added[0]
    assert data["promoted"][0]["id"] == "SETP990000000"
    assert data["promoted"][0]["state"] == "ready"
    result = runner.invoke(main, [*base, "promote", "--all"])
    assert result.exit_code == 0 and f"{added[1]} → SETP990000001" in result.output
    result = runner.invoke(main, [*base, "promote"])
    assert result.exit_code == 2 and "Indique los borradores" in result.output
    result = runner.invoke(main, [*base, "promote", "SETP990000000"])
    assert result.exit_code == 2 and "no es un borrador" in result.output
    assert "Traceback" not in result.output
    help_text = runner.invoke(main, [*base, "promote", "--help"]).output
    assert "Numera borradores" in help_text and "Numerar todos los borradores" in help_text
