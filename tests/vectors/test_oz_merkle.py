"""porv agrees with @openzeppelin/merkle-tree, both ways.

``fixtures/vectors/gen-merkle.js`` (rebuilt and diffed in CI) builds OZ trees from the committed
CSVs with its own CSV reader and writes OZ's dumps, proofs and multiproofs. Here porv must build
the same trees from the same CSVs, load OZ's dumps, and accept OZ's proofs; and OZ's library
(``fixtures/vectors/oz-merkle-check.js``, run with Node) must load porv's dumps and accept
porv's proofs. OZ's JS verification is the same algorithm as ``MerkleProof.sol``.
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import porv
from verifier.local.loaders import parse_holdings_csv
from verifier.merkle.proof import MultiProofFile, ProofFile, proof_from_json
from verifier.merkle.tree import StandardMerkleTree
from verifier.model.holdings import ASSET_CLASSES, Holding

ROOT = Path(__file__).resolve().parents[2]
MERKLE = ROOT / "fixtures/vectors/merkle"
NODE = ROOT / "node_modules/.bin/node"
CHECK = ROOT / "fixtures/vectors/oz-merkle-check.js"
NAMES = sorted(p.name.removesuffix(".vectors.json") for p in MERKLE.glob("*.vectors.json"))


def load(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    vectors = json.loads((MERKLE / f"{name}.vectors.json").read_text())
    dump = json.loads((MERKLE / f"{name}.tree.json").read_text())
    return vectors, dump


def oz_check(payload: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run(
        [str(NODE), str(CHECK)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


def test_vector_set() -> None:
    assert {"one", "two", "seven", "mixed", "custodian-a", "custodian-b"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_porv_builds_ozs_tree(name: str) -> None:
    vectors, oz_dump = load(name)
    t = StandardMerkleTree.of(parse_holdings_csv(MERKLE / vectors["input"]))
    assert t.root_hex == vectors["root"]
    assert len(t) == vectors["leafCount"]
    assert t.dump() == oz_dump


@pytest.mark.parametrize("name", NAMES)
def test_porv_loads_ozs_dump_and_accepts_its_proofs(name: str) -> None:
    vectors, oz_dump = load(name)
    t = StandardMerkleTree.load(oz_dump, source=name)
    assert t.root_hex == vectors["root"]
    for doc in vectors["proofs"]:
        p = proof_from_json(doc, source=name)
        assert isinstance(p, ProofFile) and p.verifies()
        # porv makes byte-identical proofs
        assert ProofFile.for_holding(t, p.holding.holding_id).to_json() == doc
    for doc in vectors["multiproofs"]:
        mp = proof_from_json(doc, source=name)
        assert isinstance(mp, MultiProofFile) and mp.verifies()
        ids = [h.holding_id for h in mp.leaves]
        assert MultiProofFile.for_holdings(t, ids).to_json() == doc


def test_cli_against_oz(tmp_path: Path) -> None:
    for name in NAMES:
        vectors, _ = load(name)
        out = tmp_path / f"{name}.json"
        res = porv(
            ["tree", "build", str(MERKLE / vectors["input"]), "-o", str(out)], in_process=True
        )
        assert res.code == 0, res.stderr
        res = porv(["tree", "root", str(out)], in_process=True)
        assert res.stdout.strip() == vectors["root"]
        res = porv(["tree", "root", str(MERKLE / f"{name}.tree.json")], in_process=True)
        assert res.code == 0 and res.stdout.strip() == vectors["root"]
        for i, doc in enumerate(vectors["proofs"] + vectors["multiproofs"]):
            p = tmp_path / f"{name}-{i}.json"
            p.write_text(json.dumps(doc))
            res = porv(["tree", "verify-proof", str(p), "--root", vectors["root"]], in_process=True)
            assert res.code == 0, (name, i, res.stderr)
        # one changed amount, one missing sibling: exit 1
        doc = json.loads(json.dumps(vectors["proofs"][0]))
        doc["value"][3] = str(int(doc["value"][3]) + 1)
        p = tmp_path / "changed.json"
        p.write_text(json.dumps(doc))
        assert porv(["tree", "verify-proof", str(p)], in_process=True).code == 1
        if vectors["proofs"][-1]["proof"]:
            doc = json.loads(json.dumps(vectors["proofs"][-1]))
            doc["proof"].pop(0)
            p.write_text(json.dumps(doc))
            assert porv(["tree", "verify-proof", str(p)], in_process=True).code == 1


def random_holdings(n: int, seed: int) -> list[Holding]:
    rng = random.Random(seed)
    classes = sorted(ASSET_CLASSES)
    out = []
    for i in range(n):
        out.append(
            Holding(
                holding_id=f"R-{seed}-{i}-{'é' * rng.randrange(3)}",
                asset_class=rng.choice(classes),
                currency=rng.choice(["USD", "EUR", "JPY"]),
                amount=rng.randrange(2 ** rng.choice([8, 64, 256])),
                decimals=2,
                maturity=rng.choice([0, 1768435200 + 86400 * rng.randrange(400)]),
                counterparty="Bank " * rng.randrange(20),
                country=rng.choice(["", "US", "DE"]),
                rating=rng.choice(["", "AA+", "A-"]),
                collateral="",
                collateral_value=0,
                salt=rng.randbytes(32),
            )
        )
    return out


@pytest.mark.node
def test_oz_accepts_porvs_trees_and_proofs() -> None:
    trees = [StandardMerkleTree.of(random_holdings(n, n)) for n in (1, 2, 3, 7, 64, 301)]
    proofs: list[dict[str, Any]] = []
    multiproofs: list[dict[str, Any]] = []
    rng = random.Random(7)
    for t in trees:
        ids = [h.holding_id for h in t.holdings]
        proofs += [ProofFile.for_holding(t, i).to_json() for i in ids]
        for k in sorted({1, len(ids), max(1, len(ids) // 3)}):
            multiproofs.append(MultiProofFile.for_holdings(t, rng.sample(ids, k)).to_json())
    bad_proof = json.loads(json.dumps(proofs[-1]))
    bad_proof["value"][3] = str(int(bad_proof["value"][3]) ^ 1)
    bad_multi = json.loads(json.dumps(next(m for m in multiproofs[::-1] if m["proof"])))
    bad_multi["proof"] = bad_multi["proof"][1:]  # a missing sibling
    result = oz_check(
        {
            "dumps": [t.dump() for t in trees],
            "proofs": [*proofs, bad_proof],
            "multiproofs": [*multiproofs, bad_multi],
        }
    )
    for t, got in zip(trees, result["dumps"], strict=True):
        assert got == {"ok": True, "root": t.root_hex, "same": True}
    assert result["proofs"] == [True] * len(proofs) + [False]
    assert result["multiproofs"] == [True] * len(multiproofs) + [False]


@pytest.mark.node
def test_oz_accepts_porvs_tree_of_published_reserves(shared_data: Path) -> None:
    trees = [
        StandardMerkleTree.of(parse_holdings_csv(shared_data / name))
        for name in ("usdc-2025-12-31.csv", "eurc-2025-12-31.csv")
    ]
    t = trees[0]
    ids = [h.holding_id for h in t.holdings]
    result = oz_check(
        {
            "dumps": [x.dump() for x in trees],
            "proofs": [ProofFile.for_holding(t, i).to_json() for i in ids],
            "multiproofs": [MultiProofFile.for_holdings(t, ids[::2]).to_json()],
        }
    )
    assert [d["root"] for d in result["dumps"]] == [x.root_hex for x in trees]
    assert all(d["ok"] and d["same"] for d in result["dumps"])
    assert result["proofs"] == [True] * len(ids)
    assert result["multiproofs"] == [True]
