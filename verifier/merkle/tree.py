"""OpenZeppelin ``StandardMerkleTree`` (``@openzeppelin/merkle-tree`` v1) over reserve holdings.

Byte-compatible with the JavaScript library and with ``MerkleProof.sol``:

* leaf = ``keccak256(keccak256(abi.encode(LEAF_ENCODING, values)))`` (the double hash keeps a
  64-byte leaf preimage from ever being read as an inner node);
* inner node = ``keccak256(min(a, b) || max(a, b))`` (sorted pair, so proofs carry no
  left/right bits);
* leaves sorted by hash, laid out as OZ's ``makeMerkleTree``: a flat array of ``2n - 1``
  nodes, root at 0, children of ``i`` at ``2i + 1`` and ``2i + 2``, the sorted leaves filling
  the array from its end backwards;
* the ``standard-v1`` dump ``{format, leafEncoding, tree, values: [{value, treeIndex}]}``.

The leaf layout is fixed (DESIGN §2), so the ABI encoding is written out by hand instead of
going through a generic encoder; tests cross-check it against ``eth_abi.encode``. Pure code:
no IO, no clock, no printing.
"""

from __future__ import annotations

import json
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import rfc8785

from verifier.errors import InputError, Location, SchemaError, TreeMismatchError
from verifier.model.holdings import (
    LEAF_ENCODING,
    Holding,
    check_holding,
    holding_from_values,
    holding_to_values,
    plain_holding,
)
from verifier.model.jsontext import JsonReader
from verifier.model.keccak import keccak256

FORMAT = "standard-v1"
_HEAD_SIZE = 32 * len(LEAF_ENCODING)
_ZERO32 = bytes(32)
_NODE_HEX_LEN = 66


# --- leaf encoding -----------------------------------------------------------------------


def _tail(text: str) -> bytes:
    """ABI tail of a ``string``: 32-byte length, then the UTF-8 bytes zero-padded to 32."""
    raw = text.encode("utf-8")
    n = len(raw)
    return n.to_bytes(32, "big") + raw + _ZERO32[: -n % 32]


_T = TypeVar("_T")


def _memo(compute: Callable[[str], _T], limit: int = 65536) -> Callable[[str], _T]:
    """``compute`` memoised for fields whose few values repeat across holdings (class,
    currency...); at most ``limit`` values are kept (hostile input cannot grow it further)."""
    cache: dict[str, _T] = {}

    def memoised(text: str) -> _T:
        got = cache.get(text)
        if got is None:
            got = compute(text)
            if len(cache) < limit:
                cache[text] = got
        return got

    return memoised


_tail_cached = _memo(_tail)


#: (len(holding_id tail), class, currency, counterparty, country, rating, collateral) ->
#: (offset words 1-2, offset words 6-9, the six string tails): the part of a leaf encoding
#: that the few repeated field values fix. Bounded like the other memos.
_Layout = tuple[bytes, bytes, bytes]
_LAYOUTS: dict[tuple[Any, ...], _Layout] = {}
_HEAD_WORD = _HEAD_SIZE.to_bytes(32, "big")


def _layout(key: tuple[Any, ...]) -> _Layout:
    t0_len, *texts = key
    t1, t2, t6, t7, t8, t9 = (_tail_cached(t) for t in texts)
    o1 = _HEAD_SIZE + t0_len
    o2 = o1 + len(t1)
    o6 = o2 + len(t2)
    o7 = o6 + len(t6)
    o8 = o7 + len(t7)
    o9 = o8 + len(t8)
    return (
        o1.to_bytes(32, "big") + o2.to_bytes(32, "big"),
        b"".join(o.to_bytes(32, "big") for o in (o6, o7, o8, o9)),
        b"".join((t1, t2, t6, t7, t8, t9)),
    )


def encode_leaf(h: Holding) -> bytes:
    """``abi.encode(LEAF_ENCODING, holding_to_values(h))`` written out for the fixed layout.

    The 12 values form a tuple with a 12-word head: static values in place, and for each of
    the seven strings the offset (from the start of the encoding) of its tail.

    Args:
        h: the holding.

    Returns:
        The ABI encoding (a multiple of 32 bytes).

    Raises:
        SchemaError: a field has the wrong Python type or does not fit its ABI type.
    """
    try:
        t0 = _tail(h.holding_id)
        key = (
            len(t0),
            h.asset_class,
            h.currency,
            h.counterparty,
            h.country,
            h.rating,
            h.collateral,
        )
        layout = _LAYOUTS.get(key)
        if layout is None:
            layout = _layout(key)
            if len(_LAYOUTS) < 65536 and all(type(x) is str for x in key[1:]):
                _LAYOUTS[key] = layout
        o12, o6789, tails = layout
        salt = h.salt
        if (
            not 0 <= h.decimals <= 0xFF
            or not 0 <= h.maturity <= 0xFFFFFFFFFFFFFFFF
            or type(salt) is not bytes
            or len(salt) != 32
        ):
            raise ValueError
        return b"".join(
            (
                _HEAD_WORD,
                o12,
                h.amount.to_bytes(32, "big"),
                h.decimals.to_bytes(32, "big"),
                h.maturity.to_bytes(32, "big"),
                o6789,
                h.collateral_value.to_bytes(32, "big"),
                salt,
                t0,
                tails,
            )
        )
    except (AttributeError, TypeError, ValueError, OverflowError) as exc:
        check_holding(h)  # raises SchemaError naming the field
        raise SchemaError(f"holding {h.holding_id!r} cannot be ABI-encoded: {exc}") from None


