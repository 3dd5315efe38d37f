"""Which holdings a pack deems eligible, and why the others are not.

A holding counts toward ``E`` when it is in the token currency and meets one row of the pack's
eligibility table (see :class:`~verifier.rules.pack.EligibleAsset`). Every ineligible holding
gets the reasons that decided it, in words a reviewer can check: class not allowed, maturity
N days over the limit, collateral short by X, currency mismatch.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal

from verifier.model.holdings import Holding
from verifier.model.numbers import major
from verifier.rules.calendar import (
    add_months,
    days_between,
    maturity_date,
    maturity_days,
    maturity_text,
)
from verifier.rules.pack import EligibleAsset, Pack
from verifier.rules.ratings import at_least, unrated_reason

#: The euro area (Bulgaria from 2026-01-01). A holding's "home" sovereign for a currency.
EURO_AREA: tuple[str, ...] = (
    "AT", "BE", "BG", "CY", "DE", "EE", "ES", "FI", "FR", "GR", "HR",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PT", "SI", "SK",
)  # fmt: skip

#: Country (or countries) whose government / central bank issues each currency.
HOME_COUNTRIES: dict[str, tuple[str, ...]] = {
    "USD": ("US",),
    "EUR": EURO_AREA,
    "HKD": ("HK",),
    "SGD": ("SG",),
    "GBP": ("GB",),
    "JPY": ("JP",),
    "CHF": ("CH",),
    "AUD": ("AU",),
    "CAD": ("CA",),
    "CNY": ("CN",),
    "SEK": ("SE",),
}


@dataclass(frozen=True, slots=True)
class Ineligible:
    """A holding a pack does not count toward ``E``, with the reasons."""

    holding_id: str
    asset_class: str
    currency: str
    amount: Decimal
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        """JSON form (amount as a decimal string)."""
        return {
            "holding_id": self.holding_id,
            "asset_class": self.asset_class,
            "currency": self.currency,
            "amount": f"{self.amount:f}",
            "reasons": list(self.reasons),
        }


def _rating_ok(holding: Holding, floor: str) -> bool:
    return at_least(holding.rating, floor)


def _rating_text(holding: Holding) -> str:
    """The holding's rating as a reason shows it: "none", or why it is read as unrated."""
    why = unrated_reason(holding.rating)
    if why is not None:
        return f"none ({why})"
    return holding.rating or "none"


def _row_reasons(
    holding: Holding, row: EligibleAsset, pack: Pack, *, currency: str, as_of: _dt.date
) -> list[str]:
    """Reasons ``holding`` fails ``row`` (empty list: it meets every condition)."""
    reasons: list[str] = []
    if row.countries is not None and holding.country not in row.countries:
        reasons.append(
            f"obligor country {holding.country or 'none'} not in {', '.join(row.countries)}"
        )
    if row.home_country and holding.country not in HOME_COUNTRIES.get(currency, ()):
        reasons.append(
            f"obligor country {holding.country or 'none'} is not the {currency} issuing state"
        )
    needs_maturity = row.max_days is not None or row.within_months is not None or row.overnight
    due = maturity_date(holding.maturity)
    if needs_maturity:
        if due is None:
            reasons.append("no maturity date, which eligibility needs")
        elif due >= as_of:  # a matured holding is refused for every row in assess()
            days = maturity_days(holding.maturity, as_of)
            if row.max_days is not None and days > row.max_days:
                reasons.append(
                    f"maturity {days} days > limit {row.max_days} days "
                    f"(over by {days - row.max_days})"
                )
            if row.within_months is not None:
                limit = add_months(as_of, row.within_months)
                if due > limit:
                    over = days - days_between(as_of, limit)
                    reasons.append(
                        f"maturity {maturity_text(holding.maturity)} after {limit.isoformat()} "
                        f"({row.within_months} calendar months; over by {over} days)"
                    )
            if row.overnight and days > pack.overnight_max_days:
                reasons.append(
                    f"term {days} days is not overnight (limit {pack.overnight_max_days} days)"
                )
    if row.min_rating is not None and not _rating_ok(holding, row.min_rating):
        reasons.append(f"rating {_rating_text(holding)} below {row.min_rating}")
    if row.home_country_or_min_rating is not None:
        home = HOME_COUNTRIES.get(currency, ())
        floor = row.home_country_or_min_rating
        if holding.country not in home and not _rating_ok(holding, floor):
            reasons.append(
                f"obligor {holding.country or 'none'} is not the {currency} issuing state "
                f"and rating {_rating_text(holding)} is below {floor}"
            )
    if row.collateral is not None:
        if holding.collateral not in row.collateral:
            reasons.append(
                f"collateral {holding.collateral or 'none'} not accepted "
                f"(accepted: {', '.join(row.collateral)})"
            )
        if holding.collateral_value < holding.amount:
            short = major(holding.amount - holding.collateral_value, holding.decimals)
            reasons.append(f"collateral short by {short:f} {holding.currency}")
    return reasons


def matured(holding: Holding, as_of: _dt.date) -> str | None:
    """Why ``holding`` no longer counts in any pack: its maturity date is before ``as_of``.

    Args:
        holding: the holding (maturity 0 means none: never matured).
        as_of: the reserve date ``D``.

    Returns:
        The reason ("matured on YYYY-MM-DD, before as_of YYYY-MM-DD"), or ``None``.
    """
    due = maturity_date(holding.maturity)
    if due is None or due >= as_of:
        return None
    return f"matured on {due.isoformat()}, before as_of {as_of.isoformat()}"


