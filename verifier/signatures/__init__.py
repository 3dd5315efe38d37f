"""Signature checks: threshold counting over pinned keys, and attestation-vs-tree checks.

Public API:

* :class:`VerificationResult`, :func:`count_signatures` (a report; never raises for a bad
  signature) and :func:`verify_threshold` (a decision; raises
  :class:`~verifier.errors.ThresholdNotMet`).
* :func:`check_attestation_against_tree`: the signed root, leaf count and totals against a tree.
* Submodules :mod:`.secp256k1`, :mod:`.bls` and :mod:`.keys`.

Counting follows TUF: it loops over the *authorised* keys and asks which of them produced a
valid signature, so a key counts once however many entries carry it (duplicated entries, a
key listed in two aggregates, a secp256k1 signature next to a high-s twin of it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from eth_utils.address import is_address, to_checksum_address

from verifier.errors import (
    ClaimFailed,
    HighSSignature,
    PolicyError,
    SignatureInvalid,
    ThresholdNotMet,
    TreeMismatch,
)
from verifier.model.attestation import AttestationMessage, SignatureEntry
from verifier.signatures import bls, secp256k1

__all__ = [
    "Eip1271Checker",
    "TreeLike",
    "VerificationResult",
    "check_attestation_against_tree",
    "count_signatures",
    "verify_threshold",
]

#: ``(wallet address, digest, signature) -> bool``: EIP-1271 ``isValidSignature`` on a pinned chain.
Eip1271Checker = Callable[[str, bytes, bytes], bool]


@dataclass(frozen=True)
class VerificationResult:
    """Which authorised keys signed a digest, against a threshold.

    Keys are named as checksummed addresses (secp256k1, EIP-1271 wallets) or 0x-hex BLS
    public keys. ``problems`` lists every signature entry that did not count, and why.
    """

    threshold: int
    signed: frozenset[str]
    unsigned: frozenset[str]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Whether at least ``threshold`` distinct authorised keys signed."""
        return len(self.signed) >= self.threshold

    def describe(self) -> str:
        """One paragraph: how many signed, who did, who did not, and each problem."""
        signed = ", ".join(sorted(self.signed)) or "none"
        unsigned = ", ".join(sorted(self.unsigned)) or "none"
        text = (
            f"{len(self.signed)} of {len(self.signed) + len(self.unsigned)} pinned keys signed "
            f"(threshold {self.threshold}); signed: {signed}; did not sign: {unsigned}"
        )
        if self.problems:
            text += "; problems: " + "; ".join(self.problems)
        return text


