"""Every numbered step of :func:`verifier.checks.bundle.verify_bundle`, pass and fail, offline.

The decisions are pure: supply, the registry's records, the EIP-1271 wallets' answers and the
rollback floor come in as data, so these tests give them a fake supply report and in-memory
bundles and policies (the demo's own builders and keys, crafted as the attack tests craft them)
and never start a chain or a process.
"""

from __future__ import annotations

import copy
import functools
import json
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from eth_utils.address import to_checksum_address

from tests.attacks.crafting import (
    KEYS,
    custodian,
    edit_message,
    message,
    resign,
    set_holdings,
    sign_entry,
    sign_report,
    tree,
)
from verifier.app.demo import DEMO_SCALE, ChainDeployment, write_demo_files
from verifier.app.verify import ask_wallets, read_bundle_supply
from verifier.checks.bundle import Outcome, as_of_in_future, verify_bundle, wallet_asks
from verifier.checks.evidence import (
    BlockHeader,
    DeploymentSupply,
    Evidence,
    RegistryEvidence,
    SupplyReport,
)
from verifier.checks.floor import Accepted, Floor
from verifier.errors import (
    AttestationMismatchError,
    IncompleteError,
    InputError,
    PorvError,
    RpcError,
)
from verifier.model.attestation import SignatureEntry
from verifier.model.bundle import Bundle, parse_bundle
from verifier.model.holdings import Holding
from verifier.model.policy import Policy
from verifier.model.timeutil import MAX_FUTURE_SKEW_S
from verifier.result.verdict import exit_code, status_of_exit, verdict
from verifier.signatures import bls, secp256k1
from verifier.signatures.eip712 import attestation_digest

Doc = dict[str, Any]

AS_OF = 1_768_435_200  # 2026-01-15T00:00:00Z
NOW = AS_OF + 3600
DECIMALS = 6
#: The demo's circulating supply: 150M on chain 31337 and 60M on chain 31338 (pUSD).
CIRCULATING = {31337: 150_000_000, 31338: 60_000_000}
DEPLOYMENTS = [
    ChainDeployment(
        31337,
        "http://127.0.0.1:9",
        to_checksum_address("0x" + "a1" * 20),
        to_checksum_address("0x" + "b1" * 20),
    ),
    ChainDeployment(
        31338,
        "http://127.0.0.1:9",
        to_checksum_address("0x" + "a2" * 20),
        to_checksum_address("0x" + "b2" * 20),
    ),
]
WALLET = to_checksum_address("0x" + "77" * 20)

# proofs of possession are checked once per (key, proof): pure-Python BLS takes ~0.3 s each
_pop_verify_once = functools.lru_cache(maxsize=64)(bls.pop_verify)


@pytest.fixture(scope="module", autouse=True)
def _pop_checked_once() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bls, "pop_verify", _pop_verify_once)
        yield


@functools.lru_cache(maxsize=1)
def _demo() -> tuple[str, str]:
    """The demo's valid bundle document (JSON) and policy text, built once."""
    with tempfile.TemporaryDirectory(prefix="porv-steps-") as folder:
        files = write_demo_files(Path(folder), DEPLOYMENTS, as_of=AS_OF, scale=DEMO_SCALE)
        return files.bundle.read_text(encoding="utf-8"), files.policy.read_text(encoding="utf-8")


def demo_doc() -> Doc:
    doc: Doc = json.loads(_demo()[0])
    return doc


@functools.lru_cache(maxsize=16)
def policy_of(text: str) -> Policy:
    return Policy.from_toml_text(text, source="<policy>")


def demo_policy(edit: Callable[[str], str] | None = None) -> Policy:
    text = _demo()[1]
    return policy_of(edit(text) if edit is not None else text)


def bundle_of(doc: Doc) -> Bundle:
    return parse_bundle(copy.deepcopy(doc), source="<bundle>")


