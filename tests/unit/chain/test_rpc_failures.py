"""Failure paths of the chain reader, simulated at the JSON-RPC layer.

The fake EVM node of :mod:`tests.support.fakenode` answers the methods porv uses; tests tamper
with its answers between client and model: slow nodes, lying nodes, wrong block, wrong chain
id, malformed answers and pruned history. Real chains are exercised in tests/integration.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from eth_abi.abi import encode

from tests.support.fakenode import (
    FEED,
    HOLDER,
    TOKEN,
    TOKEN2,
    TREASURY,
    TREASURY2,
    U1,
    U2,
    FakeChain,
    FakeNode,
    Network,
    Token,
    chain,
    feed_chain,
)
from verifier.chain.contracts import load_contract
from verifier.chain.feed import read_feed
from verifier.chain.rpc import Call, RpcClient, TransportError, call_all_endpoints
from verifier.chain.supply import MULTICALL3_ADDRESS, clear_header_cache, read_supply
from verifier.checks.evidence import DeploymentSupply, SupplyReport
from verifier.errors import (
    EndpointsDisagreeError,
    HistoryUnavailableError,
    IncompleteError,
    InputError,
    NotFinalError,
    RpcError,
    WrongBlockError,
    WrongChainError,
)
from verifier.model.policy import PinnedDeployment

# --- helpers ------------------------------------------------------------------------------


def deps(chain_id: int = 31337) -> list[PinnedDeployment]:
    return [
        PinnedDeployment(chain_id, TOKEN, (TREASURY,)),
        PinnedDeployment(chain_id, TOKEN2, (TREASURY2, TREASURY)),
    ]


def read(net: Network, rpc: dict[int, list[str]], **kw: Any) -> SupplyReport:
    kw.setdefault("token_decimals", 6)
    kw.setdefault("deployments", deps())
    return read_supply(rpc=rpc, transport=net.transport, backoff=0.0, **kw)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    clear_header_cache()


# --- correct reads ------------------------------------------------------------------------


@pytest.mark.parametrize("mc", [None, 0])
def test_reads_at_latest_block_before_as_of(mc: int | None) -> None:
    c = chain(multicall_from=mc)
    net = Network({U1: c})
    # block 99 has t = 1000 + 1188 = 2188; block 100 has 2200
    r = read(net, {31337: [U1]}, as_of=2199)
    first = r.deployments[0]
    assert first.block_number == 99 and first.block_timestamp == 2188
    assert first.block_hash == c.block_hash(99)
    assert first.total_supply == 1_400_000 and first.excluded == ((TREASURY, 400_000),)
    assert first.circulating == 1_000_000
    assert r.deployments[1].circulating == 7
    assert r.total_circulating == 1_000_007
    assert r.stats[0].method == ("multicall3" if mc == 0 else "batch")
    # later mints do not count
    r2 = read(net, {31337: [U1]}, as_of=2200)
    assert r2.deployments[0].block_number == 100 and r2.total_circulating == 6_000_007


def test_one_round_trip_per_endpoint_at_the_pinned_block() -> None:
    for mc in (None, 0):
        clear_header_cache()
        a, b = chain(multicall_from=mc), chain(multicall_from=mc)
        net = Network({U1: a, U2: b})
        many = [PinnedDeployment(31337, TOKEN, (TREASURY, HOLDER)), *deps()[1:]]
        r = read(net, {31337: [U1, U2]}, as_of=1500, deployments=many)
        (stats,) = r.stats
        assert [e.read_requests for e in stats.endpoints] == [1, 1]
        # the second endpoint is asked once before (chain id / genesis), once at the block
        assert stats.endpoints[1].pin_requests == 1
        assert b.http_requests == 2


def test_search_matches_linear_scan_for_every_as_of() -> None:
    ts = [1000, 1000, 1005, 1005, 1005, 1010, 1100, 1101, 5000, 5000, 5001]
    c = FakeChain(1, ts)
    c.tokens[TOKEN.lower()] = Token(6, [(0, HOLDER, 1)])
    net = Network({U1: c})
    for as_of in (1000, 1004, 1005, 1006, 1100, 1101, 1102, 4999, 5000, 5001, 5002):
        expected = max(n for n, t in enumerate(ts) if t <= as_of)
        if expected == len(ts) - 1:  # no block after as_of yet: never a provisional pin
            with pytest.raises(NotFinalError, match="not final yet on chain 1"):
                read(net, {1: [U1]}, as_of=as_of, deployments=[PinnedDeployment(1, TOKEN, ())])
            continue
        r = read(net, {1: [U1]}, as_of=as_of, deployments=[PinnedDeployment(1, TOKEN, ())])
        assert r.deployments[0].block_number == expected, as_of
        assert r.deployments[0].successor is not None
        assert r.deployments[0].successor.number == expected + 1


def test_search_over_a_long_chain_takes_few_round_trips() -> None:
    c = chain(blocks=100_000)
    net = Network({U1: c})
    r = read(net, {31337: [U1]}, as_of=1000 + 12 * 77_777 + 5)
    assert r.deployments[0].block_number == 77_777
    # 1 handshake + ceil(log16(100000)) = 5 search batches + 1 read
    assert c.http_requests <= 7


def test_block_number_and_head() -> None:
    net = Network({U1: chain()})
    assert read(net, {31337: [U1]}, block=50).deployments[0].block_number == 50
    assert read(net, {31337: [U1]}).deployments[0].block_number == 199
    with pytest.raises(InputError):
        read(net, {31337: [U1]}, block=500)
    with pytest.raises(InputError):
        read(net, {31337: [U1]}, block=5, as_of=5)


def test_chains_read_concurrently_and_in_policy_order() -> None:
    net = Network({U1: chain(31337), U2: chain(31338)})
    events: list[dict[str, int]] = []
    d = [PinnedDeployment(31338, TOKEN, ()), PinnedDeployment(31337, TOKEN, (TREASURY,))]
    r = read(
        net,
        {31337: [U1], 31338: [U2]},
        as_of=1000 + 12 * 198,  # block 198, the last but one (its successor exists)
        deployments=d,
        progress=lambda **k: events.append(k),
    )
    assert [s.chain_id for s in r.deployments] == [31338, 31337]
    assert r.total_circulating == 6_400_000 + 6_000_000
    assert sorted(e["done"] for e in events) == [1, 2] and events[0]["total"] == 2
    assert r.to_json()["total_circulating"] == "12400000"


def test_decimals_are_scaled_exactly_or_rounded_up() -> None:
    c = chain()
    c.tokens[TOKEN.lower()].decimals = 18
    c.tokens[TOKEN2.lower()].decimals = 2
    net = Network({U1: c})
    # TOKEN circulating 1_000_000 at 18 decimals -> 10^-12 of a 6-decimal unit: rounded UP
    r = read(net, {31337: [U1]}, block=50)
    assert r.deployments[0].circulating == 1_000_000
    assert r.deployments[0].rounded_up == 10**12 - 1_000_000
    assert r.deployments[0].to_json()["rounded_up"] == str(10**12 - 1_000_000)
    assert r.deployments[1].rounded_up == 0 and "rounded_up" not in r.deployments[1].to_json()
    assert r.total_circulating == 1 + 7 * 10**4
    c.tokens[TOKEN.lower()].mints = [(10, HOLDER, 3 * 10**12)]
    r = read(net, {31337: [U1]}, block=50)
    assert r.deployments[0].circulating == 3 * 10**12 and r.deployments[0].rounded_up == 0
    assert r.total_circulating == 3 + 7 * 10**4
    # one base unit less than a whole unit, and one more: both round up, never down
    c.tokens[TOKEN.lower()].mints = [(10, HOLDER, 3 * 10**12 - 1)]
    assert read(net, {31337: [U1]}, block=50).total_circulating == 3 + 7 * 10**4
    c.tokens[TOKEN.lower()].mints = [(10, HOLDER, 3 * 10**12 + 1)]
    r = read(net, {31337: [U1]}, block=50)
    assert r.total_circulating == 4 + 7 * 10**4 and r.deployments[0].rounded_up == 10**12 - 1


def test_missing_endpoint_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no RPC endpoint"):
        read(Network({}), {})


# --- hostile or broken nodes ----------------------------------------------------------------


def test_wrong_chain_id() -> None:
    net = Network({U1: chain(31337), U2: chain(1)})
    with pytest.raises(WrongChainError) as info:
        read(net, {31337: [U1, U2]}, block=5)
    assert info.value.exit_code == 3
    assert U2 in info.value.message and "chain 31337" in info.value.message


def test_other_genesis_with_same_chain_id() -> None:
    b = chain()
    b.salt = "fork"
    with pytest.raises(EndpointsDisagreeError, match="genesis"):
        read(Network({U1: chain(), U2: b}), {31337: [U1, U2]}, block=5)


def _lie_about_total(req: dict[str, Any], resp: dict[str, Any]) -> dict[str, Any] | None:
    if req["method"] == "eth_call" and req["params"][0]["data"] == "0x18160ddd":
        return {**resp, "result": "0x" + (10**12).to_bytes(32, "big").hex()}
    return None


def test_lying_second_endpoint() -> None:
    liar = chain()
    liar.hook = _lie_about_total
    with pytest.raises(EndpointsDisagreeError) as info:
        read(Network({U1: chain(), U2: liar}), {31337: [U1, U2]}, block=50)
    assert U1 in info.value.message and U2 in info.value.message
    assert info.value.exit_code == 3


def test_lying_second_endpoint_through_multicall() -> None:
    liar = chain(multicall_from=0)

    def lie(req: dict[str, Any], resp: dict[str, Any]) -> dict[str, Any] | None:
        if req["method"] == "eth_call" and "to" in req["params"][0]:
            raw = bytearray(bytes.fromhex(resp["result"][2:]))
            raw[-40] ^= 1  # flip a bit inside the returned data
            return {**resp, "result": "0x" + raw.hex()}
        return None

    liar.hook = lie
    with pytest.raises((EndpointsDisagreeError, RpcError)):
        read(Network({U1: chain(multicall_from=0), U2: liar}), {31337: [U1, U2]}, block=50)


def test_node_executing_calls_at_its_head_is_caught() -> None:
    """A node that ignores the requested block (answers every eth_call at its head) would
    count mints made after as_of; the block-number probe in the same batch catches it."""
    lazy = chain()
    head = len(lazy.timestamps) - 1

    def at_head(req: dict[str, Any], resp: dict[str, Any]) -> dict[str, Any] | None:
        if req["method"] != "eth_call" or req["params"][1] == hex(head):
            return None
        lazy.hook = None
        try:
            return lazy.answer({**req, "params": [req["params"][0], hex(head)]})
        finally:
            lazy.hook = at_head

    lazy.hook = at_head
    with pytest.raises(WrongBlockError, match="executed at block"):
        read(Network({U1: lazy}), {31337: [U1]}, block=50)


def test_endpoint_on_another_fork_disagrees_on_block_hash() -> None:
    b = chain()

    def other_hash(req: dict[str, Any], resp: dict[str, Any]) -> dict[str, Any] | None:
        if req["method"] == "eth_getBlockByNumber" and req["params"][0] == hex(50):
            return {**resp, "result": {**resp["result"], "hash": "0x" + "ab" * 32}}
        return None

    b.hook = other_hash
    with pytest.raises(EndpointsDisagreeError, match="hash"):
        read(Network({U1: chain(), U2: b}), {31337: [U1, U2]}, block=50)


def test_node_answering_for_another_block() -> None:
    c = chain()

    def shifted(req: dict[str, Any], resp: dict[str, Any]) -> dict[str, Any] | None:
        if req["method"] == "eth_getBlockByNumber" and req["params"][0] == hex(50):
            return {**resp, "result": c.header(51)}
        return None

    c.hook = shifted
    with pytest.raises(WrongBlockError) as info:
        read(Network({U1: c}), {31337: [U1]}, block=50)
    assert info.value.exit_code == 3


def test_primary_changing_hash_between_pin_and_read() -> None:
    c = chain()
    seen = {"n": 0}

    def reorg(req: dict[str, Any], resp: dict[str, Any]) -> dict[str, Any] | None:
        if req["method"] == "eth_getBlockByNumber" and req["params"][0] == hex(50):
            seen["n"] += 1
            if seen["n"] > 1:
                return {**resp, "result": {**resp["result"], "hash": "0x" + "cd" * 32}}
        return None

    c.hook = reorg
    with pytest.raises(WrongBlockError, match="pinned"):
        read(Network({U1: c}), {31337: [U1]}, block=50)


def test_pruned_history() -> None:
    c = chain()

    def pruned(req: dict[str, Any], resp: dict[str, Any]) -> dict[str, Any] | None:
        if req["method"] == "eth_call":
            return {
                "jsonrpc": "2.0",
                "id": req["id"],
                "error": {"code": -32000, "message": "missing trie node abc (path )"},
            }
        return None

    c.hook = pruned
    with pytest.raises(HistoryUnavailableError) as info:
        read(Network({U1: c}), {31337: [U1]}, block=3)
    assert "chain 31337" in info.value.message and U1 in info.value.message


def test_ccip_read_is_never_followed() -> None:
    c = chain()

    def offchain(req: dict[str, Any], resp: dict[str, Any]) -> dict[str, Any] | None:
        if req["method"] == "eth_call":
            err = {"code": 3, "message": "execution reverted", "data": "0x556f1830" + "00" * 64}
            return {"jsonrpc": "2.0", "id": req["id"], "error": err}
        return None

    c.hook = offchain
    with pytest.raises(RpcError, match="OffchainLookup"):
        read(Network({U1: c}), {31337: [U1]}, block=3)


@pytest.mark.parametrize(
    ("method", "field", "bad"),
    [
        ("eth_chainId", None, "7a69"),
        ("eth_chainId", None, "0x07a69"),
        ("eth_chainId", None, 31337),
        ("eth_getBlockByNumber", "hash", "0x1234"),
        ("eth_getBlockByNumber", "timestamp", "-0x1"),
        ("eth_getBlockByNumber", "number", None),
        ("eth_call", None, "0x123"),
        ("eth_call", None, "0x" + "00" * 31),
        ("eth_call", None, "0x" + "00" * 64),
        ("eth_call", None, None),
        ("eth_getCode", None, "0xzz"),
    ],
)
def test_malformed_values_are_refused(method: str, field: str | None, bad: Any) -> None:
    c = chain()

    def corrupt(req: dict[str, Any], resp: dict[str, Any]) -> dict[str, Any] | None:
        if req["method"] != method:
            return None
        if field is None:
            return {**resp, "result": bad}
        return {**resp, "result": {**resp["result"], field: bad}}

    c.hook = corrupt
    with pytest.raises(RpcError) as info:
        read(Network({U1: c}), {31337: [U1]}, block=3)
    assert U1 in info.value.message


def test_decimals_beyond_uint8() -> None:
    c = chain()

    def big(req: dict[str, Any], resp: dict[str, Any]) -> dict[str, Any] | None:
        if req["method"] == "eth_call" and req["params"][0]["data"] == "0x313ce567":
            return {**resp, "result": "0x" + (256).to_bytes(32, "big").hex()}
        return None

    c.hook = big
    with pytest.raises(RpcError, match="uint8"):
        read(Network({U1: c}), {31337: [U1]}, block=3)


def test_excluded_above_total_supply() -> None:
    c = chain()

    def rich(req: dict[str, Any], resp: dict[str, Any]) -> dict[str, Any] | None:
        if req["method"] == "eth_call" and req["params"][0]["data"].startswith("0x70a08231"):
            return {**resp, "result": "0x" + (10**30).to_bytes(32, "big").hex()}
        return None

    c.hook = rich
    with pytest.raises(IncompleteError, match="exceed totalSupply"):
        read(Network({U1: c}), {31337: [U1]}, block=50)


def test_token_without_code_at_pinned_block() -> None:
    c = chain()
    c.tokens[TOKEN.lower()].created = 20
    with pytest.raises(IncompleteError, match="no contract code"):
        read(Network({U1: c}), {31337: [U1]}, block=10)


def test_multicall_deployed_after_pinned_block_falls_back_to_batch() -> None:
    c = chain(multicall_from=150)
    r = read(Network({U1: c}), {31337: [U1]}, block=50)
    assert r.stats[0].method == "batch" and r.deployments[0].circulating == 1_000_000
    with pytest.raises(IncompleteError, match="Multicall3"):
        read(Network({U1: c}), {31337: [U1]}, block=50, multicall={31337: MULTICALL3_ADDRESS})


def test_no_block_before_as_of() -> None:
    with pytest.raises(IncompleteError, match="no block at or before"):
        read(Network({U1: chain()}), {31337: [U1]}, as_of=999)


# --- the JSON-RPC envelope ------------------------------------------------------------------


def client(node: FakeChain, **kw: Any) -> RpcClient:
    kw.setdefault("backoff", 0.0)
    return RpcClient(U1, 31337, transport=node.transport, **kw)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda body: b"not json",
        lambda body: b'{"jsonrpc":"2.0","id":1,"result":"0x1"}',  # object for a batch
        lambda body: json.dumps(json.loads(body)[:1]).encode(),  # an answer missing
        lambda body: json.dumps(json.loads(body) + json.loads(body)[:1]).encode(),  # duplicate
        lambda body: json.dumps([{**a, "id": a["id"] + 100} for a in json.loads(body)]).encode(),
        lambda body: json.dumps([{**a, "id": str(a["id"])} for a in json.loads(body)]).encode(),
        lambda body: json.dumps(
            [{"jsonrpc": "2.0", "id": a["id"]} for a in json.loads(body)]
        ).encode(),
        lambda body: json.dumps([{**a, "jsonrpc": "1.0"} for a in json.loads(body)]).encode(),
        lambda body: b'{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"no batches"}}',
    ],
)
def test_malformed_batch_envelopes(mangle: Callable[[bytes], bytes]) -> None:
    c = chain()
    c.body_hook = mangle
    with pytest.raises(RpcError) as info:
        client(c).batch([Call("eth_chainId"), Call("eth_blockNumber")])
    assert "chain 31337 endpoint" in info.value.message


def test_batch_results_are_matched_by_id_not_order() -> None:
    c = chain()
    c.body_hook = lambda body: json.dumps(list(reversed(json.loads(body)))).encode()
    res = client(c).batch([Call("eth_chainId"), Call("eth_getBlockByNumber", ("0x1", False))])
    assert res[0] == hex(31337) and res[1]["number"] == "0x1"


def test_response_size_cap() -> None:
    with pytest.raises(RpcError, match="larger than"):
        client(chain(), max_response_bytes=50).call("eth_getBlockByNumber", "0x1", False)


def test_transient_failures_are_retried_with_backoff() -> None:
    c = chain()
    failures = {"left": 2}
    sleeps: list[float] = []

    def flaky(url: str, body: bytes, timeout: float, max_bytes: int) -> bytes:
        if failures["left"]:
            failures["left"] -= 1
            raise TransportError("timed out", retryable=True)
        return c.transport(url, body, timeout, max_bytes)

    cl = RpcClient(U1, 31337, transport=flaky, retries=2, backoff=0.01, sleep=sleeps.append)
    assert cl.call("eth_chainId") == hex(31337)
    assert cl.requests == 3 and sleeps == [0.01, 0.02]
    failures["left"] = 3
    with pytest.raises(RpcError, match="after 3 attempt"):
        cl.call("eth_chainId")


def test_non_retryable_failure_is_not_retried() -> None:
    calls = {"n": 0}

    def refuse(url: str, body: bytes, timeout: float, max_bytes: int) -> bytes:
        calls["n"] += 1
        raise TransportError("HTTP 400 Bad Request", retryable=False)

    with pytest.raises(RpcError, match="HTTP 400"):
        RpcClient(U1, 31337, transport=refuse, retries=5).call("eth_chainId")
    assert calls["n"] == 1


# --- a real slow HTTP node (the default urllib transport) -------------------------------------


@pytest.fixture
def slow_node() -> Iterator[FakeNode]:
    with FakeNode(chain()) as node:
        yield node


def test_slow_node_is_retried_within_bounds(slow_node: FakeNode) -> None:
    url = slow_node.url
    slow_node.delays = [0.6]  # first answer arrives after the timeout; the retry is prompt
    r = read_supply(
        deps(), {31337: [url]}, block=50, token_decimals=6, timeout=0.3, retries=2, backoff=0.05
    )
    assert r.total_circulating == 1_000_007
    # handshake timed out once and was retried; then the header of block 50; then the read
    assert sum(e.pin_requests + e.read_requests for e in r.stats[0].endpoints) == 4


def test_always_slow_node_gives_up_in_bounded_time(slow_node: FakeNode) -> None:
    url = slow_node.url
    slow_node.delays = [1.0] * 10
    start = time.monotonic()
    with pytest.raises(RpcError) as info:
        read_supply(
            deps(), {31337: [url]}, block=5, token_decimals=6, timeout=0.2, retries=2, backoff=0.05
        )
    elapsed = time.monotonic() - start
    assert info.value.exit_code == 3 and url in info.value.message
    assert elapsed < 0.2 * 3 + 0.05 * 4 + 0.5


def test_connection_refused_names_endpoint() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(RpcError, match=f"endpoint {url}"):
        read_supply(deps(), {31337: [url]}, token_decimals=6, timeout=0.5, retries=1, backoff=0.01)


# --- feed cross-check -----------------------------------------------------------------------


def test_feed_reading_is_normalised_with_staleness() -> None:
    c = feed_chain((7, 8_000_000_123, 900, 1_000, 7))
    r = read_feed(U1, FEED, now=1_600, chain_id=31337, transport=c.transport)
    assert r.answer == 8_000_000_123 and r.decimals == 6
    assert r.normalised == Decimal("8000.000123")
    assert r.staleness_s == 600 and r.round_id == 7
    assert r.block_number == 199 and r.to_json()["normalised"] == "8000.000123"
    assert c.http_requests == 2


@pytest.mark.parametrize(
    ("rnd", "why"),
    [
        ((0, 5, 1, 1, 0), "round id is 0"),
        ((1, 0, 1, 1, 1), "not positive"),
        ((1, -5, 1, 1, 1), "not positive"),
        ((1, 5, 1, 0, 1), "updatedAt is 0"),
        ((1, 5, 1, 10**9, 1), "in the future"),
        ((3, 5, 1, 1, 2), "answeredInRound"),
    ],
)
def test_feed_without_a_valid_round(rnd: tuple[int, int, int, int, int], why: str) -> None:
    with pytest.raises(IncompleteError, match=why):
        read_feed(U1, FEED, now=2_000, transport=feed_chain(rnd).transport)


def test_feed_wrong_chain_and_bad_address() -> None:
    c = feed_chain((1, 5, 1, 1, 1))
    with pytest.raises(WrongChainError):
        read_feed(U1, FEED, now=2_000, chain_id=1, transport=c.transport)
    with pytest.raises(InputError):
        read_feed(U1, FEED.lower(), now=2_000, transport=c.transport)
    with pytest.raises(IncompleteError, match="no contract code"):
        read_feed(U1, TREASURY, now=2_000, transport=c.transport)


def test_feed_malformed_round_data() -> None:
    c = feed_chain((1, 5, 1, 1, 1))

    def short(req: dict[str, Any], resp: dict[str, Any]) -> dict[str, Any] | None:
        if req["method"] == "eth_call" and req["params"][0]["data"] == "0xfeaf968c":
            return {**resp, "result": resp["result"][:-64]}
        return None

    c.hook = short
    with pytest.raises(RpcError, match="not 160"):
        read_feed(U1, FEED, now=2_000, transport=c.transport)


# --- one eth_call on every endpoint (EIP-1271 checks) -----------------------------------------


def test_call_all_endpoints_agree_revert_and_disagree() -> None:
    total = bytes.fromhex("18160ddd")
    net = Network({U1: chain(), U2: chain()})
    got = call_all_endpoints(31337, [U1, U2], TOKEN, total, transport=net.transport)
    assert got is not None and int.from_bytes(got, "big") == 6_400_000
    at50 = call_all_endpoints(31337, [U1], TOKEN, total, block=50, transport=net.transport)
    assert at50 is not None and int.from_bytes(at50, "big") == 1_400_000
    assert (
        call_all_endpoints(31337, [U1], TOKEN, b"\xde\xad\xbe\xef", transport=net.transport) is None
    )
    liar = chain()
    liar.hook = _lie_about_total
    with pytest.raises(EndpointsDisagreeError):
        call_all_endpoints(
            31337, [U1, U2], TOKEN, total, transport=Network({U1: chain(), U2: liar}).transport
        )
    with pytest.raises(WrongChainError):
        call_all_endpoints(5, [U1], TOKEN, total, transport=net.transport)
    with pytest.raises(InputError):
        call_all_endpoints(5, [], TOKEN, total, transport=net.transport)


def test_deployment_supply_json_round_trip() -> None:
    r = read(Network({U1: chain()}), {31337: [U1]}, block=50)
    for d in r.deployments:
        assert DeploymentSupply.from_json(d.to_json()) == d
    doc = r.deployments[0].to_json()
    for key, bad in (
        ("total_supply", 5),
        ("total_supply", "-5"),
        ("total_supply", "05"),
        ("chain_id", "1"),
        ("block_hash", "0x12"),
    ):
        with pytest.raises((TypeError, ValueError)):
            DeploymentSupply.from_json({**doc, key: bad})
    with pytest.raises(KeyError):
        DeploymentSupply.from_json({k: v for k, v in doc.items() if k != "circulating"})


# --- HTTP statuses through the default transport ----------------------------------------------


@pytest.fixture
def status_node() -> Iterator[FakeNode]:
    with FakeNode(chain()) as node:
        yield node


def test_http_5xx_and_429_are_retried(status_node: FakeNode) -> None:
    url = status_node.url
    status_node.script = [(503, {}), (429, {})]
    cl = RpcClient(url, 31337, timeout=2, retries=2, backoff=0.01)
    assert cl.call("eth_chainId") == hex(31337) and cl.requests == 3


def test_http_4xx_is_not_retried(status_node: FakeNode) -> None:
    url = status_node.url
    status_node.script = [(403, {})]
    cl = RpcClient(url, 31337, timeout=2, retries=2, backoff=0.01)
    with pytest.raises(RpcError, match="HTTP 403"):
        cl.call("eth_chainId")
    assert cl.requests == 1


def test_redirects_are_not_followed(status_node: FakeNode) -> None:
    url = status_node.url
    status_node.script = [(307, {"Location": "http://127.0.0.1:9/elsewhere"})]
    with pytest.raises(RpcError, match="HTTP 307"):
        RpcClient(url, 31337, timeout=2, retries=0).call("eth_chainId")


def test_oversize_http_body_is_refused(status_node: FakeNode) -> None:
    url = status_node.url
    cl = RpcClient(url, 31337, timeout=2, retries=2, max_response_bytes=40)
    with pytest.raises(RpcError, match="larger than 40 bytes"):
        cl.call("eth_getBlockByNumber", "0x1", False)
    assert cl.requests == 1


def test_cli_progress_bar_appears_only_after_a_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    from verifier.cli import common

    monkeypatch.setattr(common, "PROGRESS_AFTER_S", 0.01)
    bar = common.ChainProgress(2)
    # the timer thread imports rich on first use (slow under coverage): wait for the bar
    deadline = time.monotonic() + 30
    while bar.bar is None and time.monotonic() < deadline:
        time.sleep(0.01)
    bar(chain_id=1, done=1, total=2)
    assert bar.bar is not None
    bar.close()
    quick = common.ChainProgress(2)
    quick(chain_id=1, done=1, total=2)
    quick.close()
    time.sleep(0.05)
    assert quick.bar is None


def test_cli_progress_bar_goes_once_every_chain_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    from verifier.cli import common

    monkeypatch.setattr(common, "PROGRESS_AFTER_S", 0.05)
    bar = common.ChainProgress(0)
    bar(chain_id=1, done=1, total=2)
    assert not bar.closed
    bar(chain_id=2, done=2, total=2)
    assert bar.closed  # the rest of the run (checking the bundle) shows no "reading" bar
    time.sleep(0.2)
    assert bar.bar is None
    bar.close()  # the run's own close after delivery is harmless
    shown = common.ChainProgress(2)
    deadline = time.monotonic() + 30
    while shown.bar is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert shown.bar is not None
    shown(chain_id=1, done=2, total=2)
    assert shown.closed


def test_lagging_second_endpoint_never_chooses_the_pin() -> None:
    ahead, behind = chain(blocks=200), chain(blocks=190)
    net = Network({U1: ahead, U2: behind})
    # head mode (porv supply without --at): the height every endpoint has reached
    r = read(net, {31337: [U1, U2]})
    assert r.deployments[0].block_number == 189
    with pytest.raises(InputError, match="every endpoint"):
        read(net, {31337: [U1, U2]}, block=195)
    # by time: the pin is the chain's, and the endpoint that is behind cannot confirm it
    # (the old rule pinned block 189 here, hiding whatever happened in blocks 190..194)
    with pytest.raises(NotFinalError, match=f"endpoint {U2} is behind: its latest block is 189"):
        read(net, {31337: [U1, U2]}, as_of=1000 + 12 * 194)
    r = read(net, {31337: [U1, U2]}, as_of=1000 + 12 * 150)
    assert r.deployments[0].block_number == 150


def test_chain_id_is_judged_before_other_answers() -> None:
    other = chain(1)

    def broken(req: dict[str, Any], resp: dict[str, Any]) -> dict[str, Any] | None:
        if req["method"] != "eth_chainId":
            return {"jsonrpc": "2.0", "id": req["id"], "error": {"code": -1, "message": "boom"}}
        return None

    other.hook = broken
    with pytest.raises(WrongChainError):
        read(Network({U1: other}), {31337: [U1]}, block=5)


# --- the final pin -----------------------------------------------------------------------------


def test_pin_by_time_needs_its_successor_finalized_on_every_endpoint() -> None:
    as_of = 1000 + 12 * 150  # block 150; its successor 151
    a, b = chain(), chain()
    b.finalized_lag = 64  # b's finalized block is 135
    net = Network({U1: a, U2: b})
    with pytest.raises(NotFinalError, match=f"block 151 .* is not finalized on endpoint {U2}"):
        read(net, {31337: [U1, U2]}, as_of=as_of)
    b.finalized_lag = 48  # 151: exactly at the finalized block
    r = read(net, {31337: [U1, U2]}, as_of=as_of)
    first = r.deployments[0]
    assert first.block_number == 150 and first.finality == "finalized"
    assert first.successor is not None and first.successor.number == 151
    doc = first.to_json()
    assert doc["finality"] == "finalized"
    assert doc["successor"] == {
        "block_number": 151,
        "block_hash": a.block_hash(151),
        "block_timestamp": 1000 + 12 * 151,
    }
    assert DeploymentSupply.from_json(doc) == first
    # "latest" only needs the successor; N confirmations need N blocks on top of it
    b.finalized_lag = None  # a chain without the tag
    with pytest.raises(NotFinalError, match="reports no finalized block"):
        read(net, {31337: [U1, U2]}, as_of=as_of)
    assert read(net, {31337: [U1, U2]}, as_of=as_of, finality={31337: "latest"}).deployments
    assert read(net, {31337: [U1, U2]}, as_of=as_of, finality={31337: 48}).deployments
    with pytest.raises(NotFinalError, match="has 48 of 49 confirmations"):
        read(net, {31337: [U1, U2]}, as_of=as_of, finality={31337: 49})
    # by block number or at the head, finality is not asked for and not recorded
    assert read(net, {31337: [U1, U2]}, block=150).deployments[0].finality is None


def test_a_lagging_endpoint_with_all_true_answers_cannot_lower_the_pin() -> None:
    """Every answer of U2 is true but its head is older: the old rule pinned its head (before
    the mint at block 100) and counted 1_000_007; now the run cannot complete."""
    net = Network({U1: chain(), U2: chain(blocks=95)})
    as_of = 1000 + 12 * 120
    for urls in ([U1, U2], [U2, U1]):
        with pytest.raises(NotFinalError, match="not final yet on chain 31337"):
            read(net, {31337: urls}, as_of=as_of)
    assert read(net, {31337: [U1]}, as_of=as_of).total_circulating == 6_000_007


def test_successor_header_that_does_not_follow_the_pin_is_refused() -> None:
    c = chain()

    def other_parent(req: dict[str, Any], resp: dict[str, Any]) -> dict[str, Any] | None:
        if req["method"] == "eth_getBlockByNumber" and req["params"][0] == hex(151):
            return {**resp, "result": {**resp["result"], "parentHash": "0x" + "ee" * 32}}
        return None

    c.hook = other_parent
    with pytest.raises(WrongBlockError, match="does not follow pinned block 150"):
        read(Network({U1: c}), {31337: [U1]}, as_of=1000 + 12 * 150)


def test_code_at_the_multicall3_address_that_is_not_multicall3_is_never_trusted() -> None:
    # a contract at the canonical address answers aggregate3 with chosen words: a total
    # supply of 1 and no balances, whatever the token says
    forged = encode(["(bool,bytes)[]"], [[(True, encode(["uint256"], [1]))] * 7])
    real = bytes.fromhex(load_contract("Multicall3").deployed_bytecode[2:])
    for code in (b"\x60\x01", real[:-1] + b"\x00"):
        clear_header_cache()
        c = chain(multicall_from=0)
        c.multicall_fake = (code, forged)
        r = read(Network({U1: c}), {31337: [U1]}, block=50)
        assert r.stats[0].method == "batch"  # the plain batch, never the fake's words
        assert r.deployments[0].circulating == 1_000_000
        # pinned (supply --multicall): refused, not trusted and not bypassed
        with pytest.raises(IncompleteError, match="has code that is not Multicall3"):
            read(Network({U1: c}), {31337: [U1]}, block=50, multicall={31337: MULTICALL3_ADDRESS})
    # control: porv's Multicall3 is used
    clear_header_cache()
    r = read(Network({U1: chain(multicall_from=0)}), {31337: [U1]}, block=50)
    assert r.stats[0].method == "multicall3" and r.deployments[0].circulating == 1_000_000


def test_endpoints_disagree_messages_carry_no_url_secrets() -> None:
    # the message is built redacted, not cleaned later by a regex over the text
    s1 = "https://user:pw1@node-a.test:8545/v3/KEY1?secret=T1"
    s2 = "https://node-b.test/v3/KEY2#frag"
    liar = chain()
    liar.hook = _lie_about_total
    errors: list[EndpointsDisagreeError] = []
    with pytest.raises(EndpointsDisagreeError) as info:
        read(Network({s1: chain(), s2: liar}), {31337: [s1, s2]}, block=50)
    errors.append(info.value)
    with pytest.raises(EndpointsDisagreeError) as info:
        call_all_endpoints(
            31337,
            [s1, s2],
            TOKEN,
            bytes.fromhex("18160ddd"),
            block=50,
            transport=Network({s1: chain(), s2: liar}).transport,
        )
    errors.append(info.value)
    for err in errors:
        assert "https://node-a.test:8545" in err.message and "https://node-b.test" in err.message
        for leak in ("user", "pw1", "KEY", "secret", "frag"):
            assert leak not in err.message, err.message
