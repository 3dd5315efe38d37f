"""Strict JSON text shared by every reader: depth caps, no duplicate keys, no NaN, no lone
surrogates; the streaming :class:`JsonReader`; and porv's canonical JSON. Pure: no files (those
are :mod:`verifier.local.jsonio`).

A JSON document that repeats a key is ambiguous (two parsers may keep different values), so it
is refused rather than silently resolved.

Nesting depth is checked *before* ``json.loads`` runs: the parser recurses once per level, and
a dependency (``py_ecc``, imported with the signature stack) raises Python's recursion limit to
100,000, past what the C stack holds, so a document of ~200 KB of ``[`` would crash the process
(SIGSEGV) instead of raising. Files are checked by :func:`loads_strict` (-> :class:`SchemaError`,
exit 2); node answers by :func:`parse_json` from the RPC client (-> its own error, exit 3).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

import rfc8785

from verifier.errors import Location, SchemaError
from verifier.model.display import escape_terminal

#: Deepest nesting of arrays/objects accepted in any JSON input or node answer. porv's own
#: formats nest at most 6 levels (bundle > custodians[] > tree > values[] > value[] > cell) and
#: JSON-RPC answers about 4 (batch > item > result > logs[]); 64 leaves ample room while
#: keeping every recursive walk (the parser, canonical JSON, schema checks) far below any
#: recursion limit, whatever a dependency sets it to.
MAX_JSON_DEPTH = 64

# A JSON string (escapes included, unrolled so a long unterminated one stays linear), or a run
# of anything that is neither a bracket nor a quote, or a lone quote (an unterminated string).
_NOT_BRACKETS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[^\[\]{}"]+|"', re.DOTALL)
# An innermost pair: an opening bracket directly followed by a closing one.
_INNER_PAIR = re.compile(r"[\[{][\]}]")
# A \\u escape of a UTF-16 surrogate: the only way a JSON text read as UTF-8 can carry one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JsonRefusedError(ValueError):
    """A JSON text :func:`parse_json` refuses: malformed, too deep, a repeated key, NaN."""

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.field = field
        self.hint = hint


def nesting_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the arrays/objects of JSON ``text`` nest deeper than ``limit`` levels.

    Linear-time and without recursion: strings and scalars are dropped (C-speed regex), then
    innermost bracket pairs are removed one level per pass; a structure of depth d is gone after
    d passes. Unbalanced brackets that could hide more depth than ``limit`` count as too deep
    (such text is not valid JSON anyway).
    """
    brackets = _brackets(text)
    for passes in range(limit):
        if not brackets:
            return False
        reduced = _INNER_PAIR.sub("", brackets)
        if reduced == brackets:
            # no adjacent pair left: closers then openers; each remaining opener adds a level
            # above what the passes so far removed
            return len(brackets) + passes > limit
        brackets = reduced
    return bool(brackets)


# Every byte but the brackets and the quote, dropped by ``bytes.translate`` (C speed, no regex).
_NOT_STRUCTURAL = bytes(b for b in range(256) if b not in b'[]{}"')
# One or more strings in a row, or a lone quote, in a text of brackets and quotes alone.
_QUOTED_RUN = re.compile(rb'(?:"[^"]*")+|"')
_TRANSLATE_CHUNK = 1 << 20


def _brackets(text: str) -> str:
    """The brackets of ``text`` outside its strings, in order: ``_NOT_BRACKETS.sub("", text)``.

    Without a backslash in the text, every quote opens or closes a string, so the brackets and
    quotes alone decide it: a slice at a time, the rest is dropped by ``bytes.translate`` (a
    UTF-8 multi-byte sequence never holds an ASCII byte), then the strings, now only quotes and
    brackets, by one regex pass over about a tenth of the slice. About 3.5 times faster on a
    bundle, and the extra memory is a slice's. A string left open at a slice's end carries over
    to the next; one never closed is a lone quote, after which the regex reads everything as
    outside. A text with a backslash (an escape) takes the general regex.
    """
    if "\\" in text:
        return _NOT_BRACKETS.sub("", text)
    drop, step = _NOT_STRUCTURAL, _TRANSLATE_CHUNK
    out: list[bytes] = []
    pending: list[bytes] = []  # the brackets inside a string still open
    inside = False
    for start in range(0, len(text), step):
        part = text[start : start + step].encode("utf-8", "surrogatepass").translate(None, drop)
        if inside:
            close = part.find(b'"')
            if close < 0:
                pending.append(part)
                continue
            pending.clear()
            part = part[close + 1 :]
            inside = False
        if part.count(b'"') % 2:  # the last quote opens a string this slice does not close
            last = part.rfind(b'"')
            out.append(_drop_strings(part[:last]))
            pending.append(part[last + 1 :])
            inside = True
        else:
            out.append(_drop_strings(part))
    if inside:  # a lone quote: dropped, and what follows it is outside
        out.extend(pending)
    return b"".join(out).decode("ascii")