def fake_supply(policy: Policy, *, scale: int = 1) -> SupplyReport:
    """Supply as the chains would report it at the pins for AS_OF (made-up blocks)."""
    deps = []
    for i, d in enumerate(policy.deployments):
        circulating = CIRCULATING[d.chain_id] * scale * 10**DECIMALS
        excluded = tuple((a, 10**DECIMALS) for a in d.excluded)
        block = 100 + i
        deps.append(
            DeploymentSupply(
                chain_id=d.chain_id,
                address=d.address,
                block_number=block,
                block_hash="0x" + f"{block:064x}",
                block_timestamp=AS_OF - 2,
                total_supply=circulating + sum(b for _, b in excluded),
                decimals=DECIMALS,
                excluded=excluded,
                circulating=circulating,
                finality="latest",
                successor=BlockHeader(block + 1, "0x" + "ee" * 32, "0x" + f"{block:064x}", NOW),
            )
        )
    return SupplyReport(tuple(deps), sum(d.circulating for d in deps), DECIMALS)


def run(
    doc: Doc | None = None,
    policy: Policy | None = None,
    *,
    now: int = NOW,
    supply: SupplyReport | PorvError | str | None = "fake",
    floor: Floor | None = None,
    evidence: Evidence | None = None,
) -> Outcome:
    policy = policy or demo_policy()
    return verify_bundle(
        bundle_of(doc if doc is not None else demo_doc()),
        policy,
        now=now,
        supply=fake_supply(policy) if supply == "fake" else supply,  # type: ignore[arg-type]
        floor=floor,
        evidence=evidence,
    )


def checks(outcome: Outcome) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in outcome.result["checks"]}


def only_failure(outcome: Outcome, check_id: str, kind: str, outcome_name: str = "fail") -> str:
    """The one check that did not pass is ``check_id``, with this kind; its detail."""
    bad = {c["id"]: c for c in outcome.result["checks"] if c["outcome"] in ("fail", "error")}
    assert set(bad) == {check_id}, bad
    assert bad[check_id]["outcome"] == outcome_name and bad[check_id]["kind"] == kind
    assert outcome.status == ("error" if outcome_name == "error" else "failed")
    assert outcome.exit_code == (3 if outcome_name == "error" else 1)
    assert outcome.accepted == {}
    return str(bad[check_id]["detail"])


# --- the valid bundle, and purity ---------------------------------------------------------------


def test_valid_bundle_passes_every_step_and_returns_the_floor_updates() -> None:
    out = run(floor=Floor())
    got = checks(out)
    assert out.status == "verified" and out.exit_code == 0 and out.failures == []
    assert {c["step"] for c in out.result["checks"]} == {str(n) for n in range(1, 11)}
    assert all(c["outcome"] == "pass" for c in got.values()), got
    assert "circulating 210000000 USD on 2 deployment(s)" in got["supply"]["detail"]
    assert set(out.accepted) == {
        ("Example Issuer Ltd", "pUSD", "custodian-a"),
        ("Example Issuer Ltd", "pUSD", "custodian-b"),
    }
    assert out.result["coverage"]["ok"] is True and out.result["risk"] is not None


