"""Tree attacks: a leaf changed after signing, and one holding counted by two custodians.

Every holding must hash to the root its custodian signed, with the signed leaf count and
totals; a holding id may appear under one custodian only.
"""

from __future__ import annotations

from dataclasses import replace

from tests.attacks.crafting import (
    Doc,
    Workdir,
    assert_refused,
    custodian,
    edit_message,
    message,
    resign,
    set_holdings,
    tree,
    verify_cli,
)
from verifier.merkle.tree import StandardMerkleTree


def test_tampered_leaf_in_tree_dump_refused(work: Workdir) -> None:
    def inflate_one_amount(doc: Doc) -> None:
        value = custodian(doc, "custodian-a")["tree"]["values"][0]["value"]
        value[3] = str(int(value[3]) * 10)  # amount, leaf field 3

    run = verify_cli(work.craft(inflate_one_amount), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"tree_mismatch"},
        words=["is not the leaf hash of values[0] ('A-DEP-1')"],
    )
    assert "custodians[0].tree" in run.json["error"]["location"]["file"]
    assert f"porv: failed: {work.path / 'bundle.json'}: custodians[0].tree" in run.stderr


def test_tampered_leaf_with_recomputed_tree_refused(work: Workdir) -> None:
    def inflate_and_rehash(doc: Doc) -> None:
        entry = custodian(doc, "custodian-a")
        holdings = list(tree(entry).holdings)
        holdings[0] = replace(holdings[0], amount=holdings[0].amount * 10)
        entry["tree"] = StandardMerkleTree.of(holdings).dump()  # the signed message is kept

    run = verify_cli(work.craft(inflate_and_rehash), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"tree_mismatch"},
        words=["attestation does not match the holdings tree: root: signed", "total USD: signed"],
    )


def test_duplicate_holding_across_custodians_refused(work: Workdir) -> None:
    def count_a_deposit_under_b_too(doc: Doc) -> None:
        a, b = custodian(doc, "custodian-a"), custodian(doc, "custodian-b")
        set_holdings(b, [*tree(b).holdings, tree(a).holdings[0]])
        resign(doc)  # custodian B signs the inflated tree: each statement is valid alone

    run = verify_cli(work.craft(count_a_deposit_under_b_too), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"duplicate_holding"},
        words=["holding counted under two custodians: 'A-DEP-1' (custodian-a and custodian-b)"],
    )


def test_changed_total_refused(work: Workdir) -> None:
    def inflate_signed_total(doc: Doc) -> None:
        entry = custodian(doc, "custodian-a")
        (total,) = message(entry).totals
        edit_message(entry, totals=(replace(total, amount=total.amount * 2),))

    run = verify_cli(work.craft(inflate_signed_total), work)

    # the signatures no longer cover the message, and the tree does not add up to it
    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"threshold_not_met", "tree_mismatch"},
        words=["recovers to", "total USD: signed"],
    )


def test_changed_total_signed_again_refused(work: Workdir) -> None:
    def inflate_and_sign(doc: Doc) -> None:
        entry = custodian(doc, "custodian-a")
        (total,) = message(entry).totals
        edit_message(entry, totals=(replace(total, amount=total.amount * 2),))
        resign(doc)  # the custodian's keys signed a total its tree does not have

    run = verify_cli(work.craft(inflate_and_sign), work)

    assert_refused(run, work, None, code=1, kinds={"tree_mismatch"}, words=["total USD: signed"])
