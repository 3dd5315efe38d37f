"""Reading a Safe's signature layouts for one key one vote (verifier/signatures/wallet_keys.py).

A Safe signature is owner chunks ``r ‖ s ‖ v`` sorted by owner: ECDSA (``v`` 27/28, or 31/32
for ``eth_sign``), a contract signature (``v = 0``: ``r`` the owner contract, ``s`` the offset of
``length ‖ bytes`` in the dynamic part after the chunks) or a pre-approved hash (``v = 1``:
``r`` the owner). What porv recovers may attribute a vote; what a chunk only names may not.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.model.attestation import SignatureEntry
from verifier.model.keccak import keccak256
from verifier.signatures import count_signatures, secp256k1
from verifier.signatures.wallet_keys import (
    MAX_CHUNKS,
    MAX_DEPTH,
    safe_message_data,
    safe_message_hash,
    wallet_keys,
)

DIGEST = bytes.fromhex("11" * 32)
CHAIN = 31337
KEYS = [bytes([i + 1]) * 32 for i in range(4)]
ADDRS = [secp256k1.address_of(k) for k in KEYS]
SAFE = "0x000000000000000000000000000000000000dEaD"
INNER = "0x00000000000000000000000000000000DeaDBeef"


def owner_chunk(key: bytes, wallet: str = SAFE) -> bytes:
    return secp256k1.sign(safe_message_hash(DIGEST, wallet, CHAIN), key)


def nested_chunk(key: bytes, inner: str = INNER, outer: str = SAFE) -> bytes:
    """A nested Safe's owner signature: over ``inner``'s SafeMessage hash of the message data
    ``outer`` passes to its contract owner (legacy ``isValidSignature(bytes, bytes)``)."""
    data = safe_message_data(safe_message_data(DIGEST, outer, CHAIN), inner, CHAIN)
    return secp256k1.sign(keccak256(data), key)


def contract_chunk(owner: str, offset: int) -> bytes:
    return bytes(12) + bytes.fromhex(owner[2:]) + offset.to_bytes(32, "big") + b"\x00"


def approved_chunk(owner: str) -> bytes:
    return bytes(12) + bytes.fromhex(owner[2:]) + bytes(32) + b"\x01"


def test_owner_chunks_over_the_safe_hash_are_recovered() -> None:
    signature = owner_chunk(KEYS[0]) + owner_chunk(KEYS[1])
    found = wallet_keys(DIGEST, signature, wallet=SAFE, chain_id=CHAIN)
    assert set(ADDRS[:2]) <= set(found.recovered) and found.complete and found.named == ()


def test_contract_and_approved_owners_are_named_not_recovered() -> None:
    """An owner named by ``v = 1`` or by a ``v = 0`` chunk joins the key set as named; the
    nested Safe's own owner chunk (over *its* SafeMessage hash) is recovered."""
    nested = nested_chunk(KEYS[2])
    static = approved_chunk(ADDRS[3]) + contract_chunk(INNER, 3 * 65) + owner_chunk(KEYS[0])
    signature = static + len(nested).to_bytes(32, "big") + nested
    found = wallet_keys(DIGEST, signature, wallet=SAFE, chain_id=CHAIN)
    assert found.named == (ADDRS[3], INNER)
    assert ADDRS[2] in found.recovered and ADDRS[0] in found.recovered
    assert ADDRS[3] not in found.recovered
    assert found.complete


def test_a_named_owner_never_attributes_a_wallet_vote() -> None:
    """Key 3 is pinned and signed nothing: a ``v = 1`` chunk naming it (which a Safe past its
    threshold would never read) must not let the wallet count beside key 0's direct vote."""
    unpinned = owner_chunk(bytes([9]) * 32)
    entries = [
        SignatureEntry("secp256k1", ADDRS[0], (), secp256k1.sign(DIGEST, KEYS[0])),
        SignatureEntry("secp256k1", SAFE, (), unpinned + approved_chunk(ADDRS[3])),
    ]
    result = count_signatures(
        DIGEST,
        entries,
        signers=[ADDRS[0], ADDRS[3]],
        threshold=2,
        eip1271=lambda w, d, s: True,
        eip1271_wallets=[SAFE],
        eip1271_chains={SAFE: CHAIN},
    )
    assert not result.ok and result.signed == frozenset([ADDRS[0]])
    assert "names no pinned key porv can recover" in result.problems[0]


