"""The rule kinds, implemented once; packs choose kinds and set their parameters.

=======================  ===================================================================
kind                     passes when
=======================  ===================================================================
``token_currency``       the token currency is one of ``currencies``
``same_currency``        every holding is in the token currency (or, with ``approvals``, in a
                         currency the regulator approved)
``eligible_coverage``    ``E >= S × ratio`` (× ``min_coverage`` with ``apply_min_coverage``)
``deposit_floor``        Σ *eligible* holdings of ``classes`` ``>= share × base`` (``base`` =
                         ``supply`` S, the default, or ``reserve``: everything still held)
``capital_threshold``    disclosed capital ``>= max(floor, reserve_share × reserve,
                         expenses_share × annual operating expenses)``; a part in another
                         currency at the policy's ``[fx]`` rate (recorded in ``fx``)
``disclosure_flags``     every listed disclosure flag is true
``max_redemption_days``  disclosed redemption time ``<= max_days`` business days
``class_cap``            Σ holdings of ``classes`` still held, eligible or not, ``<= share ×
                         base`` (``base`` = ``supply`` S or ``reserve``: the eligible reserve E)
``average_maturity``     amount-weighted mean days to maturity of the *eligible* holdings of
                         ``classes`` ``<= max_days`` (or the days to ``D`` + ``within_months``)
``tier_gate``            no asset of ``tier`` is held unless the policy records ``flag``;
                         until it does, that tier counts zero toward E
``tier_floor``           Σ eligible ``tier`` assets ``>= max(share, disclosed share) ×
                         reserve`` (everything still held), when ``only_if_tier_present``
                         assets are held
``supply_cap``           ``S <= amount``
``stressed_coverage``    ``E − K >= S × ratio``; K = the market-risk estimate of the eligible
                         holdings (RULES.md, after FRTB)
``disclosure_deduction`` reports the disclosed amount taken off E (the engine deducts it
                         before any rule reads E); ``not_evaluated`` when not disclosed
``regulator_flags``      every flag is recorded in the policy (``pack_options.<pack>.flags``);
                         a missing one is ``missing`` (``not_evaluated`` or ``fail``)
``unconfirmed``          always ``not_evaluated`` with ``reason``: a requirement the sources
                         name without a figure porv could confirm (listed, never guessed)
=======================  ===================================================================

Shares and averages are read so that a holding the pack refuses can never help a reserve pass
(adding ineligible or matured holdings must not turn a fail into a pass):

- **Floors** (``deposit_floor``, ``tier_floor``, the reserve leg of ``capital_threshold``)
  count only holdings that pass the pack's eligibility rows. Their ``reserve`` base is every
  holding in the token currency that has not matured, eligible or not (a repaid bill is no
  longer in the pool): a refused holding can only raise what the floor requires.
- **Caps** (``class_cap``) count every holding of the capped classes in the token currency
  that has not matured, eligible or not, since a cap limits what is held. Their ``reserve``
  base is the eligible reserve E (after disclosed deductions): a refused holding can only
  raise the measured share, never dilute it.
- **Average maturity** averages the eligible holdings of the classes only: a refused short
  bill cannot pull the average down.

A rule whose data is absent is ``not_evaluated`` with the reason and does not decide the
verdict. Capital floors in another currency than the disclosed capital are compared only
with a rate the policy gives (``[fx]``: pinned and dated, or a feed read at the pinned block;
:mod:`verifier.model.fx`), never one from the issuer's disclosures, and the result records the
rate used. Without a rate, or with one dated after ``as_of`` or more than a week before it, the
floor stays ``not_evaluated``: a guessed rate would be a silent fix. A requirement that *can*
be compared and is not met still fails.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from verifier.model.disclosures import Disclosures, Money
from verifier.model.fx import FxRate, find_rate, rate_problem
from verifier.model.holdings import Holding
from verifier.model.numbers import display_quantize, display_ratio, major
from verifier.rules.calendar import add_months, days_between, maturity_date, maturity_days
from verifier.rules.eligibility import matured
from verifier.rules.pack import Pack, Rule
from verifier.rules.report import RuleResult, Status, dec
from verifier.rules.risk import market_risk


@dataclass(frozen=True, slots=True)
class Context:
    """What a rule may look at: one pack's view of the reserve."""

    pack: Pack
    holdings: Sequence[Holding]
    currency: str
    supply: Decimal
    as_of: _dt.date
    disclosures: Disclosures
    approved_currencies: frozenset[str]
    min_coverage: Decimal
    eligible_total: Decimal
    #: Σ holdings in the token currency that have not matured, eligible or not: the base of
    #: floors that are shares of the reserve
    reserve_held: Decimal
    #: E before disclosed deductions
    eligible_gross: Decimal = Decimal(0)
    #: the holdings that pass the pack's eligibility rows (all in the token currency)
    eligible_holdings: tuple[Holding, ...] = ()
    #: per tier: eligible amount, and amount held (meeting a row of that tier, gate open or not)
    tier_eligible: Mapping[str, Decimal] = field(default_factory=dict)
    tier_held: Mapping[str, Decimal] = field(default_factory=dict)
    #: regulator-side flags the policy records for this pack
    policy_flags: frozenset[str] = frozenset()
    #: FX rates from the policy (pinned, or read from the feeds it names): capital floors only
    fx_rates: tuple[FxRate, ...] = ()
    #: per ``BASE/QUOTE`` pair whose policy feed gave no usable rate: why
    fx_unusable: Mapping[str, str] = field(default_factory=dict)

    def floor_base(self, name: str) -> tuple[Decimal, str]:
        """The amount a floor's share is of, and its name in messages.

        ``reserve``: every holding still held in the token currency, eligible or not (the
        larger pool; a refused holding can only raise a floor).
        """
        if name == "reserve":
            return (self.reserve_held, "the reserve")
        return (self.supply, "supply")

    def cap_base(self, name: str) -> tuple[Decimal, str]:
        """The amount a cap's share is of, and its name in messages.

        ``reserve``: the eligible reserve E (the smaller pool; a refused or matured holding
        cannot dilute a cap).
        """
        if name == "reserve":
            return (self.eligible_total, "the eligible reserve")
        return (self.supply, "supply")

    def eligible(self, classes: tuple[str, ...]) -> Decimal:
        """Σ holdings of ``classes`` that pass the pack's eligibility rows (what floors count)."""
        return sum(
            (
                major(h.amount, h.decimals)
                for h in self.eligible_holdings
                if h.asset_class in classes and h.currency == self.currency
            ),
            Decimal(0),
        )

    def held(self, classes: tuple[str, ...]) -> Decimal:
        """Σ holdings of ``classes`` in the token currency that have not matured, eligible or
        not (what caps count)."""
        return sum(
            (
                major(h.amount, h.decimals)
                for h in self.holdings
                if h.asset_class in classes
                and h.currency == self.currency
                and matured(h, self.as_of) is None
            ),
            Decimal(0),
        )


