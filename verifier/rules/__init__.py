"""Jurisdiction rule packs (RULES.md) and the FRTB-style market-risk estimate.

Public API:

* :func:`list_packs`, :func:`load_pack` -> :class:`Pack` (with ``.sha256`` of the pack file);
* :func:`evaluate` -> :class:`RulesReport` (per pack :class:`PackReport`, per rule
  :class:`RuleResult`, ineligible holdings with reasons, ``E`` per pack, ``.to_json()``);
* :mod:`verifier.rules.risk`: ``market_risk(...)`` -> ``RiskReport``.

Packs are data (``packs/<name>.toml``) over the rule kinds of :mod:`verifier.rules.kinds`;
calendar arithmetic is in :mod:`verifier.rules.calendar`; the disclosures rules may read are in
:mod:`verifier.model.disclosures`.
"""

from __future__ import annotations

from verifier.model.disclosures import DISCLOSURE_KEYS, Disclosures, Money, parse_disclosures
from verifier.rules.eligibility import Ineligible
from verifier.rules.engine import evaluate
from verifier.rules.pack import EligibleAsset, Pack, Rule, list_packs, load_pack
from verifier.rules.report import OUT_OF_SCOPE, PackReport, RuleResult, RulesReport

__all__ = [
    "DISCLOSURE_KEYS",
    "OUT_OF_SCOPE",
    "Disclosures",
    "EligibleAsset",
    "Ineligible",
    "Money",
    "Pack",
    "PackReport",
    "Rule",
    "RuleResult",
    "RulesReport",
    "evaluate",
    "list_packs",
    "load_pack",
    "parse_disclosures",
]
