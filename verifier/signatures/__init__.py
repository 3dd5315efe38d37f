"""Signature checks: threshold counting over pinned keys, and attestation-vs-tree checks.

Public API:

* :class:`VerificationResult`, :func:`count_signatures` (a report; never raises for a bad
  signature) and :meth:`VerificationResult.require` (a decision; raises the
  :class:`~verifier.errors.SignatureInvalidError` subclass that says why).
* :func:`check_attestation_against_tree`: the signed root, leaf count and totals against a tree.
* Submodules :mod:`.secp256k1`, :mod:`.bls` and :mod:`.keys`.

Counting follows TUF: only *authorised* keys can count, and each counts once however many
entries carry it (duplicated entries, a key listed in two aggregates, a secp256k1 signature
next to a high-s twin of it). One counter serves every threshold: custodians' secp256k1, BLS
and EIP-1271 signatures, registry evidence porv recovered itself, and the auditors' aggregate.

The rule (DESIGN §1 "One key, one vote", :data:`ONE_KEY_ONE_VOTE`): every vote is attributed
to the set of keys it proves: a direct secp256k1 signature to its recovered address, a BLS
signer to its public key, a contract wallet to its own address *and* every key porv recovers
from the signature the wallet accepted (:mod:`.wallet_keys`: the digest, its EIP-191 hash and
a Safe's SafeMessage hash; 65-byte, concatenated, Safe ``eth_sign``, contract-signature and
pre-approved, and EIP-2098 compact layouts; the owners a Safe chunk only names join the set but
never attribute it, and a signature porv cannot read whole counts only alone). The count is
the largest number of votes whose key sets are pairwise disjoint. So a key that signs
directly and again through a wallet it owns counts once, and two wallets accepting one key's
signature count once. One key speaks for one party, as the policy's rule that no key is
pinned for two custodians: a wallet vote whose keys include one that another custodian pins,
or that porv recovers from another custodian's wallet signature, does not count
(``foreign``).

porv cannot read a wallet's code, and recovery names *some* address for almost any bytes over
almost any hash: a wallet that checks a hash porv does not try yields only addresses nobody
holds, however many keys stand behind it. So a wallet vote is *attributed* only when a key
porv recovers from its signature is a pinned secp256k1 signer (a key the policy says exists,
whose signature over a hash of the digest nobody else can make); an unattributed wallet vote
is counted as sharing keys with every other vote: it counts only when no other vote counts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from verifier.errors import (
    ClaimFailedError,
    DuplicateKeyError,
    HighSSignatureError,
    PolicyError,
    SignatureInvalidError,
    ThresholdNotMetError,
    TreeMismatchError,
    UnknownSignerError,
    WalletRefusedError,
)
from verifier.model.attestation import AttestationMessage, SignatureEntry
from verifier.model.validate import InvalidValueError, checksummed_address
from verifier.signatures import bls, secp256k1
from verifier.signatures.wallet_keys import MAX_CHUNKS, MAX_DEPTH, candidate_keys, wallet_keys

__all__ = [
    "FAILURE_KINDS",
    "ONE_KEY_ONE_VOTE",
    "Eip1271Checker",
    "TreeLike",
    "VerificationResult",
    "check_attestation_against_tree",
    "count_signatures",
    "keys_behind_wallet_signature",
]

#: ``(wallet address, digest, signature) -> bool``: EIP-1271 ``isValidSignature`` on a pinned chain.
Eip1271Checker = Callable[[str, bytes, bytes], bool]

#: The counting rule, as threshold checks state it in their detail.
ONE_KEY_ONE_VOTE = (
    "one key, one vote: each distinct pinned key counts once; a contract wallet counts as "
    "itself when porv recovers a pinned key from its signature, unless a key recovered from "
    "it already counted, directly or through another wallet; a wallet whose signature names "
    "no pinned key porv can recover is counted as sharing keys with every other vote (it "
    "counts only when no other vote does); a wallet whose signature carries a key that "
    "another custodian pins, or that signs through another custodian's wallet, does not count"
)

#: Why a threshold was not met, most specific first: a failed threshold check carries the
#: first of these kinds found among its problems, else ``threshold_not_met``. The order does
#: not depend on the order of the bundle's entries, so reordering them cannot change the kind.
FAILURE_KINDS: tuple[str, ...] = ("high_s", "unknown_signer", "duplicate_key", "wallet_refused")

_FAILURE_ERRORS: dict[str, type[SignatureInvalidError]] = {
    "high_s": HighSSignatureError,
    "unknown_signer": UnknownSignerError,
    "duplicate_key": DuplicateKeyError,
    "wallet_refused": WalletRefusedError,
}

#: Steps the exact disjoint-set search may take (it branches only on wallet votes that share a
#: key, a handful at most under any real policy); past this the best family found so far is
#: kept, which can only count fewer votes than the maximum, never more.
MAX_SEARCH_STEPS = 100_000


@dataclass(frozen=True)
class VerificationResult:
    """Which authorised keys signed a digest, against a threshold.

    Keys are named as checksummed addresses (secp256k1, EIP-1271 wallets) or 0x-hex BLS
    public keys. ``problems`` lists every signature entry (or vote) that did not count, and
    why; ``problem_kinds`` gives each problem's kind (``high_s``, ``unknown_signer``,
    ``duplicate_key``, ``wallet_refused``, ``signature_invalid``, ``wallet_unchecked``).
    """

    threshold: int
    signed: frozenset[str]
    unsigned: frozenset[str]
    problems: tuple[str, ...]
    problem_kinds: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Whether at least ``threshold`` distinct authorised keys signed."""
        return len(self.signed) >= self.threshold

    @property
    def kind(self) -> str:
        """Why the threshold is not met: the most specific of :data:`FAILURE_KINDS` among the
        problems, else ``threshold_not_met``."""
        for kind in FAILURE_KINDS:
            if kind in self.problem_kinds:
                return kind
        return ThresholdNotMetError.kind

    def failure(self, message: str, *, hint: str | None = None) -> SignatureInvalidError:
        """The error of :attr:`kind` with ``message`` (for a threshold that is not met)."""
        return _FAILURE_ERRORS.get(self.kind, ThresholdNotMetError)(message, hint=hint)

    def require(self) -> VerificationResult:
        """This result if the threshold is met; else raise its failure (a decision).

        Raises:
            SignatureInvalidError: the subclass of :attr:`kind` (``ThresholdNotMetError`` when
                no problem is more specific), with a message listing who signed, who did not,
                and every problem.
        """
        if not self.ok:
            raise self.failure(
                f"signature threshold not met: {self.describe()}",
                hint="the attestation must be signed by enough of the pinned keys, over exactly "
                "this message",
            )
        return self

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
    if isinstance(value, str):
        try:  # the common case, without importing eth_utils: a checksummed 0x address
            return checksummed_address(value)
        except InvalidValueError:
            pass
    from eth_utils.address import is_address, to_checksum_address

    if not isinstance(value, str) or not is_address(value):
        raise PolicyError(f"{what} {value!r} is not an address")
    try:
        return checksummed_address(value)
    except InvalidValueError:
        raise PolicyError(
            f"{what} {value} is not EIP-55 checksummed",
            hint=f"write it as {to_checksum_address(value)}",
        ) from None


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


