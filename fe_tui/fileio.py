"""Writing files the way fe-tui promises: atomically and readable by the owner only.

A failed run never leaves half a file behind (write to a temporary file in
the same folder, fsync, rename), and what we write (signed documents,
journals) is private to the user (mode 0600, DESIGN invariant 4).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from fe_tui.errors import InputError


def write_private(path: str | Path, data: bytes) -> Path:
    """Atomically write ``data`` to ``path`` with mode 0600."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"La carpeta de destino no existe: {folder}.", path=str(target))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    except OSError as exc:
        raise InputError(f"No se puede escribir en {folder}: {exc.strerror}.") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def private_dir(path: str | Path) -> Path:
    """Create ``path`` and any missing parents with mode 0700, whatever the umask.

    Only the folders this call creates are changed; an existing folder keeps
    its mode (it may be a shared parent such as ``~/.local``). Raises
    :class:`~fe_tui.errors.InputError` with a Spanish message when a folder
    cannot be created.
    """
    target = Path(path)
    missing: list[Path] = []
    current = target
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue  # created meanwhile by another process
        except OSError as exc:
            raise InputError(f"No se puede crear la carpeta {folder}: {exc.strerror}.") from None
        os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask
    if not target.is_dir():
        raise InputError(f"{target} existe y no es una carpeta.")
    return target


def read_input(path: str | Path, *, max_bytes: int, what: str) -> bytes:
    """Read a user-given input file with a size cap and Spanish errors."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise InputError(
                f"{what} {p.name} ocupa {size / 1_048_576:.1f} MB; el límite es "
                f"{max_bytes / 1_048_576:.0f} MB.",
                path=str(p),
            )
        return p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"No existe el archivo {p}.", path=str(p)) from None
    except IsADirectoryError:
        raise InputError(f"{p} es una carpeta, no un archivo.", path=str(p)) from None
    except PermissionError:
        raise InputError(f"Sin permiso para leer {p}.", path=str(p)) from None
