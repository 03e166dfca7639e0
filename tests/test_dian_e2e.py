"""The DIAN client against the local simulator: every operation, rejections, faults, a real process.

In-process through ``httpx.ASGITransport`` for the contract and the rules; a
real uvicorn server on 127.0.0.1 where socket timeouts matter; and one
end-to-end run of ``fe-tui simulator`` as its own process, spoken to over TCP
by the client and by the ``fe-tui dian`` commands.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import xmlsec
from cryptography.hazmat.primitives import serialization
from lxml import etree

from fe_tui import ns
from fe_tui.crypto.certificates import LoadedCertificate, load_pkcs12
from fe_tui.crypto.verify import verify_document
from fe_tui.dian import environments
from fe_tui.dian import outcomes as oc
from fe_tui.dian.client import DianClient
from fe_tui.domain.models import COLOMBIA_TZ
from fe_tui.services import dian_ops, documents
from fe_tui.settings import Settings
from fe_tui.simulator import Faults, Simulator, create_app, demo_config
from fe_tui.simulator.config import (
    DEMO_ACQUIRER_EMAIL,
    DEMO_ACQUIRER_NAME,
    DEMO_SOFTWARE_ID,
    DEMO_TEST_SET_ID,
)
from fe_tui.simulator.server import build_server
from fe_tui.store.counters import FileCounters
from fe_tui.ubl import packaging
from tests import certs
from tests.conftest import EXAMPLES, example_request
from tests.test_simulator import invoice, note, sign, signed_event, with_customer

URL = "http://simulador/WcfDianCustomerServices.svc"
TIMEOUT = httpx.Timeout(5.0)


class _Tamper(httpx.AsyncBaseTransport):
    """Rewrites each request body before the simulator sees it (a man in the middle)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, edit: Callable[[bytes], bytes]) -> None:
        self.inner, self.edit = inner, edit

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = self.edit(await request.aread())
        headers = [(k, v) for k, v in request.headers.items() if k.lower() != "content-length"]
        forged = httpx.Request(request.method, request.url, headers=headers, content=body)
        return await self.inner.handle_async_request(forged)


@pytest.fixture
def sim() -> Simulator:
    return create_app(demo_config())


@pytest.fixture
async def dian(sim: Simulator, signing_cert: LoadedCertificate) -> AsyncIterator[DianClient]:
    env = environments.simulator(URL)
    async with DianClient(
        env, signing_cert, transport=httpx.ASGITransport(app=sim), timeout=TIMEOUT
    ) as client:
        yield client


_seq = iter(range(1, 100_000))


def pack(xml: bytes, document_type: str = "01") -> packaging.Package:
    return packaging.pack(
        xml, document_type=document_type, nit="900373076", year=2026, consecutive=next(_seq)
    )


def rule_codes(outcome: oc.Outcome) -> list[str | None]:
    return [r.code for r in getattr(outcome, "rules", [])]


# -- every operation -------------------------------------------------------------------------------
async def test_send_status_xml_and_application_response(
    dian: DianClient, signing_cert: LoadedCertificate
) -> None:
    xml, key = sign(invoice(990000101), signing_cert)
    outcome = await dian.send_bill_sync(pack(xml))
    assert isinstance(outcome, oc.Accepted), outcome.message
    assert outcome.final and not outcome.needs_status_check
    ar = outcome.response.application_response
    assert ar is not None and ar.response_code == "02" and ar.document_key == key
    # DIAN's ApplicationResponse is signed: our verifier and python-xmlsec agree.
    assert verify_document(ar.xml).valid
    root = etree.fromstring(ar.xml)
    xmlsec.tree.add_ids(root, ["Id"])
    ctx = xmlsec.SignatureContext()
    cert_b64 = root.findtext(f".//{{{ns.DS}}}X509Certificate") or ""
    ctx.key = xmlsec.Key.from_memory(base64.b64decode(cert_b64), xmlsec.KeyFormat.CERT_DER)
    ctx.verify(root.find(f".//{{{ns.DS}}}Signature"))

    status = await dian.get_status(key)
    assert isinstance(status, oc.Accepted) and status.response.xml_document_key == key
    stored = await dian.get_xml_by_document_key(key)
    assert isinstance(stored, oc.StoredXml) and stored.xml == xml
    missing = await dian.get_status("0" * 96)
    assert isinstance(missing, oc.NotFound)


