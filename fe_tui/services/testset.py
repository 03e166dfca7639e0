"""The habilitación test set as document requests (SPEC §7.2).

DIAN's set asks for a number of accepted invoices, credit notes and debit
notes per operation mode (:data:`DEFAULT_COUNTS`, the 2019 DIAN guide's
figures; the real counts are the set's own configuration in the portal, so
every function takes ``counts``). Invoices are sent first; notes reference
invoices DIAN already *accepted* (rule CBG04a) by number, CUFE and date, so
they are made later, from :class:`AcceptedInvoice` facts, with
:func:`note_request` / :func:`build_test_set_notes`.

Numbers: invoices take consecutive numbers of the test resolution from
``first_number`` (the numbering allocator supplies it); notes use their own
prefixes (``NC``/``ND`` by default, distinct from the invoice prefix, SPEC
§2.10) and their own consecutives. Every request is
:class:`~fe_tui.domain.models.DocumentRequest` in the habilitación
environment (ProfileExecutionID 2) and builds and validates against DIAN's
XSDs with :func:`fe_tui.services.documents.build`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from fe_tui.dian import outcomes as oc
from fe_tui.domain.colombia import COLOMBIA_TZ, HABILITACION_TEST_KEY
from fe_tui.domain.company import Company, OperationMode
from fe_tui.domain.models import (
    BillingReference,
    CreditNote,
    Customer,
    DebitNote,
    DocumentRequest,
    Environment,
    Invoice,
    Issuer,
    Line,
    PaymentMeans,
    Resolution,
    Software,
    _Model,
)
from fe_tui.domain.workflows import TestSetCounts, TestSetProgress
from fe_tui.errors import InputError

__all__ = [
    "DEFAULT_COUNTS",
    "record_batch",
    "AcceptedInvoice",
    "default_test_resolution",
    "note_request",
    "build_test_set_invoices",
    "build_test_set_notes",
]

#: Accepted documents a set requires by operation mode (2019 DIAN habilitación guide).
DEFAULT_COUNTS: dict[OperationMode, TestSetCounts] = {
    OperationMode.OWN_SOFTWARE: TestSetCounts(invoices=60, credit_notes=20, debit_notes=20),
    OperationMode.PROVIDER: TestSetCounts(invoices=60, credit_notes=20, debit_notes=20),
    OperationMode.DIAN_FREE: TestSetCounts(invoices=10, credit_notes=2, debit_notes=2),
}

NoteKind = Literal["credit_note", "debit_note"]


def default_test_resolution(company: Company) -> Resolution:
    """The habilitación test numbering (SPEC §7.1) when the portal's values are not at hand.

    Only the own-software one is published (SETP 990000000–995000000,
    resolution 18760000001, DIAN's public test key); for other modes read
    the values from "Detalles del set de pruebas" in the portal.
    """
    if company.operation_mode is not OperationMode.OWN_SOFTWARE:
        raise InputError(
            f"para el modo «{company.operation_mode.label}» la numeración de pruebas no es "
            "pública: copie prefijo, rango, resolución y clave técnica de «Detalles del set de "
            "pruebas» en el portal de habilitación",
            field="resolution",
        )
    return Resolution(
        number="18760000001",
        date=date(2019, 1, 19),
        prefix="SETP",
        from_number=990000000,
        to_number=995000000,
        valid_from=date(2019, 1, 19),
        valid_to=date(2030, 1, 19),
        technical_key=HABILITACION_TEST_KEY,
    )


def _require_setup(company: Company) -> tuple[Issuer, Software]:
    if company.issuer is None:
        raise InputError(
            f"faltan los datos del emisor de {company.label} (dirección, responsabilidades, "
            "correo) para generar el set de pruebas",
            field="issuer",
        )
    if company.software is None:
        raise InputError(
            f"falta el software de {company.label} (SoftwareID y PIN) para generar el set de "
            "pruebas",
            field="software",
        )
    return company.issuer, company.software


#: A few line shapes so the set exercises IVA 19 %, IVA 5 %, excluded lines and discounts.
_LINES: tuple[dict[str, object], ...] = (
    {
        "description": "Servicio de soporte técnico (prueba de habilitación)",
        "quantity": "1",
        "unit_price": "100000.00",
        "taxes": [{"scheme": "01", "percent": "19"}],
    },
    {
        "description": "Producto gravado al 5 % (prueba de habilitación)",
        "quantity": "3",
        "unit_price": "12500.00",
        "taxes": [{"scheme": "01", "percent": "5"}],
    },
    {
        "description": "Producto excluido de IVA (prueba de habilitación)",
        "quantity": "2",
        "unit_price": "8000.00",
        "excluded": True,
    },
    {
        "description": "Producto con descuento (prueba de habilitación)",
        "quantity": "4",
        "unit_price": "25000.00",
        "allowances_charges": [{"percent": "10", "reason": "Descuento comercial"}],
        "taxes": [{"scheme": "01", "percent": "19"}],
    },
)


def _lines(index: int) -> list[Line]:
    first = _LINES[index % len(_LINES)]
    chosen = [first] if index % 3 else [first, _LINES[(index + 1) % len(_LINES)]]
    return [Line.model_validate(line) for line in chosen]


def _colombian(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InputError("la fecha de expedición debe incluir zona horaria", field="issue_at")
    return moment.astimezone(COLOMBIA_TZ).replace(microsecond=0)


def build_test_set_invoices(
    company: Company,
    issue_at: datetime,
    *,
    first_number: int,
    counts: TestSetCounts | None = None,
    resolution: Resolution | None = None,
    customer: Customer | None = None,
) -> list[DocumentRequest]:
    """The invoices of the set: ``counts.invoices`` consecutive numbers from ``first_number``.

    ``resolution`` defaults to :func:`default_test_resolution`; ``customer`` to
    the final consumer. Raises :class:`~fe_tui.errors.InputError` (Spanish)
    when the company lacks issuer or software data, or the numbers do not fit
    the range.
    """
    issuer, software = _require_setup(company)
    wanted = (counts or DEFAULT_COUNTS[company.operation_mode]).invoices
    res = resolution or default_test_resolution(company)
    last = first_number + wanted - 1
    if wanted and not (res.contains(first_number) and res.contains(last)):
        raise InputError(
            f"los números {first_number} a {last} no caben en el rango de pruebas "
            f"{res.from_number}–{res.to_number} (resolución {res.number})",
            field="first_number",
        )
    when = _colombian(issue_at)
    buyer = customer or Customer.final_consumer()
    requests = []
    for i in range(wanted):
        payment = (
            PaymentMeans(form="2", method_code="42", due_date=when.date())
            if i % 4 == 3
            else PaymentMeans()
        )
        invoice = Invoice(
            kind="invoice",
            prefix=res.prefix,
            number=first_number + i,
            issue_at=when,
            customer=buyer,
            lines=_lines(i),
            payment=payment,
            notes=[f"Documento {i + 1} de {wanted} del set de pruebas de habilitación."],
        )
        requests.append(
            DocumentRequest(
                environment=Environment.HABILITACION,
                issuer=issuer,
                software=software,
                resolution=res,
                document=invoice,
            )
        )
    return requests


class AcceptedInvoice(_Model):
    """What a note needs of an invoice DIAN accepted."""

    document_id: str = Field(min_length=1, max_length=20)
    cufe: str = Field(pattern=r"^[0-9a-fA-F]{96}$")
    issue_date: date
    customer: Customer
    lines: list[Line] = Field(min_length=1)

    @classmethod
    def from_request(cls, request: DocumentRequest, cufe: str) -> AcceptedInvoice:
        """From the invoice's request and the CUFE DIAN accepted."""
        doc = request.document
        if not isinstance(doc, Invoice):
            raise InputError("solo una factura puede referenciarse desde una nota", field="kind")
        return cls(
            document_id=doc.document_id,
            cufe=cufe,
            issue_date=doc.issue_date,
            customer=doc.customer,
            lines=doc.lines,
        )


def note_request(
    company: Company,
    invoice: AcceptedInvoice,
    kind: NoteKind,
    *,
    number: int,
    issue_at: datetime,
    prefix: str | None = None,
    concept_code: str | None = None,
    environment: Environment = Environment.HABILITACION,
) -> DocumentRequest:
    """A credit or debit note that references ``invoice`` by number, CUFE and date.

    Credit note: concept 1 (partial return) of one unit of the invoice's
    first line. Debit note: concept 3 (change of value), 10 % of that unit's
    price. ``prefix`` defaults to ``NC``/``ND``.
    """
    issuer, software = _require_setup(company)
    when = _colombian(issue_at)
    if when.date() < invoice.issue_date:
        raise InputError(
            f"la nota ({when.date()}) no puede ser anterior a la factura {invoice.document_id} "
            f"({invoice.issue_date}; regla CBG06)",
            field="issue_at",
        )
    reference = BillingReference(
        number=invoice.document_id, uuid=invoice.cufe, issue_date=invoice.issue_date
    )
    base = invoice.lines[0]
    line_data = base.model_dump(exclude={"quantity", "base_quantity"}, exclude_none=True)
    if kind == "debit_note":
        line_data["unit_price"] = (base.unit_price / 10).quantize(Decimal("0.01"))
        line_data["allowances_charges"] = []
        line_data["description"] = f"Ajuste de valor: {base.description}"[:450]
    line = Line.model_validate({**line_data, "quantity": Decimal(1)})
    common = {
        "number": number,
        "issue_at": when,
        "customer": invoice.customer,
        "lines": [line],
        "billing_reference": reference,
    }
    note: CreditNote | DebitNote
    if kind == "credit_note":
        note = CreditNote(
            kind="credit_note",
            prefix="NC" if prefix is None else prefix,
            concept_code=concept_code or "1",
            **common,  # type: ignore[arg-type]
        )
    else:
        note = DebitNote(
            kind="debit_note",
            prefix="ND" if prefix is None else prefix,
            concept_code=concept_code or "3",
            **common,  # type: ignore[arg-type]
        )
    return DocumentRequest(environment=environment, issuer=issuer, software=software, document=note)


def build_test_set_notes(
    company: Company,
    accepted: Sequence[AcceptedInvoice],
    issue_at: datetime,
    *,
    first_credit_number: int = 1,
    first_debit_number: int = 1,
    counts: TestSetCounts | None = None,
) -> list[DocumentRequest]:
    """The set's credit and debit notes, spread over the accepted invoices in turn."""
    wanted = counts or DEFAULT_COUNTS[company.operation_mode]
    needed = wanted.credit_notes + wanted.debit_notes
    if needed and not accepted:
        raise InputError(
            "las notas del set deben referenciar facturas aceptadas por la DIAN: envíe primero "
            "las facturas y espere su validación",
            field="accepted",
        )
    notes = []
    for i in range(wanted.credit_notes):
        notes.append(
            note_request(
                company,
                accepted[i % len(accepted)],
                "credit_note",
                number=first_credit_number + i,
                issue_at=issue_at,
            )
        )
    for i in range(wanted.debit_notes):
        notes.append(
            note_request(
                company,
                accepted[(wanted.credit_notes + i) % len(accepted)],
                "debit_note",
                number=first_debit_number + i,
                issue_at=issue_at,
            )
        )
    return notes


_GROUPS = {"01": "invoices", "02": "invoices", "03": "invoices", "04": "invoices"}
_GROUPS.update({"91": "credit_notes", "92": "debit_notes"})


def _bump(counts: TestSetCounts, group: str) -> TestSetCounts:
    return counts.model_copy(update={group: getattr(counts, group) + 1})


def record_batch(
    progress: TestSetProgress, document_type: str, batch: oc.BatchStatus
) -> TestSetProgress:
    """The set's progress after the *final* GetStatusZip answer for one sent document.

    Counts the document as sent, then accepted or rejected by its type (01–04
    invoices, 91 credit notes, 92 debit notes, as DIAN's UpdateTestSetResult
    does), and takes DIAN's word on the whole set («Set de prueba … se
    encuentra Aceptado/Rechazado») when the batch carries it. Call it once per
    document, with a batch that is no longer in process; an
    AlreadyProcessed answer (Regla 90) is not counted again.
    """
    group = _GROUPS.get(document_type)
    if group is None:
        raise InputError(
            f"tipo de documento {document_type!r} no cuenta para el set de pruebas "
            "(01–04 facturas, 91 notas crédito, 92 notas débito)",
            field="document_type",
        )
    if batch.in_process:
        raise InputError(
            "el lote sigue en validación: consulte GetStatusZip de nuevo antes de contarlo",
            field="batch",
        )
    items = [i for i in batch.items if not isinstance(i, oc.TestSetStatus)]
    if any(isinstance(i, oc.AlreadyProcessed) for i in items):
        updated = progress
    else:
        update: dict[str, TestSetCounts] = {"sent": _bump(progress.sent, group)}
        if any(isinstance(i, oc.Accepted | oc.AcceptedWithNotifications) for i in items):
            update["accepted"] = _bump(progress.accepted, group)
        elif any(isinstance(i, oc.Rejected) for i in items):
            update["rejected"] = _bump(progress.rejected, group)
        updated = progress.model_copy(update=update)
    report = batch.test_set
    if report is not None:
        text = f"{report.response.status_message or ''} {report.response.status_description or ''}"
        if report.accepted:
            updated = updated.model_copy(update={"status": "aceptado"})
        elif "rechazado" in text.lower():
            updated = updated.model_copy(update={"status": "rechazado"})
        else:
            updated = updated.model_copy(update={"status": "en_proceso"})
    return updated
