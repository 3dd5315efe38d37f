"""Issue 5's first acceptance point, end to end on two anvil chains with other tools' output.

The token is deployed and minted by ethers (tests/integration/other_tools/issuer.js), not by
porv. The custodians' trees are built by @openzeppelin/merkle-tree's StandardMerkleTree with
porv's 12-field leaf encoding, their attestations signed by ethers' ``signTypedData``, and the
bundle JSON written by that script. The holder's policy is written here. Then ``porv verify``
runs as a user would run it (a subprocess) and must give: verified (0); after a mint beyond the
reserves, failed (1); a changed total (1); a bundle omitting a pinned chain (1); a second
endpoint that lies about ``totalSupply`` (3); an endpoint serving another chain (3).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from tests.support.cli import porv
from tests.support.faultproxy import FaultProxy
from verifier.devnet.deploy import mine_after
from verifier.devnet.node import Node, rpc_request
from verifier.devnet.nodes import start_node
from verifier.signatures import secp256k1

pytestmark = [pytest.mark.anvil, pytest.mark.node]

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "node_modules" / ".bin" / "node"
ISSUER_JS = ROOT / "tests" / "integration" / "other_tools" / "issuer.js"
ISSUER = "Independent Issuer SA"
SYMBOL = "iUSD"
UNIT = 10**6  # token base units per USD
ZERO_SALT = "0x" + "00" * 32
SELECTOR_TOTAL_SUPPLY = "0x18160ddd"


def key(label: str) -> str:
    return "0x" + keccak(text=f"porv e2e test-only key {label}").hex()


ALPHA_KEYS = [key(f"alpha/{i}") for i in range(3)]
BETA_KEYS = [key("beta/0")]


def address(hex_key: str) -> str:
    return secp256k1.address_of(bytes.fromhex(hex_key[2:]))


def issuer_js(*args: str) -> Any:
    """Run the other-tools script; it prints one JSON line."""
    proc = subprocess.run(
        [str(NODE), str(ISSUER_JS), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def porv_verify(bundle: Path, policy: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    argv = ["verify", str(bundle), "--policy", str(policy), "--format", "json", *extra]
    run = porv(argv, cwd=ROOT)
    assert "Traceback" not in run.stderr
    return run.code, run.json, run.stderr


def failed_kinds(result: dict[str, Any]) -> set[str]:
    """The ``kind`` of every check that did not pass or skip."""
    return {str(c.get("kind")) for c in result["checks"] if c["outcome"] not in ("pass", "skipped")}


def head_time(url: str) -> int:
    return int(rpc_request(url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)


@dataclass
class World:
    """Two anvil chains with an ethers-deployed token, and the files built on them."""

    nodes: dict[int, Node]
    tokens: dict[int, str]
    treasury: dict[int, str]
    holders: dict[int, str]
    workdir: Path
    policy: Path
    bundle: Path

    def url(self, chain_id: int) -> str:
        return self.nodes[chain_id].url

    def make_bundle(self, name: str, as_of: int) -> Path:
        """The other tools' bundle over both deployments, for ``as_of``."""
        config = {
            "issuer": ISSUER,
            "token": {"symbol": SYMBOL, "currency": "USD", "decimals": 6},
            "asOf": as_of,
            "deployments": [
                {
                    "chain_id": cid,
                    "address": self.tokens[cid],
                    "excluded": [self.treasury[cid]] if cid == 31337 else [],
                }
                for cid in (31337, 31338)
            ],
            "custodians": [
                {
                    "id": "alpha-bank",
                    "keys": ALPHA_KEYS[:2],
                    "validUntil": as_of + 30 * 86400,
                    "sequence": 4,
                    "holdings": [
                        [
                            "AB-DEP-1",
                            "bank_deposit_demand",
                            "USD",
                            "6000000000",
                            "2",
                            "0",
                            "Alpha Bank NA",
                            "US",
                            "A+",
                            "",
                            "0",
                            ZERO_SALT,
                        ],
                        [
                            "AB-TB-1",
                            "sovereign_debt",
                            "USD",
                            "4000000000",
                            "2",
                            str(as_of + 28 * 86400),
                            "US Treasury",
                            "US",
                            "AA+",
                            "",
                            "0",
                            ZERO_SALT,
                        ],
                    ],
                },
                {
                    "id": "beta-trust",
                    "keys": BETA_KEYS,
                    "validUntil": as_of + 30 * 86400,
                    "sequence": 11,
                    "holdings": [
                        [
                            "BT-CASH-1",
                            "cash",
                            "USD",
                            "6000000000",
                            "2",
                            "0",
                            "Beta Custody",
                            "US",
                            "",
                            "",
                            "0",
                            ZERO_SALT,
                        ],
                    ],
                },
            ],
        }
        config_path = self.workdir / f"{name}.config.json"
        config_path.write_text(json.dumps(config))
        out = self.workdir / f"{name}.bundle.json"
        issuer_js("bundle", str(config_path), str(out))
        return out


