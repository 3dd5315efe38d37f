"""The verify entry point with its IO: load inputs, read chains, keep state, seal the result.

:func:`verifier.checks.bundle.verify_bundle` is the decision logic; this module gathers what it
needs (files, RPC endpoints, the rollback state folder, an EIP-1271 checker, the registry) and
returns the sealed result. The CLI and the public API both call :func:`run_verify`.

Order (DESIGN §1, "State never goes back"): lock the state folder, read the floor, verify,
deliver the result where the user asked, and only then, if verified, raise the floor; unlock.
A run that fails after the checks or cannot deliver its result changes no state.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from verifier.chain.eip1271 import eip1271_checker
from verifier.chain.registry import RegistryEvidence
from verifier.chain.rpc import Deadline, under_deadline
from verifier.checks.bundle import (
    Outcome,
    default_supply,
    pack_hashes,
    verify_bundle,
)
from verifier.local.loaders import load_bundle, load_policy
from verifier.local.state import Floor, RollbackState, locked_state
from verifier.model.bundle import Bundle
from verifier.model.policy import Policy
from verifier.result.seal import seal


def _read_feed(policy: Policy, now: int, timeout: float) -> Any:
    """Read the policy's Chainlink-style PoR feed on every endpoint of its chain.

    Done before the checks: endpoints that disagree stop the run (exit 3) before anything is
    decided or written. Any other failure is returned, to be reported beside the result.

    Returns:
        The ``FeedReading``, or the ``PorvError`` that prevented it.

    Raises:
        EndpointsDisagree: the feed's endpoints answered differently.
        NotFinal: an endpoint is behind the block the chain's finality allows.
    """
    from verifier.chain.feed import read_policy_feed
    from verifier.errors import EndpointsDisagree, NotFinal, PorvError

    assert policy.feed is not None
    try:
        return read_policy_feed(
            policy.feed,
            policy.rpc,
            now=now,
            finality=policy.finality_for(policy.feed.chain_id),
            timeout=timeout,
        )
    except (EndpointsDisagree, NotFinal):  # a lagging endpoint never chooses the block
        raise
    except PorvError as exc:
        return exc


def _feed_cross_check(policy: Policy, result: Mapping[str, Any], reading: Any) -> dict[str, Any]:
    """Put the policy's feed reading (:func:`_read_feed`) beside the attested reserves.

    Reported only: a feed is another party's claim, so it never decides the status.
    """
    from decimal import Decimal

    from verifier.errors import PorvError
    from verifier.model.numbers import exact

    assert policy.feed is not None
    out: dict[str, Any] = {"chain_id": policy.feed.chain_id, "address": policy.feed.address}
    if isinstance(reading, PorvError):
        out["error"] = reading.message
        return out
    out.update(reading.to_json())
    attested = Decimal(str(result["reserves"]["total_in_token_currency"]))
    out["attested_reserves"] = format(attested, "f")
    with exact():
        out["difference"] = format(reading.normalised - attested, "f")
    return out


def build_inputs(bundle: Bundle, policy: Policy, *, state: bool) -> dict[str, Any]:
    """What the result records about its inputs: paths and hashes, rule packs, state use."""
    return {
        "bundle": {"path": os.path.abspath(bundle.source), "sha256": bundle.sha256},
        "policy": {"path": os.path.abspath(policy.source), "sha256": policy.sha256},
        "rule_packs": pack_hashes(policy.jurisdictions),
        "rollback_state": state,
    }


@under_deadline
def run_verify(
    bundle_path: str | os.PathLike[str],
    policy_path: str | os.PathLike[str],
    *,
    now: int,
    rpc_overrides: Mapping[int, Sequence[str]] | None = None,
    state_dir: str | os.PathLike[str] | None = None,
    sign_key: bytes | None = None,
    registry: str | None = None,
    timeout: float = 10.0,
    progress: Callable[..., None] | None = None,
    deliver: Callable[[Outcome], None] | None = None,
    on_state_wait: Callable[[], None] | None = None,
    state_wait: float | None = None,
    deadline: Deadline | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> Outcome:
    """Load, verify and seal: the holder's check as one call.

    With ``state_dir``, the folder's lock is held from reading the floor to writing it, so
    runs sharing a folder serialise; the floor is raised only for a ``verified`` result, and
    only after ``deliver`` returned.

    Every endpoint read obeys ``deadline`` (default: the enclosing one, else a new deadline of
    ``DEFAULT_DEADLINE_S``); reaching it is an error (exit 3), never a partial pass.

    Args:
        deliver: writes the sealed result where the user asked (the CLI renders and writes
            it); if it raises, the error propagates and no state changes. Without it, the
            returned result is the delivery.
        on_state_wait: called once if another run holds the state folder's lock.
        state_wait: seconds to wait for that lock (default ``STATE_LOCK_WAIT_S``).
        on_warning: called with each warning about a weaker mode the policy uses (e.g.
            ``finality = "latest"`` on a chain that is not a local development chain).

    Raises:
        InputError: a bundle, policy or state file that cannot be read (exit 2);
            nothing is written.
        StateLocked: another run held the state folder's lock too long (exit 3).
    """
    policy = load_policy(policy_path)
    if rpc_overrides:
        policy = policy.with_rpc(rpc_overrides)
    if on_warning is not None:
        from verifier.chain.finality import latest_finality_warnings

        for warning in latest_finality_warnings(policy.finality, policy.rpc):
            on_warning(warning)
    bundle = load_bundle(bundle_path)
    registry_info: dict[str, Any] | None = None
    evidence = None
    if registry is not None:
        from verifier.chain.registry import parse_registry_option, read_registry

        chain_id, address = parse_registry_option(registry, policy.registry)
        evidence, registry_info = read_registry(
            policy.rpc,
            chain_id,
            address,
            issuer=policy.issuer,
            token=policy.token,
            custodians=[c.id for c in bundle.custodians],
            now=now,
            finality=policy.finality_for(chain_id),
            timeout=timeout,
        )
    feed = _read_feed(policy, now, timeout) if policy.feed is not None else None
    if state_wait is None:  # the lock wait is part of the run: never past its deadline
        from verifier.chain.rpc import active_deadline
        from verifier.local.state import STATE_LOCK_WAIT_S

        running = active_deadline()
        state_wait = STATE_LOCK_WAIT_S
        if running is not None:
            state_wait = max(0.0, min(state_wait, running.remaining()))
    lock: AbstractContextManager[RollbackState | None] = (
        locked_state(state_dir, wait=state_wait, on_wait=on_state_wait)
        if state_dir is not None
        else nullcontext()
    )
    with lock as rollback:  # held from reading the floor to raising it
        floor = rollback.floor if rollback is not None else None
        outcome = _decide(
            bundle, policy, floor, evidence, registry_info, feed, now, timeout, progress, sign_key
        )
        if deliver is not None:
            deliver(outcome)  # the result is where the user asked before the floor moves
        if rollback is not None and outcome.status == "verified":
            rollback.record(outcome.accepted)
    return outcome


def _decide(
    bundle: Bundle,
    policy: Policy,
    state: Floor | None,
    evidence: Mapping[str, RegistryEvidence] | None,
    registry_info: dict[str, Any] | None,
    feed: Any,
    now: int,
    timeout: float,
    progress: Callable[..., None] | None,
    sign_key: bytes | None,
) -> Outcome:
    """Verify against the floor, add the reported cross-checks, seal. Writes nothing."""
    outcome = verify_bundle(
        bundle,
        policy,
        now=now,
        supply=default_supply(rpc_timeout=timeout, progress=progress),
        state=state,
        eip1271=eip1271_checker(policy.rpc, timeout=timeout, finality=policy.finality_for),
        inputs=build_inputs(bundle, policy, state=state is not None),
        registry=evidence,
    )
    if registry_info is not None:
        outcome.result["registry"] = registry_info
    if policy.feed is not None:
        outcome.result["feed"] = _feed_cross_check(policy, outcome.result, feed)
    seal(outcome.result, sign_key=sign_key)
    return outcome
