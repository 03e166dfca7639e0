"""One document as evidence: its detail for the console, and a zip bundle for DIAN or a client.

:func:`document_detail` gathers what a support agent needs about one document of
the queue: the ledger record and history, the signed XML and its totals (from
the send journal), every answer DIAN gave with each rule explained from the
catalogue (:mod:`fe_tui.dian.rules`) and the value the document holds at the
rule's XPath, and the SOAP request and answer with :func:`redact` applied.

:func:`export_bundle` writes the evidence zip (owner-only): the signed XML and
the package exactly as sent, every request and answer (redacted), the
ApplicationResponse(s) DIAN attached, the history and a manifest.

Secrets: the journal never holds a password or a private key (DESIGN invariant
4); :func:`redact` still blanks the WS-Security token, signature values, any
element that looks like a password or PIN, and the bulky base64 of the zip, so
what is shown or exported says what was sent without reproducing credentials.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fe_tui import ns, xmlsafe
from fe_tui.domain.money import format_money_text
from fe_tui.errors import FeError, InputError
from fe_tui.fileio import private_dir, write_private
from fe_tui.services.invoice_queue import STATE_LABELS, InvoiceQueue
from fe_tui.store.journal import Journal

_SECRET_ELEMENTS = re.compile(
    rb"(<(?:[\w.-]+:)?(BinarySecurityToken|SignatureValue|X509Certificate|Password|Nonce|"
    rb"[A-Za-z]*Pin|[A-Za-z]*PIN)\b[^>]*>)([^<]*)(</)",
)
NSMAP = {"cac": ns.CAC, "cbc": ns.CBC, "ext": ns.EXT}
_CONTENT_FILE = re.compile(rb"(<(?:[\w.-]+:)?contentFile\b[^>]*>)([^<]*)(</)")

#: The totals the detail view shows, by UBL element (LegalMonetaryTotal or RequestedMonetaryTotal).
TOTALS = (
    ("LineExtensionAmount", "Subtotal"),
    ("TaxExclusiveAmount", "Base gravable"),
    ("TaxInclusiveAmount", "Total con impuestos"),
    ("AllowanceTotalAmount", "Descuentos"),
    ("ChargeTotalAmount", "Cargos"),
    ("PayableAmount", "Total a pagar"),
)


def redact(xml: bytes) -> bytes:
    """``xml`` with credentials and signature material blanked, the zip's base64 shortened."""

    def secret(m: re.Match[bytes]) -> bytes:
        return m.group(1) + b"[oculto]" + m.group(4)

    def content(m: re.Match[bytes]) -> bytes:
        size = len(m.group(2).strip())
        return m.group(1) + f"[zip en base64, {size} caracteres]".encode() + m.group(3)

    return _CONTENT_FILE.sub(content, _SECRET_ELEMENTS.sub(secret, xml))


@dataclass
class ExplainedRuleView:
    """One rule of a DIAN answer, explained, with the document's value at its XPath."""

    code: str | None
    kind: str | None
    dian_text: str
    explanation: str | None
    fix: str | None
    xpath: str | None
    value: str | None  #: what the signed document holds there (``None``: not found / no XML)


@dataclass
class AnswerView:
    """One call to DIAN about the document."""

    time: str
    event: str  #: sent, status_check
    operation: str
    kind: str | None  #: outcome kind (accepted, rejected, …)
    message: str
    rules: list[ExplainedRuleView] = field(default_factory=list)
    request: bytes | None = None  #: redacted
    answer: bytes | None = None  #: redacted
    application_response: bytes | None = None
    track_id: str | None = None


