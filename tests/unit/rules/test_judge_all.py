"""``judge_all`` (each distinct holding shape judged once) gives exactly ``judge`` per holding,
for every pack, with gates open or closed, on varied and hostile holdings."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from verifier.model.holdings import ASSET_CLASSES, Holding
from verifier.rules import eligibility, list_packs, load_pack
from verifier.rules.eligibility import judge, judge_all, judgement_key

AS_OF = dt.date(2026, 6, 30)
_EPOCH = dt.date(1970, 1, 1)


def _ts(d: dt.date) -> int:
    return (d - _EPOCH).days * 86400


_CHOICES: dict[str, list[object]] = {
    "asset_class": sorted(ASSET_CLASSES),
    "currency": ["USD", "USD", "HKD", "EUR", "SGD", "JPY"],
    "decimals": [0, 2, 6, 18],
    "maturity": [0]
    + [
        _ts(AS_OF + dt.timedelta(days=d))
        for d in (-400, -1, 0, 1, 7, 30, 92, 93, 94, 180, 365, 366, 800, 4000)
    ],
    "counterparty": ["Bank A", "Bank B", ""],
    "country": ["US", "HK", "GB", "SG", "DE", "JP", "", "ZZ"],
    "rating": ["", "AAA", "AA-", "A+", "A", "BBB-", "BB+", "A-1", "P-1", "x"],
    "collateral": ["", "", *sorted(ASSET_CLASSES)],
}


def _holdings(n: int, seed: int) -> list[Holding]:
    """``n`` random shapes, each followed by one variant per field that differs from it in that
    field alone (so a key that left a field out would hand the variant the shape's judgement)."""
    rng = random.Random(seed)
    out: list[Holding] = []
    for i in range(n):
        amount = rng.choice([0, 1, 10**6, 10**9 + rng.randrange(1000), 2**256 - 1])
        fields: dict[str, object] = {f: rng.choice(c) for f, c in _CHOICES.items()}
        fields.update(
            holding_id=f"H{i}",
            amount=amount,
            collateral_value=rng.choice([0, amount, max(amount - 1, 0), amount + 5, 10**6]),
            salt=rng.randbytes(32),
        )
        out.append(Holding(**fields))  # type: ignore[arg-type]
        for f, choices in _CHOICES.items():
            other = rng.choice([c for c in choices if c != fields[f]])
            out.append(Holding(**{**fields, f: other, "holding_id": f"H{i}-{f}"}))  # type: ignore[arg-type]
        short = dict(fields, amount=100, collateral_value=40, holding_id=f"H{i}-s")
        out.append(Holding(**short))  # type: ignore[arg-type]
        out.append(Holding(**{**short, "collateral_value": 30, "holding_id": f"H{i}-t"}))  # type: ignore[arg-type]
    return out


@pytest.mark.parametrize("name", list_packs())
def test_judge_all_equals_judge_for_every_pack(name: str) -> None:
    pack = load_pack(name)
    holdings = _holdings(150, seed=len(name))
    for currency in ("USD", "HKD"):
        for closed in ({}, {tier: "flag" for tier in pack.gates}):
            slow = [judge(h, pack, currency=currency, as_of=AS_OF, closed=closed) for h in holdings]
            fast = list(judge_all(holdings, pack, currency=currency, as_of=AS_OF, closed=closed))
            assert fast == slow


def test_judge_all_past_its_memo_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(eligibility, "_JUDGED_MAX", 3)
    pack = load_pack("genius")
    holdings = _holdings(40, seed=7)
    slow = [judge(h, pack, currency="USD", as_of=AS_OF) for h in holdings]
    assert list(judge_all(holdings, pack, currency="USD", as_of=AS_OF)) == slow


def test_the_key_ignores_only_what_judge_never_reads() -> None:
    h = _holdings(1, seed=3)[0]
    twin = Holding(
        holding_id="other",
        asset_class=h.asset_class,
        currency=h.currency,
        amount=h.amount + 10,
        decimals=h.decimals,
        maturity=h.maturity,
        counterparty="someone else",
        country=h.country,
        rating=h.rating,
        collateral=h.collateral,
        collateral_value=h.collateral_value + 10,  # the same shortfall
        salt=bytes(32),
    )
    assert judgement_key(twin, True) == judgement_key(h, True)
    short = Holding(**{**_fields(h), "amount": 100, "collateral_value": 40})
    shorter = Holding(**{**_fields(h), "amount": 100, "collateral_value": 30})
    assert judgement_key(short, True) != judgement_key(shorter, True)
    assert judgement_key(short, False) == judgement_key(shorter, False)


def _fields(h: Holding) -> dict[str, object]:
    return {f: getattr(h, f) for f in Holding.__slots__}
