"""A company an agent looks after: who it is to DIAN and how it sends.

Every record in the store belongs to a company, identified by its NIT (without
DV). The issuer data documents need (:class:`~fe_tui.domain.models.Issuer`)
and the software registration (:class:`~fe_tui.domain.models.Software`, with
the PIN) live here; secrets of the certificate never do (the PKCS#12 stays a
file, its password is asked for each session).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from fe_tui.domain.models import (
    CheckDigit,
    Email,
    Issuer,
    NitNumber,
    Software,
    Text,
    _check_dv,
    _error,
    _Model,
)

#: Where the company's documents go: DIAN's two endpoints or the local simulator (a test double).
CompanyEnvironment = Literal["habilitacion", "produccion", "simulator"]


class OperationMode(StrEnum):
    """How the company invoices (DIAN portal, "modo de operación", SPEC §7.1)."""

    OWN_SOFTWARE = "software_propio"
    PROVIDER = "proveedor_tecnologico"
    DIAN_FREE = "solucion_gratuita"

    @property
    def label(self) -> str:
        """Spanish label."""
        return {
            "software_propio": "Software propio",
            "proveedor_tecnologico": "Proveedor tecnológico",
            "solucion_gratuita": "Solución gratuita de la DIAN",
        }[self.value]


class Company(_Model):
    """A company (NIT) with its DIAN registration.

    ``issuer`` and ``software`` are optional while the company is being set up
    (habilitación not started); documents can only be built once both exist.
    """

    nit: NitNumber
    dv: CheckDigit
    name: Text
    operation_mode: OperationMode = OperationMode.OWN_SOFTWARE
    environment: CompanyEnvironment = "habilitacion"
    #: Override of the environment's URL (the simulator's address, for instance).
    dian_url: str | None = None
    test_set_id: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    reception_email: Email | None = None
    notes: Annotated[str, Field(max_length=5000)] = ""
    issuer: Issuer | None = None
    software: Software | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_dv(self.nit, self.dv, "dv")
        if self.issuer is not None and self.issuer.nit != self.nit:
            raise _error(
                f"el emisor de los documentos ({self.issuer.nit}) no es la empresa ({self.nit})",
                "issuer.nit",
            )
        return self

    @property
    def label(self) -> str:
        """``Name (NIT-DV)`` for headers and lists."""
        return f"{self.name} ({self.nit}-{self.dv})"
