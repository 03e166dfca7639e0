"""Numbering: the next consecutive of a company's active resolution, allocated once.

DESIGN invariant 2: an invoice number belongs to one sale. The allocator runs
inside the document ledger's transaction (:meth:`fe_tui.store.ledger.Ledger.transaction`,
a cross-process lock), and the number is durable in the same append that
records the document, so there is no window in which a number is allocated but
belongs to nothing, and no two processes can take the same number.

Rules:

- **Invoices** take the next number of a resolution for their prefix that is
  in force on the issue date and still has numbers (SPEC §8). When a newer
  resolution of the same prefix starts above the old range, numbering
  continues at its first number (that is not a gap: the old range ended).
- **Credit and debit notes** have no resolution: their own prefixes (by
  default ``NC`` and ``ND``, a company setting) and consecutives from 1.
- A number is never handed out twice, including numbers of void documents
  (a void keeps its number, with the reason, so the sequence has no silent
  gap).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fe_tui.domain.models import Resolution
from fe_tui.errors import InputError
from fe_tui.store.db import Store
from fe_tui.store.ledger import Ledger

#: Default prefixes of notes (no resolution); a company may change them.
DEFAULT_NOTE_PREFIXES = {"credit_note": "NC", "debit_note": "ND"}


class NumberingError(InputError):
    """No number can be allocated (no resolution, expired, exhausted)."""


@dataclass(frozen=True)
class Allocation:
    """A number and, for invoices, the resolution that authorizes it."""

    prefix: str
    number: int
    resolution: Resolution | None

    @property
    def doc_id(self) -> str:
        """``prefix + number``, the document's id in the ledger (as DIAN shows it)."""
        return f"{self.prefix}{self.number}"


def note_prefix(store: Store, company_nit: str, kind: str) -> str:
    """The prefix of ``kind`` (``credit_note``/``debit_note``) for the company."""
    value = store.setting(f"note_prefix:{company_nit}:{kind}")
    return value if isinstance(value, str) else DEFAULT_NOTE_PREFIXES[kind]


def next_number(
    store: Store,
    ledger: Ledger,
    company_nit: str,
    *,
    kind: str,
    prefix: str | None,
    on: date,
) -> Allocation:
    """The number the next document of ``kind`` gets; call inside ``ledger.transaction()``.

    The caller records it in the same transaction (an ``added`` event with
    ``number``), which is what makes it allocated.
    """
    if kind != "invoice":
        chosen = prefix or note_prefix(store, company_nit, kind)
        return Allocation(chosen, (ledger.last_number(chosen) or 0) + 1, None)
    resolutions = store.resolutions(company_nit)
    if prefix is None:
        prefixes = sorted({r.prefix for r in resolutions if r.valid_on(on)})
        if len(prefixes) != 1:
            listed = ", ".join(p or "(sin prefijo)" for p in prefixes) or "ninguno"
            raise NumberingError(
                "Indique el prefijo de la factura: la empresa tiene resoluciones vigentes para "
                f"{listed}."
            )
        prefix = prefixes[0]
    own = [r for r in resolutions if r.prefix == prefix]
    if not own:
        raise NumberingError(
            f"La empresa {company_nit} no tiene una resolución de numeración para el prefijo "
            f"'{prefix}'. Sincronice los rangos con la DIAN (`fe-tui ranges sync`) o regístrela."
        )
    last = ledger.last_number(prefix)
    for res in sorted(own, key=lambda r: r.from_number):
        if not res.valid_on(on):
            continue
        candidate = res.from_number if last is None else max(last + 1, res.from_number)
        if candidate <= res.to_number:
            return Allocation(prefix, candidate, res)
    current = [r for r in own if r.valid_on(on)]
    if not current:
        ended = max(own, key=lambda r: r.valid_to)
        raise NumberingError(
            f"La resolución {ended.number} del prefijo '{prefix}' no está vigente el {on} "
            f"(vigencia {ended.valid_from} a {ended.valid_to}). Solicite una nueva numeración "
            "o la habilitación del rango en el portal de la DIAN."
        )
    top = max(current, key=lambda r: r.to_number)
    raise NumberingError(
        f"El rango del prefijo '{prefix}' está agotado: se usó hasta el {last} y la resolución "
        f"{top.number} autoriza hasta el {top.to_number}. Solicite una nueva numeración."
    )
