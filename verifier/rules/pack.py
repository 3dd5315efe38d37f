"""Rule packs: one TOML file per jurisdiction under ``verifier/rules/packs/``, loaded strictly.

A pack is data over a few rule kinds (see :mod:`verifier.rules.kinds`): a change of law is a
change of one file. Loading refuses unknown keys, unknown kinds, unknown asset classes, bad
confidences and duplicate rule ids, so a typo in a pack can never silently weaken a check.
Each loaded pack carries the sha256 of its file bytes; results record it.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from typing import Any, NoReturn

from verifier.errors import Location, RulePackError
from verifier.model import validate
from verifier.model.disclosures import AMOUNT_KEYS, SHARE_KEYS
from verifier.model.holdings import ASSET_CLASSES
from verifier.model.issuer_types import ISSUER_TYPES
from verifier.model.numbers import plain_decimal
from verifier.model.validate import is_currency_code
from verifier.rules.ratings import rating_rank

PACK_FORMAT = "porv.rulepack/1"
CONFIDENCES = ("P", "S", "X")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*\Z")
_FLAG_RE = re.compile(r"^[a-z0-9][a-z0-9_]*\Z")
_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")

#: What a pack is: law in force, a draft (results read "readiness"), or an informational view
#: (never decides ``verified``).
STATUSES = ("in_force", "draft", "informational")
#: Share bases: circulating supply ``S`` or the reserve (the backing pool, in token currency).
BASES = ("supply", "reserve")

#: Bounds of numeric pack fields (and of the parameters substituted into them): a value past
#: them is a typed error (exit 2), never an overflow in date arithmetic or a silent no-op.
MAX_DAYS = 36_500  # a century of days (or business days)
MAX_MONTHS = 1_200  # a century of calendar months
MAX_RATIO = Decimal(100)  # coverage ratios: E >= S × ratio
#: integer fields -> (maximum, unit)
_INT_LIMITS: dict[str, tuple[int, str]] = {
    "max_days": (MAX_DAYS, "days"),
    "within_months": (MAX_MONTHS, "calendar months"),
    "overnight_max_days": (MAX_DAYS, "days"),
}
#: decimal fields -> (maximum, what it is): shares of a base within [0, 1]
_DECIMAL_LIMITS: dict[str, tuple[Decimal, str]] = {
    "share": (Decimal(1), "share"),
    "reserve_share": (Decimal(1), "share"),
    "expenses_share": (Decimal(1), "share"),
    "ratio": (MAX_RATIO, "ratio"),
}

#: Parameters each rule kind accepts (besides id, kind, title, citation, confidence).
KIND_PARAMS: dict[str, frozenset[str]] = {
    "token_currency": frozenset({"currencies"}),
    "same_currency": frozenset({"approvals"}),
    "eligible_coverage": frozenset({"ratio", "apply_min_coverage"}),
    "deposit_floor": frozenset({"classes", "share", "base"}),
    "capital_threshold": frozenset({"disclosure", "floor", "reserve_share", "expenses_share"}),
    "disclosure_flags": frozenset({"flags"}),
    "max_redemption_days": frozenset({"max_days"}),
    "class_cap": frozenset({"classes", "share", "base"}),
    "average_maturity": frozenset({"classes", "max_days", "within_months"}),
    "tier_gate": frozenset({"tier", "flag"}),
    "tier_floor": frozenset({"tier", "share", "disclosure_share", "only_if_tier_present"}),
    "supply_cap": frozenset({"amount"}),
    "stressed_coverage": frozenset({"ratio"}),
    "disclosure_deduction": frozenset({"disclosure"}),
    "regulator_flags": frozenset({"flags", "missing"}),
    "unconfirmed": frozenset({"reason"}),
}

_COMMON_RULE_KEYS = frozenset({"id", "kind", "title", "citation", "confidence"})
_ASSET_KEYS = frozenset(
    {
        "class",
        "citation",
        "confidence",
        "max_days",
        "within_months",
        "overnight",
        "countries",
        "min_rating",
        "home_country_or_min_rating",
        "collateral",
        "tier",
        "home_country",
    }
)
_TOP_KEYS = frozenset(
    {
        "format",
        "name",
        "title",
        "law",
        "confidence",
        "definitions",
        "eligibility",
        "rules",
        "status",
        "effective_from",
        "effective_until",
        "regime",
        "issuer_types",
        "note",
        "parameters",
    }
)
_DEFINITION_KEYS = frozenset({"overnight_max_days", "overnight_citation", "overnight_confidence"})
_ELIGIBILITY_KEYS = frozenset({"citation", "confidence", "note", "assets"})


@dataclass(frozen=True, slots=True)
class EligibleAsset:
    """One row of a pack's eligibility table: an asset class and the conditions it must meet.

    A holding of ``asset_class`` is eligible when it meets every condition that is set.
    ``max_days``/``within_months``/``overnight`` need a maturity; ``collateral`` applies to
    repos (class accepted and ``collateral_value >= amount``; the collateral's own maturity is
    never tested).
    """

    asset_class: str
    citation: str
    confidence: str
    max_days: int | None = None
    within_months: int | None = None
    overnight: bool = False
    countries: tuple[str, ...] | None = None
    min_rating: str | None = None
    home_country_or_min_rating: str | None = None
    collateral: tuple[str, ...] | None = None
    #: the row's tier (e.g. the FCA's "core" / "expanded" backing assets), or ``None``
    tier: str | None = None
    #: obligor must be the token currency's issuing state (government / central bank)
    home_country: bool = False

    def conditions(self) -> list[str]:
        """The conditions as short human-readable phrases (for ``rules show``)."""
        out: list[str] = []
        if self.tier is not None:
            out.append(f"tier {self.tier}")
        if self.countries is not None:
            out.append("obligor country in " + ", ".join(self.countries))
        if self.home_country:
            out.append("obligor is the token currency's issuing state")
        if self.max_days is not None:
            out.append(f"maturity <= {self.max_days} days")
        if self.within_months is not None:
            out.append(f"maturity within {self.within_months} calendar months")
        if self.overnight:
            out.append("overnight")
        if self.min_rating is not None:
            out.append(f"rated {self.min_rating} or better")
        if self.home_country_or_min_rating is not None:
            out.append(
                "issued by the peg currency's government/central bank or rated "
                f"{self.home_country_or_min_rating} or better"
            )
        if self.collateral is not None:
            out.append("collateral (" + ", ".join(self.collateral) + ") worth at least the amount")
        return out


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of a pack: id, kind, parameters, citation and confidence."""

    id: str
    kind: str
    title: str
    citation: str
    confidence: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Pack:
    """A loaded, validated rule pack."""

    name: str
    title: str
    law: str
    confidence: str
    overnight_max_days: int
    overnight_citation: str
    overnight_confidence: str
    eligibility_citation: str
    eligibility_confidence: str
    eligibility_note: str
    assets: tuple[EligibleAsset, ...]
    rules: tuple[Rule, ...]
    sha256: str
    #: ``in_force`` (law), ``draft`` (readiness only) or ``informational`` (never decides)
    status: str = "in_force"
    #: first and last UTC date the pack's text applies (``None``: open-ended)
    effective_from: _dt.date | None = None
    effective_until: _dt.date | None = None
    #: the regime this pack is one version of (``jp-trust-2023`` and ``jp-trust`` share one)
    regime: str = ""
    #: issuer types the pack binds (``None``: any issuer); see ``ISSUER_TYPES``
    issuer_types: tuple[str, ...] | None = None
    note: str = ""
    #: documented parameters and the values this load used
    parameters: tuple[Parameter, ...] = ()

    def assets_for(self, asset_class: str) -> tuple[EligibleAsset, ...]:
        """The eligibility rows for ``asset_class``, in file order (tried in that order)."""
        return tuple(a for a in self.assets if a.asset_class == asset_class)

    def in_force_on(self, day: _dt.date) -> bool:
        """Whether ``day`` falls within ``effective_from``..``effective_until`` (inclusive)."""
        if self.effective_from is not None and day < self.effective_from:
            return False
        return not (self.effective_until is not None and day > self.effective_until)

    @property
    def decides(self) -> bool:
        """Whether the pack's verdict can decide ``verified`` (an informational one never)."""
        return self.status != "informational"

    @property
    def policy_flags(self) -> frozenset[str]:
        """Regulator-side flags the pack reads from the policy (never from disclosures)."""
        out: set[str] = set()
        for rule in self.rules:
            if rule.kind == "tier_gate":
                out.add(rule.params["flag"])
            elif rule.kind == "regulator_flags":
                out.update(rule.params["flags"])
        return frozenset(out)

    @property
    def gates(self) -> Mapping[str, str]:
        """Tier -> the policy flag that opens it (``tier_gate`` rules)."""
        return {r.params["tier"]: r.params["flag"] for r in self.rules if r.kind == "tier_gate"}

    def dates_text(self) -> str:
        """The effective dates as a short text ("from 2026-06-01", "2023-06-01 to …", "-")."""
        start = self.effective_from.isoformat() if self.effective_from else None
        end = self.effective_until.isoformat() if self.effective_until else None
        if start and end:
            return f"{start} to {end}"
        if start:
            return f"from {start}"
        if end:
            return f"until {end}"
        return "-"


