"""Optional cross-check: a Chainlink-style proof-of-reserve feed (``AggregatorV3Interface``).

:func:`read_feed` reads ``decimals()`` and ``latestRoundData()`` from any contract that
implements the interface: a Chainlink PoR feed, or porv's own ``ReserveAttestationRegistry``,
which exposes the latest attested reserves that way (DESIGN §6). The value is reported beside
the attested reserves, never instead of them: a feed is one more party's claim.

:func:`read_feed_all` (what verify and supply use) asks every endpoint of the chain at one
block and refuses endpoints that disagree. :func:`read_feed` asks one endpoint.

The read is pinned like the supply read: the head block is resolved first, then both values are
read at that block number in one batch together with its header (the node must still answer
for the same hash). The answer is validated as Chainlink's consumers are advised to: a non-zero
round, a positive answer, a non-zero ``updatedAt`` not in the future, and ``answeredInRound``
not behind ``roundId``. The caller passes ``now`` (the core never reads the clock).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from verifier.chain.rpc import Call, RpcClient, Transport, block_header, data, quantity
from verifier.errors import IncompleteError, InputError, RpcError, WrongBlockError, WrongChainError
from verifier.model.numbers import major
from verifier.model.timeutil import MAX_FUTURE_SKEW_S
from verifier.model.validate import InvalidValueError, checksummed_address

SEL_DECIMALS = "0x313ce567"
SEL_LATEST_ROUND_DATA = "0xfeaf968c"


@dataclass(frozen=True)
class FeedReading:
    """One ``latestRoundData`` reading, normalised by the feed's ``decimals``."""

    answer: int
    decimals: int
    normalised: Decimal
    updated_at: int
    staleness_s: int
    round_id: int
    block_number: int = 0
    block_hash: str = ""

    def to_json(self) -> dict[str, Any]:
        """JSON form (answer and normalised value as strings: exact)."""
        return {
            "answer": str(self.answer),
            "decimals": self.decimals,
            "normalised": str(self.normalised),
            "updated_at": self.updated_at,
            "staleness_s": self.staleness_s,
            "round_id": str(self.round_id),
            "block_number": self.block_number,
            "block_hash": self.block_hash,
        }


def _check_feed_address(address: object) -> None:
    try:
        checksummed_address(address)
    except InvalidValueError:
        raise InputError(f"feed address {address!r} is not an EIP-55 checksummed address") from None


def read_feed(
    url: str,
    address: str,
    *,
    now: int,
    chain_id: int | None = None,
    timeout: float = 10,
    retries: int = 2,
    transport: Transport | None = None,
) -> FeedReading:
    """Read an ``AggregatorV3Interface`` feed at the endpoint's head block.

    Args:
        url: JSON-RPC endpoint.
        address: the feed contract (EIP-55 checksummed).
        now: the caller's clock (unix seconds) for staleness.
        chain_id: if given, the endpoint must serve this chain id.
        timeout: seconds per HTTP attempt.
        retries: extra attempts after a transport failure.
        transport: replaces HTTP (tests).

    Returns:
        The reading.

    Raises:
        InputError: the address is not checksummed.
        WrongChainError: the endpoint serves another chain.
        WrongBlockError: the node answered for another block or hash than the pinned head.
        RpcError: transport failure, malformed answers, or a reverting feed.
        IncompleteError: the feed has no valid round (zero round, answer <= 0, no update time,
            an update time in the future, or a stale ``answeredInRound``).
    """
    _check_feed_address(address)
    client = RpcClient(url, chain_id or 0, timeout=timeout, retries=retries, transport=transport)
    first = client.batch([Call("eth_chainId"), Call("eth_getBlockByNumber", ("latest", False))])
    got = quantity(first[0], "eth_chainId", client, bits=64)
    if chain_id is not None and got != chain_id:
        raise client.error(f"serves chain id {got}, expected {chain_id}", WrongChainError)
    client.chain_id = got
    head = block_header(first[1], client)
    tag = hex(head.number)
    res = client.batch(
        [
            Call("eth_getBlockByNumber", (tag, False)),
            Call("eth_call", ({"to": address, "data": SEL_DECIMALS}, tag)),
            Call("eth_call", ({"to": address, "data": SEL_LATEST_ROUND_DATA}, tag)),
        ]
    )
    again = block_header(res[0], client, number=head.number)
    if again.hash != head.hash:
        raise client.error(
            f"block {head.number} changed hash between two requests", WrongBlockError
        )
    dec_raw = data(res[1], "decimals()", client)
    lrd_raw = data(res[2], "latestRoundData()", client)
    return feed_reading(
        f"chain {got} feed {address}",
        dec_raw,
        lrd_raw,
        now=now,
        block_number=head.number,
        block_hash=head.hash,
        malformed=client.error,
    )


