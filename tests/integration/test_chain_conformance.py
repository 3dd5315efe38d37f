"""One conformance suite for the chain layer, run against embedded, anvil and hardhat.

Every kind must answer the same JSON-RPC the rest of porv relies on: chain id, blocks by number
and hash, ``eth_call`` at a past block, batches, time control, Multicall3 ``aggregate3``.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

import pytest
from eth_abi.abi import decode, encode
from eth_utils.crypto import keccak

from verifier.devnet import deploy as dep
from verifier.devnet.node import Node, rpc_request
from verifier.errors import IncompleteError


def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def call_data(signature: str, types: list[str] | None = None, args: list[Any] | None = None) -> str:
    return "0x" + (selector(signature) + encode(types or [], args or [])).hex()


def eth_call(url: str, to: str, data: str, block: int | str = "latest") -> bytes:
    tag = hex(block) if isinstance(block, int) else block
    return bytes.fromhex(str(rpc_request(url, "eth_call", [{"to": to, "data": data}, tag]))[2:])


def head(url: str) -> int:
    return int(str(rpc_request(url, "eth_blockNumber")), 16)


def block(url: str, number: int | str) -> dict[str, Any]:
    tag = hex(number) if isinstance(number, int) else number
    result = rpc_request(url, "eth_getBlockByNumber", [tag, False])
    assert isinstance(result, dict)
    return result


@pytest.fixture(scope="module")
def token(chain: Node) -> dict[str, Any]:
    """A TestStablecoin with two mints, recording the block of each step."""
    url = chain.url
    accounts = dep.accounts(url)
    multicall = dep.deploy(url, "Multicall3")
    address = dep.deploy(url, "TestStablecoin", "Conformance USD", "cUSD", 6)
    deployed_at = head(url)
    dep.token_mint(url, address, accounts[1], 1_000_000)
    first_mint = head(url)
    dep.token_mint(url, address, accounts[2], 234_000)
    second_mint = head(url)
    return {
        "address": address,
        "accounts": accounts,
        "deployed_at": deployed_at,
        "first_mint": first_mint,
        "second_mint": second_mint,
        "multicall": multicall,
    }


def test_chain_id(chain: Node, token: dict[str, Any]) -> None:
    assert int(str(rpc_request(chain.url, "eth_chainId")), 16) == chain.chain_id == 31337
    # the EVM's CHAINID agrees with the RPC
    got = eth_call(chain.url, token["multicall"], call_data("getChainId()"))
    assert decode(["uint256"], got)[0] == chain.chain_id


def test_total_supply_at_past_blocks(chain: Node, token: dict[str, Any]) -> None:
    url, addr = chain.url, token["address"]
    data = call_data("totalSupply()")
    supply = {
        n: decode(["uint256"], eth_call(url, addr, data, n))[0]
        for n in (token["deployed_at"], token["first_mint"], token["second_mint"])
    }
    assert supply == {
        token["deployed_at"]: 0,
        token["first_mint"]: 1_000_000,
        token["second_mint"]: 1_234_000,
    }
    bal = call_data("balanceOf(address)", ["address"], [token["accounts"][2]])
    assert decode(["uint256"], eth_call(url, addr, bal, token["first_mint"]))[0] == 0
    assert decode(["uint256"], eth_call(url, addr, bal, token["second_mint"]))[0] == 234_000
    # before the deployment there is no code at all
    code_before = rpc_request(url, "eth_getCode", [addr, hex(token["deployed_at"] - 1)])
    assert code_before in ("0x", "0x0")
    assert len(str(rpc_request(url, "eth_getCode", [addr, "latest"]))) > 100


def test_call_at_future_block_is_an_error(chain: Node, token: dict[str, Any]) -> None:
    future = head(chain.url) + 1000
    with pytest.raises(IncompleteError):
        eth_call(chain.url, token["address"], call_data("totalSupply()"), future)


def test_blocks_by_number_and_hash_agree(chain: Node, token: dict[str, Any]) -> None:
    n = token["first_mint"]
    by_number = block(chain.url, n)
    assert int(by_number["number"], 16) == n
    by_hash = rpc_request(chain.url, "eth_getBlockByHash", [by_number["hash"], False])
    assert isinstance(by_hash, dict)
    assert by_hash["hash"] == by_number["hash"]
    assert by_hash["parentHash"] == block(chain.url, n - 1)["hash"]
    assert int(by_number["timestamp"], 16) >= int(block(chain.url, n - 1)["timestamp"], 16)
    assert len(by_number["hash"]) == 66 and len(by_number["logsBloom"]) == 2 + 512
    assert (
        rpc_request(chain.url, "eth_getBlockByNumber", [hex(head(chain.url) + 50), False]) is None
    )


def test_timestamp_control(chain: Node, token: dict[str, Any]) -> None:
    url = chain.url
    latest = int(block(url, "latest")["timestamp"], 16)
    target = latest + 86_400
    dep.set_next_timestamp(url, target)
    receipt = dep.token_mint(url, token["address"], token["accounts"][3], 5)
    assert int(block(url, receipt["blockNumber"])["timestamp"], 16) == target
    dep.set_next_timestamp(url, target + 3_600)
    number = dep.mine(url)
    assert int(block(url, number)["timestamp"], 16) == target + 3_600
    # time never goes backwards
    with pytest.raises(IncompleteError):
        dep.set_next_timestamp(url, target)
        dep.mine(url)


def test_json_rpc_batch(chain: Node, token: dict[str, Any]) -> None:
    url = chain.url
    n = token["second_mint"]
    results = dep.batch_request(
        url,
        [
            ("eth_chainId", []),
            ("eth_blockNumber", []),
            ("eth_getBlockByNumber", [hex(n), False]),
            ("eth_call", [{"to": token["address"], "data": call_data("totalSupply()")}, hex(n)]),
            ("eth_getBalance", [token["accounts"][0], hex(n)]),
        ],
    )
    assert int(results[0], 16) == chain.chain_id
    assert int(results[1], 16) >= n
    assert int(results[2]["number"], 16) == n
    assert decode(["uint256"], bytes.fromhex(results[3][2:]))[0] == 1_234_000
    assert int(results[4], 16) > 0
    # an error in one element is that element's error, not the batch's
    with pytest.raises(IncompleteError, match="porv_noSuchMethod"):
        dep.batch_request(url, [("eth_chainId", []), ("porv_noSuchMethod", [])])


def test_multicall3_aggregate3(chain: Node, token: dict[str, Any]) -> None:
    url, addr = chain.url, token["address"]
    calls = [
        (addr, False, selector("totalSupply()")),
        (addr, False, selector("decimals()")),
        (addr, False, selector("balanceOf(address)") + encode(["address"], [token["accounts"][1]])),
        (addr, True, selector("noSuchFunction()")),  # allowed to fail
    ]
    data = (
        "0x"
        + (
            selector("aggregate3((address,bool,bytes)[])")
            + encode(["(address,bool,bytes)[]"], [calls])
        ).hex()
    )
    (results,) = decode(
        ["(bool,bytes)[]"], eth_call(url, token["multicall"], data, token["second_mint"])
    )
    assert [ok for ok, _ in results] == [True, True, True, False]
    assert decode(["uint256"], results[0][1])[0] == 1_234_000
    assert decode(["uint8"], results[1][1])[0] == 6
    assert decode(["uint256"], results[2][1])[0] == 1_000_000
    # the same call at the first mint's block reads that block's state
    (early,) = decode(
        ["(bool,bytes)[]"], eth_call(url, token["multicall"], data, token["first_mint"])
    )
    assert decode(["uint256"], early[0][1])[0] == 1_000_000
    # a failing call that may not fail reverts the whole batch
    strict = (
        "0x"
        + (
            selector("aggregate3((address,bool,bytes)[])")
            + encode(["(address,bool,bytes)[]"], [[(addr, False, selector("noSuchFunction()"))]])
        ).hex()
    )
    with pytest.raises(IncompleteError):
        eth_call(url, token["multicall"], strict)
    number = decode(["uint256"], eth_call(url, token["multicall"], call_data("getBlockNumber()")))[
        0
    ]
    assert number >= token["second_mint"]


@pytest.mark.parametrize(
    "kind",
    [
        "embedded",
        pytest.param("anvil", marks=pytest.mark.anvil),
        pytest.param("hardhat", marks=pytest.mark.hardhat),
    ],
)
def test_two_chains_with_other_ids_and_clean_stop(start_chain: Any, kind: str) -> None:
    a: Node = start_chain(kind, 31337)
    b: Node = start_chain(kind, 31338)
    assert a.url != b.url
    for node in (a, b):
        assert int(str(rpc_request(node.url, "eth_chainId")), 16) == node.chain_id
        multicall = dep.deploy(node.url, "Multicall3")
        got = decode(["uint256"], eth_call(node.url, multicall, call_data("getChainId()")))[0]
        assert got == node.chain_id
    port = int(b.url.rsplit(":", 1)[1])
    pid = b.pid
    b.stop()
    b.stop()  # idempotent
    if kind == "embedded":
        assert pid is None
    else:
        assert pid is not None
        assert not _alive(pid), f"{kind} pid {pid} still running after stop()"
    assert _port_closed(port)
    # the other chain is unaffected
    assert int(str(rpc_request(a.url, "eth_chainId")), 16) == 31337


def _alive(pid: int) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.05)
    return True


def _port_closed(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_transfer_logs(chain: Node, token: dict[str, Any]) -> None:
    transfer = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
    logs = rpc_request(
        chain.url,
        "eth_getLogs",
        [
            {
                "fromBlock": hex(token["deployed_at"]),
                "toBlock": hex(token["second_mint"]),
                "address": token["address"],
                "topics": [transfer],
            }
        ],
    )
    assert isinstance(logs, list)
    amounts = [int(log["data"], 16) for log in logs]
    assert amounts == [1_000_000, 234_000]
    assert [int(log["blockNumber"], 16) for log in logs] == [
        token["first_mint"],
        token["second_mint"],
    ]
    assert all(log["removed"] is False for log in logs)


def test_embedded_server_answers_bad_requests_with_json_rpc_errors(embedded_chain: Node) -> None:
    import json
    import urllib.request

    def post(body: bytes) -> Any:
        req = urllib.request.Request(
            embedded_chain.url, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    assert post(b"{not json")["error"]["code"] == -32700
    assert post(b"[]")["error"]["code"] == -32600
    assert post(b'{"jsonrpc": "2.0", "id": 1}')["error"]["code"] == -32600
    unknown = post(b'{"jsonrpc": "2.0", "id": 7, "method": "eth_mining", "params": []}')
    assert unknown["id"] == 7 and unknown["error"]["code"] == -32601
    bad = post(b'{"jsonrpc": "2.0", "id": 8, "method": "eth_getBalance", "params": [1, 2, 3, 4]}')
    assert bad["error"]["code"] in (-32602, -32603)
    revert = post(
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 9,
                "method": "eth_call",
                "params": [
                    {"to": dep.deploy(embedded_chain.url, "Multicall3"), "data": "0x12345678"}
                ],
            }
        ).encode()
    )
    assert revert["error"]["code"] == 3


def test_eas_register_attest_and_read(chain: Node) -> None:
    """EAS 1.9.0 from npm on every kind: its code is recognised, porv's schema registers under
    the UID porv computes, and an attestation reads back through porv's strict reader."""
    from verifier.chain.eas import read_eas
    from verifier.devnet import registry as reg
    from verifier.devnet.eas import deploy_eas
    from verifier.result import eas as schema

    registry, eas = deploy_eas(chain.url)
    reg.send_transaction(
        chain.url,
        registry,
        "register",
        (schema.SCHEMA, schema.RESOLVER, schema.REVOCABLE),
        name="SchemaRegistry",
    )
    request = (schema.schema_uid(), (schema.RESOLVER, 0, True, schema.ZERO32, b"\x2a", 0))
    receipt = reg.send_transaction(chain.url, eas, "attest", (request,), name="EAS")
    uid = bytes(next(lg["data"] for lg in receipt["logs"] if lg["address"] == eas))
    reading = read_eas(31337, [chain.url], eas, uid, schema.schema_uid(), finality="latest")
    assert reading.schema_registry == registry
    assert reading.schema_record.is_porv()
    att = reading.attestation
    assert (att.uid, att.schema, att.data, att.revocation_time) == (
        uid,
        schema.schema_uid(),
        b"\x2a",
        0,
    )
    assert att.attester == dep.accounts(chain.url)[0]
