"""The document ledger: every document of a company and every change of its state.

Documents are many (a company sends thousands a month), so they are not kept in
TinyDB, which rewrites its whole file on every write (measured here: 160×
slower at 100k records than at 1k). Instead, per company::

    <data_dir>/companies/<nit>/ledger/
        events-000001.jsonl     small events: added, state, attempt, void, corrected…
        events-000002.jsonl     (a new segment every SEGMENT_EVENTS events)
        requests-000001.jsonl   the document requests (the JSON an invoice is built from)
        .lock                   flock: one writer at a time, across processes

- **O(1) per state change**: a change appends one line to the open segment and
  fsyncs it. Closed segments are never rewritten. Nothing is rewritten.
- **Readers rebuild an index** (one small record per document) by replaying
  the event segments at open; requests are read lazily by offset, so opening
  a ledger of 100k documents reads only the small events.
- **Several processes**: every write happens inside :meth:`Ledger.transaction`,
  which takes the lock and first reads what other processes appended since
  this process last looked (a tail read, O(new events)). The CLI and the
  console therefore see each other's changes, and the numbering allocator
  computes the next number from an up-to-date index under the same lock.
- **Crash-safe**: a line cut short by a crash (no trailing newline) is ignored
  and overwritten by the next writer's append position check; an event is
  durable (fsynced) before :meth:`transaction` returns.

The ledger knows nothing of DIAN: states and transitions are the queue's
(:mod:`fe_tui.services.invoice_queue`); the ledger records them and enforces
only what every caller relies on (a document id is added once; a number is
allocated once per prefix).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fe_tui.errors import FeError
from fe_tui.fileio import private_dir

#: Events per segment before a new one is opened (closed segments are never rewritten).
SEGMENT_EVENTS = 50_000


class LedgerError(FeError):
    """The ledger cannot be read or written, or an event contradicts it."""


@dataclass(slots=True)
class DocRecord:
    """What the index keeps of one document (small: 100k of these fit in tens of MB)."""

    doc_id: str
    number: int | None
    prefix: str
    document_type: str
    kind: str
    state: str
    created: str
    updated: str
    revision: int = 0
    attempts: int = 0
    cufe: str | None = None
    issue_date: str | None = None
    reference: str | None = None  #: the invoice a note refers to (prefix + number)
    message: str | None = None  #: last Spanish explanation shown to the agent
    next_attempt_at: float | None = None  #: epoch seconds, for retryable documents
    void_reason: str | None = None
    request_ref: tuple[int, int, int] = (0, 0, 0)  #: requests segment, offset, length
    first_segment: int = 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (no request)."""
        return {
            "id": self.doc_id,
            "number": self.number,
            "prefix": self.prefix,
            "document_type": self.document_type,
            "kind": self.kind,
            "state": self.state,
            "cufe": self.cufe,
            "revision": self.revision,
            "attempts": self.attempts,
            "issue_date": self.issue_date,
            "reference": self.reference,
            "message": self.message,
            "void_reason": self.void_reason,
            "created": self.created,
            "updated": self.updated,
        }


@dataclass
class _Tail:
    """How far this process has read one segment."""

    offset: int = 0
    lines: int = 0


