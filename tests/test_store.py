"""The company store (TinyDB, atomic, versioned, private) and the document ledger."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fe_tui.domain.company import Company
from fe_tui.domain.models import Resolution
from fe_tui.errors import InputError
from fe_tui.fileio import private_dir
from fe_tui.services import numbering
from fe_tui.store.db import SCHEMA_VERSION, Store, StoreError
from fe_tui.store.ledger import Ledger

NIT = "900373076"


def company(**kw: object) -> Company:
    return Company(nit=NIT, dv="4", name="Tostadora Andina de Café S.A.S.", **kw)  # type: ignore[arg-type]


def resolution(**kw: object) -> Resolution:
    data: dict[str, object] = {
        "number": "18760000001",
        "prefix": "SETP",
        "from_number": 990000000,
        "to_number": 990000009,
        "valid_from": date(2019, 1, 19),
        "valid_to": date(2030, 1, 19),
        "technical_key": "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c",
    }
    data.update(kw)
    return Resolution.model_validate(data)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_company_round_trip_and_current(tmp_path: Path) -> None:
    store = Store(tmp_path / "d")
    with pytest.raises(InputError, match="No hay una empresa elegida"):
        store.require_company()
    store.save_company(company(notes="cliente de prueba"))
    store.set_current_company(NIT)
    # A second Store on the same directory (another process, in effect) sees it.
    again = Store(tmp_path / "d")
    got = again.require_company()
    assert got.label == "Tostadora Andina de Café S.A.S. (900373076-4)"
    assert got.notes == "cliente de prueba"
    with pytest.raises(InputError, match="No hay una empresa con NIT 1"):
        again.require_company("1")


def test_files_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        store = Store(tmp_path / "a" / "b")
        store.save_company(company())
        ledger = Ledger(tmp_path / "a" / "b" / "companies" / NIT / "ledger")
        with ledger.transaction() as tx:
            tx.append("added", "SETP1", number=1, prefix="SETP")
    finally:
        os.umask(old)
    for folder in (tmp_path / "a", tmp_path / "a" / "b", ledger.folder):
        assert mode(folder) == 0o700, folder
    for path in (store.path, tmp_path / "a" / "b" / ".store.lock", ledger.folder / ".lock"):
        assert mode(path) == 0o600, path
    assert mode(ledger.folder / "events-000001.jsonl") == 0o600


def test_private_dir_keeps_existing_parents(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    private_dir(tmp_path / "x" / "y")
    assert mode(tmp_path) == 0o755
    assert mode(tmp_path / "x") == 0o700


def test_schema_version_and_migration(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    # A file from before versioning (no _meta) is migrated, its data kept.
    (folder / "store.json").write_text(json.dumps({"settings": {"1": {"key": "k", "value": 3}}}))
    store = Store(folder)
    assert store.schema_version == SCHEMA_VERSION
    assert store.setting("k") == 3
    # A file from a newer fe-tui is refused, untouched.
    raw = json.loads(store.path.read_text())
    raw["_meta"]["1"]["schema"] = SCHEMA_VERSION + 1
    store.path.write_text(json.dumps(raw))
    before = store.path.read_bytes()
    with pytest.raises(StoreError, match="actualice fe-tui"):
        Store(folder)
    assert store.path.read_bytes() == before


def test_damaged_store_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "store.json").write_text('{"companies": {')
    with pytest.raises(StoreError, match="dañado"):
        Store(folder)


def test_resolutions_per_company(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.save_resolution(NIT, resolution(), source="manual")
    store.save_resolution(NIT, resolution(to_number=990000099), source="dian")  # replaces
    store.save_resolution("800199436", resolution(prefix="OTRA"), source="manual")
    (only,) = store.resolutions(NIT)
    assert only.to_number == 990000099
    assert [r.prefix for r in store.resolutions("800199436")] == ["OTRA"]


# -- ledger ----------------------------------------------------------------------------------------
def test_ledger_replay_and_tail_between_instances(tmp_path: Path) -> None:
    a = Ledger(tmp_path / "l")
    b = Ledger(tmp_path / "l")
    with a.transaction() as tx:
        ref = tx.store_request("SETP1", {"document": {"x": 1}})
        tx.append("added", "SETP1", number=1, prefix="SETP", state="ready", req=list(ref))
    with b.transaction() as tx:  # b catches up before writing
        assert tx.get("SETP1") is not None
        tx.append("state", "SETP1", state="signed", cufe="ab" * 48)
    a.refresh()
    rec = a.get("SETP1")
    assert rec is not None and rec.state == "signed" and rec.cufe == "ab" * 48
    assert a.request(rec) == {"document": {"x": 1}}
    assert [e["e"] for e in a.history("SETP1")] == ["added", "state"]


def test_ledger_skips_a_line_cut_by_a_crash(tmp_path: Path) -> None:
    led = Ledger(tmp_path / "l")
    with led.transaction() as tx:
        tx.append("added", "SETP1", number=1, prefix="SETP", state="ready")
    seg = led.folder / "events-000001.jsonl"
    with open(seg, "ab") as fh:
        fh.write(b'{"t":"x","e":"state","doc":"SETP1","sta')  # killed mid-write
    fresh = Ledger(tmp_path / "l")
    assert fresh.get("SETP1").state == "ready"  # type: ignore[union-attr]
    with fresh.transaction() as tx:
        tx.append("state", "SETP1", state="sending")
    again = Ledger(tmp_path / "l")
    assert again.get("SETP1").state == "sending"  # type: ignore[union-attr]


def test_ledger_rotates_segments_and_never_rewrites_closed_ones(tmp_path: Path) -> None:
    led = Ledger(tmp_path / "l", segment_events=3)
    for i in range(7):
        with led.transaction() as tx:
            tx.append("added", f"P{i}", number=i, prefix="P", state="ready")
    first = (led.folder / "events-000001.jsonl").read_bytes()
    with led.transaction() as tx:
        tx.append("state", "P0", state="void")
    assert (led.folder / "events-000001.jsonl").read_bytes() == first
    assert sorted(p.name for p in led.folder.glob("events-*")) == [
        "events-000001.jsonl",
        "events-000002.jsonl",
        "events-000003.jsonl",
    ]
    fresh = Ledger(tmp_path / "l", segment_events=3)
    assert len(fresh.docs) == 7 and fresh.get("P0").state == "void"  # type: ignore[union-attr]


# -- numbering -------------------------------------------------------------------------------------
def _allocate(folder: str, count: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    store = Store(Path(folder))
    led = Ledger(Path(folder) / "companies" / NIT / "ledger")
    got = []
    for _ in range(count):
        with led.transaction() as tx:
            a = numbering.next_number(
                store, tx, NIT, kind="invoice", prefix="SETP", on=date(2026, 12, 3)
            )
            tx.append("added", a.doc_id, number=a.number, prefix=a.prefix, state="ready")
        got.append(a.number)
    out.put(got)


def test_allocator_across_processes_never_repeats_or_skips(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.save_resolution(NIT, resolution(to_number=990000999), source="manual")
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_allocate, args=(str(tmp_path), 25, out)) for _ in range(4)]
    for p in procs:
        p.start()
    numbers = [n for _ in procs for n in out.get(timeout=60)]
    for p in procs:
        p.join(timeout=60)
    assert sorted(numbers) == list(range(990000000, 990000100))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["invoice", "credit_note", "debit_note"]), min_size=1, max_size=30))
def test_allocator_interleaved_kinds(
    tmp_path_factory: pytest.TempPathFactory, kinds: list[str]
) -> None:
    folder = tmp_path_factory.mktemp("n")
    store = Store(folder)
    store.save_resolution(NIT, resolution(), source="manual")
    led = Ledger(folder / "l")
    seen: dict[str, list[int]] = {}
    for kind in kinds:
        with led.transaction() as tx:
            try:
                a = numbering.next_number(
                    store, tx, NIT, kind=kind, prefix=None, on=date(2026, 1, 1)
                )
            except numbering.NumberingError as exc:
                assert kind == "invoice" and "agotado" in exc.message
                assert len(seen.get("SETP", [])) == 10
                continue
            tx.append("added", a.doc_id, number=a.number, prefix=a.prefix, state="ready")
        seen.setdefault(a.prefix, []).append(a.number)
    for prefix, numbers in seen.items():
        start = 990000000 if prefix == "SETP" else 1
        assert numbers == list(range(start, start + len(numbers))), prefix


def test_allocator_refuses_outside_validity_and_names_the_fix(tmp_path: Path) -> None:
    store = Store(tmp_path)
    led = Ledger(tmp_path / "l")
    with (
        led.transaction() as tx,
        pytest.raises(numbering.NumberingError, match="no tiene una resolución"),
    ):
        numbering.next_number(store, tx, NIT, kind="invoice", prefix="SETP", on=date(2026, 1, 1))
    store.save_resolution(NIT, resolution(valid_to=date(2025, 12, 31)), source="manual")
    with (
        led.transaction() as tx,
        pytest.raises(numbering.NumberingError, match="no está vigente el 2026-01-01"),
    ):
        numbering.next_number(store, tx, NIT, kind="invoice", prefix="SETP", on=date(2026, 1, 1))


def test_allocator_moves_to_the_next_resolution_of_the_prefix(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.save_resolution(NIT, resolution(to_number=990000001), source="manual")
    store.save_resolution(
        NIT,
        resolution(number="18760000002", from_number=990001000, to_number=990001999),
        source="dian",
    )
    led = Ledger(tmp_path / "l")
    got = []
    for _ in range(3):
        with led.transaction() as tx:
            a = numbering.next_number(
                store, tx, NIT, kind="invoice", prefix="SETP", on=date(2026, 1, 1)
            )
            tx.append("added", a.doc_id, number=a.number, prefix=a.prefix, state="ready")
            got.append((a.number, a.resolution.number))  # type: ignore[union-attr]
    assert got == [
        (990000000, "18760000001"),
        (990000001, "18760000001"),
        (990001000, "18760000002"),
    ]
