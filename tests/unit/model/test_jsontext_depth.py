"""The depth check's fast path (no backslash: brackets and quotes kept by ``bytes.translate``)
gives exactly what the general regex gives, on any text, valid JSON or not."""

from __future__ import annotations

import json
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.model import jsontext
from verifier.model.jsontext import MAX_JSON_DEPTH, _brackets, nesting_exceeds

_CHARS = [*'[]{}""",: a0é€😀\n', "\ud800"]
# mostly without a backslash (the fast path), sometimes with (the general one)
_TEXTS = st.one_of(
    st.text(st.sampled_from(_CHARS), max_size=200),
    st.text(st.sampled_from([*_CHARS, "\\"]), max_size=200),
)


def _general(text: str) -> str:
    return jsontext._NOT_BRACKETS.sub("", text)


@settings(max_examples=600, deadline=None)
@given(_TEXTS)
def test_fast_brackets_equal_the_general_regex(text: str) -> None:
    expected = _general(text)
    assert _brackets(text) == expected
    for chunk in (1, 2, 3, 7):  # strings, escapes and lone quotes across slice boundaries
        with patch.object(jsontext, "_TRANSLATE_CHUNK", chunk):
            assert _brackets(text) == expected


@settings(max_examples=300, deadline=None)
@given(_TEXTS, st.integers(min_value=0, max_value=8))
def test_nesting_verdict_unchanged(text: str, limit: int) -> None:
    brackets = _general(text)
    expected = False  # the loop of nesting_exceeds over the general regex's brackets
    for passes in range(limit):
        if not brackets:
            break
        reduced = jsontext._INNER_PAIR.sub("", brackets)
        if reduced == brackets:
            expected = len(brackets) + passes > limit
            break
        brackets = reduced
    else:
        expected = bool(brackets)
    assert nesting_exceeds(text, limit) is expected


def test_hostile_texts() -> None:
    deep = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    assert nesting_exceeds(deep)
    assert not nesting_exceeds("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)
    hidden = '["' + "[" * 200 + '"]'  # brackets inside a string are not depth
    assert not nesting_exceeds(hidden)
    unterminated = '"' + "[" * 200  # a lone quote: what follows counts
    assert nesting_exceeds(unterminated)
    escaped = '["\\"' + "[" * 200 + '"]'  # an escaped quote does not end the string
    assert not nesting_exceeds(escaped)
    chunked = json.dumps(["x" * (jsontext._TRANSLATE_CHUNK - 3), "[" * 100])
    assert _brackets(chunked) == "[]" and not nesting_exceeds(chunked)
    wide = '["€😀' + "é" * jsontext._TRANSLATE_CHUNK + '", ' + "[" * 70 + "]" * 70 + "]"
    assert _brackets(wide) == _general(wide) and nesting_exceeds(wide)


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        st.sampled_from(['"', "\\", "u", "d", "D", "8", "c", "0", "a", "é", "\ud800"]), max_size=40
    )
)
def test_lone_surrogate_scan_without_a_backslash_shortcut(text: str) -> None:
    """A text without a backslash holds no \\u escape: the scan answers None at once, and with
    one it answers what the escape-by-escape reading gives."""
    got = jsontext.lone_surrogate_escape(text)
    if "\\" not in text:
        assert got is None
    expected = None
    pending = None
    for m in jsontext._BACKSLASH_OR_SURROGATE.finditer(text):
        token = m.group(0)
        if token == "\\\\":
            if pending is not None:
                expected = pending.start()
                break
            continue
        low = token[3] in "cdefCDEF"
        if pending is not None:
            if low and m.start() == pending.end():
                pending = None
                continue
            expected = pending.start()
            break
        if low:
            expected = m.start()
            break
        pending = m
    else:
        expected = pending.start() if pending is not None else None
    assert got == expected