@dataclass
class DocumentDetail:
    """Everything the detail view shows about one document."""

    record: dict[str, Any]
    state_label: str
    customer: str | None
    customer_id: str | None
    issue_date: str | None
    totals: list[tuple[str, str]]
    currency: str | None
    xml: bytes | None  #: signed XML as sent (``None``: not signed yet)
    answers: list[AnswerView]
    history: list[dict[str, Any]]
    journal_folder: Path | None

    @property
    def cufe(self) -> str | None:
        """The CUFE/CUDE (``None`` until signed)."""
        value = self.record.get("cufe")
        return value if isinstance(value, str) else None

    @property
    def track_id(self) -> str | None:
        """The last trackId (ZipKey) DIAN gave, if any."""
        ids = [a.track_id for a in self.answers if a.track_id]
        return ids[-1] if ids else None


def _value_at(root: Any, xpath: str | None) -> str | None:
    """The text at a catalogue XPath (``/Invoice/cac:X/cbc:Y``) in ``root``, or ``None``."""
    if root is None or not xpath or "*" in xpath.split("/")[1]:
        return None
    parts = xpath.split("/")[2:]
    if not parts:
        return None
    expr = "./" + "/".join(p for p in parts if p)
    try:
        found = root.xpath(expr, namespaces=NSMAP)
    except Exception:  # a catalogue XPath with a predicate we cannot evaluate: no value
        return None
    if not found:
        return None
    first = found[0]
    text = first if isinstance(first, str) else (first.text or "")
    text = " ".join(str(text).split())
    return text[:200] if text else None


def _totals(root: Any) -> tuple[list[tuple[str, str]], str | None]:
    if root is None:
        return [], None
    block = None
    for tag in ("cac:LegalMonetaryTotal", "cac:RequestedMonetaryTotal"):
        found = root.find(tag, NSMAP)
        if found is not None:
            block = found
            break
    if block is None:
        return [], None
    out, currency = [], None
    for name, label in TOTALS:
        el = block.find(f"cbc:{name}", NSMAP)
        if el is None or not el.text:
            continue
        currency = currency or el.get("currencyID")
        out.append((label, format_money_text(el.text)))
    return out, currency


def _answer_view(journal: Journal, key: str, ev: Any, root: Any) -> AnswerView:
    from fe_tui.services.checking import explain_answer

    raw = journal.answer(key, ev)
    request = journal.request(key, ev)
    rules: list[ExplainedRuleView] = []
    ar_xml = None
    message = str(ev.data.get("message") or "")
    if raw:
        try:
            explained = explain_answer(raw)
        except FeError:
            explained = None
        if explained is not None:
            message = message or explained.message
            for r in explained.rules:
                rules.append(
                    ExplainedRuleView(
                        r.code,
                        r.kind,
                        r.dian_text,
                        r.explanation,
                        r.fix,
                        r.xpath,
                        _value_at(root, r.xpath),
                    )
                )
            response = getattr(explained.outcome, "response", None)
            ar = getattr(response, "application_response", None)
            ar_xml = getattr(ar, "xml", None)
    track = ev.data.get("zip_key") or ev.data.get("track_id")
    return AnswerView(
        time=ev.time,
        event=ev.event,
        operation=str(ev.data.get("operation") or ""),
        kind=ev.kind,
        message=message,
        rules=rules,
        request=redact(request) if request else None,
        answer=redact(raw) if raw else None,
        application_response=ar_xml,
        track_id=track if isinstance(track, str) else None,
    )


