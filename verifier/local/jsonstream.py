"""Reading a large JSON file compactly for the streaming reader
(:class:`verifier.model.jsontext.JsonReader`), as strictly as :func:`jsontext.loads_strict`.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Callable

from verifier.errors import Location, SchemaError
from verifier.local.jsonio import MAX_JSON_BYTES, open_regular_file
from verifier.model.jsontext import JsonReader as JsonReader  # read_json_text_compact's reader

_WS = re.compile(r"[ \t\n\r]*")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_CHUNK = 1 << 20


def read_json_text_compact(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = MAX_JSON_BYTES,
    digest: Callable[[bytes], object] | None = None,
) -> str:
    """Read a UTF-8 JSON file into the smaller of two equivalent texts.

    Python stores a string at 1, 2 or 4 bytes per character, after its widest character: one
    emoji in a large bundle would make the whole text 4 times the file. So the text is either
    kept as decoded or, when that is smaller, written in ASCII with each non-ASCII character
    as its JSON ``\\u`` escape (6 or 12 bytes); both decode to the same JSON. The file is read
    in chunks, so its bytes are never held whole beside the text. With escapes, error columns
    count them. ``digest``, if given, is fed every byte read, in order (e.g. a hash's
    ``update``): the file's exact bytes, hashed in the same single pass.

    Raises:
        SchemaError: unreadable, too large, not UTF-8, or (when escaping) a non-ASCII
            character right after a backslash (an invalid escape its ``\\u`` form would
            make valid).
    """
    source = os.fspath(path)
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    pieces: list[str] = []
    offset = 0
    chars = 0
    widest = "\x00"
    escaped = 0  # length of the all-ASCII form
    try:
        with open_regular_file(source, max_bytes=max_bytes) as fh:  # never a FIFO or device
            while True:
                data = fh.read(_CHUNK)
                if offset + len(data) > max_bytes:
                    raise SchemaError(
                        f"file is larger than the {max_bytes} byte limit",
                        location=Location(file=source),
                    )
                pending = len(decoder.getstate()[0])
                try:
                    text = decoder.decode(data, final=not data)
                except UnicodeDecodeError as exc:
                    raise SchemaError(
                        f"not UTF-8 text (byte {offset - pending + exc.start})",
                        location=Location(file=source),
                    ) from None
                if digest is not None:
                    digest(data)
                offset += len(data)
                chars += len(text)
                escaped += len(text)
                if text and not text.isascii():
                    widest = max(widest, max(text))
                    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
                    astral = len(text.encode("utf-16-le")) // 2 - len(text)
                    escaped += 5 * non_ascii + 6 * astral
                if text:
                    pieces.append(text)
                if not data:
                    break
    except OSError as exc:
        raise SchemaError(
            f"cannot read file: {exc.strerror or exc}", location=Location(file=source)
        ) from None
    width = 1 if widest <= "\xff" else 2 if widest <= "\uffff" else 4
    if chars * width > escaped:
        carry = 0  # backslashes at the end of the previous piece
        lines = 0  # newlines before this piece
        for i, text in enumerate(pieces):
            if not text.isascii():
                pieces[i] = text = _escape_non_ascii(text, carry, lines, source)
            n = len(text) - len(text.rstrip("\\"))
            carry = carry + n if n == len(text) else n
            lines += text.count("\n")
    return "".join(pieces)


def _escape_non_ascii(text: str, carry: int, lines: int, source: str) -> str:
    def escape(match: re.Match[str]) -> str:
        start = j = match.start()
        while j > 0 and text[j - 1] == "\\":
            j -= 1
        n = start - j + (carry if j == 0 else 0)
        if n % 2:
            raise SchemaError(
                "not valid JSON: invalid \\escape before a non-ASCII character",
                location=Location(file=source, line=lines + text.count("\n", 0, start) + 1),
            )
        out: list[str] = []
        for ch in match.group():
            code = ord(ch)
            if code > 0xFFFF:
                code -= 0x10000
                out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
            else:
                out.append(f"\\u{code:04x}")
        return "".join(out)

    return _NON_ASCII.sub(escape, text)
