"""Habilitación per company: the checklist in the store, its status from real facts, the test set.

Seed 003 and SPEC §7 as a tracked workflow:

- The **manual** steps (registro, fecha de inicio en producción, RUT 52,
  solicitud de numeración, asociación de prefijos) are checked off by an
  agent with date, agent and note (:func:`check_step` / :func:`uncheck_step`)
  and persisted per company in the store.
- The **automatic** steps are derived, every time, from facts the program
  holds (:func:`habilitacion_facts`): the company's registration (SoftwareID,
  PIN, TestSetId), its certificate, the test set results recorded by
  :func:`run_test_set` and the production ranges synced into the store.
- :func:`habilitacion_overview` is the status: every step, the next one and
  why a step is blocked (:func:`fe_tui.domain.workflows.habilitacion_status`).
- :func:`run_test_set` generates the set's invoices, then credit and debit
  notes that reference invoices DIAN accepted, sends them through the
  company's queue with SendTestSetAsync + TestSetId, waits for each batch's
  GetStatusZip verdict, counts accepted and rejected per type against what
  the set requires and records DIAN's word on the set ("Set de prueba …
  Aceptado" / "Rechazado").

Store (table :data:`TABLE`, one company per record):

- key ``checklist``: :class:`~fe_tui.domain.workflows.HabilitacionChecklist`;
- key ``test_set:<testsetid lower-case>``: :class:`TestSetRecord` (what the set
  requires, the documents sent for it with their verdicts, DIAN's status).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AwareDatetime, Field, ValidationError

from fe_tui.crypto.certificates import LoadedCertificate
from fe_tui.dian import outcomes as oc
from fe_tui.domain.colombia import COLOMBIA_TZ
from fe_tui.domain.company import Company
from fe_tui.domain.models import DocumentRequest, Resolution, _Model, format_validation_error
from fe_tui.domain.workflows import (
    CertificateHealth,
    HabilitacionChecklist,
    HabilitacionFacts,
    HabilitacionStatus,
    HabilitacionStep,
    TestSetCounts,
    TestSetProgress,
    check_habilitacion_step,
    habilitacion_status,
    uncheck_habilitacion_step,
)
from fe_tui.errors import InputError
from fe_tui.services import invoice_queue as iq
from fe_tui.services import testset
from fe_tui.settings import Settings
from fe_tui.store.db import Store, StoreError

_M = TypeVar("_M", bound=_Model)

__all__ = [
    "TABLE",
    "TEST_PREFIXES",
    "SetDocument",
    "TestSetRecord",
    "check_step",
    "describe_test_set",
    "habilitacion_facts",
    "habilitacion_overview",
    "load_checklist",
    "parse_step",
    "recorded_test_set",
    "run_test_set",
    "uncheck_step",
]

#: The store table of this module.
TABLE = "habilitacion"
CHECKLIST_KEY = "checklist"
#: Prefixes of DIAN's habilitación test numbering (SPEC §7.1): never production ranges.
TEST_PREFIXES = frozenset({"SETP", "SETT", "SETG"})
#: The resolution number of the published test numbering.
TEST_RESOLUTION_NUMBER = "18760000001"
#: Seconds to wait for each batch's GetStatusZip verdict before leaving it to a reconcile.
DEFAULT_BATCH_WAIT = 60.0
#: Pause between the invoices and the notes on DIAN (SIMPLEOPS saw notes sent at once rejected).
DEFAULT_NOTE_DELAY = 5.0
#: The ``source`` of a resolution that came from GetNumberingRange (``ranges sync``).
SYNCED_SOURCE = "dian"

_GROUP = {"01": "invoices", "02": "invoices", "03": "invoices", "04": "invoices"}
_GROUP.update({"91": "credit_notes", "92": "debit_notes"})
_FINAL_OK = (iq.ACCEPTED, iq.ACCEPTED_WITH_NOTICES)
_IN_DOUBT = (iq.SIGNED, iq.SENDING, iq.NEEDS_RECONCILE)


def _now() -> datetime:
    return datetime.now(COLOMBIA_TZ).replace(microsecond=0)


def _aware(now: datetime | None) -> datetime:
    if now is None:
        return _now()
    if now.tzinfo is None or now.utcoffset() is None:
        raise InputError("la fecha y hora debe incluir zona horaria", field="now")
    return now


# --- the checklist ----------------------------------------------------------------------------


def _load(model: type[_M], record: dict[str, Any], *drop: str) -> _M:
    """A model from a store record (without the store's own fields); damage is a StoreError."""
    data = {k: v for k, v in record.items() if k not in ("key", *drop)}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise StoreError(
            "Un registro de habilitación en el almacén no es válido:\n"
            + format_validation_error(exc)
        ) from None


def load_checklist(store: Store, company_nit: str) -> HabilitacionChecklist:
    """The company's manual checks (an empty checklist when none were recorded)."""
    record = store.get(TABLE, company_nit, CHECKLIST_KEY)
    if record is None:
        return HabilitacionChecklist(company_nit=company_nit)
    return _load(HabilitacionChecklist, record)


def _save_checklist(store: Store, checklist: HabilitacionChecklist) -> None:
    data = checklist.model_dump(mode="json")
    nit = data.pop("company_nit")
    store.put(TABLE, nit, CHECKLIST_KEY, data)


def parse_step(value: str | HabilitacionStep) -> HabilitacionStep:
    """A step from its value (``registro``, ``inicio_produccion``…); Spanish error otherwise."""
    if isinstance(value, HabilitacionStep):
        return value
    text = value.strip().lower().replace("-", "_")
    try:
        return HabilitacionStep(text)
    except ValueError:
        names = ", ".join(s.value for s in HabilitacionStep if s.manual)
        raise InputError(
            f"Paso desconocido: {value!r}. Los pasos que se marcan a mano son: {names}.",
            field="step",
        ) from None


# --- the test set record ----------------------------------------------------------------------


class SetDocument(_Model):
    """A document sent (or to be sent) for the test set, by its id in the company's queue."""

    doc_id: Annotated[str, Field(min_length=1, max_length=40)]
    document_type: Annotated[str, Field(pattern=r"^\d{2}$")]
    #: DIAN's verdict once known (kept when the queue record is later voided).
    verdict: Literal["accepted", "rejected"] | None = None


class TestSetRecord(_Model):
    """What the store keeps of one test set (key ``test_set:<id>``)."""

    __test__ = False  # not a pytest class

    progress: TestSetProgress
    documents: list[SetDocument] = Field(default_factory=list)
    updated_at: AwareDatetime | None = None
    #: DIAN's literal text about the set, when it said something.
    dian_message: Annotated[str, Field(max_length=2000)] | None = None


def _set_key(test_set_id: str) -> str:
    return f"test_set:{test_set_id.strip().lower()}"


def recorded_test_set(
    store: Store, company: Company, test_set_id: str | None = None
) -> TestSetRecord | None:
    """The record of ``test_set_id`` (default: the company's current TestSetId)."""
    wanted = test_set_id or company.test_set_id
    if not wanted:
        return None
    record = store.get(TABLE, company.nit, _set_key(wanted))
    return None if record is None else _load(TestSetRecord, record, "company_nit")


def _save_record(store: Store, company: Company, record: TestSetRecord) -> None:
    store.put(
        TABLE,
        company.nit,
        _set_key(record.progress.test_set_id),
        record.model_dump(mode="json"),
    )


def describe_test_set(progress: TestSetProgress) -> str:
    """Spanish sentence: where the set stands and what to do."""
    status = progress.effective_status
    acc, req, rej = progress.accepted, progress.required, progress.rejected
    counts = (
        f"aceptados {acc.invoices}/{req.invoices} facturas, {acc.credit_notes}/"
        f"{req.credit_notes} notas crédito, {acc.debit_notes}/{req.debit_notes} notas débito; "
        f"rechazados {rej.total}"
    )
    if status == "aceptado":
        return f"Set de pruebas {progress.test_set_id} aceptado por la DIAN ({counts})."
    if status == "rechazado":
        return (
            f"Set de pruebas {progress.test_set_id} rechazado por la DIAN ({counts}): solicite "
            "un set nuevo en el portal de habilitación y registre el nuevo TestSetId en la "
            "empresa."
        )
    if status == "sin_envios":
        return f"Set de pruebas {progress.test_set_id}: aún no se ha enviado nada."
    return (
        f"Set de pruebas {progress.test_set_id} en proceso ({counts}). Corrija la causa de los "
        "rechazos, si los hay, y vuelva a ejecutar `fe-tui habilitacion run-test-set`."
    )


# --- facts and status -------------------------------------------------------------------------


def _certificate_valid(store: Store, company: Company, now: datetime) -> bool | None:
    """Can the company's active certificate sign now? ``None`` when it cannot be told.

    From the company's certificate records
    (:func:`fe_tui.services.company_certs.certificate_overview`); a file
    configured without a record is ``None`` (its dates need the password),
    ``False`` when that file is gone.
    """
    from pathlib import Path

    from fe_tui.services.company_certs import certificate_overview

    status = certificate_overview(store, company, now).status
    if status is not None:
        return status.health in (CertificateHealth.VIGENTE, CertificateHealth.POR_VENCER)
    pointer = store.get("certificates", company.nit, "active")
    if pointer is None or not pointer.get("path") or not Path(str(pointer["path"])).is_file():
        return False
    return None


def _is_test_range(resolution: Resolution) -> bool:
    return resolution.prefix in TEST_PREFIXES or resolution.number == TEST_RESOLUTION_NUMBER


def _synced_ranges(store: Store, company: Company) -> list[dict[str, Any]]:
    """Resolution records synced from DIAN (GetNumberingRange) that are production ranges."""
    from tinydb import Query

    rows = store.db.table("resolutions").search(Query().company_nit == company.nit)
    synced = []
    for row in rows:
        source = str(row.get("source") or "")
        data = {k: v for k, v in row.items() if k not in ("company_nit", "source")}
        try:
            resolution = Resolution.model_validate(data)
        except ValueError:
            continue
        if _is_test_range(resolution) or not resolution.technical_key:
            continue
        if source != SYNCED_SOURCE:
            continue
        synced.append(dict(row))
    return synced


def habilitacion_facts(
    store: Store, company: Company, now: datetime | None = None
) -> HabilitacionFacts:
    """What the store knows beyond the checklist: test set, certificate, synced ranges."""
    moment = _aware(now)
    record = recorded_test_set(store, company)
    synced = _synced_ranges(store, company)
    last_sync = store.setting(f"ranges_synced_at:{company.nit}")
    last_sync_at = None
    if isinstance(last_sync, str):
        with contextlib.suppress(ValueError):
            last_sync_at = datetime.fromisoformat(last_sync)
    return HabilitacionFacts(
        test_set=record.progress if record is not None else None,
        certificate_valid=_certificate_valid(store, company, moment),
        production_ranges_synced=len(synced),
        last_sync_at=last_sync_at if last_sync_at and last_sync_at.tzinfo else None,
    )


def habilitacion_overview(
    store: Store, company: Company, now: datetime | None = None
) -> HabilitacionStatus:
    """Every step of the company's habilitación, the next one and why a step is blocked."""
    moment = _aware(now)
    return habilitacion_status(
        company,
        load_checklist(store, company.nit),
        habilitacion_facts(store, company, moment),
        moment,
    )


def check_step(
    store: Store,
    company: Company,
    step: str | HabilitacionStep,
    *,
    agent: str,
    note: str = "",
    production_start: date | None = None,
    reference: str | None = None,
    now: datetime | None = None,
) -> HabilitacionStatus:
    """Check off a manual step (with date, agent and note) and return the new status.

    Refused with a Spanish :class:`~fe_tui.errors.InputError` for an
    automatic step, a step already checked, or one that is blocked (the reason
    is given).
    """
    moment = _aware(now)
    chosen = parse_step(step)
    if not agent.strip():
        raise InputError("indique quién marca el paso (--agent)", field="agent")
    with store.transaction():
        checklist = load_checklist(store, company.nit)
        facts = habilitacion_facts(store, company, moment)
        updated = check_habilitacion_step(
            company,
            checklist,
            facts,
            chosen,
            at=moment,
            agent=agent.strip(),
            note=note.strip(),
            production_start=production_start,
            reference=reference,
        )
        _save_checklist(store, updated)
    return habilitacion_overview(store, company, moment)


def uncheck_step(
    store: Store, company: Company, step: str | HabilitacionStep, *, now: datetime | None = None
) -> HabilitacionStatus:
    """Undo the mark of a manual step (an agent's mistake) and return the new status."""
    moment = _aware(now)
    chosen = parse_step(step)
    with store.transaction():
        updated = uncheck_habilitacion_step(load_checklist(store, company.nit), chosen)
        _save_checklist(store, updated)
    return habilitacion_overview(store, company, moment)


# --- running the test set ---------------------------------------------------------------------

ProgressCallback = Callable[[TestSetProgress], None]


def _default_counts(
    store: Store, settings: Settings, company: Company, record: TestSetRecord | None
) -> TestSetCounts:
    """What the set requires when the caller does not say: the recorded counts, the
    simulator's own set (a test double knows it), else the DIAN guide's (SPEC §7.2)."""
    if record is not None:
        return record.progress.required
    if company.environment == "simulator" and company.test_set_id:
        from fe_tui.services.sessions import simulator_config_for

        known = simulator_config_for(store, company, settings).test_set(company.test_set_id)
        if known is not None:
            return TestSetCounts(
                invoices=known.invoices,
                credit_notes=known.credit_notes,
                debit_notes=known.debit_notes,
            )
    return testset.DEFAULT_COUNTS[company.operation_mode]


def _test_resolution(store: Store, company: Company, on: date) -> Resolution:
    """The habilitación test numbering of the company (saved from SPEC §7.1 when missing)."""
    ranges = [r for r in store.resolutions(company.nit) if _is_test_range(r) and r.valid_on(on)]
    if ranges:
        return ranges[0]
    resolution = testset.default_test_resolution(company)
    store.save_resolution(company.nit, resolution, source="habilitacion")
    return resolution


def _set_word(batch: oc.BatchStatus) -> tuple[Literal["aceptado", "rechazado"] | None, str]:
    """DIAN's word on the whole set in a GetStatusZip answer (as testset.record_batch reads it)."""
    report = batch.test_set
    if report is None:
        return None, ""
    text = f"{report.response.status_message or ''} {report.response.status_description or ''}"
    text = " ".join(text.split())
    if report.accepted:
        return "aceptado", text
    if "rechazado" in text.lower():
        return "rechazado", text
    return None, text


class _Live:
    """The set while it runs: the record, the queue's ledger and DIAN's word."""

    def __init__(
        self,
        store: Store,
        company: Company,
        record: TestSetRecord,
        queue: iq.InvoiceQueue,
        callback: ProgressCallback | None,
    ) -> None:
        self.store, self.company, self.record = store, company, record
        self.queue = queue
        self.callback = callback
        self.status: Literal["aceptado", "rechazado"] | None = (
            record.progress.status if record.progress.status != "en_proceso" else None
        )
        self.message = record.dian_message

    @property
    def decided(self) -> bool:
        return self.status is not None

    def ids(self) -> set[str]:
        return {d.doc_id for d in self.record.documents}

    def refresh(self) -> None:
        """Take the verdicts the ledger now shows (a verdict, once known, is kept)."""
        docs = self.queue.ledger.docs
        updated = []
        for doc in self.record.documents:
            rec = docs.get(doc.doc_id)
            if doc.verdict is None and rec is not None:
                if rec.state in _FINAL_OK:
                    doc = doc.model_copy(update={"verdict": "accepted"})
                elif rec.state == iq.REJECTED:
                    doc = doc.model_copy(update={"verdict": "rejected"})
            updated.append(doc)
        self.record = self.record.model_copy(update={"documents": updated})

    def progress(self) -> TestSetProgress:
        docs = self.queue.ledger.docs
        tallies: dict[str, dict[str, int]] = {"sent": {}, "accepted": {}, "rejected": {}}
        for doc in self.record.documents:
            group = _GROUP[doc.document_type]
            rec = docs.get(doc.doc_id)
            verdict = doc.verdict
            if verdict is None and rec is not None:
                if rec.state in _FINAL_OK:
                    verdict = "accepted"
                elif rec.state == iq.REJECTED:
                    verdict = "rejected"
            if verdict is not None or (rec is not None and rec.state in _IN_DOUBT):
                tallies["sent"][group] = tallies["sent"].get(group, 0) + 1
            if verdict is not None:
                tally = tallies[verdict]
                tally[group] = tally.get(group, 0) + 1
        status = self.status or ("en_proceso" if self.record.documents else None)
        return self.record.progress.model_copy(
            update={
                **{name: TestSetCounts(**counts) for name, counts in tallies.items()},
                "status": status,
            }
        )

    def pending(self, group: str) -> int:
        """Documents of ``group`` still on their way (no verdict, not void)."""
        docs = self.queue.ledger.docs
        n = 0
        for doc in self.record.documents:
            rec = docs.get(doc.doc_id)
            if _GROUP[doc.document_type] != group or doc.verdict is not None or rec is None:
                continue
            if rec.state not in (*_FINAL_OK, iq.REJECTED, iq.VOID):
                n += 1
        return n

    def emit(self, _queue_progress: object = None) -> None:
        if self.callback is not None:
            # The console's callback must not break the run (a worker would die with it).
            with contextlib.suppress(Exception):
                self.callback(self.progress())

    def observe(self, doc_id: str, outcome: oc.Outcome) -> None:
        if isinstance(outcome, oc.BatchStatus) and doc_id in self.ids():
            word, text = _set_word(outcome)
            if text:
                self.message = text[:2000]
            if word is not None:
                self.status = word

    def add(self, requests: list[DocumentRequest], *, keep_prefix: bool) -> None:
        """Put the set's documents in the queue (numbers and note prefixes are the queue's)."""
        added = []
        for request in requests:
            data = request.model_dump(mode="json")
            data["document"].pop("number", None)
            if not keep_prefix:
                data["document"].pop("prefix", None)
            result = self.queue.add(data, test_set=self.record.progress.test_set_id)
            added.append(
                SetDocument(doc_id=result.record.doc_id, document_type=result.record.document_type)
            )
            # Recorded one by one: a crash halfway leaves every queued document known.
            self.record = self.record.model_copy(
                update={"documents": [*self.record.documents, added[-1]]}
            )
            self.save()

    def save(self, now: datetime | None = None) -> None:
        progress = self.progress()
        self.record = self.record.model_copy(
            update={
                "progress": progress,
                "updated_at": now or datetime.now(UTC),
                "dian_message": self.message,
            }
        )
        _save_record(self.store, self.company, self.record)

    async def run(self, session: Any, cert: LoadedCertificate, batch_wait: float) -> None:
        await self.queue.run(
            session,
            cert,
            progress=self.emit,
            test_set_id=self.company.test_set_id,
            batch_wait=batch_wait,
            only=self.ids(),
            on_outcome=self.observe,
            until=lambda: self.decided,
        )
        self.refresh()
        self.emit()

    def accepted_invoices(self) -> list[testset.AcceptedInvoice]:
        docs = self.queue.ledger.docs
        accepted = []
        for doc in self.record.documents:
            rec = docs.get(doc.doc_id)
            if _GROUP[doc.document_type] != "invoices" or doc.verdict != "accepted":
                continue
            if rec is None or not rec.cufe or not rec.issue_date:
                continue
            request = DocumentRequest.model_validate(self.queue.ledger.request(rec))
            facts = testset.AcceptedInvoice.from_request(request, rec.cufe)
            # The invoice as DIAN accepted it: signed (and dated) when it was sent.
            accepted.append(
                facts.model_copy(
                    update={
                        "document_id": rec.doc_id,
                        "issue_date": date.fromisoformat(rec.issue_date),
                    }
                )
            )
        return accepted

    def void_leftovers(self) -> None:
        """Set documents that will not count are voided, with the reason (no silent gap)."""
        docs = self.queue.ledger.docs
        if self.status == "aceptado":
            unsent = "el set de pruebas ya fue aceptado; este documento de prueba no se envía"
        elif self.status == "rechazado":
            unsent = "el set de pruebas fue rechazado; solicite un set nuevo en el portal"
        else:
            unsent = None
        for doc in self.record.documents:
            rec = docs.get(doc.doc_id)
            if rec is None:
                continue
            reason = None
            if rec.state == iq.REJECTED:
                reason = (
                    "rechazado en el set de pruebas: no se corrige ni se reenvía (cada envío "
                    "cuenta para el set); si faltan documentos se generan otros"
                )
            elif unsent and rec.state in (iq.READY, iq.RETRYABLE, iq.DRAFT):
                reason = unsent
            if reason is not None:
                with contextlib.suppress(iq.QueueError):
                    self.queue.void(rec.doc_id, reason)


async def run_test_set(
    store: Store,
    settings: Settings,
    company: Company,
    cert: LoadedCertificate,
    counts: TestSetCounts | None = None,
    progress: ProgressCallback | None = None,
    *,
    transport: Any = None,
    batch_wait: float = DEFAULT_BATCH_WAIT,
    note_delay: float | None = None,
    now: datetime | None = None,
    policy: iq.RetryPolicy | None = None,
) -> TestSetProgress:
    """Send the habilitación test set of ``company`` and record where it stands.

    1. The invoices still missing (required − accepted − on their way) are
       generated on the test numbering (SPEC §7.1) and sent through the
       company's queue with SendTestSetAsync + the company's TestSetId; each
       batch's GetStatusZip verdict is awaited up to ``batch_wait`` seconds.
    2. When no invoice is pending and none of this run was rejected, the
       credit and debit notes still missing are made referencing invoices DIAN
       accepted (after ``note_delay`` seconds: 5 on DIAN, 0 on the simulator)
       and sent the same way; the queue holds a note until its invoice is
       accepted.
    3. Accepted and rejected documents are counted per type against
       ``counts`` (default: the counts recorded for this set, the
       simulator's set, or DIAN's guide, SPEC §7.2); DIAN's "Set de prueba …
       Aceptado/Rechazado" stops the run. The result is recorded in the store
       (:func:`recorded_test_set`), where :func:`habilitacion_overview` reads it.

    Rejected documents are voided with the reason (each send counts for the
    set; they are not corrected and resent); a later run generates the ones
    still missing. ``progress`` receives a :class:`TestSetProgress` after each
    change. ``transport`` replaces the network (tests mount a simulator).
    Raises a Spanish :class:`~fe_tui.errors.InputError` when the company has no
    TestSetId, is in production, or lacks issuer or software data.
    """
    moment = _aware(now)
    test_set_id = company.test_set_id
    if not test_set_id:
        raise InputError(
            f"La empresa {company.label} no tiene TestSetId: cópielo de «Detalles del set de "
            "pruebas» en el portal de habilitación y regístrelo en la empresa.",
            field="test_set_id",
        )
    if company.environment == "produccion":
        raise InputError(
            f"La empresa {company.label} está en producción: el set de pruebas se envía en "
            "habilitación.",
            field="environment",
        )
    if company.issuer is None or company.software is None:
        raise InputError(
            f"Faltan los datos del emisor o del software (SoftwareID, PIN) de {company.label} "
            "para generar el set de pruebas.",
            field="software",
        )
    if counts is not None and counts.total == 0:
        raise InputError("El set de pruebas debe pedir al menos un documento.", field="counts")
    with store.transaction():
        record = recorded_test_set(store, company)
        required = counts or _default_counts(store, settings, company, record)
        if record is None:
            record = TestSetRecord(
                progress=TestSetProgress(test_set_id=test_set_id, required=required)
            )
        elif counts is not None:
            record = record.model_copy(
                update={"progress": record.progress.model_copy(update={"required": counts})}
            )
        resolution = _test_resolution(store, company, moment.astimezone(COLOMBIA_TZ).date())
        _save_record(store, company, record)
    queue = iq.InvoiceQueue(store, company, settings, policy=policy)
    live = _Live(store, company, record, queue, progress)
    if live.decided:
        live.emit()
        return live.progress()
    if note_delay is None:
        note_delay = 0.0 if company.environment == "simulator" else DEFAULT_NOTE_DELAY

    from fe_tui.services.sessions import open_company_session

    async with open_company_session(store, settings, company, cert, transport=transport) as session:
        queue.ledger.refresh()
        live.refresh()
        done = live.progress()
        missing = required.invoices - done.accepted.invoices - live.pending("invoices")
        if missing > 0:
            last = queue.ledger.last_numbers.get(resolution.prefix)
            first = resolution.from_number if last is None else last + 1
            live.add(
                testset.build_test_set_invoices(
                    company,
                    moment,
                    first_number=first,
                    counts=TestSetCounts(invoices=missing),
                    resolution=resolution,
                ),
                keep_prefix=True,
            )
        live.emit()
        rejected_before = done.rejected.invoices
        await live.run(session, cert, batch_wait)
        live.save()
        after = live.progress()
        invoices_clean = (
            live.pending("invoices") == 0 and after.rejected.invoices == rejected_before
        )
        if not live.decided and invoices_clean and after.accepted.invoices:
            notes = TestSetCounts(
                credit_notes=max(
                    0,
                    required.credit_notes
                    - after.accepted.credit_notes
                    - live.pending("credit_notes"),
                ),
                debit_notes=max(
                    0,
                    required.debit_notes - after.accepted.debit_notes - live.pending("debit_notes"),
                ),
            )
            if notes.total:
                if note_delay > 0:
                    await asyncio.sleep(note_delay)
                live.add(
                    testset.build_test_set_notes(
                        company,
                        live.accepted_invoices(),
                        max(moment, _now()),
                        counts=notes,
                    ),
                    keep_prefix=False,
                )
            if notes.total or live.pending("credit_notes") or live.pending("debit_notes"):
                await live.run(session, cert, batch_wait)
    live.void_leftovers()
    live.save()
    live.emit()
    return live.record.progress
