"""DIAN use cases over the async client: one session, submit, status, ranges, acquirer.

The CLI, the queue engine and the console share this one path; they never
speak SOAP themselves. :func:`open_session` opens one long-lived
:class:`~fe_tui.dian.client.DianClient` (timeouts from the settings) with a
certificate checked valid now, plus the send journal and the file-name
counters under ``settings.state_dir``; :class:`DianSession` then submits
documents and asks about them.

A submission (:meth:`DianSession.submit`), under one lock per document key
(asyncio in this process, ``flock`` across processes):

1. checks the document (signed, environment) and the certificate;
2. reads the journal: unless the last call recorded was a verdict that DIAN
   does not have the document, or a send that provably never left, asks
   GetStatus first and sends only when DIAN does not have it
   (:func:`fe_tui.store.journal.must_ask_first`);
3. names the zip only now that it will be sent: the zip journaled for the
   same bytes is reused (same name, same bytes), otherwise a new file-name
   consecutive is reserved;
4. journals XML and zip, sends, journals the answer;
5. on Regla 90 fetches the existing result; with a test set, waits for the
   batch up to ``wait`` seconds.

Outcomes come back as the client's outcome tree (:mod:`fe_tui.dian.outcomes`);
:func:`fe_tui.dian.outcomes.outcome_to_dict` (re-exported here) turns any of
them into JSON-ready data.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from fe_tui import exit_codes, ns, offload, xmlsafe
from fe_tui.crypto.certificates import LoadedCertificate
from fe_tui.dian import outcomes as oc
from fe_tui.dian.client import (
    DianClient,
    check_document_key,
    check_zip_key,
    classify_answer,
    is_zip_key,
)
from fe_tui.dian.environments import Environment
from fe_tui.dian.outcomes import outcome_to_dict
from fe_tui.domain.models import COLOMBIA_TZ
from fe_tui.errors import FeError, InputError
from fe_tui.fileio import private_dir
from fe_tui.settings import Settings
from fe_tui.store.counters import FileCounters
from fe_tui.store.journal import Journal, JournalEvent, must_ask_first
from fe_tui.ubl import packaging
from fe_tui.ubl.packaging import Package
from fe_tui.ubl.reader import DocumentFacts, read_facts

#: A CUFE/CUDE: SHA-384 in hexadecimal.
__all__ = [
    "DianSession",
    "Prepared",
    "SubmitResult",
    "check_environment",
    "check_key",
    "exit_code",
    "open_session",
    "outcome_to_dict",
    "prepare",
    "prepared_from_facts",
    "status_command",
    "stored_outcome",
    "wait_for_batch",
]

DOCUMENT_KEY = re.compile(r"^[0-9a-fA-F]{96}$")
#: A trackId (ZipKey) of SendBillAsync / SendTestSetAsync: a GUID.
ZIP_KEY = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def status_command(key: str) -> str:
    """The command that asks DIAN about ``key`` (for hints; the CLI completes it with the
    options of its run, ``cli.DianCall.runnable``)."""
    return f"fe-tui dian status {key}"


@dataclass(frozen=True)
class Prepared:
    """A signed document checked for sending, not yet named (no consecutive spent)."""

    xml: bytes = field(repr=False)  #: the signed bytes, exactly as they go in the zip
    document_id: str
    document_key: str  #: CUFE/CUDE
    document_type: str
    profile_execution_id: str  #: "1" producción, "2" habilitación (as the document says)
    nit: str  #: issuer NIT (file names)
    year: int  #: issue year (file-name consecutives count per year)
    warnings: tuple[str, ...] = ()  #: Spanish; the document can be sent, but look first

    @property
    def file_kind(self) -> str:
        """The file-name prefix of the XML ("fv", "nc", "nd")."""
        return packaging.PREFIXES.get(self.document_type, "fv")

    def package(self, consecutive: int) -> Package:
        """Name and zip the document under ``consecutive``."""
        return packaging.pack(
            self.xml,
            document_type=self.document_type,
            nit=self.nit,
            year=self.year,
            consecutive=consecutive,
        )

    def package_named(self, zip_name: str, zip_bytes: bytes) -> Package:
        """The journaled package ``zip_name`` of this document (a retry sends it again)."""
        stem = zip_name.removesuffix(".zip")
        return Package(f"{self.file_kind}{stem[1:]}.xml", zip_name, zip_bytes)


def check_environment(
    document_id: str, profile_execution_id: str, environment: Environment
) -> None:
    """Refuse to send a habilitación document to producción, or the reverse.

    DIAN would reject it (ProfileExecutionID, and the CUFE uses the environment
    digit); the local simulator is left to decide for itself.
    """
    if environment.is_test_double:
        return
    expected = str(environment.profile_execution_id)
    if profile_execution_id != expected:
        names = {"1": "producción", "2": "habilitación"}
        raise InputError(
            f"{document_id} es de {names.get(profile_execution_id, '?')} "
            f"(ProfileExecutionID {profile_execution_id}) y el ambiente elegido es "
            f"{environment.label}; genérelo para ese ambiente o cambie --env."
        )


def prepare(xml: bytes, environment: Environment | None = None) -> Prepared:
    """Check that ``xml`` is a signed DIAN document for ``environment`` (nothing is reserved)."""
    root = xmlsafe.parse_bytes(xml, what="el documento a enviar")
    facts = read_facts(root)
    if root.find(f".//{{{ns.DS}}}Signature") is None:
        raise InputError(
            f"{facts.document_id} no está firmado; fírmelo con `fe-tui sign` antes de enviarlo."
        )
    return prepared_from_facts(xml, facts, environment)


def prepared_from_facts(
    xml: bytes, facts: DocumentFacts, environment: Environment | None = None
) -> Prepared:
    """:func:`prepare` for a caller that already read ``facts`` from these exact bytes
    (:func:`fe_tui.ubl.reader.read_facts`) and verified their signature: the queue's
    preflight does both, so the signed XML is not parsed a second time.

    The same checks and warnings as :func:`prepare`, without the parse.
    """
    if environment is not None:
        check_environment(facts.document_id, facts.environment, environment)
    try:
        year = int(facts.issue_date[:4])
    except ValueError:
        raise InputError(f"Fecha de emisión inválida en {facts.document_id}.") from None
    if facts.document_type not in packaging.PREFIXES:
        raise InputError(
            f"{facts.document_id}: tipo de documento {facts.document_type} sin envío por "
            "SendBillSync (se esperaba factura 01–04, nota crédito 91 o nota débito 92)."
        )
    warnings = []
    today = datetime.now(COLOMBIA_TZ).date().isoformat()
    if facts.issue_date != today:
        warnings.append(
            f"La fecha de emisión de {facts.document_id} ({facts.issue_date}) no es la de hoy en "
            f"Colombia ({today}); la DIAN espera que emisión, firma y transmisión coincidan "
            f"(FAD09e). Si es un reenvío, consulte antes: {status_command(facts.uuid)}"
        )
    return Prepared(
        xml,
        facts.document_id,
        facts.uuid,
        facts.document_type,
        facts.environment,
        facts.components.supplier_id,
        year,
        tuple(warnings),
    )


@dataclass(frozen=True)
class SubmitResult:
    """What :meth:`DianSession.submit` came to."""

    outcome: oc.Outcome  #: the final answer (the batch result when a test set was waited for)
    document_key: str  #: CUFE/CUDE
    document_id: str  #: prefix + number
    document_type: str  #: "01", "91"…
    #: The zip a send was attempted with (the journaled one on a retry); ``None`` when no
    #: send was attempted (DIAN already had the document, or could not tell).
    zip_name: str | None
    #: A send request left this process (bytes may have reached DIAN). ``False`` when
    #: nothing was sent, including a connection that was refused.
    sent: bool
    status_check: oc.Outcome | None  #: GetStatus asked before sending (journal rule)
    notes: tuple[str, ...] = ()  #: Spanish, what happened besides the outcome
    warnings: tuple[str, ...] = ()  #: Spanish, about the document (e.g. not dated today)


_NOTE_HAD_IT = (
    "El diario de envíos muestra un intento anterior de este documento; se consultó su "
    "estado en la DIAN antes de reenviar y no se reenvió."
)
_NOTE_NO_VERDICT = (
    "El diario de envíos muestra un intento anterior de este documento sin veredicto; la "
    "consulta de estado tampoco lo dio, así que no se reenvió (la DIAN pudo recibirlo). "
    "Vuelva a intentarlo más tarde."
)
_NOTE_RESENT = (
    "El diario de envíos muestra un intento anterior de este documento; la DIAN no lo tenía "
    "(o lo había rechazado), así que se envió de nuevo con el mismo número."
)


class DianSession:
    """One environment, one certificate, one long-lived client; the journal and counters.

    Open it with :func:`open_session`. Safe for many concurrent tasks: sends
    of one document are serialized by its journal lock, others run in
    parallel over the client's pooled connections.
    """

    def __init__(
        self,
        environment: Environment,
        client: DianClient,
        journal: Journal,
        counters: FileCounters,
        *,
        certificate: LoadedCertificate | None = None,
        poll_interval: float = 2.0,
    ) -> None:
        self.environment = environment
        self.client = client
        self.journal = journal
        self.counters = counters
        self.certificate = certificate
        self.poll_interval = poll_interval

    # -- submit -----------------------------------------------------------------------------------
    async def submit(
        self,
        xml: bytes,
        *,
        test_set_id: str | None = None,
        wait: float = 0.0,
        facts: DocumentFacts | None = None,
    ) -> SubmitResult:
        """Send a signed document the journaled way (see the module docstring).

        ``test_set_id`` sends with SendTestSetAsync (habilitación); then the
        batch result is awaited up to ``wait`` seconds. Raises
        :class:`~fe_tui.errors.FeError` for a document that cannot be sent
        (unsigned, other environment, expired certificate, journal not
        writable): in those cases no file-name consecutive is spent.

        ``facts``: what :func:`fe_tui.ubl.reader.read_facts` read from these
        exact bytes, by a check that also verified their signature (the queue's
        preflight report): the document is then not parsed again
        (:func:`prepared_from_facts`).
        """
        if test_set_id is not None:
            test_set_id = test_set_id.strip()
            if not test_set_id:
                raise InputError("El identificador del set de pruebas está vacío.")
            if self.environment.is_production:
                raise InputError(
                    "Los sets de pruebas (--test-set-id) son de habilitación, no de producción."
                )
        if facts is not None:
            prepared = prepared_from_facts(xml, facts, self.environment)
        else:
            prepared = await offload.to_thread(prepare, xml, self.environment)
        if self.certificate is not None:
            self.certificate.check_valid_at(datetime.now(UTC))
        key = prepared.document_key
        notes: list[str] = []
        async with self.journal.locked(key):
            status: oc.Outcome | None = None
            # One thread hop for both reads (under the lock: a status check below appends
            # an event, which changes neither document.xml nor the last ``prepared``).
            events, reuse = await self.journal.asend_state(key, xml)
            if must_ask_first(events):
                status = await self.client.get_status(key)
                await self._journal_call(key, "status_check", status)
                if not isinstance(status, oc.NotFound | oc.Rejected):
                    notes.append(_NOTE_HAD_IT if status.final else _NOTE_NO_VERDICT)
                    return self._result(prepared, status, None, False, status, notes)
                notes.append(_NOTE_RESENT)
            package = await self._package_and_journal(
                prepared, reuse, notes, test_set_id=test_set_id
            )
            try:
                if test_set_id:
                    outcome = await self.client.send_test_set_async(package, test_set_id)
                else:
                    outcome = await self.client.send_bill_sync(package)
            except FeError as exc:  # the client refuses bad arguments before any byte leaves
                await self.journal.aappend(key, "not_sent", reason=exc.message)
                raise
            await self._journal_call(key, "sent", outcome, zip_name=package.zip_name)
            sent = outcome.sent is not False  # None (a write that stalled) may have left
            if isinstance(outcome, oc.AlreadyProcessed):
                outcome = await self._regla_90(prepared, outcome, notes)
        if test_set_id and wait > 0 and isinstance(outcome, oc.Queued):
            outcome = await self._wait_batch(key, outcome.zip_key, wait)
        return self._result(prepared, outcome, package.zip_name, sent, status, notes)

    async def _package_and_journal(
        self,
        prepared: Prepared,
        reuse: tuple[str, bytes] | None,
        notes: list[str],
        *,
        test_set_id: str | None,
    ) -> Package:
        """Name and zip the document (the journaled zip again when ``reuse``), then journal
        XML and zip (fsynced) before anything is sent: both in one thread call, once the
        file-name consecutive is reserved."""
        make: Callable[[], Package]
        if reuse is not None:
            notes.append(f"Se reenvía el mismo archivo del intento anterior ({reuse[0]}).")
            make = functools.partial(prepared.package_named, *reuse)
        else:
            consecutive = await self.counters.anext(
                prepared.nit, prepared.year, prepared.file_kind
            )
            make = functools.partial(prepared.package, consecutive)

        def work() -> Package:
            package = make()
            self.journal.record_prepared(
                prepared.document_key,
                prepared.xml,
                package.zip_name,
                package.zip_bytes,
                document_id=prepared.document_id,
                xml_name=package.xml_name,
                environment=self.environment.key,
                test_set_id=test_set_id,
            )
            return package

        return await offload.to_disk(work)

    async def _regla_90(
        self, prepared: Prepared, outcome: oc.AlreadyProcessed, notes: list[str]
    ) -> oc.Outcome:
        """Regla 90: DIAN processed it before. Fetch that result; never renumber."""
        key = prepared.document_key
        existing = outcome.existing_key
        if existing and existing.lower() != key.lower():
            notes.append(
                f"La DIAN ya tiene {prepared.document_id} con otro CUFE/CUDE ({existing}); "
                f"no lo renumere. Consulte: {status_command(existing)}"
            )
            return outcome
        status = await self.client.get_status(key)
        await self._journal_call(key, "status_check", status)
        if isinstance(status, oc.Accepted | oc.AcceptedWithNotifications | oc.Rejected):
            notes.append(
                "La DIAN ya había procesado este documento (Regla 90); se consultó su estado "
                "y este es el resultado original."
            )
            return status
        return outcome

    async def _wait_batch(self, key: str, zip_key: str, wait: float) -> oc.Outcome:
        batch = await wait_for_batch(self.client, zip_key, wait=wait, interval=self.poll_interval)
        item = _own_item(batch, key)
        async with self.journal.locked(key):
            if item is not None:
                await self._journal_call(
                    key, "status_check", item, record=batch.record, zip_key=zip_key
                )
            else:
                await self._journal_call(key, "status_check", batch, zip_key=zip_key)
        return batch

    def _result(
        self,
        prepared: Prepared,
        outcome: oc.Outcome,
        zip_name: str | None,
        sent: bool,
        status: oc.Outcome | None,
        notes: list[str],
    ) -> SubmitResult:
        return SubmitResult(
            outcome=outcome,
            document_key=prepared.document_key,
            document_id=prepared.document_id,
            document_type=prepared.document_type,
            zip_name=zip_name,
            sent=sent,
            status_check=status,
            notes=tuple(notes),
            warnings=prepared.warnings,
        )

    async def _journal_call(
        self,
        key: str,
        event: str,
        outcome: oc.Outcome,
        *,
        record: oc.CallRecord | None = None,
        **extra: Any,
    ) -> None:
        """Journal a call: the outcome's summary and DIAN's raw answer beside it."""
        record = record or outcome.record
        data = outcome_to_dict(outcome)
        answer = None
        request = None
        if record is not None:
            answer = record.response_envelope or None
            request = record.request_envelope or None
            data["answer_bytes"] = record.response_bytes
            data["answer_truncated"] = record.answer_truncated
            data.setdefault("http_status", record.http_status)
        await self.journal.arecord_call(key, event, answer, request=request, **data, **extra)

    # -- questions --------------------------------------------------------------------------------
    async def status(self, key: str) -> oc.Outcome:
        """GetStatus by CUFE/CUDE (96 hex), or GetStatusZip by trackId (a GUID).

        A document key that is in the journal gets the answer journaled (under
        its lock, so it cannot interleave with a send). Anything else is an
        :class:`~fe_tui.errors.InputError`, and nothing is sent.
        """
        kind, key = check_key(key)
        if kind == "zip":
            return await self.client.get_status_zip(key)
        if not await offload.to_thread(self.journal.has, key):
            return await self.client.get_status(key)
        async with self.journal.locked(key):
            outcome = await self.client.get_status(key)
            await self._journal_call(key, "status_check", outcome)
        return outcome

    async def ranges(
        self, nit: str, software_id: str, provider_nit: str | None = None
    ) -> oc.Outcome:
        """GetNumberingRange for ``nit``'s software; the provider defaults to the issuer."""
        issuer = _nit(nit, "del emisor")
        provider = _nit(provider_nit, "del proveedor") if provider_nit else issuer
        software = (software_id or "").strip()
        if not software:
            raise InputError("Falta el identificador del software (SoftwareID).")
        return await self.client.get_numbering_range(issuer, provider, software)

    async def acquirer(self, id_type: str, id_number: str) -> oc.Outcome:
        """GetAcquirer: the buyer's registered name and reception e-mail."""
        return await self.client.get_acquirer(id_type, id_number)