@dataclass
class Ledger:
    """The documents of one company (see the module docstring)."""

    folder: Path
    segment_events: int = SEGMENT_EVENTS
    docs: dict[str, DocRecord] = field(default_factory=dict)
    #: last number allocated per prefix (voids included: a void number stays used)
    last_numbers: dict[str, int] = field(default_factory=dict)
    _tails: dict[int, _Tail] = field(default_factory=dict)
    _pending: list[dict[str, Any]] = field(default_factory=list)
    _lock_fd: int | None = None

    def __post_init__(self) -> None:
        private_dir(self.folder)
        self.refresh()

    # -- reading -----------------------------------------------------------------------------------
    def _segment_path(self, kind: str, number: int) -> Path:
        return self.folder / f"{kind}-{number:06d}.jsonl"

    def _segments(self) -> list[int]:
        numbers = []
        for path in self.folder.glob("events-*.jsonl"):
            with contextlib.suppress(ValueError):
                numbers.append(int(path.stem.split("-")[1]))
        return sorted(numbers)

    def refresh(self) -> None:
        """Read what was appended since the last look (by this or another process)."""
        for number in self._segments():
            tail = self._tails.setdefault(number, _Tail())
            path = self._segment_path("events", number)
            try:
                with open(path, "rb") as fh:
                    fh.seek(tail.offset)
                    data = fh.read()
            except OSError as exc:
                raise LedgerError(f"No se puede leer {path}: {exc.strerror}.") from None
            end = data.rfind(b"\n")
            if end < 0:
                continue  # nothing complete yet (or a line cut by a crash)
            for raw in data[: end + 1].splitlines():
                tail.lines += 1
                try:
                    event = json.loads(raw)
                except ValueError:
                    continue  # damaged line: skipped, never fatal
                if isinstance(event, dict):
                    self._apply(event, number)
            tail.offset += end + 1

    def _apply(self, ev: dict[str, Any], segment: int) -> None:
        kind = ev.get("e")
        doc_id = ev.get("doc")
        if not isinstance(doc_id, str):
            return
        time = str(ev.get("t", ""))
        if kind == "added":
            number = ev.get("number")
            rec = DocRecord(
                doc_id=doc_id,
                number=number if isinstance(number, int) else None,
                prefix=str(ev.get("prefix", "")),
                document_type=str(ev.get("type", "")),
                kind=str(ev.get("kind", "")),
                state=str(ev.get("state", "ready")),
                created=time,
                updated=time,
                issue_date=ev.get("issue_date"),
                reference=ev.get("reference"),
                request_ref=tuple(ev.get("req", (0, 0, 0))),  # type: ignore[arg-type]
                first_segment=segment,
            )
            self.docs[doc_id] = rec
            self._note_number(rec.prefix, rec.number)
            draft = self.docs.get(str(ev.get("promoted_from") or ""))
            if draft is not None:
                # A promoted draft is retired in the same line (atomic with the new number).
                draft.state = "void"
                draft.void_reason = f"borrador numerado como {doc_id}"
                draft.updated = time
            return
        found = self.docs.get(doc_id)
        if found is None:
            return
        rec = found
        rec.updated = time
        if "state" in ev:
            rec.state = str(ev["state"])
        for name in ("cufe", "message", "issue_date", "void_reason"):
            if name in ev:
                setattr(rec, name, ev[name])
        if "next_at" in ev:
            rec.next_attempt_at = ev["next_at"]
        if kind == "attempt":
            rec.attempts += 1
        if kind == "numbered":
            rec.number = int(ev["number"])
            self._note_number(rec.prefix, rec.number)
        if kind == "corrected":
            rec.revision += 1
            rec.request_ref = tuple(ev.get("req", rec.request_ref))  # type: ignore[assignment]
            if "reference" in ev:
                rec.reference = ev["reference"]

    def _note_number(self, prefix: str, number: int | None) -> None:
        if number is not None and number > self.last_numbers.get(prefix, -1):
            self.last_numbers[prefix] = number

    # -- queries -----------------------------------------------------------------------------------
    def get(self, doc_id: str) -> DocRecord | None:
        """The document ``doc_id`` (``SETP990000001``), or ``None``."""
        return self.docs.get(doc_id)

    def find(self, text: str) -> DocRecord | None:
        """A document by id, by number alone (when unambiguous) or by CUFE/CUDE."""
        text = text.strip()
        if text in self.docs:
            return self.docs[text]
        lowered = text.lower()
        matches = [
            r
            for r in self.docs.values()
            if (text.isdigit() and r.number == int(text)) or (r.cufe and r.cufe == lowered)
        ]
        return matches[0] if len(matches) == 1 else None

    def counts(self) -> dict[str, int]:
        """Documents per state."""
        result: dict[str, int] = {}
        for rec in self.docs.values():
            result[rec.state] = result.get(rec.state, 0) + 1
        return result

    def request(self, rec: DocRecord) -> dict[str, Any]:
        """The document request (JSON data) of the current revision."""
        segment, offset, length = rec.request_ref
        path = self._segment_path("requests", segment)
        try:
            with open(path, "rb") as fh:
                fh.seek(offset)
                line = fh.read(length)
            item = json.loads(line)
        except (OSError, ValueError) as exc:
            raise LedgerError(
                f"No se puede leer la solicitud de {rec.doc_id} en {path}: {exc}."
            ) from None
        if not isinstance(item, dict) or item.get("doc") != rec.doc_id:
            raise LedgerError(f"La solicitud de {rec.doc_id} en {path} no corresponde.")
        request = item.get("request")
        if not isinstance(request, dict):
            raise LedgerError(f"La solicitud de {rec.doc_id} en {path} está dañada.")
        return request

    def history(self, doc_id: str) -> list[dict[str, Any]]:
        """Every event of one document, oldest first (reads from its first segment on)."""
        rec = self.docs.get(doc_id)
        if rec is None:
            return []
        needle = json.dumps(doc_id).encode()
        events = []
        for number in self._segments():
            if number < rec.first_segment:
                continue
            with open(self._segment_path("events", number), "rb") as fh:
                for raw in fh:
                    if needle in raw and raw.endswith(b"\n"):
                        with contextlib.suppress(ValueError):
                            ev = json.loads(raw)
                            if ev.get("doc") == doc_id:
                                events.append(ev)
        return events

    # -- writing -----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[Ledger]:
        """Lock, catch up with other writers, collect :meth:`append`\\ s, write and fsync them.

        Events are applied to the index only once they are durable, so a
        failed write leaves the index as the disk is.
        """
        if self._lock_fd is not None:
            yield self  # nested: the outer transaction writes
            return
        lock_path = self.folder / ".lock"
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise LedgerError(f"No se puede abrir {lock_path}: {exc.strerror}.") from None
        os.fchmod(fd, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._lock_fd = fd
            self.refresh()
            self._pending = []
            yield self
            if self._pending:
                self._write(self._pending)
        finally:
            self._pending = []
            self._lock_fd = None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def append(self, event: str, doc_id: str, /, **data: Any) -> dict[str, Any]:
        """Queue one event for the open transaction (written and applied when it ends)."""
        if self._lock_fd is None:
            raise LedgerError("Escritura en el registro de documentos fuera de una transacción.")
        ev = {"t": datetime.now(UTC).isoformat(timespec="milliseconds"), "e": event, "doc": doc_id}
        ev.update(data)
        self._pending.append(ev)
        return ev

    def store_request(self, doc_id: str, request: dict[str, Any]) -> tuple[int, int, int]:
        """Append a request (durably, now) and return where it is, for an ``added`` event."""
        if self._lock_fd is None:
            raise LedgerError("Escritura en el registro de documentos fuera de una transacción.")
        segment = self._current_segment()
        path = self._segment_path("requests", segment)
        line = json.dumps({"doc": doc_id, "request": request}, ensure_ascii=False, default=str)
        data = line.encode("utf-8") + b"\n"
        offset = _append_fsync(path, [data])
        return (segment, offset, len(data) - 1)

    def _current_segment(self) -> int:
        segments = self._segments()
        if not segments:
            return 1
        last = segments[-1]
        tail = self._tails.get(last)
        if tail is not None and tail.lines >= self.segment_events:
            return last + 1
        return last

    def _write(self, events: Iterable[dict[str, Any]]) -> None:
        segment = self._current_segment()
        lines = [
            json.dumps(ev, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")
            + b"\n"
            for ev in events
        ]
        _append_fsync(self._segment_path("events", segment), lines)
        # Apply through the same path readers use, so the index is what the disk says.
        self.refresh()


def _append_fsync(path: Path, lines: list[bytes]) -> int:
    """Append ``lines`` to ``path`` (0600) and fsync; return the offset of the first.

    A line left incomplete by a crash is terminated first, so the new lines
    start on a line of their own (readers skip the damaged one).
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError as exc:
        raise LedgerError(f"No se puede escribir {path}: {exc.strerror}.") from None
    try:
        size = os.fstat(fd).st_size
        prefix = b""
        if size:
            os.lseek(fd, size - 1, os.SEEK_SET)
            if os.read(fd, 1) != b"\n":
                prefix = b"\n"
        payload = prefix + b"".join(lines)
        written = 0
        while written < len(payload):
            written += os.write(fd, payload[written:])
        os.fsync(fd)
        return size + len(prefix)
    except OSError as exc:
        raise LedgerError(f"No se puede escribir {path}: {exc.strerror}.") from None
    finally:
        os.close(fd)
