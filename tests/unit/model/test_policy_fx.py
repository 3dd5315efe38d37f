"""``[fx]`` in porv.policy/1: dated decimal-string rates or feeds, one direction per pair."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.unit.model.test_policy import BASE, TOKEN, load, refused
from verifier.model.fx import FxRate, find_rate, parse_pair, rate_problem
from verifier.model.policy import ContractRef
from verifier.model.validate import InvalidValueError, iso_date
from verifier.result.schemas import policy_schema

FEED = TOKEN  # any checksummed address on the pinned chain


def with_fx(*lines: str) -> str:
    return BASE + "\n[fx]\n" + "\n".join(lines) + "\n"


def test_pinned_rate_loads_exactly_with_its_date() -> None:
    p = load(with_fx('"USD/HKD" = { rate = "7.80", as_of = "2026-11-30" }'))
    (rate,) = p.fx_rates
    assert rate == FxRate("USD", "HKD", Decimal("7.80"), dt.date(2026, 11, 30))
    assert str(rate.rate) == "7.80" and rate.source == "policy"
    assert p.fx_feeds == ()
    assert p.to_json()["fx"] == {"USD/HKD": {"rate": "7.80", "as_of": "2026-11-30"}}


def test_toml_date_literal_is_taken() -> None:
    p = load(with_fx('"EUR/USD" = { rate = "1.0850", as_of = 2026-11-30 }'))
    assert p.fx_rates[0].date == dt.date(2026, 11, 30)


def test_no_fx_table_means_no_rates() -> None:
    p = load(BASE)
    assert p.fx == () and p.fx_rates == () and "fx" not in p.to_json()


def test_feed_form_names_a_contract_on_a_pinned_chain() -> None:
    p = load(with_fx(f'"USD/HKD" = {{ feed = "31337:{FEED}" }}'))
    (pin,) = p.fx_feeds
    assert pin.pair == "USD/HKD" and pin.feed == ContractRef(31337, FEED) and pin.rate is None
    assert p.fx_rates == ()
    assert p.to_json()["fx"] == {"USD/HKD": {"feed": f"31337:{FEED}"}}


@pytest.mark.parametrize(
    ("line", "field", "words"),
    [
        ('"USD/HKD" = "7.80"', "fx.USD/HKD", "needs its date"),
        ('"USD/HKD" = 7.80', "fx.USD/HKD", "expected a dated rate"),
        ('"USD/HKD" = { rate = 7.80, as_of = "2026-11-30" }', "fx.USD/HKD.rate", "decimal string"),
        ('"USD/HKD" = { rate = 8, as_of = "2026-11-30" }', "fx.USD/HKD.rate", "decimal string"),
        ('"USD/HKD" = { rate = "-7.80", as_of = "2026-11-30" }', "fx.USD/HKD.rate", "negative"),
        ('"USD/HKD" = { rate = "0", as_of = "2026-11-30" }', "fx.USD/HKD.rate", "above 0"),
        ('"USD/HKD" = { rate = "0.000", as_of = "2026-11-30" }', "fx.USD/HKD.rate", "above 0"),
        ('"USD/HKD" = { rate = "7.8e0", as_of = "2026-11-30" }', "fx.USD/HKD.rate", "plain"),
        ('"USD/HKD" = { rate = "NaN", as_of = "2026-11-30" }', "fx.USD/HKD.rate", "plain"),
        ('"USD/HKD" = { rate = " 7.80", as_of = "2026-11-30" }', "fx.USD/HKD.rate", "plain"),
        ('"USD/HKD" = { rate = "' + "1" * 31 + '", as_of = "2026-11-30" }', "fx.USD/HKD.rate", ""),
        ('"USD/HKD" = { rate = "7.80" }', "fx.USD/HKD.as_of", "missing"),
        ('"USD/HKD" = { as_of = "2026-11-30" }', "fx.USD/HKD.rate", "missing"),
        ('"USD/HKD" = { rate = "7.80", as_of = "30/11/2026" }', "fx.USD/HKD.as_of", "date"),
        ('"USD/HKD" = { rate = "7.80", as_of = "2026-02-30" }', "fx.USD/HKD.as_of", "real"),
        ('"USD/HKD" = { rate = "7.80", as_of = 2026-11-30T00:00:00Z }', "fx.USD/HKD.as_of", ""),
        ('"USD/HKD" = { rate = "7.80", as_of = "2026-11-30", src = "x" }', "fx.USD/HKD.src", ""),
        ('"usd/HKD" = { rate = "7.80", as_of = "2026-11-30" }', "fx.usd/HKD", "pair"),
        ('"USDHKD" = { rate = "7.80", as_of = "2026-11-30" }', "fx.USDHKD", "pair"),
        ('"USD/HKD/EUR" = { rate = "7.80", as_of = "2026-11-30" }', "fx.USD/HKD/EUR", "pair"),
        ('"USD/USD" = { rate = "1", as_of = "2026-11-30" }', "fx.USD/USD", "same currency"),
        ('"USD/HKD" = { feed = "31337:0xabc" }', "fx.USD/HKD.feed", "CHAIN_ID:0x"),
        (f'"USD/HKD" = {{ feed = "{FEED}" }}', "fx.USD/HKD.feed", "CHAIN_ID:0x"),
        (f'"USD/HKD" = {{ feed = "31337:{FEED.lower()}" }}', "fx.USD/HKD.feed", "checksum"),
        (f'"USD/HKD" = {{ feed = "1:{FEED}" }}', "fx.USD/HKD.feed", "no deployment"),
        (
            f'"USD/HKD" = {{ feed = "31337:{FEED}", rate = "7.8", as_of = "2026-11-30" }}',
            "fx.USD/HKD",
            "give one",
        ),
    ],
)
def test_bad_fx_entries_are_refused(line: str, field: str, words: str) -> None:
    err = refused(with_fx(line))
    assert err.location is not None and err.location.field == field, err
    assert words in str(err), str(err)
    assert err.location.line is not None


def test_both_directions_of_a_pair_are_refused() -> None:
    err = refused(
        with_fx(
            '"USD/HKD" = { rate = "7.80", as_of = "2026-11-30" }',
            '"HKD/USD" = { rate = "0.128", as_of = "2026-11-30" }',
        )
    )
    assert err.location is not None and err.location.field == "fx.HKD/USD"
    assert "one direction" in str(err)
    assert err.location.line == BASE.count("\n") + 4


def test_fx_must_be_a_table() -> None:
    err = refused('fx = "USD/HKD"\n' + BASE)
    assert err.location is not None and err.location.field == "fx"


def test_fx_in_the_policy_schema() -> None:
    fx = policy_schema()["properties"]["fx"]
    assert "^[A-Z]{3}/[A-Z]{3}$" in fx["patternProperties"]
    assert fx["additionalProperties"] is False


def test_pairs_dates_and_staleness() -> None:
    assert parse_pair("EUR/USD") == ("EUR", "USD")
    for bad in ("EUR/", "/USD", "EUR-USD", "EUR/usd", 5, "EUR/EUR"):
        with pytest.raises(InvalidValueError):
            parse_pair(bad)
    assert iso_date("2026-11-30") == dt.date(2026, 11, 30)
    for bad_day in ("2026-11-31", "2026-1-30", "1969-12-31", "２０２６-11-30", dt.date(2026, 1, 1)):
        with pytest.raises(InvalidValueError):
            iso_date(bad_day)
    rate = FxRate("USD", "HKD", Decimal("7.8"), dt.date(2026, 11, 23))
    assert find_rate([rate], "USD", "HKD") == (rate, False)
    assert find_rate([rate], "HKD", "USD") == (rate, True)
    assert find_rate([rate], "USD", "EUR") is None
    assert rate_problem(rate, dt.date(2026, 11, 23)) is None
    assert rate_problem(rate, dt.date(2026, 11, 30)) is None  # 7 days: the oldest used
    stale = rate_problem(rate, dt.date(2026, 12, 1))
    assert stale is not None and "8 days before as_of 2026-12-01 (at most 7)" in stale
    early = rate_problem(rate, dt.date(2026, 11, 22))
    assert early is not None and "after as_of 2026-11-22" in early
