"""A small, suspicious JSON-RPC client: bounded, batched, and validating every value.

Nodes are trusted only as far as they are checked (DESIGN §1, §6). This client:

* sends single requests and JSON-RPC batches over HTTP(S) POST (no redirects followed);
* bounds every request: a per-attempt timeout, ``retries`` more attempts with exponential
  backoff on transport failures only (timeouts, refused connections, HTTP 429/5xx), and a cap
  on the total time spent; a node that answers wrongly is never asked again, it is reported;
* caps the response size, so a hostile node cannot exhaust memory;
* matches batch answers to requests by id (each id exactly once, nothing extra);
* maps node errors to typed errors: pruned state -> :class:`HistoryUnavailable`, anything else
  -> :class:`RpcError`; every message names the chain and the endpoint;
* never follows CCIP-Read (EIP-3668): an ``OffchainLookup`` revert is an error, because porv
  calls ``eth_call`` raw and does not fetch off-chain data a contract points it to.

The validators (:func:`quantity`, :func:`data`, :func:`hash32`, :func:`block_header`) refuse
anything that is not the exact wire shape: compact hex quantities, even-length data, 32-byte
hashes, and a header whose number is the one requested.

``requests`` counts HTTP requests per client (retries included), so callers and tests can see
how many round trips a read cost.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from verifier.display import redact_url
from verifier.errors import HistoryUnavailable, RpcError, WrongBlock
from verifier.jsonio import JsonRefused, parse_json

#: ``(url, body, timeout, max_bytes) -> response body``; raise :class:`TransportError` on failure.
Transport = Callable[[str, bytes, float, int], bytes]

#: Default cap on a response body (bytes): porv's largest answer (a batch of headers and
#: multicall results for a few deployments) is kilobytes; 8 MiB bounds what a hostile node can
#: make porv hold in memory.
MAX_RESPONSE_BYTES = 8 * 1024 * 1024

#: Selector of ``OffchainLookup(address,string[],bytes,bytes4,bytes)`` (EIP-3668).
OFFCHAIN_LOOKUP_SELECTOR = "0x556f1830"

_QUANTITY_RE = re.compile(r"^0x(0|[1-9a-fA-F][0-9a-fA-F]*)\Z")
_DATA_RE = re.compile(r"^0x([0-9a-fA-F]{2})*\Z")
_HASH_RE = re.compile(r"^0x[0-9a-fA-F]{64}\Z")

#: Fragments of node error messages that mean "this state is not kept here" (geth, erigon,
#: nethermind, reth, anvil fork mode, hosted providers).
_PRUNED_HINTS = (
    "missing trie node",
    "header not found",
    "pruned",
    "state is not available",
    "state not available",
    "historical state",
    "state histories",
    "old data not available",
    "required historical state unavailable",
    "archive",
    "distance to target block exceeds",
)


class TransportError(Exception):
    """A failure below JSON-RPC: connection, timeout, HTTP status, oversize body."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def http_post(url: str, body: bytes, timeout: float, max_bytes: int) -> bytes:
    """POST ``body`` as JSON to ``url`` and return the response body.

    Args:
        url: the endpoint.
        body: JSON request bytes.
        timeout: seconds for connect and each read.
        max_bytes: refuse a response larger than this.

    Returns:
        The raw response body.

    Raises:
        TransportError: connection failure, timeout, non-200 status or an oversize body.
    """
    req = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            status = resp.status
            payload = bytes(resp.read(max_bytes + 1))
    except urllib.error.HTTPError as exc:
        retry = exc.code == 429 or exc.code >= 500
        raise TransportError(f"HTTP {exc.code} {exc.reason}", retryable=retry) from None
    except (TimeoutError, ConnectionError) as exc:
        raise TransportError(f"{type(exc).__name__}: {exc}", retryable=True) from None
    except urllib.error.URLError as exc:
        raise TransportError(f"cannot connect: {exc.reason}", retryable=True) from None
    except OSError as exc:
        raise TransportError(f"{type(exc).__name__}: {exc}", retryable=True) from None
    if status != 200:
        raise TransportError(f"HTTP {status}", retryable=status == 429 or status >= 500)
    if len(payload) > max_bytes:
        raise TransportError(f"response larger than {max_bytes} bytes", retryable=False)
    return payload


