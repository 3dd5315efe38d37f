"""``porv recheck``: re-derive a saved result from the inputs it names and compare.

1. the digest must match the content (any edit to the file shows here), and a signature, if
   present, must recover to its named signer;
2. the bundle and policy it names must hash to the recorded sha256s;
3. every offline step is run again at the recorded ``verified_at`` (the same reference time);
   supply is read again at the recorded blocks when RPC endpoints are given (block hashes must
   match), else taken from the result after checking that it adds up;
4. the re-derived result must equal the saved one, member for member.

Rollback outcomes depend on the verifier's private state folder and cannot be re-derived by
someone else; they are carried over from the saved result and said so in the report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from verifier.api import eip1271_checker
from verifier.chain.supply import DeploymentSupply, SupplyReport, read_supply, scale_up
from verifier.errors import RecheckMismatch, SchemaError, WrongBlock
from verifier.model.bundle import load_bundle
from verifier.model.policy import Policy, load_policy
from verifier.registry_source import RegistryEvidence
from verifier.result import canonical_bytes, check_seal, seal
from verifier.timeutil import parse_rfc3339_utc
from verifier.verify import verify_bundle


def _supply_from_result(
    doc: Mapping[str, Any], source: str, policy: Policy, as_of: int
) -> SupplyReport:
    """Rebuild the supply report saved in a result, checking all that can be checked offline.

    The deployments must be exactly the policy's pins with its excluded addresses, every pinned
    block at or before ``as_of`` with the policy's finality and a successor after ``as_of``,
    each deployment's circulating = totalSupply − excluded, and the total the exact sum in the
    policy's decimals, where a deployment finer than the policy is rounded up by exactly the
    recorded ``rounded_up`` and by nothing else. Block numbers, hashes and times themselves
    can only be checked against the chain (``--rpc``).
    """
    supply = doc.get("supply")
    if not isinstance(supply, Mapping):
        raise RecheckMismatch(f"{source}: the result has no supply to recheck against")
    try:
        deps = tuple(DeploymentSupply.from_json(d) for d in supply["deployments"])
        report = SupplyReport(
            deployments=deps,
            total_circulating=int(supply["total_circulating"]),
            decimals=int(supply["decimals"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SchemaError(f"{source}: malformed supply section ({exc})") from None
    pinned = {(d.chain_id, d.address): tuple(sorted(d.excluded)) for d in policy.deployments}
    listed = {(d.chain_id, d.address): tuple(sorted(a for a, _ in d.excluded)) for d in deps}
    if pinned != listed or len(deps) != len(pinned):
        raise RecheckMismatch(
            f"{source}: the supply section does not list exactly the policy's deployments and "
            "excluded addresses"
        )
    if report.decimals != policy.decimals:
        raise RecheckMismatch(
            f"{source}: supply decimals {report.decimals}, policy {policy.decimals}"
        )
    total = 0
    for d in deps:
        where = f"{source}: supply of {d.chain_id}:{d.address}"
        if d.circulating != d.total_supply - sum(bal for _, bal in d.excluded):
            raise RecheckMismatch(
                f"{where} does not add up (totalSupply {d.total_supply} − excluded ≠ "
                f"circulating {d.circulating})"
            )
        if d.block_timestamp > as_of:
            raise RecheckMismatch(f"{where}: block time {d.block_timestamp} is after as_of")
        _check_final_pin_recorded(d, where, policy, as_of)
        scaled, added = scale_up(d.circulating, d.decimals, policy.decimals)
        if d.rounded_up != added:
            raise RecheckMismatch(
                f"{where}: rounded up by {d.rounded_up} base unit(s), the circulating amount "
                f"needs {added} to reach the policy's {policy.decimals} decimals"
            )
        total += scaled
    if total != report.total_circulating:
        raise RecheckMismatch(
            f"{source}: total circulating {report.total_circulating} is not the sum of the "
            f"deployments ({total})"
        )
    return report


def _check_final_pin_recorded(d: DeploymentSupply, where: str, policy: Policy, as_of: int) -> None:
    """The pin was made with the policy's finality, and its recorded successor is after as_of."""
    want = policy.finality_for(d.chain_id)
    if d.finality != want:
        raise RecheckMismatch(
            f"{where}: pinned with finality {d.finality!r}, the policy's is {want!r}"
        )
    s = d.successor
    if s is None or s.number != d.block_number + 1 or s.timestamp <= as_of:
        raise RecheckMismatch(
            f"{where}: the result does not record the pinned block's successor after as_of"
        )


def _supply_from_chains(
    saved: SupplyReport, policy: Policy, as_of: int, timeout: float
) -> SupplyReport:
    """Read supply again at the saved blocks; block hashes must match."""
    fresh = read_supply(
        policy.deployments,
        policy.rpc,
        as_of=as_of,
        token_decimals=policy.decimals,
        timeout=timeout,
        finality=policy.finality,
    )
    by_key = {(d.chain_id, d.address): d for d in saved.deployments}
    for d in fresh.deployments:
        old = by_key.get((d.chain_id, d.address))
        if old is None:
            continue
        if (old.block_number, old.block_hash) != (d.block_number, d.block_hash):
            raise WrongBlock(
                f"chain {d.chain_id}: the result pinned block {old.block_number} "
                f"{old.block_hash}, the chain now gives {d.block_number} {d.block_hash} for "
                "the same as_of (reorg, or the result is not from this chain)"
            )
    return fresh


