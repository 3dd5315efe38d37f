"""``evaluate``: a reserve against jurisdiction rule packs. Pure: no IO, no clock, no printing."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from verifier.errors import InputError, Location, RulePackError
from verifier.model.disclosures import Disclosures, parse_disclosures, parse_options
from verifier.model.fx import FxRate
from verifier.model.holdings import Holding
from verifier.model.issuer_types import ISSUER_TYPES
from verifier.model.numbers import exact, major
from verifier.model.validate import is_currency_code
from verifier.rules.eligibility import Ineligible, judge_all, matured
from verifier.rules.kinds import KINDS, Context
from verifier.rules.pack import Pack, list_packs, load_pack
from verifier.rules.report import MAX_LISTED, PackReport, RulesReport


def _in_force_version(pack: Pack, as_of: _dt.date) -> Pack | None:
    """The pack of the same regime in force on ``as_of`` (``None``: no version is)."""
    for name in list_packs():
        other = load_pack(name)
        if other.regime == pack.regime and other.status == "in_force" and other.in_force_on(as_of):
            return other
    return None


def check_applicable(pack: Pack, *, as_of: _dt.date, issuer_type: str | None) -> None:
    """Refuse a pack that does not apply: wrong issuer type, or wrong dates (law in force).

    A pack binding issuer types is refused for another type, or when the type is not named:
    "does not apply" is not a failure. A pack in force only from (or until) a date is refused
    for a reserve dated outside, naming the version in force on that date.

    Raises:
        RulePackError: naming the pack, the date or type, and what applies instead (exit 2).
    """
    if pack.issuer_types is not None:
        binds = ", ".join(pack.issuer_types)
        if issuer_type is None:
            raise RulePackError(
                f"rule pack {pack.name!r} binds {binds} issuers only, and no issuer type is "
                "named: it cannot be applied",
                hint="name the issuer type (policy issuer_type, or rules check --issuer-type)",
            )
        if issuer_type not in pack.issuer_types:
            raise RulePackError(
                f"rule pack {pack.name!r} does not apply to a {issuer_type} issuer "
                f"(it binds {binds} issuers only); refused, not failed"
            )
    if pack.status == "in_force" and not pack.in_force_on(as_of):
        current = _in_force_version(pack, as_of)
        instead = (
            f"the version in force on {as_of.isoformat()} is {current.name!r}"
            if current is not None
            else f"no version of {pack.regime!r} is in force on {as_of.isoformat()}"
        )
        raise RulePackError(
            f"rule pack {pack.name!r} is in force {pack.dates_text()}, not on as_of "
            f"{as_of.isoformat()}: {instead}",
            hint=f"name {current.name!r} for this date" if current is not None else None,
        )


def evaluate(
    holdings: Sequence[Holding],
    *,
    packs: Sequence[str | Pack],
    supply: Decimal,
    currency: str,
    as_of: _dt.date,
    disclosures: Mapping[str, Any] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    min_coverage: Decimal = Decimal("1"),
    issuer_type: str | None = None,
    fx_rates: Sequence[FxRate] = (),
    fx_unusable: Mapping[str, str] | None = None,
    amounts: Sequence[Decimal] | None = None,
) -> RulesReport:
    """Evaluate a reserve composition against the named rule packs.

    Args:
        holdings: the reserve's holdings (all custodians).
        packs: pack names, e.g. ``["genius", "hkma"]`` (or loaded :class:`Pack` objects,
            e.g. from :func:`~verifier.rules.pack.parse_pack`); each evaluated once, in order.
            None is allowed (a policy naming no jurisdiction): the report then has no packs and
            passes vacuously; the caller decides what that means.
        supply: circulating supply ``S`` in major units of the token currency.
        currency: the token currency (ISO 4217).
        as_of: the UTC calendar date ``D`` of the reserve.
        disclosures: the bundle's ``disclosures`` object (keys in
            :mod:`verifier.model.disclosures`), or ``None``.
        options: per-pack options from the policy, e.g.
            ``{"hkma": {"approved_currencies": ["USD"]}, "uk-fca": {"flags": [...]}}``.
        min_coverage: the policy's coverage factor (HKMA full backing uses it).
        issuer_type: the policy's issuer type (checked against packs that bind a type).
        fx_rates: FX rates from the policy (pinned in ``[fx]``, or read from a feed it names),
            for capital floors in another currency than the disclosed capital; at most one
            per pair of currencies, in either direction.
        fx_unusable: per ``BASE/QUOTE`` pair of a policy's FX feed that gave no usable rate,
            why (a floor needing it stays ``not_evaluated`` with that reason).
        amounts: each holding's ``major(amount, decimals)``, in order, when the caller has
            them (computed here when None).

    Returns:
        The :class:`RulesReport`; ``.passed`` is true iff every pack passes.

    Raises:
        InputError: bad arguments (negative supply, bad currency, a pack named twice).
        RulePackError: an unknown pack name; a pack not in force on ``as_of`` (naming the
            version that is) or not binding ``issuer_type``; a policy flag the pack never reads.
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
    names = [p.name if isinstance(p, Pack) else p for p in packs]
    if len(set(names)) != len(names):
        raise InputError(f"a rule pack is named twice: {names}")
    if issuer_type is not None and issuer_type not in ISSUER_TYPES:
        raise InputError(
            f"unknown issuer type {issuer_type!r}",
            location=Location(field="issuer_type"),
            hint="known: " + ", ".join(sorted(ISSUER_TYPES)),
        )
    pairs: set[frozenset[str]] = set()
    for r in fx_rates:
        if not isinstance(r, FxRate) or not r.rate.is_finite() or r.rate <= 0:
            raise InputError(f"an FX rate must be a positive FxRate, got {r!r}")
        if frozenset((r.base, r.quote)) in pairs:
            raise InputError(f"two FX rates link {r.base} and {r.quote}: give one")
        pairs.add(frozenset((r.base, r.quote)))
    given = {p.name: p for p in packs if isinstance(p, Pack)}
    opts = parse_options(options, sorted({*list_packs(), *given}))
    # a pack's documented parameters take the policy's values (the rest their defaults)
    loaded = [
        p if isinstance(p, Pack) else load_pack(p, opts.get(p, {}).get("parameters")) for p in packs
    ]
    by_name = {p.name: p for p in loaded}
    for pack in loaded:
        check_applicable(pack, as_of=as_of, issuer_type=issuer_type)
    facts = parse_disclosures(disclosures)
    for name, pack_opts in opts.items():
        pack = by_name[name] if name in by_name else load_pack(name)
        unknown = sorted(set(pack_opts.get("flags", ())) - pack.policy_flags)
        if unknown:
            raise RulePackError(
                f"the policy records flag(s) {', '.join(unknown)} for {name!r}, which that pack "
                "never reads",
                hint="flags it reads: " + (", ".join(sorted(pack.policy_flags)) or "none"),
            )

    reports: list[PackReport] = []
    with exact():  # every sum and product below is exact or raises, never rounded
        # 2. The reserve in the token currency: every holding, as reported (shown beside E),
        # and the holdings still held (not matured), the base of floors that are shares of the
        # reserve. No rule reads the first: a repaid bill is no longer in the pool.
        reserve_total = Decimal(0)
        reserve_held = Decimal(0)
        if amounts is None:
            amounts = [major(h.amount, h.decimals) for h in holdings]  # read by every pack
        elif len(amounts) != len(holdings):
            raise InputError(f"{len(amounts)} amounts for {len(holdings)} holdings")
        held: dict[int, bool] = {}  # maturity -> not matured on as_of
        for h, amount in zip(holdings, amounts, strict=True):
            if h.currency == currency:
                reserve_total += amount
                still = held.get(h.maturity)
                if still is None:
                    still = held[h.maturity] = matured(h, as_of) is None
                if still:
                    reserve_held += amount
        for pack in loaded:
            reports.append(
                _evaluate_pack(
                    pack,
                    holdings,
                    currency=currency,
                    supply=supply,
                    as_of=as_of,
                    facts=facts,
                    pack_options=opts.get(pack.name, {}),
                    min_coverage=min_coverage,
                    reserve_total=reserve_total,
                    reserve_held=reserve_held,
                    fx_rates=tuple(fx_rates),
                    fx_unusable=dict(fx_unusable or {}),
                    amounts=amounts,
                )
            )
    return RulesReport(
        currency=currency,
        supply=supply,
        as_of=as_of,
        min_coverage=min_coverage,
        packs=tuple(reports),
        issuer_type=issuer_type,
    )