def leaf_hash(h: Holding) -> bytes:
    """The OpenZeppelin standard leaf hash of a holding: ``keccak256(keccak256(abi.encode))``.

    Args:
        h: the holding.

    Returns:
        The 32-byte leaf.

    Raises:
        SchemaError: the holding does not fit the leaf encoding.
    """
    return keccak256(keccak256(encode_leaf(h)))


def node_hash(a: bytes, b: bytes) -> bytes:
    """Inner node of a sorted-pair tree: ``keccak256`` of the two children, smaller first.

    Args:
        a: one child (32 bytes).
        b: the other child (32 bytes).

    Returns:
        The parent node.
    """
    return keccak256(a + b if a <= b else b + a)


# --- verification ------------------------------------------------------------------------


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """Fold a single proof into the root it implies (OZ ``processProof``).

    Args:
        leaf: the 32-byte leaf hash.
        proof: sibling hashes from the leaf up.

    Returns:
        The implied root.
    """
    node = leaf
    for sibling in proof:
        node = keccak256(node + sibling if node <= sibling else sibling + node)
    return node


def verify_proof(root: bytes, leaf: bytes, proof: Sequence[bytes]) -> bool:
    """Whether ``proof`` shows that ``leaf`` is in the tree with root ``root``.

    Same algorithm as OZ's ``processProof`` and ``MerkleProof.verify``. Nodes that are not
    32 bytes make the proof invalid (OZ's library throws on them).

    Args:
        root: the 32-byte root.
        leaf: the 32-byte leaf hash (see :func:`leaf_hash`).
        proof: the sibling hashes.

    Returns:
        True when the proof folds to ``root``.
    """
    if len(root) != 32 or len(leaf) != 32 or any(len(p) != 32 for p in proof):
        return False
    return process_proof(leaf, proof) == root


def process_multiproof(
    leaves: Sequence[bytes], proof: Sequence[bytes], flags: Sequence[bool]
) -> bytes | None:
    """Root implied by a multiproof (OZ ``processMultiProof``), or None if it is malformed.

    A multiproof is malformed when it has fewer proof hashes than ``False`` flags, when
    ``len(leaves) + len(proof) != len(flags) + 1``, or when it does not consume exactly all of
    its proof hashes (the checks of OZ's JS library and ``MerkleProof.sol``).

    Args:
        leaves: leaf hashes, in the order the multiproof lists them.
        proof: the extra sibling hashes.
        flags: for each step, True to take the next hash from the leaves/computed queue,
            False to take it from ``proof``.

    Returns:
        The implied root, or None.
    """
    if any(len(x) != 32 for x in (*leaves, *proof)):
        return None
    if len(proof) < sum(1 for f in flags if not f):
        return None
    if len(leaves) + len(proof) != len(flags) + 1:
        return None
    queue = list(leaves)
    extra = list(proof)
    qpos = 0
    ppos = 0
    for flag in flags:
        if qpos >= len(queue):
            return None
        a = queue[qpos]
        qpos += 1
        if flag:
            if qpos >= len(queue):
                return None
            b = queue[qpos]
            qpos += 1
        else:
            b = extra[ppos]
            ppos += 1
        queue.append(node_hash(a, b))
    remaining = len(queue) - qpos
    if remaining + (len(extra) - ppos) != 1:
        return None
    return queue[-1] if remaining == 1 else extra[ppos]


def verify_multiproof(
    root: bytes, leaves: Sequence[bytes], proof: Sequence[bytes], flags: Sequence[bool]
) -> bool:
    """Whether a multiproof shows that all ``leaves`` are in the tree with root ``root``.

    Args:
        root: the 32-byte root.
        leaves: the leaf hashes, in the multiproof's order.
        proof: the sibling hashes.
        flags: the proof flags.

    Returns:
        True when the multiproof is well formed and folds to ``root``.
    """
    if len(root) != 32:
        return False
    return process_multiproof(leaves, proof, flags) == root


# --- the tree ----------------------------------------------------------------------------


def tree_layout(leaves: list[bytes]) -> tuple[bytes, array[int]]:
    """OZ's ``makeMerkleTree`` over leaf hashes given in value order.

    The leaves are sorted by hash (OZ's default ``sortLeaves``) and fill the ``2n - 1`` node
    array from its end backwards; inner node ``i`` hashes its children ``2i + 1``, ``2i + 2``.

    Args:
        leaves: the 32-byte leaf hash of each value, in value order (at least one).

    Returns:
        The nodes as one blob of 32-byte hashes (root first), and each value's tree index.
    """
    n = len(leaves)
    order = sorted(range(n), key=leaves.__getitem__)
    size = 2 * n - 1
    tree: list[bytes] = [b""] * size
    tree_index: array[int] = array("q", bytes(8 * n))
    for pos, vi in enumerate(order):
        tree[size - 1 - pos] = leaves[vi]
        tree_index[vi] = size - 1 - pos
    del order
    k = keccak256
    for i in range(size - 1 - n, -1, -1):
        a = tree[2 * i + 1]
        b = tree[2 * i + 2]
        tree[i] = k(a + b if a <= b else b + a)
    return b"".join(tree), tree_index


