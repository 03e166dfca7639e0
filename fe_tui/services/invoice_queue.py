"""The invoice queue: every document of a company from its number to DIAN's verdict.

States::

    draft ──► ready ──► signed ──► sending ──► accepted
              ▲  │                  │   └──► accepted_with_notices
              │  └─(local Rechazo)─► held ──(corrected / retry)──► ready
                │                     ├──────► rejected ──(corrected)──► ready
                │                     ├──────► retryable ──(backoff)───► ready
                │                     └──────► needs_reconcile ──GetStatus──► accepted / rejected
                └──────────────(DIAN does not have it)───────────────────┘
    any non-final state ──(void, with reason)──► void

- The number is allocated when a document enters ``ready`` (durably, in the
  same ledger append that records it: :mod:`fe_tui.services.numbering`).
- A rejected document is corrected and signed again **under the same number**
  (:meth:`InvoiceQueue.correct`); a document abandoned is ``void`` with its
  reason. Nothing renumbers.
- Before a document is sent, the signed XML goes through the local preflight
  (:func:`fe_tui.checks.preflight`, with the company store as a non-authoritative
  registry: :class:`fe_tui.services.registry.CompanyRegistry`). A document with a
  Rechazo is not sent: it is ``held`` ("retenida"), and a ``preflight`` event
  records every failed rule (code, DIAN's text, the Spanish explanation, the
  offending value). ``held`` is not ``rejected``: DIAN never saw it, and its number
  is not spent at DIAN. Notificaciones do not hold a document back. It leaves
  ``held`` by :meth:`InvoiceQueue.correct` or :meth:`InvoiceQueue.retry` (back to
  ``ready``, checked again), by :meth:`InvoiceQueue.void`, or by ``run(force=True)``
  (``queue run --force``), which sends without the preflight and records a
  ``forced`` event in the document's history.
- ``signed`` and ``sending`` are recorded with the CUFE/CUDE before the first
  byte leaves; the send itself goes through the session's journaled submit
  (signed XML and zip on disk first; GetStatus before any resend that may not
  be needed: :mod:`fe_tui.services.dian_ops`).
- On start-up, and after any ambiguous failure (timeout after sending, lost
  answer, HTTP 5xx, a crash), a document is ``needs_reconcile``: the engine
  asks DIAN (GetStatus by CUFE) before anything is sent again. Regla 90
  ("already processed") fetches the existing result; it never renumbers.
- Transient failures back off exponentially with full jitter; a circuit
  breaker per endpoint stops sending while DIAN is down, and probes it again
  after a cool-down.
- A credit or debit note waits until the invoice it refers to is accepted (when
  that invoice is in this queue), and takes its CUFE and date from it.
- Build, sign and zip run in a worker thread, off the event loop (the run's own
  worker: :data:`RUN_WORKERS`, :mod:`fe_tui.offload`).
- One ``run`` per company at a time (a lock file; a second runner is told so).

Progress events (:class:`QueueProgress`: counts per state, documents per
second, ETA) go to a callback, for the CLI's progress bar and the console.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import os
import random
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import ValidationError

from fe_tui import offload
from fe_tui.checks import PreflightReport, preflight
from fe_tui.crypto.certificates import LoadedCertificate
from fe_tui.dian import outcomes as oc
from fe_tui.domain.company import Company
from fe_tui.domain.models import (
    COLOMBIA_TZ,
    DocumentRequest,
    Invoice,
    format_validation_error,
)
from fe_tui.errors import FeError, InputError
from fe_tui.services import documents, numbering
from fe_tui.services.checking import describe
from fe_tui.services.queue_states import (  # noqa: F401 (re-exported)
    ACCEPTED,
    ACCEPTED_WITH_NOTICES,
    ACTIVE,
    ATTENTION,
    DRAFT,
    FINAL,
    HELD,
    NEEDS_RECONCILE,
    READY,
    REJECTED,
    RETRYABLE,
    SENDING,
    SIGNED,
    STATE_LABELS,
    STATES,
    VOID,
)
from fe_tui.services.registry import CompanyRegistry
from fe_tui.settings import Settings
from fe_tui.store.db import Store
from fe_tui.store.ledger import DocRecord, Ledger
from fe_tui.ubl.reader import DocumentFacts


class QueueError(InputError):
    """A queue operation that cannot be done as asked (Spanish message)."""


class Sender(Protocol):
    """What the queue needs from a DIAN session (:class:`fe_tui.services.dian_ops.DianSession`)."""

    async def submit(
        self,
        xml: bytes,
        *,
        test_set_id: str | None = None,
        wait: float = 0.0,
        facts: DocumentFacts | None = None,
    ) -> Any:
        """Journaled send; returns an object with ``outcome`` (and ``sent``). ``facts``: read
        from these exact bytes by the preflight, which verified their signature (the sender
        need not parse them again)."""

    async def status(self, key: str) -> oc.Outcome:
        """GetStatus by CUFE/CUDE (journaled)."""


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff and circuit breaker settings (times in seconds)."""

    base: float = 1.0
    cap: float = 60.0
    max_attempts: int = 8
    breaker_threshold: int = 5
    breaker_cooldown: float = 30.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter exponential backoff for the ``attempt``-th failure (1, 2, …)."""
        return rng.uniform(0, min(self.cap, self.base * 2 ** max(0, attempt - 1)))


@dataclass
class CircuitBreaker:
    """Per endpoint: opens after ``threshold`` consecutive transport failures."""

    threshold: int
    cooldown: float
    failures: int = 0
    opened_at: float | None = None

    def allow(self, now: float) -> bool:
        """``True`` when a request may go (closed, or half-open after the cool-down)."""
        return self.opened_at is None or now - self.opened_at >= self.cooldown

    def wait_time(self, now: float) -> float:
        """Seconds until a probe may go."""
        return 0.0 if self.opened_at is None else max(0.0, self.cooldown - (now - self.opened_at))

    def record(self, ok: bool, now: float) -> None:
        """Record a call's transport result."""
        if ok:
            self.failures, self.opened_at = 0, None
            return
        self.failures += 1
        if self.failures >= self.threshold:
            self.opened_at = now


