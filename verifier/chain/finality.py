"""When a pin is final (DESIGN §1, "Final pin"): a pure decision over block headers.

The block pinned for ``as_of`` is the latest block whose timestamp is <= ``as_of``. That is
only true once a block with a timestamp > ``as_of`` exists, so the pin holds when:

* its successor exists: the next block, whose parent is the pinned block and whose
  timestamp is > ``as_of`` (a chain whose head is still <= ``as_of`` is not final yet);
* every endpoint of the chain has reached the successor (an endpoint that is behind cannot
  confirm the pin, and its lower head never chooses an earlier one);
* the successor is safe from reorgs on every endpoint, per the policy's ``[finality]`` for
  the chain: at or below the ``finalized`` block the endpoint reports (``"finalized"``, the
  default), at least N blocks below its head (N confirmations), or merely present
  (``"latest"``, for local development chains).

Every endpoint must then serve the pinned block and its successor with the same hashes; the
chain reader checks that in the same batch as the values it reads.

:func:`check_final_pin` takes only headers and raises :class:`~verifier.errors.NotFinalError`
(exit 3) naming the chain and why; it does no IO.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from verifier.checks.evidence import BlockHeader, Finality
from verifier.errors import NotFinalError, WrongBlockError, redact_url
from verifier.model.timeutil import format_rfc3339

FINALIZED = "finalized"
LATEST = "latest"
#: The finality of a chain the policy's ``[finality]`` does not name.
DEFAULT_FINALITY: Finality = FINALIZED


@dataclass(frozen=True)
class EndpointView:
    """What one endpoint reported about its chain: its head and, if asked, its finalized block.

    ``finalized`` is None when the endpoint was not asked for it or does not serve the tag.
    """

    url: str
    head: BlockHeader
    finalized: BlockHeader | None = None


def describe(finality: Finality) -> str:
    """Human-readable finality: ``finalized``, ``latest`` or ``N confirmations``."""
    if isinstance(finality, int):
        return f"{finality} confirmation{'s' if finality != 1 else ''}"
    return finality


def check_final_pin(
    chain_id: int,
    as_of: int,
    finality: Finality,
    pinned: BlockHeader,
    successor: BlockHeader | None,
    views: Sequence[EndpointView],
) -> None:
    """Decide whether ``pinned`` is the final pin for ``as_of`` on this chain.

    Args:
        chain_id: the chain (for messages).
        as_of: unix seconds.
        finality: the policy's finality for this chain.
        pinned: the latest block with timestamp <= ``as_of`` that the search found.
        successor: the block after it (timestamp > ``as_of``), or None when the searched
            endpoint has no block after ``as_of``.
        views: every endpoint's head (and finalized block, for ``"finalized"``).

    Raises:
        NotFinalError: the pin is not final yet, with the reason.
        ValueError: ``finality`` is not a valid finality (a programming error).
    """
    if not (finality in (FINALIZED, LATEST) or (type(finality) is int and finality >= 1)):
        raise ValueError(f"unknown finality {finality!r}")
    where = f"not final yet on chain {chain_id}"
    when = f"as_of {format_rfc3339(as_of)}"
    if pinned.timestamp > as_of:
        raise NotFinalError(
            f"{where}: block {pinned.number} (time {pinned.timestamp}) is after {when}",
            hint="the pin must be the latest block at or before as_of",
        )
    if successor is None:
        on = f" on endpoint {redact_url(views[0].url)}" if views else ""
        raise NotFinalError(
            f"{where}: its latest block {pinned.number}{on} (time "
            f"{format_rfc3339(pinned.timestamp)}) is not after {when}; a later block may still "
            "change the supply at as_of",
            hint="verify again once the chain has a block after as_of (and it is final)",
        )
    need = pinned.number + 1  # the successor (its headers are checked by check_successor)
    for v in views:
        at = redact_url(v.url)
        if v.head.number < need:
            raise NotFinalError(
                f"{where}: endpoint {at} is behind: its latest block is {v.head.number}, "
                f"the pin needs block {need} (the first after {when}) on every endpoint",
                hint="wait for the endpoint to catch up, or list another one for this chain",
            )
        if finality == FINALIZED:
            if v.finalized is None:
                raise _no_finalized_block(where, at, chain_id, "")
            if v.finalized.number < need:
                raise NotFinalError(
                    f"{where}: block {need} (the first after {when}) is not finalized on "
                    f"endpoint {at} (its finalized block is {v.finalized.number})",
                    hint="verify again once the block after as_of is finalized",
                )
        elif isinstance(finality, int):
            depth = v.head.number - need
            if depth < finality:
                raise NotFinalError(
                    f"{where}: block {need} (the first after {when}) has {depth} of "
                    f"{describe(finality)} on endpoint {at}",
                    hint=f"verify again after {finality - depth} more block(s)",
                )


def _no_finalized_block(where: str, endpoint: str, chain_id: int, purpose: str) -> NotFinalError:
    return NotFinalError(
        f"{where}: endpoint {endpoint} reports no finalized block{purpose}",
        hint=f'for a chain without the tag set [finality] "{chain_id}" = N '
        "confirmations in the policy",
    )


def check_successor(where: str, as_of: int, pinned: BlockHeader, successor: BlockHeader) -> None:
    """The successor's header follows the pinned block and lies after ``as_of``.

    Called once every endpoint has served both headers with the same hashes.

    Args:
        where: ``chain <id> endpoint <url>`` of the endpoint whose headers these are.

    Raises:
        WrongBlockError: the headers do not chain (another fork, or a lying endpoint).
    """
    if pinned.timestamp > as_of or successor.timestamp <= as_of:
        raise WrongBlockError(
            f"{where}: blocks {pinned.number} (time {pinned.timestamp}) and {successor.number} "
            f"(time {successor.timestamp}) do not straddle as_of {as_of}",
            hint="the endpoint's headers are inconsistent; check the endpoint",
        )
    if successor.number != pinned.number + 1 or successor.parent_hash != pinned.hash:
        raise WrongBlockError(
            f"{where}: block {successor.number} (parent {successor.parent_hash}) does not "
            f"follow pinned block {pinned.number} {pinned.hash}",
            hint="the endpoint's headers are inconsistent (reorg or lying node)",
        )


def read_block(chain_id: int, finality: Finality, views: Sequence[EndpointView]) -> int:
    """The block for a read that no supply pin fixes (registry, feed, EIP-1271 wallets).

    It is the highest block the chain's finality allows on any endpoint: the highest
    ``finalized`` block reported (``"finalized"``), the highest head less N (N
    confirmations), or the highest head (``"latest"``). No endpoint's answer lowers it: every
    endpoint must allow that block too, so an endpoint that is behind is an error, never a
    reason to read at an earlier block.

    Args:
        chain_id: the chain (for messages).
        finality: the policy's finality for this chain.
        views: every endpoint's head (and finalized block, for ``"finalized"``).

    Returns:
        The block number to read at.

    Raises:
        NotFinalError: an endpoint is behind that block, reports no finalized block, or no block
            is deep enough yet.
        ValueError: ``finality`` is not a valid finality, or no view (programming errors).
    """
    if not (finality in (FINALIZED, LATEST) or (type(finality) is int and finality >= 1)):
        raise ValueError(f"unknown finality {finality!r}")
    if not views:
        raise ValueError("no endpoint view")
    where = f"chain {chain_id}"
    allowed: list[int] = []
    for v in views:
        if finality == FINALIZED:
            if v.finalized is None:
                raise _no_finalized_block(where, redact_url(v.url), chain_id, " to read at")
            allowed.append(v.finalized.number)
        elif isinstance(finality, int):
            allowed.append(v.head.number - finality)
        else:
            allowed.append(v.head.number)
    block = max(allowed)
    if block < 0:
        raise NotFinalError(
            f"{where}: no block has {describe(finality)} yet (the highest head is "
            f"{max(v.head.number for v in views)})",
            hint="read again once the chain is deep enough",
        )
    for v, mine in zip(views, allowed, strict=True):
        if mine < block:
            what = {FINALIZED: "finalized block", LATEST: "latest block"}.get(
                str(finality), f"latest block less {describe(finality)}"
            )
            raise NotFinalError(
                f"{where}: endpoint {redact_url(v.url)} is behind: its {what} is {mine}, the "
                f"read needs block {block} ({describe(finality)}, the highest any endpoint "
                "allows) on every endpoint",
                hint="wait for the endpoint to catch up, or list another one for this chain",
            )
    return block


def is_local_endpoint(url: str) -> bool:
    """Whether ``url`` names this machine (``localhost`` or a loopback address)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def latest_finality_warnings(
    finality: Mapping[int, Finality], rpc: Mapping[int, Sequence[str]]
) -> list[str]:
    """One warning per chain the policy sets to ``"latest"`` that is not a local dev chain.

    ``"latest"`` is the weaker mode DESIGN §1 names for a local development chain: a pin at
    the head can still be reorged away. A chain counts as local when every endpoint the run
    uses for it is on this machine; anywhere else the mode stays allowed (and the result
    records it per deployment), but it is said.
    """
    return [
        f'chain {chain_id} uses finality "latest" (its head, which a reorg can still change) '
        f'with an endpoint off this machine; use "finalized" or N confirmations unless it '
        "is a local development chain"
        for chain_id, value in sorted(finality.items())
        if value == LATEST and not all(is_local_endpoint(url) for url in rpc.get(chain_id, ()))
    ]
