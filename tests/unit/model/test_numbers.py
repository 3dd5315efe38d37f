"""The one decimal parser, exact arithmetic and display rounding (verifier.model.numbers)."""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal, Inexact, localcontext
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.errors import SchemaError
from verifier.model.disclosures import parse_amount, parse_disclosures
from verifier.model.holdings import Holding
from verifier.model.numbers import (
    MAX_DIGITS,
    display_quantize,
    display_ratio,
    exact,
    major,
    parse_decimal,
    plain_decimal,
)
from verifier.rules import evaluate
from verifier.rules.calendar import maturity_date, maturity_days, maturity_text
from verifier.rules.risk import market_risk

UINT64_MAX = 2**64 - 1
UINT256_MAX = 2**256 - 1
D = _dt.date(2026, 6, 30)
SALT = b"\0" * 32


def _h(hid: str, cls: str, amount: int, decimals: int = 2, maturity: int = 0) -> Holding:
    return Holding(hid, cls, "USD", amount, decimals, maturity, "X", "US", "AA+", "", 0, SALT)


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("1250000.50", Decimal("1250000.50")), ("007.10", Decimal("7.1")),
     ("9" * MAX_DIGITS, Decimal("9" * MAX_DIGITS)), ("0." + "0" * 76 + "1", Decimal("1E-77"))],
)  # fmt: skip
def test_plain_decimals_parse_exactly(text: str, value: Decimal) -> None:
    assert plain_decimal(text) == value


@pytest.mark.parametrize(
    "text",
    ["", "1E+400", "1E+300000000", "1e6", "1.5e2", "1E-2", " 1", "1 ", "1\n", "+1", "-1",
     "NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", "1_000", "1,000", ".5", "5.", "0x10",
     "١٢٣", "1.2.3", "9" * (MAX_DIGITS + 1), "0." + "0" * MAX_DIGITS + "1", "1" * 10**6],
)  # fmt: skip
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        plain_decimal(text)
    with pytest.raises(SchemaError) as info:
        parse_decimal(text, field="disclosures.own_funds.amount", source="bundle.json")
    assert info.value.exit_code == 2
    assert info.value.location is not None
    assert info.value.location.field == "disclosures.own_funds.amount"
    assert info.value.location.file == "bundle.json"
    assert len(info.value.message) < 300


def test_sign_only_where_allowed() -> None:
    assert plain_decimal("-1.5", signed=True) == Decimal("-1.5")
    with pytest.raises(ValueError, match="negative"):
        plain_decimal("-1.5")


NUMBERISH = r"-?[0-9]{0,90}(\.[0-9]{0,90})?([eE][+-]?[0-9]{1,12})?"


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=120), st.from_regex(NUMBERISH, fullmatch=True)))
def test_any_string_is_a_capped_decimal_or_a_typed_error(text: str) -> None:
    try:
        value = parse_decimal(text, field="f", signed=True)
    except SchemaError as exc:
        assert exc.exit_code == 2
        return
    assert value.is_finite()
    assert len(value.as_tuple().digits) <= MAX_DIGITS
    assert "e" not in text.lower() and text == text.strip()
    assert value == Decimal(text)


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.lists(st.integers())))
def test_non_strings_are_typed_errors(value: Any) -> None:
    with pytest.raises(SchemaError):
        parse_decimal(value, field="f")


def test_disclosed_amounts_use_the_parser() -> None:
    assert parse_amount("25000000", "x") == Decimal(25_000_000)
    assert parse_amount(25_000_000, "x") == Decimal(25_000_000)
    for bad in ("1E+400", Decimal("1E+400"), 1.5, 10**MAX_DIGITS, 10**5000, -1, True):
        with pytest.raises(SchemaError):
            parse_amount(bad, "disclosures.own_funds.amount")
    with pytest.raises(SchemaError, match="more than 78 digits"):
        parse_disclosures({"own_funds": {"amount": "1" * 79, "currency": "EUR"}})


def test_exact_context_is_exact_or_raises() -> None:
    with exact():
        total = major(10**11 * 10**18 + 1, 18) + Decimal(0)
        assert total > Decimal(10**11)
        assert major(UINT256_MAX, 255) + major(UINT256_MAX, 0) - major(UINT256_MAX, 0) == major(
            UINT256_MAX, 255
        )
        with pytest.raises(Inexact):
            _ = Decimal(1) / Decimal(3)


def test_major_is_exact_in_any_context() -> None:
    with localcontext() as ctx:
        ctx.prec = 5
        value = major(UINT256_MAX, 18)
    assert value.as_tuple().digits == tuple(int(c) for c in str(UINT256_MAX))
    assert value.as_tuple().exponent == -18


@settings(max_examples=300, deadline=None)
@given(st.integers(0, UINT256_MAX), st.integers(1, UINT256_MAX), st.integers(0, 40))
def test_display_ratio_never_overstates(part: int, whole: int, places: int) -> None:
    quantum = Decimal(1).scaleb(-places)
    shown = display_ratio(Decimal(part), Decimal(whole), quantum)
    with exact():
        assert shown * whole <= part  # never more than the true ratio
        assert (shown + quantum) * whole > part  # and less than one quantum below it


def test_display_quantize_handles_any_width() -> None:
    assert display_quantize(major(UINT256_MAX, 0) * 10**12, Decimal("0.01")) > 0
    assert f"{display_quantize(Decimal('2.345'), Decimal('0.01')):f}" == "2.34"


