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

Each event has a UTC time, an ``event`` name (``prepared``, ``sent``,
``status_check``) and, after a call, the outcome's ``kind``, ``message`` and
flags. Appends are flushed and fsynced; files are private (0600) and folders
0700. A line cut by a crash is skipped when reading, never fatal.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fe_tui.errors import FeError
from fe_tui.fileio import write_private

_KEY = re.compile(r"^[0-9a-fA-F]{16,128}$")


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


class Journal:
    """Append-only record of every document sent to DIAN, keyed by CUFE/CUDE."""

    def __init__(self, state_dir: Path) -> None:
        self.root = state_dir / "journal"

    def _folder(self, document_key: str) -> Path:
        if not _KEY.match(document_key):
            raise FeError(f"Clave de documento inválida para el diario: {document_key!r}.")
        return self.root / document_key.lower()

    def record_prepared(
        self, document_key: str, xml: bytes, zip_name: str, zip_bytes: bytes, /, **data: Any
    ) -> Path:
        """Write the signed XML and the zip (atomically, fsynced), then a ``prepared`` event."""
        folder = self._folder(document_key)
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise FeError(
                f"No se puede escribir el diario de envíos en {folder}: {exc.strerror}. "
                "No se envió nada."
            ) from None
        write_private(folder / "document.xml", xml)
        write_private(folder / zip_name, zip_bytes)
        self.append(document_key, "prepared", zip_name=zip_name, **data)
        return folder

    def append(self, document_key: str, event: str, /, **data: Any) -> None:
        """Append one event line and fsync it."""
        folder = self._folder(document_key)
        line = json.dumps(
            {"time": datetime.now(UTC).isoformat(), "event": event, **data},
            ensure_ascii=False,
            default=str,
        )
        path = folder / "events.jsonl"
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (line + "\n").encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise FeError(
                f"No se puede escribir el diario de envíos {path}: {exc.strerror}."
            ) from None

    def events(self, document_key: str) -> list[JournalEvent]:
        """Every readable event of a document, oldest first (empty when never journaled)."""
        path = self._folder(document_key) / "events.jsonl"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return list(_parse(text))

    def last_call(self, document_key: str) -> JournalEvent | None:
        """The last event that came from a call to DIAN (``sent`` or ``status_check``)."""
        calls = [e for e in self.events(document_key) if e.event in ("sent", "status_check")]
        return calls[-1] if calls else None


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
