"""Reading a large JSON document piece by piece, as strictly as :func:`jsonio.loads_strict`.

``json.loads`` turns a whole document into Python objects at once: for a bundle with a large
holdings tree that is several times the size of the file. :class:`JsonReader` walks the
document's outer objects and arrays itself and decodes one value at a time with the standard
library's scanner (with the same hooks: no duplicate key, no NaN), so a caller can turn each
array element into a compact form and drop its JSON before reading the next.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections.abc import Iterator
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

from verifier.errors import Location, SchemaError
from verifier.jsonio import (
    MAX_JSON_BYTES,
    _DuplicateKey,
    _no_duplicates,
    _reject_constant,
    check_json_text,
    open_regular_file,
)

_WS = re.compile(r"[ \t\n\r]*")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_CHUNK = 1 << 20


def read_json_text_compact(path: str | os.PathLike[str], *, max_bytes: int = MAX_JSON_BYTES) -> str:
    """Read a UTF-8 JSON file into the smaller of two equivalent texts.

    Python stores a string at 1, 2 or 4 bytes per character, after its widest character: one
    emoji in a large bundle would make the whole text 4 times the file. So the text is either
    kept as decoded or, when that is smaller, written in ASCII with each non-ASCII character
    as its JSON ``\\u`` escape (6 or 12 bytes); both decode to the same JSON. The file is read
    in chunks, so its bytes are never held whole beside the text. With escapes, error columns
    count them.

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


class JsonReader:
    """A cursor over one JSON text; the caller drives it with :meth:`object`, :meth:`array`
    and :meth:`value`, then calls :meth:`end`."""

    def __init__(self, text: str, *, source: str) -> None:
        # the C scanner recurses per nesting level, and a dependency raises the recursion
        # limit: refuse deep nesting (and lone surrogates) before it sees the text
        check_json_text(text, source=source)
        self.text = text
        self.pos = 0
        self.source = source
        decoder = json.JSONDecoder(
            object_pairs_hook=_no_duplicates, parse_constant=_reject_constant
        )
        self._scan = decoder.scan_once  # type: ignore[attr-defined]

    # errors ------------------------------------------------------------------------------

    def _fail(self, message: str, pos: int) -> SchemaError:
        line = self.text.count("\n", 0, pos) + 1
        column = pos - self.text.rfind("\n", 0, pos)
        return SchemaError(
            f"not valid JSON: {message} (column {column})",
            location=Location(file=self.source, line=line),
        )

    def _duplicate(self, key: str) -> SchemaError:
        return SchemaError(
            f"key {key!r} appears twice in one object",
            location=Location(file=self.source, field=key),
            hint="a JSON object may name each key once",
        )

    # reading -----------------------------------------------------------------------------

    def peek(self) -> str:
        """The next character that is not whitespace ("" at the end)."""
        self.pos = _WS.match(self.text, self.pos).end()  # type: ignore[union-attr]
        return self.text[self.pos : self.pos + 1]

    def value(self) -> Any:
        """Decode the next whole value.

        Raises:
            SchemaError: not valid JSON, a duplicated key, or NaN/Infinity.
        """
        self.peek()
        try:
            obj, end = self._scan(self.text, self.pos)
        except StopIteration as exc:
            raise self._fail("Expecting value", exc.value) from None
        except _DuplicateKey as exc:
            raise self._duplicate(exc.key) from None
        except json.JSONDecodeError as exc:
            raise self._fail(exc.msg, exc.pos) from None
        except ValueError as exc:
            raise SchemaError(
                f"not valid JSON: {exc}", location=Location(file=self.source)
            ) from None
        except RecursionError:
            raise self._fail("nested too deeply", self.pos) from None
        self.pos = end
        return obj

    def object(self) -> Iterator[str]:
        """Enter an object: yield each key; the caller reads its value before the next.

        Raises:
            SchemaError: not an object, malformed, or a key given twice.
        """
        text = self.text
        if self.peek() != "{":
            raise self._fail("Expecting '{'", self.pos)
        self.pos += 1
        if self.peek() == "}":
            self.pos += 1
            return
        seen: set[str] = set()
        while True:
            if self.peek() != '"':
                raise self._fail("Expecting property name enclosed in double quotes", self.pos)
            try:
                key, self.pos = scanstring(text, self.pos + 1, True)
            except json.JSONDecodeError as exc:
                raise self._fail(exc.msg, exc.pos) from None
            if key in seen:
                raise self._duplicate(key)
            seen.add(key)
            if self.peek() != ":":
                raise self._fail("Expecting ':' delimiter", self.pos)
            self.pos += 1
            yield key
            c = self.peek()
            self.pos += 1
            if c == "}":
                return
            if c != ",":
                raise self._fail("Expecting ',' delimiter", self.pos - 1)

    def array(self) -> Iterator[int]:
        """Enter an array: yield each index; the caller reads the element before the next.

        Raises:
            SchemaError: not an array, or malformed.
        """
        if self.peek() != "[":
            raise self._fail("Expecting '['", self.pos)
        self.pos += 1
        if self.peek() == "]":
            self.pos += 1
            return
        i = 0
        while True:
            yield i
            i += 1
            c = self.peek()
            self.pos += 1
            if c == "]":
                return
            if c != ",":
                raise self._fail("Expecting ',' delimiter", self.pos - 1)

    def end(self) -> None:
        """Check that only whitespace follows the document.

        Raises:
            SchemaError: extra data after the document.
        """
        if self.peek():
            raise self._fail("Extra data", self.pos)
