"""FX rates for comparing a capital floor with capital disclosed in another currency (pure).

A rate comes from the policy only (DESIGN §1: only the policy adds trust), either pinned in
``[fx]`` as a dated decimal string, or named there as an AggregatorV3 feed that the
orchestrator reads at the chain's pinned block. An issuer's disclosures never supply a rate.

``1 base = rate quote``: ``USD/HKD = 7.80`` reads "one US dollar is 7.80 Hong Kong dollars".
One direction is pinned per pair; the other is used by multiplying the other side, so a
comparison never divides and stays exact (:func:`verifier.model.numbers.exact`).

A rate applies to a reserve dated ``as_of`` only when it is dated on or before that day and at
most :data:`MAX_RATE_AGE_DAYS` days before it (:func:`rate_problem`); otherwise the floor stays
``not_evaluated`` with that reason, exactly as without a rate.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from verifier.model.numbers import plain_decimal
from verifier.model.validate import (
    InvalidValueError,
    checksummed_address,
    integer,
    is_currency_code,
    iso_date,
    shown,
    string,
)

#: Oldest rate used, in days before the reserve's ``as_of`` date. A week covers a weekend and
#: a public holiday around it (FX fixings are published on business days) without letting a
#: policy pinned once keep deciding for months.
MAX_RATE_AGE_DAYS = 7

#: Digits a pinned rate may have (integer and fraction together): ample for any real rate.
MAX_RATE_DIGITS = 30

#: Most ``decimals()`` an FX feed may report (Chainlink's FX feeds use 8 or 18).
MAX_FEED_DECIMALS = 36


def parse_pair(text: Any) -> tuple[str, str]:
    """``"USD/HKD"`` -> ``("USD", "HKD")``: two different ISO 4217 codes around a ``/``.

    Raises:
        InvalidValueError: any other shape.
    """
    base, sep, quote = text.partition("/") if isinstance(text, str) else ("", "", "")
    if not sep or not is_currency_code(base) or not is_currency_code(quote):
        raise InvalidValueError(
            f"expected a currency pair like USD/HKD, found {shown(text)}",
            hint="two ISO 4217 codes in capitals around a '/': 1 BASE = rate QUOTE",
        )
    if base == quote:
        raise InvalidValueError(f"pair {text} names the same currency twice")
    return base, quote


@dataclass(frozen=True, slots=True)
class FxRate:
    """``1 base = rate quote``, known on ``date``.

    ``source`` is ``"policy"`` (pinned in ``[fx]``) or ``"feed"`` (an AggregatorV3 feed the
    policy names, read at ``block_number`` of ``chain_id``; ``updated_at`` is its round's time).
    """

    base: str
    quote: str
    rate: Decimal
    date: _dt.date
    source: str = "policy"
    chain_id: int | None = None
    address: str | None = None
    block_number: int | None = None
    updated_at: int | None = None

    @property
    def pair(self) -> str:
        """``BASE/QUOTE``."""
        return f"{self.base}/{self.quote}"

    def to_json(self) -> dict[str, Any]:
        """JSON form (the rate as a decimal string: exact)."""
        out: dict[str, Any] = {
            "pair": self.pair,
            "rate": f"{self.rate:f}",
            "date": self.date.isoformat(),
            "source": self.source,
        }
        if self.source == "feed":
            out.update(
                chain_id=self.chain_id,
                address=self.address,
                block_number=self.block_number,
                updated_at=self.updated_at,
            )
        return out

    @classmethod
    def from_json(cls, doc: Any) -> FxRate:
        """Inverse of :meth:`to_json`, strict (a result's ``fx`` section, read back).

        Raises:
            InvalidValueError, KeyError, TypeError: a malformed object.
        """
        if not isinstance(doc, dict):
            raise TypeError("an FX rate must be an object")
        known = {"pair", "rate", "date", "source"}
        if doc.get("source") == "feed":
            known |= {"chain_id", "address", "block_number", "updated_at"}
        elif doc.get("source") != "policy":
            raise InvalidValueError(f"unknown FX rate source {shown(doc.get('source'))}")
        if set(doc) != known:
            raise InvalidValueError(f"FX rate keys {sorted(doc)}, expected {sorted(known)}")
        base, quote = parse_pair(doc["pair"])
        try:
            rate = plain_decimal(string(doc["rate"]), max_digits=2 * MAX_FEED_DECIMALS)
        except ValueError as exc:
            raise InvalidValueError(str(exc)) from None
        if rate <= 0:
            raise InvalidValueError(f"FX rate {doc['rate']} is not positive")
        out = cls(base, quote, rate, iso_date(doc["date"]), doc["source"])
        if out.source == "feed":
            out = cls(
                base,
                quote,
                rate,
                out.date,
                "feed",
                chain_id=integer(doc["chain_id"], lo=1),
                address=checksummed_address(doc["address"]),
                block_number=integer(doc["block_number"], lo=0),
                updated_at=integer(doc["updated_at"], lo=1),
            )
        return out

    def describe(self) -> str:
        """``1 USD = 7.80 HKD (policy, 2026-11-30)`` for messages."""
        where = (
            "policy"
            if self.source == "policy"
            else f"feed {self.chain_id}:{self.address} at block {self.block_number}"
        )
        return f"1 {self.base} = {self.rate:f} {self.quote} ({where}, {self.date.isoformat()})"


def find_rate(rates: Sequence[FxRate], have: str, want: str) -> tuple[FxRate, bool] | None:
    """The rate linking ``have`` and ``want``, and whether it is pinned the other way round.

    Returns:
        ``(rate, False)`` for ``have/want``, ``(rate, True)`` for ``want/have``, else None.
    """
    for r in rates:
        if (r.base, r.quote) == (have, want):
            return r, False
    for r in rates:
        if (r.base, r.quote) == (want, have):
            return r, True
    return None


def rate_problem(rate: FxRate, as_of: _dt.date) -> str | None:
    """Why ``rate`` cannot be used for a reserve dated ``as_of`` (None: it can)."""
    if rate.date > as_of:
        return (
            f"the {rate.pair} rate is dated {rate.date.isoformat()}, after as_of "
            f"{as_of.isoformat()}"
        )
    age = (as_of - rate.date).days
    if age > MAX_RATE_AGE_DAYS:
        return (
            f"the {rate.pair} rate is dated {rate.date.isoformat()}, {age} days before as_of "
            f"{as_of.isoformat()} (at most {MAX_RATE_AGE_DAYS})"
        )
    return None
