"""The floor of `porv verify`: load a bundle and re-hash every leaf and node of every tree.

What any verifier pays for the same bundle, and nothing more: ``json.load`` of the file, the
OpenZeppelin standard leaf hash ``keccak256(keccak256(abi.encode(leafEncoding, value)))`` of
every value (ABI-encoded by hand for porv's fixed leaf layout), and ``keccak256`` of every
inner node (sorted pair), with porv's own Keccak-256 (pycryptodome's C library). Each
recomputed hash is compared with the dump. It checks no signature, rule or supply.

    .venv/bin/python benchmarks/verify_floor.py BUNDLE.json

Prints the number of leaves and nodes checked; exits 1 if any hash differs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: import the checkout's keccak
    sys.path.insert(0, str(ROOT))

from verifier.model.keccak import keccak256  # noqa: E402

_STRINGS = (0, 1, 2, 6, 7, 8, 9)  # the string fields of the leaf layout, in order


def _word(n: int) -> bytes:
    return n.to_bytes(32, "big")


def encode(value: list[str]) -> bytes:
    """``abi.encode`` of one holding value (12 fields: 7 strings, 4 uints, 1 bytes32)."""
    tails: list[bytes] = []
    offsets: dict[int, int] = {}
    at = 32 * 12
    for i in _STRINGS:
        raw = value[i].encode()
        tail = _word(len(raw)) + raw + b"\0" * (-len(raw) % 32)
        offsets[i] = at
        at += len(tail)
        tails.append(tail)
    head = [_word(offsets[i]) if i in offsets else b"" for i in range(12)]
    head[3] = _word(int(value[3]))
    head[4] = _word(int(value[4]))
    head[5] = _word(int(value[5]))
    head[10] = _word(int(value[10]))
    head[11] = bytes.fromhex(value[11][2:])
    return b"".join(head) + b"".join(tails)


def check_tree(dump: dict) -> int:  # type: ignore[type-arg]
    tree = [bytes.fromhex(h[2:]) for h in dump["tree"]]
    for entry in dump["values"]:
        if keccak256(keccak256(encode(entry["value"]))) != tree[entry["treeIndex"]]:
            raise SystemExit(f"leaf {entry['treeIndex']} differs")
    for i in range(len(tree) - 1 - len(dump["values"]), -1, -1):
        a, b = tree[2 * i + 1], tree[2 * i + 2]
        if keccak256(a + b if a <= b else b + a) != tree[i]:
            raise SystemExit(f"node {i} differs")
    return len(tree)


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as fh:
        bundle = json.load(fh)
    total = sum(check_tree(c["tree"]) for c in bundle["custodians"])
    print(f"{total} hashes checked")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
