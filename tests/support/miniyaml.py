"""A small reader for the YAML that CI files use, for tests (PyYAML is not a dependency).

It reads block mappings and sequences (``- key: value`` items included), plain, single- and
double-quoted scalars, flow sequences of scalars (``[a, b]``), literal blocks (``|``, ``|-``)
and full-line comments. Every scalar stays a string (as GitHub passes action inputs).
Anything else (anchors, tags, flow mappings, folded blocks, an inline comment, a line it
cannot place) raises :class:`YamlSubsetError`, so nothing is silently misread.
"""

from __future__ import annotations

import json
import re
from typing import Any

_KEY = re.compile(r"^([^\s'\"\[{#&*!|>%@`-][^:]*?|-[^\s:][^:]*?):(?: (.*))?$")


class YamlSubsetError(ValueError):
    """The text uses YAML this reader does not handle (or is not YAML)."""


def load(text: str) -> Any:
    """Read ``text``: a mapping, a sequence or ``None`` for an empty document."""
    parser = _Parser(text.split("\n"))
    found = parser.peek()
    if found is None:
        return None
    value = parser.node(found[0])
    rest = parser.peek()
    if rest is not None:
        raise YamlSubsetError(f"line {parser.i + 1}: unexpected {parser.lines[parser.i]!r}")
    return value


class _Parser:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.i = 0

    def peek(self) -> tuple[int, str] | None:
        """(indent, text) of the next meaningful line, skipping blanks and comments."""
        while self.i < len(self.lines):
            line = self.lines[self.i]
            stripped = line.strip()
            if stripped and not stripped.startswith("#"):
                if "\t" in line[: len(line) - len(line.lstrip())]:
                    raise YamlSubsetError(f"line {self.i + 1}: a tab in the indentation")
                return len(line) - len(line.lstrip(" ")), stripped
            self.i += 1
        return None

    def node(self, indent: int) -> Any:
        found = self.peek()
        assert found is not None
        if found[1] == "-" or found[1].startswith("- "):
            return self.sequence(indent)
        return self.mapping(indent)

    def sequence(self, indent: int) -> list[Any]:
        items: list[Any] = []
        while (found := self.peek()) is not None and found[0] == indent:
            text = found[1]
            if not (text == "-" or text.startswith("- ")):
                break
            content = text[2:].strip() if text != "-" else ""
            if not content:
                self.i += 1
                nxt = self.peek()
                items.append(self.node(nxt[0]) if nxt and nxt[0] > indent else None)
            elif _KEY.match(content):
                inner = indent + 2
                self.lines[self.i] = " " * inner + content
                items.append(self.mapping(inner))
            else:
                self.i += 1
                items.append(self.scalar(content, indent))
        return items

    def mapping(self, indent: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        while (found := self.peek()) is not None and found[0] == indent:
            text = found[1]
            if text == "-" or text.startswith("- "):
                break
            m = _KEY.match(text)
            if not m:
                raise YamlSubsetError(f"line {self.i + 1}: not a `key: value` line: {text!r}")
            key, value = m.group(1).strip(), (m.group(2) or "").strip()
            if key in out:
                raise YamlSubsetError(f"line {self.i + 1}: key {key!r} repeated")
            self.i += 1
            if value:
                out[key] = self.scalar(value, indent)
                continue
            nxt = self.peek()
            if nxt is not None and (
                nxt[0] > indent or (nxt[0] == indent and nxt[1].startswith("- "))
            ):
                out[key] = self.node(nxt[0])
            else:
                out[key] = None
        found = self.peek()
        if found is not None and found[0] > indent:
            raise YamlSubsetError(f"line {self.i + 1}: unexpected indentation: {found[1]!r}")
        return out

    def block(self, parent: int, keep_last_newline: bool) -> str:
        body: list[str] = []
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line.strip() and len(line) - len(line.lstrip(" ")) <= parent:
                break
            body.append(line)
            self.i += 1
        while body and not body[-1].strip():
            body.pop()
        if not body:
            return ""
        first = next(x for x in body if x.strip())
        cut = len(first) - len(first.lstrip(" "))
        text = "\n".join(x[cut:] if x.strip() else "" for x in body)
        return text + "\n" if keep_last_newline else text

    def scalar(self, value: str, indent: int) -> Any:
        if value in ("|", "|-"):
            return self.block(indent, keep_last_newline=value == "|")
        if value[0] in "&*!>{%@`":
            raise YamlSubsetError(f"line {self.i}: unsupported YAML: {value!r}")
        if value.startswith('"'):
            if not value.endswith('"') or len(value) < 2:
                raise YamlSubsetError(f"line {self.i}: unterminated string {value!r}")
            return json.loads(value)
        if value.startswith("'"):
            if not value.endswith("'") or len(value) < 2:
                raise YamlSubsetError(f"line {self.i}: unterminated string {value!r}")
            return value[1:-1].replace("''", "'")
        if value.startswith("["):
            if not value.endswith("]"):
                raise YamlSubsetError(f"line {self.i}: unterminated flow sequence {value!r}")
            inner = value[1:-1].strip()
            return [self.scalar(x.strip(), indent) for x in inner.split(",")] if inner else []
        if " #" in value or ": " in value:
            raise YamlSubsetError(f"line {self.i}: a plain scalar with ' #' or ': ': {value!r}")
        return value
