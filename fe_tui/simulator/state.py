"""What the local DIAN simulator remembers: documents, batches, test sets, events.

In memory by default. With a ``state_dir`` every change is also written as
JSON, atomically (temporary file in the same folder, fsync, ``os.replace``),
readable by the owner only (0600, folder 0700), and reloaded at start-up:

``state_dir/documents/<CUFE or CUDE>.json``
    one file per processed document (the signed XML and DIAN's
    ApplicationResponse travel in them as base64, so they are the big ones);
``state_dir/index.json``
    batches (ZipKey), test-set progress, events, remembered certificates and
    the ApplicationResponse counter;
``state_dir/sends.log``
    one line per document that arrived in a send (the key it declared, or ``-``),
    appended, so counting a send costs the same however many documents exist.

This module does no locking: the ASGI app serializes mutations with one
``asyncio.Lock`` and calls :meth:`State.persist` inside it.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from fe_tui.dian import messages
from fe_tui.fileio import private_dir, write_private

TestSetStatus = Literal["En proceso", "Aceptado", "Rechazado"]
DocumentGroup = Literal["invoice", "credit_note", "debit_note"]

_NUMBER = re.compile(r"^(?P<prefix>.*?)(?P<digits>\d+)$")
_KEY_FILE = re.compile(r"^[0-9A-Za-z_-]{1,200}$")


def document_group(document_type: str) -> DocumentGroup:
    """DIAN's counting group: 01/02/03/04 invoices, 91 credit notes, 92 debit notes."""
    if document_type == "91":
        return "credit_note"
    if document_type == "92":
        return "debit_note"
    return "invoice"


def number_key(issuer_nit: str, document_type: str, document_id: str) -> str:
    """Identity of a number for Regla 90: issuer + type group + ID without leading zeros."""
    m = _NUMBER.match(document_id.strip())
    normal = (
        f"{m.group('prefix').upper()}{int(m.group('digits'))}" if m else document_id.strip().upper()
    )
    return f"{issuer_nit}|{document_group(document_type)}|{normal}"


def now_utc() -> datetime:
    return datetime.now(UTC)


class StoredResponse(BaseModel):
    """A DianResponse as stored (the ApplicationResponse lives in the document record)."""

    is_valid: bool
    status_code: str
    status_description: str = ""
    status_message: str = ""
    errors: list[str] = Field(default_factory=list)  #: raw "Regla: …" strings
    xml_document_key: str | None = None
    xml_file_name: str | None = None

    def to_message(self, ar_xml: bytes | None = None) -> messages.DianResponse:
        """The typed answer ``messages.render_*`` writes (AR attached when given).

        The renderer only needs the AR's bytes, so they are not parsed again here.
        """
        ar = (
            messages.ApplicationResponse(
                response_code=None,
                description=None,
                document_id=None,
                document_key=None,
                xml=ar_xml,
            )
            if ar_xml
            else None
        )
        return messages.DianResponse(
            is_valid=self.is_valid,
            status_code=self.status_code,
            status_description=self.status_description,
            status_message=self.status_message,
            errors=[messages.RuleMessage.parse(e) for e in self.errors],
            xml_document_key=self.xml_document_key,
            xml_file_name=self.xml_file_name,
            application_response=ar,
        )


class EventRecord(BaseModel):
    """An event (ApplicationResponse 030–034) registered on a document."""

    event_key: str
    document_key: str
    code: str
    event_id: str
    received_at: datetime = Field(default_factory=now_utc)


class DocumentRecord(BaseModel):
    """One processed document (accepted or rejected) and DIAN's answer to it."""

    key: str  #: CUFE/CUDE as declared in the document
    issuer_nit: str
    document_type: str
    document_id: str
    accepted: bool
    response: StoredResponse
    xml_b64: str | None = None  #: the signed document (accepted ones only)
    ar_b64: str | None = None  #: DIAN's signed ApplicationResponse
    received_at: datetime = Field(default_factory=now_utc)
    test_set_id: str | None = None
    events: list[str] = Field(default_factory=list)  #: event codes registered

    @property
    def number_key(self) -> str:
        return number_key(self.issuer_nit, self.document_type, self.document_id)

    def message(self) -> messages.DianResponse:
        """The stored answer, ApplicationResponse included."""
        ar = base64.b64decode(self.ar_b64) if self.ar_b64 else None
        return self.response.to_message(ar)