def test_decisions_read_no_clock_network_or_file(monkeypatch: pytest.MonkeyPatch) -> None:
    run()  # warm the rule packs (package data, parsed once per process)
    doc, policy = demo_doc(), demo_policy()

    def refused(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("the decisions read the clock, the network or a file")

    for name in ("time", "time_ns", "monotonic"):
        monkeypatch.setattr(time, name, refused)
    monkeypatch.setattr(socket, "socket", refused)
    monkeypatch.setattr(socket, "create_connection", refused)
    monkeypatch.setattr("builtins.open", refused)
    out = verify_bundle(bundle_of(doc), policy, now=NOW, supply=fake_supply(policy), floor=Floor())
    monkeypatch.undo()
    assert out.status == "verified"


# --- [1] binding, [2] as_of, [3] deployments ---------------------------------------------------


def test_1_binding_bundle_for_another_issuer_or_token() -> None:
    doc = demo_doc()
    doc["token"]["decimals"] = 18
    detail = only_failure(run(doc), "binding", "mix_and_match")
    assert "decimals: policy 6, bundle 18" in detail


def test_2_as_of_in_the_future_is_an_error_and_supply_is_not_read() -> None:
    now = AS_OF - MAX_FUTURE_SKEW_S - 1
    assert as_of_in_future(AS_OF, now) and not as_of_in_future(AS_OF, AS_OF - MAX_FUTURE_SKEW_S)

    def provider(_p: Policy, _a: int) -> SupplyReport:
        raise AssertionError("supply read for a bundle whose as_of is in the future")

    supply = read_bundle_supply(bundle_of(demo_doc()), demo_policy(), now, provider)
    assert supply is None
    out = run(now=now, supply=supply)
    got = checks(out)
    assert got["as_of"]["outcome"] == "error" and got["as_of"]["kind"] == "future_as_of"
    assert got["supply"]["outcome"] == "skipped"
    assert got["coverage"]["outcome"] == got["rules"]["outcome"] == "skipped"
    assert out.status == "error" and out.exit_code == 3


def test_2_as_of_within_the_skew_passes() -> None:
    out = run(now=AS_OF - MAX_FUTURE_SKEW_S)
    assert checks(out)["as_of"]["outcome"] == "pass"


def test_3_deployments_omitted_added_or_other_exclusions() -> None:
    doc = demo_doc()
    dropped = doc["deployments"].pop()
    detail = only_failure(run(doc), "deployments", "deployment_mismatch")
    assert f"omitted {dropped['chain_id']}:{dropped['address']}" in detail
    doc = demo_doc()
    doc["deployments"][0]["excluded"] = []
    detail = only_failure(run(doc), "deployments", "deployment_mismatch")
    assert "excluded addresses of 31337" in detail


# --- [4] supply ---------------------------------------------------------------------------------


def test_4_supply_read_error_is_recorded_and_coverage_and_rules_skip() -> None:
    out = run(supply=RpcError("chain 31337: every endpoint failed"))
    got = checks(out)
    detail = only_failure(out, "supply", "rpc_error", "error")
    assert "chain 31337" in detail
    assert got["coverage"]["outcome"] == got["rules"]["outcome"] == "skipped"
    assert out.result["supply"] is None


def test_4_supply_not_read_for_a_past_as_of_is_an_error() -> None:
    detail = only_failure(run(supply=None), "supply", "incomplete", "error")
    assert "not read" in detail


def test_4_supply_read_through_the_orchestrator_helper() -> None:
    policy = demo_policy()
    seen: list[int] = []

    def provider(_p: Policy, as_of: int) -> SupplyReport:
        seen.append(as_of)
        return fake_supply(policy)

    def failing(_p: Policy, _a: int) -> SupplyReport:
        raise IncompleteError("endpoint down")

    bundle = bundle_of(demo_doc())
    assert read_bundle_supply(bundle, policy, NOW, provider) == fake_supply(policy)
    assert seen == [AS_OF]
    assert isinstance(read_bundle_supply(bundle, policy, NOW, failing), IncompleteError)

    def bad_input(_p: Policy, _a: int) -> SupplyReport:
        raise InputError("not a decision")

    with pytest.raises(InputError):
        read_bundle_supply(bundle, policy, NOW, bad_input)


# --- [5] attestations ---------------------------------------------------------------------------


def test_5_binding_attestation_for_another_token() -> None:
    doc = demo_doc()
    edit_message(custodian(doc, "custodian-a"), token="xUSD")
    resign(doc)
    detail = only_failure(run(doc), "attestation:custodian-a:binding", "mix_and_match")
    assert "token: expected 'pUSD', signed 'xUSD'" in detail


def test_5_binding_custodian_the_policy_does_not_pin() -> None:
    policy = demo_policy(lambda t: t.replace('id = "custodian-b"', 'id = "custodian-z"'))
    out = run(policy=policy)
    got = checks(out)
    assert got["attestation:custodian-b:binding"]["kind"] == "mix_and_match"
    assert got["attestation:custodian-b:signatures"]["kind"] == "threshold_not_met"
    assert got["attestation:custodian-z"]["outcome"] == "skipped"
    assert out.status == "failed"


def test_5_freshness_expired_and_too_old() -> None:
    valid_until = message(custodian(demo_doc(), "custodian-a")).valid_until
    out = run(now=valid_until + 1)
    got = checks(out)
    assert got["attestation:custodian-a:freshness"]["kind"] == "freeze"
    assert "expired" in got["attestation:custodian-a:freshness"]["detail"]
    assert out.status == "failed" and out.result["attestations"][0]["fresh"] is False
    policy = demo_policy(lambda t: t.replace('max_age = "35d"', 'max_age = "1d"'))
    out = run(policy=policy, now=AS_OF + 2 * 86400)
    assert "above max_age 1 days" in checks(out)["attestation:custodian-b:freshness"]["detail"]


def test_5_signatures_below_threshold() -> None:
    doc = demo_doc()
    sign_entry(custodian(doc, "custodian-a"), KEYS["a"][:1])
    sign_report(doc)
    detail = only_failure(run(doc), "attestation:custodian-a:signatures", "threshold_not_met")
    assert "1 distinct pinned key(s) signed, threshold 2" in detail


def test_5_signatures_by_a_key_not_pinned() -> None:
    doc = demo_doc()
    stranger = (7).to_bytes(32, "big")
    sign_entry(custodian(doc, "custodian-a"), [KEYS["a"][0], stranger])
    sign_report(doc)
    detail = only_failure(run(doc), "attestation:custodian-a:signatures", "unknown_signer")
    assert secp256k1.address_of(stranger) in detail


def test_5_tree_does_not_match_the_signed_root() -> None:
    doc = demo_doc()
    entry = custodian(doc, "custodian-a")
    signed = message(entry)
    holdings = list(tree(entry).holdings)
    set_holdings(entry, holdings[:-1])
    entry["attestation"] = signed.to_json()  # the signed message, a tree with a holding less
    out = run(doc)
    detail = only_failure(out, "attestation:custodian-a:tree", "tree_mismatch")
    assert f"leaf count: signed {len(holdings)}, tree has {len(holdings) - 1}" in detail


@pytest.mark.parametrize(
    ("floor_sequence", "same_digest", "kind"),
    [(2, True, "rollback"), (1, False, "rollback"), (1, True, None), (0, False, None)],
)
def test_5_rollback_against_the_floor(
    floor_sequence: int, same_digest: bool, kind: str | None
) -> None:
    digest = attestation_digest(message(custodian(demo_doc(), "custodian-a")))
    recorded = "0x" + (digest if same_digest else b"\x01" * 32).hex()
    floor = Floor().raised(
        {("Example Issuer Ltd", "pUSD", "custodian-a"): Accepted(floor_sequence, recorded, 1)}
    )
    out = run(floor=floor)
    if kind is None:
        assert out.status == "verified"
        assert out.accepted[("Example Issuer Ltd", "pUSD", "custodian-a")].sequence == 1
    else:
        only_failure(out, "attestation:custodian-a:rollback", kind)
    assert checks(run(floor=None))["attestation:custodian-a:rollback"]["outcome"] == "skipped"


# --- registry evidence and EIP-1271 wallets (step 5, as data) ---------------------------------


def _registry(doc: Doc, **changes: Any) -> dict[str, RegistryEvidence]:
    out = {}
    for entry in doc["custodians"]:
        digest = attestation_digest(message(entry))
        key = KEYS["a"][2]
        fields: dict[str, Any] = {
            "custodian": entry["id"],
            "exists": True,
            "sequence": 1,
            "digest": digest,
            "signer": secp256k1.address_of(key),
            "signature": secp256k1.sign(digest, key),
        }
        fields.update(changes)
        out[entry["id"]] = RegistryEvidence(**fields)
    return out


def test_5_registry_record_counts_as_the_signature_porv_recovers() -> None:
    doc = demo_doc()
    sign_entry(custodian(doc, "custodian-a"), KEYS["a"][:1])  # one short without the registry
    sign_report(doc)
    out = run(doc, evidence=Evidence(registry=_registry(doc)))
    got = checks(out)
    assert out.status == "verified"  # custodian-b's BLS keys meet its threshold alone
    assert got["attestation:custodian-a:registry"]["outcome"] == "pass"
    assert got["attestation:custodian-a:signatures"]["outcome"] == "pass"
    assert "(not pinned)" in got["attestation:custodian-b:registry"]["detail"]


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({"untrusted": "no code at the registry"}, "registry_untrusted"),
        ({"exists": False}, "mix_and_match"),
        ({"sequence": 2}, "rollback"),
        ({"digest": b"\x02" * 32}, "mix_and_match"),
        ({"signer": to_checksum_address("0x" + "99" * 20)}, "registry_untrusted"),
    ],
)
def test_5_registry_evidence_that_does_not_hold(changes: dict[str, Any], kind: str) -> None:
    doc = demo_doc()
    out = run(doc, evidence=Evidence(registry=_registry(doc, **changes)))
    assert checks(out)["attestation:custodian-a:registry"]["kind"] == kind
    assert out.status == "failed"


