"""The command line's manners: help, version, exit code 2 for usage errors."""

from __future__ import annotations

import subprocess
import sys


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "verifier", *args], capture_output=True, text=True, check=False
    )


def test_help_lists_verbs() -> None:
    proc = run("--help")
    assert proc.returncode == 0
    assert "Exit codes" in proc.stdout


def test_unknown_verb_is_usage_error() -> None:
    proc = run("no-such-verb")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
