"""``[fx]`` feeds: read at the supply pin by the orchestrator, passed to the rules as evidence."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.support.fakenode import FEED, TOKEN, FakeChain, FakeNode
from tests.unit.model.test_policy import BASE
from tests.unit.rules.test_rules_support import holding
from verifier.app.recheck import _fx_from_result
from verifier.app.verify import read_fx_feeds
from verifier.checks.evidence import (
    DeploymentSupply,
    SupplyReport,
    fx_from_section,
    fx_rate_from_feed,
    fx_section,
)
from verifier.errors import EndpointsDisagreeError, RecheckMismatchError, SchemaError
from verifier.model.fx import FxRate
from verifier.model.policy import Policy
from verifier.rules import evaluate

PIN = 100
T0 = calendar.timegm((2026, 11, 30, 0, 0, 0))  # block 0
AS_OF = dt.date(2026, 11, 30)


def fx_chain(rnd: tuple[int, int, int, int, int] | None, decimals: int = 8) -> FakeChain:
    c = FakeChain(31337, [T0 + 12 * n for n in range(200)])
    if rnd is not None:
        c.feeds[FEED.lower()] = (decimals, rnd)
    return c


def stamp(c: FakeChain) -> int:
    return c.timestamps[PIN]


def supply_at(c: FakeChain) -> SupplyReport:
    dep = DeploymentSupply(
        chain_id=31337,
        address=TOKEN,
        block_number=PIN,
        block_hash=c.block_hash(PIN),
        block_timestamp=stamp(c),
        total_supply=0,
        decimals=6,
        excluded=(),
        circulating=0,
    )
    return SupplyReport(deployments=(dep,), total_circulating=0, decimals=6)


def policy(*urls: str) -> Policy:
    text = (
        BASE.replace('["genius"]', '["hkma"]')
        + f'\n[fx]\n"USD/HKD" = {{ feed = "31337:{FEED}" }}\n'
    )
    return Policy.from_toml_text(text).with_rpc({31337: list(urls)})


@pytest.fixture
def node() -> Iterator[FakeNode]:
    n = FakeNode(fx_chain(None))
    with n:
        yield n


def read(node: FakeNode, rnd: tuple[int, int, int, int, int], decimals: int = 8) -> Any:
    node.model = fx_chain(rnd, decimals)
    return read_fx_feeds(policy(node.url), supply_at(node.model), timeout=2)


def test_feed_answer_at_the_pin_becomes_a_recorded_rate(node: FakeNode) -> None:
    updated = T0 + 12 * PIN - 3600
    rates, unusable = read(node, (5, 780_000_000, updated, updated, 5))
    assert unusable == {}
    (r,) = rates
    assert (r.pair, r.rate, r.source, r.block_number) == ("USD/HKD", Decimal("7.8"), "feed", PIN)
    assert r.to_json() == {
        "pair": "USD/HKD",
        "rate": "7.80000000",
        "date": "2026-11-29",
        "source": "feed",
        "chain_id": 31337,
        "address": FEED,
        "block_number": PIN,
        "updated_at": updated,
    }
    # the pure core takes it as evidence: the HKMA floor is compared and records the feed
    disc = {"paid_up_capital": {"amount": "3205128.21", "currency": "USD"}}
    report = evaluate(
        [holding()],
        packs=["hkma"],
        supply=Decimal(1_000_000),
        currency="USD",
        as_of=AS_OF,
        disclosures=disc,
        fx_rates=rates,
    )
    rule = next(x for x in report.pack("hkma").rules if x.id == "hkma.capital")
    assert rule.status == "pass", rule.message
    assert f"feed 31337:{FEED} at block {PIN}" in rule.message
    assert rule.fx == (r.to_json(),)


@pytest.mark.parametrize(
    ("rnd", "decimals", "words"),
    [
        ((5, 780_000_000, 0, T0 + 12 * PIN + 10, 5), 8, "after the pinned block's time"),
        ((5, 780_000_000, 0, T0 + 12 * PIN + 1000, 5), 8, "in the future"),
        ((5, 0, 0, T0, 5), 8, "answer 0 is not positive"),
        ((5, -780_000_000, 0, T0, 5), 8, "not positive"),
        ((0, 780_000_000, 0, T0, 0), 8, "round id is 0"),
        ((5, 780_000_000, 0, 0, 5), 8, "updatedAt is 0"),
        ((5, 780_000_000, 0, T0, 4), 8, "answeredInRound 4 is behind round 5"),
        ((5, 780_000_000, 0, T0, 5), 77, "decimals() 77 is above 36"),
    ],
)
def test_a_feed_without_a_usable_round_gives_a_reason_not_a_rate(
    node: FakeNode, rnd: tuple[int, int, int, int, int], decimals: int, words: str
) -> None:
    rates, unusable = read(node, rnd, decimals)
    assert rates == ()
    assert words in unusable["USD/HKD"], unusable


def test_no_feed_code_gives_a_reason(node: FakeNode) -> None:
    node.model = fx_chain(None)
    rates, unusable = read_fx_feeds(policy(node.url), supply_at(node.model), timeout=2)
    assert rates == () and "no contract code" in unusable["USD/HKD"]


def test_endpoints_that_disagree_stop_the_run() -> None:
    good = fx_chain((5, 780_000_000, T0, T0, 5))
    other = fx_chain((5, 781_000_000, T0, T0, 5))
    with FakeNode(good) as a, FakeNode(other) as b, pytest.raises(EndpointsDisagreeError):
        read_fx_feeds(policy(a.url, b.url), supply_at(good), timeout=2)


def test_no_supply_pin_reads_nothing(node: FakeNode) -> None:
    assert read_fx_feeds(policy(node.url), None, timeout=2) == ((), {})
    assert node.model is not None and node.model.calls == []


def test_an_unusable_feed_leaves_the_floor_not_evaluated_with_its_reason() -> None:
    report = evaluate(
        [holding()],
        packs=["hkma"],
        supply=Decimal(1_000_000),
        currency="USD",
        as_of=AS_OF,
        disclosures={"paid_up_capital": {"amount": "100000000", "currency": "USD"}},
        fx_unusable={"USD/HKD": "USD/HKD feed gave no rate: round id is 0"},
    )
    rule = next(x for x in report.pack("hkma").rules if x.id == "hkma.capital")
    assert rule.status == "not_evaluated"
    assert "round id is 0" in rule.message


def feed_rate(**kw: Any) -> FxRate:
    args: dict[str, Any] = {
        "chain_id": 31337,
        "address": FEED,
        "block_number": PIN,
        "block_timestamp": T0 + 12 * PIN,
        "answer": 780_000_000,
        "decimals": 8,
        "updated_at": T0,
    } | kw
    got = fx_rate_from_feed("USD", "HKD", **args)
    assert isinstance(got, FxRate), got
    return got


def test_a_stale_feed_round_leaves_not_evaluated() -> None:
    old = feed_rate(updated_at=T0 - 8 * 86400)  # 2026-11-22: 8 days before as_of
    report = evaluate(
        [holding()],
        packs=["hkma"],
        supply=Decimal(1_000_000),
        currency="USD",
        as_of=AS_OF,
        disclosures={"paid_up_capital": {"amount": "100000000", "currency": "USD"}},
        fx_rates=[old],
    )
    rule = next(x for x in report.pack("hkma").rules if x.id == "hkma.capital")
    assert rule.status == "not_evaluated" and "8 days before as_of" in rule.message


def test_the_result_section_round_trips_and_is_checked_against_the_policy() -> None:
    r = feed_rate()
    section = fx_section((r,), {})
    assert fx_from_section(section) == ((r,), {})
    pol = policy("http://127.0.0.1:9")
    c = fx_chain(None)
    assert _fx_from_result({"fx": section}, "r.json", pol, supply_at(c)) == ((r,), {})
    assert _fx_from_result({}, "r.json", pol, supply_at(c)) == ((), {})
    moved = fx_section((feed_rate(block_number=PIN - 1),), {})
    with pytest.raises(RecheckMismatchError, match="pinned block"):
        _fx_from_result({"fx": moved}, "r.json", pol, supply_at(c))
    with pytest.raises(RecheckMismatchError, match="EUR/USD"):
        _fx_from_result({"fx": fx_section((), {"EUR/USD": "x"})}, "r.json", pol, supply_at(c))
    pinned = FxRate("USD", "HKD", Decimal("7.8"), AS_OF)
    for bad in (
        {"rates": [pinned.to_json()], "unusable": {}},  # only feed readings are carried
        {"rates": [{**r.to_json(), "rate": 7.8}], "unusable": {}},
        {"rates": [{**r.to_json(), "address": FEED.lower()}], "unusable": {}},
        {"rates": [{**r.to_json(), "extra": 1}], "unusable": {}},
        {"rates": []},
    ):
        with pytest.raises(SchemaError):
            _fx_from_result({"fx": bad}, "r.json", pol, supply_at(c))
