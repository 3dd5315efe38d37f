"""Finality attacks: a pin that is not final yet must never verify (DESIGN §1, "Final pin").

The pin at ``as_of`` holds only once every endpoint serves a block after ``as_of`` and that
block is final per the policy's ``[finality]``. An endpoint that is merely behind, an
``as_of`` the chain has not reached yet, or a successor not yet finalized is exit 3
(``not_final``); an endpoint's head never chooses an earlier pin. And supply finer than the
policy's decimals (dust sent to an excluded address) is rounded up and said so, never exit 3.

This module mints, so it runs on its own demo chains.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.attacks.conftest import DemoNet
from tests.attacks.crafting import Workdir, assert_refused, new_workdir, porv, verify_cli
from tests.support.demo import demo_chains
from tests.support.faultproxy import Fault, FaultProxy
from verifier.app.demo import (
    ChainDeployment,
    latest_time,
    seal_as_of,
    write_demo_files,
)
from verifier.chain.finality import latest_finality_warnings
from verifier.devnet.deploy import accounts, deploy, set_next_timestamp, token_mint, transact
from verifier.devnet.node import rpc_request
from verifier.result.seal import seal

UNIT = 10**6  # pUSD has 6 decimals
#: Enough to sink the demo's 243.75M of reserves if it counted.
BIG_MINT = 100_000_000 * UNIT


@pytest.fixture(scope="module")
def final_net() -> Iterator[DemoNet]:
    """Demo chains of this module alone (its tests mint)."""
    with demo_chains("embedded") as net:
        yield net


def _head(url: str) -> tuple[int, int]:
    block = rpc_request(url, "eth_getBlockByNumber", ["latest", False])
    return int(block["number"], 16), int(block["timestamp"], 16)


def _files(
    deployments: list[ChainDeployment], as_of: int, tmp_path: Path, finality: str = "latest"
) -> Workdir:
    files = write_demo_files(tmp_path / "files", deployments, as_of=as_of, finality=finality)
    return new_workdir(tmp_path / "work", files)


@pytest.mark.parametrize("lagging_first", [False, True])
def test_lagging_endpoint_cannot_hide_a_mint_before_as_of(
    final_net: DemoNet, tmp_path: Path, lagging_first: bool
) -> None:
    """An endpoint that is behind (every answer true, its head older) made porv pin below the
    mint; now it cannot confirm the pin, and the run cannot complete."""
    _, deployments, _ = final_net
    first = deployments[0]
    token_mint(first.url, first.token, accounts(first.url)[4], BIG_MINT)
    mint_block, _ = _head(first.url)
    as_of = latest_time(deployments)  # the mint is before as_of: it must count
    seal_as_of(deployments, as_of)
    work = _files(deployments, as_of, tmp_path)
    bundle = work.write(work.bundle_doc())

    # with the honest endpoint alone the mint counts, and the reserves are short
    honest_run = verify_cli(bundle, work)
    assert honest_run.code == 1, honest_run.stderr
    assert "insufficient_reserves" in honest_run.kinds()

    head, _ = _head(first.url)
    lag = head - mint_block + 2  # the lagging node has not seen the mint
    with FaultProxy(first.url, Fault.LAG, lag=lag) as proxy:
        behind = proxy.url
        urls = [behind, first.url] if lagging_first else [first.url, behind]
        run = verify_cli(bundle, work, *(f"--rpc={first.chain_id}={u}" for u in urls))

    why = "is not after as_of" if lagging_first else f"endpoint {behind} is behind"
    assert_refused(
        run,
        work,
        None,
        code=3,
        kinds={"not_final"},
        words=[f"not final yet on chain {first.chain_id}", why],
    )
    assert run.json["supply"] is None


def test_as_of_inside_the_skew_is_not_final_and_a_later_mint_cannot_slip_in(
    final_net: DemoNet, tmp_path: Path
) -> None:
    """as_of a few minutes ahead: the head is not a final pin, before or after a mint made a
    second later (still before as_of, so it changes the supply at as_of)."""
    _, deployments, _ = final_net
    first = deployments[0]
    as_of = max(latest_time(deployments), int(time.time())) + 120  # inside the 300 s skew
    work = _files(deployments, as_of, tmp_path)
    bundle = work.write(work.bundle_doc())
    words = [f"not final yet on chain {first.chain_id}", "is not after as_of"]

    run = verify_cli(bundle, work)
    assert_refused(run, work, None, code=3, kinds={"not_final"}, words=words)

    _, head_time = _head(first.url)
    set_next_timestamp(first.url, head_time + 1)  # a second later, before as_of
    token_mint(first.url, first.token, accounts(first.url)[5], 7 * UNIT)
    assert _head(first.url)[1] <= as_of
    run = verify_cli(bundle, work)
    assert_refused(run, work, None, code=3, kinds={"not_final"}, words=words)

    # once each chain has a block after as_of, the pin is final, and that mint counts
    seal_as_of(deployments, as_of)
    run = verify_cli(bundle, work)
    assert run.code in (0, 1), run.stderr
    pinned = next(d for d in run.json["supply"]["deployments"] if d["chain_id"] == first.chain_id)
    supply_now = rpc_request(first.url, "eth_call", [{"to": first.token, "data": "0x18160ddd"}])
    assert int(pinned["total_supply"]) == int(supply_now, 16)
    assert pinned["finality"] == "latest"
    assert pinned["successor"]["block_timestamp"] > as_of >= pinned["block_timestamp"]


def test_dust_on_a_finer_deployment_rounds_supply_up(final_net: DemoNet, tmp_path: Path) -> None:
    """1 wei sent to an excluded address of an 18-decimal deployment made every verify exit 3;
    supply is rounded up to the policy's 6 decimals (never down), and the result says so."""
    _, demo, _ = final_net
    six = demo[0]
    url = demo[1].url
    holder, treasury = accounts(url)[6], accounts(url)[7]
    token18 = deploy(url, "TestStablecoin", "pUSD (18)", "pUSD", 18)
    token_mint(url, token18, holder, 60_000_000 * 10**18)
    six_token = deploy(six.url, "TestStablecoin", "pUSD (6)", "pUSD", 6)
    token_mint(six.url, six_token, accounts(six.url)[6], 150_000_000 * UNIT)
    token_mint(six.url, six_token, six.treasury, 35_000_000 * UNIT)
    # the griefing: anyone holding the token sends 1 wei to the excluded treasury
    transact(url, "TestStablecoin", token18, "transfer", treasury, 1, sender=holder)
    deployments = [
        ChainDeployment(six.chain_id, six.url, six_token, six.treasury),
        ChainDeployment(demo[1].chain_id, url, token18, treasury),
    ]
    as_of = latest_time(deployments)
    seal_as_of(deployments, as_of)
    work = _files(deployments, as_of, tmp_path)
    before = work.snapshot()
    out = work.path / "result.json"

    run = verify_cli(work.write(work.bundle_doc()), work, "--output", str(out))

    assert run.code == 0, run.stderr + run.stdout
    result = json.loads(out.read_text())
    assert result["status"] == "verified"
    fine = result["supply"]["deployments"][1]
    assert fine["decimals"] == 18 and fine["circulating"] == str(60_000_000 * 10**18 - 1)
    assert fine["rounded_up"] == "1"
    assert "rounded_up" not in result["supply"]["deployments"][0]
    assert result["supply"]["total_circulating"] == str(210_000_000 * UNIT)
    supply_check = next(c for c in result["checks"] if c["id"] == "supply")
    assert "rounded up to the policy's 6 decimals" in supply_check["detail"]
    assert f"chain {demo[1].chain_id} token {token18} by 1 base unit(s)" in supply_check["detail"]
    assert work.snapshot() != before  # verified: the rollback floor advanced

    # offline recheck accepts exactly the rounded-up sum, and nothing else
    ok = porv(["recheck", str(out)])
    assert ok.code == 0, ok.stderr
    for field, value in (("rounded_up", "0"), ("rounded_up", "2")):
        doc = json.loads(out.read_text())
        doc["supply"]["deployments"][1][field] = value
        seal(doc)
        edited = work.path / f"edited-{value}.json"
        edited.write_text(json.dumps(doc))
        bad = porv(["recheck", str(edited), "--format", "json"])
        assert bad.code == 1, bad.stderr
        assert "rounded up by" in bad.stderr
    doc = json.loads(out.read_text())
    doc["supply"]["deployments"][1]["finality"] = "finalized"  # not the policy's
    seal(doc)
    edited = work.path / "edited-finality.json"
    edited.write_text(json.dumps(doc))
    bad = porv(["recheck", str(edited)])
    assert bad.code == 1 and "pinned with finality 'finalized'" in bad.stderr
    doc = json.loads(out.read_text())
    doc["supply"]["total_circulating"] = str(210_000_000 * UNIT - 1)  # rounded down instead
    doc["coverage"]["supply"] = "209999999.999999"
    seal(doc)
    edited = work.path / "edited-down.json"
    edited.write_text(json.dumps(doc))
    bad = porv(["recheck", str(edited)])
    assert bad.code == 1 and "is not the sum of the deployments" in bad.stderr


