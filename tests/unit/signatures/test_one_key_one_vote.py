"""The one threshold counter: one key one vote across direct keys, BLS signers, EIP-1271 wallets
and recovered signers, and the kind a failed threshold carries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from eth_hash.auto import keccak
from eth_utils.address import to_checksum_address

from verifier.errors import (
    DuplicateKeyError,
    HighSSignatureError,
    ThresholdNotMetError,
    UnknownSignerError,
    WalletRefusedError,
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
from verifier.signatures.wallet_keys import MAX_CHUNKS, eth_signed_hash, safe_message_hash

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
        assert isinstance(result.failure("x"), DuplicateKeyError)
        (problem,) = result.problems
        assert f"contract wallet {WALLETS[0]} accepted a signature by {ADDRS[0]}" in problem


def test_two_wallets_of_one_key_count_once() -> None:
    signers = (ADDRS[0], ADDRS[2])  # key 0 pinned: its wallets are attributed to it
    result = count([via(WALLETS[0], KEYS[0]), via(WALLETS[1], KEYS[0])], signers=signers)
    assert result.signed == frozenset([WALLETS[0]]) and not result.ok
    assert result.problem_kinds == ("duplicate_key",)
    assert f"already counted for {WALLETS[0]} (signatures[0])" in result.problems[0]


def test_each_wallet_counts_as_itself() -> None:
    # key 0's wallet and key 1 directly: two keys, two votes
    result = count([direct(KEYS[1]), via(WALLETS[0], KEYS[0])])
    assert result.ok and result.signed == frozenset([ADDRS[1], WALLETS[0]])
    # keys 0 and 2 pinned but not signing directly: their wallets still count
    result = count([via(WALLETS[0], KEYS[0]), via(WALLETS[2], KEYS[2])], signers=ADDRS[:3])
    assert result.ok and result.signed == frozenset([WALLETS[0], WALLETS[2]])
    assert result.problems == ()


def test_wallet_naming_no_pinned_key_counts_only_alone() -> None:
    """Key 2 is not pinned: porv cannot tell its address from one recovered over a hash the
    wallet never checked, so wallet 2 is taken to share keys with every other vote."""
    result = count([via(WALLETS[0], KEYS[0]), via(WALLETS[2], KEYS[2])])
    assert not result.ok and result.signed == frozenset([WALLETS[0]])
    assert result.kind == "duplicate_key"
    assert result.problems == (
        f"signatures[1]: contract wallet {WALLETS[2]}: its signature names no pinned key porv "
        f"can recover; counted as sharing keys with every other vote, and {WALLETS[0]} "
        "(signatures[0]) counted",
    )
    # alone it counts
    result = count([via(WALLETS[2], KEYS[2])], threshold=1)
    assert result.ok and result.signed == frozenset([WALLETS[2]]) and result.problems == ()
    # two such wallets count once, whatever their keys
    both = [via(WALLETS[2], KEYS[2]), via(WALLETS[1], KEYS[3])]
    result = count(both, eip1271=lambda w, d, s: True)
    assert not result.ok and result.signed == frozenset([WALLETS[2]])


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
    assert keys_behind_wallet_signature(DIGEST, b"\x01" * 63) == ()


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
        ([direct(KEYS[0])], "threshold_not_met", ThresholdNotMetError),
        ([direct(KEYS[0]), refused], "wallet_refused", WalletRefusedError),
        ([direct(KEYS[0]), direct(KEYS[0]), refused], "duplicate_key", DuplicateKeyError),
        (
            [refused, direct(KEYS[0]), direct(KEYS[0]), stranger],
            "unknown_signer",
            UnknownSignerError,
        ),
        ([stranger, direct(KEYS[0]), twin], "high_s", HighSSignatureError),
        ([twin, stranger], "high_s", HighSSignatureError),
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
    result = count(
        [high], threshold=1
    )  # the checker raises HighSSignatureError (a ClaimFailedError)
    assert result.kind == "wallet_refused" and "EIP-1271 check" in result.problems[0]


@pytest.mark.parametrize("n", [1, 5])
def test_same_wallet_offered_twice_counts_once(n: int) -> None:
    result = count([via(WALLETS[2], KEYS[2])] * (n + 1), threshold=1)
    assert result.ok and result.signed == frozenset([WALLETS[2]])
    assert result.problem_kinds == ("duplicate_key",) * n
    assert all("already signed; counted once" in p for p in result.problems)


# --- wallets porv cannot attribute, and the layouts it attributes (issue 8, class 7) --------

CHAIN = 31337


def to_domain(wallet: str, digest: bytes) -> bytes:
    """A hash porv does not try: an EIP-712-like hash under the wallet's own address."""
    return keccak(b"\x19\x01" + bytes.fromhex(wallet[2:]) + digest)