def _packs_dir() -> Any:
    return resources.files("verifier.rules").joinpath("packs")


def list_packs() -> list[str]:
    """Names of the rule packs shipped with porv, sorted.

    Returns:
        Pack names such as ``["genius", "hkma", "mas", "mica-emt", "mica-emt-significant"]``.
    """
    names = [
        entry.name[: -len(".toml")]
        for entry in _packs_dir().iterdir()
        if entry.name.endswith(".toml") and _NAME_RE.match(entry.name[: -len(".toml")])
    ]
    return sorted(names)


def load_pack(name: str, params: Mapping[str, Any] | None = None) -> Pack:
    """Load and validate the shipped rule pack ``name``.

    Args:
        name: a pack name from :func:`list_packs`.
        params: values for the pack's declared ``[parameters]`` (e.g. from the policy's
            ``pack_options.<pack>.parameters``); unnamed ones take their default.

    Returns:
        The validated :class:`Pack`, with the sha256 of its file.

    Raises:
        RulePackError: if there is no such pack, or the file is malformed (exit 2).
    """
    if not isinstance(name, str) or not _NAME_RE.match(name) or name not in list_packs():
        raise RulePackError(
            f"unknown rule pack {name!r}",
            hint="known packs: " + ", ".join(list_packs()),
        )
    if params:
        data = _packs_dir().joinpath(f"{name}.toml").read_bytes()
        return parse_pack(data, source=f"{name}.toml", expected_name=name, params=params)
    return _load_cached(name)


