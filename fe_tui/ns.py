"""XML namespace URIs used across UBL, DIAN extensions, XMLDSig and XAdES."""

from __future__ import annotations

INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
DEBIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:DebitNote-2"
APPLICATION_RESPONSE = "urn:oasis:names:specification:ubl:schema:xsd:ApplicationResponse-2"
ATTACHED_DOCUMENT = "urn:oasis:names:specification:ubl:schema:xsd:AttachedDocument-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
EXT = "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2"
#: DIAN extension namespace as we write it (SPEC §2.1: the URN form).
STS = "urn:dian:gov:co:facturaelectronica:Structures-2-1"
#: Other spellings seen in DIAN-accepted documents (readers accept all of them).
STS_ALTERNATIVES = (
    STS,
    "dian:gov:co:facturaelectronica:Structures-2-1",
    "http://www.dian.gov.co/contratos/facturaelectronica/v1/Structures",
)
DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
XADES141 = "http://uri.etsi.org/01903/v1.4.1#"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

#: Root namespace of each UBL document root element.
ROOT_NS = {
    "Invoice": INVOICE,
    "CreditNote": CREDIT_NOTE,
    "DebitNote": DEBIT_NOTE,
    "ApplicationResponse": APPLICATION_RESPONSE,
    "AttachedDocument": ATTACHED_DOCUMENT,
}

#: Prefix map for XPath look-ups (the default namespace cannot be used there).
XPATH = {
    "cac": CAC,
    "cbc": CBC,
    "ext": EXT,
    "ds": DS,
    "xades": XADES,
    "xades141": XADES141,
}


def q(ns: str, local: str) -> str:
    """Clark notation ``{ns}local``."""
    return f"{{{ns}}}{local}"