@dataclass(frozen=True)
class QueueProgress:
    """A progress event: counts per state, rate and estimate."""

    counts: dict[str, int]
    done: int  #: documents that reached a verdict (or gave up) in this run
    total: int  #: documents this run set out to process
    elapsed: float
    rate: float  #: documents per second
    eta: float | None  #: seconds, when it can be estimated


@dataclass(frozen=True)
class AddResult:
    """A document added to the queue."""

    record: DocRecord
    warnings: tuple[str, ...] = ()


@dataclass
class RunSummary:
    """What one ``run`` did."""

    processed: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    circuit_opened: int = 0


#: CPU threads of a run's own pool (:func:`fe_tui.offload.dedicated`): building, signing,
#: checking, envelopes, answers. That work holds the GIL, so more threads only take turns
#: on it, at a cost: ``bench/queue.py`` measured the default executor at ~20 ms of CPU per
#: document and one worker at ~15 (2 cores). The fsync writes go to the run's disk pool
#: (:func:`fe_tui.offload.to_disk`); sends are I/O on the event loop.
RUN_WORKERS = 1

_TRANSPORT = (oc.ConnectionFailed, oc.TimeoutAfterSend, oc.HttpError, oc.MalformedAnswer)


def _now_co() -> datetime:
    return datetime.now(COLOMBIA_TZ).replace(microsecond=0)


