"""`porv supply` against real local chains: embedded (py-evm), anvil and hardhat.

Two chains per kind (ids 31337 and 31338), a TestStablecoin on each with an excluded treasury,
mints before and after a past ``as_of``: the reported circulating total is exact and ignores
the later mints. On anvil, a lying proxy in front of the real node and an endpoint on the
wrong chain make the command exit 3.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Run, porv
from tests.support.faultproxy import FaultProxy
from verifier.chain.supply import clear_header_cache, read_supply
from verifier.devnet import deploy
from verifier.devnet.node import Node
from verifier.model.policy import PinnedDeployment
from verifier.model.timeutil import format_rfc3339

MARKS = {"anvil": pytest.mark.anvil, "hardhat": pytest.mark.hardhat}
KINDS = [pytest.param(k, marks=MARKS.get(k, ())) for k in ("embedded", "anvil", "hardhat")]


@dataclass
class Deployed:
    """Two chains with tokens minted around ``as_of``."""

    nodes: dict[int, Node]
    tokens: dict[int, list[str]]  # chain id -> token addresses
    treasury: str
    holder: str
    multicall: dict[int, str]
    as_of: int
    #: circulating per chain id and token at as_of
    expected: dict[tuple[int, str], int]


def _rpc(url: str, method: str, params: list[Any]) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())["result"]


def _chain_populate(
    url: str, chain_id: int, base: int, as_of: int, expected: dict[tuple[int, str], int]
) -> tuple[list[str], str, str, str]:
    """Deploy and mint on one chain with controlled block timestamps."""
    accts = deploy.accounts(url)
    holder, treasury = accts[1], accts[2]
    t = base

    def at(action: Callable[[], Any]) -> Any:
        nonlocal t
        t += 10
        deploy.set_next_timestamp(url, t)
        return action()

    toks: list[str] = []
    count = 3 if chain_id == 31337 else 1  # N deployments on the first chain
    for i in range(count):
        tok = at(lambda i=i: deploy.deploy(url, "TestStablecoin", f"Test USD {i}", "TUSD", 6))
        toks.append(tok)
        amount = 1_000_000 * (i + 1) + chain_id
        at(lambda tok=tok, amount=amount: deploy.token_mint(url, tok, holder, amount))
        at(lambda tok=tok: deploy.token_mint(url, tok, treasury, 250_000))
        expected[(chain_id, tok)] = amount
    multicall = at(lambda: deploy.deploy(url, "Multicall3"))
    # after as_of: more mints that must not count
    t = as_of + 500
    for tok in toks:
        at(lambda tok=tok: deploy.token_mint(url, tok, holder, 777))
    deploy.mine(url, 2)
    return toks, multicall, holder, treasury


def _populate(nodes: dict[int, Node]) -> Deployed:
    heads = [
        int(_rpc(n.url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
        for n in nodes.values()
    ]
    base = max(heads) + 1000
    as_of = base + 1500
    tokens: dict[int, list[str]] = {}
    multicall: dict[int, str] = {}
    expected: dict[tuple[int, str], int] = {}
    treasury = holder = ""
    for chain_id, node in nodes.items():
        toks, mc, holder, treasury = _chain_populate(node.url, chain_id, base, as_of, expected)
        tokens[chain_id] = toks
        multicall[chain_id] = mc
    return Deployed(nodes, tokens, treasury, holder, multicall, as_of, expected)


@pytest.fixture(scope="module", params=KINDS)
def deployed(request: pytest.FixtureRequest) -> Iterator[Deployed]:
    from verifier.devnet.nodes import start_node

    kind = str(request.param)
    nodes: dict[int, Node] = {}
    try:
        for chain_id in (31337, 31338):
            nodes[chain_id] = start_node(kind, chain_id)
        yield _populate(nodes)
    finally:
        for node in nodes.values():
            node.stop()


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    clear_header_cache()


def write_policy(path: Path, d: Deployed, rpc: dict[int, list[str]] | None = None) -> Path:
    lines = [
        'format = "porv.policy/1"',
        'issuer = "Test Issuer"',
        'token = "TUSD"',
        'currency = "USD"',
        "decimals = 6",
        'jurisdictions = ["genius"]',
        'max_age = "35d"',
        'min_coverage = "1.00"',
    ]
    for chain_id, toks in d.tokens.items():
        for tok in toks:
            lines += [
                "[[deployments]]",
                f"chain_id = {chain_id}",
                f'address = "{tok}"',
                f'excluded = ["{d.treasury}"]',
            ]
    lines += [
        "[[custodians]]",
        'id = "bank"',
        f'signers = ["{d.holder}"]',
        "threshold = 1",
        "[rpc]",
    ]
    endpoints = rpc or {cid: [n.url] for cid, n in d.nodes.items()}
    for cid, urls in endpoints.items():
        lines.append(f'"{cid}" = [{", ".join(json.dumps(u) for u in urls)}]')
    # local chains: the block after as_of only has to exist (anvil's finalized trails by 64)
    lines.append("[finality]")
    lines += [f'"{cid}" = "latest"' for cid in d.nodes]
    path.write_text("\n".join(lines) + "\n")
    return path


def _head_time(url: str) -> int:
    return int(_rpc(url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)


def run_cli(*args: str) -> Run:
    return porv(args, in_process=True)


def test_supply_at_past_time_is_exact_and_ignores_later_mints(
    deployed: Deployed, tmp_path: Path
) -> None:
    policy = write_policy(tmp_path / "p.toml", deployed)
    res = run_cli(
        "supply",
        "--policy",
        str(policy),
        "--at",
        format_rfc3339(deployed.as_of),
        "--format",
        "json",
    )
    assert res.code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["status"] == "ok"
    assert int(doc["total_circulating"]) == sum(deployed.expected.values())
    for row in doc["deployments"]:
        assert int(row["circulating"]) == deployed.expected[(row["chain_id"], row["address"])]
        assert row["excluded"] == [{"address": deployed.treasury, "balance": "250000"}]
        assert row["block_timestamp"] <= deployed.as_of
    # later: the later mints count, once each chain has a block after that time (a time
    # after a chain's head can never be final)
    later = max(_head_time(n.url) for n in deployed.nodes.values())
    for n in deployed.nodes.values():
        deploy.mine_after(n.url, later)
    later_at = format_rfc3339(later)
    ahead = format_rfc3339(later + 10**6)  # no block after it yet: never the head instead
    res_ahead = run_cli("supply", "--policy", str(policy), "--at", ahead, "--format", "json")
    assert res_ahead.code == 3, res_ahead.output
    assert json.loads(res_ahead.stdout)["status"] == "error"
    assert "not final yet on chain" in res_ahead.stderr
    res_now = run_cli("supply", "--policy", str(policy), "--at", later_at, "--format", "json")
    assert res_now.code == 0, res_now.output
    later_mints = sum(777 for toks in deployed.tokens.values() for _ in toks)
    total_now = int(json.loads(res_now.stdout)["total_circulating"])
    assert total_now == sum(deployed.expected.values()) + later_mints
    # text table
    res_text = run_cli("supply", "--policy", str(policy), "--at", format_rfc3339(deployed.as_of))
    assert res_text.code == 0
    assert f"total circulating: {sum(deployed.expected.values())}" in res_text.stdout


def test_n_deployments_cost_one_round_trip_per_endpoint(deployed: Deployed) -> None:
    chain_id = 31337
    deps = [PinnedDeployment(chain_id, t, (deployed.treasury,)) for t in deployed.tokens[chain_id]]
    assert len(deps) == 3
    url = deployed.nodes[chain_id].url
    for multicall in (None, {chain_id: deployed.multicall[chain_id]}):
        r = read_supply(
            deps,
            {chain_id: [url]},
            as_of=deployed.as_of,
            token_decimals=6,
            multicall=multicall,
            finality={chain_id: "latest"},
        )
        (stats,) = r.stats
        assert stats.method == ("multicall3" if multicall else "batch")
        assert [e.read_requests for e in stats.endpoints] == [1]
        assert [d.circulating for d in r.deployments] == [
            deployed.expected[(chain_id, t)] for t in deployed.tokens[chain_id]
        ]


# --- hostile endpoints (anvil) ----------------------------------------------------------------


def _flip_token_reads(request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """Alter the token reads (calls with a `to`), not the block-number probe."""
    params = request.get("params") or [{}]
    if request.get("method") == "eth_call" and "to" in params[0] and "result" in answer:
        raw = bytearray(bytes.fromhex(answer["result"][2:]))
        if raw:
            raw[-1] ^= 0x01  # one unit more or less
        return {**answer, "result": "0x" + raw.hex()}
    return answer


@pytest.fixture
def proxy() -> Iterator[Callable[[str, bool], str]]:
    proxies: list[FaultProxy] = []

    def start(upstream: str, lie: bool) -> str:
        p = FaultProxy(upstream, rewrite=_flip_token_reads if lie else None).start()
        proxies.append(p)
        return p.url

    yield start
    for p in proxies:
        p.stop()


@pytest.fixture(scope="module")
def anvil_deployed() -> Iterator[Deployed]:
    from verifier.devnet.nodes import start_node

    nodes: dict[int, Node] = {}
    try:
        for chain_id in (31337, 31338):
            nodes[chain_id] = start_node("anvil", chain_id)
        yield _populate(nodes)
    finally:
        for node in nodes.values():
            node.stop()


@pytest.mark.anvil
def test_lying_second_endpoint_exits_3(
    anvil_deployed: Deployed, tmp_path: Path, proxy: Callable[[str, bool], str]
) -> None:
    d = anvil_deployed
    a = d.nodes[31337].url
    honest = proxy(a, False)
    liar = proxy(a, True)
    ok = write_policy(tmp_path / "ok.toml", d, {31337: [a, honest], 31338: [d.nodes[31338].url]})
    res = run_cli("supply", "--policy", str(ok), "--at", format_rfc3339(d.as_of))
    assert res.code == 0, res.output
    bad = write_policy(tmp_path / "bad.toml", d, {31337: [a, liar], 31338: [d.nodes[31338].url]})
    res = run_cli(
        "supply", "--policy", str(bad), "--at", format_rfc3339(d.as_of), "--format", "json"
    )
    assert res.code == 3
    assert "disagree" in res.stderr and liar in res.stderr and "chain 31337" in res.stderr
    assert json.loads(res.stdout)["status"] == "error"
    assert "Traceback" not in res.output


@pytest.mark.anvil
def test_endpoint_on_another_chain_exits_3(anvil_deployed: Deployed, tmp_path: Path) -> None:
    d = anvil_deployed
    wrong = write_policy(
        tmp_path / "w.toml",
        d,
        {31337: [d.nodes[31337].url, d.nodes[31338].url], 31338: [d.nodes[31338].url]},
    )
    res = run_cli("supply", "--policy", str(wrong), "--at", format_rfc3339(d.as_of))
    assert res.code == 3
    assert "chain id 31338" in res.stderr and d.nodes[31338].url in res.stderr


@pytest.mark.anvil
def test_rpc_override_and_missing_endpoint(anvil_deployed: Deployed, tmp_path: Path) -> None:
    d = anvil_deployed
    policy = write_policy(tmp_path / "p.toml", d, {31337: [d.nodes[31337].url]})
    res = run_cli("supply", "--policy", str(policy), "--block", "1")
    assert res.code == 2 and "31338" in res.stderr
    res = run_cli(
        "supply",
        "--policy",
        str(policy),
        "--at",
        format_rfc3339(d.as_of),
        "--rpc",
        f"31338={d.nodes[31338].url}",
        "--format",
        "json",
    )
    assert res.code == 0, res.output
    assert int(json.loads(res.stdout)["total_circulating"]) == sum(d.expected.values())
    res = run_cli("supply", "--policy", str(policy), "--rpc", "nonsense")
    assert res.code == 2


@pytest.mark.anvil
def test_feed_cross_check_reads_the_registry(anvil_deployed: Deployed) -> None:
    from verifier.chain.feed import read_feed
    from verifier.devnet import registry as reg
    from verifier.model.attestation import AttestationMessage, Total
    from verifier.signatures import secp256k1
    from verifier.signatures.eip712 import attestation_digest

    url = anvil_deployed.nodes[31338].url
    key = bytes.fromhex("aa" * 32)
    feed = reg.deploy_registry(url, "Test Issuer", "TUSD", "USD", 6, "TUSD reserves")
    reg.register_signer(url, feed, "bank", secp256k1.address_of(key))
    msg = AttestationMessage(
        issuer="Test Issuer",
        token="TUSD",
        custodian="bank",
        holdings_root=bytes(range(32)),
        leaf_count=1,
        totals=(Total("USD", 1_250_000_000, 2),),
        as_of=1_767_225_600,
        valid_until=4_102_444_800,  # 2100: the registry refuses an expired attestation
        sequence=1,
    )
    receipt = reg.submit_attestation(url, feed, msg, secp256k1.sign(attestation_digest(msg), key))
    block = deploy.web3_for(url).eth.get_block(receipt["blockNumber"])
    now = int(block["timestamp"]) + 90
    r = read_feed(url, feed, now=now, chain_id=31338)
    assert r.decimals == 6 and r.answer == 12_500_000_000_000
    assert str(r.normalised) == "12500000.000000"
    # the feed is dated by the attestation's as_of, not by the block that carried it
    assert r.updated_at == msg.as_of and r.staleness_s == now - msg.as_of and r.round_id == 1


@pytest.mark.anvil
def test_supply_now_reports_the_feed_beside_it(
    start_chain: Callable[[str, int], Node], tmp_path: Path
) -> None:
    from verifier.devnet import registry as reg
    from verifier.model.attestation import AttestationMessage, Total
    from verifier.signatures import secp256k1
    from verifier.signatures.eip712 import attestation_digest

    node = start_chain("anvil", 31339)
    url = node.url
    accts = deploy.accounts(url)
    tok = deploy.deploy(url, "TestStablecoin", "Test USD", "TUSD", 6)
    deploy.token_mint(url, tok, accts[1], 5_000_000)
    key = bytes.fromhex("bb" * 32)
    feed = reg.deploy_registry(url, "Test Issuer", "TUSD", "USD", 6, "TUSD reserves")
    reg.register_signer(url, feed, "bank", secp256k1.address_of(key))
    msg = AttestationMessage(
        issuer="Test Issuer",
        token="TUSD",
        custodian="bank",
        holdings_root=bytes(32),
        leaf_count=1,
        totals=(Total("USD", 6_000_000, 6),),
        as_of=1_767_225_600,
        valid_until=4_102_444_800,  # 2100: the registry refuses an expired attestation
        sequence=1,
    )
    reg.submit_attestation(url, feed, msg, secp256k1.sign(attestation_digest(msg), key))
    policy = tmp_path / "p.toml"
    policy.write_text(
        "\n".join(
            [
                'format = "porv.policy/1"',
                'issuer = "Test Issuer"',
                'token = "TUSD"',
                'currency = "USD"',
                "decimals = 6",
                "jurisdictions = []",
                'max_age = "35d"',
                'min_coverage = "1.00"',
                "[[deployments]]",
                "chain_id = 31339",
                f'address = "{tok}"',
                "[[custodians]]",
                'id = "bank"',
                f'signers = ["{secp256k1.address_of(key)}"]',
                "threshold = 1",
                "[feed]",
                "chain_id = 31339",
                f'address = "{feed}"',
                "[rpc]",
                f'"31339" = ["{url}"]',
                "[finality]",  # a local chain: its head is final (anvil finalizes 64 deep)
                '"31339" = "latest"',
            ]
        )
        + "\n"
    )
    res = run_cli("supply", "--policy", str(policy), "--format", "json")
    assert res.code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["total_circulating"] == "5000000"
    assert doc["feed"]["status"] == "ok" and doc["feed"]["normalised"] == "6.000000"
    text = run_cli("supply", "--policy", str(policy)).stdout
    assert "feed chain 31339" in text and "6.000000" in text
    # at a past time the feed's latest round is not comparable: not read
    res = run_cli("supply", "--policy", str(policy), "--block", "2", "--format", "json")
    assert res.code == 0, res.output
    assert "feed" not in json.loads(res.stdout)
