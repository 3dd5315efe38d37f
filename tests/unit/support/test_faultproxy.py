"""The fault proxy itself does what each fault says (so the attack tests test porv, not it)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.support.faultproxy import Fault, FaultProxy, post
from verifier.devnet.node import Node, rpc_request

LAG = 3
#: Init code returning NUMBER: an eth_call that says which block it ran at.
BLOCK_NUMBER_PROBE = "0x4360005260206000f3"


@pytest.fixture(scope="module")
def upstream(embedded_chain: Node) -> str:
    for _ in range(LAG + 3):
        rpc_request(embedded_chain.url, "evm_mine")
    return embedded_chain.url


@pytest.fixture
def proxy(upstream: str) -> Iterator[FaultProxy]:
    with FaultProxy(upstream) as p:
        yield p


def _call(url: str, method: str, *params: object, rid: int = 1) -> dict[str, object]:
    answer = post(url, {"jsonrpc": "2.0", "id": rid, "method": method, "params": list(params)})
    assert isinstance(answer, dict)
    return answer


def _head(url: str) -> int:
    return int(str(_call(url, "eth_blockNumber")["result"]), 16)


def test_lag_hides_the_newest_blocks(proxy: FaultProxy, upstream: str) -> None:
    proxy.fault, proxy.lag = Fault.LAG, LAG
    head = _head(upstream)
    assert _head(proxy.url) == head - LAG
    latest = _call(proxy.url, "eth_getBlockByNumber", "latest", False)["result"]
    assert isinstance(latest, dict) and int(latest["number"], 16) == head - LAG
    assert _call(proxy.url, "eth_getBlockByNumber", hex(head), False)["result"] is None
    older = _call(proxy.url, "eth_getBlockByNumber", hex(head - LAG), False)["result"]
    assert older == latest
    newest = _call(upstream, "eth_getBlockByNumber", hex(head), False)["result"]
    assert isinstance(newest, dict)
    assert _call(proxy.url, "eth_getBlockByHash", newest["hash"], False)["result"] is None
    # state reads: at latest, finalized (the embedded chain's is its head) or with no block
    # they run at the lagging head; above it they fail as on a node that has not seen it
    probe = {"data": BLOCK_NUMBER_PROBE}
    for tag in (["latest"], ["finalized"], []):
        ran_at = _call(proxy.url, "eth_call", probe, *tag)["result"]
        assert int(str(ran_at), 16) == head - LAG, tag
    above = _call(proxy.url, "eth_call", probe, hex(head))
    assert above["error"] == {"code": -32000, "message": "header not found"}


@pytest.mark.parametrize("fault", [Fault.ANOTHER_BLOCK, Fault.ANOTHER_HASH])
def test_block_lies(proxy: FaultProxy, upstream: str, fault: Fault) -> None:
    proxy.fault = fault
    n = _head(upstream)
    honest = _call(upstream, "eth_getBlockByNumber", hex(n), False)["result"]
    before = _call(upstream, "eth_getBlockByNumber", hex(n - 1), False)["result"]
    lie = _call(proxy.url, "eth_getBlockByNumber", hex(n), False)["result"]
    assert isinstance(lie, dict) and isinstance(honest, dict) and isinstance(before, dict)
    if fault is Fault.ANOTHER_BLOCK:
        assert lie == before
    else:
        assert lie["number"] == honest["number"] and lie["hash"] == before["hash"]


def test_wrong_ids_and_methods_filter(proxy: FaultProxy) -> None:
    proxy.fault, proxy.methods = Fault.WRONG_IDS, frozenset({"eth_chainId"})
    assert _call(proxy.url, "eth_chainId", rid=7)["id"] == 1007
    assert _call(proxy.url, "eth_blockNumber", rid=7)["id"] == 7  # not named: honest
    assert proxy.requests == 2 and proxy.faulted == 1


def test_deep_json_and_status(proxy: FaultProxy) -> None:
    proxy.fault, proxy.deep_levels = Fault.DEEP_JSON, 1000
    req = urllib.request.Request(proxy.url, data=b'{"jsonrpc":"2.0","id":1,"method":"x"}')
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.read() == b"[" * 1000 + b"]" * 1000
    proxy.fault, proxy.status = Fault.STATUS, 429
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=10)
    assert exc.value.code == 429
    exc.value.close()


def test_after_lets_the_first_requests_through(proxy: FaultProxy, upstream: str) -> None:
    proxy.fault, proxy.after = Fault.WRONG_IDS, 1
    assert _call(proxy.url, "eth_chainId")["id"] == 1
    assert _call(proxy.url, "eth_chainId")["id"] == 1001
    assert json.dumps(_call(upstream, "eth_chainId")["result"]) == '"0x7a69"'
