"""One time rule for every option that takes a time (model.timeutil.parse_time_option).

Each option is run through the real command line with inputs that do not exist: a time the rule
refuses must stop the command at that option (exit 2, the option named); a time it accepts must
get past the option (the command then fails on the missing file, not on the time).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import porv

ACCEPTED = [
    "2026-01-31",
    "2026-01-31T00:00:00Z",
    "2026-01-31t08:00:00z",
    "2026-01-31T08:00:00+08:00",
    "2026-01-30T19:00:00-05:00",
    "2026-01-31T00:00:00.000Z",
    "2026-01-31T00:00:00." + "0" * 5000 + "Z",  # longer than int() reads
]
REFUSED = [
    "2026-01-31T00:00:00",
    "2026-01-31T00:00:00.5Z",
    "2026-01-31 00:00:00Z",
    "2026-13-01",
    "2026-02-29",
    "1969-12-31T23:59:59Z",
    "yesterday",
    "1769817600",
    "2026-01-31T24:00:00Z",
    "2026-01-31T00:00:00+25:00",
    "",
]


def _commands(tmp: Path, text: str) -> dict[str, list[str]]:
    missing = str(tmp / "missing")
    return {
        "attest sign --as-of": [
            "attest", "sign", "--tree", missing, "--issuer", "I", "--sequence", "1",
            "--token", "T", "--custodian", "c",
            "--as-of", text, "--valid-until", "2100-01-01", "--key-file", missing,
        ],
        "attest sign --valid-until": [
            "attest", "sign", "--tree", missing, "--issuer", "I", "--sequence", "1",
            "--token", "T", "--custodian", "c",
            "--as-of", "1970-01-01", "--valid-until", text, "--key-file", missing,
        ],
        "supply --at": ["supply", "--policy", missing, "--at", text],
        "rules check --as-of": [
            "rules", "check", missing, "--supply", "1", "--currency", "USD", "--pack", "genius",
            "--as-of", text,
        ],
    }  # fmt: skip


OPTIONS = ["attest sign --as-of", "attest sign --valid-until", "supply --at", "rules check --as-of"]


def _run(tmp: Path, option: str, text: str) -> tuple[int, str]:
    args = _commands(tmp, text)[option]
    result = porv(args, in_process=True)
    return result.code, result.output


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("text", REFUSED)
def test_every_time_option_refuses_the_same_strings(tmp_path: Path, option: str, text: str) -> None:
    code, out = _run(tmp_path, option, text)
    assert code == 2, out
    assert option.split()[-1] in out, out
    assert "Traceback" not in out


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("text", ACCEPTED)
def test_every_time_option_accepts_the_same_strings(tmp_path: Path, option: str, text: str) -> None:
    code, out = _run(tmp_path, option, text)
    assert code == 2, out  # the missing file, after the time was taken
    assert option.split()[-1] not in out, out
    assert "missing" in out, out