def stored_outcome(journal: Journal, key: str, event: JournalEvent) -> oc.Outcome | None:
    """Classify again the raw answer journaled with ``event`` (``None`` when there is none).

    For a GetStatusZip answer this is the whole batch (the event summarises
    the document's own item).
    """
    answer = journal.answer(key, event)
    operation = event.data.get("operation")
    if answer is None or not isinstance(operation, str) or not operation:
        return None
    status = event.data.get("http_status")
    return classify_answer(
        operation, answer, http_status=status if isinstance(status, int) else 200
    )


def check_key(key: str) -> tuple[str, str]:
    """``("document", key)`` for a CUFE/CUDE, ``("zip", key)`` for a trackId; else InputError.

    The shapes and messages are the client's (:func:`fe_tui.dian.client.check_document_key`,
    :func:`~fe_tui.dian.client.check_zip_key`): nothing is sent for a malformed key.
    """
    if is_zip_key(key or ""):
        return "zip", check_zip_key(key)
    return "document", check_document_key(key or "")


def _nit(value: str | None, what: str) -> str:
    nit = (value or "").strip()
    if not nit.isdigit() or len(nit) > 15:
        raise InputError(
            f"NIT {what} inválido: «{nit}»; solo dígitos, sin puntos ni dígito de verificación.",
            field="nit",
        )
    return nit


