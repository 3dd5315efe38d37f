"""The embedded chain: py-evm (through eth-tester) served as JSON-RPC over HTTP in-process.

Every layer of porv talks to chains through JSON-RPC URLs; this module gives the in-process
chain one too, so the demo and the fast tests exercise exactly the code paths a real node does.
A :class:`ThreadingHTTPServer` on ``127.0.0.1:<free port>`` runs in a daemon thread; requests
are serialised with one lock because eth-tester is not thread-safe.

Served methods (single requests and JSON-RPC batches): ``web3_clientVersion``, ``net_version``,
``eth_chainId``, ``eth_syncing``, ``eth_accounts``, ``eth_blockNumber``,
``eth_getBlockByNumber``/``ByHash``, ``eth_getBalance``, ``eth_getCode``, ``eth_getStorageAt``,
``eth_getTransactionCount``, ``eth_call`` and ``eth_estimateGas`` (at any block),
``eth_gasPrice``, ``eth_maxPriorityFeePerGas``, ``eth_feeHistory``, ``eth_sendTransaction``
(the eth-tester accounts are unlocked), ``eth_sendRawTransaction``, ``eth_getTransactionByHash``,
``eth_getTransactionReceipt``, ``eth_getLogs``, and the test-chain controls ``evm_mine``
(optionally with a timestamp), ``evm_setNextBlockTimestamp``, ``evm_snapshot``, ``evm_revert``.

Chain id: eth-tester hard-codes its chain id as a class attribute of the py-evm chain class it
creates for each backend; that class is private to the backend, so setting the attribute on it
changes the id the EVM (``CHAINID``) and transaction signing use for this chain only, which lets
two embedded chains with different ids run side by side.
"""

from __future__ import annotations

import ast
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from verifier.devnet.node import Node
from verifier.errors import IncompleteError, InputError

#: JSON-RPC error codes used by the embedded server (as geth/anvil use them).
_PARSE_ERROR = -32700
_INVALID_REQUEST = -32600
_METHOD_NOT_FOUND = -32601
_INVALID_PARAMS = -32602
_SERVER_ERROR = -32000
_EXECUTION_REVERTED = 3

_MAX_BODY = 16 * 1024 * 1024
_INTERNAL_ERROR = -32603

_KEY_RENAMES = {
    "coinbase": "miner",
    "data": "input",  # transactions only; logs keep ``data`` (see _log)
}


class RpcFaultError(Exception):
    """An error answered to the client as a JSON-RPC error object."""

    def __init__(self, code: int, message: str, data: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)


