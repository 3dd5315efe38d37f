"""A small, suspicious JSON-RPC client: bounded, batched, and validating every value.

Nodes are trusted only as far as they are checked (DESIGN §1, §6). This client:

* sends single requests and JSON-RPC batches over HTTP(S) POST (no redirects followed);
* bounds every request: a per-attempt timeout that covers the whole attempt (connect, headers
  and every byte of the body: a node dripping one byte at a time cannot stretch it), ``retries``
  more attempts with exponential backoff on transport failures only (timeouts, refused
  connections, HTTP 429/5xx), and a cap on the total time spent; a node that answers wrongly
  is never asked again, it is reported;
* never outlives the run's :class:`Deadline` (``porv verify --deadline``): no attempt, retry or
  read goes past it, and reaching it raises :class:`~verifier.errors.DeadlineExceededError`;
* can be abandoned at once by :func:`abort_requests` (an interrupt): sockets in flight are shut
  down and no further attempt is made;
* caps the response size, so a hostile node cannot exhaust memory;
* matches batch answers to requests by id (each id exactly once, nothing extra);
* maps node errors to typed errors: pruned state -> :class:`HistoryUnavailableError`, anything else
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

import contextlib
import functools
import http.client
import json
import logging
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from verifier.chain.limits import DEFAULT_DEADLINE_S
from verifier.checks.evidence import BlockHeader
from verifier.errors import (
    DeadlineExceededError,
    HistoryUnavailableError,
    RpcError,
    WrongBlockError,
    redact_url,
)
from verifier.local import interrupts
from verifier.model.jsontext import JsonRefusedError, parse_json

_log = logging.getLogger(__name__)
#: ``(url, body, timeout, max_bytes) -> response body``; raise :class:`TransportError` on failure.
Transport = Callable[[str, bytes, float, int], bytes]

#: Default cap on a response body (bytes): porv's largest answer (a batch of headers and
#: multicall results for a few deployments) is kilobytes; 8 MiB bounds what a hostile node can
#: make porv hold in memory.
MAX_RESPONSE_BYTES = 8 * 1024 * 1024

# DEFAULT_DEADLINE_S (``--deadline``) lives in verifier.chain.limits: ``porv verify --help``
# shows it without importing this module.

#: Bytes asked of the socket per read of an answer body; the clock is checked between reads.
_READ_CHUNK = 64 * 1024

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


class Deadline:
    """The wall-clock budget of one run, on the monotonic clock.

    Created once per verify or recheck and handed to every :class:`RpcClient` (explicitly, or
    through :func:`deadline_scope`); each HTTP attempt gets at most the time that is left.

    Args:
        seconds: the budget, from now.
        clock: replaces :func:`time.monotonic` (tests).
    """

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if not seconds > 0:
            raise ValueError("a deadline must be > 0 seconds")
        self.seconds = float(seconds)
        self._clock = clock
        self.expires = clock() + self.seconds

    def remaining(self) -> float:
        """Seconds left (0 once passed)."""
        return max(0.0, self.expires - self._clock())

    def expired(self) -> bool:
        """Whether the budget is spent."""
        return self._clock() >= self.expires

    def error(self, where: str, detail: str = "") -> DeadlineExceededError:
        """The typed error for reaching the deadline at ``where`` (an endpoint)."""
        extra = f" ({detail})" if detail else ""
        return DeadlineExceededError(
            f"{where}: the run's deadline of {self.seconds:g} s passed before it answered{extra}",
            hint="the endpoint is too slow or withholding its answer; list another endpoint "
            "for this chain with --rpc, or allow more time with --deadline SECONDS",
        )


_ACTIVE_LOCK = threading.Lock()
_ACTIVE: list[Deadline] = []


@contextlib.contextmanager
def deadline_scope(deadline: Deadline | None) -> Iterator[Deadline | None]:
    """Make ``deadline`` the one every :class:`RpcClient` created inside the block obeys.

    The scope is process-wide (clients are created in worker threads too); nested scopes
    restore the outer one. ``None`` leaves the current scope as it is.
    """
    if deadline is None:
        yield active_deadline()
        return
    with _ACTIVE_LOCK:
        _ACTIVE.append(deadline)
    try:
        yield deadline
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE.remove(deadline)


def active_deadline() -> Deadline | None:
    """The deadline of the innermost :func:`deadline_scope`, if any."""
    with _ACTIVE_LOCK:
        return _ACTIVE[-1] if _ACTIVE else None


_P = ParamSpec("_P")
_R = TypeVar("_R")


def under_deadline(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``func`` (a whole verify or recheck) inside a :func:`deadline_scope`.

    The deadline is ``func``'s ``deadline`` keyword argument when given, else the enclosing
    scope's, else a new one of :data:`DEFAULT_DEADLINE_S`: no run is ever without one.
    """

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        given = kwargs.get("deadline")
        deadline = given if isinstance(given, Deadline) else active_deadline()
        with deadline_scope(deadline or Deadline(DEFAULT_DEADLINE_S)):
            return func(*args, **kwargs)

    return wrapper


