"""Pack parameters and numeric pack fields are bounded: a value out of its sensible range is a
typed error (exit 2) naming the pack, the parameter and the limit, never a crash.

Days at most 36 500 (a century), calendar months at most 1 200, shares within [0, 1], ratios
within [0, 100].
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support import cli
from tests.unit.rules.test_rules_regimes import D, _pack
from tests.unit.rules.test_rules_support import holding
from verifier.errors import InputError, RulePackError
from verifier.rules import evaluate, load_pack


@pytest.mark.parametrize("value", [1201, 10**6, 10**30, "1000000"])
def test_a_huge_months_parameter_is_an_input_error(value: object) -> None:
    h = holding("TD", "bank_deposit_term", amount=100, maturity=dt.date(2026, 9, 1))
    with pytest.raises(InputError) as info:
        evaluate(
            [h],
            packs=["bcbs-g1b"],
            supply=Decimal(1),
            currency="USD",
            as_of=D,
            options={"bcbs-g1b": {"parameters": {"term_deposit_months": value}}},
        )
    text = str(info.value)
    assert "bcbs-g1b" in text and "term_deposit_months" in text and "1200" in text


def test_a_megabyte_of_digits_or_a_5000_digit_integer_is_refused_not_printed() -> None:
    for value in ("9" * 1_000_000, 10**5000):
        with pytest.raises(RulePackError) as info:
            load_pack("bcbs-g1b", {"debt_max_days": value})
        text = str(info.value)
        assert "debt_max_days" in text and "36500 days" in text and len(text) < 300
    with pytest.raises(RulePackError, match="expected an integer >= 0, found -1"):
        load_pack("bcbs-g1b", {"debt_max_days": -1})


def test_the_largest_allowed_parameters_evaluate() -> None:
    pack = load_pack("bcbs-g1b", {"term_deposit_months": 1200, "debt_max_days": 36500})
    h = holding("TD", "bank_deposit_term", amount=100, maturity=dt.date(2126, 6, 1))
    report = evaluate([h], packs=[pack], supply=Decimal(1), currency="USD", as_of=D)
    assert report.pack("bcbs-g1b").eligible_total == 1


@pytest.mark.parametrize(
    ("pack", "name", "value", "limit"),
    [
        ("bcbs-g1b", "debt_max_days", 36501, "36500"),
        ("uk-boe-systemic", "gilt_max_days", 10**40, "36500"),
        ("uk-boe-systemic", "central_bank_share", "1.01", "1"),
    ],
)
def test_parameters_out_of_range_name_pack_parameter_and_limit(
    pack: str, name: str, value: object, limit: str
) -> None:
    with pytest.raises(RulePackError) as info:
        load_pack(pack, {name: value})
    text = str(info.value)
    assert pack in text and name in text and limit in text


def test_a_huge_parameter_on_the_command_line_exits_2(tmp_path: Path) -> None:
    csv = tmp_path / "reserve.csv"
    csv.write_text(
        "holding_id,asset_class,currency,amount,maturity,counterparty,country,rating,"
        "collateral,collateral_value\nTD,bank_deposit_term,USD,100,2026-09-01,Bank,US,,,\n"
    )
    run_ = cli.porv(
        (
            "rules", "check", str(csv), "--supply", "1", "--currency", "USD", "--as-of",
            "2026-07-01", "--pack", "bcbs-g1b", "--param", "bcbs-g1b:term_deposit_months=1000000",
        ),
        in_process=True,
    )  # fmt: skip
    assert run_.code == 2, run_.stderr
    assert "term_deposit_months" in run_.stderr and "1200" in run_.stderr


@pytest.mark.parametrize(
    ("kind", "params", "needle"),
    [
        ("max_redemption_days", "max_days = 36501", "between 0 and 36500"),
        ("average_maturity", 'classes = ["cash"]\nwithin_months = 1201', "between 0 and 1200"),
        ("deposit_floor", 'classes = ["cash"]\nshare = "1.5"', "share between 0 and 1"),
        ("class_cap", 'classes = ["cash"]\nshare = "2"\nbase = "supply"', "share between 0 and 1"),
        ("eligible_coverage", 'ratio = "1000"', "ratio between 0 and 100"),
    ],
)
def test_pack_fields_are_bounded(kind: str, params: str, needle: str) -> None:
    with pytest.raises(RulePackError, match=needle):
        _pack(kind=kind, params=params)
