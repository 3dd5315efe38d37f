"""Signature speed: porv's backends against the reference libraries, measured in one run.

* secp256k1 recovery of an EIP-712 signature: ``verifier.signatures.secp256k1.recover``
  (libsecp256k1 via coincurve) vs ``eth_account.Account._recover_hash`` (eth-keys; pure
  Python unless coincurve is picked up as its backend).
* BLS FastAggregateVerify of a 3-signer aggregate, and PopVerify: native (py-arkworks-bls12381) vs
  reference (py_ecc).
* EIP-712 attestation digest: porv's hand encoder vs ``eth_account.messages.encode_typed_data``.

Usage: ``.venv/bin/python benchmarks/signatures.py [--json]``. Prints one row per figure with
the ratio baseline/porv; numbers depend on the machine, the ratios much less.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_hash.auto import keccak

from verifier.model.attestation import AttestationMessage, Total
from verifier.signatures import bls, secp256k1
from verifier.signatures.eip712 import attestation_digest, attestation_typed_data


def per_call(func: Callable[[], object], *, min_seconds: float = 1.0) -> float:
    """Seconds per call: repeat until ``min_seconds`` have passed, best of 3 rounds."""
    best = float("inf")
    for _ in range(3):
        calls, start = 0, time.perf_counter()
        while True:
            func()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds / 3:
                break
        best = min(best, elapsed / calls)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    msg = AttestationMessage(
        issuer="Example Issuer Ltd",
        token="HKDX",
        custodian="custodian-a",
        holdings_root=keccak(b"root"),
        leaf_count=100_000,
        totals=(Total("EUR", 10**12, 2), Total("HKD", 10**13, 2), Total("USD", 10**12, 2)),
        as_of=1_764_547_200,
        valid_until=1_893_456_000,
        sequence=3,
    )
    typed = attestation_typed_data(msg)
    digest = attestation_digest(msg)
    key = keccak(b"benchmark key")
    sig = secp256k1.sign(digest, key)
    sks = [keccak(f"bls benchmark {i}".encode()) for i in range(3)]
    sks = [(int.from_bytes(k, "big") % bls.R).to_bytes(32, "big") for k in sks]
    pks = [bls.secret_to_pubkey(k) for k in sks]
    agg = bls.aggregate([bls.sign(digest, k) for k in sks])

    rows = []

    def row(name: str, ours: Callable[[], object], base: Callable[[], object], label: str) -> None:
        t_ours, t_base = per_call(ours), per_call(base)
        rows.append(
            {
                "figure": name,
                "porv_us": round(t_ours * 1e6, 1),
                "baseline": label,
                "baseline_us": round(t_base * 1e6, 1),
                "ratio": round(t_base / t_ours, 1),
            }
        )

    row(
        "secp256k1 recover (EIP-712 digest)",
        lambda: secp256k1.recover(digest, sig),
        lambda: Account._recover_hash(digest, signature=sig),
        "eth-account _recover_hash",
    )
    row(
        "EIP-712 attestation digest",
        lambda: attestation_digest(msg),
        lambda: encode_typed_data(full_message=typed),
        "eth-account encode_typed_data",
    )
    row(
        "BLS FastAggregateVerify, 3 signers",
        lambda: bls.fast_aggregate_verify(pks, digest, agg, backend="native"),
        lambda: bls.fast_aggregate_verify(pks, digest, agg, backend="reference"),
        "py_ecc (reference backend)",
    )
    pop = bls.pop_prove(sks[0])
    row(
        "BLS PopVerify (policy load, per key)",
        lambda: bls.pop_verify(pks[0], pop, backend="native"),
        lambda: bls.pop_verify(pks[0], pop, backend="reference"),
        "py_ecc (reference backend)",
    )
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'figure':38} {'porv µs':>10} {'baseline µs':>12} {'ratio':>7}  baseline")
    for r in rows:
        print(
            f"{r['figure']:38} {r['porv_us']:>10} {r['baseline_us']:>12} "
            f"{r['ratio']:>6}x  {r['baseline']}"
        )


if __name__ == "__main__":
    main()
