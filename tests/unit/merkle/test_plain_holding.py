"""The plain-holding fast path of dump reading (``plain_holding``, memoised integers and
class/currency/country/collateral rows) and the general path agree on every value, hostile
ones included: the fast path never accepts what the general path refuses, and a value read
either way gives the same holding, the same written-form record and the same error."""

from __future__ import annotations

import random
from typing import Any

import pytest

from verifier.errors import Location, SchemaError
from verifier.merkle import tree as tree_module
from verifier.model import holdings as holdings_module
from verifier.model.holdings import holding_from_values, plain_holding

GOOD = [
    "H-1",
    "bank_deposit_demand",
    "USD",
    "1000",
    "2",
    "1767225600",
    "Bank",
    "US",
    "A+",
    "",
    "0",
    "0x" + "ab" * 32,
]

#: Per field, values to try: valid, non-canonical, out of range, wrong type, odd text.
HOSTILE: dict[int, list[Any]] = {
    0: ["", " H", "H ", "H\n", "H\u200b", "\x00", "ok-😀", 7, None],
    1: ["cash", "CASH", "nope", "", " cash", 1],
    2: ["USD", "usd", "XXX", "HKD", "", "US", None],
    3: [
        "0",
        "00",
        "01",
        "+1",
        "-1",
        " 1",
        "1 ",
        "1.0",
        "1e3",
        "١٢",
        str(2**256),
        str(2**256 - 1),
        "9" * 79,
        "9" * 200,
        1000,
        True,
        1.5,
        "",
    ],
    4: ["0", "2", "255", "256", "02", "-0", " 2", "²", 2, False, ""],
    5: ["0", "00", "1767225600", str(2**64 - 1), str(2**64), "01767225600", 1767225600, ""],
    6: ["", "Bank", "  ", 5],
    7: ["US", "", "us", "ZZZ", "U1", None],
    8: ["", "AAA", "junk", 3],
    9: ["", "cash", "nope", "CASH"],
    10: ["0", "00", "5", str(2**256), "-5", 0, True, "٠"],
    11: [
        "0x" + "ab" * 32,
        "0x" + "AB" * 32,
        "0X" + "ab" * 32,
        "0x" + "ab" * 31,
        "0x" + "gg" * 32,
        "0x" + "ab" * 33,
        "0x" + " a" * 32,
        "ab" * 33,
        "0x" + "0" * 64,
        0,
        None,
    ],
}


def _outcome(value: Any) -> Any:
    try:
        return holding_from_values(value, location=Location("f", field="values[0]"))
    except SchemaError as exc:
        return ("error", str(exc), exc.location)


def _values(rng: random.Random, n: int) -> list[Any]:
    out: list[Any] = []
    for field, options in HOSTILE.items():  # each option alone in an otherwise good value
        for option in options:
            v = list(GOOD)
            v[field] = option
            out.append(v)
    for _ in range(n):  # and mixes
        v = list(GOOD)
        for field in rng.sample(range(12), rng.randrange(1, 4)):
            v[field] = rng.choice(HOSTILE[field])
        out.append(v)
    out += [GOOD[:11], [*GOOD, ""], tuple(GOOD), "x", None, {}]
    return out


def test_fast_and_general_paths_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    values = _values(random.Random(13), 3000)
    # twice with the fast path (the second run with every memo warm), then without it
    fast = [_outcome(v) for v in values]
    warm = [_outcome(v) for v in values]
    monkeypatch.setattr(holdings_module, "plain_holding", lambda v: None)
    general = [_outcome(v) for v in values]
    assert fast == general and warm == general
    assert sum(not isinstance(o, tuple) for o in general) > 100  # many accepted
    assert sum(isinstance(o, tuple) for o in general) > 100  # many refused


def test_plain_holding_only_returns_what_the_general_path_returns() -> None:
    for v in _values(random.Random(14), 2000):
        got = plain_holding(v) if isinstance(v, list) else None
        if got is not None:
            assert got == _outcome(v)


def _read(entries: list[Any]) -> Any:
    reader = tree_module._Values("f")
    for e in entries:
        reader.add(e)
    assert reader._error is None and reader._bad_index is None
    return reader.holdings, list(reader.tree_index), reader.forms


def test_dump_values_reader_agrees_without_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(15)
    entries: list[Any] = []
    for i, v in enumerate(_values(rng, 500)):
        if isinstance(_outcome(v), tuple):
            continue  # one bad value stops the reader: checked on its own below
        entries.append({"value": v, "treeIndex": i})
    fast = _read(entries)
    monkeypatch.setattr(tree_module, "plain_holding", lambda v: None)
    assert _read(entries) == fast
    assert len(fast[0]) == len(entries) and fast[2]  # some forms (JSON numbers, upper salts)


@pytest.mark.parametrize(
    "entry",
    [
        {"value": GOOD, "treeIndex": 1, "x": 1},
        {"value": GOOD},
        {"treeIndex": 1, "valu": GOOD},
        {"value": GOOD, "treeIndex": True},
        {"value": GOOD, "treeIndex": -1},
        {"value": GOOD, "treeIndex": 2**62},
        {"value": GOOD, "treeIndex": 1.0},
        {"value": [*GOOD[:3], "01", *GOOD[4:]], "treeIndex": 1},
        {"value": [*GOOD[:11], "0xAB"], "treeIndex": 1},
        [GOOD, 1],
    ],
)
def test_dump_values_reader_errors_without_the_fast_path(
    entry: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def errors() -> Any:
        reader = tree_module._Values("f")
        reader.add({"value": GOOD, "treeIndex": 0})
        reader.add(entry)
        try:
            reader.finish(3)
        except SchemaError as exc:
            return str(exc), exc.location
        return None

    fast = errors()
    monkeypatch.setattr(tree_module, "plain_holding", lambda v: None)
    assert errors() == fast


def test_slot_built_holding_is_a_holding_like_any_other() -> None:
    """The fast path builds a Holding slot by slot: equal, hashed, shown and frozen as one
    its ``__init__`` builds."""
    import dataclasses

    from verifier.model.holdings import ZERO_SALT, Holding, _holding

    args = ("H", "cash", "USD", 10**70, 255, 2**64 - 1, "B", "US", "A", "", 0, ZERO_SALT)
    fast, slow = _holding(*args), Holding(*args)
    assert type(fast) is Holding
    assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
    assert dataclasses.astuple(fast) == args
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.amount = 1  # type: ignore[misc]
