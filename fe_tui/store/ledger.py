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
  fsyncs it. Closed segments are never rewritten. Nothing is rewritten. A
  transaction may hold many events (and many requests): they are written in
  one append and one fsync per file (requests first, then the events that
  name them), so a caller can group-commit several changes.
- **Indexes in memory**: documents per state (insertion-ordered: the order they
  entered the state), per number and per CUFE, kept as events are applied, so
  :meth:`Ledger.counts`, :meth:`Ledger.in_state` and :meth:`Ledger.find` cost
  O(states) / O(that state) / O(1), not O(documents).
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

from fe_tui.errors import StorageError
from fe_tui.fileio import private_dir

#: Events per segment before a new one is opened (closed segments are never rewritten).
SEGMENT_EVENTS = 50_000


class LedgerError(StorageError):
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
    #: the habilitación TestSetId (lower case) the document belongs to; None: a normal sale
    test_set: str | None = None

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
            "test_set": self.test_set,
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
    #: doc_id → record, per state, in the order documents entered that state
    by_state: dict[str, dict[str, DocRecord]] = field(default_factory=dict)
    #: number / CUFE → doc_id (a list only when several documents share it: memory)
    _by_number: dict[int, str | list[str]] = field(default_factory=dict)
    _by_cufe: dict[str, str | list[str]] = field(default_factory=dict)
    _tails: dict[int, _Tail] = field(default_factory=dict)
    _pending: list[dict[str, Any]] = field(default_factory=list)
    #: requests of the open transaction: (segment, offset of the first, lines)
    _req_pending: list[bytes] = field(default_factory=list)
    _req_base: tuple[int, int] | None = None
    #: numbers and ids of the open transaction's ``added`` events (not applied yet)
    _pending_numbers: dict[str, int] = field(default_factory=dict)
    _pending_ids: set[str] = field(default_factory=set)
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
                test_set=ev.get("test_set") if isinstance(ev.get("test_set"), str) else None,
            )
            old = self.docs.get(doc_id)
            if old is not None:
                self._unindex(old)
            self.docs[doc_id] = rec
            self.by_state.setdefault(rec.state, {})[doc_id] = rec
            if rec.number is not None:
                _multi_add(self._by_number, rec.number, doc_id)
            self._note_number(rec.prefix, rec.number)
            draft = self.docs.get(str(ev.get("promoted_from") or ""))
            if draft is not None:
                # A promoted draft is retired in the same line (atomic with the new number).
                self._set_state(draft, "void")
                draft.void_reason = f"borrador numerado como {doc_id}"
                draft.updated = time
            return
        found = self.docs.get(doc_id)
        if found is None:
            return
        rec = found
        rec.updated = time
        if "state" in ev:
            self._set_state(rec, str(ev["state"]))
        if "cufe" in ev and ev["cufe"] != rec.cufe:
            self._drop_cufe(rec)
            if isinstance(ev["cufe"], str) and ev["cufe"]:
                _multi_add(self._by_cufe, _key(ev["cufe"]), doc_id)
        for name in ("cufe", "message", "issue_date", "void_reason"):
            if name in ev:
                setattr(rec, name, ev[name])
        if "next_at" in ev:
            rec.next_attempt_at = ev["next_at"]
        if kind == "attempt":
            rec.attempts += 1
        if kind == "numbered":
            rec.number = int(ev["number"])
            _multi_add(self._by_number, rec.number, doc_id)
            self._note_number(rec.prefix, rec.number)
        if kind == "corrected":
            rec.revision += 1
            rec.request_ref = tuple(ev.get("req", rec.request_ref))  # type: ignore[assignment]
            if "reference" in ev:
                rec.reference = ev["reference"]

    def _set_state(self, rec: DocRecord, state: str) -> None:
        if state == rec.state:
            return
        bucket = self.by_state.get(rec.state)
        if bucket is not None:
            bucket.pop(rec.doc_id, None)
        rec.state = state
        self.by_state.setdefault(state, {})[rec.doc_id] = rec

    def _unindex(self, rec: DocRecord) -> None:
        bucket = self.by_state.get(rec.state)
        if bucket is not None:
            bucket.pop(rec.doc_id, None)
        if rec.number is not None:
            _multi_remove(self._by_number, rec.number, rec.doc_id)
        self._drop_cufe(rec)

    def _drop_cufe(self, rec: DocRecord) -> None:
        if rec.cufe:
            _multi_remove(self._by_cufe, _key(rec.cufe), rec.doc_id)

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
        matches: list[str] = []
        if text.isdigit():
            matches += _multi_get(self._by_number, int(text))
        for doc_id in _multi_get(self._by_cufe, _key(text)):
            if doc_id not in matches:
                matches.append(doc_id)
        return self.docs[matches[0]] if len(matches) == 1 else None

    def last_number(self, prefix: str) -> int | None:
        """The last number used for ``prefix``, counting the open transaction's own
        ``added`` events (several documents numbered in one transaction)."""
        known = self.last_numbers.get(prefix)
        pending = self._pending_numbers.get(prefix)
        if pending is None:
            return known
        return pending if known is None else max(known, pending)

    def has(self, doc_id: str) -> bool:
        """``doc_id`` is recorded, or added in the open transaction."""
        return doc_id in self.docs or doc_id in self._pending_ids

    def counts(self) -> dict[str, int]:
        """Documents per state (O(number of states))."""
        return {state: len(ids) for state, ids in self.by_state.items() if ids}

    def in_state(self, state: str) -> Iterator[DocRecord]:
        """The documents in ``state``, in the order they entered it (a live view: copy it
        before changing states while iterating)."""
        return iter(self.by_state.get(state, {}).values())

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
            self._req_pending, self._req_base = [], None
            self._pending_numbers, self._pending_ids = {}, set()
            yield self
            if self._req_pending and self._req_base is not None:
                # Requests are durable before the events that point at them.
                path = self._segment_path("requests", self._req_base[0])
                offset = _append_fsync(path, self._req_pending)
                if offset != self._req_base[1]:
                    raise LedgerError(f"{path} cambió durante la escritura; no se registró nada.")
            if self._pending:
                self._write(self._pending)
        finally:
            self._pending = []
            self._req_pending, self._req_base = [], None
            self._pending_numbers, self._pending_ids = {}, set()
            self._lock_fd = None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def append(self, event: str, doc_id: str, /, **data: Any) -> dict[str, Any]:
        """Queue one event for the open transaction (written and applied when it ends)."""
        if self._lock_fd is None:
            raise LedgerError("Escritura en el registro de documentos fuera de una transacción.")
        ev = {"t": datetime.now(UTC).isoformat(timespec="milliseconds"), "e": event, "doc": doc_id}
        ev.update(data)
        if event in ("added", "numbered") and isinstance(data.get("number"), int):
            prefix = str(
                data.get("prefix", self.docs[doc_id].prefix if doc_id in self.docs else "")
            )
            number = int(data["number"])
            if number > self._pending_numbers.get(prefix, -1):
                self._pending_numbers[prefix] = number
        if event == "added":
            self._pending_ids.add(doc_id)
        self._pending.append(ev)
        return ev

    def store_request(self, doc_id: str, request: dict[str, Any]) -> tuple[int, int, int]:
        """Append a request (durably, now) and return where it is, for an ``added`` event."""
        if self._lock_fd is None:
            raise LedgerError("Escritura en el registro de documentos fuera de una transacción.")
        line = json.dumps({"doc": doc_id, "request": request}, ensure_ascii=False, default=str)
        data = line.encode("utf-8") + b"\n"
        if self._req_base is None:
            segment = self._current_segment()
            self._req_base = (segment, _append_position(self._segment_path("requests", segment)))
        segment, offset = self._req_base
        offset += sum(len(x) for x in self._req_pending)
        self._req_pending.append(data)
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


