"""A company's certificates in the store: install, status, renewal tracker, purchase checklist.

The pure rules live in :mod:`fe_tui.domain.workflows` and the checks of a
candidate in :mod:`fe_tui.services.certificates`; this module reads and writes
them per company (issue 11, item 2; seeds 000, 001, 002).

Store layout (table ``certificates``, one company per ``company_nit``):

- key ``workflow``: ``{"records": [CertificateRecord…], "renewal": RenewalRequest | null,
  "purchase": PurchaseChecklist | null}``, the company's whole certificate history;
- key ``active``: ``{"path", "state", "sha256_fingerprint"}``, the file the queue signs
  with (:func:`fe_tui.services.sessions.active_certificate_path` reads it). Both
  keys change in one store transaction.

Install (:func:`install_certificate`): the candidate is inspected (password,
key match, the company's NIT, validity, legacy RC2/3DES containers) and must
produce a probe signature that verifies; only then is a private copy written
to ``<data_dir>/companies/<NIT>/certificates/<fingerprint>.p12`` (0600) and the
switch made: the old active certificate stays in the records, marked replaced.
The copy is the default so the record survives the original file being
moved or deleted (``copy=False`` keeps the original path). The password is
used to open the file and dropped; it is never stored.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from fe_tui.crypto.certificates import MAX_PKCS12_BYTES
from fe_tui.domain.company import Company
from fe_tui.domain.models import _Model, format_validation_error
from fe_tui.domain.workflows import (
    DEFAULT_CERT_WARN_DAYS,
    MAX_LETTER_BYTES,
    CertificateRecord,
    CertificateState,
    CertificateStatus,
    LegalRepresentative,
    PurchaseChecklist,
    PurchaseStep,
    RenewalRequest,
    RenewalState,
    activate_certificate,
    active_certificate,
    certificate_status,
    check_signed_letter,
    colombian_date,
    purchase_next_action,
    renewal_notice,
    sort_by_urgency,
    start_renewal,
    update_renewal,
)
from fe_tui.domain.workflows import complete_purchase_step as _complete_step
from fe_tui.errors import CertificateError, InputError, SigningError
from fe_tui.fileio import private_dir, read_input, write_private
from fe_tui.services.certificates import inspect_candidate, probe_signature
from fe_tui.store.db import Store, StoreError

__all__ = [
    "TABLE",
    "WARN_DAYS_SETTING",
    "CertificateOverview",
    "InstallResult",
    "certificate_overview",
    "certificate_records",
    "certificate_statuses",
    "complete_purchase_step",
    "install_certificate",
    "purchase_checklist",
    "renewal_request",
    "track_renewal",
    "warn_days",
]

#: The store table of certificate records (and of the ``active`` pointer).
TABLE = "certificates"
_WORKFLOW = "workflow"
_ACTIVE = "active"
#: Store setting with the "Por vencer" window in days (default 30).
WARN_DAYS_SETTING = "cert_warn_days"


class CertificateOverview(_Model):
    """What the console and ``cert status`` show for one company."""

    company_nit: str
    company_label: str
    #: ``None`` only when a certificate file is configured but was never inspected
    #: (installed by an older fe-tui); otherwise Vigente / Por vencer / Vencido / Inválido.
    status: CertificateStatus | None
    active: CertificateRecord | None = None
    records: list[CertificateRecord]
    renewal: RenewalRequest | None = None
    purchase: PurchaseChecklist | None = None
    #: The renewal notice from month 11 of validity (seed 002), Spanish, or ``None``.
    notice: str | None = None
    #: What to do next in the purchase checklist (``None``: no checklist started).
    purchase_next: str | None = None


class InstallResult(_Model):
    """The outcome of :func:`install_certificate`."""

    record: CertificateRecord
    replaced: CertificateRecord | None = None
    #: ``True`` when the same certificate was already installed (it just became active again).
    reinstalled: bool = False


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None or now.utcoffset() is None:
        raise InputError("la hora de referencia debe incluir zona horaria", field="now")
    return now


def _workflow(store: Store, nit: str) -> dict[str, Any]:
    return store.get(TABLE, nit, _WORKFLOW) or {}


def _parse(model: Any, value: Any, what: str) -> Any:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise StoreError(
            f"Un registro de {what} en el almacén no es válido:\n{format_validation_error(exc)}"
        ) from None


def certificate_records(store: Store, nit: str) -> list[CertificateRecord]:
    """The company's certificates (active, replaced, rejected), oldest install first."""
    raw = _workflow(store, nit).get("records") or []
    records = [_parse(CertificateRecord, r, "certificado") for r in raw]
    return sorted(records, key=lambda r: r.installed_at)


def renewal_request(store: Store, nit: str) -> RenewalRequest | None:
    """The company's renewal request at the CA (seed 002), or ``None``."""
    raw = _workflow(store, nit).get("renewal")
    return None if raw is None else _parse(RenewalRequest, raw, "renovación")


