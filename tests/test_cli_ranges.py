"""``fe-tui ranges sync|add|list|associate|thresholds`` (issue 11, item 4; seed 004, SPEC §8).

The clock is fixed with ``FE_TUI_NOW`` (the CLI) or ``now=`` (the services); the
ledger gets numbered documents written directly, so used numbers and the burn
rate are known.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from fe_tui.cli import main
from fe_tui.domain.colombia import COLOMBIA_TZ
from fe_tui.services import ranges as svc
from fe_tui.services.demo import DEMO_CERT_PASSWORD, create_demo_company
from fe_tui.services.documents import load_certificate
from fe_tui.services.sessions import simulator_config_for
from fe_tui.settings import Settings
from fe_tui.simulator import create_app
from fe_tui.store.db import Store
from fe_tui.store.ledger import Ledger

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=COLOMBIA_TZ)
CLOCK = {"FE_TUI_NOW": NOW.isoformat()}
KEY = "fc8eac422eba16e22ffd8c6f94b3f40a6e38162c"


def run(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["--data-dir", str(data_dir), *args], env=env)


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "datos"
    assert run(folder, "company", "add", "900373076-4", "--name", "Tostadora").exit_code == 0
    return folder


def add(data_dir: Path, *extra: str) -> Result:
    return run(data_dir, "ranges", "add", "--technical-key", KEY, *extra)


def fe_range(data_dir: Path, **kw: Any) -> Result:
    values = {
        "prefix": "FE",
        "number": "18764000000001",
        "from": "1",
        "to": "1000",
        "valid-from": "2026-01-01",
        "valid-to": "2027-06-30",
        **kw,
    }
    return add(data_dir, *[x for k, v in values.items() for x in (f"--{k}", str(v))])


def issue(data_dir: Path, prefix: str, first: int, per_day: list[int]) -> None:
    """Numbered documents in the ledger: ``per_day[i]`` documents on NOW - (len-1-i) days."""
    ledger = Ledger(data_dir / "companies" / "900373076" / "ledger")
    number = first
    start = NOW.date() - timedelta(days=len(per_day) - 1)
    with ledger.transaction():
        for i, count in enumerate(per_day):
            day = (start + timedelta(days=i)).isoformat()
            for _ in range(count):
                ledger.append(
                    "added",
                    f"{prefix}{number}",
                    number=number,
                    prefix=prefix,
                    type="01",
                    kind="invoice",
                    state="accepted",
                    issue_date=day,
                )
                number += 1


def listing(data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = run(data_dir, "ranges", "list", "--json", *extra, env=env or CLOCK)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.output)


def test_manual_entry_checks_prefix_overlap_and_dates(data_dir: Path) -> None:
    assert fe_range(data_dir).exit_code == 0
    long_prefix = fe_range(data_dir, prefix="FEXYZ", number="2")
    assert long_prefix.exit_code == 2 and "hasta 4" in long_prefix.output
    crossing = fe_range(data_dir, number="18764000000002", **{"from": "900", "to": "2000"})
    assert crossing.exit_code == 2 and "se cruza" in crossing.output
    backwards = fe_range(data_dir, number="3", prefix="NC", **{"valid-to": "2025-01-01"})
    assert backwards.exit_code == 2 and "vigencia" in backwards.output
    bad_date = fe_range(data_dir, number="4", prefix="NC", **{"valid-to": "30/06/2027"})
    assert bad_date.exit_code == 2 and "AAAA-MM-DD" in bad_date.output
    [(res, source)] = Store(data_dir).resolution_records("900373076")
    assert res.prefix == "FE" and source == "manual"


def test_used_remaining_and_burn_rate_forecast(data_dir: Path) -> None:
    assert fe_range(data_dir).exit_code == 0
    issue(data_dir, "FE", 1, [30] * 29)  # 870 used, 30 a day for 29 days
    data = listing(data_dir)
    [fe] = data["resolutions"]
    assert fe["source"] == "manual" and fe["current"] is True
    assert (fe["used"], fe["remaining"]) == (870, 130)
    assert fe["daily_rate"] == "30.00"
    assert fe["days_to_exhaustion"] == 5  # ceil(130 / 30)
    assert fe["exhaustion_date"] == (NOW.date() + timedelta(days=5)).isoformat()
    assert fe["days_to_expiry"] == (date(2027, 6, 30) - NOW.date()).days
    codes = {f["code"]: f for f in data["findings"]}
    assert "se_agota_pronto" in codes and codes["se_agota_pronto"]["severity"] == "warning"
    assert data["severity"] == "warning"
    text = run(data_dir, "ranges", "list", env=CLOCK)
    assert text.exit_code == 0 and "se agota en 5 días" in text.output


def test_thresholds_are_configurable(data_dir: Path) -> None:
    assert fe_range(data_dir, **{"valid-to": "2026-12-10"}).exit_code == 0  # 20 days left
    assert "vence_pronto" in {f["code"] for f in listing(data_dir)["findings"]}
    relaxed = listing(data_dir, "--expiry-days", "10")
    assert "vence_pronto" not in {f["code"] for f in relaxed["findings"]}
    assert relaxed["thresholds"]["expiry_days"] == 10
    saved = run(data_dir, "ranges", "thresholds", "--expiry-days", "5", "--json")
    assert json.loads(saved.output)["thresholds"]["expiry_days"] == 5
    assert "vence_pronto" not in {f["code"] for f in listing(data_dir)["findings"]}
    bad = run(data_dir, "ranges", "thresholds", "--remaining-percent", "150")
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_expired_resolution_with_numbers_left_needs_habilitar(data_dir: Path) -> None:
    assert fe_range(data_dir, **{"valid-to": "2026-10-31"}).exit_code == 0
    issue(data_dir, "FE", 1, [10])
    result = run(data_dir, "ranges", "list", env=CLOCK)
    assert result.exit_code == 1  # no usable resolution: a problem
    assert "Habilitar" in result.output and "990 números sin usar" in result.output
    data = listing(data_dir)
    assert data["resolutions"][0]["state"] == "vencida"
    assert {"vencida_con_numeros", "sin_resolucion_vigente"} <= {
        f["code"] for f in data["findings"]
    }


def test_gap_and_overlap_are_reported(data_dir: Path) -> None:
    assert fe_range(data_dir).exit_code == 0
    assert (
        fe_range(data_dir, number="18764000000002", **{"from": "2001", "to": "3000"}).exit_code == 0
    )
    [gap] = listing(data_dir)["gaps"]
    assert (gap["from_number"], gap["to_number"]) == (1001, 2000)
    # An overlap can only come from DIAN's data (manual entry refuses it): store one directly.
    from fe_tui.domain.models import Resolution

    store = Store(data_dir)
    store.save_resolution(
        "900373076",
        Resolution(
            number="18764000000003",
            prefix="FE",
            from_number=500,
            to_number=1500,
            valid_from=date(2026, 1, 1),
            valid_to=date(2027, 1, 1),
            technical_key=KEY,
        ),
        source="dian",
    )
    data = listing(data_dir)
    assert data["overlaps"] and data["severity"] == "problem"


def test_recent_prefix_association_waits_about_two_hours(data_dir: Path) -> None:
    assert fe_range(data_dir).exit_code == 0
    assoc = run(data_dir, "ranges", "associate", "--prefix", "FE2", "--number", "187699", env=CLOCK)
    assert assoc.exit_code == 0 and "2 horas" in assoc.output
    findings = {f["code"]: f for f in listing(data_dir)["findings"]}
    assert "11:00" in findings["asociacion_reciente"]["message"]
    later = {"FE_TUI_NOW": (NOW + timedelta(hours=3)).isoformat()}
    codes = {f["code"] for f in listing(data_dir, env=later)["findings"]}
    assert "asociacion_sin_sincronizar" in codes and "asociacion_reciente" not in codes


def test_sync_from_the_in_process_simulator_via_the_cli(tmp_path: Path) -> None:
    settings = Settings.load(tmp_path / "demo")
    create_demo_company(Store(settings.data_dir), settings)
    env = {"FE_TUI_CERT_PASSWORD": DEMO_CERT_PASSWORD}
    result = run(settings.data_dir, "ranges", "sync", "--json", env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert "Simulador" in data["endpoint"]
    [(res, source)] = Store(settings.data_dir).resolution_records("900373076")
    assert source == "dian" and res.prefix == "SETP" and len(res.technical_key) == 40
    again = json.loads(run(settings.data_dir, "ranges", "sync", "--json", env=env).output)
    assert len(again["unchanged"]) == 1 and again["added"] == again["updated"] == []
    no_password = run(settings.data_dir, "ranges", "sync", env={"FE_TUI_CERT_PASSWORD": None})  # type: ignore[dict-item]
    assert no_password.exit_code == 2 and "FE_TUI_CERT_PASSWORD" in no_password.output


async def test_sync_asks_production_by_default_and_stores_the_keys(tmp_path: Path) -> None:
    """A company in habilitación syncs against production (where the keys are), SPEC §8.2."""
    from fe_tui.domain.models import Resolution

    settings = Settings.load(tmp_path / "datos", env={})
    store = Store(settings.data_dir)
    made = create_demo_company(store, settings)
    company = made.company.model_copy(update={"environment": "habilitacion"})
    store.save_company(company)
    production = Resolution(
        number="18764000000009",
        prefix="FEV",
        from_number=1,
        to_number=5000,
        valid_from=date(2026, 1, 1),
        valid_to=date(2027, 12, 31),
        technical_key="a" * 40,
    )
    config = simulator_config_for(store, company, settings)
    issuer = config.issuers[0].model_copy(
        update={"ranges": [*config.issuers[0].ranges, production]}
    )
    config = config.model_copy(update={"issuers": [issuer, *config.issuers[1:]]})
    transport = httpx.ASGITransport(app=create_app(config))
    cert = load_certificate(made.certificate_path, DEMO_CERT_PASSWORD)
    result = await svc.sync_ranges(store, settings, company, cert, transport=transport)
    assert result.endpoint == "DIAN producción"
    assert [r.number for r in result.added] == ["18764000000009"]
    sources = svc.range_sources(store, company.nit)
    assert sources[("FEV", "18764000000009")] == "dian"
    assert sources[("SETP", "18760000001")] == "dian"  # was "simulador": now DIAN's
    [fev] = store.resolutions(company.nit, "FEV")
    assert fev.technical_key == "a" * 40
    own = await svc.sync_ranges(
        store, settings, company, cert, endpoint="empresa", transport=transport
    )
    assert "habilitación" in own.endpoint.lower()


def test_numbering_overview_service_reads_store_and_ledger(data_dir: Path) -> None:
    assert fe_range(data_dir).exit_code == 0
    issue(data_dir, "FE", 1, [0, 4, 0, 4])
    store = Store(data_dir)
    report = svc.numbering_overview(store, store.require_company(), NOW)
    current = report.current("FE")
    assert current is not None and current.used == 8
    assert str(current.daily_rate) == "2.67"  # 8 over the 3 days since the first document