async def test_numbering_ranges_become_resolutions(dian: DianClient) -> None:
    outcome = await dian.get_numbering_range("900373076", "900373076", DEMO_SOFTWARE_ID)
    assert isinstance(outcome, oc.NumberingRanges), outcome.message
    (resolution,) = outcome.resolutions()
    assert resolution.prefix == "SETP" and resolution.contains(990000001)
    assert resolution.technical_key == "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c"
    unknown = await dian.get_numbering_range("900373076", "900373076", "no-registrado")
    assert isinstance(unknown, oc.NumberingFailed)


async def test_test_set_through_the_client(
    dian: DianClient, signing_cert: LoadedCertificate
) -> None:
    keys = {}
    for number in (990000201, 990000202):
        xml, keys[number] = sign(invoice(number), signing_cert)
        queued = await dian.send_test_set_async(pack(xml), DEMO_TEST_SET_ID)
        assert isinstance(queued, oc.Queued), queued.message
        batch = await dian.get_status_zip(queued.zip_key)
        assert isinstance(batch, oc.BatchStatus) and not batch.test_set_accepted
    for kind, number, doc_type in (("nota-credito", 31, "91"), ("nota-debito", 32, "92")):
        xml, _ = sign(note(kind, number, "SETP990000201", keys[990000201]), signing_cert)
        queued = await dian.send_test_set_async(pack(xml, doc_type), DEMO_TEST_SET_ID)
        assert isinstance(queued, oc.Queued)
        batch = await dian.get_status_zip(queued.zip_key)
    assert isinstance(batch, oc.BatchStatus)
    assert batch.test_set_accepted, [i.message for i in batch.items]
    assert dian_ops.exit_code(batch) == 0
    refused = await dian.send_test_set_async(pack(xml, "92"), "no-existe")
    assert isinstance(refused, oc.QueueRefused)


async def test_send_bill_async_and_event(
    dian: DianClient, sim: Simulator, signing_cert: LoadedCertificate
) -> None:
    xml, key = sign(invoice(990000301), signing_cert)
    queued = await dian.send_bill_async(pack(xml))
    assert isinstance(queued, oc.Queued)
    batch = await dian.get_status_zip(queued.zip_key)
    assert isinstance(batch, oc.BatchStatus) and isinstance(batch.items[0], oc.Accepted)

    event = signed_event("SETP990000301", key, signing_cert, ar_number=9)  # acuse de recibo
    pkg = packaging.Package("ar.xml", "ar.zip", packaging.zip_files({"ar.xml": event}))
    outcome = await dian.send_event_update_status(pkg)
    assert isinstance(outcome, oc.Accepted), outcome.message


async def test_acquirer_look_up_then_faj71(
    dian: DianClient, signing_cert: LoadedCertificate
) -> None:
    found = await dian.get_acquirer("31", "800199436")
    assert isinstance(found, oc.Acquirer), found.message
    assert (found.name, found.email) == (DEMO_ACQUIRER_NAME, DEMO_ACQUIRER_EMAIL)
    assert dian_ops.exit_code(found) == 0
    person = await dian.get_acquirer("13", "1020304050")
    assert isinstance(person, oc.Acquirer) and person.email.endswith("@example.com")
    missing = await dian.get_acquirer("31", "900000001")
    assert isinstance(missing, oc.AcquirerNotFound)
    assert missing.response.status_code == "404" and "900000001" in missing.message
    assert dian_ops.exit_code(missing) == 1
    # An invoice to that buyer with another e-mail: FAJ71, explained; GetAcquirer's e-mail fixes it.
    wrong = with_customer(invoice(990000151), email="otra.cuenta@distriantioquena.com.co")
    outcome = await dian.send_bill_sync(pack(sign(wrong, signing_cert)[0]))
    assert isinstance(outcome, oc.Rejected), outcome.message
    assert rule_codes(outcome) == ["FAJ71"]
    rule = outcome.rules[0]
    assert rule.known and rule.fix and "GetAcquirer" in rule.fix
    fixed = with_customer(invoice(990000151), email=found.email)
    assert isinstance(await dian.send_bill_sync(pack(sign(fixed, signing_cert)[0])), oc.Accepted)


