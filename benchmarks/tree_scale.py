"""Benchmark: `porv tree build` of 1,000,000 holdings against the naive floor, and its growth.

Both sides are whole processes reading the same CSV (``benchmarks/merkle_build.py``'s
deterministic generator) and writing a standard-v1 dump: ``porv tree build H.csv -o porv.json``
and ``python benchmarks/naive_tree_build.py H.csv naive.json`` (a plain-Python build: CSV
split, pycryptodome Keccak, ``json.dump``). Each run's wall time and peak resident set (the
child's own ``ru_maxrss`` from ``wait4``) are measured; the runs of the two alternate, and the
median of each is compared. The roots must be equal.

Then the growth table: porv alone at 1k, 10k, 100k and the full size (the last from the runs
above), with the time and peak memory per holding.

    .venv/bin/python benchmarks/tree_scale.py [--holdings 1000000] [--runs 3]
        [--growth 1000 10000 100000]

Goals (issue 13): porv <= 0.5x the naive floor's time and <= 1 GiB peak at 1,000,000.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

GIB = 2**30
TIME_GOAL = 0.5
MEMORY_GOAL = 1 * GIB


def run(cmd: list[str]) -> tuple[float, int]:
    """Run ``cmd`` as a child; its wall time (s) and peak resident set (bytes)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} exited {proc.returncode}:\n{err.decode()[-2000:]}")
    return elapsed, usage.ru_maxrss * 1024  # Linux: kilobytes


def write_csv(path: Path, n: int) -> None:
    """``merkle_build.write_csv`` (the one generator of benchmark holdings), in a child: this
    process stays small, so no child's peak counts pages it shared with this one at fork."""
    code = "import sys; from pathlib import Path; from merkle_build import write_csv; "
    code += "write_csv(Path(sys.argv[1]), int(sys.argv[2]))"
    subprocess.run([sys.executable, "-c", code, str(path), str(n)], cwd=HERE, check=True)


def root_of(dump_file: Path) -> str:
    with open(dump_file, encoding="utf-8") as fh:
        head = fh.read(400)
    return head.split('"tree": [', 1)[1].split('"')[1]


def porv_cmd(csv: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "verifier", "tree", "build", str(csv), "-o", str(out)]


def naive_cmd(csv: Path, out: Path) -> list[str]:
    return [sys.executable, str(HERE / "naive_tree_build.py"), str(csv), str(out)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--holdings", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3, help="runs of each side at --holdings")
    ap.add_argument("--growth", type=int, nargs="*", default=[1_000, 10_000, 100_000])
    ap.add_argument("--growth-runs", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = ap.parse_args()
    from verifier.model.keccak import BACKEND

    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}, keccak {BACKEND}")
    report: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv = folder / "holdings.csv"
        write_csv(csv, args.holdings)
        out_porv, out_naive = folder / "porv.json", folder / "naive.json"
        porv: list[tuple[float, int]] = []
        naive: list[tuple[float, int]] = []
        for _ in range(args.runs):  # alternate, so both see the same machine load
            porv.append(run(porv_cmd(csv, out_porv)))
            naive.append(run(naive_cmd(csv, out_naive)))
        same = root_of(out_porv) == root_of(out_naive)
        pt = statistics.median(t for t, _ in porv)
        nt = statistics.median(t for t, _ in naive)
        pm = max(m for _, m in porv)
        nm = max(m for _, m in naive)
        print(f"holdings: {args.holdings:,} ({csv.stat().st_size / 1e6:.0f} MB CSV)")
        print("porv tree build:  " + ", ".join(f"{t:.1f}s/{m / 1e6:.0f}MB" for t, m in porv))
        print("naive build:      " + ", ".join(f"{t:.1f}s/{m / 1e6:.0f}MB" for t, m in naive))
        print(f"same root: {same} ({root_of(out_porv)})")
        print(
            f"time: porv {pt:.1f} s, naive {nt:.1f} s (medians): ratio {pt / nt:.2f}x "
            f"(goal <= {TIME_GOAL}x: {'met' if pt / nt <= TIME_GOAL else 'MISSED'})"
        )
        print(
            f"peak memory: porv {pm / 2**20:.0f} MiB, naive {nm / 2**20:.0f} MiB: ratio "
            f"{pm / nm:.2f}x (goal <= 1 GiB: {'met' if pm <= MEMORY_GOAL else 'MISSED'})"
        )
        report["scale"] = {
            "holdings": args.holdings,
            "porv": porv,
            "naive": naive,
            "same_root": same,
            "time_ratio": pt / nt,
        }
        csv.unlink()
        rows = [(args.holdings, pt, pm)]
        for n in args.growth:
            write_csv(csv, n)
            runs = [run(porv_cmd(csv, out_porv)) for _ in range(args.growth_runs)]
            rows.append((n, statistics.median(t for t, _ in runs), max(m for _, m in runs)))
        rows.sort()
    n0, t0, m0 = rows[0]
    print("growth (porv tree build, whole process; marginal = against the smallest size):")
    print(
        f"{'holdings':>10} {'time':>8} {'µs/holding':>11} {'marginal':>9} {'peak':>8} "
        f"{'marginal':>9}"
    )
    for n, t, m in rows:
        dt = (t - t0) / (n - n0) * 1e6 if n > n0 else float("nan")
        dm = (m - m0) / (n - n0) if n > n0 else float("nan")
        print(
            f"{n:>10,} {t:>7.2f}s {t / n * 1e6:>10.1f} {dt:>7.1f}µs {m / 2**20:>6.0f}MiB "
            f"{dm:>7.0f} B"
        )
    report["growth"] = rows
    if args.json:
        print(json.dumps(report))
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
