"""Calendar arithmetic of RULES.md: calendar days, calendar months with clamping, overnight.

All dates are UTC calendar dates. A holding's ``maturity`` is unix seconds of 00:00 UTC on its
maturity date (0 = none), so the date is the UTC day that instant falls on.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as _dt

SECONDS_PER_DAY = 86_400


def maturity_date(maturity: int) -> _dt.date | None:
    """The UTC calendar date of a leaf ``maturity`` (``None`` when 0, i.e. no maturity).

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
    return _dt.date(1970, 1, 1) + _dt.timedelta(days=maturity // SECONDS_PER_DAY)


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
