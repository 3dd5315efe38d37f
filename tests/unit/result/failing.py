"""A failing ``porv.result/1`` built with the real rules engine and risk estimate.

The reserve: a 94-day Treasury bill (UST-1, which GENIUS does not count: 93 days at most), a
demand deposit and cash, against a supply of 100,000,000 USD: GENIUS and MAS eligible
reserves fall short, HKMA's cover. ``extra`` adds that many generated holdings (bills of
1-400 days, commercial paper, deposits) to measure a large report.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from tests.unit.rules.test_rules_support import holding
from verifier.model.holdings import Holding
from verifier.model.numbers import major
from verifier.rules import evaluate
from verifier.rules.risk import market_risk

AS_OF = dt.date(2026, 1, 15)
SUPPLY = Decimal(100_000_000)
PACKS = ("genius", "hkma", "mas")


def reserve(extra: int = 0) -> list[Holding]:
    """The failing reserve, plus ``extra`` generated holdings."""
    out = [
        holding("UST-1", "sovereign_debt", amount=60_000_000_00, maturity=AS_OF + dt.timedelta(94),
                rating="AA+"),
        holding("DEP-1", "bank_deposit_demand", amount=50_000_000_00),
        holding("CASH-1", "cash", amount=5_000_000_00),
    ]  # fmt: skip
    for n in range(extra):
        kind = n % 4
        if kind == 0:
            out.append(holding(f"CP-{n:06d}", "commercial_paper", amount=1_000_00 + n))
        elif kind == 1:
            out.append(holding(f"DEP-{n:06d}", "bank_deposit_demand", amount=2_000_00 + n))
        else:
            days = 1 + n % 400
            out.append(
                holding(
                    f"UST-{n:06d}",
                    "sovereign_debt",
                    amount=5_000_00 + n,
                    maturity=AS_OF + dt.timedelta(days),
                    rating="AA+",
                )
            )
    return out


def _dec(value: Decimal) -> str:
    return f"{value:f}"


def failing_result(extra: int = 0) -> dict[str, Any]:
    """A result whose coverage and rules checks fail under GENIUS and MAS."""
    holdings = reserve(extra)
    rules = evaluate(holdings, packs=list(PACKS), supply=SUPPLY, currency="USD", as_of=AS_OF)
    risk = market_risk(holdings, currency="USD", as_of=AS_OF)
    by_class: dict[str, Decimal] = defaultdict(Decimal)
    for h in holdings:
        by_class[h.asset_class] += major(h.amount, h.decimals)
    total = sum(by_class.values(), Decimal(0))
    half = len(holdings) // 2
    custodians = {
        "custodian-a": sum((major(h.amount, h.decimals) for h in holdings[:half]), Decimal(0)),
        "custodian-b": sum((major(h.amount, h.decimals) for h in holdings[half:]), Decimal(0)),
    }
    eligible = {p.pack: _dec(p.eligible_total) for p in rules.packs}
    short = [
        f"{p.pack}: eligible {_dec(p.eligible_total)} < required {SUPPLY}"
        for p in rules.packs
        if p.eligible_total < SUPPLY
    ]
    failed_rules = [f"{r.id} ({r.message})" for r in rules.results if r.status == "fail"]
    return {
        "format": "porv.result/1",
        "status": "failed",
        "verifier": {"name": "porv", "version": "0.1.0"},
        "verified_at": "2026-01-15T00:05:00Z",
        "issuer": "Example Issuer Ltd",
        "token": {"symbol": "pUSD", "currency": "USD", "decimals": 6},
        "as_of": "2026-01-15T00:00:00Z",
        "inputs": {
            "bundle": {"path": "bundle.json", "sha256": "ab" * 32},
            "policy": {"path": "policy.toml", "sha256": "cd" * 32},
            "rule_packs": {p.pack: p.sha256 for p in rules.packs},
            "rollback_state": True,
        },
        "supply": {
            "deployments": [
                {
                    "chain_id": 1,
                    "address": "0xF2E246BB76DF876Cef8b38ae84130F4F55De395b",
                    "block_number": 21_000_000,
                    "block_hash": "0x" + "1c" * 32,
                    "total_supply": "75000000000000",
                    "decimals": 6,
                    "excluded": [{"address": "0x" + "4c" * 20, "balance": "5000000000000"}],
                    "circulating": "70000000000000",
                },
                {
                    "chain_id": 8453,
                    "address": "0xF2E246BB76DF876Cef8b38ae84130F4F55De395b",
                    "block_number": 25_000_000,
                    "block_hash": "0x" + "2d" * 32,
                    "total_supply": "30000000000000",
                    "decimals": 6,
                    "excluded": [],
                    "circulating": "30000000000000",
                },
            ],
            "total_circulating": "100000000000000",
            "decimals": 6,
        },
        "reserves": {
            "by_class": [
                {"asset_class": c, "currency": "USD", "amount": _dec(a)}
                for c, a in sorted(by_class.items())
            ],
            "by_currency": {"USD": _dec(total)},
            "by_custodian": {c: {"USD": _dec(a)} for c, a in custodians.items()},
            "total_in_token_currency": _dec(total),
        },
        "coverage": {
            "min_coverage": "1",
            "supply": _dec(SUPPLY),
            "required": _dec(SUPPLY),
            "reserves_in_token_currency": _dec(total),
            "ratio": _dec((total / SUPPLY).quantize(Decimal("0.000001"))),
            "eligible": eligible,
            "ok": not short,
        },
        "attestations": [
            {
                "custodian": name,
                "digest": "0x" + "77" * 32,
                "root": "0x" + "88" * 32,
                "leaf_count": count,
                "as_of": "2026-01-15T00:00:00Z",
                "valid_until": "2026-02-14T00:00:00Z",
                "sequence": seq,
                "fresh": True,
                "signers": ["0x4Bb58E9b241E11488A817DF4DaF653e32d7D0b02", "0x" + "96" * 48],
                "threshold": 2,
                "threshold_met": True,
            }
            for name, count, seq in (
                ("custodian-a", half, 7),
                ("custodian-b", len(holdings) - half, 3),
            )
        ],
        "rules": rules.to_json(),
        "risk": risk.to_json(),
        "checks": [
            {
                "step": "1",
                "id": "binding",
                "outcome": "pass",
                "detail": "bundle names the pinned issuer and token",
            },
            {
                "step": "4",
                "id": "supply",
                "outcome": "pass",
                "detail": "circulating 100000000 USD on 2 deployment(s)",
            },
            {
                "step": "6",
                "id": "auditors",
                "outcome": "skipped",
                "detail": "the policy pins no auditors",
            },
            {
                "step": "8",
                "id": "coverage",
                "outcome": "fail",
                "kind": "insufficient_reserves",
                "detail": "eligible reserves below circulating supply × 1: " + "; ".join(short),
            },
            {
                "step": "9",
                "id": "rules",
                "outcome": "fail",
                "kind": "rule_failed",
                "detail": "rules failed: " + "; ".join(failed_rules),
            },
            {
                "step": "10",
                "id": "risk",
                "outcome": "pass",
                "detail": "market-risk capital estimate reported",
            },
        ],
        "digest": "0x" + "00" * 32,
    }