# --- transport ------------------------------------------------------------------------

_ABORTED = threading.Event()
_LIVE_LOCK = threading.Lock()
_LIVE: set[_Watch] = set()


def abort_requests() -> None:
    """Abandon every request in flight and refuse new attempts (for an interrupt).

    Sockets in flight are shut down, so threads blocked reading them wake at once.
    """
    _ABORTED.set()
    with _LIVE_LOCK:
        live = list(_LIVE)
    for watch in live:
        watch.fire()


interrupts.on_first_signal(abort_requests)


def aborted() -> bool:
    """Whether :func:`abort_requests` was called in this process."""
    return _ABORTED.is_set()


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Watch:
    """Shuts an attempt's socket down when its time is up (a read blocked on a silent or
    dripping server returns at once); :func:`abort_requests` fires every live watch."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, seconds), self.fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watch:
        with _LIVE_LOCK:
            _LIVE.add(self)
        self._timer.start()
        if _ABORTED.is_set():
            self.fire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with _LIVE_LOCK:
            _LIVE.discard(self)

    def attach(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sock = sock
            fired = self.fired
        if fired and sock is not None:
            _shutdown(sock)

    def fire(self) -> None:
        with self._lock:
            self.fired = True
            sock = self._sock
        if sock is not None:
            _shutdown(sock)


class _WatchedHTTP(urllib.request.HTTPHandler):
    def __init__(self, watch: _Watch) -> None:
        super().__init__()
        self._watch = watch

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        watch = self._watch

        class Conn(http.client.HTTPConnection):
            def connect(self) -> None:
                super().connect()
                watch.attach(self.sock)

        return self.do_open(Conn, req)


class _WatchedHTTPS(urllib.request.HTTPSHandler):
    def __init__(self, watch: _Watch) -> None:
        super().__init__()
        self._watch = watch

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        watch = self._watch

        class Conn(http.client.HTTPSConnection):
            def connect(self) -> None:
                super().connect()
                watch.attach(self.sock)

        return self.do_open(Conn, req, context=getattr(self, "_context", None))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def http_post(url: str, body: bytes, timeout: float, max_bytes: int) -> bytes:
    """POST ``body`` as JSON to ``url`` and return the response body.

    Args:
        url: the endpoint.
        body: JSON request bytes.
        timeout: seconds for the whole attempt: connect, headers and every byte of the body
            (the socket is shut down when they are up, and the clock is checked between reads,
            so a server dripping one byte at a time cannot stretch the attempt).
        max_bytes: refuse a response larger than this.

    Returns:
        The raw response body.

    Raises:
        TransportError: connection failure, timeout, non-200 status or an oversize body.
    """
    if _ABORTED.is_set():
        raise TransportError("interrupted", retryable=False)
    req = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    expires = time.monotonic() + timeout
    with _Watch(timeout) as watch:
        opener = urllib.request.build_opener(_NoRedirect, _WatchedHTTP(watch), _WatchedHTTPS(watch))
        try:
            with opener.open(req, timeout=timeout) as resp:
                status = resp.status
                payload = _read_body(resp, expires, max_bytes, watch, timeout)
        except TransportError:
            raise
        except urllib.error.HTTPError as exc:
            exc.close()  # it holds the response and its socket
            if watch.fired:
                raise _timed_out(timeout) from None
            retry = exc.code == 429 or exc.code >= 500
            raise TransportError(f"HTTP {exc.code} {exc.reason}", retryable=retry) from None
        except (OSError, http.client.HTTPException) as exc:
            if watch.fired:
                raise _timed_out(timeout) from None
            if isinstance(exc, urllib.error.URLError):
                raise TransportError(f"cannot connect: {exc.reason}", retryable=True) from None
            raise TransportError(f"{type(exc).__name__}: {exc}", retryable=True) from None
        if watch.fired:
            raise _timed_out(timeout)
    if status != 200:
        raise TransportError(f"HTTP {status}", retryable=status == 429 or status >= 500)
    if len(payload) > max_bytes:
        raise TransportError(f"response larger than {max_bytes} bytes", retryable=False)
    return payload


def _timed_out(timeout: float) -> TransportError:
    if _ABORTED.is_set():
        return TransportError("interrupted", retryable=False)
    return TransportError(f"no complete answer within {timeout:.1f}s", retryable=True)


def _read_body(resp: Any, expires: float, max_bytes: int, watch: _Watch, timeout: float) -> bytes:
    """Read a body in chunks, checking the clock between them, up to ``max_bytes + 1``."""
    parts: list[bytes] = []
    size = 0
    while size <= max_bytes:
        if watch.fired or time.monotonic() >= expires:
            raise _timed_out(timeout)
        chunk = resp.read1(min(_READ_CHUNK, max_bytes + 1 - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    if watch.fired:
        raise _timed_out(timeout)
    if size <= max_bytes and getattr(resp, "length", None):
        # the connection ended before the Content-Length the server announced
        raise TransportError(f"answer cut short after {size} bytes", retryable=True)
    return b"".join(parts)


@dataclass(frozen=True)
class Call:
    """One JSON-RPC method call."""

    method: str
    params: tuple[Any, ...] = ()


def eth_call(to: str, calldata: bytes, block: int | str | None = None) -> Call:
    """An ``eth_call`` of ``calldata`` to ``to``: at ``block`` (a number or a tag) when given,
    else without its block parameter (:func:`read_all_endpoints` adds the pinned one)."""
    params: dict[str, str] = {"to": to, "data": "0x" + calldata.hex()}
    if block is None:
        return Call("eth_call", (params,))
    return Call("eth_call", (params, hex(block) if isinstance(block, int) else block))


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
        deadline: the run's deadline (default: the one of the enclosing
            :func:`deadline_scope`, if any); no attempt or retry goes past it.
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
        deadline: Deadline | None = None,
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
        self.deadline = deadline if deadline is not None else active_deadline()
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
            HistoryUnavailableError: the node does not keep the requested state.
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
        except JsonRefusedError as exc:
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
            HistoryUnavailableError: the node does not keep the requested state.
        """
        items = self.exchange(calls, as_batch=as_batch)
        return [self.result_of(c, item) for c, item in zip(calls, items, strict=True)]

    def result_of(self, call: Call, item: dict[str, Any]) -> Any:
        """The ``result`` of one answer item from :meth:`exchange`.

        Raises:
            RpcError: the item is a node error (CCIP-Read reverts included).
            HistoryUnavailableError: the node does not keep the requested state.
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
        run = self.deadline
        attempt = 0
        last = ""
        while True:
            if _ABORTED.is_set():
                raise self.error("interrupted")
            if run is not None and run.expired():
                raise run.error(self.where(), last)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self.error(f"gave up after {attempt} attempt(s) in {self.max_total:.1f}s")
            budget = min(self.timeout, remaining)
            if run is not None:
                budget = min(budget, run.remaining())
            self.requests += 1
            started = time.monotonic()
            try:
                answer = self._transport(self.url, body, budget, self.max_response_bytes)
                _log.debug(
                    "%s: %d bytes in %.0f ms",
                    self.where(),
                    len(answer),
                    (time.monotonic() - started) * 1000,
                )
                return answer
            except TransportError as exc:
                attempt += 1
                last = f"last attempt: {exc}"
                _log.debug("%s: attempt %d failed: %s", self.where(), attempt, exc)
                if _ABORTED.is_set():
                    raise self.error("interrupted") from None
                if run is not None and run.expired():
                    raise run.error(self.where(), last) from None
                if not exc.retryable or attempt > self.retries:
                    tries = f" after {attempt} attempt(s)" if exc.retryable else ""
                    raise self.error(f"{exc}{tries}") from None
                delay = self.backoff * 2 ** (attempt - 1)
                if run is not None and time.monotonic() + delay >= run.expires:
                    raise run.error(self.where(), last) from None
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
                HistoryUnavailableError,
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
        WrongBlockError: the node answered for another block than the one requested.
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
        raise client.error(
            f"asked for block {number}, the node answered block {n}", WrongBlockError
        )
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
    finality: str | int = "finalized",
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
        block: block number to call at (default: see :func:`read_all_endpoints`).
        finality: the policy's finality for the chain, when ``block`` is None.
        timeout: seconds per HTTP attempt.
        retries: extra attempts after a transport failure.
        transport: replaces HTTP (tests).

    Returns:
        The return data, or None when the call reverted on every endpoint.

    Raises:
        InputError: no endpoint given.
        WrongChainError: an endpoint serves another chain id.
        EndpointsDisagreeError: endpoints differ on the block hash or the answer.
        RpcError: transport failure, malformed answers, or a node error other than a revert.
    """
    call = eth_call(to, calldata)
    _, (answer,) = read_all_endpoints(
        chain_id,
        urls,
        [call],
        block=block,
        finality=finality,
        timeout=timeout,
        retries=retries,
        transport=transport,
    )
    return answer