def feed_reading(
    where: str,
    dec_raw: bytes | None,
    lrd_raw: bytes | None,
    *,
    now: int,
    block_number: int,
    block_hash: str,
    malformed: Callable[[str], Exception],
) -> FeedReading:
    """Decode and validate the answers to ``decimals()`` and ``latestRoundData()``.

    Args:
        where: ``chain N feed ADDR`` for messages.
        dec_raw: the ``decimals()`` return data (None or empty: no code, or a revert).
        lrd_raw: the ``latestRoundData()`` return data (likewise).
        now: the caller's clock (unix seconds).
        block_number: the block both were read at.
        block_hash: its hash.
        malformed: builds the error for an answer of the wrong shape (it names the endpoint).

    Raises:
        IncompleteError: no code or no valid round.
        Exception: what ``malformed`` builds, for an answer of the wrong shape.
    """
    if not dec_raw or not lrd_raw:
        raise IncompleteError(
            f"{where}: no contract code or no answer (empty or reverted) at block {block_number}"
        )
    if len(dec_raw) != 32 or int.from_bytes(dec_raw, "big") > 255:
        raise malformed(f"{where}: decimals() is not a uint8 word")
    decimals = int.from_bytes(dec_raw, "big")
    if len(lrd_raw) != 160:
        raise malformed(f"{where}: latestRoundData() returned {len(lrd_raw)} bytes, not 160")
    from eth_abi.abi import decode as abi_decode  # only when a feed is read

    try:
        round_id, answer, _started, updated_at, answered_in = abi_decode(
            ["uint80", "int256", "uint256", "uint256", "uint80"], lrd_raw, strict=True
        )
    except Exception:
        raise malformed(f"{where}: latestRoundData() does not decode") from None
    problems = []
    if round_id == 0:
        problems.append("round id is 0")
    if answer <= 0:
        problems.append(f"answer {answer} is not positive")
    if updated_at == 0:
        problems.append("updatedAt is 0 (round not complete)")
    elif updated_at > now + MAX_FUTURE_SKEW_S:
        problems.append(f"updatedAt {updated_at} is in the future (now {now})")
    if answered_in < round_id:
        problems.append(f"answeredInRound {answered_in} is behind round {round_id}")
    if problems:
        raise IncompleteError(
            f"{where}: no valid round: {'; '.join(problems)}",
            hint="the feed cannot be used as a cross-check until it reports a complete round",
        )
    return FeedReading(
        answer=int(answer),
        decimals=decimals,
        normalised=major(int(answer), decimals),
        updated_at=int(updated_at),
        staleness_s=max(0, now - int(updated_at)),
        round_id=int(round_id),
        block_number=block_number,
        block_hash=block_hash,
    )


def read_feed_all(
    chain_id: int,
    urls: Sequence[str],
    address: str,
    *,
    now: int,
    block: int | None = None,
    finality: str | int = "finalized",
    timeout: float = 10,
    retries: int = 2,
    transport: Transport | None = None,
) -> FeedReading:
    """Read a feed on *every* endpoint of its chain at one block; they must agree.

    Args:
        chain_id: the feed's chain.
        urls: every endpoint of that chain.
        address: the feed contract (EIP-55 checksummed).
        now: the caller's clock (unix seconds) for staleness.
        block: the block to read at (default: the highest block ``finality`` allows, which
            every endpoint must allow: see :func:`read_all_endpoints`).
        finality: the policy's finality for the feed's chain.
        timeout: seconds per HTTP attempt.
        retries: extra attempts after a transport failure.
        transport: replaces HTTP (tests).

    Raises:
        InputError: the address is not checksummed, or no endpoint.
        EndpointsDisagreeError: endpoints differ on the block hash or an answer (exit 3).
        NotFinalError: an endpoint is behind the block the finality allows (exit 3).
        RpcError: as :func:`read_all_endpoints`, or a malformed answer.
        IncompleteError: no code or no valid round.
    """
    from verifier.chain.rpc import read_all_endpoints

    _check_feed_address(address)
    header, (dec_raw, lrd_raw) = read_all_endpoints(
        chain_id,
        urls,
        [
            Call("eth_call", ({"to": address, "data": SEL_DECIMALS},)),
            Call("eth_call", ({"to": address, "data": SEL_LATEST_ROUND_DATA},)),
        ],
        block=block,
        finality=finality,
        timeout=timeout,
        retries=retries,
        transport=transport,
    )
    return feed_reading(
        f"chain {chain_id} feed {address}",
        dec_raw,
        lrd_raw,
        now=now,
        block_number=header.number,
        block_hash=header.hash,
        malformed=lambda message: RpcError(message),
    )


def read_policy_feed(
    feed: Any,
    rpc: Mapping[int, Sequence[str]],
    *,
    now: int,
    block: int | None = None,
    finality: str | int = "finalized",
    timeout: float = 10,
    retries: int = 2,
) -> FeedReading:
    """Read a policy's ``[feed]`` (a ``ContractRef``) on every endpoint of its chain.

    Args:
        block: the block to read at (default: chosen by ``finality``).
        finality: the policy's finality for the feed's chain.

    Raises:
        InputError: the policy lists no endpoint for the feed's chain.
        PorvError: as :func:`read_feed_all` (endpoints that disagree: exit 3).
    """
    urls = rpc.get(feed.chain_id)
    if not urls:
        raise InputError(f"no RPC endpoint for the feed's chain {feed.chain_id}")
    return read_feed_all(
        feed.chain_id,
        urls,
        feed.address,
        now=now,
        block=block,
        finality=finality,
        timeout=timeout,
        retries=retries,
    )
