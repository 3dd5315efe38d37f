"""The demo on one chain kind with a verified, operator-signed result to attest on EAS.

Shared by tests/integration/test_eas.py and tests/attacks/test_eas.py: the demo's chains (EAS
on 31337, from the demo scenario), its files, a result verified and signed with the demo
operator's key, that key as a key file, and the operator funded for gas.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import cli
from verifier.app.demo import ChainDeployment, demo_secret, start_demo_chains, write_demo_files
from verifier.app.verify import run_verify
from verifier.devnet.deploy import accounts
from verifier.devnet.node import rpc_request
from verifier.devnet.scenarios import DevnetInfo
from verifier.model.jsontext import canonical_bytes
from verifier.signatures import secp256k1

OPERATOR_KEY = demo_secret("operator", "secp256k1")
OPERATOR = secp256k1.address_of(OPERATOR_KEY)


@dataclass
class EasWorld:
    """A running demo devnet with EAS, and the files to publish."""

    kind: str
    net: DevnetInfo
    deployments: list[ChainDeployment]
    as_of: int
    url: str
    eas: str
    schema_registry: str
    root: Path
    result: Path
    key_file: Path

    @property
    def eas_opt(self) -> str:
        """``--eas`` for the demo's EAS."""
        return f"31337:{self.eas}"

    def verified(self, name: str, *, scale: int) -> Path:
        """Another result of the demo's deployments, holdings ``scale`` times the base."""
        return make_result(self.root / name, self.deployments, self.as_of, scale=scale)


def write_key(path: Path, key: bytes) -> Path:
    """A key file (mode 0600) holding ``key``."""
    path.write_text("0x" + key.hex() + "\n")
    path.chmod(0o600)
    return path


def fund(url: str, to: str) -> None:
    """Send 10 ether from dev account 0 to ``to``."""
    tx = {"from": accounts(url)[0], "to": to, "value": hex(10**19), "gas": hex(21000)}
    rpc_request(url, "eth_sendTransaction", [tx])


def make_result(
    folder: Path, deployments: list[ChainDeployment], as_of: int, *, scale: int = 25
) -> Path:
    """Write the demo's files into ``folder``, verify them (signed by the operator) and return
    the result's path (its status is whatever verification said)."""
    files = write_demo_files(folder, deployments, as_of=as_of, scale=scale)
    outcome = run_verify(files.bundle, files.policy, now=int(time.time()), sign_key=OPERATOR_KEY)
    path = folder / "result.json"
    path.write_text(json.dumps(outcome.result, indent=1) + "\n")
    return path


@contextmanager
def eas_world(kind: str, root: Path) -> Iterator[EasWorld]:
    """The demo's chains on ``kind`` with a verified result; stopped on exit."""
    net, deps, as_of = start_demo_chains(kind)
    try:
        chain = net.chain(31337)
        assert chain.eas is not None and chain.schema_registry is not None
        result = make_result(root / "base", deps, as_of)
        fund(chain.node.url, OPERATOR)
        yield EasWorld(
            kind,
            net,
            deps,
            as_of,
            chain.node.url,
            chain.eas,
            chain.schema_registry,
            root,
            result,
            write_key(root / "operator.key", OPERATOR_KEY),
        )
    finally:
        net.stop()


def porv(*args: str) -> tuple[int, str, str]:
    """``porv ARGS`` in this process; never a traceback."""
    run = cli.porv(args, in_process=True)
    assert "Traceback" not in run.stderr, run.stderr
    return run.code, run.stdout, run.stderr


def publish(world: EasWorld, result: Path | None = None, *extra: str) -> tuple[int, Any, str]:
    """``porv publish RESULT --eas ... --format json``: exit code, JSON answer, stderr."""
    code, out, err = porv(
        "publish",
        str(result or world.result),
        "--eas",
        world.eas_opt,
        "--rpc",
        world.url,
        "--key-file",
        str(world.key_file),
        "--format",
        "json",
        *extra,
    )
    return code, json.loads(out) if out.strip() else None, err


def recheck(
    world: EasWorld, uid: str, *extra: str, result: Path | None = None
) -> tuple[int, Any, str]:
    """``porv recheck RESULT --eas ... --uid UID --format json``."""
    code, out, err = porv(
        "recheck",
        str(result or world.result),
        "--eas",
        world.eas_opt,
        "--uid",
        uid,
        "--format",
        "json",
        *extra,
    )
    return code, json.loads(out) if out.strip() else None, err


def same(a: Any, b: Any) -> bool:
    """Equal as canonical JSON."""
    return canonical_bytes(a) == canonical_bytes(b)
