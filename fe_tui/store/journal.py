"""The send journal: what went to DIAN, written to disk before the first byte leaves.

DESIGN invariant 3: the signed XML, its CUFE/CUDE and the zip are journaled
before they are sent, and after an ambiguous failure (timeout, crash) DIAN is
asked (GetStatus) before the document is sent again.

Layout, one folder per document key (a corrected re-issue has a new CUFE, so
a new folder)::

    <state_dir>/journal/<cufe-or-cude>/
        document.xml        the signed bytes, exactly as sent
        <zip name>.zip      the package, exactly as sent
        events.jsonl        append-only: one JSON object per line
        answer-<time>-<operation>.xml
                            DIAN's raw answer to one call (capped at 256 KiB),
                            named by the event's ``answer_file``
        .lock               flock'd around check-then-send (CLI and console at once)

Each event has a UTC time, an ``event`` name and, after a call, the
outcome's ``kind``, ``message`` and flags:

``prepared``
    XML and zip are on disk and a send is about to start (``zip_name``).
``sent``
    the answer to that send (or its failure).
``not_sent``
    the send was refused locally before any byte left (bad arguments).
``status_check``
    the answer to a GetStatus (or GetStatusZip) about the document.

A call event carries the outcome summary (``fe_tui.dian.outcomes.outcome_to_dict``)
and, when an answer arrived, ``answer_file``, ``answer_bytes`` (as read) and
``answer_truncated``: the stored answer can be classified again
(``fe_tui.dian.client.classify_answer``) as the architecture promises.

Appends are flushed and fsynced; files are private (0600) and folders 0700
whatever the umask. A line cut by a crash is skipped when reading, never
fatal.

**When to ask first** (:func:`must_ask_first`): before *any* send, DIAN is
asked with GetStatus unless the last call recorded was a verdict that DIAN
does not have the document (``rejected``, ``not_found``) or a send that
provably never left (``connection_failed``, ``not_sent``). A ``prepared``
without its ``sent`` (a crash mid-send) is ambiguous; a failed or "in
process" status check proves nothing: both mean ask first.

Every method has an ``a``-prefixed coroutine twin that runs the blocking
file work (fsync) in a thread, so an event loop never stalls on the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
import tempfile
import weakref
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fe_tui import offload
from fe_tui.errors import FeError, InputError, JournalError
from fe_tui.fileio import private_dir, write_private

_KEY = re.compile(r"^[0-9a-fA-F]{16,128}$")
_OPERATION = re.compile(r"^[A-Za-z]{1,40}$")
_ANSWER_FILE = re.compile(r"^answer-[0-9TZ]+-[A-Za-z]{1,40}(?:-\d+)?\.xml$")
_REQUEST_FILE = re.compile(r"^request-[0-9TZ]+-[A-Za-z]{1,40}(?:-\d+)?\.xml$")

#: Events that record a call to DIAN about the document, or the start or refusal of one.
CALL_EVENTS = frozenset({"prepared", "sent", "not_sent", "status_check"})
#: Verdicts that say DIAN does not hold the document as valid: it may be sent (again).
_NOT_AT_DIAN = frozenset({"rejected", "not_found"})


@dataclass(frozen=True)
class JournalEvent:
    """One line of ``events.jsonl``."""

    time: str
    event: str
    data: dict[str, Any]

    @property
    def kind(self) -> str | None:
        """The outcome kind of a call event (``accepted``, ``timeout_after_send``…)."""
        value = self.data.get("kind")
        return value if isinstance(value, str) else None


def must_ask_first(events: Sequence[JournalEvent]) -> bool:
    """Must DIAN be asked (GetStatus) before this document is sent (again)?

    ``False`` only when nothing was ever journaled for it, or the last call
    event is a verdict that DIAN does not have it (``rejected``,
    ``not_found``), or a send that provably never left (``not_sent``, or a
    ``sent`` whose outcome says no byte was written: ``connection_failed``).
    Everything else (``prepared`` alone, accepted, Regla 90, in process,
    timeouts, HTTP errors, faults, a status check that itself failed, an
    event we do not know) means: ask first.
    """
    calls = [e for e in events if e.event in CALL_EVENTS]
    if not calls:
        return False
    last = calls[-1]
    if last.event == "not_sent":
        return False
    if last.event in ("sent", "status_check") and last.kind in _NOT_AT_DIAN:
        return False
    return not (last.event == "sent" and last.data.get("sent") is False)


#: In-process locks per journal folder (asyncio side of :meth:`Journal.locked`).
_LOCKS: weakref.WeakValueDictionary[tuple[int, str], asyncio.Lock] = weakref.WeakValueDictionary()


class Journal:
    """Append-only record of every document sent to DIAN, keyed by CUFE/CUDE."""

    #: Largest raw answer kept beside an event (the client keeps as much: CallRecord.ANSWER_CAP).
    ANSWER_CAP = 256 * 1024

    def __init__(self, state_dir: Path, *, legacy: Path | None = None) -> None:
        self.root = state_dir / "journal"
        #: an older state folder's journal: a document found only there is copied over
        self.legacy = legacy / "journal" if legacy is not None else None

    def _folder(self, document_key: str) -> Path:
        if not isinstance(document_key, str) or not _KEY.match(document_key):
            raise InputError(f"Clave de documento inválida para el diario: {document_key!r}.")
        folder = self.root / document_key.lower()
        if self.legacy is not None and self.legacy != self.root and not folder.exists():
            self._adopt(folder, self.legacy / document_key.lower())
        return folder

    def _adopt(self, folder: Path, old: Path) -> None:
        """Copy a document's journal from the older state folder (the old one is kept)."""
        if not old.is_dir():
            return
        tmp: Path | None = None
        try:
            private_dir(self.root)
            tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=self.root))
            for item in old.iterdir():
                if item.is_file() and item.name != ".lock":
                    shutil.copyfile(item, tmp / item.name)
                    os.chmod(tmp / item.name, 0o600)
            try:
                os.replace(tmp, folder)
                tmp = None
            except OSError:
                if not folder.exists():
                    raise
                # another process adopted it first: theirs stands
        except FeError as exc:
            raise JournalError(f"{exc.message} No se puede traer el diario anterior.") from None
        except OSError as exc:
            raise JournalError(
                f"No se puede traer el diario anterior de {old}: {exc.strerror}."
            ) from None
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)

    def _ensure(self, document_key: str) -> Path:
        folder = self._folder(document_key)
        try:
            return private_dir(folder)
        except FeError as exc:
            raise JournalError(f"{exc.message} No se puede escribir el diario de envíos.") from None

    def folder(self, document_key: str) -> Path:
        """Where the document's files live (it may not exist yet)."""
        return self._folder(document_key)

    # -- writing ----------------------------------------------------------------------------------
    def record_prepared(
        self, document_key: str, xml: bytes, zip_name: str, zip_bytes: bytes, /, **data: Any
    ) -> Path:
        """Write the signed XML and the zip (atomically, fsynced), then a ``prepared`` event.

        An identical file already on disk is not rewritten (a retry reuses its zip).
        """
        folder = self._ensure(document_key)
        for name, content in (("document.xml", xml), (zip_name, zip_bytes)):
            path = folder / name
            if _same_bytes(path, content):
                continue
            write_private(path, content)
        self.append(document_key, "prepared", zip_name=zip_name, **data)
        return folder

    def append(self, document_key: str, event: str, /, **data: Any) -> None:
        """Append one event line and fsync it."""
        folder = self._ensure(document_key)
        line = json.dumps(
            {"time": datetime.now(UTC).isoformat(), "event": event, **data},
            ensure_ascii=False,
            default=str,
        )
        path = folder / "events.jsonl"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.fchmod(fd, 0o600)
                os.write(fd, (line + "\n").encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise JournalError(
                f"No se puede escribir el diario de envíos {path}: {exc.strerror}."
            ) from None

    def record_call(
        self,
        document_key: str,
        event: str,
        answer: bytes | None,
        /,
        request: bytes | None = None,
        **data: Any,
    ) -> None:
        """Append a call ``event`` (its summary ``data``), DIAN's raw ``answer`` beside it.

        The answer goes to its own file (atomic, fsynced, 0600, cut at
        :data:`ANSWER_CAP`) before the event line that names it; so does the
        SOAP ``request`` envelope when given (``request_file``; the client cuts it
        at ``CallRecord.ENVELOPE_CAP``; it holds the certificate and a signature,
        never a password or a key).
        """
        if request:
            folder = self._ensure(document_key)
            operation = str(data.get("operation") or "request")
            if not _OPERATION.match(operation):
                operation = "request"
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            name, n = f"request-{stamp}-{operation}.xml", 1
            while (folder / name).exists():
                n += 1
                name = f"request-{stamp}-{operation}-{n}.xml"
            write_private(folder / name, request[: self.ANSWER_CAP])
            data = {**data, "request_file": name}
        if answer:
            folder = self._ensure(document_key)
            operation = str(data.get("operation") or "answer")
            if not _OPERATION.match(operation):
                operation = "answer"
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            name, n = f"answer-{stamp}-{operation}.xml", 1
            while (folder / name).exists():
                n += 1
                name = f"answer-{stamp}-{operation}-{n}.xml"
            kept = answer[: self.ANSWER_CAP]
            write_private(folder / name, kept)
            data = {
                **data,
                "answer_file": name,
                "answer_truncated": bool(data.get("answer_truncated")) or len(answer) > len(kept),
            }
        self.append(document_key, event, **data)

    # -- reading ----------------------------------------------------------------------------------
    def answer(self, document_key: str, event: JournalEvent) -> bytes | None:
        """DIAN's raw answer stored with ``event`` (``None`` when the call got none)."""
        name = event.data.get("answer_file")
        if not isinstance(name, str) or not _ANSWER_FILE.match(name):
            return None
        try:
            return (self._folder(document_key) / name).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise JournalError(f"No se puede leer el diario de envíos: {exc.strerror}.") from None

    def request(self, document_key: str, event: JournalEvent) -> bytes | None:
        """The SOAP request envelope stored with ``event`` (``None`` when not kept)."""
        name = event.data.get("request_file")
        if not isinstance(name, str) or not _REQUEST_FILE.match(name):
            return None
        try:
            return (self._folder(document_key) / name).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise FeError(f"No se puede leer el diario de envíos: {exc.strerror}.") from None

    def events(self, document_key: str) -> list[JournalEvent]:
        """Every readable event of a document, oldest first (empty when never journaled)."""
        path = self._folder(document_key) / "events.jsonl"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise JournalError(
                f"No se puede leer el diario de envíos {path}: {exc.strerror}."
            ) from None
        return list(_parse(text))

    def has(self, document_key: str) -> bool:
        """Was anything journaled for this key."""
        return (self._folder(document_key) / "events.jsonl").exists()

    def last_call(self, document_key: str) -> JournalEvent | None:
        """The last event that came from a call to DIAN (``sent`` or ``status_check``)."""
        calls = [e for e in self.events(document_key) if e.event in ("sent", "status_check")]
        return calls[-1] if calls else None

    def must_ask_first(self, document_key: str) -> bool:
        """:func:`must_ask_first` over this document's events."""
        return must_ask_first(self.events(document_key))

    def reusable_zip(self, document_key: str, xml: bytes) -> tuple[str, bytes] | None:
        """The zip of the last ``prepared`` event, if it holds exactly ``xml``.

        A retry of the same document (after a connection failure, a crash, a
        rejection) sends the same file again instead of naming a new one.
        """
        return self._reusable_zip(document_key, xml, None)

    def _reusable_zip(
        self, document_key: str, xml: bytes, events: list[JournalEvent] | None
    ) -> tuple[str, bytes] | None:
        folder = self._folder(document_key)
        if not _same_bytes(folder / "document.xml", xml):
            return None
        if events is None:
            events = self.events(document_key)
        prepared = [e for e in events if e.event == "prepared"]
        if not prepared:
            return None
        name = prepared[-1].data.get("zip_name")
        if not isinstance(name, str) or "/" in name or name.startswith("."):
            return None
        try:
            data = (folder / name).read_bytes()
        except OSError:
            return None
        return name, data

    def send_state(
        self, document_key: str, xml: bytes
    ) -> tuple[list[JournalEvent], tuple[str, bytes] | None]:
        """:meth:`events` and :meth:`reusable_zip` of ``xml`` together (what a send reads under
        the document's lock), the events read once."""
        events = self.events(document_key)
        return events, self._reusable_zip(document_key, xml, events)

    # -- the lock ---------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def locked(self, document_key: str) -> AsyncIterator[None]:
        """Hold the document's lock: an asyncio lock in this process and an flock across
        processes (the CLI and the console may send the same document at once)."""
        folder = self._folder(document_key)
        # asyncio locks belong to one event loop: key them by loop and folder.
        name = (id(asyncio.get_running_loop()), str(folder.absolute()))
        lock = _LOCKS.get(name)
        if lock is None:
            lock = _LOCKS[name] = asyncio.Lock()
        async with lock:
            fd = await offload.to_thread(self._open_lock, document_key)
            try:
                delay = 0.005
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except OSError as exc:
                        if exc.errno not in (errno.EAGAIN, errno.EACCES):
                            raise JournalError(
                                f"No se puede bloquear el diario de envíos: {exc.strerror}."
                            ) from None
                    # Another process holds it: poll (cancellable, unlike a blocking flock).
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 0.05)
                yield
            finally:
                os.close(fd)  # closing releases the flock

    def _open_lock(self, document_key: str) -> int:
        folder = self._ensure(document_key)
        try:
            fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
            os.fchmod(fd, 0o600)
        except OSError as exc:
            raise JournalError(
                f"No se puede crear el bloqueo del diario: {exc.strerror}."
            ) from None
        return fd

    # -- coroutine twins (the disk work in a thread) ----------------------------------------------
    async def arecord_prepared(
        self, document_key: str, xml: bytes, zip_name: str, zip_bytes: bytes, /, **data: Any
    ) -> Path:
        """:meth:`record_prepared` in a thread."""
        return await offload.to_disk(
            lambda: self.record_prepared(document_key, xml, zip_name, zip_bytes, **data)
        )

    async def aappend(self, document_key: str, event: str, /, **data: Any) -> None:
        """:meth:`append` in a thread."""
        await offload.to_disk(lambda: self.append(document_key, event, **data))

    async def arecord_call(
        self, document_key: str, event: str, answer: bytes | None, /, **data: Any
    ) -> None:
        """:meth:`record_call` in a thread."""
        await offload.to_disk(lambda: self.record_call(document_key, event, answer, **data))

    async def aevents(self, document_key: str) -> list[JournalEvent]:
        """:meth:`events` in a thread."""
        return await offload.to_thread(self.events, document_key)

    async def asend_state(
        self, document_key: str, xml: bytes
    ) -> tuple[list[JournalEvent], tuple[str, bytes] | None]:
        """:meth:`send_state` in a thread."""
        return await offload.to_thread(self.send_state, document_key, xml)

    async def areusable_zip(self, document_key: str, xml: bytes) -> tuple[str, bytes] | None:
        """:meth:`reusable_zip` in a thread."""
        return await offload.to_thread(self.reusable_zip, document_key, xml)


def _same_bytes(path: Path, content: bytes) -> bool:
    try:
        if path.stat().st_size != len(content):
            return False
        return path.read_bytes() == content
    except OSError:
        return False


def _parse(text: str) -> Iterator[JournalEvent]:
    for raw in text.splitlines():
        try:
            item = json.loads(raw)
        except ValueError:
            continue  # a line cut by a crash
        if isinstance(item, dict) and "event" in item:
            time = str(item.pop("time", ""))
            event = str(item.pop("event"))
            yield JournalEvent(time, event, item)
