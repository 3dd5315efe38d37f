"""The issuer disclosures rules may use, and per-pack options: a small, validated set.

Disclosures come from the bundle's ``disclosures`` object (or ``rules check --disclosures``).
Keys (anything else is a :class:`~verifier.errors.SchemaError`):

==========================================  =================================================
key                                         value
==========================================  =================================================
``paid_up_capital``                         ``{"amount": "25000000", "currency": "HKD"}``
``own_funds``                               same shape (MiCA own funds)
``base_capital``                            same shape (MAS base capital)
``annual_operating_expenses``               same shape (MAS: 50 % of it is a capital floor)
``repo_borrowing_outstanding``              same shape: cash borrowed under repos, deducted
                                            from E by ``disclosure_deduction`` (SCO60)
``max_daily_redemption_share_180d``         decimal share of the pool, e.g. ``"0.031"``: the
                                            highest daily redemption over the past 180
                                            redemption days (FCA core-asset floor)
``redemption_days``                         integer business days to redeem at par
``monthly_composition_published``           boolean (GENIUS §4(a)(3))
``examined_by_registered_accounting_firm``  boolean (GENIUS §4(a)(3))
``backing_assets_published_quarterly``      boolean (FCA PS26/10 as reported)
``annual_independent_review``               boolean (FCA PS26/10 as reported)
``approved_currencies``                     ISO 4217 codes the issuer says were approved
==========================================  =================================================

Amounts are decimal strings or integers in major units; JSON floats are refused (binary
fractions are not exact amounts). ``approved_currencies`` is reported as the issuer's claim and
grants nothing: an approval counts only from the policy (DESIGN §1, "Only the policy adds
trust"). Options are ``{pack: {key: value}}``: ``approved_currencies`` (the policy's record of
an HKMA approval), ``flags`` (regulator-side records the policy holds, e.g. the FCA
expanded-asset notification or the UAE Art 22(3) election: names of flags that are true) and
``parameters`` (values for a pack's documented parameters, e.g. a deposit rating floor).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from verifier.errors import Location, SchemaError
from verifier.model import validate
from verifier.model.numbers import MAX_DIGITS, parse_decimal
from verifier.model.validate import is_currency_code

AMOUNT_KEYS: tuple[str, ...] = (
    "paid_up_capital",
    "own_funds",
    "base_capital",
    "annual_operating_expenses",
    "repo_borrowing_outstanding",
)
#: Disclosed shares (decimal strings between 0 and 1).
SHARE_KEYS: tuple[str, ...] = ("max_daily_redemption_share_180d",)
FLAG_KEYS: tuple[str, ...] = (
    "monthly_composition_published",
    "examined_by_registered_accounting_firm",
    "backing_assets_published_quarterly",
    "annual_independent_review",
)
DISCLOSURE_KEYS: tuple[str, ...] = (
    *AMOUNT_KEYS,
    *SHARE_KEYS,
    "redemption_days",
    *FLAG_KEYS,
    "approved_currencies",
)
OPTION_KEYS: tuple[str, ...] = ("approved_currencies", "flags", "parameters")
_FLAG_RE = re.compile(r"^[a-z0-9][a-z0-9_]*\Z")


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in major units of ``currency``."""

    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.amount:f} {self.currency}"


@dataclass(frozen=True, slots=True)
class Disclosures:
    """Validated disclosures; ``None`` means "not disclosed"."""

    paid_up_capital: Money | None = None
    own_funds: Money | None = None
    base_capital: Money | None = None
    annual_operating_expenses: Money | None = None
    repo_borrowing_outstanding: Money | None = None
    max_daily_redemption_share_180d: Decimal | None = None
    redemption_days: int | None = None
    monthly_composition_published: bool | None = None
    examined_by_registered_accounting_firm: bool | None = None
    backing_assets_published_quarterly: bool | None = None
    annual_independent_review: bool | None = None
    approved_currencies: tuple[str, ...] = ()

    def money(self, key: str) -> Money | None:
        """The disclosed amount under ``key`` (one of :data:`AMOUNT_KEYS`)."""
        value = getattr(self, key)
        return value if isinstance(value, Money) else None

    def share(self, key: str) -> Decimal | None:
        """The disclosed share under ``key`` (one of :data:`SHARE_KEYS`)."""
        value = getattr(self, key, None)
        return value if isinstance(value, Decimal) else None

    def flag(self, key: str) -> bool | None:
        """The disclosed boolean under ``key`` (one of :data:`FLAG_KEYS`)."""
        value = getattr(self, key, None)
        return value if isinstance(value, bool) else None


def _fail(field: str, message: str, source: str | None) -> SchemaError:
    return SchemaError(
        message,
        location=Location(file=source, field=field),
        hint="disclosure keys: " + ", ".join(DISCLOSURE_KEYS),
    )


