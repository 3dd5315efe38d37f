"""Number attacks: unbounded decimal strings, rounded coverage, issuer-granted approvals.

* Every decimal string (bundle disclosures, policy, holdings CSV, command-line amounts) is
  plain digits with a cap: ``"1E+300000000"`` must not become a 600 MB result, ``"1E+400"``
  must not be an internal error. Each is exit 2, typed, naming the field, at once.
* Coverage is exact: 10^11 tokens plus one base unit at 18 decimals is more than reserves of
  exactly 10^11 (a 28-digit context rounded them equal). This module's own chain carries an
  18-decimal token with that supply.
* An HKMA currency approval counts from the policy only, never from the bundle.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.attacks.conftest import DemoNet
from tests.attacks.crafting import (
    Doc,
    Run,
    Workdir,
    as_of,
    assert_refused,
    custodian,
    new_workdir,
    porv,
    resign,
    set_holdings,
    verify_cli,
)
from verifier.app.demo import ChainDeployment, DemoFiles, seal_as_of, write_demo_files
from verifier.devnet.node import rpc_request
from verifier.devnet.scenarios import DEMO_SCENARIO, parse_scenario, run_scenario
from verifier.model.holdings import Holding

HUGE = ["1E+300000000", "1E+400", "1e6", "1.5e2", " 100", "100 ", "NaN", "Infinity", "-5",
        "1_000", "0x10", "1" * 79]  # fmt: skip
#: A refusal must come at once, not after building a huge number.
FAST_S = 30.0
SALT = b"\0" * 32


def _holding(hid: str, cls: str, amount: int, *, currency: str = "USD", decimals: int = 2,
             maturity: int = 0, country: str = "US", rating: str = "") -> Holding:  # fmt: skip
    return Holding(hid, cls, currency, amount, decimals, maturity, "Bank One NA", country,
                   rating, "", 0, SALT)  # fmt: skip


def _refused_fast(run: Run, work: Workdir, started: float, *, kind: str, field: str) -> None:
    assert time.monotonic() - started < FAST_S
    assert len(run.stdout) < 20_000, f"{len(run.stdout)} bytes of output"
    assert_refused(run, work, None, code=2, kinds={kind})
    assert field in json.dumps(run.json["error"]), run.json


@pytest.mark.parametrize("amount", HUGE)
def test_disclosed_amount_must_be_a_plain_capped_decimal(work: Workdir, amount: str) -> None:
    def mutate(doc: Doc) -> None:
        doc["disclosures"] = {"paid_up_capital": {"amount": amount, "currency": "USD"}}

    started = time.monotonic()
    run = verify_cli(work.craft(mutate), work)
    _refused_fast(run, work, started, kind="schema_error", field="disclosures.paid_up_capital")


@pytest.mark.parametrize("amount", ["1E+300000000", "1E+400", "1" * 79])
def test_policy_min_coverage_must_be_a_plain_capped_decimal(work: Workdir, amount: str) -> None:
    text = work.policy.read_text()
    work.policy.write_text(text.replace('min_coverage = "1.00"', f'min_coverage = "{amount}"'))
    started = time.monotonic()
    run = verify_cli(work.write(work.bundle_doc()), work)
    _refused_fast(run, work, started, kind="policy_error", field="min_coverage")


def test_exponent_in_a_tree_amount_is_refused(work: Workdir) -> None:
    def mutate(doc: Doc) -> None:
        custodian(doc, "custodian-a")["tree"]["values"][0]["value"][3] = "1E+400"

    run = verify_cli(work.craft(mutate), work)
    assert_refused(run, work, None, code=2, kinds={"schema_error"}, words=["amount"])


@pytest.mark.parametrize("amount", ["1E+300000000", "1E+400", "1" * 79])
def test_csv_and_command_line_amounts_must_be_plain_capped_decimals(
    tmp_path: Path, amount: str
) -> None:
    header = "holding_id,asset_class,currency,amount,maturity,counterparty,country,rating,"
    header += "collateral,collateral_value\n"
    good = tmp_path / "good.csv"
    good.write_text(header + "D1,bank_deposit_demand,USD,100.00,,Bank One NA,US,A+,,\n")
    bad = tmp_path / "bad.csv"
    bad.write_text(header + f"D1,bank_deposit_demand,USD,{amount},,Bank One NA,US,A+,,\n")
    base = ["--currency", "USD", "--as-of", "2026-06-30", "--pack", "genius", "--format", "json"]
    disclosed = tmp_path / "disclosures.json"
    disclosed.write_text(f'{{"own_funds": {{"amount": "{amount}", "currency": "USD"}}}}')
    number = tmp_path / "number.json"  # the same as a bare JSON number (a float)
    number.write_text(f'{{"own_funds": {{"amount": {amount}, "currency": "USD"}}}}')
    cases = [
        (["rules", "check", str(bad), "--supply", "100", *base], "amount"),
        (["rules", "check", str(good), "--supply", amount, *base], "--supply"),
        (
            ["rules", "check", str(good), "--supply", "1", "--min-coverage", amount, *base],
            "--min-coverage",
        ),
        (
            ["rules", "check", str(good), "--supply", "1", "--fx-rate", f"EUR={amount}", *base],
            "--fx-rate",
        ),
        (["tree", "build", str(bad), "--output", str(tmp_path / "t.json")], "amount"),
        (
            ["rules", "check", str(good), "--supply", "1", "--disclosures", str(disclosed), *base],
            "own_funds.amount",
        ),
        (
            ["rules", "check", str(good), "--supply", "1", "--disclosures", str(number), *base],
            "own_funds.amount",
        ),
    ]
    for argv, field in cases:
        started = time.monotonic()
        run = porv(argv)
        assert time.monotonic() - started < FAST_S
        assert run.code == 2, (argv, run.code, run.stdout, run.stderr)
        assert "Traceback" not in run.stderr
        assert len(run.stdout) + len(run.stderr) < 20_000
        assert field in run.stdout + run.stderr, (argv, run.stdout, run.stderr)
        assert '"verified"' not in run.stdout and '"ok"' not in run.stdout


# --- issuer-granted approval (class 5) ----------------------------------------------------------


def _hkma_only(work: Workdir, options: str = "") -> None:
    text = work.policy.read_text()
    text = re.sub(r"jurisdictions = \[[^\]]*\]", 'jurisdictions = ["hkma"]', text)
    work.policy.write_text(text + options)


def _with_eur_deposit(doc: Doc) -> None:
    entry = custodian(doc, "custodian-a")
    from tests.attacks.crafting import tree

    holdings = [*tree(entry).holdings, _holding("A-EUR-1", "bank_deposit_demand", 100_000_00,
                                                  currency="EUR", country="DE")]  # fmt: skip
    set_holdings(entry, holdings)
    resign(doc)


def test_approval_in_disclosures_grants_nothing(work: Workdir) -> None:
    _hkma_only(work)

    def mutate(doc: Doc) -> None:
        _with_eur_deposit(doc)
        doc["disclosures"]["approved_currencies"] = ["EUR"]

    run = verify_cli(work.craft(mutate), work)
    assert_refused(run, work, None, code=1, kinds={"rule_failed"}, words=["hkma.same-currency"])
    assert "counts only when the policy records it" in run.details()


def test_approval_in_the_policy_counts(work: Workdir) -> None:
    _hkma_only(work, '\n[pack_options.hkma]\napproved_currencies = ["EUR"]\n')
    run = verify_cli(work.craft(_with_eur_deposit), work)
    assert run.code == 0, run.stdout + run.stderr
    assert run.json["status"] == "verified"


# --- rounded coverage (class 8) -----------------------------------------------------------------

WEI = 10**18
#: 10^11 tokens plus one base unit at 18 decimals: 30 significant digits.
SUPPLY_18 = 10**11 * WEI + 1


@pytest.fixture(scope="module")
def wei_net() -> Iterator[DemoNet]:
    """One chain of this module alone: an 18-decimal USD token, 10^11 tokens + 1 wei out."""
    doc = copy.deepcopy(DEMO_SCENARIO)
    doc["token"]["decimals"] = 18
    doc.pop("registry", None)
    doc["chains"] = [
        {
            "chain_id": 31337,
            "multicall3": True,
            "mints": [{"to": "account:1", "amount": str(SUPPLY_18)}],
            "excluded": ["account:9"],
        }
    ]
    net = run_scenario("embedded", parse_scenario(doc, "<18-decimal scenario>"))
    try:
        chain = net.chains[0]
        dep = ChainDeployment(chain.node.chain_id, chain.node.url, chain.token, chain.excluded[0])
        head = rpc_request(dep.url, "eth_getBlockByNumber", ["latest", False])
        when = int(head["timestamp"], 16)
        seal_as_of([dep], when)  # a block after as_of makes the pin final
        yield net, [dep], when
    finally:
        net.stop()


@pytest.fixture(scope="module")
def wei_files(wei_net: DemoNet, tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    _, deployments, when = wei_net
    return write_demo_files(tmp_path_factory.mktemp("wei"), deployments, as_of=when)


def _wei_work(files: DemoFiles, path: Path, reserve_cents: int) -> tuple[Workdir, Path]:
    """The 18-decimal policy and a bundle whose reserves are exactly ``reserve_cents``."""
    work = new_workdir(path, files)
    work.policy.write_text(work.policy.read_text().replace("decimals = 6", "decimals = 18"))
    doc = work.bundle_doc()
    doc["token"]["decimals"] = 18
    half = reserve_cents // 2
    set_holdings(custodian(doc, "custodian-a"), [_holding("A-DEP", "bank_deposit_demand", half)])
    set_holdings(custodian(doc, "custodian-b"), [_holding("B-CASH", "cash", reserve_cents - half)])
    resign(doc)
    assert as_of(doc) == files.as_of
    return work, work.write(doc)


def test_one_wei_over_reserves_of_exactly_the_supply_fails(
    wei_files: DemoFiles, tmp_path: Path
) -> None:
    work, bundle = _wei_work(wei_files, tmp_path / "work", 10**11 * 100)
    run = verify_cli(bundle, work)
    assert_refused(
        run, work, None, code=1, kinds={"insufficient_reserves", "rule_failed"},
        words=["100000000000.000000000000000001"],
    )  # fmt: skip
    assert run.json["supply"]["total_circulating"] == str(SUPPLY_18)
    assert run.json["coverage"]["ok"] is False


def test_reserves_one_cent_over_the_same_supply_verify(
    wei_files: DemoFiles, tmp_path: Path
) -> None:
    work, bundle = _wei_work(wei_files, tmp_path / "work", 10**11 * 100 + 1)
    run = verify_cli(bundle, work)
    assert run.code == 0, run.stdout + run.stderr
    assert run.json["coverage"]["supply"] == "100000000000.000000000000000001"
    assert run.json["coverage"]["ratio"] == "1"  # rounded down for display only