def keys_behind_wallet_signature(
    digest: bytes, signature: bytes, *, wallet: str | None = None, chain_id: int | None = None
) -> tuple[str, ...]:
    """The secp256k1 addresses a contract wallet's signature can name, for attribution.

    A wallet that accepts an ECDSA signature (as OpenZeppelin's ``ECDSA.recover`` in
    ``TestContractWallet``, a Safe's owners over its SafeMessage hash, or a wallet that checks
    the EIP-191 ``eth_sign`` hash) is speaking for the keys that made it. Recovery is lenient
    (:func:`.wallet_keys.candidate_keys`): an address that is nobody's key only ever makes the
    count smaller. The Safe hash needs the wallet's address and chain id.

    Returns:
        Every address recovered, the digest's first (empty when the bytes are no ECDSA
        signature at all).
    """
    return candidate_keys(digest, signature, wallet=wallet, chain_id=chain_id)


@dataclass(frozen=True)
class _Vote:
    """One authorised key's claim to count, and the keys that claim rests on."""

    pos: int  # where it came from, for ordering problems (entry index, then recovered ones)
    where: str
    name: str  # the authorised key credited if it counts
    keys: frozenset[str]  # every key the vote proves (name included)
    wallet: bool = False
    behind: tuple[str, ...] = ()  # a wallet's keys recovered from its signature, likeliest first
    attributed: bool = True  # False: a wallet naming no pinned key (shares keys with every vote)
    unread: str = ""  # why porv could not read every key behind a wallet signature


