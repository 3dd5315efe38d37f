"""Rule packs: one TOML file per jurisdiction under ``verifier/rules/packs/``, loaded strictly.

A pack is data over a few rule kinds (see :mod:`verifier.rules.kinds`): a change of law is a
change of one file. Loading refuses unknown keys, unknown kinds, unknown asset classes, bad
confidences and duplicate rule ids, so a typo in a pack can never silently weaken a check.
Each loaded pack carries the sha256 of its file bytes; results record it.
"""

from __future__ import annotations

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
from verifier.model.holdings import ASSET_CLASSES
from verifier.model.numbers import plain_decimal
from verifier.model.validate import is_currency_code
from verifier.rules.ratings import rating_rank

PACK_FORMAT = "porv.rulepack/1"
CONFIDENCES = ("P", "S", "X")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*\Z")

#: Parameters each rule kind accepts (besides id, kind, title, citation, confidence).
KIND_PARAMS: dict[str, frozenset[str]] = {
    "token_currency": frozenset({"currencies"}),
    "same_currency": frozenset({"approvals"}),
    "eligible_coverage": frozenset({"ratio", "apply_min_coverage"}),
    "deposit_floor": frozenset({"classes", "share"}),
    "capital_threshold": frozenset({"disclosure", "floor", "reserve_share", "expenses_share"}),
    "disclosure_flags": frozenset({"flags"}),
    "max_redemption_days": frozenset({"max_days"}),
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
    }
)
_TOP_KEYS = frozenset(
    {"format", "name", "title", "law", "confidence", "definitions", "eligibility", "rules"}
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

    def conditions(self) -> list[str]:
        """The conditions as short human-readable phrases (for ``rules show``)."""
        out: list[str] = []
        if self.countries is not None:
            out.append("obligor country in " + ", ".join(self.countries))
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

    def assets_for(self, asset_class: str) -> tuple[EligibleAsset, ...]:
        """The eligibility rows for ``asset_class`` (empty: the class is not eligible)."""
        return tuple(a for a in self.assets if a.asset_class == asset_class)


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


def load_pack(name: str) -> Pack:
    """Load and validate the shipped rule pack ``name``.

    Args:
        name: a pack name from :func:`list_packs`.

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
    return _load_cached(name)


@functools.cache
def _load_cached(name: str) -> Pack:
    data = _packs_dir().joinpath(f"{name}.toml").read_bytes()
    return parse_pack(data, source=f"{name}.toml", expected_name=name)


def parse_pack(data: bytes, *, source: str, expected_name: str | None = None) -> Pack:
    """Parse and validate rule-pack TOML bytes.

    Args:
        data: the file's bytes (hashed as they are).
        source: a file name for error messages.
        expected_name: if given, the pack's ``name`` must equal it.

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
        try:
            return validate.integer(doc.get(key), lo=minimum)
        except validate.InvalidValueError:
            self.fail(prefix + key, f"expected an integer >= {minimum}")

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
            return plain_decimal(value)
        except ValueError as exc:
            self.fail(prefix + key, f"expected a non-negative decimal: {exc}")

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
        elif kind == "deposit_floor":
            params["classes"] = self.classes(entry, "classes", prefix)
            params["share"] = self.decimal(entry, "share", prefix)
        elif kind == "capital_threshold":
            params["disclosure"] = self.string(entry, "disclosure", prefix)
            floor = self.table(entry, "floor", prefix)
            self.keys(floor, frozenset({"amount", "currency"}), prefix + "floor.")
            ccy = self.string(floor, "currency", prefix + "floor.")
            if not is_currency_code(ccy):
                self.fail(prefix + "floor.currency", f"not a currency code: {ccy!r}")
            params["floor"] = (self.decimal(floor, "amount", prefix + "floor."), ccy)
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
