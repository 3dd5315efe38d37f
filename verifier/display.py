"""Safe display of untrusted text: terminal escaping, markdown escaping, URL redaction.

Everything porv shows comes partly from its inputs (ids, names, messages from nodes), and the
other side writes those. DESIGN §1: "Results carry no secrets and no control bytes".

* :func:`escape_terminal` shows control and invisible characters as ``\\uXXXX`` so an id cannot
  move the cursor, recolour the screen (paint a green "verified"), reorder text with a bidi
  override or hide a difference behind a zero-width character. The ``\\uXXXX`` form is also a
  valid JSON escape, so the same pass is safe over JSON text.
* :func:`escape_markdown` additionally neutralises markdown and HTML metacharacters.
* :func:`redact_url` keeps an RPC URL's scheme, host and port only: API keys live in the path,
  the query or the userinfo of hosted endpoints, and results and messages are shared.

Pure functions; no imports from the rest of porv (errors.py uses them).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

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

# A URL inside free text (error messages from nodes and libraries): up to a space, quote or
# angle bracket, since a path may hold ";" "," and brackets (a key after them would be shown);
# a trailing bracket, ":" "." "!" "?" "," or ";" is the sentence's, not the URL's.
_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]*[^\s'\"<>(){},;:.!?]")


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
    if pattern.search(text) is None:  # the common case: no copy of a large output
        return text
    return pattern.sub(_code, text)


def escape_markdown(text: str) -> str:
    """One line of untrusted text for markdown: no raw HTML, markup or control characters."""
    text = _MD_META.sub(r"\\\1", escape_terminal(text))
    return text.replace("&", "&amp;").replace("<", "&lt;")


def redact_url(url: str) -> str:
    """An endpoint URL reduced to ``scheme://host[:port]`` (no userinfo, path, query, fragment).

    Anything that does not parse as ``scheme://host`` is shown as ``<url>``.
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        port = parts.port
    except ValueError:
        return "<url>"
    if not parts.scheme or not host:
        return "<url>"
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port is not None else "")


def redact_urls_in(text: str) -> str:
    """``text`` with every URL in it reduced by :func:`redact_url`."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
