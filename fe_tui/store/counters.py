"""File-name consecutives: per issuer, per year and per file type (SPEC §6, §15.7).

DIAN file names end in an 8-digit hexadecimal consecutive that counts the
files an issuer sent in the year. It must never repeat, including across
processes (a CLI run while the console is open), so the counter file is
locked with ``fcntl.flock`` while it is read, incremented and replaced
atomically. One small JSON file suffices: there is one counter per issuer,
year and type, and an increment rewrites a few hundred bytes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

from fe_tui.errors import FeError
from fe_tui.fileio import write_private


def default_state_dir() -> Path:
    """``$FE_TUI_STATE_DIR``, else ``$XDG_STATE_HOME/fe-tui``, else ``~/.local/state/fe-tui``."""
    explicit = os.environ.get("FE_TUI_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "fe-tui"


class FileCounters:
    """Consecutives for DIAN file names, safe across processes."""

    def __init__(self, state_dir: Path | None = None) -> None:
        self.dir = state_dir or default_state_dir()
        self.path = self.dir / "file-counters.json"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, int]]:
        try:
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            lock = open(self.dir / ".file-counters.lock", "a+")  # noqa: SIM115 - held for the block
        except OSError as exc:
            raise FeError(
                f"No se puede usar la carpeta de estado {self.dir}: {exc.strerror}."
            ) from None
        with lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                data: dict[str, int] = json.loads(self.path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                data = {}
            except (OSError, ValueError):
                raise FeError(
                    f"El archivo de consecutivos {self.path} está dañado; revíselo antes de "
                    "enviar (los nombres de archivo no deben repetirse)."
                ) from None
            yield data
            write_private(self.path, json.dumps(data, indent=1, sort_keys=True).encode())

    def next(self, nit: str, year: int, kind: str) -> int:
        """Reserve and return the next consecutive (1, 2, …) for ``kind`` ("fv", "nc", "z"…)."""
        key = f"{nit}/{year}/{kind}"
        with self._locked() as data:
            value = data.get(key, 0) + 1
            data[key] = value
        return value

    def peek(self, nit: str, year: int, kind: str) -> int:
        """The last consecutive used (0 if none)."""
        with self._locked() as data:
            return data.get(f"{nit}/{year}/{kind}", 0)