def safe(wallet: str, key: bytes) -> SignatureEntry:
    """A Safe owner's signature over the Safe's SafeMessage hash of the digest."""
    return SignatureEntry(
        "secp256k1", wallet, (), secp256k1.sign(safe_message_hash(DIGEST, wallet, CHAIN), key)
    )


def recovers_over(hashes: Callable[[str, bytes], Sequence[bytes]], owners: Sequence[str]) -> Any:
    """A wallet accepting 65-byte chunks, each an owner's signature over one of ``hashes``."""

    def check(wallet: str, digest: bytes, signature: bytes) -> bool:
        chunks = [signature[i : i + 65] for i in range(0, len(signature), 65)]
        found = set()
        for chunk in chunks:
            v = chunk[64]
            for h in hashes(wallet, digest):
                sig, hashed = chunk, h
                if v > 30:  # Safe's eth_sign form
                    sig, hashed = chunk[:64] + bytes([v - 4]), eth_signed_hash(h)
                found.add(secp256k1.recover(hashed, sig))
        return set(owners) <= found

    return check


def test_wallet_checking_another_hash_shares_keys_with_every_vote() -> None:
    """The review's reproduction: key 0 directly, and a wallet owned by key 0 that checks a
    hash porv does not try. Recovery names addresses nobody holds; the wallet counts only
    alone, so one key cannot meet a threshold of 2."""
    checker = recovers_over(lambda w, d: [to_domain(w, d)], [ADDRS[0]])
    wallet = SignatureEntry(
        "secp256k1", WALLETS[0], (), secp256k1.sign(to_domain(WALLETS[0], DIGEST), KEYS[0])
    )
    assert ADDRS[0] not in keys_behind_wallet_signature(DIGEST, wallet.signature)
    for entries in ([direct(KEYS[0]), wallet], [wallet, direct(KEYS[0])]):
        result = count(entries, eip1271=checker)
        assert not result.ok and result.signed == frozenset([ADDRS[0]])
        assert result.kind == "duplicate_key"
        (problem,) = result.problems
        assert f"contract wallet {WALLETS[0]}: its signature names no pinned key" in problem
        assert "counted as sharing keys with every other vote" in problem


def test_safe_message_hash_is_attributed() -> None:
    """A Safe owned by key 0 (owners sign its SafeMessage hash): with its chain known, porv
    recovers key 0 and counts it once; a Safe of key 1 counts next to key 0."""

    def safe_checker(wallet: str, digest: bytes, signature: bytes) -> bool:
        owner = {WALLETS[0]: ADDRS[0], WALLETS[1]: ADDRS[1]}[wallet]
        return recovers_over(lambda w, d: [safe_message_hash(d, w, CHAIN)], [owner])(
            wallet, digest, signature
        )

    assert safe_checker(WALLETS[0], DIGEST, safe(WALLETS[0], KEYS[0]).signature)
    assert not safe_checker(WALLETS[0], DIGEST, via(WALLETS[0], KEYS[0]).signature)
    chains = {w: CHAIN for w in WALLETS}
    entries = [direct(KEYS[0]), safe(WALLETS[0], KEYS[0])]
    result = count_signatures(
        DIGEST,
        entries,
        signers=ADDRS[:2],
        threshold=2,
        eip1271=safe_checker,
        eip1271_wallets=WALLETS,
        eip1271_chains=chains,
    )
    assert not result.ok and result.kind == "duplicate_key"
    assert f"contract wallet {WALLETS[0]} accepted a signature by {ADDRS[0]}" in result.problems[0]
    # without the chain id the Safe hash is not tried: unattributed, still counted once
    result = count(entries, eip1271=safe_checker)
    assert not result.ok and "names no pinned key" in result.problems[0]
    # the honest case: key 0 directly and a Safe of key 1 are two keys
    result = count_signatures(
        DIGEST,
        [direct(KEYS[0]), safe(WALLETS[1], KEYS[1])],
        signers=ADDRS[:2],
        threshold=2,
        eip1271=safe_checker,
        eip1271_wallets=WALLETS,
        eip1271_chains=chains,
    )
    assert result.ok and result.signed == frozenset([ADDRS[0], WALLETS[1]])


