"""The OpenZeppelin StandardMerkleTree implementation: encoding, layout, proofs, loading."""

from __future__ import annotations

import copy
import itertools
from dataclasses import replace
from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_hash.auto import keccak as eth_keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.errors import InputError, SchemaError, TreeMismatchError
from verifier.merkle.tree import (
    StandardMerkleTree,
    encode_leaf,
    leaf_hash,
    node_hash,
    process_multiproof,
    verify_multiproof,
    verify_proof,
)
from verifier.model.holdings import ASSET_CLASSES, LEAF_ENCODING, Holding, holding_to_values
from verifier.model.keccak import keccak256

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=80)
holdings_st = st.builds(
    Holding,
    holding_id=text,
    asset_class=st.sampled_from(sorted(ASSET_CLASSES)),
    currency=st.sampled_from(["USD", "EUR", "JPY"]),
    amount=st.integers(0, 2**256 - 1),
    decimals=st.integers(0, 255),
    maturity=st.integers(0, 2**64 - 1),
    counterparty=text,
    country=text,
    rating=text,
    collateral=text,
    collateral_value=st.integers(0, 2**256 - 1),
    salt=st.binary(min_size=32, max_size=32),
)


def abi_values(h: Holding) -> list[Any]:
    return [
        h.holding_id,
        h.asset_class,
        h.currency,
        h.amount,
        h.decimals,
        h.maturity,
        h.counterparty,
        h.country,
        h.rating,
        h.collateral,
        h.collateral_value,
        h.salt,
    ]


def make(n: int) -> list[Holding]:
    return [
        Holding(f"H-{i}", "cash", "USD", 100 * i + 1, 2, 0, f"Bank {i}", "US", "", "", 0)
        for i in range(n)
    ]


@settings(max_examples=300, deadline=None)
@given(holdings_st)
def test_hand_encoder_matches_eth_abi(h: Holding) -> None:
    encoded = abi_encode(list(LEAF_ENCODING), abi_values(h))
    assert encode_leaf(h) == encoded
    assert leaf_hash(h) == eth_keccak(eth_keccak(encoded))


def test_keccak_is_ethereum_keccak() -> None:
    assert keccak256(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
    for data in (b"abc", bytes(1000)):
        assert keccak256(data) == eth_keccak(data)
    for buffer in (bytearray(b"abc"), memoryview(b"abc")):  # the one keccak takes any buffer
        assert keccak256(buffer) == eth_keccak(b"abc")  # type: ignore[arg-type]


def naive_root(leaves: list[bytes]) -> bytes:
    """Reference: OZ's makeMerkleTree written as directly as possible."""
    ordered = sorted(leaves)
    tree: list[bytes] = [b""] * (2 * len(ordered) - 1)
    for i, leaf in enumerate(ordered):
        tree[len(tree) - 1 - i] = leaf
    for i in range(len(tree) - 1 - len(ordered), -1, -1):
        tree[i] = eth_keccak(b"".join(sorted([tree[2 * i + 1], tree[2 * i + 2]])))
    return tree[0]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 8, 13])
def test_layout_and_proofs(n: int) -> None:
    hs = make(n)
    t = StandardMerkleTree.of(hs)
    assert len(t) == n
    assert t.holdings == tuple(hs)
    assert t.root == naive_root([leaf_hash(h) for h in hs])
    assert t.root_hex == "0x" + t.root.hex()
    d = t.dump()
    assert d["format"] == "standard-v1" and d["leafEncoding"] == list(LEAF_ENCODING)
    assert len(d["tree"]) == 2 * n - 1
    assert [v["value"] for v in d["values"]] == [holding_to_values(h) for h in hs]
    # leaves fill the array from the end, sorted ascending
    leaf_slots = d["tree"][n - 1 :]
    assert leaf_slots == sorted(leaf_slots, reverse=True)
    for h in hs:
        proof = t.get_proof(h.holding_id)
        assert verify_proof(t.root, leaf_hash(h), proof)
        if proof:
            assert not verify_proof(t.root, leaf_hash(h), proof[:-1])
            assert not verify_proof(t.root, leaf_hash(replace(h, amount=h.amount + 1)), proof)
    assert StandardMerkleTree.load(d, source="t").dump() == d


