"""Strict JSON reading shared by every loader: size cap, no duplicate keys, no NaN.

A JSON document that repeats a key is ambiguous (two parsers may keep different values), so it
is refused rather than silently resolved.
"""

from __future__ import annotations

import json
import os
from typing import Any

from verifier.errors import Location, SchemaError

#: Upper bound on any JSON input porv reads (a 1M-holding tree dump is well under this).
MAX_JSON_BYTES = 512 * 1024 * 1024


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
    """Parse JSON text strictly.

    Raises:
        SchemaError: malformed JSON (with line), a duplicated key, or NaN/Infinity.
    """
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except _DuplicateKey as exc:
        raise SchemaError(
            f"key {exc.key!r} appears twice in one object",
            location=Location(file=source, field=exc.key),
            hint="a JSON object may name each key once",
        ) from None
    except json.JSONDecodeError as exc:
        raise SchemaError(
            f"not valid JSON: {exc.msg} (column {exc.colno})",
            location=Location(file=source, line=exc.lineno),
        ) from None
    except ValueError as exc:
        raise SchemaError(f"not valid JSON: {exc}", location=Location(file=source)) from None


def load_json_file(path: str | os.PathLike[str], *, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """Read and strictly parse a JSON file (see :func:`loads_strict`).

    Raises:
        SchemaError: unreadable, too large, not UTF-8, or not valid JSON.
    """
    source = os.fspath(path)
    try:
        with open(source, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise SchemaError(
            f"cannot read file: {exc.strerror or exc}", location=Location(file=source)
        ) from None
    if len(data) > max_bytes:
        raise SchemaError(
            f"file is larger than the {max_bytes} byte limit", location=Location(file=source)
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SchemaError(
            f"not UTF-8 text (byte {exc.start})", location=Location(file=source)
        ) from None
    return loads_strict(text, source=source)