def test_the_dynamic_part_ends_the_owner_chunks() -> None:
    """Chunks start where the contract signature's offset points are not owner chunks."""
    nested = nested_chunk(KEYS[2])
    tail = len(nested).to_bytes(32, "big") + nested
    signature = contract_chunk(INNER, 65) + tail + owner_chunk(KEYS[1])  # after the dynamic part
    found = wallet_keys(DIGEST, signature, wallet=SAFE, chain_id=CHAIN)
    assert ADDRS[2] in found.recovered and ADDRS[1] not in found.recovered


def test_past_the_chunk_limit_the_signature_is_incomplete_and_counts_only_alone() -> None:
    chunks = [owner_chunk(bytes([i + 10]) * 32) for i in range(MAX_CHUNKS)]
    signature = b"".join(chunks) + owner_chunk(KEYS[1])
    found = wallet_keys(DIGEST, signature, wallet=SAFE, chain_id=CHAIN)
    assert not found.complete and ADDRS[1] not in found.recovered
    assert wallet_keys(DIGEST, b"".join(chunks), wallet=SAFE, chain_id=CHAIN).complete
    entries = [
        SignatureEntry("secp256k1", ADDRS[0], (), secp256k1.sign(DIGEST, KEYS[0])),
        SignatureEntry("secp256k1", SAFE, (), owner_chunk(KEYS[1]) + signature),
    ]
    result = count_signatures(
        DIGEST,
        entries,
        signers=ADDRS[:2],
        threshold=2,
        eip1271=lambda w, d, s: True,
        eip1271_wallets=[SAFE],
        eip1271_chains={SAFE: CHAIN},
    )
    assert not result.ok and len(result.signed) == 1
    assert f"more than {MAX_CHUNKS} owner chunks" in result.problems[0]


def test_a_self_referencing_contract_signature_terminates() -> None:
    """A contract chunk whose offset points at itself (depth and chunk budget bound it)."""
    signature = contract_chunk(SAFE, 0) + bytes(40)
    found = wallet_keys(DIGEST, signature, wallet=SAFE, chain_id=CHAIN)
    assert found.named == (SAFE,)


def test_a_contract_signature_porv_does_not_open_leaves_it_incomplete() -> None:
    """Past :data:`MAX_DEPTH` nested Safes, or without the wallet's chain (no Safe hash), the
    keys behind a contract owner are unread: the signature is incomplete."""
    nested = nested_chunk(KEYS[2])
    signature = contract_chunk(INNER, 65) + len(nested).to_bytes(32, "big") + nested
    assert not wallet_keys(DIGEST, signature, wallet=SAFE).complete
    for _ in range(MAX_DEPTH):
        signature = contract_chunk(INNER, 65) + len(signature).to_bytes(32, "big") + signature
    assert not wallet_keys(DIGEST, signature, wallet=SAFE, chain_id=CHAIN).complete


def test_an_empty_contract_signature_leaves_the_signature_incomplete() -> None:
    """A Safe hands a ``v = 0`` owner's bytes to its ``isValidSignature``; with none, a Safe
    owner answers from its ``signedMessages`` (a message its owners approved on-chain), so the
    keys behind it are unknown: key 0 may be one of them. The wallet must not count beside key
    0's direct vote on key 1's strength."""
    static = owner_chunk(KEYS[1]) + contract_chunk(INNER, 2 * 65)
    signature = static + bytes(32)  # a contract signature of length 0
    found = wallet_keys(DIGEST, signature, wallet=SAFE, chain_id=CHAIN)
    assert ADDRS[1] in found.recovered and found.named == (INNER,) and not found.complete
    entries = [
        SignatureEntry("secp256k1", ADDRS[0], (), secp256k1.sign(DIGEST, KEYS[0])),
        SignatureEntry("secp256k1", SAFE, (), signature),
    ]
    result = count_signatures(
        DIGEST,
        entries,
        signers=ADDRS[:2],
        threshold=2,
        eip1271=lambda w, d, s: True,
        eip1271_wallets=[SAFE],
        eip1271_chains={SAFE: CHAIN},
    )
    assert not result.ok and result.signed == frozenset([ADDRS[0]])
    assert "porv did not read every key behind its signature" in result.problems[0]


