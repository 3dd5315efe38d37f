"""Rule packs as data: the shipped packs load, carry their file hash, and bad packs are refused."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

import pytest

import verifier.rules
from verifier.errors import RulePackError
from verifier.rules import list_packs, load_pack
from verifier.rules.pack import parse_pack

PACKS_DIR = Path(verifier.rules.__file__).parent / "packs"

GOOD = b"""
format = "porv.rulepack/1"
name = "test"
title = "Test"
law = "Test law"
confidence = "P"

[definitions]
overnight_max_days = 4
overnight_citation = "c"

[eligibility]
citation = "c"

[[eligibility.assets]]
class = "cash"
citation = "c"

[[rules]]
id = "test.cov"
kind = "eligible_coverage"
title = "t"
ratio = "1"
citation = "c"
"""


ALL_PACKS = [
    "bcbs-g1b",
    "cbuae-dpt",
    "cbuae-dpt-bank-sub",
    "genius",
    "hkma",
    "jp-trust",
    "jp-trust-2023",
    "mas",
    "mica-emt",
    "mica-emt-significant",
    "uk-boe-systemic",
    "uk-fca",
    "vara-frva",
]


def test_shipped_packs() -> None:
    # issue 14 added the UAE, Dubai, Japan, UK-draft and Basel packs
    assert list_packs() == ALL_PACKS


def test_policy_knows_every_shipped_pack() -> None:
    from verifier.model.policy import KNOWN_JURISDICTIONS

    assert sorted(KNOWN_JURISDICTIONS) == ALL_PACKS


@pytest.mark.parametrize("name", ALL_PACKS)
def test_pack_hash_is_the_file_hash(name: str) -> None:
    pack = load_pack(name)
    assert pack.name == name
    assert pack.sha256 == hashlib.sha256((PACKS_DIR / f"{name}.toml").read_bytes()).hexdigest()
    assert pack.rules and pack.assets
    for rule in pack.rules:
        assert rule.citation and rule.confidence in ("P", "S", "X")


def test_rule_ids_and_parameters_match_the_spec() -> None:
    ids = {name: [r.id for r in load_pack(name).rules] for name in list_packs()}
    assert ids["genius"] == ["genius.currency", "genius.reserve-assets", "genius.disclosure"]
    assert ids["mica-emt"] == [
        "mica.same-currency",
        "mica.deposits-floor",
        "mica.reserve-assets",
        "mica.own-funds",
    ]
    assert ids["mica-emt-significant"] == ids["mica-emt"]
    assert ids["hkma"] == [
        "hkma.same-currency",
        "hkma.full-backing",
        "hkma.capital",
        "hkma.redemption",
    ]
    assert ids["mas"] == ["mas.same-currency", "mas.full-backing", "mas.capital"]
    floor = {r.id: r for r in load_pack("mica-emt").rules}["mica.deposits-floor"]
    assert floor.params["share"] == Decimal("0.30")
    sig = {r.id: r for r in load_pack("mica-emt-significant").rules}
    assert sig["mica.deposits-floor"].params["share"] == Decimal("0.60")
    assert sig["mica.own-funds"].params["reserve_share"] == Decimal("0.03")
    hk = {r.id: r for r in load_pack("hkma").rules}
    assert hk["hkma.capital"].params["floor"] == (Decimal(25_000_000), "HKD")
    genius_bills = load_pack("genius").assets_for("sovereign_debt")[0]
    assert genius_bills.max_days == 93 and genius_bills.countries == ("US",)
    assert load_pack("genius").assets_for("bank_deposit_term") == ()
    assert load_pack("hkma").assets_for("bank_deposit_term")[0].within_months == 3


def test_unknown_pack_is_input_error() -> None:
    with pytest.raises(RulePackError, match="unknown rule pack") as info:
        load_pack("nope")
    assert info.value.exit_code == 2
    with pytest.raises(RulePackError):
        load_pack("../genius")


def test_good_pack_parses() -> None:
    pack = parse_pack(GOOD, source="t.toml")
    assert pack.rules[0].params["ratio"] == Decimal(1)
    assert pack.sha256 == hashlib.sha256(GOOD).hexdigest()


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (b'name = "test"', b'name = "test"\nextra = 1', "extra"),
        (b'kind = "eligible_coverage"', b'kind = "magic"', "rules[0].kind"),
        (b'ratio = "1"', b"ratio = 1.0", "rules[0].ratio"),
        (b'ratio = "1"', b'ratio = "-1"', "rules[0].ratio"),
        (b'confidence = "P"', b'confidence = "Q"', "confidence"),
        (b'class = "cash"', b'class = "gold"', "eligibility.assets[0].class"),
        (b'class = "cash"', b'class = "reverse_repo"', "eligibility.assets[0].collateral"),
        (
            b'class = "cash"',
            b'class = "cash"\nmin_rating = "ZZZ"',
            "eligibility.assets[0].min_rating",
        ),
        (b"overnight_max_days = 4", b"overnight_max_days = -1", "definitions.overnight_max_days"),
        (b'format = "porv.rulepack/1"', b'format = "other"', "format"),
        (b'ratio = "1"', b'ratio = "1"\nshare = "0.3"', "rules[0].share"),
    ],
)
def test_bad_pack_is_refused_naming_the_field(old: bytes, new: bytes, field: str) -> None:
    with pytest.raises(RulePackError) as info:
        parse_pack(GOOD.replace(old, new), source="t.toml")
    assert info.value.location is not None
    assert info.value.location.file == "t.toml"
    assert info.value.location.field == field


def test_duplicate_rule_id_and_bad_toml_are_refused() -> None:
    doubled = GOOD + GOOD[GOOD.index(b"[[rules]]") :]
    with pytest.raises(RulePackError, match="duplicate rule id"):
        parse_pack(doubled, source="t.toml")
    with pytest.raises(RulePackError, match="not valid TOML"):
        parse_pack(b"name = ", source="t.toml")
    with pytest.raises(RulePackError, match="expected 'other'"):
        parse_pack(GOOD, source="t.toml", expected_name="other")
