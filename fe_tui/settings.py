"""One settings object for the CLI, the services and the console.

Where fe-tui keeps its data, which DIAN environment a command talks to by
default, timeouts and the queue's concurrency. Everything that used to be read
from ``FE_TUI_*`` variables in several modules is read here, once.

Precedence, highest first: an explicit argument (the CLI's ``--data-dir``),
the environment variable, the platform default.

=====================  ======================  ===========================================
field                  variable                default
=====================  ======================  ===========================================
``data_dir``           ``FE_TUI_DATA_DIR``     platformdirs (``~/.local/share/fe-tui``)   
``state_dir``          ``FE_TUI_STATE_DIR``    ``data_dir`` (journal and file counters live there)
``environment``        ``FE_TUI_ENV``          ``habilitacion``
``dian_url``           ``FE_TUI_DIAN_URL``     the environment's own URL
``concurrency``        ``FE_TUI_CONCURRENCY``  4
``connect_timeout``    —                       10 s
``read_timeout``       ``FE_TUI_TIMEOUT``      60 s
=====================  ======================  ===========================================

Versions before December 2026 kept the send journal and the file-name counters
in a separate state folder (``$XDG_STATE_HOME/fe-tui``, else
``~/.local/state/fe-tui``). When fe-tui runs on its default folders and that
old folder exists, ``legacy_state_dir`` names it: the counters continue from
its values (a DIAN file name is never reused) and a document's old journal is
copied over the first time that document is looked up (so a re-send still asks
DIAN first). Nothing is deleted from the old folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from fe_tui.errors import InputError

APP_NAME = "fe-tui"


def _default_data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


@dataclass(frozen=True, slots=True)
class Settings:
    """What every entry point reads; immutable (use :meth:`with_` for a variant)."""

    data_dir: Path
    state_dir: Path
    environment: str = "habilitacion"
    dian_url: str | None = None
    concurrency: int = 4
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    #: The pre-December-2026 state folder, when it exists and applies (see the module doc).
    legacy_state_dir: Path | None = None

    @classmethod
    def load(
        cls, data_dir: Path | None = None, env: Mapping[str, str] | None = None
    ) -> Settings:
        """Settings from ``data_dir`` (if given), the environment and the defaults."""
        env = os.environ if env is None else env
        defaults = data_dir is None and not env.get("FE_TUI_DATA_DIR")
        if data_dir is None:
            explicit = env.get("FE_TUI_DATA_DIR")
            data_dir = Path(explicit) if explicit else _default_data_dir()
        data_dir = data_dir.expanduser()
        state = env.get("FE_TUI_STATE_DIR")
        legacy = _legacy_state_dir(env) if defaults and not state else None
        if legacy is not None and (not legacy.is_dir() or legacy == data_dir):
            legacy = None
        return cls(
            legacy_state_dir=legacy,
            data_dir=data_dir,
            state_dir=Path(state).expanduser() if state else data_dir,
            environment=env.get("FE_TUI_ENV") or "habilitacion",
            dian_url=env.get("FE_TUI_DIAN_URL") or None,
            concurrency=_int(env, "FE_TUI_CONCURRENCY", 4, 1, 64),
            read_timeout=float(_int(env, "FE_TUI_TIMEOUT", 60, 1, 600)),
        )

    def with_(self, **changes: object) -> Settings:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)  # type: ignore[arg-type]


def _legacy_state_dir(env: Mapping[str, str]) -> Path | None:
    """Where versions before December 2026 kept the journal and counters."""
    base = env.get("XDG_STATE_HOME")
    if base:
        return Path(base).expanduser() / APP_NAME
    home = env.get("HOME")
    return Path(home) / ".local" / "state" / APP_NAME if home else None


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InputError(f"{name} debe ser un número entero (se recibió {raw!r}).") from None
    if not low <= value <= high:
        raise InputError(f"{name} debe estar entre {low} y {high} (se recibió {value}).")
    return value
