"""Display safety and the helpers behind the hostile-input fixes (DESIGN §1).

Terminal and markdown escaping, URL redaction, the identity key of holding ids, RFC 3339
formatting over every uint64, canonical JSON beyond 2^53, and a lint: no validator regex in
verifier/ may end in ``$`` (which also matches before a final newline).
"""

from __future__ import annotations

import ast
import json
import re
import sys
import unicodedata
from datetime import datetime
from pathlib import Path

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.errors import RpcError, redact_url, redact_urls_in
from verifier.model.display import escape_markdown, escape_terminal
from verifier.model.identity import identity_key
from verifier.model.jsontext import canonical_bytes
from verifier.model.timeutil import MAX_RFC3339_SECONDS, format_rfc3339

ROOT = Path(__file__).resolve().parents[3]


def _unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp")


def test_escape_terminal_covers_every_control_format_and_separator_character() -> None:
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        out = escape_terminal(ch)
        if _unsafe(ch):
            assert out.startswith("\\u"), hex(cp)
        elif unicodedata.category(ch) != "Cn":
            assert out == ch, hex(cp)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_escaped_text_reads_back_as_json_and_has_nothing_unsafe(text: str) -> None:
    out = escape_terminal(text, multiline=True)
    assert not any(_unsafe(c) and c not in "\n\t" for c in out)
    # the \\uXXXX form is JSON's: inside a JSON string it reads back as the same character
    safe = text.replace("\\", "").replace('"', "")
    assert json.loads('"' + escape_terminal(safe) + '"') == safe


def _regex_only(text: str, multiline: bool) -> str:
    from verifier.model import display

    pattern = display._UNSAFE_MULTILINE if multiline else display._UNSAFE_ONE_LINE
    return pattern.sub(display._code, text)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(st.text(st.characters(max_codepoint=0x7F)), st.text()),
    st.booleans(),
)
def test_escape_terminal_ascii_scan_agrees_with_the_regex(text: str, multiline: bool) -> None:
    assert escape_terminal(text, multiline=multiline) == _regex_only(text, multiline)


def test_escape_terminal_every_ascii_character_and_slice_boundaries() -> None:
    from verifier.model import display

    for cp in range(0x80):
        for multiline in (False, True):
            text = "a" + chr(cp) + "b"
            assert escape_terminal(text, multiline=multiline) == _regex_only(text, multiline)
    n = display._SCAN_CHUNK
    for bad in ("\x1b", "\x7f", "\u202e", "\x9b", "\r"):
        for at in (0, n - 1, n, n + 1, 2 * n + 5):
            text = "x" * at + bad + "y" * 10
            assert escape_terminal(text, multiline=True) == _regex_only(text, True)
            mixed = "é" * at + bad + "x" * n  # a non-ASCII slice, then an ASCII one
            assert escape_terminal(mixed, multiline=True) == _regex_only(mixed, True)
    clean = "z" * (2 * n + 3)
    assert escape_terminal(clean, multiline=True) is clean


def test_escape_terminal_keeps_lines_only_when_asked() -> None:
    assert escape_terminal("a\nb\tc") == "a\\u000ab\\u0009c"
    assert escape_terminal("a\nb\tc", multiline=True) == "a\nb\tc"
    assert escape_terminal("\x1b[32mok\x9b") == "\\u001b[32mok\\u009b"
    assert escape_terminal("\U000e0041") == "\\udb40\\udc41"  # astral: a JSON surrogate pair


def test_markdown_escape_leaves_no_html_or_markup() -> None:
    out = escape_markdown("<img src=x onerror=alert(1)> *b* _i_ `c` [l](u) | ~s~ &amp; \x1b")
    assert "<" not in out
    assert "&amp;amp;" in out
    for meta in "*_`[]|~":
        assert re.search(rf"(?<!\\){re.escape(meta)}", out) is None, meta
    assert "\\\\u001b" in out  # the escape's own backslash is escaped: shown as \u001b


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://mainnet.infura.io/v3/abc123", "https://mainnet.infura.io"),
        ("https://eth.example:8443/?apikey=abc123#x", "https://eth.example:8443"),
        ("http://user:abc123@127.0.0.1:8545/rpc", "http://127.0.0.1:8545"),
        ("HTTP://[::1]:8545/abc123", "http://[::1]:8545"),
        ("http://host:99999999/abc123", "<url>"),
        ("https://eth.example/v2/key;abc123", "https://eth.example"),
        ("https://eth.example/key,abc123", "https://eth.example"),
        ("https://eth.example/k(abc123)", "https://eth.example"),
        ("https://eth.example/a{abc123}", "https://eth.example"),
    ],
)
def test_redact_url_keeps_scheme_host_port(url: str, shown: str) -> None:
    assert redact_url("not a url abc123") == "<url>"
    assert redact_url(url) == shown
    assert "abc123" not in redact_urls_in(f"endpoint {url}: failed.")
    assert "abc123" not in redact_urls_in(f"endpoint {url} is behind")
    assert "abc123" not in redact_urls_in(f"(endpoint {url})")


