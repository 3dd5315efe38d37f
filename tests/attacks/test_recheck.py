"""Attacks on ``porv recheck``: a saved result edited, resealed, backdated, or naming hostile paths.

Recheck re-derives a result from the bundle and policy; it must not trust what the result says
about itself beyond what it cannot re-derive without a chain, and each of those items is named
in its report (DESIGN §1, "Recheck re-derives, it does not trust"):

* the files a result names are read only if they are regular files within the size cap (a
  result naming ``/dev/zero`` or a FIFO is refused at once, exit 2); files given on the command
  line take precedence;
* offline, only an EIP-1271 wallet's own verdict is carried over for a wallet-pinned custodian:
  plain keys are checked again, so crediting a key that never signed is caught;
* ``inputs`` (file and rule-pack hashes) are re-derived, not copied;
* an unsigned (or not operator-pinned) ``verified_at`` is the result's own claim: a result
  backdated into the attestation's validity does not recheck as ``verified``.

Every result here is made by ``run_verify`` with a chosen clock (``verify_api``), as a verifier
whose clock reads that time would make it, then edited the way an issuer who wants a green
result would edit it, and resealed.
"""

from __future__ import annotations

import copy
import json
import os
import re
import time
from pathlib import Path
from typing import Any

from tests.attacks.crafting import (
    KEYS,
    Doc,
    Run,
    Workdir,
    as_of,
    custodian,
    edit_message,
    message,
    porv,
    resign,
    sign_entry,
    sign_report,
    sign_secp256k1,
    verify_api,
)
from tests.support import cli
from verifier.app.demo import demo_secret
from verifier.model.timeutil import format_rfc3339
from verifier.result.seal import seal
from verifier.signatures import ONE_KEY_ONE_VOTE, secp256k1

#: An address with no code on the demo chains, pinned as custodian A's contract wallet.
WALLET = "0x000000000000000000000000000000000000dEaD"

#: the signatures check's detail when two pinned keys count, for a custodian pinning wallets
PASSED_TWO_OF_TWO = f"2 of threshold 2 pinned keys ({ONE_KEY_ONE_VOTE})"


def recheck(result: Path, *extra: str) -> Run:
    """``porv recheck RESULT --format json [EXTRA...]``."""
    return porv(["recheck", str(result), "--format", "json", *extra])


def recheck_process(result: Path, *extra: str, timeout: float = 30) -> tuple[Run, float]:
    """``porv recheck`` always in its own process (a hang must not hang the test run)."""
    start = time.monotonic()
    run = cli.porv(["recheck", str(result), "--format", "json", *extra], timeout=timeout)
    return run, time.monotonic() - start


def assert_not_rechecked(run: Run, *, code: int, kind: str, words: tuple[str, ...] = ()) -> Doc:
    """The recheck refused with ``code`` and ``kind``, and nothing in its output says verified."""
    assert run.code == code, f"exit {run.code}, expected {code}\n{run.stderr}\n{run.stdout}"
    assert "Traceback" not in run.stderr, run.stderr
    doc = run.json
    assert doc["status"] == ("failed" if code == 1 else "error"), doc
    assert doc["error"]["kind"] == kind, doc
    assert doc["status"] not in ("ok", "verified") and "result_status" not in doc, doc
    message = doc["error"]["message"].lower()
    for word in words:
        assert word.lower() in message, f"{word!r} not in {doc['error']['message']!r}"
    return doc


def result_of(work: Workdir, bundle: Path, *, now: int, code: int = 0) -> Doc:
    """The sealed result of verifying ``bundle`` (no state folder) with the clock at ``now``."""
    run = verify_api(bundle, work, now=now, state=False)
    assert run.code == code, run.stdout
    return run.json


def write_result(work: Workdir, doc: Doc, name: str = "result.json") -> Path:
    path = work.path / name
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


