"""Safe custodians' signatures (issue 12): long wallet signatures, and what they cannot do.

The demo scenario's Safe (2 of 3, owned by custodian A's keys, on chain 31337) signs custodian
A's attestation; the policy pins it under ``eip1271``. The Safe itself is asked at the pinned
block (``isValidSignature``); these attacks change the signature bytes or the policy around it:

* a signature longer than the cap is malformed input (exit 2, naming the field);
* a direct (non-wallet) secp256k1 signature of any length but 65 never counts, and says why;
* junk appended to a Safe signature (which the Safe ignores past its threshold) cannot make a
  key count twice, nor make an unattributed Safe count beside another vote;
* owner chunks out of order are refused by the Safe (GS026), so the wallet refuses.
"""

from __future__ import annotations

import os
import re
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
    verify_cli,
)
from tests.support.demo import DemoNet
from verifier.app.demo import DemoFiles, DemoSafe, demo_safe, write_demo_files
from verifier.model.attestation import MAX_WALLET_SIGNATURE_BYTES
from verifier.signatures import secp256k1
from verifier.signatures.eip712 import attestation_digest
from verifier.signatures.wallet_keys import MAX_CHUNKS, safe_message_hash

A = KEYS["a"]
ADDR = [secp256k1.address_of(k) for k in A]


@pytest.fixture(scope="module")
def safe(demo_net: DemoNet) -> DemoSafe:
    found = demo_safe(demo_net[0])
    assert found is not None, "the demo scenario creates a Safe"
    return found


@pytest.fixture(scope="module")
def safe_files(
    demo_net: DemoNet, safe: DemoSafe, tmp_path_factory: pytest.TempPathFactory
) -> DemoFiles:
    _, deployments, as_of = demo_net
    folder = tmp_path_factory.mktemp("safe-demo")
    return write_demo_files(folder, deployments, as_of=as_of, safe=safe)


@pytest.fixture
def safe_work(safe_files: DemoFiles, tmp_path: Path) -> Workdir:
    return new_workdir(tmp_path / "work", safe_files)


def pin(work: Workdir, signers: list[str], threshold: int) -> None:
    """Custodian A pins ``signers`` beside its Safe, with ``threshold``."""
    policy = work.policy.read_text(encoding="utf-8")
    listed = ", ".join(f'"{s}"' for s in signers)
    policy, n = re.subn(
        r"(eip1271 = \[[^\n]*\]\n)threshold = 1\n",
        rf"signers = [{listed}]\n\1threshold = {threshold}\n",
        policy,
    )
    assert n == 1
    work.policy.write_text(policy, encoding="utf-8")


def safe_signature(doc: Doc, safe: DemoSafe, keys: list[bytes]) -> bytes:
    """The owners' chunks over the Safe's SafeMessage of custodian A's digest, sorted."""
    digest = attestation_digest(message(custodian(doc, "custodian-a")))
    hashed = safe_message_hash(digest, safe.address, safe.chain_id)
    ordered = sorted(keys, key=lambda k: int(secp256k1.address_of(k), 16))
    return b"".join(secp256k1.sign(hashed, k) for k in ordered)


def direct(doc: Doc, key: bytes) -> dict[str, str]:
    digest = attestation_digest(message(custodian(doc, "custodian-a")))
    return {
        "scheme": "secp256k1",
        "signer": secp256k1.address_of(key),
        "signature": "0x" + secp256k1.sign(digest, key).hex(),
    }


def set_signatures(doc: Doc, *entries: dict[str, str]) -> None:
    custodian(doc, "custodian-a")["signatures"] = list(entries)


def safe_entry(safe: DemoSafe, signature: bytes) -> dict[str, str]:
    return {"scheme": "secp256k1", "signer": safe.address, "signature": "0x" + signature.hex()}


def test_the_safe_custodian_verifies(safe_work: Workdir, safe: DemoSafe) -> None:
    run = verify_cli(safe_work.write(safe_work.bundle_doc()), safe_work)
    assert run.code == 0, run.output
    row = next(a for a in run.json["attestations"] if a["custodian"] == "custodian-a")
    assert row["signers"] == [safe.address] and row["threshold_met"] is True
    sig = custodian(safe_work.bundle_doc(), "custodian-a")["signatures"][0]["signature"]
    assert len(sig) == 2 + 2 * 130  # two owners' 65-byte chunks


def test_signature_over_the_cap_is_malformed(safe_work: Workdir, safe: DemoSafe) -> None:
    def oversize(doc: Doc) -> None:
        good = safe_signature(doc, safe, A[:2])
        padding = bytes(MAX_WALLET_SIGNATURE_BYTES + 1 - len(good))
        set_signatures(doc, safe_entry(safe, good + padding))

    run = verify_cli(safe_work.craft(oversize), safe_work)

    assert_refused(
        run,
        safe_work,
        None,
        code=2,
        kinds={"schema_error"},
        words=[f"signature of {MAX_WALLET_SIGNATURE_BYTES + 1} bytes", "at most 8192 bytes"],
    )
    location = run.json["error"]["location"]
    assert location["file"].endswith("custodians[0].signatures[0]"), location
    assert location["field"] == "signature.signature", location


