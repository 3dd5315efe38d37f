"""The verify entry point with its IO: load inputs, read chains, keep state, seal the result.

:func:`verifier.checks.bundle.verify_bundle` is the decision logic, pure; this module gathers
what it needs as data (files, supply read at the pinned blocks, the EIP-1271 wallets' answers,
the registry's records, the rollback floor) and returns the sealed result. The CLI and the
public API both call :func:`run_verify`.

Order (DESIGN §1, "State never goes back"): lock the state folder, read the floor, read the
chains (supply, then each pinned wallet named by a signature at the supply pin), decide,
deliver the result where the user asked, and only then, if verified, raise the floor; unlock.
A run that fails after the checks or cannot deliver its result changes no state.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from verifier.chain.eip1271 import Eip1271Checker, eip1271_checker
from verifier.chain.rpc import Deadline, under_deadline
from verifier.chain.supply import read_supply
from verifier.checks.bundle import (
    Outcome,
    as_of_in_future,
    pack_hashes,
    pinned_blocks,
    verify_bundle,
    wallet_asks,
)
from verifier.checks.evidence import Evidence, RegistryEvidence, SupplyReport, WalletAsk
from verifier.checks.floor import Floor
from verifier.errors import ClaimFailedError, IncompleteError, PorvError
from verifier.local.loaders import load_bundle, load_policy
from verifier.local.state import RollbackState, locked_state
from verifier.model.bundle import Bundle
from verifier.model.fx import FxRate
from verifier.model.policy import Policy
from verifier.result.seal import seal

#: A supply provider: (policy, as_of) -> supply report.
_log = logging.getLogger(__name__)

SupplyProvider = Callable[[Policy, int], SupplyReport]


def default_supply(
    rpc_timeout: float = 10.0, retries: int = 2, progress: Callable[..., None] | None = None
) -> SupplyProvider:
    """The supply provider that reads the chains the policy pins at the last block ≤ as_of."""

    def provide(policy: Policy, as_of: int) -> SupplyReport:
        return read_supply(
            policy.deployments,
            policy.rpc,
            as_of=as_of,
            token_decimals=policy.decimals,
            timeout=rpc_timeout,
            retries=retries,
            progress=progress,
            finality=policy.finality,
        )

    return provide


def read_bundle_supply(
    bundle: Bundle, policy: Policy, now: int, provide: SupplyProvider
) -> SupplyReport | PorvError | None:
    """Supply for step 4, read before the decisions: the report, or the claim failure or
    incomplete read step 4 records; None (nothing read) when the bundle's as_of is in the
    future (step 2's rule: no pin at it can be final).

    Raises:
        PorvError: anything else reading raised (an input error stops the run, exit 2).
    """
    if as_of_in_future(bundle.as_of, now):
        return None
    try:
        return provide(policy, bundle.as_of)
    except (ClaimFailedError, IncompleteError) as exc:
        return exc


def ask_wallets(
    bundle: Bundle,
    policy: Policy,
    supply: SupplyReport | PorvError | None,
    check: Eip1271Checker,
) -> dict[WalletAsk, bool | PorvError]:
    """Ask each pinned wallet a signature entry names, once per attestation, at the supply pin
    of its chain (else at the head): the questions :func:`wallet_asks` lists.

    A claim failure is kept as that wallet's answer; an incomplete answer is kept too, and the
    attestation's other wallets are not asked (its signatures step is an error already).
    """
    blocks = pinned_blocks(supply)
    verdicts: dict[WalletAsk, bool | PorvError] = {}
    stopped: set[bytes] = set()
    for _cid, ask in wallet_asks(bundle, policy):
        chain_id, wallet, digest, signature = ask
        if digest in stopped:
            continue
        try:
            verdicts[ask] = check(chain_id, wallet, digest, signature, blocks.get(chain_id))
        except ClaimFailedError as exc:
            verdicts[ask] = exc
        except IncompleteError as exc:
            verdicts[ask] = exc
            stopped.add(digest)
    return verdicts


def _read_feed(policy: Policy, now: int, timeout: float) -> Any:
    """Read the policy's Chainlink-style PoR feed on every endpoint of its chain.

    Done before the checks: endpoints that disagree stop the run (exit 3) before anything is
    decided or written. Any other failure is returned, to be reported beside the result.

    Returns:
        The ``FeedReading``, or the ``PorvError`` that prevented it.

    Raises:
        EndpointsDisagreeError: the feed's endpoints answered differently.
        NotFinalError: an endpoint is behind the block the chain's finality allows.
    """
    from verifier.chain.feed import read_policy_feed
    from verifier.errors import EndpointsDisagreeError, NotFinalError, PorvError

    assert policy.feed is not None
    try:
        return read_policy_feed(
            policy.feed,
            policy.rpc,
            now=now,
            finality=policy.finality_for(policy.feed.chain_id),
            timeout=timeout,
        )
    except (EndpointsDisagreeError, NotFinalError):  # a lagging endpoint never chooses the block
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


def read_fx_feeds(
    policy: Policy, supply: SupplyReport | PorvError | None, *, timeout: float
) -> tuple[tuple[FxRate, ...], dict[str, str]]:
    """Read every ``[fx]`` feed of the policy at the block supply pinned on its chain.

    Every endpoint of the chain must give the same answer (:func:`read_policy_feed`). A feed
    with no code or no valid round, or a round updated after the pinned block, gives no rate:
    the reason is returned per pair, and a floor needing it stays ``not_evaluated``.

    Returns:
        The rates read, and per ``BASE/QUOTE`` pair without a usable rate, why. Nothing when
        supply was not read (no pin, and no rule runs).

    Raises:
        PorvError: endpoints that disagree, are not final at the pin, or answer malformed
            data (exit 3), as for supply.
    """
    if not isinstance(supply, SupplyReport) or not policy.fx_feeds:
        return (), {}
    from verifier.chain.feed import read_policy_feed
    from verifier.checks.evidence import fx_rate_from_feed

    pins: dict[int, tuple[int, int]] = {}
    for d in supply.deployments:
        pins.setdefault(d.chain_id, (d.block_number, d.block_timestamp))
    rates: list[FxRate] = []
    unusable: dict[str, str] = {}
    for pin in policy.fx_feeds:
        feed = pin.feed
        assert feed is not None  # fx_feeds holds the pairs read from a feed
        block, stamp = pins[feed.chain_id]  # the policy names feeds on pinned chains only
        try:
            reading = read_policy_feed(
                feed,
                policy.rpc,
                now=stamp,
                block=block,
                finality=policy.finality_for(feed.chain_id),
                timeout=timeout,
            )
        except IncompleteError as exc:
            if type(exc) is not IncompleteError:  # an endpoint's fault (RpcError, not final,
                raise  # the deadline): exit 3, as for supply
            # the feed's own state: no code, or no valid round (feed_reading)
            unusable[pin.pair] = f"{pin.pair} feed gave no rate: {exc.message}"
            continue
        got = fx_rate_from_feed(
            pin.base,
            pin.quote,
            chain_id=feed.chain_id,
            address=feed.address,
            block_number=reading.block_number,
            block_timestamp=stamp,
            answer=reading.answer,
            decimals=reading.decimals,
            updated_at=reading.updated_at,
        )
        if isinstance(got, str):
            unusable[pin.pair] = got
        else:
            rates.append(got)
        _log.debug("fx feed %s: %s", pin.pair, got if isinstance(got, str) else got.describe())
    return tuple(rates), unusable


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
    detail: bool = False,
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
        detail: write the detailed result (per-holding risk inputs, longer holding lists);
            default the compact one (see :func:`verify_bundle`).

    Raises:
        InputError: a bundle, policy or state file that cannot be read (exit 2);
            nothing is written.
        StateLockedError: another run held the state folder's lock too long (exit 3).
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
        from verifier.chain.registry import parse_registry_option, read_pinned_registry

        chain_id, address = parse_registry_option(registry, policy.registry)
        evidence, registry_info = read_pinned_registry(
            policy, chain_id, address, [c.id for c in bundle.custodians], now=now, timeout=timeout
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
        _log.debug(
            "rollback floor: %s", "kept in " + str(state_dir) if floor is not None else "none kept"
        )
        outcome = _decide(
            bundle,
            policy,
            floor,
            evidence,
            registry_info,
            feed,
            now,
            timeout,
            progress,
            sign_key,
            detail,
        )
        if deliver is not None:
            deliver(outcome)  # the result is where the user asked before the floor moves
            _log.debug("result delivered (status %s)", outcome.status)
        if rollback is not None and outcome.status == "verified":
            rollback.record(outcome.accepted)
            _log.debug("rollback floor raised for %d custodian(s)", len(outcome.accepted))
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
    detail: bool = False,
) -> Outcome:
    """Read supply and the wallets' answers, decide against the floor, add the reported
    cross-checks, seal. Writes nothing."""
    supply = read_bundle_supply(
        bundle, policy, now, default_supply(rpc_timeout=timeout, progress=progress)
    )
    if isinstance(supply, SupplyReport):
        for d in supply.deployments:
            _log.debug(
                "supply: chain %d token %s pinned at block %d (%s), circulating %d",
                d.chain_id,
                d.address,
                d.block_number,
                d.finality,
                d.circulating,
            )
    else:
        _log.debug("supply not read: %s", supply)
    wallets = ask_wallets(
        bundle,
        policy,
        supply,
        eip1271_checker(policy.rpc, timeout=timeout, finality=policy.finality_for),
    )
    _log.debug("wallet answers: %d", len(wallets))
    fx_rates, fx_unusable = read_fx_feeds(policy, supply, timeout=timeout)
    outcome = verify_bundle(
        bundle,
        policy,
        now=now,
        supply=supply,
        floor=state,
        evidence=Evidence(
            registry=evidence, wallets=wallets, fx_rates=fx_rates, fx_unusable=fx_unusable
        ),
        inputs=build_inputs(bundle, policy, state=state is not None),
        detail=detail,
    )
    if registry_info is not None:
        outcome.result["registry"] = registry_info
    if policy.feed is not None:
        outcome.result["feed"] = _feed_cross_check(policy, outcome.result, feed)
    seal(outcome.result, sign_key=sign_key)
    return outcome