def _wallet_policy() -> Policy:
    return demo_policy(
        lambda t: t.replace(
            'id = "custodian-a"\n',
            f'id = "custodian-a"\neip1271 = [{{ chain_id = 31337, address = "{WALLET}" }}]\n',
        )
    )


def _wallet_doc(entries: int = 1) -> Doc:
    """custodian-a signed by key 0 directly and by its wallet (a signature by key 1)."""
    doc = demo_doc()
    entry = custodian(doc, "custodian-a")
    digest = attestation_digest(message(entry))
    key0 = KEYS["a"][0]
    sigs = [
        SignatureEntry(
            "secp256k1", secp256k1.address_of(key0), (), secp256k1.sign(digest, key0)
        ).to_json()
    ]
    for i in range(entries):
        sig = secp256k1.sign(digest, KEYS["a"][1 + i % 2])
        sigs.append(SignatureEntry("secp256k1", WALLET, (), sig).to_json())
    entry["signatures"] = sigs
    sign_report(doc)
    return doc


def test_5_wallet_asks_one_per_pinned_wallet_and_attestation() -> None:
    doc, policy = _wallet_doc(entries=3), _wallet_policy()
    bundle = bundle_of(doc)
    asks = wallet_asks(bundle, policy)
    digest = attestation_digest(bundle.custodians[0].message)
    assert [(cid, a[:3]) for cid, a in asks] == [("custodian-a", (31337, WALLET, digest))]
    seen: list[tuple[Any, ...]] = []

    def check(*args: Any) -> bool:
        seen.append(args)
        return True

    supply = fake_supply(policy)
    verdicts = ask_wallets(bundle, policy, supply, check)
    assert [s[-1] for s in seen] == [100]  # at the block supply pinned on chain 31337
    assert ask_wallets(bundle, policy, None, check) == verdicts and seen[-1][-1] is None
    out = verify_bundle(bundle, policy, now=NOW, supply=supply, evidence=Evidence(wallets=verdicts))
    sigs = checks(out)["attestation:custodian-a:signatures"]
    assert out.status == "verified", sigs
    assert sorted(out.result["attestations"][0]["signers"]) == sorted(
        [secp256k1.address_of(KEYS["a"][0]), WALLET]
    )