def resealed(doc: Doc, edit: Any, *, sign_key: bytes | None = None) -> Doc:
    """A copy of ``doc`` edited by ``edit`` and sealed again (digest, optional signature)."""
    out = copy.deepcopy(doc)
    edit(out)
    return seal(out, sign_key=sign_key)


# --- class 12: the files a result names -----------------------------------------------------


def test_result_naming_dev_zero_as_policy_is_refused_fast(work: Workdir) -> None:
    doc = result_of(work, work.write(work.bundle_doc()), now=as_of(work.pristine) + 60)
    hostile = resealed(doc, lambda d: d["inputs"]["policy"].update(path="/dev/zero"))

    run, took = recheck_process(write_result(work, hostile))

    assert_not_rechecked(run, code=2, kind="policy_error", words=["/dev/zero", "regular file"])
    assert took < 20


def test_result_naming_dev_zero_as_bundle_is_refused_fast(work: Workdir) -> None:
    doc = result_of(work, work.write(work.bundle_doc()), now=as_of(work.pristine) + 60)
    hostile = resealed(doc, lambda d: d["inputs"]["bundle"].update(path="/dev/zero"))

    run, took = recheck_process(write_result(work, hostile))

    assert_not_rechecked(run, code=2, kind="schema_error", words=["/dev/zero", "regular file"])
    assert took < 20


def test_result_naming_a_fifo_as_policy_does_not_hang(work: Workdir) -> None:
    doc = result_of(work, work.write(work.bundle_doc()), now=as_of(work.pristine) + 60)
    fifo = work.path / "policy.fifo"
    os.mkfifo(fifo)
    hostile = resealed(doc, lambda d: d["inputs"]["policy"].update(path=str(fifo)))

    run, took = recheck_process(write_result(work, hostile))

    assert_not_rechecked(run, code=2, kind="policy_error", words=["FIFO"])
    assert took < 20


def test_result_naming_a_fifo_as_bundle_does_not_hang(work: Workdir) -> None:
    """The bundle's streamed reader opens files like every other reader: never a FIFO."""
    doc = result_of(work, work.write(work.bundle_doc()), now=as_of(work.pristine) + 60)
    fifo = work.path / "bundle.fifo"
    os.mkfifo(fifo)
    hostile = resealed(doc, lambda d: d["inputs"]["bundle"].update(path=str(fifo)))

    run, took = recheck_process(write_result(work, hostile))

    assert_not_rechecked(run, code=2, kind="schema_error", words=["FIFO"])
    assert took < 20


def test_result_naming_a_directory_as_bundle_is_refused(work: Workdir) -> None:
    doc = result_of(work, work.write(work.bundle_doc()), now=as_of(work.pristine) + 60)
    hostile = resealed(doc, lambda d: d["inputs"]["bundle"].update(path=str(work.path)))

    run, _ = recheck_process(write_result(work, hostile))

    assert_not_rechecked(run, code=2, kind="schema_error", words=["directory"])


def test_files_given_on_the_command_line_win_over_named_paths(work: Workdir) -> None:
    bundle = work.write(work.bundle_doc())
    doc = result_of(work, bundle, now=as_of(work.pristine) + 60)

    def hostile_paths(d: Doc) -> None:
        d["inputs"]["policy"]["path"] = "/dev/zero"
        d["inputs"]["bundle"]["path"] = "/dev/zero"

    path = write_result(work, resealed(doc, hostile_paths))

    run, _ = recheck_process(path, "--bundle", str(bundle), "--policy", str(work.policy))

    assert run.code == 0, run.stderr
    assert run.json["status"] == "ok"


# --- class 22: offline recheck carries over only a wallet's own verdict ---------------------


def pin_wallet(work: Workdir) -> None:
    """Custodian A pins its three keys and a contract wallet (threshold 2)."""
    policy = work.policy.read_text(encoding="utf-8")
    policy, n = re.subn(
        r'(id = "custodian-a"\nsigners = \[[^\]]*\]\n)',
        rf'\1eip1271 = [{{ chain_id = 31337, address = "{WALLET}" }}]\n',
        policy,
    )
    assert n == 1
    work.policy.write_text(policy, encoding="utf-8")