def _own_item(batch: oc.Outcome, key: str) -> oc.Outcome | None:
    """The document's own verdict inside a GetStatusZip answer, when it can be told apart."""
    if not isinstance(batch, oc.BatchStatus) or batch.in_process:
        return None
    documents = [i for i in batch.items if not isinstance(i, oc.TestSetStatus)]
    for item in documents:
        found = getattr(item, "document_key", None)
        if isinstance(found, str) and found.lower() == key.lower():
            return item
    return documents[0] if len(documents) == 1 else None


@contextlib.asynccontextmanager
async def open_session(
    environment: Environment,
    certificate: LoadedCertificate,
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[DianSession]:
    """One long-lived DianClient (timeouts from ``settings``), ``certificate`` checked valid
    now, journal and counters under ``settings.state_dir`` (created 0700).

    ``transport`` replaces the network (``httpx.ASGITransport`` for the
    in-process simulator).
    """
    certificate.check_valid_at(datetime.now(UTC))
    state = await offload.to_thread(private_dir, settings.state_dir)
    timeout = httpx.Timeout(
        connect=settings.connect_timeout, read=settings.read_timeout, write=30.0, pool=10.0
    )
    client = await offload.to_thread(_new_client, environment, certificate, timeout, transport)
    async with client:
        yield DianSession(
            environment,
            client,
            Journal(state, legacy=settings.legacy_state_dir),
            FileCounters(state, legacy=settings.legacy_state_dir),
            certificate=certificate,
        )


def _new_client(
    environment: Environment,
    certificate: LoadedCertificate,
    timeout: httpx.Timeout,
    transport: httpx.AsyncBaseTransport | None,
) -> DianClient:
    """Build the client in a worker thread: it loads the TLS trust store, and the first
    request would import httpcore's async backend (together ~150 ms) on the event loop."""
    with contextlib.suppress(ImportError):
        import anyio._backends._asyncio  # noqa: F401
    return DianClient(environment, certificate, timeout=timeout, transport=transport)


async def wait_for_batch(
    client: DianClient, zip_key: str, *, wait: float = 30.0, interval: float = 2.0
) -> oc.Outcome:
    """Poll GetStatusZip every ``interval`` s until the batch leaves "en proceso" or ``wait``
    seconds pass."""
    outcome = await client.get_status_zip(zip_key)
    # On timeout the last answer ("en proceso") is what the agent sees.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(wait):
            while isinstance(outcome, oc.BatchStatus) and outcome.in_process:
                await asyncio.sleep(interval)
                outcome = await client.get_status_zip(zip_key)
    return outcome


#: CLI exit codes for outcomes (:mod:`fe_tui.exit_codes`): DIAN said yes (or already has it,
#: or found the acquirer), DIAN said no (rejected, not found: a document or an acquirer),
#: no verdict (communication failure, malformed answer, still in process).
EXIT_YES, EXIT_NO, EXIT_NO_VERDICT = exit_codes.OK, exit_codes.CHECK_FAILED, exit_codes.NO_VERDICT


def exit_code(outcome: oc.Outcome) -> int:
    """How a script should read an outcome."""
    yes = (
        oc.Accepted,
        oc.AcceptedWithNotifications,
        oc.AlreadyProcessed,
        oc.NumberingRanges,
        oc.StoredXml,
        oc.Queued,
        oc.Acquirer,
    )
    if isinstance(outcome, yes):
        return EXIT_YES
    if isinstance(outcome, oc.BatchStatus):
        if outcome.in_process:
            return EXIT_NO_VERDICT
        codes = {exit_code(i) for i in outcome.items if not isinstance(i, oc.TestSetStatus)}
        return max(codes) if codes else EXIT_YES
    if isinstance(outcome, oc.Failure | oc.InProcess):
        return EXIT_NO_VERDICT
    return EXIT_NO
