"""Benchmark: `porv verify` end to end against its floor, 3 custodians × 10,000 holdings.

Starts the demo's two anvil chains (the issuer's token on both), builds a bundle of three
custodians with 10,000 holdings each (deposits, T-bills up to 93 days, overnight repo; each
custodian signs with 2 of its 3 secp256k1 keys, no BLS anywhere), and a policy pinning the
chains and keys with the ``genius`` and ``hkma`` rule packs. Then, as whole processes:

* porv: ``python -m verifier verify bundle.json --policy policy.toml --format json -o R``;
* floor: ``python benchmarks/verify_floor.py bundle.json`` (load the JSON, re-hash every leaf
  and node with the same Keccak-256).

The runs alternate; each side's median is printed, with the ratio and the result's size.
Bytecode is cached as in an installed porv (pip compiles it), as ``benchmarks/startup.py``
does: the children get a fresh ``PYTHONPYCACHEPREFIX`` without ``PYTHONDONTWRITEBYTECODE``,
and one untimed run of each side compiles it first.

    .venv/bin/python benchmarks/verify_e2e.py [--holdings 10000] [--custodians 3] [--runs 5]
        [--detail]
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "benchmarks"):
    if str(p) not in sys.path:  # run as a script: import the checkout's verifier
        sys.path.insert(0, str(p))


def write_inputs(workdir: Path, deployments: list[Any], as_of: int, n: int, k: int) -> None:
    """``bundle.json`` (``k`` custodians × ``n`` holdings, indented as the demo writes it) and
    ``policy.toml`` into ``workdir``."""
    from memory_peak import _holdings

    from verifier.app.demo import ISSUER, SYMBOL, demo_secret, sign_secp256k1
    from verifier.merkle.tree import StandardMerkleTree
    from verifier.model.bundle import BundleDeployment, TokenInfo, assemble
    from verifier.signatures import secp256k1
    from verifier.signatures.signing import message_for_tree

    parts = []
    policy = [
        'format = "porv.policy/1"',
        f'issuer = "{ISSUER}"',
        f'token = "{SYMBOL}"',
        'currency = "USD"',
        "decimals = 6",
        'jurisdictions = ["genius", "hkma"]',
        'max_age = "35d"',
        'min_coverage = "1.00"',
        "",
    ]
    for d in deployments:
        excluded = ", ".join(f'"{a}"' for a in d.excluded_addresses())
        policy += ["[[deployments]]", f"chain_id = {d.chain_id}", f'address = "{d.token}"']
        policy += [f"excluded = [{excluded}]", ""]
    for c in range(k):
        cid = f"custodian-{chr(ord('a') + c)}"
        keys = [demo_secret(f"bench-{cid}-{i}", "secp256k1") for i in range(3)]
        tree = StandardMerkleTree.of(_holdings(n, chr(ord("A") + c), as_of, seed=c + 1))
        msg = message_for_tree(
            tree,
            issuer=ISSUER,
            token=SYMBOL,
            custodian=cid,
            as_of=as_of,
            valid_until=as_of + 30 * 86400,
            sequence=1,
        )
        att = {
            "format": "porv.attestation/1",
            "domain": {"name": "porv", "version": "1"},
            "message": msg.to_json(),
            "signatures": [e.to_json() for e in sign_secp256k1(msg, keys[:2])],
        }
        parts.append((cid, tree.dump(), att))
        signers = ", ".join(f'"{secp256k1.address_of(key)}"' for key in keys)
        policy += ["[[custodians]]", f'id = "{cid}"', f"signers = [{signers}]", "threshold = 2"]
        policy += [""]
    policy += ["[rpc]"] + [f'"{d.chain_id}" = ["{d.url}"]' for d in deployments]
    policy += ["", "[finality]"] + [f'"{d.chain_id}" = "latest"' for d in deployments]
    doc = assemble(
        issuer=ISSUER,
        token=TokenInfo(SYMBOL, "USD", 6),
        as_of=as_of,
        deployments=[
            BundleDeployment(d.chain_id, d.token, d.excluded_addresses()) for d in deployments
        ],
        custodians=parts,
        disclosures={"paid_up_capital": {"amount": "30000000", "currency": "USD"}},
    )
    (workdir / "bundle.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    (workdir / "policy.toml").write_text("\n".join(policy) + "\n", encoding="utf-8")


def timed(
    cmd: list[str],
    ok: tuple[int, ...] = (0,),
    cwd: Path = ROOT,
    env: dict[str, str] | None = None,
) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode not in ok:
        why = done.stderr.decode()[-2000:]
        raise SystemExit(f"{' '.join(cmd[:6])} exited {done.returncode}: {why}")
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--holdings", type=int, default=10_000, help="per custodian")
    ap.add_argument("--custodians", type=int, default=3, choices=range(1, 27))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--detail", action="store_true", help="time `porv verify --detail` too")
    ap.add_argument(
        "--compare",
        metavar="DIR",
        help="also time the verifier package in DIR (e.g. an older porv, unpacked with "
        "`git archive REV verifier | tar -x -C DIR`), in the same runs",
    )
    args = ap.parse_args()
    from verifier.app.demo import start_demo_chains

    net, deployments, as_of = start_demo_chains("anvil")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            write_inputs(work, deployments, as_of, args.holdings, args.custodians)
            bundle, result = work / "bundle.json", work / "result.json"
            porv = [sys.executable, "-m", "verifier", "verify", str(bundle)]
            porv += ["--policy", str(work / "policy.toml"), "--format", "json", "-o", str(result)]
            floor = [sys.executable, str(ROOT / "benchmarks" / "verify_floor.py"), str(bundle)]
            sides: dict[str, list[str]] = {"porv verify": porv, "floor": floor}
            if args.detail:
                sides["porv verify --detail"] = [*porv[:-2], "--detail", *porv[-2:]]
            old = Path(args.compare).resolve() if args.compare else ROOT
            if args.compare:
                sides[f"porv verify ({old})"] = [*porv[:-1], str(work / "old-result.json")]
            times: dict[str, list[float]] = {name: [] for name in sides}
            sizes: dict[str, int] = {}
            env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
            for name, cmd in sides.items():  # compile the bytecode once, untimed
                timed(cmd, ok=(0, 1), cwd=old if name.endswith(f"({old})") else ROOT, env=env)
            for _ in range(args.runs):
                for name, cmd in sides.items():
                    cwd = old if name.endswith(f"({old})") else ROOT  # `-m` imports from cwd
                    times[name].append(timed(cmd, ok=(0, 1), cwd=cwd, env=env))
                    if name != "floor":
                        sizes[name] = Path(cmd[-1]).stat().st_size
            status = json.loads(result.read_text())["status"]
            mb = bundle.stat().st_size / 1e6
    finally:
        net.stop()
    n = args.custodians * args.holdings
    print(f"bundle: {args.custodians} custodians × {args.holdings:,} holdings = {n:,}, {mb:.1f} MB")
    print(f"verdict: {status}; machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    med = {name: statistics.median(t) for name, t in times.items()}
    for name, t in times.items():
        runs = ", ".join(f"{x:.2f}" for x in t)
        extra = f", result {sizes[name]:,} B" if name in sizes else ""
        print(f"{name}: median {med[name]:.2f} s (runs: {runs}){extra}")
    for name in sides:
        if name != "floor":
            print(f"ratio {name} / floor: {med[name] / med['floor']:.2f}× (goal ≤ 1.5×)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
