"""Calendar arithmetic of RULES.md: days, calendar months with clamping, overnight, ratings."""

from __future__ import annotations

import datetime as dt

import pytest

from verifier.rules.calendar import (
    add_months,
    days_between,
    is_overnight,
    maturity_date,
    within_months,
)
from verifier.rules.ratings import at_least, investment_grade, rating_rank


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),  # clamped to the month's end
        (dt.date(2028, 1, 31), 1, dt.date(2028, 2, 29)),  # leap year
        (dt.date(2025, 12, 31), 3, dt.date(2026, 3, 31)),
        (dt.date(2025, 11, 30), 3, dt.date(2026, 2, 28)),
        (dt.date(2026, 3, 31), -1, dt.date(2026, 2, 28)),
        (dt.date(2026, 6, 30), 12, dt.date(2027, 6, 30)),
        (dt.date(2026, 5, 15), 0, dt.date(2026, 5, 15)),
    ],
)
def test_add_months_same_day_clamped(start: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(start, months) == expected


def test_add_months_out_of_range() -> None:
    with pytest.raises(OverflowError):
        add_months(dt.date(9999, 12, 1), 1)


def test_exactly_three_calendar_months_is_within() -> None:
    d = dt.date(2026, 1, 31)
    assert within_months(dt.date(2026, 4, 30), d, 3)  # clamped limit day itself
    assert not within_months(dt.date(2026, 5, 1), d, 3)
    d = dt.date(2026, 1, 15)
    assert within_months(dt.date(2026, 4, 15), d, 3)
    assert not within_months(dt.date(2026, 4, 16), d, 3)


def test_days_between_is_calendar_days() -> None:
    d = dt.date(2025, 12, 31)
    assert days_between(d, dt.date(2026, 4, 3)) == 93
    assert days_between(d, dt.date(2026, 4, 4)) == 94
    assert days_between(d, dt.date(2025, 12, 30)) == -1


def test_overnight_across_a_weekend() -> None:
    friday = dt.date(2026, 1, 2)
    assert friday.weekday() == 4
    assert is_overnight(dt.date(2026, 1, 5), friday, 4)  # Monday: 3 days
    assert is_overnight(dt.date(2026, 1, 6), friday, 4)  # Tuesday after a holiday Monday: 4
    assert not is_overnight(dt.date(2026, 1, 7), friday, 4)  # 5 days
    assert is_overnight(friday, friday, 4)
    assert not is_overnight(dt.date(2026, 1, 1), friday, 4)  # already ended


def test_maturity_date() -> None:
    assert maturity_date(0) is None
    assert maturity_date(1_767_225_600) == dt.date(2026, 1, 1)
    with pytest.raises(ValueError):
        maturity_date(-1)


def test_rating_scale_and_moodys_mapping() -> None:
    assert rating_rank("AAA") == 0
    assert rating_rank("Aa3") == rating_rank("AA-")
    assert rating_rank("") is None
    assert rating_rank("NR") is None
    assert rating_rank("SD") == rating_rank("D")
    assert at_least("AA+", "AA-")
    assert at_least("AA-", "AA-")
    assert not at_least("A+", "AA-")
    assert not at_least("", "AA-")
    assert at_least("Aaa", "Aa3")
    assert investment_grade("BBB-")
    assert not investment_grade("BB+")
    with pytest.raises(ValueError, match="neither"):
        rating_rank("AAAA")
    # a holding's short-term or unknown rating is unrated, never an error (RULES.md)
    assert not at_least("A-1+", "A-") and not at_least("AAAA", "A-")
    assert not investment_grade("P-1") and not investment_grade("?")
    with pytest.raises(ValueError):
        at_least("AA", "")