# -- rejections, with explanations -----------------------------------------------------------------
def _wrong_uuid(root: etree._Element) -> None:
    el = root.find(f"{{{ns.CBC}}}UUID")
    assert el is not None
    el.text = "0" * 96


def _expired_range_config() -> Any:
    config = demo_config()
    issuer = config.issuers[0]
    expired = issuer.ranges[0].model_copy(
        update={"valid_from": datetime(2024, 1, 1).date(), "valid_to": datetime(2025, 1, 1).date()}
    )
    return config.model_copy(update={"issuers": [issuer.model_copy(update={"ranges": [expired]})]})


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda cert: sign(invoice(990000401), cert, tamper=_wrong_uuid)[0], "FAD06"),
        (
            lambda cert: sign(invoice(990000402), cert)[0].replace(
                b">1018060.00<", b">1018061.00<", 1
            ),
            "ZE02",
        ),
        (lambda cert: sign(invoice(995000001), cert)[0], "FAD05d"),
    ],
    ids=["wrong-cufe", "tampered-signature", "outside-range"],
)
async def test_rejections_are_explained(
    dian: DianClient,
    signing_cert: LoadedCertificate,
    make: Callable[[LoadedCertificate], bytes],
    expected: str,
) -> None:
    outcome = await dian.send_bill_sync(pack(make(signing_cert)))
    assert isinstance(outcome, oc.Rejected), outcome.message
    assert expected in rule_codes(outcome)
    rule = next(r for r in outcome.rules if r.code == expected)
    assert rule.known and rule.explanation and rule.fix and rule.xpath
    assert "mismo número" in outcome.message
    assert dian_ops.exit_code(outcome) == 1


async def test_expired_resolution(signing_cert: LoadedCertificate) -> None:
    sim = create_app(_expired_range_config())
    env = environments.simulator(URL)
    async with DianClient(env, signing_cert, transport=httpx.ASGITransport(app=sim)) as client:
        outcome = await client.send_bill_sync(pack(sign(invoice(990000403), signing_cert)[0]))
    assert isinstance(outcome, oc.Rejected)
    assert "FAB08b" in rule_codes(outcome)


async def test_sender_certificate_of_another_nit(sim: Simulator) -> None:
    now = datetime.now(UTC)
    other = certs.make_leaf(nit="800199436", not_before=now - timedelta(days=1))
    stranger = load_pkcs12(certs.make_p12(other.key, other.cert), certs.DEFAULT_PASSWORD)
    signer = load_pkcs12(
        certs.make_p12(certs.default_leaf().key, certs.default_leaf().cert), certs.DEFAULT_PASSWORD
    )
    xml, _ = sign(invoice(990000404), signer)
    env = environments.simulator(URL)
    async with DianClient(env, stranger, transport=httpx.ASGITransport(app=sim)) as client:
        outcome = await client.send_bill_sync(pack(xml))
    assert isinstance(outcome, oc.Rejected)
    assert outcome.response.status_code == "89"
    assert "800199436" in outcome.message


