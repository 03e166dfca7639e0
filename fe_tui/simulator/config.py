"""Configuration of the local DIAN simulator (a test double): who is registered, and faults.

The simulator knows what DIAN's portal would know: the **registered issuers**
(NIT, DV, name, enabled or not, technology providers authorized to send for
them), the **software** each one may use (SoftwareID, PIN, provider NIT), the
**numbering ranges** DIAN authorized (resolution, prefix, from/to, validity,
technical key) and the **test sets** of habilitación (required accepted
documents per type, allowed rejections) and the **acquirers** (buyers) with
the name and reception e-mail they registered, which GetAcquirer returns and
rule FAJ71 checks (SPEC §15.1). Numbering ranges and software reuse
the domain models :class:`~fe_tui.domain.models.Resolution` and
:class:`~fe_tui.domain.models.Software`, so a request JSON and the simulator
describe them the same way.

``environment`` chooses how the CUFE is checked: ``"habilitacion"`` with
DIAN's fixed public test key (as DIAN's habilitación validator does, SPEC
§1.4/§7.1) and ``ProfileExecutionID`` 2; ``"produccion"`` with the range's
technical key and ``ProfileExecutionID`` 1. A CUDE is always checked with the
software PIN.

:class:`Faults` are switches that make the simulator misbehave like the real
service on a bad day (latency, timeouts, HTTP 500/503 pages, SOAP faults,
garbled answers, answers lost after processing) or behave as a cheap stub for
benchmarks (``accept_all``). See :class:`Faults` for the exact model.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fe_tui.domain.colombia import HABILITACION_TEST_KEY
from fe_tui.domain.models import Resolution, Software

#: The path DIAN serves the web service on.
ENDPOINT_PATH = "/WcfDianCustomerServices.svc"

DEMO_NIT = "900373076"
DEMO_SOFTWARE_ID = "008a4a33-98a2-4b15-a4bb-152b4d6abad0"
DEMO_TEST_SET_ID = "c3b9f2a0-5d1e-4f7a-9b8c-2e6d4a1f0b37"
#: The buyer of ``examples/factura.json`` (and of the notes), registered as an acquirer.
DEMO_ACQUIRER_NIT = "800199436"
DEMO_ACQUIRER_NAME = "Distribuidora Antioqueña de Alimentos S.A.S."
DEMO_ACQUIRER_EMAIL = "recepcion.facturas@distriantioquena.com.co"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Issuer(_Model):
    """A facturador electrónico as DIAN's portal knows it."""

    nit: str = Field(pattern=r"^\d{1,15}$")
    dv: str = Field(pattern=r"^\d$")
    name: str
    #: Habilitado in this environment (FAJ21 when false).
    enabled: bool = True
    #: NITs of technology providers whose certificates may send for this issuer.
    authorized_providers: list[str] = Field(default_factory=list)
    software: list[Software] = Field(default_factory=list)
    ranges: list[Resolution] = Field(default_factory=list)

    def may_send(self, nit: str) -> bool:
        """``True`` when a certificate with ``nit`` may send documents for this issuer."""
        return nit == self.nit or nit in self.authorized_providers


class TestSet(_Model):
    """A habilitación test set: how many accepted documents of each type it needs.

    Invoices are types 01/02/03/04, credit notes 91, debit notes 92 (DIAN's
    ``UpdateTestSetResult``). The set is **Rechazado** once more documents are
    rejected than ``total_required − accepted required`` allows.
    """

    __test__ = False  # not a pytest class

    test_set_id: str
    issuer_nit: str
    invoices: int = Field(default=2, ge=0)
    credit_notes: int = Field(default=1, ge=0)
    debit_notes: int = Field(default=1, ge=0)
    #: Documents the set asks for in total (accepted + allowed rejections).
    total_required: int | None = None

    @model_validator(mode="after")
    def _check(self) -> TestSet:
        if self.total_required is not None and self.total_required < self.accepted_required:
            raise ValueError("total_required no puede ser menor que los aceptados requeridos")
        return self

    @property
    def accepted_required(self) -> int:
        """Accepted documents needed in all (invoices + credit notes + debit notes)."""
        return self.invoices + self.credit_notes + self.debit_notes

    @property
    def max_rejections(self) -> int:
        """Rejections allowed before the set is Rechazado (total − accepted required)."""
        total = self.total_required if self.total_required is not None else self.accepted_required
        return total - self.accepted_required

    def required(self, group: str) -> int:
        """Accepted documents needed of ``group`` ("invoice", "credit_note", "debit_note")."""
        return {
            "invoice": self.invoices,
            "credit_note": self.credit_notes,
            "debit_note": self.debit_notes,
        }[group]