class _Tally:
    def __init__(self) -> None:
        self.votes: list[_Vote] = []
        self.problems: list[tuple[int, str, str]] = []  # (pos, kind, text)

    def problem(self, pos: int, kind: str, text: str) -> None:
        self.problems.append((pos, kind, text))

    def vote(self, pos: int, where: str, name: str) -> None:
        """A vote resting on one key: a direct signature, a BLS signer, a recovered signer."""
        self.votes.append(_Vote(pos, where, name, frozenset({name})))


def _secp256k1_entry(
    tally: _Tally,
    pos: int,
    where: str,
    digest: bytes,
    entry: SignatureEntry,
    address_set: set[str],
    wallet_set: set[str],
    eip1271: Eip1271Checker | None,
    chains: Mapping[str, int],
    foreign: Mapping[str, str],
) -> None:
    named = entry.signer or ""
    if named in wallet_set:
        if eip1271 is None:
            tally.problem(
                pos, "wallet_unchecked", f"{where}: {named} is a contract wallet; no EIP-1271 check"
            )
            return
        try:
            accepted = eip1271(named, digest, entry.signature)
        except ClaimFailedError as exc:
            tally.problem(
                pos, "wallet_refused", f"{where}: EIP-1271 check of {named} failed: {exc.message}"
            )
            return
        if not accepted:
            tally.problem(
                pos, "wallet_refused", f"{where}: contract wallet {named} rejects the signature"
            )
            return
        found = wallet_keys(digest, entry.signature, wallet=named, chain_id=chains.get(named))
        behind = found.recovered
        keys = frozenset(behind) | frozenset(found.named) | {named}
        other = sorted(k for k in keys if k in foreign)
        if other:  # one key speaks for one party: never for this custodian and another
            tally.problem(
                pos,
                "duplicate_key",
                f"{where}: contract wallet {named} accepted a signature carrying {other[0]}, "
                f"which {foreign[other[0]]}; one key speaks for one custodian: not counted",
            )
            return
        # past MAX_CHUNKS a key porv did not read could be one that votes elsewhere
        attributed = found.complete and any(k in address_set for k in behind)
        unread = (
            ""
            if found.complete
            else "porv did not read every key behind its signature (more than "
            f"{MAX_CHUNKS} owner chunks, or contract owners nested more than {MAX_DEPTH} deep)"
        )
        tally.votes.append(_Vote(pos, where, named, keys, True, behind, attributed, unread))
        return
    if len(entry.signature) != 65:
        tally.problem(
            pos,
            "signature_invalid",
            f"{where}: {named} is not a contract wallet the policy pins, and a direct "
            f"secp256k1 signature is 65 bytes (r, s, v), found {len(entry.signature)}; not "
            "counted",
        )
        return
    try:
        recovered = secp256k1.recover(digest, entry.signature)
    except HighSSignatureError:
        tally.problem(
            pos, "high_s", f"{where}: high-s signature (malleable twin) named for {named}"
        )
        return
    except SignatureInvalidError as exc:
        tally.problem(
            pos,
            "signature_invalid",
            f"{where}: invalid signature named for {named}: {exc.message}",
        )
        return
    if recovered != named:
        tally.problem(
            pos,
            "signature_invalid",
            f"{where}: names {named} but recovers to {recovered}: signed by another key "
            "or over another message",
        )
    elif recovered not in address_set:
        tally.problem(pos, "unknown_signer", f"{where}: signer {recovered} is not pinned")
    else:
        tally.vote(pos, where, recovered)


def _bls_entry(
    tally: _Tally,
    pos: int,
    where: str,
    digest: bytes,
    entry: SignatureEntry,
    bls_names: Sequence[str],
    bls_by_name: dict[str, bytes],
) -> None:
    names: list[str] = []
    bad = False
    for signer in entry.signers:
        if isinstance(signer, int):
            if not 0 <= signer < len(bls_names):
                tally.problem(
                    pos,
                    "unknown_signer",
                    f"{where}: BLS signer index {signer} is out of range "
                    f"({len(bls_names)} pinned BLS key(s))",
                )
                bad = True
                continue
            name = bls_names[signer]
        else:
            name = signer.lower()
            if name not in bls_by_name:
                tally.problem(pos, "unknown_signer", f"{where}: BLS signer {name} is not pinned")
                bad = True
                continue
        if name in names:
            tally.problem(pos, "duplicate_key", f"{where}: BLS signer {name} is listed twice")
            bad = True
        names.append(name)
    if bad:
        return
    keys = [bls_by_name[n] for n in names]
    if bls.fast_aggregate_verify(keys, digest, entry.signature):
        for name in names:
            tally.vote(pos, where, name)
    else:
        tally.problem(
            pos,
            "signature_invalid",
            f"{where}: BLS aggregate of {len(names)} signer(s) does not verify: a signer "
            "is missing or extra, or it is over another message",
        )


