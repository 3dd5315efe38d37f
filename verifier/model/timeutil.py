"""RFC 3339 timestamps <-> unix seconds, in UTC only (pure: never reads the clock)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from verifier.errors import InputError, Location, SchemaError

# ASCII digits only (\d takes any script's), and \Z: "$" also matches before a final newline.
_RFC3339_UTC = re.compile(
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?"
    r"(Z|\+00:00)\Z"
)


#: How far a time another party gives (a bundle's ``as_of``, a feed's ``updatedAt``, a chain's
#: block times) may lie ahead of this machine's clock: clock skew between honest machines.
MAX_FUTURE_SKEW_S = 300


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


#: What every command-line option that takes a time accepts (one rule, :func:`parse_time_option`):
#: RFC 3339 with ``Z`` or a numeric offset (``T``/``Z`` in either case), or a bare date.
TIME_OPTION_HELP = "RFC 3339 with a zone (2026-01-31T08:00:00Z) or a date (2026-01-31 = 00:00Z)"

_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})\Z")
_RFC3339 = re.compile(  # ASCII digits only: \d would take any script's digits
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]([0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})\Z"
)


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
    try:
        if _DATE.match(text):
            moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
        elif match := _RFC3339.match(text):
            fraction = match.group(3)
            if fraction and int(fraction[1:]) != 0:
                raise InputError(
                    f"{text!r} has a fraction of a second; use whole seconds", location=where
                )
            zone = "+00:00" if match.group(4) in ("Z", "z") else match.group(4)
            moment = datetime.fromisoformat(f"{match.group(1)}T{match.group(2)}{zone}")
        else:
            raise InputError(
                f"{text!r} is not an RFC 3339 time with a zone, nor a date",
                hint="write e.g. 2026-01-31T00:00:00Z, 2026-01-31T08:00:00+08:00 or 2026-01-31",
                location=where,
            )
    except (ValueError, OverflowError):
        raise InputError(f"{text!r} is not a real date and time", location=where) from None
    seconds = int(moment.timestamp())
    if seconds < 0:
        raise InputError(f"{text!r} is before 1970", location=where)
    return seconds


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
