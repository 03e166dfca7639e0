"""Builders of DIAN UBL 2.1 documents: Invoice (01/02/04), CreditNote (91), DebitNote (92).

Input: a validated :class:`~fe_tui.domain.models.DocumentRequest`. Output: an
unsigned lxml tree in the exact element order of the UBL 2.1 schemas, with
the DIAN extension (InvoiceControl for invoices, InvoiceSource,
SoftwareProvider, SoftwareSecurityCode, AuthorizationProvider, QRCode), the
CUFE/CUDE in ``cbc:UUID``, totals and tax subtotals from
:mod:`fe_tui.domain.totals`, and an empty second ``UBLExtension`` where the
signer puts ``ds:Signature``.

Choices worth knowing:

- Times are written in Colombian time (``-05:00``) whatever the machine's
  zone (DESIGN invariant 6); the date of ``IssueDate`` is the Colombian date.
- Output is compact: no whitespace-only text nodes (the signature policy
  forbids indentation).
- ``sts:QRCode`` holds the DIAN look-up URL only. The schema types it
  ``anyURI`` and the policy forbids line breaks in the document; the annex
  1.8 text block (:func:`fe_tui.ubl.hashes.qr_text`) is for the printed
  representation.
- The DIAN extension namespace is written in its ``urn:`` form (SPEC §2.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lxml import etree

from fe_tui import ns
from fe_tui.domain import models as m
from fe_tui.domain import totals as t
from fe_tui.domain.colombia import DIAN_DV, DIAN_NIT
from fe_tui.ubl.hashes import (
    PIN_DOCUMENT_TYPES,
    HashComponents,
    qr_url,
    software_security_code,
)

DIAN_AGENCY = "CO, DIAN (Dirección de Impuestos y Aduanas Nacionales)"
UNECE = "United Nations Economic Commission for Europe"

PROFILE_IDS = {
    "invoice": "DIAN 2.1: Factura Electrónica de Venta",
    "credit_note": "DIAN 2.1: Nota Crédito de Factura Electrónica de Venta",
    "debit_note": "DIAN 2.1: Nota Débito de Factura Electrónica de Venta",
}
ROOTS = {"invoice": "Invoice", "credit_note": "CreditNote", "debit_note": "DebitNote"}
LINE_TAGS = {
    "invoice": ("InvoiceLine", "InvoicedQuantity"),
    "credit_note": ("CreditNoteLine", "CreditedQuantity"),
    "debit_note": ("DebitNoteLine", "DebitedQuantity"),
}
NSMAP_BASE: dict[str | None, str] = {
    "cac": ns.CAC,
    "cbc": ns.CBC,
    "ds": ns.DS,
    "ext": ns.EXT,
    "sts": ns.STS,
    "xades": ns.XADES,
    "xades141": ns.XADES141,
    "xsi": ns.XSI,
}
SCHEMA_LOCATIONS = {
    "Invoice": "http://docs.oasis-open.org/ubl/os-UBL-2.1/xsd/maindoc/UBL-Invoice-2.1.xsd",
    "CreditNote": "http://docs.oasis-open.org/ubl/os-UBL-2.1/xsd/maindoc/UBL-CreditNote-2.1.xsd",
    "DebitNote": "http://docs.oasis-open.org/ubl/os-UBL-2.1/xsd/maindoc/UBL-DebitNote-2.1.xsd",
}
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>'

CAC = f"{{{ns.CAC}}}"
CBC = f"{{{ns.CBC}}}"
EXT = f"{{{ns.EXT}}}"
STS = f"{{{ns.STS}}}"


@dataclass(frozen=True)
class BuiltDocument:
    """An unsigned document and what was computed to build it."""

    root: etree._Element
    kind: str  #: "invoice", "credit_note" or "debit_note"
    document_type: str  #: "01", "02", "04", "91" or "92"
    document_id: str  #: cbc:ID (prefix + number)
    uuid: str  #: CUFE or CUDE
    uuid_scheme: str  #: "CUFE-SHA384" or "CUDE-SHA384"
    hash_components: HashComponents
    totals: t.DocumentTotals

    def to_bytes(self) -> bytes:
        """Compact serialisation with DIAN's XML declaration."""
        return XML_DECLARATION + etree.tostring(self.root, encoding="UTF-8")


def sub(parent: etree._Element, tag: str, text: str | None = None, **attrib: str) -> etree._Element:
    el = etree.SubElement(parent, tag, attrib) if attrib else etree.SubElement(parent, tag)
    if text is not None:
        el.text = text
    return el