def read_all_endpoints(
    chain_id: int,
    urls: Sequence[str],
    calls: Sequence[Call],
    *,
    block: int | None = None,
    finality: str | int = "finalized",
    timeout: float = 10.0,
    retries: int = 2,
    transport: Transport | None = None,
) -> tuple[BlockHeader, list[bytes | None]]:
    """Read-only calls on every endpoint of a chain at one block; all must agree.

    The block is ``block`` or, without it, the highest block the chain's ``finality`` allows
    on any endpoint, which every endpoint must allow too
    (:func:`verifier.chain.finality.read_block`: a lagging endpoint is an error, never a
    reason to read lower); each endpoint is asked, in one batch, for its chain id, that
    block's header and every call at that block number. Every endpoint must serve the chain,
    the same block hash and the same answer to every call.

    Args:
        chain_id: the chain the endpoints must serve.
        urls: its endpoints (at least one).
        calls: ``eth_call`` or ``eth_getCode`` calls *without* their block parameter (it is
            appended here), e.g. ``Call("eth_getCode", (address,))``.
        block: block number to read at (default: chosen by ``finality``, as above).
        finality: the policy's finality for the chain (``"finalized"``, ``"latest"`` or N
            confirmations), used only when ``block`` is None.
        timeout: seconds per HTTP attempt.
        retries: extra attempts after a transport failure.
        transport: replaces HTTP (tests).

    Returns:
        The pinned header, and per call its data (None for an ``eth_call`` that reverted on
        every endpoint).

    Raises:
        InputError: no endpoint given.
        WrongChainError: an endpoint serves another chain id.
        WrongBlockError: an endpoint answered for another block than the one asked.
        NotFinalError: without ``block``, an endpoint is behind the block the finality allows.
        EndpointsDisagreeError: endpoints differ on the block hash or an answer.
        RpcError: transport failure, malformed answers, or a node error other than a revert.
    """
    from verifier.errors import EndpointsDisagreeError, InputError, WrongChainError

    if not urls:
        raise InputError(f"chain {chain_id} has no RPC endpoint")
    clients = [
        RpcClient(u, chain_id, timeout=timeout, retries=retries, transport=transport) for u in urls
    ]
    if block is None:
        block = _final_read_block(chain_id, clients, finality)
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
            raise c.error(f"serves chain id {got}, expected {chain_id}", WrongChainError)
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
        raise EndpointsDisagreeError(
            f"chain {chain_id}: endpoints {redact_url(clients[0].url)} and {redact_url(c.url)} "
            f"disagree on the "
            f"{what} at block {block}",
            hint="one of them is lagging, forked or lying; porv will not pick one",
        )
    return headers[0], answers[0]