def parse_amount(value: Any, field: str, source: str | None = None) -> Decimal:
    """A non-negative decimal amount from a JSON string or integer.

    Strings go through the one strict parser (:func:`~verifier.model.numbers.parse_decimal`):
    plain digits, no exponent, at most :data:`~verifier.model.numbers.MAX_DIGITS` digits.

    Args:
        value: the JSON value.
        field: dotted field name for errors.
        source: file name for errors.

    Returns:
        The amount.

    Raises:
        SchemaError: for floats, booleans, malformed, negative or over-long amounts.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise _fail(field, f"expected a non-negative amount, found {value}", source)
        if value.bit_length() > MAX_DIGITS * 4 or len(str(value)) > MAX_DIGITS:
            raise _fail(field, f"amount has more than {MAX_DIGITS} digits", source)
        return Decimal(value)
    if isinstance(value, float | Decimal):
        raise _fail(field, "expected a decimal string; JSON numbers with a fraction or exponent "
                    "are binary floats, not exact amounts", source)  # fmt: skip
    if not isinstance(value, str):
        raise _fail(field, f"expected a decimal string, found {type(value).__name__}", source)
    return parse_decimal(value, field=field, source=source)


def _currency(value: Any, field: str, source: str | None) -> str:
    if not isinstance(value, str) or not is_currency_code(value):
        raise _fail(field, f"expected an ISO 4217 code such as 'USD', found {value!r}", source)
    return value


def _currencies(value: Any, field: str, source: str | None) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise _fail(field, "expected a list of ISO 4217 codes", source)
    return tuple(_currency(v, f"{field}[{i}]", source) for i, v in enumerate(value))


def _flags(value: Any, field: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, str) and v and v.replace("_", "a").isalnum() and v == v.lower() for v in value
    ):
        raise SchemaError(
            "expected a list of lower_case flag names", location=Location(field=field)
        )
    return tuple(value)


def _parameters(value: Any, field: str) -> dict[str, str | int]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str)
        and ((isinstance(v, int) and not isinstance(v, bool)) or isinstance(v, str))
        for k, v in value.items()
    ):
        raise SchemaError(
            "expected a table of parameter = string or integer", location=Location(field=field)
        )
    return dict(value)


def parse_disclosures(raw: Mapping[str, Any] | None, source: str | None = None) -> Disclosures:
    """Validate a disclosures mapping.

    Args:
        raw: the bundle's ``disclosures`` object, or ``None``.
        source: file name for error locations.

    Returns:
        The validated :class:`Disclosures`.

    Raises:
        SchemaError: on an unknown key or a value of the wrong shape.
    """
    if raw is None:
        return Disclosures()
    if not isinstance(raw, Mapping):
        raise _fail("disclosures", "expected an object", source)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        field = f"disclosures.{key}"
        if key in AMOUNT_KEYS:
            if not isinstance(value, Mapping) or set(value) != {"amount", "currency"}:
                raise _fail(field, 'expected {"amount": "...", "currency": "XXX"}', source)
            values[key] = Money(
                parse_amount(value["amount"], f"{field}.amount", source),
                _currency(value["currency"], f"{field}.currency", source),
            )
        elif key in SHARE_KEYS:
            share = parse_amount(value, field, source)
            if share > 1:
                raise _fail(field, f"expected a share between 0 and 1, found {share}", source)
            values[key] = share
        elif key == "redemption_days":
            try:
                values[key] = validate.integer(value, lo=0)
            except validate.InvalidValueError:
                raise _fail(
                    field, "expected a non-negative integer (business days)", source
                ) from None
        elif key in FLAG_KEYS:
            try:
                values[key] = validate.boolean(value)
            except validate.InvalidValueError:
                raise _fail(field, "expected true or false", source) from None
        elif key == "approved_currencies":
            values[key] = _currencies(value, field, source)
        else:
            raise _fail(field, f"unknown disclosure key {key!r}", source)
    return Disclosures(**values)


def parse_options(
    raw: Mapping[str, Mapping[str, Any]] | None, known_packs: list[str]
) -> dict[str, dict[str, Any]]:
    """Validate per-pack options.

    Args:
        raw: ``{pack: {key: value}}`` or ``None``.
        known_packs: the shipped pack names.

    Returns:
        A plain validated copy (``approved_currencies`` as a tuple).

    Raises:
        SchemaError: on an unknown pack or option key, or a malformed value.
    """
    out: dict[str, dict[str, Any]] = {}
    if raw is None:
        return out
    if not isinstance(raw, Mapping):
        raise SchemaError("rule options must be an object of {pack: {option: value}}")
    for pack, opts in raw.items():
        if pack not in known_packs:
            raise SchemaError(
                f"options for unknown rule pack {pack!r}",
                location=Location(field=f"options.{pack}"),
            )
        if not isinstance(opts, Mapping):
            raise SchemaError("expected an object", location=Location(field=f"options.{pack}"))
        checked: dict[str, Any] = {}
        for key, value in opts.items():
            if key == "approved_currencies":
                checked[key] = _currencies(value, f"options.{pack}.{key}", None)
            elif key == "flags":
                checked[key] = _flags(value, f"options.{pack}.{key}")
            elif key == "parameters":
                checked[key] = _parameters(value, f"options.{pack}.{key}")
            else:
                raise SchemaError(
                    f"unknown option {key!r}",
                    location=Location(field=f"options.{pack}.{key}"),
                    hint="options: " + ", ".join(OPTION_KEYS),
                )
        out[pack] = checked
    return out
