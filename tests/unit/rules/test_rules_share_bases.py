"""Floors, caps and average maturity cannot be moved by holdings the pack refuses.

An issuer adds holdings the pack's own eligibility rows refuse (a deposit at a foreign bank,
"central bank reserves" at another central bank, a junk bond, a bill repaid last week):

- a floor counts only eligible holdings, and its "reserve" base is everything still held
  (ineligible holdings can only raise the requirement);
- a cap counts every holding of its classes still held, and its "reserve" base is the
  eligible reserve (ineligible holdings can only raise the measured share);
- an average maturity averages the eligible holdings only.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from tests.unit.rules.test_rules_regimes import D, _pack, aed, gbp, reasons, rule, run
from tests.unit.rules.test_rules_support import holding
from verifier.model.holdings import Holding
from verifier.rules import RulesReport, evaluate

_REAL_BOE = [
    gbp("CB", "central_bank_reserves", 300),
    gbp("G", "sovereign_debt", 900, maturity=D + dt.timedelta(days=90)),
]


def _boe(items: list[Holding]) -> RulesReport:
    return run(items, "uk-boe-systemic", supply="1000", currency="GBP")


def _uae(items: list[Holding], supply: str = "50") -> RulesReport:
    return run(
        items,
        "cbuae-dpt-bank-sub",
        supply=supply,
        currency="AED",
        issuer_type="bank_subsidiary",
        options={"cbuae-dpt-bank-sub": {"flags": ["art22_3_elected"]}},
    )


# --- floors: only eligible holdings count ------------------------------------------------


def test_boe_central_bank_floor_ignores_reserves_at_another_central_bank() -> None:
    honest = _boe(_REAL_BOE)
    assert rule(honest, "boe.central-bank-floor").status == "fail"  # 300 of 1200 = 25 %
    fake = gbp("CB-ZZ", "central_bank_reserves", 5000, country="ZZ")
    report = _boe([*_REAL_BOE, fake])
    assert reasons(report, "uk-boe-systemic", "CB-ZZ")  # the pack refuses it
    floor = rule(report, "boe.central-bank-floor")
    assert floor.status == "fail"
    assert Decimal(floor.measured) == 300  # the refused 5000 adds nothing to the floor
    # and its base is everything held (6200), so the refused holding raised the floor
    assert Decimal(floor.limit) == Decimal("1860")
    assert report.pack("uk-boe-systemic").verdict == "fail"


def test_uae_cash_floor_ignores_a_deposit_the_pack_refuses() -> None:
    real = [
        aed("CASH", "bank_deposit_demand", 1000),
        aed("B", "sovereign_debt", 5000, maturity=D + dt.timedelta(days=30)),
    ]
    assert _uae(real).pack("cbuae-dpt-bank-sub").verdict == "fail"
    fake = aed("DEP-ZZ", "bank_deposit_demand", 9000, country="ZZ")
    report = _uae([*real, fake])
    assert reasons(report, "cbuae-dpt-bank-sub", "DEP-ZZ")
    floor = rule(report, "cbuae.cash-floor")
    assert floor.status == "fail" and Decimal(floor.measured) == 10  # AED 10.00 eligible cash
    assert report.pack("cbuae-dpt-bank-sub").verdict == "fail"


def test_a_supply_based_floor_counts_only_eligible_deposits() -> None:
    pack = _pack(
        asset=(
            'countries = ["US"]\n[[eligibility.assets]]\nclass = "bank_deposit_demand"\n'
            'countries = ["US"]\ncitation = "c"'
        ),
        kind="deposit_floor",
        params='classes = ["bank_deposit_demand"]\nshare = "0.5"',
    )
    honest = [
        holding("DEP", "bank_deposit_demand", amount=40_00),
        holding("C", "cash", amount=60_00),
    ]
    kw: dict[str, Any] = {"supply": Decimal(100), "currency": "USD", "as_of": D}
    assert evaluate(honest, packs=[pack], **kw).results[0].status == "fail"
    fake = holding("DEP-ZZ", "bank_deposit_demand", amount=1000_00, country="ZZ")
    result = evaluate([*honest, fake], packs=[pack], **kw).results[0]
    assert result.status == "fail" and Decimal(result.measured) == 40


def test_a_matured_deposit_never_meets_a_floor() -> None:
    old = aed("OLD", "bank_deposit_demand", 9000, maturity=D - dt.timedelta(days=1))
    report = _uae([aed("B", "sovereign_debt", 5000, maturity=D + dt.timedelta(days=30)), old])
    floor = rule(report, "cbuae.cash-floor")
    assert floor.status == "fail" and Decimal(floor.measured) == 0
    assert Decimal(floor.limit) == 25  # 50 % of the AED 50.00 still held; the repaid 90 is gone


# --- caps: the base cannot be inflated ----------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        gbp("OLD", "sovereign_debt", 5000, maturity=D - dt.timedelta(days=1)),  # repaid
        gbp("JUNK", "corporate_bond", 5000),  # a class the pack does not allow
        gbp("CB-ZZ", "central_bank_reserves", 5000, country="ZZ"),  # another central bank
    ],
    ids=["matured", "junk", "foreign-central-bank"],
)
def test_boe_gilt_cap_base_is_the_eligible_reserve(extra: Holding) -> None:
    honest = rule(_boe(_REAL_BOE), "boe.gilt-cap")
    assert honest.status == "fail" and "75.00 %" in honest.message
    report = _boe([*_REAL_BOE, extra])
    cap = rule(report, "boe.gilt-cap")
    assert cap.status == "fail"
    assert Decimal(cap.limit) == 840  # 70 % of the eligible reserve 1200, whatever was added
    assert "75.00 % of the eligible reserve 1200 GBP" in cap.message
    assert report.pack("uk-boe-systemic").verdict == "fail"


def test_a_cap_still_counts_ineligible_holdings_of_its_classes() -> None:
    items = [
        gbp("CB", "central_bank_reserves", 400),
        gbp("G", "sovereign_debt", 600, maturity=D + dt.timedelta(days=90)),
        gbp("G-LONG", "sovereign_debt", 100, maturity=D + dt.timedelta(days=3650)),  # refused
    ]
    report = _boe(items)
    assert reasons(report, "uk-boe-systemic", "G-LONG")
    cap = rule(report, "boe.gilt-cap")
    # 700 held of the capped classes against 70 % of the eligible 1000: over by 0, still a pass
    assert Decimal(cap.measured) == 700 and Decimal(cap.limit) == 700 and cap.status == "pass"
    report = _boe([*items, gbp("G-LONG2", "sovereign_debt", 1, maturity=D + dt.timedelta(3650))])
    assert rule(report, "boe.gilt-cap").status == "fail"  # a refused gilt is still a gilt held


# --- average maturity: eligible holdings only ---------------------------------------------


def test_uae_average_duration_ignores_a_refused_short_bond() -> None:
    base = [
        aed("CASH", "bank_deposit_demand", 6000),
        aed("B", "sovereign_debt", 500, maturity=D + dt.timedelta(days=365)),
    ]
    honest = rule(_uae(base), "cbuae.bond-duration")
    assert honest.status == "fail" and honest.measured == "365.00 days"
    short = aed("X", "sovereign_debt", 5000, country="ZZ", maturity=D + dt.timedelta(days=1))
    report = _uae([*base, short])
    assert reasons(report, "cbuae-dpt-bank-sub", "X")
    avg = rule(report, "cbuae.bond-duration")
    assert avg.status == "fail" and avg.measured == "365.00 days"
    assert report.pack("cbuae-dpt-bank-sub").verdict == "fail"