@pytest.mark.parametrize(
    ("answer", "outcome", "kind"),
    [
        (False, "fail", "wallet_refused"),
        (None, "fail", "wallet_refused"),  # not asked: not signed
        (IncompleteError("endpoints of chain 31337 disagree"), "error", "incomplete"),
    ],
)
def test_5_wallet_verdicts_as_data(answer: Any, outcome: str, kind: str) -> None:
    doc, policy = _wallet_doc(), _wallet_policy()
    bundle = bundle_of(doc)
    wallets = {} if answer is None else {a: answer for _, a in wallet_asks(bundle, policy)}
    out = verify_bundle(
        bundle, policy, now=NOW, supply=fake_supply(policy), evidence=Evidence(wallets=wallets)
    )
    only_failure(out, "attestation:custodian-a:signatures", kind, outcome)


def test_5_wallet_entries_repeating_a_wallet_are_refused_without_a_verdict() -> None:
    doc, policy = _wallet_doc(entries=2), _wallet_policy()
    bundle = bundle_of(doc)
    wallets = {a: True for _, a in wallet_asks(bundle, policy)}
    out = verify_bundle(
        bundle, policy, now=NOW, supply=fake_supply(policy), evidence=Evidence(wallets=wallets)
    )
    sigs = checks(out)["attestation:custodian-a:signatures"]
    assert out.status == "verified"  # key 0 and the wallet: threshold 2
    assert "already asked" not in sigs["detail"]  # problems are listed only on failure
    doc = _wallet_doc(entries=2)
    entry = custodian(doc, "custodian-a")
    entry["signatures"] = entry["signatures"][1:]  # no direct signature: the wallet alone
    bundle = bundle_of(doc)
    wallets = {a: True for _, a in wallet_asks(bundle, policy)}
    out = verify_bundle(
        bundle, policy, now=NOW, supply=fake_supply(policy), evidence=Evidence(wallets=wallets)
    )
    detail = only_failure(out, "attestation:custodian-a:signatures", "wallet_refused")
    assert "was already asked (EIP-1271) for this attestation" in detail