def pct(part: Decimal, whole: Decimal, places: str = "0.01") -> str:
    """``part/whole`` as a percentage, rounded down (29.999 % shows 29.99 with two places)."""
    if whole == 0:
        return "n/a"
    return f"{display_ratio(part * 100, whole, Decimal(places)):f} %"


def _result(
    rule: Rule,
    ctx: Context,
    status: Status,
    message: str,
    measured: str | None = None,
    limit: str | None = None,
    fx: tuple[dict[str, object], ...] = (),
) -> RuleResult:
    return RuleResult(
        id=rule.id,
        pack=ctx.pack.name,
        title=rule.title,
        kind=rule.kind,
        status=status,
        measured=measured,
        limit=limit,
        citation=rule.citation,
        confidence=rule.confidence,
        message=message,
        fx=fx,
    )


def token_currency(rule: Rule, ctx: Context) -> RuleResult:
    """The token currency is one the law covers."""
    allowed: tuple[str, ...] = rule.params["currencies"]
    ok = ctx.currency in allowed
    message = (
        f"token currency {ctx.currency}"
        if ok
        else f"token currency {ctx.currency}; {ctx.pack.name} covers only {', '.join(allowed)}"
    )
    return _result(rule, ctx, "pass" if ok else "fail", message, ctx.currency, " or ".join(allowed))


