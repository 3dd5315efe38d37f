"""Market-risk estimate after FRTB (GIRR, CSR, FX delta): magnitudes, formulas, reporting."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal, localcontext
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.rules.test_rules_support import holding
from verifier.errors import InputError
from verifier.local.loaders import parse_holdings_csv
from verifier.model.holdings import Holding
from verifier.rules import parse_disclosures
from verifier.rules.risk import (
    FX_RISK_WEIGHT,
    _csr_bucket_charge,
    capital_from_disclosures,
    csr_bucket_charge_pairwise,
    market_risk,
)

D = dt.date(2026, 1, 2)
SQRT2 = Decimal(2).sqrt()
CENT = Decimal("0.01")


def close(a: Decimal, b: Decimal, tol: str = "0.000001") -> bool:
    return abs(a - b) <= Decimal(tol) * max(abs(b), Decimal(1))


def matched_reserve() -> list[Holding]:
    return [
        holding("DEP", "bank_deposit_demand", amount=40_000_000_00),
        holding(
            "BILL", "sovereign_debt", amount=40_000_000_00, maturity=dt.date(2026, 4, 2),
            counterparty="US Treasury", rating="AA+",
        ),
        holding(
            "REPO", "reverse_repo", amount=20_000_000_00, maturity=dt.date(2026, 1, 5),
            collateral="sovereign_debt", collateral_value=20_400_000_00,
        ),
    ]  # fmt: skip


def test_matched_reserve_of_deposits_short_bills_and_repo_is_well_under_one_percent() -> None:
    report = market_risk(matched_reserve(), currency="USD", as_of=D)
    share = report.share_of_reserve
    assert share is not None and share < Decimal("0.005")
    assert report.fx.charge == 0
    assert report.girr.charge > 0 and report.csr.charge > 0
    assert report.total == report.girr.charge + report.csr.charge + report.fx.charge
    assert report.complete


def test_usdc_estimate_is_well_under_one_percent(shared_data: Path) -> None:
    holdings = parse_holdings_csv(shared_data / "usdc-2025-12-31.csv")
    report = market_risk(holdings, currency="USD", as_of=dt.date(2025, 12, 31))
    share = report.share_of_reserve
    assert share is not None and share < Decimal("0.001")
    assert report.reserve_total == Decimal("75332981976.00")
    assert [b.bucket for b in report.csr.buckets] == ["1: sovereigns, central banks, MDBs (IG)"]


def test_mismatched_currency_adds_about_fifteen_percent() -> None:
    base = [holding("HKD-DEP", "bank_deposit_demand", currency="HKD", amount=900_000_000_00)]
    eur = holding("EUR-DEP", "bank_deposit_demand", currency="EUR", amount=10_000_000_00)
    rates = {"EUR": Decimal("8.5")}
    without = market_risk(base, currency="HKD", as_of=D)
    with_eur = market_risk([*base, eur], currency="HKD", as_of=D, fx_rates=rates)
    added = with_eur.total - without.total
    assert added == Decimal("0.15") * Decimal("85000000")  # 15 % of the HKD value, exactly
    assert with_eur.fx.buckets[0].bucket == "EUR/HKD"


def test_listed_usd_pair_takes_fifteen_over_root_two() -> None:
    items = [holding("USD-DEP", "bank_deposit_demand", currency="USD", amount=100_000_000)]
    report = market_risk(items, currency="HKD", as_of=D, fx_rates={"USD": Decimal("7.8")})
    assert close(report.fx.charge, FX_RISK_WEIGHT / SQRT2 * Decimal(7_800_000))


def test_fx_correlation_across_currencies() -> None:
    items = [
        holding("E", "bank_deposit_demand", currency="EUR", amount=100_00),
        holding("G", "bank_deposit_demand", currency="GBP", amount=100_00),
    ]
    rates = {"EUR": Decimal(8), "GBP": Decimal(10)}
    report = market_risk(items, currency="HKD", as_of=D, fx_rates=rates)
    a, b = Decimal("0.15") * 800, Decimal("0.15") * 1000
    assert close(report.fx.charge, (a * a + b * b + 2 * Decimal("0.6") * a * b).sqrt())


def test_girr_vertex_split_and_tenor_correlation() -> None:
    # 0.75 y: half to the 0.5 y vertex, half to 1 y (linear interpolation).
    nine_months = D + dt.timedelta(days=274)  # 274/365 y
    t = Decimal(274) / 365
    bill = holding(
        "B",
        "sovereign_debt",
        currency="HKD",
        amount=1_000_000_00,
        maturity=nine_months,
        rating="AA+",
    )
    report = market_risk([bill], currency="HKD", as_of=D)
    bucket = report.girr.buckets[0]
    ws = dict(bucket.weighted)
    s = -Decimal(1_000_000) * t
    w_hi = (t - Decimal("0.5")) / Decimal("0.5")
    assert close(ws["0.5y"], Decimal("0.017") * s * (1 - w_hi))  # HKD: no √2 relief
    assert close(ws["1y"], Decimal("0.016") * s * w_hi)
    rho = max((Decimal("-0.03") * Decimal("0.5") / Decimal("0.5")).exp(), Decimal("0.4"))
    a, b = ws["0.5y"], ws["1y"]
    assert close(bucket.charge, (a * a + b * b + 2 * rho * a * b).sqrt())


def test_girr_far_vertices_hit_the_forty_percent_floor_and_usd_relief() -> None:
    one = holding(
        "1Y", "sovereign_debt", amount=100_00, maturity=D + dt.timedelta(days=365), rating="AA+"
    )
    thirty = holding(
        "30Y",
        "sovereign_debt",
        amount=100_00,
        maturity=D + dt.timedelta(days=365 * 30),
        rating="AA+",
    )
    report = market_risk([one, thirty], currency="USD", as_of=D)
    a = Decimal("0.016") / SQRT2 * -100
    b = Decimal("0.011") / SQRT2 * -3000
    # exp(-0.03 × 29 / 1) = 0.419 > 0.40: above the floor
    rho = (Decimal("-0.87")).exp()
    assert close(report.girr.charge, (a * a + b * b + 2 * rho * a * b).sqrt())


def test_girr_across_currencies_gamma_fifty_percent() -> None:
    mk = dt.date(2026, 4, 2)  # 90 days
    items = [
        holding("U", "sovereign_debt", currency="USD", amount=100_00, maturity=mk, rating="AA+"),
        holding("H", "sovereign_debt", currency="HKD", amount=100_00, maturity=mk, rating="AA+"),
    ]
    report = market_risk(items, currency="HKD", as_of=D, fx_rates={"USD": Decimal(1)})
    k = [b.charge for b in report.girr.buckets]
    assert len(k) == 2
    assert close(
        report.girr.charge, (k[0] ** 2 + k[1] ** 2 + 2 * Decimal("0.5") * k[0] * k[1]).sqrt()
    )


def test_csr_buckets_and_name_correlation() -> None:
    mk = D + dt.timedelta(days=365)
    items = [
        holding("HY", "sovereign_debt", amount=100_00, maturity=mk, rating="BB", counterparty="X"),
        holding(
            "CP1", "commercial_paper", amount=100_00, maturity=mk, rating="A", counterparty="Bank 1"
        ),
        holding(
            "CP2", "commercial_paper", amount=100_00, maturity=mk, rating="A", counterparty="Bank 2"
        ),
        holding("NR", "corporate_bond", amount=100_00, maturity=mk, counterparty="Co"),
        holding(
            "PS", "public_sector_debt", amount=100_00, maturity=mk, rating="AA", counterparty="City"
        ),
    ]
    report = market_risk(items, currency="USD", as_of=D)
    charges = {b.bucket.split(":")[0]: b.charge for b in report.csr.buckets}
    assert set(charges) == {"2", "3", "9", "11"}
    assert close(charges["9"], Decimal("0.02") * 100)
    assert close(charges["11"], Decimal("0.12") * 100)
    assert close(charges["2"], Decimal("0.01") * 100)
    ws = Decimal("0.05") * 100
    assert close(charges["3"], (2 * ws * ws + 2 * Decimal("0.35") * ws * ws).sqrt())
    assert close(report.csr.charge, sum(charges.values(), Decimal(0)))


def test_no_sensitivity_for_cash_like_holdings_and_mmf_at_sixty_days() -> None:
    items = [
        holding("C", "cash"),
        holding("CB", "central_bank_reserves"),
        holding("DD", "bank_deposit_demand"),
        holding("MMF", "mmf_government", amount=365_00),
    ]
    report = market_risk(items, currency="USD", as_of=D)
    ws = dict(report.girr.buckets[0].weighted)
    assert close(ws["0.25y"], Decimal("0.017") / SQRT2 * -60)
    assert report.csr.charge == 0


def test_capital_comparison_and_disclosures() -> None:
    report = market_risk(matched_reserve(), currency="USD", as_of=D, disclosed_capital=Decimal(1))
    assert report.capital_covers is False
    rich = market_risk(matched_reserve(), currency="USD", as_of=D, disclosed_capital=Decimal(10**9))
    assert rich.capital_covers is True
    assert market_risk(matched_reserve(), currency="USD", as_of=D).capital_covers is None
    facts = parse_disclosures(
        {
            "paid_up_capital": {"amount": "25000000", "currency": "HKD"},
            "own_funds": {"amount": "3000000", "currency": "USD"},
        }
    )
    assert capital_from_disclosures(facts, "USD") == Decimal(3_000_000)
    assert capital_from_disclosures(facts, "HKD") == Decimal(25_000_000)
    assert capital_from_disclosures(facts, "EUR") is None


def test_unconverted_currency_is_listed_and_report_incomplete() -> None:
    items = [holding("E", "bank_deposit_demand", currency="EUR"), holding("U")]
    report = market_risk(items, currency="USD", as_of=D)
    assert not report.complete
    assert report.unconverted == ("E: 1000000.00 EUR (no EUR/USD rate)",)
    assert report.fx.charge == 0


@pytest.mark.parametrize("rate", [Decimal(0), Decimal(-1), Decimal("NaN")])
def test_bad_fx_rate_is_input_error(rate: Decimal) -> None:
    with pytest.raises(InputError):
        market_risk([holding()], currency="USD", as_of=D, fx_rates={"EUR": rate})
    with pytest.raises(InputError):
        market_risk([holding()], currency="USD", as_of=D, disclosed_capital=Decimal(-1))


def _strings(obj: object) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    assert not isinstance(obj, float)
    return []


def test_to_json_is_decimal_strings() -> None:
    items = [*matched_reserve(), holding("E", "bank_deposit_demand", currency="EUR")]
    doc = market_risk(items, currency="USD", as_of=D, fx_rates={"EUR": Decimal("1.1")}).to_json()
    json.dumps(doc)
    numbers = [v for v in _strings(doc) if re.fullmatch(r"-?[0-9.]+([eE][-+]?[0-9]+)?", v)]
    assert numbers and all(re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", v) for v in numbers)
    assert isinstance(doc["total"], str) and Decimal(doc["total"]) > 0
    assert doc["complete"] is True and doc["simplifications"]
    with localcontext() as ctx:
        ctx.prec = 40
        assert Decimal(doc["total"]) == Decimal(doc["total"]).quantize(CENT)


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.tuples(st.sampled_from(["A", "B", "C", "D"]), st.integers(0, 4)),
        st.decimals(min_value=-1000, max_value=1000, places=2),
        min_size=1,
        max_size=12,
    )
)
def test_csr_linear_time_charge_equals_pairwise_form(ws: dict[tuple[str, int], Decimal]) -> None:
    with localcontext() as ctx:
        ctx.prec = 60
        fast = _csr_bucket_charge(ws)
        slow = csr_bucket_charge_pairwise(ws)
    assert abs(fast - slow) <= Decimal("1e-20") * max(slow, Decimal(1))


def test_short_term_rating_is_read_as_unrated_in_the_csr_bucket() -> None:
    mk = dt.date(2026, 6, 1)
    short = holding("ST", "commercial_paper", maturity=mk, rating="A-1+", counterparty="Bank")
    unrated = holding("ST", "commercial_paper", maturity=mk, rating="", counterparty="Bank")
    a = market_risk([short], currency="USD", as_of=D)
    b = market_risk([unrated], currency="USD", as_of=D)
    assert a.csr.charge == b.csr.charge > 0
    assert [x.bucket for x in a.csr.buckets] == [x.bucket for x in b.csr.buckets]
