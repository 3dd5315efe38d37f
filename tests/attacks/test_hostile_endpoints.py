"""Hostile endpoints (the fault proxy in front of anvil): every one ends in exit 3, in time.

DESIGN §1, "Bounded work": an endpoint that stalls, drips, truncates, answers 429/5xx, drops
the connection, answers with ids never sent or with deeply nested JSON is an error (exit 3)
with a JSON status, never a hang, crash or traceback, and the rollback state is untouched.
A stalled or dripping endpoint is bounded by the run's ``--deadline`` (and each attempt by
``--timeout``), whatever the number of retries.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.attacks.conftest import DemoNet
from tests.attacks.crafting import (
    Run,
    Workdir,
    assert_refused,
    chain_url,
    new_workdir,
    verify_cli,
)
from tests.support.demo import demo_chains
from tests.support.faultproxy import Fault, FaultProxy
from verifier.app.demo import DemoFiles, write_demo_files

pytestmark = pytest.mark.anvil

#: The run's budget in these tests; the CLI's start (imports, proof-of-possession checks)
#: takes a second or two of it.
DEADLINE_S = 6.0
#: What a run may take beyond its deadline (interpreter start and exit on a busy runner).
MARGIN_S = 5.0


@pytest.fixture(scope="module")
def anvil_net() -> Iterator[DemoNet]:
    with demo_chains("anvil") as net:
        yield net


@pytest.fixture(scope="module")
def anvil_files(anvil_net: DemoNet, tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    _, deployments, as_of = anvil_net
    return write_demo_files(tmp_path_factory.mktemp("anvil-demo"), deployments, as_of=as_of)


@pytest.fixture
def anvil_work(anvil_files: DemoFiles, tmp_path: Path) -> Workdir:
    return new_workdir(tmp_path / "work", anvil_files)


@pytest.fixture
def proxy(anvil_net: DemoNet) -> Iterator[FaultProxy]:
    with FaultProxy(chain_url(anvil_net[1], 31337)) as p:
        yield p


def _run(work: Workdir, proxy: FaultProxy, *extra: str) -> tuple[Run, float]:
    bundle = work.write(work.bundle_doc())
    t0 = time.monotonic()
    run = verify_cli(
        bundle, work, "--rpc", f"31337={proxy.url}", "--deadline", str(DEADLINE_S), *extra
    )
    return run, time.monotonic() - t0


@pytest.mark.parametrize("fault", [Fault.STALL, Fault.DRIP])
def test_withholding_endpoint_stopped_by_the_deadline(
    anvil_work: Workdir, proxy: FaultProxy, fault: Fault
) -> None:
    # a per-request timeout far above the deadline: only the run's deadline can stop it
    proxy.fault, proxy.drip_interval = fault, 0.5
    run, took = _run(anvil_work, proxy, "--timeout", "120")

    assert_refused(
        run,
        anvil_work,
        None,
        code=3,
        kinds={"deadline"},
        words=[f"endpoint {proxy.url}", f"deadline of {DEADLINE_S:g} s"],
    )
    assert took < DEADLINE_S + MARGIN_S
    assert proxy.faulted >= 1


def test_dripping_endpoint_bounded_by_the_request_timeout(
    anvil_work: Workdir, proxy: FaultProxy
) -> None:
    # one byte every half second used to hold porv for minutes at --timeout 1
    proxy.fault, proxy.drip_interval = Fault.DRIP, 0.5
    run, took = _run(anvil_work, proxy, "--timeout", "1")

    assert_refused(
        run,
        anvil_work,
        None,
        code=3,
        kinds={"rpc_error"},
        words=["no complete answer within 1.0s", "after 3 attempt(s)"],
    )
    assert took < DEADLINE_S + MARGIN_S


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (Fault.STATUS, "HTTP 429"),
        (Fault.TRUNCATE, "answer cut short"),
        (Fault.DROP, "after 3 attempt(s)"),
        (Fault.WRONG_IDS, "duplicated or never requested"),
        (Fault.DEEP_JSON, "nested deeper than"),
    ],
)
def test_hostile_answer_is_an_error(
    anvil_work: Workdir, proxy: FaultProxy, fault: Fault, words: str
) -> None:
    proxy.fault, proxy.status = fault, 429
    run, took = _run(anvil_work, proxy)

    assert_refused(
        run,
        anvil_work,
        None,
        code=3,
        kinds={"rpc_error"},
        words=[f"endpoint {proxy.url}", words],
    )
    assert took < DEADLINE_S + MARGIN_S


def test_server_errors_retried_then_an_error(anvil_work: Workdir, proxy: FaultProxy) -> None:
    proxy.fault, proxy.status = Fault.STATUS, 503
    run, _ = _run(anvil_work, proxy)

    assert_refused(
        run,
        anvil_work,
        None,
        code=3,
        kinds={"rpc_error"},
        words=["HTTP 503", "after 3 attempt(s)"],
    )
    assert proxy.faulted == 3  # bounded retries: 1 + 2