def same_currency(rule: Rule, ctx: Context) -> RuleResult:
    """Every holding is in the token currency (or an approved one)."""
    approved = ctx.approved_currencies if rule.params["approvals"] else frozenset()
    foreign: dict[str, Decimal] = {}
    offenders: list[str] = []
    for h in ctx.holdings:
        if h.currency == ctx.currency:
            continue
        foreign[h.currency] = foreign.get(h.currency, Decimal(0)) + major(h.amount, h.decimals)
        if h.currency not in approved:
            offenders.append(h.holding_id)
    measured = (
        "; ".join(f"{dec(v)} {c}" for c, v in sorted(foreign.items()))
        if foreign
        else f"all in {ctx.currency}"
    )
    limit = f"only {ctx.currency}" + (
        f" (approved: {', '.join(sorted(approved))})" if approved else ""
    )
    if offenders:
        shown = ", ".join(offenders[:10]) + (" …" if len(offenders) > 10 else "")
        claimed = sorted(set(ctx.disclosures.approved_currencies) - approved)
        message = (
            f"{len(offenders)} holding(s) not in {ctx.currency}"
            + (" or an approved currency" if rule.params["approvals"] else "")
            + f": {shown}"
            + (
                f" (the disclosures claim approval for {', '.join(claimed)}; an approval "
                "counts only when the policy records it)"
                if claimed and rule.params["approvals"]
                else ""
            )
        )
        return _result(rule, ctx, "fail", message, measured, limit)
    message = f"every holding in {ctx.currency}" + (
        f" or an approved currency ({', '.join(sorted(foreign))})" if foreign else ""
    )
    return _result(rule, ctx, "pass", message, measured, limit)


def eligible_coverage(rule: Rule, ctx: Context) -> RuleResult:
    """``E >= S × ratio`` (× min_coverage)."""
    ratio: Decimal = rule.params["ratio"]
    if rule.params["apply_min_coverage"]:
        ratio *= ctx.min_coverage
    required = ctx.supply * ratio
    ok = ctx.eligible_total >= required
    message = (
        f"eligible reserve {dec(ctx.eligible_total)} {ctx.currency} = "
        f"{pct(ctx.eligible_total, ctx.supply)} of supply {dec(ctx.supply)} {ctx.currency}; "
        f"required {dec(ratio)} × supply = {dec(required)} {ctx.currency}"
    )
    if not ok:
        message += f" (short by {dec(required - ctx.eligible_total)} {ctx.currency})"
    return _result(
        rule, ctx, "pass" if ok else "fail", message, dec(ctx.eligible_total), dec(required)
    )


def deposit_floor(rule: Rule, ctx: Context) -> RuleResult:
    """Σ eligible holdings of ``classes`` ``>= share × base`` (supply by default).

    Only holdings that pass the pack's eligibility rows count (a deposit at a bank the pack
    refuses, or one already repaid, is no deposit toward the floor). The ``reserve`` base is
    every holding still held in the token currency, eligible or not: refused holdings can only
    raise the floor, never meet it.
    """
    classes: tuple[str, ...] = rule.params["classes"]
    share: Decimal = rule.params["share"]
    base, base_name = ctx.floor_base(rule.params.get("base", "supply"))
    deposits = ctx.eligible(classes)
    required = base * share
    ok = deposits >= required
    if all(c.startswith("bank_deposit") for c in classes):
        label = "eligible bank deposits"
    else:
        label = "eligible holdings of " + ", ".join(classes)
    message = (
        f"{label} {dec(deposits)} {ctx.currency} = {pct(deposits, base)} of {base_name}"
        + (f" {dec(base)} {ctx.currency}" if base_name != "supply" else "")
        + f"; floor {dec(share * 100)} % = {dec(required)} {ctx.currency}"
    )
    if not ok:
        message += f" (short by {dec(required - deposits)} {ctx.currency})"
    return _result(rule, ctx, "pass" if ok else "fail", message, dec(deposits), dec(required))


