"""The RPC client's time bounds against hostile endpoints (the fault proxy, in-process chain).

An attempt is bounded as a whole (a server dripping one byte at a time cannot stretch it past
``timeout``), and no attempt, retry or read outlives the run's :class:`Deadline`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.cli import porv
from tests.support.faultproxy import Fault, FaultProxy
from verifier.chain.rpc import (
    Deadline,
    RpcClient,
    active_deadline,
    deadline_scope,
    http_post,
    under_deadline,
)
from verifier.devnet.node import Node
from verifier.errors import DeadlineExceededError, RpcError

#: Slack on top of a bound for thread scheduling on a busy 2-core runner.
SLACK_S = 1.5


@pytest.fixture(scope="module")
def upstream(embedded_chain: Node) -> str:
    return embedded_chain.url


@pytest.fixture
def proxy(upstream: str) -> Iterator[FaultProxy]:
    with FaultProxy(upstream) as p:
        yield p


def test_proxy_forwards_honestly(proxy: FaultProxy) -> None:
    client = RpcClient(proxy.url, 31337, retries=0)
    assert client.call("eth_chainId") == "0x7a69"
    assert proxy.requests == 1 and proxy.faulted == 0


def test_dripping_answer_bounded_by_the_attempt_timeout(proxy: FaultProxy) -> None:
    # ~45 bytes at 0.1 s each would take ~4.5 s; a socket timeout alone resets on every byte
    proxy.fault, proxy.drip_interval = Fault.DRIP, 0.1
    client = RpcClient(proxy.url, 31337, timeout=0.5, retries=0)
    t0 = time.monotonic()
    with pytest.raises(RpcError, match=r"no complete answer within 0\.5s") as exc:
        client.call("eth_chainId")
    assert time.monotonic() - t0 < 0.5 + SLACK_S
    assert f"endpoint {proxy.url}" in exc.value.message


def test_dripping_answer_bounded_in_the_transport_itself(proxy: FaultProxy) -> None:
    proxy.fault, proxy.drip_interval = Fault.DRIP, 0.1
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
    t0 = time.monotonic()
    with pytest.raises(Exception, match="no complete answer"):
        http_post(proxy.url, body.encode(), 0.4, 1 << 20)
    assert time.monotonic() - t0 < 0.4 + SLACK_S


@pytest.mark.parametrize("fault", [Fault.STALL, Fault.DRIP])
def test_run_deadline_stops_retries_and_reads(proxy: FaultProxy, fault: Fault) -> None:
    proxy.fault, proxy.drip_interval = fault, 0.2
    client = RpcClient(proxy.url, 31337, timeout=30, retries=5, deadline=Deadline(1.0))
    t0 = time.monotonic()
    with pytest.raises(DeadlineExceededError) as exc:
        client.call("eth_chainId")
    assert time.monotonic() - t0 < 1.0 + SLACK_S
    assert exc.value.kind == "deadline" and exc.value.exit_code == 3
    assert f"chain 31337 endpoint {proxy.url}" in exc.value.message
    assert "deadline of 1 s" in exc.value.message


def test_deadline_bounds_retries_on_5xx(proxy: FaultProxy) -> None:
    proxy.fault, proxy.status = Fault.STATUS, 503
    client = RpcClient(proxy.url, 31337, timeout=5, retries=50, backoff=0.1, deadline=Deadline(1.0))
    t0 = time.monotonic()
    with pytest.raises(DeadlineExceededError, match="HTTP 503"):
        client.call("eth_chainId")
    assert time.monotonic() - t0 < 1.0 + SLACK_S
    assert 2 <= proxy.requests < 20


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (Fault.STATUS, "HTTP 429"),
        (Fault.TRUNCATE, "after 3 attempt(s)"),
        (Fault.DROP, "after 3 attempt(s)"),
        (Fault.WRONG_IDS, "duplicated or never requested"),
    ],
)
def test_hostile_answers_are_typed_errors(proxy: FaultProxy, fault: Fault, words: str) -> None:
    proxy.fault, proxy.status = fault, 429
    client = RpcClient(proxy.url, 31337, timeout=2, retries=2, backoff=0.01)
    with pytest.raises(RpcError) as exc:
        client.call("eth_chainId")
    assert words in exc.value.message


def test_clients_made_in_worker_threads_obey_the_scope(proxy: FaultProxy) -> None:
    proxy.fault = Fault.STALL
    errors: list[BaseException] = []

    def work() -> None:
        try:
            RpcClient(proxy.url, 31337, timeout=30, retries=3).call("eth_chainId")
        except BaseException as exc:
            errors.append(exc)

    t0 = time.monotonic()
    with deadline_scope(Deadline(0.8)):
        worker = threading.Thread(target=work)
        worker.start()
        worker.join(timeout=10)
    assert time.monotonic() - t0 < 0.8 + SLACK_S
    assert [type(e) for e in errors] == [DeadlineExceededError]
    assert active_deadline() is None


def test_every_run_has_a_deadline() -> None:
    @under_deadline
    def run(*, deadline: Deadline | None = None) -> Deadline | None:
        return active_deadline()

    mine = Deadline(5)
    assert run(deadline=mine) is mine
    default = run()
    assert default is not None and default.seconds == 120.0
    with deadline_scope(mine):
        assert run() is mine  # the caller's budget, not a fresh one


@pytest.mark.parametrize("verb", ["verify", "recheck"])
def test_deadline_option_and_its_environment_variable(verb: str) -> None:
    out = porv([verb, "--help"], in_process=True)
    assert out.code == 0
    assert "--deadline" in out.output and f"PORV_{verb.upper()}_DEADLINE" in out.output
    assert "120" in out.output
