"""The streamed tree build (``porv tree build``): the same root, dump text and totals as
:class:`StandardMerkleTree`, without keeping the holdings."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.merkle.test_merkle import holdings_st
from verifier.errors import InputError
from verifier.merkle.tree import StandardMerkleTree, StreamedTree, value_json
from verifier.model.holdings import Holding, holding_to_values


def reference_dump_text(t: StandardMerkleTree) -> str:
    """The dump text as porv wrote it before the streamed writer (json.dumps of each part)."""
    d = t.dump()
    enc = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    nodes = ",\n    ".join(f'"{n}"' for n in d["tree"])
    values = enc(d["values"])[1:-1].replace('},{"value":', '},\n    {"value":')
    return (
        "{\n"
        f'  "format": {enc(d["format"])},\n'
        f'  "leafEncoding": {enc(d["leafEncoding"])},\n'
        f'  "tree": [\n    {nodes}\n  ],\n'
        f'  "values": [\n    {values}\n  ]\n'
        "}\n"
    )


def unique(hs: list[Holding]) -> list[Holding]:
    return [replace(h, holding_id=f"{i}:{h.holding_id}") for i, h in enumerate(hs)]


@settings(max_examples=60, deadline=None)
@given(st.lists(holdings_st, min_size=1, max_size=12))
def test_streamed_tree_matches_standard_tree(hs: list[Holding]) -> None:
    hs = unique(hs)
    full = StandardMerkleTree.of(hs)
    streamed = StreamedTree.of(iter(hs))
    assert streamed.root_hex == full.root_hex and len(streamed) == len(full)
    text = "".join(streamed.dump_chunks())
    assert text == "".join(full.dump_chunks()) == reference_dump_text(full)
    assert json.loads(text) == full.dump()


@settings(max_examples=200, deadline=None)
@given(holdings_st)
def test_value_json_is_the_json_encoder_text(h: Holding) -> None:
    want = json.dumps(holding_to_values(h), separators=(",", ":"), ensure_ascii=False)
    assert value_json(h) == want


def test_streamed_tree_spans_several_chunks() -> None:
    h0 = Holding("x", "cash", "USD", 1, 2, 0, "Bank", "US", "A", "", 0, bytes(32))
    hs = [replace(h0, holding_id=f"H-{i}", amount=i) for i in range(9000)]
    streamed = StreamedTree.of(hs)
    full = StandardMerkleTree.of(hs)
    assert "".join(streamed.dump_chunks()) == reference_dump_text(full)
    assert streamed.totals() == full.totals() == [("USD", sum(range(9000)), 2)]


def test_streamed_tree_refuses_empty_duplicates_and_mixed_decimals() -> None:
    h = Holding("x", "cash", "USD", 1, 2, 0, "Bank", "US", "A", "", 0, bytes(32))
    with pytest.raises(InputError, match="at least one holding"):
        StreamedTree.of([])
    with pytest.raises(InputError, match="duplicate holding_id 'x'"):
        StreamedTree.of([h, h])
    t = StreamedTree.of([h, replace(h, holding_id="y", decimals=6)])
    with pytest.raises(InputError, match="decimals 2 and 6"):
        t.totals()
