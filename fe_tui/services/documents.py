"""Document use cases: build from JSON, sign, verify, recompute the CUFE/CUDE.

The CLI and the console call these; they never build XML or sign themselves.
Every function raises from :mod:`fe_tui.errors` with a Spanish message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from lxml import etree

from fe_tui import ns, xmlsafe
from fe_tui.crypto import xades
from fe_tui.crypto.certificates import LoadedCertificate, load_pkcs12_file
from fe_tui.crypto.verify import VerificationReport, verify_document
from fe_tui.domain.models import (
    COLOMBIA_TZ,
    DocumentRequest,
    load_document_request,
    validate_document_request,
)
from fe_tui.errors import InputError
from fe_tui.fileio import read_input
from fe_tui.ubl import builder, xsd
from fe_tui.ubl.reader import UuidCheck, diagnose_uuid, read_facts

MAX_JSON_BYTES = 5 * 1024 * 1024
MAX_P12_BYTES = 1024 * 1024


def load_request(path: str | Path) -> DocumentRequest:
    """Read and validate an invoice/note JSON file (format: docs/invoice-json.md)."""
    data = read_input(path, max_bytes=MAX_JSON_BYTES, what="El JSON")
    return load_document_request(data)


def issued_now(request: DocumentRequest, now: datetime | None = None) -> DocumentRequest:
    """The same request dated now (Colombian time, whole seconds), validated again.

    DIAN wants IssueDate to be the signing and transmission date (FAD09e), so a
    document re-issued after a rejection is re-dated, keeping its number.

    The due dates (``due_date``, ``payment.due_date``) move with the issue date,
    keeping the payment term (30 days stay 30 days): a due date is a term agreed
    with the buyer, not a day on the calendar. Every validator then runs again
    on the new date (resolution validity, due date not before issue, tax rates
    in force, credit note not before its invoice); a failure raises
    :class:`~fe_tui.errors.InputError` saying the re-dating caused it.
    """
    when = issue_moment(now)
    raw = redated(request.model_dump(mode="json"), when)
    return validate_document_request(
        raw, context=f"con la fecha de emisión {when:%Y-%m-%d} (--now), "
    )


def issue_moment(now: datetime | None = None) -> datetime:
    """``now`` (default: the clock) in Colombian time, whole seconds: an issue time."""
    return (now or datetime.now(COLOMBIA_TZ)).astimezone(COLOMBIA_TZ).replace(microsecond=0)


def redated(raw: dict[str, Any], when: datetime) -> dict[str, Any]:
    """The JSON data of a request (``model_dump(mode="json")``) dated ``when``, not validated.

    :func:`issued_now` without the model round trip, for callers that hold the data and
    validate it once afterwards (the queue): ``issue_at`` becomes ``when`` and the due
    dates move with it (see :func:`issued_now`). Returns a new dict; ``raw`` is unchanged.
    """
    document = dict(raw["document"])
    old = datetime.fromisoformat(str(document["issue_at"]))
    if old.tzinfo is not None:
        old = old.astimezone(COLOMBIA_TZ)
    shift = when.date() - old.date()
    document["issue_at"] = when.isoformat()
    if document.get("due_date"):
        document["due_date"] = (date.fromisoformat(document["due_date"]) + shift).isoformat()
    payment = document.get("payment")
    if isinstance(payment, dict) and payment.get("due_date"):
        document["payment"] = {
            **payment,
            "due_date": (date.fromisoformat(payment["due_date"]) + shift).isoformat(),
        }
    return {**raw, "document": document}


@dataclass(frozen=True)
class BuildResult:
    """A built, schema-valid, unsigned document."""

    document: builder.BuiltDocument
    xml: bytes


def build(request: DocumentRequest, *, validate: bool = True) -> BuildResult:
    """Build the UBL document and (by default) validate it against DIAN's XSDs."""
    built = builder.build(request)
    data = built.to_bytes()
    # One size policy (xmlsafe): what build writes can be signed, read back and sent.
    xmlsafe.check_document_size(len(data), "El XML de este documento")
    if validate:
        xsd.assert_valid(built.root, unsigned=True)
    return BuildResult(built, data)


def load_certificate(path: str | Path, password: str | None) -> LoadedCertificate:
    """Load a PKCS#12 file (legacy RC2/3DES included)."""
    return load_pkcs12_file(path, password)