@functools.cache
def _load_cached(name: str) -> Pack:
    data = _packs_dir().joinpath(f"{name}.toml").read_bytes()
    return parse_pack(data, source=f"{name}.toml", expected_name=name)


_PARAM_TYPES = ("integer", "rating", "decimal")
_PARAM_KEYS = frozenset({"type", "default", "description", "citation", "confidence"})


@dataclass(frozen=True, slots=True)
class Parameter:
    """A documented pack parameter: where REGIMES.md gives no settled figure.

    ``value`` is what this evaluation used (``None``: unset, the condition is left out);
    ``source`` says where it came from: ``default``, ``policy`` or ``unset``.
    """

    name: str
    type: str
    value: str | int | None
    default: str | int | None
    description: str
    confidence: str
    source: str

    def to_json(self) -> dict[str, object]:
        """JSON form."""
        return {
            "name": self.name,
            "type": self.type,
            "value": self.value,
            "default": self.default,
            "description": self.description,
            "confidence": self.confidence,
            "source": self.source,
        }


def _int_text(value: int) -> str:
    """An integer as messages show it (a huge one by its size, never all its digits)."""
    if abs(value) < 10**30:
        return str(value)
    return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"


def _dollar_fields(doc: Mapping[str, Any]) -> list[tuple[dict[str, Any], str, str, str]]:
    """(table, key, field path, parameter name) for each ``"$name"`` value in rows and rules."""
    elig = doc.get("eligibility")
    tables: list[tuple[str, Any]] = []
    if isinstance(elig, dict) and isinstance(elig.get("assets"), list):
        tables += [(f"eligibility.assets[{i}].", t) for i, t in enumerate(elig["assets"])]
    if isinstance(doc.get("rules"), list):
        tables += [(f"rules[{i}].", t) for i, t in enumerate(doc["rules"])]
    return [
        (table, key, prefix + key, value[1:])
        for prefix, table in tables
        if isinstance(table, dict)
        for key, value in table.items()
        if isinstance(value, str) and value.startswith("$")
    ]


