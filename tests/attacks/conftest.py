"""Shared fixtures of the attack tests: one demo devnet, one valid demo scenario, fresh workdirs.

* ``demo_net``: the demo's two embedded chains (ids 31337 and 31338, the token deployed and
  minted on both), started once for the whole folder. Modules that change a chain (mints)
  start their own instead.
* ``demo_files``: the demo's valid files (trees, signed attestations, bundle, policy) written
  once against ``demo_net``; every attack copies and changes them.
* ``work``: a fresh folder per test with the demo's policy, an empty state folder and the
  valid bundle document to craft from.

Proofs of possession in the policy are checked with the pure-Python BLS reference backend
(about 0.3 s per key, five keys per policy load). For the runs inside the test process
(``run_verify`` with a chosen clock, or ``ATTACKS_IN_PROCESS=1``) the verdict per
(pubkey, proof) is remembered, so each distinct proof is still checked, once; the CLI runs in
a separate process check every proof afresh.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.attacks.crafting import Workdir, new_workdir
from tests.support.demo import DemoNet, demo_chains
from verifier.app.demo import ChainDeployment, DemoFiles, write_demo_files
from verifier.signatures import bls

_pop_verify_once = functools.lru_cache(maxsize=64)(bls.pop_verify)


@pytest.fixture(scope="module", autouse=True)
def _pop_checked_once() -> Iterator[None]:
    """Remember proof-of-possession verdicts for this module's in-process runs."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bls, "pop_verify", _pop_verify_once)
        yield


@pytest.fixture(scope="session")
def demo_net() -> Iterator[DemoNet]:
    """The demo's two embedded chains, for the whole attack folder (no test mints on them)."""
    with demo_chains("embedded") as net:
        yield net


@pytest.fixture(scope="session")
def demo_files(demo_net: DemoNet, tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    """The demo's valid scenario, written once."""
    _, deployments, as_of = demo_net
    return write_demo_files(tmp_path_factory.mktemp("demo"), deployments, as_of=as_of)


@pytest.fixture
def work(demo_files: DemoFiles, tmp_path: Path) -> Workdir:
    """A fresh workdir: the demo's policy, no state yet, the valid bundle to craft from."""
    return new_workdir(tmp_path / "work", demo_files)


@pytest.fixture
def deployments(demo_net: DemoNet) -> list[ChainDeployment]:
    """The demo's deployments (chain id, RPC URL, token, treasury) on ``demo_net``."""
    return demo_net[1]
