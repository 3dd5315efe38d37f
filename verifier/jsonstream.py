"""Reading a large JSON document piece by piece, as strictly as :func:`jsonio.loads_strict`.

``json.loads`` turns a whole document into Python objects at once: for a bundle with a large
holdings tree that is several times the size of the file. :class:`JsonReader` walks the
document's outer objects and arrays itself and decodes one value at a time with the standard
library's scanner (with the same hooks: no duplicate key, no NaN), so a caller can turn each
array element into a compact form and drop its JSON before reading the next.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

from verifier.errors import Location, SchemaError
from verifier.jsonio import _DuplicateKey, _no_duplicates, _reject_constant

_WS = re.compile(r"[ \t\n\r]*")


class JsonReader:
    """A cursor over one JSON text; the caller drives it with :meth:`object`, :meth:`array`
    and :meth:`value`, then calls :meth:`end`."""

    def __init__(self, text: str, *, source: str) -> None:
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
