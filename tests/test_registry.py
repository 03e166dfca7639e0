"""The company store as the preflight's registry (CompanyRegistry) and `fe-tui check --company`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from fe_tui.checks import Registry, Status, preflight
from fe_tui.cli import main
from fe_tui.crypto.certificates import LoadedCertificate
from fe_tui.services import documents
from fe_tui.services.demo import create_demo_company
from fe_tui.services.registry import CompanyRegistry, registry_for
from fe_tui.settings import Settings
from fe_tui.store.db import Store
from tests.conftest import example_request


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    settings = Settings.load(tmp_path / "datos", env={})
    create_demo_company(Store(settings.data_dir), settings)
    return settings.data_dir


@pytest.fixture(scope="module")
def factura(signing_cert: LoadedCertificate) -> bytes:
    built = documents.build(example_request("factura"), validate=False).document
    return documents.sign_tree(built.root, signing_cert)


def statuses(xml: bytes, registry: Registry, code: str) -> set[Status]:
    return {f.status for f in preflight(xml, registry).findings if f.code == code}


def test_a_company_registry_checks_what_the_store_knows(data_dir: Path, factura: bytes) -> None:
    registry = registry_for(Store(data_dir), "900373076")
    assert registry.authoritative is False and registry.profile_execution_id == "2"
    report = preflight(factura, registry)
    assert report.ok, [f.to_dict() for f in report.rechazos]
    for code in ("FAJ24", "FAB24b", "FAB19b", "FAB27b", "FAB05b", "FAB11b", "FAD05d", "FAD06"):
        assert statuses(factura, registry, code) == {Status.PASSED}, code
    # Only DIAN knows whether the company is habilitada and the buyer's registered e-mail.
    assert statuses(factura, registry, "FAJ21") == {Status.CANNOT_CHECK}
    assert statuses(factura, registry, "FAJ71") == {Status.CANNOT_CHECK}


def test_a_number_outside_the_stored_range_is_a_rechazo(data_dir: Path, factura: bytes) -> None:
    store = Store(data_dir)
    (resolution,) = store.resolutions("900373076")
    shrunk = resolution.model_copy(update={"to_number": resolution.from_number})
    store.save_resolution("900373076", shrunk, source="prueba")
    report = preflight(factura, registry_for(store, "900373076"))
    assert {"FAD05d", "FAB12b"} <= {f.code for f in report.rechazos}
    fad05d = next(f for f in report.rechazos if f.code == "FAD05d")
    assert fad05d.value == "SETP990000001" and "no está en SETP" in (fad05d.detail or "")


def test_the_wrong_pin_in_the_store_is_fab27b(data_dir: Path, factura: bytes) -> None:
    store = Store(data_dir)
    company = store.require_company("900373076")
    assert company.software is not None
    other = company.model_copy(
        update={"software": company.software.model_copy(update={"pin": "99999"})}
    )
    assert "FAB27b" in {f.code for f in preflight(factura, CompanyRegistry(store, other)).rechazos}


def test_what_the_store_does_not_hold_is_cannot_check_not_a_rechazo(
    data_dir: Path, factura: bytes
) -> None:
    store = Store(data_dir)
    company = store.require_company("900373076")
    # Another company's document: the issuer rules are not decided on local data.
    other = company.model_copy(
        update={"nit": "800197268", "dv": "4", "issuer": None, "software": None}
    )
    report = preflight(factura, CompanyRegistry(store, other))
    assert report.ok
    for code in ("FAJ21", "FAJ24", "FAB24b", "FAD05d"):
        assert statuses(factura, CompanyRegistry(store, other), code) == {Status.CANNOT_CHECK}
    # A SoftwareID the store does not hold: DIAN may know it (not FAB24b).
    root = etree.fromstring(factura)
    el = next(e for e in root.iter() if etree.QName(e).localname == "SoftwareID")
    el.text = "00000000-0000-0000-0000-000000000000"
    tampered = etree.tostring(root)
    registry = registry_for(store, "900373076")
    assert statuses(tampered, registry, "FAB24b") == {Status.CANNOT_CHECK}
    # A resolution the store does not hold: not FAB05b.
    store2 = Store(data_dir)
    (resolution,) = store2.resolutions("900373076")
    store2.db.table("resolutions").truncate()
    store2.save_resolution(
        "900373076", resolution.model_copy(update={"number": "18760000999"}), source="prueba"
    )
    assert statuses(factura, registry_for(store2, "900373076"), "FAB05b") == {Status.CANNOT_CHECK}


def test_check_with_a_company(data_dir: Path, factura: bytes, tmp_path: Path) -> None:
    path = tmp_path / "factura.xml"
    path.write_bytes(factura)
    runner = CliRunner()
    base = ["--data-dir", str(data_dir), "check", str(path)]
    result = runner.invoke(main, [*base, "--company", "900373076", "--json"])
    data = json.loads(result.output)
    assert result.exit_code == 0 and data["company"] == "900373076"
    assert {"FAD05d", "FAB27b", "FAJ24"} <= set(data["passed"])
    assert {f["code"] for f in data["cannot_check"]} >= {"FAJ21"}
    result = runner.invoke(main, [*base, "--company", "900373076"])
    assert result.exit_code == 0 and "datos locales de" in result.output

    store = Store(data_dir)
    (resolution,) = store.resolutions("900373076")
    store.save_resolution(
        "900373076", resolution.model_copy(update={"to_number": 990000000}), source="prueba"
    )
    result = runner.invoke(main, [*base, "--company", "900373076"])
    assert result.exit_code == 1 and "Regla: FAD05d, Rechazo:" in result.output
    # Without --company the range is not checked at all.
    assert runner.invoke(main, base).exit_code == 0

    result = runner.invoke(main, [*base, "--company", "123"])
    assert result.exit_code == 2 and "No hay una empresa con NIT 123" in result.output
    assert "Traceback" not in result.output