def purchase_checklist(store: Store, nit: str) -> PurchaseChecklist | None:
    """The company's certificate purchase checklist (seed 001), or ``None``."""
    raw = _workflow(store, nit).get("purchase")
    return None if raw is None else _parse(PurchaseChecklist, raw, "compra de certificado")


def _save_workflow(store: Store, nit: str, **parts: Any) -> None:
    """Replace some parts of the company's certificate document (in the caller's transaction)."""
    doc = _workflow(store, nit)
    data = {
        "records": doc.get("records") or [],
        "renewal": doc.get("renewal"),
        "purchase": doc.get("purchase"),
    }
    for key, value in parts.items():
        if key == "records":
            data[key] = [r.model_dump(mode="json") for r in value]
        else:
            data[key] = None if value is None else value.model_dump(mode="json")
    store.put(TABLE, nit, _WORKFLOW, data)


def warn_days(store: Store, override: int | None = None) -> int:
    """The "Por vencer" window: ``override``, else the store setting, else 30 days."""
    if override is not None:
        if override < 0:
            raise InputError("Los días de aviso no pueden ser negativos.")
        return override
    value = store.setting(WARN_DAYS_SETTING, DEFAULT_CERT_WARN_DAYS)
    return value if isinstance(value, int) and value >= 0 else DEFAULT_CERT_WARN_DAYS


def _certificate_folder(store: Store, nit: str) -> Path:
    return private_dir(store.data_dir / "companies" / nit / "certificates")


def install_certificate(
    store: Store,
    company: Company,
    path: str | os.PathLike[str],
    password: str | bytes | None,
    now: datetime | None = None,
    *,
    copy: bool = True,
) -> InstallResult:
    """Install the PKCS#12 at ``path`` as ``company``'s signing certificate.

    The active certificate is untouched unless every check passes (see the
    module docstring); each refusal raises a
    :class:`~fe_tui.errors.CertificateError` (wrong or missing password, no
    private key, key mismatch, another company's NIT, expired, not yet valid,
    weak hash) or :class:`~fe_tui.errors.SigningError` (the probe signature did
    not verify; the candidate is then kept in the records as rejected), its
    Spanish message saying why and that the active certificate did not change.
    """
    moment = _now(now)
    source = Path(path)
    data = read_input(source, max_bytes=MAX_PKCS12_BYTES, what="El certificado")
    label = f"el archivo «{source.name}»"
    records = certificate_records(store, company.nit)
    current = active_certificate(records)
    kept = (
        f" El certificado activo (vence el {colombian_date(current.not_after):%d/%m/%Y}) "
        "sigue igual."
        if current is not None
        else " No se instaló nada."
    )
    try:
        candidate = inspect_candidate(
            data, password, company, moment, path=str(source.resolve()), source=label
        )
    except CertificateError as exc:
        raise type(exc)(exc.message.rstrip() + kept, **exc.fields) from None
    del password
    try:
        probe_signature(candidate.loaded, moment)
    except SigningError as exc:
        with store.transaction():
            rejected = candidate.rejected(exc.message)
            others = [r for r in records if r.sha256_fingerprint != rejected.sha256_fingerprint]
            _save_workflow(store, company.nit, records=[*others, rejected])
        raise SigningError(exc.message + kept, **exc.fields) from None
    record = candidate.record
    if copy:
        name = record.sha256_fingerprint.replace(":", "")[:32].lower() + ".p12"
        target = _certificate_folder(store, company.nit) / name
        write_private(target, data)
        record = record.model_copy(update={"path": str(target)})
    reinstalled = any(r.sha256_fingerprint == record.sha256_fingerprint for r in records)
    with store.transaction():
        # Re-read inside the lock: another process may have installed meanwhile.
        records = certificate_records(store, company.nit)
        previous = active_certificate(records)
        updated = activate_certificate(records, record, moment)
        _save_workflow(store, company.nit, records=updated)
        store.put(
            TABLE,
            company.nit,
            _ACTIVE,
            {
                "path": record.path,
                "state": CertificateState.ACTIVE.value,
                "sha256_fingerprint": record.sha256_fingerprint,
            },
        )
    replaced = (
        None
        if previous is None or previous.sha256_fingerprint == record.sha256_fingerprint
        else next(r for r in updated if r.sha256_fingerprint == previous.sha256_fingerprint)
    )
    return InstallResult(record=record, replaced=replaced, reinstalled=reinstalled)