def _key(cufe: str) -> str:
    """The CUFE as an index key (lowercase; the same object when it already is)."""
    return cufe if cufe.islower() else cufe.lower()


def _multi_add(index: dict[Any, str | list[str]], key: Any, doc_id: str) -> None:
    found = index.get(key)
    if found is None:
        index[key] = doc_id
    elif isinstance(found, str):
        if found != doc_id:
            index[key] = [found, doc_id]
    elif doc_id not in found:
        found.append(doc_id)


def _multi_remove(index: dict[Any, str | list[str]], key: Any, doc_id: str) -> None:
    found = index.get(key)
    if found == doc_id:
        del index[key]
    elif isinstance(found, list) and doc_id in found:
        found.remove(doc_id)
        if len(found) == 1:
            index[key] = found[0]


def _multi_get(index: dict[Any, str | list[str]], key: Any) -> list[str]:
    found = index.get(key)
    if found is None:
        return []
    return [found] if isinstance(found, str) else list(found)


def _append_position(path: Path) -> int:
    """Where :func:`_append_fsync` will put the next line of ``path`` (after a cut line)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            if not size:
                return 0
            fh.seek(size - 1)
            return size if fh.read(1) == b"\n" else size + 1
    except FileNotFoundError:
        return 0
    except OSError as exc:
        raise LedgerError(f"No se puede leer {path}: {exc.strerror}.") from None


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