def class_cap(rule: Rule, ctx: Context) -> RuleResult:
    """Σ holdings of ``classes`` in the token currency ``<= share × base``.

    Every holding of the classes still held counts, eligible or not (a cap limits what is
    held). The ``reserve`` base is the eligible reserve E: holdings the pack refuses, or that
    have matured, cannot inflate the base and dilute the cap.
    """
    classes: tuple[str, ...] = rule.params["classes"]
    share: Decimal = rule.params["share"]
    base, base_name = ctx.cap_base(rule.params["base"])
    held = ctx.held(classes)
    cap = base * share
    ok = held <= cap
    message = (
        f"{', '.join(classes)} {dec(held)} {ctx.currency} = {pct(held, base)} of {base_name} "
        f"{dec(base)} {ctx.currency}; cap {dec(share * 100)} % = {dec(cap)} {ctx.currency}"
    )
    if not ok:
        message += f" (over by {dec(held - cap)} {ctx.currency})"
    return _result(rule, ctx, "pass" if ok else "fail", message, dec(held), dec(cap))


def average_maturity(rule: Rule, ctx: Context) -> RuleResult:
    """Amount-weighted mean days to maturity of the eligible holdings of ``classes``.

    Holdings the pack refuses (and matured ones, refused everywhere) are left out: a short
    bill no row admits cannot pull the average under the limit.
    """
    classes: tuple[str, ...] = rule.params["classes"]
    months: int | None = rule.params["within_months"]
    if months is not None:
        end = add_months(ctx.as_of, months)
        limit_days = days_between(ctx.as_of, end)
        limit = f"{limit_days} days ({months} calendar months, to {end.isoformat()})"
    else:
        limit_days = rule.params["max_days"]
        limit = f"{limit_days} days"
    weighted = Decimal(0)
    total = Decimal(0)
    undated: list[str] = []
    for h in ctx.eligible_holdings:
        if h.asset_class not in classes or h.currency != ctx.currency:
            continue
        if maturity_date(h.maturity) is None:
            undated.append(h.holding_id)
            continue
        amount = major(h.amount, h.decimals)
        weighted += amount * maturity_days(h.maturity, ctx.as_of)
        total += amount
    if undated:
        shown = ", ".join(undated[:10]) + (" …" if len(undated) > 10 else "")
        return _result(
            rule,
            ctx,
            "fail",
            f"{len(undated)} eligible holding(s) of {', '.join(classes)} without a maturity "
            "date, so "
            f"the average cannot be shown within the limit: {shown}",
            None,
            limit,
        )
    if total == 0:
        return _result(
            rule,
            ctx,
            "pass",
            f"no eligible {', '.join(classes)} held: nothing to average",
            "-",
            limit,
        )
    mean = display_ratio(weighted, total, Decimal("0.01"))
    ok = weighted <= total * limit_days  # exact: mean <= limit without dividing
    message = (
        f"amount-weighted average maturity of eligible {', '.join(classes)} ({dec(total)} "
        f"{ctx.currency}) is {dec(mean)} days; limit {limit}"
    )
    if not ok:
        message += f" (over by {dec(mean - limit_days)} days)"
    return _result(rule, ctx, "pass" if ok else "fail", message, f"{dec(mean)} days", limit)


def tier_gate(rule: Rule, ctx: Context) -> RuleResult:
    """Assets of a gated tier are held only when the policy records the regulator's flag."""
    tier: str = rule.params["tier"]
    flag: str = rule.params["flag"]
    held = ctx.tier_held.get(tier, Decimal(0))
    where = f"pack_options.{ctx.pack.name}.flags"
    limit = f"{tier}-tier assets only with {flag} recorded in the policy"
    if flag in ctx.policy_flags:
        return _result(
            rule,
            ctx,
            "pass",
            f"the policy records {flag}: {tier}-tier assets {dec(held)} {ctx.currency} count "
            "toward E",
            dec(held),
            limit,
        )
    if held == 0:
        return _result(rule, ctx, "pass", f"no {tier}-tier assets held", "0", limit)
    return _result(
        rule,
        ctx,
        "fail",
        f"{tier}-tier assets {dec(held)} {ctx.currency} held, but the policy records no "
        f"{flag} ({where}): they count zero toward E; an issuer's own disclosure cannot "
        "grant it",
        dec(held),
        limit,
    )