def test_safe_message_hash_construction() -> None:
    """Safe's CompatibilityFallbackHandler: keccak256(0x1901 ‖ domainSeparator ‖
    keccak256(abi.encode(SAFE_MSG_TYPEHASH, keccak256(abi.encode(digest)))))."""
    assert keccak(b"SafeMessage(bytes message)").hex() == (
        "60b3cbf8b4a223d68d641b3b6ddf9a298e7f33710cf3d3a9d1146b5a6150fbca"
    )
    assert keccak(b"EIP712Domain(uint256 chainId,address verifyingContract)").hex() == (
        "47e79534a245952e8b16893a336b85a3d9ea9fa8c573f3d803afb92a79469218"
    )
    wallet = WALLETS[0]
    domain = keccak(
        bytes.fromhex("47e79534a245952e8b16893a336b85a3d9ea9fa8c573f3d803afb92a79469218")
        + CHAIN.to_bytes(32, "big")
        + bytes(12)
        + bytes.fromhex(wallet[2:])
    )
    inner = keccak(
        bytes.fromhex("60b3cbf8b4a223d68d641b3b6ddf9a298e7f33710cf3d3a9d1146b5a6150fbca")
        + keccak(DIGEST)
    )
    assert safe_message_hash(DIGEST, wallet, CHAIN) == keccak(b"\x19\x01" + domain + inner)
    assert safe_message_hash(DIGEST, wallet, 1) != safe_message_hash(DIGEST, wallet, CHAIN)


def _layouts(key: bytes, hashed: bytes) -> dict[str, bytes]:
    sig = secp256k1.sign(hashed, key)
    eth = secp256k1.sign(eth_signed_hash(hashed), key)
    r, s, v = secp256k1.split(sig)
    compact = r.to_bytes(32, "big") + (((v - 27) << 255) | s).to_bytes(32, "big")
    other = secp256k1.sign(hashed, KEYS[3])
    return {
        "safe eth_sign (v + 4)": eth[:64] + bytes([eth[64] + 4]),
        "EIP-2098 compact": compact,
        "concatenated owners": other + sig,
        "concatenated, key last of three": other + secp256k1.sign(hashed, KEYS[2]) + sig,
    }


@pytest.mark.parametrize("layout", list(_layouts(KEYS[0], DIGEST)))
@pytest.mark.parametrize("safe_hash", [False, True])
def test_wallet_layouts_are_attributed(layout: str, safe_hash: bool) -> None:
    """Key 0 directly and again through a wallet in each layout: counted once."""
    hashed = safe_message_hash(DIGEST, WALLETS[0], CHAIN) if safe_hash else DIGEST
    signature = _layouts(KEYS[0], hashed)[layout]
    assert ADDRS[0] in keys_behind_wallet_signature(
        DIGEST, signature, wallet=WALLETS[0], chain_id=CHAIN
    )
    result = count_signatures(
        DIGEST,
        [direct(KEYS[0]), SignatureEntry("secp256k1", WALLETS[0], (), signature)],
        signers=ADDRS[:2],
        threshold=2,
        eip1271=lambda w, d, s: True,  # whatever the wallet checks, it said yes
        eip1271_wallets=WALLETS,
        eip1271_chains={WALLETS[0]: CHAIN},
    )
    assert not result.ok and result.signed == frozenset([ADDRS[0]])
    assert f"accepted a signature by {ADDRS[0]}" in result.problems[0]


def test_two_unrelated_attributed_wallets_count_two() -> None:
    """The honest case: wallets of two different pinned keys, in two layouts, count as
    themselves; one more wallet naming no pinned key adds nothing."""
    compact = _layouts(KEYS[1], safe_message_hash(DIGEST, WALLETS[1], CHAIN))["EIP-2098 compact"]
    entries = [via(WALLETS[0], KEYS[0]), SignatureEntry("secp256k1", WALLETS[1], (), compact)]
    kwargs: dict[str, Any] = {
        "signers": ADDRS[:2],
        "eip1271": lambda w, d, s: True,
        "eip1271_wallets": WALLETS,
        "eip1271_chains": {w: CHAIN for w in WALLETS},
    }
    result = count_signatures(DIGEST, entries, threshold=2, **kwargs)
    assert result.ok and result.signed == frozenset(WALLETS[:2]) and result.problems == ()
    result = count_signatures(DIGEST, [*entries, via(WALLETS[2], KEYS[2])], threshold=3, **kwargs)
    assert not result.ok and result.signed == frozenset(WALLETS[:2])
    assert result.problem_kinds == ("duplicate_key",)


def test_candidate_chunks_are_bounded() -> None:
    many = secp256k1.sign(DIGEST, KEYS[1]) * (MAX_CHUNKS + 50) + secp256k1.sign(DIGEST, KEYS[0])
    assert ADDRS[0] not in keys_behind_wallet_signature(DIGEST, many)
    assert keys_behind_wallet_signature(DIGEST, many)[0] == ADDRS[1]
