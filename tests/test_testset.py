"""Habilitación test set: the documents build and validate; a small set passes the simulator."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from fe_tui import ns
from fe_tui.crypto.certificates import LoadedCertificate
from fe_tui.dian import environments
from fe_tui.dian import outcomes as oc
from fe_tui.dian.client import DianClient
from fe_tui.dian.messages import DianResponse
from fe_tui.domain.colombia import COLOMBIA_TZ
from fe_tui.domain.company import OperationMode
from fe_tui.domain.models import CreditNote, DebitNote, Invoice
from fe_tui.domain.workflows import TestSetCounts, TestSetProgress
from fe_tui.errors import InputError
from fe_tui.services import documents
from fe_tui.services import testset as ts
from fe_tui.simulator import create_app, demo_config
from fe_tui.simulator.config import DEMO_TEST_SET_ID
from fe_tui.ubl import packaging
from tests.workflow_fixtures import NOW, company

FIRST = 990001001


def test_default_counts_follow_the_dian_guide() -> None:
    own = ts.DEFAULT_COUNTS[OperationMode.OWN_SOFTWARE]
    assert (own.invoices, own.credit_notes, own.debit_notes) == (60, 20, 20)
    free = ts.DEFAULT_COUNTS[OperationMode.DIAN_FREE]
    assert (free.invoices, free.credit_notes, free.debit_notes) == (10, 2, 2)


def test_full_default_set_builds_and_validates_against_the_xsd() -> None:
    invoices = ts.build_test_set_invoices(company(), NOW, first_number=FIRST)
    assert len(invoices) == 60
    numbers = [r.document.number for r in invoices]
    assert numbers == list(range(FIRST, FIRST + 60))
    accepted = []
    for request in invoices:
        assert isinstance(request.document, Invoice) and request.document.prefix == "SETP"
        assert request.environment == 2 and request.resolution is not None
        built = documents.build(request)  # validates against DIAN's XSDs
        accepted.append(ts.AcceptedInvoice.from_request(request, built.document.uuid))
    notes = ts.build_test_set_notes(company(), accepted, NOW + timedelta(hours=1))
    kinds = [type(n.document) for n in notes]
    assert kinds.count(CreditNote) == 20 and kinds.count(DebitNote) == 20
    for note in notes:
        built = documents.build(note)
        root = built.document.root
        ref = root.find(f".//{{{ns.CAC}}}InvoiceDocumentReference")
        assert ref is not None
        referenced = ref.findtext(f"{{{ns.CBC}}}ID")
        match = next(a for a in accepted if a.document_id == referenced)
        assert ref.findtext(f"{{{ns.CBC}}}UUID") == match.cufe
        assert note.document.prefix in ("NC", "ND")
    # Credit and debit notes spread over different invoices.
    refs = {n.document.billing_reference.number for n in notes}  # type: ignore[union-attr]
    assert len(refs) == 40


def test_counts_are_configurable_and_numbers_must_fit() -> None:
    small = TestSetCounts(invoices=3, credit_notes=1, debit_notes=0)
    assert len(ts.build_test_set_invoices(company(), NOW, first_number=FIRST, counts=small)) == 3
    with pytest.raises(InputError, match="no caben"):
        ts.build_test_set_invoices(company(), NOW, first_number=995000000, counts=small)
    with pytest.raises(InputError, match="emisor"):
        ts.build_test_set_invoices(company(issuer=None), NOW, first_number=FIRST)
    with pytest.raises(InputError, match="Detalles del set de pruebas"):
        ts.build_test_set_invoices(
            company(operation_mode=OperationMode.PROVIDER), NOW, first_number=FIRST
        )
    with pytest.raises(InputError, match="facturas aceptadas"):
        ts.build_test_set_notes(company(), [], NOW, counts=small)


def test_note_cannot_precede_its_invoice() -> None:
    (invoice,) = ts.build_test_set_invoices(
        company(), NOW, first_number=FIRST, counts=TestSetCounts(invoices=1)
    )
    facts = ts.AcceptedInvoice.from_request(invoice, "a" * 96)
    with pytest.raises(InputError, match="CBG06"):
        ts.note_request(company(), facts, "credit_note", number=1, issue_at=NOW - timedelta(days=1))


async def test_small_set_is_accepted_by_the_simulator(signing_cert: LoadedCertificate) -> None:
    """Invoices first, then notes referencing the accepted ones: DIAN says «Aceptado»."""
    counts = TestSetCounts(invoices=2, credit_notes=1, debit_notes=1)  # the demo set's counts
    now = datetime.now(COLOMBIA_TZ).replace(microsecond=0)
    env = environments.simulator("http://simulador/WcfDianCustomerServices.svc")
    transport = httpx.ASGITransport(app=create_app(demo_config()))
    consecutive = iter(range(1, 100))

    async def send(request, doc_type: str) -> tuple[oc.BatchStatus, str]:
        built = documents.build(request)
        signed = documents.sign_tree(built.document.root, signing_cert)
        package = packaging.pack(
            signed,
            document_type=doc_type,
            nit=company().nit,
            year=now.year,
            consecutive=next(consecutive),
        )
        queued = await dian.send_test_set_async(package, DEMO_TEST_SET_ID)
        assert isinstance(queued, oc.Queued), queued.message
        batch = await dian.get_status_zip(queued.zip_key)
        assert isinstance(batch, oc.BatchStatus)
        return batch, built.document.uuid

    progress = TestSetProgress(test_set_id=DEMO_TEST_SET_ID, required=counts)
    async with DianClient(env, signing_cert, transport=transport) as dian:
        accepted = []
        for request in ts.build_test_set_invoices(
            company(), now, first_number=FIRST, counts=counts
        ):
            batch, cufe = await send(request, "01")
            progress = ts.record_batch(progress, "01", batch)
            assert any(
                isinstance(i, oc.Accepted | oc.AcceptedWithNotifications) for i in batch.items
            ), [i.message for i in batch.items]
            accepted.append(ts.AcceptedInvoice.from_request(request, cufe))
        for note in ts.build_test_set_notes(company(), accepted, now, counts=counts):
            doc_type = "91" if isinstance(note.document, CreditNote) else "92"
            batch, _ = await send(note, doc_type)
            progress = ts.record_batch(progress, doc_type, batch)
    assert batch.test_set_accepted, [i.message for i in batch.items]
    assert progress.status == "aceptado" and progress.effective_status == "aceptado"
    assert progress.accepted == counts and progress.sent == counts
    assert progress.rejected.total == 0 and progress.missing.total == 0
    with pytest.raises(InputError, match="no cuenta"):
        ts.record_batch(progress, "05", batch)


def test_record_batch_counts_rejections_and_a_rejected_set() -> None:
    progress = TestSetProgress(
        test_set_id=DEMO_TEST_SET_ID, required=TestSetCounts(invoices=2, credit_notes=1)
    )
    rejected = DianResponse(is_valid=False, status_code="99", status_description="Rechazado")
    report = DianResponse(
        is_valid=False,
        status_code="00",
        status_message=(
            f"Set de prueba con identificador {DEMO_TEST_SET_ID} se encuentra Rechazado."
        ),
    )
    batch = oc.classify_batch([rejected, report])
    assert batch.test_set is not None and not batch.test_set_accepted
    after = ts.record_batch(progress, "91", batch)
    assert after.rejected.credit_notes == 1 and after.sent.credit_notes == 1
    assert after.accepted.total == 0 and after.status == "rechazado"
    assert after.effective_status == "rechazado"
    with pytest.raises(InputError, match="sigue en validación"):
        ts.record_batch(progress, "01", oc.classify_batch([]))