def test_5_wallet_error_stops_the_asks_of_that_attestation() -> None:
    doc, policy = _wallet_doc(entries=1), _wallet_policy()
    bundle = bundle_of(doc)
    calls: list[Any] = []

    def down(*args: Any) -> bool:
        calls.append(args)
        raise IncompleteError("chain 31337: no answer")

    verdicts = ask_wallets(bundle, policy, fake_supply(policy), down)
    assert len(calls) == 1 and all(isinstance(v, IncompleteError) for v in verdicts.values())


WALLET_B = to_checksum_address("0x" + "78" * 20)
#: custodian-b's own secp256k1 signer in the cross-custodian tests (pinned beside its BLS keys).
KEY_B = bytes([0x5B]) * 32


def _two_wallet_policy() -> Policy:
    """custodian-a pins WALLET beside its keys; custodian-b pins WALLET_B and key KEY_B."""
    return demo_policy(
        lambda t: t.replace(
            'id = "custodian-a"\n',
            f'id = "custodian-a"\neip1271 = [{{ chain_id = 31337, address = "{WALLET}" }}]\n',
        ).replace(
            'id = "custodian-b"\n',
            f'id = "custodian-b"\nsigners = ["{secp256k1.address_of(KEY_B)}"]\n'
            f'eip1271 = [{{ chain_id = 31337, address = "{WALLET_B}" }}]\n',
        )
    )


def _wallet_entry(doc: Doc, cid: str, wallet: str, keys: list[bytes]) -> None:
    """Add to ``cid``'s signatures its wallet's entry: ``keys``' signatures over its digest."""
    entry = custodian(doc, cid)
    digest = attestation_digest(message(entry))
    signature = b"".join(secp256k1.sign(digest, k) for k in keys)
    entry["signatures"].append(SignatureEntry("secp256k1", wallet, (), signature).to_json())


def _verify_wallets(doc: Doc, policy: Policy) -> Outcome:
    sign_report(doc)
    bundle = bundle_of(doc)
    wallets = {a: True for _, a in wallet_asks(bundle, policy)}
    return verify_bundle(
        bundle, policy, now=NOW, supply=fake_supply(policy), evidence=Evidence(wallets=wallets)
    )


def test_5_a_wallet_carrying_another_custodians_pinned_key_does_not_count() -> None:
    """One key speaks for one custodian (the policy refuses a key pinned for two): custodian-b's
    key KEY_B signing custodian-a's attestation through custodian-a's wallet is that key
    speaking for both, so the wallet's vote does not count for custodian-a."""
    policy = _two_wallet_policy()
    doc = demo_doc()
    a = custodian(doc, "custodian-a")
    a["signatures"] = a["signatures"][:1]  # key 0 directly
    _wallet_entry(doc, "custodian-a", WALLET, [KEYS["a"][1], KEY_B])
    out = _verify_wallets(doc, policy)
    detail = only_failure(out, "attestation:custodian-a:signatures", "duplicate_key")
    assert f"{secp256k1.address_of(KEY_B)}, which is pinned for custodian 'custodian-b'" in detail
    _wallet_entry(doc, "custodian-a", WALLET, [KEYS["a"][1]])  # the same wallet, key 1 alone
    custodian(doc, "custodian-a")["signatures"].pop(1)
    assert _verify_wallets(doc, policy).status == "verified"


