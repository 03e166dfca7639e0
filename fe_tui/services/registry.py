"""The company store as the checks' registry (:class:`fe_tui.checks.Registry`).

:class:`CompanyRegistry` answers the registry look-ups of the preflight
(``fe-tui check FILE --company NIT`` and the queue before its first send) from
what the agent recorded for one company: its issuer data (NIT, DV, name), its
software (SoftwareID, PIN, provider) and its resolutions (prefix, range,
validity, technical key).

It is **not authoritative** (``authoritative`` is False): the store is the
agent's copy, not DIAN's registry. So:

- an issuer other than the company is "cannot check here", never FAJ21;
- FAJ21 itself (habilitado at DIAN) is "cannot check here" even for the company
  (the store cannot confirm DIAN's view), while its DV (FAJ24) is checked;
- a SoftwareID other than the company's, or a resolution number the store does
  not hold, is "cannot check here" (DIAN may know another software or a
  resolution the agent has not recorded), not FAB24b / FAB05b;
- what the store *does* know is checked for real: the SoftwareSecurityCode
  with the company's PIN (FAB27b), the ProviderID (FAB19b), prefix, From/To and
  validity of a known resolution (FAB10b…FAB08b), the number inside its range
  (FAD05d), and the CUFE with its technical key (FAD06; in habilitación and
  the simulator DIAN's public test key, as DIAN does);
- buyers (FAJ71): the store keeps no acquirers, so "cannot check here".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fe_tui.domain.company import Company
from fe_tui.domain.models import Resolution, Software
from fe_tui.store.db import Store


@dataclass(frozen=True)
class CompanyIssuer:
    """The company as an :class:`fe_tui.checks.IssuerRecord`."""

    nit: str
    dv: str
    name: str
    software: Sequence[Software]
    ranges: Sequence[Resolution]
    #: The store cannot confirm DIAN's habilitación; the checks do not decide FAJ21 on it
    #: for a non-authoritative registry. True lets the rules that need the issuer run.
    enabled: bool = True


class CompanyRegistry:
    """One company of the store as the preflight's registry (see the module docstring)."""

    def __init__(self, store: Store, company: Company) -> None:
        self.store = store
        self.company = company
        software = [company.software] if company.software is not None else []
        self._issuer = CompanyIssuer(
            nit=company.nit,
            dv=company.dv,
            name=company.name,
            software=software,
            ranges=store.resolutions(company.nit),
        )

    @property
    def authoritative(self) -> bool:
        """False: the company store is a local copy, not DIAN's registry."""
        return False

    @property
    def profile_execution_id(self) -> str:
        """ "1" for producción, "2" for habilitación and the simulator (a habilitación double)."""
        return "1" if self.company.environment == "produccion" else "2"

    def issuer(self, nit: str) -> CompanyIssuer | None:
        return self._issuer if nit.strip() == self.company.nit else None

    def software(self, software_id: str) -> tuple[CompanyIssuer, Software] | None:
        wanted = software_id.strip().lower()
        for sw in self._issuer.software:
            if sw.software_id.lower() == wanted:
                return self._issuer, sw
        return None

    def ranges(self, nit: str) -> Sequence[Resolution] | None:
        issuer = self.issuer(nit)
        return list(issuer.ranges) if issuer is not None else None

    def acquirer(self, id_number: str, id_type: str | None = None) -> None:
        """The store keeps no registered buyers: always unknown (FAJ71 cannot be checked)."""
        return None


def registry_for(store: Store, company_nit: str | None = None) -> CompanyRegistry:
    """The registry of ``company_nit`` (or the current company); Spanish error if none."""
    return CompanyRegistry(store, store.require_company(company_nit))