def policy_toml(world: World) -> str:
    lines = [
        'format = "porv.policy/1"',
        f'issuer = "{ISSUER}"',
        f'token = "{SYMBOL}"',
        'currency = "USD"',
        "decimals = 6",
        "jurisdictions = []",
        'max_age = "35d"',
        'min_coverage = "1.00"',
        "",
    ]
    for cid in (31337, 31338):
        excluded = f'"{world.treasury[cid]}"' if cid == 31337 else ""
        lines += [
            "[[deployments]]",
            f"chain_id = {cid}",
            f'address = "{world.tokens[cid]}"',
            f"excluded = [{excluded}]",
            "",
        ]
    alpha = ", ".join(f'"{address(k)}"' for k in ALPHA_KEYS)
    lines += ["[[custodians]]", 'id = "alpha-bank"', f"signers = [{alpha}]", "threshold = 2", ""]
    beta = f'"{address(BETA_KEYS[0])}"'
    lines += ["[[custodians]]", 'id = "beta-trust"', f"signers = [{beta}]", "threshold = 1", ""]
    lines += ["[rpc]", f'"31337" = ["{world.url(31337)}"]', f'"31338" = ["{world.url(31338)}"]']
    # local chains: the block after as_of only has to exist (anvil's finalized trails by 64)
    lines += ["", "[finality]", '"31337" = "latest"', '"31338" = "latest"']
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Circulating 100M (105M minted, 5M in an excluded treasury) + 50M; reserves 160M USD."""
    assert NODE.exists(), f"{NODE} missing: run npm install"
    nodes: dict[int, Node] = {}
    try:
        for cid in (31337, 31338):
            nodes[cid] = start_node("anvil", cid)
        accts = {cid: rpc_request(n.url, "eth_accounts") for cid, n in nodes.items()}
        holders = {31337: accts[31337][1], 31338: accts[31338][2]}
        treasury = {31337: accts[31337][9], 31338: accts[31338][9]}
        tokens = {}
        for cid, mints in (
            (
                31337,
                [f"{holders[31337]}={100_000_000 * UNIT}", f"{treasury[31337]}={5_000_000 * UNIT}"],
            ),
            (31338, [f"{holders[31338]}={50_000_000 * UNIT}"]),
        ):
            out = issuer_js("deploy", nodes[cid].url, "Independent USD", SYMBOL, "6", *mints)
            tokens[cid] = out["token"]
        workdir = tmp_path_factory.mktemp("e2e")
        w = World(
            nodes=nodes,
            tokens=tokens,
            treasury={c: str(to_checksum_address(a)) for c, a in treasury.items()},
            holders=holders,
            workdir=workdir,
            policy=workdir / "policy.toml",
            bundle=workdir / "none",
        )
        w.policy.write_text(policy_toml(w))
        as_of = max(head_time(n.url) for n in nodes.values())
        w.bundle = w.make_bundle("good", as_of)
        seal(w, as_of)
        yield w
    finally:
        for n in nodes.values():
            n.stop()


def seal(world: World, as_of: int) -> None:
    """Mine one block after ``as_of`` on each chain: the pin at ``as_of`` becomes final."""
    for n in world.nodes.values():
        mine_after(n.url, as_of)


def edited(world: World, name: str, change: Any) -> Path:
    doc = json.loads(world.bundle.read_text())
    change(doc)
    path = world.workdir / f"{name}.bundle.json"
    path.write_text(json.dumps(doc, indent=1))
    return path


def inflate_total_supply(request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """A lie for the fault proxy: every ``totalSupply()`` answer is 1000 tokens higher."""
    params = request.get("params") or [{}]
    call = params[0] if isinstance(params[0], dict) else {}
    data = str(call.get("data") or call.get("input") or "")
    result = answer.get("result")
    if (
        request.get("method") == "eth_call"
        and data.startswith(SELECTOR_TOTAL_SUPPLY)
        and isinstance(result, str)
        and len(result) == 66
    ):
        answer = {**answer, "result": "0x%064x" % (int(result, 16) + 1_000 * UNIT)}
    return answer


def test_other_tools_bundle_verifies(world: World) -> None:
    code, result, err = porv_verify(world.bundle, world.policy)
    assert code == 0, err
    assert result["status"] == "verified"
    assert result["supply"]["total_circulating"] == str(150_000_000 * UNIT)
    assert [a["custodian"] for a in result["attestations"]] == ["alpha-bank", "beta-trust"]
    assert result["reserves"]["by_currency"]["USD"] == "160000000"


def test_changed_total_fails(world: World) -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["custodians"][1]["attestation"]["totals"][0]["amount"] = "9000000000"

    code, result, err = porv_verify(edited(world, "changed-total", change), world.policy)
    assert code == 1, err
    assert result["status"] == "failed"
    assert failed_kinds(result) == {"threshold_not_met", "tree_mismatch"}


def test_missing_chain_fails(world: World) -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["deployments"] = [d for d in doc["deployments"] if d["chain_id"] != 31338]

    code, result, err = porv_verify(edited(world, "missing-chain", change), world.policy)
    assert code == 1, err
    assert result["status"] == "failed"
    assert failed_kinds(result) == {"deployment_mismatch"}
    assert f"omitted 31338:{world.tokens[31338]}" in json.dumps(result["checks"])


def test_lying_endpoint_cannot_complete(world: World) -> None:
    with FaultProxy(world.url(31337), rewrite=inflate_total_supply) as proxy:
        code, result, err = porv_verify(
            world.bundle,
            world.policy,
            "--rpc",
            f"31337={world.url(31337)}",
            "--rpc",
            f"31337={proxy.url}",
        )
    assert code == 3, err
    assert result["status"] == "error"
    assert failed_kinds(result) == {"endpoints_disagree"}
    assert proxy.url in json.dumps(result["checks"])


def test_wrong_chain_endpoint_cannot_complete(world: World) -> None:
    code, result, err = porv_verify(
        world.bundle, world.policy, "--rpc", f"31337={world.url(31338)}"
    )
    assert code == 3, err
    assert result["status"] == "error"
    assert failed_kinds(result) == {"wrong_chain"}


def test_mint_beyond_reserves_fails(world: World) -> None:
    """20M more on chain 31338: 170M circulating against 160M of reserves."""
    issuer_js(
        "mint", world.url(31338), world.tokens[31338], world.holders[31338], str(20_000_000 * UNIT)
    )
    # the earlier bundle's as_of precedes the mint, which therefore does not count for it
    code, result, err = porv_verify(world.bundle, world.policy)
    assert code == 0, err
    as_of = max(head_time(n.url) for n in world.nodes.values())
    bundle = world.make_bundle("over-minted", as_of)
    seal(world, as_of)
    code, result, err = porv_verify(bundle, world.policy)
    assert code == 1, err
    assert result["status"] == "failed"
    assert failed_kinds(result) == {"insufficient_reserves"}
    assert "reserves 160000000 < required 170000000" in json.dumps(result["checks"])
