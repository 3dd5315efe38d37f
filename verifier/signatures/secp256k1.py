"""secp256k1 signatures over EIP-712 digests: 65-byte ``r ‖ s ‖ v``, low-s only.

Two backends, one interface, as for BLS: ``"native"`` is libsecp256k1 through ``coincurve``;
``"reference"`` is the pure-Python ECDSA of ``eth-keys`` (already installed with eth-account).
Both use RFC 6979 deterministic nonces, so porv's signature for a key and digest is
byte-identical to ethers' and eth-account's whichever runs; the tests check the two agree.
``backend=None`` picks native when coincurve imports, else the reference: coincurve has no
wheel for CPython 3.14 yet, so there porv is installed without it (an environment marker in
pyproject.toml) and signs and recovers in pure Python (a recovery takes about 8 ms, not 0.1).
Recovery always yields *some* address for a well-formed signature: callers must compare the
result with the addresses they trust, never just check that recovery succeeded.

A signature with ``s > n/2`` is refused (:class:`~verifier.errors.HighSSignatureError`): for every
valid ``(r, s, v)`` the twin ``(r, n − s, v ^ 1)`` also recovers to the same key (EIP-2), and
accepting both would let anyone mint a second, different-looking signature.
"""

from __future__ import annotations

from typing import Any

from verifier.errors import HighSSignatureError, SignatureInvalidError
from verifier.model.keccak import keccak256
from verifier.signatures.backends import Backend, pick_backend

#: Order of the secp256k1 group.
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HALF_N = N // 2


def _load_native() -> Any:
    try:
        import coincurve
    except ImportError:  # pragma: no cover - depends on the platform's wheels
        return None
    return coincurve


_native: Any = _load_native()


def native_available() -> bool:
    """Whether the native backend (coincurve) imported."""
    return _native is not None


def backend_in_use() -> Backend:
    """The backend that ``backend=None`` picks: ``"native"`` when it imported, else reference."""
    return _pick(None)


def _pick(backend: Backend | None) -> Backend:
    return pick_backend("secp256k1", "coincurve", _native, backend)


def _check_private_key(private_key: bytes) -> None:
    if not isinstance(private_key, bytes) or len(private_key) != 32:
        raise ValueError("a secp256k1 private key is 32 bytes")
    if not 1 <= int.from_bytes(private_key, "big") < N:
        raise ValueError("a secp256k1 private key must be in 1..n-1")


def _check_digest(digest: bytes) -> None:
    if not isinstance(digest, bytes) or len(digest) != 32:
        raise ValueError("the digest must be 32 bytes")


def address_of(private_key: bytes, *, backend: Backend | None = None) -> str:
    """The checksummed Ethereum address of a private key.

    Raises:
        ValueError: Not a 32-byte key in ``1..n-1``, or an unknown/unavailable backend.
    """
    _check_private_key(private_key)
    if _pick(backend) == "native":
        public = _native.PrivateKey(private_key).public_key.format(compressed=False)
        return _address_of_public(public)
    from eth_keys.backends.native.ecdsa import private_key_to_public_key

    return _address_of_public(b"\x04" + private_key_to_public_key(private_key))


def _address_of_public(uncompressed: bytes) -> str:
    """EIP-55 checksummed address of an uncompressed public key (65 bytes, 0x04 prefix)."""
    lower = keccak256(uncompressed[1:])[-20:].hex()
    mask = keccak256(lower.encode("ascii")).hex()
    # EIP-55: upper-case each letter whose nibble in keccak256(lowercase hex) is 8 or more.
    return "0x" + "".join(
        c.upper() if c > "9" and m >= "8" else c for c, m in zip(lower, mask[:40], strict=True)
    )


