"""One key, one vote (DESIGN §1): a key signing directly and again through a contract wallet it
controls counts once; two wallets accepting one key's signature count once; each wallet counts
as itself.

This module starts its own demo chains, because it deploys ``TestContractWallet`` contracts
(an EIP-1271 wallet that accepts a 65-byte ECDSA signature by its owner over the digest) before
``as_of``: the wallets are asked at the block pinned for supply, so they must exist by then.
Custodian A pins secp256k1 keys 0 and 1 and the wallets, threshold 2.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.attacks.crafting import (
    KEYS,
    Doc,
    Workdir,
    assert_refused,
    custodian,
    message,
    new_workdir,
    sign_secp256k1,
    verify_cli,
)
from verifier.app.demo import (
    DemoFiles,
    latest_time,
    seal_as_of,
    start_demo_chains,
    write_demo_files,
)
from verifier.devnet.deploy import deploy
from verifier.signatures import secp256k1

K0, K1, K2 = KEYS["a"][0], KEYS["a"][1], KEYS["a"][2]


@dataclass(frozen=True)
class WalletWorld:
    files: DemoFiles
    chain_id: int
    #: two wallets owned by key 0, one owned by key 1, one by key 2 (which the policy never pins)
    of_k0: tuple[str, str]
    of_k1: str
    of_k2: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WalletWorld]:
    net, deps, _ = start_demo_chains("embedded")
    try:
        url = deps[0].url
        of_k0 = (
            deploy(url, "TestContractWallet", secp256k1.address_of(K0)),
            deploy(url, "TestContractWallet", secp256k1.address_of(K0)),
        )
        of_k1 = deploy(url, "TestContractWallet", secp256k1.address_of(K1))
        of_k2 = deploy(url, "TestContractWallet", secp256k1.address_of(K2))
        as_of = latest_time(deps)
        seal_as_of(deps, as_of)  # a block after as_of makes the pin final
        files = write_demo_files(tmp_path_factory.mktemp("wallets"), deps, as_of=as_of)
        yield WalletWorld(files, deps[0].chain_id, of_k0, of_k1, of_k2)
    finally:
        net.stop()


def workdir(world: WalletWorld, tmp_path: Path, wallets: list[str]) -> Workdir:
    """A workdir whose policy pins keys 0 and 1 and ``wallets`` for custodian A, threshold 2."""
    work = new_workdir(tmp_path / "work", world.files)
    pinned = ", ".join(f'{{ chain_id = {world.chain_id}, address = "{w}" }}' for w in wallets)
    signers = f'"{secp256k1.address_of(K0)}", "{secp256k1.address_of(K1)}"'
    policy, n = re.subn(
        r'(id = "custodian-a"\n)signers = \[[^\]]*\]',
        rf"\1signers = [{signers}]\neip1271 = [{pinned}]",
        work.policy.read_text(),
    )
    assert n == 1
    work.policy.write_text(policy)
    return work


def sign_a(doc: Doc, entries: list[tuple[bytes, str | None]]) -> None:
    """Custodian A's signatures: each key's signature over the digest, named for itself
    (``None``) or for a wallet address."""
    entry = custodian(doc, "custodian-a")
    msg = message(entry)
    out = []
    for key, wallet in entries:
        (signed,) = sign_secp256k1(msg, [key])
        item = signed.to_json()
        if wallet is not None:
            item["signer"] = wallet
        out.append(item)
    entry["signatures"] = out


def test_each_wallet_counts_as_itself(world: WalletWorld, tmp_path: Path) -> None:
    """The control: key 1 directly and key 0 through its wallet are two keys, two votes."""
    work = workdir(world, tmp_path, [world.of_k0[0]])
    run = verify_cli(work.craft(lambda d: sign_a(d, [(K1, None), (K0, world.of_k0[0])])), work)

    assert run.code == 0, run.stdout + run.stderr
    row = next(a for a in run.json["attestations"] if a["custodian"] == "custodian-a")
    assert row["signers"] == sorted([secp256k1.address_of(K1), world.of_k0[0]])
    check = next(c for c in run.json["checks"] if c["id"] == "attestation:custodian-a:signatures")
    assert "one key, one vote" in check["detail"]


def test_key_direct_and_through_its_wallet_counts_once(world: WalletWorld, tmp_path: Path) -> None:
    work = workdir(world, tmp_path, [world.of_k0[0]])
    k0 = secp256k1.address_of(K0)
    # the demo's own bundle (keys 0 and 1 directly) verifies and sets the rollback floor
    assert verify_cli(work.write(work.bundle_doc(), "valid.json"), work).code == 0
    before = work.snapshot()
    assert before is not None
    # key 0 signs directly, and the same signature is offered again in its wallet's name
    bundle = work.craft(lambda d: sign_a(d, [(K0, None), (K0, world.of_k0[0])]))

    run = verify_cli(bundle, work)

    assert_refused(
        run,
        work,
        before,
        code=1,
        kinds={"duplicate_key"},
        words=[
            "custodian 'custodian-a': 1 distinct pinned key(s) signed, threshold 2",
            f"contract wallet {world.of_k0[0]} accepted a signature by {k0}",
            "one key, one vote",
        ],
    )
    row = next(a for a in run.json["attestations"] if a["custodian"] == "custodian-a")
    assert row["signers"] == [k0] and row["threshold_met"] is False


def test_wallet_first_then_key_counts_once(world: WalletWorld, tmp_path: Path) -> None:
    """Listing the wallet before the direct signature changes nothing (not order-dependent)."""
    work = workdir(world, tmp_path, [world.of_k0[0]])
    bundle = work.craft(lambda d: sign_a(d, [(K0, world.of_k0[0]), (K0, None)]))

    run = verify_cli(bundle, work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"duplicate_key"},
        words=["1 distinct pinned key(s) signed, threshold 2", "one key, one vote"],
    )


def test_two_wallets_of_one_key_count_once(world: WalletWorld, tmp_path: Path) -> None:
    work = workdir(world, tmp_path, list(world.of_k0))
    bundle = work.craft(lambda d: sign_a(d, [(K0, world.of_k0[0]), (K0, world.of_k0[1])]))

    run = verify_cli(bundle, work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"duplicate_key"},
        words=[
            "1 distinct pinned key(s) signed, threshold 2",
            f"contract wallet {world.of_k0[1]} accepted a signature by "
            f"{secp256k1.address_of(K0)}, which already counted for {world.of_k0[0]}",
        ],
    )


def test_wallet_refusing_is_named(world: WalletWorld, tmp_path: Path) -> None:
    """Key 0's signature offered in the name of key 1's wallet: the wallet refuses it."""
    work = workdir(world, tmp_path, [world.of_k1])
    bundle = work.craft(lambda d: sign_a(d, [(K0, None), (K0, world.of_k1)]))

    run = verify_cli(bundle, work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"wallet_refused"},
        words=[f"contract wallet {world.of_k1} rejects the signature"],
    )


def test_wallet_naming_no_pinned_key_does_not_add_to_a_key(
    world: WalletWorld, tmp_path: Path
) -> None:
    """Key 0 directly, and a wallet whose signature recovers to no pinned key. porv cannot
    tell that signature from one by key 0 over a hash it does not try (a Safe's, a wallet's
    own domain): the wallet is taken to share keys with every other vote, so it cannot be
    the second of a threshold of 2 (issue 8, class 7)."""
    work = workdir(world, tmp_path, [world.of_k2])
    assert verify_cli(work.write(work.bundle_doc(), "valid.json"), work).code == 0
    before = work.snapshot()
    assert before is not None
    bundle = work.craft(lambda d: sign_a(d, [(K0, None), (K2, world.of_k2)]))

    run = verify_cli(bundle, work)

    assert_refused(
        run,
        work,
        before,
        code=1,
        kinds={"duplicate_key"},
        words=[
            "1 distinct pinned key(s) signed, threshold 2",
            f"contract wallet {world.of_k2}: its signature names no pinned key porv can recover",
            "counted as sharing keys with every other vote",
        ],
    )
    row = next(a for a in run.json["attestations"] if a["custodian"] == "custodian-a")
    assert row["signers"] == [secp256k1.address_of(K0)] and row["threshold_met"] is False