def wallet_entry(entry: Doc) -> Doc:
    """An entry naming the wallet (key 2's signature; the wallet, with no code, says no)."""
    (sig,) = sign_secp256k1(message(entry), [KEYS["a"][2]])
    return {**sig.to_json(), "signer": WALLET}


def one_key_signed(work: Workdir) -> Path:
    """Custodian A signed by one pinned key and the wallet, which rejects: threshold 2 unmet."""
    doc = work.bundle_doc()
    entry = custodian(doc, "custodian-a")
    sign_entry(entry, [KEYS["a"][0]])
    entry["signatures"].append(wallet_entry(entry))
    return work.write(doc)


def credit(doc: Doc, signer: str) -> None:
    """Edit a threshold-failed result so custodian A's signatures check passes with ``signer``."""
    row = next(a for a in doc["attestations"] if a["custodian"] == "custodian-a")
    row["signers"] = sorted([*row["signers"], signer])
    row["threshold_met"] = True
    for check in doc["checks"]:
        if check["id"] == "attestation:custodian-a:signatures":
            check.update(outcome="pass", detail=PASSED_TWO_OF_TWO)
            check.pop("kind", None)
    doc["status"] = "verified"


def test_credited_key_that_never_signed_is_caught_offline(work: Workdir) -> None:
    pin_wallet(work)
    doc = result_of(work, one_key_signed(work), now=as_of(work.pristine) + 60, code=1)
    never_signed = secp256k1.address_of(KEYS["a"][1])
    assert never_signed not in doc["attestations"][0]["signers"]
    attacker = demo_secret("attacker", "secp256k1")
    for key in (None, attacker):  # resealed, and resealed and signed by a key of one's own
        forged = resealed(doc, lambda d: credit(d, never_signed), sign_key=key)

        run = recheck(write_result(work, forged, "forged.json"))

        assert_not_rechecked(
            run,
            code=1,
            kind="recheck_mismatch",
            words=["does not re-derive", "attestations[0].signers", "status"],
        )


def test_crediting_the_wallet_is_named_offline_and_caught_with_rpc(
    work: Workdir, deployments: Any
) -> None:
    pin_wallet(work)
    doc = result_of(work, one_key_signed(work), now=as_of(work.pristine) + 60, code=1)
    path = write_result(work, resealed(doc, lambda d: credit(d, WALLET)), "forged.json")

    # offline the wallet's verdict cannot be asked: it is carried over, named, and only it
    run = recheck(path)
    assert run.code == 0, run.stderr
    report = run.json
    assert report["carried_over_eip1271"] == [
        {
            "custodian": "custodian-a",
            "chain_id": 31337,
            "wallet": WALLET,
            "block": doc["supply"]["deployments"][0]["block_number"],
            "valid": True,
        }
    ]
    assert "attestation:custodian-a:signatures" not in report["carried_over"]
    assert any(WALLET in item for item in report["carried_over"])

    # with the chain the wallet is asked again, and it never signed
    rpc = [arg for d in deployments for arg in ("--rpc", f"{d.chain_id}={d.url}")]
    assert_not_rechecked(
        recheck(path, *rpc), code=1, kind="recheck_mismatch", words=["does not re-derive"]
    )


