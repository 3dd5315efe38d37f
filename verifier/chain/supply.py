"""Circulating supply across chains, read at one pinned block per chain (DESIGN §1.1, §6).

For each chain that carries a pinned deployment, :func:`read_supply`:

1. asks **every** endpoint, in one batch each: ``eth_chainId`` (checked first: another chain id
   is :class:`WrongChainError`), the latest and the genesis header (a different genesis on the same
   chain id is :class:`EndpointsDisagreeError`), and the code at the Multicall3 address;
2. pins the block on the first endpoint: the latest block whose timestamp is <= ``as_of``,
   found by a k-ary search over headers (15 probes per batched round trip; headers deeper than
   64 blocks are cached per chain + endpoint + genesis), or the block number given, or the head.
   A pin by time must be final (:mod:`verifier.chain.finality`): its successor (timestamp >
   ``as_of``) exists, every endpoint has reached it, and it is finalized (or N blocks deep, or
   merely present, per the policy's ``[finality]``) on every endpoint; else
   :class:`~verifier.errors.NotFinalError`. No endpoint's head chooses an earlier pin;
3. sends every endpoint **one** batched request at that block number: the header of the pinned
   block (and of its successor, when searching by time, so every endpoint confirms that the
   pinned block is the last one at or before ``as_of``), plus ``totalSupply()``, ``decimals()``
   and ``balanceOf(excluded)`` of every deployment on the chain, either as one Multicall3
   ``aggregate3`` ``eth_call`` (where Multicall3 has code) or as a JSON-RPC batch of
   ``eth_call`` s. The node must answer for the pinned block with the pinned hash
   (:class:`WrongBlockError` otherwise), and every endpoint must return identical headers and values
   (:class:`EndpointsDisagreeError` otherwise, naming both endpoints and what differs).

Chains are read concurrently (one thread each). Every value is validated: quantities and
hashes by :mod:`verifier.chain.rpc`, ABI words as exactly 32 bytes, ``decimals`` <= 255, and
excluded balances summing to at most ``totalSupply``.

Decimals: each :class:`DeploymentSupply` is in the deployment's own on-chain decimals. The
total is in the policy's ``token_decimals``: a deployment with fewer decimals is scaled up
exactly; one with more is scaled down, rounded *up* when the division is not exact (never in
the issuer's favour: dust sent to an excluded address must not stop every verify), and the
base units added are recorded as the deployment's ``rounded_up`` (:func:`scale_up`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from verifier.chain.contracts import runtime_code_matches
from verifier.chain.finality import (
    DEFAULT_FINALITY,
    EndpointView,
    check_final_pin,
    check_successor,
)
from verifier.chain.rpc import (
    Call,
    RpcClient,
    Transport,
    block_header,
    data,
    quantity,
)
from verifier.checks.evidence import (
    BlockHeader,
    ChainStats,
    DeploymentSupply,
    EndpointStats,
    Finality,
    SupplyReport,
    scale_up,
)
from verifier.errors import (
    EndpointsDisagreeError,
    IncompleteError,
    InputError,
    RpcError,
    WrongBlockError,
    WrongChainError,
    redact_url,
)
from verifier.model.keccak import keccak256
from verifier.model.policy import PinnedDeployment

#: Multicall3's address on every chain where it was deployed with its keyless transaction.
MULTICALL3_ADDRESS = "0xcA11bde05977b3631167028862bE2a173976CA11"

SEL_TOTAL_SUPPLY = bytes.fromhex("18160ddd")
SEL_DECIMALS = bytes.fromhex("313ce567")
SEL_BALANCE_OF = bytes.fromhex("70a08231")
SEL_AGGREGATE3 = bytes.fromhex("82ad56cb")
#: Init code ``NUMBER PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN``: an ``eth_call`` without ``to``
#: runs it and returns the number of the block the node executed the call at. Sent in the same
#: batch as the reads, it catches a node that ignores the requested block (e.g. answers at the
#: head): the values would silently count mints or burns made after ``as_of``.
BLOCK_NUMBER_PROBE = bytes.fromhex("4360005260206000f3")

#: Probes per batched round trip in the block search (k-ary search, k = PROBES + 1).
PROBES = 15
#: Headers at least this deep below the head are cached (assumed final).
CACHE_DEPTH = 64
_CACHE_LIMIT = 4096

_cache_lock = threading.Lock()
_header_cache: dict[tuple[int, str, str], dict[int, BlockHeader]] = {}


def clear_header_cache() -> None:
    """Forget every cached header (tests restart chains on reused ports)."""
    with _cache_lock:
        _header_cache.clear()


# --- results -----------------------------------------------------------------------------


# --- public entry point ------------------------------------------------------------------


def read_supply(
    deployments: Sequence[PinnedDeployment],
    rpc: Mapping[int, Sequence[str]],
    *,
    as_of: int | None = None,
    block: int | None = None,
    token_decimals: int,
    timeout: float = 10,
    retries: int = 2,
    progress: Callable[..., None] | None = None,
    multicall: Mapping[int, str] | None = None,
    transport: Transport | None = None,
    backoff: float = 0.2,
    finality: Mapping[int, Finality] | None = None,
) -> SupplyReport:
    """Read circulating supply of every deployment at one pinned block per chain.

    Args:
        deployments: the policy's pinned deployments (order is kept in the report).
        rpc: chain id -> endpoint URLs; every endpoint of a chain is asked and must agree.
        as_of: unix seconds; pin the latest block with timestamp <= as_of, which must be final
            (see :mod:`verifier.chain.finality`).
        block: pin this block number on every chain instead (exclusive with ``as_of``).
            With neither, the head of each chain is pinned.
        token_decimals: decimals of the total (the policy's ``decimals``).
        timeout: seconds per HTTP attempt.
        retries: extra attempts after a transport failure (bounded, exponential backoff).
        progress: called as ``progress(chain_id=, done=, total=)`` when a chain finishes.
        multicall: chain id -> Multicall3 address to use (default: the canonical address,
            used where it has code).
        transport: replaces HTTP (JSON-RPC-layer simulations in tests).
        backoff: first retry delay in seconds.
        finality: chain id -> ``"finalized"``, ``"latest"`` or N confirmations for a pin by
            ``as_of`` (the policy's ``[finality]``); a chain not named is ``"finalized"``.

    Returns:
        The per-deployment supply and the circulating total.

    Raises:
        InputError: both ``as_of`` and ``block`` given, a chain without endpoints, a block
            beyond the chain head, or a bad argument.
        WrongChainError: an endpoint serves another chain id.
        EndpointsDisagreeError: endpoints differ on genesis, block hash or any value.
        WrongBlockError: a node answered for another block than the pinned one.
        HistoryUnavailableError: a node cannot serve state at the pinned block.
        RpcError: timeouts after retries, malformed answers, node errors.
        NotFinalError: the pin for ``as_of`` is not final yet on a chain.
        IncompleteError: no block at or before ``as_of``, a token without code at the pinned
            block, or implausible values.
    """
    if as_of is not None and block is not None:
        raise InputError("give either as_of or a block number, not both")
    if block is not None and block < 0:
        raise InputError(f"block number must be >= 0, got {block}")
    if not deployments:
        raise InputError("no deployments to read")
    chains: dict[int, list[PinnedDeployment]] = {}
    for d in deployments:
        chains.setdefault(d.chain_id, []).append(d)
    for chain_id in chains:
        if not rpc.get(chain_id):
            raise InputError(
                f"chain {chain_id} has a pinned deployment but no RPC endpoint",
                hint=f"add it to [rpc] in the policy or pass --rpc {chain_id}=URL",
            )
    total = len(chains)
    done = 0
    done_lock = threading.Lock()

    def run(chain_id: int) -> tuple[list[DeploymentSupply], ChainStats]:
        nonlocal done
        reader = _ChainReader(
            chain_id,
            chains[chain_id],
            [
                RpcClient(
                    u,
                    chain_id,
                    timeout=timeout,
                    retries=retries,
                    backoff=backoff,
                    transport=transport,
                )
                for u in rpc[chain_id]
            ],
            (multicall or {}).get(chain_id),
            (finality or {}).get(chain_id, DEFAULT_FINALITY),
        )
        out = reader.read(as_of=as_of, block=block)
        with done_lock:
            done += 1
            finished = done
        if progress is not None:
            progress(chain_id=chain_id, done=finished, total=total)
        return out

    results: dict[int, tuple[list[DeploymentSupply], ChainStats]] = {}
    errors: dict[int, BaseException] = {}
    with ThreadPoolExecutor(max_workers=max(1, total), thread_name_prefix="porv-chain") as pool:
        futures = {cid: pool.submit(run, cid) for cid in chains}
        for cid, fut in futures.items():
            try:
                results[cid] = fut.result()
            except BaseException as exc:
                errors[cid] = exc
    if errors:
        # deterministic: report the first failing chain in policy order
        raise errors[next(c for c in chains if c in errors)]

    by_key = {(s.chain_id, s.address): s for cid in chains for s in results[cid][0]}
    ordered: list[DeploymentSupply] = []
    total_circ = 0
    for d in deployments:
        s = by_key[(d.chain_id, d.address)]
        scaled, added = scale_up(s.circulating, s.decimals, token_decimals)
        ordered.append(replace(s, rounded_up=added))
        total_circ += scaled
    return SupplyReport(
        deployments=tuple(ordered),
        total_circulating=total_circ,
        decimals=token_decimals,
        stats=tuple(results[cid][1] for cid in chains),
    )


# --- one chain ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Handshake:
    latest: BlockHeader
    genesis: BlockHeader
    multicall_code: bool
    finalized: BlockHeader | None = None


@dataclass(frozen=True)
class _Values:
    total_supply: int
    decimals: int
    balances: tuple[int, ...]


class _ChainReader:
    def __init__(
        self,
        chain_id: int,
        deployments: list[PinnedDeployment],
        clients: list[RpcClient],
        multicall: str | None,
        finality: Finality = DEFAULT_FINALITY,
    ) -> None:
        self.chain_id = chain_id
        self.finality = finality
        self.deployments = deployments
        self.clients = clients
        self.primary = clients[0]
        if multicall:
            from eth_utils.address import to_checksum_address  # rare: an address to normalise

            self.multicall = str(to_checksum_address(multicall))
        else:
            self.multicall = MULTICALL3_ADDRESS
        self.multicall_pinned = multicall is not None

    def _each(self, fn: Callable[[RpcClient], Any]) -> list[Any]:
        if len(self.clients) == 1:
            return [fn(self.primary)]
        with ThreadPoolExecutor(max_workers=len(self.clients)) as pool:
            futures = [pool.submit(fn, c) for c in self.clients]
            out: list[Any] = []
            first_error: BaseException | None = None
            for f in futures:
                try:
                    out.append(f.result())
                except BaseException as exc:
                    first_error = first_error or exc
            if first_error is not None:
                raise first_error
            return out

    def read(
        self, *, as_of: int | None, block: int | None
    ) -> tuple[list[DeploymentSupply], ChainStats]:
        # 1. chain id first, on every endpoint; genesis must be the same chain
        by_time = block is None and as_of is not None
        shakes: list[_Handshake] = self._each(
            lambda c: self._handshake(c, finalized=by_time and self.finality == "finalized")
        )
        g0 = shakes[0].genesis.hash
        for c, s in zip(self.clients[1:], shakes[1:], strict=True):
            if s.genesis.hash != g0:
                raise self._disagree(c, f"genesis block hash {s.genesis.hash} vs {g0}")
        # 2. pin the block on the first endpoint. By time: the pin must be final on every
        #    endpoint, whose heads never choose it. By number or at the head: no higher than the
        #    lowest endpoint's head (each must be able to serve it)
        cache = self._cache(g0)
        head = shakes[0].latest
        if not by_time:
            common = min(s.latest.number for s in shakes)
            if common < head.number:
                head = self._headers([common], cache, shakes[0].latest)[0]
        if block is not None:
            if block > head.number:
                raise InputError(
                    f"chain {self.chain_id}: block {block} is beyond the head {head.number} "
                    f"that every endpoint has reached"
                )
            pinned = self._headers([block], cache, shakes[0].latest)[0]
            nxt = None
        elif as_of is not None:
            pinned, nxt = self._search(as_of, head, shakes[0].genesis, cache)
            views = [
                EndpointView(c.url, s.latest, s.finalized)
                for c, s in zip(self.clients, shakes, strict=True)
            ]
            check_final_pin(self.chain_id, as_of, self.finality, pinned, nxt, views)
        else:
            pinned, nxt = head, None
        pin_counts = [c.requests for c in self.clients]
        # 3. one batched round trip per endpoint at the pinned block
        use_mc = self.multicall_pinned or shakes[0].multicall_code
        answers = self._each(lambda c: self._read_at(c, pinned, nxt, use_mc))
        unusable = [a for a in answers if isinstance(a, str)]
        if use_mc and unusable:
            if self.multicall_pinned:
                raise IncompleteError(
                    f"chain {self.chain_id}: Multicall3 {self.multicall} {unusable[0]} at block "
                    f"{pinned.number}",
                    hint="porv uses only the Multicall3 runtime code it ships",
                )
            # not deployed at the pinned block, or code that is not Multicall3 (never
            # trusted): fall back to a JSON-RPC batch
            use_mc = False
            answers = self._each(lambda c: self._read_at(c, pinned, nxt, False))
        if nxt is not None:  # every endpoint served both headers with the same hashes
            check_successor(self.primary.where(), as_of or 0, pinned, nxt)
        values: list[_Values] = answers[0]
        for c, other in zip(self.clients[1:], answers[1:], strict=True):
            for d, mine, theirs in zip(self.deployments, values, other, strict=True):
                if mine != theirs:
                    raise self._disagree(
                        c, f"token {d.address} at block {pinned.number}: {mine} vs {theirs}"
                    )
        out = [
            replace(
                self._supply(d, v, pinned),
                finality=self.finality if by_time else None,
                successor=nxt,
            )
            for d, v in zip(self.deployments, values, strict=True)
        ]
        stats = ChainStats(
            self.chain_id,
            "multicall3" if use_mc else "batch",
            tuple(
                EndpointStats(redact_url(c.url), p, c.requests - p)
                for c, p in zip(self.clients, pin_counts, strict=True)
            ),
        )
        return out, stats

    def _disagree(self, other: RpcClient, what: str) -> EndpointsDisagreeError:
        return EndpointsDisagreeError(
            f"chain {self.chain_id}: endpoints {redact_url(self.primary.url)} and "
            f"{redact_url(other.url)} disagree: {what}",
            hint="one of them is lagging, forked or lying; porv will not pick one",
        )

    def _handshake(self, c: RpcClient, *, finalized: bool = False) -> _Handshake:
        calls = [
            Call("eth_chainId"),
            Call("eth_getBlockByNumber", ("latest", False)),
            Call("eth_getBlockByNumber", ("0x0", False)),
            Call("eth_getCode", (self.multicall, "latest")),
        ]
        if finalized:
            calls.append(Call("eth_getBlockByNumber", ("finalized", False)))
        items = c.exchange(calls)
        # the chain id is judged before anything else this endpoint said
        if "error" in items[0]:
            raise c.error(f"eth_chainId failed: {items[0]['error']!r:.200}")
        got = quantity(items[0]["result"], "eth_chainId", c, bits=64)
        if got != self.chain_id:
            raise c.error(
                f"serves chain id {got}, the policy pins {self.chain_id}", WrongChainError
            )
        res = [c.result_of(call, item) for call, item in zip(calls[:4], items[:4], strict=True)]
        return _Handshake(
            latest=block_header(res[1], c),
            genesis=block_header(res[2], c, number=0),
            multicall_code=len(data(res[3], "eth_getCode", c)) > 0,
            finalized=self._finalized(c, items[4]) if finalized else None,
        )

    def _finalized(self, c: RpcClient, item: dict[str, Any]) -> BlockHeader | None:
        """The endpoint's ``finalized`` block; None if it does not serve the tag."""
        try:
            value = c.result_of(Call("eth_getBlockByNumber", ("finalized", False)), item)
        except RpcError:
            return None  # an unsupported tag; the finality check says what to do
        return None if value is None else block_header(value, c)

    def _cache(self, genesis: str) -> dict[int, BlockHeader]:
        key = (self.chain_id, self.primary.url, genesis)
        with _cache_lock:
            entry = _header_cache.setdefault(key, {})
            if len(entry) > _CACHE_LIMIT:
                entry.clear()
            return entry

    def _headers(
        self, numbers: list[int], cache: dict[int, BlockHeader], head: BlockHeader
    ) -> list[BlockHeader]:
        """Headers of ``numbers`` from the primary endpoint, one batch for the uncached."""
        with _cache_lock:
            missing = sorted({n for n in numbers if n not in cache})
        fetched: dict[int, BlockHeader] = {}
        if missing:
            res = self.primary.batch(
                [Call("eth_getBlockByNumber", (hex(n), False)) for n in missing]
            )
            for n, r in zip(missing, res, strict=True):
                fetched[n] = block_header(r, self.primary, number=n)
            with _cache_lock:
                for n, h in fetched.items():
                    if n <= head.number - CACHE_DEPTH:
                        cache[n] = h
        with _cache_lock:
            return [fetched[n] if n in fetched else cache[n] for n in numbers]

    def _search(
        self, as_of: int, head: BlockHeader, genesis: BlockHeader, cache: dict[int, BlockHeader]
    ) -> tuple[BlockHeader, BlockHeader | None]:
        if genesis.timestamp > as_of:
            raise IncompleteError(
                f"chain {self.chain_id}: no block at or before as_of {as_of} "
                f"(genesis timestamp {genesis.timestamp})"
            )
        if head.timestamp <= as_of:
            return head, None
        lo, hi = genesis, head  # invariant: lo.timestamp <= as_of < hi.timestamp
        while hi.number - lo.number > 1:
            span = hi.number - lo.number
            step = max(1, span // (PROBES + 1))
            probes = sorted({lo.number + step * i for i in range(1, PROBES + 1)} - {hi.number})
            probes = [p for p in probes if lo.number < p < hi.number]
            for h in self._headers(probes, cache, head):
                if h.timestamp <= as_of:
                    if h.timestamp < lo.timestamp:
                        raise self.primary.error(
                            f"block timestamps are not monotonic at block {h.number}"
                        )
                    lo = h
                else:
                    hi = h
                    break
        return lo, hi

    def _calls(self) -> list[tuple[str, bytes]]:
        """(target, calldata) for every value, deployment by deployment."""
        out: list[tuple[str, bytes]] = []
        for d in self.deployments:
            out.append((d.address, SEL_TOTAL_SUPPLY))
            out.append((d.address, SEL_DECIMALS))
            for ex in d.excluded:
                out.append((d.address, SEL_BALANCE_OF + _address_word(ex)))
        return out

    def _read_at(
        self, c: RpcClient, pinned: BlockHeader, nxt: BlockHeader | None, use_mc: bool
    ) -> list[_Values] | str:
        """The values at ``pinned`` on one endpoint, through Multicall3 if ``use_mc``.

        Returns:
            The values, or (``use_mc`` only) why the code at the Multicall3 address is not
            usable at that block: no code, or code other than the Multicall3 porv ships (a
            contract that merely has code there is never trusted to report balances).
        """
        tag = hex(pinned.number)
        calls = [Call("eth_getBlockByNumber", (tag, False))]
        if nxt is not None:
            calls.append(Call("eth_getBlockByNumber", (hex(nxt.number), False)))
        calls.append(Call("eth_call", ({"data": _hex(BLOCK_NUMBER_PROBE)}, tag)))
        targets = self._calls()
        if use_mc:
            payload = SEL_AGGREGATE3 + encode_aggregate3(targets)
            calls.append(Call("eth_call", ({"to": self.multicall, "data": _hex(payload)}, tag)))
            calls.append(Call("eth_getCode", (self.multicall, tag)))
        else:
            calls.extend(Call("eth_call", ({"to": t, "data": _hex(cd)}, tag)) for t, cd in targets)
        res = c.batch(calls)
        self._check_header(c, res[0], pinned)
        if nxt is not None:
            self._check_header(c, res[1], nxt)
        probe_at = 2 if nxt is not None else 1
        executed = _word(data(res[probe_at], "block-number probe", c), "block-number probe", c)
        if executed != pinned.number:
            raise c.error(
                f"calls requested at block {pinned.number} were executed at block {executed}",
                WrongBlockError,
            )
        raw_results = res[probe_at + 1 :]
        returns: list[bytes | None]
        if use_mc:
            code = data(raw_results[1], "eth_getCode", c)
            if not code:
                return "has no code"
            if not runtime_code_matches("Multicall3", code):
                return (
                    f"has code that is not Multicall3 (keccak 0x{keccak256(code).hex()}, "
                    f"{len(code)} bytes)"
                )
            raw = data(raw_results[0], "aggregate3 result", c)
            returns = _decode_aggregate3(raw, len(targets), c)
        else:
            returns = [data(r, "eth_call result", c) for r in raw_results]
        return self._values(c, returns, pinned)

    def _check_header(self, c: RpcClient, value: Any, expected: BlockHeader) -> None:
        got = block_header(value, c, number=expected.number)
        if got.hash == expected.hash and got != expected:
            what = (
                f"block {expected.number} {got.hash}: parent {got.parent_hash} time "
                f"{got.timestamp} vs parent {expected.parent_hash} time {expected.timestamp}"
            )
            if c is self.primary:
                raise c.error(f"{what} (the header changed since it was pinned)", WrongBlockError)
            raise self._disagree(c, what)
        if got.hash != expected.hash:
            if c is self.primary:
                raise c.error(
                    f"block {expected.number} now has hash {got.hash}, it was pinned as "
                    f"{expected.hash} (reorg or inconsistent node)",
                    WrongBlockError,
                )
            raise self._disagree(c, f"block {expected.number} hash {got.hash} vs {expected.hash}")

    def _values(
        self, c: RpcClient, returns: list[bytes | None], pinned: BlockHeader
    ) -> list[_Values]:
        out: list[_Values] = []
        i = 0
        for d in self.deployments:
            where = f"token {d.address} at block {pinned.number}"
            ts = _word(returns[i], f"{where}: totalSupply()", c)
            dec = _word(returns[i + 1], f"{where}: decimals()", c)
            if dec > 255:
                raise c.error(f"{where}: decimals() = {dec} is not a uint8")
            bals = tuple(
                _word(returns[i + 2 + j], f"{where}: balanceOf({ex})", c)
                for j, ex in enumerate(d.excluded)
            )
            i += 2 + len(d.excluded)
            out.append(_Values(ts, dec, bals))
        return out

    def _supply(self, d: PinnedDeployment, v: _Values, pinned: BlockHeader) -> DeploymentSupply:
        excluded_sum = sum(v.balances)
        if excluded_sum > v.total_supply:
            raise IncompleteError(
                f"chain {self.chain_id} token {d.address} at block {pinned.number}: excluded "
                f"balances {excluded_sum} exceed totalSupply {v.total_supply}",
                hint="the token does not behave as an ERC-20; check the pinned address",
            )
        return DeploymentSupply(
            chain_id=self.chain_id,
            address=d.address,
            block_number=pinned.number,
            block_hash=pinned.hash,
            block_timestamp=pinned.timestamp,
            total_supply=v.total_supply,
            decimals=v.decimals,
            excluded=tuple(zip(d.excluded, v.balances, strict=True)),
            circulating=v.total_supply - excluded_sum,
        )


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


def _word(raw: bytes | None, what: str, c: RpcClient) -> int:
    if raw is None:
        raise c.error(f"{what} reverted")
    if len(raw) == 0:
        raise IncompleteError(
            f"chain {c.chain_id}: {what} returned nothing: no contract code at that address "
            f"at the pinned block",
            hint="check the deployment address and chain id in the policy, and that the "
            "token existed at as_of",
        )
    if len(raw) != 32:
        raise c.error(f"{what}: expected one 32-byte ABI word, got {len(raw)} bytes")
    return int.from_bytes(raw, "big")


# --- the ABI of the calls above, written out -------------------------------------------------
# The few shapes porv sends and reads are encoded by hand (``eth_abi`` costs a verify run about
# a tenth of a second to import); tests check every function here against ``eth_abi``.


def _uint_word(n: int) -> bytes:
    return n.to_bytes(32, "big")


def _bytes_tail(b: bytes) -> bytes:
    """ABI tail of ``bytes``: its length word, then the bytes zero-padded to 32."""
    return _uint_word(len(b)) + b + bytes(-len(b) % 32)


def _address_word(address: str) -> bytes:
    """``abi.encode(address)`` of a ``0x`` + 40 hex digit address."""
    raw = bytes.fromhex(address[2:])
    if not address.startswith("0x") or len(raw) != 20:
        raise ValueError(f"not a 20-byte 0x address: {address!r}")
    return bytes(12) + raw


def encode_aggregate3(targets: Sequence[tuple[str, bytes]]) -> bytes:
    """``abi.encode((address,bool,bytes)[])`` of ``(target, allowFailure=true, calldata)``
    per call: the argument of Multicall3's ``aggregate3``."""
    elements = [
        _address_word(t) + _uint_word(1) + _uint_word(96) + _bytes_tail(cd) for t, cd in targets
    ]
    return _uint_word(32) + _uint_word(len(elements)) + _dynamic_array_body(elements)


def _dynamic_array_body(elements: Sequence[bytes]) -> bytes:
    """The head (each element's offset from the head's start) and the elements."""
    offsets, at = [], 32 * len(elements)
    for e in elements:
        offsets.append(_uint_word(at))
        at += len(e)
    return b"".join(offsets) + b"".join(elements)


def encode_results(items: Sequence[tuple[bool, bytes]]) -> bytes:
    """``abi.encode((bool,bytes)[])``: the canonical encoding of ``aggregate3``'s answer."""
    elements = [_uint_word(int(ok)) + _uint_word(64) + _bytes_tail(ret) for ok, ret in items]
    return _uint_word(32) + _uint_word(len(elements)) + _dynamic_array_body(elements)


def decode_results_canonical(raw: bytes) -> list[tuple[bool, bytes]] | None:
    """``aggregate3``'s answer, if ``raw`` is exactly the canonical encoding of some
    ``(bool,bytes)[]`` (what a node returns); else None, for ``eth_abi``'s strict decoder to
    judge. Anything this returns, ``eth_abi`` decodes to the same items: the answer is
    re-encoded and compared byte for byte."""

    def word(at: int) -> int | None:
        if at < 0 or at + 32 > len(raw):
            return None
        return int.from_bytes(raw[at : at + 32], "big")

    n = word(32)
    if word(0) != 32 or n is None or n > len(raw) // 32:
        return None
    items: list[tuple[bool, bytes]] = []
    for k in range(n):
        rel = word(64 + 32 * k)
        if rel is None:
            return None
        at = 64 + rel
        ok, size = word(at), word(at + 64)
        if ok not in (0, 1) or size is None or at + 96 + size > len(raw):
            return None
        items.append((ok == 1, raw[at + 96 : at + 96 + size]))
    return items if encode_results(items) == raw else None


def _decode_aggregate3(raw: bytes, n: int, c: RpcClient) -> list[bytes | None]:
    items = decode_results_canonical(raw)
    if items is None:
        from eth_abi.abi import decode as abi_decode  # a non-canonical answer: the full decoder

        try:
            (items,) = abi_decode(["(bool,bytes)[]"], raw, strict=True)
        except Exception:
            raise c.error(
                "aggregate3 returned data that does not decode as (bool,bytes)[]"
            ) from None
    if len(items) != n:
        raise c.error(f"aggregate3 returned {len(items)} results for {n} calls")
    return [bytes(ret) if ok else None for ok, ret in items]
