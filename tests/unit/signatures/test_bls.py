"""BLS12-381: the native backend is byte-identical to py_ecc's reference; bad input never leaks.

py_ecc is pure Python (about half a second per pairing check), so reference-backend calls are
kept to the few that prove agreement; the many malformed-input cases run on both backends
only where they are rejected before any pairing.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_ecc.optimized_bls12_381 import field_modulus

from verifier.errors import SignatureInvalidError
from verifier.model.attestation import SignatureEntry
from verifier.signatures import bls, count_signatures

SKS = [
    (int.from_bytes(hashlib.sha256(f"unit bls {i}".encode()).digest(), "big") % bls.R).to_bytes(
        32, "big"
    )
    for i in range(3)
]
DIGEST = hashlib.sha256(b"digest").digest()
OTHER = hashlib.sha256(b"other").digest()
BACKENDS: list[bls.Backend] = ["native", "reference"]


@pytest.fixture(scope="module")
def material() -> dict[str, list[bytes]]:
    pks = [bls.secret_to_pubkey(sk, backend="native") for sk in SKS]
    sigs = [bls.sign(DIGEST, sk, backend="native") for sk in SKS]
    return {"pks": pks, "sigs": sigs}


def test_backends_are_byte_identical(material: dict[str, list[bytes]]) -> None:
    for sk, pk, sig in zip(SKS, material["pks"], material["sigs"], strict=True):
        assert bls.secret_to_pubkey(sk, backend="reference") == pk
        assert bls.sign(DIGEST, sk, backend="reference") == sig
        assert len(pk) == 48 and len(sig) == 96
    native = bls.aggregate(material["sigs"], backend="native")
    assert bls.aggregate(material["sigs"], backend="reference") == native


def test_verify_agrees_on_both_backends(material: dict[str, list[bytes]]) -> None:
    pk, sig = material["pks"][0], material["sigs"][0]
    for backend in BACKENDS:
        assert bls.verify(pk, DIGEST, sig, backend=backend)
        assert not bls.verify(pk, OTHER, sig, backend=backend)
    assert not bls.verify(material["pks"][1], DIGEST, sig, backend="native")


def test_fast_aggregate_verify_both_backends(material: dict[str, list[bytes]]) -> None:
    pks = material["pks"]
    agg = bls.aggregate(material["sigs"])
    for backend in BACKENDS:
        assert bls.fast_aggregate_verify(pks, DIGEST, agg, backend=backend)
        assert not bls.fast_aggregate_verify(pks[:2], DIGEST, agg, backend=backend)
    assert not bls.fast_aggregate_verify(pks, OTHER, agg, backend="native")
    assert not bls.fast_aggregate_verify([*pks, pks[0]], DIGEST, agg, backend="native")


def test_proof_of_possession() -> None:
    pk = bls.secret_to_pubkey(SKS[0])
    pop = bls.pop_prove(SKS[0], backend="native")
    assert bls.pop_prove(SKS[0], backend="reference") == pop
    assert bls.pop_verify(pk, pop)
    # A signature over the same bytes with the signing tag is not a proof (domain separation).
    assert not bls.pop_verify(pk, bls.sign(pk, SKS[0]))
    assert not bls.pop_verify(bls.secret_to_pubkey(SKS[1]), pop)
    assert not bls.pop_verify(pk[:47], pop)
    assert not bls.pop_verify(bls.INFINITY_PUBKEY, pop)


BAD_PUBKEYS = [b"", b"\x00" * 48, bls.INFINITY_PUBKEY, b"\xff" * 48, b"\xa0" * 47]
BAD_SIGS = [b"", b"\x00" * 96, b"\xff" * 96, b"\xa0" * 95]


@pytest.mark.parametrize("backend", BACKENDS)
def test_malformed_input_is_false_never_an_exception(
    backend: bls.Backend, material: dict[str, list[bytes]]
) -> None:
    pk, sig = material["pks"][0], material["sigs"][0]
    for bad in BAD_PUBKEYS:
        assert bls.verify(bad, DIGEST, sig, backend=backend) is False
        assert bls.fast_aggregate_verify([bad], DIGEST, sig, backend=backend) is False
    for bad in BAD_SIGS:
        assert bls.verify(pk, DIGEST, bad, backend=backend) is False
        assert bls.fast_aggregate_verify([pk], DIGEST, bad, backend=backend) is False
        if len(bad) == 96:
            with pytest.raises(SignatureInvalidError):
                bls.aggregate([sig, bad], backend=backend)
    assert bls.fast_aggregate_verify([], DIGEST, sig, backend=backend) is False
    assert bls.verify(pk, "text", sig, backend=backend) is False  # type: ignore[arg-type]
    with pytest.raises(SignatureInvalidError):
        bls.aggregate([b"short"], backend=backend)
    with pytest.raises(ValueError):
        bls.aggregate([], backend=backend)


def test_invalid_points_fail_on_both_backends(material: dict[str, list[bytes]]) -> None:
    # A well-formed compressed encoding whose x is not on the curve (flags set, x = 1...).
    not_on_curve = b"\x80" + b"\x00" * 94 + b"\x01"
    pk = material["pks"][0]
    for backend in BACKENDS:
        assert bls.verify(pk, DIGEST, not_on_curve, backend=backend) is False
        with pytest.raises(SignatureInvalidError):
            bls.aggregate([not_on_curve], backend=backend)


def test_bad_secret_keys_and_backends() -> None:
    for bad in [b"\x00" * 32, bls.R.to_bytes(32, "big"), b"\x01" * 31]:
        with pytest.raises(ValueError):
            bls.secret_to_pubkey(bad)
        with pytest.raises(ValueError):
            bls.sign(DIGEST, bad)
        with pytest.raises(ValueError):
            bls.pop_prove(bad)
    with pytest.raises(ValueError):
        bls.sign("text", SKS[0])  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        bls.verify(b"", DIGEST, b"", backend="gpu")  # type: ignore[arg-type]


def test_threshold_counting_with_aggregates(material: dict[str, list[bytes]]) -> None:
    pks = material["pks"]
    names = ["0x" + p.hex() for p in pks]
    agg = bls.aggregate(material["sigs"])
    by_key = SignatureEntry("bls", None, tuple(names), agg)
    by_index = SignatureEntry("bls", None, (0, 1, 2), agg)
    for e in (by_key, by_index):
        result = count_signatures(DIGEST, [e], bls_keys=pks, threshold=3)
        assert result.ok and result.signed == frozenset(names)
    # The same aggregate twice, or a single signature of a key also in the aggregate, counts once.
    single = SignatureEntry("bls", None, (0,), material["sigs"][0])
    result = count_signatures(DIGEST, [by_key, by_index, single], bls_keys=pks, threshold=3)
    assert result.ok and len(result.signed) == 3 and len(result.problems) == 4
    # An aggregate claiming a signer it lacks, an unpinned signer, a bad index, a repeat.
    missing = SignatureEntry("bls", None, (0, 1), agg)
    two = bls.aggregate(material["sigs"][:2])
    claims_three = SignatureEntry("bls", None, (0, 1, 2), two)
    stranger = SignatureEntry("bls", None, ("0x" + "aa" * 48,), agg)
    index = SignatureEntry("bls", None, (7,), agg)
    repeated = SignatureEntry("bls", None, (0, names[0]), agg)
    result = count_signatures(
        DIGEST,
        [missing, claims_three, stranger, index, repeated],
        bls_keys=pks,
        threshold=1,
    )
    assert not result.ok and len(result.problems) == 5
    assert "does not verify" in result.problems[0] and "does not verify" in result.problems[1]
    assert "not pinned" in result.problems[2]
    assert "out of range" in result.problems[3]
    assert "listed twice" in result.problems[4]
    # Over another message.
    other = bls.aggregate([bls.sign(OTHER, sk) for sk in SKS])
    result = count_signatures(
        DIGEST, [SignatureEntry("bls", None, (0, 1, 2), other)], bls_keys=pks, threshold=3
    )
    assert not result.ok


def test_rogue_key_aggregate_is_stopped_by_proof_of_possession() -> None:
    """Why pinned BLS keys need a PoP: without one, an attacker forges a 2-of-2 aggregate."""
    from py_ecc.bls.g2_primitives import G1_to_pubkey, pubkey_to_G1
    from py_ecc.optimized_bls12_381 import add, neg

    victim = bls.secret_to_pubkey(SKS[0])
    attacker_sk = SKS[1]
    attacker_pk = bls.secret_to_pubkey(attacker_sk)
    # rogue = attacker - victim, so victim + rogue = attacker: the attacker's lone signature
    # verifies as an aggregate of "victim and rogue" although the victim never signed.
    rogue = G1_to_pubkey(add(pubkey_to_G1(attacker_pk), neg(pubkey_to_G1(victim))))
    forged = bls.sign(DIGEST, attacker_sk)
    assert bls.fast_aggregate_verify([victim, rogue], DIGEST, forged, backend="native")
    # The attacker cannot prove possession of the rogue key's secret, so a policy refuses it.
    assert not bls.pop_verify(rogue, bls.pop_prove(attacker_sk))
    assert not bls.pop_verify(rogue, forged)


@settings(max_examples=8, deadline=None)
@given(sk=st.integers(1, bls.R - 1), message=st.binary(max_size=64))
def test_backends_agree_on_random_keys_and_messages(sk: int, message: bytes) -> None:
    key = sk.to_bytes(32, "big")
    assert bls.secret_to_pubkey(key, backend="native") == bls.secret_to_pubkey(
        key, backend="reference"
    )
    assert bls.sign(message, key, backend="native") == bls.sign(message, key, backend="reference")
    assert bls.pop_prove(key, backend="native") == bls.pop_prove(key, backend="reference")


# Encodings the native library would read leniently: a set infinity flag with other bits set
# (it decodes b"\xff" * 96 as the identity), the identity with the sort flag, and x = p (not
# reduced). Each must be refused exactly as py_ecc refuses it, or one signature gets many
# encodings.
_P = field_modulus
NON_CANONICAL_SIGS = [
    b"\xff" * 96,
    b"\xe0" + b"\x00" * 95,
    b"\xc0" + b"\x00" * 94 + b"\x01",
    (_P | (1 << 383)).to_bytes(48, "big") + b"\x00" * 48,
]
NON_CANONICAL_PUBKEYS = [
    b"\xff" * 48,
    b"\xe0" + b"\x00" * 47,
    (_P | (1 << 383)).to_bytes(48, "big"),
]


def test_non_canonical_encodings_are_refused_on_both_backends(
    material: dict[str, list[bytes]],
) -> None:
    pk, sig = material["pks"][0], material["sigs"][0]
    for backend in BACKENDS:
        for bad in NON_CANONICAL_SIGS:
            assert bls.verify(pk, DIGEST, bad, backend=backend) is False, (backend, bad[:2])
            assert bls.fast_aggregate_verify([pk], DIGEST, bad, backend=backend) is False
            assert bls.pop_verify(pk, bad, backend=backend) is False
            with pytest.raises(SignatureInvalidError):
                bls.aggregate([sig, bad], backend=backend)
        for bad in NON_CANONICAL_PUBKEYS:
            assert bls.verify(bad, DIGEST, sig, backend=backend) is False, (backend, bad[:2])
            assert bls.fast_aggregate_verify([pk, bad], DIGEST, sig, backend=backend) is False
            assert bls.pop_verify(bad, sig, backend=backend) is False


def test_keys_that_cancel_out_never_verify_the_identity_signature(
    material: dict[str, list[bytes]],
) -> None:
    """Keys P and -P aggregate to the identity; the identity signature must not verify."""
    from py_ecc.bls.g2_primitives import G1_to_pubkey, pubkey_to_G1
    from py_ecc.optimized_bls12_381 import neg

    pk = material["pks"][0]
    minus = G1_to_pubkey(neg(pubkey_to_G1(pk)))
    identity_sig = b"\xc0" + b"\x00" * 95
    for backend in BACKENDS:
        assert (
            bls.fast_aggregate_verify([pk, minus], DIGEST, identity_sig, backend=backend) is False
        )
        assert bls.verify(pk, DIGEST, identity_sig, backend=backend) is False


def test_proofs_of_possession_agree_on_both_backends() -> None:
    for sk in SKS[:2]:
        pk = bls.secret_to_pubkey(sk, backend="native")
        pop = bls.pop_prove(sk, backend="native")
        assert bls.pop_prove(sk, backend="reference") == pop
        for backend in BACKENDS:
            assert bls.pop_verify(pk, pop, backend=backend)
            assert not bls.pop_verify(pk, bls.sign(pk, sk, backend=backend), backend=backend)


def test_without_the_native_library_the_reference_backend_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = bls.sign(DIGEST, SKS[0], backend="native")
    monkeypatch.setattr(bls, "_native", None)
    assert not bls.native_available()
    assert bls.backend_in_use() == "reference"
    assert bls.sign(DIGEST, SKS[0]) == expected
    with pytest.raises(ValueError, match="py-arkworks-bls12381"):
        bls.sign(DIGEST, SKS[0], backend="native")


def test_a_curve_point_outside_the_subgroup_is_refused_on_both_backends(
    material: dict[str, list[bytes]],
) -> None:
    """The SWU map without cofactor clearing lands on E2 but (almost surely) not in G2."""
    from py_ecc.bls.g2_primitives import G2_to_signature, subgroup_check
    from py_ecc.optimized_bls12_381 import FQ2, b2, is_on_curve, iso_map_G2
    from py_ecc.optimized_bls12_381.optimized_swu import optimized_swu_G2

    point = iso_map_G2(*optimized_swu_G2(FQ2([5, 7])))
    assert is_on_curve(point, b2) and not subgroup_check(point)
    outside = G2_to_signature(point)
    pk, sig = material["pks"][0], material["sigs"][0]
    for backend in BACKENDS:
        assert bls.verify(pk, DIGEST, outside, backend=backend) is False
        assert bls.pop_verify(pk, outside, backend=backend) is False
        with pytest.raises(SignatureInvalidError):
            bls.aggregate([sig, outside], backend=backend)


def test_py_ecc_is_imported_only_when_used() -> None:
    """A verify with the native backend never loads py_ecc's tables (0.2-0.7 s)."""
    import subprocess
    import sys

    code = (
        "import sys, verifier.app.verify, verifier.signatures.bls as b; "
        "assert 'py_ecc' not in sys.modules, 'imported early'; "
        "b.secret_to_pubkey(b'\\x01' * 32, backend='reference'); "
        "assert 'py_ecc.bls' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
