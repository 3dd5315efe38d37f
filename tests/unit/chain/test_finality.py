"""The final-pin decision (DESIGN §1, "Final pin") as a pure function over block headers.

No chain: headers are built here. :func:`check_final_pin` decides whether a pin at ``as_of``
is final on every endpoint; :func:`check_successor` whether the successor's header follows
the pinned block across ``as_of``; :func:`scale_up` rounds supply up, never down.
"""

from __future__ import annotations

import pytest

from verifier.chain.finality import (
    EndpointView,
    check_final_pin,
    check_successor,
    describe,
)
from verifier.checks.evidence import BlockHeader, Finality, scale_up
from verifier.errors import NotFinalError, WrongBlockError

AS_OF = 1_700_000_000


def header(n: int, ts: int, *, fork: str = "") -> BlockHeader:
    def h(k: int) -> str:
        return "0x" + f"{fork}{k}".encode().hex().rjust(64, "0")[-64:]

    return BlockHeader(number=n, hash=h(n), parent_hash=h(n - 1), timestamp=ts)


PINNED = header(100, AS_OF - 3)
SUCCESSOR = header(101, AS_OF + 9)


def view(head: int, finalized: int | None = None, url: str = "http://a") -> EndpointView:
    fin = None if finalized is None else header(finalized, AS_OF + 12 * (finalized - 100))
    return EndpointView(url, header(head, AS_OF + 12 * (head - 100)), fin)


def final(
    finality: Finality, *views: EndpointView, successor: BlockHeader | None = SUCCESSOR
) -> None:
    check_final_pin(31337, AS_OF, finality, PINNED, successor, list(views))


@pytest.mark.parametrize("finality", ["latest", "finalized", 1, 64])
def test_no_block_after_as_of_is_never_final(finality: Finality) -> None:
    with pytest.raises(
        NotFinalError,
        match="not final yet on chain 31337: its latest block 100 on endpoint http://a",
    ):
        final(finality, view(100, 100), successor=None)


def test_latest_needs_the_successor_on_every_endpoint() -> None:
    final("latest", view(101), view(150, url="http://b"))
    with pytest.raises(NotFinalError, match="endpoint http://b is behind: its latest block is 100"):
        final("latest", view(101), view(100, url="http://b"))
    # an endpoint far behind the pin is refused the same way: it never lowers the pin
    with pytest.raises(NotFinalError, match="http://b is behind"):
        final("latest", view(300), view(40, url="http://b"))


def test_finalized_needs_the_successor_finalized_on_every_endpoint() -> None:
    final("finalized", view(200, 101), view(170, 120, url="http://b"))
    with pytest.raises(NotFinalError, match=r"block 101 .* is not finalized on endpoint http://b"):
        final("finalized", view(200, 101), view(200, 100, url="http://b"))
    with pytest.raises(NotFinalError, match="reports no finalized block"):
        final("finalized", view(200, 150), view(200, None, url="http://b"))
    with pytest.raises(NotFinalError, match="behind"):
        final("finalized", view(100, 100))


def test_confirmations_count_blocks_on_top_of_the_successor() -> None:
    final(3, view(104), view(110, url="http://b"))
    with pytest.raises(NotFinalError, match="has 2 of 3 confirmations on endpoint http://b"):
        final(3, view(104), view(103, url="http://b"))
    final(1, view(102))
    with pytest.raises(NotFinalError, match="0 of 1 confirmation on"):
        final(1, view(101))
    assert describe(1) == "1 confirmation" and describe(12) == "12 confirmations"
    assert describe("finalized") == "finalized"


@pytest.mark.parametrize("bad", ["safe", 0, -1, True, "12"])
def test_unknown_finality_is_a_programming_error(bad: object) -> None:
    with pytest.raises(ValueError, match="unknown finality"):
        final(bad, view(200, 200))  # type: ignore[arg-type]


