"""The command line's manners: help, version, exit code 2 for usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import Run, porv


def run(*args: str) -> Run:
    return porv(args)


def test_help_lists_verbs() -> None:
    proc = run("--help")
    assert proc.code == 0
    assert "Exit codes" in proc.stdout


def test_unknown_verb_is_usage_error() -> None:
    proc = run("no-such-verb")
    assert proc.code == 2
    assert "Traceback" not in proc.stderr


def test_every_option_reads_a_porv_environment_variable(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    proc = porv(["schema", "policy"], env={"PORV_SCHEMA_OUTPUT": str(out)})
    assert proc.code == 0
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
        assert proc.code == 2, proc.stderr
        assert "Traceback" not in proc.stderr
        doc = json.loads(proc.stdout)
        assert doc["status"] == "error"
        assert doc["error"]["kind"] == "input_error"


@pytest.mark.parametrize(
    "args",
    [
        ("verify", "--format", "json"),  # a missing argument
        ("verify", "--format", "json", "--bogus", "x.json"),  # an unknown option
        ("tree", "root", "--format=json"),
    ],
)
def test_usage_errors_under_json_print_one_status_with_the_exit_code(args: tuple[str, ...]) -> None:
    res = run(*args)
    assert res.code == 2
    doc = json.loads(res.stdout)
    assert doc["status"] == "error"
    assert doc["error"]["exit_code"] == 2 and doc["error"]["kind"] == "input_error"
    assert doc["error"]["message"]