def _pinned_address(value: str, what: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise PolicyError(f"{what} {value!r} is not an address")
    checksummed = to_checksum_address(value)
    if value != checksummed:
        raise PolicyError(
            f"{what} {value} is not EIP-55 checksummed", hint=f"write it as {checksummed}"
        )
    return checksummed


def _authorised(
    signers: Sequence[str],
    bls_keys: Sequence[bytes],
    eip1271_wallets: Sequence[str],
    threshold: int,
) -> tuple[list[str], list[str], list[str]]:
    addresses = [_pinned_address(a, "pinned signer") for a in signers]
    wallets = [_pinned_address(a, "pinned EIP-1271 wallet") for a in eip1271_wallets]
    for key in bls_keys:
        if not isinstance(key, bytes) or len(key) != bls.PUBKEY_LENGTH:
            raise PolicyError("a pinned BLS public key must be 48 bytes")
    bls_names = ["0x" + k.hex() for k in bls_keys]
    everyone = addresses + wallets + bls_names
    seen: set[str] = set()
    for name in everyone:
        if name in seen:
            raise PolicyError(f"key {name} is pinned twice", hint="list each key once")
        seen.add(name)
    if isinstance(threshold, bool) or not isinstance(threshold, int):
        raise PolicyError(f"threshold must be an integer, found {threshold!r}")
    if not 1 <= threshold <= len(everyone):
        raise PolicyError(
            f"threshold {threshold} is impossible with {len(everyone)} pinned key(s)",
            hint="the threshold must be at least 1 and at most the number of pinned keys",
        )
    return addresses, wallets, bls_names


def count_signatures(
    digest: bytes,
    entries: Sequence[SignatureEntry],
    *,
    signers: Sequence[str] = (),
    bls_keys: Sequence[bytes] = (),
    threshold: int,
    eip1271: Eip1271Checker | None = None,
    eip1271_wallets: Sequence[str] = (),
) -> VerificationResult:
    """Count which authorised keys validly signed ``digest``.

    Args:
        digest: The 32-byte EIP-712 digest the entries should sign.
        entries: The signature entries offered (untrusted).
        signers: Pinned secp256k1 signer addresses (checksummed).
        bls_keys: Pinned BLS public keys (48 bytes each, proofs of possession already checked),
            in the order integer ``signers`` indices refer to.
        threshold: How many distinct authorised keys must sign.
        eip1271: Checker for contract-wallet signatures, needed when ``eip1271_wallets`` is set.
        eip1271_wallets: Pinned contract-wallet addresses (EIP-1271).

    Returns:
        The result; bad, unknown, high-s and repeated signatures are listed in ``problems``.

    Raises:
        PolicyError: The pinned keys or threshold are unusable (a key pinned twice, a
            non-checksummed address, threshold below 1 or above the number of keys).
        IncompleteError: The EIP-1271 checker could not complete (propagated).
    """
    addresses, wallets, bls_names = _authorised(signers, bls_keys, eip1271_wallets, threshold)
    address_set, wallet_set = set(addresses), set(wallets)
    bls_by_name = {name: bytes(key) for name, key in zip(bls_names, bls_keys, strict=True)}
    valid: set[str] = set()
    problems: list[str] = []

    def credit(where: str, keys: Iterable[str]) -> None:
        for key in keys:
            if key in valid:
                problems.append(f"{where}: {key} already signed; counted once")
            valid.add(key)

    for i, entry in enumerate(entries):
        where = f"signatures[{i}]"
        if entry.scheme == "secp256k1":
            named = entry.signer or ""
            if named in wallet_set:
                if eip1271 is None:
                    problems.append(f"{where}: {named} is a contract wallet; no EIP-1271 check")
                    continue
                try:
                    accepted = eip1271(named, digest, entry.signature)
                except ClaimFailed as exc:
                    problems.append(f"{where}: EIP-1271 check of {named} failed: {exc.message}")
                    continue
                if accepted:
                    credit(where, [named])
                else:
                    problems.append(f"{where}: contract wallet {named} rejects the signature")
                continue
            try:
                recovered = secp256k1.recover(digest, entry.signature)
            except HighSSignature:
                problems.append(f"{where}: high-s signature (malleable twin) named for {named}")
                continue
            except SignatureInvalid as exc:
                problems.append(f"{where}: invalid signature named for {named}: {exc.message}")
                continue
            if recovered != named:
                problems.append(
                    f"{where}: names {named} but recovers to {recovered}: signed by another key "
                    "or over another message"
                )
            elif recovered not in address_set:
                problems.append(f"{where}: signer {recovered} is not pinned")
            else:
                credit(where, [recovered])
        elif entry.scheme == "bls":
            names: list[str] = []
            bad = False
            for signer in entry.signers:
                if isinstance(signer, int):
                    if not 0 <= signer < len(bls_names):
                        problems.append(
                            f"{where}: BLS signer index {signer} is out of range "
                            f"({len(bls_names)} pinned BLS key(s))"
                        )
                        bad = True
                        continue
                    name = bls_names[signer]
                else:
                    name = signer.lower()
                    if name not in bls_by_name:
                        problems.append(f"{where}: BLS signer {name} is not pinned")
                        bad = True
                        continue
                if name in names:
                    problems.append(f"{where}: BLS signer {name} is listed twice")
                    bad = True
                names.append(name)
            if bad:
                continue
            keys = [bls_by_name[n] for n in names]
            if bls.fast_aggregate_verify(keys, digest, entry.signature):
                credit(where, names)
            else:
                problems.append(
                    f"{where}: BLS aggregate of {len(names)} signer(s) does not verify: a signer "
                    "is missing or extra, or it is over another message"
                )
        else:
            problems.append(f"{where}: unknown scheme {entry.scheme!r}")

    authorised = addresses + wallets + bls_names
    signed = frozenset(k for k in authorised if k in valid)
    return VerificationResult(
        threshold=threshold,
        signed=signed,
        unsigned=frozenset(authorised) - signed,
        problems=tuple(problems),
    )


def verify_threshold(
    digest: bytes,
    entries: Sequence[SignatureEntry],
    *,
    signers: Sequence[str] = (),
    bls_keys: Sequence[bytes] = (),
    threshold: int,
    eip1271: Eip1271Checker | None = None,
    eip1271_wallets: Sequence[str] = (),
) -> VerificationResult:
    """Like :func:`count_signatures`, but raise unless the threshold is met.

    Returns:
        The result (``ok`` is true).

    Raises:
        ThresholdNotMet: Fewer than ``threshold`` distinct authorised keys signed; the message
            lists who signed, who did not, and every problem.
        PolicyError: The pinned keys or threshold are unusable.
        IncompleteError: The EIP-1271 checker could not complete (propagated).
    """
    result = count_signatures(
        digest,
        entries,
        signers=signers,
        bls_keys=bls_keys,
        threshold=threshold,
        eip1271=eip1271,
        eip1271_wallets=eip1271_wallets,
    )
    if not result.ok:
        raise ThresholdNotMet(
            f"signature threshold not met: {result.describe()}",
            hint="the attestation must be signed by enough of the pinned keys, over exactly "
            "this message",
        )
    return result


class TreeLike(Protocol):
    """What :func:`check_attestation_against_tree` needs of a Merkle tree."""

    @property
    def root(self) -> Any: ...

    def __len__(self) -> int: ...

    def totals(self) -> Any: ...


def _root_bytes(root: Any) -> bytes:
    if isinstance(root, bytes | bytearray):
        return bytes(root)
    if isinstance(root, str) and root.startswith("0x"):
        return bytes.fromhex(root[2:])
    raise TypeError(f"unsupported tree root {root!r}")


def _total_tuple(item: Any) -> tuple[str, int, int]:
    if hasattr(item, "currency"):
        return (item.currency, int(item.amount), int(item.decimals))
    currency, amount, decimals = item
    return (str(currency), int(amount), int(decimals))


def check_attestation_against_tree(msg: AttestationMessage, tree: TreeLike) -> None:
    """Check the signed root, leaf count and per-currency totals against a tree.

    Args:
        msg: The attestation message (signed by the custodian).
        tree: The custodian's holdings tree (``verifier.merkle.StandardMerkleTree``).

    Raises:
        TreeMismatch: The root, the leaf count or the totals differ; the message names each
            difference with the signed and the computed value.
    """
    differences: list[str] = []
    root = _root_bytes(tree.root)
    if root != msg.holdings_root:
        differences.append(f"root: signed 0x{msg.holdings_root.hex()}, tree has 0x{root.hex()}")
    if len(tree) != msg.leaf_count:
        differences.append(f"leaf count: signed {msg.leaf_count}, tree has {len(tree)}")
    signed = {t.currency: (t.amount, t.decimals) for t in msg.totals}
    computed = {c: (a, d) for c, a, d in (_total_tuple(t) for t in tree.totals())}
    for currency in sorted(set(signed) | set(computed)):
        want, have = signed.get(currency), computed.get(currency)
        if want == have:
            continue
        shown_want = f"{want[0]} (decimals {want[1]})" if want else "nothing"
        shown_have = f"{have[0]} (decimals {have[1]})" if have else "nothing"
        differences.append(f"total {currency}: signed {shown_want}, tree has {shown_have}")
    if differences:
        raise TreeMismatch(
            "attestation does not match the holdings tree: " + "; ".join(differences),
            hint="the tree must be exactly the one the custodian signed",
        )
