"""The verify entry point with its IO: load inputs, read chains, keep state, seal the result.

:func:`verifier.verify.verify_bundle` is the decision logic; this module gathers what it needs
(files, RPC endpoints, the rollback state folder, an EIP-1271 checker, the registry) and
returns the sealed result. The CLI and the public API both call :func:`run_verify`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from verifier.chain.rpc import Deadline, under_deadline
from verifier.model.bundle import Bundle, load_bundle
from verifier.model.policy import Policy, load_policy
from verifier.result import seal
from verifier.state import RollbackState
from verifier.verify import (
    Eip1271Checker,
    Outcome,
    default_supply,
    pack_hashes,
    verify_bundle,
)

#: ``isValidSignature(bytes32,bytes)`` selector, also the magic value a valid call returns.
EIP1271_MAGIC = bytes.fromhex("1626ba7e")


def eip1271_checker(rpc: Mapping[int, Sequence[str]], *, timeout: float = 10.0) -> Eip1271Checker:
    """An EIP-1271 checker that asks every endpoint of the wallet's chain (they must agree).

    A wallet on a chain with no endpoint, a revert, or any answer other than the magic value
    counts as "not signed"; endpoints that disagree raise (exit 3).
    """
    from eth_abi.abi import decode, encode

    from verifier.chain.rpc import call_all_endpoints

    def check(
        chain_id: int, wallet: str, digest: bytes, signature: bytes, block: int | None
    ) -> bool:
        urls = rpc.get(chain_id)
        if not urls:
            return False
        data = EIP1271_MAGIC + encode(["bytes32", "bytes"], [digest, signature])
        answer = call_all_endpoints(chain_id, urls, wallet, data, block=block, timeout=timeout)
        if answer is None or len(answer) < 32:
            return False
        (magic,) = decode(["bytes4"], answer[:32])
        return bool(magic == EIP1271_MAGIC)

    return check


def _feed_cross_check(
    policy: Policy, result: Mapping[str, Any], now: int, timeout: float
) -> dict[str, Any]:
    """Read the policy's Chainlink-style PoR feed and put it beside the attested reserves.

    Reported only: a feed is another party's claim, so it never decides the status.
    """
    from decimal import Decimal

    from verifier.chain.feed import read_policy_feed
    from verifier.errors import PorvError

    assert policy.feed is not None
    out: dict[str, Any] = {"chain_id": policy.feed.chain_id, "address": policy.feed.address}
    try:
        reading = read_policy_feed(policy.feed, policy.rpc, now=now, timeout=timeout)
    except PorvError as exc:
        out["error"] = exc.message
        return out
    out.update(reading.to_json())
    attested = Decimal(str(result["reserves"]["total_in_token_currency"]))
    out["attested_reserves"] = format(attested, "f")
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
    deadline: Deadline | None = None,
) -> Outcome:
    """Load, verify and seal: the holder's check as one call.

    Every endpoint read obeys ``deadline`` (default: the enclosing one, else a new deadline of
    ``DEFAULT_DEADLINE_S``); reaching it is an error (exit 3), never a partial pass.

    Raises:
        InputError: a bundle, policy or state file that cannot be read (exit 2);
            nothing is written.
    """
    policy = load_policy(policy_path)
    if rpc_overrides:
        policy = policy.with_rpc(rpc_overrides)
    bundle = load_bundle(bundle_path)
    state = RollbackState(state_dir) if state_dir is not None else None
    registry_info: dict[str, Any] | None = None
    evidence = None
    if registry is not None:
        from verifier.registry_source import parse_registry_option, read_registry

        chain_id, address = parse_registry_option(
            registry, policy.registry.chain_id if policy.registry else None
        )
        evidence, registry_info = read_registry(
            policy.rpc,
            chain_id,
            address,
            issuer=policy.issuer,
            token=policy.token,
            custodians=[c.id for c in bundle.custodians],
            now=now,
            timeout=timeout,
        )
    outcome = verify_bundle(
        bundle,
        policy,
        now=now,
        supply=default_supply(rpc_timeout=timeout, progress=progress),
        state=state,
        eip1271=eip1271_checker(policy.rpc, timeout=timeout),
        inputs=build_inputs(bundle, policy, state=state is not None),
        registry=evidence,
    )
    if registry_info is not None:
        outcome.result["registry"] = registry_info
    if policy.feed is not None:
        outcome.result["feed"] = _feed_cross_check(policy, outcome.result, now, timeout)
    seal(outcome.result, sign_key=sign_key)
    return outcome