class ZipItem(BaseModel):
    """One document of a batch: its key (when it had one) and its answer."""

    key: str | None = None
    response: StoredResponse


class ZipRecord(BaseModel):
    """A batch uploaded with SendBillAsync / SendTestSetAsync."""

    zip_key: str
    file_name: str
    test_set_id: str | None = None
    items: list[ZipItem] = Field(default_factory=list)
    #: GetStatusZip answers "in process" this many more times.
    pending_polls: int = 0
    #: The test set was already decided when the batch arrived: not processed.
    set_already: TestSetStatus | None = None
    created_at: datetime = Field(default_factory=now_utc)


class TestSetProgress(BaseModel):
    """Bookkeeping of one test set (DIAN's ``UpdateTestSetResult``)."""

    __test__ = False  # not a pytest class

    test_set_id: str
    status: TestSetStatus = "En proceso"
    accepted: dict[str, int] = Field(default_factory=dict)
    rejected: dict[str, int] = Field(default_factory=dict)

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


class _Index(BaseModel):
    zips: dict[str, ZipRecord] = Field(default_factory=dict)
    test_sets: dict[str, TestSetProgress] = Field(default_factory=dict)
    events: dict[str, EventRecord] = Field(default_factory=dict)
    certificates: dict[str, str] = Field(default_factory=dict)  #: SHA-1 hex → PEM
    ar_counter: int = 0