def _final_read_block(chain_id: int, clients: Sequence[RpcClient], finality: str | int) -> int:
    """Ask every endpoint for its head (and ``finalized`` block) and choose the read block.

    The decision is :func:`verifier.chain.finality.read_block`'s; this is its IO.
    """
    from verifier.chain.finality import FINALIZED, EndpointView, read_block
    from verifier.errors import WrongChainError

    views: list[EndpointView] = []
    for c in clients:
        calls = [Call("eth_chainId"), Call("eth_getBlockByNumber", ("latest", False))]
        if finality == FINALIZED:
            calls.append(Call("eth_getBlockByNumber", ("finalized", False)))
        items = c.exchange(calls)
        got = quantity(c.result_of(calls[0], items[0]), "eth_chainId", c, bits=64)
        if got != chain_id:  # judged before anything else the endpoint said
            raise c.error(f"serves chain id {got}, expected {chain_id}", WrongChainError)
        head = block_header(c.result_of(calls[1], items[1]), c)
        finalized = None
        if finality == FINALIZED:
            try:
                value = c.result_of(calls[2], items[2])
            except RpcError:
                value = None  # the tag is not served; read_block says what to do
            finalized = None if value is None else block_header(value, c)
        views.append(EndpointView(c.url, head, finalized))
    return read_block(chain_id, finality, views)
