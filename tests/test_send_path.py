"""The send path: open_session, DianSession.submit and the journal rule (issue 10, issue 14).

The rule (``store.journal.must_ask_first``) is tested over event sequences;
the session against the in-process simulator with a transport that counts
the operations it lets through and can fail on demand.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from fe_tui.cli import main, settings_from_context
from fe_tui.crypto.certificates import LoadedCertificate, load_pkcs12
from fe_tui.dian import environments, messages, soap
from fe_tui.dian import outcomes as oc
from fe_tui.domain.models import COLOMBIA_TZ
from fe_tui.errors import CertificateExpiredError, InputError
from fe_tui.services import dian_ops
from fe_tui.services.dian_ops import DianSession, open_session
from fe_tui.settings import Settings
from fe_tui.simulator import Simulator, create_app, demo_config
from fe_tui.simulator.server import build_server
from fe_tui.store.counters import FileCounters
from fe_tui.store.journal import Journal, JournalEvent, must_ask_first
from tests import certs
from tests.test_simulator import invoice, sign

URL = "http://simulador/WcfDianCustomerServices.svc"
YEAR = datetime.now(COLOMBIA_TZ).year


# -- the rule over event sequences ----------------------------------------------------------------
def ev(event: str, kind: str | None = None, **data: Any) -> JournalEvent:
    if kind is not None:
        data["kind"] = kind
    return JournalEvent("2026-01-01T00:00:00+00:00", event, data)


PREPARED = ev("prepared", zip_name="z.zip")


def sent(kind: str, was_sent: bool | None = True) -> JournalEvent:
    return ev("sent", kind, sent=was_sent)


def check(kind: str) -> JournalEvent:
    return ev("status_check", kind, sent=True)


@pytest.mark.parametrize(
    ("events", "ask"),
    [
        ([], False),  # never journaled: nothing can be at DIAN from us
        ([PREPARED], True),  # crash after naming, before `sent`: ambiguous
        ([PREPARED, sent("accepted")], True),
        ([PREPARED, sent("accepted_with_notifications")], True),
        ([PREPARED, sent("already_processed")], True),
        ([PREPARED, sent("timeout_after_send")], True),
        ([PREPARED, sent("timeout_after_send", None)], True),  # a write that stalled
        ([PREPARED, sent("http_error")], True),
        ([PREPARED, sent("soap_fault")], True),
        ([PREPARED, sent("malformed_answer")], True),
        ([PREPARED, sent("queued")], True),
        ([PREPARED, sent("queue_refused")], True),
        ([PREPARED, sent("rejected")], False),  # DIAN's verdict: it does not hold it as valid
        ([PREPARED, sent("connection_failed", False)], False),  # provably never left
        ([PREPARED, ev("not_sent", reason="argumentos")], False),
        ([PREPARED, sent("timeout_after_send"), check("not_found")], False),
        ([PREPARED, sent("timeout_after_send"), check("rejected")], False),
        ([PREPARED, sent("timeout_after_send"), check("accepted")], True),
        # a status check that failed or answered "in process" proves nothing: ask again
        ([PREPARED, sent("timeout_after_send"), check("in_process")], True),
        ([PREPARED, sent("timeout_after_send"), check("connection_failed")], True),
        ([PREPARED, sent("timeout_after_send"), check("timeout_after_send")], True),
        ([PREPARED, sent("timeout_after_send"), check("malformed_answer")], True),
        ([PREPARED, sent("timeout_after_send"), check("batch_status")], True),
        # a verdict followed by a new attempt that crashed mid-send: ask
        ([PREPARED, sent("rejected"), PREPARED], True),
        ([PREPARED, sent("connection_failed", False), PREPARED], True),
        ([check("not_found"), PREPARED], True),
        # events that are not calls do not change the answer
        ([PREPARED, sent("rejected"), ev("note", text="x")], False),
        ([PREPARED, sent("accepted"), ev("note", text="x")], True),
        # an event of a kind we do not know: ask
        ([PREPARED, sent("something_new")], True),
        ([PREPARED, ev("sent")], True),
    ],
)
def test_must_ask_first(events: list[JournalEvent], ask: bool) -> None:
    assert must_ask_first(events) is ask


_CALL = st.sampled_from(
    [
        PREPARED,
        ev("not_sent"),
        *(sent(k) for k in ("accepted", "rejected", "timeout_after_send", "http_error")),
        sent("connection_failed", False),
        *(check(k) for k in ("accepted", "rejected", "not_found", "in_process", "http_error")),
        check("connection_failed"),
    ]
)


@given(st.lists(_CALL, max_size=12))
def test_must_ask_first_depends_only_on_the_last_call(events: list[JournalEvent]) -> None:
    """Send without asking only after a verdict 'not at DIAN' or a send that never left."""
    last = events[-1] if events else None
    expected = last is not None and not (
        last.event == "not_sent"
        or (last.event in ("sent", "status_check") and last.kind in {"rejected", "not_found"})
        or (last.event == "sent" and last.data.get("sent") is False)
    )
    assert must_ask_first(events) is expected
    # in particular: after any `prepared` that is the last call, always ask
    if events and events[-1] is PREPARED:
        assert must_ask_first(events)


# -- sessions against the simulator ----------------------------------------------------------------
class Wire(httpx.AsyncBaseTransport):
    """The simulator behind a switchboard: counts operations, can refuse connections."""

    def __init__(self, sim: Simulator) -> None:
        self.inner = httpx.ASGITransport(app=sim)
        self.ops: list[str] = []
        self.refuse = 0  #: refuse this many requests with a connection error (nothing sent)
        self.before: Callable[[str], None] | None = None
        self.canned: dict[str, bytes] = {}  #: one canned answer per operation, used once

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        op = request.headers["content-type"].rsplit("/", 1)[-1].rstrip('"')
        if self.refuse:
            self.refuse -= 1
            raise httpx.ConnectError("All connection attempts failed", request=request)
        self.ops.append(op)
        if self.before is not None:
            self.before(op)
        if op in self.canned:
            return httpx.Response(200, content=self.canned.pop(op))
        return await self.inner.handle_async_request(request)


@pytest.fixture
def sim() -> Simulator:
    return create_app(demo_config())


@pytest.fixture
def wire(sim: Simulator) -> Wire:
    return Wire(sim)


def settings_for(path: Path, **changes: Any) -> Settings:
    return Settings.load(path, env={}).with_(**changes)


@pytest.fixture
async def session(
    wire: Wire, signing_cert: LoadedCertificate, tmp_path: Path
) -> AsyncIterator[DianSession]:
    env = environments.simulator(URL)
    async with open_session(env, signing_cert, settings_for(tmp_path), transport=wire) as s:
        yield s


def zips(journal: Journal, key: str) -> list[str]:
    return sorted(p.name for p in journal.folder(key).glob("*.zip"))


async def test_a_fresh_document_is_sent_without_asking(
    session: DianSession, wire: Wire, signing_cert: LoadedCertificate
) -> None:
    xml, key = sign(invoice(990002001), signing_cert)
    result = await session.submit(xml)
    assert wire.ops == ["SendBillSync"]
    assert isinstance(result.outcome, oc.Accepted) and result.sent
    assert result.status_check is None and result.notes == ()
    assert result.zip_name == zips(session.journal, key)[0]
    assert (result.document_key, result.document_type) == (key, "01")
    assert result.document_id == "SETP990002001"
    assert session.counters.peek("900373076", YEAR, "fv") == 1


async def test_prepared_without_sent_is_ambiguous_ask_first_and_reuse_the_zip(
    session: DianSession, wire: Wire, signing_cert: LoadedCertificate
) -> None:
    """A crash after naming and before `sent`: GetStatus first, then the same zip."""
    xml, key = sign(invoice(990002002), signing_cert)

    class Crash(BaseException):
        pass

    def crash(op: str) -> None:
        raise Crash

    wire.before = crash
    with pytest.raises(Crash):
        await session.submit(xml)
    assert [e.event for e in session.journal.events(key)] == ["prepared"]
    (first_zip,) = zips(session.journal, key)
    zip_bytes = (session.journal.folder(key) / first_zip).read_bytes()

    wire.before, wire.ops = None, []
    result = await session.submit(xml)
    assert wire.ops == ["GetStatus", "SendBillSync"]
    assert isinstance(result.status_check, oc.NotFound)
    assert isinstance(result.outcome, oc.Accepted)
    assert result.zip_name == first_zip and zips(session.journal, key) == [first_zip]
    assert (session.journal.folder(key) / first_zip).read_bytes() == zip_bytes
    assert session.counters.peek("900373076", YEAR, "fv") == 1  # no consecutive spent


async def test_after_a_connection_failure_the_same_zip_is_sent_without_asking(
    session: DianSession, wire: Wire, signing_cert: LoadedCertificate
) -> None:
    xml, key = sign(invoice(990002003), signing_cert)
    wire.refuse = 1
    failed = await session.submit(xml)
    assert isinstance(failed.outcome, oc.ConnectionFailed) and not failed.sent
    assert failed.zip_name is not None
    assert wire.ops == []
    again = await session.submit(xml)
    assert wire.ops == ["SendBillSync"]  # nothing had left: no GetStatus needed
    assert isinstance(again.outcome, oc.Accepted) and again.sent
    assert again.zip_name == failed.zip_name  # same name, same bytes, no new consecutive
    assert zips(session.journal, key) == [failed.zip_name]
    assert session.counters.peek("900373076", YEAR, "fv") == 1
    assert any(failed.zip_name in n for n in again.notes)
    kinds = [(e.event, e.kind) for e in session.journal.events(key)]
    assert kinds == [
        ("prepared", None),
        ("sent", "connection_failed"),
        ("prepared", None),
        ("sent", "accepted"),
    ]


async def test_a_failed_status_check_means_ask_again_next_time(
    session: DianSession, wire: Wire, signing_cert: LoadedCertificate
) -> None:
    xml, key = sign(invoice(990002004), signing_cert)
    session.journal.append(key, "sent", kind="timeout_after_send", sent=True)
    wire.refuse = 1  # the status check cannot connect
    first = await session.submit(xml)
    assert isinstance(first.outcome, oc.ConnectionFailed) and first.outcome.operation == "GetStatus"
    assert not first.sent and first.zip_name is None and wire.ops == []
    assert first.notes and "no se reenvió" in first.notes[0]
    assert session.journal.must_ask_first(key)  # never "needs no check"
    second = await session.submit(xml)
    assert wire.ops == ["GetStatus", "SendBillSync"]
    assert isinstance(second.outcome, oc.Accepted)


def in_process_answer() -> bytes:
    response = messages.DianResponse(
        is_valid=False, status_code="98", status_description="En proceso de validación"
    )
    body = messages.render_dian_response("GetStatus", response)
    return soap.envelope(body, action=soap.ACTION_BASE + "GetStatusResponse")


async def test_in_process_status_means_do_not_send_and_ask_again(
    session: DianSession, wire: Wire, signing_cert: LoadedCertificate
) -> None:
    xml, key = sign(invoice(990002005), signing_cert)
    session.journal.append(key, "sent", kind="timeout_after_send", sent=True)
    wire.canned["GetStatus"] = in_process_answer()
    first = await session.submit(xml)
    assert wire.ops == ["GetStatus"]
    assert isinstance(first.outcome, oc.InProcess) and not first.sent
    assert first.zip_name is None and "sin veredicto" in first.notes[0]
    assert session.journal.last_call(key).kind == "in_process"  # type: ignore[union-attr]
    assert session.journal.must_ask_first(key)  # "in process" never means "needs no check"
    second = await session.submit(xml)
    assert wire.ops == ["GetStatus", "GetStatus", "SendBillSync"]
    assert isinstance(second.outcome, oc.Accepted)


async def test_an_accepted_document_is_not_sent_again_nor_named(
    session: DianSession, wire: Wire, signing_cert: LoadedCertificate
) -> None:
    xml, key = sign(invoice(990002006), signing_cert)
    first = await session.submit(xml)
    assert isinstance(first.outcome, oc.Accepted)
    wire.ops = []
    again = await session.submit(xml)
    assert wire.ops == ["GetStatus"]
    assert isinstance(again.outcome, oc.Accepted) and again.outcome.operation == "GetStatus"
    assert not again.sent and again.zip_name is None
    assert zips(session.journal, key) == [first.zip_name]
    assert session.counters.peek("900373076", YEAR, "fv") == 1


async def test_after_a_rejection_it_is_sent_again_without_asking(
    session: DianSession, wire: Wire, signing_cert: LoadedCertificate, sim: Simulator
) -> None:
    xml, key = sign(invoice(990002007), signing_cert)
    session.journal.append(key, "sent", kind="rejected", sent=True)
    result = await session.submit(xml)
    assert wire.ops == ["SendBillSync"]
    assert isinstance(result.outcome, oc.Accepted)


async def test_a_send_refused_locally_is_not_sent_and_needs_no_check(
    session: DianSession, wire: Wire, signing_cert: LoadedCertificate, monkeypatch: Any
) -> None:
    xml, key = sign(invoice(990002008), signing_cert)

    async def refuse(package: Any) -> oc.Outcome:
        raise InputError("argumento inválido")

    monkeypatch.setattr(session.client, "send_bill_sync", refuse)
    with pytest.raises(InputError):
        await session.submit(xml)
    assert [e.event for e in session.journal.events(key)] == ["prepared", "not_sent"]
    monkeypatch.undo()
    result = await session.submit(xml)
    assert wire.ops == ["SendBillSync"] and isinstance(result.outcome, oc.Accepted)


async def test_regla_90_fetches_the_existing_result(
    wire: Wire, signing_cert: LoadedCertificate, tmp_path: Path
) -> None:
    """DIAN has the document but this journal does not (another machine sent it)."""
    xml, key = sign(invoice(990002009), signing_cert)
    env = environments.simulator(URL)
    async with open_session(env, signing_cert, settings_for(tmp_path / "a"), transport=wire) as a:
        assert isinstance((await a.submit(xml)).outcome, oc.Accepted)
    wire.ops = []
    async with open_session(env, signing_cert, settings_for(tmp_path / "b"), transport=wire) as b:
        result = await b.submit(xml)
    assert wire.ops == ["SendBillSync", "GetStatus"]
    assert isinstance(result.outcome, oc.Accepted) and result.outcome.operation == "GetStatus"
    assert result.sent and any("Regla 90" in n for n in result.notes)
    assert b.journal.last_call(key).kind == "accepted"  # type: ignore[union-attr]


async def test_one_document_sent_by_many_tasks_at_once_goes_out_once(
    session: DianSession, wire: Wire, signing_cert: LoadedCertificate
) -> None:
    xml, key = sign(invoice(990002010), signing_cert)
    results = await asyncio.gather(*(session.submit(xml) for _ in range(5)))
    assert wire.ops.count("SendBillSync") == 1 and wire.ops.count("GetStatus") == 4
    assert all(isinstance(r.outcome, oc.Accepted) for r in results)
    assert sum(r.sent for r in results) == 1
    assert len(zips(session.journal, key)) == 1


async def test_the_per_key_lock_holds_across_processes(
    session: DianSession, wire: Wire, signing_cert: LoadedCertificate
) -> None:
    """Another process (here: another open file description) holds the flock: we wait."""
    xml, key = sign(invoice(990002011), signing_cert)
    folder = session.journal.folder(key)
    folder.mkdir(parents=True)
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        task = asyncio.create_task(session.submit(xml))
        await asyncio.sleep(0.3)
        assert not task.done() and wire.ops == []
    finally:
        os.close(fd)
    result = await asyncio.wait_for(task, 10)
    assert isinstance(result.outcome, oc.Accepted) and wire.ops == ["SendBillSync"]


async def test_a_cancelled_wait_for_the_lock_leaves_nothing_behind(
    session: DianSession, wire: Wire, signing_cert: LoadedCertificate
) -> None:
    xml, key = sign(invoice(990002012), signing_cert)
    folder = session.journal.folder(key)
    folder.mkdir(parents=True)
    fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    task = asyncio.create_task(session.submit(xml))
    await asyncio.sleep(0.1)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    os.close(fd)
    assert session.journal.events(key) == [] and wire.ops == []
    result = await session.submit(xml)  # the lock is free again
    assert isinstance(result.outcome, oc.Accepted)


async def test_an_expired_certificate_opens_no_session_and_spends_nothing(
    wire: Wire, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    leaf = certs.make_leaf(not_before=now - timedelta(days=400), not_after=now - timedelta(days=1))
    expired = load_pkcs12(certs.make_p12(leaf.key, leaf.cert), certs.DEFAULT_PASSWORD)
    env = environments.simulator(URL)
    with pytest.raises(CertificateExpiredError):
        async with open_session(env, expired, settings_for(tmp_path / "state"), transport=wire):
            pass
    assert not (tmp_path / "state").exists() and wire.ops == []


async def test_test_set_waits_for_the_batch_and_journals_the_verdict(
    session: DianSession, wire: Wire, signing_cert: LoadedCertificate
) -> None:
    from fe_tui.simulator.config import DEMO_TEST_SET_ID

    session.poll_interval = 0.01
    xml, key = sign(invoice(990002013), signing_cert)
    result = await session.submit(xml, test_set_id=DEMO_TEST_SET_ID, wait=5)
    assert wire.ops[0] == "SendTestSetAsync" and "GetStatusZip" in wire.ops
    assert isinstance(result.outcome, oc.BatchStatus) and not result.outcome.in_process
    last = session.journal.last_call(key)
    assert last is not None and last.kind == "accepted" and last.data["zip_key"]
    with pytest.raises(InputError):
        await session.submit(xml, test_set_id="  ")


async def test_status_validates_the_key_and_journals_known_documents(
    session: DianSession, wire: Wire, signing_cert: LoadedCertificate
) -> None:
    for bad in ("abc", "", "z" * 96, "0" * 97, "1234-5678"):
        with pytest.raises(InputError, match="No se consultó a la DIAN"):
            await session.status(bad)
    assert wire.ops == []
    unknown = await session.status("0" * 96)
    assert isinstance(unknown, oc.NotFound)
    assert not session.journal.folder("0" * 96).exists()  # not journaled: nothing written
    batch = await session.status("c3b9f2a0-5d1e-4f7a-9b8c-2e6d4a1f0b37")
    assert batch.operation == "GetStatusZip"
    xml, key = sign(invoice(990002014), signing_cert)
    await session.submit(xml)
    status = await session.status(f"  {key} ")
    assert isinstance(status, oc.Accepted)
    assert [e.event for e in session.journal.events(key)][-1] == "status_check"


async def test_ranges_and_acquirer(session: DianSession, wire: Wire) -> None:
    from fe_tui.simulator.config import DEMO_SOFTWARE_ID

    ranges = await session.ranges("900373076", DEMO_SOFTWARE_ID)
    assert isinstance(ranges, oc.NumberingRanges)
    for bad in ("900.373.076", "900373076-5", ""):
        with pytest.raises(InputError):
            await session.ranges(bad, DEMO_SOFTWARE_ID)
    with pytest.raises(InputError):
        await session.ranges("900373076", " ")
    assert isinstance(await session.acquirer("31", "800199436"), oc.Acquirer)
    assert wire.ops == ["GetNumberingRange", "GetAcquirer"]


def test_the_session_api_is_exported() -> None:
    for name in ("open_session", "DianSession", "SubmitResult", "outcome_to_dict"):
        assert hasattr(dian_ops, name)
    assert dian_ops.outcome_to_dict is oc.outcome_to_dict


# -- the CLI over the session ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def sim_server() -> Iterator[tuple[Simulator, str]]:
    """The simulator served by uvicorn in a thread (its own event loop, off the test's)."""
    server, app = build_server(0, log_level="warning")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(1000):
        if server.started:
            break
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield app, f"http://127.0.0.1:{port}/WcfDianCustomerServices.svc"
    finally:
        server.should_exit = True
        thread.join(10)


#: Variables that would point the CLI at the developer's own data.
CLEAN_ENV: dict[str, str | None] = {
    "FE_TUI_DATA_DIR": None,
    "FE_TUI_STATE_DIR": None,
    "FE_TUI_ENV": None,
    "FE_TUI_DIAN_URL": None,
    "FE_TUI_CERT": None,
    "FE_TUI_TIMEOUT": None,
    "FE_TUI_CERT_PASSWORD": certs.DEFAULT_PASSWORD,
}


def fe_tui(*args: str, **env: str | None) -> Result:
    return CliRunner().invoke(main, list(args), env={**CLEAN_ENV, **env}, catch_exceptions=False)


def signed_file(tmp_path: Path, cert: LoadedCertificate, number: int) -> tuple[Path, str]:
    xml, key = sign(invoice(number), cert)
    path = tmp_path / f"f{number}.xml"
    path.write_bytes(xml)
    return path, key


def test_cli_data_dir_option_and_variable(
    sim_server: tuple[Simulator, str],
    p12_file: Path,
    signing_cert: LoadedCertificate,
    tmp_path: Path,
) -> None:
    _, url = sim_server
    doc, key = signed_file(tmp_path, signing_cert, 990003001)
    common = ("--env", "simulator", "--url", url, "--cert", str(p12_file))
    data = tmp_path / "datos" / "fe"
    r = fe_tui("--data-dir", str(data), "dian", "send", str(doc), *common, "--json")
    assert r.exit_code == 0, r.output
    answer = json.loads(r.output)
    assert answer["kind"] == "accepted" and answer["document_key"] == key
    assert (data / "journal" / key / answer["zip_name"]).exists()
    # FE_TUI_DATA_DIR does the same; FE_TUI_ENV and FE_TUI_DIAN_URL come through Settings
    other = tmp_path / "otra"
    doc2, key2 = signed_file(tmp_path, signing_cert, 990003002)
    r = fe_tui(
        "dian", "send", str(doc2), "--cert", str(p12_file),
        FE_TUI_DATA_DIR=str(other), FE_TUI_ENV="simulator", FE_TUI_DIAN_URL=url,
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "Simulador" in r.output and (other / "journal" / key2 / "document.xml").exists()
    # a bad variable is one Spanish line from the command that needs the settings
    r = fe_tui("--data-dir", str(data), "dian", "status", key, *common, FE_TUI_TIMEOUT="mucho")
    assert r.exit_code == 2 and "FE_TUI_TIMEOUT" in r.output and "Traceback" not in r.output


def test_settings_from_context_reads_the_global_option(tmp_path: Path) -> None:
    seen: list[Settings] = []

    @main.command("probe-settings", hidden=True)
    def probe() -> None:
        seen.append(settings_from_context())

    try:
        assert fe_tui("--data-dir", str(tmp_path / "d"), "probe-settings").exit_code == 0
        assert fe_tui("probe-settings", FE_TUI_DATA_DIR=str(tmp_path / "e")).exit_code == 0
    finally:
        main.commands.pop("probe-settings")
    assert [s.data_dir for s in seen] == [tmp_path / "d", tmp_path / "e"]
    assert seen[0].state_dir == tmp_path / "d"
    assert settings_from_context().data_dir  # outside a command: Settings.load()


def test_cli_wrong_password_names_no_zip_and_spends_no_consecutive(
    sim_server: tuple[Simulator, str],
    p12_file: Path,
    signing_cert: LoadedCertificate,
    tmp_path: Path,
) -> None:
    """Issue 14 item 5: a local certificate error after naming printed a zip and spent it."""
    _, url = sim_server
    doc, key = signed_file(tmp_path, signing_cert, 990003003)
    data = tmp_path / "datos"
    r = fe_tui(
        "--data-dir", str(data), "dian", "send", str(doc),
        "--env", "simulator", "--url", url, "--cert", str(p12_file),
        FE_TUI_CERT_PASSWORD="mala",
    )  # fmt: skip
    assert r.exit_code == 2 and ".zip" not in r.output
    assert not (data / "file-counters.json").exists() and not (data / "journal").exists()


def test_cli_retry_after_connection_failure_reuses_the_zip(
    p12_file: Path, signing_cert: LoadedCertificate, tmp_path: Path
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    closed = f"http://127.0.0.1:{port}/WcfDianCustomerServices.svc"
    doc, key = signed_file(tmp_path, signing_cert, 990003004)
    data = tmp_path / "datos"
    args = ("--data-dir", str(data), "dian", "send", str(doc), "--env", "simulator")
    names = []
    for _ in range(3):
        r = fe_tui(*args, "--url", closed, "--cert", str(p12_file), "--json")
        assert r.exit_code == 3, r.output
        names.append(json.loads(r.output)["zip_name"])
    assert len(set(names)) == 1 and names[0]
    assert sorted(p.name for p in (data / "journal" / key).glob("*.zip")) == names[:1]
    assert FileCounters(data).peek("900373076", YEAR, "fv") == 1


def test_cli_no_verdict_hint_is_the_full_runnable_status_command(
    sim_server: tuple[Simulator, str],
    p12_file: Path,
    signing_cert: LoadedCertificate,
    tmp_path: Path,
) -> None:
    """Issue 14 item 7: the hint printed a literal ``CUFE``; now it is the whole command,
    with this run's data folder, environment, URL, certificate and password variable."""
    import shlex

    from fe_tui.simulator.config import Faults

    app, url = sim_server
    doc, key = signed_file(tmp_path, signing_cert, 990003005)
    data = tmp_path / "mis datos"  # a space: the command must be quoted to be copyable
    app.faults = Faults(accept_then_drop=True, hang_seconds=3, count=1)
    try:
        r = fe_tui(
            "--data-dir", str(data), "dian", "send", str(doc),
            "--env", "simulator", "--url", url, "--cert", str(p12_file),
            "--password-env", "CLAVE_P12", "--timeout", "1",
            CLAVE_P12=certs.DEFAULT_PASSWORD,
        )  # fmt: skip
    finally:
        app.faults = Faults()
    assert r.exit_code == 3, r.output
    assert "status CUFE" not in r.output
    lines = [line.strip() for line in r.output.splitlines()]
    command = next(line for line in lines if line.startswith("fe-tui "))
    words = shlex.split(command)
    assert words[:5] == ["fe-tui", "--data-dir", str(data), "dian", "status"]
    assert words[5] == key and len(key) == 96
    for option, value in [
        ("--env", "simulator"),
        ("--url", url),
        ("--cert", str(p12_file)),
        ("--password-env", "CLAVE_P12"),
    ]:
        assert words[words.index(option) + 1] == value, command
    # Run as printed: DIAN (the simulator) kept the document, so the status says accepted.
    asked = fe_tui(*words[1:], CLAVE_P12=certs.DEFAULT_PASSWORD)
    assert asked.exit_code == 0, asked.output
    # With a verdict there is nothing to ask: --json says so.
    again = fe_tui(*words[1:], "--json", CLAVE_P12=certs.DEFAULT_PASSWORD)
    assert json.loads(again.output)["status_command"] is None  # a verdict: nothing to ask


def test_service_hints_are_completed_into_the_full_status_command() -> None:
    """The services' warnings and notes (a re-dated resend, Regla 90 with another CUFE) name
    ``fe-tui dian status KEY``; the CLI prints them with this run's options."""
    from fe_tui.cli import DianCall

    url = "http://127.0.0.1:8089/WcfDianCustomerServices.svc"
    opts = DianCall("simulator", url, Path("/c/empresa.p12"), "FE_TUI_CERT_PASSWORD", None, False)
    key = "ab" * 48
    note = f"no lo renumere. Consulte: {dian_ops.status_command(key)}"
    assert opts.runnable(note) == (
        f"no lo renumere. Consulte: fe-tui dian status {key} --env simulator --url {url} "
        "--cert /c/empresa.p12"
    )
    assert opts.runnable("sin clave") == "sin clave"


def _modes_under(root: Path) -> list[str]:
    """Every file not 0600 and every folder not 0700 below ``root`` (``root`` excluded)."""
    wrong = []
    for path in sorted(root.rglob("*")):
        mode = path.stat().st_mode & 0o777
        expected = 0o700 if path.is_dir() else 0o600
        if mode != expected:
            wrong.append(f"{oct(mode)} {path.relative_to(root)}")
    return wrong


def test_everything_fe_tui_creates_is_private_under_umask_000(
    sim_server: tuple[Simulator, str],
    p12_file: Path,
    signing_cert: LoadedCertificate,
    tmp_path: Path,
) -> None:
    """Issue 14 item 6: data folder (and the parents it creates), store, ledger, send journal,
    file counters, locks, outputs and the simulator's state: 0600 files, 0700 folders,
    whatever the umask."""
    from fe_tui.services.demo import DEMO_CERT_PASSWORD
    from fe_tui.simulator.state import State
    from tests.conftest import EXAMPLES

    _, url = sim_server
    doc, _ = signed_file(tmp_path, signing_cert, 990003006)
    made = tmp_path / "creado"
    made.mkdir(mode=0o700)
    data = made / "a" / "b" / "datos"  # parents fe-tui has to create
    state = made / "c" / "estado"
    previous = os.umask(0)
    try:
        assert fe_tui("--data-dir", str(data), "demo", "--no-ui").exit_code == 0
        r = fe_tui("--data-dir", str(data), "queue", "add", str(EXAMPLES / "factura.json"))
        assert r.exit_code == 0, r.output
        r = fe_tui("--data-dir", str(data), "queue", "run", FE_TUI_CERT_PASSWORD=DEMO_CERT_PASSWORD)
        assert r.exit_code == 0, r.output
        r = fe_tui(
            "dian", "send", str(doc), "--env", "simulator", "--url", url, "--cert", str(p12_file),
            FE_TUI_DATA_DIR=str(data), FE_TUI_STATE_DIR=str(state),
        )  # fmt: skip
        assert r.exit_code == 0, r.output
        out = made / "salida"
        out.mkdir(mode=0o700)
        os.chmod(out, 0o700)
        unsigned = out / "f.xml"
        r = fe_tui("build", str(EXAMPLES / "factura.json"), "--now", "-o", str(unsigned))
        assert r.exit_code == 0, r.output
        r = fe_tui("sign", str(unsigned), "--cert", str(p12_file), "-o", str(out / "g.xml"))
        assert r.exit_code == 0, r.output
        simulated = State(made / "d" / "e" / "simulador")
        simulated.count_send("a" * 96)
        simulated.persist()
    finally:
        os.umask(previous)
    assert (data / "store.json").exists() and (data / "journal").is_dir()
    assert list(data.glob("companies/*/ledger/events-*.jsonl"))
    assert (state / "journal").is_dir() and (state / "file-counters.json").exists()
    assert (state / ".file-counters.lock").exists()
    assert _modes_under(made) == []


# -- raw answers in the journal (issue 10) ---------------------------------------------------------
async def test_raw_answers_are_journaled_and_classify_again(
    session: DianSession, wire: Wire, signing_cert: LoadedCertificate
) -> None:
    xml, key = sign(invoice(990004001), signing_cert)
    bad = xml.replace(b">1018060.00<", b">1018061.00<", 1)  # a broken signature: rejected
    rejected = await session.submit(bad)
    assert isinstance(rejected.outcome, oc.Rejected)
    session.journal.append(key, "sent", kind="timeout_after_send", sent=True)
    accepted = await session.submit(xml)  # GetStatus (rejected, so send) then SendBillSync
    assert isinstance(accepted.outcome, oc.Accepted)
    await session.status(key)
    calls = [e for e in session.journal.events(key) if e.event in ("sent", "status_check")]
    stored = [e for e in calls if "answer_file" in e.data]
    assert [e.kind for e in stored] == ["rejected", "rejected", "accepted", "accepted"]
    assert [e.data["operation"] for e in stored] == [
        "SendBillSync", "GetStatus", "SendBillSync", "GetStatus",
    ]  # fmt: skip
    for event in stored:
        path = session.journal.folder(key) / event.data["answer_file"]
        assert path.stat().st_mode & 0o777 == 0o600
        assert event.data["answer_bytes"] == path.stat().st_size
        assert event.data["answer_truncated"] is False
        again = dian_ops.stored_outcome(session.journal, key, event)
        assert again is not None and again.kind == event.kind, event
        assert again.message == event.data["message"]
    # the rules of a stored rejection are explained again, as when it arrived
    again = dian_ops.stored_outcome(session.journal, key, stored[0])
    assert isinstance(again, oc.Rejected) and [r.code for r in again.rules] == [
        r.code for r in rejected.outcome.rules
    ]


def test_stored_answers_are_capped_and_named_safely(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    key = "ab" * 48
    big = b"<x>" + b"y" * (300 * 1024) + b"</x>"
    journal.record_call(key, "sent", big, kind="malformed_answer", operation="SendBillSync")
    journal.record_call(key, "status_check", None, kind="connection_failed", operation="GetStatus")
    journal.record_call(key, "status_check", b"<a/>", kind="x", operation="../../etc")
    first, second, third = journal.events(key)
    assert first.data["answer_truncated"] is True
    assert journal.answer(key, first) == big[: Journal.ANSWER_CAP]
    assert "answer_file" not in second.data and journal.answer(key, second) is None
    assert third.data["answer_file"].endswith("-answer.xml")  # no path from an operation name
    forged = JournalEvent("", "sent", {"answer_file": "../events.jsonl"})
    assert journal.answer(key, forged) is None


def test_the_store_does_not_import_services() -> None:
    import subprocess
    import sys

    code = (
        "import sys, fe_tui.store.journal, fe_tui.store.counters; "
        "print([m for m in sys.modules if m.startswith('fe_tui.services')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- CPU and disk off the event loop (issue 10) ----------------------------------------------------
async def test_a_batch_of_sends_does_not_stall_the_event_loop(
    sim_server: tuple[Simulator, str],
    signing_cert: LoadedCertificate,
    tmp_path: Path,
    monkeypatch: Any,
) -> None:
    """Signing, parsing and the journal's fsyncs run in threads; a ticker keeps ticking.

    The simulator runs in its own thread (uvicorn), so what the loop does is ours.
    Timings are printed, not asserted tightly (the machine is shared).
    """
    from fe_tui.dian import client as client_module

    _, url = sim_server
    loop_thread = threading.get_ident()
    threads: dict[str, set[bool]] = {"sign": set(), "classify": set(), "fsync": set()}

    def watch(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            threads[name].add(threading.get_ident() == loop_thread)
            return fn(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(soap, "build_request", watch("sign", soap.build_request))
    monkeypatch.setattr(
        client_module, "classify_answer", watch("classify", client_module.classify_answer)
    )
    monkeypatch.setattr(os, "fsync", watch("fsync", os.fsync))
    documents = [sign(invoice(990005000 + i), signing_cert)[0] for i in range(12)]

    gaps: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    env = environments.simulator(url)
    async with open_session(env, signing_cert, settings_for(tmp_path)) as session:
        results = await asyncio.gather(*(session.submit(x) for x in documents))
    stop.set()
    await tick
    assert all(isinstance(r.outcome, oc.Accepted) for r in results)
    worst = max(gaps) - 0.005
    print(f"\nticks {len(gaps)}, worst stall {worst * 1000:.1f} ms")
    # every envelope signed, every answer read and every fsync done off the loop's thread
    assert threads == {"sign": {False}, "classify": {False}, "fsync": {False}}
    assert worst < 2.0  # only a gross regression (work back on the loop for a batch) fails
