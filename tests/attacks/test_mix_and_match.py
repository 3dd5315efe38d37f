"""Mix-and-match: valid signed pieces put together for something they were not signed for.

Each attestation must name this issuer, this token and the custodian it stands under, and each
tree must be the one its custodian signed. Crafted statements are signed with the right
custodian keys, so the binding (not the signature) is what must fail.
"""

from __future__ import annotations

import copy

from tests.attacks.crafting import (
    Doc,
    Workdir,
    assert_refused,
    custodian,
    edit_message,
    message,
    resign,
    verify_cli,
)


def test_mix_and_match_attestation_of_another_issuer_refused(work: Workdir) -> None:
    def other_issuer(doc: Doc) -> None:
        edit_message(custodian(doc, "custodian-a"), issuer="Other Issuer Ltd")
        resign(doc)

    run = verify_cli(work.craft(other_issuer), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"mix_and_match"},
        words=[
            "(mix-and-match)",
            "issuer: expected 'Example Issuer Ltd', signed 'Other Issuer Ltd'",
        ],
    )


def test_mix_and_match_attestation_of_another_token_refused(work: Workdir) -> None:
    def other_token(doc: Doc) -> None:
        edit_message(custodian(doc, "custodian-b"), token="pEUR")
        resign(doc)

    run = verify_cli(work.craft(other_token), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"mix_and_match"},
        words=["custodian 'custodian-b'", "token: expected 'pUSD', signed 'pEUR'"],
    )


def test_mix_and_match_bundle_of_another_issuer_refused(work: Workdir) -> None:
    def whole_bundle_for_another_issuer(doc: Doc) -> None:
        doc["issuer"] = "Other Issuer Ltd"
        for entry in doc["custodians"]:
            edit_message(entry, issuer="Other Issuer Ltd")
        resign(doc)

    run = verify_cli(work.craft(whole_bundle_for_another_issuer), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"mix_and_match"},
        words=["bundle is for another issuer or token (mix-and-match)"],
    )


def test_mix_and_match_attestation_naming_another_custodian_refused(work: Workdir) -> None:
    def names_custodian_b(doc: Doc) -> None:
        # custodian A's keys sign a statement about custodian B, placed under custodian A
        edit_message(custodian(doc, "custodian-a"), custodian="custodian-b")
        resign(doc)

    run = verify_cli(work.craft(names_custodian_b), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"mix_and_match"},
        words=["custodian: expected 'custodian-a', signed 'custodian-b'"],
    )


def test_mix_and_match_other_custodians_signed_attestation_refused(work: Workdir) -> None:
    def b_statement_under_a(doc: Doc) -> None:
        a, b = custodian(doc, "custodian-a"), custodian(doc, "custodian-b")
        a["attestation"] = copy.deepcopy(b["attestation"])
        a["signatures"] = copy.deepcopy(b["signatures"])

    run = verify_cli(work.craft(b_statement_under_a), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"mix_and_match", "threshold_not_met", "tree_mismatch"},
        words=["signed 'custodian-b'", "is not pinned"],
        only=False,
    )


def test_mix_and_match_tree_of_another_custodian_swapped_in_refused(work: Workdir) -> None:
    def b_tree_under_a(doc: Doc) -> None:
        custodian(doc, "custodian-a")["tree"] = copy.deepcopy(custodian(doc, "custodian-b")["tree"])

    run = verify_cli(work.craft(b_tree_under_a), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"tree_mismatch", "duplicate_holding"},
        words=[
            "attestation does not match the holdings tree: root: signed",
            "leaf count: signed 5",
        ],
    )


def test_mix_and_match_attestation_for_another_as_of_refused(work: Workdir) -> None:
    def yesterdays_statement(doc: Doc) -> None:
        entry = custodian(doc, "custodian-a")
        edit_message(entry, as_of=message(entry).as_of - 86400)
        resign(doc)

    run = verify_cli(work.craft(yesterdays_statement), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"mix_and_match"},
        words=["custodian 'custodian-a'", "asOf: expected"],
    )
