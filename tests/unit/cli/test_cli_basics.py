"""The command line's manners: help, version, exit code 2 for usage errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


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


def test_every_option_reads_a_porv_environment_variable(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    env = {**os.environ, "PORV_SCHEMA_OUTPUT": str(out)}
    proc = subprocess.run(
        [sys.executable, "-m", "verifier", "schema", "policy"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert proc.returncode == 0
    assert proc.stdout == ""
    assert '"porv.policy/1"' in out.read_text()
    help_text = run("verify", "--help").stdout
    assert "PORV_VERIFY_POLICY" in help_text and "PORV_VERIFY_FORMAT" in help_text


def test_usage_error_under_format_json_prints_a_json_status(tmp_path: Path) -> None:
    """``--format json`` always prints a JSON status, also for an option click refuses."""
    for argv in (
        ("verify", str(tmp_path / "b.json"), "--format", "json", "--deadline", "abc"),
        ("recheck", str(tmp_path / "r.json"), "--format=json", "--no-such-option"),
    ):
        proc = run(*argv)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
        doc = json.loads(proc.stdout)
        assert doc["status"] == "error"
        assert doc["error"]["kind"] == "input_error"
