"""The secp256k1 keys a contract wallet's signature can name, for one key one vote.

porv cannot read a wallet's code; it tries the hashes and signature layouts common wallets
accept and recovers a candidate key from each. Recovery names *some* address for almost any
bytes, so a candidate is only evidence about who signed when it is a key the policy pins
(:func:`verifier.signatures.count_signatures` decides that); every candidate still joins the
wallet's key set, where an extra key can only make votes overlap.

Layouts (each split into owner chunks, at most :data:`MAX_CHUNKS` read in all):

* 65 bytes ``r ‖ s ‖ v``, or several concatenated (a Safe's owners, ``n × 65``); ``v`` in
  {27, 28}, {0, 1}, or Safe's ``eth_sign`` form {31, 32} (``v − 4`` over the EIP-191 hash);
* a Safe's contract signature (``v = 0``: ``r`` the owner contract, ``s`` the offset of its
  signature in the dynamic part, ``length ‖ bytes``) and pre-approved hash (``v = 1``: ``r``
  the owner that approved on-chain). Their owner addresses join the key set as *named* keys:
  the bytes only name them, so they never attribute a vote. A contract owner's own signature
  is read the same way, to :data:`MAX_DEPTH` levels: the Safe passes it its SafeMessage data
  (:func:`safe_message_data`), so a nested Safe's owners sign the nested Safe's SafeMessage
  hash of those bytes, and another wallet their keccak256. A contract signature porv does not
  open (too deep, the chain unknown, or empty: a Safe owner then answers from a message its
  owners approved on-chain) leaves the signature incomplete. The static part ends
  where the first dynamic part begins (Safe refuses an offset inside the ``threshold × 65``
  owner chunks, so none it reads is cut);
* 64 bytes EIP-2098 compact ``r ‖ (yParity << 255 | s)``.

Hashes, each also under EIP-191 ``eth_sign``: the digest itself, and a Safe's SafeMessage hash
of it (:func:`safe_message_hash`) when the wallet's chain is known.

A signature with more owner chunks than :data:`MAX_CHUNKS` is read only that far and marked
incomplete: a key past the limit could be one that also votes elsewhere, so the counter treats
such a wallet as sharing keys with every other vote.
"""

from __future__ import annotations

from dataclasses import dataclass

from verifier.errors import SignatureInvalidError
from verifier.model.attestation import MAX_WALLET_SIGNATURE_BYTES
from verifier.model.keccak import keccak256
from verifier.signatures import secp256k1

__all__ = [
    "MAX_CHUNKS",
    "MAX_DEPTH",
    "MAX_WALLET_SIGNATURE_BYTES",
    "WalletKeys",
    "candidate_keys",
    "eth_signed_hash",
    "safe_message_data",
    "safe_message_hash",
    "wallet_keys",
]

#: Owner chunks read from one wallet signature, contract owners' signatures included: a 16-owner
#: Safe, and as many again inside its contract owners' signatures. Each chunk costs at most four
#: key recoveries.
MAX_CHUNKS = 32

#: Levels of contract-owner signatures read (the wallet's own signature is level 0).
MAX_DEPTH = 2

_SAFE_DOMAIN_TYPEHASH = keccak256(b"EIP712Domain(uint256 chainId,address verifyingContract)")
_SAFE_MSG_TYPEHASH = keccak256(b"SafeMessage(bytes message)")
_COMPACT_S_MASK = (1 << 255) - 1
_ADDRESS_MASK = (1 << 160) - 1


@dataclass(frozen=True)
class WalletKeys:
    """What porv reads from a wallet signature.

    ``recovered``: addresses recovered from ECDSA chunks (each a signature over a hash of the
    digest, so only that key could make it). ``named``: owner addresses a Safe contract
    signature (``v = 0``) or pre-approved hash (``v = 1``) names (evidence of nothing by
    itself). ``complete``: False when the signature has more chunks than :data:`MAX_CHUNKS`
    (or more bytes than :data:`MAX_WALLET_SIGNATURE_BYTES`) and porv did not read them all.
    """

    recovered: tuple[str, ...]
    named: tuple[str, ...] = ()
    complete: bool = True


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
    return keccak256(safe_message_data(digest, wallet, chain_id))


def safe_message_data(message: bytes, wallet: str, chain_id: int) -> bytes:
    """``encodeMessageDataForSafe(safe, message)`` (CompatibilityFallbackHandler 1.4.1): the
    66 bytes ``0x19 ‖ 0x01 ‖ domainSeparator ‖ keccak256(abi.encode(SAFE_MSG_TYPEHASH,
    keccak256(message)))``. Its keccak256 is what the owners sign; the bytes themselves are the
    ``data`` a Safe passes to a contract owner's legacy ``isValidSignature(bytes, bytes)``.
    """
    domain = keccak256(
        _SAFE_DOMAIN_TYPEHASH + chain_id.to_bytes(32, "big") + bytes(12) + bytes.fromhex(wallet[2:])
    )
    inner = keccak256(_SAFE_MSG_TYPEHASH + keccak256(message))
    return b"\x19\x01" + domain + inner


