"""Making attestations: the message a custodian signs for its tree, and its signature entries.

Shared by ``porv attest sign`` and the demo, so there is one way to build what is signed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from verifier.model.attestation import AttestationMessage, SignatureEntry, Total
from verifier.signatures import bls, secp256k1
from verifier.signatures.eip712 import attestation_digest


def message_for_tree(
    tree: Any,
    *,
    issuer: str,
    token: str,
    custodian: str,
    as_of: int,
    valid_until: int,
    sequence: int,
) -> AttestationMessage:
    """The ``ReserveAttestation`` for a tree: its root, leaf count and per-currency totals.

    Args:
        tree: a :class:`~verifier.merkle.tree.StandardMerkleTree` (anything with ``root``,
            ``len()`` and ``totals()``).

    Raises:
        SchemaError: a field out of range (the message model checks every field).
    """
    return AttestationMessage(
        issuer=issuer,
        token=token,
        custodian=custodian,
        holdings_root=tree.root,
        leaf_count=len(tree),
        totals=tuple(Total(c, a, d) for c, a, d in tree.totals()),
        as_of=as_of,
        valid_until=valid_until,
        sequence=sequence,
    )


def sign_entries(
    message: AttestationMessage, keys: Sequence[bytes], scheme: str
) -> list[SignatureEntry]:
    """Sign a message's EIP-712 digest with every key.

    secp256k1: one entry per key. BLS: one aggregate entry naming every signer's public key.

    Raises:
        ValueError: an unknown scheme, no key, or a key out of range.
    """
    if not keys:
        raise ValueError("no signing key")
    digest = attestation_digest(message)
    if scheme == "secp256k1":
        return [
            SignatureEntry("secp256k1", secp256k1.address_of(k), (), secp256k1.sign(digest, k))
            for k in keys
        ]
    if scheme == "bls":
        pubkeys = tuple("0x" + bls.secret_to_pubkey(k).hex() for k in keys)
        signature = bls.aggregate([bls.sign(digest, k) for k in keys])
        return [SignatureEntry("bls", None, pubkeys, signature)]
    raise ValueError(f"unknown signature scheme {scheme!r}")
