"""Decimal strings and exact arithmetic: one parser and one context for every amount.

Every decimal string porv reads (policy, disclosures, holdings CSV, bundle, command-line
options) goes through :func:`parse_decimal`: plain digits with an optional fraction, a sign only
where the caller allows one, no exponent, no whitespace, no NaN or Infinity, and at most
:data:`MAX_DIGITS` digits. Anything else is a typed :class:`~verifier.errors.SchemaError`
(exit 2) naming the file and field, never an unbounded Decimal.

Decisions (coverage, eligible totals, floors) are computed under :func:`exact`, a context wide
enough for any uint256 amount at any uint8 scale, that raises instead of rounding. Numbers
shown to users may be rounded for display (:func:`display_quantize`), never the decision.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    Rounded,
    Underflow,
    localcontext,
)

from verifier.errors import Location, SchemaError

#: The largest uint64 (times, sequence numbers); here so ``porv attest --help`` shows it light.
UINT64_MAX = 2**64 - 1

#: Cap on the digits (integer and fractional together) of any decimal string: the largest
#: uint256, the widest amount a leaf or a chain can carry, has 78 digits; nothing longer is a
#: real amount, and a cap keeps hostile inputs from costing unbounded memory or time.
MAX_DIGITS = 78

#: Precision of :func:`exact`. A uint256 amount (78 digits) at up to 255 decimals (uint8)
#: spans 333 digits; sums of millions of holdings add 7 more, and a product with a capped
#: factor (MAX_DIGITS) stays under 420. 1000 leaves room; Inexact and Rounded are trapped, so
#: a result that would ever need more raises instead of being rounded.
EXACT_PREC = 1000

#: The exponent range of :func:`exact`: far beyond any value built from the inputs above.
_EXACT_EMAX = 10_000

_EXACT = Context(
    prec=EXACT_PREC,
    rounding=ROUND_HALF_EVEN,
    Emax=_EXACT_EMAX,
    Emin=-_EXACT_EMAX,
    traps=[InvalidOperation, DivisionByZero, Overflow, Underflow, Inexact, Rounded],
)

_PLAIN_RE = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")


def plain_decimal(text: str, *, signed: bool = False, max_digits: int = MAX_DIGITS) -> Decimal:
    """Parse a plain decimal string exactly, or raise ``ValueError`` saying why.

    Args:
        text: the string, e.g. ``"1250000.50"``.
        signed: whether a leading ``-`` is allowed (only where negatives mean something).
        max_digits: cap on the total number of digits.

    Returns:
        The exact value.

    Raises:
        ValueError: not plain digits (exponent, whitespace, sign, NaN, Infinity, ``_``,
            non-ASCII digits), or more than ``max_digits`` digits.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected a decimal string, found {type(text).__name__}")
    # Check the length before the regex or Decimal see a hostile megabyte.
    if len(text) > max_digits + 2:
        raise ValueError(
            f"decimal string of {len(text)} characters is longer than the cap of "
            f"{max_digits} digits"
        )
    m = _PLAIN_RE.fullmatch(text)
    if m is None:
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise ValueError(
            f"{shown!r} is not a plain decimal number (digits with an optional '.' fraction; "
            "no exponent, spaces or signs" + (" other than a leading '-'" if signed else "") + ")"
        )
    sign, whole, frac = m.group(1), m.group(2), m.group(3) or ""
    if sign and not signed:
        raise ValueError(f"{text!r} is negative; a non-negative amount is expected")
    if len(whole) + len(frac) > max_digits:
        raise ValueError(f"{text!r} has more than {max_digits} digits")
    return Decimal(text)


def parse_decimal(
    value: object,
    *,
    field: str,
    source: str | None = None,
    signed: bool = False,
    max_digits: int = MAX_DIGITS,
) -> Decimal:
    """A decimal string from an input, or a :class:`SchemaError` naming where it was read.

    Args:
        value: the raw value (anything but a plain decimal ``str`` is refused).
        field: the dotted field name, for the error.
        source: the file, for the error.
        signed: whether a leading ``-`` is allowed.
        max_digits: cap on the total number of digits.

    Returns:
        The exact value.

    Raises:
        SchemaError: exit 2, with the file and field.
    """
    if isinstance(value, bool) or not isinstance(value, str):
        raise SchemaError(
            f"expected a decimal string, found {type(value).__name__}",
            location=Location(file=source, field=field),
        )
    try:
        return plain_decimal(value, signed=signed, max_digits=max_digits)
    except ValueError as exc:
        raise SchemaError(
            str(exc),
            location=Location(file=source, field=field),
            hint=f'write amounts as plain decimal strings such as "1250000.50" '
            f"(at most {max_digits} digits)",
        ) from None