def _drop_strings(part: bytes) -> bytes:
    """``_QUOTED_RUN.sub(b"", part)`` for brackets and quotes with an even number of quotes.

    Two quotes side by side are dropped first (C speed; most strings hold no bracket, so
    this leaves about a tenth for the regex): a bracket is outside the strings iff an even
    number of quotes comes before it, and dropping two adjacent quotes changes that number
    by 0 or 2 for every bracket."""
    return _QUOTED_RUN.sub(b"", part.replace(b'""', b""))


def parse_json(
    text: str,
    *,
    max_depth: int = MAX_JSON_DEPTH,
    parse_float: Callable[[str], Any] | None = None,
) -> Any:
    """Parse JSON text strictly: depth cap first; no repeated keys, NaN/Infinity or lone
    surrogates.

    The one JSON parser of porv; callers map :class:`JsonRefusedError` to their own error family.

    Raises:
        JsonRefusedError: too deeply nested, malformed, a repeated key, NaN/Infinity, or a lone
            surrogate (with the path of the string holding it).
    """
    if nesting_exceeds(text, max_depth):
        raise JsonRefusedError(f"nested deeper than {max_depth} levels of arrays/objects")
    lone = lone_surrogate_escape(text)
    try:
        doc = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_reject_constant,
            parse_float=parse_float,
        )
    except _DuplicateKeyError as exc:
        raise JsonRefusedError(
            f"key {exc.key!r} appears twice in one object",
            field=exc.key,
            hint="a JSON object may name each key once",
        ) from None
    except json.JSONDecodeError as exc:
        raise JsonRefusedError(
            f"not valid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno
        ) from None
    except RecursionError:  # unreachable below the depth cap; kept as a typed refusal
        raise JsonRefusedError("nested too deeply to parse") from None
    except ValueError as exc:
        raise JsonRefusedError(f"not valid JSON: {exc}") from None
    if lone is not None:
        raise JsonRefusedError(
            _LONE_SURROGATE, line=text.count("\n", 0, lone) + 1, field=path_at(text, lone)
        )
    return doc


