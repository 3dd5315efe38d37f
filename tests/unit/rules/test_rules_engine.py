"""evaluate(): rule boundaries, the real compositions, synthetic HKD cases, disclosures."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.unit.rules.test_rules_support import holding
from verifier.errors import InputError, RulePackError, SchemaError
from verifier.local.loaders import parse_holdings_csv
from verifier.model.holdings import Holding
from verifier.rules import RulesReport, evaluate, list_packs, load_pack

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "holdings"
D = dt.date(2025, 12, 31)
USDC_SUPPLY = Decimal(75266033823)
EURC_SUPPLY = Decimal(309608590)


def run(holdings: list[Holding], *packs: str, supply: str = "1000000", **kw: Any) -> RulesReport:
    kw.setdefault("currency", "USD")
    kw.setdefault("as_of", D)
    return evaluate(holdings, packs=list(packs), supply=Decimal(supply), **kw)


def status(report: RulesReport, rule_id: str, pack: str | None = None) -> str:
    for p in report.packs:
        if pack is not None and p.pack != pack:
            continue
        for r in p.rules:
            if r.id == rule_id:
                return r.status
    raise KeyError(rule_id)


def reasons(report: RulesReport, pack: str, holding_id: str) -> tuple[str, ...]:
    for i in report.pack(pack).ineligible:
        if i.holding_id == holding_id:
            return i.reasons
    return ()


# --- boundaries ------------------------------------------------------------------------------


def test_genius_bill_93_days_eligible_94_not_but_hkma_takes_94() -> None:
    bills = [
        holding("B93", "sovereign_debt", maturity=dt.date(2026, 4, 3), rating="AA+"),
        holding("B94", "sovereign_debt", maturity=dt.date(2026, 4, 4), rating="AA+"),
    ]
    report = run(bills, "genius", "hkma")
    assert reasons(report, "genius", "B93") == ()
    assert reasons(report, "genius", "B94") == ("maturity 94 days > limit 93 days (over by 1)",)
    assert report.pack("genius").eligible_total == Decimal("1000000")
    assert report.pack("hkma").eligible_total == Decimal("2000000")
    assert report.pack("hkma").ineligible == ()


def test_exactly_three_calendar_months_with_month_end_clamping() -> None:
    as_of = dt.date(2026, 1, 31)
    items = [
        holding("TD-IN", "bank_deposit_term", maturity=dt.date(2026, 4, 30)),
        holding("TD-OUT", "bank_deposit_term", maturity=dt.date(2026, 5, 1)),
    ]
    report = run(items, "hkma", "mas", as_of=as_of)
    for pack in ("hkma", "mas"):
        assert reasons(report, pack, "TD-IN") == ()
        assert reasons(report, pack, "TD-OUT") == (
            "maturity 2026-05-01 after 2026-04-30 (3 calendar months; over by 1 days)",
        )


def _mica_reserve(deposits: str) -> list[Holding]:
    dep = int(Decimal(deposits) * 100)
    return [
        holding("DEP", "bank_deposit_demand", amount=dep, country="FR"),
        holding(
            "OAT",
            "sovereign_debt",
            amount=1_000_000 - dep,
            maturity=dt.date(2026, 3, 1),
            rating="AA-",
        ),
    ]


@pytest.mark.parametrize(
    ("deposits", "expected"),
    [("2999.00", "fail"), ("2999.99", "fail"), ("3000.00", "pass"), ("3000.01", "pass")],
)
def test_mica_deposit_floor_29_99_vs_30_percent(deposits: str, expected: str) -> None:
    report = run(_mica_reserve(deposits), "mica-emt", supply="10000", currency="USD")
    assert status(report, "mica.deposits-floor") == expected
    assert status(report, "mica.reserve-assets") == "pass"
    result = report.pack("mica-emt").rules[1]
    assert Decimal(result.limit or "0") == Decimal(3000)
    assert Decimal(result.measured or "0") == Decimal(deposits)
    if expected == "fail":
        assert "29.99 %" in result.message


def test_overnight_repo_across_a_weekend() -> None:
    friday = dt.date(2026, 1, 2)
    repo = {"collateral": "sovereign_debt", "collateral_value": 102_000_000}
    items = [
        holding("MON", "reverse_repo", maturity=dt.date(2026, 1, 5), **repo),  # 3 days
        holding("WED", "reverse_repo", maturity=dt.date(2026, 1, 7), **repo),  # 5 days
    ]
    report = run(items, "genius", "hkma", "mas", "mica-emt", as_of=friday)
    for pack in ("genius", "hkma", "mas", "mica-emt"):
        assert reasons(report, pack, "MON") == ()
        assert reasons(report, pack, "WED") == ("term 5 days is not overnight (limit 4 days)",)


def test_collateral_one_unit_short() -> None:
    items = [
        holding(
            "EXACT",
            "reverse_repo",
            maturity=dt.date(2026, 1, 1),
            collateral="sovereign_debt",
            collateral_value=100_000_000,
        ),
        holding(
            "SHORT",
            "reverse_repo",
            maturity=dt.date(2026, 1, 1),
            collateral="sovereign_debt",
            collateral_value=99_999_999,
        ),
    ]
    report = run(items, "genius")
    assert reasons(report, "genius", "EXACT") == ()
    assert reasons(report, "genius", "SHORT") == ("collateral short by 0.01 USD",)


def test_reverse_repo_on_30_year_bonds_is_eligible_under_genius() -> None:
    # The repo leaf names the collateral class only; the collateral's maturity (30 years) is
    # never tested, only the repo's own term and over-collateralisation.
    repo = holding(
        "RR-30Y",
        "reverse_repo",
        maturity=dt.date(2026, 1, 1),
        counterparty="Dealer (collateral: UST 4.75% 2055)",
        collateral="sovereign_debt",
        collateral_value=103_000_000,
    )
    report = run([repo], "genius", supply="1000000")
    assert report.pack("genius").ineligible == ()
    assert status(report, "genius.reserve-assets") == "pass"


def test_class_not_allowed_and_missing_maturity_and_matured() -> None:
    items = [
        holding("CP", "commercial_paper", maturity=dt.date(2026, 1, 20)),
        holding("TD", "bank_deposit_term", maturity=dt.date(2026, 1, 20)),
        holding("NOMAT", "sovereign_debt"),
        holding("OLD", "sovereign_debt", maturity=dt.date(2025, 12, 30)),
        holding("XRATE", "sovereign_debt", maturity=dt.date(2026, 1, 20), country="DE"),
    ]
    report = run(items, "genius")
    assert reasons(report, "genius", "CP") == ("class commercial_paper not allowed",)
    assert reasons(report, "genius", "TD") == ("class bank_deposit_term not allowed",)
    assert reasons(report, "genius", "NOMAT") == ("no maturity date, which eligibility needs",)
    assert reasons(report, "genius", "OLD") == ("matured on 2025-12-30, before as_of 2025-12-31",)
    assert reasons(report, "genius", "XRATE") == ("obligor country DE not in US",)
    assert status(report, "genius.reserve-assets") == "fail"


def test_matured_holding_is_ineligible_in_every_pack() -> None:
    # mica-emt sets no maturity limit on term deposits or AA- bonds: matured still refused
    for name in list_packs():
        pack = load_pack(name)
        as_of = max(D, pack.effective_from or D)  # a date each pack applies on
        if pack.effective_until is not None:
            as_of = pack.effective_until
        day_before = as_of - dt.timedelta(days=1)
        old = [
            holding("TD", "bank_deposit_term", maturity=day_before),
            holding("GB", "sovereign_debt", maturity=day_before, rating="AAA"),
            holding("DEP", "bank_deposit_demand", maturity=day_before),
        ]
        issuer = pack.issuer_types[0] if pack.issuer_types else None
        report = run(old, name, as_of=as_of, issuer_type=issuer)
        assert report.pack(name).eligible_total == 0, name
        why = f"matured on {day_before.isoformat()}, before as_of {as_of.isoformat()}"
        for hid in ("TD", "GB", "DEP"):
            assert why in reasons(report, name, hid), (name, hid)


def test_mica_rating_floor_and_mas_home_country_or_rating() -> None:
    may = dt.date(2026, 2, 15)
    items = [
        holding("AA-", "sovereign_debt", maturity=may, country="FR", rating="AA-"),
        holding("A+", "sovereign_debt", maturity=may, country="IT", rating="A+"),
        holding("SG-NR", "sovereign_debt", currency="SGD", maturity=may, country="SG"),
    ]
    report = run(items, "mica-emt", "mas", currency="SGD")
    assert "rating A+ below AA-" in reasons(report, "mica-emt", "A+")
    assert reasons(report, "mas", "SG-NR") == ()  # the peg currency's own government
    assert reasons(report, "mas", "A+") == (
        "currency mismatch: USD, token currency SGD",
        "obligor IT is not the SGD issuing state and rating A+ is below AA-",
    )


@pytest.mark.parametrize(
    ("rating", "why"),
    [
        ("A-1+", "rating 'A-1+' is a short-term rating: record the obligor's long-term rating"),
        ("F1+", "rating 'F1+' is a short-term rating"),
        ("P-1", "rating 'P-1' is a short-term rating"),
        ("AAAA", "rating 'AAAA' is on neither the S&P/Fitch nor the Moody's long-term scale"),
    ],
)
def test_short_term_or_unknown_rating_leaves_the_holding_unrated(rating: str, why: str) -> None:
    # RULES.md: never an error that stops the run; unrated where a rating floor applies.
    bill = holding("BILL", "sovereign_debt", maturity=dt.date(2026, 1, 20), rating=rating)
    report = run([bill], "mica-emt", "genius")
    (reason,) = reasons(report, "mica-emt", "BILL")
    assert reason.startswith("rating none (") and why in reason and reason.endswith("below AA-")
    assert report.pack("genius").eligible_total == Decimal("1000000")  # no floor in genius


def test_long_term_scales_both_accepted() -> None:
    may = dt.date(2026, 5, 1)
    bills = [
        holding("SP", "sovereign_debt", maturity=may, country="FR", rating="AA-"),
        holding("MDY", "sovereign_debt", maturity=may, country="FR", rating="Aa3"),
        holding("FITCH", "sovereign_debt", maturity=may, country="FR", rating="AA+"),
        holding("A1", "sovereign_debt", maturity=may, country="FR", rating="A1"),
    ]
    report = run(bills, "mica-emt")
    assert report.pack("mica-emt").eligible_total == Decimal("3000000")
    assert reasons(report, "mica-emt", "A1") == ("rating A1 below AA-",)


# --- the real compositions -------------------------------------------------------------------


def test_usdc_passes_genius_hkma_mas_and_fails_mica_deposit_floor(shared_data: Path) -> None:
    holdings = parse_holdings_csv(shared_data / "usdc-2025-12-31.csv")
    report = evaluate(
        holdings,
        packs=["genius", "hkma", "mas", "mica-emt", "mica-emt-significant"],
        supply=USDC_SUPPLY,
        currency="USD",
        as_of=D,
    )
    verdicts = {p.pack: p.verdict for p in report.packs}
    assert verdicts == {
        "genius": "pass",
        "hkma": "pass",
        "mas": "pass",
        "mica-emt": "fail",
        "mica-emt-significant": "fail",
    }
    assert not report.passed
    for name in ("genius", "hkma", "mas"):
        assert report.pack(name).ineligible == ()
        assert report.pack(name).eligible_total == Decimal("75332981976.00")
    failed = report.pack("mica-emt").failed
    assert [r.id for r in failed] == ["mica.deposits-floor"]
    assert "11.97 % of supply" in failed[0].message and "floor 30.00 %" in failed[0].message
    assert failed[0].measured == "9016425663.00"
    assert status(report, "genius.disclosure") == "not_evaluated"
    ok = evaluate(
        holdings, packs=["genius", "hkma", "mas"], supply=USDC_SUPPLY, currency="USD", as_of=D
    )
    assert ok.passed


def test_eurc_passes_both_mica_packs_and_fails_genius_on_currency(shared_data: Path) -> None:
    holdings = parse_holdings_csv(shared_data / "eurc-2025-12-31.csv")
    report = evaluate(
        holdings,
        packs=["mica-emt", "mica-emt-significant", "genius"],
        supply=EURC_SUPPLY,
        currency="EUR",
        as_of=D,
    )
    assert report.pack("mica-emt").passed
    assert report.pack("mica-emt-significant").passed
    genius = report.pack("genius")
    assert [r.id for r in genius.failed] == ["genius.currency"]
    assert "EUR" in genius.failed[0].message and "USD" in genius.failed[0].message


# --- synthetic HKD -----------------------------------------------------------------------------

HK = dt.date(2026, 6, 30)


def test_hkd_deposits_and_exchange_fund_bills_pass_hkma() -> None:
    holdings = parse_holdings_csv(FIXTURES / "hkd-deposits-efbills.csv")
    report = evaluate(
        holdings, packs=["hkma"], supply=Decimal(1_000_000_000), currency="HKD", as_of=HK
    )
    assert report.passed
    assert report.pack("hkma").ineligible == ()
    assert report.pack("hkma").eligible_total == Decimal("1030000000.00")


def test_hkd_four_month_time_deposit_is_ineligible_under_hkma() -> None:
    holdings = parse_holdings_csv(FIXTURES / "hkd-term-4m.csv")
    report = evaluate(
        holdings, packs=["hkma"], supply=Decimal(950_000_000), currency="HKD", as_of=HK
    )
    hk = report.pack("hkma")
    assert [i.holding_id for i in hk.ineligible] == ["HKD-TD-4M"]
    assert hk.ineligible[0].reasons == (
        "maturity 2026-10-30 after 2026-09-30 (3 calendar months; over by 30 days)",
    )
    assert hk.eligible_total == Decimal("950000000.00")
    assert report.passed  # exactly covered without the 4-month deposit
    short = evaluate(
        holdings, packs=["hkma"], supply=Decimal("950000000.01"), currency="HKD", as_of=HK
    )
    assert [r.id for r in short.pack("hkma").failed] == ["hkma.full-backing"]


def test_usd_assets_behind_an_hkd_coin_fail_same_currency_unless_approved() -> None:
    holdings = parse_holdings_csv(FIXTURES / "hkd-usd-assets.csv")
    args: dict[str, Any] = {
        "packs": ["hkma"],
        "supply": Decimal(300_000_000),
        "currency": "HKD",
        "as_of": HK,
    }
    report = evaluate(holdings, **args)
    assert [r.id for r in report.pack("hkma").failed] == ["hkma.same-currency"]
    assert "UST-2026-08-27" in report.pack("hkma").failed[0].message
    assert reasons(report, "hkma", "USD-DDA-1") == ("currency mismatch: USD, token currency HKD",)
    approved = evaluate(holdings, options={"hkma": {"approved_currencies": ["USD"]}}, **args)
    assert approved.passed
    # Approved or not, other-currency holdings count zero toward E (RULES.md).
    assert approved.pack("hkma").eligible_total == Decimal("300000000.00")
    # An approval in the issuer's disclosures grants nothing (DESIGN §1): the policy's only.
    by_disclosure = evaluate(holdings, disclosures={"approved_currencies": ["USD"]}, **args)
    assert [r.id for r in by_disclosure.pack("hkma").failed] == ["hkma.same-currency"]
    assert "approval counts only when the policy records it" in (
        by_disclosure.pack("hkma").failed[0].message
    )
    # An approval does not reach MAS, whose rule takes none.
    mas = evaluate(
        holdings, packs=["mas"], supply=args["supply"], currency="HKD", as_of=HK,
        options={"hkma": {"approved_currencies": ["USD"]}},
    )  # fmt: skip
    assert status(mas, "mas.same-currency") == "fail"


def test_hkma_min_coverage_buffer() -> None:
    holdings = parse_holdings_csv(FIXTURES / "hkd-deposits-efbills.csv")
    args: dict[str, Any] = {"supply": Decimal(1_000_000_000), "currency": "HKD", "as_of": HK}
    assert evaluate(holdings, packs=["hkma"], min_coverage=Decimal("1.03"), **args).passed
    report = evaluate(holdings, packs=["hkma"], min_coverage=Decimal("1.031"), **args)
    assert status(report, "hkma.full-backing") == "fail"
    # MAS takes Exchange Fund Bills up to 3 months only (E = 980M) and no buffer.
    args["supply"] = Decimal(950_000_000)
    report = evaluate(holdings, packs=["hkma", "mas"], min_coverage=Decimal("1.09"), **args)
    assert status(report, "hkma.full-backing") == "fail"
    assert report.pack("mas").eligible_total == Decimal("980000000.00")
    assert status(report, "mas.full-backing") == "pass"  # MAS rule does not take the buffer


# --- disclosures -----------------------------------------------------------------------------


def _money(amount: str, ccy: str) -> dict[str, str]:
    return {"amount": amount, "currency": ccy}


@pytest.mark.parametrize(
    ("capital", "expected"),
    [
        (_money("25000000", "HKD"), "pass"),
        (_money("24999999.99", "HKD"), "fail"),
        (_money("100000000", "USD"), "not_evaluated"),
    ],
)
def test_hkma_paid_up_capital(capital: dict[str, str], expected: str) -> None:
    report = run([holding()], "hkma", disclosures={"paid_up_capital": capital})
    assert status(report, "hkma.capital") == expected
    if expected == "not_evaluated":
        assert "no USD/HKD rate" in report.pack("hkma").rules[2].message


def test_mica_own_funds_compares_what_it_can() -> None:
    eur = [holding(currency="EUR", amount=31_200_000_000)]  # reserve 312 000 000 EUR
    kw: dict[str, Any] = {"currency": "EUR", "supply": "300000000"}
    ok = run(eur, "mica-emt", disclosures={"own_funds": _money("6240000", "EUR")}, **kw)
    assert status(ok, "mica.own-funds") == "pass"
    low = run(eur, "mica-emt", disclosures={"own_funds": _money("6239999.99", "EUR")}, **kw)
    assert status(low, "mica.own-funds") == "fail"
    sig = run(
        eur, "mica-emt-significant", disclosures={"own_funds": _money("6240000", "EUR")}, **kw
    )
    assert status(sig, "mica.own-funds") == "fail"  # 3 % for significant EMTs
    # A USD EMT with USD own funds: 2 % of the reserve is comparable, EUR 350k is not.
    usd = [holding(amount=100_000_000_000)]  # 1 000 000 000 USD
    below = run(usd, "mica-emt", disclosures={"own_funds": _money("19999999", "USD")})
    assert status(below, "mica.own-funds") == "fail"
    above = run(usd, "mica-emt", disclosures={"own_funds": _money("20000000", "USD")})
    assert status(above, "mica.own-funds") == "not_evaluated"
    assert run(usd, "mica-emt").pack("mica-emt").rules[3].status == "not_evaluated"


def test_mas_base_capital_and_operating_expenses() -> None:
    def mas(**disc: Any) -> str:
        return status(
            run([holding(currency="SGD")], "mas", currency="SGD", disclosures=disc), "mas.capital"
        )

    cap = _money("1200000", "SGD")
    assert mas(base_capital=cap, annual_operating_expenses=_money("2400000", "SGD")) == "pass"
    assert mas(base_capital=cap, annual_operating_expenses=_money("2400000.02", "SGD")) == "fail"
    assert mas(base_capital=cap) == "not_evaluated"
    assert mas(base_capital=_money("999999", "SGD")) == "fail"  # below the floor regardless
    assert mas() == "not_evaluated"


def test_genius_disclosure_flags_and_hkma_redemption() -> None:
    both = {"monthly_composition_published": True, "examined_by_registered_accounting_firm": True}
    assert status(run([holding()], "genius", disclosures=both), "genius.disclosure") == "pass"
    one_false = {**both, "examined_by_registered_accounting_firm": False}
    assert status(run([holding()], "genius", disclosures=one_false), "genius.disclosure") == "fail"
    one = {"monthly_composition_published": True}
    assert (
        status(run([holding()], "genius", disclosures=one), "genius.disclosure") == "not_evaluated"
    )
    assert (
        status(run([holding()], "hkma", disclosures={"redemption_days": 1}), "hkma.redemption")
        == "pass"
    )
    assert (
        status(run([holding()], "hkma", disclosures={"redemption_days": 2}), "hkma.redemption")
        == "fail"
    )


@pytest.mark.parametrize(
    "disclosures",
    [
        {"paid_up_capitol": _money("1", "HKD")},
        {"paid_up_capital": {"amount": 25000000.0, "currency": "HKD"}},
        {"paid_up_capital": {"amount": "-1", "currency": "HKD"}},
        {"paid_up_capital": {"amount": "1", "currency": "hkd"}},
        {"paid_up_capital": {"amount": "1"}},
        {"redemption_days": -1},
        {"redemption_days": True},
        {"monthly_composition_published": "yes"},
        {"approved_currencies": "USD"},
    ],
)
def test_bad_disclosures_are_schema_errors(disclosures: dict[str, Any]) -> None:
    with pytest.raises(SchemaError) as info:
        run([holding()], "hkma", disclosures=disclosures)
    assert info.value.exit_code == 2
    assert info.value.location is not None and info.value.location.field


@pytest.mark.parametrize(
    "options",
    [
        {"nope": {}},
        {"hkma": {"approved": ["USD"]}},
        {"hkma": {"approved_currencies": ["usd"]}},
        {"uk-fca": {"flags": ["Bad-Flag"]}},
        {"uk-fca": {"flags": "fca_expanded_assets_notified"}},
        {"bcbs-g1b": {"parameters": {"debt_max_days": 1.5}}},
        {"bcbs-g1b": {"parameters": ["debt_max_days"]}},
    ],
)
def test_bad_options_are_schema_errors(options: dict[str, Any]) -> None:
    with pytest.raises(SchemaError):
        run([holding()], "hkma", options=options)


@pytest.mark.parametrize(
    "kw",
    [
        {"supply": Decimal(-1)},
        {"supply": Decimal("NaN")},
        {"currency": "usd"},
        {"packs": ["hkma", "hkma"]},
        {"min_coverage": Decimal(0)},
    ],
)
def test_bad_arguments_are_input_errors(kw: dict[str, Any]) -> None:
    args: dict[str, Any] = {
        "packs": ["hkma"],
        "supply": Decimal(1),
        "currency": "USD",
        "as_of": D,
        **kw,
    }
    with pytest.raises(InputError):
        evaluate([holding()], **args)


def test_no_packs_is_an_empty_report() -> None:
    report = evaluate([holding()], packs=[], supply=Decimal(1), currency="USD", as_of=D)
    assert report.packs == () and report.passed


def test_unknown_pack_in_evaluate() -> None:
    with pytest.raises(RulePackError):
        run([holding()], "fatf")


def _floats(obj: Any) -> list[Any]:
    if isinstance(obj, float):
        return [obj]
    if isinstance(obj, dict):
        return [f for v in obj.values() for f in _floats(v)]
    if isinstance(obj, list):
        return [f for v in obj for f in _floats(v)]
    return []


def test_to_json_has_decimal_strings_hashes_and_out_of_scope(shared_data: Path) -> None:
    holdings = parse_holdings_csv(shared_data / "usdc-2025-12-31.csv")
    report = evaluate(
        holdings, packs=["genius", "mica-emt"], supply=USDC_SUPPLY, currency="USD", as_of=D
    )
    doc = report.to_json()
    json.dumps(doc)
    assert _floats(doc) == []
    assert doc["passed"] is False
    assert doc["supply"] == "75266033823"
    packs = doc["packs"]
    assert isinstance(packs, list)
    assert packs[0]["eligible_total"] == "75332981976.00"
    assert len(packs[0]["sha256"]) == 64
    rule = packs[1]["rules"][1]
    assert rule["id"] == "mica.deposits-floor" and rule["status"] == "fail"
    assert rule["citation"] == "Reg. (EU) 2023/1114 Art 54(a)" and rule["confidence"] == "P"
    assert "rehypothecation" in doc["out_of_scope"]
