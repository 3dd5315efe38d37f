"""Safe display of untrusted text: terminal escaping and markdown escaping.

Everything porv shows comes partly from its inputs (ids, names, messages from nodes), and the
other side writes those. DESIGN §1: "Results carry no secrets and no control bytes".

* :func:`escape_terminal` shows control and invisible characters as ``\\uXXXX`` so an id cannot
  move the cursor, recolour the screen (paint a green "verified"), reorder text with a bidi
  override or hide a difference behind a zero-width character. The ``\\uXXXX`` form is also a
  valid JSON escape, so the same pass is safe over JSON text.
* :func:`escape_markdown` additionally neutralises markdown and HTML metacharacters.

URL redaction (``redact_url``, ``redact_urls_in``) lives in :mod:`verifier.errors`, the bottom
layer, because every error message passes through it.

Pure functions.
"""

from __future__ import annotations

import re

# Characters never shown raw: C0 controls (tab and newline are decided per call), DEL and C1
# controls, every Unicode "format" (Cf) character (bidi overrides and isolates, zero-width
# space/joiners, word joiner, BOM, soft hyphen, tags), the line/paragraph separators and lone
# surrogates (which cannot even be encoded for output). tests/unit/test_display.py checks this
# class against unicodedata.
_UNSAFE_RANGES = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f\xad"
    "\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f"
    "\ud800-\udfff\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_UNSAFE_MULTILINE = re.compile(f"[{_UNSAFE_RANGES}]")
_UNSAFE_ONE_LINE = re.compile(f"[{_UNSAFE_RANGES}\t\n]")

# Markdown metacharacters that can start markup inside a table cell or a list item (emphasis,
# code, links and images, cell breaks, strikethrough); "<" and "&" become entities (raw HTML).
_MD_META = re.compile(r"([\\`*_\[\]|~])")


def _code(m: re.Match[str]) -> str:
    n = ord(m.group(0))
    if n <= 0xFFFF:
        return f"\\u{n:04x}"
    n -= 0x10000  # as a UTF-16 surrogate pair, the form JSON reads back
    return f"\\u{0xD800 + (n >> 10):04x}\\u{0xDC00 + (n & 0x3FF):04x}"


def escape_terminal(text: str, *, multiline: bool = False) -> str:
    """``text`` with every control, format and separator character shown as ``\\uXXXX``.

    Args:
        text: untrusted text.
        multiline: keep newlines and tabs (for whole documents); otherwise they are escaped
            too, so a value stays on its one line.
    """
    pattern = _UNSAFE_MULTILINE if multiline else _UNSAFE_ONE_LINE
    if not _has_unsafe(text, pattern, _ASCII_SAFE_MULTILINE if multiline else _ASCII_SAFE):
        return text  # the common case: no copy of a large output
    return pattern.sub(_code, text)


# The ASCII characters shown raw: printable ASCII (and tab and newline in multiline text). In
# ASCII text, ``pattern`` matches exactly the other ASCII characters.
_ASCII_SAFE = bytes(range(0x20, 0x7F))
_ASCII_SAFE_MULTILINE = _ASCII_SAFE + b"\t\n"
_SCAN_CHUNK = 1 << 20


def _has_unsafe(text: str, pattern: re.Pattern[str], safe: bytes) -> bool:
    """Whether ``pattern`` finds a character in ``text``, a slice at a time: an all-ASCII slice
    by deleting the safe bytes (``bytes.translate``, about 15 times faster than the regex's
    large character class), any other slice by the regex."""
    for start in range(0, len(text), _SCAN_CHUNK):
        piece = text[start : start + _SCAN_CHUNK]
        if piece.isascii():
            if piece.encode("ascii").translate(None, safe):
                return True
        elif pattern.search(piece) is not None:
            return True
    return False


def escape_markdown(text: str) -> str:
    """One line of untrusted text for markdown: no raw HTML, markup or control characters."""
    text = _MD_META.sub(r"\\\1", escape_terminal(text))
    return text.replace("&", "&amp;").replace("<", "&lt;")
