"""A verify or recheck stuck on an endpoint that accepts and never answers: Ctrl-C, SIGTERM,
the deadline.

It used to take 10–30 s to stop (worker threads blocked in reads were waited for). Now porv
exits 130 / 143 within about a second of the signal, at whatever moment it lands, with a JSON
status, no traceback, and the rollback state untouched. A recheck against it ends at its
``--deadline`` with exit 3, kind ``deadline``.
"""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

from tests.attacks.crafting import Workdir, chain_url
from tests.support.faultproxy import Fault, FaultProxy
from tests.support.interrupting import assert_clean_exit, interrupt, start
from verifier.app.demo import ChainDeployment

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


def test_recheck_against_a_stalled_endpoint_stopped_by_the_deadline(
    work: Workdir, deployments: list[ChainDeployment], tmp_path: Path
) -> None:
    from tests.attacks.crafting import porv, verify_api
    from verifier.model.timeutil import parse_rfc3339_utc

    bundle = work.write(work.bundle_doc())
    now = parse_rfc3339_utc(work.pristine["as_of"]) + 60
    result = tmp_path / "result.json"
    result.write_text(verify_api(bundle, work, now=now, state=False).stdout, encoding="utf-8")
    with FaultProxy(chain_url(deployments, 31337), Fault.STALL) as proxy:
        t0 = time.monotonic()
        argv = ["recheck", str(result), "--rpc", f"31337={proxy.url}"]
        run = porv([*argv, "--deadline", "4", "--format", "json"])
        took = time.monotonic() - t0

    assert run.code == 3, run.stderr
    assert "Traceback" not in run.stderr
    assert run.json["status"] == "error"
    assert run.json["error"]["kind"] == "deadline"
    assert f"endpoint {proxy.url}" in run.json["error"]["message"]
    assert took < 4 + 5