def _max_disjoint(sets: Sequence[frozenset[str]]) -> list[int]:
    """Indices of a largest family of pairwise-disjoint ``sets`` (earlier ones preferred).

    Exact branch and bound. An available singleton, or a set that meets no later set, is
    always taken (taking it is never worse), so only sets that share a key with a later one
    branch. Past :data:`MAX_SEARCH_STEPS` the best family found so far is returned: still
    pairwise disjoint, so at worst fewer votes count, never more.
    """
    best: list[int] = []
    steps = 0
    last: dict[str, int] = {}
    for i, keys in enumerate(sets):
        for key in keys:
            last[key] = i
    later_meets = [any(last[k] > i for k in keys) for i, keys in enumerate(sets)]

    def search(i: int, taken: list[int], used: frozenset[str]) -> None:
        nonlocal best, steps
        steps += 1
        if len(taken) + len(sets) - i <= len(best) or steps > MAX_SEARCH_STEPS:
            return
        if i == len(sets):
            best = list(taken)
            return
        here = sets[i]
        if not here & used:
            taken.append(i)
            search(i + 1, taken, used | here)
            taken.pop()
            if len(here) == 1 or not later_meets[i]:
                return
        search(i + 1, taken, used)

    search(0, [], frozenset())
    return best


def _select(votes: Sequence[_Vote]) -> tuple[list[_Vote], list[tuple[_Vote, _Vote | None]]]:
    """The votes that count (pairwise-disjoint keys, as many as possible) and, for each vote
    that does not, a counted vote it shares a key with.

    Direct votes (one key each) go first: a direct vote never does worse than a wallet vote
    resting on the same key, so preferring it keeps the count maximal. An unattributed wallet
    vote shares keys with every other vote, so it counts only when no attributed vote does
    (then the first such wallet counts, alone).
    """
    ordered = sorted(votes, key=lambda v: (v.wallet, v.pos))
    # a vote repeated exactly (one key in many entries) never needs searching: only the first
    seen: set[tuple[str, frozenset[str]]] = set()
    unique: list[_Vote] = []
    for vote in ordered:
        if vote.attributed and (vote.name, vote.keys) not in seen:
            seen.add((vote.name, vote.keys))
            unique.append(vote)
    chosen = {id(unique[i]) for i in _max_disjoint([v.keys for v in unique])}
    if not chosen:
        chosen = {id(v) for v in ordered[:1]}  # only unattributed wallets: one counts, alone
    counted = [v for v in ordered if id(v) in chosen]
    refused = [
        (
            vote,
            next((c for c in counted if c.keys & vote.keys), None)
            if vote.attributed
            else next((c for c in counted if c.name == vote.name), counted[0]),
        )
        for vote in ordered
        if id(vote) not in chosen
    ]
    return counted, refused


def _refusal(vote: _Vote, clash: _Vote | None) -> str:
    if clash is None:  # only past MAX_SEARCH_STEPS
        return f"{vote.where}: {vote.name} not counted: too many wallet votes share keys"
    if clash.name == vote.name:
        return f"{vote.where}: {vote.name} already signed; counted once"
    if not vote.attributed:
        why = vote.unread or "its signature names no pinned key porv can recover"
        return (
            f"{vote.where}: contract wallet {vote.name}: {why}; counted as sharing keys with "
            f"every other vote, and {clash.name} ({clash.where}) counted"
        )
    shared = next((k for k in vote.behind if k in clash.keys), "a key")
    return (
        f"{vote.where}: contract wallet {vote.name} accepted a signature by {shared}, which "
        f"already counted for {clash.name} ({clash.where}); one key, one vote: counted once"
    )