def document_detail(queue: InvoiceQueue, doc_id: str) -> DocumentDetail:
    """The detail of ``doc_id`` (number, id or CUFE) in ``queue``."""
    data = queue.show(doc_id)
    rec = queue.ledger.find(doc_id)
    assert rec is not None  # show() found it
    customer = customer_id = None
    try:
        request = queue.ledger.request(rec)
        cust = (request.get("document") or {}).get("customer") or {}
        customer = cust.get("name")
        if cust.get("id_number"):
            dv = f"-{cust['dv']}" if cust.get("dv") else ""
            customer_id = f"{cust['id_number']}{dv}"
    except FeError:
        pass
    journal = Journal(queue.settings.state_dir, legacy=queue.settings.legacy_state_dir)
    xml: bytes | None = None
    root = None
    answers: list[AnswerView] = []
    folder = None
    cufe = data.get("cufe")
    if isinstance(cufe, str) and cufe:
        folder = journal.folder(cufe)
        path = folder / "document.xml"
        if path.is_file():
            xml = path.read_bytes()
            try:
                root = xmlsafe.parse_bytes(xml, what="el XML firmado")
            except FeError:
                root = None
        for ev in journal.events(cufe):
            if ev.event in ("sent", "status_check"):
                answers.append(_answer_view(journal, cufe, ev, root))
    totals, currency = _totals(root)
    return DocumentDetail(
        record=data,
        state_label=STATE_LABELS.get(str(data["state"]), str(data["state"])),
        customer=customer,
        customer_id=customer_id,
        issue_date=data.get("issue_date"),
        totals=totals,
        currency=currency,
        xml=xml,
        answers=answers,
        history=list(data.get("history") or []),
        journal_folder=folder,
    )


def bundle_bytes(detail: DocumentDetail) -> bytes:
    """The evidence zip of ``detail`` as bytes (see the module docstring)."""
    buf = io.BytesIO()
    manifest = [
        f"Evidencia del documento {detail.record['id']} ({detail.state_label})",
        f"CUFE/CUDE: {detail.cufe or '—'}",
        f"Generada: {datetime.now(UTC).isoformat(timespec='seconds')}",
        "Contenido:",
    ]
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:

        def add(name: str, content: bytes, what: str) -> None:
            zf.writestr(name, content)
            manifest.append(f"  {name}: {what}")

        if detail.xml is not None:
            add("documento-firmado.xml", detail.xml, "el XML firmado, exactamente como se envió")
        folder = detail.journal_folder
        if folder is not None and folder.is_dir():
            for z in sorted(folder.glob("*.zip")):
                add(f"paquete/{z.name}", z.read_bytes(), "el zip enviado a la DIAN")
        for i, answer in enumerate(detail.answers, 1):
            stem = f"llamadas/{i:02d}-{answer.operation or answer.event}"
            if answer.request is not None:
                add(
                    f"{stem}-peticion.xml",
                    answer.request,
                    "petición SOAP (datos sensibles ocultos)",
                )
            if answer.answer is not None:
                add(f"{stem}-respuesta.xml", answer.answer, "respuesta SOAP de la DIAN")
            if answer.application_response is not None:
                add(
                    f"{stem}-ApplicationResponse.xml",
                    answer.application_response,
                    "ApplicationResponse de la DIAN",
                )
        history = json.dumps(detail.history, ensure_ascii=False, indent=2, default=str)
        add("historia.json", history.encode("utf-8"), "cada cambio de estado del documento")
        rules = [
            {
                "llamada": a.time,
                "operacion": a.operation,
                "regla": r.code,
                "tipo": r.kind,
                "texto_dian": r.dian_text,
                "explicacion": r.explanation,
                "correccion": r.fix,
                "xpath": r.xpath,
                "valor_en_el_documento": r.value,
            }
            for a in detail.answers
            for r in a.rules
        ]
        if rules:
            text = json.dumps(rules, ensure_ascii=False, indent=2)
            add("reglas-explicadas.json", text.encode("utf-8"), "reglas de la DIAN explicadas")
        zf.writestr("LEAME.txt", ("\n".join(manifest) + "\n").encode("utf-8"))
    return buf.getvalue()


def export_bundle(detail: DocumentDetail, folder: Path) -> Path:
    """Write the evidence zip into ``folder`` (created 0700; the file 0600) and return its path."""
    if not detail.record.get("id"):
        raise InputError("No hay documento para exportar.")
    target = private_dir(folder)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe_id = re.sub(r"[^A-Za-z0-9_-]", "_", str(detail.record["id"]))
    path = target / f"evidencia-{safe_id}-{stamp}.zip"
    write_private(path, bundle_bytes(detail))
    return path
