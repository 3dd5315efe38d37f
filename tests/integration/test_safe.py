"""Safe custodians on every chain kind (issue 12): the real Safe 1.4.1 contracts from npm.

A 2-of-3 Safe owned by custodian A's demo keys signs custodian A's attestation; the policy pins
it under ``eip1271``. porv asks the Safe (``isValidSignature``) at the block pinned for
``as_of``: two owners verify, one owner fails with the reason; an owner swap after that block
changes nothing for that ``as_of`` (a signature by the new owner fails there), and a later
``as_of`` sees the new owners. One key that signs directly and through the Safe counts once.
``porv attest sign --safe`` makes the Safe's signature from key files or remote signers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import cli
from tests.support.cli import Run
from tests.support.faultproxy import FaultProxy, post
from verifier.app.demo import (
    ChainDeployment,
    DemoFiles,
    DemoSafe,
    custodian_keys,
    demo_secret,
    holdings_csv,
    latest_time,
    seal_as_of,
    write_demo_files,
)
from verifier.devnet.deploy import accounts, deploy, token_mint
from verifier.devnet.node import Node
from verifier.devnet.safe import SafeInfra, create_safe, deploy_safe_infra, swap_owner
from verifier.model.timeutil import format_rfc3339
from verifier.signatures import secp256k1

KEYS = custodian_keys()["a"]
NEW_KEY = demo_secret("custodian-a/new-owner", "secp256k1")
ADDR = [secp256k1.address_of(k) for k in KEYS]


@dataclass
class SafeChain:
    node: Node
    deployment: ChainDeployment
    infra: SafeInfra
    salt: int = 0

    def new_safe(self, owners: Sequence[str] = tuple(ADDR), threshold: int = 2) -> str:
        """A fresh Safe (each test its own, so a swap in one cannot touch another)."""
        self.salt += 1
        return create_safe(self.node.url, self.infra, owners, threshold, salt=self.salt)

    def seal(self) -> int:
        """``as_of`` now, with a block after it (the pin at ``as_of`` is final)."""
        as_of = latest_time([self.deployment])
        seal_as_of([self.deployment], as_of)
        return as_of


@pytest.fixture(scope="module")
def safe_chain(chain: Node) -> Iterator[SafeChain]:
    url = chain.url
    token = deploy(url, "TestStablecoin", "Porv USD", "pUSD", 6)
    token_mint(url, token, accounts(url)[1], 1_000 * 10**6)
    deployment = ChainDeployment(chain.chain_id, url, token, accounts(url)[9], ())
    yield SafeChain(chain, deployment, deploy_safe_infra(url))


def files(net: SafeChain, folder: Path, as_of: int, safe: str, keys: Sequence[bytes]) -> DemoFiles:
    """Custodian A alone, signing as ``safe`` with ``keys`` (its owners, or not)."""
    return write_demo_files(
        folder,
        [net.deployment],
        as_of=as_of,
        scale=1,
        holdings={"custodian-a": holdings_csv("a", as_of, 1)},
        jurisdictions=(),
        safe=DemoSafe(net.node.chain_id, safe, tuple(keys)),
    )


def verify(f: DemoFiles) -> Run:
    return cli.porv(
        ["verify", str(f.bundle), "--policy", str(f.policy), "--format", "json"], in_process=True
    )


def custodian_a(run: Run) -> dict[str, Any]:
    return next(a for a in run.json["attestations"] if a["custodian"] == "custodian-a")


def failed(run: Run) -> list[dict[str, Any]]:
    return [c for c in run.json["checks"] if c["outcome"] == "fail"]


def test_two_owners_verify_one_owner_fails(safe_chain: SafeChain, tmp_path: Path) -> None:
    safe = safe_chain.new_safe()
    as_of = safe_chain.seal()

    run = verify(files(safe_chain, tmp_path / "two", as_of, safe, KEYS[:2]))
    assert run.code == 0, run.output
    assert custodian_a(run)["signers"] == [safe]

    run = verify(files(safe_chain, tmp_path / "one", as_of, safe, KEYS[:1]))
    assert run.code == 1, run.output
    [check] = failed(run)
    assert check["kind"] == "wallet_refused"
    assert f"contract wallet {safe} rejects the signature" in check["detail"]
    assert "0 distinct pinned key(s) signed, threshold 1" in check["detail"]


def test_the_pinned_block_decides_an_owner_swap(safe_chain: SafeChain, tmp_path: Path) -> None:
    """Owner 1 is swapped for a new key after ``as_of``'s pin: at that ``as_of`` the old
    owners' signature still verifies and the new owner's does not; at a later ``as_of`` it is
    the other way round."""
    safe = safe_chain.new_safe()
    before = safe_chain.seal()
    old_owners = files(safe_chain, tmp_path / "old", before, safe, KEYS[:2])
    run = verify(old_owners)
    assert run.code == 0, run.output

    swap_owner(safe_chain.node.url, safe, ADDR[1], secp256k1.address_of(NEW_KEY), KEYS[:2])

    run = verify(old_owners)  # asked again, at the same pinned block: same verdict
    assert run.code == 0, run.output
    run = verify(files(safe_chain, tmp_path / "new-early", before, safe, [KEYS[0], NEW_KEY]))
    assert run.code == 1, run.output
    assert [c["kind"] for c in failed(run)] == ["wallet_refused"]

    after = safe_chain.seal()
    assert after > before
    run = verify(files(safe_chain, tmp_path / "old-late", after, safe, KEYS[:2]))
    assert run.code == 1, run.output
    assert [c["kind"] for c in failed(run)] == ["wallet_refused"]
    run = verify(files(safe_chain, tmp_path / "new-late", after, safe, [KEYS[0], NEW_KEY]))
    assert run.code == 0, run.output


def test_every_endpoint_is_asked_at_the_pinned_block(safe_chain: SafeChain, tmp_path: Path) -> None:
    """The old owners signed; owner 1 is swapped out after the pin. A second endpoint that runs
    every call at its head (where the Safe now refuses them), or that answers the Safe's call
    as a node lagging behind the pin does, makes the run an error (exit 3), never verified."""
    safe = safe_chain.new_safe()
    as_of = safe_chain.seal()
    f = files(safe_chain, tmp_path / "f", as_of, safe, KEYS[:2])
    url = safe_chain.node.url
    swap_owner(url, safe, ADDR[1], secp256k1.address_of(NEW_KEY), KEYS[:2])
    safe_chain.seal()
    honest = f.policy.read_text()

    def wallet_call(call: dict[str, Any]) -> bool:
        params = call.get("params") or [None]
        return (
            call.get("method") == "eth_call"
            and isinstance(params[0], dict)
            and str(params[0].get("data", "")).startswith("0x1626ba7e")  # isValidSignature
        )

    def at_head(call: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
        if not wallet_call(call):
            return item
        answer: dict[str, Any] = post(url, {**call, "params": [call["params"][0], "latest"]})
        return answer

    def lagging(call: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
        if not wallet_call(call):
            return item
        error = {"code": -32000, "message": "header not found"}
        return {"jsonrpc": "2.0", "id": item.get("id"), "error": error}

    for rewrite, why in ((at_head, "disagree on the eth_call result"), (lagging, "not available")):
        with FaultProxy(url, rewrite=rewrite) as proxy:
            f.policy.write_text(honest.replace(f'["{url}"]', f'["{url}", "{proxy.url}"]', 1))
            run = verify(f)
            assert run.code == 3, run.output
            assert run.json["status"] == "error"
            [check] = [c for c in run.json["checks"] if c["outcome"] == "error"]
            assert check["id"] == "attestation:custodian-a:signatures", check
            assert why in check["detail"]
    f.policy.write_text(honest)
    assert verify(f).code == 0  # one honest endpoint: the pinned block's verdict


def test_a_key_signing_directly_and_through_the_safe_counts_once(
    safe_chain: SafeChain, tmp_path: Path
) -> None:
    """Keys 0 and 1 pinned beside the Safe, threshold 2. Key 1 directly plus the Safe through
    owners 0 and 2: two votes. Key 0 directly plus the Safe through owners 0 and 1: key 0 is
    behind both, one vote (DESIGN §1)."""
    safe = safe_chain.new_safe()
    as_of = safe_chain.seal()

    def run_with(name: str, direct_key: bytes, owners: list[bytes]) -> Run:
        f = files(safe_chain, tmp_path / name, as_of, safe, owners)
        policy, n = re.subn(
            r"(eip1271 = \[[^\n]*\]\n)threshold = 1\n",
            rf'signers = ["{ADDR[0]}", "{ADDR[1]}"]\n\1threshold = 2\n',
            f.policy.read_text(),
        )
        assert n == 1
        f.policy.write_text(policy)
        doc = json.loads(f.bundle.read_text())
        entry = doc["custodians"][0]
        att = json.loads(f.attestations["custodian-a"].read_text())
        from verifier.model.attestation import AttestationMessage
        from verifier.signatures.eip712 import attestation_digest

        digest = attestation_digest(AttestationMessage.from_json(att["message"], source="t"))
        signature = "0x" + secp256k1.sign(digest, direct_key).hex()
        address = secp256k1.address_of(direct_key)
        entry["signatures"].insert(
            0, {"scheme": "secp256k1", "signer": address, "signature": signature}
        )
        f.bundle.write_text(json.dumps(doc))
        return verify(f)

    run = run_with("honest", KEYS[1], [KEYS[0], KEYS[2]])
    assert run.code == 0, run.output
    assert sorted(custodian_a(run)["signers"]) == sorted([ADDR[1], safe])

    run = run_with("twice", KEYS[0], [KEYS[0], KEYS[1]])
    assert run.code == 1, run.output
    [check] = failed(run)
    assert check["kind"] == "duplicate_key"
    assert f"accepted a signature by {ADDR[0]}" in check["detail"]
    assert "one key, one vote" in check["detail"]


def sign_args(f: DemoFiles, as_of: int, out: Path, *extra: str) -> list[str]:
    return [
        "attest",
        "sign",
        "--tree",
        str(f.trees["custodian-a"]),
        "--issuer",
        "Example Issuer Ltd",
        "--token",
        "pUSD",
        "--custodian",
        "custodian-a",
        "--as-of",
        format_rfc3339(as_of),
        "--valid-until",
        format_rfc3339(as_of + 30 * 86400),
        "--sequence",
        "1",
        "--output",
        str(out),
        *extra,
    ]


def key_files(folder: Path, keys: Sequence[bytes]) -> list[str]:
    out: list[str] = []
    for i, key in enumerate(keys):
        path = folder / f"owner-{i}.key"
        path.write_text("0x" + key.hex() + "\n")
        out += ["--key-file", str(path)]
    return out


def test_attest_sign_safe_from_key_files(safe_chain: SafeChain, tmp_path: Path) -> None:
    """Two owners' key files, checked against the Safe with --rpc: the attestation replaces
    the one write_demo_files made and verifies; one owner's is refused and nothing is written."""
    safe = safe_chain.new_safe()
    as_of = safe_chain.seal()
    f = files(safe_chain, tmp_path / "files", as_of, safe, KEYS[:2])
    chain_id, url = str(safe_chain.node.chain_id), safe_chain.node.url
    out = tmp_path / "att.json"
    safe_opts = ["--safe", safe, "--chain-id", chain_id, "--rpc", url]
    # owner 2 and owner 0, in that order: porv sorts them by address
    run = cli.porv(
        sign_args(f, as_of, out, *key_files(tmp_path, [KEYS[2], KEYS[0]]), *safe_opts),
        in_process=True,
    )
    assert run.code == 0, run.output
    assert f"Safe {safe} on chain {chain_id}, 2 owner(s)" in run.stderr
    [entry] = json.loads(out.read_text())["signatures"]
    assert entry["signer"] == safe and len(entry["signature"]) == 2 + 4 * 65
    doc = json.loads(f.bundle.read_text())
    doc["custodians"][0]["signatures"] = [entry]
    f.bundle.write_text(json.dumps(doc))
    run = verify(f)
    assert run.code == 0, run.output
    assert custodian_a(run)["signers"] == [safe]

    refused = tmp_path / "refused.json"
    run = cli.porv(
        sign_args(f, as_of, refused, *key_files(tmp_path, [KEYS[0]]), *safe_opts),
        in_process=True,
    )
    assert run.code == 1, run.output
    assert f"the Safe {safe} on chain {chain_id} does not accept the signature" in run.stderr
    assert not refused.exists()

    run = cli.porv(
        sign_args(f, as_of, refused, *key_files(tmp_path, KEYS[:2]), "--safe", safe),
        in_process=True,
    )
    assert run.code == 2 and "--safe needs --chain-id" in run.stderr
    assert not refused.exists()


