"""A bundle read piece by piece: as strict as json.loads, same trees, same canonical hash.

``load_bundle`` walks the document with :class:`JsonReader` and turns each tree into compact
form as it reads; ``parse_bundle`` takes an already decoded document. Both must accept and
refuse the same documents and check every node. A bundle read from a file hashes to sha256
of the file's exact bytes; one parsed from a document in memory to sha256 of ``rfc8785.dumps``
of the document.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from eth_utils.address import to_checksum_address

from verifier.app.demo import ChainDeployment, write_demo_files
from verifier.errors import SchemaError, TreeMismatchError
from verifier.local import jsonstream
from verifier.local.loaders import load_bundle
from verifier.merkle.tree import StandardMerkleTree
from verifier.model.bundle import parse_bundle
from verifier.model.jsontext import JsonReader

AS_OF = 1_768_435_200  # 2026-01-15T00:00:00Z


@pytest.fixture(scope="module")
def demo_doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    dep = ChainDeployment(
        31337,
        "http://127.0.0.1:1",
        to_checksum_address("0x" + "ab" * 20),
        to_checksum_address("0x" + "cd" * 20),
    )
    files = write_demo_files(tmp_path_factory.mktemp("stream"), [dep], as_of=AS_OF)
    doc: dict[str, Any] = json.loads(files.bundle.read_text())
    return doc


@pytest.fixture
def doc(demo_doc: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(demo_doc)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bundle.json"
    path.write_text(text, encoding="utf-8")
    return path


def jcs_sha256(doc: Any) -> str:
    return hashlib.sha256(rfc8785.dumps(doc)).hexdigest()


def odd_forms(doc: dict[str, Any]) -> None:
    """Rewrite custodian-a's tree the ways a dump may legally differ from porv's own output:
    integers as JSON numbers (OZ writes numbers it was given), an upper-case salt, strings
    that need escaping, and keys and values in another order."""
    tree = StandardMerkleTree.load(doc["custodians"][0]["tree"], source="t")
    holdings = list(tree.holdings)
    holdings[1] = dataclasses.replace(
        holdings[1],
        holding_id='A-DEP-2 "é\\\n\u2028\U0001f600\x7f\x01',
        counterparty='Caf\u00e9 "Bank"',
    )
    dump = StandardMerkleTree.of(holdings).dump()
    values = dump["values"]
    values[0]["value"][3] = int(values[0]["value"][3])
    values[1]["value"][11] = "0x" + values[1]["value"][11][2:].upper()
    for pos in (4, 5, 10):
        values[2]["value"][pos] = int(values[2]["value"][pos])
    doc["custodians"][0]["tree"] = {
        "values": list(reversed(values)),
        "tree": dump["tree"],
        "leafEncoding": dump["leafEncoding"],
        "format": dump["format"],
    }
    doc["issuer"] = "Example Issuer \u00e9"


@pytest.mark.parametrize(
    "dumps",
    [
        lambda d: json.dumps(d),
        lambda d: json.dumps(d, separators=(",", ":")),
        lambda d: json.dumps(d, indent=3, ensure_ascii=False),
    ],
)
def test_file_hashes_as_its_bytes_and_a_document_as_rfc8785(
    tmp_path: Path, doc: dict[str, Any], dumps: Any
) -> None:
    for variant in (False, True):
        if variant:
            odd_forms(doc)
        path = write(tmp_path, dumps(doc))
        streamed = load_bundle(path)
        decoded = parse_bundle(copy.deepcopy(doc), source="doc")
        assert streamed.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert decoded.sha256 == jcs_sha256(doc)
        for a, b in zip(streamed.custodians, decoded.custodians, strict=True):
            assert a.tree.root == b.tree.root
            assert a.tree.holdings == b.tree.holdings
            assert a.tree.dump() == b.tree.dump()


def test_a_changed_leaf_or_node_is_still_caught(tmp_path: Path, doc: dict[str, Any]) -> None:
    values = doc["custodians"][0]["tree"]["values"]
    values[0]["value"][3] = str(int(values[0]["value"][3]) + 1)
    with pytest.raises(TreeMismatchError, match="leaf hash"):
        load_bundle(write(tmp_path, json.dumps(doc)))
    values[0]["value"][3] = str(int(values[0]["value"][3]) - 1)
    nodes = doc["custodians"][1]["tree"]["tree"]
    nodes[0] = "0x" + "00" * 32
    with pytest.raises(TreeMismatchError, match=r"tree\[0\] is not the hash of its children"):
        load_bundle(write(tmp_path, json.dumps(doc)))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        # a node must be exactly 0x + 64 lowercase hex digits
        (lambda t: t["tree"].__setitem__(1, t["tree"][1].upper().replace("0X", "0x")), "lowercase"),
        (lambda t: t["tree"].__setitem__(1, "0x" + "ab" * 31 + "  "), "lowercase"),
        (lambda t: t.__setitem__("tree", []), "non-empty list"),
        (lambda t: t.__setitem__("values", []), "non-empty list"),
        (lambda t: t["values"][0].__setitem__("treeIndex", 0), "not a leaf slot"),
        (lambda t: t["values"][0].__setitem__("treeIndex", True), "not a leaf slot"),
        (lambda t: t["values"][0].__setitem__("treeIndex", 2**70), "not a leaf slot"),
        (lambda t: t["values"][1].__setitem__("treeIndex", t["values"][0]["treeIndex"]), "two"),
        (lambda t: t["values"][0].__setitem__("extra", 1), "exactly value and treeIndex"),
        (lambda t: t["values"][0]["value"].__setitem__(3, "-1"), "canonical unsigned"),
        (lambda t: t["values"][0]["value"].__setitem__(1, "shares"), "unknown asset class"),
        (lambda t: t.__setitem__("extra", 1), "unknown key"),
    ],
)
def test_streamed_and_decoded_loads_refuse_alike(
    tmp_path: Path, doc: dict[str, Any], edit: Any, message: str
) -> None:
    edit(doc["custodians"][0]["tree"])
    with pytest.raises(SchemaError, match=message):
        parse_bundle(copy.deepcopy(doc), source="doc")
    with pytest.raises(SchemaError, match=message) as info:
        load_bundle(write(tmp_path, json.dumps(doc)))
    assert info.value.location is not None
    assert str(tmp_path / "bundle.json") in str(info.value.location.file)


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda s: s.replace('"format"', '"format": 1, "format"', 1), "appears twice"),
        (lambda s: s.replace('"id"', '"id": "x", "id"', 1), "appears twice"),
        (lambda s: s.replace('"leafEncoding"', '"tree": [], "leafEncoding"', 1), "appears twice"),
        (lambda s: s.replace('"treeIndex"', '"treeIndex": 1, "treeIndex"', 1), "appears twice"),
        (lambda s: s.replace('"paid_up_capital"', '"a": NaN, "paid_up_capital"', 1), "NaN"),
        (lambda s: s + " {}", "Extra data"),
        (lambda s: s[:-5], "not valid JSON"),
        (lambda s: s.replace(",", " ", 1), "delimiter"),
        (lambda s: s.replace('"values": [', '"values": [,', 1), "Expecting value"),
        (lambda s: s.replace('"tree": [', '"tree": [1 2', 1), "delimiter"),
        (lambda s: s.replace('"custodians": [', '"custodians": [{"id" 1}, ', 1), "':'"),
        (lambda s: s.replace('"custodians": [', '"custodians": [{1: 2}, ', 1), "property name"),
        (lambda s: "[" + s + "]", "expected an object"),
        (lambda s: "", "Expecting value"),
    ],
)
def test_streamed_reading_is_as_strict_as_loads(
    tmp_path: Path, doc: dict[str, Any], mangle: Any, message: str
) -> None:
    text = mangle(json.dumps(doc, indent=1))
    with pytest.raises(SchemaError, match=message) as info:
        load_bundle(write(tmp_path, text))
    assert info.value.location is not None
    assert info.value.location.file == str(tmp_path / "bundle.json")


def test_reader_reports_line_and_column() -> None:
    reader = JsonReader('{\n  "a": [1,\n  2 3]\n}', source="x.json")
    keys = reader.object()
    assert next(keys) == "a"
    items = reader.array()
    next(items)
    reader.value()
    next(items)
    reader.value()
    with pytest.raises(SchemaError, match=r"delimiter \(column 5\)") as info:
        next(items)
    assert info.value.location is not None and info.value.location.line == 3


def test_reader_reads_empty_containers_and_ends_cleanly() -> None:
    reader = JsonReader(' {"a": [], "b": {}, "c": [ {} ] } ', source="x")
    seen: dict[str, Any] = {}
    for key in reader.object():
        if key == "a":
            seen[key] = [reader.value() for _ in reader.array()]
        elif key == "b":
            seen[key] = [k for k in reader.object()]
        else:
            seen[key] = [reader.value() for _ in reader.array()]
    reader.end()
    assert seen == {"a": [], "b": [], "c": [{}]}


# --- the text: one byte per character whatever the content -------------------------------


def test_one_wide_character_does_not_widen_the_whole_text(tmp_path: Path) -> None:
    doc = {"a": "x" * 5000, "b": "emoji \U0001f600 and \u00e9\u4e2d", "c": ["\u2028"]}
    path = write(tmp_path, json.dumps(doc, ensure_ascii=False))
    text = jsonstream.read_json_text_compact(path)
    assert text.isascii()  # escaped: 1 byte per character instead of 4
    assert json.loads(text) == doc


def test_latin1_text_stays_as_decoded(tmp_path: Path) -> None:
    doc = {"a": "caf\u00e9 " * 100}
    path = write(tmp_path, json.dumps(doc, ensure_ascii=False))
    text = jsonstream.read_json_text_compact(path)
    assert not text.isascii()  # already 1 byte per character, shorter than escapes
    assert json.loads(text) == doc


@pytest.mark.parametrize("chunk", [1 << 20, 7, 8])
def test_a_backslash_before_a_non_ascii_character_stays_invalid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(jsonstream, "_CHUNK", chunk)
    # "\<emoji>" is an invalid escape; its \u form after the backslash would read as "\\u..."
    bad = write(tmp_path, '{"a":"\\\U0001f600' + "x" * 100 + '"}')
    with pytest.raises(SchemaError, match="invalid"):
        JsonReader(jsonstream.read_json_text_compact(bad), source="x").value()
    good = write(tmp_path, '{"a":"\\\\\U0001f600' + "x" * 100 + '"}')
    text = jsonstream.read_json_text_compact(good)
    assert json.loads(text) == {"a": "\\\U0001f600" + "x" * 100}


@pytest.mark.parametrize("chunk", [1 << 20, 5])
def test_bad_utf8_is_named_by_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(jsonstream, "_CHUNK", chunk)
    path = tmp_path / "bad.json"
    path.write_bytes(b'{"a": "\xc3\xa9\xff"}')
    with pytest.raises(SchemaError, match=r"not UTF-8 text \(byte 9\)"):
        jsonstream.read_json_text_compact(path)
    with pytest.raises(SchemaError, match="byte limit"):
        jsonstream.read_json_text_compact(path, max_bytes=5)


def test_bundle_with_an_emoji_hashes_its_bytes(tmp_path: Path, doc: dict[str, Any]) -> None:
    odd_forms(doc)
    path = write(tmp_path, json.dumps(doc, ensure_ascii=False))
    assert load_bundle(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_bundle_digest_changes_with_any_byte(tmp_path: Path, doc: dict[str, Any]) -> None:
    """The same document written twice differently is two files: two digests."""
    one = load_bundle(write(tmp_path, json.dumps(doc))).sha256
    two = load_bundle(write(tmp_path, json.dumps(doc, indent=1))).sha256
    assert one != two


@pytest.mark.parametrize(
    "text",
    [
        '["0x{a}", "0x{b}"]',
        '[\n  "0x{a}" ,\n\t"0x{b}"\n]',
        '["0x{a}", "0x{B}"]',  # upper case: the general path's error
        '["0x{a}", "0x{b}",]',  # a trailing comma
        '["0x{a}", "0x{b}" "0x{a}"]',  # a missing comma
        '["0x{a}", 7]',
        "[]",
    ],
)
def test_plain_node_arrays_read_as_the_general_path_reads_them(text: str) -> None:
    """The one-regex-per-node reading of a tree array gives what the general reader gives
    (nodes, or the same error), and leaves the reader at the same place."""
    from verifier.merkle.tree import _Nodes

    a, b = "ab" * 32, "cd" * 32
    doc = text.replace("{a}", a).replace("{b}", b).replace("{B}", b.upper()) + " 1"
    outcomes = []
    for plain in (True, False):
        reader = JsonReader(doc, source="t.json")
        reader.peek()
        try:
            if plain:
                nodes = _Nodes.read(reader, "t.json")
            else:
                with pytest.MonkeyPatch.context() as mp:
                    mp.setattr(_Nodes, "_read_plain", classmethod(lambda cls, r: None))
                    nodes = _Nodes.read(reader, "t.json")
            outcomes.append((nodes.blob, str(nodes.error), reader.value()))
        except SchemaError as exc:
            outcomes.append((b"", str(exc), None))
    assert outcomes[0] == outcomes[1]