@pytest.mark.parametrize("n", [1, 2, 3, 5, 6])
def test_every_multiproof(n: int) -> None:
    hs = make(n)
    t = StandardMerkleTree.of(hs)
    for k in range(1, n + 1):
        for ids in itertools.combinations([h.holding_id for h in hs], k):
            mp = t.get_multiproof(ids)
            assert sorted(h.holding_id for h in mp.leaves) == sorted(ids)
            leaves = [leaf_hash(h) for h in mp.leaves]
            assert verify_multiproof(t.root, leaves, mp.proof, mp.proof_flags)
            if mp.proof:
                assert not verify_multiproof(t.root, leaves, mp.proof[:-1], mp.proof_flags)
            if mp.proof_flags:
                flipped = (not mp.proof_flags[0], *mp.proof_flags[1:])
                assert not verify_multiproof(t.root, leaves, mp.proof, flipped)


def test_multiproof_validity_checks() -> None:
    t = StandardMerkleTree.of(make(4))
    mp = t.get_multiproof(["H-0", "H-3"])
    leaves = [leaf_hash(h) for h in mp.leaves]
    # more False flags than proof hashes
    assert process_multiproof(leaves, [], [False] * 3) is None
    # leaves + proof != flags + 1
    assert process_multiproof(leaves, mp.proof, (*mp.proof_flags, True)) is None
    # non-32-byte nodes
    assert not verify_multiproof(t.root, [b"x"], [], [])
    assert not verify_multiproof(b"short", leaves, mp.proof, mp.proof_flags)
    # no leaves: OZ returns proof[0]
    assert verify_multiproof(t.root, [], [t.root], [])
    assert t.get_multiproof([]).proof == (t.root,)
    # a queue that runs dry when a flag asks for two queued hashes
    assert process_multiproof([leaves[0]], [leaves[1]], [True]) is None


def test_verify_proof_rejects_bad_lengths() -> None:
    t = StandardMerkleTree.of(make(2))
    h = t.holdings[0]
    assert not verify_proof(t.root, leaf_hash(h), [b"\x00" * 31])
    assert not verify_proof(t.root[:31], leaf_hash(h), t.get_proof("H-0"))
    assert node_hash(b"\x01" * 32, b"\x00" * 32) == node_hash(b"\x00" * 32, b"\x01" * 32)


def test_of_errors() -> None:
    with pytest.raises(InputError, match="at least one"):
        StandardMerkleTree.of([])
    hs = make(2)
    with pytest.raises(InputError, match="duplicate holding_id"):
        StandardMerkleTree.of([hs[0], replace(hs[1], holding_id="H-0")])
    with pytest.raises(SchemaError, match="out of range") as info:
        StandardMerkleTree.of([replace(hs[0], decimals=256)])
    assert info.value.location is not None and info.value.location.field == "decimals"
    with pytest.raises(SchemaError, match="negative"):
        StandardMerkleTree.of([replace(hs[0], amount=-1)])
    with pytest.raises(SchemaError, match="32 bytes"):
        StandardMerkleTree.of([replace(hs[0], salt=b"\x01")])
    with pytest.raises(SchemaError, match="cannot be ABI-encoded"):
        StandardMerkleTree.of([replace(hs[0], counterparty="\ud800")])


def test_lookup_errors() -> None:
    t = StandardMerkleTree.of(make(3))
    with pytest.raises(InputError, match="no holding"):
        t.get_proof("nope")
    with pytest.raises(InputError, match="twice"):
        t.get_multiproof(["H-1", "H-1"])
    assert t.holding("H-2").amount == 201


def test_totals() -> None:
    hs = [*make(3), Holding("E", "cash", "EUR", 5, 2, 0, "", "", "", "", 0)]
    t = StandardMerkleTree.of(hs)
    assert t.totals() == [("EUR", 5, 2), ("USD", 1 + 101 + 201, 2)]
    bad = StandardMerkleTree.of([*hs, Holding("U6", "cash", "USD", 5, 6, 0, "", "", "", "", 0)])
    with pytest.raises(InputError, match="decimals 2 and 6"):
        bad.totals()