_LONE_SURROGATE = (
    "string is not valid Unicode (a lone surrogate, which no UTF-8 output, hash or signature "
    "can encode)"
)
# An escaped backslash (consumed, so what follows it is plain text) or a surrogate's \u escape.
_BACKSLASH_OR_SURROGATE = re.compile(r"\\\\|\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def lone_surrogate_escape(text: str) -> int | None:
    """Offset in JSON ``text`` of the first ``\\uD800``..``\\uDFFF`` escape not in a pair, or None.

    A high half must be followed at once by a low half (the pair decodes to one character);
    anything else would put a lone surrogate into a string. Works on the text, before and
    without parsing, so a streaming reader can refuse it too.
    """
    if "\\" not in text or _SURROGATE_ESCAPE.search(text) is None:  # the common cases
        return None
    pending: re.Match[str] | None = None  # a high half waiting for its low half
    for m in _BACKSLASH_OR_SURROGATE.finditer(text):
        token = m.group(0)
        if token == "\\\\":
            if pending is not None:
                return pending.start()
            continue
        low = token[3] in "cdefCDEF"  # the low half of a pair
        if pending is not None:
            if low and m.start() == pending.end():
                pending = None
                continue
            return pending.start()
        if low:
            return m.start()
        pending = m
    return pending.start() if pending is not None else None


def check_json_text(text: str, *, source: str, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Refuse, before any parser sees it, what porv never parses: nesting deeper than
    ``max_depth`` and lone surrogate escapes (for readers that do not use :func:`parse_json`).

    Raises:
        SchemaError: too deep, or a lone surrogate (with its line and field).
    """
    if nesting_exceeds(text, max_depth):
        raise SchemaError(
            f"nested deeper than {max_depth} levels of arrays/objects",
            location=Location(file=source),
        )
    lone = lone_surrogate_escape(text)
    if lone is not None:
        raise SchemaError(
            _LONE_SURROGATE,
            location=Location(
                file=source, line=text.count("\n", 0, lone) + 1, field=path_at(text, lone)
            ),
        )


# A JSON string (escapes included) or one structural character.
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\],:]', re.S)


def path_at(text: str, offset: int) -> str:
    """Path (``custodians[0].id``) of the key or value that JSON ``text`` holds at ``offset``.

    Read from the text alone, so every reader (the strict parser and the streaming bundle
    reader) names the same field for a fault found by a text scan. Iterative; keys are shown
    escaped, never raw.
    """
    # per open container: [is_object, key or index, expecting a key]
    stack: list[list[Any]] = []
    for m in _JSON_TOKEN.finditer(text):
        if m.start() > offset:
            break
        token = m.group(0)
        if token in "{[":
            stack.append([token == "{", None if token == "{" else 0, token == "{"])
        elif token in "}]":
            if stack:
                stack.pop()
        elif token == ",":
            if stack:
                top = stack[-1]
                if top[0]:
                    top[2] = True
                else:
                    top[1] += 1
        elif token == ":":
            if stack:
                stack[-1][2] = False
        elif stack and stack[-1][0] and stack[-1][2]:
            stack[-1][1] = escape_terminal(json.loads(token))
    parts: list[str] = []
    for is_object, where, _ in stack:
        if is_object:
            if where is not None:
                parts.append(("." if parts else "") + str(where))
        else:
            parts.append(f"[{where}]")
    return "".join(parts) or "(top level)"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key)
        out[key] = value
    return out


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads_strict(text: str, *, source: str) -> Any:
    """Parse JSON text strictly (see :func:`parse_json`).

    Raises:
        SchemaError: malformed JSON (with line), nested deeper than :data:`MAX_JSON_DEPTH`, a
            duplicated key, or NaN/Infinity.
    """
    try:
        return parse_json(text)
    except JsonRefusedError as exc:
        raise SchemaError(
            exc.message,
            hint=exc.hint,
            location=Location(file=source, line=exc.line, field=exc.field),
        ) from None


def canonical_bytes(obj: Any) -> bytes:
    """RFC 8785 canonical JSON bytes of ``obj``, extended to integers beyond 2^53.

    RFC 8785 writes numbers as ECMAScript does, exact only within ±(2^53 - 1), and leaves
    larger ones to the application. porv's uint64 fields (an attestation's ``asOf``,
    ``validUntil`` and ``sequence``, which ``attest sign`` accepts up to 2^64 - 1 and the
    EIP-712 type allows) can be larger, so porv writes such an integer as its exact decimal
    digits, as a JSON number. Within the range the bytes are exactly RFC 8785's.

    Raises:
        SchemaError: a string with a lone surrogate, or a value JSON cannot hold (the
            validators refuse these first; this is the last guard).
    """
    out = bytearray()
    write_canonical(obj, out.extend)
    return bytes(out)


#: Writes ``obj``'s canonical form itself and returns True, or returns False to let
#: :func:`write_canonical` write it (a loaded tree writes its own dump, piece by piece).
CanonicalHook = Callable[[Any, Callable[[bytes], Any]], bool]

_JS_SAFE = 2**53 - 1


def write_canonical(
    obj: Any, write: Callable[[bytes], Any], *, hook: CanonicalHook | None = None
) -> None:
    """Write :func:`canonical_bytes` of ``obj`` to ``write`` in pieces, never whole.

    The one canonical-JSON writer: the result digest and the bundle hash stream through it
    into sha256, so a large document is never held twice.

    Raises:
        SchemaError: as :func:`canonical_bytes`.
    """
    if hook is not None and hook(obj, write):
        return
    if isinstance(obj, Mapping):
        write(b"{")
        keys = sorted(obj, key=lambda k: str(k).encode("utf-16be", "surrogatepass"))
        for i, key in enumerate(keys):
            if not isinstance(key, str):
                raise SchemaError(f"cannot be written as canonical JSON: key {key!r}")
            write((b"," if i else b"") + _canonical_scalar(key) + b":")
            write_canonical(obj[key], write, hook=hook)
        write(b"}")
    elif isinstance(obj, list | tuple):
        write(b"[")
        for i, item in enumerate(obj):
            if i:
                write(b",")
            write_canonical(item, write, hook=hook)
        write(b"]")
    elif isinstance(obj, int) and not isinstance(obj, bool) and abs(obj) > _JS_SAFE:
        write(str(int(obj)).encode())
    else:
        write(_canonical_scalar(obj))


def _canonical_scalar(obj: Any) -> bytes:
    try:
        return rfc8785.dumps(obj)
    except rfc8785.CanonicalizationError as exc:
        raise SchemaError(f"cannot be written as canonical JSON: {exc}") from None


# --- streaming ---------------------------------------------------------------------------------
# ``json.loads`` turns a whole document into Python objects at once: for a bundle with a large
# holdings tree that is several times the size of the file. :class:`JsonReader` walks the
# document's outer objects and arrays itself and decodes one value at a time with the standard
# library's scanner (with the same hooks: no duplicate key, no NaN), so a caller can turn each
# array element into a compact form and drop its JSON before reading the next.

_WS = re.compile(r"[ \t\n\r]*")


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
        except _DuplicateKeyError as exc:
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
