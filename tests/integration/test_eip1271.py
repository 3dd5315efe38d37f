"""A custodian key that is a contract wallet (EIP-1271), checked on its pinned chain."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import cli
from tests.support.cli import Run
from verifier.app.demo import (
    DemoFiles,
    custodian_keys,
    latest_time,
    seal_as_of,
    start_demo_chains,
    write_demo_files,
)
from verifier.devnet.deploy import deploy
from verifier.signatures import secp256k1


def porv(*args: str) -> Run:
    return cli.porv(args)


@pytest.fixture(scope="module")
def devnet() -> Iterator[tuple[Any, Any, int]]:
    net, deps, as_of = start_demo_chains("embedded")
    try:
        yield net, deps, as_of
    finally:
        net.stop()


def wallet_files(devnet: tuple[Any, Any, int], workdir: Path, owner_index: int) -> DemoFiles:
    """Demo files where custodian A pins keys 0 and 1 and a contract wallet, threshold 2; the
    bundle's second signature is key 1's, named for the wallet (whose owner is key
    ``owner_index``). Key 1 is pinned so that porv can attribute the wallet's vote to a key it
    knows (one key, one vote): a wallet naming no pinned key counts only alone."""
    _, deps, _ = devnet
    keys = custodian_keys()["a"]
    owner = secp256k1.address_of(keys[owner_index])
    wallet = deploy(deps[0].url, "TestContractWallet", owner)
    # the wallet is asked at the block pinned for as_of: it must exist by then
    as_of = latest_time(deps)
    seal_as_of(deps, as_of)  # a block after as_of on each chain: the pin is final
    files = write_demo_files(workdir, deps, as_of=as_of)
    policy = files.policy.read_text()
    policy, n = re.subn(
        r'(id = "custodian-a"\n)signers = \[[^\]]*\]',
        rf'\1signers = ["{secp256k1.address_of(keys[0])}", "{secp256k1.address_of(keys[1])}"]\n'
        rf'eip1271 = [{{ chain_id = {deps[0].chain_id}, address = "{wallet}" }}]',
        policy,
    )
    assert n == 1
    files.policy.write_text(policy)
    doc = json.loads(files.bundle.read_text())
    entry = next(c for c in doc["custodians"] if c["id"] == "custodian-a")
    assert entry["signatures"][1]["signer"] == secp256k1.address_of(keys[1])
    entry["signatures"][1]["signer"] = wallet
    files.bundle.write_text(json.dumps(doc))
    return files


def test_contract_wallet_signature_counts(devnet: Any, tmp_path: Path) -> None:
    files = wallet_files(devnet, tmp_path, owner_index=1)
    out = tmp_path / "result.json"
    proc = porv(
        "verify",
        str(files.bundle),
        "--policy",
        str(files.policy),
        "--format",
        "json",
        "--output",
        str(out),
    )
    assert proc.code == 0, proc.stderr
    result = json.loads(out.read_text())
    row = next(a for a in result["attestations"] if a["custodian"] == "custodian-a")
    assert len(row["signers"]) == 2 and row["threshold_met"] is True

    # offline recheck carries over the wallet's own verdict only (it needs the chain), named;
    # the plain key's signature is verified again
    _, deps, _ = devnet
    proc = porv("recheck", str(out), "--format", "json")
    assert proc.code == 0, proc.stderr
    report = json.loads(proc.stdout)
    wallet = next(s for s in row["signers"] if s != secp256k1.address_of(custodian_keys()["a"][0]))
    assert report["carried_over_eip1271"] == [
        {
            "custodian": "custodian-a",
            "chain_id": deps[0].chain_id,
            "wallet": wallet,
            "block": result["supply"]["deployments"][0]["block_number"],
            "valid": True,
        }
    ]
    assert "attestation:custodian-a:signatures" not in report["carried_over"]
    # with RPC the wallet is asked again, at the block pinned for supply
    rpc = [a for d in deps for a in ("--rpc", f"{d.chain_id}={d.url}")]
    proc = porv("recheck", str(out), *rpc, "--format", "json")
    assert proc.code == 0, proc.stderr
    assert json.loads(proc.stdout)["carried_over_eip1271"] == []
    assert not any("EIP-1271" in item for item in json.loads(proc.stdout)["carried_over"])


def test_wallet_of_another_owner_does_not_count(devnet: Any, tmp_path: Path) -> None:
    files = wallet_files(devnet, tmp_path, owner_index=2)
    proc = porv("verify", str(files.bundle), "--policy", str(files.policy), "--format", "json")
    assert proc.code == 1
    result = json.loads(proc.stdout)
    failed = [c for c in result["checks"] if c["outcome"] == "fail"]
    assert [c["kind"] for c in failed] == ["wallet_refused"]
    assert "rejects the signature" in failed[0]["detail"]