def test_attest_sign_safe_refuses_another_chain_and_a_key_that_is_no_owner(
    safe_chain: SafeChain, tmp_path: Path
) -> None:
    """--chain-id that the endpoint does not serve (exit 3), and an owner beside a key that is
    no owner of the Safe (exit 1: the Safe refuses it): nothing is written either way."""
    safe = safe_chain.new_safe()
    as_of = safe_chain.seal()
    f = files(safe_chain, tmp_path / "files", as_of, safe, KEYS[:2])
    url, chain_id = safe_chain.node.url, safe_chain.node.chain_id
    out = tmp_path / "att.json"
    owners = key_files(tmp_path, KEYS[:2])
    run = cli.porv(
        sign_args(f, as_of, out, *owners, "--safe", safe, "--chain-id", "1", "--rpc", url),
        in_process=True,
    )
    assert run.code == 3, run.output
    assert f"serves chain id {chain_id}, expected 1" in run.stderr
    assert not out.exists()
    (tmp_path / "stranger").mkdir()
    stranger = key_files(tmp_path / "stranger", [NEW_KEY])
    safe_opts = ["--safe", safe, "--chain-id", str(chain_id), "--rpc", url]
    run = cli.porv(
        sign_args(f, as_of, out, *key_files(tmp_path, KEYS[:1]), *stranger, *safe_opts),
        in_process=True,
    )
    assert run.code == 1, run.output
    assert f"the Safe {safe} on chain {chain_id} does not accept the signature" in run.stderr
    assert not out.exists()


