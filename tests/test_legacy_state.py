"""Upgrading from the separate state folder (before December 2026) loses no journal and
reuses no DIAN file name."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from fe_tui.settings import Settings
from fe_tui.store.counters import FileCounters
from fe_tui.store.journal import Journal, must_ask_first

KEY = "ab" * 48


def _old_state(home: Path) -> Path:
    old = home / ".local" / "state" / "fe-tui"
    (old / "journal" / KEY).mkdir(parents=True)
    (old / "file-counters.json").write_text(json.dumps({"900373076/2026/z": 41}))
    (old / "journal" / KEY / "events.jsonl").write_text(
        json.dumps({"time": "2026-11-30T15:00:00+00:00", "event": "prepared", "zip_name": "z.zip"})
        + "\n"
    )
    (old / "journal" / KEY / "z.zip").write_bytes(b"PK-old")
    return old


def test_settings_name_the_old_state_folder_only_on_default_folders(tmp_path: Path) -> None:
    old = _old_state(tmp_path)
    assert Settings.load(env={"HOME": str(tmp_path)}).legacy_state_dir == old
    xdg = tmp_path / "xdg"
    (xdg / "fe-tui").mkdir(parents=True)
    assert Settings.load(
        env={"HOME": str(tmp_path), "XDG_STATE_HOME": str(xdg)}
    ).legacy_state_dir == (xdg / "fe-tui")
    # A chosen data or state folder is the agent's: nothing is brought into it.
    assert Settings.load(tmp_path / "d", env={"HOME": str(tmp_path)}).legacy_state_dir is None
    assert (
        Settings.load(
            env={"HOME": str(tmp_path), "FE_TUI_STATE_DIR": str(tmp_path / "s")}
        ).legacy_state_dir
        is None
    )
    assert Settings.load(env={"HOME": str(tmp_path / "nobody")}).legacy_state_dir is None


def test_counters_continue_from_the_old_folder(tmp_path: Path) -> None:
    old = _old_state(tmp_path)
    counters = FileCounters(tmp_path / "new", legacy=old)
    assert counters.next("900373076", 2026, "z") == 42
    assert counters.next("900373076", 2026, "fv") == 1
    assert counters.next("900373076", 2026, "z") == 43
    # The old file is read, never changed.
    assert json.loads((old / "file-counters.json").read_text()) == {"900373076/2026/z": 41}
    assert FileCounters(tmp_path / "plain").next("900373076", 2026, "z") == 1


def test_a_documents_old_journal_is_adopted_and_still_asks_dian_first(tmp_path: Path) -> None:
    old = _old_state(tmp_path)
    journal = Journal(tmp_path / "new", legacy=old)
    events = journal.events(KEY)
    assert [e.event for e in events] == ["prepared"]
    assert must_ask_first(events)  # prepared without sent is ambiguous: GetStatus first
    adopted = tmp_path / "new" / "journal" / KEY
    assert (adopted / "z.zip").read_bytes() == b"PK-old"
    assert stat.S_IMODE((adopted / "events.jsonl").stat().st_mode) == 0o600
    assert (old / "journal" / KEY / "events.jsonl").exists()  # the old folder is kept
    # A document the old folder never had stays unjournaled.
    assert Journal(tmp_path / "new", legacy=old).events("cd" * 48) == []
