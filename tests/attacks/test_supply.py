"""Supply attacks: tokens minted after ``as_of`` must not count; minted before, they must.

This module mints, so it runs on its own pair of demo chains.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_abi.abi import encode

from tests.attacks.conftest import DemoNet
from tests.attacks.crafting import Workdir, assert_refused, new_workdir, porv, verify_cli
from tests.support.demo import demo_chains
from tests.support.faultproxy import Fault, FaultProxy
from verifier.app.demo import (
    DemoFiles,
    latest_time,
    mint_after,
    seal_as_of,
    write_demo_files,
)
from verifier.devnet.deploy import accounts, token_mint
from verifier.devnet.node import rpc_request
from verifier.model.timeutil import format_rfc3339

UNIT = 10**6  # pUSD has 6 decimals
#: Circulating supply of the demo at as_of: 150M on chain 31337 and 60M on chain 31338.
DEMO_CIRCULATING = 210_000_000 * UNIT
#: Enough to sink the demo's 243.75M of reserves if it counted.
BIG_MINT = 100_000_000 * UNIT


@pytest.fixture(scope="module")
def minting_net() -> Iterator[DemoNet]:
    """Demo chains of this module alone (its tests mint)."""
    with demo_chains("embedded") as net:
        yield net


@pytest.fixture(scope="module")
def minting_files(minting_net: DemoNet, tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    _, deployments, as_of = minting_net
    return write_demo_files(tmp_path_factory.mktemp("minting"), deployments, as_of=as_of)


def _head(url: str) -> dict[str, int]:
    block = rpc_request(url, "eth_getBlockByNumber", ["latest", False])
    return {"number": int(block["number"], 16), "timestamp": int(block["timestamp"], 16)}


def _total_supply(url: str, token: str) -> int:
    return int(rpc_request(url, "eth_call", [{"to": token, "data": "0x18160ddd"}, "latest"]), 16)


def test_supply_minted_after_as_of_not_counted(
    minting_net: DemoNet, minting_files: DemoFiles, tmp_path: Path
) -> None:
    _, deployments, as_of = minting_net
    first = deployments[0]
    before = _total_supply(first.url, first.token)
    mint_after(first, as_of, BIG_MINT)
    assert _total_supply(first.url, first.token) == before + BIG_MINT
    assert _head(first.url)["timestamp"] > as_of
    work = new_workdir(tmp_path / "work", minting_files)

    run = verify_cli(work.write(work.bundle_doc()), work)

    assert run.code == 0, run.stderr
    result = run.json
    assert result["status"] == "verified"
    assert int(result["supply"]["total_circulating"]) == DEMO_CIRCULATING
    pinned = {d["chain_id"]: d for d in result["supply"]["deployments"]}
    assert int(pinned[first.chain_id]["total_supply"]) == before
    assert pinned[first.chain_id]["block_timestamp"] <= as_of
    assert pinned[first.chain_id]["block_number"] < _head(first.url)["number"]
    assert result["coverage"]["supply"] == "210000000"


def test_node_reading_at_its_head_cannot_count_a_later_mint(
    minting_net: DemoNet, minting_files: DemoFiles, tmp_path: Path
) -> None:
    """A node that ignores the requested block and reads at its head would count the mint
    made after as_of; the block-number probe in the same batch refuses it (exit 3)."""
    _, deployments, as_of = minting_net
    first = deployments[0]
    if _head(first.url)["timestamp"] <= as_of:
        mint_after(first, as_of, BIG_MINT)
    work = new_workdir(tmp_path / "work", minting_files)
    before = work.snapshot()
    with FaultProxy(first.url, Fault.CALLS_AT_HEAD) as proxy:
        rpc = f"{first.chain_id}={proxy.url}"
        run = verify_cli(work.write(work.bundle_doc()), work, "--rpc", rpc)

    assert_refused(
        run, work, before, code=3, kinds={"wrong_block"}, words=["were executed at block"]
    )


def test_supply_minted_before_as_of_beyond_reserves_refused(
    minting_net: DemoNet, tmp_path: Path
) -> None:
    _, deployments, _ = minting_net
    first = deployments[0]
    token_mint(first.url, first.token, accounts(first.url)[4], BIG_MINT)
    as_of = latest_time(deployments)  # the mint is at or before it
    seal_as_of(deployments, as_of)  # a block after as_of on each chain: the pin is final
    files = write_demo_files(tmp_path / "files", deployments, as_of=as_of)
    work: Workdir = new_workdir(tmp_path / "work", files)

    run = verify_cli(work.write(work.bundle_doc()), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"insufficient_reserves"},
        words=["eligible reserves below circulating supply"],
        only=False,
    )
    assert set(run.kinds()) <= {"insufficient_reserves", "rule_failed"}
    assert int(run.json["supply"]["total_circulating"]) >= DEMO_CIRCULATING + BIG_MINT
    assert run.json["coverage"]["ok"] is False


def test_a_fake_multicall3_cannot_report_the_supply(
    minting_net: DemoNet, minting_files: DemoFiles, tmp_path: Path
) -> None:
    # code that answers every aggregate3 with chosen words (a supply of 1, no balances): it
    # has code, which is not enough; only the Multicall3 porv ships is used
    from tests.attacks.test_registry import deploy_runtime, returning

    _, deployments, _ = minting_net
    first = deployments[0]
    words = encode(["(bool,bytes)[]"], [[(True, encode(["uint256"], [1]))] * 3])
    fake = deploy_runtime(first.url, returning(words))
    at = latest_time(deployments)  # the fake has code at the block pinned for this time
    seal_as_of(deployments, at)
    policy = str(minting_files.policy)
    args = ["supply", "--policy", policy, "--at", format_rfc3339(at), "--format", "json"]
    run = porv([*args, "--multicall", f"{first.chain_id}={fake}"])
    assert run.code == 3, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert run.json["status"] == "error"
    assert "has code that is not Multicall3" in run.stderr
    assert '"total_circulating"' not in run.stdout
    # unpinned, porv reads the chain with a plain batch: the token's own numbers
    honest = porv(args)
    assert honest.code == 0, honest.stdout + honest.stderr
    assert all(int(d["circulating"]) > 1 for d in honest.json["deployments"])
