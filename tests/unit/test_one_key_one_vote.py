"""The one threshold counter: one key one vote across direct keys, BLS signers, EIP-1271 wallets
and recovered signers, and the kind a failed threshold carries."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from eth_hash.auto import keccak
from eth_utils.address import to_checksum_address

from verifier.errors import (
    DuplicateKey,
    HighSSignature,
    ThresholdNotMet,
    UnknownSigner,
    WalletRefused,
)
from verifier.model.attestation import SignatureEntry
from verifier.signatures import (
    FAILURE_KINDS,
    Eip1271Checker,
    VerificationResult,
    _max_disjoint,
    count_signatures,
    keys_behind_wallet_signature,
    secp256k1,
)
from verifier.signatures import bls as bls_sig

KEYS = [keccak(f"one key one vote {i}".encode()) for i in range(4)]
ADDRS = [secp256k1.address_of(k) for k in KEYS]
DIGEST = keccak(b"a digest to vote on")
WALLETS = [to_checksum_address("0x" + f"{i + 1:02x}" * 20) for i in range(3)]
#: each wallet is a TestContractWallet: a 65-byte low-s ECDSA signature by its owner is valid
OWNERS: dict[str, str] = {WALLETS[0]: ADDRS[0], WALLETS[1]: ADDRS[0], WALLETS[2]: ADDRS[2]}


def direct(key: bytes) -> SignatureEntry:
    return SignatureEntry("secp256k1", secp256k1.address_of(key), (), secp256k1.sign(DIGEST, key))


def via(wallet: str, key: bytes) -> SignatureEntry:
    return SignatureEntry("secp256k1", wallet, (), secp256k1.sign(DIGEST, key))


def wallet_checker(wallet: str, digest: bytes, signature: bytes) -> bool:
    return secp256k1.recover(digest, signature) == OWNERS[wallet]


def count(
    entries: Sequence[SignatureEntry],
    threshold: int = 2,
    *,
    signers: Sequence[str] = tuple(ADDRS[:2]),
    eip1271: Eip1271Checker | None = wallet_checker,
    recovered: Sequence[tuple[str, str]] = (),
) -> VerificationResult:
    """Custodian-style counting: keys 0 and 1 pinned directly, the three wallets pinned."""
    return count_signatures(
        DIGEST,
        entries,
        signers=signers,
        threshold=threshold,
        eip1271=eip1271,
        eip1271_wallets=WALLETS,
        recovered=recovered,
    )


def test_key_direct_and_through_its_wallet_counts_once_in_either_order() -> None:
    for entries in (
        [direct(KEYS[0]), via(WALLETS[0], KEYS[0])],
        [via(WALLETS[0], KEYS[0]), direct(KEYS[0])],
    ):
        result = count(entries)
        assert not result.ok
        assert result.signed == frozenset([ADDRS[0]])  # the direct key is the one credited
        assert result.kind == "duplicate_key"
        assert isinstance(result.failure("x"), DuplicateKey)
        (problem,) = result.problems
        assert f"contract wallet {WALLETS[0]} accepted a signature by {ADDRS[0]}" in problem


def test_two_wallets_of_one_key_count_once() -> None:
    result = count([via(WALLETS[0], KEYS[0]), via(WALLETS[1], KEYS[0])], signers=ADDRS[2:3])
    assert result.signed == frozenset([WALLETS[0]]) and not result.ok
    assert result.problem_kinds == ("duplicate_key",)
    assert f"already counted for {WALLETS[0]} (signatures[0])" in result.problems[0]


def test_each_wallet_counts_as_itself() -> None:
    # key 0's wallet and key 1 directly: two keys, two votes
    result = count([direct(KEYS[1]), via(WALLETS[0], KEYS[0])])
    assert result.ok and result.signed == frozenset([ADDRS[1], WALLETS[0]])
    # key 0 pinned but not signing directly: its wallet still counts
    result = count([via(WALLETS[0], KEYS[0]), via(WALLETS[2], KEYS[2])])
    assert result.ok and result.signed == frozenset([WALLETS[0], WALLETS[2]])
    assert result.problems == ()


def test_a_key_that_did_not_count_leaves_its_wallet_free() -> None:
    """Only counted votes use up a key: a high-s direct signature by key 0 does not."""
    high = SignatureEntry(
        "secp256k1", ADDRS[0], (), secp256k1.high_s_twin(secp256k1.sign(DIGEST, KEYS[0]))
    )
    result = count([high, via(WALLETS[0], KEYS[0]), direct(KEYS[1])])
    assert result.ok and result.signed == frozenset([WALLETS[0], ADDRS[1]])
    assert result.problem_kinds == ("high_s",)


def test_maximal_not_greedy() -> None:
    """A wallet vote resting on two keys would block two others if taken first."""
    sets = [frozenset({"W1", "a", "b"}), frozenset({"W2", "a"}), frozenset({"W3", "b"})]
    assert _max_disjoint(sets) == [1, 2]
    assert _max_disjoint([frozenset({"a"}), frozenset({"W", "a"})]) == [0]
    assert _max_disjoint([]) == []
    chain = [frozenset({f"k{i}", f"k{i + 1}"}) for i in range(12)]
    assert len(_max_disjoint(chain)) == 6


def test_keys_behind_wallet_signature() -> None:
    sig = secp256k1.sign(DIGEST, KEYS[0])
    assert keys_behind_wallet_signature(DIGEST, sig)[0] == ADDRS[0]
    # lenient on purpose: the high-s twin and v in {0, 1} still name the key
    assert keys_behind_wallet_signature(DIGEST, secp256k1.high_s_twin(sig))[0] == ADDRS[0]
    assert keys_behind_wallet_signature(DIGEST, sig[:64] + bytes([sig[64] - 27]))[0] == ADDRS[0]
    # a wallet that checks the EIP-191 (eth_sign) hash of the digest
    eth_signed = keccak(b"\x19Ethereum Signed Message:\n32" + DIGEST)
    assert ADDRS[1] in keys_behind_wallet_signature(DIGEST, secp256k1.sign(eth_signed, KEYS[1]))
    assert keys_behind_wallet_signature(DIGEST, b"\x00" * 65) == ()
    assert keys_behind_wallet_signature(DIGEST, b"\x01" * 64) == ()


def test_recovered_signers_count_once_and_only_if_pinned() -> None:
    result = count([direct(KEYS[0])], recovered=[("registry", ADDRS[0])])
    assert not result.ok and result.kind == "duplicate_key"
    assert "registry: " + ADDRS[0] + " already signed; counted once" in result.problems
    result = count([direct(KEYS[0])], recovered=[("registry", ADDRS[1])])
    assert result.ok and result.problems == ()
    result = count([direct(KEYS[0])], recovered=[("registry", ADDRS[3])])
    assert not result.ok and result.kind == "unknown_signer"
    # a recovered key also consumes the wallet it owns
    result = count([via(WALLETS[0], KEYS[0])], recovered=[("registry", ADDRS[0])])
    assert not result.ok and result.signed == frozenset([ADDRS[0]])


def test_failure_kind_is_the_most_specific_problem() -> None:
    twin = SignatureEntry(
        "secp256k1", ADDRS[1], (), secp256k1.high_s_twin(secp256k1.sign(DIGEST, KEYS[1]))
    )
    stranger = direct(KEYS[3])
    refused = via(WALLETS[2], KEYS[0])
    cases = [
        ([direct(KEYS[0])], "threshold_not_met", ThresholdNotMet),
        ([direct(KEYS[0]), refused], "wallet_refused", WalletRefused),
        ([direct(KEYS[0]), direct(KEYS[0]), refused], "duplicate_key", DuplicateKey),
        ([refused, direct(KEYS[0]), direct(KEYS[0]), stranger], "unknown_signer", UnknownSigner),
        ([stranger, direct(KEYS[0]), twin], "high_s", HighSSignature),
        ([twin, stranger], "high_s", HighSSignature),
    ]
    for entries, kind, error in cases:
        for order in (entries, entries[::-1]):  # the order of entries does not choose the kind
            result = count(order)
            assert not result.ok
            assert result.kind == kind
            failure = result.failure("message", hint="hint")
            assert type(failure) is error and failure.kind == kind and failure.hint == "hint"
    assert FAILURE_KINDS == ("high_s", "unknown_signer", "duplicate_key", "wallet_refused")


def test_bls_signers_resolve_by_index_or_key_and_count_once() -> None:
    sks = [keccak(f"bls one vote {i}".encode()) for i in range(3)]
    sks = [(int.from_bytes(k, "big") % (bls_sig.R - 1) + 1).to_bytes(32, "big") for k in sks]
    pks = [bls_sig.secret_to_pubkey(k) for k in sks]
    pk = ["0x" + p.hex() for p in pks]

    def agg(signers: tuple[str | int, ...], keys: list[bytes]) -> SignatureEntry:
        return SignatureEntry(
            "bls", None, signers, bls_sig.aggregate([bls_sig.sign(DIGEST, k) for k in keys])
        )

    both = count_signatures(
        DIGEST, [agg((0, pk[1]), sks[:2])], bls_keys=pks, threshold=2, label="auditor_report"
    )
    assert both.ok and both.signed == frozenset(pk[:2])
    twice = count_signatures(
        DIGEST,
        [agg((0, pk[0]), [sks[0], sks[0]])],
        bls_keys=pks,
        threshold=1,
        label="auditor_report",
    )
    assert not twice.ok and twice.kind == "duplicate_key"
    assert twice.problems == (f"auditor_report[0]: BLS signer {pk[0]} is listed twice",)
    again = count_signatures(
        DIGEST, [agg((0,), sks[:1]), agg((pk[0],), sks[:1])], bls_keys=pks, threshold=2
    )
    assert again.kind == "duplicate_key" and "counted once" in again.problems[0]
    outside = count_signatures(DIGEST, [agg((5,), sks[:1])], bls_keys=pks, threshold=1)
    assert outside.kind == "unknown_signer" and "out of range" in outside.problems[0]
    wrong = count_signatures(DIGEST, [agg((0, 1), sks[:1])], bls_keys=pks, threshold=1)
    assert wrong.kind == "threshold_not_met" and "does not verify" in wrong.problems[0]


def test_wallet_problems_have_their_kinds() -> None:
    result = count([via(WALLETS[0], KEYS[0])], threshold=1, eip1271=None)
    assert result.problem_kinds == ("wallet_unchecked",) and result.kind == "threshold_not_met"
    high = SignatureEntry(
        "secp256k1", WALLETS[0], (), secp256k1.high_s_twin(secp256k1.sign(DIGEST, KEYS[0]))
    )
    result = count([high], threshold=1)  # the checker raises HighSSignature (a ClaimFailed)
    assert result.kind == "wallet_refused" and "EIP-1271 check" in result.problems[0]


@pytest.mark.parametrize("n", [1, 5])
def test_same_wallet_offered_twice_counts_once(n: int) -> None:
    result = count([via(WALLETS[2], KEYS[2])] * (n + 1), threshold=1)
    assert result.ok and result.signed == frozenset([WALLETS[2]])
    assert result.problem_kinds == ("duplicate_key",) * n
    assert all("already signed; counted once" in p for p in result.problems)