def amount(value: Decimal) -> str:
    """Two decimals, '.' separator, no exponent."""
    return t.format_amount(value)


class _Builder:
    def __init__(self, req: m.DocumentRequest) -> None:
        self.req = req
        self.doc: Any = req.document
        self.kind: str = self.doc.kind
        self.currency: str = self.doc.currency
        self.totals = t.compute(self.doc)

    # -- small helpers ---------------------------------------------------------------------------
    def money(self, parent: etree._Element, tag: str, value: Decimal) -> etree._Element:
        return sub(parent, tag, amount(value), currencyID=self.currency)

    def company_id(
        self, parent: etree._Element, tag: str, number: str, id_type: str, dv: str | None
    ) -> None:
        attrs = {"schemeAgencyID": "195", "schemeAgencyName": DIAN_AGENCY}
        if dv:
            attrs["schemeID"] = dv
        attrs["schemeName"] = id_type
        sub(parent, tag, number, **attrs)

    # -- document --------------------------------------------------------------------------------
    def build(self) -> BuiltDocument:
        doc, req = self.doc, self.req
        root_name = ROOTS[self.kind]
        nsmap: dict[str | None, str] = {None: ns.ROOT_NS[root_name], **NSMAP_BASE}
        root = etree.Element(f"{{{ns.ROOT_NS[root_name]}}}{root_name}", nsmap=nsmap)
        root.set(
            f"{{{ns.XSI}}}schemaLocation",
            f"{ns.ROOT_NS[root_name]} {SCHEMA_LOCATIONS[root_name]}",
        )
        document_type = self._document_type()
        issue = doc.issue_at_colombia
        issue_date = issue.date().isoformat()
        issue_time = issue.strftime("%H:%M:%S") + "-05:00"
        document_id = doc.document_id
        environment = str(int(req.environment))

        components = self._hash_components(document_type, document_id, issue_date, issue_time)
        uuid = components.digest()
        uuid_scheme = "CUDE-SHA384" if document_type in PIN_DOCUMENT_TYPES else "CUFE-SHA384"

        exts = sub(root, EXT + "UBLExtensions")
        content = sub(sub(exts, EXT + "UBLExtension"), EXT + "ExtensionContent")
        self._dian_extensions(content, document_id, uuid)
        sub(sub(exts, EXT + "UBLExtension"), EXT + "ExtensionContent")

        sub(root, CBC + "UBLVersionID", "UBL 2.1")
        sub(root, CBC + "CustomizationID", doc.operation_type)
        sub(root, CBC + "ProfileID", PROFILE_IDS[self.kind])
        sub(root, CBC + "ProfileExecutionID", environment)
        sub(root, CBC + "ID", document_id)
        sub(root, CBC + "UUID", uuid, schemeID=environment, schemeName=uuid_scheme)
        sub(root, CBC + "IssueDate", issue_date)
        sub(root, CBC + "IssueTime", issue_time)

        if self.kind == "invoice":
            due = doc.due_date or doc.payment.due_date
            if due is not None:
                sub(root, CBC + "DueDate", due.isoformat())
            sub(
                root,
                CBC + "InvoiceTypeCode",
                doc.type_code,
            )
            self._notes(root)
        elif self.kind == "credit_note":
            sub(root, CBC + "CreditNoteTypeCode", "91")
            self._notes(root)
        else:
            self._notes(root)
        sub(
            root,
            CBC + "DocumentCurrencyCode",
            self.currency,
            listAgencyID="6",
            listAgencyName=UNECE,
            listID="ISO 4217 Alpha",
        )
        sub(root, CBC + "LineCountNumeric", str(len(doc.lines)))

        period = getattr(doc, "invoice_period", None)
        if period is not None:
            p = sub(root, CAC + "InvoicePeriod")
            sub(p, CBC + "StartDate", period.start_date.isoformat())
            sub(p, CBC + "EndDate", period.end_date.isoformat())
        if self.kind != "invoice":
            dr = sub(root, CAC + "DiscrepancyResponse")
            ref = doc.billing_reference
            if ref is not None:
                sub(dr, CBC + "ReferenceID", ref.number)
            sub(dr, CBC + "ResponseCode", doc.concept_code)
            sub(dr, CBC + "Description", doc.concept_description)
        if doc.order_reference:
            sub(sub(root, CAC + "OrderReference"), CBC + "ID", doc.order_reference)
        ref = getattr(doc, "billing_reference", None)
        if ref is not None:
            idr = sub(sub(root, CAC + "BillingReference"), CAC + "InvoiceDocumentReference")
            sub(idr, CBC + "ID", ref.number)
            sub(idr, CBC + "UUID", ref.uuid.lower(), schemeName=ref.scheme_name)
            sub(idr, CBC + "IssueDate", ref.issue_date.isoformat())

        self._supplier(root)
        self._customer(root)
        if self.kind == "debit_note":
            # DebitNote puts AllowanceCharge before PaymentMeans (UBL 2.1 schema order).
            self._document_allowances(root)
            self._payment(root)
        else:
            self._payment(root)
            self._document_allowances(root)
        if self.kind == "invoice" and doc.currency != "COP":
            self._exchange_rate(root)
        for total in self.totals.tax_totals:
            self._tax_total(root, "TaxTotal", total)
        if self.kind == "invoice":
            for total in self.totals.withholding_totals:
                self._tax_total(root, "WithholdingTaxTotal", total)
        self._monetary_total(root)
        for index, (line, line_totals) in enumerate(
            zip(doc.lines, self.totals.lines, strict=True), start=1
        ):
            self._line(root, index, line, line_totals)

        return BuiltDocument(
            root=root,
            kind=self.kind,
            document_type=document_type,
            document_id=document_id,
            uuid=uuid,
            uuid_scheme=uuid_scheme,
            hash_components=components,
            totals=self.totals,
        )

    def _document_type(self) -> str:
        if self.kind == "invoice":
            return str(self.doc.type_code)
        return "91" if self.kind == "credit_note" else "92"

    def _hash_components(
        self, document_type: str, document_id: str, issue_date: str, issue_time: str
    ) -> HashComponents:
        req, tot = self.req, self.totals
        if document_type in PIN_DOCUMENT_TYPES:
            secret = req.software.pin
        else:
            if req.resolution is None:  # the request model refuses this; keep mypy honest
                raise ValueError("resolution required for invoices")
            secret = req.resolution.technical_key
        return HashComponents(
            number=document_id,
            issue_date=issue_date,
            issue_time=issue_time,
            line_extension=tot.line_extension,
            tax_01=tot.tax_amount_for("01"),
            tax_04=tot.tax_amount_for("04"),
            tax_03=tot.tax_amount_for("03"),
            payable=tot.payable,
            supplier_id=req.issuer.nit,
            customer_id="".join(ch for ch in self.doc.customer.id_number if ch.isalnum()),
            secret=secret,
            environment=str(int(req.environment)),
        )

    def _notes(self, root: etree._Element) -> None:
        for note in self.doc.notes:
            sub(root, CBC + "Note", note)

    # -- DIAN extension --------------------------------------------------------------------------
    def _dian_extensions(self, content: etree._Element, document_id: str, uuid: str) -> None:
        req = self.req
        sw = req.software
        de = dian_extensions(
            content,
            software_id=sw.software_id,
            pin=sw.pin,
            provider_nit=sw.provider_nit,
            provider_dv=sw.provider_dv,
            document_id=document_id,
            qr=qr_url(int(req.environment), uuid),
        )
        if self.kind == "invoice" and req.resolution is not None:
            res = req.resolution
            ic = etree.Element(STS + "InvoiceControl")
            de.insert(0, ic)  # InvoiceControl comes first (DIAN_UBL_Structures.xsd)
            sub(ic, STS + "InvoiceAuthorization", res.number)
            period = sub(ic, STS + "AuthorizationPeriod")
            sub(period, CBC + "StartDate", res.valid_from.isoformat())
            sub(period, CBC + "EndDate", res.valid_to.isoformat())
            ai = sub(ic, STS + "AuthorizedInvoices")
            if res.prefix:
                sub(ai, STS + "Prefix", res.prefix)
            sub(ai, STS + "From", str(res.from_number))
            sub(ai, STS + "To", str(res.to_number))

    # -- parties ---------------------------------------------------------------------------------
    def _address(self, parent: etree._Element, tag: str, addr: m.Address) -> None:
        a = sub(parent, tag)
        if addr.municipality_code:
            sub(a, CBC + "ID", addr.municipality_code)
        if addr.city_name:
            sub(a, CBC + "CityName", addr.city_name)
        if addr.postal_code:
            sub(a, CBC + "PostalZone", addr.postal_code)
        if addr.department_name:
            sub(a, CBC + "CountrySubentity", addr.department_name)
        if addr.department_code:
            sub(a, CBC + "CountrySubentityCode", addr.department_code)
        sub(sub(a, CAC + "AddressLine"), CBC + "Line", addr.line)
        country = sub(a, CAC + "Country")
        sub(country, CBC + "IdentificationCode", addr.country_code)
        sub(country, CBC + "Name", addr.country_name, languageID="es")

    def _tax_scheme(self, parent: etree._Element, code: str) -> None:
        ts = sub(parent, CAC + "TaxScheme")
        sub(ts, CBC + "ID", code)
        sub(ts, CBC + "Name", PARTY_TAX_SCHEMES.get(code, code))

    def _supplier(self, root: etree._Element) -> None:
        iss = self.req.issuer
        sp = sub(root, CAC + "AccountingSupplierParty")
        sub(sp, CBC + "AdditionalAccountID", iss.organization_type)
        party = sub(sp, CAC + "Party")
        if iss.organization_type == "2":
            sub(
                sub(party, CAC + "PartyIdentification"),
                CBC + "ID",
                iss.nit,
                schemeID=iss.dv,
                schemeName="31",
            )
        sub(sub(party, CAC + "PartyName"), CBC + "Name", iss.trade_name or iss.registration_name)
        self._address(sub(party, CAC + "PhysicalLocation"), CAC + "Address", iss.address)
        pts = sub(party, CAC + "PartyTaxScheme")
        sub(pts, CBC + "RegistrationName", iss.registration_name)
        self.company_id(pts, CBC + "CompanyID", iss.nit, "31", iss.dv)
        sub(pts, CBC + "TaxLevelCode", ";".join(iss.tax_responsibilities))
        self._address(pts, CAC + "RegistrationAddress", iss.address)
        self._tax_scheme(pts, iss.tax_scheme)
        ple = sub(party, CAC + "PartyLegalEntity")
        sub(ple, CBC + "RegistrationName", iss.registration_name)
        self.company_id(ple, CBC + "CompanyID", iss.nit, "31", iss.dv)
        crs = sub(ple, CAC + "CorporateRegistrationScheme")
        sub(crs, CBC + "ID", self.doc.prefix)
        if iss.commercial_registration:
            sub(crs, CBC + "Name", iss.commercial_registration)
        contact = sub(party, CAC + "Contact")
        if iss.phone:
            sub(contact, CBC + "Telephone", iss.phone)
        sub(contact, CBC + "ElectronicMail", iss.email)

    def _customer(self, root: etree._Element) -> None:
        c = self.doc.customer
        cp = sub(root, CAC + "AccountingCustomerParty")
        sub(cp, CBC + "AdditionalAccountID", c.organization_type)
        party = sub(cp, CAC + "Party")
        pid_attrs = {"schemeName": c.id_type}
        if c.dv:
            pid_attrs = {"schemeID": c.dv, "schemeName": c.id_type}
        sub(sub(party, CAC + "PartyIdentification"), CBC + "ID", c.id_number, **pid_attrs)
        sub(sub(party, CAC + "PartyName"), CBC + "Name", c.name)
        if c.address is not None:
            self._address(sub(party, CAC + "PhysicalLocation"), CAC + "Address", c.address)
        pts = sub(party, CAC + "PartyTaxScheme")
        sub(pts, CBC + "RegistrationName", c.name)
        self.company_id(pts, CBC + "CompanyID", c.id_number, c.id_type, c.dv)
        sub(pts, CBC + "TaxLevelCode", ";".join(c.tax_responsibilities))
        if c.address is not None:
            self._address(pts, CAC + "RegistrationAddress", c.address)
        self._tax_scheme(pts, c.tax_scheme)
        ple = sub(party, CAC + "PartyLegalEntity")
        sub(ple, CBC + "RegistrationName", c.name)
        self.company_id(ple, CBC + "CompanyID", c.id_number, c.id_type, c.dv)
        if c.email or c.phone:
            contact = sub(party, CAC + "Contact")
            if c.phone:
                sub(contact, CBC + "Telephone", c.phone)
            if c.email:
                sub(contact, CBC + "ElectronicMail", c.email)

    # -- payment, allowances, exchange -----------------------------------------------------------
    def _payment(self, root: etree._Element) -> None:
        pay = self.doc.payment
        pm = sub(root, CAC + "PaymentMeans")
        sub(pm, CBC + "ID", pay.form)
        sub(pm, CBC + "PaymentMeansCode", pay.method_code)
        if pay.due_date is not None:
            sub(pm, CBC + "PaymentDueDate", pay.due_date.isoformat())
        if pay.payment_id:
            sub(pm, CBC + "PaymentID", pay.payment_id)

    def _allowance(self, parent: etree._Element, index: int, ac: t.AllowanceChargeAmount) -> None:
        el = sub(parent, CAC + "AllowanceCharge")
        sub(el, CBC + "ID", str(index))
        sub(el, CBC + "ChargeIndicator", "true" if ac.is_charge else "false")
        if ac.reason_code and not ac.is_charge:
            sub(el, CBC + "AllowanceChargeReasonCode", ac.reason_code)
        sub(
            el,
            CBC + "AllowanceChargeReason",
            ac.reason or ("Cargo" if ac.is_charge else "Descuento"),
        )
        percent = ac.percent
        if percent is None:
            percent = (ac.amount * 100 / ac.base_amount) if ac.base_amount else Decimal(0)
        sub(el, CBC + "MultiplierFactorNumeric", t.format_percent(percent))
        self.money(el, CBC + "Amount", ac.amount)
        self.money(el, CBC + "BaseAmount", ac.base_amount)

    def _document_allowances(self, root: etree._Element) -> None:
        for index, ac in enumerate(self.totals.allowances_charges, start=1):
            self._allowance(root, index, ac)

    def _exchange_rate(self, root: etree._Element) -> None:
        doc = self.doc
        er = sub(root, CAC + "PaymentExchangeRate")
        sub(er, CBC + "SourceCurrencyCode", doc.currency)
        sub(er, CBC + "SourceCurrencyBaseRate", "1.00")
        sub(er, CBC + "TargetCurrencyCode", "COP")
        sub(er, CBC + "TargetCurrencyBaseRate", "1.00")
        sub(er, CBC + "CalculationRate", t.format_amount(doc.exchange_rate))
        sub(er, CBC + "Date", doc.issue_at_colombia.date().isoformat())

    # -- taxes and totals ------------------------------------------------------------------------
    def _tax_total(self, parent: etree._Element, tag: str, total: t.TaxTotal) -> None:
        tt = sub(parent, CAC + tag)
        self.money(tt, CBC + "TaxAmount", total.tax_amount)
        for subtotal in total.subtotals:
            st = sub(tt, CAC + "TaxSubtotal")
            self.money(st, CBC + "TaxableAmount", subtotal.taxable_amount)
            self.money(st, CBC + "TaxAmount", subtotal.tax_amount)
            cat = sub(st, CAC + "TaxCategory")
            sub(cat, CBC + "Percent", t.format_percent(subtotal.percent))
            ts = sub(cat, CAC + "TaxScheme")
            sub(ts, CBC + "ID", total.scheme)
            sub(ts, CBC + "Name", total.name)

    def _monetary_total(self, root: etree._Element) -> None:
        tot = self.totals
        tag = "RequestedMonetaryTotal" if self.kind == "debit_note" else "LegalMonetaryTotal"
        lmt = sub(root, CAC + tag)
        self.money(lmt, CBC + "LineExtensionAmount", tot.line_extension)
        self.money(lmt, CBC + "TaxExclusiveAmount", tot.tax_exclusive)
        self.money(lmt, CBC + "TaxInclusiveAmount", tot.tax_inclusive)
        self.money(lmt, CBC + "AllowanceTotalAmount", tot.allowance_total)
        self.money(lmt, CBC + "ChargeTotalAmount", tot.charge_total)
        if tot.prepaid:
            self.money(lmt, CBC + "PrepaidAmount", tot.prepaid)
        self.money(lmt, CBC + "PayableAmount", tot.payable)

    # -- lines -----------------------------------------------------------------------------------
    def _line(self, root: etree._Element, index: int, line: Any, lt: t.LineTotals) -> None:
        line_tag, qty_tag = LINE_TAGS[self.kind]
        el = sub(root, CAC + line_tag)
        sub(el, CBC + "ID", str(index))
        if line.note:
            sub(el, CBC + "Note", line.note)
        sub(el, CBC + qty_tag, t.format_quantity(line.quantity), unitCode=line.unit_code)
        self.money(el, CBC + "LineExtensionAmount", lt.line_extension)
        if self.kind != "debit_note":
            sub(el, CBC + "FreeOfChargeIndicator", "true" if line.free_of_charge else "false")
        if line.free_of_charge and line.reference_price is not None:
            acp = sub(sub(el, CAC + "PricingReference"), CAC + "AlternativeConditionPrice")
            self.money(acp, CBC + "PriceAmount", line.reference_price)
            sub(acp, CBC + "PriceTypeCode", line.reference_price_code)

        def allowances() -> None:
            for i, ac in enumerate(lt.allowances_charges, start=1):
                self._allowance(el, i, ac)

        def taxes() -> None:
            for total in _line_tax_totals(lt):
                self._tax_total(el, "TaxTotal", total)

        # InvoiceLine: AllowanceCharge before TaxTotal; note lines: the reverse (UBL 2.1).
        if self.kind == "invoice":
            allowances()
            taxes()
        else:
            taxes()
            allowances()
        item = sub(el, CAC + "Item")
        sub(item, CBC + "Description", line.description)
        if line.seller_code:
            sub(sub(item, CAC + "SellersItemIdentification"), CBC + "ID", line.seller_code)
        if line.standard_code:
            attrs = {"schemeID": line.standard_scheme}
            agency = STANDARD_AGENCIES.get(line.standard_scheme)
            if agency:
                attrs["schemeAgencyID"] = agency
            sub(
                sub(item, CAC + "StandardItemIdentification"),
                CBC + "ID",
                line.standard_code,
                **attrs,
            )
        price = sub(el, CAC + "Price")
        self.money(price, CBC + "PriceAmount", line.unit_price)
        sub(
            price,
            CBC + "BaseQuantity",
            t.format_quantity(line.base_quantity),
            unitCode=line.unit_code,
        )


