"""The secp256k1 keys a contract wallet's signature can name, for one key one vote.

porv cannot read a wallet's code; it tries the hashes and signature layouts common wallets
accept and recovers a candidate key from each. Recovery names *some* address for almost any
bytes, so a candidate is only evidence about who signed when it is a key the policy pins
(:func:`verifier.signatures.count_signatures` decides that); every candidate still joins the
wallet's key set, where an extra key can only make votes overlap.

Layouts (each split into owner chunks, at most :data:`MAX_CHUNKS`):

* 65 bytes ``r ‖ s ‖ v``, or several concatenated (a Safe's owners, ``n × 65``); ``v`` in
  {27, 28}, {0, 1}, or Safe's ``eth_sign`` form {31, 32} (``v − 4`` over the EIP-191 hash);
* 64 bytes EIP-2098 compact ``r ‖ (yParity << 255 | s)``.

Hashes, each also under EIP-191 ``eth_sign``: the digest itself, and a Safe's SafeMessage hash
of it (:func:`safe_message_hash`) when the wallet's chain is known.
"""

from __future__ import annotations

from verifier.errors import SignatureInvalidError
from verifier.merkle.keccak import keccak256
from verifier.signatures import secp256k1

__all__ = ["MAX_CHUNKS", "candidate_keys", "eth_signed_hash", "safe_message_hash"]

#: Owner signatures read from one wallet signature (a Safe lists one per owner it needs).
MAX_CHUNKS = 16

_SAFE_DOMAIN_TYPEHASH = keccak256(b"EIP712Domain(uint256 chainId,address verifyingContract)")
_SAFE_MSG_TYPEHASH = keccak256(b"SafeMessage(bytes message)")
_COMPACT_S_MASK = (1 << 255) - 1


def eth_signed_hash(digest: bytes) -> bytes:
    """EIP-191 ``eth_sign`` hash of a 32-byte digest."""
    return keccak256(b"\x19Ethereum Signed Message:\n32" + digest)


def safe_message_hash(digest: bytes, wallet: str, chain_id: int) -> bytes:
    """The hash a Safe's owners sign for ``isValidSignature(bytes32 digest, ...)``.

    As safe-global/safe-smart-account ``contracts/handler/CompatibilityFallbackHandler.sol``
    (v1.3.0 and later): ``isValidSignature(bytes32 _dataHash, ...)`` checks the owners'
    signatures over ``getMessageHashForSafe(safe, abi.encode(_dataHash))``, that is
    ``keccak256(0x19 ‖ 0x01 ‖ safe.domainSeparator() ‖ keccak256(abi.encode(SAFE_MSG_TYPEHASH,
    keccak256(message))))`` with ``SAFE_MSG_TYPEHASH = keccak256("SafeMessage(bytes message)")``
    and ``message = abi.encode(_dataHash)`` (the 32 digest bytes). ``Safe.domainSeparator()``
    is ``keccak256(abi.encode(keccak256("EIP712Domain(uint256 chainId,address
    verifyingContract)"), chainId, safe))``.
    """
    domain = keccak256(
        _SAFE_DOMAIN_TYPEHASH + chain_id.to_bytes(32, "big") + bytes(12) + bytes.fromhex(wallet[2:])
    )
    inner = keccak256(_SAFE_MSG_TYPEHASH + keccak256(digest))
    return keccak256(b"\x19\x01" + domain + inner)


def _parts(signature: bytes) -> list[tuple[int, int, int]]:
    """``(r, s, v)`` of each owner chunk, ``v`` as found (compact: 27 + yParity)."""
    if len(signature) == 64:
        vs = int.from_bytes(signature[32:], "big")
        return [(int.from_bytes(signature[:32], "big"), vs & _COMPACT_S_MASK, 27 + (vs >> 255))]
    n = min(len(signature) // 65, MAX_CHUNKS)
    out = []
    for i in range(n):
        chunk = signature[65 * i : 65 * (i + 1)]
        out.append(
            (int.from_bytes(chunk[:32], "big"), int.from_bytes(chunk[32:64], "big"), chunk[64])
        )
    return out


def candidate_keys(
    digest: bytes, signature: bytes, *, wallet: str | None = None, chain_id: int | None = None
) -> tuple[str, ...]:
    """Every address recovered from any owner chunk of ``signature`` over any candidate hash.

    Recovery is lenient on purpose (high-s normalised, ``v`` in {0, 1} or {31, 32} accepted):
    a candidate that is nobody's key only ever makes the count smaller.

    Returns:
        The addresses, in a stable order (chunk by chunk, the digest's first); empty when no
        chunk is an ECDSA signature at all.
    """
    hashes = [digest]
    if wallet is not None and chain_id is not None:
        hashes.append(safe_message_hash(digest, wallet, chain_id))
    hashes += [eth_signed_hash(h) for h in hashes]
    out: list[str] = []
    for r, s, v in _parts(signature):
        if v in (0, 1):
            v += 27
        elif v in (31, 32):  # Safe: eth_sign over the hash, v + 4 (the EIP-191 hashes below)
            v -= 4
        if v not in (27, 28) or not 1 <= r < secp256k1.N or not 1 <= s < secp256k1.N:
            continue
        if s > secp256k1.HALF_N:
            s, v = secp256k1.N - s, 55 - v
        low = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])
        for hashed in hashes:
            try:
                address = secp256k1.recover(hashed, low)
            except SignatureInvalidError:
                continue
            if address not in out:
                out.append(address)
    return tuple(out)
