"""Ctrl-C (or SIGTERM) during a verify stuck on an endpoint that accepts and never answers.

It used to take 10–30 s to stop (worker threads blocked in reads were waited for). Now porv
exits 130 / 143 within about a second of the signal, at whatever moment it lands, with a JSON
status, no traceback, and the rollback state untouched.
"""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

from tests.attacks.crafting import Workdir, chain_url
from tests.support.faultproxy import Fault, FaultProxy
from tests.support.interrupting import assert_clean_exit, interrupt, start
from verifier.demo import ChainDeployment

ROUNDS = 4
#: Exit within this long after the signal (1 s contract, plus slack for a loaded runner).
WITHIN_S = 1.5


def test_stalled_verify_interrupted_at_random_moments(
    work: Workdir, deployments: list[ChainDeployment], tmp_path: Path
) -> None:
    bundle = work.write(work.bundle_doc())
    before = work.snapshot()
    rng = random.Random("porv-interrupt-stalled-verify")
    with FaultProxy(chain_url(deployments, 31337), Fault.STALL) as proxy:
        for i in range(ROUNDS):
            sig = signal.SIGINT if i % 2 == 0 else signal.SIGTERM
            args = ["verify", str(bundle), "--policy", str(work.policy), "--format", "json"]
            args += ["--state", str(work.state), "--rpc", f"31337={proxy.url}"]
            seen = proxy.requests
            run = start(args, tmp_path / f"tmp{i}")
            try:
                deadline = time.monotonic() + 60
                while proxy.requests == seen:  # porv is now blocked on the endpoint
                    assert run.proc.poll() is None, "porv ended before reaching the endpoint"
                    assert time.monotonic() < deadline, "porv never reached the endpoint"
                    time.sleep(0.05)
                time.sleep(rng.uniform(0.0, 1.5))
                ended = interrupt(run, sig)
            finally:
                if run.proc.poll() is None:
                    run.proc.kill()
                    run.proc.communicate()
            assert_clean_exit(run, ended, sig, within=WITHIN_S)
            status = ended.status()
            assert status is not None and status["status"] == "error", ended.stdout
            assert status["error"]["kind"] == "interrupted"
            assert work.snapshot() == before, "the rollback state changed"