@dataclass(frozen=True, slots=True)
class MultiProof:
    """A multiproof as OZ's ``getMultiProof`` returns it (leaves in the order it needs)."""

    leaves: tuple[Holding, ...]
    proof: tuple[bytes, ...]
    proof_flags: tuple[bool, ...]


class StandardMerkleTree:
    """An OpenZeppelin ``StandardMerkleTree`` whose leaves are holdings (DESIGN §2).

    Build with :meth:`of`, read a dump with :meth:`load`; both give a tree whose every node is
    known to be right. The object is immutable.
    """

    __slots__ = ("_forms", "_holdings", "_index", "_nodes", "_tree_index")

    def __init__(
        self,
        tree: Sequence[bytes] | bytes,
        holdings: Sequence[Holding],
        tree_index: Sequence[int],
        forms: Mapping[int, tuple[int, str | None]] | None = None,
    ) -> None:
        """Internal: use :meth:`of` or :meth:`load`, which validate their input.

        ``tree`` is the list of 32-byte nodes or their concatenation; ``forms`` records, per
        value index, how a loaded dump wrote a value where porv would write it differently
        (see :meth:`write_canonical_dump`).
        """
        # one blob of 32-byte nodes (a list of bytes objects costs 2.3 times as much)
        self._nodes: bytes = tree if isinstance(tree, bytes) else b"".join(tree)
        self._holdings: tuple[Holding, ...] = tuple(holdings)
        self._tree_index: array[int] = array("q", tree_index)
        self._forms: Mapping[int, tuple[int, str | None]] = forms or {}
        self._index: dict[str, int] | None = None  # holding id -> value index, built on use

    def _node(self, i: int) -> bytes:
        return self._nodes[32 * i : 32 * i + 32]

    # construction ------------------------------------------------------------------------

    @classmethod
    def of(cls, holdings: Sequence[Holding]) -> StandardMerkleTree:
        """Build the tree as ``StandardMerkleTree.of(values, LEAF_ENCODING)`` does in OZ's JS.

        Args:
            holdings: the holdings, in the order their values appear in the dump.

        Returns:
            The tree.

        Raises:
            InputError: no holdings, or a holding_id appears twice.
            SchemaError: a holding does not fit the leaf encoding.
        """
        n = len(holdings)
        if n == 0:
            raise InputError("a Merkle tree needs at least one holding; none were given")
        seen: set[str] = set()
        for h in holdings:
            if h.holding_id in seen:
                raise InputError(
                    f"duplicate holding_id {h.holding_id!r}",
                    hint="every holding_id must be unique within a reserve",
                )
            seen.add(h.holding_id)
        k = keccak256
        nodes, tree_index = tree_layout([k(k(encode_leaf(h))) for h in holdings])
        return cls(nodes, holdings, tree_index)

    @classmethod
    def load(cls, dump: Mapping[str, Any], *, source: str) -> StandardMerkleTree:
        """Load a ``standard-v1`` dump (porv's or OZ's ``tree.dump()``) and check every node.

        The dump must have exactly ``format``, ``leafEncoding``, ``tree`` and ``values``; the
        tree must have ``2n - 1`` nodes for ``n`` values, each value must sit on its own leaf
        slot, and every node must be the hash it claims to be, so no leaf is hidden and none
        is left out.

        Args:
            dump: the decoded JSON object.
            source: where it came from (a file name), for error locations.

        Returns:
            The tree, with the dump's layout and value order.

        Raises:
            SchemaError: a malformed shape, another format or leaf encoding, a node that is
                not 0x + 64 lowercase hex, a bad treeIndex, or a value that is not a holding.
            TreeMismatchError: a leaf does not hash to its value, or an inner node is not the hash
                of its children.
        """
        if not isinstance(dump, Mapping):
            raise SchemaError("a tree dump must be a JSON object", location=Location(source))
        keys = set(dump)
        expected = {"format", "leafEncoding", "tree", "values"}
        if keys != expected:
            extra = sorted(keys - expected)
            missing = sorted(expected - keys)
            what = f"unknown key(s) {extra}" if extra else f"missing key(s) {missing}"
            raise SchemaError(
                f"a standard-v1 dump has exactly the keys format, leafEncoding, tree, values: "
                f"{what}",
                location=Location(source, field=(extra or missing)[0]),
            )
        if dump["format"] != FORMAT:
            raise SchemaError(
                f"unknown tree format {dump['format']!r}; expected {FORMAT!r}",
                location=Location(source, field="format"),
            )
        if dump["leafEncoding"] != list(LEAF_ENCODING):
            raise SchemaError(
                f"leafEncoding {dump['leafEncoding']!r} is not porv's fixed holding encoding "
                f"{list(LEAF_ENCODING)!r}",
                location=Location(source, field="leafEncoding"),
            )
        nodes = _parse_nodes(dump["tree"], source, "tree")
        size = len(nodes) // 32
        values = dump["values"]
        if not isinstance(values, _Values):
            if not isinstance(values, list) or not values:
                raise SchemaError(
                    "values must be a non-empty list", location=Location(source, field="values")
                )
            reader = _Values(source)
            for entry in values:
                reader.add(entry)
            values = reader
        n = values.count
        if n == 0:
            raise SchemaError(
                "values must be a non-empty list", location=Location(source, field="values")
            )
        if size != 2 * n - 1:
            raise SchemaError(
                f"tree has {size} nodes but {n} values need exactly {2 * n - 1}",
                location=Location(source, field="tree"),
            )
        holdings, tree_index = values.finish(size)
        for i, (h, ti) in enumerate(zip(holdings, tree_index, strict=True)):
            if nodes[32 * ti : 32 * ti + 32] != leaf_hash(h):
                raise TreeMismatchError(
                    f"tree[{ti}] is not the leaf hash of values[{i}] ({h.holding_id!r})",
                    location=Location(source, field=f"tree[{ti}]"),
                    hint="the dump was altered: the values do not match the tree",
                )
        k = keccak256
        for i in range(size - n - 1, -1, -1):
            a = nodes[64 * i + 32 : 64 * i + 64]
            b = nodes[64 * i + 64 : 64 * i + 96]
            if nodes[32 * i : 32 * i + 32] != k(a + b if a <= b else b + a):
                raise TreeMismatchError(
                    f"tree[{i}] is not the hash of its children tree[{2 * i + 1}], "
                    f"tree[{2 * i + 2}]",
                    location=Location(source, field=f"tree[{i}]"),
                    hint="the dump was altered: its nodes do not hash up to its root",
                )
        return cls(nodes, holdings, tree_index, values.forms)

    @classmethod
    def read_dump(cls, reader: JsonReader, *, source: str) -> dict[str, Any]:
        """Read a dump object from a JSON stream without keeping its JSON form.

        Node strings become one blob and each ``values`` entry a :class:`Holding` as soon as it
        is read, so the decoded JSON of a large tree never exists all at once. The result is
        for :meth:`load`, which checks it exactly as it checks a decoded dump.

        Raises:
            SchemaError: the text is not valid JSON.
        """
        if reader.peek() != "{":
            return reader.value()  # type: ignore[no-any-return]
        dump: dict[str, Any] = {}
        for key in reader.object():
            if key == "tree" and reader.peek() == "[":
                dump[key] = _Nodes.read(reader, source)
            elif key == "values" and reader.peek() == "[":
                values = _Values(source)
                for _ in reader.array():
                    values.add(reader.value())
                dump[key] = values
            else:
                dump[key] = reader.value()
        return dump

    def write_canonical_dump(self, write: Callable[[bytes], None]) -> None:
        """Write the RFC 8785 canonical JSON of the dump this tree was loaded from.

        Byte for byte what :func:`verifier.model.jsontext.canonical_bytes` gives for the decoded
        dump (integers written as JSON numbers and upper-case salts are kept as they were read),
        without building it.
        """
        write(b'{"format":"standard-v1","leafEncoding":' + _LEAF_ENCODING_JCS + b',"tree":[')
        nodes = self._nodes
        step = 32 * 4096
        for start in range(0, len(nodes), step):
            hexes = nodes[start : start + step].hex()
            chunk = '","0x'.join(hexes[j : j + 64] for j in range(0, len(hexes), 64))
            write((("," if start else "") + '"0x' + chunk + '"').encode())
        write(b'],"values":[')
        forms = self._forms
        parts: list[str] = []
        for i, (h, ti) in enumerate(zip(self._holdings, self._tree_index, strict=True)):
            ints, salt = forms.get(i, (0, None))
            parts.append(
                ('{"treeIndex":' if i == 0 else ',{"treeIndex":')
                + str(ti)
                + ',"value":['
                + _jcs_text(h.holding_id)
                + ","
                + _jcs_str(h.asset_class)
                + ","
                + _jcs_str(h.currency)
                + ","
                + _jcs_uint(h.amount, ints & 1)
                + ","
                + _jcs_uint(h.decimals, ints & 2)
                + ","
                + _jcs_uint(h.maturity, ints & 4)
                + ","
                + _jcs_str(h.counterparty)
                + ","
                + _jcs_str(h.country)
                + ","
                + _jcs_str(h.rating)
                + ","
                + _jcs_str(h.collateral)
                + ","
                + _jcs_uint(h.collateral_value, ints & 8)
                + ',"'
                + (salt or "0x" + h.salt.hex())
                + '"]}'
            )
            if len(parts) >= 4096:
                write("".join(parts).encode("utf-8"))
                parts.clear()
        write("".join(parts).encode("utf-8") + b"]}")

    # reading -----------------------------------------------------------------------------

    @property
    def root(self) -> bytes:
        """The 32-byte Merkle root."""
        return self._nodes[:32]

    @property
    def root_hex(self) -> str:
        """The root as 0x + 64 lowercase hex digits (OZ's ``tree.root``)."""
        return "0x" + self._nodes[:32].hex()

    @property
    def holdings(self) -> tuple[Holding, ...]:
        """The holdings in dump value order."""
        return self._holdings

    def __len__(self) -> int:
        return len(self._holdings)

    def dump(self) -> dict[str, Any]:
        """The ``standard-v1`` dump, identical to OZ's ``tree.dump()`` for the same values.

        Returns:
            ``{format, leafEncoding, tree, values: [{value, treeIndex}]}``.
        """
        return {
            "format": FORMAT,
            "leafEncoding": list(LEAF_ENCODING),
            "tree": ["0x" + self._node(i).hex() for i in range(len(self._nodes) // 32)],
            "values": [
                {"value": holding_to_values(h), "treeIndex": ti}
                for h, ti in zip(self._holdings, self._tree_index, strict=True)
            ],
        }

    def holding(self, holding_id: str) -> Holding:
        """The holding with this id.

        Args:
            holding_id: the id.

        Returns:
            The holding.

        Raises:
            InputError: no holding has this id.
        """
        return self._holdings[self._value_index(holding_id)]

    def _value_index(self, holding_id: str) -> int:
        if self._index is None:
            self._index = {h.holding_id: i for i, h in enumerate(self._holdings)}
        try:
            return self._index[holding_id]
        except KeyError:
            raise InputError(f"no holding with id {holding_id!r} in this tree") from None

    def get_proof(self, holding_id: str) -> list[bytes]:
        """Proof for one holding (OZ ``getProof``): the siblings from its leaf up to the root.

        Args:
            holding_id: the holding's id.

        Returns:
            The sibling hashes.

        Raises:
            InputError: no holding has this id.
        """
        i = self._tree_index[self._value_index(holding_id)]
        proof: list[bytes] = []
        while i > 0:
            proof.append(self._node(i + 1 if i % 2 else i - 1))
            i = (i - 1) // 2
        return proof

    def get_multiproof(self, holding_ids: Sequence[str]) -> MultiProof:
        """Multiproof for several holdings (OZ ``getMultiProof``).

        Args:
            holding_ids: the ids; order does not matter, duplicates are refused.

        Returns:
            The leaves in the order the proof consumes them (descending tree index), the
            sibling hashes and the flags.

        Raises:
            InputError: an id is unknown or given twice.
        """
        if len(set(holding_ids)) != len(holding_ids):
            raise InputError("cannot prove the same holding twice in one multiproof")
        indices = sorted(
            (self._tree_index[self._value_index(hid)] for hid in holding_ids), reverse=True
        )
        queue = list(indices)
        qpos = 0
        proof: list[bytes] = []
        flags: list[bool] = []
        while qpos < len(queue) and queue[qpos] > 0:
            j = queue[qpos]
            qpos += 1
            sibling = j + 1 if j % 2 else j - 1
            if qpos < len(queue) and queue[qpos] == sibling:
                flags.append(True)
                qpos += 1
            else:
                flags.append(False)
                proof.append(self._node(sibling))
            queue.append((j - 1) // 2)
        if not indices:
            proof.append(self._node(0))
        by_index = {ti: vi for vi, ti in enumerate(self._tree_index)}
        leaves = tuple(self._holdings[by_index[i]] for i in indices)
        return MultiProof(leaves=leaves, proof=tuple(proof), proof_flags=tuple(flags))

    def totals(self) -> list[tuple[str, int, int]]:
        """Sum of amounts per currency.

        Returns:
            ``(currency, total amount in minor units, decimals)``, sorted by currency code.

        Raises:
            InputError: one currency appears with two different ``decimals`` in this tree.
        """
        sums = _Totals()
        for h in self._holdings:
            sums.add(h)
        return sums.result()

    def dump_chunks(self) -> Iterator[str]:
        """The dump as porv writes it (see :func:`dump_text_chunks`), in pieces."""
        return dump_text_chunks(self._nodes, self._tree_index, map(value_json, self._holdings))


class _Totals:
    """Sums of amounts per currency; the first currency seen with two decimals is kept as
    an error and raised by :meth:`result` (so a streamed build still reports a bad row first).
    """

    __slots__ = ("error", "sums")

    def __init__(self) -> None:
        self.sums: dict[str, list[int]] = {}
        self.error: InputError | None = None

    def add(self, h: Holding) -> None:
        acc = self.sums.get(h.currency)
        if acc is None:
            self.sums[h.currency] = [h.amount, h.decimals]
            return
        if acc[1] != h.decimals and self.error is None:
            self.error = InputError(
                f"currency {h.currency} appears with decimals {acc[1]} and {h.decimals} "
                f"(holding {h.holding_id!r}); amounts of one currency must share decimals"
            )
        acc[0] += h.amount

    def result(self) -> list[tuple[str, int, int]]:
        if self.error is not None:
            raise self.error
        return [(ccy, acc[0], acc[1]) for ccy, acc in sorted(self.sums.items())]


class StreamedTree:
    """A tree built from a stream of holdings, keeping only what its dump needs.

    :meth:`StandardMerkleTree.of` keeps every holding as an object; this keeps the nodes (one
    blob), the tree indexes (one array) and each value's dump JSON text (one UTF-8 blob), so
    a million holdings fit in a few hundred MB. Its dump is byte for byte the one
    :meth:`StandardMerkleTree.dump_chunks` writes for the same holdings.
    """

    __slots__ = ("_ends", "_nodes", "_totals", "_tree_index", "_values")

    def __init__(
        self, nodes: bytes, tree_index: array[int], values: bytes, ends: array[int], totals: _Totals
    ) -> None:
        """Internal: use :meth:`of`."""
        self._nodes = nodes
        self._tree_index = tree_index
        self._values = values
        self._ends = ends
        self._totals = totals

    @classmethod
    def of(cls, holdings: Iterable[Holding]) -> StreamedTree:
        """Build the tree of ``holdings`` (as :meth:`StandardMerkleTree.of`), reading them once.

        Raises:
            InputError: no holdings, or a holding_id appears twice.
            SchemaError: a holding does not fit the leaf encoding.
        """
        k = keccak256
        leaves: list[bytes] = []
        values = bytearray()
        ends: array[int] = array("q")
        totals = _Totals()
        seen: set[str] = set()
        add_leaf, add_end, add_total, add_id = leaves.append, ends.append, totals.add, seen.add
        for h in holdings:
            if h.holding_id in seen:
                raise InputError(
                    f"duplicate holding_id {h.holding_id!r}",
                    hint="every holding_id must be unique within a reserve",
                )
            add_id(h.holding_id)
            add_leaf(k(k(encode_leaf(h))))
            values += value_json(h).encode("utf-8")
            add_end(len(values))
            add_total(h)
        del seen
        if not leaves:
            raise InputError("a Merkle tree needs at least one holding; none were given")
        nodes, tree_index = tree_layout(leaves)
        return cls(nodes, tree_index, bytes(values), ends, totals)

    @property
    def root_hex(self) -> str:
        """The root as 0x + 64 lowercase hex digits."""
        return "0x" + self._nodes[:32].hex()

    def __len__(self) -> int:
        return len(self._ends)

    def totals(self) -> list[tuple[str, int, int]]:
        """As :meth:`StandardMerkleTree.totals`."""
        return self._totals.result()

    def dump_chunks(self) -> Iterator[str]:
        """The dump as porv writes it (see :func:`dump_text_chunks`), in pieces."""
        blob, ends = self._values, self._ends
        texts = (blob[ends[i - 1] if i else 0 : ends[i]].decode("utf-8") for i in range(len(ends)))
        return dump_text_chunks(self._nodes, self._tree_index, texts)


_NODES_RE = re.compile(r"(?:0x[0-9a-f]{64})*")
_NODE_RE = re.compile(r"0x[0-9a-f]{64}")


def _parse_nodes(raw: Any, source: str, field: str) -> bytes:
    """A JSON list of 0x + 64 lowercase hex strings (or nodes already read) -> one blob."""
    if isinstance(raw, _Nodes):
        if raw.error is not None:
            raise raw.error
        if raw.blob:
            return raw.blob
        raw = None
    if not isinstance(raw, list) or not raw:
        raise SchemaError(
            f"{field} must be a non-empty list of 0x-hex hashes",
            location=Location(source, field=field),
        )
    # fast path: one regex and one fromhex over the whole list; any doubt -> node by node
    if all(type(x) is str and len(x) == _NODE_HEX_LEN for x in raw):
        joined = "".join(raw)
        if _NODES_RE.fullmatch(joined):
            return bytes.fromhex(joined.replace("0x", ""))
    out = bytearray()
    for i, node in enumerate(raw):
        out += _node_bytes(node, Location(source, field=f"{field}[{i}]"))
    return bytes(out)


def _node_bytes(raw: Any, location: Location) -> bytes:
    """One tree node: exactly 0x + 64 lowercase hex digits (32 bytes)."""
    if type(raw) is str and _NODE_RE.fullmatch(raw):
        return bytes.fromhex(raw[2:])
    node = parse_node(raw, location=location)
    if len(node) != 32:
        raise SchemaError(
            f"expected a 32-byte hash as 0x + 64 lowercase hex digits, found {raw!r}",
            location=location,
        )
    return node  # pragma: no cover - parse_node accepts only what the regex does, or raises


class _Nodes:
    """A dump's ``tree`` read from a JSON stream: one blob, or the first bad node's error."""

    __slots__ = ("blob", "error")

    def __init__(self, blob: bytes, error: SchemaError | None) -> None:
        self.blob = blob
        self.error = error

    @classmethod
    def read(cls, reader: JsonReader, source: str) -> _Nodes:
        fast = cls._read_plain(reader)
        if fast is not None:
            return fast
        out = bytearray()
        error: SchemaError | None = None
        for i in reader.array():
            raw = reader.value()
            if error is None:
                try:
                    out += _node_bytes(raw, Location(source, field=f"tree[{i}]"))
                except SchemaError as exc:
                    error = exc
        return cls(bytes(out), error)

    @classmethod
    def _read_plain(cls, reader: JsonReader) -> _Nodes | None:
        """The common case without a Python step per node: a non-empty array of exactly
        0x + 64 lowercase hex digit strings, no escapes. Anything else (None) is read by the
        general path from the array's start, with its exact errors.

        In that form no string holds a bracket, a comma or a quote, so the array ends at the
        first "]" and splitting a slice that ends after a "," at its quotes leaves the
        separators and the nodes at alternate places: each is checked by C-speed string
        operations, a slice of about :data:`_PLAIN_SLICE` nodes at a time (the memory of a
        slice, not of the whole array)."""
        text, start = reader.text, reader.pos  # at the array's "["
        end = text.find("]", start)
        if end < 0:
            return None
        out = bytearray()
        pos = start + 1
        last = False  # the slice read last ended at the "]", not after a ","
        while pos < end:
            cut = text.find(",", min(pos + _PLAIN_SLICE * 67, end), end)
            last = cut < 0
            cut = end if last else cut + 1
            parts = text[pos:cut].split('"')
            nodes = parts[1::2]
            n = len(nodes)
            if (
                n == 0
                or len(parts) != 2 * n + 1
                or parts[0].strip(_JSON_WS)
                or parts[-1].strip(_JSON_WS) != ("" if last else ",")
                or any(p.strip(_JSON_WS) != "," for p in set(parts[2:-1:2]))
            ):
                return None
            joined = "".join(nodes)
            if (
                len(joined) != 66 * n
                or joined.count("x") != n
                or joined[0::66] != "0" * n
                or joined[1::66] != "x" * n
            ):
                return None
            digits = joined.replace("0x", "")  # the n prefixes: no other "x" is left
            if not digits.isascii() or digits.encode().translate(None, _LOWER_HEX):
                return None
            out += bytes.fromhex(digits)
            pos = cut
        if not last:  # empty, or a "," before the "]"
            return None
        reader.pos = end + 1
        return cls(bytes(out), None)


#: What :meth:`_Nodes._read_plain` reads at a time, in nodes (about 67 characters each).
_PLAIN_SLICE = 4096
_JSON_WS = " \t\n\r"
_LOWER_HEX = b"0123456789abcdef"


class _Values:
    """A dump's ``values`` turned into holdings one entry at a time (the JSON is not kept).

    Shape and field errors are kept (the first one) and raised by :meth:`finish`, which also
    checks the tree indexes once the number of values, and so the leaf slots, is known.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.count = 0
        self.holdings: list[Holding] = []
        self.tree_index: array[int] = array("q")
        #: per value index: (bit mask of uint fields written as JSON numbers, salt as written)
        self.forms: dict[int, tuple[int, str | None]] = {}
        self._error: SchemaError | None = None
        self._bad_index: tuple[int, Any] | None = None

    def add(self, entry: Any) -> None:
        i = self.count
        self.count += 1
        if self._error is not None or self._bad_index is not None:
            return
        source = self.source
        if type(entry) is dict:  # as the JSON reader gives it: two keys, no duplicates
            shaped = len(entry) == 2 and "value" in entry and "treeIndex" in entry
        else:
            shaped = isinstance(entry, Mapping) and set(entry) == {"value", "treeIndex"}
        if not shaped:
            self._error = SchemaError(
                "each values entry must be an object with exactly value and treeIndex",
                location=Location(source, field=f"values[{i}]"),
            )
            return
        ti = entry["treeIndex"]
        if isinstance(ti, bool) or not isinstance(ti, int) or not 0 <= ti < 2**62:
            self._bad_index = (i, ti)
            return
        value = entry["value"]
        h = None
        if type(value) is list and len(value) == len(LEAF_ENCODING):
            h = plain_holding(value)  # all strings when it returns a holding
        ints = 0
        if h is None:
            try:
                h = holding_from_values(value, location=Location(source, field=f"values[{i}]"))
            except SchemaError as exc:
                self._error = exc
                return
            for bit, pos in ((1, 3), (2, 4), (4, 5), (8, 10)):
                if type(value[pos]) is int:
                    ints |= bit
        salt = value[11]
        if ints or not salt.islower():
            self.forms[i] = (ints, None if salt.islower() else salt)
        self.holdings.append(h)
        self.tree_index.append(ti)

    def finish(self, size: int) -> tuple[list[Holding], array[int]]:
        """The holdings and their tree indexes, once every index is a distinct leaf slot.

        Raises:
            SchemaError: the first bad entry, a treeIndex outside the leaf slots or used
                twice, or a holding_id used twice.
        """
        n, source = self.count, self.source
        if self._bad_index is not None:
            i, ti = self._bad_index
            raise SchemaError(
                f"treeIndex {ti!r} is not a leaf slot (an integer in {n - 1}..{size - 1})",
                location=Location(source, field=f"values[{i}].treeIndex"),
            )
        if self._error is not None:
            raise self._error
        taken = bytearray(size)
        ids: set[str] = set()
        for i, (h, ti) in enumerate(zip(self.holdings, self.tree_index, strict=True)):
            if not n - 1 <= ti < size:
                raise SchemaError(
                    f"treeIndex {ti!r} is not a leaf slot (an integer in {n - 1}..{size - 1})",
                    location=Location(source, field=f"values[{i}].treeIndex"),
                )
            if taken[ti]:
                raise SchemaError(
                    f"treeIndex {ti} is used by two values",
                    location=Location(source, field=f"values[{i}]"),
                )
            taken[ti] = 1
            if h.holding_id in ids:
                raise SchemaError(
                    f"duplicate holding_id {h.holding_id!r}",
                    location=Location(source, field=f"values[{i}]"),
                )
            ids.add(h.holding_id)
        return self.holdings, self.tree_index


# --- RFC 8785 pieces of a dump (see StandardMerkleTree.write_canonical_dump) ---------------

_LEAF_ENCODING_JCS = rfc8785.dumps(list(LEAF_ENCODING))
_JCS_PLAIN = re.compile(r"[ !#-\[\]-~]*")  # printable ASCII except " and \


def _jcs_text(text: str) -> str:
    """A string as RFC 8785 writes it."""
    if _JCS_PLAIN.fullmatch(text):
        return '"' + text + '"'
    return rfc8785.dumps(text).decode("utf-8")


_jcs_str = _memo(_jcs_text)


def _jcs_uint(value: int, as_number: int) -> str:
    """A uint field as the dump wrote it: a decimal string, or a JSON number if it was one."""
    if not as_number:
        return '"' + str(value) + '"'
    return str(value)  # beyond 2^53 too: exact digits, as jsontext.canonical_bytes writes it


# --- the dump as porv writes it (one node and one value per line) --------------------------

_json_text_encode = json.JSONEncoder(ensure_ascii=False).encode


def _json_text(text: str) -> str:
    """A string as ``json.dumps(text, ensure_ascii=False)`` writes it."""
    if _JCS_PLAIN.fullmatch(text):
        return '"' + text + '"'
    return _json_text_encode(text)


_json_str = _memo(_json_text)


#: (class, currency, counterparty, country, rating, collateral) -> their two JSON fragments
_VALUE_PARTS: dict[tuple[str, ...], tuple[str, str]] = {}


def value_json(h: Holding) -> str:
    """``holding_to_values(h)`` as compact JSON (``separators=(",", ":")``, ``ensure_ascii=False``),
    written without building the list: the same text, several times faster per holding."""
    key = (h.asset_class, h.currency, h.counterparty, h.country, h.rating, h.collateral)
    parts = _VALUE_PARTS.get(key)
    if parts is None:
        ac, cur, cp, co, ra, col = map(_json_str, key)
        parts = ("," + ac + "," + cur + ',"', '",' + cp + "," + co + "," + ra + "," + col + ',"')
        if len(_VALUE_PARTS) < 65536:
            _VALUE_PARTS[key] = parts
    return (
        "["
        + _json_text(h.holding_id)
        + parts[0]
        + str(h.amount)
        + '","'
        + str(h.decimals)
        + '","'
        + str(h.maturity)
        + parts[1]
        + str(h.collateral_value)
        + '","0x'
        + h.salt.hex()
        + '"]'
    )


_DUMP_HEAD = (
    '{\n  "format": "'
    + FORMAT
    + '",\n  "leafEncoding": '
    + json.dumps(list(LEAF_ENCODING), separators=(",", ":"))
    + ',\n  "tree": [\n    '
)
_CHUNK = 4096


def dump_text_chunks(
    nodes: bytes, tree_index: Sequence[int], values: Iterable[str]
) -> Iterator[str]:
    """The ``standard-v1`` dump text porv writes, in pieces of a few thousand lines.

    One node and one value per line, so diffs stay readable: ``{"format", "leafEncoding",
    "tree": [...], "values": [{"value":[...],"treeIndex":N}, ...]}`` with two-space
    indentation outside the entries and none inside them; any JSON reader and OZ's
    ``StandardMerkleTree.load`` read it.

    Args:
        nodes: the 32-byte nodes, concatenated, root first.
        tree_index: each value's tree index, in value order.
        values: each value as :func:`value_json` writes it, in value order.

    Yields:
        The text, ending with a newline.
    """
    step = 32 * _CHUNK
    for start in range(0, len(nodes), step):
        hexes = nodes[start : start + step].hex()
        body = '",\n    "0x'.join(hexes[j : j + 64] for j in range(0, len(hexes), 64))
        yield (_DUMP_HEAD if start == 0 else ",\n    ") + '"0x' + body + '"'
    yield '\n  ],\n  "values": [\n    '
    batch: list[str] = []
    first = True
    for text, ti in zip(values, tree_index, strict=True):
        batch.append('{"value":' + text + ',"treeIndex":' + str(ti) + "}")
        if len(batch) >= _CHUNK:
            yield ("" if first else ",\n    ") + ",\n    ".join(batch)
            batch.clear()
            first = False
    if batch:
        yield ("" if first else ",\n    ") + ",\n    ".join(batch)
    yield "\n  ]\n}\n"


def parse_node(raw: Any, *, location: Location) -> bytes:
    """Parse one hash as written in dumps and proofs: ``0x`` + 64 lowercase hex digits.

    Args:
        raw: the decoded JSON value.
        location: reported on error.

    Returns:
        The 32 bytes.

    Raises:
        SchemaError: not a string of that form.
    """
    if not isinstance(raw, str) or not _NODE_RE.fullmatch(raw):  # fromhex would skip spaces
        raise SchemaError(
            f"expected a 32-byte hash as 0x + 64 lowercase hex digits, found {raw!r}",
            location=location,
        )
    try:
        return bytes.fromhex(raw[2:])
    except ValueError:
        raise SchemaError(
            f"expected a 32-byte hash as 0x + 64 lowercase hex digits, found {raw!r}",
            location=location,
        ) from None
