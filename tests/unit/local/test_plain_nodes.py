"""The slice-at-a-time reading of a plain tree array (``_Nodes._read_plain``) gives exactly
what the general reader gives: the same nodes, or it declines and the general reader gives its
error; never a blob where the general reader refuses, and the reader ends at the same place."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.errors import SchemaError
from verifier.merkle import tree
from verifier.merkle.tree import _Nodes
from verifier.model.jsontext import JsonReader

A, B = "ab" * 32, "0123456789abcdef" * 4


def _outcome(doc: str, plain: bool) -> tuple[bytes, str, object]:
    reader = JsonReader(doc, source="t.json")
    reader.peek()
    try:
        if plain:
            nodes = _Nodes.read(reader, "t.json")
        else:
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(_Nodes, "_read_plain", classmethod(lambda cls, r: None))
                nodes = _Nodes.read(reader, "t.json")
        return nodes.blob, str(nodes.error), reader.value()
    except SchemaError as exc:
        return b"", str(exc), None


def _agree(doc: str) -> None:
    assert _outcome(doc, True) == _outcome(doc, False)


# a node as written: plain, or one of the ways a string can be near-plain and still not be one
NODE = st.sampled_from(
    [
        f'"0x{A}"',
        f'"0x{B}"',
        f'"0x{A.upper()}"',  # upper-case hex
        f'"0X{A}"',
        f'"0x{A[:-1]}"',  # 63 digits
        f'"0x{A}0"',  # 65
        f'"0x{A[:10]} {A[11:]}"',  # a space inside the string
        f'"0x{A[:10]}x{A[11:]}"',  # an x inside
        f'"0x{A[:30]}0x{A[34:]}"',  # a second 0x, length kept
        f'"\\u0030x{A}"',  # an escape
        f'"0x{A[:10]},{A[11:]}"',  # a comma inside
        f'"0x{A[:10]}]{A[11:]}"',  # a bracket inside
        f'"0x{A[:10]}\u00e9{A[11:]}"',  # non-ASCII
        f'"0x{A[:10]}\u0663{A[11:]}"',  # a non-ASCII digit
        "7",
        "null",
        '"0x"',
        '""',
        f'["0x{A}"]',
    ]
)
SEP = st.sampled_from([",", ", ", ",\n  ", "\t,\r\n", " , ", ",,", " ", ";", ",\u00a0"])


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(NODE, SEP), max_size=9),
    NODE,
    st.sampled_from(["", " ", "\n ", "\u00a0"]),
    st.sampled_from(["", "\n", " ,"]),
    st.integers(1, 4),
)
def test_any_array_reads_as_the_general_path_reads_it(
    items: list[tuple[str, str]], last: str, lead: str, trail: str, slice_nodes: int
) -> None:
    doc = "[" + lead + "".join(n + s for n, s in items) + last + trail + "] 1"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tree, "_PLAIN_SLICE", slice_nodes)  # slices end between nodes and inside
        _agree(doc)


@pytest.mark.parametrize("slice_nodes", [1, 2, 3, 4096])
@pytest.mark.parametrize("n", [1, 2, 5, 17])
def test_plain_arrays_take_the_fast_path(n: int, slice_nodes: int) -> None:
    nodes = [f'"0x{(A if i % 2 else B)}"' for i in range(n)]
    for doc in ("[" + ", ".join(nodes) + "]", "[\n  " + ",\n  ".join(nodes) + "\n ]"):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(tree, "_PLAIN_SLICE", slice_nodes)
            reader = JsonReader(doc + " 1", source="t.json")
            got = _Nodes._read_plain(reader)
            assert got is not None and got.error is None
            assert got.blob == b"".join(bytes.fromhex(A if i % 2 else B) for i in range(n))
            assert reader.value() == 1
            _agree(doc + " 1")