def test_successor_must_follow_the_pin_across_as_of() -> None:
    where = "chain 31337 endpoint http://a"
    check_successor(where, AS_OF, PINNED, SUCCESSOR)
    check_successor(where, AS_OF, header(100, AS_OF), header(101, AS_OF + 1))
    for pinned, successor, words in (
        (PINNED, header(101, AS_OF), "do not straddle"),
        (header(100, AS_OF + 1), SUCCESSOR, "do not straddle"),
        (PINNED, header(102, AS_OF + 9), "does not follow"),
        (PINNED, header(101, AS_OF + 9, fork="x"), "does not follow"),
    ):
        with pytest.raises(WrongBlockError, match=words) as info:
            check_successor(where, AS_OF, pinned, successor)
        assert info.value.exit_code == 3 and where in info.value.message


@pytest.mark.parametrize(
    ("amount", "decimals", "policy", "scaled", "added"),
    [
        (0, 18, 6, 0, 0),
        (5, 6, 6, 5, 0),
        (5, 2, 6, 50_000, 0),
        (3 * 10**12, 18, 6, 3, 0),
        (3 * 10**12 - 1, 18, 6, 3, 1),
        (3 * 10**12 + 1, 18, 6, 4, 10**12 - 1),
        (1, 18, 6, 1, 10**12 - 1),
        (2**256 - 1, 77, 0, 2, 2 * 10**77 - (2**256 - 1)),
    ],
)
def test_scale_up_rounds_up_never_down(
    amount: int, decimals: int, policy: int, scaled: int, added: int
) -> None:
    assert scale_up(amount, decimals, policy) == (scaled, added)
    if decimals > policy:  # the amount plus what was added is exactly the scaled amount
        assert amount + added == scaled * 10 ** (decimals - policy)


# -- the block of a read no supply pin fixes (registry, feed, EIP-1271 wallets) -------------


def test_read_block_is_the_highest_the_finality_allows_on_every_endpoint() -> None:
    from verifier.chain.finality import read_block

    assert read_block(1, "finalized", [view(150, 120), view(150, 120, url="http://b")]) == 120
    assert read_block(1, "latest", [view(150), view(150, url="http://b")]) == 150
    assert read_block(1, 10, [view(150), view(150, url="http://b")]) == 140


@pytest.mark.parametrize(
    ("finality", "a", "b", "what"),
    [
        ("finalized", view(150, 120), view(150, 119, url="http://b"), "finalized block is 119"),
        ("latest", view(150), view(149, url="http://b"), "latest block is 149"),
        (10, view(150), view(141, url="http://b"), "latest block less 10 confirmations is 131"),
    ],
)
def test_a_lagging_endpoint_is_an_error_never_a_lower_read_block(
    finality: Finality, a: EndpointView, b: EndpointView, what: str
) -> None:
    from verifier.chain.finality import read_block

    for views in ([a, b], [b, a]):  # whichever endpoint is listed first
        with pytest.raises(NotFinalError, match=f"endpoint http://b is behind: its {what}"):
            read_block(1, finality, views)


def test_read_block_needs_the_finalized_tag_or_enough_depth() -> None:
    from verifier.chain.finality import read_block

    with pytest.raises(NotFinalError, match="reports no finalized block"):
        read_block(1, "finalized", [view(150, 120), view(150, url="http://b")])
    with pytest.raises(NotFinalError, match="no block has 200 confirmations yet"):
        read_block(1, 200, [view(150)])


def test_finality_messages_carry_no_url_secrets() -> None:
    from verifier.chain.finality import read_block

    secret = "https://user:pw@node.example:8545/v3/KEY?token=T"
    for decide in (
        lambda: final("latest", view(101), view(100, url=secret)),
        lambda: final("finalized", view(101, 90, url=secret)),
        lambda: read_block(1, "latest", [view(150), view(100, url=secret)]),
    ):
        with pytest.raises(NotFinalError) as info:
            decide()
        text = str(info.value.message)
        assert "https://node.example:8545" in text
        for leak in ("user", "pw", "KEY", "token"):
            assert leak not in text, text
