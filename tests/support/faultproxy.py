"""One fault-injecting JSON-RPC proxy for every hostile-endpoint test.

:class:`FaultProxy` listens on ``127.0.0.1:<free port>``, forwards each POST to a real node
(``upstream``) and misbehaves the way :class:`Fault` says:

===============  ===========================================================================
``NONE``         forward honestly (``rewrite`` may still alter answers)
``LAG``          a node ``lag`` blocks behind, every answer true but older: its head is
                 head - lag (``eth_blockNumber``; ``latest`` and ``pending`` for blocks and
                 for state reads, whose missing block parameter is ``latest``); ``safe`` /
                 ``finalized`` are the upstream's, capped at that head; blocks above it are
                 ``null`` (by number or hash), state reads above it fail "header not found"
``ANOTHER_BLOCK`` ``eth_getBlockByNumber(n)`` answered with block n-1's header
``ANOTHER_HASH`` block n's header carrying block n-1's hash (both lies leave tags and the
                 genesis alone)
``CALLS_AT_HEAD`` every ``eth_call`` run at ``latest`` whatever block is asked
``STALL``        accept the request, never answer (until the proxy stops)
``DRIP``         the honest answer, one byte every ``drip_interval`` seconds
``TRUNCATE``     a ``Content-Length`` for the whole answer, then half of it and close
``STATUS``       HTTP ``status`` (429, 500, 503...) with a small body
``DROP``         close the connection without a byte of answer
``DEEP_JSON``    ``deep_levels`` nested arrays (200 OK, valid JSON)
``WRONG_IDS``    the honest answers with every id shifted by 1000
===============  ===========================================================================

Options: ``methods`` limits the fault to requests naming one of these methods (others are
forwarded honestly); ``after`` forwards the first N requests honestly; ``rewrite(request,
answer) -> answer`` edits each answer item (for one-off lies). ``fault`` and the options can be
changed while the proxy runs. ``requests`` counts POSTs, ``faulted`` those that misbehaved.

Use it as a context manager (``with FaultProxy(url, Fault.STALL) as proxy: proxy.url``) or
with :meth:`start` / :meth:`stop`; stopping releases every stalled or dripping connection.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.request
from collections.abc import Callable, Collection
from enum import Enum
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.localserver import LocalServer

Rewrite = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]


class Fault(Enum):
    """How the proxy misbehaves."""

    NONE = "none"
    LAG = "lag"
    ANOTHER_BLOCK = "another_block"
    ANOTHER_HASH = "another_hash"
    CALLS_AT_HEAD = "calls_at_head"
    STALL = "stall"
    DRIP = "drip"
    TRUNCATE = "truncate"
    STATUS = "status"
    DROP = "drop"
    DEEP_JSON = "deep_json"
    WRONG_IDS = "wrong_ids"


def post(url: str, payload: Any, timeout: float = 30.0) -> Any:
    """POST a JSON-RPC payload and decode the answer (the proxy's way to the real node)."""
    req = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())


def _call(url: str, method: str, *params: Any) -> Any:
    return post(url, {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})[
        "result"
    ]


_REQUEST = {"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber"}

#: Where each method that reads at a block takes its block parameter.
_BLOCK_PARAM = {
    "eth_getBlockByNumber": 0,
    "eth_call": 1,
    "eth_getBalance": 1,
    "eth_getCode": 1,
    "eth_getTransactionCount": 1,
    "eth_getStorageAt": 2,
}


def _numbered(tag: Any) -> int | None:
    if isinstance(tag, str) and tag.startswith("0x"):
        return int(tag, 16)
    return None


