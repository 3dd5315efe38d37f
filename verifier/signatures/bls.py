"""BLS12-381 signatures, ciphersuite ``BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_``.

This is the scheme of Ethereum's consensus layer: 48-byte compressed public keys in G1,
96-byte compressed signatures in G2, messages hashed to G2 with the ``_POP_`` tag, and
proofs of possession (``PopProve``/``PopVerify``) to rule out rogue-key attacks on
same-message aggregates (draft-irtf-cfrg-bls-signature-05 §3.3).

Two backends, one interface: ``"reference"`` is py_ecc's ``G2ProofOfPossession`` (pure
Python, the specification's reference); ``"native"`` is the ciphersuite built here on the
BLS12-381 group operations of ``py-arkworks-bls12381`` (Rust, the arkworks library: compressed
encodings with subgroup checks, hash-to-curve, pairings), about 100 times faster. The tests
check both return byte-identical keys, signatures, aggregates and proofs of possession and the
same verdicts, and agree with @noble/curves. ``backend=None`` picks native when it imports,
else the reference: py-arkworks-bls12381 has wheels for CPython 3.11 to 3.14 on Linux (x86_64,
aarch64), macOS arm64 and Windows x64; elsewhere porv still works, on py_ecc.

No function here lets an exception from a backend escape: verification returns ``False`` for
any malformed key or signature, and the producing functions raise
:class:`~verifier.errors.SignatureInvalidError` (bad encodings) or ``ValueError`` (bad arguments).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from verifier.errors import SignatureInvalidError
from verifier.signatures.backends import Backend, pick_backend

CIPHERSUITE = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
POP_TAG = "BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
#: Order of the BLS12-381 G1/G2 subgroups: secret keys are in 1..R-1.
R = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
PUBKEY_LENGTH = 48
SIGNATURE_LENGTH = 96
#: Compressed encoding of the point at infinity in G1 (never a valid public key).
INFINITY_PUBKEY = b"\xc0" + b"\x00" * 47


class _Reference:
    """py_ecc's ciphersuite, imported on first use: its field tables take 0.2-0.7 s to load,
    and a run on the native backend, or with no BLS key at all, never needs them."""

    def __getattr__(self, name: str) -> Any:
        from py_ecc.bls.ciphersuites import G2ProofOfPossession

        # py_ecc types its arguments with NewTypes of bytes; porv checks lengths itself.
        return getattr(G2ProofOfPossession, name)


_reference: Any = _Reference()


def _reference_subgroup_ok(sig: bytes) -> bool:
    """py_ecc's decoding and subgroup check of a G2 signature."""
    from py_ecc.bls.g2_primitives import signature_to_G2, subgroup_check

    return bool(subgroup_check(signature_to_G2(sig)))  # type: ignore[arg-type]


def _load_native() -> Any:
    try:
        import py_arkworks_bls12381
    except ImportError:  # pragma: no cover - depends on the platform's wheels
        return None
    return py_arkworks_bls12381


_native: Any = _load_native()
_SIG_DST = CIPHERSUITE.encode("ascii")
_POP_DST = POP_TAG.encode("ascii")


def native_available() -> bool:
    """Whether the native backend (py-arkworks-bls12381) imported."""
    return _native is not None


def backend_in_use() -> Backend:
    """The backend that ``backend=None`` picks: ``"native"`` when it imported, else reference."""
    return _pick(None)


def _pick(backend: Backend | None) -> Backend:
    return pick_backend("BLS", "py-arkworks-bls12381", _native, backend)


# --- the native ciphersuite (draft-irtf-cfrg-bls-signature-05, minimal-pubkey-size, POP) ----
# Decoding refuses points off the curve or outside the prime-order subgroup (KeyValidate and
# the draft's signature_subgroup_check, restated explicitly), and any encoding that is not the
# canonical one: the library reads a set infinity flag as the identity whatever the other bits
# (b"\xff" * 96 decodes), so each point must re-encode to exactly the bytes given, as py_ecc
# requires. Otherwise one signature would have many encodings.


def _decode(kind: Any, data: bytes) -> Any:
    point = kind.from_compressed_bytes(data)
    if bytes(point.to_compressed_bytes()) != data or not point.is_in_subgroup():
        raise ValueError("not the canonical encoding of a point of the subgroup")
    return point


def _g1(pubkey: bytes) -> Any:
    """KeyValidate: a G1 point of the subgroup, canonically encoded, not the identity."""
    point = _decode(_native.G1Point, pubkey)
    if point == _native.G1Point.identity():
        raise ValueError("the identity is not a public key")
    return point


def _g2(sig: bytes) -> Any:
    return _decode(_native.G2Point, sig)


def _native_core_verify(pk: Any, message: bytes, sig: bytes, dst: bytes) -> bool:
    # e(pk, H(m)) == e(g1, sig)  <=>  e(pk, H(m)) * e(-g1, sig) == 1
    hashed = _native.G2Point.hash_to_curve(message, dst)
    return bool(_native.GT.pairing_check([pk, -_native.G1Point()], [hashed, _g2(sig)]))


def _native_sign(value: int, message: bytes, dst: bytes) -> bytes:
    point = _native.G2Point.hash_to_curve(message, dst) * _native.Scalar(value)
    return bytes(point.to_compressed_bytes())


def _secret(sk: bytes) -> int:
    if not isinstance(sk, bytes) or len(sk) != 32:
        raise ValueError("a BLS secret key is 32 bytes")
    value = int.from_bytes(sk, "big")
    if not 1 <= value < R:
        raise ValueError("a BLS secret key must be in 1..r-1")
    return value