def tier_floor(rule: Rule, ctx: Context) -> RuleResult:
    """Σ eligible assets of a tier ``>= max(share, disclosed share) × reserve``."""
    tier: str = rule.params["tier"]
    share: Decimal = rule.params["share"]
    key: str | None = rule.params["disclosure_share"]
    trigger: str | None = rule.params["only_if_tier_present"]
    pool = ctx.reserve_held  # everything still held: refused holdings only raise the floor
    core = ctx.tier_eligible.get(tier, Decimal(0))
    legs = f"max({dec(share * 100)} %" + (f", {key}" if key else "") + ") of the reserve"
    if trigger is not None and ctx.tier_held.get(trigger, Decimal(0)) == 0:
        return _result(
            rule,
            ctx,
            "pass",
            f"no {trigger}-tier assets held: the {tier} floor does not apply",
            dec(core),
            legs,
        )
    disclosed = ctx.disclosures.share(key) if key else None
    top = max(share, disclosed) if disclosed is not None else share
    required = pool * top
    message = (
        f"{tier}-tier assets {dec(core)} {ctx.currency} = {pct(core, pool)} of the reserve "
        f"{dec(pool)} {ctx.currency}; floor {dec(share * 100)} %"
        + (f", disclosed {key} {dec(disclosed * 100)} %" if disclosed is not None else "")
        + f" -> required {dec(required)} {ctx.currency}"
    )
    if core < required:
        message += f" (short by {dec(required - core)} {ctx.currency})"
        return _result(rule, ctx, "fail", message, dec(core), dec(required))
    if key is not None and disclosed is None:
        return _result(
            rule,
            ctx,
            "not_evaluated",
            message + f"; {key} not disclosed, so the other leg of the floor is unknown",
            dec(core),
            legs,
        )
    return _result(rule, ctx, "pass", message, dec(core), dec(required))


def supply_cap(rule: Rule, ctx: Context) -> RuleResult:
    """Circulating supply ``<= amount``."""
    amount, ccy = rule.params["amount"]
    limit = f"{dec(amount)} {ccy}"
    if ccy != ctx.currency:
        return _result(
            rule,
            ctx,
            "not_evaluated",
            f"cap in {ccy}, token in {ctx.currency} (no FX rates offline)",
            f"{dec(ctx.supply)} {ctx.currency}",
            limit,
        )
    ok = ctx.supply <= amount
    message = f"supply {dec(ctx.supply)} {ccy}; cap {limit}"
    if not ok:
        message += f" (over by {dec(ctx.supply - amount)} {ccy})"
    return _result(rule, ctx, "pass" if ok else "fail", message, dec(ctx.supply), limit)


def stressed_coverage(rule: Rule, ctx: Context) -> RuleResult:
    """``E − K >= S × ratio``, K the market-risk estimate of the eligible holdings."""
    ratio: Decimal = rule.params["ratio"]
    risk = market_risk(ctx.eligible_holdings, currency=ctx.currency, as_of=ctx.as_of)
    k = risk.total
    stressed = ctx.eligible_total - k
    required = ctx.supply * ratio
    margin = stressed - required
    cent = Decimal("0.01")
    # shown in cents, never in the issuer's favour: K rounded up, E − K and the margin down
    k_shown = dec(display_quantize(k, cent, ROUND_CEILING))
    stressed_shown = dec(display_quantize(stressed, cent, ROUND_FLOOR))
    margin_shown = dec(display_quantize(margin, cent, ROUND_FLOOR))
    message = (
        f"eligible reserve E {dec(ctx.eligible_total)} {ctx.currency} − market-risk estimate "
        f"K {k_shown} {ctx.currency} ({pct(k, ctx.eligible_total, '0.0001')} of E) = "
        f"{stressed_shown} {ctx.currency}; required {dec(ratio)} × supply = {dec(required)} "
        f"{ctx.currency}; margin {margin_shown} {ctx.currency}"
    )
    ok = margin >= 0
    return _result(rule, ctx, "pass" if ok else "fail", message, stressed_shown, dec(required))


def disclosure_deduction(rule: Rule, ctx: Context) -> RuleResult:
    """Report the disclosed amount the engine took off E (not_evaluated when undisclosed)."""
    key: str = rule.params["disclosure"]
    owed = ctx.disclosures.money(key)
    if owed is None:
        return _result(
            rule,
            ctx,
            "not_evaluated",
            f"{key} not disclosed: E {dec(ctx.eligible_gross)} {ctx.currency} may include cash "
            "that must be excluded, and nothing was deducted",
            None,
            None,
        )
    if owed.currency != ctx.currency:
        return _result(
            rule,
            ctx,
            "not_evaluated",
            f"{key} {owed} is not in {ctx.currency} (no FX rates offline): nothing deducted",
            str(owed),
            None,
        )
    return _result(
        rule,
        ctx,
        "pass",
        f"{key} {owed} deducted: E {dec(ctx.eligible_gross)} -> {dec(ctx.eligible_total)} "
        f"{ctx.currency}",
        str(owed),
        f"E = {dec(ctx.eligible_total)}",
    )