def _line_tax_totals(lt: t.LineTotals) -> list[t.TaxTotal]:
    """One TaxTotal per tributo on a line, in the order the taxes were given."""
    by_scheme: dict[str, list[t.LineTaxAmount]] = {}
    for tax in lt.taxes:
        by_scheme.setdefault(tax.scheme, []).append(tax)
    return [
        t.TaxTotal(
            scheme=scheme,
            name=taxes[0].name,
            tax_amount=sum((x.tax_amount for x in taxes), Decimal(0)),
            subtotals=tuple(
                t.TaxSubtotal(
                    taxable_amount=x.taxable_amount, tax_amount=x.tax_amount, percent=x.percent
                )
                for x in taxes
            ),
        )
        for scheme, taxes in by_scheme.items()
    ]


def dian_extensions(
    content: etree._Element,
    *,
    software_id: str,
    pin: str,
    provider_nit: str,
    provider_dv: str,
    document_id: str,
    qr: str,
) -> etree._Element:
    """Append ``sts:DianExtensions`` (without InvoiceControl) to an ``ExtensionContent``.

    InvoiceSource, SoftwareProvider, SoftwareSecurityCode, AuthorizationProvider
    (DIAN) and QRCode: the part every DIAN document shares, invoices, notes and
    the simulator's ApplicationResponses alike. Returns the new element.
    """
    agency = {"schemeAgencyID": "195", "schemeAgencyName": DIAN_AGENCY}
    de = sub(content, STS + "DianExtensions")
    sub(
        sub(de, STS + "InvoiceSource"),
        CBC + "IdentificationCode",
        "CO",
        listAgencyID="6",
        listAgencyName=UNECE,
        listSchemeURI="urn:oasis:names:specification:ubl:codelist:gc:CountryIdentificationCode-2.1",
    )
    provider = sub(de, STS + "SoftwareProvider")
    sub(provider, STS + "ProviderID", provider_nit, **agency, schemeID=provider_dv, schemeName="31")
    sub(provider, STS + "SoftwareID", software_id, **agency)
    sub(
        de,
        STS + "SoftwareSecurityCode",
        software_security_code(software_id, pin, document_id),
        **agency,
    )
    sub(
        sub(de, STS + "AuthorizationProvider"),
        STS + "AuthorizationProviderID",
        DIAN_NIT,
        **agency,
        schemeID=DIAN_DV,
        schemeName="31",
    )
    sub(de, STS + "QRCode", qr)
    return de


PARTY_TAX_SCHEMES = {"01": "IVA", "04": "INC", "ZA": "IVA e INC", "ZZ": "No aplica"}
STANDARD_AGENCIES = {"001": "10", "010": "9", "020": "195"}


def build(request: m.DocumentRequest) -> BuiltDocument:
    """Build the unsigned UBL document of a validated request."""
    return _Builder(request).build()