async def test_duplicate_is_already_processed_with_the_original_key(
    dian: DianClient, signing_cert: LoadedCertificate
) -> None:
    xml, key = sign(invoice(990000501), signing_cert)
    assert isinstance(await dian.send_bill_sync(pack(xml)), oc.Accepted)
    # Re-issued with another time (another CUFE), same number: DIAN says Regla 90.
    later = datetime.now(UTC).replace(microsecond=0)
    again, other_key = sign(invoice(990000501, issue_at=later), signing_cert)
    outcome = await dian.send_bill_sync(pack(again))
    assert isinstance(outcome, oc.AlreadyProcessed), outcome.message
    assert outcome.existing_key == key
    assert dian_ops.exit_code(outcome) == 0


def _bad_wss_signature(body: bytes) -> bytes:
    # Change the first base64 character (to another one: "A" stays "A" 1 time in 64).
    return re.sub(
        rb"<ds:SignatureValue>(.)",
        lambda m: b"<ds:SignatureValue>" + (b"B" if m.group(1) == b"A" else b"A"),
        body,
        count=1,
    )


def _stale_timestamp(body: bytes) -> bytes:
    return re.sub(
        rb"<wsu:Created>[^<]+</wsu:Created><wsu:Expires>[^<]+</wsu:Expires>",
        b"<wsu:Created>2024-01-01T00:00:00.000Z</wsu:Created>"
        b"<wsu:Expires>2024-01-01T00:01:00.000Z</wsu:Expires>",
        body,
    )


@pytest.mark.parametrize("edit", [_bad_wss_signature, _stale_timestamp], ids=["signature", "stale"])
async def test_ws_security_faults(
    sim: Simulator, signing_cert: LoadedCertificate, edit: Callable[[bytes], bytes]
) -> None:
    transport = _Tamper(httpx.ASGITransport(app=sim), edit)
    env = environments.simulator(URL)
    async with DianClient(env, signing_cert, transport=transport) as client:
        outcome = await client.get_status("0" * 96)
    assert isinstance(outcome, oc.SoapFault), outcome.message
    assert "InvalidSecurity" in outcome.code
    assert outcome.hint


# -- fault switches --------------------------------------------------------------------------------
async def test_latency_fault(dian: DianClient, sim: Simulator) -> None:
    sim.faults = Faults(latency_ms=150)
    t0 = time.perf_counter()
    outcome = await dian.get_status("0" * 96)
    assert time.perf_counter() - t0 >= 0.15
    assert isinstance(outcome, oc.NotFound)


@pytest.mark.parametrize(
    ("faults", "expected"),
    [
        (Faults(http_status=503), oc.HttpError),
        (Faults(http_status=500), oc.HttpError),
        (Faults(soap_fault="Certificado aún no se encuentra vigente."), oc.SoapFault),
        (Faults(malformed="truncated"), oc.MalformedAnswer),
        (Faults(malformed="html"), oc.MalformedAnswer),
        (Faults(malformed="not-xml"), oc.MalformedAnswer),
    ],
    ids=["503", "500", "soap-fault", "truncated", "html", "not-xml"],
)
async def test_fault_switches_give_documented_outcomes(
    dian: DianClient,
    sim: Simulator,
    signing_cert: LoadedCertificate,
    faults: Faults,
    expected: type,
) -> None:
    sim.faults = faults.model_copy(update={"count": 1})
    xml, _ = sign(invoice(990000601), signing_cert)
    outcome = await dian.send_bill_sync(pack(xml))
    assert isinstance(outcome, expected), outcome.message
    assert outcome.message  # Spanish, one line, never a traceback
    if isinstance(outcome, oc.HttpError) and outcome.status_code == 503:
        assert outcome.retryable
    # the switch was for one request only: the same document now goes through
    assert isinstance(await dian.send_bill_sync(pack(xml)), oc.Accepted)


async def test_accept_all_fast_mode(dian: DianClient, sim: Simulator) -> None:
    sim.faults = Faults(accept_all=True)
    outcome = await dian.send_bill_sync(pack(b"<no-es-un-documento/>"))
    assert isinstance(outcome, oc.Accepted)


