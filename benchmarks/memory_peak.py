"""Benchmark: peak memory of ``porv verify`` against the size of the bundle it reads.

A large valid bundle is generated with porv's own tree builder and signing (two custodians,
2-of-3 secp256k1 and 2-of-3 BLS, two auditors, as in the demo), written as compact JSON (the
least whitespace, so the hardest case for a bytes-to-memory ratio). Each measurement is a
fresh child process that runs the real CLI, ``porv verify BUNDLE --policy P --format json
--output R``, with one change: supply comes from a fixed in-process report instead of the
chains (the chain reads are a few small JSON-RPC answers, whatever the bundle's size). The
child reports its peak resident set (``VmHWM``) when it exits.

The constant is measured in the same run: the peak of the same child on a tiny bundle (the
interpreter, the imports, the rule packs). The figure of merit is
``(peak - constant) / bundle size``, which DESIGN's bounded-work promise keeps at or below 4.

    .venv/bin/python benchmarks/memory_peak.py [--mb 5 20 50] [--kind realistic hostile]
        [--indent N] [--json]

Growth of verify by holdings instead of megabytes (one custodian holding them all, with the
whole-process time of each child as well):

    .venv/bin/python benchmarks/memory_peak.py --holdings 1000 10000 100000 1000000 \
        --custodians 1
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: import the checkout's verifier
    sys.path.insert(0, str(ROOT))

#: Bytes of compact bundle JSON per holding (measured on this generator; for sizing only).
BYTES_PER_HOLDING = 340
_TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
_TREASURY = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
_CHAIN_ID = 31337


def _holdings(n: int, prefix: str, as_of: int, seed: int, hostile: bool = False) -> list[Any]:
    """A realistic reserve: demand deposits, T-bills up to 93 days, overnight repo.

    ``hostile``: every holding a EUR corporate bond instead, so that every pack lists it as
    ineligible and the risk estimate as unconverted (the largest result per holding), and
    one holding id with an emoji.
    """
    from verifier.model.holdings import Holding

    rng = random.Random(seed)
    day0 = as_of - as_of % 86400
    banks = ("First Federal Bank", "Harbor Trust Company", "Pacific National Bank")
    out: list[Holding] = []
    for i in range(n):
        salt = rng.randbytes(32)
        amount = rng.randrange(1, 10**11)
        kind = -1 if hostile else i % 10
        if kind < 0:
            maturity = day0 + 86400 * (400 + rng.randrange(900))
            fields = ("C", "corporate_bond", maturity, f"Issuer {i % 997}", "BB", "", 0)
        elif kind < 3:
            fields = ("D", "bank_deposit_demand", 0, banks[i % 3], "A+", "", 0)
        elif kind < 9:
            maturity = day0 + 86400 * (1 + rng.randrange(93))
            fields = ("T", "sovereign_debt", maturity, "US Treasury", "AA+", "", 0)
        else:
            fields = ("R", "reverse_repo", day0 + 86400, "Primary Dealer", "A", "sovereign_debt", 2)
        tag, cls, maturity, party, rating, collateral, times = fields
        hid = f"{prefix}{tag}-{i:07d}"
        if hostile and i == 0:
            hid += " \U0001f600"  # one wide character: Python would store the text at 4 B/char
        cv = amount * times
        ccy = "EUR" if hostile else "USD"
        out.append(
            Holding(hid, cls, ccy, amount, 2, maturity, party, "US", rating, collateral, cv, salt)
        )
    return out


def write_bundle(
    workdir: Path,
    holdings: int,
    *,
    indent: int | None = None,
    hostile: bool = False,
    custodians: int = 2,
) -> tuple[Path, Path]:
    """Write ``bundle.json`` (``holdings`` split over two custodians) and ``policy.toml``.

    Returns:
        The bundle and policy paths.
    """
    from verifier.app.demo import (
        ISSUER,
        SYMBOL,
        ChainDeployment,
        custodian_keys,
        policy_toml,
        sign_bls,
        sign_secp256k1,
    )
    from verifier.merkle.tree import StandardMerkleTree
    from verifier.model.bundle import BUNDLE_FORMAT
    from verifier.model.timeutil import format_rfc3339
    from verifier.signatures import bls
    from verifier.signatures.eip712 import attestation_digest, report_digest
    from verifier.signatures.signing import message_for_tree

    workdir.mkdir(parents=True, exist_ok=True)
    now = int(time.time())
    as_of = now - now % 3600 - 3600
    keys = custodian_keys()
    custodians: list[dict[str, Any]] = []
    digests: list[bytes] = []
    half = max(1, holdings // 2)
    sizes: tuple[tuple[str, str, int], ...] = (
        ("custodian-a", "a", half),
        ("custodian-b", "b", max(1, holdings - half)),
    )
    if custodians == 1:
        sizes = (("custodian-a", "a", holdings),)
    for cid, short, n in sizes:
        reserve = _holdings(n, short.upper(), as_of, seed=len(cid) + n, hostile=hostile)
        tree = StandardMerkleTree.of(reserve)
        msg = message_for_tree(
            tree,
            issuer=ISSUER,
            token=SYMBOL,
            custodian=cid,
            as_of=as_of,
            valid_until=as_of + 30 * 86400,
            sequence=1,
        )
        sign = sign_secp256k1 if short == "a" else sign_bls
        entries = sign(msg, keys[short][:2])
        digests.append(attestation_digest(msg))
        custodians.append(
            {
                "id": cid,
                "tree": tree.dump(),
                "attestation": msg.to_json(),
                "signatures": [e.to_json() for e in entries],
            }
        )
        del tree
    report = report_digest(ISSUER, SYMBOL, as_of, digests)
    doc = {
        "format": BUNDLE_FORMAT,
        "issuer": ISSUER,
        "token": {"symbol": SYMBOL, "currency": "USD", "decimals": 6},
        "as_of": format_rfc3339(as_of),
        "deployments": [{"chain_id": _CHAIN_ID, "address": _TOKEN, "excluded": [_TREASURY]}],
        "custodians": custodians,
        "auditor_report": {
            "signers": ["0x" + bls.secret_to_pubkey(k).hex() for k in keys["auditors"]],
            "signature": "0x"
            + bls.aggregate([bls.sign(report, k) for k in keys["auditors"]]).hex(),
        },
        "disclosures": {"paid_up_capital": {"amount": "30000000", "currency": "USD"}},
    }
    bundle = workdir / "bundle.json"
    seps = (",", ":") if indent is None else None
    with open(bundle, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=indent, separators=seps, ensure_ascii=False)
    policy = workdir / "policy.toml"
    deployment = ChainDeployment(_CHAIN_ID, "http://127.0.0.1:9", _TOKEN, _TREASURY)
    policy.write_text(policy_toml([deployment], keys), encoding="utf-8")
    return bundle, policy


def _fake_supply_provider(*_args: Any, **_kwargs: Any) -> Any:
    """A supply provider for the child: 1,000 tokens circulating at a made-up block."""
    from verifier.chain.supply import DeploymentSupply, SupplyReport

    def provide(policy: Any, as_of: int) -> SupplyReport:
        deps = tuple(
            DeploymentSupply(
                chain_id=d.chain_id,
                address=d.address,
                block_number=100,
                block_hash="0x" + "ab" * 32,
                block_timestamp=as_of,
                total_supply=2_000 * 10**policy.decimals,
                decimals=policy.decimals,
                excluded=tuple((a, 1_000 * 10**policy.decimals) for a in d.excluded),
                circulating=1_000 * 10**policy.decimals,
            )
            for d in policy.deployments
        )
        return SupplyReport(deps, sum(d.circulating for d in deps), policy.decimals)

    return provide


def _peak_rss_self() -> int:
    """This process's peak resident set in bytes (``VmHWM``)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def child(argv: list[str]) -> int:
    """Run ``porv verify`` in this process with the fixed supply; print the peak RSS last."""
    import verifier.app.verify
    from verifier.cli import main as porv_main

    verifier.app.verify.default_supply = _fake_supply_provider  # type: ignore[assignment]
    code = 0
    try:
        porv_main(["verify", *argv])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    print(json.dumps({"exit_code": code, "peak_rss": _peak_rss_self()}), file=sys.stderr)
    return 0


