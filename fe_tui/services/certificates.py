"""Certificate installation as use cases: inspect a candidate, prove it signs, switch.

``cert install`` (issue 11, seeds 000/001/002) is three steps, and the active
certificate stays untouched until all three pass:

1. :func:`inspect_candidate`: open the PKCS#12 (modern AES or legacy
   RC2/3DES), check the password, that the key matches the certificate, that
   the company's NIT (or, for a technology provider, the provider's) is in
   the subject, the validity dates, and note whether the chain is present.
   Each refusal is a :class:`~fe_tui.errors.CertificateError` with a Spanish
   reason; nothing is written.
2. :func:`probe_signature`: sign a small DIAN-shaped document with the
   candidate and verify it with :mod:`fe_tui.crypto.verify`.
3. :func:`fe_tui.domain.workflows.activate_certificate`: the new list of
   records (old active → replaced), which the store writes atomically.

:func:`install_candidate` runs the three in order. The password is used to
open the container and dropped; it is never part of a record or a message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree

from fe_tui import ns
from fe_tui.crypto import xades
from fe_tui.crypto.certificates import LoadedCertificate, load_pkcs12
from fe_tui.crypto.verify import VerificationReport, verify_document
from fe_tui.domain.certificate import CertificateInfo
from fe_tui.domain.colombia import COLOMBIA_TZ
from fe_tui.domain.company import Company, OperationMode
from fe_tui.domain.workflows import (
    CertificateRecord,
    CertificateState,
    activate_certificate,
)
from fe_tui.errors import CertificateError, InputError, SigningError, WrongCompanyCertificateError

__all__ = [
    "Candidate",
    "ProbeResult",
    "inspect_candidate",
    "install_candidate",
    "probe_signature",
]

_WEAK_HASHES = frozenset({"sha1", "md5"})


@dataclass(frozen=True, eq=False)
class Candidate:
    """A certificate that passed inspection, not yet active.

    ``loaded`` holds the private key in memory for the probe signature and
    the session; ``record`` is what the store keeps (public facts only).
    """

    loaded: LoadedCertificate = field(repr=False)
    info: CertificateInfo
    record: CertificateRecord

    def rejected(self, reason: str) -> CertificateRecord:
        """The record to keep when the candidate fails later (e.g. its probe signature)."""
        return self.record.model_copy(
            update={"state": CertificateState.REJECTED, "rejected_reason": reason[:2000]}
        )


@dataclass(frozen=True)
class ProbeResult:
    """The probe signature and its verification."""

    report: VerificationReport
    signed_bytes: int


def _accepted_nits(company: Company) -> set[str]:
    nits = {company.nit}
    if company.operation_mode is OperationMode.PROVIDER and company.software is not None:
        # A technology provider signs its clients' documents with its own certificate (SPEC §9).
        nits.add(company.software.provider_nit)
    return nits


def inspect_candidate(
    p12_bytes: bytes,
    password: str | bytes | None,
    company: Company,
    now: datetime,
    *,
    path: str,
    source: str | None = None,
) -> Candidate:
    """Open and check a PKCS#12 offered for ``company`` at ``now`` (aware).

    Returns the :class:`Candidate` (its record in state ``active``, as it will
    be once switched on) or raises, with a Spanish message:

    - :class:`~fe_tui.errors.WrongPasswordError`: the password does not open it;
    - :class:`~fe_tui.errors.NoPrivateKeyError`: only certificates inside;
    - :class:`~fe_tui.errors.KeyMismatchError`: the key is not the certificate's;
    - :class:`~fe_tui.errors.WrongCompanyCertificateError`: another company's NIT;
    - :class:`~fe_tui.errors.CertificateExpiredError` /
      :class:`~fe_tui.errors.CertificateNotYetValidError`: outside its validity;
    - :class:`~fe_tui.errors.CertificateError`: SHA-1/MD5 signed (DIAN refuses it),
      or unreadable (:class:`~fe_tui.errors.NotPkcs12Error`).

    A missing chain or KeyUsage problems are warnings kept in the record.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise InputError("la hora de referencia debe incluir zona horaria", field="now")
    label = source or "el certificado nuevo"
    loaded = load_pkcs12(p12_bytes, password, source=label)
    del password
    info = loaded.info(now)
    found = {c.nit for c in info.nit_candidates}
    accepted = _accepted_nits(company)
    if not found & accepted:
        shown = ", ".join(sorted(found)) if found else "ninguno"
        raise WrongCompanyCertificateError(
            f"El certificado «{info.subject_cn or info.subject}» no es de {company.label}: el NIT "
            f"de su sujeto es {shown}. Pida a la entidad certificadora el certificado de la "
            "empresa; el activo no se cambió.",
            reason="nit_mismatch",
            company_nit=company.nit,
            certificate_nits=sorted(found),
        )
    loaded.check_valid_at(now)
    if info.signature_hash_algorithm in _WEAK_HASHES:
        raise CertificateError(
            f"El certificado está firmado con {info.signature_hash_algorithm.upper()}; la DIAN "
            "lo rechaza. Pida a la entidad uno firmado con SHA-256.",
            reason="weak_hash",
        )
    nit = next((c.nit for c in info.nit_candidates if c.nit in accepted), None)
    warnings = [w for w in info.warnings if "vence" not in w]
    if not info.chain:
        warnings.append(
            "El archivo no trae la cadena de la entidad certificadora (certificados intermedio y "
            "raíz); la DIAN la valida (ZD06): pida el .p12 completo si hay rechazos de firma."
        )
    record = certificate_record(company, path, info, nit, now, warnings)
    return Candidate(loaded=loaded, info=info, record=record)


