"""What the checks need to know about registrations: a small structural interface.

:class:`Registry` is a :class:`typing.Protocol`: anything with these members
satisfies it (the simulator's ``SimulatorConfig`` does; the company store will).
Records are protocols too, so the simulator's ``Issuer`` and ``Acquirer`` models
fit without conversion. :class:`~fe_tui.domain.models.Software` and
:class:`~fe_tui.domain.models.Resolution` are the domain models.

``authoritative`` says whether the registry is DIAN's own view (the simulator,
which stands in for DIAN: an issuer it does not know is unregistered, FAJ21) or
a partial local copy (the company store knows the companies the agent looks
after: an issuer it does not know is "cannot check here", not a failure).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from fe_tui.domain.models import Resolution, Software


class IssuerRecord(Protocol):
    """A facturador electrónico as the registry knows it."""

    @property
    def nit(self) -> str: ...

    @property
    def dv(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def enabled(self) -> bool:
        """Habilitado in this environment."""
        ...

    @property
    def software(self) -> Sequence[Software]: ...

    @property
    def ranges(self) -> Sequence[Resolution]: ...


class AcquirerRecord(Protocol):
    """A buyer registered with DIAN (what GetAcquirer returns)."""

    @property
    def name(self) -> str: ...

    @property
    def email(self) -> str: ...


class Registry(Protocol):
    """Issuer, software, range and acquirer look-ups the registry-dependent rules need."""

    @property
    def authoritative(self) -> bool:
        """True when a record missing here is missing at DIAN (see the module docstring)."""
        ...

    @property
    def profile_execution_id(self) -> str:
        """The environment documents must declare: "1" producción, "2" habilitación."""
        ...

    def issuer(self, nit: str) -> IssuerRecord | None:
        """The issuer with ``nit`` (None: not known here)."""
        ...

    def software(self, software_id: str) -> tuple[IssuerRecord, Software] | None:
        """The software with ``software_id`` and the issuer it belongs to."""
        ...

    def ranges(self, nit: str) -> Sequence[Resolution] | None:
        """The numbering ranges of issuer ``nit`` (None: issuer not known here)."""
        ...

    def acquirer(self, id_number: str, id_type: str | None = None) -> AcquirerRecord | None:
        """The registered buyer with that identification (None: not registered / not known)."""
        ...
