"""CUFE/CUDE/SoftwareSecurityCode against the annex 1.9 vectors (SPEC §3.5)."""

from decimal import Decimal as D

import pytest

from fe_tui.ubl.hashes import HashComponents, qr_url, software_security_code, truncate2


def _components(*a: str) -> HashComponents:
    (num, date, time, val, i1, i4, i3, tot, nit, adq, secret, env) = a
    return HashComponents(
        num, date, time, D(val), D(i1), D(i4), D(i3), D(tot), nit, adq, secret, env
    )


@pytest.mark.parametrize(
    ("args", "composition", "digest"),
    [
        (
            (
                "323200000129",
                "2019-01-16",
                "10:53:10-05:00",
                "1500000.00",
                "285000.00",
                "0.00",
                "0.00",
                "1785000.00",
                "700085371",
                "800199436",
                "693ff6f2a553c3646a063436fd4dd9ded0311471",
                "1",
            ),
            "3232000001292019-01-1610:53:10-05:001500000.0001285000.00040.00030.001785000.00"
            "700085371800199436693ff6f2a553c3646a063436fd4dd9ded03114711",
            "8bb918b19ba22a694f1da11c643b5e9de39adf60311cf179179e9b33381030bcd4c3c3f156c506ed5908f9276f5bd9b4",
        ),
        (
            (
                "8110007871",
                "2019-02-20",
                "16:46:55-05:00",
                "235.28",
                "19.00",
                "0.00",
                "8.28",
                "262.56",
                "900373076",
                "8355990",
                "12345",
                "2",
            ),
            "81100078712019-02-2016:46:55-05:00235.280119.00040.00038.28262.569003730768355990123452",
            "955327eb55f8bdf16d069358a063d87e1577a292cb088ec186ed60bbc38e750b7b3980659b278ead789b95f9c51a9ef7",
        ),
        (
            (
                "8110007871",
                "2019-01-12",
                "07:00:00-05:00",
                "5000.00",
                "950.00",
                "0.00",
                "0.00",
                "5950.00",
                "900373076",
                "8355990",
                "12301",
                "1",
            ),
            "81100078712019-01-1207:00:00-05:005000.0001950.00040.00030.005950.009003730768355990123011",
            "907e4444decc9e59c160a2fb3b6659b33dc5b632a5008922b9a62f83f757b1c448e47f5867f2b50dbdb96f48c7681168",
        ),
    ],
    ids=["cufe-11.2", "cude-type03-11.4.1", "cude-credit-note-11.4.3"],
)
def test_annex_vectors(args: tuple[str, ...], composition: str, digest: str) -> None:
    c = _components(*args)
    assert c.composition() == composition
    assert c.digest() == digest


def test_amounts_are_truncated_not_rounded() -> None:
    assert truncate2(D("10.999")) == "10.99"
    assert truncate2(D("1785000")) == "1785000.00"
    assert truncate2(D("0.005")) == "0.00"
    # Truncation changes the hash relative to rounding: a wrong implementation is caught.
    a = _components(
        "1", "2019-01-01", "00:00:00-05:00", "10.999", "0", "0", "0", "10.999", "1", "2", "k", "2"
    )
    b = _components(
        "1", "2019-01-01", "00:00:00-05:00", "11.00", "0", "0", "0", "11.00", "1", "2", "k", "2"
    )
    assert a.digest() != b.digest()
    assert "10.99" in a.composition()


def test_software_security_code_spec_example() -> None:
    assert software_security_code(
        "fa326ca7-c1f8-40d3-a6fc-24d7c1040607", "12345", "SETP990000001"
    ) == (
        "67fc5250d404b2faebf0d4902990fa62c44bb282f55ff1d2bbf2ffb57d3bdfcbbe2613cca1384e673ed8029c545cc3a2"
    )


def test_qr_url_per_environment() -> None:
    assert qr_url(1, "abc").startswith("https://catalogo-vpfe.dian.gov.co/")
    assert qr_url(2, "abc").startswith("https://catalogo-vpfe-hab.dian.gov.co/")
    assert qr_url(2, "abc").endswith("documentkey=abc")