@pytest.fixture
async def real_server() -> AsyncIterator[tuple[Simulator, str]]:
    server, sim = build_server(0, log_level="warning")
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield sim, f"http://127.0.0.1:{port}/WcfDianCustomerServices.svc"
    finally:
        server.should_exit = True
        await task


async def test_timeout_and_accept_then_drop_over_tcp(
    real_server: tuple[Simulator, str], signing_cert: LoadedCertificate
) -> None:
    sim, url = real_server
    env = environments.simulator(url)
    quick = httpx.Timeout(5.0, read=0.4)
    async with DianClient(env, signing_cert, timeout=quick) as client:
        sim.faults = Faults(timeout=True, hang_seconds=3, count=1)
        outcome = await client.get_status("0" * 96)
        assert isinstance(outcome, oc.TimeoutAfterSend)
        assert not outcome.needs_status_check  # a query: just ask again

        xml, key = sign(invoice(990000701), signing_cert)
        sim.faults = Faults(accept_then_drop=True, hang_seconds=3, count=1)
        lost = await client.send_bill_sync(pack(xml))
        assert isinstance(lost, oc.TimeoutAfterSend), lost.message
        assert lost.may_have_reached_dian and lost.needs_status_check
        assert "GetStatus" in lost.message
        # DIAN processed it although the answer never came: GetStatus finds it accepted.
        status = await client.get_status(key)
        assert isinstance(status, oc.Accepted), status.message


async def test_connection_refused_is_nothing_sent(signing_cert: LoadedCertificate) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = environments.simulator(f"http://127.0.0.1:{port}/WcfDianCustomerServices.svc")
    async with DianClient(env, signing_cert) as client:
        outcome = await client.get_status("0" * 96)
    assert isinstance(outcome, oc.ConnectionFailed)
    assert outcome.sent is False and outcome.retryable


# -- the real process ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def simulator_process() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "fe_tui.cli", "simulator", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(EXAMPLES.parent)},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    out = proc.stdout.read().decode() if proc.stdout else ""
                    raise RuntimeError(f"fe-tui simulator did not start: {out}") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/WcfDianCustomerServices.svc"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fe_tui.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )


