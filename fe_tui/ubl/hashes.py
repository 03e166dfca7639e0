"""CUFE, CUDE, SoftwareSecurityCode and QR text (SPEC §3).

CUFE (invoice types 01, 02, 04) and CUDE (03, 91, 92) share one formula::

    NumFac + FecFac + HorFac + ValFac + "01" + ValImp1 + "04" + ValImp2 + "03" + ValImp3
    + ValTot + NitFE + NumAdq + (ClTec | SoftwarePIN) + TipoAmbiente

hashed with SHA-384 and written as 96 lowercase hex characters. Amounts are
*truncated* (not rounded) to two decimals, exactly as DIAN's validator does
(``TruncateDecimal`` then ``F2``); when the XML already carries two decimals
both coincide. The three tax codes are always written, in that order, with
"0.00" for an absent tributo.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

#: Document types whose hash uses the software PIN instead of the range's technical key
#: (DIAN validator: 03, 05, 91, 92, 96).
PIN_DOCUMENT_TYPES = frozenset({"03", "05", "91", "92", "95", "96"})

QR_URLS = {
    1: "https://catalogo-vpfe.dian.gov.co/document/searchqr?documentkey=",
    2: "https://catalogo-vpfe-hab.dian.gov.co/document/searchqr?documentkey=",
}


def truncate2(value: Decimal | str) -> str:
    """Truncate an amount to two decimals and format it with a '.' separator.

    >>> truncate2(Decimal("10.999"))
    '10.99'
    """
    d = Decimal(value) if not isinstance(value, Decimal) else value
    return f"{d.quantize(Decimal('0.01'), rounding=ROUND_DOWN):f}"


def digits_only(value: str) -> str:
    """Keep the digits of an identification (NitFE / NumAdq are written without DV)."""
    return "".join(ch for ch in value if ch.isdigit())


@dataclass(frozen=True)
class HashComponents:
    """The fields that make up a CUFE/CUDE, each as written in the document."""

    number: str  #: cbc:ID, prefix included
    issue_date: str  #: YYYY-MM-DD
    issue_time: str  #: HH:MM:SS-05:00
    line_extension: Decimal  #: ValFac / ValDoc
    tax_01: Decimal  #: IVA
    tax_04: Decimal  #: INC
    tax_03: Decimal  #: ICA
    payable: Decimal  #: ValTot
    supplier_id: str  #: NitFE / NitOFE, without DV
    customer_id: str  #: NumAdq, without DV
    secret: str  #: ClTec (technical key) or software PIN
    environment: str  #: ProfileExecutionID, "1" or "2"
    labels: tuple[str, ...] = field(default=(), compare=False)

    def parts(self) -> list[tuple[str, str]]:
        """The composition as (label, text) pairs, in order."""
        return [
            ("NumFac", self.number),
            ("FecFac", self.issue_date),
            ("HorFac", self.issue_time),
            ("ValFac", truncate2(self.line_extension)),
            ("CodImp1", "01"),
            ("ValImp1", truncate2(self.tax_01)),
            ("CodImp2", "04"),
            ("ValImp2", truncate2(self.tax_04)),
            ("CodImp3", "03"),
            ("ValImp3", truncate2(self.tax_03)),
            ("ValTot", truncate2(self.payable)),
            ("NitFE", self.supplier_id),
            ("NumAdq", self.customer_id),
            ("ClTec/PIN", self.secret),
            ("TipoAmbiente", self.environment),
        ]

    def composition(self) -> str:
        """The exact string that is hashed."""
        return "".join(text for _, text in self.parts())

    def digest(self) -> str:
        """SHA-384 of the composition, 96 lowercase hex characters."""
        return sha384_hex(self.composition())


def sha384_hex(text: str) -> str:
    """SHA-384 of the UTF-8 text, lowercase hex."""
    return hashlib.sha384(text.encode("utf-8")).hexdigest()


def software_security_code(software_id: str, pin: str, number: str) -> str:
    """SHA-384(SoftwareID + PIN + NumFac), NumFac with its prefix (SPEC §3.6)."""
    return sha384_hex(f"{software_id}{pin}{number}")


def qr_url(environment: int, document_key: str) -> str:
    """DIAN's public look-up URL of a document by its CUFE/CUDE."""
    return QR_URLS[environment] + document_key


def qr_text(
    *,
    number: str,
    issue_date: str,
    issue_time: str,
    supplier_id: str,
    customer_id: str,
    line_extension: Decimal,
    iva: Decimal,
    other_taxes: Decimal,
    total: Decimal,
    document_key: str,
    environment: int,
) -> str:
    """The annex 1.8-style QR text block, one ``Key: value`` per line (SPEC §3.7).

    DIAN accepts this form and the bare URL alike; the block carries the
    amounts a buyer checks on the printed representation, so we write it.
    """
    lines = [
        f"NumFac: {number}",
        f"FecFac: {issue_date}",
        f"HorFac: {issue_time}",
        f"NitFac: {supplier_id}",
        f"DocAdq: {customer_id}",
        f"ValFac: {truncate2(line_extension)}",
        f"ValIva: {truncate2(iva)}",
        f"ValOtroIm: {truncate2(other_taxes)}",
        f"ValTolFac: {truncate2(total)}",
        f"CUFE: {document_key}",
        qr_url(environment, document_key),
    ]
    return "\n".join(lines)