def good_dump() -> dict[str, Any]:
    return StandardMerkleTree.of(make(5)).dump()


def mutate(fn: Any) -> dict[str, Any]:
    d = copy.deepcopy(good_dump())
    fn(d)
    return d


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda d: d.update(extra=1), "unknown key"),
        (lambda d: d.pop("values"), "missing key"),
        (lambda d: d.update(format="standard-v2"), "unknown tree format"),
        (lambda d: d.update(leafEncoding=["string"]), "leafEncoding"),
        (lambda d: d.update(tree=[]), "non-empty list"),
        (lambda d: d["tree"].pop(), "need exactly"),
        (lambda d: d["tree"].__setitem__(0, d["tree"][0].upper()), "lowercase hex"),
        (lambda d: d["tree"].__setitem__(0, "0x" + "zz" * 32), "lowercase hex"),
        (lambda d: d["tree"].__setitem__(0, 5), "lowercase hex"),
        (lambda d: d.update(values=[]), "non-empty list"),
        (lambda d: d["values"][0].update(extra=1), "exactly value and treeIndex"),
        (lambda d: d["values"][0].update(treeIndex=0), "not a leaf slot"),
        (lambda d: d["values"][0].update(treeIndex="5"), "not a leaf slot"),
        (lambda d: d["values"][0].update(treeIndex=d["values"][1]["treeIndex"]), "used by two"),
        (lambda d: d["values"][0]["value"].__setitem__(3, "-1"), "canonical"),
        (lambda d: d["values"][1]["value"].__setitem__(0, "H-0"), "duplicate holding_id"),
    ],
)
def test_load_schema_errors(change: Any, needle: str) -> None:
    with pytest.raises(SchemaError, match=needle) as info:
        StandardMerkleTree.load(mutate(change), source="dump.json")
    assert info.value.exit_code == 2
    assert info.value.location is not None and info.value.location.file == "dump.json"


def test_load_not_an_object() -> None:
    with pytest.raises(SchemaError, match="JSON object"):
        StandardMerkleTree.load([], source="x")  # type: ignore[arg-type]


def test_load_mismatches_exit_1() -> None:
    # a value changed: its leaf no longer matches
    d = mutate(lambda d: d["values"][2]["value"].__setitem__(3, "999"))
    with pytest.raises(TreeMismatchError, match="not the leaf hash") as info:
        StandardMerkleTree.load(d, source="dump.json")
    assert info.value.exit_code == 1
    # an inner node changed
    d = mutate(lambda d: d["tree"].__setitem__(1, "0x" + "11" * 32))
    with pytest.raises(TreeMismatchError, match="not the hash of its children"):
        StandardMerkleTree.load(d, source="dump.json")
    # a value and its leaf swapped for another holding consistently, the inner nodes kept
    other = Holding("X", "cash", "USD", 1, 2, 0, "", "", "", "", 0)
    d = good_dump()
    d["values"][4]["value"] = holding_to_values(other)
    d["tree"][d["values"][4]["treeIndex"]] = "0x" + leaf_hash(other).hex()
    with pytest.raises(TreeMismatchError, match="children"):
        StandardMerkleTree.load(d, source="dump.json")


def test_load_keeps_unsorted_layout() -> None:
    # OZ allows sortLeaves: false; such a dump is valid and keeps its layout
    hs = make(3)
    leaves = [leaf_hash(h) for h in hs]
    tree = [b""] * 5
    for i, leaf in enumerate(leaves):
        tree[4 - i] = leaf
    for i in (1, 0):
        tree[i] = node_hash(tree[2 * i + 1], tree[2 * i + 2])
    dump = {
        "format": "standard-v1",
        "leafEncoding": list(LEAF_ENCODING),
        "tree": ["0x" + n.hex() for n in tree],
        "values": [{"value": holding_to_values(h), "treeIndex": 4 - i} for i, h in enumerate(hs)],
    }
    t = StandardMerkleTree.load(dump, source="x")
    assert t.dump() == dump
    for h in hs:
        assert verify_proof(t.root, leaf_hash(h), t.get_proof(h.holding_id))
