"""Freeze attacks: an old statement served as current (expired, too old), and one from the future.

A freeze attack keeps showing a holder the last good attestation after the reserves changed.
``validUntil`` and the policy's ``max_age`` bound how long that can work; an ``as_of`` in the
future (beyond a small clock skew) can never be final: exit 3. Clock-dependent cases call
``run_verify`` with a chosen ``now`` (the one clock read the CLI passes down).
"""

from __future__ import annotations

from tests.attacks.crafting import (
    Doc,
    Workdir,
    as_of,
    assert_refused,
    edit_message,
    resign,
    set_as_of,
    verify_api,
    verify_cli,
)

DAY = 86400


def test_freeze_expired_valid_until_refused_and_state_unchanged(work: Workdir) -> None:
    t0 = as_of(work.pristine)
    bundle = work.write(work.bundle_doc())
    assert verify_api(bundle, work, now=t0 + 60).code == 0  # accepted while fresh
    before = work.snapshot()

    run = verify_api(bundle, work, now=t0 + 31 * DAY)  # valid for 30 days

    assert_refused(
        run,
        work,
        before,
        code=1,
        kinds={"freeze"},
        words=["custodian 'custodian-a': attestation expired", "custodian 'custodian-b'"],
    )
    assert [a["fresh"] for a in run.json["attestations"]] == [False, False]


def test_freeze_expired_valid_until_refused_by_cli(work: Workdir) -> None:
    def validity_ended(doc: Doc) -> None:
        for entry in doc["custodians"]:
            edit_message(entry, valid_until=as_of(doc) - 3600)
        resign(doc)

    run = verify_cli(work.craft(validity_ended), work)

    assert_refused(run, work, None, code=1, kinds={"freeze"}, words=["expired", "(freeze)"])


def test_freeze_older_than_max_age_refused(work: Workdir) -> None:
    t0 = as_of(work.pristine)

    def long_validity(doc: Doc) -> None:
        for entry in doc["custodians"]:
            edit_message(entry, valid_until=t0 + 90 * DAY)
        resign(doc)

    bundle = work.craft(long_validity)
    assert verify_api(bundle, work, now=t0 + 34 * DAY, state=False).code == 0  # max_age 35d

    run = verify_api(bundle, work, now=t0 + 36 * DAY)

    assert_refused(
        run, work, None, code=1, kinds={"freeze"}, words=["36 days old, above max_age 35 days"]
    )


def test_future_as_of_beyond_skew_refused(work: Workdir) -> None:
    def from_the_future(doc: Doc) -> None:
        set_as_of(doc, as_of(doc) + 3600)  # bundle and every attestation, consistently signed
        resign(doc)

    run = verify_cli(work.craft(from_the_future), work)

    # an as_of in the future can never be final: could not complete (exit 3), not a failed claim
    assert_refused(
        run,
        work,
        None,
        code=3,
        kinds={"future_as_of"},
        words=["not final yet", "in the future", "skew 300 s"],
    )
    assert run.json["supply"] is None
