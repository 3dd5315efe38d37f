"""RFC 3339 timestamps <-> unix seconds, in UTC only (pure: never reads the clock)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from verifier.errors import Location, SchemaError

_RFC3339_UTC = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|\+00:00)$"
)


def parse_rfc3339_utc(text: object, *, location: Location | None = None) -> int:
    """Parse an RFC 3339 UTC timestamp (``Z`` or ``+00:00``) into unix seconds.

    Fractions of a second are refused unless zero, so a timestamp means one exact second.

    Raises:
        SchemaError: not a string, not RFC 3339, not UTC, or not a real date.
    """
    if not isinstance(text, str) or not (m := _RFC3339_UTC.match(text)):
        raise SchemaError(
            f"expected an RFC 3339 UTC timestamp like 2026-01-15T00:00:00Z, found {text!r}",
            location=location,
        )
    frac = m.group(7)
    if frac and int(frac[1:]) != 0:
        raise SchemaError(
            f"timestamp {text!r} has a fraction of a second; use whole seconds",
            location=location,
        )
    try:
        y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
        dt = datetime(y, mo, d, h, mi, s, tzinfo=UTC)
    except ValueError as exc:
        raise SchemaError(
            f"timestamp {text!r} is not a real date: {exc}", location=location
        ) from None
    return int(dt.timestamp())


def format_rfc3339(seconds: int) -> str:
    """Unix seconds -> ``YYYY-MM-DDTHH:MM:SSZ``."""
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_date(seconds: int) -> str:
    """Unix seconds -> ISO calendar date in UTC (``YYYY-MM-DD``)."""
    return datetime.fromtimestamp(seconds, tz=UTC).date().isoformat()
