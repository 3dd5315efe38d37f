"""Start-up time: ``porv --help`` and ``porv <verb> --help`` against a bare ``python -c pass``.

Every figure is a whole process, as a user starts it: the ``porv`` console script of the
environment (next to this Python), and with ``--module`` also ``python -m verifier``. Runs are
interleaved (one of each command per round) so a busy machine slows every command alike; each
figure is the median of the rounds. Bytecode is cached as in an installed porv (pip compiles
it): the runs get a fresh ``PYTHONPYCACHEPREFIX`` (the floor's standard library too) and
``PYTHONDONTWRITEBYTECODE`` is dropped, so the warm-up run compiles and the timed runs do not.

The goal (issue 13): every ``--help`` at most 4x ``python -c pass``. ``porv --version`` is
printed too, without a goal (it imports the signature backends to name them), and so is
``python -c 'import click'``, the part of every ``--help`` that porv cannot remove.

Usage: ``.venv/bin/python benchmarks/startup.py [--runs 15] [--module] [--json]``.
Exit 1 when a ``--help`` is over 4x the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL = 4.0

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def porv_script() -> list[str]:
    """The ``porv`` console script next to this interpreter (else the one on PATH)."""
    here = Path(sys.executable).parent / ("porv.exe" if os.name == "nt" else "porv")
    found = str(here) if here.exists() else shutil.which("porv")
    if found is None:
        raise SystemExit("no porv console script next to this Python or on PATH; pip install -e .")
    return [found]


def command_lines(module: bool) -> dict[str, list[str]]:
    """Label -> argv: the floor, then ``--help`` of porv, of every verb and sub-command."""
    import click

    from verifier.cli import VERBS, LazyGroup

    lines: dict[str, list[str]] = {
        "python -c pass": [sys.executable, "-c", "pass"],
        # what no --help can avoid: the command-line library itself (no goal)
        "python -c 'import click'": [sys.executable, "-c", "import click"],
    }
    runners = {"porv": porv_script()}
    if module:
        runners["python -m verifier"] = [sys.executable, "-m", "verifier"]
    for label, argv in runners.items():
        lines[f"{label} --help"] = [*argv, "--help"]
    porv = runners["porv"]
    for verb in sorted(VERBS):
        command = LazyGroup._load(verb)
        lines[f"porv {verb} --help"] = [*porv, verb, "--help"]
        if isinstance(command, click.Group):
            for sub in sorted(command.commands):
                lines[f"porv {verb} {sub} --help"] = [*porv, verb, sub, "--help"]
    lines["porv --version"] = [*porv, "--version"]
    return lines


def run_once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False, env=env
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.decode()}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15, help="rounds (median of these)")
    parser.add_argument(
        "--module", action="store_true", help="also time `python -m verifier --help`"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    lines = command_lines(args.module)
    with tempfile.TemporaryDirectory(prefix="porv-startup-") as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        for argv in lines.values():  # warm the file cache and compile the bytecode once
            run_once(argv, env)
        samples: dict[str, list[float]] = {label: [] for label in lines}
        for _ in range(args.runs):
            for label, argv in lines.items():
                samples[label].append(run_once(argv, env))
    medians = {label: statistics.median(xs) * 1000 for label, xs in samples.items()}
    floor = medians["python -c pass"]
    rows = [
        {
            "command": label,
            "median_ms": round(ms, 1),
            "ratio": round(ms / floor, 2),
            "goal": label.endswith("--help"),
        }
        for label, ms in medians.items()
    ]
    over = [r for r in rows if r["goal"] and r["ratio"] > GOAL]
    if args.json:
        print(json.dumps({"runs": args.runs, "goal": GOAL, "rows": rows}, indent=2))
    else:
        width = max(len(r["command"]) for r in rows)
        print(f"{'command':<{width}}  median ms  x python -c pass   (median of {args.runs} runs)")
        for r in rows:
            flag = "  OVER" if r in over else ""
            print(f"{r['command']:<{width}}  {r['median_ms']:9.1f}  {r['ratio']:5.2f}x{flag}")
        slowest = max((r for r in rows if r["goal"]), key=lambda r: r["ratio"])
        print(f"slowest --help: {slowest['command']} {slowest['ratio']}x (goal <= {GOAL}x)")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