@contextmanager
def exact() -> Iterator[Context]:
    """A local Decimal context in which arithmetic is exact or raises (never rounds).

    Yields:
        The active context.
    """
    with localcontext(_EXACT) as ctx:
        yield ctx


def major(amount: int, decimals: int) -> Decimal:
    """``amount / 10**decimals`` exactly (an integer in minor units as major units).

    Args:
        amount: minor units (any size: the coefficient is kept whole).
        decimals: fractional digits.

    Returns:
        The exact Decimal; independent of the caller's context.
    """
    if -_SCALE_LIMIT < amount < _SCALE_LIMIT and -10_000 <= decimals <= 10_000:  # 3x faster
        return Decimal(amount).scaleb(-decimals, _SCALE)
    sign, digits, _ = Decimal(amount).as_tuple()
    return Decimal((sign, digits, -decimals))


#: :func:`major`'s context for amounts of fewer than 100 digits (uint256 has 78) and exponents
#: within ±10,000: ``scaleb`` only moves the exponent, and a coefficient within the precision
#: is never rounded (trapped if it ever were).
_SCALE = Context(prec=100, Emin=-999999, Emax=999999, traps=[Inexact, Rounded])
_SCALE_LIMIT = 10**100


def format_major(amount: int, decimals: int, *, grouping: bool = False) -> str:
    """Minor units as a plain decimal in major units, every fractional digit kept.

    ``format_major(123450, 2) == "1234.50"``; ``grouping`` adds thousands separators
    (``"1,234.50"``). Never scientific notation, whatever the size.
    """
    return format(major(amount, decimals), ",f" if grouping else "f")


def display_quantize(value: Decimal, quantum: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """``value`` rounded to ``quantum`` for display, with whatever precision that takes.

    Args:
        value: a finite Decimal.
        quantum: e.g. ``Decimal("0.01")``.
        rounding: a :mod:`decimal` rounding mode.

    Returns:
        The rounded value (never used to decide anything).
    """
    digits = max(value.adjusted(), 0) - int(quantum.as_tuple().exponent) + 2
    with localcontext(_display_context(digits, rounding)):
        return value.quantize(quantum)


def display_ratio(part: Decimal, whole: Decimal, quantum: Decimal) -> Decimal:
    """``part / whole`` rounded down to ``quantum`` for display (``whole`` must be non-zero).

    Rounded down at every step, so a ratio shown never exceeds the true one (29.999 % shows
    29.99 %, never 30.00 %).

    Args:
        part: numerator.
        whole: denominator, not zero.
        quantum: e.g. ``Decimal("0.000001")``.

    Returns:
        The truncated quotient.
    """
    places = -int(quantum.as_tuple().exponent)
    digits = max(part.adjusted() - whole.adjusted(), 0) + max(places, 0) + 4
    with localcontext(_display_context(digits, ROUND_DOWN)):
        return (part / whole).quantize(quantum)


def _display_context(digits: int, rounding: str) -> Context:
    """A fresh context with ``digits`` of precision that rounds (display only)."""
    prec = max(digits, 28)
    return Context(
        prec=prec,
        rounding=rounding,
        Emax=max(prec + 10, 999_999),
        Emin=-max(prec + 10, 999_999),
        traps=[InvalidOperation, DivisionByZero, Overflow],
    )


_CANONICAL_UINT = re.compile(r"0|[1-9][0-9]*")


def uint_from_text(text: str, limit: int) -> int | None:
    """Canonical decimal digits (no sign, no leading zero, ASCII) in ``0..limit``, else None.

    The length is checked before ``int()``: Python refuses over 4300 digits with a ValueError
    no caller expects, and anything over :data:`MAX_DIGITS` is out of range for every field.
    """
    if len(text) > MAX_DIGITS or not _CANONICAL_UINT.fullmatch(text):
        return None
    value = int(text)
    return value if value <= limit else None


#: The maturity ladder's buckets: (label, upper bound of the tenor in years, inclusive).
LADDER_BUCKETS: tuple[tuple[str, Decimal], ...] = (
    ("on demand", Decimal(0)),
    ("≤ 1 month", Decimal(1) / 12),
    ("1-3 months", Decimal("0.26")),
    ("3-6 months", Decimal("0.5")),
    ("6-12 months", Decimal(1)),
    ("1-5 years", Decimal(5)),
    ("> 5 years", Decimal("Infinity")),
)


def ladder_bucket(tenor_years: Decimal) -> int:
    """The index in :data:`LADDER_BUCKETS` of the first bucket whose bound holds the tenor."""
    for n, (_, upper) in enumerate(LADDER_BUCKETS):
        if tenor_years <= upper:
            return n
    return len(LADDER_BUCKETS) - 1  # pragma: no cover - the last bound is infinite