def test_5_one_key_behind_two_custodians_wallets_counts_for_neither() -> None:
    """An owner key nobody pins signs through custodian-a's wallet and custodian-b's: one key
    speaking for two custodians, so neither wallet counts (whatever the entries' order)."""
    policy = _two_wallet_policy()
    shared = bytes([0x77]) * 32
    doc = demo_doc()
    a = custodian(doc, "custodian-a")
    a["signatures"] = a["signatures"][:1]
    _wallet_entry(doc, "custodian-a", WALLET, [KEYS["a"][1], shared])
    b = custodian(doc, "custodian-b")
    sign_entry(b, [KEYS["b"][0]])  # one BLS key, and custodian-b's wallet (KEY_B and shared)
    _wallet_entry(doc, "custodian-b", WALLET_B, [KEY_B, shared])
    out = _verify_wallets(doc, policy)
    bad = {c["id"]: c for c in out.result["checks"] if c["outcome"] == "fail"}
    assert set(bad) == {"attestation:custodian-a:signatures", "attestation:custodian-b:signatures"}
    shared_address = secp256k1.address_of(shared)
    for cid in ("custodian-a", "custodian-b"):
        detail = bad[f"attestation:{cid}:signatures"]["detail"]
        assert bad[f"attestation:{cid}:signatures"]["kind"] == "duplicate_key"
        assert f"{shared_address}, which also signs custodian " in detail
    # without the shared key behind custodian-b's wallet, custodian-a's wallet counts again
    b["signatures"].pop()
    _wallet_entry(doc, "custodian-b", WALLET_B, [KEY_B])
    assert _verify_wallets(doc, policy).status == "verified"


# --- [6] auditors -------------------------------------------------------------------------------


def test_6_auditors_below_threshold_and_not_named() -> None:
    doc = demo_doc()
    sign_report(doc, KEYS["auditors"][:1])
    detail = only_failure(run(doc), "auditors", "threshold_not_met")
    assert "1 auditor(s) signed, threshold 2" in detail
    doc = demo_doc()
    sign_report(doc, over=b"\x03" * 32)
    detail = only_failure(run(doc), "auditors", "threshold_not_met")
    assert "does not verify over the ReserveReport of these attestations" in detail

    def no_auditors(text: str) -> str:
        head, _, rest = text.partition("[auditors]")
        return head + rest[rest.index("[rpc]") :]

    out = run(policy=demo_policy(no_auditors))
    assert checks(out)["auditors"]["outcome"] == "skipped" and out.status == "verified"


# --- [7] holdings, [8] coverage, [9] rules, [10] risk -------------------------------------------


def test_7_holding_counted_under_two_custodians() -> None:
    doc = demo_doc()
    a, b = custodian(doc, "custodian-a"), custodian(doc, "custodian-b")
    first: Holding = tree(a).holdings[0]
    set_holdings(b, [*tree(b).holdings, first])
    resign(doc)
    out = run(doc)
    detail = checks(out)["holdings"]["detail"]
    assert checks(out)["holdings"]["kind"] == "duplicate_holding"
    assert f"{first.holding_id!r} (custodian-a and custodian-b)" in detail
    assert out.status == "failed"


def test_8_coverage_below_supply() -> None:
    policy = demo_policy()
    out = run(supply=fake_supply(policy, scale=2))
    got = checks(out)
    assert got["coverage"]["kind"] == "insufficient_reserves"
    assert "eligible reserves below circulating supply × 1" in got["coverage"]["detail"]
    assert out.result["coverage"]["ok"] is False and out.status == "failed"


def test_9_rules_failing_and_no_jurisdiction() -> None:
    doc = demo_doc()
    entry = custodian(doc, "custodian-a")
    five_years = AS_OF + 5 * 365 * 86400
    set_holdings(
        entry,
        [
            replace(h, maturity=five_years) if h.asset_class == "sovereign_debt" else h
            for h in tree(entry).holdings
        ],
    )
    resign(doc)
    out = run(doc)
    got = checks(out)
    assert got["rules"]["outcome"] == "fail" and got["rules"]["kind"] == "rule_failed"
    assert "rules failed: " in got["rules"]["detail"]
    policy = demo_policy(lambda t: t.replace('["genius", "hkma", "mas"]', "[]"))
    out = run(policy=policy)
    assert checks(out)["rules"]["outcome"] == "skipped" and out.status == "verified"