def _param_value(
    v: _Validator, spec: Parameter, value: Any, where: str, *, uses: list[str], pack: str
) -> str | int:
    """A parameter's value, checked against its type and the bound of every field it goes
    into (``uses``, field paths); a value out of range names the pack, parameter and limit."""
    if spec.type == "integer":
        if isinstance(value, str) and value.isascii() and value.isdigit():
            # a string of more digits than any bound is over it: never int() a megabyte
            value = int(value) if len(value) <= 30 else 10**30
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            shown = _int_text(value) if isinstance(value, int) else validate.shown(value)
            v.fail(where, f"expected an integer >= 0, found {shown}")
        limits = [
            (*_INT_LIMITS[u.rsplit(".", 1)[-1]], u)
            for u in uses
            if u.rsplit(".", 1)[-1] in _INT_LIMITS
        ]
        for top, unit, used in limits or [(MAX_DAYS, "days", "no day or month field")]:
            if value > top:
                v.fail(
                    where,
                    f"rule pack {pack!r}: parameter {spec.name!r} = {_int_text(value)} is over "
                    f"its limit of {top} {unit} (used as {used})",
                )
        return value
    if not isinstance(value, str) or not value.strip():
        v.fail(where, f"expected a non-empty string, found {validate.shown(value)}")
    if spec.type == "rating":
        try:
            if rating_rank(value) is None:
                raise ValueError("unrated")
        except ValueError:
            v.fail(where, f"not a long-term rating: {value!r}")
        return value
    try:
        number = plain_decimal(value)
    except ValueError as exc:
        v.fail(where, f"expected a non-negative decimal: {exc}")
    for used in uses:
        key = used.rsplit(".", 1)[-1]
        if key in _DECIMAL_LIMITS and number > _DECIMAL_LIMITS[key][0]:
            top_d, what = _DECIMAL_LIMITS[key]
            v.fail(
                where,
                f"rule pack {pack!r}: parameter {spec.name!r} = {value} is out of range: "
                f"expected a {what} between 0 and {top_d} (used as {used})",
            )
    return value


def _parameters(
    v: _Validator, doc: Mapping[str, Any], given: Mapping[str, Any], pack: str
) -> tuple[Parameter, ...]:
    table = doc.get("parameters", {})
    if not isinstance(table, dict):
        v.fail("parameters", "expected a table")
    for name in given:
        if name not in table:
            v.fail(
                f"parameters.{name}",
                f"no parameter {name!r}; the pack declares: " + (", ".join(table) or "none"),
            )
    uses: dict[str, list[str]] = {}
    for _, _, path, param in _dollar_fields(doc):
        uses.setdefault(param, []).append(path)
    out: list[Parameter] = []
    for name, entry in table.items():
        prefix = f"parameters.{name}."
        if not isinstance(entry, dict):
            v.fail(prefix.rstrip("."), "expected a table")
        v.keys(entry, _PARAM_KEYS, prefix)
        kind = entry.get("type")
        if kind not in _PARAM_TYPES:
            v.fail(prefix + "type", f"expected one of {', '.join(_PARAM_TYPES)}")
        spec = Parameter(
            name=name,
            type=str(kind),
            value=None,
            default=None,
            description=v.string(entry, "description", prefix),
            confidence=v.confidence(entry, "confidence", prefix, "X"),
            source="unset",
        )
        used = uses.get(name, [])
        default = (
            _param_value(v, spec, entry["default"], prefix + "default", uses=used, pack=pack)
            if "default" in entry
            else None
        )
        if name in given:
            value: str | int | None = _param_value(
                v, spec, given[name], f"parameters.{name}", uses=used, pack=pack
            )
            source = "policy"
        else:
            value, source = default, ("default" if default is not None else "unset")
        out.append(
            Parameter(name, spec.type, value, default, spec.description, spec.confidence, source)
        )
    return tuple(out)