def certificate_record(
    company: Company,
    path: str,
    info: Any,
    nit: str | None,
    now: datetime,
    warnings: list[str],
) -> CertificateRecord:
    """The record of a certificate whose public facts are ``info`` (a ``CertificateInfo``)."""
    return CertificateRecord(
        company_nit=company.nit,
        path=path,
        sha256_fingerprint=info.sha256_fingerprint,
        subject=info.subject[:450],
        subject_cn=(info.subject_cn or None) and info.subject_cn[:450],
        issuer_cn=(info.issuer_cn or None) and info.issuer_cn[:450],
        serial_number=info.serial_number_hex,
        nit=nit,
        not_before=info.not_before,
        not_after=info.not_after,
        state=CertificateState.ACTIVE,
        installed_at=now,
        warnings=warnings,
    )


def _probe_document(now: datetime) -> etree._Element:
    """A minimal DIAN-shaped invoice with an empty signature slot (never sent anywhere)."""
    root = etree.Element(
        ns.q(ns.INVOICE, "Invoice"),
        nsmap={None: ns.INVOICE, "cbc": ns.CBC, "ext": ns.EXT},
    )
    exts = etree.SubElement(root, ns.q(ns.EXT, "UBLExtensions"))
    ext = etree.SubElement(exts, ns.q(ns.EXT, "UBLExtension"))
    etree.SubElement(ext, ns.q(ns.EXT, "ExtensionContent"))
    etree.SubElement(root, ns.q(ns.CBC, "ID")).text = "PRUEBAFIRMA1"
    day = now.astimezone(COLOMBIA_TZ).date().isoformat()
    etree.SubElement(root, ns.q(ns.CBC, "IssueDate")).text = day
    return xades.prepare_for_signing(root)


def probe_signature(loaded: LoadedCertificate, now: datetime) -> ProbeResult:
    """Sign a small document with ``loaded`` at ``now`` and verify it independently.

    :raises SigningError: the signature does not verify (the certificate must not
        become active); the message lists what failed.
    """
    signed = xades.sign(_probe_document(now), loaded, signing_time=now, check_issue_date=True)
    report = verify_document(signed, now=now)
    if not report.valid:
        problems = "; ".join(c.message for c in report.failed_checks()) or "sin detalle"
        raise SigningError(
            "La firma de prueba con el certificado nuevo no verificó; se deja el certificado "
            f"activo como estaba. Detalle: {problems}",
            reason="probe_failed",
        )
    if report.certificate_serial is not None and report.certificate_serial != str(
        loaded.certificate.serial_number
    ):
        raise SigningError(
            "La firma de prueba no lleva el certificado nuevo; se deja el activo como estaba.",
            reason="probe_wrong_certificate",
        )
    return ProbeResult(report=report, signed_bytes=len(signed))


def install_candidate(
    records: Sequence[CertificateRecord],
    p12_bytes: bytes,
    password: str | bytes | None,
    company: Company,
    now: datetime,
    *,
    path: str,
    source: str | None = None,
) -> tuple[Candidate, list[CertificateRecord]]:
    """Inspect, probe and switch: the candidate and the company's records after the switch.

    Any refusal raises before a record changes; the caller persists the list
    (one atomic replace) only when this returns.
    """
    candidate = inspect_candidate(p12_bytes, password, company, now, path=path, source=source)
    del password
    probe_signature(candidate.loaded, now)
    return candidate, activate_certificate(records, candidate.record, now)