def _evaluate_pack(
    pack: Pack,
    holdings: Sequence[Holding],
    *,
    currency: str,
    supply: Decimal,
    as_of: _dt.date,
    facts: Disclosures,
    pack_options: Mapping[str, Any],
    min_coverage: Decimal,
    reserve_total: Decimal,
    reserve_held: Decimal,
    fx_rates: tuple[FxRate, ...] = (),
    fx_unusable: Mapping[str, str] | None = None,
    amounts: Sequence[Decimal] = (),
) -> PackReport:
    # Regulator-side records come from the policy only (DESIGN §1): a bundle's disclosures are
    # facts to check, never permissions. A gate whose flag the policy lacks stays closed.
    flags = frozenset(pack_options.get("flags", ()))
    closed = {tier: flag for tier, flag in pack.gates.items() if flag not in flags}
    # 3. Eligibility: E and the ineligible holdings with their reasons, rows tried in order.
    eligible_total = Decimal(0)
    eligible: list[Holding] = []
    tier_eligible: dict[str, Decimal] = {}
    tier_held: dict[str, Decimal] = {}
    ineligible: list[Ineligible] = []
    ineligible_count = 0
    judgements = judge_all(holdings, pack, currency=currency, as_of=as_of, closed=closed)
    if not amounts:
        amounts = [major(h.amount, h.decimals) for h in holdings]
    for h, j, amount in zip(holdings, judgements, amounts, strict=True):
        if j.tier is not None:
            tier_held[j.tier] = tier_held.get(j.tier, Decimal(0)) + amount
        if j.eligible:
            eligible_total += amount
            eligible.append(h)  # floors, averages and the stressed estimate read only these
            if j.tier is not None:
                tier_eligible[j.tier] = tier_eligible.get(j.tier, Decimal(0)) + amount
            continue
        ineligible_count += 1
        if len(ineligible) < MAX_LISTED:  # the rest are counted (MAX_LISTED)
            ineligible.append(
                Ineligible(h.holding_id, h.asset_class, h.currency, amount, j.reasons)
            )
    # Deductions of disclosed amounts (e.g. repo borrowing) come off E before any rule reads it.
    gross = eligible_total
    for rule in pack.rules:
        if rule.kind == "disclosure_deduction":
            owed = facts.money(rule.params["disclosure"])
            if owed is not None and owed.currency == currency:
                eligible_total = max(eligible_total - owed.amount, Decimal(0))
    context = Context(
        pack=pack,
        holdings=holdings,
        currency=currency,
        supply=supply,
        as_of=as_of,
        disclosures=facts,
        approved_currencies=frozenset(pack_options.get("approved_currencies", ())),
        min_coverage=min_coverage,
        eligible_total=eligible_total,
        reserve_held=reserve_held,
        eligible_gross=gross,
        eligible_holdings=tuple(eligible),
        tier_eligible=tier_eligible,
        tier_held=tier_held,
        policy_flags=flags,
        fx_rates=fx_rates,
        fx_unusable=fx_unusable or {},
    )
    # 4. Every rule of the pack, in file order.
    results = tuple(KINDS[rule.kind](rule, context) for rule in pack.rules)
    return PackReport(
        pack=pack.name,
        title=pack.title,
        law=pack.law,
        sha256=pack.sha256,
        rules=results,
        eligible_total=eligible_total,
        reserve_total=reserve_total,
        ineligible=tuple(ineligible),
        ineligible_count=ineligible_count,
        status=pack.status,
        effective_from=pack.effective_from,
        effective_until=pack.effective_until,
        regime=pack.regime,
        eligible_gross=gross,
        confidence=pack.confidence,
        parameters=tuple(p.to_json() for p in pack.parameters),
    )