def _shape_ok(value: Any, length: int) -> bool:
    return isinstance(value, bytes) and len(value) == length


def _pubkey_ok(pubkey: Any) -> bool:
    return _shape_ok(pubkey, PUBKEY_LENGTH) and pubkey != INFINITY_PUBKEY


def secret_to_pubkey(sk: bytes, *, backend: Backend | None = None) -> bytes:
    """The 48-byte compressed G1 public key of a 32-byte secret key.

    Raises:
        ValueError: Not a 32-byte key in ``1..r-1``, or an unknown/unavailable backend.
    """
    value = _secret(sk)
    if _pick(backend) == "native":
        return bytes((_native.G1Point() * _native.Scalar(value)).to_compressed_bytes())
    return bytes(_reference.SkToPk(value))


def sign(digest: bytes, sk: bytes, *, backend: Backend | None = None) -> bytes:
    """Sign a message (porv signs 32-byte EIP-712 digests): a 96-byte G2 signature.

    Raises:
        ValueError: Bad secret key, a message that is not bytes, or a bad backend.
    """
    value = _secret(sk)
    if not isinstance(digest, bytes):
        raise ValueError("the message must be bytes")
    if _pick(backend) == "native":
        return _native_sign(value, digest, _SIG_DST)
    return bytes(_reference.Sign(value, digest))


def verify(pubkey: bytes, digest: bytes, sig: bytes, *, backend: Backend | None = None) -> bool:
    """Whether ``sig`` is ``pubkey``'s signature over ``digest``; False for any bad encoding.

    Raises:
        ValueError: Unknown or unavailable backend.
    """
    chosen = _pick(backend)
    if not (_pubkey_ok(pubkey) and _shape_ok(sig, SIGNATURE_LENGTH) and isinstance(digest, bytes)):
        return False
    try:
        if chosen == "native":
            return _native_core_verify(_g1(pubkey), digest, sig, _SIG_DST)
        return bool(_reference.Verify(pubkey, digest, sig))
    except Exception:  # a backend's decoding error means "not a valid signature"
        return False


def aggregate(sigs: Sequence[bytes], *, backend: Backend | None = None) -> bytes:
    """Add signatures into one 96-byte aggregate.

    Raises:
        SignatureInvalidError: A signature is not a valid compressed G2 point.
        ValueError: No signatures, or a bad backend.
    """
    chosen = _pick(backend)
    if not sigs:
        raise ValueError("nothing to aggregate")
    if not all(_shape_ok(s, SIGNATURE_LENGTH) for s in sigs):
        raise SignatureInvalidError("a BLS signature is 96 bytes (compressed G2)")
    try:
        if chosen == "native":
            total = _native.G2Point.identity()
            for x in sigs:
                total = total + _g2(x)
            return bytes(total.to_compressed_bytes())
        # py_ecc's Aggregate adds any point on the curve; refuse points outside the subgroup
        # (as the native backend does), since an aggregate holding one can never verify.
        if not all(_reference_subgroup_ok(x) for x in sigs):
            raise ValueError("a signature outside the G2 subgroup")
        return bytes(_reference.Aggregate(list(sigs)))
    except Exception:
        raise SignatureInvalidError("a BLS signature is not a valid G2 point") from None


def fast_aggregate_verify(
    pubkeys: Sequence[bytes], digest: bytes, sig: bytes, *, backend: Backend | None = None
) -> bool:
    """Whether ``sig`` aggregates signatures of every key in ``pubkeys`` over one message.

    Only sound for keys whose proof of possession was checked (:func:`pop_verify`).
    False for an empty key list, any malformed key or signature, or a repeated key.

    Raises:
        ValueError: Unknown or unavailable backend.
    """
    chosen = _pick(backend)
    keys = list(pubkeys)
    if (
        not keys
        or not all(_pubkey_ok(k) for k in keys)
        or len(set(keys)) != len(keys)
        or not _shape_ok(sig, SIGNATURE_LENGTH)
        or not isinstance(digest, bytes)
    ):
        return False
    try:
        if chosen == "native":
            total = _native.G1Point.identity()
            for k in keys:
                total = total + _g1(k)
            if total == _native.G1Point.identity():  # KeyValidate of the aggregate key
                return False
            return _native_core_verify(total, digest, sig, _SIG_DST)
        return bool(_reference.FastAggregateVerify(keys, digest, sig))
    except Exception:
        return False


def pop_prove(sk: bytes, *, backend: Backend | None = None) -> bytes:
    """The proof of possession of a secret key (a signature over its public key, POP tag).

    Raises:
        ValueError: Bad secret key or backend.
    """
    value = _secret(sk)
    if _pick(backend) == "native":
        return _native_sign(value, secret_to_pubkey(sk, backend="native"), _POP_DST)
    return bytes(_reference.PopProve(value))


def pop_verify(pubkey: bytes, pop: bytes, *, backend: Backend | None = None) -> bool:
    """Whether ``pop`` proves possession of ``pubkey``'s secret key; False for bad encodings.

    Raises:
        ValueError: Unknown or unavailable backend.
    """
    chosen = _pick(backend)
    if not (_pubkey_ok(pubkey) and _shape_ok(pop, SIGNATURE_LENGTH)):
        return False
    try:
        if chosen == "native":
            return _native_core_verify(_g1(pubkey), pubkey, pop, _POP_DST)
        return bool(_reference.PopVerify(pubkey, pop))
    except Exception:
        return False