def regulator_flags(rule: Rule, ctx: Context) -> RuleResult:
    """Every flag recorded in the policy; never from the issuer's disclosures."""
    flags: tuple[str, ...] = rule.params["flags"]
    missing = [f for f in flags if f not in ctx.policy_flags]
    measured = f"{len(flags) - len(missing)} of {len(flags)} recorded"
    limit = f"all {len(flags)} recorded in the policy"
    if missing:
        return _result(
            rule,
            ctx,
            rule.params["missing"],
            f"not recorded in the policy (pack_options.{ctx.pack.name}.flags): "
            + ", ".join(missing)
            + "; an issuer's own disclosure cannot grant them",
            measured,
            limit,
        )
    return _result(rule, ctx, "pass", "all recorded in the policy", measured, limit)


def capital_threshold(rule: Rule, ctx: Context) -> RuleResult:
    """Disclosed capital ``>= max(floor, reserve share, expenses share)``."""
    key: str = rule.params["disclosure"]
    capital = ctx.disclosures.money(key)
    floor_amount, floor_ccy = rule.params["floor"]
    # (label, amount, currency or None when the input is missing, reason when missing)
    parts: list[tuple[str, Decimal, str | None, str]] = [
        (f"floor {dec(floor_amount)} {floor_ccy}", floor_amount, floor_ccy, "")
    ]
    reserve_share: Decimal | None = rule.params["reserve_share"]
    if reserve_share is not None:
        amount = reserve_share * ctx.reserve_held  # a floor: of everything still held
        parts.append(
            (
                f"{dec(reserve_share * 100)} % of reserve = {dec(amount)} {ctx.currency}",
                amount,
                ctx.currency,
                "",
            )
        )
    expenses_share: Decimal | None = rule.params["expenses_share"]
    if expenses_share is not None:
        expenses = ctx.disclosures.money("annual_operating_expenses")
        if expenses is None:
            parts.append(
                (
                    f"{dec(expenses_share * 100)} % of annual operating expenses",
                    Decimal(0),
                    None,
                    "annual_operating_expenses not disclosed",
                )
            )
        else:
            amount = expenses_share * expenses.amount
            parts.append(
                (
                    f"{dec(expenses_share * 100)} % of annual operating expenses = "
                    f"{dec(amount)} {expenses.currency}",
                    amount,
                    expenses.currency,
                    "",
                )
            )
    limit = parts[0][0] if len(parts) == 1 else "max(" + ", ".join(p[0] for p in parts) + ")"
    if capital is None:
        return _result(rule, ctx, "not_evaluated", f"{key} not disclosed", None, limit)
    shortfalls: list[str] = []
    unknown: list[str] = []
    used: list[FxRate] = []
    for label, amount, ccy, missing in parts:
        if ccy is None:
            unknown.append(missing)
        elif ccy == capital.currency:
            if capital.amount < amount:
                shortfalls.append(f"{label} (short by {dec(amount - capital.amount)} {ccy})")
        else:
            short, why = _compare_fx(capital, amount, ccy, ctx, used)
            if why is not None:
                unknown.append(f"{label}: {why}")
            elif short is not None:
                shortfalls.append(f"{label} (short by {short})")
    rates = " at " + "; ".join(r.describe() for r in used) if used else ""
    fx = tuple(r.to_json() for r in used)
    if shortfalls:
        return _result(
            rule,
            ctx,
            "fail",
            f"{key} {capital} below " + "; ".join(shortfalls) + rates,
            str(capital),
            limit,
            fx,
        )
    if unknown:
        return _result(
            rule,
            ctx,
            "not_evaluated",
            f"{key} {capital} cannot be compared: " + "; ".join(unknown),
            str(capital),
            limit,
            fx,
        )
    return _result(
        rule, ctx, "pass", f"{key} {capital} meets {limit}{rates}", str(capital), limit, fx
    )


