"""``porv recheck``: re-derive a saved result from its inputs and compare.

Recheck re-derives; it does not trust (DESIGN §1). In order:

1. the digest must match the content (any edit to the file shows here), and a signature, if
   present, must recover to its named signer;
2. the bundle and policy are the files the holder gives (``--bundle``, ``--policy``); only when
   one is not given is the path the result records used, and only if it is a regular file
   within the loader's size cap (a result naming ``/dev/zero`` or a FIFO is refused, exit 2);
3. ``inputs`` is re-derived: the sha256 of the bundle and policy, and of every rule pack the
   policy names, must be the recorded ones; the recorded paths are kept as labels;
4. every offline step is run again at the recorded ``verified_at`` (see "Time" below); supply is
   read again at the recorded blocks when RPC endpoints are given (block hashes must match),
   else taken from the result after checking that it adds up;
5. the re-derived result must equal the saved one, member for member.

What offline recheck cannot re-derive is carried over, each item named in the report
(``carried_over``), and nothing else:

* ``supply`` (offline only): block numbers, hashes, times and balances as recorded (checked to
  be the policy's deployments, at or before as_of, and to add up);
* ``inputs.rollback_state`` and each custodian's ``attestation:<id>:rollback`` outcome: they
  depend on the verifier's private state folder (when the result says no state was kept, the
  rollback checks are re-derived as skipped instead);
* for a custodian whose policy pins EIP-1271 contract wallets, offline only: each wallet's own
  verdict ("wallet W on chain C answered isValidSignature with the magic value at block B"),
  credited only for a wallet the saved result counts among that custodian's signers. Plain
  secp256k1 and BLS signatures are verified again and counted by the same counter as verify;
* ``registry`` and ``feed`` (offline only): what the on-chain registry and the PoR feed
  answered, including the check that the registry's code was porv's registry; porv still
  recovers each registry signer from the stored signature. With ``--rpc`` the registry is read
  again from the policy's pin, through verify's own reader, at the recorded block, and must
  re-derive;
* ``fx`` (offline only): what the policy's ``[fx]`` feeds answered, checked to come from those
  feeds at the recorded pinned blocks; with ``--rpc`` they are read again at those blocks.

Time. ``verified_at`` is the result's own claim unless an operator the holder names
(``operators``, ``porv recheck --operator``) signed the result. Rule:

* it may not be before the pinned blocks' finality: offline the result records only the pinned
  blocks' timestamps, so ``verified_at`` must be at or after every pinned block's timestamp
  (with ``--rpc``, the timestamps the chain gives), less the clock skew verify allows for
  ``as_of`` (``MAX_FUTURE_SKEW_S``); nor after this recheck's clock plus that skew; else
  mismatch, signed or not;
* signed by a named operator (``time_bound_by_signature: true``): the result re-derives at
  ``verified_at`` and that is all;
* otherwise (unsigned, or signed by a key the holder did not name): the verification may have
  happened at any moment between finality and this recheck. Freshness only worsens with time,
  so a ``verified`` result must also re-derive as ``verified`` at this recheck's own clock; if
  it does not (an attestation expired or grew older than ``max_age`` since), recheck fails with
  ``time_not_bound``. A result backdated into an attestation's validity and resealed therefore
  never rechecks as verified without a signature the holder trusts.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from verifier.app.verify import ask_wallets, build_inputs, read_fx_feeds
from verifier.chain.eip1271 import Eip1271Checker, eip1271_checker
from verifier.chain.supply import read_supply
from verifier.checks.bundle import as_of_in_future, pinned_blocks, verify_bundle
from verifier.checks.evidence import (
    DeploymentSupply,
    Evidence,
    RegistryEvidence,
    SupplyReport,
    fx_from_section,
    scale_up,
)
from verifier.errors import (
    Location,
    RecheckMismatchError,
    SchemaError,
    TimeNotBoundError,
    WrongBlockError,
)
from verifier.local.loaders import load_bundle, load_policy
from verifier.model.bundle import Bundle
from verifier.model.fx import FxRate
from verifier.model.jsontext import canonical_bytes
from verifier.model.policy import Policy
from verifier.model.timeutil import MAX_FUTURE_SKEW_S, format_rfc3339, parse_rfc3339_utc
from verifier.result.seal import check_seal, seal
from verifier.result.verdict import VERIFIED, verdict
from verifier.signatures.eip712 import attestation_digest


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
        raise RecheckMismatchError(f"{source}: the result has no supply to recheck against")
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
        raise RecheckMismatchError(
            f"{source}: the supply section does not list exactly the policy's deployments and "
            "excluded addresses"
        )
    if report.decimals != policy.decimals:
        raise RecheckMismatchError(
            f"{source}: supply decimals {report.decimals}, policy {policy.decimals}"
        )
    total = 0
    for d in deps:
        where = f"{source}: supply of {d.chain_id}:{d.address}"
        if d.circulating != d.total_supply - sum(bal for _, bal in d.excluded):
            raise RecheckMismatchError(
                f"{where} does not add up (totalSupply {d.total_supply} − excluded ≠ "
                f"circulating {d.circulating})"
            )
        if d.block_timestamp > as_of:
            raise RecheckMismatchError(f"{where}: block time {d.block_timestamp} is after as_of")
        _check_final_pin_recorded(d, where, policy, as_of)
        scaled, added = scale_up(d.circulating, d.decimals, policy.decimals)
        if d.rounded_up != added:
            raise RecheckMismatchError(
                f"{where}: rounded up by {d.rounded_up} base unit(s), the circulating amount "
                f"needs {added} to reach the policy's {policy.decimals} decimals"
            )
        total += scaled
    if total != report.total_circulating:
        raise RecheckMismatchError(
            f"{source}: total circulating {report.total_circulating} is not the sum of the "
            f"deployments ({total})"
        )
    return report


def _check_final_pin_recorded(d: DeploymentSupply, where: str, policy: Policy, as_of: int) -> None:
    """The pin was made with the policy's finality, and its recorded successor is after as_of."""
    want = policy.finality_for(d.chain_id)
    if d.finality != want:
        raise RecheckMismatchError(
            f"{where}: pinned with finality {d.finality!r}, the policy's is {want!r}"
        )
    s = d.successor
    if s is None or s.number != d.block_number + 1 or s.timestamp <= as_of:
        raise RecheckMismatchError(
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
            raise WrongBlockError(
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


def _named_path(inputs: Mapping[str, Any], label: str, given: str | None, source: str) -> str:
    """The file to read for ``label``: the holder's, else the path the result records."""
    if given is not None:
        return given
    entry = inputs.get(label)
    path = entry.get("path") if isinstance(entry, Mapping) else None
    if not isinstance(path, str) or not path:
        raise SchemaError(
            f"{source}: the result records no {label} path",
            hint=f"pass the {label} with --{label}",
        )
    return path


def _derive_inputs(
    saved: Mapping[str, Any], bundle: Bundle, policy: Policy, source: str
) -> dict[str, Any]:
    """``inputs`` as this recheck finds them: hashes recomputed, paths kept as recorded.

    ``rollback_state`` (whether the verifier kept a rollback floor) is the one recorded fact:
    it must be a boolean; it is carried over and named.
    """
    state_used = saved.get("rollback_state")
    if not isinstance(state_used, bool):
        raise SchemaError(f"{source}: inputs.rollback_state must be true or false")
    out = build_inputs(bundle, policy, state=state_used)
    for label in ("bundle", "policy"):
        entry = saved.get(label)
        if isinstance(entry, Mapping) and isinstance(entry.get("path"), str):
            out[label]["path"] = entry["path"]
    return out


def _check_time(verified_at: int, supply: SupplyReport, now: int, source: str) -> None:
    """``verified_at`` is not before the pinned blocks' finality, nor after this clock.

    A pin is final only once its successor (the first block after as_of) exists, so no verifier
    could have read it before the successor's time; the result records that block (older
    records without it fall back to the pinned block's own time). Both bounds allow the clock
    skew verify allows between a verifier's clock and a bundle's as_of
    (:data:`MAX_FUTURE_SKEW_S`): a chain's block times may run ahead of the verifier's clock.
    """
    for d in supply.deployments:
        final = d.successor
        when = final.timestamp if final is not None else d.block_timestamp
        which = (
            f"block {final.number}, the successor that made block {d.block_number} final,"
            if final is not None
            else f"pinned block {d.block_number}"
        )
        if verified_at + MAX_FUTURE_SKEW_S < when:
            raise RecheckMismatchError(
                f"{source}: verified_at {format_rfc3339(verified_at)} is before {which} on "
                f"chain {d.chain_id} (time {format_rfc3339(when)}): no verifier could have "
                "read it final then",
                hint="the result's time was moved back",
            )
    if verified_at > now + MAX_FUTURE_SKEW_S:
        raise RecheckMismatchError(
            f"{source}: verified_at {format_rfc3339(verified_at)} is "
            f"{verified_at - now} s after this recheck's clock ({format_rfc3339(now)})",
            hint="the result's time was moved forward, or this clock is wrong",
        )


class _CarriedWallets:
    """Offline EIP-1271 verdicts taken from the saved result, one per (custodian, wallet).

    A wallet is credited only when the saved result counts it among the signers of the
    custodian whose attestation digest is being checked (digests are computed from the bundle,
    whose hash was checked). Every verdict asked for is recorded for the report.
    """

    def __init__(self, doc: Mapping[str, Any], bundle: Bundle) -> None:
        self._by_digest = {attestation_digest(e.message): e.id for e in bundle.custodians}
        self._signers: dict[str, set[str]] = {}
        rows = doc.get("attestations")
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, Mapping) and isinstance(row.get("custodian"), str):
                listed = row.get("signers")
                names = (
                    {s for s in listed if isinstance(s, str)} if isinstance(listed, list) else set()
                )
                self._signers.setdefault(row["custodian"], set()).update(names)
        self.verdicts: list[dict[str, Any]] = []

    def __call__(
        self, chain_id: int, wallet: str, digest: bytes, signature: bytes, block: int | None
    ) -> bool:
        cid = self._by_digest.get(digest)
        valid = cid is not None and wallet in self._signers.get(cid, set())
        verdict = {
            "custodian": cid,
            "chain_id": chain_id,
            "wallet": wallet,
            "block": block,
            "valid": valid,
        }
        if verdict not in self.verdicts:
            self.verdicts.append(verdict)
        return valid


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


def _reread_registry(
    saved: Mapping[str, Any],
    source: str,
    policy: Policy,
    bundle: Any,
    now: int,
    timeout: float,
) -> tuple[dict[str, RegistryEvidence], dict[str, Any]]:
    """Read the registry a result used again, with verify's own reader (``--rpc``).

    The result's registry must be the one the policy pins; it is read at the block the result
    recorded (the endpoints must still serve it with the same hash, or the re-read differs).

    Raises:
        RecheckMismatchError: the result names another registry than the policy's pin.
        SchemaError: a malformed registry section.
        IncompleteError: the endpoints failed or disagree.
    """
    from verifier.chain.registry import read_pinned_registry

    try:
        chain_id, address = int(saved["chain_id"]), str(saved["address"])
        block = int(saved["block_number"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SchemaError(f"{source}: malformed registry section ({exc})") from None
    pin = policy.registry
    if pin is None or (pin.chain_id, pin.address) != (chain_id, address):
        raise RecheckMismatchError(
            f"{source}: the result read registry {address} on chain {chain_id}, which is not "
            "the registry the policy pins ([registry])"
        )
    return read_pinned_registry(
        policy,
        chain_id,
        address,
        [c.id for c in bundle.custodians],
        now=now,
        block=block,
        timeout=timeout,
    )


def recheck_result(
    doc: Any,
    *,
    source: str,
    bundle_path: str | None = None,
    policy_path: str | None = None,
    rpc_overrides: Mapping[int, Sequence[str]] | None = None,
    timeout: float = 10.0,
    operators: Sequence[str] = (),
    now: int | None = None,
) -> dict[str, Any]:
    """Re-derive a result and compare (see the module docstring for what is carried over and
    the rule on ``verified_at``).

    Args:
        bundle_path, policy_path: the files the holder gives; None: the paths the result
            records (regular files within the loaders' size caps only).
        operators: checksummed addresses of the verifier operators the holder trusts; only a
            signature by one of them binds ``verified_at``.
        now: this recheck's clock (unix seconds); None reads the system clock.

    Returns:
        The report: digest, supply source, what was carried over (``carried_over``, and each
        EIP-1271 verdict under ``carried_over_eip1271``), the result's status, ``verified_at``,
        ``time_bound_by_signature`` and the signer.

    Raises:
        RecheckMismatchError: the result was edited, its inputs changed, or it does not re-derive.
        TimeNotBoundError: it re-derives only at a ``verified_at`` no named operator signed.
        SchemaError, PolicyError: not a result, or the inputs cannot be read.
        IncompleteError: RPC endpoints failed (only with ``rpc_overrides``).
    """
    clock = int(time.time()) if now is None else now
    signer = check_seal(doc, source=source)
    inputs = doc.get("inputs")
    if not isinstance(inputs, Mapping):
        raise SchemaError(f"{source}: result has no inputs section")
    bpath = _named_path(inputs, "bundle", bundle_path, source)
    ppath = _named_path(inputs, "policy", policy_path, source)
    policy = load_policy(ppath)
    bundle = load_bundle(bpath)
    derived_inputs = _derive_inputs(inputs, bundle, policy, source)
    for label, path in (("bundle", bpath), ("policy", ppath)):
        got = derived_inputs[label]["sha256"]
        entry = inputs.get(label)
        want = entry.get("sha256") if isinstance(entry, Mapping) else None
        if got != want:
            raise RecheckMismatchError(
                f"{label} {path} has sha256 {got}, the result names {want}",
                hint=f"recheck needs the exact {label} the result was made from",
            )
    verified_at = parse_rfc3339_utc(
        doc.get("verified_at"), location=Location(file=source, field="verified_at")
    )
    saved_supply = _supply_from_result(doc, source, policy, bundle.as_of)
    carried: list[str] = []
    wallets: _CarriedWallets | None = None
    eip1271: Eip1271Checker
    if rpc_overrides:
        policy = policy.with_rpc(rpc_overrides)
        supply = _supply_from_chains(saved_supply, policy, bundle.as_of, timeout)
        supply_source = "re-read from the chains"
        eip1271 = eip1271_checker(policy.rpc, timeout=timeout, finality=policy.finality_for)
    else:
        supply = saved_supply
        supply_source = "taken from the result (offline)"
        carried.append("supply")
        wallets = _CarriedWallets(doc, bundle)
        eip1271 = wallets
    _check_time(verified_at, supply, clock, source)
    bound = signer is not None and signer in set(operators)

    evidence: dict[str, RegistryEvidence] | None = None
    registry_info: dict[str, Any] | None = None
    if isinstance(doc.get("registry"), Mapping) and rpc_overrides:
        # read again from the policy's registry at the recorded block, as verify reads it
        evidence, registry_info = _reread_registry(
            doc["registry"], source, policy, bundle, verified_at, timeout
        )
    elif isinstance(doc.get("registry"), Mapping):
        try:
            evidence = {
                r["custodian"]: RegistryEvidence.from_json(r) for r in doc["registry"]["records"]
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemaError(f"{source}: malformed registry section ({exc})") from None

    # each pinned wallet a signature names, asked once (offline: the saved result's verdicts)
    # at the recorded pin, for both derivations below
    # (a bundle as_of in the future at verified_at pins nothing: its wallets at the head)
    pin = None if as_of_in_future(bundle.as_of, verified_at) else supply
    if rpc_overrides:  # the [fx] feeds read again at the recorded pins, by verify's reader
        fx_rates, fx_unusable = read_fx_feeds(policy, pin, timeout=timeout)
    else:
        fx_rates, fx_unusable = _fx_from_result(doc, source, policy, pin)
        if "fx" in doc:
            carried.append("fx")
    known = Evidence(
        registry=evidence,
        wallets=ask_wallets(bundle, policy, pin, eip1271),
        fx_rates=fx_rates,
        fx_unusable=fx_unusable,
    )

    detail = doc.get("detail") is True  # the saved result's form: compact or detailed

    def derive(at: int) -> dict[str, Any]:
        return verify_bundle(
            bundle,
            policy,
            now=at,
            supply=supply,
            floor=None,
            evidence=known,
            inputs=derived_inputs,
            detail=detail,
        ).result

    derived = derive(verified_at)
    if wallets is not None:
        for v in wallets.verdicts:
            if v["valid"]:
                at = "the head" if v["block"] is None else f"block {v['block']}"
                carried.append(
                    f"attestation:{v['custodian']}:signatures: EIP-1271 wallet {v['wallet']} "
                    f"on chain {v['chain_id']} accepted the signature at {at}"
                )
    # carry over what only the original verifier's private state could decide
    if derived_inputs["rollback_state"]:
        carried.append("inputs.rollback_state")
        rollback_ids = {f"attestation:{e.id}:rollback" for e in bundle.custodians}
        saved_checks = {
            c["id"]: c
            for c in doc.get("checks", [])
            if isinstance(c, Mapping) and isinstance(c.get("id"), str)
        }
        for i, c in enumerate(derived["checks"]):
            if c["id"] not in rollback_ids:
                continue
            saved = saved_checks.get(c["id"])
            if saved is None or saved.get("outcome") not in ("pass", "fail", "error"):
                raise RecheckMismatchError(
                    f"{source}: inputs.rollback_state says a rollback floor was kept, but "
                    f"{c['id']} has no rollback outcome"
                )
            derived["checks"][i] = _carry(c, saved)
            carried.append(c["id"])
    derived["status"] = verdict(c["outcome"] for c in derived["checks"])
    if registry_info is not None:
        derived["registry"] = registry_info
    for key in ("registry", "feed"):
        if key in doc and key not in derived:
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
        raise RecheckMismatchError(
            f"{source}: the result does not re-derive from its inputs; differs at "
            + ", ".join(diffs[:8])
            + (f" and {len(diffs) - 8} more" if len(diffs) > 8 else "")
        )
    if derived["status"] == VERIFIED and not bound:
        _hold_at_recheck_time(derive(clock), doc, signer, source, verified_at, clock)
    return {
        "digest": derived["digest"],
        "supply_source": supply_source,
        "carried_over": carried,
        "carried_over_eip1271": [v for v in wallets.verdicts if v["valid"]] if wallets else [],
        "result_status": derived["status"],
        "verified_at": format_rfc3339(verified_at),
        "time_bound_by_signature": bound,
        "rechecked_at": format_rfc3339(clock),
        "signed_by": signer,
    }


def _fx_from_result(
    doc: Mapping[str, Any], source: str, policy: Policy, supply: SupplyReport | None
) -> tuple[tuple[FxRate, ...], dict[str, str]]:
    """The ``[fx]`` feeds' answers a result recorded, each from the policy's feed for its pair
    at the block supply was pinned at on that chain.

    Raises:
        SchemaError: a malformed ``fx`` section.
        RecheckMismatchError: a rate not read from the policy's feed at the pinned block.
    """
    if "fx" not in doc:
        return (), {}
    try:
        rates, unusable = fx_from_section(doc["fx"])
    except (KeyError, TypeError, ValueError) as exc:
        raise SchemaError(f"{source}: malformed fx section ({exc})") from None
    feeds = {p.pair: p.feed for p in policy.fx_feeds}
    blocks = pinned_blocks(supply)
    for r in rates:
        feed = feeds.get(r.pair)
        if (
            feed is None
            or (r.chain_id, r.address) != (feed.chain_id, feed.address)
            or blocks.get(feed.chain_id) != r.block_number
        ):
            raise RecheckMismatchError(
                f"{source}: the {r.pair} rate was not read from the policy's [fx] feed at the "
                "pinned block"
            )
    for pair in unusable:
        if pair not in feeds:
            raise RecheckMismatchError(f"{source}: fx names {pair}, not a feed of the policy")
    return rates, unusable


def _hold_at_recheck_time(
    later: Mapping[str, Any],
    doc: Mapping[str, Any],
    signer: str | None,
    source: str,
    verified_at: int,
    now: int,
) -> None:
    """An unbound ``verified`` must also hold at this recheck's clock (module docstring)."""
    if later["status"] == VERIFIED:
        return
    failing = [
        f"{c['id']}: {c['detail']}" for c in later["checks"] if c["outcome"] in ("fail", "error")
    ]
    why = (
        "the result is not signed"
        if signer is None
        else f"the result is signed by {signer}, an operator not named with --operator"
    )
    raise TimeNotBoundError(
        f"{source}: {why}, so its verified_at {format_rfc3339(verified_at)} is only its own "
        f"claim and the time is not bound; it verifies only at that time, not at this "
        f"recheck's time {format_rfc3339(now)}: " + "; ".join(failing),
        hint="ask for a result signed by an operator you trust (--operator ADDR), or verify "
        "the bundle again",
    )
