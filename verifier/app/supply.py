"""``porv supply``: the circulating supply of a policy's deployments and its feed beside it.

The CLI parses the options and renders; this module loads the policy, reads the chains and
the policy's ``[feed]``, and returns what was read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from verifier.checks.evidence import SupplyReport
from verifier.errors import PorvError
from verifier.model.policy import Policy


@dataclass(frozen=True)
class SupplyRun:
    """What ``porv supply`` read: the policy, its supply report and the feed cross-check.

    ``feed`` is None when the policy has no ``[feed]`` or the supply was not read as of now;
    ``feed_error`` is the failing feed's error (already written into ``feed``) for the warning.
    """

    policy: Policy
    report: SupplyReport
    feed: dict[str, Any] | None
    feed_error: PorvError | None


def load_supply_policy(policy_path: str) -> Policy:
    """The holder's policy file (``--rpc`` overrides are applied by the caller)."""
    from verifier.local.loaders import load_policy

    return load_policy(policy_path)


def run_supply(
    policy: Policy,
    *,
    as_of: int | None,
    at_given: bool,
    block: int | None,
    timeout: float,
    retries: int,
    multicall: dict[int, str],
    progress: Callable[..., None] | None,
) -> SupplyRun:
    """Read the supply of every deployment the policy pins, then the feed beside it."""
    from verifier.chain.supply import read_supply

    report = read_supply(
        policy.deployments,
        policy.rpc,
        # --at pins the final block at that time; without it the heads are read (a block
        # at "now" cannot be final yet)
        as_of=as_of if at_given else None,
        block=block,
        token_decimals=policy.decimals,
        timeout=timeout,
        retries=retries,
        progress=progress,
        multicall=multicall,
        finality=policy.finality,
    )
    # the feed reports its latest round: only comparable with a supply read as of now
    now = as_of if not at_given and block is None else None
    feed, error = cross_check_feed(policy, now, timeout, retries)
    return SupplyRun(policy=policy, report=report, feed=feed, feed_error=error)


def cross_check_feed(
    policy: Policy, now: int | None, timeout: float, retries: int
) -> tuple[dict[str, Any] | None, PorvError | None]:
    """Read the policy's ``[feed]`` beside the supply; a failing feed is reported, not fatal.

    The feed is one more party's claim, shown for comparison; the supply figures do not depend
    on it, so its failure is written into the output (``status: error``) instead of hiding
    the supply that was read.
    """
    from verifier.chain.feed import read_policy_feed

    ref = policy.feed
    if ref is None or now is None:
        return None, None
    base = {"chain_id": ref.chain_id, "address": ref.address}
    try:
        reading = read_policy_feed(
            ref,
            policy.rpc,
            now=now,
            finality=policy.finality_for(ref.chain_id),
            timeout=timeout,
            retries=retries,
        )
    except PorvError as exc:
        return {**base, "status": "error", "error": exc.to_json()}, exc
    return {**base, "status": "ok", **reading.to_json()}, None
