"""Strict file and JSON reading shared by every loader: regular files only, size and depth caps,
no duplicate keys, no NaN, no lone surrogates; and porv's canonical JSON.

A JSON document that repeats a key is ambiguous (two parsers may keep different values), so it
is refused rather than silently resolved. Every input file porv reads (bundle, policy, result,
state, trees, CSV, key files) is opened by :func:`open_regular_file`: a FIFO, a device such as
``/dev/zero``, a socket or a directory is refused at once (exit 2) instead of blocking on an
open or reading without end, and no more than the cap is ever read.

Nesting depth is checked *before* ``json.loads`` runs: the parser recurses once per level, and
a dependency (``py_ecc``, imported with the signature stack) raises Python's recursion limit to
100,000, past what the C stack holds, so a document of ~200 KB of ``[`` would crash the process
(SIGSEGV) instead of raising. Files are checked by :func:`loads_strict` (-> :class:`SchemaError`,
exit 2); node answers by :func:`parse_json` from the RPC client (-> its own error, exit 3).
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable, Mapping
from typing import IO, Any

import rfc8785

from verifier.display import escape_terminal
from verifier.errors import InputError, Location, SchemaError

#: Upper bound on any JSON input porv reads (a 1M-holding tree dump is well under this).
MAX_JSON_BYTES = 512 * 1024 * 1024


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


class JsonRefused(ValueError):
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
    brackets = _NOT_BRACKETS.sub("", text)
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


def parse_json(
    text: str,
    *,
    max_depth: int = MAX_JSON_DEPTH,
    parse_float: Callable[[str], Any] | None = None,
) -> Any:
    """Parse JSON text strictly: depth cap first; no repeated keys, NaN/Infinity or lone
    surrogates.

    The one JSON parser of porv; callers map :class:`JsonRefused` to their own error family.

    Raises:
        JsonRefused: too deeply nested, malformed, a repeated key, NaN/Infinity, or a lone
            surrogate (with the path of the string holding it).
    """
    if nesting_exceeds(text, max_depth):
        raise JsonRefused(f"nested deeper than {max_depth} levels of arrays/objects")
    lone = lone_surrogate_escape(text)
    try:
        doc = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_reject_constant,
            parse_float=parse_float,
        )
    except _DuplicateKey as exc:
        raise JsonRefused(
            f"key {exc.key!r} appears twice in one object",
            field=exc.key,
            hint="a JSON object may name each key once",
        ) from None
    except json.JSONDecodeError as exc:
        raise JsonRefused(
            f"not valid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno
        ) from None
    except RecursionError:  # unreachable below the depth cap; kept as a typed refusal
        raise JsonRefused("nested too deeply to parse") from None
    except ValueError as exc:
        raise JsonRefused(f"not valid JSON: {exc}") from None
    if lone is not None:
        raise JsonRefused(
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
    if _SURROGATE_ESCAPE.search(text) is None:  # the common case: one C-speed scan
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


#: Flags for opening an input: never block on a FIFO's open (no writer), never make a terminal
#: the controlling one, never leak the descriptor into a child process.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def _not_regular(mode: int) -> str | None:
    """What a file is when it is not a regular file (None when it is one)."""
    for test, name in (
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return None if stat.S_ISREG(mode) else "not a regular file"


def open_regular_file(
    path: str | os.PathLike[str],
    *,
    what: str = "file",
    error: type[InputError] = SchemaError,
    max_bytes: int | None = None,
) -> IO[bytes]:
    """Open an input file for reading in binary, refusing anything but a regular file.

    The open never blocks (``O_NONBLOCK``: a FIFO without a writer opens at once) and the kind
    of file is taken from the opened descriptor (``fstat``), so a path swapped between a check
    and the open cannot slip a device or a FIFO in. Symbolic links are followed.

    Args:
        what: how messages name the file (``"policy"``, ``"holdings CSV"``...).
        error: the typed error to raise (an :class:`InputError`, exit 2).
        max_bytes: refuse a file whose size already exceeds this.

    Raises:
        InputError: (``error``) the file cannot be opened, is not a regular file, or is too
            large.
    """
    source = os.fspath(path)
    where = Location(file=source)
    try:
        fd = os.open(source, _OPEN_FLAGS)
    except OSError as exc:
        raise error(f"cannot read {what}: {exc.strerror or exc}", location=where) from None
    try:
        info = os.fstat(fd)
        kind = _not_regular(info.st_mode)
        if kind is not None:
            raise error(
                f"cannot read {what}: {source} is {kind}, not a regular file",
                location=where,
                hint="give the path of a regular file",
            )
        if max_bytes is not None and info.st_size > max_bytes:
            raise error(
                f"{what} is larger than the {max_bytes} byte limit ({info.st_size} bytes)",
                location=where,
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular_file(
    path: str | os.PathLike[str],
    *,
    max_bytes: int,
    what: str = "file",
    error: type[InputError] = SchemaError,
) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (see :func:`open_regular_file`).

    Raises:
        InputError: (``error``) unreadable, not a regular file, or larger than ``max_bytes``
            (never more than ``max_bytes + 1`` bytes are read, even if the file grows).
    """
    source = os.fspath(path)
    with open_regular_file(source, what=what, error=error, max_bytes=max_bytes) as fh:
        try:
            data = fh.read(max_bytes + 1)
        except OSError as exc:
            raise error(
                f"cannot read {what}: {exc.strerror or exc}", location=Location(file=source)
            ) from None
    if len(data) > max_bytes:
        raise error(
            f"{what} is larger than the {max_bytes} byte limit", location=Location(file=source)
        )
    return data


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


class _DuplicateKey(ValueError):
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
    except JsonRefused as exc:
        raise SchemaError(
            exc.message,
            hint=exc.hint,
            location=Location(file=source, line=exc.line, field=exc.field),
        ) from None


def load_json_file(path: str | os.PathLike[str], *, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """Read and strictly parse a JSON file (see :func:`loads_strict`).

    Raises:
        SchemaError: unreadable, not a regular file, too large, not UTF-8, or not valid JSON.
    """
    source = os.fspath(path)
    data = read_regular_file(source, max_bytes=max_bytes)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SchemaError(
            f"not UTF-8 text (byte {exc.start})", location=Location(file=source)
        ) from None
    return loads_strict(text, source=source)


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
