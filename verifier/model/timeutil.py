"""RFC 3339 timestamps <-> unix seconds, in UTC only (pure: never reads the clock)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from verifier.errors import InputError, Location, SchemaError

# The one time scanner: a date, then optionally a time with a zone. ASCII digits only (\d takes
# any script's), and \Z: "$" also matches before a final newline.
_TIME = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:([Tt])([0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))?\Z"
)


#: How far a time another party gives (a bundle's ``as_of``, a feed's ``updatedAt``, a chain's
#: block times) may lie ahead of this machine's clock: clock skew between honest machines.
MAX_FUTURE_SKEW_S = 300


def _scan(text: str, *, in_file: bool) -> int | str:
    """The one time parser: unix seconds, or why not (``"shape"``, ``"fraction"``, ``"date"``).

    In a file (``in_file``): RFC 3339 in UTC only, ``T`` and ``Z`` (or ``+00:00``) as written,
    at most nine fractional digits. On the command line: also a bare date (00:00:00Z), ``t``/``z``
    and any numeric offset. Either way a fraction of a second must be zero.
    """
    m = _TIME.match(text)
    if m is None:
        return "shape"
    date, t, clock, fraction, zone = m.groups()
    if in_file and (t != "T" or zone not in ("Z", "+00:00") or len(fraction or "") > 10):
        return "shape"
    if fraction and fraction[1:].strip("0"):  # not int(): any length is read
        return "fraction"
    if t is None:
        clock, zone = "00:00:00", "Z"
    try:
        moment = datetime.fromisoformat(f"{date}T{clock}{'+00:00' if zone in 'Zz' else zone}")
        return int(moment.timestamp())
    except (ValueError, OverflowError):
        return "date"


def parse_rfc3339_utc(text: object, *, location: Location | None = None) -> int:
    """Parse an RFC 3339 UTC timestamp in a file (``Z`` or ``+00:00``) into unix seconds.

    Fractions of a second are refused unless zero, so a timestamp means one exact second.

    Raises:
        SchemaError: not a string, not RFC 3339, not UTC, or not a real date.
    """
    got = _scan(text, in_file=True) if isinstance(text, str) else "shape"
    if got == "shape":
        raise SchemaError(
            f"expected an RFC 3339 UTC timestamp like 2026-01-15T00:00:00Z, found {text!r}",
            location=location,
        )
    if got == "fraction":
        raise SchemaError(
            f"timestamp {text!r} has a fraction of a second; use whole seconds",
            location=location,
        )
    if isinstance(got, str):
        raise SchemaError(f"timestamp {text!r} is not a real date", location=location)
    return got


#: What every command-line option that takes a time accepts (one rule, :func:`parse_time_option`):
#: RFC 3339 with ``Z`` or a numeric offset (``T``/``Z`` in either case), or a bare date.
TIME_OPTION_HELP = "RFC 3339 with a zone (2026-01-31T08:00:00Z) or a date (2026-01-31 = 00:00Z)"


def parse_time_option(text: str, *, option: str) -> int:
    """The one rule for a time given on the command line -> unix seconds.

    Accepted: RFC 3339 with ``Z`` or a numeric offset (converted to UTC; ``T`` and ``Z`` in
    either case, as RFC 3339 allows), or a bare date ``YYYY-MM-DD`` meaning 00:00:00Z that day.
    Refused: naive times (no zone), fractions of a second other than zero, impossible dates and
    times, and times before 1970.

    Raises:
        InputError: The text is not such a time (names the option).
    """
    where = Location(field=option)
    got = _scan(text, in_file=False)
    if got == "shape":
        raise InputError(
            f"{text!r} is not an RFC 3339 time with a zone, nor a date",
            hint="write e.g. 2026-01-31T00:00:00Z, 2026-01-31T08:00:00+08:00 or 2026-01-31",
            location=where,
        )
    if got == "fraction":
        raise InputError(f"{text!r} has a fraction of a second; use whole seconds", location=where)
    if isinstance(got, str):
        raise InputError(f"{text!r} is not a real date and time", location=where)
    if got < 0:
        raise InputError(f"{text!r} is before 1970", location=where)
    return got


#: The last second RFC 3339 can write (its years have four digits): 9999-12-31T23:59:59Z.
MAX_RFC3339_SECONDS = 253_402_300_799


def format_rfc3339(seconds: int) -> str:
    """Unix seconds -> ``YYYY-MM-DDTHH:MM:SSZ``.

    Total over every uint64 (a signed ``validUntil`` may be up to 2^64 - 1): a time past year
    9999 or before 1970 is written with ISO 8601's expanded, signed year (``+292277026596-12-04
    T15:30:07Z`` without the space), computed exactly, never an error.
    """
    if 0 <= seconds <= MAX_RFC3339_SECONDS:
        return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    days, rest = divmod(seconds, 86_400)
    year, month, day = _civil_from_days(days)
    hh, rest = divmod(rest, 3600)
    mm, ss = divmod(rest, 60)
    sign = "+" if year >= 0 else "-"
    return f"{sign}{abs(year):04d}-{month:02d}-{day:02d}T{hh:02d}:{mm:02d}:{ss:02d}Z"


def _civil_from_days(days: int) -> tuple[int, int, int]:
    """Proleptic Gregorian (year, month, day) of a count of days since 1970-01-01 (any size)."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if month <= 2 else 0), month, day


def utc_date(seconds: int) -> str:
    """Unix seconds -> ISO calendar date in UTC (``YYYY-MM-DD``)."""
    return datetime.fromtimestamp(seconds, tz=UTC).date().isoformat()
