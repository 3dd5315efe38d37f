"""porv's pytest plugin without chains: its registration, its import cost, its small helpers."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from verifier.devnet.nodes import KINDS
from verifier.devnet.scenarios import DEMO_SCENARIO, demo_scenario
from verifier.errors import CsvError, SchemaError
from verifier.local.loaders import parse_holdings_csv
from verifier.testing import plugin

ROOT = Path(__file__).resolve().parents[3]


def test_registered_as_the_pytest11_entry_point_porv() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["entry-points"]["pytest11"] == {"porv": "verifier.testing.plugin"}


def test_loaded_once_in_this_run(pytestconfig: pytest.Config) -> None:
    registered = [
        p for p in pytestconfig.pluginmanager.get_plugins() if p is sys.modules[plugin.__name__]
    ]
    assert len(registered) == 1


def test_chain_kinds_are_the_devnet_kinds() -> None:
    assert plugin.CHAIN_KINDS == KINDS


def test_importing_the_plugin_imports_nothing_heavy() -> None:
    """pytest imports the plugin in every run of every project where porv is installed."""
    code = (
        "import json, sys, time; t = time.perf_counter(); import verifier.testing.plugin; "
        "print(json.dumps([time.perf_counter() - t, sorted(sys.modules)]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", f"import pytest; {code}"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    _seconds, modules = json.loads(out.stdout)
    heavy = [
        m
        for m in modules
        if m.split(".")[0] in ("web3", "eth_tester", "eth_account", "blspy", "coincurve")
        or m.startswith(("verifier.devnet", "verifier.app", "verifier.chain", "verifier.local"))
    ]
    assert heavy == []


def test_holdings_rows_become_the_csv_the_reader_accepts(tmp_path: Path) -> None:
    rows: list[dict[str, object]] = [
        {"holding_id": "H-1", "asset_class": "cash", "currency": "USD", "amount": "10.50"},
        {
            "holding_id": "H-2",
            "asset_class": "sovereign_debt",
            "currency": "USD",
            "amount": 5,
            "maturity": "2030-01-02",
            "rating": None,
        },
    ]
    path = tmp_path / "h.csv"
    path.write_text(plugin.holdings_csv_text(rows), encoding="utf-8")
    parsed = parse_holdings_csv(path)
    assert [h.holding_id for h in parsed] == ["H-1", "H-2"]
    assert plugin.holdings_csv_text("as,is\n") == "as,is\n"


def test_bad_rows_are_refused_by_the_reader_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    rows = [{"holding_id": "H-1", "asset_class": "cash", "currency": "USD", "amount": "-1"}]
    path.write_text(plugin.holdings_csv_text(rows), encoding="utf-8")
    with pytest.raises(CsvError) as err:
        parse_holdings_csv(path)
    assert "amount" in err.value.diagnostics()


def test_scenario_forms(tmp_path: Path) -> None:
    assert plugin.as_scenario(None) == demo_scenario()
    assert plugin.as_scenario(DEMO_SCENARIO) == demo_scenario()
    assert plugin.as_scenario(demo_scenario()) == demo_scenario()
    (tmp_path / "s.json").write_text(json.dumps(DEMO_SCENARIO), encoding="utf-8")
    assert plugin.as_scenario("s.json", base=tmp_path) == demo_scenario()
    with pytest.raises(SchemaError):
        plugin.as_scenario({"format": "porv.scenario/1"})
    with pytest.raises(TypeError, match="porv_scenario must return"):
        plugin.as_scenario(42)


def test_a_bundle_file_without_a_policy_is_refused() -> None:
    with pytest.raises(TypeError, match="give the policy file"):
        plugin.verify_bundle("bundle.json")