class FaultProxy(LocalServer):
    """A fault-injecting JSON-RPC proxy in front of ``upstream`` (see the module docstring)."""

    protocol_version = "HTTP/1.1"

    def __init__(
        self,
        upstream: str,
        fault: Fault = Fault.NONE,
        *,
        lag: int = 8,
        status: int = 503,
        drip_interval: float = 0.5,
        deep_levels: int = 200_000,
        methods: Collection[str] | None = None,
        after: int = 0,
        rewrite: Rewrite | None = None,
    ) -> None:
        self.upstream = upstream
        self.fault = fault
        self.lag = lag
        self.status = status
        self.drip_interval = drip_interval
        self.deep_levels = deep_levels
        self.methods = frozenset(methods) if methods is not None else None
        self.after = after
        self.rewrite = rewrite
        self.requests = 0
        self.faulted = 0
        self._lock = threading.Lock()
        self._closing = threading.Event()
        super().__init__()

    # -- lifecycle ---------------------------------------------------------------------------

    def _before_stop(self) -> None:
        self._closing.set()  # stalled and dripping connections are released

    # -- serving -------------------------------------------------------------------------------

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        raw = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        body = json.loads(raw)
        calls = body if isinstance(body, list) else [body]
        with self._lock:
            self.requests += 1
            number = self.requests
        fault = self.fault
        named = {c.get("method") for c in calls if isinstance(c, dict)}
        if number <= self.after or (self.methods is not None and not named & self.methods):
            fault = Fault.NONE
        if fault is not Fault.NONE:
            with self._lock:
                self.faulted += 1
        if fault is Fault.STALL:
            self._closing.wait()
            h.close_connection = True
            return
        if fault is Fault.DROP:
            h.close_connection = True
            _hang_up(h)
            return
        if fault is Fault.STATUS:
            self._send(h, b'{"error":"unavailable"}', status=self.status)
            return
        if fault is Fault.DEEP_JSON:
            n = self.deep_levels
            self._send(h, b"[" * n + b"]" * n)
            return
        answer = self._answer(fault, body)
        data = json.dumps(answer).encode()
        if fault is Fault.TRUNCATE:
            self._send(h, data, cut=len(data) // 2)
        elif fault is Fault.DRIP:
            self._drip(h, data)
        else:
            self._send(h, data)

    def _answer(self, fault: Fault, body: Any) -> Any:
        if fault is Fault.LAG:
            answer = self._lagging(body)
        elif fault is Fault.CALLS_AT_HEAD:
            answer = post(self.upstream, _calls_at_head(body))
        else:
            answer = post(self.upstream, body)
        calls = body if isinstance(body, list) else [body]
        answers = answer if isinstance(answer, list) else [answer]
        by_id = {c.get("id"): c for c in calls if isinstance(c, dict)}
        out: list[Any] = []
        for item in answers:
            if not isinstance(item, dict):
                out.append(item)
                continue
            call = by_id.get(item.get("id"), {})
            if fault in (Fault.ANOTHER_BLOCK, Fault.ANOTHER_HASH):
                item = self._lie_about_block(fault, call, item)
            if self.rewrite is not None:
                item = self.rewrite(call, item)
            if fault is Fault.WRONG_IDS and isinstance(item.get("id"), int):
                item = {**item, "id": item["id"] + 1000}
            out.append(item)
        return out if isinstance(answer, list) else out[0]

    # -- lies ------------------------------------------------------------------------------

    def _lie_about_block(self, fault: Fault, call: Any, item: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(call, dict) or call.get("method") != "eth_getBlockByNumber":
            return item
        number = _numbered((call.get("params") or [None])[0])
        result = item.get("result")
        if number is None or number == 0 or not isinstance(result, dict):
            return item
        previous = _call(self.upstream, "eth_getBlockByNumber", hex(number - 1), False)
        if fault is Fault.ANOTHER_BLOCK:
            return {**item, "result": previous}
        return {**item, "result": {**result, "hash": previous["hash"]}}

    def _lagging(self, body: Any) -> Any:
        head = int(_call(self.upstream, "eth_blockNumber"), 16)
        top = max(0, head - self.lag)
        calls = body if isinstance(body, list) else [body]
        out = [self._lag_one(c, top) for c in calls]
        return out if isinstance(body, list) else out[0]

    def _lag_one(self, call: Any, top: int) -> Any:
        """Answer one call as a node whose chain ends at block ``top`` (every answer true)."""
        if not isinstance(call, dict):
            return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "bad"}}
        rid, method = call.get("id"), call.get("method")
        params = list(call.get("params") or [])
        if method == "eth_blockNumber":
            return {"jsonrpc": "2.0", "id": rid, "result": hex(top)}
        if method == "eth_getBlockByHash":
            answer = post(self.upstream, call)
            block = answer.get("result") if isinstance(answer, dict) else None
            if isinstance(block, dict) and int(block["number"], 16) > top:
                return {**answer, "result": None}
            return answer
        at = _BLOCK_PARAM.get(str(method))
        if at is None or len(params) < at or (at == 0 and not params):
            return post(self.upstream, call)
        if len(params) == at:
            params.append("latest")  # a state read without its block parameter: latest
        tag = params[at]
        if tag in ("latest", "pending"):
            params[at] = hex(top)
        elif tag in ("safe", "finalized"):
            tagged = post(self.upstream, {**_REQUEST, "params": [tag, False]})
            block = tagged.get("result") if isinstance(tagged, dict) else None
            if not isinstance(block, dict):
                return post(self.upstream, call)  # no such block upstream: none behind it either
            params[at] = hex(min(int(block["number"], 16), top))
        else:
            n = _numbered(tag)
            if n is not None and n > top:
                if method == "eth_getBlockByNumber":
                    return {"jsonrpc": "2.0", "id": rid, "result": None}
                return {
                    "jsonrpc": "2.0",
                    "id": rid,
                    "error": {"code": -32000, "message": "header not found"},
                }
        return post(self.upstream, {**call, "params": params})

    # -- wire ------------------------------------------------------------------------------

    @staticmethod
    def _send(
        h: BaseHTTPRequestHandler, data: bytes, *, status: int = 200, cut: int | None = None
    ) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        try:
            h.wfile.write(data if cut is None else data[:cut])
            h.wfile.flush()
        except OSError:
            pass
        if cut is not None:
            h.close_connection = True
            _hang_up(h)

    def _drip(self, h: BaseHTTPRequestHandler, data: bytes) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        try:
            for i in range(len(data)):
                h.wfile.write(data[i : i + 1])
                h.wfile.flush()
                if self._closing.wait(self.drip_interval):
                    break
        except OSError:
            pass
        h.close_connection = True


def _hang_up(h: BaseHTTPRequestHandler) -> None:
    try:
        h.wfile.flush()
        h.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _calls_at_head(body: Any) -> Any:
    def rewrite(call: Any) -> Any:
        if isinstance(call, dict) and call.get("method") == "eth_call":
            return {**call, "params": [call["params"][0], "latest"]}
        return call

    return [rewrite(c) for c in body] if isinstance(body, list) else rewrite(body)
