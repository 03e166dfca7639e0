"""verify: a root whose namespace declarations changed after signing is diagnosed, not guessed."""

from __future__ import annotations

import pytest

from fe_tui.crypto.certificates import LoadedCertificate
from fe_tui.crypto.verify import verify_document
from fe_tui.services import documents
from tests.conftest import example_request

ROOT = b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"'
STS = b'xmlns:sts="urn:dian:gov:co:facturaelectronica:Structures-2-1"'


@pytest.fixture(scope="module")
def signed(signing_cert: LoadedCertificate) -> bytes:
    built = documents.build(example_request("factura"), validate=False).document
    xml = documents.sign_tree(built.root, signing_cert)
    assert ROOT in xml and STS in xml and verify_document(xml).valid
    return xml


@pytest.mark.parametrize(
    ("mutate", "proved"),
    [
        (
            lambda x: x.replace(ROOT, ROOT + b' xmlns:x="urn:otro"', 1),
            'se quita xmlns:x="urn:otro"',
        ),
        (
            lambda x: x.replace(STS, b'xmlns:sts="dian:gov:co:facturaelectronica:Structures-2-1"'),
            'xmlns:sts vuelve a ser "urn:dian:gov:co:facturaelectronica:Structures-2-1"',
        ),
        (
            lambda x: x.replace(
                ROOT,
                b'<fe:Invoice xmlns:fe="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"',
            ).replace(b"</Invoice>", b"</fe:Invoice>"),
            'se declara xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"',
        ),
    ],
    ids=["declaration-added", "sts-respelled", "default-namespace-made-a-prefix"],
)
def test_changed_root_namespace_context_is_proved(signed: bytes, mutate, proved: str) -> None:  # type: ignore[no-untyped-def]
    report = verify_document(mutate(signed))
    assert not report.valid
    text = " ".join(report.diagnosis)
    assert "re-indentó" not in text
    assert "Fallan todas las referencias y el valor de la firma" in text
    assert proved in text
    assert "KeyInfo y SignedProperties vuelven a coincidir" in text
    assert "sin tocar ningún espacio en blanco" in text


def test_no_proof_and_no_indentation_is_not_called_a_reindentation(signed: bytes) -> None:
    # Every signed part changes (an attribute order/value in the root would be too easy):
    # here the root gains a namespace no single or double change can explain.
    mutated = signed.replace(ROOT, ROOT + b' xmlns:x="urn:a" xmlns:y="urn:b" xmlns:z="urn:c"', 1)
    report = verify_document(mutated)
    text = " ".join(report.diagnosis)
    assert not report.valid and "re-indentó" not in text
    assert "no es una re-indentación" in text
