"""Benchmark: `porv tree build` vs OpenZeppelin's StandardMerkleTree.of on 100,000 holdings.

Both sides are whole processes started from the shell, reading the same CSV and writing a
standard-v1 dump: ``porv tree build H.csv -o porv.json`` and
``node benchmarks/oz_build.js H.csv oz.json`` (``@openzeppelin/merkle-tree`` from the committed
npm lockfile). The two roots must be equal, so both built the same tree from the same leaves.

    .venv/bin/python benchmarks/merkle_build.py [--holdings 100000] [--porv-runs 3]

Prints each time and the ratio (best porv run against the OZ run, measured in the same run).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules" / ".bin" / "node"

HEADER = (
    "holding_id,asset_class,currency,amount,maturity,counterparty,country,rating,collateral,"
    "collateral_value,salt"
)


def write_csv(path: Path, n: int, seed: int = 1) -> None:
    """A realistic reserve: deposits, T-bills up to 93 days, overnight repo; random salts."""
    rng = random.Random(seed)
    banks = ["First Federal Bank", "Harbor Trust Company", "Pacific National Bank"]
    lines = [HEADER]
    for i in range(n):
        salt = "0x" + rng.randbytes(32).hex()
        kind = i % 10
        amount = f"{rng.randrange(1, 10**9)}.{rng.randrange(100):02d}"
        if kind < 3:
            row = f"D-{i:07d},bank_deposit_demand,USD,{amount},,{rng.choice(banks)},US,A+,,"
        elif kind < 9:
            day = 16 + rng.randrange(93)
            date = time.strftime("%Y-%m-%d", time.gmtime(1768435200 + 86400 * (day - 15)))
            row = f"T-{i:07d},sovereign_debt,USD,{amount},{date},US Treasury,US,AA+,,"
        else:
            cv = f"{rng.randrange(10**9, 2 * 10**9)}.00"
            row = (
                f"R-{i:07d},reverse_repo,USD,{amount},2026-01-16,Primary Dealer,US,A,"
                f"sovereign_debt,{cv}"
            )
        lines.append(f"{row},{salt}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def root_of(dump_file: Path) -> str:
    root: str = json.loads(dump_file.read_text())["tree"][0]
    return root


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--holdings", type=int, default=100_000)
    ap.add_argument("--porv-runs", type=int, default=3)
    ap.add_argument("--oz-runs", type=int, default=1)
    args = ap.parse_args()
    porv = [sys.executable, "-m", "verifier"]
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "holdings.csv"
        write_csv(csv, args.holdings)
        out_porv = Path(tmp) / "porv.json"
        out_oz = Path(tmp) / "oz.json"
        porv_times = [
            timed([*porv, "tree", "build", str(csv), "-o", str(out_porv)])
            for _ in range(args.porv_runs)
        ]
        oz_times = [timed([str(NODE), "benchmarks/oz_build.js", str(csv), str(out_oz)])]
        oz_times += [
            timed([str(NODE), "benchmarks/oz_build.js", str(csv), str(out_oz)])
            for _ in range(args.oz_runs - 1)
        ]
        same = root_of(out_porv) == root_of(out_oz)
        best_porv, best_oz = min(porv_times), min(oz_times)
        print(f"holdings: {args.holdings:,} ({csv.stat().st_size / 1e6:.1f} MB CSV)")
        print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")
        print("porv tree build (whole process): " + ", ".join(f"{t:.2f}s" for t in porv_times))
        print(
            "OZ StandardMerkleTree.of in node (whole process): "
            + ", ".join(f"{t:.2f}s" for t in oz_times)
        )
        print(f"same root: {same} ({root_of(out_porv)})")
        print(f"ratio (best OZ / best porv): {best_oz / best_porv:.1f}x")
        return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