@dataclass(frozen=True)
class Call:
    """One JSON-RPC method call."""

    method: str
    params: tuple[Any, ...] = ()


class RpcClient:
    """JSON-RPC over HTTP for one endpoint of one chain.

    Args:
        url: the endpoint URL.
        chain_id: the chain this endpoint is expected to serve (for messages).
        timeout: seconds per attempt.
        retries: extra attempts after a transport failure.
        backoff: first retry delay in seconds; doubled on each retry.
        max_total: cap on the seconds spent on one request including retries
            (default ``timeout * (retries + 1) + backoff * 2**retries``).
        max_response_bytes: refuse larger answers.
        transport: replaces the HTTP POST (tests simulate nodes with it).
        sleep: replaces :func:`time.sleep` between retries.
    """

    def __init__(
        self,
        url: str,
        chain_id: int,
        *,
        timeout: float = 10.0,
        retries: int = 2,
        backoff: float = 0.2,
        max_total: float | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        transport: Transport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if timeout <= 0 or retries < 0 or backoff < 0:
            raise ValueError("timeout must be > 0, retries and backoff >= 0")
        self.url = url
        self.chain_id = chain_id
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_total = (
            max_total if max_total is not None else timeout * (retries + 1) + backoff * 2**retries
        )
        self.max_response_bytes = max_response_bytes
        self._transport = transport or http_post
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_id = 1
        #: HTTP requests sent (retries included).
        self.requests = 0

    # -- errors ------------------------------------------------------------------------

    def where(self) -> str:
        """``chain <id> endpoint <url>`` for messages."""
        return f"chain {self.chain_id} endpoint {redact_url(self.url)}"

    def error(self, message: str, cls: type[RpcError] = RpcError) -> RpcError:
        """Build a typed error naming this chain and endpoint."""
        return cls(
            f"{self.where()}: {message}",
            hint="check the endpoint, or list another one for this chain with --rpc",
        )

    # -- requests ------------------------------------------------------------------------

    def call(self, method: str, *params: Any) -> Any:
        """Send one request and return its ``result``.

        Raises:
            RpcError: transport failure after retries, malformed answer, or a node error.
            HistoryUnavailable: the node does not keep the requested state.
        """
        return self.batch([Call(method, tuple(params))], as_batch=False)[0]

    def exchange(self, calls: Sequence[Call], *, as_batch: bool = True) -> list[dict[str, Any]]:
        """Send calls in one HTTP request; return each call's validated response object.

        Each returned object has ``result`` or ``error``; node errors are left to the caller.

        Raises:
            RpcError: transport failure after retries, or a malformed or incomplete answer.
        """
        if not calls:
            return []
        with self._lock:
            first = self._next_id
            self._next_id += len(calls)
        reqs = [
            {"jsonrpc": "2.0", "id": first + i, "method": c.method, "params": list(c.params)}
            for i, c in enumerate(calls)
        ]
        single = not as_batch and len(calls) == 1
        body = json.dumps(reqs[0] if single else reqs, separators=(",", ":")).encode()
        raw = self._post(body)
        try:
            answer = parse_json(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise self.error("answer is not UTF-8 JSON") from None
        except JsonRefused as exc:
            raise self.error(f"answer refused: {exc.message}") from None
        if single:
            answers = [answer]
        else:
            if isinstance(answer, dict) and "error" in answer:
                raise self.error(
                    f"batch refused: {_error_text(answer['error'])}",
                )
            if not isinstance(answer, list):
                raise self.error("expected a JSON array answering the batch")
            answers = answer
        by_id: dict[int, dict[str, Any]] = {}
        for item in answers:
            if not isinstance(item, dict) or item.get("jsonrpc") != "2.0":
                raise self.error("malformed JSON-RPC response object")
            rid = item.get("id")
            if isinstance(rid, bool) or not isinstance(rid, int):
                raise self.error(f"response id {rid!r} is not one this client sent")
            if rid in by_id or not first <= rid < first + len(calls):
                raise self.error(f"response id {rid} duplicated or never requested")
            by_id[rid] = item
        items: list[dict[str, Any]] = []
        for i, c in enumerate(calls):
            item = by_id.get(first + i)
            if item is None:
                raise self.error(f"no answer to {c.method} in the batch")
            if "error" not in item and "result" not in item:
                raise self.error(f"answer to {c.method} has neither result nor error")
            items.append(item)
        return items

    def batch(self, calls: Sequence[Call], *, as_batch: bool = True) -> list[Any]:
        """Send several calls in one HTTP request (a JSON-RPC batch) and return the results.

        Args:
            calls: the calls, answered in this order.
            as_batch: send a JSON array (``True``) or, for one call, a single object.

        Returns:
            The ``result`` of each call, in order.

        Raises:
            RpcError: transport failure after retries, a malformed or incomplete answer, or a
                node error for any call (the first one found).
            HistoryUnavailable: the node does not keep the requested state.
        """
        items = self.exchange(calls, as_batch=as_batch)
        return [self.result_of(c, item) for c, item in zip(calls, items, strict=True)]

    def result_of(self, call: Call, item: dict[str, Any]) -> Any:
        """The ``result`` of one answer item from :meth:`exchange`.

        Raises:
            RpcError: the item is a node error (CCIP-Read reverts included).
            HistoryUnavailable: the node does not keep the requested state.
        """
        if "error" in item:
            raise self._node_error(call, item["error"])
        return item["result"]

    def is_revert(self, item: dict[str, Any]) -> bool:
        """Whether an answer item is an ``eth_call`` revert (not a node failure).

        Raises:
            RpcError: the revert is a CCIP-Read ``OffchainLookup`` (never followed).
        """
        err = item.get("error")
        if not isinstance(err, dict):
            return False
        data_field = err.get("data")
        if isinstance(data_field, str) and data_field.lower().startswith(OFFCHAIN_LOOKUP_SELECTOR):
            raise self.error("eth_call reverted with OffchainLookup (CCIP-Read); never followed")
        return err.get("code") == 3 or "revert" in str(err.get("message", "")).lower()

    def _post(self, body: bytes) -> bytes:
        deadline = time.monotonic() + self.max_total
        attempt = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self.error(f"gave up after {attempt} attempt(s) in {self.max_total:.1f}s")
            self.requests += 1
            try:
                return self._transport(
                    self.url, body, min(self.timeout, remaining), self.max_response_bytes
                )
            except TransportError as exc:
                attempt += 1
                if not exc.retryable or attempt > self.retries:
                    tries = f" after {attempt} attempt(s)" if exc.retryable else ""
                    raise self.error(f"{exc}{tries}") from None
                delay = self.backoff * 2 ** (attempt - 1)
                if time.monotonic() + delay >= deadline:
                    raise self.error(
                        f"{exc}; no time left for another attempt (cap {self.max_total:.1f}s)"
                    ) from None
                self._sleep(delay)

    def _node_error(self, c: Call, err: Any) -> RpcError:
        text = _error_text(err)
        low = text.lower()
        data = err.get("data") if isinstance(err, dict) else None
        if isinstance(data, str) and data.lower().startswith(OFFCHAIN_LOOKUP_SELECTOR):
            return self.error(
                f"{c.method} reverted with OffchainLookup (CCIP-Read); porv never follows it"
            )
        if any(h in low for h in _PRUNED_HINTS):
            return self.error(
                f"{c.method} at {_block_param(c)}: state not available ({text})",
                HistoryUnavailable,
            )
        return self.error(f"{c.method} failed: {text}")


def _error_text(err: Any) -> str:
    if isinstance(err, dict):
        code = err.get("code")
        msg = err.get("message")
        return f"{msg!s} (code {code})" if code is not None else str(msg)
    return repr(err)[:200]


def _block_param(c: Call) -> str:
    return str(c.params[-1]) if c.params else "?"


# --- validators ------------------------------------------------------------------------


def quantity(value: Any, what: str, client: RpcClient, *, bits: int = 256) -> int:
    """A JSON-RPC quantity: compact 0x-hex, non-negative, within ``bits``.

    Raises:
        RpcError: not a compact hex quantity or out of range.
    """
    if not isinstance(value, str) or not _QUANTITY_RE.match(value):
        raise client.error(f"{what}: expected a hex quantity, found {_show(value)}")
    n = int(value, 16)
    if n >= 1 << bits:
        raise client.error(f"{what}: {n} does not fit in {bits} bits")
    return n


def data(value: Any, what: str, client: RpcClient) -> bytes:
    """JSON-RPC data: 0x-hex of whole bytes.

    Raises:
        RpcError: not 0x-hex of even length.
    """
    if not isinstance(value, str) or not _DATA_RE.match(value):
        raise client.error(f"{what}: expected 0x-hex data, found {_show(value)}")
    return bytes.fromhex(value[2:])


def hash32(value: Any, what: str, client: RpcClient) -> str:
    """A 32-byte hash, returned as lowercase 0x-hex.

    Raises:
        RpcError: not 0x-hex of 32 bytes.
    """
    if not isinstance(value, str) or not _HASH_RE.match(value):
        raise client.error(f"{what}: expected a 32-byte hash, found {_show(value)}")
    return value.lower()


@dataclass(frozen=True)
class BlockHeader:
    """The header fields porv relies on."""

    number: int
    hash: str
    parent_hash: str
    timestamp: int


def block_header(value: Any, client: RpcClient, *, number: int | None = None) -> BlockHeader:
    """Validate an ``eth_getBlockByNumber`` answer.

    Args:
        value: the ``result``.
        client: the endpoint (for messages).
        number: the block requested; the answer must be for exactly this block.

    Returns:
        The header.

    Raises:
        RpcError: missing block or malformed fields.
        WrongBlock: the node answered for another block than the one requested.
    """
    if value is None:
        raise client.error(f"block {number if number is not None else 'latest'} not found")
    if not isinstance(value, dict):
        raise client.error(f"expected a block object, found {_show(value)}")
    for key in ("number", "hash", "parentHash", "timestamp"):
        if key not in value:
            raise client.error(f"block object lacks {key!r}")
    n = quantity(value["number"], "block number", client, bits=64)
    header = BlockHeader(
        number=n,
        hash=hash32(value["hash"], "block hash", client),
        parent_hash=hash32(value["parentHash"], "parent hash", client),
        timestamp=quantity(value["timestamp"], "block timestamp", client, bits=64),
    )
    if number is not None and n != number:
        raise client.error(f"asked for block {number}, the node answered block {n}", WrongBlock)
    return header


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def call_all_endpoints(
    chain_id: int,
    urls: Sequence[str],
    to: str,
    calldata: bytes,
    *,
    block: int | None = None,
    timeout: float = 10.0,
    retries: int = 2,
    transport: Transport | None = None,
) -> bytes | None:
    """``eth_call`` on every endpoint of a chain at one block; all must agree.

    One call through :func:`read_all_endpoints`.

    Args:
        chain_id: the chain the endpoints must serve.
        urls: its endpoints (at least one).
        to: the contract address.
        calldata: selector and arguments.
        block: block number to call at (default: the lowest head among the endpoints).
        timeout: seconds per HTTP attempt.
        retries: extra attempts after a transport failure.
        transport: replaces HTTP (tests).

    Returns:
        The return data, or None when the call reverted on every endpoint.

    Raises:
        InputError: no endpoint given.
        WrongChain: an endpoint serves another chain id.
        EndpointsDisagree: endpoints differ on the block hash or the answer.
        RpcError: transport failure, malformed answers, or a node error other than a revert.
    """
    call = Call("eth_call", ({"to": to, "data": "0x" + calldata.hex()},))
    _, (answer,) = read_all_endpoints(
        chain_id, urls, [call], block=block, timeout=timeout, retries=retries, transport=transport
    )
    return answer


def read_all_endpoints(
    chain_id: int,
    urls: Sequence[str],
    calls: Sequence[Call],
    *,
    block: int | None = None,
    timeout: float = 10.0,
    retries: int = 2,
    transport: Transport | None = None,
) -> tuple[BlockHeader, list[bytes | None]]:
    """Read-only calls on every endpoint of a chain at one block; all must agree.

    The block is ``block`` (or the lowest head among the endpoints, so that each can serve
    it); each endpoint is asked, in one
    batch, for its chain id, that block's header and every call at that block number. Every
    endpoint must serve the chain, the same block hash and the same answer to every call.

    Args:
        chain_id: the chain the endpoints must serve.
        urls: its endpoints (at least one).
        calls: ``eth_call`` or ``eth_getCode`` calls *without* their block parameter (it is
            appended here), e.g. ``Call("eth_getCode", (address,))``.
        block: block number to read at (default: the lowest head among the endpoints).
        timeout: seconds per HTTP attempt.
        retries: extra attempts after a transport failure.
        transport: replaces HTTP (tests).

    Returns:
        The pinned header, and per call its data (None for an ``eth_call`` that reverted on
        every endpoint).

    Raises:
        InputError: no endpoint given.
        WrongChain: an endpoint serves another chain id.
        WrongBlock: an endpoint answered for another block than the one asked.
        EndpointsDisagree: endpoints differ on the block hash or an answer.
        RpcError: transport failure, malformed answers, or a node error other than a revert.
    """
    from verifier.errors import EndpointsDisagree, InputError, WrongChain

    if not urls:
        raise InputError(f"chain {chain_id} has no RPC endpoint")
    clients = [
        RpcClient(u, chain_id, timeout=timeout, retries=retries, transport=transport) for u in urls
    ]
    if block is None:
        block = min(
            block_header(c.call("eth_getBlockByNumber", "latest", False), c).number for c in clients
        )
    tag = hex(block)
    pinned = [Call(c.method, (*c.params, tag)) for c in calls]
    headers: list[BlockHeader] = []
    answers: list[list[bytes | None]] = []
    for c in clients:
        items = c.exchange(
            [Call("eth_chainId"), Call("eth_getBlockByNumber", (tag, False)), *pinned]
        )
        got = quantity(c.result_of(Call("eth_chainId"), items[0]), "eth_chainId", c, bits=64)
        if got != chain_id:
            raise c.error(f"serves chain id {got}, expected {chain_id}", WrongChain)
        headers.append(
            block_header(c.result_of(Call("eth_getBlockByNumber"), items[1]), c, number=block)
        )
        mine: list[bytes | None] = []
        for call, item in zip(pinned, items[2:], strict=True):
            if "error" in item and call.method == "eth_call" and c.is_revert(item):
                mine.append(None)
            else:
                mine.append(data(c.result_of(call, item), f"{call.method} result", c))
        answers.append(mine)
    for c, header, mine in zip(clients[1:], headers[1:], answers[1:], strict=True):
        if header.hash != headers[0].hash:
            what = "block hash"
        else:
            diff = [i for i, (a, b) in enumerate(zip(mine, answers[0], strict=True)) if a != b]
            if not diff:
                continue
            what = f"{pinned[diff[0]].method} result"
        raise EndpointsDisagree(
            f"chain {chain_id}: endpoints {clients[0].url} and {c.url} disagree on the "
            f"{what} at block {block}",
            hint="one of them is lagging, forked or lying; porv will not pick one",
        )
    return headers[0], answers[0]