def _compare_fx(
    capital: Money, amount: Decimal, ccy: str, ctx: Context, used: list[FxRate]
) -> tuple[str | None, str | None]:
    """Compare ``capital`` with ``amount`` in ``ccy`` through the policy's rate.

    Exact: the side in the rate's base currency is multiplied by the rate, nothing is divided.

    Returns:
        ``(shortfall text or None, None)`` when compared (the rate is added to ``used``), or
        ``(None, why not)``.
    """
    found = find_rate(ctx.fx_rates, capital.currency, ccy)
    if found is None:
        for pair in (f"{capital.currency}/{ccy}", f"{ccy}/{capital.currency}"):
            if pair in ctx.fx_unusable:
                return None, (
                    f"in {ccy}, capital disclosed in {capital.currency}; the policy's "
                    f"{ctx.fx_unusable[pair]}"
                )
        return None, (
            f"in {ccy}, capital disclosed in {capital.currency}, and the policy gives no "
            f"{capital.currency}/{ccy} rate ([fx])"
        )
    rate, inverse = found
    problem = rate_problem(rate, ctx.as_of)
    if problem is not None:
        return None, f"in {ccy}, capital disclosed in {capital.currency}; {problem}"
    if rate not in used:  # one record per rate, however many parts it converts
        used.append(rate)
    if not inverse:  # 1 capital currency = rate ccy: capital in ccy
        have, need, unit = capital.amount * rate.rate, amount, ccy
    else:  # 1 ccy = rate capital currency: the floor in the capital's currency
        have, need, unit = capital.amount, amount * rate.rate, capital.currency
    # the product carries the rate's decimals: shown without trailing zeros (0.010 -> 0.01)
    return (f"{dec((need - have).normalize())} {unit}" if have < need else None), None


def disclosure_flags(rule: Rule, ctx: Context) -> RuleResult:
    """Every listed disclosure flag is true."""
    flags: tuple[str, ...] = rule.params["flags"]
    values = {f: ctx.disclosures.flag(f) for f in flags}
    false = [f for f, v in values.items() if v is False]
    missing = [f for f, v in values.items() if v is None]
    true = len(flags) - len(false) - len(missing)
    measured = f"{true} of {len(flags)} true" + (
        f", {len(missing)} not disclosed" if missing else ""
    )
    limit = f"all {len(flags)} true"
    if false:
        return _result(
            rule, ctx, "fail", "disclosed as not done: " + ", ".join(false), measured, limit
        )
    if missing:
        return _result(
            rule, ctx, "not_evaluated", "not disclosed: " + ", ".join(missing), measured, limit
        )
    return _result(rule, ctx, "pass", "all disclosed as done", measured, limit)


def max_redemption_days(rule: Rule, ctx: Context) -> RuleResult:
    """Disclosed redemption time within ``max_days`` business days."""
    limit_days: int = rule.params["max_days"]
    days = ctx.disclosures.redemption_days
    limit = f"{limit_days} business day(s)"
    if days is None:
        return _result(rule, ctx, "not_evaluated", "redemption_days not disclosed", None, limit)
    ok = days <= limit_days
    return _result(
        rule,
        ctx,
        "pass" if ok else "fail",
        f"redemption within {days} business day(s); limit {limit}",
        f"{days} business day(s)",
        limit,
    )


def unconfirmed(rule: Rule, ctx: Context) -> RuleResult:
    """A requirement whose figure could not be confirmed: listed, never evaluated."""
    return _result(rule, ctx, "not_evaluated", rule.params["reason"], None, None)


KINDS: dict[str, Callable[[Rule, Context], RuleResult]] = {
    "token_currency": token_currency,
    "same_currency": same_currency,
    "eligible_coverage": eligible_coverage,
    "deposit_floor": deposit_floor,
    "capital_threshold": capital_threshold,
    "disclosure_flags": disclosure_flags,
    "max_redemption_days": max_redemption_days,
    "class_cap": class_cap,
    "average_maturity": average_maturity,
    "tier_gate": tier_gate,
    "tier_floor": tier_floor,
    "supply_cap": supply_cap,
    "stressed_coverage": stressed_coverage,
    "disclosure_deduction": disclosure_deduction,
    "regulator_flags": regulator_flags,
    "unconfirmed": unconfirmed,
}