def test_one_base_unit_over_exact_reserves_fails_every_pack() -> None:
    supply = major(10**11 * 10**18 + 1, 18)
    holdings = [_h("DEP", "bank_deposit_demand", 10**11 * 100)]
    report = evaluate(holdings, packs=["genius", "hkma", "mas"], supply=supply, currency="USD",
                      as_of=D)  # fmt: skip
    assert not report.passed
    assert {r.id for p in report.packs for r in p.failed} == {
        "genius.reserve-assets", "hkma.full-backing", "mas.full-backing"}  # fmt: skip
    equal = evaluate(holdings, packs=["genius"], supply=Decimal(10**11), currency="USD", as_of=D)
    assert equal.passed


def test_far_maturities_are_valid_data() -> None:
    assert maturity_date(UINT64_MAX) == _dt.date.max
    assert maturity_date(253_402_300_800) == _dt.date.max  # 10000-01-01
    assert maturity_date(253_402_214_400) == _dt.date(9999, 12, 31)
    assert maturity_days(UINT64_MAX, D) == UINT64_MAX // 86_400 - (D - _dt.date(1970, 1, 1)).days
    assert maturity_text(UINT64_MAX) == f"unix time {UINT64_MAX} (after 9999-12-31)"
    assert maturity_text(253_402_214_400) == "9999-12-31"
    holdings = [
        _h("PERP", "sovereign_debt", UINT256_MAX, 0, UINT64_MAX),
        _h("Y10K", "corporate_bond", UINT256_MAX, 255, 253_402_300_800),
        _h("TD", "bank_deposit_term", 10**6, 2, UINT64_MAX),
    ]
    report = evaluate(holdings, packs=["genius", "hkma", "mica-emt", "mas"],
                      supply=Decimal(1), currency="USD", as_of=D)  # fmt: skip
    assert report.to_json()
    risk = market_risk(holdings, currency="USD", as_of=D, disclosed_capital=major(UINT256_MAX, 0))
    assert risk.to_json()["total"]


def test_matured_holdings_are_ineligible_everywhere_and_not_deposits() -> None:
    matured = int(_dt.datetime(2026, 6, 29, tzinfo=_dt.UTC).timestamp())
    today = int(_dt.datetime(2026, 6, 30, tzinfo=_dt.UTC).timestamp())
    holdings = [
        _h("CASH", "cash", 30 * 100, maturity=matured),
        _h("MMF", "mmf_government", 40 * 100, maturity=matured),
        _h("TD", "bank_deposit_term", 30 * 100, maturity=matured),
        _h("DDA", "bank_deposit_demand", 30 * 100, maturity=today),
    ]
    for pack in ("genius", "hkma", "mas", "mica-emt", "mica-emt-significant"):
        report = evaluate(holdings, packs=[pack], supply=Decimal(100), currency="USD", as_of=D)
        reasons = {i.holding_id: i.reasons for i in report.pack(pack).ineligible}
        for hid in ("CASH", "MMF", "TD"):
            assert reasons[hid] == ("matured on 2026-06-29, before as_of 2026-06-30",), pack
        assert "DDA" not in reasons
        assert report.pack(pack).eligible_total == Decimal(30)
    mica = evaluate(holdings, packs=["mica-emt"], supply=Decimal(100), currency="USD", as_of=D)
    floor = next(r for r in mica.pack("mica-emt").rules if r.id == "mica.deposits-floor")
    assert floor.measured == "30.00"  # the repaid term deposit is no longer a deposit


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
AMOUNTS = st.one_of(st.text(max_size=90), st.integers(), st.floats(), JSON)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "paid_up_capital",
                "own_funds",
                "redemption_days",
                "approved_currencies",
                "monthly_composition_published",
                "other",
            ]
        ),
        st.one_of(
            JSON, st.fixed_dictionaries({"amount": AMOUNTS, "currency": st.text(max_size=4)})
        ),
        max_size=4,
    )
)
def test_any_disclosures_are_parsed_or_a_typed_error(raw: dict[str, Any]) -> None:
    try:
        facts = parse_disclosures(raw)
    except SchemaError as exc:
        assert exc.exit_code == 2
        return
    for key in ("paid_up_capital", "own_funds"):
        money = facts.money(key)
        if money is not None:
            assert money.amount.is_finite() and len(money.amount.as_tuple().digits) <= MAX_DIGITS


def test_format_major_is_plain_and_exact() -> None:
    from verifier.model.numbers import format_major

    assert format_major(123450, 2) == "1234.50"
    assert format_major(123450, 2, grouping=True) == "1,234.50"
    assert format_major(5, 0) == "5"
    assert format_major(0, 6) == "0.000000"
    assert format_major(1, 18) == "0.000000000000000001"  # never 1E-18
    assert format_major(10**30, 6, grouping=True) == "1,000,000,000,000,000,000,000,000.000000"


@given(
    amount=st.one_of(st.integers(-(10**120), 10**120), st.integers(0, 2**256 - 1)),
    decimals=st.one_of(st.integers(0, 255), st.integers(-20_000, 20_000)),
)
def test_major_is_the_exact_decimal_on_both_paths(amount: int, decimals: int) -> None:
    """``major`` scales with ``scaleb`` below 100 digits and by its digits above: the same
    coefficient and exponent either way."""
    sign, digits, _ = Decimal(amount).as_tuple()
    want = Decimal((sign, digits, -decimals))
    got = major(amount, decimals)
    assert got.as_tuple() == want.as_tuple() and str(got) == str(want)
