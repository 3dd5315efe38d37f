"""Issue 14: the UAE, Dubai, Japan, UK-draft and Basel packs, their new rule kinds at their
boundaries, pack status / dates / issuer types, and regulator-side flags from the policy only.

Every figure below is one REGIMES.md gives; each pack has a passing and a failing case.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.unit.rules.test_rules_support import holding
from verifier.errors import RulePackError, SchemaError
from verifier.local.loaders import parse_holdings_csv
from verifier.model.holdings import Holding
from verifier.rules import RulesReport, evaluate, list_packs, load_pack
from verifier.rules.pack import parse_pack

D = dt.date(2026, 7, 1)  # a Wednesday, after jp-trust's 2026-06-01
NEW_PACKS = (
    "bcbs-g1b",
    "cbuae-dpt",
    "cbuae-dpt-bank-sub",
    "jp-trust",
    "jp-trust-2023",
    "uk-boe-systemic",
    "uk-fca",
    "vara-frva",
)


def run(holdings: list[Holding], *packs: str, supply: str = "1000000", **kw: Any) -> RulesReport:
    kw.setdefault("currency", "USD")
    kw.setdefault("as_of", D)
    return evaluate(holdings, packs=list(packs), supply=Decimal(supply), **kw)


def rule(report: RulesReport, rule_id: str) -> Any:
    for r in report.results:
        if r.id == rule_id:
            return r
    raise KeyError(rule_id)


def reasons(report: RulesReport, pack: str, holding_id: str) -> tuple[str, ...]:
    for i in report.pack(pack).ineligible:
        if i.holding_id == holding_id:
            return i.reasons
    return ()


def aed(hid: str, cls: str, amount: int, **kw: Any) -> Holding:
    kw.setdefault("country", "AE")
    return holding(hid, cls, currency="AED", amount=amount, **kw)


def jpy(hid: str, cls: str, amount: int, **kw: Any) -> Holding:
    kw.setdefault("country", "JP")
    return holding(hid, cls, currency="JPY", amount=amount, decimals=0, **kw)


def gbp(hid: str, cls: str, amount: int, **kw: Any) -> Holding:
    kw.setdefault("country", "GB")
    return holding(hid, cls, currency="GBP", amount=amount, decimals=0, **kw)


# --- the packs load, with status, dates and what they bind -----------------------------------


def test_every_new_pack_is_shipped_with_its_status_and_dates() -> None:
    assert set(NEW_PACKS) <= set(list_packs())
    status = {name: load_pack(name).status for name in NEW_PACKS}
    assert status["uk-fca"] == status["uk-boe-systemic"] == "draft"
    assert status["bcbs-g1b"] == "informational"
    assert {status[n] for n in ("cbuae-dpt", "cbuae-dpt-bank-sub", "vara-frva")} == {"in_force"}
    jp, old = load_pack("jp-trust"), load_pack("jp-trust-2023")
    assert jp.effective_from == dt.date(2026, 6, 1) and jp.effective_until is None
    assert old.effective_until == dt.date(2026, 5, 31) and old.regime == jp.regime == "jp-trust"
    assert jp.issuer_types == ("trust_company",)
    assert load_pack("uk-fca").effective_from == dt.date(2027, 10, 25)
    assert load_pack("cbuae-dpt").effective_from == dt.date(2024, 8, 21)
    for name in ("genius", "hkma", "mas", "mica-emt", "mica-emt-significant"):
        pack = load_pack(name)  # the existing packs: law in force, any issuer, no dates
        assert (pack.status, pack.effective_from, pack.issuer_types) == ("in_force", None, None)


# --- dates: the version in force on as_of ----------------------------------------------------


def test_jp_trust_versions_switch_on_2026_06_01() -> None:
    deposits = [jpy("DEP", "bank_deposit_demand", 1_000_000)]
    kw: dict[str, Any] = {"currency": "JPY", "issuer_type": "trust_company"}
    may31, jun1 = dt.date(2026, 5, 31), dt.date(2026, 6, 1)
    assert run(deposits, "jp-trust-2023", as_of=may31, **kw).passed
    assert run(deposits, "jp-trust", as_of=jun1, **kw).passed
    with pytest.raises(RulePackError) as info:
        run(deposits, "jp-trust", as_of=may31, **kw)
    assert "'jp-trust' is in force from 2026-06-01, not on as_of 2026-05-31" in info.value.message
    assert "the version in force on 2026-05-31 is 'jp-trust-2023'" in info.value.message
    assert info.value.exit_code == 2
    with pytest.raises(RulePackError, match="the version in force on 2026-06-01 is 'jp-trust'"):
        run(deposits, "jp-trust-2023", as_of=jun1, **kw)
    with pytest.raises(RulePackError, match="no version of 'jp-trust' is in force on 2023-05-31"):
        run(deposits, "jp-trust-2023", as_of=dt.date(2023, 5, 31), **kw)


def test_draft_and_informational_packs_are_not_refused_by_date() -> None:
    # a readiness check before the UK regime starts is the point of a draft pack
    cash = [gbp("CB", "central_bank_reserves", 1_000_000)]
    report = run(cash, "uk-fca", "uk-boe-systemic", currency="GBP", as_of=dt.date(2026, 7, 1))
    assert [p.status for p in report.packs] == ["draft", "draft"]
    usd = [holding("C", "cash")]
    assert run(usd, "bcbs-g1b", as_of=dt.date(2025, 12, 31)).pack("bcbs-g1b").status == (
        "informational"
    )


def test_a_draft_verdict_reads_readiness_never_compliant() -> None:
    cash = [gbp("CB", "central_bank_reserves", 1_000_000)]
    report = run(cash, "uk-boe-systemic", currency="GBP")
    pack = report.pack("uk-boe-systemic")
    assert pack.verdict == "pass" and pack.assessment == "readiness"
    assert pack.verdict_text.startswith("readiness: pass (draft rules, not law in force")
    doc = report.to_json()["packs"][0]  # type: ignore[index]
    assert doc["assessment"] == "readiness" and doc["status"] == "draft"
    assert "complian" not in str(doc).lower()
    failing = run([gbp("MMF", "mmf_government", 1_000_000)], "uk-boe-systemic", currency="GBP")
    assert failing.pack("uk-boe-systemic").verdict_text.startswith("readiness: fail")
    assert not failing.passed  # a draft still decides when the holder names it


def test_an_informational_pack_never_decides() -> None:
    bad = [holding("CP", "commercial_paper", maturity=dt.date(2026, 8, 1))]
    report = run(bad, "bcbs-g1b")
    pack = report.pack("bcbs-g1b")
    assert pack.verdict == "fail" and not pack.decides
    assert pack.verdict_text == "informational: fail (does not decide verified)"
    assert report.passed and report.deciding_failures == ()
    both = run(bad, "bcbs-g1b", "genius")
    assert not both.passed
    assert [r.id for r in both.deciding_failures] == ["genius.reserve-assets"]


# --- applicability: the issuer type comes from the policy ----------------------------------


def test_jpyc_mix_is_refused_under_jp_trust_for_a_funds_transfer_issuer() -> None:
    # REGIMES.md §5.1: JPYC plans ~80 % JGBs / 20 % deposits; it is not a trust coin.
    mix = [
        jpy("JGB", "sovereign_debt", 800_000, maturity=dt.date(2026, 8, 20)),
        jpy("DEP", "bank_deposit_demand", 200_000),
    ]
    with pytest.raises(RulePackError) as info:
        run(mix, "jp-trust", currency="JPY", issuer_type="funds_transfer")
    assert "'jp-trust' does not apply to a funds_transfer issuer" in info.value.message
    assert "refused, not failed" in info.value.message
    with pytest.raises(RulePackError, match="no issuer type is named"):
        run(mix, "jp-trust", currency="JPY")
    # the same mix from a trust company fails the 50 % cap
    report = run(mix, "jp-trust", currency="JPY", issuer_type="trust_company")
    cap = rule(report, "jp.non-deposit-cap")
    assert cap.status == "fail" and "80.00 % of supply" in cap.message
    assert "over by 300000.00 JPY" in cap.message


def test_unknown_issuer_type_is_an_input_error() -> None:
    from verifier.errors import InputError

    with pytest.raises(InputError, match="unknown issuer type"):
        run([holding()], "genius", issuer_type="hedge_fund")


# --- rows of one class tried in order; eligibility tiers, gate and floor (FCA) ------------


def _fca(
    items: list[Holding], *, flags: tuple[str, ...] = (), **kw: Any
) -> tuple[RulesReport, Any]:
    options = {"uk-fca": {"flags": list(flags)}} if flags else None
    report = run(items, "uk-fca", currency="GBP", options=options, **kw)
    return report, report.pack("uk-fca")


def test_fca_same_class_rows_core_up_to_12_months_then_expanded() -> None:
    d12 = dt.date(2027, 7, 1)  # D + 12 calendar months: core
    d12p = dt.date(2027, 7, 2)  # one day more: expanded
    items = [
        gbp("DEP", "bank_deposit_demand", 100),
        gbp("G12", "sovereign_debt", 450, maturity=d12),
        gbp("G13", "sovereign_debt", 450, maturity=d12p),
    ]
    report, pack = _fca(items, supply="1000")
    assert pack.eligible_total == Decimal(550)
    assert reasons(report, "uk-fca", "G13") == (
        "expanded-tier asset: counts only when the policy records fca_expanded_assets_notified "
        "(pack_options.uk-fca.flags)",
    )
    gate = rule(report, "fca.expanded-notified")
    assert gate.status == "fail" and "450 GBP held" in gate.message
    report, pack = _fca(items, supply="1000", flags=("fca_expanded_assets_notified",))
    assert pack.eligible_total == Decimal(1000) and pack.verdict == "pass"
    assert rule(report, "fca.expanded-notified").status == "pass"


def test_fca_gate_cannot_be_opened_by_the_issuer() -> None:
    items = [gbp("MMF", "mmf_government", 1000)]
    with pytest.raises(SchemaError, match="unknown disclosure key"):
        _fca(items, supply="1000", disclosures={"fca_expanded_assets_notified": True})
    with pytest.raises(RulePackError, match="never reads"):
        _fca(items, supply="1000", flags=("art22_3_elected",))


@pytest.mark.parametrize(
    ("core", "disclosed", "expected"),
    [
        (50, None, "not_evaluated"),  # 5 % leg met exactly, 180-day leg unknown
        (49, None, "fail"),  # below 5 % of the pool fails whatever the other leg
        (80, "0.08", "pass"),  # exactly the disclosed 8 % peak
        (79, "0.08", "fail"),
        (50, "0.01", "pass"),  # the 5 % floor is the max
    ],
)
def test_fca_core_floor_is_max_of_5_percent_and_the_180_day_peak(
    core: int, disclosed: str | None, expected: str
) -> None:
    items = [
        gbp("DEP", "bank_deposit_demand", core),
        gbp("MMF", "mmf_government", 1000 - core),
    ]
    disclosures = {"max_daily_redemption_share_180d": disclosed} if disclosed else None
    report, _ = _fca(
        items, supply="1000", flags=("fca_expanded_assets_notified",), disclosures=disclosures
    )
    assert rule(report, "fca.core-floor").status == expected


def test_fca_core_floor_applies_only_when_expanded_assets_are_held() -> None:
    report, pack = _fca([gbp("G", "sovereign_debt", 1000, maturity=dt.date(2026, 9, 1))])
    floor = rule(report, "fca.core-floor")
    assert floor.status == "pass" and "does not apply" in floor.message
    # but the separate 5 % on-demand deposit floor (share of the pool) still fails
    dep = rule(report, "fca.on-demand-deposits")
    assert dep.status == "fail" and "of the reserve 1000 GBP" in dep.message
    assert pack.verdict_text.startswith("readiness: fail")


def test_fca_readiness_pass_case() -> None:
    items = [
        gbp("DEP", "bank_deposit_demand", 100),
        gbp("G", "sovereign_debt", 900, maturity=dt.date(2026, 12, 1)),
    ]
    report, pack = _fca(items, supply="1000", disclosures={"redemption_days": 1})
    assert pack.verdict == "pass"
    assert rule(report, "fca.redemption").status == "pass"
    assert rule(report, "fca.disclosure").status == "not_evaluated"


# --- share base: supply or reserve (deposit_floor) and class_cap ----------------------------


@pytest.mark.parametrize(("cash", "expected"), [(500, "pass"), (499, "fail")])
def test_cbuae_bank_sub_cash_floor_is_half_of_the_reserve(cash: int, expected: str) -> None:
    # 50 % of the Reserve of Assets (Art 22(3)), not of supply: supply 900, reserve 1000
    items = [
        aed("ESC", "bank_deposit_demand", cash * 100),
        aed("BOND", "sovereign_debt", (1000 - cash) * 100, maturity=dt.date(2026, 9, 1)),
    ]
    report = run(
        items,
        "cbuae-dpt-bank-sub",
        supply="900",
        currency="AED",
        issuer_type="bank_subsidiary",
        options={"cbuae-dpt-bank-sub": {"flags": ["art22_3_elected"]}},
    )
    floor = rule(report, "cbuae.cash-floor")
    assert floor.status == expected
    assert Decimal(floor.limit) == 500
    assert report.pack("cbuae-dpt-bank-sub").verdict == expected


@pytest.mark.parametrize(("bills", "expected"), [(500_000, "pass"), (500_001, "fail")])
def test_jp_trust_cap_is_half_of_supply(bills: int, expected: str) -> None:
    items = [
        jpy("JGB", "sovereign_debt", bills, maturity=dt.date(2026, 10, 1)),  # D + 3 months
        jpy("DEP", "bank_deposit_demand", 1_000_000 - bills),
    ]
    report = run(items, "jp-trust", currency="JPY", issuer_type="trust_company")
    assert rule(report, "jp.non-deposit-cap").status == expected
    assert report.pack("jp-trust").eligible_total == Decimal(1_000_000)


SEP1 = dt.date(2026, 9, 1)


def test_jp_trust_foreign_bonds_second_row_and_jgb_limit() -> None:
    items = [
        jpy("UST", "sovereign_debt", 100_000, maturity=SEP1, country="US", rating="AA+"),
        jpy("JGB4M", "sovereign_debt", 100_000, maturity=dt.date(2026, 11, 2)),
        jpy("BBB", "sovereign_debt", 100_000, maturity=SEP1, country="CN", rating="BBB"),
        jpy("DEP", "bank_deposit_demand", 700_000),
    ]  # fmt: skip
    report = run(items, "jp-trust", currency="JPY", issuer_type="trust_company")
    assert reasons(report, "jp-trust", "UST") == ()
    (why,) = reasons(report, "jp-trust", "JGB4M")
    assert "after 2026-10-01" in why and " or " in why
    (why,) = reasons(report, "jp-trust", "BBB")
    assert "obligor country CN not in JP" in why and "rating BBB below A-" in why
    assert rule(report, "jp.full-backing").status == "fail"


def test_jp_trust_2023_deposits_only() -> None:
    may = dt.date(2026, 3, 31)
    kw: dict[str, Any] = {"currency": "JPY", "issuer_type": "trust_company", "as_of": may}
    ok = run([jpy("DEP", "bank_deposit_demand", 1_000_000)], "jp-trust-2023", **kw)
    assert ok.passed
    bills = [
        jpy("DEP", "bank_deposit_demand", 500_000),
        jpy("JGB", "sovereign_debt", 500_000, maturity=dt.date(2026, 5, 1)),
    ]
    bad = run(bills, "jp-trust-2023", **kw)
    assert reasons(bad, "jp-trust-2023", "JGB") == ("class sovereign_debt not allowed",)
    assert not bad.passed


# --- average_maturity (amount-weighted) -------------------------------------------------------


@pytest.mark.parametrize(("long_days", "expected"), [(184, "pass"), (185, "fail")])
def test_cbuae_average_duration_is_amount_weighted(long_days: int, expected: str) -> None:
    # D + 6 calendar months = 2027-01-01 = 184 days; a 30-day bill of the same amount and a
    # (2 × 184 − 30)-day bond average exactly 184 days
    short = aed("B30", "sovereign_debt", 100, maturity=D + dt.timedelta(days=30))
    long = aed("B338", "sovereign_debt", 100, maturity=D + dt.timedelta(days=2 * long_days - 30))
    cash = aed("ESC", "bank_deposit_demand", 300)
    report = run(
        [short, long, cash],
        "cbuae-dpt-bank-sub",
        supply="5",
        currency="AED",
        issuer_type="bank_subsidiary",
        options={"cbuae-dpt-bank-sub": {"flags": ["art22_3_elected"]}},
    )
    avg = rule(report, "cbuae.bond-duration")
    assert avg.status == expected
    assert avg.limit == "184 days (6 calendar months, to 2027-01-01)"
    assert avg.measured == f"{long_days}.00 days"


def test_cbuae_bank_sub_needs_the_election_from_the_policy() -> None:
    items = [aed("ESC", "bank_deposit_demand", 100_000)]
    kw: dict[str, Any] = {"supply": "1000", "currency": "AED", "issuer_type": "bank_subsidiary"}
    report = run(items, "cbuae-dpt-bank-sub", **kw)
    elected = rule(report, "cbuae.elected-option")
    assert elected.status == "fail" and "art22_3_elected" in elected.message
    assert "cannot grant" in elected.message
    with pytest.raises(RulePackError, match="does not apply to a non_bank issuer"):
        run(items, "cbuae-dpt-bank-sub", **{**kw, "issuer_type": "non_bank"})


def test_cbuae_dpt_happy_path_and_failures() -> None:
    # REGIMES.md §5.1 AE Coin: AED cash in a segregated escrow account at a UAE bank
    escrow = [aed("ESC", "bank_deposit_demand", 100_000)]
    report = run(escrow, "cbuae-dpt", supply="1000", currency="AED")
    assert report.passed
    assert rule(report, "cbuae.capital").status == "not_evaluated"
    assert "not retrieved" in rule(report, "cbuae.capital").message
    bonds = [*escrow, aed("AEGB", "sovereign_debt", 100_000, maturity=dt.date(2026, 8, 1))]
    report = run(bonds, "cbuae-dpt", supply="2000", currency="AED")
    assert reasons(report, "cbuae-dpt", "AEGB") == ("class sovereign_debt not allowed",)
    assert rule(report, "cbuae.full-backing").status == "fail"
    foreign = [aed("ESC", "bank_deposit_demand", 100_000, country="GB")]
    assert not run(foreign, "cbuae-dpt", supply="1000", currency="AED").passed
    usd = run([holding()], "cbuae-dpt", supply="1000000")
    assert rule(usd, "cbuae.currency").status == "fail"


# --- Dubai VARA ------------------------------------------------------------------------------


def test_vara_frva_90_days_home_sovereign_and_7_day_repo() -> None:
    items = [
        holding("B90", "sovereign_debt", maturity=D + dt.timedelta(days=90)),
        holding("R7", "reverse_repo", maturity=D + dt.timedelta(days=7),
                collateral="sovereign_debt", collateral_value=100_000_000),
        holding("DEP", "bank_deposit_demand"),
    ]  # fmt: skip
    assert run(items, "vara-frva", supply="3000000").passed
    bad = [
        holding("B91", "sovereign_debt", maturity=D + dt.timedelta(days=91)),
        holding("R8", "reverse_repo", maturity=D + dt.timedelta(days=8),
                collateral="sovereign_debt", collateral_value=100_000_000),
        holding("BUND", "sovereign_debt", maturity=D + dt.timedelta(days=30), country="DE"),
        holding("TD", "bank_deposit_term", maturity=D + dt.timedelta(days=30)),
    ]  # fmt: skip
    report = run(bad, "vara-frva", supply="1")
    assert reasons(report, "vara-frva", "B91") == ("maturity 91 days > limit 90 days (over by 1)",)
    assert reasons(report, "vara-frva", "R8") == ("maturity 8 days > limit 7 days (over by 1)",)
    assert reasons(report, "vara-frva", "BUND") == (
        "obligor country DE is not the USD issuing state",
    )
    assert reasons(report, "vara-frva", "TD") == ("class bank_deposit_term not allowed",)
    assert report.pack("vara-frva").eligible_total == 0 and not report.passed


# --- Bank of England (draft): class_cap, supply_cap, parameters -----------------------------


def _boe(items: list[Holding], supply: str = "1000", **kw: Any) -> RulesReport:
    return run(items, "uk-boe-systemic", supply=supply, currency="GBP", **kw)


@pytest.mark.parametrize(("gilts", "expected"), [(700, "pass"), (701, "fail")])
def test_boe_gilt_cap_70_and_central_bank_floor_30(gilts: int, expected: str) -> None:
    items = [
        gbp("CB", "central_bank_reserves", 1000 - gilts),
        gbp("G", "sovereign_debt", gilts, maturity=D + dt.timedelta(days=186)),
    ]
    report = _boe(items)
    assert rule(report, "boe.gilt-cap").status == expected
    # the other side of the same split: 300 at the Bank is exactly 30 %, 299 is short
    assert rule(report, "boe.central-bank-floor").status == expected
    assert report.pack("uk-boe-systemic").verdict == expected


def test_boe_gilt_cut_off_is_a_parameter() -> None:
    items = [
        gbp("CB", "central_bank_reserves", 400),
        gbp("G", "sovereign_debt", 600, maturity=D + dt.timedelta(days=183)),
    ]
    assert _boe(items).passed  # default 186 days
    opts = {"uk-boe-systemic": {"parameters": {"gilt_max_days": 182}}}
    report = _boe(items, options=opts)
    assert reasons(report, "uk-boe-systemic", "G") == (
        "maturity 183 days > limit 182 days (over by 1)",
    )
    used = {p["name"]: p for p in report.pack("uk-boe-systemic").parameters}
    assert used["gilt_max_days"]["value"] == 182 and used["gilt_max_days"]["source"] == "policy"
    with pytest.raises(RulePackError, match="no parameter 'gilt_days'"):
        _boe(items, options={"uk-boe-systemic": {"parameters": {"gilt_days": 1}}})


@pytest.mark.parametrize(("supply", "expected"), [("40000000000", "pass"), ("40000000001", "fail")])
def test_boe_issuance_guardrail(supply: str, expected: str) -> None:
    report = _boe([gbp("CB", "central_bank_reserves", 40_000_000_001)], supply=supply)
    assert rule(report, "boe.issuance-guardrail").status == expected


def test_supply_cap_in_another_currency_is_not_evaluated() -> None:
    report = run([holding("C", "central_bank_reserves", country="GB")], "uk-boe-systemic")
    assert rule(report, "boe.issuance-guardrail").status == "not_evaluated"
    assert rule(report, "boe.currency").status == "fail"


def test_boe_tgbp_style_mmf_is_ineligible() -> None:
    # REGIMES.md §5.1 tGBP: cash, GBP MMFs, short gilts; MMFs are no BoE backing asset
    items = [
        gbp("CB", "central_bank_reserves", 300),
        gbp("MMF", "mmf_government", 200),
        gbp("G", "sovereign_debt", 500, maturity=D + dt.timedelta(days=60)),
    ]
    report = _boe(items)
    assert reasons(report, "uk-boe-systemic", "MMF") == ("class mmf_government not allowed",)
    assert rule(report, "boe.full-backing").status == "fail"
    fca, _ = _fca(items, supply="1000")
    assert rule(fca, "fca.expanded-notified").status == "fail"  # MMFs are expanded assets


# --- Basel SCO60 (informational): stressed coverage, deduction, flags -----------------------


USDC_SUPPLY = Decimal(75266033823)
EURC_SUPPLY = Decimal(309608590)
DEC31 = dt.date(2025, 12, 31)


def test_usdc_under_bcbs_g1b_passes_with_a_tight_stressed_margin(shared_data: Path) -> None:
    # REGIMES.md §5.1: every holding eligible; K ≈ 0.049 % (≈ 36.9 m) leaves ≈ 30 m of 66.9 m
    holdings = parse_holdings_csv(shared_data / "usdc-2025-12-31.csv")
    report = evaluate(holdings, packs=["bcbs-g1b"], supply=USDC_SUPPLY, currency="USD", as_of=DEC31)
    pack = report.pack("bcbs-g1b")
    assert pack.ineligible == () and pack.eligible_total == Decimal("75332981976.00")
    stressed = rule(report, "bcbs.stressed-coverage")
    assert stressed.status == "pass" and stressed.confidence == "X"
    margin = Decimal(stressed.measured) - USDC_SUPPLY
    assert Decimal(29_000_000) < margin < Decimal(31_000_000)
    k = pack.eligible_total - Decimal(stressed.measured)
    assert Decimal(36_000_000) < k < Decimal(38_000_000)
    assert f"margin {margin:f} USD" in stressed.message and "0.04" in stressed.message
    assert pack.verdict_text == "informational: pass (does not decide verified)"
    assert rule(report, "bcbs.no-leverage").status == "not_evaluated"
    assert rule(report, "bcbs.flags").status == "not_evaluated"


def test_eurc_under_bcbs_g1b_passes_and_fails_with_the_deposit_rating_parameter(
    shared_data: Path,
) -> None:
    holdings = parse_holdings_csv(shared_data / "eurc-2025-12-31.csv")
    kw: dict[str, Any] = {"supply": EURC_SUPPLY, "currency": "EUR", "as_of": DEC31}
    report = evaluate(holdings, packs=["bcbs-g1b"], **kw)
    assert report.pack("bcbs-g1b").verdict == "pass"
    stressed = rule(report, "bcbs.stressed-coverage")
    assert stressed.status == "pass" and "K 0.00 EUR" in stressed.message
    opts = {"bcbs-g1b": {"parameters": {"deposit_min_rating": "A-"}}}
    strict = evaluate(holdings, packs=["bcbs-g1b"], options=opts, **kw)
    pack = strict.pack("bcbs-g1b")
    assert pack.verdict == "fail" and pack.eligible_total == 0
    assert all(i.reasons == ("rating none below A-",) for i in pack.ineligible)
    assert strict.passed  # informational: a data gap, never a verdict on verified


def test_usdc_bank_cash_fails_the_same_way_with_the_deposit_rating_parameter(
    shared_data: Path,
) -> None:
    holdings = parse_holdings_csv(shared_data / "usdc-2025-12-31.csv")
    opts = {"bcbs-g1b": {"parameters": {"deposit_min_rating": "A-"}}}
    report = evaluate(
        holdings, packs=["bcbs-g1b"], supply=USDC_SUPPLY, currency="USD", as_of=DEC31,
        options=opts,
    )  # fmt: skip
    pack = report.pack("bcbs-g1b")
    unrated = sum((i.amount for i in pack.ineligible), Decimal(0))
    assert Decimal("8.9e9") < unrated < Decimal("9.1e9")
    assert rule(report, "bcbs.stressed-coverage").status == "fail"


@pytest.mark.parametrize(("extra", "expected"), [(0, "pass"), (-1, "fail")])
def test_stressed_coverage_boundary(extra: int, expected: str) -> None:
    # cash carries no market risk: E − 0 ≥ S exactly at the boundary
    report = run([holding("C", "cash", amount=100_000_000 + extra)], "bcbs-g1b")
    assert rule(report, "bcbs.stressed-coverage").status == expected
    # a bill exactly covering supply fails once its market-risk estimate is taken off
    bill = holding("B", "sovereign_debt", maturity=D + dt.timedelta(days=90), rating="AA+")
    assert rule(run([bill], "bcbs-g1b"), "bcbs.stressed-coverage").status == "fail"


@pytest.mark.parametrize(
    ("borrowed", "status_", "covered"),
    [
        ({"amount": "0", "currency": "USD"}, "pass", "pass"),
        ({"amount": "1", "currency": "USD"}, "pass", "fail"),
        ({"amount": "1", "currency": "EUR"}, "not_evaluated", "pass"),
        (None, "not_evaluated", "pass"),
    ],
)
def test_repo_borrowing_disclosed_is_deducted_from_e(
    borrowed: dict[str, str] | None, status_: str, covered: str
) -> None:
    disclosures = {"repo_borrowing_outstanding": borrowed} if borrowed else None
    report = run([holding("C", "cash")], "bcbs-g1b", disclosures=disclosures)
    assert rule(report, "bcbs.no-leverage").status == status_
    assert rule(report, "bcbs.stressed-coverage").status == covered
    pack = report.pack("bcbs-g1b")
    assert pack.eligible_gross == Decimal(1_000_000)
    if covered == "fail":
        assert pack.eligible_total == Decimal(999_999)


def test_basel_flags_come_from_the_policy() -> None:
    flags = [
        "issuer_regulated_and_supervised",
        "reserve_composition_published",
        "independent_verification",
        "reserves_bankruptcy_remote",
        "permissionless_chain_accepted",
    ]
    report = run([holding("C", "cash")], "bcbs-g1b", options={"bcbs-g1b": {"flags": flags}})
    assert rule(report, "bcbs.flags").status == "pass"
    assert rule(report, "bcbs.chain").status == "pass"
    with pytest.raises(SchemaError):
        run([holding()], "bcbs-g1b", disclosures={"independent_verification": True})


# --- pack files are validated strictly -----------------------------------------------------


_MINIMAL = """
format = "porv.rulepack/1"
name = "t"
title = "t"
law = "t"
confidence = "X"
{top}
[definitions]
overnight_max_days = 4
overnight_citation = "c"
overnight_confidence = "X"
[eligibility]
citation = "c"
[[eligibility.assets]]
class = "cash"
citation = "c"
{asset}
[[rules]]
id = "r"
kind = "{kind}"
title = "t"
citation = "c"
{params}
"""


def _pack(
    *, top: str = "", asset: str = "", kind: str = "eligible_coverage", params: str = 'ratio = "1"'
) -> Any:
    text = _MINIMAL.format(top=top, asset=asset, kind=kind, params=params)
    return parse_pack(text.encode(), source="t.toml")


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"top": 'status = "proposed"'}, "in_force, draft, informational"),
        ({"top": 'effective_from = "2026-02-30"'}, "not a calendar date"),
        ({"top": "effective_from = 2026-02-01"}, "expected a date string"),
        (
            {"top": 'effective_from = "2026-02-01"\neffective_until = "2026-01-31"'},
            "before effective_from",
        ),
        ({"top": 'issuer_types = ["hedge_fund"]'}, "unknown issuer type"),
        (
            {"kind": "class_cap", "params": 'classes = ["cash"]\nshare = "0.5"\nbase = "pool"'},
            "supply, reserve",
        ),
        ({"kind": "average_maturity", "params": 'classes = ["cash"]'}, "exactly one"),
        ({"kind": "tier_gate", "params": 'tier = "expanded"\nflag = "f"'}, "no eligibility row"),
        (
            {"kind": "supply_cap", "params": 'amount = { amount = "1", currency = "usd" }'},
            "currency",
        ),
        ({"kind": "disclosure_deduction", "params": 'disclosure = "cash"'}, "amount disclosure"),
        ({"kind": "regulator_flags", "params": 'flags = ["Bad-Flag"]'}, "lower_case"),
        ({"kind": "tier_floor", "params": 'tier = "core"\nshare = "0.05"'}, "no eligibility row"),
        ({"asset": 'min_rating = "$nope"'}, "no parameter 'nope' declared"),
        ({"top": '[parameters.x]\ntype = "colour"\ndescription = "d"'}, "integer, rating, decimal"),
    ],
)
def test_bad_pack_fields_are_refused(change: dict[str, str], needle: str) -> None:
    with pytest.raises(RulePackError, match=needle):
        _pack(**change)


def test_pack_parameters_default_unset_and_given() -> None:
    top = '[parameters.floor]\ntype = "rating"\ndescription = "d"\n'
    unset = _pack(top=top, asset='min_rating = "$floor"')
    assert unset.assets[0].min_rating is None and unset.parameters[0].source == "unset"
    given = parse_pack(
        _MINIMAL.format(top=top, asset='min_rating = "$floor"', kind="eligible_coverage",
                        params='ratio = "1"').encode(),
        source="t.toml", params={"floor": "AA"},
    )  # fmt: skip
    assert given.assets[0].min_rating == "AA" and given.parameters[0].source == "policy"
    with pytest.raises(RulePackError, match="not a long-term rating"):
        parse_pack(
            _MINIMAL.format(top=top, asset='min_rating = "$floor"', kind="eligible_coverage",
                            params='ratio = "1"').encode(),
            source="t.toml", params={"floor": "A-1+"},
        )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("repo_borrowing_outstanding", {"amount": "1.5", "currency": "usd"}, "ISO 4217"),
        ("max_daily_redemption_share_180d", "1.01", "between 0 and 1"),
        ("max_daily_redemption_share_180d", 0.05, "binary floats"),
    ],
)
def test_new_disclosures_are_validated(name: str, value: Any, needle: str) -> None:
    with pytest.raises(SchemaError, match=needle):
        run([holding("C", "cash")], "bcbs-g1b", disclosures={name: value})