class InvoiceQueue:
    """The queue of one company in one data directory."""

    def __init__(
        self,
        store: Store,
        company: Company,
        settings: Settings,
        *,
        policy: RetryPolicy | None = None,
        clock: Callable[[], datetime] = _now_co,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.company = company
        self.settings = settings
        self.policy = policy or RetryPolicy()
        self.clock = clock
        self.rng = rng or random.Random()
        self.folder = settings.data_dir / "companies" / company.nit
        self.ledger = Ledger(self.folder / "ledger")

    # -- adding and editing ------------------------------------------------------------------------
    def _document_request(
        self, data: dict[str, Any], number: int, prefix: str, resolution: Any, when: datetime
    ) -> DocumentRequest:
        """The request as the company sends it: its issuer, software, environment and number."""
        company = self.company
        if company.issuer is None or company.software is None:
            raise QueueError(
                f"La empresa {company.label} aún no tiene los datos del emisor y del software "
                "(SoftwareID, PIN); complételos antes de facturar."
            )
        document = dict(data.get("document") or {})
        document.update(number=number, prefix=prefix, issue_at=when.isoformat())
        merged = {
            "environment": 1 if company.environment == "produccion" else 2,
            "issuer": company.issuer.model_dump(mode="json"),
            "software": company.software.model_dump(mode="json"),
            "document": document,
        }
        if resolution is not None:
            merged["resolution"] = resolution.model_dump(mode="json")
        if "signer_role" in data:
            merged["signer_role"] = data["signer_role"]
        try:
            return DocumentRequest.model_validate(merged)
        except ValidationError as exc:
            raise QueueError(
                "El documento no es válido:\n" + format_validation_error(exc)
            ) from None

    def add(
        self, data: dict[str, Any], *, draft: bool = False, test_set: str | None = None
    ) -> AddResult:
        """Validate a document (docs/invoice-json.md), allocate its number and record it.

        The number, prefix, issuer, software and resolution come from the
        company, not from the file: a number in the file is ignored with a
        warning. With ``draft`` the document is kept without a number. With
        ``test_set`` (a TestSetId) the document belongs to that habilitación set:
        only a run with the same ``test_set_id`` sends it (SendTestSetAsync).
        """
        with self.ledger.transaction() as ledger:
            doc_id, warnings = self._add_locked(ledger, data, draft=draft, test_set=test_set)
        rec = self.ledger.get(doc_id)
        assert rec is not None
        return AddResult(rec, tuple(warnings))

    def add_many(
        self,
        items: Sequence[dict[str, Any]],
        *,
        draft: bool = False,
        labels: Sequence[str] | None = None,
    ) -> list[AddResult]:
        """:meth:`add` for several documents in one ledger transaction: all or none.

        Every document is validated and numbered (consecutive numbers, in order)
        inside one lock; the requests and the ``added`` events are then written
        with one fsync each, whatever their count. If one document is refused,
        nothing is recorded and no number is used; the error names the document
        (``labels[i]``, e.g. its file name, or its position).
        """
        added = []
        with self.ledger.transaction() as ledger:
            for i, data in enumerate(items):
                try:
                    added.append(self._add_locked(ledger, data, draft=draft))
                except FeError as exc:
                    label = labels[i] if labels is not None else f"documento {i + 1}"
                    raise QueueError(
                        f"{label}: {exc.message} No se agregó ninguno de los {len(items)}."
                    ) from None
        results = []
        for doc_id, warnings in added:
            rec = self.ledger.get(doc_id)
            assert rec is not None
            results.append(AddResult(rec, tuple(warnings)))
        return results

    def _add_locked(
        self,
        ledger: Ledger,
        data: dict[str, Any],
        *,
        draft: bool = False,
        promoted_from: str | None = None,
        test_set: str | None = None,
    ) -> tuple[str, list[str]]:
        """:meth:`add` inside the caller's ledger transaction: (doc_id, warnings)."""
        warnings: list[str] = []
        document = data.get("document")
        if not isinstance(document, dict):
            raise QueueError("El JSON no tiene la sección «document» (vea docs/invoice-json.md).")
        issuer = data.get("issuer")
        file_nit = str(issuer.get("nit", "")) if isinstance(issuer, dict) else ""
        if file_nit and file_nit != self.company.nit:
            raise QueueError(
                f"El documento es del emisor {file_nit} y la empresa elegida es "
                f"{self.company.label}; elija la empresa con --company."
            )
        if document.get("number") is not None:
            warnings.append(
                f"Se ignoró el número {document.get('number')} del archivo: la cola asigna el "
                "siguiente consecutivo de la resolución."
            )
        kind = str(document.get("kind", "invoice"))
        if kind not in ("invoice", "credit_note", "debit_note"):
            raise QueueError(f"Tipo de documento desconocido: {kind!r}.")
        raw_prefix = document.get("prefix")
        prefix = None if raw_prefix is None else str(raw_prefix)
        when = self.clock()
        if draft:
            doc_id = f"BORRADOR-{int(time.time() * 1000):x}{self.rng.randrange(1 << 16):04x}"
            rec_prefix, number = prefix or "", None
            # A draft is validated with a provisional number: errors show now, not later.
            probe = numbering.next_number(
                self.store, ledger, self.company.nit, kind=kind, prefix=prefix, on=when.date()
            )
            request = self._document_request(
                data, probe.number, probe.prefix, probe.resolution, when
            )
        else:
            alloc = numbering.next_number(
                self.store, ledger, self.company.nit, kind=kind, prefix=prefix, on=when.date()
            )
            request = self._document_request(
                data, alloc.number, alloc.prefix, alloc.resolution, when
            )
            doc_id, rec_prefix, number = alloc.doc_id, alloc.prefix, alloc.number
            if ledger.has(doc_id):
                raise QueueError(f"El número {doc_id} ya está en la cola.")  # never reached
        doc = request.document
        reference = None
        billing = getattr(doc, "billing_reference", None)
        if billing is not None:
            reference = billing.number
        payload = request.model_dump(mode="json")
        ref = ledger.store_request(doc_id, payload)
        extra: dict[str, Any] = {}
        if promoted_from is not None:
            extra["promoted_from"] = promoted_from
        if test_set:
            extra["test_set"] = test_set.strip().lower()
        ledger.append(
            "added",
            doc_id,
            number=number,
            prefix=rec_prefix,
            type=_type_code(request),
            kind=kind,
            state=DRAFT if draft else READY,
            issue_date=doc.issue_at.date().isoformat(),
            reference=reference,
            req=list(ref),
            **extra,
        )
        warnings.extend(request.warnings())
        return doc_id, warnings

    def promote(self, doc_id: str) -> DocRecord:
        """Give a draft its number: it becomes ``ready`` (a new id, ``prefix + number``).

        One ledger append records the numbered document and retires the draft
        (its ``added`` event names the draft in ``promoted_from``), so a crash can
        never leave both a numbered copy and a draft that would be numbered again.
        The draft stays in the ledger as ``void`` with the new number as reason.
        """
        with self.ledger.transaction() as ledger:
            rec = self._require(doc_id)
            if rec.state != DRAFT:
                raise QueueError(f"{rec.doc_id} no es un borrador ({STATE_LABELS[rec.state]}).")
            data = self.ledger.request(rec)
            data = {k: v for k, v in data.items() if k != "document"} | {
                "document": {
                    k: v
                    for k, v in dict(data.get("document") or {}).items()
                    if k not in ("number", "issue_at")
                }
            }
            new_id, _ = self._add_locked(ledger, data, promoted_from=rec.doc_id)
            reason = f"borrador numerado como {new_id}"
            ledger.append("void", rec.doc_id, state=VOID, void_reason=reason, message=reason)
        new = self.ledger.get(new_id)
        assert new is not None
        return new

    def update_draft(self, doc_id: str, data: dict[str, Any]) -> DocRecord:
        """Replace a draft's content; it stays a draft, under the same id, without a number.

        Checked like :meth:`add` with ``draft=True`` (a provisional number, so the
        errors show now); recorded as a ``corrected`` event (a new revision).
        """
        with self.ledger.transaction() as ledger:
            rec = self._require(doc_id)
            if rec.state != DRAFT:
                raise QueueError(f"{rec.doc_id} no es un borrador ({STATE_LABELS[rec.state]}).")
            when = self.clock()
            kind = str((data.get("document") or {}).get("kind", rec.kind))
            probe = numbering.next_number(
                self.store,
                ledger,
                self.company.nit,
                kind=kind,
                prefix=rec.prefix or None,
                on=when.date(),
            )
            request = self._document_request(
                data, probe.number, probe.prefix, probe.resolution, when
            )
            ref = ledger.store_request(rec.doc_id, request.model_dump(mode="json"))
            ledger.append(
                "corrected", rec.doc_id, state=DRAFT, req=list(ref), message="Borrador actualizado."
            )
        updated = self.ledger.get(rec.doc_id)
        assert updated is not None
        return updated

    def correct(self, doc_id: str, data: dict[str, Any]) -> DocRecord:
        """Replace a rejected (or not yet sent) document's content, keeping its number."""
        with self.ledger.transaction() as ledger:
            rec = self._require(doc_id)
            if rec.state not in (REJECTED, READY, RETRYABLE, DRAFT, HELD):
                raise QueueError(
                    f"{rec.doc_id} está {STATE_LABELS[rec.state]}: solo se corrige un documento "
                    "rechazado o aún no enviado."
                )
            if rec.number is None:
                raise QueueError(f"{rec.doc_id} es un borrador: numérelo primero.")
            when = self.clock()
            kind = rec.kind
            resolution = None
            if kind == "invoice":
                matching = [
                    r
                    for r in self.store.resolutions(self.company.nit, rec.prefix)
                    if r.contains(rec.number)
                ]
                resolution = matching[0] if matching else None
            request = self._document_request(data, rec.number, rec.prefix, resolution, when)
            ref = ledger.store_request(rec.doc_id, request.model_dump(mode="json"))
            billing = getattr(request.document, "billing_reference", None)
            ledger.append(
                "corrected",
                rec.doc_id,
                state=READY,
                req=list(ref),
                reference=billing.number if billing else None,
                message="Corregido; se firmará de nuevo con el mismo número.",
                next_at=None,
            )
        return self._require(doc_id)

    def void(self, doc_id: str, reason: str) -> DocRecord:
        """Record that a document's number will not be used for a sale, with the reason."""
        reason = reason.strip()
        if not reason:
            raise QueueError("Indique el motivo de la anulación (--reason).")
        with self.ledger.transaction() as ledger:
            rec = self._require(doc_id)
            if rec.state in (ACCEPTED, ACCEPTED_WITH_NOTICES):
                raise QueueError(
                    f"{rec.doc_id} ya fue aceptado por la DIAN: no se anula; emita una nota "
                    "crédito."
                )
            if rec.state in (SENDING, NEEDS_RECONCILE):
                raise QueueError(
                    f"{rec.doc_id} pudo llegar a la DIAN ({STATE_LABELS[rec.state]}): concílielo "
                    "primero (`fe-tui queue reconcile`)."
                )
            if rec.state == VOID:
                raise QueueError(f"{rec.doc_id} ya está anulado.")
            ledger.append("void", rec.doc_id, state=VOID, void_reason=reason, message=reason)
        return self._require(doc_id)

    def retry(self, doc_id: str) -> DocRecord:
        """Put a retryable, rejected or reconcile-pending document back to work now."""
        with self.ledger.transaction() as ledger:
            rec = self._require(doc_id)
            if rec.state in (REJECTED, HELD):
                target = READY
            elif rec.state in (RETRYABLE, NEEDS_RECONCILE):
                target = rec.state
            else:
                raise QueueError(
                    f"{rec.doc_id} está {STATE_LABELS[rec.state]}: no hay nada que reintentar."
                )
            ledger.append(
                "retry", rec.doc_id, state=target, next_at=None, message="Reintento pedido."
            )
        return self._require(doc_id)

    # -- reading -----------------------------------------------------------------------------------
    def _require(self, doc_id: str) -> DocRecord:
        rec = self.ledger.find(doc_id)
        if rec is None:
            raise QueueError(f"No hay un documento {doc_id!r} en la cola de {self.company.label}.")
        return rec

    def list(
        self,
        state: str | None = None,
        prefix: str | None = None,
        *,
        offset: int = 0,
        limit: int | None = None,
        refresh: bool = True,
    ) -> list[DocRecord]:
        """Documents (of one state or prefix), oldest first; a page with ``offset``/``limit``.

        With a state, only that state's documents are looked at (the ledger's
        per-state index: oldest first means "first to enter the state"); a page
        costs O(offset + limit) of the documents that match, not O(all).
        ``refresh=False`` skips reading other processes' appends (a console that
        refreshes once per frame).
        """
        if refresh:
            self.ledger.refresh()
        if state is not None and state not in STATES:
            raise QueueError(f"Estado desconocido: {state!r}. Use uno de: {', '.join(STATES)}.")
        source = list(
            self.ledger.by_state.get(state, {}).values()
            if state is not None
            else self.ledger.docs.values()
        )
        matching = (r for r in source if prefix is None or r.prefix == prefix)
        stop = None if limit is None else offset + max(0, limit)
        return list(itertools.islice(matching, max(0, offset), stop))

    def search(self, text: str) -> DocRecord | None:
        """A document by id (``SETP990000001``), number alone when unambiguous, or CUFE/CUDE
        (O(1): the ledger's indexes)."""
        self.ledger.refresh()
        return self.ledger.find(text)

    def show(self, doc_id: str) -> dict[str, Any]:
        """One document: its record, request and history."""
        self.ledger.refresh()
        rec = self._require(doc_id)
        return {**rec.to_dict(), "history": self.ledger.history(rec.doc_id)}

    def counts(self) -> dict[str, int]:
        """Documents per state."""
        self.ledger.refresh()
        return self.ledger.counts()

    # -- running -----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _run_lock(self) -> Iterator[None]:
        path = self.folder / ".run.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise QueueError(
                    f"Otra ejecución de la cola de {self.company.label} está en curso (otra "
                    "terminal o la consola); espere a que termine."
                ) from None
            yield
        finally:
            os.close(fd)

    async def run(
        self,
        sender: Sender,
        certificate: LoadedCertificate,
        *,
        concurrency: int | None = None,
        progress: Callable[[QueueProgress], None] | None = None,
        test_set_id: str | None = None,
        batch_wait: float = 0.0,
        only: Collection[str] | None = None,
        on_outcome: Callable[[str, oc.Outcome], None] | None = None,
        until: Callable[[], bool] | None = None,
        force: bool = False,
    ) -> RunSummary:
        """Work until nothing is left to do now: reconcile, build, sign, check, send, record.

        Documents that still fail after ``policy.max_attempts`` stay
        ``retryable`` (or ``needs_reconcile``) with their last message, for a
        later run or ``queue retry``. A document whose preflight finds a Rechazo
        is ``held`` and not sent. With ``force`` the preflight is skipped (each
        document sent so gets a ``forced`` event) and ``held`` documents are sent too.

        Options for the habilitación test set (``test_set_id``: SendTestSetAsync):
        ``batch_wait`` seconds to wait for each batch's GetStatusZip verdict
        (0: the document is reconciled later by GetStatus, which does not
        carry the set's status); ``only`` restricts the run to these document
        ids (the rest of the queue is left alone); ``on_outcome`` receives each
        DIAN answer (doc id, outcome) before it is settled, so the caller sees
        the batch with the set's status; once ``until()`` is true no new
        document is started (those in flight finish).
        """
        with self._run_lock(), offload.dedicated(RUN_WORKERS, name="fe-tui-queue"):
            runner = _Runner(
                self,
                sender,
                certificate,
                concurrency or self.settings.concurrency,
                progress,
                test_set_id,
                force=force,
            )
            runner.batch_wait = max(0.0, batch_wait)
            runner.only = None if only is None else frozenset(only)
            runner.on_outcome = on_outcome
            runner.until = until
            return await runner.run()

    async def reconcile(self, sender: Sender, certificate: LoadedCertificate) -> RunSummary:
        """Ask DIAN about every document that may have reached it, without sending anything."""
        with self._run_lock(), offload.dedicated(RUN_WORKERS, name="fe-tui-queue"):
            runner = _Runner(self, sender, certificate, self.settings.concurrency, None, None)
            return await runner.run(reconcile_only=True)