def _wire(value: Any) -> Any:
    """eth-tester's Python values -> JSON-RPC wire values (quantities and data as 0x-hex)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return {_camel(k): _wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _tx(tx: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tx.items():
        name = _KEY_RENAMES.get(key, key)
        out[_camel(name)] = _wire(value)
    return out


def _log(entry: dict[str, Any]) -> dict[str, Any]:
    out = {_camel(k): _wire(v) for k, v in entry.items() if k != "type"}
    out["removed"] = entry.get("type") == "removed"
    return out


def _block(block: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in block.items():
        if key == "logs_bloom":
            out["logsBloom"] = "0x" + int(value).to_bytes(256, "big").hex()
        elif key == "transactions":
            out["transactions"] = [v if isinstance(v, str) else _tx(v) for v in value]
        else:
            out["miner" if key == "coinbase" else _camel(key)] = _wire(value)
    return out


def _receipt(receipt: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in receipt.items():
        if key == "state_root":
            continue  # pre-Byzantium field; status is given instead
        if key == "logs":
            out["logs"] = [_log(e) for e in value]
        else:
            out[_camel(key)] = _wire(value)
    out["logsBloom"] = "0x" + "00" * 256
    return out


def _quantity(value: Any, name: str) -> int:
    if isinstance(value, str) and value.startswith(("0x", "0X")):
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise RpcFaultError(
        _INVALID_PARAMS, f"invalid {name}: expected a 0x-hex quantity, got {value!r}"
    )


_TX_FIELDS = {
    "from": "from",
    "to": "to",
    "gas": "gas",
    "gasPrice": "gas_price",
    "maxFeePerGas": "max_fee_per_gas",
    "maxPriorityFeePerGas": "max_priority_fee_per_gas",
    "value": "value",
    "data": "data",
    "input": "data",
    "nonce": "nonce",
}
_TX_INTS = {"gas", "gas_price", "max_fee_per_gas", "max_priority_fee_per_gas", "value", "nonce"}


class EmbeddedChain:
    """A py-evm chain answering JSON-RPC on ``127.0.0.1``.

    Args:
        chain_id: The chain id the EVM and ``eth_chainId`` report.
    """

    def __init__(self, chain_id: int = 31337, *, genesis_time: int | None = None) -> None:
        try:
            from eth_tester import EthereumTester, PyEVMBackend
            from eth_tester.exceptions import (
                BlockNotFound,
                TransactionFailed,
                TransactionNotFound,
                ValidationError,
            )
        except ImportError as exc:
            raise InputError(
                f"the embedded chain needs eth-tester and py-evm, which do not import here "
                f"({exc.name or exc})",
                hint=(
                    "reinstall porv (`pip install --force-reinstall porv`: both are among its "
                    "dependencies), or run on another chain: `--chain anvil` (from npm, see "
                    "the README) or `--chain hardhat`"
                ),
            ) from exc
        self._block_not_found: type[Exception] = BlockNotFound
        self._tx_not_found: type[Exception] = TransactionNotFound
        self._tx_failed: type[Exception] = TransactionFailed
        self._validation: type[Exception] = ValidationError
        if genesis_time is None:
            backend = PyEVMBackend()
        else:
            params = PyEVMBackend.generate_genesis_params(overrides={"timestamp": genesis_time})
            backend = PyEVMBackend(genesis_parameters=params)
        # The chain class is created per backend (see the module docstring).
        type(backend.chain).chain_id = chain_id
        self.backend = backend
        self.tester = EthereumTester(backend)
        self.chain_id = chain_id
        self.lock = threading.Lock()
        # With a genesis time in the past the chain's clock runs that far behind the wall
        # clock, as anvil's --timestamp does: each new block is stamped max(parent + 1,
        # now - lag) unless evm_setNextBlockTimestamp / evm_mine chose its time.
        self._lag = None if genesis_time is None else max(0, int(time.time()) - genesis_time)
        self._seen_head = -1
        self._follow_clock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- serving ------------------------------------------------------------------------

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start the HTTP server in a daemon thread.

        Args:
            host: Interface to bind (loopback by default).
            port: Port to bind; 0 picks a free one.

        Returns:
            The JSON-RPC URL.
        """
        chain = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle's algorithm on, a keep-alive
            # client's delayed ACK then stalls every request by ~40 ms.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > _MAX_BODY:
                    self.send_error(413)
                    return
                body = chain.handle_bytes(self.rfile.read(length))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: porv's CLI owns stderr

        server = _QuietServer((host, port), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name=f"porv-embedded-{self.chain_id}", daemon=True
        )
        self._thread.start()
        return f"http://{host}:{server.server_address[1]}"

    def shutdown(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def handle_bytes(self, raw: bytes) -> bytes:
        """Answer one HTTP body (a request or a batch) with the response body."""
        try:
            payload = json.loads(raw)
        except ValueError:
            return json.dumps(_error(None, RpcFaultError(_PARSE_ERROR, "parse error"))).encode()
        if isinstance(payload, list):
            if not payload:
                fault = RpcFaultError(_INVALID_REQUEST, "empty batch")
                return json.dumps(_error(None, fault)).encode()
            return json.dumps([self.handle(item) for item in payload]).encode()
        return json.dumps(self.handle(payload)).encode()

    def handle(self, request: Any) -> dict[str, Any]:
        """Answer one JSON-RPC request object."""
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            return _error(None, RpcFaultError(_INVALID_REQUEST, "invalid request"))
        req_id = request.get("id")
        params = request.get("params") or []
        if not isinstance(params, list):
            return _error(req_id, RpcFaultError(_INVALID_PARAMS, "params must be an array"))
        method = getattr(self, "rpc_" + request["method"], None)
        if method is None:
            fault = RpcFaultError(_METHOD_NOT_FOUND, f"method not found: {request['method']}")
            return _error(req_id, fault)
        try:
            with self.lock:
                result = method(*params)
                self._follow_clock()
        except RpcFaultError as fault:
            return _error(req_id, fault)
        except TypeError as exc:
            return _error(req_id, RpcFaultError(_INVALID_PARAMS, f"invalid params: {exc}"))
        except self._tx_failed as exc:
            return _error(req_id, _revert_fault(exc))
        except self._validation as exc:
            return _error(req_id, RpcFaultError(_SERVER_ERROR, f"invalid: {exc}"))
        except self._block_not_found as exc:
            return _error(req_id, RpcFaultError(_SERVER_ERROR, f"header not found: {exc}"))
        except Exception as exc:  # answer, never drop the connection (eth-tester raises many)
            message = f"{type(exc).__name__}: {exc}"
            return _error(req_id, RpcFaultError(_INTERNAL_ERROR, message))
        return {"jsonrpc": "2.0", "id": req_id, "result": result}

    # --- helpers ------------------------------------------------------------------------

    def _block_id(self, tag: Any) -> int | str:
        if tag is None or tag in ("latest", "safe", "finalized"):
            return "latest"
        if tag in ("earliest", "pending"):
            return str(tag)
        if isinstance(tag, dict):
            if "blockHash" in tag:
                block = self.tester.get_block_by_hash(tag["blockHash"])
                return int(block["number"])
            if "blockNumber" in tag:
                return self._block_id(tag["blockNumber"])
        number = _quantity(tag, "block number")
        if number > self._head():
            raise RpcFaultError(_SERVER_ERROR, f"header not found: block {number} is in the future")
        return number

    def _head(self) -> int:
        return int(self.tester.get_block_by_number("latest")["number"])

    def _txn(self, obj: Any) -> dict[str, Any]:
        if not isinstance(obj, dict):
            raise RpcFaultError(_INVALID_PARAMS, "transaction must be an object")
        out: dict[str, Any] = {}
        for key, value in obj.items():
            name = _TX_FIELDS.get(key)
            if name is None or value is None:
                continue
            out[name] = _quantity(value, key) if name in _TX_INTS else value
        return out

    def _send_defaults(self, tx: dict[str, Any]) -> dict[str, Any]:
        if "gas" not in tx:
            probe = {k: v for k, v in tx.items() if k != "nonce"}
            tx["gas"] = int(self.tester.estimate_gas(probe, "pending") * 12 // 10) + 21000
        if "gas_price" not in tx and "max_fee_per_gas" not in tx:
            base = int(self.tester.get_block_by_number("pending")["base_fee_per_gas"])
            tx["max_priority_fee_per_gas"] = 10**9
            tx["max_fee_per_gas"] = 2 * base + 10**9
        return tx

    # --- JSON-RPC methods (names are the wire names) ------------------------------------

    def rpc_web3_clientVersion(self) -> str:
        return "porv-embedded/eth-tester+py-evm"

    def rpc_net_version(self) -> str:
        return str(self.chain_id)

    def rpc_eth_chainId(self) -> str:
        return hex(self.chain_id)

    def rpc_eth_syncing(self) -> bool:
        return False

    def rpc_eth_accounts(self) -> list[str]:
        return list(self.tester.get_accounts())

    def rpc_eth_blockNumber(self) -> str:
        return hex(self._head())

    def rpc_eth_getBlockByNumber(self, tag: Any, full: bool = False) -> Any:
        try:
            block_id = self._block_id(tag)
        except RpcFaultError as fault:
            if fault.code == _SERVER_ERROR:  # a block after the head: not found, like geth
                return None
            raise
        try:
            return _block(self.tester.get_block_by_number(block_id, bool(full)))
        except self._block_not_found:
            return None

    def rpc_eth_getBlockByHash(self, block_hash: str, full: bool = False) -> Any:
        try:
            return _block(self.tester.get_block_by_hash(block_hash, bool(full)))
        except self._block_not_found:
            return None

    def rpc_eth_getBalance(self, address: str, tag: Any = "latest") -> str:
        return hex(self.tester.get_balance(address, self._block_id(tag)))

    def rpc_eth_getCode(self, address: str, tag: Any = "latest") -> str:
        return str(_wire(self.tester.get_code(address, self._block_id(tag))))

    def rpc_eth_getStorageAt(self, address: str, slot: str, tag: Any = "latest") -> str:
        value = self.tester.get_storage_at(address, slot, self._block_id(tag))
        return str(_wire(value))

    def rpc_eth_getTransactionCount(self, address: str, tag: Any = "latest") -> str:
        return hex(self.tester.get_nonce(address, self._block_id(tag)))

    def _read_txn(self, tx: Any) -> dict[str, Any]:
        txn = {k: v for k, v in self._txn(tx).items() if k != "nonce"}
        # eth-tester needs a funded sender for calls; nodes default it, so use dev account 0.
        txn.setdefault("from", self.tester.get_accounts()[0])
        return txn

    def rpc_eth_call(self, tx: Any, tag: Any = "latest", *_overrides: Any) -> str:
        return str(_wire(self.tester.call(self._read_txn(tx), self._block_id(tag))))

    def rpc_eth_estimateGas(self, tx: Any, tag: Any = "pending") -> str:
        block_id = "pending" if tag == "pending" else self._block_id(tag)
        return hex(self.tester.estimate_gas(self._read_txn(tx), block_id))

    def rpc_eth_gasPrice(self) -> str:
        return hex(int(self.tester.get_block_by_number("pending")["base_fee_per_gas"]) + 10**9)

    def rpc_eth_maxPriorityFeePerGas(self) -> str:
        return hex(10**9)

    def rpc_eth_feeHistory(self, count: Any, newest: Any, percentiles: Any = None) -> Any:
        n = count if isinstance(count, int) else _quantity(count, "block count")
        history = self.tester.get_fee_history(n, self._block_id(newest), percentiles or [])
        return _wire(history)

    def rpc_eth_sendTransaction(self, tx: Any) -> str:
        return str(self.tester.send_transaction(self._send_defaults(self._txn(tx))))

    def rpc_eth_sendRawTransaction(self, raw: str) -> str:
        return str(self.tester.send_raw_transaction(raw))

    def rpc_eth_getTransactionByHash(self, tx_hash: str) -> Any:
        try:
            return _tx(self.tester.get_transaction_by_hash(tx_hash))
        except self._tx_not_found:
            return None

    def rpc_eth_getTransactionReceipt(self, tx_hash: str) -> Any:
        try:
            receipt = self.tester.get_transaction_receipt(tx_hash)
        except self._tx_not_found:
            return None
        return None if receipt is None else _receipt(receipt)

    def rpc_eth_getLogs(self, flt: Any) -> list[Any]:
        if not isinstance(flt, dict):
            raise RpcFaultError(_INVALID_PARAMS, "filter must be an object")
        head = self._head()

        def bound(tag: Any, default: int) -> int:
            if tag is None:
                return default
            block_id = self._block_id(tag)
            return head if isinstance(block_id, str) else block_id

        logs = self.tester.get_logs(
            from_block=bound(flt.get("fromBlock"), head),
            to_block=bound(flt.get("toBlock"), head),
            address=flt.get("address"),
            topics=flt.get("topics"),
        )
        return [_log(entry) for entry in logs]

    def rpc_evm_mine(self, timestamp: Any = None) -> str:
        if timestamp is not None:
            ts = timestamp if isinstance(timestamp, int) else _quantity(timestamp, "timestamp")
            self._set_next_timestamp(ts)
        self.tester.mine_blocks(1)
        return "0x0"

    def rpc_evm_setNextBlockTimestamp(self, timestamp: Any) -> None:
        ts = timestamp if isinstance(timestamp, int) else _quantity(timestamp, "timestamp")
        self._set_next_timestamp(ts)
        return None

    def rpc_evm_snapshot(self) -> str:
        return hex(int(self.tester.take_snapshot()))

    def rpc_evm_revert(self, snapshot: Any) -> bool:
        try:
            self.tester.revert_to_snapshot(_quantity(snapshot, "snapshot id"))
        except Exception:
            return False
        return True

    def _follow_clock(self) -> None:
        """After a new block, stamp the pending one by the lagging clock (see ``__init__``)."""
        if self._lag is None:
            return
        latest = self.tester.get_block_by_number("latest")
        if int(latest["number"]) == self._seen_head:
            return
        self._seen_head = int(latest["number"])
        ts = max(int(latest["timestamp"]) + 1, int(time.time()) - self._lag)
        self.backend.chain.header = self.backend.chain.header.copy(timestamp=ts)

    def _set_next_timestamp(self, ts: int) -> None:
        parent = int(self.tester.get_block_by_number("latest")["timestamp"])
        if ts <= parent:
            raise RpcFaultError(
                _SERVER_ERROR,
                f"timestamp {ts} must be greater than the latest block's timestamp {parent}",
            )
        # The pending header is what the next mined block (or auto-mined transaction) uses.
        self.backend.chain.header = self.backend.chain.header.copy(timestamp=ts)


def _error(req_id: Any, fault: RpcFaultError) -> dict[str, Any]:
    err: dict[str, Any] = {"code": fault.code, "message": fault.message}
    if fault.data is not None:
        err["data"] = fault.data
    return {"jsonrpc": "2.0", "id": req_id, "error": err}


def _revert_fault(exc: Exception) -> RpcFaultError:
    first = exc.args[0] if exc.args else b""
    if isinstance(first, Exception) and first.args:
        first = first.args[0]
    if isinstance(first, str) and first.startswith(("b'", 'b"')):
        # eth-tester's call() raises TransactionFailed(str(revert)): the repr of the revert
        # data, so a custom error would reach the client as text; give its bytes back instead.
        try:
            parsed = ast.literal_eval(first)
        except (ValueError, SyntaxError):
            parsed = None
        if isinstance(parsed, bytes):
            first = parsed
    if isinstance(first, bytes | bytearray):
        return RpcFaultError(_EXECUTION_REVERTED, "execution reverted", "0x" + bytes(first).hex())
    return RpcFaultError(_EXECUTION_REVERTED, f"execution reverted: {first}", "0x")


def start_embedded(
    chain_id: int = 31337, *, genesis_time: int | None = None, port: int | None = None
) -> Node:
    """Start an embedded chain served over HTTP JSON-RPC on ``127.0.0.1:<free port>``.

    Args:
        chain_id: The chain id to report and execute with.
        genesis_time: The genesis block's time (unix seconds); the chain's clock then runs
            that far behind the wall clock. Default: now.
        port: The port on 127.0.0.1; default: a free one.

    Returns:
        A running :class:`~verifier.devnet.node.Node` (``pid`` is None: it is this process).

    Raises:
        InputError: eth-tester / py-evm do not import (exit 2, with how to get them).
    """
    chain = EmbeddedChain(chain_id, genesis_time=genesis_time)
    try:
        url = chain.serve(port=port or 0)
    except OSError as exc:
        raise IncompleteError(
            f"port {port} on 127.0.0.1 is not free: {exc.strerror or exc}",
            hint="pick another --port, or stop what listens there",
        ) from exc
    return Node(url=url, chain_id=chain_id, kind="embedded", pid=None, _stop=chain.shutdown)


class _QuietServer(ThreadingHTTPServer):
    """Prints nothing: a client that hangs up (an interrupted porv shuts its sockets down) is
    not worth a traceback on stderr, which porv's CLI owns."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        return
