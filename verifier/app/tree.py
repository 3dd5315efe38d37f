"""``porv tree``: read holdings and tree dumps, build trees, make and check Merkle proofs.

The CLI parses the options, shows its spinners and renders; this module reads the files and
decides (a tree whose nodes do not hash, a proof that does not lead to its root).
"""

from __future__ import annotations

from verifier.errors import InputError, Location, ProofInvalidError
from verifier.merkle.proof import MultiProofFile, ProofFile
from verifier.merkle.tree import StandardMerkleTree, StreamedTree, parse_node


def load_tree(path: str) -> StandardMerkleTree:
    """A holdings tree dump (standard-v1) from a file, every node checked."""
    from verifier.local.jsonio import load_json_file

    return StandardMerkleTree.load(load_json_file(path), source=path)


def build_tree_file(path: str) -> StreamedTree:
    """The tree of a holdings CSV, built as the file is read (the holdings are not kept).

    Raises:
        CsvError: the file is unreadable or a row is bad (file, line and field named).
    """
    from verifier.local.loaders import iter_holdings_csv

    return StreamedTree.of(iter_holdings_csv(path))


def tree_totals(t: StandardMerkleTree | StreamedTree, source: str) -> list[tuple[str, int, int]]:
    """The tree's per-currency totals; mixed decimals in one currency name the CSV file."""
    try:
        return t.totals()
    except InputError as exc:
        raise InputError(
            exc.message,
            hint="give every holding of one currency the same decimals",
            location=Location(source, field="decimals"),
        ) from None


def make_proof(t: StandardMerkleTree, holding_ids: tuple[str, ...]) -> ProofFile | MultiProofFile:
    """The proof of one holding, or the multiproof of several."""
    if len(holding_ids) == 1:
        return ProofFile.for_holding(t, holding_ids[0])
    return MultiProofFile.for_holdings(t, holding_ids)


def check_proof_file(
    proof_file: str, expected_root: str | None
) -> tuple[ProofFile | MultiProofFile, list[str]]:
    """Read and check a proof or multiproof file; returns it and its holding ids.

    Raises:
        ProofInvalidError: the proof is for another root than ``expected_root``, or does not
            lead from its holdings to its root.
    """
    from verifier.local.loaders import load_proof_file

    p = load_proof_file(proof_file)
    if expected_root is not None:
        want = parse_node(expected_root.lower(), location=Location(field="--root"))
        if want != p.root:
            raise ProofInvalidError(
                f"the proof is for root 0x{p.root.hex()}, not the expected {expected_root}",
                location=Location(proof_file, field="root"),
            )
    holdings = [p.holding] if isinstance(p, ProofFile) else list(p.leaves)
    ids = [h.holding_id for h in holdings]
    if not p.verifies():
        raise ProofInvalidError(
            f"the {'proof' if isinstance(p, ProofFile) else 'multiproof'} does not lead from "
            f"{', '.join(repr(i) for i in ids)} to root 0x{p.root.hex()}",
            location=Location(proof_file),
            hint="a value, a sibling hash or a flag was changed, added or removed",
        )
    return p, ids
