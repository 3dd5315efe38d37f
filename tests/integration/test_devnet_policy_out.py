"""``porv devnet up --policy-out FILE``: a complete policy for the running scenario.

The file loads with porv's policy loader and pins what the devnet deployed (deployments and
excluded addresses, the scenario's custodians and signers, registry and feed, endpoints,
``latest`` finality); a bundle built for it from the custodians' test-only keys verifies
against the devnet. Bad targets and scenarios without custodians are refused before any chain
starts.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess as sp
import sys
import time
from pathlib import Path

import pytest

from tests.support.cli import porv
from verifier.devnet.node import rpc_request
from verifier.local.loaders import load_policy
from verifier.model.timeutil import format_rfc3339

ROOT = Path(__file__).resolve().parents[2]
KEYS = ROOT / "fixtures" / "keys"
#: the demo scenario's custodians and their signers (fixtures/keys/secp256k1-0 and -1)
SIGNERS = {
    "custodian-a": "0xB25c1d4453438c0D7E751AD5b03374E0C64b865D",
    "custodian-b": "0xfB6C4A87f40dB514558194b6e432074C9FfD3D28",
}


def _devnet(*args: str, cwd: Path) -> sp.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORV_")}
    env["NO_COLOR"] = "1"
    return sp.Popen(
        [sys.executable, "-m", "verifier", "devnet", "up", *args],
        cwd=cwd,
        env=env,
        stdout=sp.DEVNULL,
        stderr=sp.PIPE,
    )


def _wait_ready(proc: sp.Popen[bytes], timeout: float = 90) -> str:
    """stderr up to the readiness line."""
    assert proc.stderr is not None
    seen = b""
    deadline = time.monotonic() + timeout
    while b"porv devnet: running" not in seen:
        assert time.monotonic() < deadline, seen
        ready, _, _ = select.select([proc.stderr], [], [], 0.5)
        if ready:
            chunk = os.read(proc.stderr.fileno(), 65536)
            assert chunk, f"devnet up exited {proc.wait()}: {seen.decode()}"
            seen += chunk
    return seen.decode()


def _stop(proc: sp.Popen[bytes]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except sp.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stderr is not None:
        proc.stderr.close()
    return proc.returncode


def test_policy_out_pins_the_devnet_and_a_bundle_for_it_verifies(tmp_path: Path) -> None:
    from verifier.app.demo import DEMO_SCALE, holdings_csv
    from verifier.devnet.deploy import mine_after

    proc = _devnet("--policy-out", "policy.toml", "-o", "devnet.json", cwd=tmp_path)
    try:
        _wait_ready(proc)
        # written before the readiness line, atomically (no temporary file left beside it)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["devnet.json", "policy.toml"]
        info = json.loads((tmp_path / "devnet.json").read_text())
        assert info["policy"] == str(tmp_path / "policy.toml")
        # the earliest as_of that sees every deployment and mint
        assert info["deployed_at"] == max(c["block_time"] for c in info["chains"])
        policy = load_policy(tmp_path / "policy.toml")
        assert (policy.issuer, policy.token, policy.currency, policy.decimals) == (
            "Example Issuer Ltd",
            "pUSD",
            "USD",
            6,
        )
        assert [d.to_json() for d in policy.deployments] == info["deployments"]
        assert {c.id: c.signers for c in policy.custodians} == {k: (v,) for k, v in SIGNERS.items()}
        assert all(c.threshold == 1 for c in policy.custodians)
        first = info["chains"][0]
        assert policy.registry is not None and policy.feed is not None
        assert (policy.registry.chain_id, policy.registry.address) == (31337, first["registry"])
        assert policy.feed == policy.registry
        assert {str(k): list(v) for k, v in policy.rpc.items()} == {
            k: [v] for k, v in info["rpc"].items()
        }
        assert dict(policy.finality) == {31337: "latest", 31338: "latest"}
        assert "local development chains" in (tmp_path / "policy.toml").read_text()

        # a bundle for it: both custodians' holdings, signed with their test-only keys, dated
        # after every deployment, with the block after as_of mined on each chain
        urls = list(info["rpc"].values())
        as_of = max(
            int(rpc_request(u, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
            for u in urls
        )
        assert format_rfc3339(as_of) == info["deployed_at"]
        for url in urls:
            mine_after(url, as_of)
        attested = []
        for short, key in (("a", 0), ("b", 1)):
            cid = f"custodian-{short}"
            (tmp_path / f"{cid}.csv").write_text(holdings_csv(short, as_of, DEMO_SCALE))
            run = porv(["tree", "build", f"{cid}.csv", "-o", f"{cid}.tree.json"], cwd=tmp_path)
            assert run.code == 0, run.output
            run = porv(
                [
                    "attest", "sign", "--tree", f"{cid}.tree.json",
                    "--issuer", "Example Issuer Ltd", "--token", "pUSD", "--custodian", cid,
                    "--as-of", format_rfc3339(as_of), "--valid-until", "2099-01-01",
                    "--sequence", "1", "--key-file", str(KEYS / f"secp256k1-{key}.key"),
                    "-o", f"{cid}.att.json",
                ],
                cwd=tmp_path,
            )  # fmt: skip
            assert run.code == 0, run.output
            attested += ["--custodian", f"{cid}.tree.json", f"{cid}.att.json"]
        run = porv(
            ["bundle", "assemble", "--policy", "policy.toml", *attested, "-o", "bundle.json"],
            cwd=tmp_path,
        )
        assert run.code == 0, run.output
        run = porv(
            ["verify", "bundle.json", "--policy", "policy.toml", "--format", "json"],
            cwd=tmp_path,
        )
        assert run.code == 0, run.output
        result = run.json
        assert result["status"] == "verified"
        # the feed is reported beside the result: the registry has no round yet
        assert result["feed"]["address"] == first["registry"] and "error" in result["feed"]
    finally:
        assert _stop(proc) == 0


@pytest.mark.parametrize("target", ["link", "folder", "fifo"])
def test_policy_out_refuses_a_non_regular_file_before_starting(tmp_path: Path, target: str) -> None:
    path = tmp_path / "policy.toml"
    if target == "link":
        (tmp_path / "elsewhere.toml").write_text("kept\n")
        path.symlink_to(tmp_path / "elsewhere.toml")
    elif target == "folder":
        path.mkdir()
    else:
        os.mkfifo(path)
    run = porv(["devnet", "up", "--policy-out", str(path)], cwd=tmp_path)
    assert run.code == 2, run.output
    assert "--policy-out" in run.stderr and "Traceback" not in run.output
    assert "starting" not in run.stderr  # refused before any chain starts
    if target == "link":
        assert (tmp_path / "elsewhere.toml").read_text() == "kept\n"


@pytest.mark.parametrize("other", ["-o", "--scenario"])
def test_policy_out_is_a_file_of_its_own(tmp_path: Path, other: str) -> None:
    scenario = tmp_path / "s.json"
    scenario.write_text((ROOT / "fixtures" / "scenarios" / "demo.json").read_text())
    run = porv(["devnet", "up", other, "s.json", "--policy-out", "./s.json"], cwd=tmp_path)
    assert run.code == 2 and f"is also the {'--output' if other == '-o' else other}" in run.stderr
    assert "starting" not in run.stderr and "Traceback" not in run.output
    assert scenario.read_text() == (ROOT / "fixtures" / "scenarios" / "demo.json").read_text()


def test_policy_out_needs_custodians_in_the_scenario(tmp_path: Path) -> None:
    scenario = ROOT / "fixtures" / "scenarios" / "walkthrough.json"  # custodians: []
    run = porv(
        ["devnet", "up", "--scenario", str(scenario), "--policy-out", "p.toml"], cwd=tmp_path
    )
    assert run.code == 2, run.output
    assert "no custodian" in run.stderr and "registry.custodians" in run.stderr
    assert "starting" not in run.stderr and not (tmp_path / "p.toml").exists()


def test_scenario_policy_fields_and_threshold_reach_the_policy(tmp_path: Path) -> None:
    """The scenario's ``policy`` object and custodian thresholds are written; values the
    policy format refuses stop the run with exit 2, naming the key, and nothing is written."""
    doc = json.loads((ROOT / "fixtures" / "scenarios" / "demo.json").read_text())
    doc["chains"] = doc["chains"][:1]
    doc["registry"]["custodians"][0]["signers"].append("account:3")
    doc["registry"]["custodians"][0]["threshold"] = 2
    doc["policy"] = {"jurisdictions": ["genius"], "max_age": "7d", "min_coverage": "1.02"}
    (tmp_path / "s.json").write_text(json.dumps(doc))
    proc = _devnet("--scenario", "s.json", "--policy-out", "p.toml", cwd=tmp_path)
    try:
        _wait_ready(proc)
        policy = load_policy(tmp_path / "p.toml")
    finally:
        assert _stop(proc) == 0
    assert policy.jurisdictions == ("genius",) and policy.max_age == 7 * 86400
    assert str(policy.min_coverage) == "1.02"
    a = policy.custodians[0]
    # account:3 is the third dev account of the embedded chain, checksummed
    assert a.threshold == 2 and len(a.signers) == 2 and a.signers[1].startswith("0x")
    assert policy.registry is not None and policy.feed == policy.registry

    doc["policy"]["jurisdictions"] = ["atlantis"]
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    run = porv(
        ["devnet", "up", "--scenario", "bad.json", "--policy-out", "q.toml"],
        cwd=tmp_path,
        timeout=120,
    )
    assert run.code == 2, run.output
    assert "jurisdictions[0]" in run.stderr and "atlantis" in run.stderr
    assert "Traceback" not in run.output and not (tmp_path / "q.toml").exists()

    doc["policy"]["jurisdictions"] = []
    doc["registry"]["custodians"][0]["threshold"] = 3
    (tmp_path / "bad.json").write_text(json.dumps(doc))
    run = porv(["devnet", "up", "--scenario", "bad.json", "--policy-out", "q.toml"], cwd=tmp_path)
    assert run.code == 2 and "registry.custodians[0].threshold" in run.stderr, run.output


@pytest.mark.hardhat
def test_hardhat_from_the_users_project_with_a_policy(tmp_path: Path) -> None:
    """A project outside porv's checkout with its own `npm install hardhat node@22` (here a
    link to the same install): Hardhat runs from porv's shipped config in a temporary project
    that is gone once the node stops."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "node_modules").symlink_to(ROOT / "node_modules")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    out = ("--policy-out", "policy.toml", "-o", "devnet.json")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORV_")}
    env.update(NO_COLOR="1", TMPDIR=str(scratch), PYTHONPATH=str(ROOT))
    proc = sp.Popen(
        [sys.executable, "-m", "verifier", "devnet", "up", "--chain", "hardhat", *out],
        cwd=project,
        env=env,
        stdout=sp.DEVNULL,
        stderr=sp.PIPE,
    )
    try:
        _wait_ready(proc)
        work = list(scratch.iterdir())  # each node's temporary Hardhat project
        assert len(work) == 2
        for folder in work:
            link = folder / "project" / "node_modules"
            assert link.resolve() == (ROOT / "node_modules").resolve()
        policy = load_policy(project / "policy.toml")
        info = json.loads((project / "devnet.json").read_text())
        assert info["kind"] == "hardhat"
        assert [d.to_json() for d in policy.deployments] == info["deployments"]
    finally:
        assert _stop(proc) == 0
    assert list(scratch.iterdir()) == []
