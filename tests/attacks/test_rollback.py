"""Rollback: an attestation older than (or equal to, with other content) the last accepted one.

The verifier keeps, per custodian, the last accepted sequence and content digest in
``--state DIR``; a replayed older attestation must fail even when it is otherwise valid, and
the floor must survive the accepted attestation's own expiry (as TUF keeps expired metadata
as the rollback reference).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.attacks.crafting import (
    Doc,
    Workdir,
    as_of,
    assert_refused,
    custodian,
    edit_message,
    message,
    resign,
    verify_api,
    verify_cli,
)

DAY = 86400


def _sequence(seq: int, *, valid_until: int | None = None) -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        for entry in doc["custodians"]:
            changes: dict[str, int] = {"sequence": seq}
            if valid_until is not None:
                changes["valid_until"] = valid_until
            edit_message(entry, **changes)
        resign(doc)

    return mutate


def test_rollback_lower_sequence_refused_and_state_unchanged(work: Workdir) -> None:
    seq2 = work.craft(_sequence(2), "bundle-seq2.json")
    seq1 = work.write(work.bundle_doc(), "bundle-seq1.json")  # the demo's, sequence 1
    accepted = verify_cli(seq2, work)
    assert accepted.code == 0, accepted.stderr
    state = json.loads(work.state_file.read_text())
    assert {v["sequence"] for v in state["custodians"].values()} == {2}
    before = work.snapshot()

    replay = verify_cli(seq1, work)

    assert_refused(
        replay,
        work,
        before,
        code=1,
        kinds={"rollback"},
        words=["sequence 1 is below the last accepted sequence 2", "rollback"],
    )
    rollback_checks = [c["id"] for c in replay.json["checks"] if c.get("kind") == "rollback"]
    assert rollback_checks == [
        "attestation:custodian-a:rollback",
        "attestation:custodian-b:rollback",
    ]


def test_rollback_equal_sequence_with_other_content_refused(work: Workdir) -> None:
    original = work.write(work.bundle_doc(), "bundle-original.json")
    assert verify_cli(original, work).code == 0
    before = work.snapshot()

    def same_sequence_other_statement(doc: Doc) -> None:
        entry = custodian(doc, "custodian-a")
        edit_message(entry, valid_until=message(entry).valid_until + DAY)  # still sequence 1
        resign(doc)

    crafted = work.craft(same_sequence_other_statement, "bundle-equivocation.json")
    run = verify_cli(crafted, work)

    assert_refused(
        run,
        work,
        before,
        code=1,
        kinds={"rollback"},
        words=["custodian 'custodian-a': sequence 1 was accepted before with other content"],
    )
    # the unchanged custodian B replays its accepted statement exactly: that is no rollback
    outcomes = {c["id"]: c["outcome"] for c in run.json["checks"]}
    assert outcomes["attestation:custodian-b:rollback"] == "pass"


def test_rollback_floor_survives_expiry_of_accepted_attestation(work: Workdir) -> None:
    t0 = as_of(work.pristine)
    seq2 = work.craft(_sequence(2), "bundle-seq2.json")
    # sequence 1 signed with a longer validity: still fresh after sequence 2 has expired
    seq1 = work.craft(
        _sequence(1, valid_until=t0 + 60 * DAY),
        "bundle-seq1-long.json",
    )
    assert verify_api(seq2, work, now=t0 + 60).code == 0
    floor = work.snapshot()

    later = t0 + 31 * DAY  # sequence 2 (valid 30 days) has expired; max_age is 35 days
    expired = verify_api(seq2, work, now=later)
    assert_refused(expired, work, floor, code=1, kinds={"freeze"}, words=["expired"])

    replay = verify_api(seq1, work, now=later)

    assert_refused(
        replay,
        work,
        floor,
        code=1,
        kinds={"rollback"},
        words=["sequence 1 is below the last accepted sequence 2"],
    )
    assert all(
        c["outcome"] == "pass" for c in replay.json["checks"] if c["id"].endswith("freshness")
    )