class State:
    """The simulator's memory; see the module docstring."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self.documents: dict[str, DocumentRecord] = {}
        #: number_key → key of the ACCEPTED document holding that number.
        self.accepted_numbers: dict[str, str] = {}
        self._index = _Index()
        self._dirty_documents: set[str] = set()
        self._dirty_index = False
        #: document key (lower case) → how many times a send carried it; see count_send.
        self.sends: Counter[str] = Counter()
        self.sends_total = 0
        if directory is not None:
            self._load(directory)

    # -- views ---------------------------------------------------------------------------------
    @property
    def zips(self) -> dict[str, ZipRecord]:
        return self._index.zips

    @property
    def test_sets(self) -> dict[str, TestSetProgress]:
        return self._index.test_sets

    @property
    def events(self) -> dict[str, EventRecord]:
        return self._index.events

    @property
    def certificates(self) -> dict[str, str]:
        return self._index.certificates

    def accepted_for_number(self, key: str) -> DocumentRecord | None:
        found = self.accepted_numbers.get(key)
        return self.documents.get(found) if found else None

    # -- mutations (call persist() afterwards) -------------------------------------------------
    def put_document(self, record: DocumentRecord) -> None:
        self.documents[record.key] = record
        if record.accepted:
            self.accepted_numbers[record.number_key] = record.key
        self._dirty_documents.add(record.key)

    def touch_document(self, key: str) -> None:
        self._dirty_documents.add(key)

    def put_zip(self, record: ZipRecord) -> None:
        self._index.zips[record.zip_key] = record
        self._dirty_index = True

    def test_set_progress(self, test_set_id: str) -> TestSetProgress:
        progress = self._index.test_sets.get(test_set_id)
        if progress is None:
            progress = TestSetProgress(test_set_id=test_set_id)
            self._index.test_sets[test_set_id] = progress
        self._dirty_index = True
        return progress

    def put_event(self, record: EventRecord) -> None:
        self._index.events[record.event_key] = record
        self._dirty_index = True

    def remember_certificate(self, sha1_hex: str, pem: str) -> None:
        if sha1_hex not in self._index.certificates:
            self._index.certificates[sha1_hex] = pem
            self._dirty_index = True

    def next_ar_number(self) -> int:
        self._index.ar_counter += 1
        self._dirty_index = True
        return self._index.ar_counter

    def count_send(self, key: str | None) -> None:
        """One document arrived in a SendBillSync / SendBillAsync / SendTestSetAsync.

        Called for every document the service took out of a zip, whatever
        became of it (accepted, rejected, Regla 90, accept_all). ``key`` is the
        CUFE/CUDE it declared (``None`` when it has none); it counts in
        ``sends_total`` only. Requests refused before a document is looked at
        (fault switches, WS-Security, an unreadable zip) are not sends of a
        document. Persisted at once (append) when the state has a folder.
        """
        self.sends_total += 1
        if key:
            self.sends[key.lower()] += 1
        if self.directory is not None:
            line = f"{key.lower() if key else '-'}\n".encode("ascii", "replace")
            fd = os.open(
                self.directory / "sends.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600
            )
            try:
                os.write(fd, line)
            finally:
                os.close(fd)

    def mark_dirty(self) -> None:
        """Something inside the index changed in place (e.g. a batch's poll counter)."""
        self._dirty_index = True

    # -- persistence ---------------------------------------------------------------------------
    def persist(self) -> None:
        """Write what changed since the last call (no-op in memory)."""
        if self.directory is None:
            self._dirty_documents.clear()
            self._dirty_index = False
            return
        docs = self.directory / "documents"
        for key in sorted(self._dirty_documents):
            record = self.documents.get(key)
            if record is not None and _KEY_FILE.match(key):
                write_private(docs / f"{key}.json", record.model_dump_json().encode())
        self._dirty_documents.clear()
        if self._dirty_index:
            write_private(self.directory / "index.json", self._index.model_dump_json().encode())
            self._dirty_index = False

    def _load(self, directory: Path) -> None:
        # private_dir: the parents mkdir(parents=True) makes would follow the umask (0777).
        private_dir(directory / "documents")
        index = directory / "index.json"
        if index.exists():
            self._index = _Index.model_validate_json(index.read_bytes())
        for path in sorted((directory / "documents").glob("*.json")):
            record = DocumentRecord.model_validate_json(path.read_bytes())
            self.documents[record.key] = record
        for record in sorted(self.documents.values(), key=lambda r: r.received_at):
            if record.accepted:
                self.accepted_numbers[record.number_key] = record.key
        sends = directory / "sends.log"
        if sends.exists():
            for line in sends.read_text(encoding="ascii", errors="replace").splitlines():
                key = line.strip()
                if not key:
                    continue  # a line cut short by a crash is lost, not miscounted
                self.sends_total += 1
                if key != "-":
                    self.sends[key] += 1

    # -- summary for agents --------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """A JSON-able overview (``GET /_simulator/state``)."""
        accepted = [d for d in self.documents.values() if d.accepted]
        return {
            "documents": {
                "total": len(self.documents),
                "accepted": len(accepted),
                "rejected": len(self.documents) - len(accepted),
                #: documents that arrived in sends (see count_send), duplicates included
                "sends_total": self.sends_total,
                #: the most times one key arrived: 1 proves nothing was sent twice
                "max_sends_per_document": max(self.sends.values(), default=0),
                "recent": [
                    {
                        "key": d.key,
                        "document_id": d.document_id,
                        "document_type": d.document_type,
                        "issuer_nit": d.issuer_nit,
                        "accepted": d.accepted,
                        "status_code": d.response.status_code,
                        "errors": d.response.errors,
                        "received_at": d.received_at.isoformat(),
                        "test_set_id": d.test_set_id,
                    }
                    for d in sorted(self.documents.values(), key=lambda r: r.received_at)[-20:]
                ],
            },
            "zips": {
                k: {
                    "file_name": z.file_name,
                    "test_set_id": z.test_set_id,
                    "documents": len(z.items),
                    "pending_polls": z.pending_polls,
                }
                for k, z in self._index.zips.items()
            },
            "test_sets": {k: v.model_dump() for k, v in self._index.test_sets.items()},
            "events": len(self._index.events),
            "persisted_in": str(self.directory) if self.directory else None,
        }


def dumps(value: Any) -> bytes:
    """Compact JSON (UTF-8) for admin answers."""
    return json.dumps(value, ensure_ascii=False, default=str).encode()
