"""Signature entries cannot make porv work without bound (DESIGN §1, "Bounded work").

Hundreds of junk entries used to cost one EIP-1271 round trip each (minutes). Now an
attestation carries at most ``MAX_SIGNATURE_ENTRIES`` entries (more: exit 2 naming the field),
an entry naming an address the policy does not pin as a wallet costs no round trip, and a
pinned wallet is asked once per attestation however many entries name it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.attacks.crafting import Doc, Run, Workdir, assert_refused, custodian, verify_cli
from verifier.app import verify as api
from verifier.model.attestation import MAX_SIGNATURE_ENTRIES

#: A contract wallet the policy pins for custodian A in the wallet tests (no code needed: the
#: checker is replaced, so the test counts round trips without a chain).
WALLET = "0x000000000000000000000000000000000000dEaD"
#: An address nobody pins.
STRANGER = "0x1111111111111111111111111111111111111111"


def _junk(doc: Doc, signer: str, count: int) -> None:
    entry = custodian(doc, "custodian-a")
    junk = dict(entry["signatures"][0], signer=signer)
    entry["signatures"] = [entry["signatures"][0], *[dict(junk) for _ in range(count - 1)]]


def test_hundreds_of_signature_entries_refused(work: Workdir) -> None:
    bundle = work.craft(lambda doc: _junk(doc, STRANGER, 300))

    run = verify_cli(bundle, work)

    assert_refused(
        run,
        work,
        None,
        code=2,
        kinds={"schema_error"},
        words=[f"300 signature entries; at most {MAX_SIGNATURE_ENTRIES}"],
    )
    assert "custodians[0].signatures" in run.json["error"]["location"]["field"]


def _pin_wallet(work: Workdir) -> None:
    policy = work.policy.read_text(encoding="utf-8")
    policy, n = re.subn(
        r'(id = "custodian-a"\n)',
        rf'\1eip1271 = [{{ chain_id = 31337, address = "{WALLET}" }}]\n',
        policy,
    )
    assert n == 1
    work.policy.write_text(policy, encoding="utf-8")


@pytest.mark.parametrize(("signer", "asked"), [(WALLET, 1), (STRANGER, 0)])
def test_wallet_entries_cost_one_round_trip_at_most(
    work: Workdir, monkeypatch: pytest.MonkeyPatch, signer: str, asked: int
) -> None:
    _pin_wallet(work)
    calls: list[tuple[Any, ...]] = []

    def counting(rpc: Any, **_: Any) -> api.Eip1271Checker:
        def check(*args: Any) -> bool:
            calls.append(args)
            return False

        return check

    monkeypatch.setattr(api, "eip1271_checker", counting)
    bundle = work.craft(lambda doc: _junk(doc, signer, MAX_SIGNATURE_ENTRIES))
    from verifier.app.verify import run_verify

    outcome = run_verify(bundle, work.policy, now=_now(work), state_dir=work.state)
    run = Run(outcome.exit_code, _json(outcome.result), "")

    assert len(calls) == asked
    assert run.code == 1 and run.json["status"] == "failed"
    failed = {c["id"]: c for c in run.json["checks"] if c["outcome"] == "fail"}
    assert set(failed) == {"attestation:custodian-a:signatures"}
    assert f"names {signer}" in failed["attestation:custodian-a:signatures"]["detail"] or asked
    assert work.snapshot() is None


def _now(work: Workdir) -> int:
    from verifier.model.timeutil import parse_rfc3339_utc

    return parse_rfc3339_utc(work.pristine["as_of"]) + 60


def _json(doc: Any) -> str:
    return json.dumps(doc)