def test_10_risk_is_reported_and_never_decides() -> None:
    out = run(supply=fake_supply(demo_policy(), scale=2))
    assert checks(out)["risk"]["outcome"] == "pass" and out.result["risk"] is not None
    assert out.status == "failed"


def test_every_step_runs_after_a_failure() -> None:
    doc = demo_doc()
    doc["token"]["symbol"] = "xUSD"
    out = run(doc, supply=IncompleteError("no endpoint answered"))
    assert {c["step"] for c in out.result["checks"]} == {str(n) for n in range(1, 11)}
    assert checks(out)["binding"]["outcome"] == "fail" and out.status == "error"
    assert [type(e) for e in out.failures] == [AttestationMismatchError, IncompleteError]


# --- the one verdict rule -----------------------------------------------------------------------


def test_verdict_rule() -> None:
    assert verdict([]) == "verified" and verdict(["pass", "skipped"]) == "verified"
    assert verdict(["pass", "fail", "skipped"]) == "failed"
    assert verdict(["fail", "error"]) == "error"
    assert [exit_code(s) for s in ("verified", "failed", "error", "other")] == [0, 1, 3, 3]
    assert [status_of_exit(c) for c in (1, 2, 3)] == ["failed", "error", "error"]


# --- [fx]: a feed's rate is evidence the rules take ------------------------------------------


def _fx_feed_policy() -> Policy:
    def edit(text: str) -> str:
        start = text.index('"USD/HKD" = {')
        return text[:start] + f'"USD/HKD" = {{ feed = "31337:{WALLET}" }}\n'

    return demo_policy(edit)


def _feed_rate(rate: str) -> Any:
    from decimal import Decimal

    from verifier.checks.evidence import fx_rate_from_feed

    return fx_rate_from_feed(
        "USD",
        "HKD",
        chain_id=31337,
        address=WALLET,
        block_number=100,
        block_timestamp=AS_OF - 2,
        answer=int(Decimal(rate) * 10**8),
        decimals=8,
        updated_at=AS_OF - 3600,
    )


def _hkma_capital(out: Outcome) -> dict[str, Any]:
    hkma = next(p for p in out.result["rules"]["packs"] if p["pack"] == "hkma")
    rule: dict[str, Any] = next(r for r in hkma["rules"] if r["id"] == "hkma.capital")
    return rule


def test_9_a_feed_rate_decides_the_capital_floor_and_is_recorded() -> None:
    policy = _fx_feed_policy()
    assert policy.fx_rates == () and len(policy.fx_feeds) == 1
    good = _feed_rate("7.8")
    out = run(policy=policy, evidence=Evidence(fx_rates=(good,)))
    assert out.status == "verified"
    rule = _hkma_capital(out)
    assert rule["status"] == "pass" and rule["fx"] == [good.to_json()]
    assert out.result["fx"] == {"rates": [good.to_json()], "unusable": {}}
    # at 0.5 HKD per USD the demo's USD 30M is HKD 15M: below the HKD 25M floor
    low = run(policy=policy, evidence=Evidence(fx_rates=(_feed_rate("0.5"),)))
    assert low.status == "failed"
    assert "short by 10000000 HKD" in _hkma_capital(low)["message"]
    # no reading: not_evaluated with the reader's reason, and the verdict is not decided by it
    why = {"USD/HKD": "USD/HKD feed gave no rate: round id is 0"}
    none = run(policy=policy, evidence=Evidence(fx_unusable=why))
    assert none.status == "verified"
    assert _hkma_capital(none)["status"] == "not_evaluated"
    assert none.result["fx"] == {"rates": [], "unusable": why}


def test_9_the_demo_policy_pins_usd_hkd_and_hkma_capital_passes() -> None:
    out = run()
    rule = _hkma_capital(out)
    assert rule["status"] == "pass"
    assert rule["fx"][0]["pair"] == "USD/HKD" and rule["fx"][0]["source"] == "policy"
    assert "fx" not in out.result  # a pinned rate is in the policy, not read: no fx section
