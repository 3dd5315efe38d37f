"""Calendar arithmetic of RULES.md: calendar days, calendar months with clamping, overnight.

All dates are UTC calendar dates. A holding's ``maturity`` is unix seconds of 00:00 UTC on its
maturity date (0 = none), so the date is the UTC day that instant falls on.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as _dt

SECONDS_PER_DAY = 86_400


_EPOCH = _dt.date(1970, 1, 1)
#: Days from 1970-01-01 to 9999-12-31, the last date Python's ``date`` holds. A leaf's uint64
#: maturity reaches far beyond (2^64 - 1 s is about year 584 billion, a natural "perpetual").
_LAST_DAY = (_dt.date.max - _EPOCH).days


def maturity_date(maturity: int) -> _dt.date | None:
    """The UTC calendar date of a leaf ``maturity`` (``None`` when 0, i.e. no maturity).

    A maturity after 9999-12-31 (valid data up to the leaf's uint64 maximum) is clamped to
    9999-12-31: far future for every comparison with ``as_of``; use :func:`maturity_days` for
    exact day counts and :func:`maturity_text` to show it.

    Args:
        maturity: unix seconds of 00:00 UTC on the maturity date, or 0.

    Returns:
        The date, or ``None`` for 0.

    Raises:
        ValueError: if ``maturity`` is negative.
    """
    if maturity < 0:
        raise ValueError(f"maturity must be >= 0, got {maturity}")
    if maturity == 0:
        return None
    return _EPOCH + _dt.timedelta(days=min(maturity // SECONDS_PER_DAY, _LAST_DAY))


def maturity_days(maturity: int, as_of: _dt.date) -> int:
    """RULES.md ``days(h)``: calendar days from ``as_of`` to the maturity date, exactly, for
    any uint64 ``maturity`` (also past year 9999).

    Args:
        maturity: unix seconds of 00:00 UTC on the maturity date (not 0).
        as_of: the reserve date ``D``.

    Returns:
        The day count (negative when the holding matured before ``as_of``).
    """
    return maturity // SECONDS_PER_DAY - (as_of - _EPOCH).days


def maturity_text(maturity: int) -> str:
    """A maturity for people: the ISO date, or the raw seconds past 9999-12-31.

    Args:
        maturity: unix seconds (not 0).

    Returns:
        ``"2026-09-30"`` or ``"unix time 18446744073709551615 (after 9999-12-31)"``.
    """
    if maturity // SECONDS_PER_DAY > _LAST_DAY:
        return f"unix time {maturity} (after {_dt.date.max.isoformat()})"
    return (_EPOCH + _dt.timedelta(days=maturity // SECONDS_PER_DAY)).isoformat()


def days_between(start: _dt.date, end: _dt.date) -> int:
    """Calendar days from ``start`` to ``end`` (negative when ``end`` is earlier).

    Args:
        start: first date (RULES.md's ``D``).
        end: second date (the maturity date).

    Returns:
        ``end - start`` in days.
    """
    return (end - start).days


def add_months(start: _dt.date, months: int) -> _dt.date:
    """``start`` plus ``months`` calendar months, same day of month clamped to the month's end.

    ``add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)``.

    Args:
        start: the date to move from.
        months: number of calendar months (may be negative).

    Returns:
        The shifted date.

    Raises:
        OverflowError: if the result falls outside years 1..9999.
    """
    index = start.year * 12 + (start.month - 1) + months
    year, month0 = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise OverflowError(f"{start.isoformat()} + {months} months is out of range")
    last = _calendar.monthrange(year, month0 + 1)[1]
    return _dt.date(year, month0 + 1, min(start.day, last))


def within_months(maturity: _dt.date, as_of: _dt.date, months: int) -> bool:
    """RULES.md ``within_months``: maturity on or before ``as_of`` + ``months`` calendar months.

    Args:
        maturity: the holding's maturity date.
        as_of: the reserve date ``D``.
        months: the limit in calendar months.

    Returns:
        Whether the maturity is within the limit.
    """
    return maturity <= add_months(as_of, months)


def is_overnight(maturity: _dt.date, as_of: _dt.date, max_days: int) -> bool:
    """RULES.md overnight: ``0 <= days(h) <= max_days`` (next business day, weekends tolerated).

    Args:
        maturity: the repo end date.
        as_of: the reserve date ``D``.
        max_days: the pack's overnight limit in calendar days (4 in RULES.md).

    Returns:
        Whether the term counts as overnight.
    """
    return 0 <= days_between(as_of, maturity) <= max_days
