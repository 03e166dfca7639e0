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


# -- alternative sources of each component (issue 13, issue 14 item 11) ---------------------------
def _find(root: etree._Element, path: str) -> etree._Element:
    from fe_tui import ns

    found = root.find(path, ns.XPATH)
    assert found is not None, path
    return found


def _set_uuid(root: etree._Element, value: str) -> None:
    _find(root, "cbc:UUID").text = value


def test_cufe_diagnosis_supplier_nit_from_party_legal_entity() -> None:
    root = builder.build(example_request("factura")).root
    legal = _find(root, "cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID")
    legal.text = "900373077"  # another software's PartyLegalEntity NIT
    facts = read_facts(root)
    _set_uuid(root, replace(facts.with_secret(PROD_KEY), supplier_id="900373077").digest())
    check = diagnose_uuid(read_facts(root), PROD_KEY)
    assert check.culprit == "NitFE"
    assert "PartyLegalEntity/CompanyID" in (check.explanation or "")


def test_cufe_diagnosis_iva_from_inclusive_minus_exclusive_without_tax_total() -> None:
    root = builder.build(example_request("factura")).root
    for tax_total in root.findall("{*}TaxTotal"):
        root.remove(tax_total)
    facts = read_facts(root)
    assert facts.tax_inclusive is not None and facts.tax_exclusive is not None
    iva = facts.tax_inclusive - facts.tax_exclusive
    assert iva > 0 and facts.components.tax_01 == 0
    _set_uuid(root, replace(facts.with_secret(PROD_KEY), tax_01=iva).digest())
    check = diagnose_uuid(read_facts(root), PROD_KEY)
    assert check.culprit == "ValImp1"
    assert "TaxInclusiveAmount − TaxExclusiveAmount" in (check.explanation or "")
    assert "no trae TaxTotal" in (check.explanation or "")


def test_cufe_diagnosis_empty_uuid_says_there_is_no_cufe() -> None:
    root = builder.build(example_request("factura")).root
    _set_uuid(root, "")
    check = diagnose_uuid(read_facts(root), PROD_KEY)
    assert not check.matches and check.culprit == "UUID"
    assert "no trae CUFE" in (check.explanation or "")


def test_cufe_diagnosis_missing_legal_monetary_total_says_the_amounts_are_missing() -> None:
    root = builder.build(example_request("factura")).root
    facts = read_facts(root)
    _set_uuid(root, facts.with_secret(PROD_KEY).digest())  # right key, real amounts
    root.remove(_find(root, "cac:LegalMonetaryTotal"))
    check = diagnose_uuid(read_facts(root), PROD_KEY)
    assert check.culprit == "ValFac/ValTot"
    assert "faltan los valores" in (check.explanation or "")
    assert "ClTec" not in (check.explanation or "")


@pytest.mark.parametrize(
    ("written", "hashed"),
    [
        ("10:30:00.123-05:00", "10:30:00-05:00"),
        ("10:30:00-05:00", "15:30:00Z"),
        ("10:30:00", "10:30:00-05:00"),
    ],
    ids=["milliseconds", "utc", "offset-added"],
)
def test_cufe_diagnosis_other_time_forms(written: str, hashed: str) -> None:
    root = builder.build(example_request("factura")).root
    _find(root, "cbc:IssueTime").text = written
    facts = read_facts(root)
    _set_uuid(root, replace(facts.with_secret(PROD_KEY), issue_time=hashed).digest())
    check = diagnose_uuid(read_facts(root), PROD_KEY)
    assert check.culprit == "HorFac", check.explanation


def test_cufe_diagnosis_names_two_components_when_it_takes_two() -> None:
    root = builder.build(example_request("factura")).root
    facts = read_facts(root)
    c = facts.with_secret(PROD_KEY)
    _set_uuid(root, replace(c, environment="1", issue_time=c.issue_time[:8]).digest())
    check = diagnose_uuid(read_facts(root), PROD_KEY)
    assert check.culprit is not None
    assert set(check.culprit.split(" + ")) == {"HorFac", "TipoAmbiente"}


def test_cli_cufe_without_legal_monetary_total(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from fe_tui.cli import main

    root = builder.build(example_request("factura")).root
    _set_uuid(root, read_facts(root).with_secret(PROD_KEY).digest())
    root.remove(_find(root, "cac:LegalMonetaryTotal"))
    path = tmp_path / "f.xml"
    path.write_bytes(etree.tostring(root))
    result = CliRunner().invoke(main, ["cufe", str(path), "--key", PROD_KEY])
    assert result.exit_code != 0
    assert "Componente: ValFac/ValTot" in result.output and "faltan los valores" in result.output