def test_signature_at_the_cap_is_asked_and_junk_past_the_owners_adds_nothing(
    safe_work: Workdir, safe: DemoSafe
) -> None:
    """8192 bytes parse; the Safe reads its two owners' chunks and ignores the rest (zeros);
    porv reads only the first owner chunks and marks the rest unread: the Safe still counts,
    alone, once."""

    def at_cap(doc: Doc) -> None:
        good = safe_signature(doc, safe, A[:2])
        set_signatures(doc, safe_entry(safe, good + bytes(MAX_WALLET_SIGNATURE_BYTES - len(good))))

    run = verify_cli(safe_work.craft(at_cap), safe_work)
    assert run.code == 0, run.output
    row = next(a for a in run.json["attestations"] if a["custodian"] == "custodian-a")
    assert row["signers"] == [safe.address]


@pytest.mark.parametrize("length", [64, 130])
def test_direct_signature_must_be_65_bytes(work: Workdir, length: int) -> None:
    """Custodian A (keys, no wallet) with its first entry 64 bytes (the EIP-2098 compact form
    of a good signature) or 130 (two keys' signatures concatenated, named for the first): it
    parses (it could be a wallet's), never counts, and the detail says why."""

    def stretch(doc: Doc) -> None:
        entry = custodian(doc, "custodian-a")["signatures"][0]
        raw = bytes.fromhex(entry["signature"][2:])
        if length == 64:
            r, s, v = raw[:32], int.from_bytes(raw[32:64], "big"), raw[64]
            raw = r + ((v - 27) << 255 | s).to_bytes(32, "big")
        else:
            raw = raw + bytes.fromhex(direct(doc, A[1])["signature"][2:])
        entry["signature"] = "0x" + raw.hex()

    run = verify_cli(work.craft(stretch), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"threshold_not_met"},
        words=[
            f"is not a contract wallet the policy pins, and a direct secp256k1 signature is 65 "
            f"bytes (r, s, v), found {length}",
            "1 distinct pinned key(s) signed, threshold 2",
        ],
    )


def test_padding_a_safe_signature_with_a_pinned_keys_signature_counts_it_once(
    safe_work: Workdir, safe: DemoSafe
) -> None:
    """Key 2 is pinned and signs directly; the Safe's owners 0 and 1 are not pinned, so the Safe
    counts only alone. Appending key 2's direct signature to the Safe's (the Safe ignores
    chunks past its threshold) makes porv attribute the Safe to key 2 as well: still one vote."""
    pin(safe_work, [ADDR[2]], threshold=2)

    def honest(doc: Doc) -> None:
        set_signatures(doc, direct(doc, A[2]), safe_entry(safe, safe_signature(doc, safe, A[:2])))

    run = verify_cli(safe_work.craft(honest, "honest.json"), safe_work)
    assert_refused(
        run,
        safe_work,
        None,
        code=1,
        kinds={"duplicate_key"},
        words=["its signature names no pinned key porv can recover"],
    )

    def padded(doc: Doc) -> None:
        pad = bytes.fromhex(direct(doc, A[2])["signature"][2:])
        good = safe_signature(doc, safe, A[:2])
        set_signatures(doc, direct(doc, A[2]), safe_entry(safe, good + pad))

    run = verify_cli(safe_work.craft(padded), safe_work)
    assert_refused(
        run,
        safe_work,
        None,
        code=1,
        kinds={"duplicate_key"},
        words=[f"accepted a signature by {ADDR[2]}", "one key, one vote: counted once"],
    )


def test_junk_chunks_past_the_limit_make_the_safe_count_only_alone(
    safe_work: Workdir, safe: DemoSafe
) -> None:
    """Keys 0 and 1 pinned, threshold 2: key 1 directly and the Safe through owners 0 and 2
    count two (honest). The same Safe signature padded past porv's chunk limit (the Safe
    accepts it) cannot be attributed any more: porv did not read every key behind it."""
    pin(safe_work, [ADDR[0], ADDR[1]], threshold=2)

    def honest(doc: Doc) -> None:
        set_signatures(
            doc, direct(doc, A[1]), safe_entry(safe, safe_signature(doc, safe, [A[0], A[2]]))
        )

    run = verify_cli(safe_work.craft(honest, "honest.json"), safe_work)
    assert run.code == 0, run.output
    before = safe_work.snapshot()

    def padded(doc: Doc) -> None:
        good = safe_signature(doc, safe, [A[0], A[2]])
        junk = b"".join(os.urandom(64) + b"\x1b" for _ in range(MAX_CHUNKS))
        set_signatures(doc, direct(doc, A[1]), safe_entry(safe, good + junk))

    run = verify_cli(safe_work.craft(padded), safe_work)
    assert_refused(
        run,
        safe_work,
        before,
        code=1,
        kinds={"duplicate_key"},
        words=[f"more than {MAX_CHUNKS} owner chunks"],
    )


def test_owner_chunks_out_of_order_are_refused(safe_work: Workdir, safe: DemoSafe) -> None:
    def unsorted(doc: Doc) -> None:
        good = safe_signature(doc, safe, A[:2])
        set_signatures(doc, safe_entry(safe, good[65:] + good[:65]))

    run = verify_cli(safe_work.craft(unsorted), safe_work)

    assert_refused(
        run,
        safe_work,
        None,
        code=1,
        kinds={"wallet_refused"},
        words=[f"contract wallet {safe.address} rejects the signature"],
    )