def test_attest_sign_safe_from_remote_signers(safe_chain: SafeChain, tmp_path: Path) -> None:
    """A Safe owned by two unlocked dev accounts of the node: each signs the SafeMessage typed
    data over eth_signTypedData_v4. The embedded chain signs no typed data: porv says which
    signer failed and writes nothing."""
    url, chain_id = safe_chain.node.url, str(safe_chain.node.chain_id)
    owners = accounts(url)[5:7]
    safe = safe_chain.new_safe(owners, 2)
    as_of = safe_chain.seal()
    f = files(safe_chain, tmp_path / "files", as_of, safe, KEYS[:2])
    out = tmp_path / "att.json"
    remote = [a for o in owners for a in ("--signer-rpc", url, "--signer-address", o)]
    run = cli.porv(
        sign_args(f, as_of, out, *remote, "--safe", safe, "--chain-id", chain_id, "--rpc", url),
        in_process=True,
    )
    if safe_chain.node.kind == "embedded":
        assert run.code == 3, run.output
        assert "signer endpoint http://127.0.0.1:" in run.stderr and owners[0] in run.stderr
        assert not out.exists()
        return
    assert run.code == 0, run.output
    [entry] = json.loads(out.read_text())["signatures"]
    doc = json.loads(f.bundle.read_text())
    doc["custodians"][0]["signatures"] = [entry]
    f.bundle.write_text(json.dumps(doc))
    run = verify(f)
    assert run.code == 0, run.output
    assert custodian_a(run)["signers"] == [safe]


