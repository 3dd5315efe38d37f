"""The reserves section sums minor units per class, currency and decimals before making them
major: exactly the totals (value and written form) of adding each holding's major amount."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.rules.test_rules_support import holding
from verifier.checks.bundle import _dec, _reserves
from verifier.model.holdings import Holding
from verifier.model.numbers import exact, major


def _reference(custodians: list[tuple[str, list[Holding]]], token: str) -> dict[str, Any]:
    by_class: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    by_currency: dict[str, Decimal] = defaultdict(Decimal)
    by_custodian: dict[str, dict[str, Decimal]] = {}
    with exact():
        for cid, holdings in custodians:
            per: dict[str, Decimal] = defaultdict(Decimal)
            for h in holdings:
                v = major(h.amount, h.decimals)
                by_class[(h.asset_class, h.currency)] += v
                by_currency[h.currency] += v
                per[h.currency] += v
            by_custodian[cid] = per
        return {
            "by_class": [
                {"asset_class": k[0], "currency": k[1], "amount": _dec(v)}
                for k, v in sorted(by_class.items())
            ],
            "by_currency": {k: _dec(v) for k, v in sorted(by_currency.items())},
            "by_custodian": {
                cid: {k: _dec(v) for k, v in sorted(per.items())}
                for cid, per in by_custodian.items()
            },
            "total_in_token_currency": _dec(by_currency.get(token, Decimal(0))),
        }


_HOLDING = st.builds(
    lambda cls, ccy, amount, dec: holding("H", cls, ccy, amount, decimals=dec),
    st.sampled_from(["cash", "bank_deposit_demand", "sovereign_debt"]),
    st.sampled_from(["USD", "EUR"]),
    st.one_of(st.integers(0, 10**6), st.integers(0, 2**256 - 1), st.just(0)),
    st.integers(0, 255),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_HOLDING, max_size=12), min_size=1, max_size=3))
def test_grouped_sums_are_the_per_holding_sums(trees: list[list[Holding]]) -> None:
    custodians = [(f"c{i}", hs) for i, hs in enumerate(trees)]
    bundle = SimpleNamespace(
        custodians=[
            SimpleNamespace(id=cid, tree=SimpleNamespace(holdings=hs)) for cid, hs in custodians
        ]
    )
    assert _reserves(bundle, "USD") == _reference(custodians, "USD")  # type: ignore[arg-type]