def _carry(derived: Mapping[str, Any], saved: Mapping[str, Any]) -> dict[str, Any]:
    """A derived check with the saved outcome, detail and kind (step and id stay derived)."""
    out = {"step": derived["step"], "id": derived["id"]}
    for key in ("outcome", "detail", "kind"):
        if key in saved:
            out[key] = saved[key]
    return out


def _carry_signers(derived: dict[str, Any], saved: Mapping[str, Any], cid: str) -> None:
    """Take a custodian's counted signers and threshold verdict from the saved result."""
    old = next((a for a in saved.get("attestations", []) if a.get("custodian") == cid), None)
    for row in derived["attestations"]:
        if row["custodian"] == cid and isinstance(old, Mapping):
            for key in ("signers", "threshold_met"):
                if key in old:
                    row[key] = old[key]


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        out: list[str] = []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}.{k}" if path else str(k))
            else:
                out += _diff(a[k], b[k], f"{path}.{k}" if path else str(k))
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path} (length {len(a)} vs {len(b)})"]
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out += _diff(x, y, f"{path}[{i}]")
        return out
    return [] if a == b else [path]


def recheck_result(
    doc: Any,
    *,
    source: str,
    bundle_path: str | None = None,
    policy_path: str | None = None,
    rpc_overrides: Mapping[int, Sequence[str]] | None = None,
    timeout: float = 10.0,
) -> dict[str, Any]:
    """Re-derive a result and compare (see module docstring).

    Returns:
        A small report: digest, supply source, what was carried over.

    Raises:
        RecheckMismatch: the result was edited, its inputs changed, or it does not re-derive.
        SchemaError: not a result, or the inputs it names cannot be read.
        IncompleteError: RPC endpoints failed (only with ``rpc_overrides``).
    """
    check_seal(doc, source=source)
    inputs = doc.get("inputs")
    if not isinstance(inputs, Mapping):
        raise SchemaError(f"{source}: result has no inputs section")
    bpath = bundle_path or str(inputs["bundle"]["path"])
    ppath = policy_path or str(inputs["policy"]["path"])
    bundle = load_bundle(bpath)
    policy = load_policy(ppath)
    for label, got, path in (("bundle", bundle.sha256, bpath), ("policy", policy.sha256, ppath)):
        want = inputs[label]["sha256"]
        if got != want:
            raise RecheckMismatch(
                f"{label} {path} has sha256 {got}, the result names {want}",
                hint=f"recheck needs the exact {label} the result was made from",
            )
    now = parse_rfc3339_utc(doc.get("verified_at"))
    saved_supply = _supply_from_result(doc, source, policy, bundle.as_of)
    if rpc_overrides:
        policy = policy.with_rpc(rpc_overrides)
        supply = _supply_from_chains(saved_supply, policy, bundle.as_of, timeout)
        supply_source = "re-read from the chains"
    else:
        supply = saved_supply
        supply_source = "taken from the result (offline)"

    evidence = None
    if isinstance(doc.get("registry"), Mapping):
        try:
            evidence = {
                r["custodian"]: RegistryEvidence.from_json(r) for r in doc["registry"]["records"]
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemaError(f"{source}: malformed registry section ({exc})") from None
    outcome = verify_bundle(
        bundle,
        policy,
        now=now,
        supply=lambda _p, _a: supply,
        state=None,
        eip1271=eip1271_checker(policy.rpc, timeout=timeout) if rpc_overrides else None,
        inputs=inputs,
        persist=False,
        registry=evidence,
    )
    derived = outcome.result
    # carry over what only the original verifier's private state could decide
    saved_checks = {c["id"]: c for c in doc.get("checks", []) if isinstance(c, Mapping)}
    carried: list[str] = []
    for i, c in enumerate(derived["checks"]):
        if c["id"].endswith(":rollback") and c["id"] in saved_checks:
            derived["checks"][i] = _carry(c, saved_checks[c["id"]])
            carried.append(c["id"])
        if c["id"].endswith(":signatures") and c["id"] in saved_checks:
            # EIP-1271 wallets are asked on their chain: offline, and only for a custodian
            # the policy pins contract wallets for, that outcome is carried over
            cid = c["id"].split(":")[1]
            has_wallets = any(p.id == cid and p.eip1271 for p in policy.custodians)
            if has_wallets and not rpc_overrides:
                derived["checks"][i] = _carry(c, saved_checks[c["id"]])
                carried.append(c["id"])
                _carry_signers(derived, doc, cid)
    outcomes = {c["outcome"] for c in derived["checks"]}
    derived["status"] = (
        "error" if "error" in outcomes else "failed" if "fail" in outcomes else "verified"
    )
    for key in ("registry", "feed"):
        if key in doc:
            derived[key] = doc[key]
            carried.append(key)
    seal(derived)
    if canonical_bytes({k: v for k, v in derived.items() if k != "signature"}) != canonical_bytes(
        {k: v for k, v in doc.items() if k != "signature"}
    ):
        diffs = _diff(
            {k: v for k, v in doc.items() if k not in ("digest", "signature")},
            {k: v for k, v in derived.items() if k not in ("digest", "signature")},
        )
        raise RecheckMismatch(
            f"{source}: the result does not re-derive from its inputs; differs at "
            + ", ".join(diffs[:8])
            + (f" and {len(diffs) - 8} more" if len(diffs) > 8 else "")
        )
    return {
        "digest": derived["digest"],
        "supply_source": supply_source,
        "carried_over": carried,
        "result_status": derived["status"],
    }