@pytest.fixture(scope="module")
def anvil_net() -> Iterator[DemoNet]:
    """The demo's two chains on anvil, whose ``finalized`` block trails its head by 64."""
    with demo_chains("anvil") as net:
        yield net


@pytest.mark.anvil
def test_successor_not_yet_finalized_on_anvil(anvil_net: DemoNet, tmp_path: Path) -> None:
    _, deployments, as_of = anvil_net
    work = _files(deployments, as_of, tmp_path, finality="finalized")
    bundle = work.write(work.bundle_doc())

    run = verify_cli(bundle, work)
    assert_refused(
        run,
        work,
        None,
        code=3,
        kinds={"not_final"},
        words=["not final yet on chain 31337", "is not finalized on endpoint"],
    )

    for d in deployments:
        rpc_request(d.url, "anvil_mine", [hex(63)])
    run = verify_cli(bundle, work)  # 63 blocks on top of the successor: not yet
    assert_refused(run, work, None, code=3, kinds={"not_final"}, words=["is not finalized"])

    for d in deployments:
        rpc_request(d.url, "anvil_mine", [hex(1)])
    run = verify_cli(bundle, work)
    assert run.code == 0, run.stderr + run.stdout
    assert run.json["status"] == "verified"
    assert {d["finality"] for d in run.json["supply"]["deployments"]} == {"finalized"}


def test_latest_finality_is_recorded_and_warns_only_off_this_machine(work: Workdir) -> None:
    # the demo policy sets "latest" on both of its chains, whose endpoints are on 127.0.0.1
    bundle = work.write(work.bundle_doc())
    run = verify_cli(bundle, work)
    assert run.code == 0, run.stdout + run.stderr
    assert "warning" not in run.stderr, run.stderr
    rows = run.json["supply"]["deployments"]
    assert {(d["chain_id"], d["finality"]) for d in rows} == {(31337, "latest"), (31338, "latest")}
    # the same mode for an endpoint elsewhere is said (the pure rule; no traffic leaves here)
    latest = {31337: "latest", 31338: "latest", 1: 12}
    rpc = {
        31337: ["http://127.0.0.1:8545"],
        31338: ["http://localhost:8546", "https://node.example:443/v1/KEY"],
        1: ["https://node.example"],
    }
    (warning,) = latest_finality_warnings(latest, rpc)
    assert warning.startswith('chain 31338 uses finality "latest"')
    assert "KEY" not in warning
    assert latest_finality_warnings({31337: "latest"}, {31337: ["http://[::1]:8545"]}) == []
