"""The seed workflows as plain data: certificates, renewals, purchase and habilitación.

Everything here is a pydantic model the store persists as it is
(``model_dump(mode="json")`` / ``model_validate`` round trip) plus pure
functions that take a model, a clock reading (``now``, aware) and facts, and
return a *new* model or a verdict. Nothing here reads files, the network or
the time of day: the services and the store supply those.

- :class:`CertificateRecord`: one certificate installed (or refused) for a
  company; :func:`certificate_status` classifies it Vigente / Por vencer /
  Vencido / Inválido with the days left in Colombian calendar days;
  :func:`activate_certificate` is the switch (the old active one becomes
  replaced); :func:`sort_by_urgency` orders statuses across companies.
- :class:`RenewalRequest` (seed 002): the CA's En trámite / Rechazado (with
  observaciones) / Completado, and :func:`renewal_notice` from month 11 of
  validity.
- :class:`PurchaseChecklist` (seed 001): payment verified → legal
  representative → exoneration letter downloaded → signed letter attached
  (PDF ≤ 1 MB, :func:`check_signed_letter`) → continue, in that order.
- :class:`HabilitacionChecklist` (seed 003, SPEC §7): ten steps, manual ones
  checked off by an agent, automatic ones derived from facts (the company's
  fields, the test set's result, the ranges synced);
  :func:`habilitacion_status` names the next step and why a step is blocked.

User text is Spanish; every refusal raises :class:`~fe_tui.errors.InputError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from fe_tui.domain.colombia import COLOMBIA_TZ
from fe_tui.domain.company import Company
from fe_tui.domain.models import NitNumber, ShortText, Text, _Model
from fe_tui.errors import InputError

#: Default "Por vencer" window of a certificate, in days (issue 11: configurable).
DEFAULT_CERT_WARN_DAYS = 30
#: Month of validity from which the renewal notice shows (seed 002: "primeros 11 meses").
RENEWAL_NOTICE_MONTH = 11
#: A signed exoneration letter may weigh at most this (seed 001: "tamaño máximo de 1MB").
MAX_LETTER_BYTES = 1024 * 1024
#: DIAN may take this long to serve a range after its prefix is associated (seed 004, SPEC §7).
ASSOCIATION_DELAY = timedelta(hours=2)

Agent = Annotated[str, Field(min_length=1, max_length=100)]
Note = Annotated[str, Field(max_length=2000)]


def colombian_date(moment: datetime) -> date:
    """The calendar date in Colombia (fixed -05:00) of an aware ``moment``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InputError("la fecha y hora debe incluir zona horaria", field="now")
    return moment.astimezone(COLOMBIA_TZ).date()


def colombian_days_between(start: datetime, end: datetime) -> int:
    """Calendar days in Colombia from ``start`` to ``end`` (negative when ``end`` is earlier)."""
    return (colombian_date(end) - colombian_date(start)).days


