"""CUFE diagnosis on documents made wrong on purpose; DIAN file names; zip limits; safe XML."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from decimal import Decimal

import pytest
from lxml import etree

from fe_tui import xmlsafe
from fe_tui.domain.colombia import HABILITACION_TEST_KEY
from fe_tui.errors import NotDianDocumentError, PackagingError, UnsafeXmlError, XmlTooLargeError
from fe_tui.ubl import builder, packaging
from fe_tui.ubl.reader import diagnose_uuid, read_facts
from tests.conftest import example_request

PROD_KEY = "693ff6f2a553c3646a063436fd4dd9ded0311471"


def _invoice_with_uuid(make) -> etree._Element:  # type: ignore[no-untyped-def]
    """An example invoice whose cbc:UUID is replaced by ``make(components)``."""
    root = builder.build(example_request("factura")).root
    facts = read_facts(root)
    uuid = root.find("{*}UUID")
    assert uuid is not None
    uuid.text = make(facts.with_secret(PROD_KEY))
    return root


@pytest.mark.parametrize(
    ("mistake", "culprit", "words"),
    [
        (lambda c: replace(c, issue_time=c.issue_time[:8]).digest(), "HorFac", "-05:00"),
        (lambda c: replace(c, environment="1").digest(), "TipoAmbiente", "TipoAmbiente 1"),
        (lambda c: replace(c, customer_id=c.customer_id + "4").digest(), "NumAdq", "dígito"),
        (lambda c: replace(c, secret=HABILITACION_TEST_KEY).digest(), "ClTec/PIN", "habilitación"),
        (lambda c: "0" * 96, "ClTec/PIN", "ningún error conocido"),
    ],
    ids=["hour-without-offset", "environment", "buyer-dv", "hab-key", "unknown"],
)
def test_cufe_diagnosis_names_the_component(mistake, culprit: str, words: str) -> None:  # type: ignore[no-untyped-def]
    root = _invoice_with_uuid(mistake)
    check = diagnose_uuid(read_facts(root), PROD_KEY)
    assert not check.matches
    assert check.culprit == culprit
    assert words in (check.explanation or "")


def test_cufe_diagnosis_rounding_instead_of_truncating() -> None:
    root = builder.build(example_request("factura")).root
    lmt = root.find("{*}LegalMonetaryTotal")
    assert lmt is not None
    # Another software wrote 3 decimals and rounded them for the hash.
    for el in lmt:
        if etree.QName(el).localname == "PayableAmount":
            el.text = "1018060.005"
    facts = read_facts(root)
    rounded = replace(facts.with_secret(PROD_KEY), payable=Decimal("1018060.01"))
    uuid = root.find("{*}UUID")
    assert uuid is not None
    uuid.text = rounded.digest()
    check = diagnose_uuid(read_facts(root), PROD_KEY)
    assert check.culprit == "ValFac/ValImp/ValTot" and "trunca" in (check.explanation or "")


def test_read_facts_refuses_other_xml() -> None:
    with pytest.raises(NotDianDocumentError):
        read_facts(etree.fromstring(b"<Invoice><ID>1</ID></Invoice>"))


def test_file_names_hexadecimal_consecutive() -> None:
    pkg = packaging.pack(b"<x/>", document_type="01", nit="900373076", year=2026, consecutive=11)
    assert pkg.xml_name == "fv0900373076000260000000b.xml"
    assert pkg.zip_name == "z0900373076000260000000b.zip"
    assert packaging.NAME_RE.match(pkg.xml_name)
    assert packaging.pack(
        b"<x/>", document_type="91", nit="1", year=2025, consecutive=1
    ).xml_name == ("nc00000000010002500000001.xml")
    files = packaging.unzip(pkg.zip_bytes)
    assert files == {pkg.xml_name: b"<x/>"}
    assert "\n" not in pkg.content_b64
    with pytest.raises(PackagingError):
        packaging.pack(b"", document_type="01", nit="900373076", year=2026, consecutive=0)
    with pytest.raises(PackagingError):
        packaging.pack(b"", document_type="77", nit="900373076", year=2026, consecutive=1)


def test_unzip_limits_stop_a_zip_bomb() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomba.xml", b"\0" * (30 * 1024 * 1024))
    assert len(buf.getvalue()) < 100_000
    with pytest.raises(PackagingError, match="bomba"):
        packaging.unzip(buf.getvalue())
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(51):
            zf.writestr(f"f{i}.xml", b"x")
    with pytest.raises(PackagingError, match="51"):
        packaging.unzip(many.getvalue())
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../etc/passwd", b"x")
    with pytest.raises(PackagingError):
        packaging.unzip(evil.getvalue())
    with pytest.raises(PackagingError):
        packaging.unzip(b"no es un zip")


def test_safe_parser_refuses_entities_and_size() -> None:
    with pytest.raises(UnsafeXmlError):
        xmlsafe.parse_bytes(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
    with pytest.raises(XmlTooLargeError):
        xmlsafe.parse_bytes(b"<x>" + b"a" * 100 + b"</x>", max_bytes=50)
    root = xmlsafe.parse_bytes(b"<x>\r\n  <y/>\r\n</x>")
    assert root.text == "\n  "  # whitespace kept (signatures depend on it), CRLF normalised
