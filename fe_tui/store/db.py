"""The company store: the records people edit, in one TinyDB file per data directory.

Companies, resolutions, certificate metadata, checklist steps and settings are
few and small, so they live in ``<data_dir>/store.json`` (TinyDB). Documents are
many and live elsewhere (:mod:`fe_tui.store.ledger`), so that the cost of a
document's state change does not grow with this file.

Guarantees:

- **Atomic writes**: every write goes to a temporary file, is fsynced and
  renamed over ``store.json`` (:func:`fe_tui.fileio.write_private`): a crash
  leaves the old file or the new one, never half of one.
- **One writer at a time across processes**: writes happen inside
  :meth:`Store.transaction`, which holds an exclusive ``flock`` on
  ``.store.lock``; the CLI and the console can run at once without
  interleaving writes. Reads see the file as of the call (TinyDB reads the
  storage on every query; no cache is kept between calls).
- **Private**: the data directory and everything below it are 0700/0600,
  whatever the umask.
- **Versioned**: ``_meta.schema`` holds the schema version; :data:`MIGRATIONS`
  upgrades older files on open (a file newer than this program is refused).
- **No secrets**: the PKCS#12 password and private keys are never stored; a
  certificate is a path (or a private copy of the file) plus its public facts.

Every record belongs to a company: its ``company_nit`` field (the company
record itself is keyed by ``nit``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinydb import Query, TinyDB
from tinydb.storages import Storage
from tinydb.table import Document

from fe_tui.errors import InputError, StoreError
from fe_tui.fileio import private_dir, write_private

if TYPE_CHECKING:  # pydantic and the domain models load on first use (the console's first
    # frame opens the store before it needs a model: see docs/ARCHITECTURE.md, start-up)
    from fe_tui.domain.company import Company
    from fe_tui.domain.models import Resolution

SCHEMA_VERSION = 1


def _v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Files written before versioning had no ``_meta`` table; nothing else changed."""
    return data


#: ``MIGRATIONS[n]`` upgrades raw data of schema ``n`` to ``n + 1``.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _v0_to_v1}