def test_an_offset_pointing_back_into_the_owner_chunks_hides_none_of_them() -> None:
    """A ``v = 0`` chunk past the Safe's threshold (which the Safe never reads) whose offset
    points back at the first chunk: the chunks before it are still read (the Safe requires an
    offset of at least ``threshold × 65`` from every chunk it does read)."""
    signature = owner_chunk(KEYS[0]) + owner_chunk(KEYS[1]) + contract_chunk(INNER, 0)
    found = wallet_keys(DIGEST, signature, wallet=SAFE, chain_id=CHAIN)
    assert set(ADDRS[:2]) <= set(found.recovered)


def test_overlapping_contract_signatures_share_one_chunk_budget() -> None:
    """8 KiB of ``v = 0`` chunks all pointing at one nested signature of many owner chunks:
    every reading of it draws on the same :data:`MAX_CHUNKS` budget, so the work is bounded
    and the signature is incomplete (it counts only alone)."""
    nested = b"".join(nested_chunk(bytes([i + 20]) * 32) for i in range(MAX_CHUNKS))
    count = (8192 - 32 - len(nested)) // 65
    static = b"".join(contract_chunk(INNER, count * 65) for _ in range(count))
    signature = static + len(nested).to_bytes(32, "big") + nested
    assert len(signature) <= 8192
    found = wallet_keys(DIGEST, signature, wallet=SAFE, chain_id=CHAIN)
    assert not found.complete and len(found.recovered) <= 4 * MAX_CHUNKS


_PINNED_WALLETS = [SAFE, INNER, "0x00000000000000000000000000000000000f00D5"]
_SIGNERS = KEYS + [bytes([40 + i]) * 32 for i in range(2)]  # keys 4 and 5: pinned by nobody


def _chunk(kind: int, key: bytes, wallet: str) -> bytes:
    """One owner chunk of a wallet signature, as a dishonest custodian might lay it out."""
    hashed = [DIGEST, safe_message_hash(DIGEST, wallet, CHAIN)][kind % 2]
    if kind in (0, 1):
        return secp256k1.sign(hashed, key)
    if kind == 2:  # Safe eth_sign (v + 4)
        sig = secp256k1.sign(keccak256(b"\x19Ethereum Signed Message:\n32" + hashed), key)
        return sig[:64] + bytes([sig[64] + 4])
    owner = secp256k1.address_of(key)
    if kind == 3:
        return approved_chunk(owner)
    return contract_chunk(owner, 65 * (kind - 3))  # offsets into the chunks themselves


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    direct=st.lists(st.integers(0, len(_SIGNERS) - 1), max_size=4),
    wallets=st.lists(
        st.tuples(
            st.integers(0, len(_PINNED_WALLETS) - 1),
            st.lists(st.tuples(st.integers(0, 6), st.integers(0, len(_SIGNERS) - 1)), max_size=5),
            st.binary(max_size=40),
        ),
        max_size=4,
    ),
)
def test_no_layout_counts_more_votes_than_pinned_keys_that_signed(
    direct: list[int], wallets: list[tuple[int, list[tuple[int, int]], bytes]]
) -> None:
    """Whatever the direct entries and the wallet signatures (owner chunks over the digest or
    the Safe hash, eth_sign, pre-approved and contract chunks with offsets into the chunks,
    trailing junk), with every wallet accepting: at most one vote per pinned key whose
    signature porv can recover, or one lone wallet vote when there is none."""
    entries = [
        SignatureEntry(
            "secp256k1", secp256k1.address_of(_SIGNERS[i]), (), secp256k1.sign(DIGEST, _SIGNERS[i])
        )
        for i in direct
    ]
    signed = {i for i in direct if i < len(KEYS)}
    for w, chunks, junk in wallets:
        wallet = _PINNED_WALLETS[w]
        signature = b"".join(_chunk(kind, _SIGNERS[k], wallet) for kind, k in chunks) + junk
        entries.append(SignatureEntry("secp256k1", wallet, (), signature))
        signed |= {k for kind, k in chunks if kind < 3 and k < len(KEYS)}
    result = count_signatures(
        DIGEST,
        entries,
        signers=ADDRS,
        threshold=1,
        eip1271=lambda w, d, s: True,
        eip1271_wallets=_PINNED_WALLETS,
        eip1271_chains={w: CHAIN for w in _PINNED_WALLETS},
    )
    assert len(result.signed) <= max(len(signed), 1 if wallets else 0)
