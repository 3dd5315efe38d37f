"""The rule kinds, implemented once; packs choose kinds and set their parameters.

=======================  ===================================================================
kind                     passes when
=======================  ===================================================================
``token_currency``       the token currency is one of ``currencies``
``same_currency``        every holding is in the token currency (or, with ``approvals``, in a
                         currency the regulator approved)
``eligible_coverage``    ``E >= S × ratio`` (× ``min_coverage`` with ``apply_min_coverage``)
``deposit_floor``        Σ holdings of ``classes`` in the token currency ``>= share × S``
``capital_threshold``    disclosed capital ``>= max(floor, reserve_share × reserve,
                         expenses_share × annual operating expenses)``
``disclosure_flags``     every listed disclosure flag is true
``max_redemption_days``  disclosed redemption time ``<= max_days`` business days
=======================  ===================================================================

A rule whose data is absent is ``not_evaluated`` with the reason and does not decide the
verdict. Capital floors in another currency than the disclosed capital are compared only
when the currencies match: porv has no FX rates offline, and a guessed rate would be a
silent fix. A requirement that *can* be compared and is not met still fails.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from verifier.model.disclosures import Disclosures
from verifier.model.holdings import Holding
from verifier.model.numbers import display_ratio, major
from verifier.rules.eligibility import matured
from verifier.rules.pack import Pack, Rule
from verifier.rules.report import RuleResult, Status, dec


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
    reserve_total: Decimal


def pct(part: Decimal, whole: Decimal) -> str:
    """``part/whole`` as a percentage with two decimals, rounded down (29.999 % shows 29.99)."""
    if whole == 0:
        return "n/a"
    return f"{display_ratio(part * 100, whole, Decimal('0.01')):f} %"


def _result(
    rule: Rule,
    ctx: Context,
    status: Status,
    message: str,
    measured: str | None = None,
    limit: str | None = None,
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
    """Σ deposits in the token currency ``>= share × S``."""
    classes: tuple[str, ...] = rule.params["classes"]
    share: Decimal = rule.params["share"]
    deposits = sum(
        (
            major(h.amount, h.decimals)
            for h in ctx.holdings
            if h.asset_class in classes
            and h.currency == ctx.currency
            and matured(h, ctx.as_of) is None  # a repaid deposit is no longer a deposit
        ),
        Decimal(0),
    )
    required = ctx.supply * share
    ok = deposits >= required
    message = (
        f"bank deposits {dec(deposits)} {ctx.currency} = {pct(deposits, ctx.supply)} of supply; "
        f"floor {dec(share * 100)} % = {dec(required)} {ctx.currency}"
    )
    if not ok:
        message += f" (short by {dec(required - deposits)} {ctx.currency})"
    return _result(rule, ctx, "pass" if ok else "fail", message, dec(deposits), dec(required))


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
        amount = reserve_share * ctx.reserve_total
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
    for label, amount, ccy, missing in parts:
        if ccy is None:
            unknown.append(missing)
        elif ccy != capital.currency:
            unknown.append(
                f"{label}: in {ccy}, capital disclosed in {capital.currency} (no FX rates offline)"
            )
        elif capital.amount < amount:
            shortfalls.append(f"{label} (short by {dec(amount - capital.amount)} {ccy})")
    if shortfalls:
        return _result(
            rule,
            ctx,
            "fail",
            f"{key} {capital} below " + "; ".join(shortfalls),
            str(capital),
            limit,
        )
    if unknown:
        return _result(
            rule,
            ctx,
            "not_evaluated",
            f"{key} {capital} cannot be compared: " + "; ".join(unknown),
            str(capital),
            limit,
        )
    return _result(rule, ctx, "pass", f"{key} {capital} meets {limit}", str(capital), limit)


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


KINDS: dict[str, Callable[[Rule, Context], RuleResult]] = {
    "token_currency": token_currency,
    "same_currency": same_currency,
    "eligible_coverage": eligible_coverage,
    "deposit_floor": deposit_floor,
    "capital_threshold": capital_threshold,
    "disclosure_flags": disclosure_flags,
    "max_redemption_days": max_redemption_days,
}