def measure(bundle: Path, policy: Path, output: Path) -> tuple[int, int]:
    """Peak RSS (bytes) of one ``porv verify`` child on ``bundle``, and its exit code."""
    code, peak, _ = measure_timed(bundle, policy, output)
    return code, peak


def measure_timed(bundle: Path, policy: Path, output: Path) -> tuple[int, int, float]:
    """As :func:`measure`, and the child's whole-process wall time (seconds)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COV_", "COVERAGE_"))}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    args = ["--policy", str(policy), "--format", "json", "--output", str(output)]
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(bundle), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    elapsed = time.perf_counter() - start
    last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
    try:
        report = json.loads(last)
    except ValueError:
        raise RuntimeError(f"child failed:\n{proc.stderr[-3000:]}") from None
    return int(report["exit_code"]), int(report["peak_rss"]), elapsed


def growth(counts: list[int], custodians: int) -> None:
    """Print the time and peak memory of ``porv verify`` at each number of holdings."""
    rows: list[tuple[int, int, float, int, int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in counts:
            folder = Path(tmp) / f"n{n}"
            bundle, policy = write_bundle(folder, n, custodians=custodians)
            size = bundle.stat().st_size
            code, peak, seconds = measure_timed(bundle, policy, folder / "result.json")
            rows.append((n, size, seconds, peak, code))
            bundle.unlink()
    n0, _, t0, m0, _ = rows[0]
    print(f"porv verify, {custodians} custodian(s), supply faked; python {sys.version.split()[0]}")
    print("  holdings  bundle    time  µs/holding  marginal    peak  marginal  exit")
    for n, size, t, m, code in rows:
        dt = (t - t0) / (n - n0) * 1e6 if n > n0 else float("nan")
        dm = (m - m0) / (n - n0) if n > n0 else float("nan")
        print(
            f"{n:>10,} {size / 1e6:>5.0f}MB {t:>6.2f}s {t / n * 1e6:>10.1f} {dt:>7.1f}µs "
            f"{m / 2**20:>5.0f}MiB {dm:>7.0f} B  {code}"
        )


def run(sizes_mb: list[float], kinds: list[str], indent: int | None = None) -> dict[str, Any]:
    """Measure the constant (tiny bundle) and each (kind, size) in one run.

    Returns:
        ``{"constant": bytes, "runs": [{kind, holdings, bundle_bytes, peak_rss, exit_code,
        ratio_over_constant}]}``.
    """
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        small, policy = write_bundle(Path(tmp) / "tiny", 10, indent=indent)
        _, base = measure(small, policy, Path(tmp) / "tiny.result.json")
        for kind in kinds:
            for mb in sizes_mb:
                n = int(mb * 1e6 / BYTES_PER_HOLDING)
                folder = Path(tmp) / f"{kind}-{n}"
                bundle, policy = write_bundle(folder, n, indent=indent, hostile=kind == "hostile")
                size = bundle.stat().st_size
                code, peak = measure(bundle, policy, folder / "result.json")
                runs.append(
                    {
                        "kind": kind,
                        "holdings": n,
                        "bundle_bytes": size,
                        "peak_rss": peak,
                        "exit_code": code,
                        "ratio_over_constant": round((peak - base) / size, 2),
                    }
                )
                bundle.unlink()
    return {"constant": base, "runs": runs}


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        return child(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, nargs="+", default=[5, 20, 50])
    ap.add_argument("--indent", type=int, default=None, help="pretty-print the bundle")
    ap.add_argument(
        "--kind",
        nargs="+",
        choices=["realistic", "hostile"],
        default=["realistic"],
        help="realistic: a valid reserve; hostile: every holding ineligible in every pack",
    )
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument(
        "--holdings", type=int, nargs="+", help="growth by holdings instead (time and memory)"
    )
    ap.add_argument("--custodians", type=int, choices=[1, 2], default=2)
    args = ap.parse_args()
    if args.holdings:
        growth(args.holdings, args.custodians)
        return 0
    report = run(args.mb, args.kind, args.indent)
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    base = report["constant"]
    print(f"constant (tiny bundle): {base / 1e6:.0f} MB peak RSS; python {sys.version.split()[0]}")
    for r in report["runs"]:
        print(
            f"{r['kind']:>9} {r['holdings']:>9,} holdings  bundle {r['bundle_bytes'] / 1e6:7.1f} MB"
            f"  peak {r['peak_rss'] / 1e6:6.0f} MB  (peak - constant) / size = "
            f"{r['ratio_over_constant']:.2f}  exit {r['exit_code']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
