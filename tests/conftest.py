"""Shared fixtures: a signing certificate and example requests dated today."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from fe_tui.crypto.certificates import LoadedCertificate, load_pkcs12
from fe_tui.domain.models import DocumentRequest
from fe_tui.services import documents
from tests import certs

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def example_request(name: str, *, issue_at: datetime | None = None) -> DocumentRequest:
    """An example JSON as a request, re-dated to ``issue_at`` (default: now in Colombia).

    Signing checks that IssueDate is the signing date (FAD09e), so documents
    signed in tests carry today's date.
    """
    return documents.issued_now(documents.load_request(EXAMPLES / f"{name}.json"), issue_at)


@pytest.fixture(scope="session")
def signing_cert() -> LoadedCertificate:
    leaf = certs.default_leaf()
    data = certs.make_p12(leaf.key, leaf.cert, certs.default_chain())
    return load_pkcs12(data, certs.DEFAULT_PASSWORD)


@pytest.fixture(scope="session")
def p12_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    leaf = certs.default_leaf()
    path = tmp_path_factory.mktemp("cert") / "empresa.p12"
    path.write_bytes(certs.make_p12(leaf.key, leaf.cert, certs.default_chain()))
    return path
