"""Per-holding listings in a result are capped at MAX_LISTED; every holding still counts.

A pack's ineligible holdings, the risk inputs and the unconverted holdings are listed in
holding order up to the cap and counted in full; E, the rules and the charges are computed
over every holding, exactly as without the cap.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.unit.rules.test_rules_support import holding
from verifier.rules import engine, evaluate, report, risk
from verifier.rules.report import MAX_LISTED
from verifier.rules.risk import market_risk

D = dt.date(2025, 12, 31)


def reserve() -> list:  # type: ignore[type-arg]
    bills = [
        holding(f"T{i}", "sovereign_debt", maturity=D + dt.timedelta(days=30 + i), rating="AA+")
        for i in range(4)
    ]
    bonds = [
        holding(f"C{i}", "corporate_bond", maturity=D + dt.timedelta(days=900)) for i in range(5)
    ]
    euros = [holding(f"E{i}", "cash", "EUR") for i in range(3)]
    return bills + bonds + euros


def test_cap_is_a_named_constant() -> None:
    assert MAX_LISTED == 1000


def test_ineligible_listing_is_capped_and_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    full = evaluate(reserve(), packs=["genius"], supply=Decimal(1), currency="USD", as_of=D)
    monkeypatch.setattr(engine, "MAX_LISTED", 2)
    capped = evaluate(reserve(), packs=["genius"], supply=Decimal(1), currency="USD", as_of=D)
    f, c = full.pack("genius"), capped.pack("genius")
    assert f.ineligible_count == len(f.ineligible) == 8  # 5 bonds, 3 in another currency
    assert c.ineligible_count == 8
    assert c.ineligible == f.ineligible[:2]  # the first ones, in holding order
    assert (c.eligible_total, c.rules) == (f.eligible_total, f.rules)
    data = c.to_json()
    assert len(data["ineligible"]) == 2  # type: ignore[arg-type]
    assert data["ineligible_count"] == 8


def test_risk_inputs_are_capped_and_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    full = market_risk(reserve(), currency="USD", as_of=D)
    monkeypatch.setattr(risk, "MAX_LISTED", 2)
    capped = market_risk(reserve(), currency="USD", as_of=D)
    assert full.inputs_count == len(full.inputs) == 9
    assert full.unconverted_count == len(full.unconverted) == 3
    assert capped.inputs == full.inputs[:2] and capped.inputs_count == 9
    assert capped.unconverted == full.unconverted[:2] and capped.unconverted_count == 3
    assert not capped.complete
    assert (capped.girr, capped.csr, capped.fx, capped.total, capped.reserve_total) == (
        full.girr,
        full.csr,
        full.fx,
        full.total,
        full.reserve_total,
    )
    data = capped.to_json()
    assert len(data["inputs"]) == 2  # type: ignore[arg-type]
    assert (data["inputs_count"], data["unconverted_count"]) == (9, 3)


def test_compact_form_lists_a_few_and_keeps_totals_counts_and_the_ladder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The compact result (``verify`` without ``--detail``) lists COMPACT_LISTED holdings per
    section and no risk inputs; the maturity ladder sums every input, listed or not."""
    monkeypatch.setattr(report, "COMPACT_LISTED", 1)
    monkeypatch.setattr(risk, "COMPACT_LISTED", 1)
    rules = evaluate(reserve(), packs=["genius"], supply=Decimal(1), currency="USD", as_of=D)
    pack = rules.to_json(listed=report.COMPACT_LISTED)["packs"][0]  # type: ignore[index]
    assert len(pack["ineligible"]) == 1 and pack["ineligible_count"] == 8
    full = market_risk(reserve(), currency="USD", as_of=D)
    monkeypatch.setattr(risk, "MAX_LISTED", 2)
    capped = market_risk(reserve(), currency="USD", as_of=D)
    assert capped.ladder == full.ladder == risk.maturity_ladder(full.inputs)
    compact, detailed = capped.to_json(detail=False), capped.to_json(detail=True)
    assert "inputs" not in compact and len(detailed["inputs"]) == 2  # type: ignore[arg-type]
    assert compact["ladder"] == detailed["ladder"]
    assert len(compact["unconverted"]) == 1 and compact["unconverted_count"] == 3  # type: ignore[arg-type]
    ladder = {r["bucket"]: Decimal(r["value"]) for r in compact["ladder"]}  # type: ignore[attr-defined]
    assert sum(ladder.values()) == Decimal(compact["reserve_total"])  # type: ignore[arg-type]
    assert ladder["1-3 months"] > 0 and ladder["1-5 years"] > 0  # bills; 900-day bonds
    assert report.COMPACT_LISTED < MAX_LISTED