class AtomicJSONStorage(Storage):
    """TinyDB storage that replaces its file atomically (temporary file, fsync, rename), 0600."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"No se puede leer {self.path}: {exc.strerror}.") from None
        if not text.strip():
            return None
        try:
            data = json.loads(text)
        except ValueError:
            raise StoreError(
                f"El archivo de datos {self.path} está dañado (JSON ilegible); restáurelo de una "
                "copia antes de seguir. No se modificó."
            ) from None
        if not isinstance(data, dict):
            raise StoreError(f"El archivo de datos {self.path} no tiene la forma esperada.")
        return data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        payload = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        try:
            write_private(self.path, payload.encode("utf-8"))
        except (OSError, InputError) as exc:
            raise StoreError(f"No se puede escribir {self.path}: {exc}.") from None

    def close(self) -> None:
        return None


class Store:
    """The editable records of one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = private_dir(data_dir)
        self.path = self.data_dir / "store.json"
        self._lock_path = self.data_dir / ".store.lock"
        self._depth = 0
        self._lock_fd: int | None = None
        self.db = TinyDB(storage=AtomicJSONStorage, path=self.path)
        with self.transaction():
            self._migrate()

    # -- locking and schema -----------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[Store]:
        """Hold the store's cross-process write lock for the block (re-entrant in a process)."""
        if self._depth == 0:
            import os

            try:
                fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                raise StoreError(f"No se puede abrir {self._lock_path}: {exc.strerror}.") from None
            os.fchmod(fd, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._lock_fd = fd
        self._depth += 1
        try:
            yield self
        finally:
            self._depth -= 1
            if self._depth == 0 and self._lock_fd is not None:
                import os

                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
                os.close(self._lock_fd)
                self._lock_fd = None

    def _migrate(self) -> None:
        storage = self.db.storage
        raw = storage.read() or {}
        meta = raw.get("_meta", {}).get("1", {})
        version = int(meta.get("schema", 0 if raw else SCHEMA_VERSION))
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} es del esquema {version} y este fe-tui entiende hasta el "
                f"{SCHEMA_VERSION}; actualice fe-tui."
            )
        if raw and version == SCHEMA_VERSION:
            return
        while version < SCHEMA_VERSION:
            raw = MIGRATIONS[version](raw)
            version += 1
        raw["_meta"] = {"1": {"schema": SCHEMA_VERSION}}
        storage.write(raw)

    @property
    def schema_version(self) -> int:
        """The schema version on disk."""
        meta = self.db.table("_meta").get(doc_id=1)
        return int(meta["schema"]) if meta else 0

    # -- companies -------------------------------------------------------------------------------
    def save_company(self, company: Company) -> None:
        """Insert or replace the company with this NIT."""
        with self.transaction():
            self.db.table("companies").upsert(
                Document(company.model_dump(mode="json"), doc_id=int(company.nit)),
            )

    def company_record(self, nit: str) -> dict[str, Any] | None:
        """The raw record of company ``nit`` (JSON as stored, not validated), or ``None``.

        For what must not wait for the domain models (the console's header in its first
        frame); everything else uses :meth:`company`.
        """
        if not nit.isdigit():
            return None
        record = self.db.table("companies").get(doc_id=int(nit))
        return None if record is None else dict(record)

    def company_records(self) -> list[dict[str, Any]]:
        """Every company's raw record (see :meth:`company_record`), in storage order."""
        return [dict(r) for r in self.db.table("companies").all()]

    def company(self, nit: str) -> Company | None:
        """The company with NIT ``nit`` (without DV), or ``None``."""
        from fe_tui.domain.company import Company

        record = self.company_record(nit)
        return None if record is None else _load(Company, record, "empresa")

    def companies(self) -> list[Company]:
        """Every company, by name."""
        from fe_tui.domain.company import Company

        items = [_load(Company, r, "empresa") for r in self.db.table("companies").all()]
        return sorted(items, key=lambda c: c.name.lower())

    def require_company(self, nit: str | None = None) -> Company:
        """The company ``nit``, or the current one; a Spanish error when there is none."""
        nit = nit or self.current_company_nit()
        if not nit:
            raise InputError(
                "No hay una empresa elegida: cree una (`fe-tui demo --no-ui` crea la de "
                "demostración) o use --company NIT."
            )
        company = self.company(nit)
        if company is None:
            raise InputError(f"No hay una empresa con NIT {nit} en {self.data_dir}.")
        return company

    # -- settings ---------------------------------------------------------------------------------
    def set_setting(self, key: str, value: Any) -> None:
        """Store one setting (JSON value)."""
        with self.transaction():
            table = self.db.table("settings")
            table.upsert({"key": key, "value": value}, Query().key == key)

    def setting(self, key: str, default: Any = None) -> Any:
        """One setting, or ``default``."""
        record = self.db.table("settings").get(Query().key == key)
        return default if record is None else record["value"]

    def current_company_nit(self) -> str | None:
        """The NIT of the current company."""
        value = self.setting("current_company")
        return value if isinstance(value, str) else None

    def set_current_company(self, nit: str) -> None:
        """Make ``nit`` the current company (it must exist)."""
        self.require_company(nit)
        self.set_setting("current_company", nit)

    # -- resolutions ------------------------------------------------------------------------------
    def save_resolution(self, company_nit: str, resolution: Resolution, *, source: str) -> None:
        """Insert or replace a resolution (keyed by company, number and prefix)."""
        record = {
            "company_nit": company_nit,
            "source": source,
            **resolution.model_dump(mode="json"),
        }
        q = Query()
        with self.transaction():
            self.db.table("resolutions").upsert(
                record,
                (q.company_nit == company_nit)
                & (q.number == resolution.number)
                & (q.prefix == resolution.prefix),
            )

    def resolutions(self, company_nit: str, prefix: str | None = None) -> list[Resolution]:
        """The company's resolutions (of one prefix when given), by prefix and first number."""
        return [r for r, _ in self.resolution_records(company_nit, prefix)]

    def resolution_records(
        self, company_nit: str, prefix: str | None = None
    ) -> list[tuple[Resolution, str]]:
        """Like :meth:`resolutions`, each with where it came from (``source``).

        ``source`` is what :meth:`save_resolution` was given: ``"dian"``
        (GetNumberingRange), ``"manual"`` (formulario 1876 typed in),
        ``"simulador"`` (the demo); ``"desconocido"`` for a record without one.
        """
        from fe_tui.domain.models import Resolution

        q = Query()
        cond = q.company_nit == company_nit
        if prefix is not None:
            cond = cond & (q.prefix == prefix)
        items = []
        for record in self.db.table("resolutions").search(cond):
            data = {k: v for k, v in record.items() if k not in ("company_nit", "source")}
            source = record.get("source")
            items.append(
                (
                    _load(Resolution, data, "resolución"),
                    source if isinstance(source, str) and source else "desconocido",
                )
            )
        return sorted(items, key=lambda item: (item[0].prefix, item[0].from_number))

    # -- generic per-company records (certificates, checklist steps…) -----------------------------
    def put(self, table: str, company_nit: str, key: str, data: dict[str, Any]) -> None:
        """Insert or replace record ``key`` of ``company_nit`` in ``table``."""
        q = Query()
        with self.transaction():
            self.db.table(table).upsert(
                {"company_nit": company_nit, "key": key, **data},
                (q.company_nit == company_nit) & (q.key == key),
            )

    def put_many(self, table: str, company_nit: str, records: dict[str, dict[str, Any]]) -> None:
        """Insert or replace several records of ``company_nit`` in ``table`` in one file write.

        Records that do not exist yet are created first (empty); then all are
        replaced by one ``update_multiple``, so a crash leaves either every
        record as it was or every record new (two records that must agree, like
        a certificate list and the active-certificate pointer, never disagree).
        """
        q = Query()
        with self.transaction():
            tbl = self.db.table(table)
            for key in records:
                cond = (q.company_nit == company_nit) & (q.key == key)
                if not tbl.contains(cond):
                    tbl.insert({"company_nit": company_nit, "key": key})

            def replace(new: dict[str, Any]) -> Callable[[Any], None]:
                def apply(doc: Any) -> None:
                    doc.clear()
                    doc.update(new)

                return apply

            tbl.update_multiple(
                [
                    (
                        replace({"company_nit": company_nit, "key": key, **data}),
                        (q.company_nit == company_nit) & (q.key == key),
                    )
                    for key, data in records.items()
                ]
            )

    def get(self, table: str, company_nit: str, key: str) -> dict[str, Any] | None:
        """Record ``key`` of ``company_nit`` in ``table``."""
        q = Query()
        record = self.db.table(table).get((q.company_nit == company_nit) & (q.key == key))
        return None if record is None else dict(record)

    def all(self, table: str, company_nit: str) -> list[dict[str, Any]]:
        """Every record of ``company_nit`` in ``table``."""
        return [dict(r) for r in self.db.table(table).search(Query().company_nit == company_nit)]


def _load(model: Any, record: Any, what: str) -> Any:
    from pydantic import ValidationError

    from fe_tui.domain.models import format_validation_error

    try:
        return model.model_validate(dict(record))
    except ValidationError as exc:
        raise StoreError(
            f"Un registro de {what} en el almacén no es válido:\n{format_validation_error(exc)}"
        ) from None