def test_error_messages_never_carry_url_secrets() -> None:
    err = RpcError(
        "chain 1 endpoint https://x.io/v3/abc123: failed", hint="try https://y.io/?key=abc123"
    )
    assert "abc123" not in err.diagnostics() + json.dumps(err.to_json())
    assert "https://x.io:" in err.message


@pytest.mark.parametrize(
    "twin",
    [
        "A-DEP\u200b-1",
        "A\u2011DEP-1",
        "a-dep-1",
        "\ufeffA-DEP-1",
        "A\u2212DEP\u20101",
        "\uff21-DEP-1",
        "\u0410-DEP-1",  # Cyrillic A
        "A-DEP-1\u202e",
        "A-\u00adDEP-1",  # a soft hyphen is invisible
        "A-DEP-\U0001d7cf",  # mathematical bold one
    ],
)
def test_identity_key_joins_look_alikes(twin: str) -> None:
    assert identity_key(twin) == identity_key("A-DEP-1")
    assert identity_key("A\u00a0DEP  1") == identity_key("a dep 1")


@pytest.mark.parametrize("other", ["A-DEP-2", "A-DEP-11", "A_DEP-1", "ADEP1"])
def test_identity_key_keeps_different_ids_apart(other: str) -> None:
    assert identity_key(other) != identity_key("A-DEP-1")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_identity_key_ascii_fast_path_is_the_general_key(text: str) -> None:
    from verifier.model import identity

    slow = identity_key("\u00e9" + text)[1:]  # a non-ASCII prefix forces the general path
    assert identity_key(text) == slow or identity._ASCII_CONTROLS.search(text) or " " in text


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_identity_key_printable_shortcut_is_the_ascii_key(text: str) -> None:
    """Printable ASCII without a space is only case-folded: the ASCII steps give the same."""
    from verifier.model import identity

    ascii_key = " ".join(identity._ASCII_CONTROLS.sub("", text).split()).lower()
    assert identity_key(text) == ascii_key
    assert (
        identity_key(text.replace(" ", "").replace("\t", ""))
        == " ".join(
            identity._ASCII_CONTROLS.sub("", text.replace(" ", "").replace("\t", "")).split()
        ).lower()
    )


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**64 - 1))
def test_format_rfc3339_is_total_and_exact(seconds: int) -> None:
    text = format_rfc3339(seconds)
    assert text.endswith("Z")
    if seconds <= MAX_RFC3339_SECONDS:
        assert datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() == seconds
    else:
        assert text.startswith("+")


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**53) + 1, 2**53 - 1)
        | st.text(alphabet=st.characters(exclude_categories=("Cs",))),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3),
        max_leaves=10,
    )
)
def test_canonical_json_is_rfc8785_within_its_range(doc: object) -> None:
    assert canonical_bytes(doc) == rfc8785.dumps(doc)


def test_canonical_json_writes_uint64_beyond_2_53_exactly() -> None:
    doc = {"b": [2**64 - 1, 1], "a": {"sequence": 2**53}, "é": "x"}
    out = canonical_bytes(doc)
    assert (
        out == ('{"a":{"sequence":9007199254740992},"b":[18446744073709551615,1],"é":"x"}').encode()
    )
    assert json.loads(out) == doc


def _regex_literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
            and node.func.attr in ("compile", "match", "fullmatch", "search")
        ):
            for arg in node.args[:1]:
                parts = arg.values if isinstance(arg, ast.JoinedStr) else [arg]
                text = "".join(
                    p.value
                    for p in parts
                    if isinstance(p, ast.Constant) and isinstance(p.value, str)
                )
                out.append((node.lineno, text))
    return out


def test_no_validator_regex_ends_in_dollar() -> None:
    """``$`` matches before a final newline ("0x..hash\\n" passed); write ``\\Z`` or fullmatch."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {pattern!r}"
        for path in sorted((ROOT / "verifier").rglob("*.py"))
        for line, pattern in _regex_literals(path)
        if pattern.endswith("$") and not pattern.endswith("\\$")
    ]
    assert offenders == []


def test_no_validator_regex_uses_unicode_digit_class() -> None:
    """``\\d`` matches any script's digits (int() then reads them): write [0-9]."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {pattern!r}"
        for path in sorted((ROOT / "verifier").rglob("*.py"))
        for line, pattern in _regex_literals(path)
        if "\\d" in pattern and path.name != "policy.py"  # policy.py: its own error text only
    ]
    assert offenders == []


def test_no_isdigit_without_isascii() -> None:
    """``str.isdigit`` is true for "²" and other scripts' digits, which ``int()`` refuses or
    reads: every use must also require ASCII (or use a [0-9] regex)."""
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "verifier").rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if ".isdigit()" in line and "isascii()" not in line
    ]
    assert offenders == []