def _fmt_date(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def _days(n: int) -> str:
    return "1 día" if abs(n) == 1 else f"{abs(n)} días"


# --- Certificates ------------------------------------------------------------------------------


class CertificateState(StrEnum):
    """Lifecycle of an installed certificate."""

    ACTIVE = "active"  #: the one that signs
    REPLACED = "replaced"  #: was active; kept for the record (old signatures)
    REJECTED = "rejected"  #: refused on install or by its probe signature

    @property
    def label(self) -> str:
        """Spanish label."""
        return {"active": "Activo", "replaced": "Reemplazado", "rejected": "Rechazado"}[self.value]


class CertificateHealth(StrEnum):
    """What an agent reads in ``cert status``."""

    VIGENTE = "vigente"
    POR_VENCER = "por_vencer"
    VENCIDO = "vencido"
    INVALIDO = "invalido"

    @property
    def label(self) -> str:
        """Spanish label."""
        return {
            "vigente": "Vigente",
            "por_vencer": "Por vencer",
            "vencido": "Vencido",
            "invalido": "Inválido",
        }[self.value]


class CertificateRecord(_Model):
    """A certificate installed for a company (public facts only; never the key or password)."""

    company_nit: NitNumber
    #: Where the PKCS#12 lives (the store's copy, owner-only).
    path: Annotated[str, Field(min_length=1, max_length=4096)]
    #: SHA-256 of the certificate (DER), hex with ':' (as ``CertificateInfo``).
    sha256_fingerprint: Annotated[str, Field(pattern=r"^[0-9A-F]{2}(:[0-9A-F]{2}){31}$")]
    subject: Text
    subject_cn: Text | None = None
    issuer_cn: Text | None = None
    serial_number: Annotated[str, Field(pattern=r"^[0-9A-F]+$")]
    #: NIT found in the subject (``None``: none found).
    nit: NitNumber | None = None
    not_before: AwareDatetime
    not_after: AwareDatetime
    state: CertificateState = CertificateState.ACTIVE
    installed_at: AwareDatetime
    replaced_at: AwareDatetime | None = None
    #: Spanish reason, for a rejected candidate.
    rejected_reason: Annotated[str, Field(max_length=2000)] | None = None
    #: Spanish warnings found on inspection (no chain, SHA-1, KeyUsage…).
    warnings: list[Annotated[str, Field(max_length=2000)]] = Field(default_factory=list)

    def days_left(self, now: datetime) -> int:
        """Colombian calendar days from ``now`` to the end of validity (negative: expired)."""
        return colombian_days_between(now, self.not_after)


class CertificateStatus(_Model):
    """The classification of a company's certificate at one instant."""

    company_nit: NitNumber
    health: CertificateHealth
    #: Colombian calendar days left (``None`` without a certificate).
    days_left: int | None = None
    not_after: AwareDatetime | None = None
    sha256_fingerprint: str | None = None
    #: Spanish sentence: what the state is and what to do.
    message: Text

    @property
    def label(self) -> str:
        """Spanish label of :attr:`health`."""
        return self.health.label


def active_certificate(records: Iterable[CertificateRecord]) -> CertificateRecord | None:
    """The active certificate among ``records`` (the newest if, wrongly, several are)."""
    active = [r for r in records if r.state is CertificateState.ACTIVE]
    return max(active, key=lambda r: r.installed_at) if active else None


def certificate_status(
    company_nit: str,
    record: CertificateRecord | None,
    now: datetime,
    *,
    warn_days: int = DEFAULT_CERT_WARN_DAYS,
) -> CertificateStatus:
    """Classify ``record`` (the company's active certificate, or ``None``) at ``now``.

    Inválido: none installed, rejected, not yet valid, or issued to another NIT.
    Vencido: past its end. Por vencer: at most ``warn_days`` Colombian calendar
    days left. Vigente otherwise.
    """
    if warn_days < 0:
        raise InputError("los días de aviso no pueden ser negativos", field="warn_days")
    if record is None:
        return CertificateStatus(
            company_nit=company_nit,
            health=CertificateHealth.INVALIDO,
            message=(
                "No hay certificado de firma instalado: instale el .p12 de la empresa "
                "(cert install)."
            ),
        )
    left = record.days_left(now)

    def status(health: CertificateHealth, message: str) -> CertificateStatus:
        return CertificateStatus(
            company_nit=company_nit,
            health=health,
            days_left=left,
            not_after=record.not_after,
            sha256_fingerprint=record.sha256_fingerprint,
            message=message,
        )

    end = _fmt_date(colombian_date(record.not_after))
    if record.state is CertificateState.REJECTED:
        reason = record.rejected_reason or "no pasó las verificaciones"
        return status(
            CertificateHealth.INVALIDO,
            f"El certificado fue rechazado ({reason}); instale uno válido.",
        )
    if record.nit is not None and record.nit != company_nit:
        return status(
            CertificateHealth.INVALIDO,
            (
                f"El certificado es del NIT {record.nit}, no de la empresa ({company_nit}); "
                "instale el certificado de la empresa."
            ),
        )
    if now < record.not_before:
        start = _fmt_date(colombian_date(record.not_before))
        return status(
            CertificateHealth.INVALIDO,
            f"El certificado aún no es vigente: empieza el {start}.",
        )
    if now > record.not_after:
        return status(
            CertificateHealth.VENCIDO,
            (
                f"El certificado venció el {end}; no se puede firmar. Solicite la renovación a "
                f"{record.issuer_cn or 'la entidad certificadora'} e instale el nuevo."
            ),
        )
    if left <= warn_days:
        when = "hoy" if left == 0 else f"en {_days(left)}"
        return status(
            CertificateHealth.POR_VENCER,
            (
                f"El certificado vence {when} ({end}): inicie ya la renovación con "
                f"{record.issuer_cn or 'la entidad certificadora'} (la validación toma días)."
            ),
        )
    return status(
        CertificateHealth.VIGENTE, f"El certificado está vigente hasta el {end} ({_days(left)})."
    )


_HEALTH_RANK = {
    CertificateHealth.VENCIDO: 0,
    CertificateHealth.INVALIDO: 1,
    CertificateHealth.POR_VENCER: 2,
    CertificateHealth.VIGENTE: 3,
}


def sort_by_urgency(statuses: Iterable[CertificateStatus]) -> list[CertificateStatus]:
    """Most urgent first: Vencido, Inválido, then by fewest days left; NIT breaks ties."""
    return sorted(
        statuses,
        key=lambda s: (
            _HEALTH_RANK[s.health],
            s.days_left if s.days_left is not None else -(10**6),
            s.company_nit,
        ),
    )


def activate_certificate(
    records: Sequence[CertificateRecord], candidate: CertificateRecord, now: datetime
) -> list[CertificateRecord]:
    """The company's records after ``candidate`` becomes active.

    Call only after the candidate passed its probe signature
    (:func:`fe_tui.services.certificates.probe_signature`); the store writes the
    result in one atomic replace. The previous active certificate is kept,
    marked replaced at ``now``. The same certificate installed again is not
    duplicated: its record becomes the active one.
    """
    if candidate.state is not CertificateState.ACTIVE:
        raise InputError("solo un certificado aceptado puede quedar activo", field="state")
    if any(r.company_nit != candidate.company_nit for r in records):
        raise InputError("los certificados deben ser de la misma empresa", field="company_nit")
    result: list[CertificateRecord] = []
    for record in records:
        if record.sha256_fingerprint == candidate.sha256_fingerprint:
            continue
        if record.state is CertificateState.ACTIVE:
            record = record.model_copy(
                update={"state": CertificateState.REPLACED, "replaced_at": now}
            )
        result.append(record)
    result.append(candidate)
    return result


# --- Renewal tracker (seed 002) ----------------------------------------------------------------


class RenewalState(StrEnum):
    """State of a certificate request at the CA (seed 002)."""

    EN_TRAMITE = "en_tramite"
    RECHAZADO = "rechazado"
    COMPLETADO = "completado"

    @property
    def label(self) -> str:
        """Spanish label."""
        return {
            "en_tramite": "En trámite",
            "rechazado": "Rechazado",
            "completado": "Completado",
        }[self.value]


class RenewalEvent(_Model):
    """One change of state, as the agent recorded it."""

    at: AwareDatetime
    state: RenewalState
    agent: Agent
    observaciones: Note = ""


_RENEWAL_MOVES = {
    RenewalState.EN_TRAMITE: {RenewalState.RECHAZADO, RenewalState.COMPLETADO},
    RenewalState.RECHAZADO: {RenewalState.EN_TRAMITE},
    RenewalState.COMPLETADO: set(),
}


class RenewalRequest(_Model):
    """A certificate request or renewal followed at the CA (seed 002)."""

    company_nit: NitNumber
    requested_on: date
    ca_name: ShortText | None = None
    state: RenewalState = RenewalState.EN_TRAMITE
    #: The CA's observaciones of the last rejection (what to correct).
    observaciones: Note = ""
    history: list[RenewalEvent] = Field(default_factory=list)

    @property
    def open(self) -> bool:
        """``True`` while the request is not Completado."""
        return self.state is not RenewalState.COMPLETADO


def start_renewal(
    company_nit: str,
    requested_on: date,
    *,
    at: datetime,
    agent: str,
    ca_name: str | None = None,
    note: str = "",
) -> RenewalRequest:
    """A new request, En trámite since ``requested_on``."""
    return RenewalRequest(
        company_nit=company_nit,
        requested_on=requested_on,
        ca_name=ca_name,
        history=[
            RenewalEvent(at=at, state=RenewalState.EN_TRAMITE, agent=agent, observaciones=note)
        ],
    )


def update_renewal(
    request: RenewalRequest,
    state: RenewalState,
    *,
    at: datetime,
    agent: str,
    observaciones: str = "",
) -> RenewalRequest:
    """The request after the CA's answer.

    En trámite → Rechazado (observaciones required) or Completado;
    Rechazado → En trámite (documents corrected and sent again). Completado is final.
    """
    if state not in _RENEWAL_MOVES[request.state]:
        raise InputError(
            f"la solicitud está «{request.state.label}»; no puede pasar a «{state.label}»",
            field="state",
        )
    text = observaciones.strip()
    if state is RenewalState.RECHAZADO and not text:
        raise InputError(
            "registre las observaciones de la entidad certificadora (qué documentos corregir)",
            field="observaciones",
        )
    event = RenewalEvent(at=at, state=state, agent=agent, observaciones=text)
    return request.model_copy(
        update={
            "state": state,
            "observaciones": text if state is RenewalState.RECHAZADO else request.observaciones,
            "history": [*request.history, event],
        }
    )


def _add_months(d: date, months: int) -> date:
    month0 = d.month - 1 + months
    year, month = d.year + month0 // 12, month0 % 12 + 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def renewal_notice_date(record: CertificateRecord, *, month: int = RENEWAL_NOTICE_MONTH) -> date:
    """First day of month ``month`` of validity (start + ``month − 1`` months), in Colombia."""
    return _add_months(colombian_date(record.not_before), month - 1)


def renewal_notice(
    record: CertificateRecord | None,
    renewal: RenewalRequest | None,
    now: datetime,
    *,
    month: int = RENEWAL_NOTICE_MONTH,
) -> str | None:
    """The renewal notice to show, or ``None``.

    From month ``month`` of validity (seed 002) until expiry; an open request
    at the CA changes the text to say where it stands.
    """
    if record is None or record.state is not CertificateState.ACTIVE:
        return None
    today = colombian_date(now)
    if today < renewal_notice_date(record, month=month):
        return None
    if (
        renewal is not None
        and renewal.open
        and renewal.requested_on >= colombian_date(record.not_before)
    ):
        if renewal.state is RenewalState.RECHAZADO:
            return (
                "La solicitud de renovación fue rechazada por la entidad certificadora: "
                f"{renewal.observaciones} Corrija los documentos y envíela de nuevo."
            )
        return (
            f"Renovación en trámite desde el {_fmt_date(renewal.requested_on)}: haga seguimiento "
            "con la entidad certificadora (suele tomar un par de días hábiles)."
        )
    left = record.days_left(now)
    end = _fmt_date(colombian_date(record.not_after))
    if left < 0:
        return f"El certificado venció el {end}: solicite uno nuevo a la entidad certificadora."
    return (
        f"El certificado está en el mes {month} de vigencia o después (vence el {end}, en "
        f"{_days(left)}): solicite ya la renovación a la entidad certificadora."
    )


# --- Purchase checklist (seed 001) -------------------------------------------------------------


class PurchaseStep(StrEnum):
    """The steps of buying and activating a certificate through the provider (seed 001)."""

    PAYMENT_VERIFIED = "pago_verificado"
    LEGAL_REPRESENTATIVE = "representante_legal"
    LETTER_DOWNLOADED = "carta_descargada"
    SIGNED_LETTER_ATTACHED = "carta_firmada_adjunta"
    CONTINUED = "continuar"

    @property
    def label(self) -> str:
        """Spanish label."""
        return _PURCHASE_LABELS[self]


_PURCHASE_LABELS = {
    PurchaseStep.PAYMENT_VERIFIED: "Pago del certificado verificado",
    PurchaseStep.LEGAL_REPRESENTATIVE: "Datos del representante legal",
    PurchaseStep.LETTER_DOWNLOADED: "Carta de exoneración descargada",
    PurchaseStep.SIGNED_LETTER_ATTACHED: "Carta firmada adjunta (PDF, máximo 1 MB)",
    PurchaseStep.CONTINUED: "Continuar con la activación",
}
PURCHASE_ORDER: tuple[PurchaseStep, ...] = tuple(PurchaseStep)


class StepRecord(_Model):
    """A checklist step checked off: when, by whom, with what note."""

    step: str
    done_at: AwareDatetime
    agent: Agent
    note: Note = ""


class LegalRepresentative(_Model):
    """The legal representative's data the exoneration letter carries (seed 001)."""

    name: Text
    id_type: Annotated[str, Field(pattern=r"^\d{2}$")] = "13"
    id_number: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{3,20}$")]
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    phone: Annotated[str, Field(min_length=1, max_length=50)] | None = None


class SignedLetter(_Model):
    """The scanned, signed exoneration letter attached (checked by :func:`check_signed_letter`)."""

    file_name: Annotated[str, Field(min_length=1, max_length=255)]
    size: Annotated[int, Field(gt=0, le=MAX_LETTER_BYTES)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


def check_signed_letter(file_name: str, data: bytes) -> SignedLetter:
    """Accept the signed letter only as a PDF (``%PDF`` magic) of at most 1 MB."""
    name = file_name.strip() or "carta.pdf"
    if not data:
        raise InputError(f"«{name}» está vacío; escanee la carta firmada en PDF", field="letter")
    if len(data) > MAX_LETTER_BYTES:
        raise InputError(
            f"«{name}» pesa {len(data) / 1_048_576:.1f} MB; el máximo es 1 MB: escanee la carta "
            "con menor resolución o en blanco y negro",
            field="letter",
            size=len(data),
        )
    if not data.lstrip(b"\t\n\r ")[:5].startswith(b"%PDF-"):
        raise InputError(
            f"«{name}» no es un PDF: guarde la carta escaneada en formato PDF", field="letter"
        )
    return SignedLetter(file_name=name, size=len(data), sha256=hashlib.sha256(data).hexdigest())


class PurchaseChecklist(_Model):
    """A company's certificate purchase and activation, step by step (seed 001)."""

    company_nit: NitNumber
    steps: list[StepRecord] = Field(default_factory=list)
    legal_representative: LegalRepresentative | None = None
    signed_letter: SignedLetter | None = None

    def done(self, step: PurchaseStep) -> bool:
        """``True`` when ``step`` was checked off."""
        return any(s.step == step.value for s in self.steps)

    @property
    def next_step(self) -> PurchaseStep | None:
        """The first step not done (``None``: finished)."""
        return next((s for s in PURCHASE_ORDER if not self.done(s)), None)


def complete_purchase_step(
    checklist: PurchaseChecklist,
    step: PurchaseStep,
    *,
    at: datetime,
    agent: str,
    note: str = "",
    legal_representative: LegalRepresentative | None = None,
    letter: SignedLetter | None = None,
) -> PurchaseChecklist:
    """The checklist with ``step`` checked off; steps go strictly in order.

    The legal representative step needs the representative's data; the
    attachment step needs the checked letter (:func:`check_signed_letter`).
    """
    if checklist.done(step):
        raise InputError(f"el paso «{step.label}» ya está hecho", field="step")
    expected = checklist.next_step
    if expected is not step:
        assert expected is not None
        raise InputError(
            f"primero complete «{expected.label}» (los pasos van en orden)", field="step"
        )
    update: dict[str, object] = {}
    if step is PurchaseStep.LEGAL_REPRESENTATIVE:
        if legal_representative is None:
            raise InputError(
                "ingrese los datos del representante legal (nombre y documento) para la carta",
                field="legal_representative",
            )
        update["legal_representative"] = legal_representative
    if step is PurchaseStep.SIGNED_LETTER_ATTACHED:
        if letter is None:
            raise InputError("adjunte la carta firmada en PDF (máximo 1 MB)", field="letter")
        update["signed_letter"] = letter
    record = StepRecord(step=step.value, done_at=at, agent=agent, note=note)
    update["steps"] = [*checklist.steps, record]
    return checklist.model_copy(update=update)


def purchase_next_action(checklist: PurchaseChecklist) -> str:
    """Spanish sentence naming what to do next."""
    step = checklist.next_step
    if step is None:
        return "Compra y activación completas: el certificado puede usarse para firmar."
    hints = {
        PurchaseStep.PAYMENT_VERIFIED: (
            "Verifique el pago del certificado digital (o cómprelo si no está pagado)."
        ),
        PurchaseStep.LEGAL_REPRESENTATIVE: (
            "Ingrese los datos del representante legal para generar la carta de exoneración."
        ),
        PurchaseStep.LETTER_DOWNLOADED: (
            "Descargue la carta de exoneración y hágala firmar por el representante legal."
        ),
        PurchaseStep.SIGNED_LETTER_ATTACHED: (
            "Escanee la carta firmada en PDF (máximo 1 MB) y adjúntela."
        ),
        PurchaseStep.CONTINUED: "Dé clic en «Continuar» para terminar la activación.",
    }
    return hints[step]


# --- Habilitación (seed 003, SPEC §7) ----------------------------------------------------------


class HabilitacionStep(StrEnum):
    """The habilitación steps, in order (seed 003, SPEC §7)."""

    REGISTER = "registro"
    OPERATION_MODE = "modo_operacion"
    TEST_SET_ID = "test_set_id"
    SEND_TEST_SET = "envio_set_pruebas"
    TEST_SET_ACCEPTED = "set_aceptado"
    PRODUCTION_START = "inicio_produccion"
    RUT_52 = "rut_responsabilidad_52"
    REQUEST_NUMBERING = "solicitud_numeracion"
    ASSOCIATE_PREFIXES = "asociacion_prefijos"
    SYNC_NUMBERING = "sincronizar_numeracion"

    @property
    def label(self) -> str:
        """Spanish label."""
        return _HAB_LABELS[self]

    @property
    def manual(self) -> bool:
        """``True`` for steps an agent checks off (the others are derived from facts)."""
        return self in MANUAL_STEPS


_HAB_LABELS = {
    HabilitacionStep.REGISTER: "Registro como facturador con el correo de recepción",
    HabilitacionStep.OPERATION_MODE: "Modo de operación y software (SoftwareID y PIN)",
    HabilitacionStep.TEST_SET_ID: "TestSetId del set de pruebas",
    HabilitacionStep.SEND_TEST_SET: "Envío del set de pruebas",
    HabilitacionStep.TEST_SET_ACCEPTED: "Set de pruebas aceptado",
    HabilitacionStep.PRODUCTION_START: "Fecha de inicio en producción",
    HabilitacionStep.RUT_52: "RUT con la responsabilidad 52 (facturador electrónico)",
    HabilitacionStep.REQUEST_NUMBERING: "Solicitud de numeración (formulario 1876)",
    HabilitacionStep.ASSOCIATE_PREFIXES: "Asociación de prefijos al software",
    HabilitacionStep.SYNC_NUMBERING: "Sincronización de la numeración (GetNumberingRange)",
}
HABILITACION_ORDER: tuple[HabilitacionStep, ...] = tuple(HabilitacionStep)
MANUAL_STEPS = frozenset(
    {
        HabilitacionStep.REGISTER,
        HabilitacionStep.PRODUCTION_START,
        HabilitacionStep.RUT_52,
        HabilitacionStep.REQUEST_NUMBERING,
        HabilitacionStep.ASSOCIATE_PREFIXES,
    }
)
#: Steps that may be checked off before the earlier ones (the RUT is a prerequisite, any time).
ORDER_FREE_STEPS = frozenset({HabilitacionStep.RUT_52})


class TestSetCounts(_Model):
    """Documents of a test set per type (invoices 01/02/03/04, credit notes 91, debit notes 92)."""

    __test__ = False  # not a pytest class

    invoices: Annotated[int, Field(ge=0)] = 0
    credit_notes: Annotated[int, Field(ge=0)] = 0
    debit_notes: Annotated[int, Field(ge=0)] = 0

    @property
    def total(self) -> int:
        """All documents."""
        return self.invoices + self.credit_notes + self.debit_notes


class TestSetProgress(_Model):
    """Where a test set stands: what it requires and what DIAN counted (SPEC §7.2).

    ``status`` is DIAN's word when known ("Set de prueba … se encuentra
    Aceptado/Rechazado"); otherwise it is derived from the counts.
    """

    __test__ = False

    test_set_id: Annotated[str, Field(min_length=1, max_length=100)]
    required: TestSetCounts
    sent: TestSetCounts = Field(default_factory=TestSetCounts)
    accepted: TestSetCounts = Field(default_factory=TestSetCounts)
    rejected: TestSetCounts = Field(default_factory=TestSetCounts)
    status: Literal["en_proceso", "aceptado", "rechazado"] | None = None

    @property
    def missing(self) -> TestSetCounts:
        """Accepted documents still needed per type."""
        return TestSetCounts(
            invoices=max(0, self.required.invoices - self.accepted.invoices),
            credit_notes=max(0, self.required.credit_notes - self.accepted.credit_notes),
            debit_notes=max(0, self.required.debit_notes - self.accepted.debit_notes),
        )

    @property
    def effective_status(self) -> Literal["sin_envios", "en_proceso", "aceptado", "rechazado"]:
        """DIAN's status, else ``aceptado`` when every count is reached."""
        if self.status in ("aceptado", "rechazado"):
            return self.status
        if self.missing.total == 0 and self.required.total > 0:
            return "aceptado"
        return "en_proceso" if self.sent.total else "sin_envios"


class HabilitacionFacts(_Model):
    """What the services know about the company beyond the checklist (plain input)."""

    test_set: TestSetProgress | None = None
    #: The active certificate can sign now (``None``: unknown / not checked).
    certificate_valid: bool | None = None
    #: Production ranges synced from DIAN with their technical key.
    production_ranges_synced: Annotated[int, Field(ge=0)] = 0
    last_sync_at: AwareDatetime | None = None


class ManualCheck(StepRecord):
    """A manual habilitación step checked off; some carry a value (date, resolution number)."""

    #: The production start date (PRODUCTION_START).
    production_start: date | None = None
    #: The resolution number(s) of formulario 1876 (REQUEST_NUMBERING), prefixes associated.
    reference: Annotated[str, Field(max_length=200)] | None = None


class HabilitacionChecklist(_Model):
    """The manual part of a company's habilitación; the automatic part is derived."""

    company_nit: NitNumber
    checks: list[ManualCheck] = Field(default_factory=list)

    def check(self, step: HabilitacionStep) -> ManualCheck | None:
        """The record of a manual ``step``, if checked off."""
        return next((c for c in self.checks if c.step == step.value), None)


StepState = Literal["hecho", "disponible", "bloqueado", "en_espera"]


class HabilitacionStepStatus(_Model):
    """One step as ``habilitacion status`` shows it."""

    step: HabilitacionStep
    label: Text
    manual: bool
    state: StepState
    #: Spanish: why it is blocked or waiting, or what was recorded.
    detail: Annotated[str, Field(max_length=2000)] = ""
    done_at: AwareDatetime | None = None
    agent: str | None = None
    note: str = ""


class HabilitacionStatus(_Model):
    """Where a company's habilitación stands at one instant."""

    company_nit: NitNumber
    steps: list[HabilitacionStepStatus]
    next_step: HabilitacionStep | None
    #: Spanish sentence: the next thing to do (or that the company is ready).
    next_action: Text
    #: Every step done: the company may invoice in production.
    ready: bool

    @property
    def blocked(self) -> list[HabilitacionStepStatus]:
        """Steps blocked for a reason of their own (not merely waiting for earlier steps)."""
        return [s for s in self.steps if s.state == "bloqueado"]

    def step_status(self, step: HabilitacionStep) -> HabilitacionStepStatus:
        """The status of ``step``."""
        return next(s for s in self.steps if s.step is step)


def _counts_text(counts: TestSetCounts) -> str:
    parts = []
    for n, one, many in (
        (counts.invoices, "factura", "facturas"),
        (counts.credit_notes, "nota crédito", "notas crédito"),
        (counts.debit_notes, "nota débito", "notas débito"),
    ):
        if n:
            parts.append(f"{n} {one if n == 1 else many}")
    return ", ".join(parts) if parts else "nada"


def _automatic(
    step: HabilitacionStep,
    company: Company,
    facts: HabilitacionFacts,
    checklist: HabilitacionChecklist,
    now: datetime,
) -> tuple[bool, StepState, str]:
    """(done, state if not done, detail) of an automatic step, judged alone."""
    ts = facts.test_set
    if step is HabilitacionStep.OPERATION_MODE:
        if company.software is not None:
            return True, "hecho", f"{company.operation_mode.label}: {company.software.software_id}"
        return (
            False,
            "disponible",
            "Configure el modo de operación en el portal y registre en la empresa el "
            "SoftwareID y el PIN.",
        )
    if step is HabilitacionStep.TEST_SET_ID:
        if company.test_set_id:
            return True, "hecho", f"TestSetId {company.test_set_id}"
        return (
            False,
            "disponible",
            "Copie el TestSetId de «Detalles del set de pruebas» del portal en los datos de "
            "la empresa.",
        )
    if step is HabilitacionStep.SEND_TEST_SET:
        if (
            ts is not None
            and ts.test_set_id == company.test_set_id
            and (ts.sent.total or ts.effective_status == "aceptado")
        ):
            return True, "hecho", f"Enviados: {_counts_text(ts.sent)}."
        if company.issuer is None:
            return (
                False,
                "bloqueado",
                "Faltan los datos del emisor de la empresa (dirección, responsabilidades, "
                "correo) para generar los documentos.",
            )
        if facts.certificate_valid is False:
            return (
                False,
                "bloqueado",
                "El certificado no sirve para firmar: instale uno vigente de la empresa.",
            )
        return False, "disponible", "Genere y envíe el set de pruebas (habilitacion run-test-set)."
    if step is HabilitacionStep.TEST_SET_ACCEPTED:
        if ts is None or ts.test_set_id != company.test_set_id:
            return False, "disponible", "Aún no hay resultados del set de pruebas."
        status = ts.effective_status
        if status == "aceptado":
            return True, "hecho", "La DIAN aceptó el set de pruebas."
        if status == "rechazado":
            return (
                False,
                "bloqueado",
                f"El set de pruebas fue rechazado (rechazados: {_counts_text(ts.rejected)}): "
                "solicite un set nuevo en el portal de habilitación y registre el nuevo "
                "TestSetId.",
            )
        return (
            False,
            "en_espera",
            f"Faltan aceptados: {_counts_text(ts.missing)}. Consulte el estado (GetStatusZip) "
            "o envíe los que faltan.",
        )
    if step is HabilitacionStep.SYNC_NUMBERING:
        if facts.production_ranges_synced:
            synced = facts.last_sync_at
            when = (
                f" (última sincronización {synced.astimezone(COLOMBIA_TZ):%d/%m/%Y %H:%M})"
                if synced
                else ""
            )
            return (
                True,
                "hecho",
                f"{facts.production_ranges_synced} rango(s) de producción sincronizados{when}.",
            )
        associated = checklist.check(HabilitacionStep.ASSOCIATE_PREFIXES)
        if associated is not None and now - associated.done_at < ASSOCIATION_DELAY:
            ready_at = (associated.done_at + ASSOCIATION_DELAY).astimezone(COLOMBIA_TZ)
            return (
                False,
                "en_espera",
                "La DIAN puede tardar unas 2 horas en publicar el rango después de asociar el "
                f"prefijo: sincronice después de las {ready_at:%H:%M} del {ready_at:%d/%m/%Y}.",
            )
        if company.software is None:
            return False, "bloqueado", "Falta el SoftwareID de la empresa para consultar la DIAN."
        return (
            False,
            "disponible",
            "Sincronice la numeración con la DIAN (ranges sync, ambiente de producción) para "
            "obtener la clave técnica.",
        )
    raise AssertionError(step)


def _manual_detail(step: HabilitacionStep, company: Company) -> tuple[StepState, str]:
    if step is HabilitacionStep.REGISTER:
        if company.reception_email is None:
            return (
                "bloqueado",
                "Falta el correo de recepción de facturas en los datos de la empresa; es el "
                "que se registra en el portal.",
            )
        return (
            "disponible",
            f"Regístrese como facturador en el portal de la DIAN con el correo "
            f"{company.reception_email} y marque el paso.",
        )
    hints = {
        HabilitacionStep.PRODUCTION_START: (
            "Indique en el portal la fecha desde la que facturará electrónicamente y regístrela."
        ),
        HabilitacionStep.RUT_52: (
            "Verifique que el RUT tenga la responsabilidad 52 «Facturador electrónico» "
            "(actualícelo si no) y marque el paso."
        ),
        HabilitacionStep.REQUEST_NUMBERING: (
            "Solicite la numeración en MUISCA (formulario 1876, «Autorizar rangos») y registre "
            "el número de la resolución."
        ),
        HabilitacionStep.ASSOCIATE_PREFIXES: (
            "Asocie el prefijo de la resolución al software en el portal (Configuración → "
            "Rangos de numeración) y marque el paso."
        ),
    }
    return "disponible", hints[step]


def habilitacion_status(
    company: Company,
    checklist: HabilitacionChecklist,
    facts: HabilitacionFacts,
    now: datetime,
) -> HabilitacionStatus:
    """Every step with its state, the next step and the next action, in Spanish.

    A step is *hecho* when checked off (manual) or when the facts show it
    (automatic); *bloqueado* when something of its own is missing (with the
    reason) or an earlier step is not done yet; *en_espera* when only time
    or DIAN can move it; *disponible* otherwise.
    """
    if checklist.company_nit != company.nit:
        raise InputError("la lista de habilitación es de otra empresa", field="company_nit")
    result: list[HabilitacionStepStatus] = []
    first_open: HabilitacionStep | None = None
    for step in HABILITACION_ORDER:
        base: dict[str, object] = {"step": step, "label": step.label, "manual": step.manual}
        if step.manual:
            record = checklist.check(step)
            if record is not None:
                detail = record.note
                if record.production_start is not None:
                    detail = f"Inicio en producción: {_fmt_date(record.production_start)}. {detail}"
                if record.reference:
                    detail = f"{record.reference}. {detail}"
                result.append(
                    HabilitacionStepStatus(
                        **base,  # type: ignore[arg-type]
                        state="hecho",
                        detail=detail.strip(),
                        done_at=record.done_at,
                        agent=record.agent,
                        note=record.note,
                    )
                )
                continue
            state, detail = _manual_detail(step, company)
        else:
            done, state, detail = _automatic(step, company, facts, checklist, now)
            if done:
                result.append(HabilitacionStepStatus(**base, state="hecho", detail=detail))  # type: ignore[arg-type]
                continue
        if first_open is not None and step not in ORDER_FREE_STEPS and state == "disponible":
            state = "bloqueado"
            detail = f"Primero: {first_open.label}. {detail}"
        if first_open is None:
            first_open = step
        result.append(HabilitacionStepStatus(**base, state=state, detail=detail))  # type: ignore[arg-type]
    if first_open is None:
        return HabilitacionStatus(
            company_nit=company.nit,
            steps=result,
            next_step=None,
            next_action="Habilitación completa: la empresa puede facturar en producción.",
            ready=True,
        )
    current = next(s for s in result if s.step is first_open)
    prefix = {
        "bloqueado": "Bloqueado",
        "en_espera": "En espera",
        "disponible": "Siguiente paso",
    }[current.state]
    return HabilitacionStatus(
        company_nit=company.nit,
        steps=result,
        next_step=first_open,
        next_action=f"{prefix} — {first_open.label}: {current.detail}",
        ready=False,
    )


def check_habilitacion_step(
    company: Company,
    checklist: HabilitacionChecklist,
    facts: HabilitacionFacts,
    step: HabilitacionStep,
    *,
    at: datetime,
    agent: str,
    note: str = "",
    production_start: date | None = None,
    reference: str | None = None,
) -> HabilitacionChecklist:
    """The checklist with the manual ``step`` checked off.

    Refused (Spanish) for an automatic step, a step already done, a step whose
    earlier steps are not done (but RUT 52, which may be checked any time) or
    that is blocked for a reason of its own. PRODUCTION_START needs the date;
    REQUEST_NUMBERING the resolution number (``reference``).
    """
    if not step.manual:
        raise InputError(
            f"«{step.label}» se marca solo, a partir de los datos (no se marca a mano)",
            field="step",
        )
    if checklist.check(step) is not None:
        raise InputError(f"el paso «{step.label}» ya está marcado", field="step")
    status = habilitacion_status(company, checklist, facts, at).step_status(step)
    if status.state != "disponible":
        raise InputError(f"no se puede marcar «{step.label}»: {status.detail}", field="step")
    if step is HabilitacionStep.PRODUCTION_START and production_start is None:
        raise InputError(
            "indique la fecha de inicio en producción (AAAA-MM-DD)", field="production_start"
        )
    if step is HabilitacionStep.REQUEST_NUMBERING and not (reference or "").strip():
        raise InputError(
            "indique el número de la resolución del formulario 1876", field="reference"
        )
    record = ManualCheck(
        step=step.value,
        done_at=at,
        agent=agent,
        note=note,
        production_start=production_start,
        reference=(reference or "").strip() or None,
    )
    return checklist.model_copy(update={"checks": [*checklist.checks, record]})


def uncheck_habilitacion_step(
    checklist: HabilitacionChecklist, step: HabilitacionStep
) -> HabilitacionChecklist:
    """The checklist without the mark of ``step`` (an agent's mistake undone)."""
    if checklist.check(step) is None:
        raise InputError(f"el paso «{step.label}» no está marcado", field="step")
    return checklist.model_copy(
        update={"checks": [c for c in checklist.checks if c.step != step.value]}
    )
