"""``porv tree``: build holdings trees, print roots, make and check Merkle proofs.

Trees are OpenZeppelin ``standard-v1`` dumps, proofs are ``porv.proof/1`` and
``porv.multiproof/1`` files (DESIGN §2), all interchangeable with ``@openzeppelin/merkle-tree``.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from verifier.cli.common import (
    dump_json,
    emit,
    emit_chunks,
    format_option,
    handle_errors,
    note,
    output_option,
    settings,
)

if TYPE_CHECKING:  # the tree stack is imported by each command, not for ``--help``
    from verifier.merkle.tree import StandardMerkleTree, StreamedTree


@click.group()
def tree() -> None:
    """OpenZeppelin Merkle trees of reserve holdings: build, root, prove, verify-proof."""


@contextlib.contextmanager
def _stage(message: str) -> Iterator[None]:
    """A spinner on stderr while a long step runs, only on a terminal (large trees take s)."""
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    console = Console(stderr=True, no_color=not settings().use_color())
    with console.status(message):
        yield


def _load_tree(path: str) -> StandardMerkleTree:
    from verifier.app.tree import load_tree

    with _stage(f"reading and checking {path}"):
        return load_tree(path)


def _totals_json(t: StandardMerkleTree | StreamedTree) -> list[dict[str, Any]]:
    return [
        {"currency": ccy, "amount": str(amount), "decimals": decimals}
        for ccy, amount, decimals in t.totals()
    ]


def dump_tree_json(t: StandardMerkleTree | StreamedTree) -> str:
    """A tree dump as JSON text: one node and one value per line, so diffs stay readable.

    Args:
        t: the tree.

    Returns:
        The JSON document, parseable by any JSON reader and by OZ's ``StandardMerkleTree.load``.
    """
    return "".join(t.dump_chunks())


@tree.command("build")
@click.argument("holdings_csv", type=click.Path(dir_okay=False))
@output_option
@format_option("text", "json")
@handle_errors
def build(holdings_csv: str, output: str | None, fmt: str) -> None:
    """Build the tree of HOLDINGS_CSV and write its standard-v1 dump.

    The dump goes to --output (written atomically, only once the whole tree is built) or to
    stdout; the root and a summary go to stderr. With --format json, stdout gets a status
    object instead (with the dump under "tree" when there is no --output).
    """
    from verifier.app.tree import build_tree_file, tree_totals
    from verifier.model.numbers import format_major

    with _stage(f"reading and hashing {holdings_csv}"):
        t = build_tree_file(holdings_csv)
    totals = tree_totals(t, holdings_csv)
    if fmt == "json":
        status: dict[str, Any] = {
            "status": "ok",
            "root": t.root_hex,
            "leafCount": len(t),
            "totals": _totals_json(t),
        }
        if output:
            emit_chunks(t.dump_chunks(), output)
            status["output"] = output
        else:
            status["tree"] = json.loads(dump_tree_json(t))
        emit(dump_json(status))
    else:
        emit_chunks(t.dump_chunks(), output)
    summary = "; ".join(
        f"{ccy} {format_major(amount, dec, grouping=True)}" for ccy, amount, dec in totals
    )
    note(f"root {t.root_hex}: {len(t)} holdings ({summary})")
    if output:
        note(f"wrote {output}")


@tree.command("root")
@click.argument("tree_file", metavar="TREE", type=click.Path(dir_okay=False))
@format_option("text", "json")
@handle_errors
def root(tree_file: str, fmt: str) -> None:
    """Print the Merkle root of a standard-v1 dump, after checking every node.

    Works on dumps written by porv and by OpenZeppelin's tree.dump(). A dump whose nodes do
    not hash to its values exits 1; a malformed one exits 2.
    """
    t = _load_tree(tree_file)
    if fmt == "json":
        click.echo(dump_json({"status": "ok", "root": t.root_hex, "leafCount": len(t)}))
    else:
        click.echo(t.root_hex)


@tree.command("prove")
@click.argument("tree_file", metavar="TREE", type=click.Path(dir_okay=False))
@click.argument("holding_ids", metavar="HOLDING_ID...", nargs=-1, required=True)
@output_option
@handle_errors
def prove(tree_file: str, holding_ids: tuple[str, ...], output: str | None) -> None:
    """Write the proof that HOLDING_ID is in TREE (several ids: one multiproof).

    The proof file (porv.proof/1 or porv.multiproof/1) goes to --output or stdout; OZ's
    StandardMerkleTree.verify / verifyMultiProof and MerkleProof.sol accept its contents.
    """
    from verifier.app.tree import make_proof

    t = _load_tree(tree_file)
    proof = make_proof(t, holding_ids)
    emit(dump_json(proof.to_json()), output)
    kind = "proof" if len(holding_ids) == 1 else f"multiproof of {len(holding_ids)} holdings"
    note(f"{kind} against root {t.root_hex}" + (f": wrote {output}" if output else ""))


@tree.command("verify-proof")
@click.argument("proof_file", metavar="PROOF", type=click.Path(dir_okay=False))
@click.option(
    "--root",
    "expected_root",
    default=None,
    help="Also require the proof's root to be this 0x root (e.g. the signed one).",
)
@format_option("text", "json")
@handle_errors
def verify_proof_cmd(proof_file: str, expected_root: str | None, fmt: str) -> None:
    """Check a proof or multiproof file: exit 0 valid, 1 invalid, 2 malformed.

    A proof only shows membership in the tree whose root it names; pass --root with the root
    you trust (from a signed attestation) to tie it to that tree.
    """
    from verifier.app.tree import check_proof_file

    p, ids = check_proof_file(proof_file, expected_root)
    if fmt == "json":
        doc = {"status": "verified", "root": "0x" + p.root.hex(), "holdings": ids}
        emit(dump_json({**doc, "root_checked": expected_root is not None}))
    else:
        emit(f"verified: {', '.join(ids)} in root 0x{p.root.hex()}")
    if expected_root is None:
        note(
            "note: without --root this only checks the proof against the root the file itself "
            "names; pass --root with a root you trust (the signed attestation's) to tie it to "
            "that tree"
        )
