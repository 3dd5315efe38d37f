"""The estimate works on plain rows and caches per term and rating: it must give exactly the
numbers of the per-holding computation over :class:`RiskInput` objects, whatever the holdings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, localcontext
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.rules.test_rules_support import holding
from verifier.errors import InputError
from verifier.model.holdings import Holding
from verifier.rules import ratings
from verifier.rules.risk import (
    CSR_BUCKETS,
    CSR_VERTICES,
    GIRR_VERTICES,
    MMF_ASSUMED_DAYS,
    RiskInput,
    _csr_bucket_charge,
    _estimate_context,
    _split,
    market_risk,
    maturity_ladder,
)

AS_OF = dt.date(2026, 1, 2)
CLASSES = [
    "cash",
    "bank_deposit_demand",
    "bank_deposit_term",
    "sovereign_debt",
    "public_sector_debt",
    "commercial_paper",
    "corporate_bond",
    "reverse_repo",
    "mmf_government",
    "mmf_other",
]
RATINGS = ["", "AAA", "A+", "Aa3", "BBB-", "BB+", "A-1+", "NR", "junk", " a "]


def _holdings() -> st.SearchStrategy[list[Holding]]:
    one = st.builds(
        lambda i, cls, ccy, amount, dec, days, cp, rating: holding(
            f"H{i}",
            cls,
            ccy,
            amount,
            decimals=dec,
            maturity=AS_OF + dt.timedelta(days=days) if days is not None else None,
            counterparty=cp,
            rating=rating,
        ),
        st.integers(0, 30),  # repeated ids: the issuer lookup keeps the last one's
        st.sampled_from(CLASSES),
        st.sampled_from(["USD", "USD", "EUR", "HKD"]),
        st.integers(0, 10**30),
        st.integers(0, 18),
        st.one_of(st.none(), st.integers(-40, 12_000)),
        st.sampled_from(["", "Bank A", "Treasury"]),
        st.sampled_from(RATINGS),
    )
    return st.lists(one, max_size=40)


def _reference(holdings: list[Holding], inputs: tuple[RiskInput, ...]) -> dict[str, object]:
    """The charges' sensitivities, holding by holding over RiskInput objects, in order."""
    issuer = {h.holding_id: h.counterparty for h in holdings}
    girr: dict[str, list[Decimal]] = {}
    csr: dict[int, dict[tuple[str, int], Decimal]] = {}
    net: dict[str, Decimal] = {}
    with localcontext(_estimate_context()):
        for item in inputs:
            if item.girr:
                sens = girr.setdefault(item.currency, [Decimal(0)] * len(GIRR_VERTICES))
                s = -item.value * item.tenor_years
                for idx, weight in _split(item.tenor_years, GIRR_VERTICES):
                    sens[idx] += s * weight
            if item.csr_bucket is not None:
                by = csr.setdefault(item.csr_bucket, {})
                s = -item.value * item.tenor_years
                for idx, weight in _split(item.tenor_years, CSR_VERTICES):
                    key = (issuer.get(item.holding_id, ""), idx)
                    by[key] = by.get(key, Decimal(0)) + s * weight
            if item.currency != "USD":
                net[item.currency] = net.get(item.currency, Decimal(0)) + item.value
        total = sum((i.value for i in inputs), Decimal(0))
        charges = {
            number: _csr_bucket_charge({k: rw * v for k, v in sorted(csr.get(number, {}).items())})
            for number, _, rw in CSR_BUCKETS.values()
            if number in csr
        }
    return {"girr": girr, "charges": charges, "net": net, "total": total}


@settings(max_examples=150, deadline=None)
@given(_holdings(), st.booleans())
def test_rows_give_exactly_the_per_input_numbers(holdings: list[Holding], eur: bool) -> None:
    rates = {"EUR": Decimal("1.0850")} if eur else {}
    report = market_risk(holdings, currency="USD", as_of=AS_OF, fx_rates=rates)
    ref = _reference(holdings, report.inputs)  # every input is listed (under MAX_LISTED)
    assert report.inputs_count == len(report.inputs)
    assert report.reserve_total == ref["total"]
    assert report.ladder == maturity_ladder(report.inputs)
    csr_charges = ref["charges"]
    assert isinstance(csr_charges, dict)
    assert [b.charge for b in report.csr.buckets] == [csr_charges[n] for n in sorted(csr_charges)]
    girr = ref["girr"]
    assert isinstance(girr, dict)
    assert [b.bucket for b in report.girr.buckets] == sorted(girr)
    for bucket in report.girr.buckets:
        weights = dict(bucket.risk_weights)
        sens = dict(zip([f"{v:f}y" for v in GIRR_VERTICES], girr[bucket.bucket], strict=True))
        with localcontext(_estimate_context()):
            expected = {k: weights[k] * s for k, s in sens.items() if weights[k] * s != 0}
        assert dict(bucket.weighted) == expected
    net = ref["net"]
    assert isinstance(net, dict)
    assert [b.bucket for b in report.fx.buckets] == [f"{c}/USD" for c in sorted(net)]
    # the rows were built as RiskInput fields: tenor of an MMF, buckets by grade
    kept = [h for h in holdings if h.currency in {"USD", *rates}]
    for item, h in zip(report.inputs, kept, strict=True):
        assert (item.holding_id, item.asset_class, item.currency) == (
            h.holding_id,
            h.asset_class,
            h.currency,
        )
        if h.asset_class.startswith("mmf_"):
            with localcontext(_estimate_context()):
                assert item.tenor_years == Decimal(MMF_ASSUMED_DAYS) / 365


def test_remembered_ranks_answer_as_the_first_time() -> None:
    for rating in [*RATINGS, "Baa3", "D", "SD"]:
        first = ratings.holding_rank(rating)
        assert ratings.holding_rank(rating) == first
        assert ratings.investment_grade(rating) == ratings.investment_grade(rating)
    assert ratings.investment_grade("BBB-") and not ratings.investment_grade("BB+")
    assert not ratings.investment_grade("A-1+") and not ratings.investment_grade("junk")
    for _ in range(2):  # a bad floor raises every time, never remembered as unrated
        for floor in ("junk", "", "NR"):
            try:
                ratings.at_least("AAA", floor)
            except ValueError:
                pass
            else:  # pragma: no cover - the assertion below names it
                raise AssertionError(f"floor {floor!r} accepted")


@settings(max_examples=60, deadline=None)
@given(_holdings())
def test_amounts_given_or_made_give_the_same_reports(holdings: list[Holding]) -> None:
    """verify makes each holding's major amount once for the packs and the estimate."""
    from verifier.model.numbers import major
    from verifier.rules import evaluate

    amounts = [major(h.amount, h.decimals) for h in holdings]
    kw: dict[str, Any] = {"currency": "USD", "as_of": AS_OF}
    assert market_risk(holdings, amounts=amounts, **kw) == market_risk(holdings, **kw)
    kw |= {"packs": ["genius", "hkma"], "supply": Decimal(1000)}
    assert evaluate(holdings, amounts=amounts, **kw) == evaluate(holdings, **kw)


def test_amounts_of_another_length_are_refused() -> None:
    from verifier.rules import evaluate

    hs = [holding("A"), holding("B")]
    with pytest.raises(InputError):
        market_risk(hs, currency="USD", as_of=AS_OF, amounts=[Decimal(1)])
    with pytest.raises(InputError):
        evaluate(hs, packs=["genius"], supply=Decimal(1), currency="USD", as_of=AS_OF, amounts=[])