class _Reader:
    """Walks one wallet signature and its contract owners' signatures, within the budget."""

    def __init__(self, digest: bytes, chain_id: int | None) -> None:
        self.digest = digest
        self.chain_id = chain_id
        self.recovered: list[str] = []
        self.named: list[str] = []
        self.chunks = 0
        self.complete = True

    def _recover(self, r: int, s: int, v: int, hashes: list[bytes]) -> None:
        if v in (0, 1):
            v += 27
        elif v in (31, 32):  # Safe: eth_sign over the hash, v + 4 (the EIP-191 hashes below)
            v -= 4
        if v not in (27, 28) or not 1 <= r < secp256k1.N or not 1 <= s < secp256k1.N:
            return
        if s > secp256k1.HALF_N:
            s, v = secp256k1.N - s, 55 - v
        low = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])
        for hashed in hashes:
            try:
                address = secp256k1.recover(hashed, low)
            except SignatureInvalidError:
                continue
            if address not in self.recovered:
                self.recovered.append(address)

    def _name(self, r: int) -> str:
        from eth_utils.address import to_checksum_address

        address = str(to_checksum_address((r & _ADDRESS_MASK).to_bytes(20, "big")))
        if address not in self.named:
            self.named.append(address)
        return address

    def read(self, signature: bytes, wallet: str | None, depth: int, message: bytes) -> None:
        """Read ``signature`` given to ``wallet`` over ``message``: the digest itself (level 0,
        ``isValidSignature(bytes32)``), or the Safe message data of the Safe above it (a
        contract owner, legacy ``isValidSignature(bytes, bytes)``)."""
        data = None
        hashes = [message if depth == 0 else keccak256(message)]
        if wallet is not None and self.chain_id is not None:
            data = safe_message_data(message, wallet, self.chain_id)
            hashes.append(keccak256(data))
        hashes += [eth_signed_hash(h) for h in hashes]
        if len(signature) == 64:
            if self._take():
                vs = int.from_bytes(signature[32:], "big")
                r = int.from_bytes(signature[:32], "big")
                self._recover(r, vs & _COMPACT_S_MASK, 27 + (vs >> 255), hashes)
            return
        end = len(signature)  # the static part ends where the first dynamic part begins
        i = 0
        while 65 * (i + 1) <= end:
            if not self._take():
                return
            chunk = signature[65 * i : 65 * (i + 1)]
            r, s, v = (
                int.from_bytes(chunk[:32], "big"),
                int.from_bytes(chunk[32:64], "big"),
                chunk[64],
            )
            i += 1
            if v in (0, 1):  # a Safe contract signature or pre-approved hash names its owner
                owner = self._name(r)
                if v == 0 and s + 32 <= len(signature):
                    end = max(min(end, s), 65 * i)
                    length = int.from_bytes(signature[s : s + 32], "big")
                    if s + 32 + length <= len(signature):
                        if length and depth < MAX_DEPTH and data is not None:
                            self.read(signature[s + 32 : s + 32 + length], owner, depth + 1, data)
                        else:  # keys behind this owner stay unread (none: a Safe owner answers
                            self.complete = False  # from messages its owners approved on-chain)
            self._recover(r, s, v, hashes)  # v 0/1 may also be a bare recovery id

    def _take(self) -> bool:
        if self.chunks >= MAX_CHUNKS:
            self.complete = False
            return False
        self.chunks += 1
        return True


def wallet_keys(
    digest: bytes, signature: bytes, *, wallet: str | None = None, chain_id: int | None = None
) -> WalletKeys:
    """Every address recovered from, or named by, any owner chunk of ``signature``.

    Recovery is lenient on purpose (high-s normalised, ``v`` in {0, 1} or {31, 32} accepted):
    a candidate that is nobody's key only ever makes the count smaller.

    Returns:
        The recovered addresses in a stable order (chunk by chunk, the digest's first), the
        owners named by contract-signature and pre-approved chunks, and whether every chunk
        was read.
    """
    reader = _Reader(digest, chain_id)
    if len(signature) > MAX_WALLET_SIGNATURE_BYTES:
        reader.complete = False
        signature = signature[:MAX_WALLET_SIGNATURE_BYTES]
    reader.read(signature, wallet, 0, digest)
    return WalletKeys(tuple(reader.recovered), tuple(reader.named), reader.complete)


def candidate_keys(
    digest: bytes, signature: bytes, *, wallet: str | None = None, chain_id: int | None = None
) -> tuple[str, ...]:
    """The addresses recovered from ``signature``'s ECDSA chunks (:func:`wallet_keys`).

    Returns:
        The addresses, in a stable order (chunk by chunk, the digest's first); empty when no
        chunk is an ECDSA signature at all.
    """
    return wallet_keys(digest, signature, wallet=wallet, chain_id=chain_id).recovered
