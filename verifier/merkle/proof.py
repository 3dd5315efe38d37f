"""Proof files (DESIGN §2): one holding (``porv.proof/1``) or several (``porv.multiproof/1``).

They carry exactly what OZ's ``getProof`` / ``getMultiProof`` return plus the root and the
leaf encoding, so a holder needs nothing else to check a holding against a signed root, and
OZ's ``StandardMerkleTree.verify`` / ``verifyMultiProof`` (or ``MerkleProof.sol``) can check
the same file. Loading is strict: unknown or missing keys, another encoding or a malformed
hash are :class:`~verifier.errors.SchemaError` (exit 2); whether the proof *holds* is a
separate question answered by :meth:`ProofFile.verifies` / :meth:`MultiProofFile.verifies`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from verifier.errors import InputError, Location, SchemaError
from verifier.merkle.tree import (
    StandardMerkleTree,
    leaf_hash,
    parse_node,
    verify_multiproof,
    verify_proof,
)
from verifier.model.holdings import (
    LEAF_ENCODING,
    Holding,
    holding_from_values,
    holding_to_values,
)

PROOF_FORMAT = "porv.proof/1"
MULTIPROOF_FORMAT = "porv.multiproof/1"


@dataclass(frozen=True, slots=True)
class ProofFile:
    """A single-holding proof: the holding, its siblings and the root they lead to."""

    root: bytes
    holding: Holding
    proof: tuple[bytes, ...]

    @classmethod
    def for_holding(cls, tree: StandardMerkleTree, holding_id: str) -> ProofFile:
        """Make the proof of one holding of ``tree``.

        Args:
            tree: the tree.
            holding_id: the holding to prove.

        Returns:
            The proof file model.

        Raises:
            InputError: no holding has this id.
        """
        return cls(tree.root, tree.holding(holding_id), tuple(tree.get_proof(holding_id)))

    def verifies(self) -> bool:
        """Whether the proof folds the holding's leaf hash to the root."""
        return verify_proof(self.root, leaf_hash(self.holding), self.proof)

    def to_json(self) -> dict[str, Any]:
        """The ``porv.proof/1`` JSON object (OZ's ``getProof`` shape plus root and encoding)."""
        return {
            "format": PROOF_FORMAT,
            "root": _hex(self.root),
            "leafEncoding": list(LEAF_ENCODING),
            "value": holding_to_values(self.holding),
            "proof": [_hex(p) for p in self.proof],
        }


@dataclass(frozen=True, slots=True)
class MultiProofFile:
    """A multiproof: several holdings (in the order the proof consumes them), siblings, flags."""

    root: bytes
    leaves: tuple[Holding, ...]
    proof: tuple[bytes, ...]
    proof_flags: tuple[bool, ...]

    @classmethod
    def for_holdings(cls, tree: StandardMerkleTree, holding_ids: Sequence[str]) -> MultiProofFile:
        """Make the multiproof of several holdings of ``tree``.

        Args:
            tree: the tree.
            holding_ids: the holdings to prove (at least one, no duplicates).

        Returns:
            The multiproof file model.

        Raises:
            InputError: no ids, an unknown id, or an id given twice.
        """
        if not holding_ids:
            raise InputError("a multiproof needs at least one holding id")
        mp = tree.get_multiproof(holding_ids)
        return cls(tree.root, mp.leaves, mp.proof, mp.proof_flags)

    def verifies(self) -> bool:
        """Whether the multiproof is well formed and folds all leaves to the root."""
        leaves = [leaf_hash(h) for h in self.leaves]
        return verify_multiproof(self.root, leaves, self.proof, self.proof_flags)

    def to_json(self) -> dict[str, Any]:
        """The ``porv.multiproof/1`` JSON object (OZ's ``getMultiProof`` shape plus root)."""
        return {
            "format": MULTIPROOF_FORMAT,
            "root": _hex(self.root),
            "leafEncoding": list(LEAF_ENCODING),
            "leaves": [holding_to_values(h) for h in self.leaves],
            "proof": [_hex(p) for p in self.proof],
            "proofFlags": list(self.proof_flags),
        }


AnyProof = ProofFile | MultiProofFile

_KEYS = {
    PROOF_FORMAT: {"format", "root", "leafEncoding", "value", "proof"},
    MULTIPROOF_FORMAT: {"format", "root", "leafEncoding", "leaves", "proof", "proofFlags"},
}


def proof_from_json(data: Any, *, source: str) -> AnyProof:
    """Strictly read a proof or multiproof JSON object.

    Args:
        data: the decoded JSON.
        source: where it came from, for error locations.

    Returns:
        A :class:`ProofFile` or a :class:`MultiProofFile`, by its ``format``.

    Raises:
        SchemaError: not an object, an unknown format, unknown or missing keys, another leaf
            encoding, a malformed hash, flag or holding value.
    """
    if not isinstance(data, Mapping):
        raise SchemaError("a proof file must be a JSON object", location=Location(source))
    fmt = data.get("format")
    if not isinstance(fmt, str) or fmt not in _KEYS:
        raise SchemaError(
            f"unknown proof format {fmt!r}; expected {PROOF_FORMAT!r} or {MULTIPROOF_FORMAT!r}",
            location=Location(source, field="format"),
        )
    expected = _KEYS[fmt]
    extra = sorted(set(data) - expected)
    missing = sorted(expected - set(data))
    if extra or missing:
        what = f"unknown key(s) {extra}" if extra else f"missing key(s) {missing}"
        raise SchemaError(
            f"a {fmt} file has exactly the keys {', '.join(sorted(expected))}: {what}",
            location=Location(source, field=(extra or missing)[0]),
        )
    if data["leafEncoding"] != list(LEAF_ENCODING):
        raise SchemaError(
            f"leafEncoding {data['leafEncoding']!r} is not porv's fixed holding encoding",
            location=Location(source, field="leafEncoding"),
        )
    root = parse_node(data["root"], location=Location(source, field="root"))
    proof = _nodes(data["proof"], source, "proof")
    if fmt == PROOF_FORMAT:
        holding = holding_from_values(data["value"], location=Location(source, field="value"))
        return ProofFile(root, holding, proof)
    leaves_raw = data["leaves"]
    if not isinstance(leaves_raw, list) or not leaves_raw:
        raise SchemaError(
            "leaves must be a non-empty list of holding values",
            location=Location(source, field="leaves"),
        )
    leaves = tuple(
        holding_from_values(v, location=Location(source, field=f"leaves[{i}]"))
        for i, v in enumerate(leaves_raw)
    )
    flags_raw = data["proofFlags"]
    if not isinstance(flags_raw, list) or not all(isinstance(f, bool) for f in flags_raw):
        raise SchemaError(
            "proofFlags must be a list of true/false",
            location=Location(source, field="proofFlags"),
        )
    return MultiProofFile(root, leaves, proof, tuple(flags_raw))


def _nodes(raw: Any, source: str, field: str) -> tuple[bytes, ...]:
    if not isinstance(raw, list):
        raise SchemaError(
            f"{field} must be a list of 0x-hex hashes", location=Location(source, field=field)
        )
    return tuple(
        parse_node(x, location=Location(source, field=f"{field}[{i}]")) for i, x in enumerate(raw)
    )


def _hex(b: bytes) -> str:
    return "0x" + b.hex()