def test_end_to_end_with_fe_tui_simulator_process(
    simulator_process: str, p12_file: Path, tmp_path: Path, signing_cert: LoadedCertificate
) -> None:
    url = simulator_process
    # 1. the client over TCP
    xml, key = sign(invoice(990000801), signing_cert)

    async def send() -> oc.Outcome:
        async with DianClient(environments.simulator(url), signing_cert) as client:
            return await client.send_bill_sync(pack(xml))

    assert isinstance(asyncio.run(send()), oc.Accepted)

    # 2. the CLI: build, sign, send, status, ranges
    env = {
        **os.environ,
        "PYTHONPATH": str(EXAMPLES.parent),
        "FE_TUI_CERT_PASSWORD": certs.DEFAULT_PASSWORD,
        "FE_TUI_STATE_DIR": str(tmp_path / "state"),
        "FE_TUI_ENV": "simulator",
        "FE_TUI_DIAN_URL": url,
        "FE_TUI_CERT": str(p12_file),
    }
    data = json.loads((EXAMPLES / "factura.json").read_text(encoding="utf-8"))
    data["document"]["number"] = 990000802
    src = tmp_path / "f.json"
    src.write_text(json.dumps(data), encoding="utf-8")
    assert cli("build", str(src), "--now", "-o", str(tmp_path / "f.xml"), env=env).returncode == 0
    signed = tmp_path / "f-firmada.xml"
    r = cli("sign", str(tmp_path / "f.xml"), "--cert", str(p12_file), "-o", str(signed), env=env)
    assert r.returncode == 0, r.stderr
    sent = cli("dian", "send", str(signed), "--json", env=env)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    answer = json.loads(sent.stdout)
    assert answer["kind"] == "accepted" and answer["environment"]["key"] == "simulator"
    assert "doble de pruebas" in answer["environment"]["label"]
    status = cli("dian", "status", answer["document_key"], env=env)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "Simulador" in status.stdout and "Aceptado" in status.stdout
    # the same file again: the journal shows it was accepted, so DIAN is asked (GetStatus)
    # instead of resending it (which would be Regla 90); still exit 0
    again = cli("dian", "send", str(signed), "--json", env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    repeated = json.loads(again.stdout)
    assert repeated["kind"] == "accepted" and repeated["operation"] == "GetStatus"
    assert "no se reenvió" in repeated["notes"][0]
    # nothing was sent, so no file name was spent or shown (issue 14 item 5)
    assert repeated["zip_name"] is None and repeated["submitted"] is False
    assert repeated["zip_name"] != answer["zip_name"] and answer["zip_name"].endswith("1.zip")
    again_text = cli("dian", "send", str(signed), env=env)
    assert again_text.returncode == 0 and ".zip" not in again_text.stdout
    journal = tmp_path / "state" / "journal" / answer["document_key"]
    assert (journal / "document.xml").read_bytes() == signed.read_bytes()
    assert oct((journal / "events.jsonl").stat().st_mode)[-3:] == "600"
    ranges = cli("dian", "ranges", "--nit", "900373076", "--software-id", DEMO_SOFTWARE_ID, env=env)
    assert ranges.returncode == 0 and "SETP" in ranges.stdout
    acquirer = cli("dian", "acquirer", "--id-type", "31", "--id", "800199436", env=env)
    assert acquirer.returncode == 0, acquirer.stdout + acquirer.stderr
    assert DEMO_ACQUIRER_EMAIL in acquirer.stdout and DEMO_ACQUIRER_NAME in acquirer.stdout
    unknown = cli("dian", "acquirer", "--id-type", "13", "--id", "99", "--json", env=env)
    assert unknown.returncode == 1, unknown.stdout + unknown.stderr
    assert json.loads(unknown.stdout)["kind"] == "acquirer_not_found"
    # file-name consecutives advanced per issuer and year, once per file actually sent
    year = datetime.now(COLOMBIA_TZ).year
    assert FileCounters(tmp_path / "state").peek("900373076", year, "fv") == 1
    # a rejection: exit 1 with the rule explained
    other, _ = sign(invoice(990000803), signing_cert)
    bad = other.replace(b">1018060.00<", b">1018061.00<", 1)
    (tmp_path / "mala.xml").write_bytes(bad)
    rejected = cli("dian", "send", str(tmp_path / "mala.xml"), env=env)
    assert rejected.returncode == 1
    assert "ZE02" in rejected.stdout and "Cómo corregir" in rejected.stdout


def test_cli_communication_failure_exit_3(p12_file: Path, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "PYTHONPATH": str(EXAMPLES.parent),
        "FE_TUI_CERT_PASSWORD": certs.DEFAULT_PASSWORD,
        "FE_TUI_STATE_DIR": str(tmp_path),
    }
    r = cli(
        "dian",
        "status",
        "0" * 96,
        "--env",
        "simulator",
        "--cert",
        str(p12_file),
        "--url",
        f"http://127.0.0.1:{port}/WcfDianCustomerServices.svc",
        env=env,
    )
    assert r.returncode == 3
    assert "Traceback" not in r.stdout + r.stderr
    r = cli(
        "dian",
        "status",
        "0" * 96,
        "--env",
        "produccion",
        "--cert",
        str(p12_file),
        "--url",
        "http://inseguro.example/x",
        env=env,
    )
    assert r.returncode == 2 and "https" in r.stderr
    # a key that is neither a CUFE/CUDE nor a trackId is refused before anything is sent
    for bad in ("abc", "", "g" * 96, "0" * 95):
        r = cli("dian", "status", bad, "--env", "simulator", "--cert", str(p12_file), env=env)
        assert r.returncode == 2, (bad, r.stdout, r.stderr)
        assert "CUFE/CUDE" in r.stderr and "No se consultó a la DIAN" in r.stderr


def test_unsigned_document_is_refused_before_sending(tmp_path: Path) -> None:
    built = documents.build(example_request("factura"))
    with pytest.raises(Exception, match="no está firmado"):
        dian_ops.prepare(built.xml)
    _ = serialization  # keep the import for readers of the xmlsec check above


def test_simulator_config_round_trip_and_bad_config(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(EXAMPLES.parent)}
    printed = cli("simulator", "--print-config", env=env)
    assert printed.returncode == 0
    config = json.loads(printed.stdout)
    assert config["issuers"][0]["nit"] == "900373076"
    config["issuers"][0]["enabled"] = False
    path = tmp_path / "sim.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    again = cli("simulator", "--config", str(path), "--print-config", env=env)
    assert json.loads(again.stdout)["issuers"][0]["enabled"] is False
    path.write_text('{"issuers": "no"}', encoding="utf-8")
    bad = cli("simulator", "--config", str(path), env=env)
    assert bad.returncode == 2 and "issuers" in bad.stderr and "Traceback" not in bad.stderr


async def test_habilitacion_document_is_not_sent_to_produccion(
    tmp_path: Path, signing_cert: LoadedCertificate
) -> None:
    xml, _ = sign(invoice(990000901), signing_cert)  # ProfileExecutionID 2
    with pytest.raises(Exception, match="habilitación"):
        dian_ops.prepare(xml, environments.production())
    ok = dian_ops.prepare(xml, environments.habilitation())
    assert ok.package(1).xml_name.endswith("00000001.xml")
    # the simulator (a test double) decides for itself
    dian_ops.prepare(xml, environments.simulator())
    # through a session: refused before anything is named, journaled or sent
    settings = Settings.load(tmp_path, env={})
    never = httpx.MockTransport(lambda request: pytest.fail("nothing may be sent"))
    async with dian_ops.open_session(
        environments.production(), signing_cert, settings, transport=never
    ) as session:
        with pytest.raises(Exception, match="habilitación"):
            await session.submit(xml)
    year = datetime.now(COLOMBIA_TZ).year
    assert FileCounters(tmp_path).peek("900373076", year, "fv") == 0  # nothing reserved
    assert not (tmp_path / "journal").exists() or not any((tmp_path / "journal").iterdir())


def test_sending_a_document_dated_another_day_warns(signing_cert: LoadedCertificate) -> None:
    yesterday = datetime.now(COLOMBIA_TZ) - timedelta(days=1)
    built = documents.build(example_request("factura", issue_at=yesterday))
    xml = documents.sign_tree(built.document.root, signing_cert, check_issue_date=False)
    prepared = dian_ops.prepare(xml)
    (warning,) = prepared.warnings
    # the hint is a command that can be run as printed: the full key, no placeholder
    assert "FAD09e" in warning and f"fe-tui dian status {built.document.uuid}" in warning
    today, _ = sign(invoice(990000902), signing_cert)
    assert dian_ops.prepare(today).warnings == ()


async def test_concurrent_duplicates_accept_exactly_one(
    dian: DianClient, signing_cert: LoadedCertificate
) -> None:
    """Five copies of one invoice at once: one is accepted, the others are Regla 90."""
    xml, key = sign(invoice(990000951), signing_cert)
    outcomes = await asyncio.gather(*(dian.send_bill_sync(pack(xml)) for _ in range(5)))
    kinds = sorted(type(o).__name__ for o in outcomes)
    assert kinds == ["Accepted"] + ["AlreadyProcessed"] * 4, [o.message for o in outcomes]
    assert all(o.existing_key == key for o in outcomes if isinstance(o, oc.AlreadyProcessed))


# -- the send journal (DESIGN invariant 3) ---------------------------------------------------------
class _Counting(httpx.AsyncBaseTransport):
    """Counts SOAP operations on the way to the simulator and runs a hook before each."""

    def __init__(self, inner: httpx.AsyncBaseTransport, before: Callable[[str], None]) -> None:
        self.inner, self.before, self.ops = inner, before, []  # type: list[str]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        op = request.headers["content-type"].rsplit("/", 1)[-1].rstrip('"')
        self.ops.append(op)
        self.before(op)
        return await self.inner.handle_async_request(request)


def _settings(tmp_path: Path, **changes: Any) -> Settings:
    return Settings.load(tmp_path, env={}).with_(**changes)


async def test_journal_is_written_before_the_first_byte(
    sim: Simulator, signing_cert: LoadedCertificate, tmp_path: Path
) -> None:
    xml, key = sign(invoice(990001001), signing_cert)
    seen: list[bool] = []

    def before(op: str) -> None:
        folder = tmp_path / "journal" / key
        zips = list(folder.glob("z*.zip"))
        seen.append((folder / "document.xml").exists() and len(zips) == 1)

    transport = _Counting(httpx.ASGITransport(app=sim), before)
    env = environments.simulator(URL)
    async with dian_ops.open_session(
        env, signing_cert, _settings(tmp_path), transport=transport
    ) as session:
        result = await session.submit(xml)
    assert isinstance(result.outcome, oc.Accepted) and result.status_check is None
    assert result.sent and result.zip_name and result.document_key == key
    assert seen == [True]
    journal = session.journal
    assert [e.event for e in journal.events(key)] == ["prepared", "sent"]
    assert journal.last_call(key).kind == "accepted"  # type: ignore[union-attr]
    assert (tmp_path / "journal" / key / result.zip_name).exists()


async def test_after_a_lost_answer_the_engine_asks_before_resending(
    real_server: tuple[Simulator, str], signing_cert: LoadedCertificate, tmp_path: Path
) -> None:
    sim, url = real_server
    xml, key = sign(invoice(990001002), signing_cert)
    ops: list[str] = []

    env = environments.simulator(url)
    # 1. DIAN processes the document but the answer is lost
    sim.faults = Faults(accept_then_drop=True, hang_seconds=3, count=1)
    async with dian_ops.open_session(
        env, signing_cert, _settings(tmp_path, read_timeout=0.5)
    ) as session:
        first = await session.submit(xml)
    assert isinstance(first.outcome, oc.TimeoutAfterSend) and first.sent
    # 2. sending again: GetStatus first, which finds it accepted: nothing is resent
    transport = _Counting(httpx.AsyncHTTPTransport(), ops.append)
    async with dian_ops.open_session(
        env, signing_cert, _settings(tmp_path), transport=transport
    ) as session:
        second = await session.submit(xml)
    assert ops == ["GetStatus"]
    assert isinstance(second.outcome, oc.Accepted) and not second.sent
    assert second.zip_name is None and second.status_check is second.outcome
    assert second.notes and "no se reenvió" in second.notes[0]
    events = session.journal.events(key)
    assert [e.event for e in events] == ["prepared", "sent", "status_check"]


async def test_after_an_ambiguous_send_it_sends_when_dian_does_not_have_it(
    sim: Simulator, signing_cert: LoadedCertificate, tmp_path: Path
) -> None:
    xml, key = sign(invoice(990001003), signing_cert)
    ops: list[str] = []
    transport = _Counting(httpx.ASGITransport(app=sim), ops.append)
    env = environments.simulator(URL)
    async with dian_ops.open_session(
        env, signing_cert, _settings(tmp_path), transport=transport
    ) as session:
        # an earlier attempt that timed out after sending (as journaled by a crashed run)
        session.journal.append(key, "sent", kind="timeout_after_send", sent=True)
        result = await session.submit(xml)
    assert ops == ["GetStatus", "SendBillSync"]  # not found at DIAN: send it
    assert isinstance(result.status_check, oc.NotFound)
    assert isinstance(result.outcome, oc.Accepted) and result.sent
    assert any("mismo número" in n for n in result.notes)