def _substitute(v: _Validator, doc: dict[str, Any], params: tuple[Parameter, ...]) -> None:
    """Replace each ``"$name"`` value in rows and rules by the parameter's value (or drop it)."""
    values = {p.name: p.value for p in params}
    for table, key, path, name in _dollar_fields(doc):
        if name not in values:
            v.fail(path, f"no parameter {name!r} declared")
        if values[name] is None:
            del table[key]
        else:
            table[key] = values[name]


def parse_pack(
    data: bytes,
    *,
    source: str,
    expected_name: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> Pack:
    """Parse and validate rule-pack TOML bytes.

    Args:
        data: the file's bytes (hashed as they are).
        source: a file name for error messages.
        expected_name: if given, the pack's ``name`` must equal it.
        params: values for the pack's ``[parameters]`` (the rest take their defaults).

    Returns:
        The validated :class:`Pack`.

    Raises:
        RulePackError: on malformed TOML, unknown keys or invalid values.
    """
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RulePackError(
            f"rule pack is not valid TOML: {exc}", location=Location(file=source)
        ) from None
    v = _Validator(source)
    v.keys(doc, _TOP_KEYS, "")
    if doc.get("format") != PACK_FORMAT:
        v.fail("format", f"expected {PACK_FORMAT!r}, found {doc.get('format')!r}")
    name = v.string(doc, "name", "")
    if expected_name is not None and name != expected_name:
        v.fail("name", f"expected {expected_name!r}, found {name!r}")
    parameters = _parameters(v, doc, params or {}, name)
    _substitute(v, doc, parameters)
    confidence = v.confidence(doc, "confidence", "", None)

    defs = v.table(doc, "definitions", "")
    v.keys(defs, _DEFINITION_KEYS, "definitions.")
    overnight = v.integer(defs, "overnight_max_days", "definitions.", minimum=0)

    elig = v.table(doc, "eligibility", "")
    v.keys(elig, _ELIGIBILITY_KEYS, "eligibility.")
    elig_conf = v.confidence(elig, "confidence", "eligibility.", confidence)
    raw_assets = elig.get("assets")
    if not isinstance(raw_assets, list) or not raw_assets:
        v.fail("eligibility.assets", "expected a non-empty array of tables")
    assets = tuple(
        v.asset(entry, f"eligibility.assets[{i}].", elig_conf) for i, entry in enumerate(raw_assets)
    )

    raw_rules = doc.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        v.fail("rules", "expected a non-empty array of tables")
    rules = tuple(v.rule(entry, f"rules[{i}].", confidence) for i, entry in enumerate(raw_rules))
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            v.fail("rules", f"duplicate rule id {rule.id!r}")
        seen.add(rule.id)
    tiers = {a.tier for a in assets if a.tier is not None}
    for i, rule in enumerate(rules):
        for key in ("tier", "only_if_tier_present"):
            tier = rule.params.get(key)
            if tier is not None and tier not in tiers:
                v.fail(f"rules[{i}].{key}", f"no eligibility row has tier {tier!r}")

    status = doc.get("status", "in_force")
    if status not in STATUSES:
        v.fail("status", f"expected one of {', '.join(STATUSES)}")
    start = v.date(doc, "effective_from", "")
    end = v.date(doc, "effective_until", "")
    if start is not None and end is not None and end < start:
        v.fail("effective_until", f"{end.isoformat()} is before effective_from")
    issuer_types = None
    if "issuer_types" in doc:
        issuer_types = v.strings(doc, "issuer_types", "")
        for item in issuer_types:
            if item not in ISSUER_TYPES:
                v.fail("issuer_types", f"unknown issuer type {item!r}")
    regime = v.string(doc, "regime", "") if "regime" in doc else name

    return Pack(
        name=name,
        title=v.string(doc, "title", ""),
        law=v.string(doc, "law", ""),
        confidence=confidence,
        overnight_max_days=overnight,
        overnight_citation=v.string(defs, "overnight_citation", "definitions."),
        overnight_confidence=v.confidence(defs, "overnight_confidence", "definitions.", "X"),
        eligibility_citation=v.string(elig, "citation", "eligibility."),
        eligibility_confidence=elig_conf,
        eligibility_note=str(elig.get("note", "")),
        assets=assets,
        rules=rules,
        sha256=hashlib.sha256(data).hexdigest(),
        status=str(status),
        effective_from=start,
        effective_until=end,
        regime=regime,
        issuer_types=issuer_types,
        note=str(doc.get("note", "")),
        parameters=parameters,
    )


class _Validator:
    """Strict field readers that raise :class:`RulePackError` naming the file and field."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, fieldname: str, message: str) -> NoReturn:
        raise RulePackError(
            f"invalid rule pack: {message}",
            location=Location(file=self.source, field=fieldname),
        )

    def keys(self, table: Mapping[str, Any], allowed: frozenset[str], prefix: str) -> None:
        for key in table:
            if key not in allowed:
                self.fail(prefix + key, "unknown key")

    def table(self, doc: Mapping[str, Any], key: str, prefix: str) -> Mapping[str, Any]:
        value = doc.get(key)
        if not isinstance(value, dict):
            self.fail(prefix + key, "expected a table")
        return value

    def string(self, doc: Mapping[str, Any], key: str, prefix: str) -> str:
        value = doc.get(key)
        if not isinstance(value, str) or not value.strip():
            self.fail(prefix + key, "expected a non-empty string")
        return value

    def integer(self, doc: Mapping[str, Any], key: str, prefix: str, *, minimum: int) -> int:
        top, unit = _INT_LIMITS[key]
        value = doc.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(prefix + key, f"expected an integer >= {minimum}")
        if not minimum <= value <= top:
            self.fail(
                prefix + key,
                f"expected an integer between {minimum} and {top} ({unit}), found "
                + _int_text(value),
            )
        return value

    def boolean(self, doc: Mapping[str, Any], key: str, prefix: str, default: bool) -> bool:
        try:
            return validate.boolean(doc.get(key, default))
        except validate.InvalidValueError:
            self.fail(prefix + key, "expected true or false")

    def decimal(self, doc: Mapping[str, Any], key: str, prefix: str) -> Decimal:
        value = doc.get(key)
        # Decimal strings only: TOML floats are binary and would be inexact.
        if not isinstance(value, str):
            self.fail(prefix + key, 'expected a decimal string such as "0.30"')
        try:
            number = plain_decimal(value)
        except ValueError as exc:
            self.fail(prefix + key, f"expected a non-negative decimal: {exc}")
        if key in _DECIMAL_LIMITS:
            top, what = _DECIMAL_LIMITS[key]
            if number > top:
                self.fail(prefix + key, f"expected a {what} between 0 and {top}, found {value}")
        return number

    def date(self, doc: Mapping[str, Any], key: str, prefix: str) -> _dt.date | None:
        if key not in doc:
            return None
        value = doc[key]
        if not isinstance(value, str) or not _DATE_RE.match(value):
            self.fail(prefix + key, 'expected a date string such as "2026-06-01"')
        try:
            return _dt.date.fromisoformat(value)
        except ValueError:
            self.fail(prefix + key, f"not a calendar date: {value!r}")

    def flag(self, doc: Mapping[str, Any], key: str, prefix: str) -> str:
        value = self.string(doc, key, prefix)
        if not _FLAG_RE.match(value):
            self.fail(prefix + key, f"expected a lower_case flag name, found {value!r}")
        return value

    def choice(
        self, doc: Mapping[str, Any], key: str, prefix: str, choices: tuple[str, ...]
    ) -> str:
        value = doc.get(key, choices[0])
        if value not in choices:
            self.fail(prefix + key, f"expected one of {', '.join(choices)}")
        return str(value)

    def money(self, doc: Mapping[str, Any], key: str, prefix: str) -> tuple[Decimal, str]:
        table = self.table(doc, key, prefix)
        self.keys(table, frozenset({"amount", "currency"}), prefix + key + ".")
        ccy = self.string(table, "currency", prefix + key + ".")
        if not is_currency_code(ccy):
            self.fail(prefix + key + ".currency", f"not a currency code: {ccy!r}")
        return (self.decimal(table, "amount", prefix + key + "."), ccy)

    def confidence(self, doc: Mapping[str, Any], key: str, prefix: str, default: str | None) -> str:
        value = doc.get(key, default)
        if value not in CONFIDENCES:
            self.fail(prefix + key, f"expected one of {', '.join(CONFIDENCES)}")
        return str(value)

    def strings(self, doc: Mapping[str, Any], key: str, prefix: str) -> tuple[str, ...]:
        value = doc.get(key)
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(x, str) and x for x in value)
        ):
            self.fail(prefix + key, "expected a non-empty array of strings")
        return tuple(value)

    def classes(self, doc: Mapping[str, Any], key: str, prefix: str) -> tuple[str, ...]:
        values = self.strings(doc, key, prefix)
        for value in values:
            if value not in ASSET_CLASSES:
                self.fail(prefix + key, f"unknown asset class {value!r}")
        return values

    def rating(self, doc: Mapping[str, Any], key: str, prefix: str) -> str:
        value = self.string(doc, key, prefix)
        try:
            if rating_rank(value) is None:
                raise ValueError("unrated")
        except ValueError:
            self.fail(prefix + key, f"not a rating: {value!r}")
        return value

    def asset(self, entry: Any, prefix: str, default_conf: str) -> EligibleAsset:
        if not isinstance(entry, dict):
            self.fail(prefix.rstrip("."), "expected a table")
        self.keys(entry, _ASSET_KEYS, prefix)
        cls = self.string(entry, "class", prefix)
        if cls not in ASSET_CLASSES:
            self.fail(prefix + "class", f"unknown asset class {cls!r}")
        countries = None
        if "countries" in entry:
            countries = self.strings(entry, "countries", prefix)
        collateral = None
        if "collateral" in entry:
            if cls != "reverse_repo":
                self.fail(prefix + "collateral", "only a reverse_repo row takes collateral")
            collateral = self.classes(entry, "collateral", prefix)
        elif cls == "reverse_repo":
            self.fail(prefix + "collateral", "a reverse_repo row must list accepted collateral")
        return EligibleAsset(
            asset_class=cls,
            citation=self.string(entry, "citation", prefix),
            confidence=self.confidence(entry, "confidence", prefix, default_conf),
            max_days=(
                self.integer(entry, "max_days", prefix, minimum=0) if "max_days" in entry else None
            ),
            within_months=(
                self.integer(entry, "within_months", prefix, minimum=0)
                if "within_months" in entry
                else None
            ),
            overnight=self.boolean(entry, "overnight", prefix, False),
            countries=countries,
            min_rating=self.rating(entry, "min_rating", prefix) if "min_rating" in entry else None,
            home_country_or_min_rating=(
                self.rating(entry, "home_country_or_min_rating", prefix)
                if "home_country_or_min_rating" in entry
                else None
            ),
            collateral=collateral,
            tier=self.flag(entry, "tier", prefix) if "tier" in entry else None,
            home_country=self.boolean(entry, "home_country", prefix, False),
        )

    def rule(self, entry: Any, prefix: str, default_conf: str) -> Rule:
        if not isinstance(entry, dict):
            self.fail(prefix.rstrip("."), "expected a table")
        kind = self.string(entry, "kind", prefix)
        if kind not in KIND_PARAMS:
            self.fail(prefix + "kind", f"unknown rule kind {kind!r}")
        self.keys(entry, _COMMON_RULE_KEYS | KIND_PARAMS[kind], prefix)
        params: dict[str, Any] = {}
        if kind == "token_currency":
            params["currencies"] = self.strings(entry, "currencies", prefix)
            for ccy in params["currencies"]:
                if not is_currency_code(ccy):
                    self.fail(prefix + "currencies", f"not a currency code: {ccy!r}")
        elif kind == "same_currency":
            params["approvals"] = self.boolean(entry, "approvals", prefix, False)
        elif kind == "eligible_coverage":
            params["ratio"] = self.decimal(entry, "ratio", prefix)
            params["apply_min_coverage"] = self.boolean(entry, "apply_min_coverage", prefix, False)
        elif kind in ("deposit_floor", "class_cap"):
            params["classes"] = self.classes(entry, "classes", prefix)
            params["share"] = self.decimal(entry, "share", prefix)
            params["base"] = self.choice(entry, "base", prefix, BASES)
        elif kind == "average_maturity":
            params["classes"] = self.classes(entry, "classes", prefix)
            if ("max_days" in entry) == ("within_months" in entry):
                self.fail(prefix + "max_days", "give exactly one of max_days or within_months")
            for key in ("max_days", "within_months"):
                params[key] = self.integer(entry, key, prefix, minimum=0) if key in entry else None
        elif kind == "tier_gate":
            params["tier"] = self.flag(entry, "tier", prefix)
            params["flag"] = self.flag(entry, "flag", prefix)
        elif kind == "tier_floor":
            params["tier"] = self.flag(entry, "tier", prefix)
            params["share"] = self.decimal(entry, "share", prefix)
            params["disclosure_share"] = None
            if "disclosure_share" in entry:
                key = self.string(entry, "disclosure_share", prefix)
                if key not in SHARE_KEYS:
                    self.fail(prefix + "disclosure_share", f"not a share disclosure: {key!r}")
                params["disclosure_share"] = key
            params["only_if_tier_present"] = (
                self.flag(entry, "only_if_tier_present", prefix)
                if "only_if_tier_present" in entry
                else None
            )
        elif kind == "supply_cap":
            params["amount"] = self.money(entry, "amount", prefix)
        elif kind == "stressed_coverage":
            params["ratio"] = (
                self.decimal(entry, "ratio", prefix) if "ratio" in entry else (Decimal(1))
            )
        elif kind == "disclosure_deduction":
            key = self.string(entry, "disclosure", prefix)
            if key not in AMOUNT_KEYS:
                self.fail(prefix + "disclosure", f"not an amount disclosure: {key!r}")
            params["disclosure"] = key
        elif kind == "regulator_flags":
            params["flags"] = self.strings(entry, "flags", prefix)
            for flag in params["flags"]:
                if not _FLAG_RE.match(flag):
                    self.fail(prefix + "flags", f"expected lower_case flag names, found {flag!r}")
            params["missing"] = self.choice(entry, "missing", prefix, ("not_evaluated", "fail"))
        elif kind == "unconfirmed":
            params["reason"] = self.string(entry, "reason", prefix)
        elif kind == "capital_threshold":
            params["disclosure"] = self.string(entry, "disclosure", prefix)
            params["floor"] = self.money(entry, "floor", prefix)
            for key in ("reserve_share", "expenses_share"):
                params[key] = self.decimal(entry, key, prefix) if key in entry else None
        elif kind == "disclosure_flags":
            params["flags"] = self.strings(entry, "flags", prefix)
        elif kind == "max_redemption_days":
            params["max_days"] = self.integer(entry, "max_days", prefix, minimum=0)
        return Rule(
            id=self.string(entry, "id", prefix),
            kind=kind,
            title=self.string(entry, "title", prefix),
            citation=self.string(entry, "citation", prefix),
            confidence=self.confidence(entry, "confidence", prefix, default_conf),
            params=params,
        )
