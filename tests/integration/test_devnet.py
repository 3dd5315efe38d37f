"""``porv devnet up`` and the scenario runner behind it (also used by ``porv demo``)."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import decode, encode
from eth_utils.crypto import keccak

from verifier.devnet import registry as reg
from verifier.devnet.node import rpc_request
from verifier.devnet.scenarios import (
    DEMO_SCENARIO,
    demo_scenario,
    load_scenario,
    parse_scenario,
    run_scenario,
)
from verifier.errors import InputError, SchemaError

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "scenarios" / "demo.json"


def erc20(url: str, token: str, signature: str, *args: Any, block: str = "latest") -> int:
    types = signature[signature.index("(") + 1 : -1].split(",") if "()" not in signature else []
    data = keccak(text=signature)[:4] + encode(types, list(args))
    raw = rpc_request(url, "eth_call", [{"to": token, "data": "0x" + data.hex()}, block])
    return int(decode(["uint256"], bytes.fromhex(str(raw)[2:]))[0])


def test_shipped_demo_scenario_equals_builtin() -> None:
    assert json.loads(DEMO.read_text()) == DEMO_SCENARIO
    assert load_scenario(DEMO) == demo_scenario()


def test_run_scenario_embedded_deploys_everything() -> None:
    scenario = demo_scenario()
    with run_scenario("embedded", scenario) as info:
        assert [c.node.chain_id for c in info.chains] == [31337, 31338]
        for plan, chain in zip(scenario.chains, info.chains, strict=True):
            url = chain.node.url
            assert chain.node.pid is None
            assert int(str(rpc_request(url, "eth_chainId")), 16) == plan.chain_id
            minted = sum(m.amount for m in plan.mints)
            assert erc20(url, chain.token, "totalSupply()") == minted
            assert erc20(url, chain.token, "decimals()") == 6
            (treasury,) = chain.excluded
            assert (
                erc20(url, chain.token, "balanceOf(address)", treasury) == chain.holders[treasury]
            )
            assert (chain.registry is not None) == plan.registry
            assert chain.multicall3 is not None
        registry = info.chain(31337).registry
        assert registry is not None
        c = __import__("verifier.devnet.deploy", fromlist=["contract"]).contract(
            info.chain(31337).node.url, reg.NAME, registry
        )
        assert c.functions.isSigner(
            "custodian-a", "0xB25c1d4453438c0D7E751AD5b03374E0C64b865D"
        ).call()
        doc = info.to_json()
        assert doc["status"] == "ok"
        assert doc["deployments"][1] == {
            "chain_id": 31338,
            "address": info.chain(31338).token,
            "excluded": list(info.chain(31338).excluded),
        }
        # the demo's Safe: 2 of 3, custodian A's keys, through the factory with the handler
        (safe,) = info.safes
        assert doc["safes"] == [safe.to_json()] and safe.chain_id == 31337
        url = info.chain(31337).node.url
        deployed = __import__("verifier.devnet.deploy", fromlist=["contract"]).contract(
            url, "Safe", safe.address
        )
        owners = set(DEMO_SCENARIO["safes"][0]["owners"])
        assert set(deployed.functions.getOwners().call()) == owners == set(safe.owners)
        assert deployed.functions.getThreshold().call() == 2
        ports = [c.node.url for c in info.chains]
    for url in ports:
        with pytest.raises(Exception, match=r"failed"):
            rpc_request(url, "eth_chainId", timeout=1)


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"colour": "blue"}, "scenario.colour"),
        ({"format": "porv.scenario/2"}, "format"),
        ({"chains": []}, "chains"),
        ({"chains": [{"chain_id": 1, "mints": [{"to": "account:1", "amount": "1.5"}]}]}, "mints"),
        ({"chains": [{"chain_id": 1, "mints": [{"to": "bob", "amount": "1"}]}]}, "mints[0].to"),
        ({"chains": [{"chain_id": 1}, {"chain_id": 1}]}, "chains[1].chain_id"),
        ({"chains": [{"chain_id": True}]}, "chains[0].chain_id"),
        ({"token": {"symbol": "X", "decimals": 6}}, "token.currency"),
        ({"safes": [{"owners": [], "threshold": 1}]}, "safes[0].owners"),
        ({"safes": [{"owners": ["account:1", "bob"], "threshold": 1}]}, "safes[0].owners[1]"),
        ({"safes": [{"owners": ["account:1", "account:1"], "threshold": 1}]}, "owners[1]"),
        ({"safes": [{"owners": ["account:1"], "threshold": 2}]}, "safes[0].threshold"),
        ({"safes": [{"owners": ["account:1", "0x" + "00" * 20], "threshold": 1}]}, "owners[1]"),
        ({"safes": [{"owners": ["0x" + "00" * 19 + "01"], "threshold": 1}]}, "owners[0]"),
        ({"safes": [{"owners": ["account:1"], "threshold": 1, "chain_id": 5}]}, "chain_id"),
        ({"safes": [{"owners": ["account:1"], "threshold": 1, "salt": 5}]}, "safes[0].salt"),
        ({"safes": [{"owners": [f"account:{i}" for i in range(17)], "threshold": 1}]}, "owners"),
        (
            {"registry": {"custodians": [{"id": "c", "signers": [], "eip1271": ["safe:1"]}]}},
            "registry.custodians[0].eip1271[0]",
        ),
        (
            {"registry": {"custodians": [{"id": "c", "signers": [], "eip1271": ["0x00"]}]}},
            "registry.custodians[0].eip1271[0]",
        ),
    ],
)
def test_bad_scenarios_are_refused_naming_the_field(patch: dict[str, Any], field: str) -> None:
    doc = {**DEMO_SCENARIO, **patch}
    with pytest.raises(SchemaError) as exc:
        parse_scenario(doc, "bad.json")
    assert exc.value.exit_code == 2
    assert exc.value.location is not None and exc.value.location.file == "bad.json"
    assert field in str(exc.value.location.field)


def test_scenario_account_out_of_range() -> None:
    doc = {**DEMO_SCENARIO, "chains": [{"chain_id": 31337, "excluded": ["account:42"]}]}
    doc.pop("registry")
    with pytest.raises(InputError, match="account:42"):
        run_scenario("embedded", parse_scenario(doc))


def test_scenario_safe_owner_named_twice_through_an_account_is_refused() -> None:
    """``account:1`` and account 1's own address are one owner: refused naming the field (exit
    2), not a reverted Safe creation."""
    doc = {**DEMO_SCENARIO, "chains": [{"chain_id": 31337}]}
    doc.pop("registry")
    with run_scenario("embedded", parse_scenario({**doc, "safes": []})) as info:
        account_1 = info.chain(31337).accounts[1]
    doc["safes"] = [{"owners": ["account:1", account_1], "threshold": 1}]
    with pytest.raises(InputError) as exc:
        run_scenario("embedded", parse_scenario(doc))
    assert exc.value.exit_code == 2
    assert exc.value.location is not None and exc.value.location.field == "safes[0].owners[1]"
    assert "account:1" in exc.value.message
    from verifier.devnet.safe import SafeInfra, create_safe

    nowhere = SafeInfra(account_1, account_1, account_1)
    with pytest.raises(InputError, match="cannot own a Safe"):
        create_safe("http://127.0.0.1:9", nowhere, [account_1, "0x" + "00" * 19 + "01"], 1)


def test_cli_bad_scenario_exits_2_and_prints_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "porv.scenario/1",\n "issuer": 3}\n')
    proc = _porv("devnet", "up", "--scenario", str(bad))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert out == b""
    assert b"bad.json" in err and b"Traceback" not in err
    proc = _porv("devnet", "up", "--scenario", str(tmp_path / "missing.json"))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and out == b""


@pytest.mark.parametrize(
    ("kind", "sig"),
    [
        pytest.param("anvil", signal.SIGINT, marks=pytest.mark.anvil),
        pytest.param("hardhat", signal.SIGTERM, marks=pytest.mark.hardhat),
        ("embedded", signal.SIGINT),
    ],
)
def test_devnet_up_subprocess(kind: str, sig: signal.Signals) -> None:
    proc = _porv("devnet", "up", "--chain", kind, "--scenario", str(DEMO))
    try:
        info = _read_json(proc, timeout=90)
        assert info["status"] == "ok" and info["kind"] == kind
        chains = {c["chain_id"]: c for c in info["chains"]}
        assert set(chains) == {31337, 31338}
        for chain_id, c in chains.items():
            assert int(str(rpc_request(c["rpc"], "eth_chainId")), 16) == chain_id
            total = erc20(c["rpc"], c["token"], "totalSupply()")
            assert total == sum(int(v) for v in c["balances"].values())
            assert info["rpc"][str(chain_id)] == c["rpc"]
        pids = [c["pid"] for c in info["chains"] if c["pid"] is not None]
        assert len(pids) == (0 if kind == "embedded" else 2)
        proc.send_signal(sig)
        assert proc.wait(timeout=30) == 0
        for pid in pids:
            assert _gone(pid), f"{kind} node {pid} survived porv devnet up"
        for c in chains.values():
            with pytest.raises(Exception, match=r"failed"):
                rpc_request(c["rpc"], "eth_chainId", timeout=1)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def _porv(*args: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORV_")}
    env["NO_COLOR"] = "1"
    return subprocess.Popen(
        [sys.executable, "-m", "verifier", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _read_json(proc: subprocess.Popen[bytes], timeout: float) -> dict[str, Any]:
    assert proc.stdout is not None
    buf = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            try:
                doc = json.loads(buf)
            except ValueError:
                continue
            assert isinstance(doc, dict)
            return doc
        if proc.poll() is not None:
            break
    err = proc.stderr.read().decode() if proc.stderr and proc.poll() is not None else ""
    pytest.fail(f"porv devnet up printed no JSON (exit {proc.poll()}): {buf!r} {err}")


def _gone(pid: int) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize(
    "kind",
    [
        "embedded",
        pytest.param("anvil", marks=pytest.mark.anvil),
        pytest.param("hardhat", marks=pytest.mark.hardhat),
    ],
)
def test_genesis_time_in_the_past_keeps_the_chain_clock_behind(kind: str) -> None:
    from verifier.devnet.nodes import start_node

    lag = 3600
    node = start_node(kind, 31337, genesis_time=int(time.time()) - lag)
    try:
        for _ in range(5):  # a burst of blocks in one second stays behind the wall clock
            rpc_request(node.url, "evm_mine", [])
        head = rpc_request(node.url, "eth_getBlockByNumber", ["latest", False])
        behind = time.time() - int(head["timestamp"], 16)
        assert lag - 60 < behind < lag + 60, behind
        genesis = rpc_request(node.url, "eth_getBlockByNumber", ["0x0", False])
        assert abs(int(genesis["timestamp"], 16) - (int(time.time()) - lag)) < 60
    finally:
        node.stop()


@pytest.mark.parametrize("kind", ["embedded", pytest.param("anvil", marks=pytest.mark.anvil)])
def test_devnet_up_on_chosen_ports_dated_yesterday(kind: str) -> None:
    from verifier.devnet.node import free_port

    base = free_port()
    yesterday = int(time.time()) - 86400
    day = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(yesterday))
    proc = _porv("devnet", "up", "--chain", kind, "--port", str(base), "--genesis-time", day)
    try:
        info = _read_json(proc, timeout=90)
        urls = [c["rpc"] for c in info["chains"]]
        assert urls == [f"http://127.0.0.1:{base + i}" for i in range(len(urls))]
        for url in urls:
            head = rpc_request(url, "eth_getBlockByNumber", ["latest", False])
            assert abs(int(head["timestamp"], 16) - yesterday) < 600
        # the readiness line follows the JSON
        assert proc.stderr is not None
        line = b""
        while b"porv devnet: running" not in line:
            line = proc.stderr.readline()
            assert line, "no readiness line"
        # a second devnet on the same ports is refused before anything starts
        again = _porv("devnet", "up", "--chain", kind, "--port", str(base))
        _out, err = again.communicate(timeout=60)
        assert again.returncode == 3 and b"not free" in err and b"Traceback" not in err
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.parametrize("when", ["2999-01-01", "yesterday", "2026-13-01"])
def test_devnet_up_refuses_a_bad_or_future_genesis_time(when: str) -> None:
    proc = _porv("devnet", "up", "--genesis-time", when)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and out == b"", err
    assert b"--genesis-time" in err and b"Traceback" not in err


def test_policy_out_pins_a_custodians_safe() -> None:
    from verifier.app.devnet import devnet_policy_toml
    from verifier.model.policy import Policy

    doc = {
        **DEMO_SCENARIO,
        "chains": [{"chain_id": 31337}],
        "safes": [{"owners": ["account:1", "account:2", "account:3"], "threshold": 2}],
        "registry": {"custodians": [{"id": "c", "signers": [], "eip1271": ["safe:0"]}]},
    }
    with run_scenario("embedded", parse_scenario(doc)) as info:
        text = devnet_policy_toml(info)
        (safe,) = info.safes
    (custodian,) = Policy.from_toml_text(text, source="p").custodians
    assert [(w.chain_id, w.address) for w in custodian.eip1271] == [(31337, safe.address)]
    assert custodian.signers == () and custodian.threshold == 1