def sign_xml(
    data: bytes,
    cert: LoadedCertificate,
    *,
    role: str = "supplier",
    digest: str = "sha256",
    signing_time: datetime | None = None,
    check_issue_date: bool = True,
) -> bytes:
    """Sign an unsigned DIAN document given as bytes (ours or from another builder)."""
    signed, _ = sign_xml_noting(
        data,
        cert,
        role=role,
        digest=digest,
        signing_time=signing_time,
        check_issue_date=check_issue_date,
    )
    return signed


def sign_xml_noting(
    data: bytes,
    cert: LoadedCertificate,
    *,
    role: str = "supplier",
    digest: str = "sha256",
    signing_time: datetime | None = None,
    check_issue_date: bool = True,
) -> tuple[bytes, list[str]]:
    """:func:`sign_xml`, plus what the person signing should know (Spanish warnings):
    the certificate's warnings as ``cert info`` gives them (about to expire, SHA-1,
    KeyUsage…), and that an existing signature was replaced (issue 14, item 12)."""
    xmlsafe.check_document_size(len(data), "Firmado, el documento")
    root = xmlsafe.parse_bytes(data, what="el XML a firmar")
    notes = list(cert.info(signing_time).warnings)
    if root.find(f"{{{ns.EXT}}}UBLExtensions//{{{ns.DS}}}Signature") is not None:
        notes.append(
            "El documento ya estaba firmado: su firma se reemplazó por una nueva (el contenido "
            "y el CUFE/CUDE no cambian). Si ya se envió a la DIAN, no lo reenvíe firmado de nuevo."
        )
    prepared = xades.prepare_for_signing(root)
    signed = sign_tree(
        prepared,
        cert,
        role=role,
        digest=digest,
        signing_time=signing_time,
        check_issue_date=check_issue_date,
    )
    return signed, notes


def sign_tree(
    root: etree._Element,
    cert: LoadedCertificate,
    *,
    role: str = "supplier",
    digest: str = "sha256",
    signing_time: datetime | None = None,
    check_issue_date: bool = True,
) -> bytes:
    """Sign a document tree we built (already compact, with an empty signature slot)."""
    return xades.sign(
        root,
        cert,
        role=role,
        digest=digest,
        signature=digest,
        signing_time=signing_time,
        check_issue_date=check_issue_date,
    )


@dataclass(frozen=True)
class VerifiedPart:
    """One signed document found in a file, with its verification report."""

    label: str  #: Spanish: "documento", "contenedor AttachedDocument", "factura adjunta"…
    report: VerificationReport


_EMBEDDED_LABELS = {
    "Invoice": "factura adjunta",
    "CreditNote": "nota crédito adjunta",
    "DebitNote": "nota débito adjunta",
    "ApplicationResponse": "ApplicationResponse adjunto (respuesta de la DIAN)",
}


def verify_file(path: str | Path) -> list[VerifiedPart]:
    """Verify the XAdES signature(s) of a DIAN document on disk.

    An AttachedDocument (what the buyer receives) carries the signed invoice
    and DIAN's signed ApplicationResponse as text inside it: each of them is
    verified too, after the container.
    """
    data, root = xmlsafe.read_file(path)
    report = verify_document(data)
    if etree.QName(root).localname != "AttachedDocument":
        return [VerifiedPart("documento", report)]
    parts = [VerifiedPart("contenedor AttachedDocument", report)]
    for description in root.iterfind(
        ".//cac:Attachment/cac:ExternalReference/cbc:Description", ns.XPATH
    ):
        text = (description.text or "").strip()
        if not text.startswith("<"):
            continue
        embedded = text.encode("utf-8")
        inner = xmlsafe.parse_bytes(embedded, what="el documento adjunto")
        label = _EMBEDDED_LABELS.get(etree.QName(inner).localname)
        if label is not None:
            parts.append(VerifiedPart(label, verify_document(embedded)))
    return parts


def check_uuid_file(path: str | Path, secret: str) -> UuidCheck:
    """Recompute a document's CUFE/CUDE with a technical key or PIN (never empty)."""
    if not secret.strip():
        raise InputError(
            "Falta la clave técnica (CUFE) o el PIN del software (CUDE): vino vacía.",
            field="key",
        )
    _, root = xmlsafe.read_file(path)
    return diagnose_uuid(read_facts(root), secret)
