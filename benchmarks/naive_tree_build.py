"""The naive floor of ``porv tree build``: the same standard-v1 tree in plain Python.

No validation beyond what the arithmetic needs: split each CSV line on commas, convert major
units and dates, ABI-encode the fixed leaf by hand, double-hash with pycryptodome's Keccak,
sort, hash the inner nodes, ``json.dump`` the dump. Only for the CSV that
``benchmarks/merkle_build.py`` writes (no quoted cells, USD, 2 decimals); the root is the one
porv and OpenZeppelin compute for it.

    .venv/bin/python benchmarks/naive_tree_build.py HOLDINGS.csv OUT.json
"""

import calendar
import json
import sys
from datetime import date

from Crypto.Hash import keccak

ENC = ["string"] * 3 + ["uint256", "uint8", "uint64"] + ["string"] * 4 + ["uint256", "bytes32"]


def k(data: bytes) -> bytes:
    return keccak.new(data=data, digest_bits=256).digest()


def abi(v: list[str]) -> bytes:
    head, tail = b"", b""
    for kind, x in zip(ENC, v, strict=True):
        if kind == "string":
            raw = x.encode()
            head += (32 * 12 + len(tail)).to_bytes(32, "big")
            tail += len(raw).to_bytes(32, "big") + raw + bytes(-len(raw) % 32)
        else:
            head += bytes.fromhex(x[2:]) if kind == "bytes32" else int(x).to_bytes(32, "big")
    return head + tail


def main(src: str, dst: str) -> None:
    with open(src, encoding="utf-8") as fh:
        cols = fh.readline().strip().split(",")
        rows = [dict(zip(cols, line.rstrip("\n").split(","), strict=True)) for line in fh]
    minor = lambda s: str(int(s.replace(".", ""))) if s else "0"  # noqa: E731 - 2 decimals
    day = lambda s: str(calendar.timegm(date.fromisoformat(s).timetuple())) if s else "0"  # noqa: E731
    values = [
        [
            *(r["holding_id"], r["asset_class"], r["currency"], minor(r["amount"]), "2"),
            *(day(r["maturity"]), r["counterparty"], r["country"], r["rating"], r["collateral"]),
            *(minor(r["collateral_value"]), r["salt"]),
        ]
        for r in rows
    ]
    leaves = sorted((k(k(abi(v))), i) for i, v in enumerate(values))
    n = len(leaves)
    tree = [b""] * (2 * n - 1)
    index = [0] * n
    for pos, (leaf, i) in enumerate(leaves):
        tree[2 * n - 2 - pos] = leaf
        index[i] = 2 * n - 2 - pos
    for i in range(n - 2, -1, -1):
        a, b = sorted((tree[2 * i + 1], tree[2 * i + 2]))
        tree[i] = k(a + b)
    dump = {
        "format": "standard-v1",
        "leafEncoding": ENC,
        "tree": ["0x" + t.hex() for t in tree],
        "values": [{"value": v, "treeIndex": index[i]} for i, v in enumerate(values)],
    }
    with open(dst, "w", encoding="utf-8") as fh:
        json.dump(dump, fh)
    print(dump["tree"][0])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
