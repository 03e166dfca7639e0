"""Where the DIAN client sends its requests (SPEC §1.4, §5.1).

Three environments: DIAN's **producción** and **habilitación** endpoints for
real companies, and the local **simulator** (the ASGI app in
``fe_tui.simulator``), which is a test double and says so in its label.

Real environments only ever talk HTTPS: an override URL for them must be
``https://`` (a plain-HTTP URL would send the signed envelope, and the
company's certificate, in the clear). The simulator may run on plain HTTP on
the loopback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from fe_tui.errors import InputError

EnvironmentKey = Literal["produccion", "habilitacion", "simulator"]

PRODUCTION_URL = "https://vpfe.dian.gov.co/WcfDianCustomerServices.svc"
HABILITATION_URL = "https://vpfe-hab.dian.gov.co/WcfDianCustomerServices.svc"
SIMULATOR_URL = "http://127.0.0.1:8089/WcfDianCustomerServices.svc"


@dataclass(frozen=True, slots=True)
class Environment:
    """One DIAN endpoint and how documents sent there must be marked.

    ``profile_execution_id`` is ``cbc:ProfileExecutionID`` / the environment
    code of the CUFE: 1 producción, 2 pruebas (habilitación and simulator).
    """

    key: EnvironmentKey
    label: str
    url: str
    profile_execution_id: Literal[1, 2]
    is_test_double: bool = False

    @property
    def is_production(self) -> bool:
        """``True`` for DIAN's production endpoint (documents there have legal effect)."""
        return self.key == "produccion"


def _label(official: str, url: str, official_url: str, what: str) -> str:
    """``official`` at DIAN's own host; otherwise named by what it is (issue 14, item 12):
    another service that documents are sent to as if it were DIAN's ``what``."""
    host = urlsplit(url).hostname or url
    if host == urlsplit(official_url).hostname:
        return official
    return f"Servicio en {host} con el ambiente de {what} (no es la URL de la DIAN)"


def production(url: str = PRODUCTION_URL) -> Environment:
    """DIAN producción (or, at another URL, a service labelled as what it is)."""
    url = _https(url, "produccion")
    return Environment(
        "produccion", _label("DIAN producción", url, PRODUCTION_URL, "producción"), url, 1
    )


def habilitation(url: str = HABILITATION_URL) -> Environment:
    """DIAN habilitación (pruebas) (or, at another URL, a service labelled as what it is)."""
    url = _https(url, "habilitacion")
    label = _label("DIAN habilitación (pruebas)", url, HABILITATION_URL, "habilitación")
    return Environment("habilitacion", label, url, 2)


def simulator(url: str = SIMULATOR_URL) -> Environment:
    """The local DIAN simulator: a test double, never DIAN."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise InputError(f"URL del simulador inválida: {url!r}.", url=url)
    return Environment(
        "simulator", "Simulador local de la DIAN (doble de pruebas)", url, 2, is_test_double=True
    )


_FACTORIES = {"produccion": production, "habilitacion": habilitation, "simulator": simulator}


def resolve(key: str, url: str | None = None) -> Environment:
    """The environment named ``key``, optionally at another ``url``.

    Raises :class:`~fe_tui.errors.InputError` for an unknown key or for a
    non-HTTPS URL given to a real DIAN environment.
    """
    factory = _FACTORIES.get(key.strip().lower())
    if factory is None:
        raise InputError(
            f"Ambiente desconocido: {key!r}. Use produccion, habilitacion o simulator.", key=key
        )
    return factory() if url is None else factory(url)


def _https(url: str, key: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise InputError(
            f"La URL del ambiente {key} debe usar https:// (se recibió {url!r}); solo el "
            "simulador local acepta http://.",
            key=key,
            url=url,
        )
    return url
