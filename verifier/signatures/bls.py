"""BLS12-381 signatures, ciphersuite ``BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_``.

This is the scheme of Ethereum's consensus layer: 48-byte compressed public keys in G1,
96-byte compressed signatures in G2, messages hashed to G2 with the ``_POP_`` tag, and
proofs of possession (``PopProve``/``PopVerify``) to rule out rogue-key attacks on
same-message aggregates (draft-irtf-cfrg-bls-signature-05 §3.3).

Two backends, one interface: ``"reference"`` is py_ecc's ``G2ProofOfPossession`` (pure
Python, the specification's reference); ``"native"`` is ``blspy``'s ``PopSchemeMPL`` (the
C++ BLS library of Chia, on the relic toolkit: the same IETF ciphersuite and POP tags),
100 to 250 times faster. The tests check both return byte-identical keys, signatures,
aggregates and proofs of possession and the same verdicts. ``backend=None`` picks native when
it imports, else the reference.

No function here lets an exception from a backend escape: verification returns ``False`` for
any malformed key or signature, and the producing functions raise
:class:`~verifier.errors.SignatureInvalidError` (bad encodings) or ``ValueError`` (bad arguments).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from py_ecc.bls.ciphersuites import G2ProofOfPossession

from verifier.errors import SignatureInvalidError

Backend = Literal["native", "reference"]

CIPHERSUITE = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
POP_TAG = "BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
#: Order of the BLS12-381 G1/G2 subgroups: secret keys are in 1..R-1.
R = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
PUBKEY_LENGTH = 48
SIGNATURE_LENGTH = 96
#: Compressed encoding of the point at infinity in G1 (never a valid public key).
INFINITY_PUBKEY = b"\xc0" + b"\x00" * 47

# py_ecc types its arguments with NewTypes of bytes; porv checks lengths itself.
_reference: Any = G2ProofOfPossession


def _load_native() -> Any:
    try:
        import blspy
    except ImportError:  # pragma: no cover - depends on the platform's wheels
        return None
    return blspy


_native: Any = _load_native()


def native_available() -> bool:
    """Whether the native backend (blspy) imported."""
    return _native is not None


def _pick(backend: Backend | None) -> Backend:
    if backend is None:
        return "native" if _native is not None else "reference"
    if backend not in ("native", "reference"):
        raise ValueError(f"unknown BLS backend {backend!r}")
    if backend == "native" and _native is None:
        raise ValueError("the native BLS backend (blspy) is not installed")
    return backend


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
        return bytes(_native.PrivateKey.from_bytes(sk).get_g1())
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
        return bytes(_native.PopSchemeMPL.sign(_native.PrivateKey.from_bytes(sk), digest))
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
            return bool(
                _native.PopSchemeMPL.verify(
                    _native.G1Element.from_bytes(pubkey),
                    digest,
                    _native.G2Element.from_bytes(sig),
                )
            )
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
            return bytes(
                _native.PopSchemeMPL.aggregate([_native.G2Element.from_bytes(x) for x in sigs])
            )
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
            return bool(
                _native.PopSchemeMPL.fast_aggregate_verify(
                    [_native.G1Element.from_bytes(k) for k in keys],
                    digest,
                    _native.G2Element.from_bytes(sig),
                )
            )
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
        return bytes(_native.PopSchemeMPL.pop_prove(_native.PrivateKey.from_bytes(sk)))
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
            return bool(
                _native.PopSchemeMPL.pop_verify(
                    _native.G1Element.from_bytes(pubkey), _native.G2Element.from_bytes(pop)
                )
            )
        return bool(_reference.PopVerify(pubkey, pop))
    except Exception:
        return False