def test_custodian_id_with_colons_is_matched_exactly(work: Workdir) -> None:
    """Check ids are never split on ``:``: custodian ``bank:custodian-a`` is found as itself."""
    cid = "bank:custodian-a"
    pin_wallet(work)
    work.policy.write_text(
        work.policy.read_text(encoding="utf-8").replace('"custodian-a"', f'"{cid}"'),
        encoding="utf-8",
    )
    doc = work.bundle_doc()
    entry = custodian(doc, "custodian-a")
    entry["id"] = cid
    edit_message(entry, custodian=cid)
    entry["signatures"] = [s.to_json() for s in sign_secp256k1(message(entry), [KEYS["a"][0]])]
    entry["signatures"].append(wallet_entry(entry))
    sign_report(doc)
    result = result_of(work, work.write(doc), now=as_of(work.pristine) + 60, code=1)

    def credit_under(signer: str) -> Any:
        def edit(d: Doc) -> None:
            row = next(a for a in d["attestations"] if a["custodian"] == cid)
            row["signers"] = sorted([*row["signers"], signer])
            row["threshold_met"] = True
            for check in d["checks"]:
                if check["id"] == f"attestation:{cid}:signatures":
                    check.update(outcome="pass", detail=PASSED_TWO_OF_TWO)
                    check.pop("kind", None)
            d["status"] = "verified"

        return edit

    never_signed = secp256k1.address_of(KEYS["a"][1])
    forged = write_result(work, resealed(result, credit_under(never_signed)), "forged.json")
    assert_not_rechecked(recheck(forged), code=1, kind="recheck_mismatch")

    wallet = write_result(work, resealed(result, credit_under(WALLET)), "wallet.json")
    run = recheck(wallet)
    assert run.code == 0, run.stderr
    assert [v["custodian"] for v in run.json["carried_over_eip1271"]] == [cid]


def test_claimed_rollback_outcomes_are_carried_and_named(work: Workdir) -> None:
    doc = result_of(work, work.write(work.bundle_doc()), now=as_of(work.pristine) + 60)

    def claim_state(d: Doc) -> None:
        d["inputs"]["rollback_state"] = True
        for check in d["checks"]:
            if check["id"].endswith(":rollback"):
                check.update(outcome="pass", detail="sequence 1 does not roll back")

    run = recheck(write_result(work, resealed(doc, claim_state)))

    assert run.code == 0, run.stderr
    carried = run.json["carried_over"]
    assert "attestation:custodian-a:rollback" in carried
    assert "inputs.rollback_state" in carried


# --- class 23: backdated results and re-derived inputs --------------------------------------


def short_lived(work: Workdir) -> tuple[Path, int]:
    """A bundle whose attestations were valid for one second after as_of, now expired."""
    t0 = as_of(work.pristine)

    def one_second(doc: Doc) -> None:
        for entry in doc["custodians"]:
            edit_message(entry, valid_until=t0 + 1)
        resign(doc)

    bundle = work.craft(one_second)
    assert t0 - time.time() < 120, "the demo chain's clock runs far ahead of this one"
    while time.time() <= t0 + 2:  # the demo chain's as_of is about the wall clock's now
        time.sleep(0.2)
    return bundle, t0


def test_backdated_unsigned_result_is_not_verified(work: Workdir) -> None:
    bundle, t0 = short_lived(work)
    honest = result_of(work, bundle, now=int(time.time()), code=1)
    assert {c.get("kind") for c in honest["checks"] if c["outcome"] == "fail"} == {"freeze"}
    # the issuer's edit: verified_at moved back into the validity, every verdict re-derived
    backdated = result_of(work, bundle, now=t0 + 1)
    assert backdated["status"] == "verified"

    run = recheck(write_result(work, backdated))

    doc = assert_not_rechecked(
        run, code=1, kind="time_not_bound", words=["not bound", "expired", "custodian-a"]
    )
    assert doc["error"]["time_bound_by_signature"] is False


def test_backdated_result_signed_by_an_unpinned_key_is_not_verified(work: Workdir) -> None:
    bundle, t0 = short_lived(work)
    attacker = demo_secret("attacker", "secp256k1")
    backdated = seal(result_of(work, bundle, now=t0 + 1), sign_key=attacker)
    operator = secp256k1.address_of(demo_secret("operator", "secp256k1"))

    run = recheck(write_result(work, backdated), "--operator", operator)

    doc = assert_not_rechecked(run, code=1, kind="time_not_bound", words=["not bound"])
    assert doc["error"]["time_bound_by_signature"] is False