def _set_documents(store: Store, nit: str, test_set_id: str | None) -> frozenset[str]:
    """Ids of the documents the habilitación test sets of ``nit`` queued, except the set
    ``test_set_id``'s (store table ``habilitacion``, keys ``test_set:<id>``)."""
    mine = f"test_set:{(test_set_id or '').strip().lower()}"
    ids: set[str] = set()
    for record in store.all("habilitacion", nit):
        key = str(record.get("key", ""))
        if not key.startswith("test_set:") or key == mine:
            continue
        for doc in record.get("documents") or []:
            if isinstance(doc, dict) and isinstance(doc.get("doc_id"), str):
                ids.add(doc["doc_id"])
    return frozenset(ids)


def _type_code(request: DocumentRequest) -> str:
    doc = request.document
    if isinstance(doc, Invoice):
        return doc.type_code
    return "91" if doc.kind == "credit_note" else "92"


class _Runner:
    """One run of the queue (internal; see :meth:`InvoiceQueue.run`)."""

    def __init__(
        self,
        queue: InvoiceQueue,
        sender: Sender,
        certificate: LoadedCertificate,
        concurrency: int,
        progress: Callable[[QueueProgress], None] | None,
        test_set_id: str | None,
        *,
        force: bool = False,
    ) -> None:
        self.q = queue
        self.force = force
        self.registry = CompanyRegistry(queue.store, queue.company)
        self.ledger = queue.ledger
        self.sender = sender
        self.cert = certificate
        self.concurrency = max(1, concurrency)
        self.progress = progress
        self.test_set_id = test_set_id
        self.breaker = CircuitBreaker(queue.policy.breaker_threshold, queue.policy.breaker_cooldown)
        self.tries: dict[str, int] = {}
        self.given_up: set[str] = set()
        self.in_flight: set[str] = set()
        self.done = 0
        self.total = 0
        self.started = time.monotonic()
        self.summary = RunSummary()
        self._lock = asyncio.Lock()
        #: documents of habilitación test sets other than this run's: never sent here (a
        #: plain run would send them without their TestSetId). The ledger marks them; the
        #: sets' records in the store also list those queued before the mark existed.
        self.other_sets = _set_documents(queue.store, queue.company.nit, test_set_id)
        # Run options (InvoiceQueue.run): set after construction, defaults change nothing.
        self.batch_wait = 0.0
        self.only: frozenset[str] | None = None
        self.on_outcome: Callable[[str, oc.Outcome], None] | None = None
        self.until: Callable[[], bool] | None = None
        #: group commit: (events, future) waiting for the next ledger append
        self._batch: list[tuple[list[tuple[str, str, dict[str, Any]]], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    # -- ledger writes: group commit -----------------------------------------------------------
    # Every event is durable (fsynced) before _record returns, so the effect it records
    # (building under a number, sending under a CUFE) always comes after it. Events that
    # arrive while an append is in flight go together in the next one: one lock, one
    # write and one fsync for all of them, in a thread so the loop never waits on the disk.
    async def _record(self, event: str, doc_id: str, **data: Any) -> None:
        await self._record_many([(event, doc_id, data)])

    async def _record_many(self, events: list[tuple[str, str, dict[str, Any]]]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._batch.append((events, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_batches())
        await future

    async def _write_batches(self) -> None:
        while self._batch:
            batch, self._batch = self._batch, []

            def write(batch: list[Any] = batch) -> None:
                with self.ledger.transaction() as ledger:
                    for events, _ in batch:
                        for event, doc_id, data in events:
                            ledger.append(event, doc_id, **data)

            try:
                await offload.to_disk(write)
            except BaseException as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for _, future in batch:
                if not future.done():
                    future.set_result(None)

    # -- what to do next: from the ledger's per-state index, not a scan of every document ----
    def _states(self, reconcile_only: bool) -> tuple[str, ...]:
        if reconcile_only:
            return (NEEDS_RECONCILE, SIGNED, SENDING)
        states = (NEEDS_RECONCILE, SIGNED, SENDING, RETRYABLE, READY)
        return (*states, HELD) if self.force else states

    def _due(self, reconcile_only: bool, limit: int | None = None) -> list[DocRecord]:
        """Documents to work on now, at most ``limit`` (cost O(limit + skipped), not O(n))."""
        now = time.time()
        due: list[DocRecord] = []
        if self.until is not None and self.until():
            return due
        for state in self._states(reconcile_only):
            # A copy (atomic under the GIL): ledger threads may apply events meanwhile.
            for rec in list(self.ledger.by_state.get(state, {}).values()):
                if rec.doc_id in self.in_flight or rec.doc_id in self.given_up:
                    continue
                if self.only is not None and rec.doc_id not in self.only:
                    continue
                if self._other_set(rec):
                    continue
                if rec.next_attempt_at is not None and rec.next_attempt_at > now:
                    continue
                if rec.kind != "invoice" and rec.reference and not self._reference_ready(rec):
                    continue
                due.append(rec)
                if limit is not None and len(due) >= limit:
                    return due
        return due

    def _waiting(self, reconcile_only: bool) -> float | None:
        """Seconds until the next backed-off document is due (``None``: nothing waits)."""
        if self.until is not None and self.until():
            return None
        now = time.time()
        times = [
            rec.next_attempt_at
            for state in self._states(reconcile_only)
            for rec in list(self.ledger.by_state.get(state, {}).values())
            if rec.doc_id not in self.given_up
            and (self.only is None or rec.doc_id in self.only)
            and not self._other_set(rec)
            and rec.next_attempt_at is not None
        ]
        return max(0.0, min(times) - now) if times else None

    def _other_set(self, rec: DocRecord) -> bool:
        """Does ``rec`` belong to a test set this run does not send?"""
        mine = (self.test_set_id or "").strip().lower()
        if rec.test_set is not None:
            return rec.test_set != mine
        return rec.doc_id in self.other_sets

    def _reference_ready(self, rec: DocRecord) -> bool:
        ref = self.ledger.get(rec.reference or "")
        # An invoice outside this queue (issued elsewhere) does not hold the note back.
        return ref is None or ref.state in (ACCEPTED, ACCEPTED_WITH_NOTICES)

    def _emit(self) -> None:
        if self.progress is None:
            return
        elapsed = time.monotonic() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = max(0, self.total - self.done)
        eta = left / rate if rate > 0 else None
        self.progress(
            QueueProgress(self.ledger.counts(), self.done, self.total, elapsed, rate, eta)
        )

    async def run(self, *, reconcile_only: bool = False) -> RunSummary:
        await offload.to_thread(self.ledger.refresh)
        # Start-up: whatever was signed or on its way when the last run stopped is
        # ambiguous until DIAN is asked.
        interrupted = [
            rec
            for state in (SIGNED, SENDING)
            for rec in self.ledger.by_state.get(state, {}).values()
        ]
        if interrupted:
            message = (
                "La ejecución anterior se interrumpió; se consulta a la DIAN antes de reenviar."
            )
            await self._record_many(
                [
                    (
                        "state",
                        rec.doc_id,
                        {"state": NEEDS_RECONCILE, "next_at": None, "message": message},
                    )
                    for rec in interrupted
                ]
            )
        self.total = len(self._due(reconcile_only)) + sum(
            1
            for state in self._states(reconcile_only)
            for r in self.ledger.by_state.get(state, {}).values()
            if r.next_attempt_at is not None
            and (self.only is None or r.doc_id in self.only)
        )
        self._emit()
        work: asyncio.Queue[DocRecord | None] = asyncio.Queue()
        workers = [asyncio.create_task(self._worker(work)) for _ in range(self.concurrency)]
        window = self.concurrency * 4
        try:
            while True:
                crashed = next((w for w in workers if w.done()), None)
                if crashed is not None:
                    # Workers end only when told to: one that ended hit an unexpected error.
                    # Surface it instead of waiting for documents no one will take.
                    crashed.result()
                    raise RuntimeError("a queue worker ended unexpectedly")
                self._wake.clear()
                room = window - len(self.in_flight)
                due = self._due(reconcile_only, limit=max(room, 1))
                now = time.monotonic()
                if due and not self.breaker.allow(now):
                    await asyncio.sleep(min(self.breaker.wait_time(now), 1.0))
                    continue
                for rec in due[: max(room, 0)]:
                    self.in_flight.add(rec.doc_id)
                    work.put_nowait(rec)
                if self.in_flight:
                    # Until a worker finishes (or a backed-off document may be due).
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), 0.05)
                    continue
                if due:
                    continue
                wait = self._waiting(reconcile_only)
                if wait is None:
                    break
                await asyncio.sleep(min(wait, 1.0))
        finally:
            for _ in workers:
                work.put_nowait(None)
            await asyncio.gather(*workers, return_exceptions=True)
        self.summary.counts = self.ledger.counts()
        self.summary.elapsed = time.monotonic() - self.started
        self._emit()
        return self.summary

    async def _worker(self, work: asyncio.Queue[DocRecord | None]) -> None:
        while True:
            rec = await work.get()
            if rec is None:
                return
            try:
                if self.until is not None and self.until():
                    continue  # queued before the stop; left as it is (finally: not in flight)
                if rec.state in (NEEDS_RECONCILE, SIGNED, SENDING):
                    await self._reconcile(rec)
                else:
                    await self._send(rec)
            except FeError as exc:
                await self._fail(rec, exc.message)
            finally:
                self.in_flight.discard(rec.doc_id)
                self._wake.set()

    async def _fail(self, rec: DocRecord, message: str) -> None:
        """A local problem (the document cannot be built or signed): visible, not retried."""
        self.given_up.add(rec.doc_id)
        self.done += 1
        await self._record("state", rec.doc_id, state=RETRYABLE, next_at=None, message=message)
        self._emit()

    # -- one document ------------------------------------------------------------------------------
    def _prepare(self, rec: DocRecord) -> tuple[bytes, str, str, PreflightReport | None]:
        """Build and sign (both at the queue's clock, Colombian time), preflight (unless
        forced). In a thread.

        Returns (xml, cufe, issue date, preflight report or None when forced).
        """
        data = self.ledger.request(rec)
        if rec.kind != "invoice" and rec.reference:
            data = self._with_reference(data, rec.reference)
        # Re-dated on the stored data and validated once (every validator runs on the new date).
        # Signed at that same moment: IssueDate and SigningTime can't fall on two days (a
        # document dated 23:59:59 and signed after midnight in Colombia is rejected, FAD09).
        moment = documents.issue_moment(self.q.clock())
        data = documents.redated(data, moment)
        try:
            request = DocumentRequest.model_validate(data)
        except ValidationError as exc:
            raise QueueError(
                f"{rec.doc_id} no es válido hoy:\n" + format_validation_error(exc)
            ) from None
        # The preflight validates the schema itself (ZB01 holds the document); forced
        # documents are still validated while building.
        built = documents.build(request, validate=self.force)
        signed = documents.sign_tree(
            built.document.root, self.cert, role=request.signer_role, signing_time=moment
        )
        report = None if self.force else preflight(signed, self.registry)
        return signed, built.document.uuid, request.document.issue_at.date().isoformat(), report

    def _with_reference(self, data: dict[str, Any], reference: str) -> dict[str, Any]:
        ref = self.ledger.get(reference)
        if ref is None or not ref.cufe:
            return data
        document = dict(data["document"])
        billing = dict(document.get("billing_reference") or {})
        billing.update(number=reference, uuid=ref.cufe, issue_date=ref.issue_date)
        document["billing_reference"] = billing
        return {**data, "document": document}

    async def _send(self, rec: DocRecord) -> None:
        if not self.breaker.allow(time.monotonic()):
            return  # picked up again once the breaker lets requests through
        xml, cufe, issue_date, report = await offload.to_thread(self._prepare, rec)
        if report is not None and report.rechazos:
            await self._hold(rec, report)
            return
        if self.force:
            await self._record(
                "forced",
                rec.doc_id,
                message="Enviado sin la revisión local (queue run --force).",
            )
        # Both durable (one append) before the first byte leaves.
        await self._record_many(
            [
                ("state", rec.doc_id, {"state": SIGNED, "cufe": cufe, "issue_date": issue_date}),
                ("state", rec.doc_id, {"state": SENDING, "next_at": None}),
            ]
        )
        # The preflight read the facts from these bytes and verified their signature.
        facts = report.facts if report is not None else None
        if self.batch_wait and self.test_set_id:
            result = await self.sender.submit(
                xml, test_set_id=self.test_set_id, wait=self.batch_wait, facts=facts
            )
        else:
            result = await self.sender.submit(xml, test_set_id=self.test_set_id, facts=facts)
        await self._settle(rec.doc_id, result.outcome, cufe)

    async def _hold(self, rec: DocRecord, report: PreflightReport) -> None:
        """Keep a document with a local Rechazo out of DIAN, with every rule recorded."""
        found = [describe(f) for f in report.rechazos]
        rules = [
            {
                "code": f["code"],
                "kind": f["kind"],
                "text": f["dian_message"],
                "detail": f["detail"],
                "explanation": f["explanation"],
                "fix": f["fix"],
                "xpath": f["xpath"],
                "value": f["value"],
            }
            for f in found
        ]
        codes = ", ".join(dict.fromkeys(r["code"] for r in rules))
        first = rules[0]
        message = (
            f"Retenida antes de enviar: la revisión local encontró {len(rules)} rechazo(s) "
            f"({codes}); la DIAN no lo recibió. {first['code']}: "
            f"{first['detail'] or first['explanation'] or first['text']}. Corrija el documento "
            "(`fe-tui queue correct`) o, si está seguro, envíelo con `fe-tui queue run --force`."
        )
        self.done += 1
        self.summary.processed += 1
        notices = [f.code for f in report.notificaciones]
        await self._record(
            "preflight",
            rec.doc_id,
            state=HELD,
            next_at=None,
            origin="preflight",
            rules=rules,
            notices=notices,
            message=message,
        )
        self._emit()

    async def _reconcile(self, rec: DocRecord) -> None:
        if not rec.cufe:
            await self._record(
                "state",
                rec.doc_id,
                state=READY,
                next_at=None,
                message="Nunca se envió; se firmará y enviará.",
            )
            return
        outcome = await self.sender.status(rec.cufe)
        if isinstance(outcome, oc.NotFound):
            await self._record(
                "attempt",
                rec.doc_id,
                state=READY,
                next_at=None,
                outcome=_summary(outcome),
                message="La DIAN no tiene este documento: se firmará de nuevo (mismo número) y "
                "se enviará.",
            )
            return
        await self._settle(rec.doc_id, outcome, rec.cufe, reconciling=True)

    async def _settle(
        self, doc_id: str, outcome: oc.Outcome, cufe: str, *, reconciling: bool = False
    ) -> None:
        """Turn an outcome into the document's next state (and a recorded attempt)."""
        if self.on_outcome is not None:
            # An observer's bug must not kill a worker (the run would wait for it forever).
            with contextlib.suppress(Exception):
                self.on_outcome(doc_id, outcome)
        now = time.monotonic()
        if isinstance(outcome, oc.BatchStatus):
            items = [i for i in outcome.items if not isinstance(i, oc.TestSetStatus)]
            # One verdict for this document: settle on it; otherwise GetStatus later decides.
            if not outcome.in_process and len(items) == 1:
                outcome = items[0]
        if isinstance(outcome, oc.AlreadyProcessed):
            # Regla 90: DIAN has it. Fetch the original result; never renumber. A "not
            # found" right after means DIAN does not show it yet: ask again later.
            outcome = await self.sender.status(outcome.existing_key or cufe)
            reconciling = True
        self.breaker.record(not isinstance(outcome, _TRANSPORT), now)
        if self.breaker.opened_at == now:
            self.summary.circuit_opened += 1
        tries = self.tries[doc_id] = self.tries.get(doc_id, 0) + 1
        data: dict[str, Any] = {"outcome": _summary(outcome), "message": outcome.message}
        final = True
        if isinstance(outcome, oc.Accepted):
            state = ACCEPTED
        elif isinstance(outcome, oc.AcceptedWithNotifications):
            state = ACCEPTED_WITH_NOTICES
        elif isinstance(outcome, oc.Rejected):
            state = REJECTED
        elif isinstance(outcome, oc.Failure) and outcome.sent is False:
            state, final = RETRYABLE, False
        elif isinstance(outcome, oc.NotFound) and not reconciling:
            state, final = READY, False
        else:
            # Timeout after sending, lost answer, 5xx, SOAP fault, in process…: ask DIAN first.
            state, final = NEEDS_RECONCILE, False
        if not final:
            if tries >= self.q.policy.max_attempts:
                self.given_up.add(doc_id)
                data["next_at"] = None
                data["message"] = (
                    f"{outcome.message} Se agotaron {tries} intentos en esta ejecución; "
                    "`fe-tui queue retry` o una nueva ejecución lo retoman."
                )
                final = True
            else:
                data["next_at"] = time.time() + self.q.policy.delay(tries, self.q.rng)
        else:
            data["next_at"] = None
        if final:
            self.done += 1
            self.summary.processed += 1
        await self._record("attempt", doc_id, state=state, **data)
        self._emit()


def _summary(outcome: oc.Outcome) -> dict[str, Any]:
    """The part of an outcome the ledger keeps (the journal keeps the raw answer)."""
    data: dict[str, Any] = {
        "kind": outcome.kind.value,
        "operation": outcome.operation,
        "sent": outcome.sent,
    }
    rules = getattr(outcome, "rules", None)
    if rules:
        data["rules"] = [{"code": r.code, "kind": r.kind, "text": r.dian_text} for r in rules]
    return data


def queue_for(store: Store, settings: Settings, company_nit: str | None = None) -> InvoiceQueue:
    """The queue of ``company_nit`` (or the current company)."""
    return InvoiceQueue(store, store.require_company(company_nit), settings)
