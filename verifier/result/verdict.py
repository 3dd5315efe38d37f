"""The one verdict rule: a run's status from its checks' outcomes, and the exit code of a status.

Any check in ``error`` makes the run ``error`` (exit 3: the claim could not be decided); else
any ``fail`` makes it ``failed`` (exit 1); else it is ``verified`` (exit 0). Skipped checks
decide nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

VERIFIED = "verified"
FAILED = "failed"
ERROR = "error"

_EXIT_CODES = {VERIFIED: 0, FAILED: 1}


def verdict(outcomes: Iterable[str]) -> str:
    """The status of a run whose checks had these outcomes (pass, fail, error, skipped)."""
    seen = set(outcomes)
    if ERROR in seen:
        return ERROR
    if "fail" in seen:
        return FAILED
    return VERIFIED


def exit_code(status: str) -> int:
    """The exit code of a result's status: 0 verified, 1 failed, 3 anything else."""
    return _EXIT_CODES.get(status, 3)


def status_of_exit(code: int) -> str:
    """The status a JSON consumer sees for an error with this exit code: 1 failed, else error."""
    return FAILED if code == 1 else ERROR


def summary_line(result: Mapping[str, Any]) -> str:
    """One line for stderr: status and the failed checks."""
    bad = [
        f"{c['id']} ({c.get('kind', c['outcome'])})"
        for c in result.get("checks", [])
        if c["outcome"] in ("fail", "error")
    ]
    tail = f": {'; '.join(bad)}" if bad else ""
    return f"porv: {result.get('status')}{tail}"