def sign(digest: bytes, private_key: bytes, *, backend: Backend | None = None) -> bytes:
    """Sign a 32-byte digest: 65 bytes ``r ‖ s ‖ v`` with low ``s`` and ``v`` in {27, 28}.

    Args:
        digest: The EIP-712 digest (already hashed; it is not hashed again).
        private_key: 32-byte secret key.

    Returns:
        The 65-byte signature.

    Raises:
        ValueError: Bad digest or key length, key out of range, or a bad backend.
    """
    _check_digest(digest)
    _check_private_key(private_key)
    if _pick(backend) == "native":
        raw = _native.PrivateKey(private_key).sign_recoverable(digest, hasher=None)
        # libsecp256k1 always produces low-s; recovery id 0/1 becomes Ethereum's v 27/28.
        return bytes(raw[:64]) + bytes([raw[64] + 27])
    from eth_keys.backends.native.ecdsa import ecdsa_raw_sign

    recovery_id, r, s = ecdsa_raw_sign(digest, private_key)  # low-s, recovery id 0/1
    # eth-keys takes the first RFC 6979 candidate nonce; libsecp256k1 would draw another
    # when it gives r = 0 or an x-coordinate >= n (odds about 2^-128): refuse rather than differ.
    if not (1 <= r < N and 1 <= s <= HALF_N and recovery_id in (0, 1)):
        raise ValueError("the deterministic nonce gave an out-of-range signature; use coincurve")
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([recovery_id + 27])


def split(signature: bytes) -> tuple[int, int, int]:
    """``(r, s, v)`` of a 65-byte signature, without validation beyond the length.

    Raises:
        SignatureInvalidError: Not 65 bytes.
    """
    if not isinstance(signature, bytes) or len(signature) != 65:
        length = len(signature) if isinstance(signature, bytes) else "not bytes"
        raise SignatureInvalidError(f"a secp256k1 signature is 65 bytes (r, s, v), found {length}")
    return (
        int.from_bytes(signature[:32], "big"),
        int.from_bytes(signature[32:64], "big"),
        signature[64],
    )


def recover(digest: bytes, signature: bytes, *, backend: Backend | None = None) -> str:
    """Recover the checksummed address that made ``signature`` over ``digest``.

    Args:
        digest: 32-byte EIP-712 digest.
        signature: 65 bytes ``r ‖ s ‖ v``.

    Returns:
        The signer's checksummed address. Compare it with the addresses you trust.

    Raises:
        HighSSignatureError: ``s`` is in the upper half of the group order (malleable twin).
        SignatureInvalidError: Wrong length, ``v`` not 27/28, ``r`` or ``s`` out of range, or no
            public key recovers from it.
        ValueError: ``digest`` is not 32 bytes, or a bad backend.
    """
    _check_digest(digest)
    chosen = _pick(backend)
    r, s, v = split(signature)
    if v not in (27, 28):
        raise SignatureInvalidError(f"signature v must be 27 or 28, found {v}")
    if not 1 <= r < N or not 1 <= s < N:
        raise SignatureInvalidError("signature r or s is out of range")
    if s > HALF_N:
        raise HighSSignatureError(
            "signature has a high s value (the malleable twin of a low-s signature)",
            hint="porv accepts only low-s signatures (EIP-2); re-sign with a standard signer",
        )
    try:
        if chosen == "native":
            public = _native.PublicKey.from_signature_and_message(
                signature[:64] + bytes([v - 27]), digest, hasher=None
            ).format(compressed=False)
        else:
            from eth_keys.backends.native.ecdsa import ecdsa_raw_recover

            public = b"\x04" + ecdsa_raw_recover(digest, (v - 27, r, s))
    except Exception:  # libsecp256k1 and eth-keys report failure as a bare/own Exception
        raise SignatureInvalidError("no public key recovers from this signature") from None
    return _address_of_public(public)


def high_s_twin(signature: bytes) -> bytes:
    """The malleable twin ``(r, n − s, v ^ 1)`` of a signature (for tests and attack vectors).

    Raises:
        SignatureInvalidError: Not a 65-byte signature with ``v`` in {27, 28}.
    """
    r, s, v = split(signature)
    if v not in (27, 28):
        raise SignatureInvalidError(f"signature v must be 27 or 28, found {v}")
    return r.to_bytes(32, "big") + ((N - s) % N).to_bytes(32, "big") + bytes([55 - v])
