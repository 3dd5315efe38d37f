"""Interrupt a ``porv`` process and check what it left: exit code, time, processes, temp files.

:func:`start` runs ``python -m verifier ARGS`` with its own ``TMPDIR`` and an environment
marker that every child inherits (anvil, hardhat and their children), so
:func:`survivors` finds any process porv started that is still alive, wherever it was
reparented. :func:`interrupt` sends the signal and returns how the process ended.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MARK = "PORV_TEST_PROCESS_MARK"


@dataclass
class Started:
    """A running porv process under test."""

    proc: subprocess.Popen[bytes]
    mark: str
    tmpdir: Path
    stderr: bytes = b""


@dataclass
class Ended:
    """How an interrupted porv process ended."""

    code: int
    seconds: float  # from the signal to the exit
    stdout: str
    stderr: str

    def status(self) -> dict[str, Any] | None:
        """The JSON object on stdout (the last one when several were printed), if any."""
        text = self.stdout.strip()
        start = text.rfind("\n{")
        try:
            doc = json.loads(text[start + 1 :] if start >= 0 else text)
        except ValueError:
            return None
        return doc if isinstance(doc, dict) else None


def start(args: list[str], tmpdir: Path, extra_env: dict[str, str] | None = None) -> Started:
    """Start ``python -m verifier ARGS`` with ``TMPDIR=tmpdir`` and a fresh marker."""
    tmpdir.mkdir(parents=True, exist_ok=True)
    mark = uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORV_")}
    env.update({"NO_COLOR": "1", "TMPDIR": str(tmpdir), MARK: mark, **(extra_env or {})})
    proc = subprocess.Popen(
        [sys.executable, "-m", "verifier", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    return Started(proc, mark, tmpdir)


def wait_for_stderr(run: Started, text: bytes, timeout: float = 60.0) -> None:
    """Read stderr until it contains ``text`` (porv has reached that point)."""
    assert run.proc.stderr is not None
    fd = run.proc.stderr.fileno()
    deadline = time.monotonic() + timeout
    while text not in run.stderr:
        left = deadline - time.monotonic()
        assert left > 0, f"porv never printed {text!r}: {run.stderr!r}"
        ready, _, _ = select.select([fd], [], [], min(left, 0.2))
        if ready:
            chunk = os.read(fd, 65536)
            assert chunk, f"porv ended (exit {run.proc.poll()}) before {text!r}: {run.stderr!r}"
            run.stderr += chunk


def interrupt(run: Started, sig: signal.Signals, timeout: float = 30.0) -> Ended:
    """Send ``sig`` and wait for the exit; the time counts from the signal."""
    t0 = time.monotonic()
    run.proc.send_signal(sig)
    try:
        out, err = run.proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        run.proc.kill()
        out, err = run.proc.communicate()
        raise AssertionError(f"porv ignored {sig.name} for {timeout} s: {err!r}") from None
    return Ended(
        run.proc.returncode,
        time.monotonic() - t0,
        out.decode(errors="replace"),
        (run.stderr + err).decode(errors="replace"),
    )


def survivors(mark: str) -> list[int]:
    """PIDs of living processes (not zombies) whose environment carries ``mark``."""
    found: list[int] = []
    needle = f"{MARK}={mark}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if needle in environ.split(b"\0") and stat.rsplit(")", 1)[-1].split()[0] != "Z":
            found.append(int(entry.name))
    return found


def assert_clean_exit(run: Started, ended: Ended, sig: signal.Signals, *, within: float) -> None:
    """Exit 128 + signal within ``within`` seconds, no traceback, no survivor, no temp file."""
    assert ended.code == 128 + sig, f"exit {ended.code}: {ended.stderr}"
    assert ended.seconds < within, f"took {ended.seconds:.2f} s after {sig.name}"
    assert "Traceback" not in ended.stderr, ended.stderr
    assert f"interrupted by {sig.name}" in ended.stderr, ended.stderr
    deadline = time.monotonic() + 2.0  # a SIGKILLed group may take a moment to be reaped
    while (alive := survivors(run.mark)) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in alive:
        os.kill(pid, signal.SIGKILL)  # do not leak them into the rest of the suite
    assert alive == [], f"processes left running after {sig.name}: {alive}"
    left = sorted(p.name for p in run.tmpdir.iterdir())
    assert left == [], f"temporary files left after {sig.name}: {left}"
