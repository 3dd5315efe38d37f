"""``-o FILE``: the suffix chooses the format when --format is not given (issue 10).

One table (``OUTPUT_SUFFIX_FORMATS`` in cli/common.py) for every command whose --format decides
what --output holds (verify, recheck, rules check, supply); an explicit --format, or its
environment variable, wins; a suffix naming a format the command does not write is refused
(exit 2) before anything is read or written. ``verify`` and ``recheck`` end to end:
tests/attacks/test_report_formats.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import cli
from verifier.cli.common import OUTPUT_SUFFIX_FORMATS, format_of_output

CSV = str(Path(__file__).resolve().parents[3] / "fixtures" / "holdings" / "custodian-a.csv")
CHECK = ["rules", "check", CSV, "--pack", "genius", "--supply", "1000", "--currency", "USD",
         "--as-of", "2025-12-31"]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "fmt"),
    [("r.json", "json"), ("out/R.JSON", "json"), ("r.md", "markdown"), ("r.markdown", "markdown"),
     ("r.html", "html"), ("r.htm", "html"), ("r.txt", "text"), ("r", None), ("r.json.bak", None),
     (".json", None)],
)  # fmt: skip
def test_suffix_table(path: str, fmt: str | None) -> None:
    assert format_of_output(path) == fmt


def test_the_table_names_only_formats_porv_writes() -> None:
    assert set(OUTPUT_SUFFIX_FORMATS.values()) == {"json", "markdown", "html", "text", "junit"}


def test_json_suffix_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "rules.json"
    run = cli.porv([*CHECK, "-o", str(out)], in_process=True)
    assert run.code == 0, run.output
    assert json.loads(out.read_text())["status"] == "ok"


def test_txt_suffix_and_unknown_suffix_write_text(tmp_path: Path) -> None:
    for name in ("rules.txt", "rules.out"):
        out = tmp_path / name
        run = cli.porv([*CHECK, "-o", str(out)], in_process=True)
        assert run.code == 0, run.output
        assert not out.read_text().lstrip().startswith("{")


def test_explicit_format_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "rules.json"
    run = cli.porv([*CHECK, "--format", "text", "-o", str(out)], in_process=True)
    assert run.code == 0, run.output
    assert not out.read_text().lstrip().startswith("{")
    monkeypatch.setenv("PORV_RULES_CHECK_FORMAT", "text")
    out.unlink()
    run = cli.porv([*CHECK, "-o", str(out)], in_process=True)
    assert run.code == 0, run.output
    assert not out.read_text().lstrip().startswith("{")


def test_a_suffix_the_command_cannot_write_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "rules.html"
    run = cli.porv([*CHECK, "-o", str(out)], in_process=True)
    assert run.code == 2
    assert "suffix asks for html" in run.stderr and "--format" in run.stderr
    assert "Traceback" not in run.output
    assert not out.exists()