def certificate_overview(
    store: Store,
    company: Company,
    now: datetime | None = None,
    *,
    warn: int | None = None,
) -> CertificateOverview:
    """The company's certificate picture at ``now``: status, records, renewal, purchase, notice.

    ``warn`` overrides the "Por vencer" window (:func:`warn_days`).
    """
    moment = _now(now)
    records = certificate_records(store, company.nit)
    active = active_certificate(records)
    renewal = renewal_request(store, company.nit)
    purchase = purchase_checklist(store, company.nit)
    pointer = store.get(TABLE, company.nit, _ACTIVE)
    status: CertificateStatus | None
    if active is None and pointer is not None and pointer.get("path"):
        # A file configured without a record (older fe-tui): its dates are unknown.
        status = None
        notice: str | None = (
            f"Hay un certificado configurado ({pointer['path']}) que no se ha revisado: "
            "instálelo con «fe-tui cert install» para controlar su vigencia."
        )
    else:
        status = certificate_status(company.nit, active, moment, warn_days=warn_days(store, warn))
        notice = renewal_notice(active, renewal, moment)
    return CertificateOverview(
        company_nit=company.nit,
        company_label=company.label,
        status=status,
        active=active,
        records=records,
        renewal=renewal,
        purchase=purchase,
        notice=notice,
        purchase_next=None if purchase is None else purchase_next_action(purchase),
    )


def certificate_statuses(
    store: Store, now: datetime | None = None, *, warn: int | None = None
) -> list[CertificateOverview]:
    """Every company's overview, the most urgent first (Vencido, Inválido, fewest days left)."""
    moment = _now(now)
    overviews = [certificate_overview(store, c, moment, warn=warn) for c in store.companies()]
    known = {o.company_nit: o for o in overviews if o.status is not None}
    ordered = [
        known[s.company_nit] for s in sort_by_urgency(o.status for o in known.values() if o.status)
    ]
    unknown = [o for o in overviews if o.status is None]
    return [*unknown, *ordered]


def track_renewal(
    store: Store,
    company: Company,
    state: RenewalState | str | None = None,
    *,
    agent: str,
    requested_on: date | None = None,
    observaciones: str = "",
    ca_name: str | None = None,
    now: datetime | None = None,
) -> RenewalRequest:
    """Start or move the company's renewal request at the CA (seed 002).

    Without an open request (none, or the last one Completado), ``state``
    ``None`` or En trámite starts a new one requested on ``requested_on``
    (default: today in Colombia). With an open one, ``state`` moves it:
    En trámite → Rechazado (``observaciones`` required) or Completado;
    Rechazado → En trámite (documents corrected and sent again).
    """
    moment = _now(now)
    wanted = None if state is None else RenewalState(state)
    with store.transaction():
        current = renewal_request(store, company.nit)
        if current is None or not current.open:
            if wanted not in (None, RenewalState.EN_TRAMITE):
                raise InputError(
                    "No hay una solicitud de renovación en curso: iníciela primero "
                    "(«fe-tui cert track --state en_tramite»)."
                )
            request = start_renewal(
                company.nit,
                requested_on or colombian_date(moment),
                at=moment,
                agent=agent,
                ca_name=ca_name,
                note=observaciones,
            )
        else:
            if wanted is None:
                raise InputError(
                    f"La solicitud del {current.requested_on:%d/%m/%Y} está "
                    f"«{current.state.label}»; "
                    "indique el nuevo estado (--state rechazado|completado|en_tramite)."
                )
            request = update_renewal(
                current, wanted, at=moment, agent=agent, observaciones=observaciones
            )
            changes: dict[str, Any] = {}
            if ca_name:
                changes["ca_name"] = ca_name
            if requested_on is not None and wanted is RenewalState.EN_TRAMITE:
                changes["requested_on"] = requested_on
            if changes:
                request = request.model_copy(update=changes)
        _save_workflow(store, company.nit, renewal=request)
    return request


def complete_purchase_step(
    store: Store,
    company: Company,
    step: PurchaseStep | str,
    *,
    agent: str,
    note: str = "",
    legal_representative: LegalRepresentative | None = None,
    letter: str | os.PathLike[str] | None = None,
    now: datetime | None = None,
) -> PurchaseChecklist:
    """Check off ``step`` of the company's purchase checklist (seed 001), in order.

    The legal representative step needs ``legal_representative``; the signed
    letter step needs ``letter``, a PDF of at most 1 MB (checked; only its
    name, size and SHA-256 are kept).
    """
    moment = _now(now)
    chosen = PurchaseStep(step)
    signed = None
    if letter is not None:
        file = Path(letter)
        data = read_input(file, max_bytes=MAX_LETTER_BYTES * 8, what="La carta")
        signed = check_signed_letter(file.name, data)
    with store.transaction():
        checklist = purchase_checklist(store, company.nit) or PurchaseChecklist(
            company_nit=company.nit
        )
        updated = _complete_step(
            checklist,
            chosen,
            at=moment,
            agent=agent,
            note=note,
            legal_representative=legal_representative,
            letter=signed,
        )
        _save_workflow(store, company.nit, purchase=updated)
    return updated
