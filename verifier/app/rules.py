"""``porv rules check``: a holdings CSV against rule packs, with the market-risk estimate.

The CLI parses the options and renders; this module reads the disclosures and holdings files
and evaluates the packs and the risk estimate.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from verifier.errors import Location, SchemaError
from verifier.rules import RulesReport, evaluate, parse_disclosures
from verifier.rules.risk import RiskReport, capital_from_disclosures, market_risk


@dataclass(frozen=True)
class RulesCheck:
    """The rule packs' report, the risk estimate and how many holdings were checked."""

    report: RulesReport
    risk: RiskReport
    n_holdings: int


def read_disclosures(path: str) -> Mapping[str, Any]:
    """A JSON object of issuer disclosures.

    Raises:
        SchemaError: the file is not a JSON object.
    """
    from verifier.local.jsonio import load_json_file

    data = load_json_file(path)
    if not isinstance(data, dict):
        raise SchemaError("expected a JSON object of disclosures", location=Location(file=path))
    return data


def _options(
    hkma_approved: Sequence[str],
    flags: Mapping[str, Sequence[str]],
    params: Mapping[str, Mapping[str, str]],
) -> dict[str, dict[str, Any]] | None:
    """Per-pack options as a policy would record them (approvals, flags, parameters)."""
    out: dict[str, dict[str, Any]] = {name: {"flags": list(v)} for name, v in flags.items()}
    for name, values in params.items():
        out.setdefault(name, {})["parameters"] = dict(values)
    if hkma_approved:
        out.setdefault("hkma", {})["approved_currencies"] = list(hkma_approved)
    return out or None


def check_rules(
    holdings_csv: str,
    *,
    disclosures_path: str | None,
    packs: Sequence[str],
    supply: Decimal,
    currency: str,
    as_of: _dt.date,
    min_coverage: Decimal,
    fx_rates: Mapping[str, Decimal],
    hkma_approved: Sequence[str],
    issuer_type: str | None = None,
    flags: Mapping[str, Sequence[str]] | None = None,
    params: Mapping[str, Mapping[str, str]] | None = None,
) -> RulesCheck:
    """Read the disclosures and holdings (every input before evaluating), then evaluate.

    A short-term or unknown rating is not an input error: the rules read the holding as
    unrated and say why (RULES.md shared definitions).
    """
    from verifier.local.loaders import parse_holdings_csv

    raw_disclosures = read_disclosures(disclosures_path) if disclosures_path else None
    facts = parse_disclosures(raw_disclosures, source=disclosures_path)
    holdings = parse_holdings_csv(holdings_csv)
    report = evaluate(
        holdings,
        packs=list(packs),
        supply=supply,
        currency=currency,
        as_of=as_of,
        disclosures=raw_disclosures,
        options=_options(hkma_approved, flags or {}, params or {}),
        min_coverage=min_coverage,
        issuer_type=issuer_type,
    )
    risk = market_risk(
        holdings,
        currency=currency,
        as_of=as_of,
        disclosed_capital=capital_from_disclosures(facts, currency),
        fx_rates=fx_rates,
    )
    return RulesCheck(report=report, risk=risk, n_holdings=len(holdings))