def count_signatures(
    digest: bytes,
    entries: Sequence[SignatureEntry],
    *,
    signers: Sequence[str] = (),
    bls_keys: Sequence[bytes] = (),
    threshold: int,
    eip1271: Eip1271Checker | None = None,
    eip1271_wallets: Sequence[str] = (),
    eip1271_chains: Mapping[str, int] | None = None,
    recovered: Sequence[tuple[str, str]] = (),
    foreign: Mapping[str, str] | None = None,
    label: str = "signatures",
) -> VerificationResult:
    """Count which authorised keys validly signed ``digest``, one key one vote.

    Every valid vote is attributed to the keys it proves: a secp256k1 entry to the address it
    recovers to, each signer of a verified BLS aggregate (named by index or by public key) to
    its public key, an accepted EIP-1271 wallet entry to the wallet's address plus every
    address :func:`keys_behind_wallet_signature` recovers from the signature, and each of
    ``recovered`` to its address. The count is the largest number of votes whose key sets
    are pairwise disjoint (:data:`ONE_KEY_ONE_VOTE`): a key counts once however many entries,
    aggregates or wallets carry it, and a wallet counts as itself when a pinned signer is
    among its recovered keys; a wallet vote naming no pinned key is taken to share keys with
    every other vote (it counts only alone).

    Args:
        digest: The 32-byte digest the entries should sign.
        entries: The signature entries offered (untrusted).
        signers: Pinned secp256k1 signer addresses (checksummed).
        bls_keys: Pinned BLS public keys (48 bytes each, proofs of possession already checked),
            in the order integer ``signers`` indices refer to.
        threshold: How many distinct authorised keys must sign.
        eip1271: Checker for contract-wallet signatures, needed when ``eip1271_wallets`` is set.
        eip1271_wallets: Pinned contract-wallet addresses (EIP-1271).
        eip1271_chains: The chain id of each pinned wallet (by address), for the Safe
            SafeMessage hash; a wallet without one is attributed without that hash.
        recovered: ``(where, address)`` of secp256k1 signers porv recovered itself over this
            digest from other evidence (an on-chain registry record); each counts like a
            direct signature by ``address`` (once, and only if pinned in ``signers``).
        foreign: Keys that speak for another party (address -> why, e.g. ``"is pinned for
            custodian 'b'"``): a wallet vote whose key set holds one does not count, so one key
            never speaks for two custodians through a wallet.
        label: How problems name the entries (``{label}[i]``).

    Returns:
        The result; bad, unknown, high-s and repeated signatures are listed in ``problems``
        with their kinds in ``problem_kinds``.

    Raises:
        PolicyError: The pinned keys or threshold are unusable (a key pinned twice, a
            non-checksummed address, threshold below 1 or above the number of keys).
        IncompleteError: The EIP-1271 checker could not complete (propagated).
    """
    addresses, wallets, bls_names = _authorised(signers, bls_keys, eip1271_wallets, threshold)
    address_set, wallet_set = set(addresses), set(wallets)
    bls_by_name = {name: bytes(key) for name, key in zip(bls_names, bls_keys, strict=True)}
    chains = dict(eip1271_chains or {})
    others = dict(foreign or {})
    tally = _Tally()
    for i, entry in enumerate(entries):
        where = f"{label}[{i}]"
        if entry.scheme == "secp256k1":
            _secp256k1_entry(
                tally, i, where, digest, entry, address_set, wallet_set, eip1271, chains, others
            )
        elif entry.scheme == "bls":
            _bls_entry(tally, i, where, digest, entry, bls_names, bls_by_name)
        else:
            tally.problem(i, "signature_invalid", f"{where}: unknown scheme {entry.scheme!r}")
    for j, (where, address) in enumerate(recovered):
        pos = len(entries) + j
        if address in address_set:
            tally.vote(pos, where, address)
        else:
            tally.problem(pos, "unknown_signer", f"{where}: signer {address} is not pinned")

    counted, refused = _select(tally.votes)
    for vote, clash in refused:
        tally.problem(vote.pos, "duplicate_key", _refusal(vote, clash))
    problems = sorted(tally.problems, key=lambda p: p[0])  # stable: entry order, then found

    authorised = addresses + wallets + bls_names
    valid = {v.name for v in counted}
    signed = frozenset(k for k in authorised if k in valid)
    return VerificationResult(
        threshold=threshold,
        signed=signed,
        unsigned=frozenset(authorised) - signed,
        problems=tuple(text for _, _, text in problems),
        problem_kinds=tuple(kind for _, kind, _ in problems),
    )


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
        tree: The custodian's holdings tree (``verifier.merkle.tree.StandardMerkleTree``).

    Raises:
        TreeMismatchError: The root, the leaf count or the totals differ; the message names each
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
        raise TreeMismatchError(
            "attestation does not match the holdings tree: " + "; ".join(differences),
            hint="the tree must be exactly the one the custodian signed",
        )
