# ruff: noqa: E501
"""fe_tui.checks: each rule has a failing and a passing document; registry answers; properties."""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from fe_tui import ns
from fe_tui.checks import PreflightReport, Registry, Status, preflight
from fe_tui.checks.results import NOTIFICATIONS
from fe_tui.crypto.certificates import LoadedCertificate
from fe_tui.dian import rules
from fe_tui.services import documents
from fe_tui.simulator import demo_config
from tests.conftest import example_request

P = {**ns.XPATH, "sts": ns.STS}
Tamper = Callable[[etree._Element], None]


@pytest.fixture(scope="module")
def signed(signing_cert: LoadedCertificate) -> dict[str, bytes]:
    out = {}
    for name in ("factura", "factura-consumidor-final", "nota-credito", "nota-debito"):
        built = documents.build(example_request(name), validate=False).document
        out[name] = documents.sign_tree(built.root, signing_cert)
    return out


def statuses(report: PreflightReport, code: str) -> set[Status]:
    return {f.status for f in report.findings if f.code == code}


def tampered(xml: bytes, tamper: Tamper) -> bytes:
    root = etree.fromstring(xml)
    tamper(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def one(root: etree._Element, path: str) -> etree._Element:
    found = root.find(path, P)
    assert found is not None, path
    return found


def add(path: str, delta: str = "100.00") -> Tamper:
    def apply(root: etree._Element) -> None:
        el = one(root, path)
        el.text = str(Decimal(el.text or "0") + Decimal(delta))

    return apply


def set_text(path: str, value: str) -> Tamper:
    def apply(root: etree._Element) -> None:
        one(root, path).text = value

    return apply


def remove(path: str) -> Tamper:
    def apply(root: etree._Element) -> None:
        for el in root.findall(path, P):
            el.getparent().remove(el)  # type: ignore[union-attr]

    return apply


def duplicate_subtotal(root: etree._Element) -> None:
    tax_total = one(root, "cac:TaxTotal")
    tax_total.append(copy.deepcopy(one(tax_total, "cac:TaxSubtotal")))


def credit_note_annulment_without_reference(root: etree._Element) -> None:
    one(root, "cbc:CustomizationID").text = "22"
    one(root, "cac:DiscrepancyResponse/cbc:ResponseCode").text = "2"


SUPPLIER = "cac:AccountingSupplierParty/cac:Party/"
CUSTOMER = "cac:AccountingCustomerParty/cac:Party/"
LMT = "cac:LegalMonetaryTotal/cbc:"
LINE1 = "cac:InvoiceLine/"
EXT = "ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/sts:DianExtensions/"
#: (rule, document, tamper that must make it fail)
REGISTRY_FREE: list[tuple[str, str, Tamper]] = [
    ("FAU02", "factura", add(LMT + "LineExtensionAmount")),
    ("FAU04", "factura", add(LMT + "TaxExclusiveAmount")),
    ("FAU06", "factura", add(LMT + "TaxInclusiveAmount")),
    ("FAU14", "factura", add(LMT + "PayableAmount")),
    ("CAU02", "nota-credito", add(LMT + "LineExtensionAmount")),
    ("DAU14", "nota-debito", add("cac:RequestedMonetaryTotal/cbc:PayableAmount")),
    ("FAS01a", "factura", remove("cac:TaxTotal")),
    ("FAS02", "factura", add("cac:TaxTotal/cbc:TaxAmount")),
    ("FAS04", "factura", duplicate_subtotal),
    ("FAS06", "factura", add("cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount")),
    ("FAX02", "factura", add(LINE1 + "cac:TaxTotal/cbc:TaxAmount")),
    ("FAX05", "factura", add(LINE1 + "cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount")),
    ("FAV01", "factura", set_text("cac:InvoiceLine[2]/cbc:ID", "3")),
    ("FAV02", "factura", add(LINE1 + "cac:Price/cbc:PriceAmount", "10.00")),
    ("FAV02", "factura", add("cac:InvoiceLine[2]/cbc:InvoicedQuantity", "1")),
    ("CAV02", "nota-credito", add("cac:CreditNoteLine/cac:Price/cbc:PriceAmount", "10.00")),
    ("FAD16", "factura", set_text("cbc:LineCountNumeric", "7")),
    ("FAZ02", "factura", set_text(LINE1 + "cac:Item/cbc:Description", " ")),
    ("VLR01", "factura", set_text(LMT + "AllowanceTotalAmount", "-1.00")),
    ("FAJ26", "factura", set_text(SUPPLIER + "cac:PartyTaxScheme/cbc:TaxLevelCode", "O-99")),
    ("FAJ08", "factura", set_text(SUPPLIER + "cac:PhysicalLocation/cac:Address/cbc:ID", "99999")),
    ("FAJ12", "factura", set_text(SUPPLIER + "cac:PhysicalLocation/cac:Address/cbc:CountrySubentityCode", "00")),
    ("FAJ14", "factura", set_text(SUPPLIER + "cac:PhysicalLocation/cac:Address/cac:Country/cbc:IdentificationCode", "XX")),
    ("FAJ28", "factura", set_text(SUPPLIER + "cac:PartyTaxScheme/cac:RegistrationAddress/cbc:ID", "00000")),
    ("FAJ31", "factura", set_text(SUPPLIER + "cac:PartyTaxScheme/cac:RegistrationAddress/cbc:CountrySubentityCode", "00")),
    ("FAK08", "factura", set_text(CUSTOMER + "cac:PhysicalLocation/cac:Address/cbc:ID", "99999")),
    ("FAN02", "factura", set_text("cac:PaymentMeans/cbc:ID", "9")),
    ("FAD15", "factura", set_text("cbc:DocumentCurrencyCode", "XYZ")),
    ("IA04", "factura", lambda r: (remove("cac:PaymentMeans/cbc:PaymentDueDate")(r), remove("cbc:DueDate")(r))),
    ("CBF03a", "nota-credito", credit_note_annulment_without_reference),
    ("CBG02", "nota-credito", remove("cac:BillingReference/cac:InvoiceDocumentReference/cbc:UUID")),
    ("DBG02", "nota-debito", remove("cac:BillingReference/cac:InvoiceDocumentReference/cbc:UUID")),
    ("FAJ34", "factura", set_text(SUPPLIER + "cac:PartyTaxScheme/cac:RegistrationAddress/cac:Country/cbc:IdentificationCode", "XX")),
    ("FAK12", "factura", set_text(CUSTOMER + "cac:PhysicalLocation/cac:Address/cbc:CountrySubentityCode", "00")),
    ("FAK14", "factura", set_text(CUSTOMER + "cac:PhysicalLocation/cac:Address/cac:Country/cbc:IdentificationCode", "XX")),
    ("FAK26", "factura", set_text(CUSTOMER + "cac:PartyTaxScheme/cbc:TaxLevelCode", "O-99")),
    ("FAK28", "factura", set_text(CUSTOMER + "cac:PartyTaxScheme/cac:RegistrationAddress/cbc:ID", "00000")),
    ("FAK31", "factura", set_text(CUSTOMER + "cac:PartyTaxScheme/cac:RegistrationAddress/cbc:CountrySubentityCode", "00")),
    ("FAK34", "factura", set_text(CUSTOMER + "cac:PartyTaxScheme/cac:RegistrationAddress/cac:Country/cbc:IdentificationCode", "XX")),
    ("FAD01", "factura", set_text("cbc:UBLVersionID", "UBL 2.0")),
    ("FAD07", "factura", lambda r: one(r, "cbc:UUID").set("schemeID", "1")),
    ("FAD08", "factura", lambda r: one(r, "cbc:UUID").set("schemeName", "CUFE-SHA256")),
    ("CAD08", "nota-credito", lambda r: one(r, "cbc:UUID").set("schemeName", "CUFE-SHA384")),
    ("FAD13", "factura", set_text("cbc:InvoiceTypeCode", "91")),
    ("FAJ02", "factura", set_text("cac:AccountingSupplierParty/cbc:AdditionalAccountID", "3")),
    ("FAK02", "factura", set_text("cac:AccountingCustomerParty/cbc:AdditionalAccountID", "9")),
    ("FAB31", "factura", set_text(EXT + "sts:AuthorizationProvider/sts:AuthorizationProviderID", "800197269")),
    ("FAB34", "factura", set_text(EXT + "sts:QRCode", "https://catalogo-vpfe-hab.dian.gov.co/document/searchqr?documentkey=otro")),
    ("FAD09e", "factura", set_text("cbc:IssueDate", "2020-01-01")),
    ("FAD06", "factura", set_text("cbc:UUID", "0" * 96)),
    ("ZE02", "factura", set_text("cbc:Note", "cambiado después de firmar")),
]  # fmt: skip


def _ids(cases: list[tuple[str, str, Tamper]]) -> list[str]:
    return [c[0] for c in cases]


@pytest.mark.parametrize(("code", "name", "tamper"), REGISTRY_FREE, ids=_ids(REGISTRY_FREE))
def test_rule_fails_on_the_tampered_document_and_passes_on_the_original(
    signed: dict[str, bytes], code: str, name: str, tamper: Tamper
) -> None:
    good = preflight(signed[name])
    assert statuses(good, code) == {Status.PASSED}, code
    bad = preflight(tampered(signed[name], tamper))
    assert Status.FAILED in statuses(bad, code), [f.code for f in bad.rechazos]
    failed = next(f for f in bad.findings if f.code == code and f.failed)
    assert failed.detail and failed.kind == "Rechazo"
    assert failed in bad.rechazos and not bad.ok


def test_documents_built_by_fe_tui_pass_with_no_rechazo(signed: dict[str, bytes]) -> None:
    for name, xml in signed.items():
        report = preflight(xml)
        assert report.ok and report.readable, (name, [f.to_dict() for f in report.rechazos])
        assert not report.notificaciones, name
        registry = preflight(xml, demo_config())
        assert registry.ok, (name, [f.to_dict() for f in registry.rechazos])


# -- the registry ----------------------------------------------------------------------------------
class LocalCopy:
    """A non-authoritative registry (like the company store): knows the demo issuer only."""

    def __init__(self, known: bool = True) -> None:
        self._config = demo_config()
        self._known = known

    authoritative = False

    @property
    def profile_execution_id(self) -> str:
        return self._config.profile_execution_id

    def issuer(self, nit: str) -> Any:
        return self._config.issuer(nit) if self._known else None

    def software(self, software_id: str) -> Any:
        return self._config.software(software_id) if self._known else None

    def ranges(self, nit: str) -> Any:
        return self._config.ranges(nit) if self._known else None

    def acquirer(self, id_number: str, id_type: str | None = None) -> Any:
        return self._config.acquirer(id_number, id_type) if self._known else None


def test_registry_protocol_is_satisfied_by_the_simulator_config_and_a_local_copy() -> None:
    registries: list[Registry] = [demo_config(), LocalCopy()]
    assert [r.authoritative for r in registries] == [True, False]


CONTROL = EXT + "sts:InvoiceControl/"
REGISTRY: list[tuple[str, Tamper]] = [
    ("FAJ24", set_text(SUPPLIER + "cac:PartyTaxScheme/cbc:CompanyID", "900373076")),
    ("FAB27b", set_text("ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/sts:DianExtensions/sts:SoftwareSecurityCode", "0" * 96)),
    ("FAB05b", set_text("ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/sts:DianExtensions/sts:InvoiceControl/sts:InvoiceAuthorization", "1")),
    ("FAJ71", set_text(CUSTOMER + "cac:Contact/cbc:ElectronicMail", "otro@example.com")),
    ("FAD04", set_text("cbc:ProfileExecutionID", "1")),
    ("FAB24b", set_text(EXT + "sts:SoftwareProvider/sts:SoftwareID", "11111111-2222-4333-8444-555555555555")),
    ("FAB19b", set_text(EXT + "sts:SoftwareProvider/sts:ProviderID", "900000001")),
    ("FAB10b", set_text(CONTROL + "sts:AuthorizedInvoices/sts:Prefix", "OTRO")),
    ("FAB11b", set_text(CONTROL + "sts:AuthorizedInvoices/sts:From", "2")),
    ("FAB12b", set_text(CONTROL + "sts:AuthorizedInvoices/sts:To", "5")),
    ("FAB07b", set_text(CONTROL + "sts:AuthorizationPeriod/cbc:StartDate", "2001-01-01")),
    ("FAB08b", set_text(CONTROL + "sts:AuthorizationPeriod/cbc:EndDate", "2001-01-02")),
    ("FAD05d", set_text("cbc:ID", "SETP1")),
]  # fmt: skip


def _wrong_dv(root: etree._Element) -> None:
    one(root, SUPPLIER + "cac:PartyTaxScheme/cbc:CompanyID").set("schemeID", "7")


REGISTRY[0] = ("FAJ24", _wrong_dv)


@pytest.mark.parametrize(("code", "tamper"), REGISTRY, ids=_ids([(c, "", t) for c, t in REGISTRY]))
def test_registry_rules_fail_pass_and_cannot_check(
    signed: dict[str, bytes], code: str, tamper: Tamper
) -> None:
    xml = signed["factura"]
    assert statuses(preflight(xml, demo_config()), code) == {Status.PASSED}
    assert statuses(preflight(xml), code) == {Status.CANNOT_CHECK}
    assert Status.FAILED in statuses(preflight(tampered(xml, tamper), demo_config()), code)


#: Codes with a failing case elsewhere in this file (unreadable input, FAJ21, the key).
COVERED_ELSEWHERE = {"ZB01", "FAJ21", "FAD06"}


def test_every_rule_the_checks_emit_has_a_failing_case(signed: dict[str, bytes]) -> None:
    """Issue 13: every rule check has a failing and a passing document. A note's code is
    covered by its invoice twin's case (CAU02 by FAU02) when the check is the same code."""
    emitted = {
        f.code for xml in signed.values() for f in preflight(xml, demo_config()).findings
    }
    cases = {c for c, _, _ in REGISTRY_FREE} | {c for c, _ in REGISTRY} | COVERED_ELSEWHERE
    missing = sorted(c for c in emitted if c not in cases and "F" + c[1:] not in cases)
    assert not missing, f"rule checks without a failing document: {missing}"


def test_unknown_issuer_is_faj21_for_dian_and_cannot_check_for_a_local_copy(
    signed: dict[str, bytes],
) -> None:
    xml = signed["factura"]
    known = preflight(xml, LocalCopy())
    # Known locally: its data is checked (DV, PIN, range), habilitación only DIAN confirms.
    assert statuses(known, "FAJ21") == {Status.CANNOT_CHECK}
    assert statuses(known, "FAJ24") == {Status.PASSED}
    assert statuses(known, "FAB27b") == {Status.PASSED}
    assert statuses(known, "FAD05d") == {Status.PASSED}
    unknown = preflight(xml, LocalCopy(known=False))
    assert statuses(unknown, "FAJ21") == {Status.CANNOT_CHECK}
    assert unknown.ok  # not "unregistered": the local data just does not know it
    config = demo_config()
    config.issuers.clear()
    assert Status.FAILED in statuses(preflight(xml, config), "FAJ21")


def test_cufe_with_a_key(signed: dict[str, bytes]) -> None:
    from fe_tui.domain.colombia import HABILITACION_TEST_KEY

    xml = signed["factura"]
    assert statuses(preflight(xml, key=HABILITACION_TEST_KEY), "FAD06") == {Status.PASSED}
    assert statuses(preflight(xml, key="otra-clave"), "FAD06") == {Status.FAILED}
    note = signed["nota-credito"]
    assert statuses(preflight(note), "CAD06") == {Status.CANNOT_CHECK}
    assert statuses(preflight(note, key="12345"), "CAD06") == {Status.PASSED}


def test_unreadable_input_is_zb01_alone() -> None:
    report = preflight(b"esto no es XML")
    assert not report.readable and [f.code for f in report.rechazos] == ["ZB01"]


def test_every_code_the_checks_emit_is_explained_with_the_catalogue_severity(
    signed: dict[str, bytes],
) -> None:
    codes = {f.code for xml in signed.values() for f in preflight(xml, demo_config()).findings}
    for _, name, tamper in REGISTRY_FREE:
        codes |= {f.code for f in preflight(tampered(signed[name], tamper)).findings}
    for code in sorted(codes):
        rule = rules.get(code) or rules.mirror(code)
        assert rule is not None, code
        expected = "Notificación" if code in NOTIFICATIONS else "Rechazo"
        assert rule.kind == expected, code


# -- properties ------------------------------------------------------------------------------------
quantities = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999"), places=2)
prices = st.decimals(min_value=Decimal("1"), max_value=Decimal("9999999"), places=2)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_property_built_documents_pass_with_no_rechazo(
    signing_cert: LoadedCertificate, data: st.DataObject
) -> None:
    request = example_request("factura")
    lines = [
        line.model_copy(update={"quantity": data.draw(quantities), "unit_price": data.draw(prices)})
        for line in request.document.lines
    ]
    request = request.model_copy(
        update={"document": request.document.model_copy(update={"lines": lines})}
    )
    built = documents.build(request).document
    report = preflight(documents.sign_tree(built.root, signing_cert))
    assert report.ok, [f.to_dict() for f in report.rechazos]


AMOUNTS = [
    (c, t) for c, n, t in REGISTRY_FREE if n == "factura" and c.startswith(("FAU", "FAS0", "FAX"))
]
MUTATIONS = [
    ("FAU02", LMT + "LineExtensionAmount"),
    ("FAU04", LMT + "TaxExclusiveAmount"),
    ("FAU06", LMT + "TaxInclusiveAmount"),
    ("FAU14", LMT + "PayableAmount"),
    ("FAS02", "cac:TaxTotal/cbc:TaxAmount"),
    ("FAX02", LINE1 + "cac:TaxTotal/cbc:TaxAmount"),
    ("FAV02", LINE1 + "cac:Price/cbc:PriceAmount"),
]


@settings(max_examples=25, deadline=None)
@given(
    mutation=st.sampled_from(MUTATIONS),
    delta=st.decimals(min_value=Decimal("2.01"), max_value=Decimal("1000000"), places=2),
    sign=st.sampled_from([1, -1]),
)
def test_property_changing_one_amount_fires_its_rule(
    signed: dict[str, bytes], mutation: tuple[str, str], delta: Decimal, sign: int
) -> None:
    code, path = mutation
    bad = preflight(tampered(signed["factura"], add(path, str(delta * sign))))
    assert Status.FAILED in statuses(bad, code)


CODES = [
    ("FAJ26", SUPPLIER + "cac:PartyTaxScheme/cbc:TaxLevelCode", st.sampled_from(["O-99", "R-00", "X"])),
    ("FAJ08", SUPPLIER + "cac:PhysicalLocation/cac:Address/cbc:ID", st.from_regex(r"00[0-9]{3}", fullmatch=True)),
    ("FAN02", "cac:PaymentMeans/cbc:ID", st.sampled_from(["0", "3", "9", "X"])),
    ("FAD09e", "cbc:IssueDate", st.dates().map(lambda d: d.isoformat())),
]  # fmt: skip


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_property_changing_one_code_or_date_fires_its_rule(
    signed: dict[str, bytes], data: st.DataObject
) -> None:
    code, path, values = data.draw(st.sampled_from(CODES))
    value = data.draw(values)
    original = one(etree.fromstring(signed["factura"]), path).text
    if value == original:
        return
    bad = preflight(tampered(signed["factura"], set_text(path, value)))
    assert Status.FAILED in statuses(bad, code), (code, value)


def test_checks_layer_imports_neither_dian_nor_services() -> None:
    import subprocess
    import sys

    code = (
        "import sys, fe_tui.checks, fe_tui.checks.local\n"
        "bad = [m for m in sys.modules if m.startswith(('fe_tui.dian', 'fe_tui.services', "
        "'fe_tui.store', 'httpx'))]\n"
        "print(','.join(sorted(bad)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def _foreign_buyer(root: etree._Element) -> None:
    address = one(root, CUSTOMER + "cac:PhysicalLocation/cac:Address")
    one(address, "cbc:ID").text = "10001"
    one(address, "cbc:CountrySubentityCode").text = "NY"
    one(address, "cac:Country/cbc:IdentificationCode").text = "US"
    registration = one(root, CUSTOMER + "cac:PartyTaxScheme/cac:RegistrationAddress")
    one(registration, "cbc:ID").text = "10001"
    one(registration, "cbc:CountrySubentityCode").text = "NY"
    one(registration, "cac:Country/cbc:IdentificationCode").text = "US"


def _prepaid_subtracted(root: etree._Element) -> None:
    total = one(root, "cac:LegalMonetaryTotal")
    payable = one(total, "cbc:PayableAmount")
    prepaid = etree.Element(f"{{{ns.CBC}}}PrepaidAmount", currencyID="COP")
    prepaid.text = "18060.00"
    payable.addprevious(prepaid)
    payable.text = str(Decimal(payable.text or "0") - Decimal("18060.00"))


def _base_quantity_is_the_quantity(root: etree._Element) -> None:
    """Some software writes BaseQuantity = InvoicedQuantity with PriceAmount per unit."""
    line = one(root, "cac:InvoiceLine")
    one(line, "cac:Price/cbc:BaseQuantity").text = one(line, "cbc:InvoicedQuantity").text


def _price_for_the_base_quantity(root: etree._Element) -> None:
    """Others write PriceAmount for BaseQuantity units (price per pack of 10)."""
    line = one(root, "cac:InvoiceLine")
    price = one(line, "cac:Price/cbc:PriceAmount")
    price.text = str(Decimal(price.text or "0") * 10)
    one(line, "cac:Price/cbc:BaseQuantity").text = "10.00"


def _line_discount(root: etree._Element) -> None:
    """A line discount of 1.00: LineExtensionAmount = quantity × price − 1.00."""
    line = one(root, "cac:InvoiceLine")
    discount = etree.fromstring(
        f'<cac:AllowanceCharge xmlns:cac="{ns.CAC}" xmlns:cbc="{ns.CBC}"><cbc:ID>1</cbc:ID>'
        "<cbc:ChargeIndicator>false</cbc:ChargeIndicator>"
        "<cbc:AllowanceChargeReason>Descuento</cbc:AllowanceChargeReason>"
        '<cbc:Amount currencyID="COP">1.00</cbc:Amount>'
        '<cbc:BaseAmount currencyID="COP">250000.00</cbc:BaseAmount></cac:AllowanceCharge>'
    )
    one(line, "cac:TaxTotal").addprevious(discount)
    add("cbc:LineExtensionAmount", "-1.00")(line)


def _free_of_charge_line(root: etree._Element) -> None:
    """A commercial sample: the price is a reference value, not what the line is worth."""
    line = one(root, "cac:InvoiceLine")
    one(line, "cbc:FreeOfChargeIndicator").text = "true"
    add("cac:Price/cbc:PriceAmount", "999.00")(line)


def _qr_text_block(root: etree._Element) -> None:
    uuid = one(root, "cbc:UUID").text
    one(root, EXT + "sts:QRCode").text = (
        f"NumFac: SETP990000001\nFecFac: 2026-12-03\nNitFac: 900373076\nCUFE: {uuid}\n"
        f"https://catalogo-vpfe-hab.dian.gov.co/document/searchqr?documentkey={uuid}"
    )


@pytest.mark.parametrize(
    "shape",
    [
        _foreign_buyer,
        _prepaid_subtracted,
        _qr_text_block,
        set_text(CUSTOMER + "cac:PartyTaxScheme/cbc:TaxLevelCode", "O-13; O-23"),
        add(LINE1 + "cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount", "0.01"),  # rounding slack
        add(LMT + "LineExtensionAmount", "-0.01"),
        remove(CUSTOMER + "cac:PhysicalLocation"),
        _base_quantity_is_the_quantity,
        _price_for_the_base_quantity,
        _line_discount,
        _free_of_charge_line,
        add(LINE1 + "cbc:LineExtensionAmount", "0.01"),  # line rounding slack (FAV02)
    ],
    ids=["foreign-buyer", "prepaid-subtracted", "qr-text-block", "spaced-responsibilities",
         "line-tax-rounding", "total-rounding", "buyer-without-physical-location",
         "base-quantity-is-quantity", "price-per-base-quantity", "line-discount",
         "free-of-charge-line", "line-value-rounding"],
)  # fmt: skip
def test_shapes_other_software_writes_get_no_rechazo_from_the_local_rules(
    signed: dict[str, bytes], shape: Tamper
) -> None:
    """DIAN accepts these forms; the local rules must not reject them (the signature aside)."""
    report = preflight(tampered(signed["factura"], shape))
    assert {f.code for f in report.rechazos} <= {"ZE02", "FAD06"}, [
        f.to_dict() for f in report.rechazos
    ]
