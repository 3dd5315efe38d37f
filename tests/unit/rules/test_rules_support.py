"""Builders shared by the rule tests (holdings from a few keyword arguments), and their checks."""

from __future__ import annotations

import datetime as dt

from verifier.model.holdings import Holding

AS_OF = dt.date(2026, 1, 2)  # a Friday


def ts(day: dt.date) -> int:
    """Unix seconds of 00:00 UTC on ``day``."""
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def holding(
    holding_id: str = "H1",
    asset_class: str = "cash",
    currency: str = "USD",
    amount: int = 100_000_000,
    *,
    decimals: int = 2,
    maturity: dt.date | None = None,
    counterparty: str = "Bank",
    country: str = "US",
    rating: str = "",
    collateral: str = "",
    collateral_value: int = 0,
) -> Holding:
    """A holding in minor units (``amount`` with ``decimals``), maturity as a date."""
    return Holding(
        holding_id=holding_id,
        asset_class=asset_class,
        currency=currency,
        amount=amount,
        decimals=decimals,
        maturity=ts(maturity) if maturity else 0,
        counterparty=counterparty,
        country=country,
        rating=rating,
        collateral=collateral,
        collateral_value=collateral_value,
    )


def test_ts_is_midnight_utc_and_round_trips() -> None:
    from verifier.rules.calendar import maturity_date

    assert ts(dt.date(1970, 1, 2)) == 86_400
    assert maturity_date(ts(AS_OF)) == AS_OF
    assert holding(maturity=None).maturity == 0
