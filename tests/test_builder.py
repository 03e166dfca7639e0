"""UBL builders: schema validity, DIAN's arithmetic read back from the XML, CUFE/CUDE."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from fe_tui import ns
from fe_tui.domain.models import COLOMBIA_TZ, DocumentRequest, Line
from fe_tui.ubl import builder, xsd
from fe_tui.ubl.reader import diagnose_uuid, read_facts
from tests.conftest import example_request

P = ns.XPATH
TEST_KEY = "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c"


def amounts(root: etree._Element, path: str) -> list[Decimal]:
    return [Decimal(x.text) for x in root.findall(path, P)]


def check_dian_arithmetic(root: etree._Element) -> None:
    """The FAU/FAS consistency rules, checked on what the XML says (not on our models)."""
    total_tag = "RequestedMonetaryTotal" if root.tag.endswith("DebitNote") else "LegalMonetaryTotal"
    line_tag = etree.QName(root).localname + "Line"
    mt = root.find(f"cac:{total_tag}", P)
    assert mt is not None
    get = {etree.QName(el).localname: Decimal(el.text) for el in mt}
    lines = root.findall(f"cac:{line_tag}", P)
    # FAV01: consecutive line IDs from 1; LineCountNumeric
    assert [ln.findtext("cbc:ID", namespaces=P) for ln in lines] == [
        str(i) for i in range(1, len(lines) + 1)
    ]
    assert root.findtext("cbc:LineCountNumeric", namespaces=P) == str(len(lines))
    # FAU02
    assert get["LineExtensionAmount"] == sum(
        (Decimal(ln.findtext("cbc:LineExtensionAmount", namespaces=P)) for ln in lines), Decimal(0)
    )
    # FAU04: taxable bases of taxed lines, counted once per line
    bases = Decimal(0)
    for ln in lines:
        subtotal_bases = {
            Decimal(x.text) for x in ln.findall("cac:TaxTotal/cac:TaxSubtotal/cbc:TaxableAmount", P)
        }
        bases += max(subtotal_bases) if subtotal_bases else Decimal(0)
    assert get["TaxExclusiveAmount"] == bases
    # FAU06 and FAS: header taxes are the sums of their subtotals and of the lines
    header_taxes = amounts(root, "cac:TaxTotal/cbc:TaxAmount")
    assert get["TaxInclusiveAmount"] == get["LineExtensionAmount"] + sum(header_taxes, Decimal(0))
    for tt in root.findall("cac:TaxTotal", P):
        assert Decimal(tt.findtext("cbc:TaxAmount", namespaces=P)) == sum(
            amounts(tt, "cac:TaxSubtotal/cbc:TaxAmount"), Decimal(0)
        )
        scheme = tt.findtext("cac:TaxSubtotal/cac:TaxCategory/cac:TaxScheme/cbc:ID", namespaces=P)
        line_sum = sum(
            (
                Decimal(x.findtext("cbc:TaxAmount", namespaces=P))
                for ln in lines
                for x in ln.findall("cac:TaxTotal", P)
                if x.findtext("cac:TaxSubtotal/cac:TaxCategory/cac:TaxScheme/cbc:ID", namespaces=P)
                == scheme
            ),
            Decimal(0),
        )
        assert Decimal(tt.findtext("cbc:TaxAmount", namespaces=P)) == line_sum
    # FAU14
    assert get["PayableAmount"] == (
        get["TaxInclusiveAmount"] - get["AllowanceTotalAmount"] + get["ChargeTotalAmount"]
    )
    # VLR01: no negative amounts
    for el in root.iter():
        if el.get("currencyID") is not None:
            assert Decimal(el.text) >= 0, etree.QName(el).localname


@pytest.mark.parametrize(
    ("name", "root_name", "scheme"),
    [
        ("factura", "Invoice", "CUFE-SHA384"),
        ("factura-consumidor-final", "Invoice", "CUFE-SHA384"),
        ("nota-credito", "CreditNote", "CUDE-SHA384"),
        ("nota-debito", "DebitNote", "CUDE-SHA384"),
    ],
)
def test_examples_build_valid_and_consistent(name: str, root_name: str, scheme: str) -> None:
    req = example_request(name)
    built = builder.build(req)
    root = built.root
    assert etree.QName(root).localname == root_name
    assert xsd.schema_errors(root, unsigned=True) == []
    check_dian_arithmetic(root)
    uuid = root.find("cbc:UUID", P)
    assert uuid is not None and uuid.get("schemeName") == scheme and uuid.get("schemeID") == "2"
    # The CUFE/CUDE re-read from the XML (by an independent reader) matches.
    facts = read_facts(root)
    secret = req.software.pin if scheme.startswith("CUDE") else TEST_KEY
    assert diagnose_uuid(facts, secret).matches
    # compact: no whitespace-only text nodes
    assert b">\n" not in built.to_bytes() and b">  <" not in built.to_bytes()


def test_invoice_dian_extension_and_header() -> None:
    req = example_request("factura")
    root = builder.build(req).root
    sts = {"sts": ns.STS, **P}
    assert root.findtext(".//sts:InvoiceAuthorization", namespaces=sts) == "18760000001"
    assert root.findtext(".//sts:AuthorizedInvoices/sts:Prefix", namespaces=sts) == "SETP"
    assert root.findtext(".//sts:AuthorizationProviderID", namespaces=sts) == "800197268"
    ssc = root.findtext(".//sts:SoftwareSecurityCode", namespaces=sts)
    assert ssc is not None and len(ssc) == 96
    qr = root.findtext(".//sts:QRCode", namespaces=sts)
    uuid = root.findtext("cbc:UUID", namespaces=P)
    assert qr == f"https://catalogo-vpfe-hab.dian.gov.co/document/searchqr?documentkey={uuid}"
    assert root.findtext("cbc:ProfileID", namespaces=P) == "DIAN 2.1: Factura Electrónica de Venta"
    assert root.findtext("cbc:ProfileExecutionID", namespaces=P) == "2"
    time = root.findtext("cbc:IssueTime", namespaces=P)
    assert time is not None and time.endswith("-05:00")
    # second UBLExtension is the empty slot for ds:Signature
    slot = root.find("ext:UBLExtensions/ext:UBLExtension[2]/ext:ExtensionContent", P)
    assert slot is not None and len(slot) == 0


def test_notes_reference_the_invoice_and_have_no_invoice_control() -> None:
    for name, concept in (("nota-credito", "1"), ("nota-debito", "1")):
        root = builder.build(example_request(name)).root
        assert root.find(".//{*}InvoiceControl") is None
        assert root.findtext("cac:DiscrepancyResponse/cbc:ResponseCode", namespaces=P) == concept
        ref = root.find("cac:BillingReference/cac:InvoiceDocumentReference", P)
        assert ref is not None
        assert ref.findtext("cbc:ID", namespaces=P) == "SETP990000001"
        assert len(ref.findtext("cbc:UUID", namespaces=P) or "") == 96
    debit = builder.build(example_request("nota-debito")).root
    assert debit.find("cac:RequestedMonetaryTotal", P) is not None
    assert debit.find("cac:LegalMonetaryTotal", P) is None


def test_final_consumer_identification() -> None:
    root = builder.build(example_request("factura-consumidor-final")).root
    cid = root.find("cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID", P)
    assert cid is not None and cid.text == "222222222222" and cid.get("schemeName") == "13"
    assert (
        root.findtext(
            "cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme/cbc:TaxLevelCode",
            namespaces=P,
        )
        == "R-99-PN"
    )


_prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2)
_quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("9999"), places=3)
_taxes = st.sampled_from(
    [
        [],  # excluded
        [{"scheme": "01", "percent": "19"}],
        [{"scheme": "01", "percent": "5"}],
        [{"scheme": "01", "percent": "0"}],  # exento
        [{"scheme": "04", "percent": "8"}],
        [{"scheme": "01", "percent": "19"}, {"scheme": "04", "percent": "8"}],
    ]
)


@st.composite
def _line(draw: st.DrawFn) -> dict[str, object]:
    taxes = draw(_taxes)
    line: dict[str, object] = {
        "description": "Producto de prueba",
        "quantity": str(draw(_quantities)),
        "unit_code": draw(st.sampled_from(["94", "KGM", "LTR", "HUR"])),
        "unit_price": str(draw(_prices)),
        "taxes": taxes,
        "excluded": not taxes,
    }
    if draw(st.booleans()):
        line["allowances_charges"] = [
            {"is_charge": False, "percent": str(draw(st.integers(1, 50))), "reason": "Descuento"}
        ]
    return line


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    lines=st.lists(_line(), min_size=1, max_size=6),
    kind=st.sampled_from(["factura", "nota-credito", "nota-debito"]),
)
def test_generated_documents_are_schema_valid_and_add_up(
    lines: list[dict[str, object]], kind: str
) -> None:
    base = example_request(kind, issue_at=datetime(2026, 11, 20, 9, 0, tzinfo=COLOMBIA_TZ))
    doc = base.document.model_copy(update={"lines": [Line.model_validate(x) for x in lines]})
    req = DocumentRequest.model_validate(
        base.model_copy(update={"document": doc}).model_dump(mode="json")
    )
    built = builder.build(req)
    assert xsd.schema_errors(built.root, unsigned=True) == []
    check_dian_arithmetic(built.root)
    facts = read_facts(built.root)
    secret = req.software.pin if built.document_type in ("91", "92") else TEST_KEY
    assert diagnose_uuid(facts, secret).matches


@pytest.mark.parametrize(
    ("type_code", "currency", "rate"),
    [("04", "COP", None), ("02", "USD", "4012.35")],
    ids=["contingency-04", "export-02-usd"],
)
def test_contingency_and_export_invoices(type_code: str, currency: str, rate: str | None) -> None:
    base = example_request("factura")
    update: dict[str, object] = {"type_code": type_code, "currency": currency}
    if rate:
        update["exchange_rate"] = Decimal(rate)
    doc = base.document.model_copy(update=update)
    req = DocumentRequest.model_validate(
        base.model_copy(update={"document": doc}).model_dump(mode="json")
    )
    root = builder.build(req).root
    assert xsd.schema_errors(root, unsigned=True) == []
    assert root.findtext("cbc:InvoiceTypeCode", namespaces=P) == type_code
    # Types 02 and 04 use the range's technical key (CUFE), like 01.
    assert diagnose_uuid(read_facts(root), TEST_KEY).matches
    amounts = {el.get("currencyID") for el in root.iter() if el.get("currencyID")}
    assert amounts == {currency}
    if rate:
        assert root.findtext("cac:PaymentExchangeRate/cbc:CalculationRate", namespaces=P) == rate
        assert (
            root.findtext("cac:PaymentExchangeRate/cbc:TargetCurrencyCode", namespaces=P) == "COP"
        )