def test_a_key_behind_a_nested_safe_counts_once(safe_chain: SafeChain, tmp_path: Path) -> None:
    """The Safe's owners are an inner Safe (owned by key 0 alone) and key 2; the outer signature
    carries the inner Safe's contract signature (``v = 0``): key 0's chunk over the inner Safe's
    SafeMessage hash of the message data the outer Safe passes it. The real Safe accepts it;
    porv reads key 0 inside it, so key 0 signing directly as well counts once."""
    from verifier.model.attestation import AttestationMessage
    from verifier.model.keccak import keccak256
    from verifier.signatures.eip712 import attestation_digest
    from verifier.signatures.wallet_keys import safe_message_data, safe_message_hash

    inner = safe_chain.new_safe([ADDR[0]], 1)
    outer = safe_chain.new_safe([inner, ADDR[2]], 2)
    as_of = safe_chain.seal()
    chain_id = safe_chain.node.chain_id
    f = files(safe_chain, tmp_path / "nested", as_of, outer, KEYS[:2])
    att = json.loads(f.attestations["custodian-a"].read_text())
    digest = attestation_digest(AttestationMessage.from_json(att["message"], source="t"))
    passed = safe_message_data(digest, outer, chain_id)  # what the outer Safe hands its owner
    nested = secp256k1.sign(keccak256(safe_message_data(passed, inner, chain_id)), KEYS[0])
    chunks = {
        inner: bytes(12) + bytes.fromhex(inner[2:]) + (2 * 65).to_bytes(32, "big") + b"\x00",
        ADDR[2]: secp256k1.sign(safe_message_hash(digest, outer, chain_id), KEYS[2]),
    }
    signature = b"".join(chunks[o] for o in sorted(chunks, key=lambda a: int(a, 16)))
    signature += len(nested).to_bytes(32, "big") + nested
    doc = json.loads(f.bundle.read_text())
    outer_entry = {"scheme": "secp256k1", "signer": outer, "signature": "0x" + signature.hex()}
    doc["custodians"][0]["signatures"] = [outer_entry]
    f.bundle.write_text(json.dumps(doc))
    run = verify(f)
    assert run.code == 0, run.output  # the Safe accepts its contract owner's signature

    policy, n = re.subn(
        r"(eip1271 = \[[^\n]*\]\n)threshold = 1\n",
        rf'signers = ["{ADDR[0]}"]\n\1threshold = 2\n',
        f.policy.read_text(),
    )
    assert n == 1
    f.policy.write_text(policy)
    direct = {
        "scheme": "secp256k1",
        "signer": ADDR[0],
        "signature": "0x" + secp256k1.sign(digest, KEYS[0]).hex(),
    }
    doc["custodians"][0]["signatures"] = [direct, outer_entry]
    f.bundle.write_text(json.dumps(doc))
    run = verify(f)
    assert run.code == 1, run.output
    [check] = failed(run)
    assert check["kind"] == "duplicate_key"
    assert f"accepted a signature by {ADDR[0]}" in check["detail"]
