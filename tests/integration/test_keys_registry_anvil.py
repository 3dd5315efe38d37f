"""Keys, remote signers and registry admin on a real anvil chain.

anvil's dev accounts are unlocked and answer ``eth_signTypedData_v4`` and
``eth_sendTransaction``, as a wallet or a key manager would. The whole exporter story (key new,
remote signing, ``attest verify --signer``, register-signer, publish, ``verify`` from the
registry) runs as the README's walkthrough in ``test_readme_walkthrough.py``. The owner's
``registry remove-custodian`` takes a custodian out of the feed the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import cli
from tests.support.fakenode import FakeNode
from tests.support.fakenode import chain as fake_chain
from verifier.app.devnet import load_devnet_scenario, start_devnet
from verifier.devnet import registry as reg
from verifier.devnet.deploy import accounts
from verifier.devnet.node import rpc_request
from verifier.local.keys import load_key_file
from verifier.model.attestation import AttestationMessage, Total
from verifier.signatures import secp256k1
from verifier.signatures.eip712 import attestation_digest

pytestmark = pytest.mark.anvil

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "fixtures/scenarios/walkthrough.json"
TREE = ROOT / "fixtures/vectors/signatures/tree.json"
#: anvil's dev account 0 key (public, test-only): it deploys and owns the registry
OWNER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ZERO = "0x0000000000000000000000000000000000000000"


@pytest.fixture(scope="module")
def walk_chain() -> Iterator[tuple[str, str]]:
    """The walkthrough scenario on anvil: (RPC URL, registry address)."""
    net = start_devnet("anvil", load_devnet_scenario(str(SCENARIO)))
    try:
        registry = net.chain(31337).registry
        assert registry is not None
        yield net.chain(31337).node.url, registry
    finally:
        net.stop()


def porv(*args: str) -> cli.Run:
    run = cli.porv(args, in_process=True)
    assert "Traceback" not in run.output
    return run


def sign_args(out: Path, *signers: str) -> list[str]:
    return [
        "attest",
        "sign",
        "--tree",
        str(TREE),
        "--issuer",
        "Example Issuer Ltd",
        "--token",
        "pUSD",
        "--custodian",
        "custodian-a",
        "--as-of",
        "2026-01-01",
        "--valid-until",
        "2026-02-01",
        "--sequence",
        "1",
        *signers,
        "-o",
        str(out),
    ]


def test_remote_signing_mixed_with_a_file_key(walk_chain: tuple[str, str], tmp_path: Path) -> None:
    url, _ = walk_chain
    remote = accounts(url)[3]
    key_path = tmp_path / "custodian.key"
    assert porv("key", "new", "-o", str(key_path)).code == 0
    file_signer = secp256k1.address_of(load_key_file(key_path, "secp256k1"))
    att = tmp_path / "att.json"
    run = porv(
        *sign_args(
            att,
            "--key-file",
            str(key_path),
            "--signer-rpc",
            url,
            "--signer-address",
            remote,
        )
    )
    assert run.code == 0, run.output
    assert "2 key(s)" in run.stderr
    run = porv(
        "attest",
        "verify",
        str(att),
        "--tree",
        str(TREE),
        "--signer",
        file_signer,
        "--signer",
        remote,
        "--format",
        "json",
    )
    assert run.code == 0, run.output
    assert run.json["signed"] == sorted([file_signer, remote])


def test_remote_signer_without_the_key_writes_nothing(
    walk_chain: tuple[str, str], tmp_path: Path
) -> None:
    url, _ = walk_chain
    stranger = secp256k1.address_of(
        load_key_file(ROOT / "fixtures/keys/secp256k1-0.key", "secp256k1")
    )
    att = tmp_path / "att.json"
    run = porv(*sign_args(att, "--signer-rpc", url, "--signer-address", stranger))
    assert run.code == 3
    assert stranger in run.stderr and "signer endpoint http://127.0.0.1:" in run.stderr
    assert not att.exists()


def admin(action: str, url: str, registry: str, signer: str, *sender: str) -> cli.Run:
    return porv(
        "registry",
        f"{action}-signer",
        "--rpc",
        url,
        "--registry",
        f"31337:{registry}",
        "--custodian",
        "custodian-z",
        "--signer",
        signer,
        *sender,
        "--format",
        "json",
    )


def test_register_and_revoke_with_a_key_file_and_a_remote_account(
    walk_chain: tuple[str, str], tmp_path: Path
) -> None:
    url, registry = walk_chain
    owner_key = tmp_path / "owner.key"
    owner_key.write_text(OWNER_KEY + "\n")
    owner = accounts(url)[0]
    signer = secp256k1.address_of(
        load_key_file(ROOT / "fixtures/keys/secp256k1-1.key", "secp256k1")
    )
    by_key = ("--key", str(owner_key))
    by_rpc = ("--signer-rpc", url, "--from", owner)

    run = admin("register", url, registry, signer, *by_key)
    assert run.code == 0, run.output
    doc = run.json
    assert (doc["status"], doc["outcome"], doc["sender"]) == ("ok", "registered", owner)
    assert doc["signer"] == signer and doc["block_number"] > 0
    assert (
        reg.dep.contract(url, reg.NAME, registry).functions.isSigner("custodian-z", signer).call()
    )

    head = rpc_request(url, "eth_blockNumber")
    run = admin("register", url, registry, signer, *by_rpc)
    assert run.code == 0 and run.json["outcome"] == "already_registered"
    assert rpc_request(url, "eth_blockNumber") == head  # nothing sent

    run = admin("revoke", url, registry, signer, *by_rpc)
    assert run.code == 0, run.output
    assert run.json["outcome"] == "revoked"
    assert (
        not reg.dep.contract(url, reg.NAME, registry)
        .functions.isSigner("custodian-z", signer)
        .call()
    )
    head = rpc_request(url, "eth_blockNumber")
    run = admin("revoke", url, registry, signer, *by_key)
    assert run.code == 0 and run.json["outcome"] == "not_registered"
    assert rpc_request(url, "eth_blockNumber") == head

    text = porv(
        "registry",
        "register-signer",
        "--rpc",
        url,
        "--registry",
        registry,
        "--custodian",
        "custodian-z",
        "--signer",
        signer,
        *by_key,
    )
    assert text.code == 0, text.output
    assert f"signer {signer}: registered in tx 0x" in text.stdout


def test_reverts_are_named(walk_chain: tuple[str, str]) -> None:
    url, registry = walk_chain
    not_owner = accounts(url)[5]
    someone = accounts(url)[6]
    head = rpc_request(url, "eth_blockNumber")
    run = admin("register", url, registry, someone, "--signer-rpc", url, "--from", not_owner)
    assert run.code == 1, run.output
    message = run.json["error"]["message"]
    assert "registerSigner" in message and "OwnableUnauthorizedAccount" in message
    assert not_owner in message
    run = admin("register", url, registry, ZERO, "--signer-rpc", url, "--from", accounts(url)[0])
    assert run.code == 1
    assert "registerSigner: ZeroSigner" in run.json["error"]["message"]
    assert rpc_request(url, "eth_blockNumber") == head


def test_wrong_chain_no_registry_and_bad_options(
    walk_chain: tuple[str, str], tmp_path: Path
) -> None:
    url, registry = walk_chain
    owner = accounts(url)[0]
    signer = accounts(url)[7]
    base = ["registry", "register-signer", "--rpc", url, "--custodian", "c", "--signer", signer]
    remote = ["--signer-rpc", url, "--from", owner]
    run = porv(*base, "--registry", f"1:{registry}", *remote)
    assert run.code == 3 and "serves chain id 31337, expected 1" in run.stderr
    run = porv(*base, "--registry", signer, *remote)
    assert run.code == 3 and "no contract at" in run.stderr
    key = tmp_path / "owner.key"
    key.write_text(OWNER_KEY + "\n")
    run = porv(*base, "--registry", registry, *remote, "--key", str(key))
    assert run.code == 2 and "--key FILE, or as --signer-rpc" in run.stderr
    run = porv(*base, "--registry", registry)
    assert run.code == 2
    run = porv(*base, "--registry", registry, "--signer-rpc", url)
    assert run.code == 2 and "--from" in run.stderr
    run = porv(*base[:-1], signer.lower(), "--registry", registry, *remote)
    assert run.code == 2 and "checksummed" in run.stderr


def test_a_signer_on_another_chain_is_refused_before_sending(
    walk_chain: tuple[str, str],
) -> None:
    url, registry = walk_chain
    head = rpc_request(url, "eth_blockNumber")
    with FakeNode(fake_chain(1)) as other:
        run = admin(
            "register",
            url,
            registry,
            accounts(url)[8],
            "--signer-rpc",
            other.url,
            "--from",
            accounts(url)[0],
        )
    assert run.code == 3
    assert "serves chain id 1" in run.json["error"]["message"]
    assert rpc_request(url, "eth_blockNumber") == head


def remove(url: str, registry: str, custodian: str, *sender: str, fmt: str = "json") -> cli.Run:
    return porv(
        "registry", "remove-custodian", "--rpc", url, "--registry", f"31337:{registry}",
        "--custodian", custodian, *sender, "--format", fmt,
    )  # fmt: skip


def in_feed(url: str, registry: str, custodian: str, sequence: int) -> AttestationMessage:
    """Register a key for ``custodian`` and submit its attestation: it takes a feed place."""
    key = bytes.fromhex("d4" * 32)
    head = int(rpc_request(url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    reg.register_signer(url, registry, custodian, secp256k1.address_of(key))
    msg = AttestationMessage(
        issuer="Example Issuer Ltd",
        token="pUSD",
        custodian=custodian,
        holdings_root=bytes(32),
        leaf_count=1,
        totals=(Total("USD", 7_000_000, 2),),
        as_of=head - 5 + sequence,
        valid_until=head + 30 * 86400,
        sequence=sequence,
    )
    reg.submit_attestation(url, registry, msg, secp256k1.sign(attestation_digest(msg), key))
    return msg


def test_remove_custodian_frees_its_feed_place(walk_chain: tuple[str, str], tmp_path: Path) -> None:
    url, registry = walk_chain
    owner_key = tmp_path / "owner.key"
    owner_key.write_text(OWNER_KEY + "\n")
    owner = accounts(url)[0]
    feed = reg.dep.contract(url, reg.NAME, registry)
    msg = in_feed(url, registry, "custodian-r", 1)
    count = feed.functions.feedCustodianCount().call()
    before = reg.latest_round_data(url, registry).answer
    assert feed.functions.contributionOf("custodian-r").call()[4] is True

    run = remove(url, registry, "custodian-r", "--key", str(owner_key))
    assert run.code == 0, run.output
    doc = run.json
    assert (doc["status"], doc["action"], doc["outcome"]) == ("ok", "remove_custodian", "removed")
    assert (doc["sender"], doc["custodian"], doc["chain_id"]) == (owner, "custodian-r", 31337)
    assert doc["removed"] == {
        "amount": str(70_000 * 10**6),  # 70,000.00 USD at the feed's 6 decimals
        "as_of": msg.as_of,
        "valid_until": msg.valid_until,
        "signer": secp256k1.address_of(bytes.fromhex("d4" * 32)),
        "counted": True,
    }
    after = reg.latest_round_data(url, registry, block=doc["block_number"])
    assert doc["latest_round_data"]["answer"] == str(after.answer) == str(before - 70_000 * 10**6)
    assert feed.functions.feedCustodianCount().call() == count - 1
    assert feed.functions.contributionOf("custodian-r").call()[3] == ZERO
    # its key stays registered and its record stays
    assert feed.functions.isSigner("custodian-r", doc["removed"]["signer"]).call()
    assert reg.latest(url, registry, "Example Issuer Ltd", "pUSD", "custodian-r").sequence == 1

    # again: not in the feed, nothing sent (with either way of naming the owner)
    head = rpc_request(url, "eth_blockNumber")
    run = remove(url, registry, "custodian-r", "--signer-rpc", url, "--from", owner)
    assert run.code == 0 and run.json["outcome"] == "not_in_feed"
    text = remove(url, registry, "custodian-r", "--key", str(owner_key), fmt="text")
    assert text.code == 0 and "'custodian-r': not in the feed, nothing sent" in text.stdout
    assert rpc_request(url, "eth_blockNumber") == head

    # its next attestation takes a place again; only the owner removes it
    in_feed(url, registry, "custodian-r", 2)
    stranger = accounts(url)[5]
    run = remove(url, registry, "custodian-r", "--signer-rpc", url, "--from", stranger)
    assert run.code == 1, run.output
    message = run.json["error"]["message"]
    assert "removeFeedCustodian" in message and "OwnableUnauthorizedAccount" in message
    assert stranger in message
    text = remove(url, registry, "custodian-r", "--signer-rpc", url, "--from", owner, fmt="text")
    assert text.code == 0, text.output
    assert "'custodian-r': removed from the feed in tx 0x" in text.stdout
    assert "its contribution was 70000000000 base units as of" in text.stdout
    assert "latestRoundData after: answer" in text.stdout


def test_remove_custodian_refuses_bad_options_before_sending(
    walk_chain: tuple[str, str], tmp_path: Path
) -> None:
    url, registry = walk_chain
    owner = accounts(url)[0]
    head = rpc_request(url, "eth_blockNumber")
    run = porv(
        "registry", "remove-custodian", "--rpc", url, "--registry", f"1:{registry}",
        "--custodian", "c", "--signer-rpc", url, "--from", owner,
    )  # fmt: skip
    assert run.code == 3 and "serves chain id 31337, expected 1" in run.stderr
    run = remove(url, registry, "", "--signer-rpc", url, "--from", owner)
    assert run.code == 2 and "--custodian is empty" in run.json["error"]["message"]
    run = remove(url, registry, "c", "--signer-rpc", url)
    assert run.code == 2 and run.json["status"] == "error"
    run = remove(url, owner, "c", "--signer-rpc", url, "--from", owner)
    assert run.code == 3 and "no contract at" in run.json["error"]["message"]
    assert rpc_request(url, "eth_blockNumber") == head
