"""Peak memory of ``porv verify`` is at most 4 × the bundle's size plus a constant.

DESIGN §1 (bounded work) and issue 8's build item. ``benchmarks/memory_peak.py`` generates
large bundles with porv's own tree builder and signing, runs the real CLI in a fresh child per
bundle (supply from a fixed report, the one part that needs a chain) and reads each child's
peak resident set (VmHWM). The constant is the same child's peak on a tiny bundle, measured in
the same run: the interpreter, the imports, the rule packs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: DESIGN §1: peak memory ≤ BUDGET × bundle size + constant
BUDGET = 4
#: large enough that the bundle, not the constant, dominates; small enough for CI
BUNDLE_MB = 30


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_peak_memory_of_verify_is_at_most_four_times_the_bundle() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COV_", "COVERAGE_"))}
    args = ["--json", "--mb", str(BUNDLE_MB), "--kind", "realistic", "hostile"]
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "memory_peak.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    constant = report["constant"]
    kinds = {run["kind"]: run for run in report["runs"]}
    assert set(kinds) == {"realistic", "hostile"}
    # the realistic reserve verifies; the hostile one (every holding ineligible, listed by
    # every pack) fails on the rules: both ran every step
    assert kinds["realistic"]["exit_code"] == 0
    assert kinds["hostile"]["exit_code"] == 1
    for run in report["runs"]:
        size = run["bundle_bytes"]
        assert size >= BUNDLE_MB * 1e6 * 0.8, run
        assert run["peak_rss"] <= BUDGET * size + constant, (
            f"{run['kind']}: peak {run['peak_rss'] / 1e6:.0f} MB > {BUDGET} × "
            f"{size / 1e6:.0f} MB + {constant / 1e6:.0f} MB"
        )