class Acquirer(_Model):
    """A buyer registered with DIAN: what GetAcquirer returns for its identification."""

    id_type: str = Field(pattern=r"^\d{2}$")  #: DIAN code: 31 NIT, 13 cédula…
    id_number: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,19}$")  #: NIT without DV
    name: str = Field(min_length=1)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")  #: registered reception e-mail


MalformedKind = Literal["truncated", "html", "not-xml"]


class Faults(_Model):
    """Switches that make the simulator misbehave (all off by default).

    Model: the switches apply to every SOAP request while set. With ``count``
    = N they apply to the next N SOAP requests only; after the N-th the whole
    set resets to defaults (all off). ``count=None`` means "until changed".
    Admin requests (``/_simulator/…``) never count.

    Precedence when several are on: ``latency_ms`` (added first), then
    ``timeout``, ``http_status``, ``soap_fault``, ``malformed`` (none of these
    processes the request), then ``accept_all`` and ``accept_then_drop``.
    ``async_delay_polls`` is captured by each batch when it is uploaded.
    """

    #: Extra delay before every answer (asyncio.sleep: the loop keeps serving).
    latency_ms: int = Field(default=0, ge=0)
    #: Never answer: hold the request for ``hang_seconds``, then give up with HTTP 504.
    timeout: bool = False
    #: How long "never" lasts for ``timeout`` and ``accept_then_drop``.
    hang_seconds: float = Field(default=60.0, gt=0)
    #: Answer with this HTTP status and an HTML page (IIS style), e.g. 500 or 503.
    http_status: int | None = Field(default=None, ge=400, le=599)
    #: Answer HTTP 500 with a SOAP fault ``a:InternalServiceFault`` carrying this reason.
    soap_fault: str | None = None
    #: Answer HTTP 200 with a broken body: a truncated envelope, an HTML page, or not XML.
    malformed: MalformedKind | None = None
    #: Process and store the document as DIAN would, then never answer (client times out).
    accept_then_drop: bool = False
    #: Benchmark mode: skip WS-Security and document checks; canned accepted answers.
    accept_all: bool = False
    #: GetStatusZip answers "Batch en proceso de validación." this many times per batch.
    async_delay_polls: int = Field(default=0, ge=0)
    #: Apply to the next N SOAP requests only (None: until changed).
    count: int | None = Field(default=None, ge=1)

    @property
    def active(self) -> bool:
        """``True`` when any switch differs from the default."""
        return self != Faults()