@dataclass(frozen=True, slots=True)
class Judgement:
    """How a pack reads one holding: eligible or not (with reasons), and its row's tier.

    ``tier`` is the tier of the first row (in file order) whose conditions the holding meets,
    whether or not that tier's gate is open, so a rule can tell that such assets are *held*;
    ``None`` for an untiered row, a holding in another currency, or one no row admits.
    """

    eligible: bool
    reasons: tuple[str, ...]
    tier: str | None = None


def judge(
    holding: Holding,
    pack: Pack,
    *,
    currency: str,
    as_of: _dt.date,
    closed: Mapping[str, str] | None = None,
) -> Judgement:
    """Whether ``pack`` counts ``holding`` toward ``E``, and if not, why.

    The rows for the holding's class are tried in file order; the first whose conditions
    are all met decides (its tier). A row of a tier named in ``closed`` (a gate the policy
    has not opened) is passed over with the reason, and the next row is tried.

    Args:
        holding: the holding.
        pack: the rule pack.
        currency: the token currency.
        as_of: the reserve date ``D``.
        closed: tier -> the policy flag that would open it, for each closed gate.

    Returns:
        The :class:`Judgement`. A short-term or unknown rating leaves the holding unrated
        (RULES.md): it fails a rating floor with that reason and never raises.
    """
    closed = closed or {}
    reasons: list[str] = []
    same_currency = holding.currency == currency
    if not same_currency:
        reasons.append(f"currency mismatch: {holding.currency}, token currency {currency}")
    reason = matured(holding, as_of)
    if reason is not None:
        # RULES.md "Matured holdings": ineligible in every pack and class, whatever the rows.
        reasons.append(reason)
        return Judgement(False, tuple(reasons))
    rows = pack.assets_for(holding.asset_class)
    if not rows:
        reasons.append(f"class {holding.asset_class} not allowed")
        return Judgement(False, tuple(reasons))
    per_row: list[list[str]] = []
    gated: list[str] = []
    gated_tier: str | None = None
    for row in rows:
        row_reasons = _row_reasons(holding, row, pack, currency=currency, as_of=as_of)
        if row_reasons:
            per_row.append(row_reasons)
            continue
        if row.tier is not None and row.tier in closed:
            gated.append(
                f"{row.tier}-tier asset: counts only when the policy records "
                f"{closed[row.tier]} (pack_options.{pack.name}.flags)"
            )
            gated_tier = gated_tier or row.tier
            continue
        tier = row.tier if same_currency else None
        return Judgement(not reasons, tuple(reasons), tier)
    if gated:
        reasons.extend(gated)
    elif len(per_row) == 1:
        reasons.extend(per_row[0])
    else:
        reasons.append(" or ".join("; ".join(r) for r in per_row))
    return Judgement(False, tuple(reasons), gated_tier if same_currency else None)


#: Distinct holding shapes :func:`judge_all` remembers per pack (hostile input cannot grow it).
_JUDGED_MAX = 16384


def judge_all(
    holdings: Iterable[Holding],
    pack: Pack,
    *,
    currency: str,
    as_of: _dt.date,
    closed: Mapping[str, str] | None = None,
) -> Iterator[Judgement]:
    """:func:`judge` of each holding, in order, judging each distinct shape once.

    A judgement reads only the fields in :func:`judgement_key` (never the id, the salt or the
    counterparty; the amount, collateral value and decimals only through the collateral
    shortfall, and that only for a class that has a row with a collateral condition), so
    holdings with the same key get the same judgement. Tests compare it with :func:`judge`.
    """
    seen: dict[tuple[object, ...], Judgement] = {}
    reads_short: dict[str, bool] = {}  # class -> whether a row of it has a collateral condition
    for h in holdings:
        short = reads_short.get(h.asset_class)
        if short is None:
            rows = pack.assets_for(h.asset_class)
            short = reads_short[h.asset_class] = any(r.collateral is not None for r in rows)
        key = judgement_key(h, short)
        j = seen.get(key)
        if j is None:
            j = judge(h, pack, currency=currency, as_of=as_of, closed=closed)
            if len(seen) < _JUDGED_MAX:
                seen[key] = j
        yield j


def judgement_key(h: Holding, collateral_condition: bool) -> tuple[object, ...]:
    """Every field of ``h`` that :func:`judge` reads: currency, class, maturity, country,
    rating, collateral and, where a row of the class has a ``collateral`` condition
    (``collateral_condition``), the decimals and the collateral shortfall (0: none)."""
    key: tuple[object, ...] = (
        h.currency,
        h.asset_class,
        h.maturity,
        h.country,
        h.rating,
        h.collateral,
    )
    if collateral_condition:
        short = h.amount - h.collateral_value if h.collateral_value < h.amount else 0
        key += (h.decimals, short)
    return key


def assess(
    holding: Holding, pack: Pack, *, currency: str, as_of: _dt.date
) -> tuple[bool, tuple[str, ...]]:
    """Whether ``pack`` counts ``holding`` toward ``E`` (every gate open), and if not, why.

    Args:
        holding: the holding.
        pack: the rule pack.
        currency: the token currency.
        as_of: the reserve date ``D``.

    Returns:
        ``(eligible, reasons)``; ``reasons`` is empty when eligible.
    """
    j = judge(holding, pack, currency=currency, as_of=as_of)
    return (j.eligible, j.reasons)
