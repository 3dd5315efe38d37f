"""``evaluate``: a reserve against jurisdiction rule packs. Pure: no IO, no clock, no printing."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from verifier.errors import InputError, Location
from verifier.model.disclosures import parse_disclosures, parse_options
from verifier.model.holdings import Holding
from verifier.model.numbers import exact, major
from verifier.model.validate import is_currency_code
from verifier.rules.eligibility import Ineligible, assess
from verifier.rules.kinds import KINDS, Context
from verifier.rules.pack import list_packs, load_pack
from verifier.rules.report import MAX_LISTED, PackReport, RulesReport


def evaluate(
    holdings: Sequence[Holding],
    *,
    packs: Sequence[str],
    supply: Decimal,
    currency: str,
    as_of: _dt.date,
    disclosures: Mapping[str, Any] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    min_coverage: Decimal = Decimal("1"),
) -> RulesReport:
    """Evaluate a reserve composition against the named rule packs.

    Args:
        holdings: the reserve's holdings (all custodians).
        packs: pack names, e.g. ``["genius", "hkma"]``; each evaluated once, in order. None
            is allowed (a policy naming no jurisdiction): the report then has no packs and
            passes vacuously; the caller decides what that means.
        supply: circulating supply ``S`` in major units of the token currency.
        currency: the token currency (ISO 4217).
        as_of: the UTC calendar date ``D`` of the reserve.
        disclosures: the bundle's ``disclosures`` object (keys in
            :mod:`verifier.model.disclosures`), or ``None``.
        options: per-pack options, e.g. ``{"hkma": {"approved_currencies": ["USD"]}}``.
        min_coverage: the policy's coverage factor (HKMA full backing uses it).

    Returns:
        The :class:`RulesReport`; ``.passed`` is true iff every pack passes.

    Raises:
        InputError: bad arguments (negative supply, bad currency, a pack named twice).
        RulePackError: an unknown pack name.
        SchemaError: unknown or malformed disclosures / options.
    """
    # 1. Arguments and side inputs: refuse, never repair.
    if not isinstance(supply, Decimal) or not supply.is_finite() or supply < 0:
        raise InputError(
            f"supply must be a non-negative decimal, got {supply!r}",
            location=Location(field="supply"),
        )
    if not is_currency_code(currency):
        raise InputError(
            f"currency must be an ISO 4217 code such as 'USD', got {currency!r}",
            location=Location(field="currency"),
        )
    if not isinstance(min_coverage, Decimal) or not min_coverage.is_finite() or min_coverage <= 0:
        raise InputError(
            f"min_coverage must be a positive decimal, got {min_coverage!r}",
            location=Location(field="min_coverage"),
        )
    if len(set(packs)) != len(packs):
        raise InputError(f"a rule pack is named twice: {list(packs)}")
    loaded = [load_pack(name) for name in packs]
    facts = parse_disclosures(disclosures)
    opts = parse_options(options, list_packs())

    reports: list[PackReport] = []
    with exact():  # every sum and product below is exact or raises, never rounded
        # 2. The reserve in the token currency (used by percentage-of-reserve rules).
        reserve_total = sum(
            (major(h.amount, h.decimals) for h in holdings if h.currency == currency),
            Decimal(0),
        )
        for pack in loaded:
            # 3. Eligibility: E and the ineligible holdings with their reasons.
            eligible_total = Decimal(0)
            ineligible: list[Ineligible] = []
            ineligible_count = 0
            for h in holdings:
                ok, reasons = assess(h, pack, currency=currency, as_of=as_of)
                amount = major(h.amount, h.decimals)
                if ok:
                    eligible_total += amount
                    continue
                ineligible_count += 1
                if len(ineligible) < MAX_LISTED:  # the rest are counted (MAX_LISTED)
                    ineligible.append(
                        Ineligible(h.holding_id, h.asset_class, h.currency, amount, reasons)
                    )
            # Approvals come from the policy's options only (DESIGN §1): a bundle's
            # disclosures are facts to check, never permissions.
            approved = frozenset(opts.get(pack.name, {}).get("approved_currencies", ()))
            context = Context(
                pack=pack,
                holdings=holdings,
                currency=currency,
                supply=supply,
                as_of=as_of,
                disclosures=facts,
                approved_currencies=approved,
                min_coverage=min_coverage,
                eligible_total=eligible_total,
                reserve_total=reserve_total,
            )
            # 4. Every rule of the pack, in file order.
            results = tuple(KINDS[rule.kind](rule, context) for rule in pack.rules)
            reports.append(
                PackReport(
                    pack=pack.name,
                    title=pack.title,
                    law=pack.law,
                    sha256=pack.sha256,
                    rules=results,
                    eligible_total=eligible_total,
                    reserve_total=reserve_total,
                    ineligible=tuple(ineligible),
                    ineligible_count=ineligible_count,
                )
            )
    return RulesReport(
        currency=currency,
        supply=supply,
        as_of=as_of,
        min_coverage=min_coverage,
        packs=tuple(reports),
    )
