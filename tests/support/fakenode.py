"""One fake EVM node for the chain reader's tests: a scriptable JSON-RPC model, in process or
over HTTP.

:class:`FakeChain` is an in-memory EVM node model: a chain id, block headers by number (hashes
derived from the chain id and ``salt``; ``timestamps`` one per block), the ``finalized`` tag
(``finalized_lag`` blocks behind the head, or not served), and ``eth_call`` answers for ERC-20
tokens (:class:`Token`: mints by block), Chainlink-style feeds and Multicall3, plus the
block-number probe. ``hook(request, answer)`` tampers with one answer, ``body_hook(body)`` with
the whole HTTP body. Its :meth:`FakeChain.transport` plugs into ``RpcClient`` / ``read_supply``
(``transport=``); :class:`Network` routes several URLs to several models.

:class:`FakeNode` serves a model (or one fixed body, for a node answering nonsense) over HTTP on
``127.0.0.1:<free port>`` for tests of the real transport: ``delays`` holds seconds to wait
before each next answer, ``script`` the HTTP status and headers of each next answer (200: the
model answers; otherwise a body of ``{}``). Use it as a context manager or with
:meth:`FakeNode.start` / :meth:`FakeNode.stop`.

:func:`chain` and :func:`feed_chain` build the standard scenario the unit tests share (tokens
``TOKEN`` and ``TOKEN2``, endpoints ``U1`` and ``U2``, feed ``FEED``).

A proxy in front of a *real* node that misbehaves is :mod:`tests.support.faultproxy`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from eth_abi.abi import decode, encode

from tests.support.localserver import LocalServer
from verifier.chain.contracts import load_contract
from verifier.chain.rpc import TransportError
from verifier.chain.supply import MULTICALL3_ADDRESS

#: the runtime code of the Multicall3 porv ships (what the fake node serves at its address)
_MULTICALL3_CODE = bytes.fromhex(load_contract("Multicall3").deployed_bytecode[2:])

Hook = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any] | None]


@dataclass
class Token:
    decimals: int
    #: (block, holder, amount) mints, applied at the end of that block
    mints: list[tuple[int, str, int]] = field(default_factory=list)
    created: int = 0

    def balance(self, holder: str, n: int) -> int:
        return sum(a for b, h, a in self.mints if b <= n and h.lower() == holder.lower())

    def total(self, n: int) -> int:
        return sum(a for b, _, a in self.mints if b <= n)


@dataclass
class FakeChain:
    chain_id: int
    timestamps: list[int]
    tokens: dict[str, Token] = field(default_factory=dict)
    multicall_from: int | None = None  # block from which Multicall3 has code
    #: a fake at the Multicall3 address: (its runtime code, what every call to it returns)
    multicall_fake: tuple[bytes, bytes] | None = None
    #: feed address -> (decimals, (roundId, answer, startedAt, updatedAt, answeredInRound))
    feeds: dict[str, tuple[int, tuple[int, int, int, int, int]]] = field(default_factory=dict)
    salt: str = ""
    #: tamper with a single answer: hook(request, response) -> replacement or None
    hook: Hook | None = None
    #: tamper with the whole HTTP body: (body) -> body
    body_hook: Callable[[bytes], bytes] | None = None
    calls: list[str] = field(default_factory=list)
    http_requests: int = 0
    #: the ``finalized`` tag trails the head by this many blocks (None: tag not served)
    finalized_lag: int | None = 0

    def block_hash(self, n: int) -> str:
        return "0x" + hashlib.sha256(f"{self.chain_id}/{self.salt}/{n}".encode()).hexdigest()

    def header(self, n: int) -> dict[str, Any]:
        return {
            "number": hex(n),
            "hash": self.block_hash(n),
            "parentHash": self.block_hash(n - 1) if n else "0x" + "00" * 32,
            "timestamp": hex(self.timestamps[n]),
        }

    def _block(self, tag: str) -> int:
        head = len(self.timestamps) - 1
        if tag == "latest":
            return head
        if tag == "finalized":
            if self.finalized_lag is None:
                raise ValueError("unknown block tag")
            return max(0, head - self.finalized_lag)
        n = int(tag, 16)
        if n > head:
            raise LookupError("block not found")
        return n

    def _call(self, to: str, cd: bytes, n: int) -> bytes:
        if self.multicall_from is not None and to.lower() == MULTICALL3_ADDRESS.lower():
            if n < self.multicall_from:
                return b""
            if self.multicall_fake is not None:
                return self.multicall_fake[1]
            (items,) = decode(["(address,bool,bytes)[]"], cd[4:])
            out = []
            for target, _allow, data in items:
                try:
                    out.append((True, self._call(target, bytes(data), n)))
                except ValueError:
                    out.append((False, b""))
            return encode(["(bool,bytes)[]"], [out])
        if to.lower() in self.feeds:
            dec, rnd = self.feeds[to.lower()]
            if cd[:4].hex() == "313ce567":
                return encode(["uint8"], [dec])
            return encode(["uint80", "int256", "uint256", "uint256", "uint80"], list(rnd))
        token = self.tokens.get(to.lower())
        if token is None or n < token.created:
            return b""
        sel = cd[:4].hex()
        if sel == "18160ddd":
            return encode(["uint256"], [token.total(n)])
        if sel == "313ce567":
            return encode(["uint8"], [token.decimals])
        if sel == "70a08231":
            (holder,) = decode(["address"], cd[4:])
            return encode(["uint256"], [token.balance(holder, n)])
        raise ValueError("revert")

    def answer(self, req: dict[str, Any]) -> dict[str, Any]:
        method, params = req["method"], req.get("params", [])
        self.calls.append(method)
        base: dict[str, Any] = {"jsonrpc": "2.0", "id": req["id"]}
        try:
            if method == "eth_chainId":
                result: Any = hex(self.chain_id)
            elif method == "eth_getBlockByNumber":
                result = self.header(self._block(params[0]))
            elif method == "eth_getCode":
                n = self._block(params[1])
                mc = self.multicall_from
                is_mc = params[0].lower() == MULTICALL3_ADDRESS.lower()
                code = self.multicall_fake[0] if self.multicall_fake else _MULTICALL3_CODE
                result = "0x" + code.hex() if (is_mc and mc is not None and n >= mc) else "0x"
            elif method == "eth_call" and "to" not in params[0]:
                n = self._block(params[1])  # the block-number probe: init code returning NUMBER
                assert params[0]["data"] == "0x4360005260206000f3"
                result = "0x" + encode(["uint256"], [n]).hex()
            elif method == "eth_call":
                n = self._block(params[1])
                result = (
                    "0x"
                    + self._call(params[0]["to"], bytes.fromhex(params[0]["data"][2:]), n).hex()
                )
            else:
                return {**base, "error": {"code": -32601, "message": "method not found"}}
        except LookupError:
            return {**base, "result": None}
        except ValueError:
            return {**base, "error": {"code": 3, "message": "execution reverted"}}
        resp = {**base, "result": result}
        if self.hook is not None:
            replaced = self.hook(req, resp)
            if replaced is not None:
                return replaced
        return resp

    def transport(self, url: str, body: bytes, timeout: float, max_bytes: int) -> bytes:
        self.http_requests += 1
        req = json.loads(body)
        out: Any = [self.answer(r) for r in req] if isinstance(req, list) else self.answer(req)
        raw = json.dumps(out).encode()
        if self.body_hook is not None:
            raw = self.body_hook(raw)
        if len(raw) > max_bytes:
            raise TransportError(f"response larger than {max_bytes} bytes", retryable=False)
        return raw


class Network:
    """Routes URLs to fake nodes (several endpoints may serve one chain)."""

    def __init__(self, nodes: dict[str, FakeChain]) -> None:
        self.nodes = nodes

    def transport(self, url: str, body: bytes, timeout: float, max_bytes: int) -> bytes:
        node = self.nodes.get(url)
        if node is None:
            raise TransportError("connection refused", retryable=True)
        return node.transport(url, body, timeout, max_bytes)


class FakeNode(LocalServer):
    """A :class:`FakeChain` (or a fixed ``body``) served over HTTP (see the module docstring)."""

    def __init__(self, model: FakeChain | None = None, *, body: bytes | None = None) -> None:
        if (model is None) == (body is None):
            raise ValueError("a FakeNode serves either a model or a fixed body")
        super().__init__()
        self.model = model
        self.body = body
        #: seconds to wait before each next answer
        self.delays: list[float] = []
        #: (HTTP status, headers) of each next answer; 200 answers, any other sends ``{}``
        self.script: list[tuple[int, dict[str, str]]] = []

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        request = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        if self.delays:
            time.sleep(self.delays.pop(0))
        status, headers = self.script.pop(0) if self.script else (200, {})
        if status != 200:
            out = b"{}"
        elif self.body is not None:
            out = self.body
        else:
            assert self.model is not None
            out = self.model.transport("", request, 1.0, 1 << 20)
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            for k, v in headers.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(out)))
            h.end_headers()
            h.wfile.write(out)
        except OSError:
            pass  # the client gave up waiting (a slow node's late answer)


# --- the standard scenario -------------------------------------------------------------

TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
TOKEN2 = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
TREASURY = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
TREASURY2 = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
HOLDER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
U1 = "http://node-a.test"
U2 = "http://node-b.test"


def chain(
    chain_id: int = 31337, *, blocks: int = 200, multicall_from: int | None = None
) -> FakeChain:
    """Blocks 12 s apart from t=1000; TOKEN minted at block 10 and 100, treasury at 10."""
    c = FakeChain(chain_id, [1000 + 12 * n for n in range(blocks)], multicall_from=multicall_from)
    c.tokens[TOKEN.lower()] = Token(
        6,
        [(10, HOLDER, 1_000_000), (10, TREASURY, 400_000), (100, HOLDER, 5_000_000)],
    )
    c.tokens[TOKEN2.lower()] = Token(6, [(5, HOLDER, 7), (5, TREASURY2, 3)])
    return c


FEED = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"


def feed_chain(rnd: tuple[int, int, int, int, int], decimals: int = 6) -> FakeChain:
    c = chain()
    c.feeds[FEED.lower()] = (decimals, rnd)
    return c