def test_time_signed_by_a_pinned_operator_is_bound(work: Workdir) -> None:
    bundle, t0 = short_lived(work)
    key = demo_secret("operator", "secp256k1")
    signed = seal(result_of(work, bundle, now=t0 + 1), sign_key=key)

    run = recheck(write_result(work, signed), "--operator", secp256k1.address_of(key))

    assert run.code == 0, run.stderr
    report = run.json
    assert report["time_bound_by_signature"] is True
    assert report["verified_at"] == format_rfc3339(t0 + 1)


def test_verified_at_before_the_pinned_blocks_is_refused_even_when_signed(work: Workdir) -> None:
    doc = result_of(work, work.write(work.bundle_doc()), now=as_of(work.pristine) + 60)
    key = demo_secret("operator", "secp256k1")
    first_block = min(d["block_timestamp"] for d in doc["supply"]["deployments"])
    early = resealed(
        doc, lambda d: d.update(verified_at=format_rfc3339(first_block - 3600)), sign_key=key
    )

    run = recheck(write_result(work, early), "--operator", secp256k1.address_of(key))

    assert_not_rechecked(run, code=1, kind="recheck_mismatch", words=["before", "block"])


def test_edited_rule_pack_hash_is_a_mismatch(work: Workdir) -> None:
    doc = result_of(work, work.write(work.bundle_doc()), now=as_of(work.pristine) + 60)
    pack = sorted(doc["inputs"]["rule_packs"])[0]
    forged = resealed(doc, lambda d: d["inputs"]["rule_packs"].update({pack: "ab" * 32}))

    run = recheck(write_result(work, forged))

    assert_not_rechecked(run, code=1, kind="recheck_mismatch", words=[f"inputs.rule_packs.{pack}"])


def test_dropped_rule_pack_hash_is_a_mismatch(work: Workdir) -> None:
    doc = result_of(work, work.write(work.bundle_doc()), now=as_of(work.pristine) + 60)
    forged = resealed(doc, lambda d: d["inputs"].update(rule_packs={}))

    run = recheck(write_result(work, forged))

    assert_not_rechecked(run, code=1, kind="recheck_mismatch", words=["inputs.rule_packs"])


def test_rollback_state_claimed_without_outcomes_is_a_mismatch(work: Workdir) -> None:
    doc = result_of(work, work.write(work.bundle_doc()), now=as_of(work.pristine) + 60)
    forged = resealed(doc, lambda d: d["inputs"].update(rollback_state=True))

    run = recheck(write_result(work, forged))

    assert_not_rechecked(run, code=1, kind="recheck_mismatch", words=["rollback"])


# --- the compact and the detailed result --------------------------------------------------


def test_compact_and_detailed_results_both_recheck_and_the_form_is_bound(work: Workdir) -> None:
    """``porv verify`` writes the compact result unless ``--detail``; recheck re-derives the
    form the result records, and a result switched to the other form and resealed is caught."""
    bundle = work.write(work.bundle_doc())
    paths = {}
    for form, extra in (("compact", ()), ("detail", ("--detail",))):
        paths[form] = work.path / f"{form}.json"
        argv = [str(bundle), "--policy", str(work.policy), "--format", "json"]
        run = porv(["verify", *argv, *extra, "-o", str(paths[form])])
        assert run.code == 0, run.stderr
        checked = recheck(paths[form])
        assert checked.code == 0, checked.stdout + checked.stderr
    compact = json.loads(paths["compact"].read_text())
    detailed = json.loads(paths["detail"].read_text())
    assert (compact["detail"], detailed["detail"]) == (False, True)
    assert "inputs" not in compact["risk"] and len(detailed["risk"]["inputs"]) > 0
    assert compact["risk"]["ladder"] == detailed["risk"]["ladder"]
    for doc, name in ((compact, "to-detail"), (detailed, "to-compact")):
        switched = resealed(doc, lambda d: d.update(detail=not d["detail"]))
        assert_not_rechecked(
            recheck(write_result(work, switched, f"{name}.json")), code=1, kind="recheck_mismatch"
        )