class SimulatorConfig(_Model):
    """Everything the simulator knows; see the module docstring."""

    environment: Literal["habilitacion", "produccion"] = "habilitacion"
    issuers: list[Issuer] = Field(default_factory=list)
    test_sets: list[TestSet] = Field(default_factory=list)
    #: Buyers with a registered reception e-mail (GetAcquirer; FAJ71 on invoices).
    acquirers: list[Acquirer] = Field(default_factory=list)
    #: Extra certificates (PEM) a ThumbprintSHA1 key reference may name. Certificates
    #: seen in a valid BinarySecurityToken are remembered automatically.
    known_certificates: list[str] = Field(default_factory=list)
    #: Where state is persisted (JSON, mode 0600); None keeps it in memory.
    state_dir: Path | None = None
    faults: Faults = Field(default_factory=Faults)
    #: Tolerance of the WS-Security Timestamp window (DIAN: 5 minutes).
    clock_skew_seconds: int = Field(default=300, ge=0)
    #: Largest request body accepted (bytes).
    max_request_bytes: int = Field(default=40 * 1024 * 1024, gt=0)

    @property
    def authoritative(self) -> bool:
        """The simulator stands in for DIAN: what it does not know is unregistered."""
        return True

    def ranges(self, nit: str) -> list[Resolution] | None:
        """The numbering ranges of issuer ``nit`` (None when it is not registered)."""
        issuer = self.issuer(nit)
        return list(issuer.ranges) if issuer is not None else None

    @property
    def profile_execution_id(self) -> str:
        """``cbc:ProfileExecutionID`` documents must carry here: 1 producción, 2 pruebas."""
        return "1" if self.environment == "produccion" else "2"

    def issuer(self, nit: str) -> Issuer | None:
        """The registered issuer with ``nit``."""
        return next((i for i in self.issuers if i.nit == nit), None)

    def software(self, software_id: str) -> tuple[Issuer, Software] | None:
        """The registered software with ``software_id`` (case-insensitive) and its issuer."""
        wanted = software_id.strip().lower()
        for issuer in self.issuers:
            for sw in issuer.software:
                if sw.software_id.lower() == wanted:
                    return issuer, sw
        return None

    def acquirer(self, id_number: str, id_type: str | None = None) -> Acquirer | None:
        """The registered acquirer with ``id_number`` (and ``id_type``, when given)."""
        number = id_number.strip()
        kind = id_type.strip() if id_type is not None else None
        return next(
            (
                a
                for a in self.acquirers
                if a.id_number == number and (kind is None or a.id_type == kind)
            ),
            None,
        )

    def test_set(self, test_set_id: str) -> TestSet | None:
        """The test set with ``test_set_id`` (case-insensitive)."""
        wanted = test_set_id.strip().lower()
        return next((t for t in self.test_sets if t.test_set_id.lower() == wanted), None)


def demo_config(*, state_dir: Path | None = None) -> SimulatorConfig:
    """The configuration matching the shipped ``examples/*.json``.

    Issuer 900373076-4 with its own software (PIN "12345"), the habilitación
    range SETP 990000000–995000000 (resolution 18760000001, 2019-01-19 to
    2030-01-19, DIAN's public test key) and a small test set (2 invoices,
    1 credit note, 1 debit note; 4 rejections allowed) so a demo can finish it.
    Two acquirers: the examples' buyer (NIT 800199436, with the e-mail the examples
    use, so they pass FAJ71) and a natural person (cédula 1020304050).
    """
    return SimulatorConfig(
        environment="habilitacion",
        issuers=[
            Issuer(
                nit=DEMO_NIT,
                dv="4",
                name="Tostadora Andina de Café S.A.S.",
                software=[
                    Software(
                        software_id=DEMO_SOFTWARE_ID,
                        pin="12345",
                        provider_nit=DEMO_NIT,
                        provider_dv="4",
                        provider_name="Tostadora Andina de Café S.A.S.",
                    )
                ],
                ranges=[
                    Resolution(
                        number="18760000001",
                        date=date(2019, 1, 19),
                        prefix="SETP",
                        from_number=990000000,
                        to_number=995000000,
                        valid_from=date(2019, 1, 19),
                        valid_to=date(2030, 1, 19),
                        technical_key=HABILITACION_TEST_KEY,
                    )
                ],
            )
        ],
        test_sets=[
            TestSet(
                test_set_id=DEMO_TEST_SET_ID,
                issuer_nit=DEMO_NIT,
                invoices=2,
                credit_notes=1,
                debit_notes=1,
                total_required=8,
            )
        ],
        acquirers=[
            Acquirer(
                id_type="31",
                id_number=DEMO_ACQUIRER_NIT,
                name=DEMO_ACQUIRER_NAME,
                email=DEMO_ACQUIRER_EMAIL,
            ),
            Acquirer(
                id_type="13",
                id_number="1020304050",
                name="María Fernanda Restrepo Gómez",
                email="mfrestrepo.facturas@example.com",
            ),
        ],
        state_dir=state_dir,
    )
