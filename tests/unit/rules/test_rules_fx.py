"""Capital floors in another currency, compared through the policy's FX rates (exactly)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from tests.unit.model.test_policy import BASE
from tests.unit.rules.test_rules_engine import D, run
from tests.unit.rules.test_rules_support import holding
from verifier.errors import InputError, SchemaError
from verifier.model.fx import FxRate
from verifier.model.policy import Policy
from verifier.rules import RulesReport
from verifier.rules.report import RuleResult


def rate(pair: str, value: str, day: dt.date = D) -> FxRate:
    base, quote = pair.split("/")
    return FxRate(base, quote, Decimal(value), day)


def capital(report: RulesReport, rule_id: str = "hkma.capital") -> RuleResult:
    return next(r for p in report.packs for r in p.rules if r.id == rule_id)


def hkma(amount: str, *rates: FxRate, ccy: str = "USD") -> RuleResult:
    disc = {"paid_up_capital": {"amount": amount, "currency": ccy}}
    return capital(run([holding()], "hkma", disclosures=disc, fx_rates=rates))


@pytest.mark.parametrize(
    ("amount", "fx", "expected", "short"),
    [
        # USD/HKD 8: 3 125 000 USD is exactly HKD 25 000 000
        ("3125000", rate("USD/HKD", "8"), "pass", None),
        ("3124999.99", rate("USD/HKD", "8"), "fail", "short by 0.08 HKD"),
        # only HKD/USD pinned: the floor is HKD 25M × 0.128 = USD 3 200 000, nothing divided
        ("3200000", rate("HKD/USD", "0.128"), "pass", None),
        ("3199999.99", rate("HKD/USD", "0.128"), "fail", "short by 0.01 USD"),
        # an inexact inverse (1/7.8) is never computed: 25M HKD vs 3 205 128.21 USD at 7.80
        ("3205128.21", rate("USD/HKD", "7.80"), "pass", None),
        ("3205128.20", rate("USD/HKD", "7.80"), "fail", "short by 0.04 HKD"),
    ],
)
def test_floor_compared_at_the_pinned_rate(
    amount: str, fx: FxRate, expected: str, short: str | None
) -> None:
    r = hkma(amount, fx)
    assert r.status == expected, r.message
    if short is not None:
        assert short in r.message
    assert f"1 {fx.base} = {fx.rate} {fx.quote} (policy, 2025-12-31)" in r.message
    assert r.fx == (
        {"pair": fx.pair, "rate": str(fx.rate), "date": "2025-12-31", "source": "policy"},
    )
    assert r.to_json()["fx"] == [dict(r.fx[0])]


def test_without_a_rate_the_floor_stays_not_evaluated() -> None:
    r = hkma("100000000")
    assert r.status == "not_evaluated" and "no USD/HKD rate ([fx])" in r.message
    assert r.fx == () and "fx" not in r.to_json()
    # a rate for another pair does not help
    assert hkma("100000000", rate("EUR/HKD", "8.5")).status == "not_evaluated"


def test_same_currency_uses_no_rate() -> None:
    r = hkma("25000000", rate("USD/HKD", "7.8"), ccy="HKD")
    assert r.status == "pass" and r.fx == ()


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D, "pass"),
        (D - dt.timedelta(days=7), "pass"),
        (D - dt.timedelta(days=8), "not_evaluated"),
        (D + dt.timedelta(days=1), "not_evaluated"),
    ],
)
def test_a_stale_or_later_rate_leaves_not_evaluated(day: dt.date, expected: str) -> None:
    r = hkma("100000000", rate("USD/HKD", "7.8", day))
    assert r.status == expected, r.message
    if expected == "not_evaluated":
        assert r.fx == ()
        assert ("8 days before as_of" in r.message) or ("after as_of" in r.message)


def test_a_stale_rate_never_hides_a_shortfall_it_cannot_measure() -> None:
    # 1 USD of capital is far below any floor, but with a stale rate nothing is claimed
    r = hkma("1", rate("USD/HKD", "7.8", D - dt.timedelta(days=30)))
    assert r.status == "not_evaluated"


def test_mica_floor_and_reserve_share_both_compared() -> None:
    usd = [holding(amount=100_000_000_000)]  # 1 000 000 000 USD: 2 % = 20M USD
    disc = {"own_funds": {"amount": "20000000", "currency": "USD"}}
    ok = run(usd, "mica-emt", disclosures=disc, fx_rates=[rate("EUR/USD", "1.0850")])
    r = capital(ok, "mica.own-funds")
    assert r.status == "pass", r.message  # EUR 350k = USD 379 750 at 1.0850
    assert r.fx[0]["pair"] == "EUR/USD"
    low = {"own_funds": {"amount": "379749.99", "currency": "USD"}}
    small = [holding(amount=1_000_000)]  # reserve 10 000 USD: 2 % = 200 USD
    r = capital(
        run(
            small, "mica-emt", disclosures=low, supply="10000", fx_rates=[rate("EUR/USD", "1.085")]
        ),
        "mica.own-funds",
    )
    assert r.status == "fail" and "short by 0.01 USD" in r.message, r.message


def test_two_rates_for_one_pair_are_refused() -> None:
    with pytest.raises(InputError, match="two FX rates"):
        hkma("1", rate("USD/HKD", "7.8"), rate("HKD/USD", "0.128"))


def test_rates_from_a_policy_reach_the_rule() -> None:
    text = BASE.replace('["genius"]', '["hkma"]') + (
        '\n[fx]\n"USD/HKD" = { rate = "7.80", as_of = "2025-12-30" }\n'
    )
    policy = Policy.from_toml_text(text)
    disc: dict[str, Any] = {"paid_up_capital": {"amount": "3205128.21", "currency": "USD"}}
    report = run([holding()], *policy.jurisdictions, disclosures=disc, fx_rates=policy.fx_rates)
    r = capital(report)
    assert r.status == "pass"
    assert json.loads(json.dumps(report.to_json()))["packs"][0]["rules"][2]["fx"] == [
        {"pair": "USD/HKD", "rate": "7.80", "date": "2025-12-30", "source": "policy"}
    ]


@pytest.mark.parametrize("key", ["fx", "fx_rates", "usd_hkd"])
def test_disclosures_never_supply_a_rate(key: str) -> None:
    disc: dict[str, Any] = {
        "paid_up_capital": {"amount": "100000000", "currency": "USD"},
        key: {"USD/HKD": {"rate": "100", "as_of": "2025-12-31"}},
    }
    with pytest.raises(SchemaError, match="unknown disclosure key"):
        run([holding()], "hkma", disclosures=disc)


def test_mas_parts_in_one_other_currency_record_the_rate_once() -> None:
    disc = {
        "base_capital": {"amount": "740741", "currency": "USD"},
        "annual_operating_expenses": {"amount": "1000000", "currency": "SGD"},
    }
    fx = rate("USD/SGD", "1.35")  # 740 741 USD = 1 000 000.35 SGD >= max(S$1M, 50 % of S$1M)
    r = capital(run([holding()], "mas", disclosures=disc, fx_rates=[fx]), "mas.capital")
    assert r.status == "pass", r.message
    assert len(r.fx) == 1
    disc["base_capital"] = {"amount": "740740", "currency": "USD"}  # 999 999.00 SGD
    r = capital(run([holding()], "mas", disclosures=disc, fx_rates=[fx]), "mas.capital")
    assert r.status == "fail" and "short by 1 SGD" in r.message, r.message
