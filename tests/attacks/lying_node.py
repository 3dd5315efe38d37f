"""A tiny lying JSON-RPC node: a proxy on 127.0.0.1 that forwards to a real chain and lies.

Lies on offer (``Lie``): answer ``eth_getBlockByNumber`` for a numbered block with the header
of the block before it, or with its header carrying another block's hash ("latest" and the
genesis pass through); or leave headers honest but run every ``eth_call`` at the head instead
of the requested block (a node that ignores the block tag); or lag: every answer true, but
as of ``lag`` blocks ago (``latest``, ``safe`` and ``finalized`` are at most head − lag, later
blocks are not found, calls there fail as a node that has not seen them).
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Lie(Enum):
    """How the proxy lies about a numbered block."""

    ANOTHER_BLOCK = "another_block"  # the header of block n-1 when asked for block n
    ANOTHER_HASH = "another_hash"  # block n's header with block n-1's hash
    CALLS_AT_HEAD = "calls_at_head"  # eth_call run at "latest" whatever block is asked
    LAGGING = "lagging"  # a node `lag` blocks behind: true answers, an older head


def _post(url: str, payload: Any) -> Any:
    req = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def _numbered(call: Any) -> int | None:
    if not isinstance(call, dict) or call.get("method") != "eth_getBlockByNumber":
        return None
    params = call.get("params") or []
    tag = params[0] if params else None
    if isinstance(tag, str) and tag.startswith("0x") and int(tag, 16) > 0:
        return int(tag, 16)
    return None


def _lie(upstream: str, lie: Lie, number: int, answer: dict[str, Any]) -> dict[str, Any]:
    result = answer.get("result")
    if not isinstance(result, dict):
        return answer
    previous = _post(
        upstream,
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "eth_getBlockByNumber",
            "params": [hex(number - 1), False],
        },
    )["result"]
    if lie is Lie.ANOTHER_BLOCK:
        return {**answer, "result": previous}
    return {**answer, "result": {**result, "hash": previous["hash"]}}


def _calls_at_head(body: Any) -> Any:
    def rewrite(call: Any) -> Any:
        if isinstance(call, dict) and call.get("method") == "eth_call":
            return {**call, "params": [call["params"][0], "latest"]}
        return call

    return [rewrite(c) for c in body] if isinstance(body, list) else rewrite(body)


_TAGS = ("latest", "safe", "finalized", "pending")


def _lagging(upstream: str, body: Any, lag: int) -> Any:
    """Answer ``body`` as a node ``lag`` blocks behind ``upstream`` would (true, but older)."""
    head = int(
        _post(upstream, {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"})["result"], 16
    )
    seen = max(0, head - lag)
    calls = body if isinstance(body, list) else [body]

    def number(tag: Any) -> int | None:
        return int(tag, 16) if isinstance(tag, str) and tag.startswith("0x") else None

    def answer(call: dict[str, Any]) -> dict[str, Any]:
        method, params = call.get("method"), list(call.get("params") or [])
        base = {"jsonrpc": "2.0", "id": call.get("id")}
        if method == "eth_blockNumber":
            return {**base, "result": hex(seen)}
        # the block parameter: first for eth_getBlockByNumber, last for state reads
        at = 0 if method == "eth_getBlockByNumber" else len(params) - 1
        if method in ("eth_getBlockByNumber", "eth_call", "eth_getCode", "eth_getBalance"):
            tag = params[at] if params else "latest"
            n = number(tag)
            if tag in _TAGS:
                if method == "eth_getBlockByNumber" and tag != "latest":
                    real = _post(upstream, {**call, "params": [tag, *params[1:]]})["result"]
                    if real is not None and int(real["number"], 16) <= seen:
                        return {**base, "result": real}
                params[at] = hex(seen)
            elif n is not None and n > seen:
                if method == "eth_getBlockByNumber":
                    return {**base, "result": None}
                return {**base, "error": {"code": -32000, "message": "header not found"}}
        answered: dict[str, Any] = _post(upstream, {**call, "params": params})
        return answered

    answers = [answer(c) for c in calls]
    return answers if isinstance(body, list) else answers[0]


@contextmanager
def lying_node(upstream: str, lie: Lie, *, lag: int = 0) -> Iterator[str]:
    """Serve the lying proxy for ``upstream``; yields its URL.

    ``lag`` is how many blocks behind a :attr:`Lie.LAGGING` node is.
    """

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if lie is Lie.LAGGING:
                data = json.dumps(_lagging(upstream, body, lag)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            if lie is Lie.CALLS_AT_HEAD:
                answer = _post(upstream, _calls_at_head(body))
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            answer = _post(upstream, body)
            calls = body if isinstance(body, list) else [body]
            answers = answer if isinstance(answer, list) else [answer]
            by_id = {a.get("id"): i for i, a in enumerate(answers) if isinstance(a, dict)}
            for call in calls:
                number = _numbered(call)
                if number is not None and call.get("id") in by_id:
                    i = by_id[call["id"]]
                    answers[i] = _lie(upstream, lie, number, answers[i])
            data = json.dumps(answers if isinstance(answer, list) else answers[0]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
