"""SIGINT / SIGTERM at random moments of ``porv demo`` on each chain kind.

Each round starts the demo, waits until porv has begun (its first progress line), sleeps a
random time (seeded: the same moments on every run) that lands while nodes start, deploy,
sign or verify, then signals it. porv must exit 130 (SIGINT) or 143 (SIGTERM) within about a
second, with no traceback, a JSON status under ``--format json``, no node process left
running (a node still starting included) and nothing left in its ``TMPDIR``.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.interrupting import assert_clean_exit, interrupt, start, wait_for_stderr

#: Rounds per chain kind, and the latest moment (seconds after porv's first line) to signal:
#: a little under how long the demo runs on that kind.
ROUNDS = 4
LATEST = {"embedded": 2.0, "anvil": 0.6, "hardhat": 2.5}
#: Exit within this long after the signal (1 s contract, plus slack for a loaded runner).
WITHIN_S = 1.5


@pytest.mark.parametrize(
    "kind",
    [
        "embedded",
        pytest.param("anvil", marks=pytest.mark.anvil),
        pytest.param("hardhat", marks=pytest.mark.hardhat),
    ],
)
def test_demo_interrupted_at_random_moments(kind: str, tmp_path: Path) -> None:
    rng = random.Random(f"porv-interrupt-{kind}")
    interrupted = 0
    for i in range(ROUNDS):
        sig = signal.SIGINT if i % 2 == 0 else signal.SIGTERM
        delay = rng.uniform(0.0, LATEST[kind])
        run = start(["demo", "--chain", kind, "--format", "json"], tmp_path / f"tmp{i}")
        try:
            wait_for_stderr(run, b"porv demo: starting")
            time.sleep(delay)
            ended = interrupt(run, sig)
        finally:
            if run.proc.poll() is None:
                run.proc.kill()
                run.proc.communicate()
        status = ended.status()
        assert status is not None, ended.stdout
        if ended.code == 0 and status["status"] == "verified":
            continue  # a fast runner finished the demo before the signal: nothing to stop
        interrupted += 1
        assert_clean_exit(run, ended, sig, within=WITHIN_S)
        assert status["status"] == "error" and status["error"]["kind"] == "interrupted"
    assert interrupted >= ROUNDS // 2, "too few rounds landed before the demo finished"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_while_waiting_for_a_node_to_answer(sig: signal.Signals, tmp_path: Path) -> None:
    # a node that starts (with a child of its own) and never answers: porv is in its wait loop
    fake = tmp_path / "silent-anvil"
    fake.write_text("#!/bin/sh\nsleep 600 &\nwait\n")
    fake.chmod(0o755)
    run = start(["demo", "--chain", "anvil"], tmp_path / "tmp", {"PORV_ANVIL": str(fake)})
    try:
        wait_for_stderr(run, b"porv demo: starting")
        time.sleep(0.8)
        ended = interrupt(run, sig)
    finally:
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.communicate()
    assert_clean_exit(run, ended, sig, within=WITHIN_S)


def test_interrupt_swallowed_by_a_callback_still_stops_cleanly(tmp_path: Path) -> None:
    # A signal can land while Python runs code whose exceptions it cannot propagate (a weakref
    # callback, such as the import system's module-lock cleanup, or a __del__): the Interrupted
    # raised there is "ignored" and Python would print its traceback. porv must still stop with
    # 143, say so in one line, and print no traceback.
    script = (
        "import os, signal, time, weakref\n"
        "from verifier.local import interrupts\n"
        "interrupts.install()\n"
        "class Thing: pass\n"
        "thing = Thing()\n"
        "def callback(_):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    for _ in range(100000): pass\n"
        "ref = weakref.ref(thing, callback)\n"
        "del thing\n"
        "time.sleep(5)\n"
        "print('still running')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 143, proc.stderr
    assert "still running" not in proc.stdout
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr, proc.stderr
    assert proc.stderr.strip() == "porv: interrupted by SIGTERM; stopped"
