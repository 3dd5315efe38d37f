"""Deploy and drive porv's contracts on local chains through their JSON-RPC URL.

Transactions are sent with ``eth_sendTransaction`` from the chain's unlocked dev accounts
(anvil and hardhat: their mnemonic accounts; embedded: eth-tester's accounts), so one code path
serves all three kinds. Meant for devnets, tests and the demo, not for real networks.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from eth_utils.address import to_checksum_address

from verifier.chain.contracts import load_contract
from verifier.devnet.node import post_json, rpc_request
from verifier.errors import IncompleteError, redact_url

#: Seconds to wait for a transaction receipt (local chains mine instantly).
RECEIPT_TIMEOUT = 30.0


@cache
def web3_for(url: str) -> Any:
    """A :class:`web3.Web3` on ``url`` with CCIP-Read off (cached per URL).

    Args:
        url: The node's JSON-RPC URL.

    Returns:
        The Web3 instance.
    """
    from web3 import HTTPProvider, Web3

    w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": 30}))
    w3.provider.global_ccip_read_enabled = False
    return w3


def accounts(url: str) -> list[str]:
    """The node's unlocked dev accounts, checksummed.

    Args:
        url: The node's JSON-RPC URL.

    Returns:
        Its accounts, in the node's order.

    Raises:
        IncompleteError: The node did not answer or has no accounts.
    """
    result = rpc_request(url, "eth_accounts")
    if not isinstance(result, list) or not result:
        raise IncompleteError(f"{redact_url(url)}: no unlocked dev accounts")
    return [to_checksum_address(a) for a in result]


def _sender(url: str, sender: str | None) -> str:
    return to_checksum_address(sender) if sender else accounts(url)[0]


def revert_data(exc: BaseException) -> Any:
    """The revert data web3 attached to a contract error, if any."""
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    return data


def decode_error(name: str, data: Any) -> tuple[str, tuple[Any, ...]] | None:
    """Decode a custom error of one of porv's contracts from revert data.

    Args:
        name: The contract whose ABI lists the errors.
        data: Revert data (0x-hex or bytes).

    Returns:
        ``(error name, decoded args)`` with addresses checksummed, or None if unknown.
    """
    from eth_abi.abi import decode

    from verifier.model.keccak import keccak256

    if isinstance(data, str) and data.startswith("0x"):
        try:
            raw = bytes.fromhex(data[2:])
        except ValueError:
            return None
    elif isinstance(data, bytes | bytearray):
        raw = bytes(data)
    else:
        return None
    for item in load_contract(name).abi:
        if item.get("type") != "error":
            continue
        types = [i["type"] for i in item.get("inputs", [])]
        if keccak256(f"{item['name']}({','.join(types)})".encode())[:4] != raw[:4]:
            continue
        try:
            values = decode(types, raw[4:])
        except Exception:
            return str(item["name"]), ()
        return str(item["name"]), tuple(
            to_checksum_address(v) if t == "address" else v
            for t, v in zip(types, values, strict=True)
        )
    return None


def call_text(function: str, args: tuple[Any, ...]) -> str:
    """``Name(arg, ...)`` for messages: bytes as 0x-hex, addresses as given, never a Python
    ``b'...'`` value."""

    def one(value: Any) -> str:
        if isinstance(value, bytes | bytearray):
            return "0x" + bytes(value).hex()
        if isinstance(value, tuple | list):
            return "(" + ", ".join(one(v) for v in value) + ")"
        return str(value)

    return f"{function}({', '.join(one(a) for a in args)})"


def _describe(name: str, exc: Exception) -> str:
    decoded = decode_error(name, revert_data(exc))
    if decoded is not None:
        return f"reverted with {call_text(*decoded)}"
    return str(exc)


def _wait(url: str, tx_hash: Any, what: str) -> Any:
    w3 = web3_for(url)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT)
    if receipt["status"] != 1:
        raise IncompleteError(f"{redact_url(url)}: {what} reverted (tx {tx_hash.to_0x_hex()})")
    return receipt


def deploy(url: str, name: str, *args: Any, sender: str | None = None) -> str:
    """Deploy one of porv's contracts.

    Args:
        url: The node's JSON-RPC URL.
        name: Contract name (see :data:`verifier.chain.contracts.CONTRACT_NAMES`).
        *args: Constructor arguments.
        sender: Deployer (an unlocked account); dev account 0 by default.

    Returns:
        The new contract's checksummed address.

    Raises:
        InputError: Unknown contract.
        IncompleteError: The node refused or reverted the deployment.
    """
    art = load_contract(name)
    w3 = web3_for(url)
    factory = w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
    try:
        tx_hash = factory.constructor(*args).transact({"from": _sender(url, sender)})
    except Exception as exc:  # web3 raises many types; all mean "could not deploy"
        raise IncompleteError(
            f"{redact_url(url)}: deploying {name} failed: {_describe(name, exc)}"
        ) from exc
    receipt = _wait(url, tx_hash, f"deploying {name}")
    return str(to_checksum_address(receipt["contractAddress"]))


def contract(url: str, name: str, address: str) -> Any:
    """A web3 contract object for one of porv's contracts at ``address``.

    Args:
        url: The node's JSON-RPC URL.
        name: Contract name.
        address: Its address.

    Returns:
        The web3 contract.

    Raises:
        InputError: Unknown contract.
    """
    art = load_contract(name)
    return web3_for(url).eth.contract(address=to_checksum_address(address), abi=art.abi)


def transact(
    url: str, name: str, address: str, function: str, *args: Any, sender: str | None = None
) -> Any:
    """Send a transaction calling ``function(*args)`` and wait for its receipt.

    Args:
        url: The node's JSON-RPC URL.
        name: Contract name (for the ABI).
        address: Contract address.
        function: Function name.
        *args: Its arguments.
        sender: An unlocked account; dev account 0 by default.

    Returns:
        The receipt.

    Raises:
        IncompleteError: The call reverted or the node failed.
    """
    fn = getattr(contract(url, name, address).functions, function)(*args)
    try:
        tx_hash = fn.transact({"from": _sender(url, sender)})
    except Exception as exc:
        raise IncompleteError(
            f"{redact_url(url)}: {name}.{function} failed: {_describe(name, exc)}"
        ) from exc
    return _wait(url, tx_hash, f"{name}.{function}")


def token_mint(url: str, token: str, to: str, amount: int, *, sender: str | None = None) -> Any:
    """Mint ``amount`` base units of a :class:`TestStablecoin` to ``to``.

    Args:
        url: The node's JSON-RPC URL.
        token: The token's address.
        to: The recipient.
        amount: Base units.
        sender: The token's owner; dev account 0 by default.

    Returns:
        The receipt.

    Raises:
        IncompleteError: The mint reverted (e.g. sender is not the owner) or the node failed.
    """
    return transact(
        url, "TestStablecoin", token, "mint", to_checksum_address(to), amount, sender=sender
    )


def token_burn(url: str, token: str, holder: str, amount: int, *, sender: str | None = None) -> Any:
    """Burn ``amount`` base units of a :class:`TestStablecoin` held by ``holder``.

    Args:
        url: The node's JSON-RPC URL.
        token: The token's address.
        holder: Whose tokens to burn.
        amount: Base units.
        sender: The token's owner; dev account 0 by default.

    Returns:
        The receipt.

    Raises:
        IncompleteError: The burn reverted or the node failed.
    """
    return transact(
        url, "TestStablecoin", token, "burn", to_checksum_address(holder), amount, sender=sender
    )


def set_next_timestamp(url: str, ts: int) -> None:
    """Make the next mined block carry timestamp ``ts`` (``evm_setNextBlockTimestamp``).

    Args:
        url: The node's JSON-RPC URL.
        ts: Unix seconds, greater than the latest block's.

    Raises:
        IncompleteError: The node refused (e.g. ``ts`` not after the latest block).
    """
    rpc_request(url, "evm_setNextBlockTimestamp", [int(ts)])


def mine(url: str, count: int = 1) -> int:
    """Mine ``count`` empty blocks (``evm_mine``).

    Args:
        url: The node's JSON-RPC URL.
        count: How many blocks.

    Returns:
        The new head block number.

    Raises:
        IncompleteError: The node failed.
    """
    for _ in range(count):
        rpc_request(url, "evm_mine")
    return int(str(rpc_request(url, "eth_blockNumber")), 16)


def mine_after(url: str, ts: int) -> int:
    """Mine one empty block with a timestamp after ``ts`` (``ts + 1``, or later if the head
    is already past it), so that a pin at ``ts`` has its successor (DESIGN §1, "Final pin").

    Args:
        url: The node's JSON-RPC URL.
        ts: Unix seconds (an ``as_of``).

    Returns:
        The new head block number.

    Raises:
        IncompleteError: The node failed.
    """
    head = rpc_request(url, "eth_getBlockByNumber", ["latest", False])
    set_next_timestamp(url, max(ts, int(head["timestamp"], 16)) + 1)
    return mine(url)


def batch_request(url: str, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
    """Send one JSON-RPC batch and return the results in request order.

    Args:
        url: The node's JSON-RPC URL.
        calls: ``(method, params)`` pairs.

    Returns:
        Each call's ``result``.

    Raises:
        IncompleteError: The batch failed, an answer is missing, or one answered an error.
    """
    body = [
        {"jsonrpc": "2.0", "id": i, "method": m, "params": list(p)}
        for i, (m, p) in enumerate(calls)
    ]
    answers = post_json(url, body, timeout=30, what="batch")
    if not isinstance(answers, list):
        raise IncompleteError(f"{redact_url(url)}: batch answer is not a list: {answers!r}")
    by_id = {a.get("id"): a for a in answers if isinstance(a, dict)}
    out: list[Any] = []
    for i, (method, _) in enumerate(calls):
        answer = by_id.get(i)
        if answer is None:
            raise IncompleteError(
                f"{redact_url(url)}: batch answer for {method} (id {i}) is missing"
            )
        if "error" in answer:
            raise IncompleteError(f"{redact_url(url)}: {method}: {answer['error']}")
        out.append(answer.get("result"))
    return out
