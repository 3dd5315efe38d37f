"""The one set of strict value checks every loader and option parser uses (pure).

Each check takes a value as parsed from JSON, TOML or a command line and returns it typed, or
raises :class:`Invalid` with a message that says what was expected and what was found. The
caller wraps it in its own typed error with the file, line and field (``SchemaError``,
``PolicyError``, ``InputError``), so the rules are written once and every error still names its
place. The rules: a JSON boolean is ``true``/``false`` (never a string, never a number); an
integer is a JSON integer (never a bool, a float or a string); hex is ``0x`` and whole bytes; an
address is 20 bytes written in its EIP-55 checksummed form; a chain id written as text is 1 to
19 ASCII digits without a leading zero.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from typing import Any

_HEX = re.compile(r"0x(?:[0-9a-fA-F]{2})*\Z")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}\Z")
_CURRENCY = re.compile(r"[A-Z]{3}\Z")
_CHAIN_ID = re.compile(r"[1-9][0-9]{0,18}\Z")  # ASCII digits (\d takes any script's), <= 19
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})\Z")


class InvalidValueError(ValueError):
    """A value that breaks one of the rules; ``hint`` says how to write it instead."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


#: Longest found value quoted in a message (hostile input can be megabytes long).
_SHOWN_MAX = 80


def shown(value: Any) -> str:
    """A found value as JSON when it is JSON, else its ``repr``; cut to ~80 characters."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        try:
            text = repr(value)
        except ValueError:  # an int beyond Python's digit limit for str() (sys.int_info)
            text = f"<an integer of {value.bit_length()} bits>"
    return text if len(text) <= _SHOWN_MAX else f"{text[: _SHOWN_MAX - 20]}... ({len(text)} chars)"


def boolean(value: Any) -> bool:
    """A JSON boolean: ``true`` or ``false`` itself, never ``"false"`` nor ``0``."""
    if not isinstance(value, bool):
        raise InvalidValueError(f"expected true or false, found {shown(value)}")
    return value


def integer(value: Any, *, lo: int | None = None, hi: int | None = None) -> int:
    """A JSON integer (not a bool, float or string) within ``lo..hi`` when given."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValueError(f"expected an integer, found {shown(value)}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        bound = f"{lo}..{hi}" if lo is not None and hi is not None else ""
        bound = bound or (f">= {lo}" if lo is not None else f"<= {hi}")
        raise InvalidValueError(f"expected an integer {bound}, found {shown(value)}")
    return value


def string(value: Any) -> str:
    """A JSON string."""
    if not isinstance(value, str):
        raise InvalidValueError(f"expected a string, found {shown(value)}")
    return value


def is_currency_code(value: Any) -> bool:
    """An ISO 4217 alphabetic code's shape: three ASCII capital letters (``USD``)."""
    return isinstance(value, str) and _CURRENCY.match(value) is not None


def iso_date(value: Any) -> _dt.date:
    """A calendar date written ``YYYY-MM-DD`` (a string, ASCII digits, a real day after 1970)."""
    m = _DATE.match(value) if isinstance(value, str) else None
    if m is None:
        raise InvalidValueError(f"expected a date like 2026-11-30, found {shown(value)}")
    try:
        day = _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise InvalidValueError(f"{value} is not a real calendar date") from None
    if day.year < 1970:
        raise InvalidValueError(f"date {value} is before 1970")
    return day


def hex_bytes(value: Any, length: int | None = None) -> bytes:
    """``0x``-prefixed hex of whole bytes (``length`` of them when given)."""
    if not isinstance(value, str) or not _HEX.match(value):
        raise InvalidValueError(f"expected 0x-prefixed hex bytes, found {shown(value)}")
    data = bytes.fromhex(value[2:])
    if length is not None and len(data) != length:
        raise InvalidValueError(f"expected {length} bytes of 0x-hex, found {len(data)}")
    return data


def eip55(address: str) -> str:
    """The EIP-55 checksummed form of a ``0x`` + 40 hex digit address: each letter of the
    lower-case hex upper-cased where the Keccak-256 of that lower-case text has a nibble >= 8.

    Computed here rather than with ``eth_utils`` (about 0.1 s to import, pydantic included);
    tests compare it with ``eth_utils.to_checksum_address``.
    """
    from verifier.model.keccak import keccak256  # not imported for `porv --help`

    if not _ADDRESS.match(address):
        raise InvalidValueError(f"expected a 0x address of 20 bytes, found {shown(address)}")
    lower = address[2:].lower()
    nibbles = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(
        ch.upper() if n in "89abcdef" else ch for ch, n in zip(lower, nibbles, strict=False)
    )


def checksummed_address(value: Any) -> str:
    """A 20-byte ``0x`` address in its EIP-55 checksummed form (a typo cannot pin another key)."""
    if not isinstance(value, str) or not _ADDRESS.match(value):
        raise InvalidValueError(f"expected a 0x address of 20 bytes, found {shown(value)}")
    expected = eip55(value)
    if value != expected:
        raise InvalidValueError(
            f"address {value} is not EIP-55 checksummed",
            hint=f"if this is the intended address, write it as {expected}",
        )
    return value


def parse_chain_id(text: str) -> int:
    """A chain id written in decimal: 1 to 19 ASCII digits, no leading zero."""
    if not _CHAIN_ID.match(text):
        raise InvalidValueError(f"expected a chain id (decimal, no leading zero), found {text!r}")
    return int(text)


def split_chain_pair(text: str, sep: str) -> tuple[int, str]:
    """``CHAIN_ID<sep>VALUE`` (``31337=http://...``, ``1:0xAbC...``) -> (chain id, value).

    Split at the first ``sep``; the value is returned as written, for the caller to check.
    """
    chain, found, rest = text.partition(sep)
    if not found:
        raise InvalidValueError(f"expected CHAIN_ID{sep}..., found {text!r}")
    return parse_chain_id(chain), rest
