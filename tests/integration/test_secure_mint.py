"""Secure-Mint: ``GuardedStablecoin`` mints only what a reserve feed attests (issue 12, item 3).

The whole loop runs on the embedded chain, anvil and hardhat: porv's registry is the feed, a
custodian's key is registered with ``porv registry register-signer``, the custodian signs an
attestation over a holdings tree (``porv attest sign``), ``porv publish`` posts it, and the
token then mints within the attested reserves and refuses beyond them, and refuses once the
feed's answer is older than the token's maximum age, once the signer is revoked (the feed
answers 0, dated 0) and once the attestation expires. Against a settable AggregatorV3 feed
(``TestAggregatorV3``) the guard scales decimals above and below the token's (truncating, so
rounding never mints more), and blocks mints on a negative or zero answer, an answer dated 0 or
in the future, a feed that reverts, answers junk or changes its decimals. Every revert is
decoded from the token's custom errors and leaves the supply as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from web3.exceptions import ContractLogicError

from tests.support import cli
from verifier.devnet import deploy as dep
from verifier.devnet import registry as reg
from verifier.devnet.node import Node, rpc_request
from verifier.errors import IncompleteError
from verifier.local.keys import load_key_file
from verifier.local.loaders import load_attestation_file
from verifier.model.timeutil import format_rfc3339
from verifier.signatures import secp256k1

ROOT = Path(__file__).resolve().parents[2]
TREE = ROOT / "fixtures/vectors/signatures/tree.json"
CUSTODIAN_KEY = ROOT / "fixtures/keys/secp256k1-0.key"
SENDER_KEY = ROOT / "fixtures/keys/secp256k1-2.key"
ISSUER = "Example Issuer Ltd"
TOKEN = "pUSD"
GUARD = "GuardedStablecoin"
FEED = "TestAggregatorV3"
HOUR = 3600
DAY = 86400
MAX_UINT = 2**256 - 1
MAX_INT = 2**255 - 1


def porv(*args: str) -> cli.Run:
    run = cli.porv(args, in_process=True)
    assert "Traceback" not in run.output
    return run


def head_time(url: str) -> int:
    return int(rpc_request(url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)


def jump_to(url: str, ts: int) -> None:
    """Mine a block stamped ``ts`` (later than the head)."""
    dep.set_next_timestamp(url, ts)
    dep.mine(url)


def guard(url: str, feed: str, decimals: int = 6, max_age: int = DAY) -> Any:
    address = dep.deploy(url, GUARD, "Guarded USD", "gUSD", decimals, feed, max_age)
    return dep.contract(url, GUARD, address)


def settable_feed(url: str, decimals: int, answer: int, updated_at: int | None = None) -> Any:
    stamp = head_time(url) if updated_at is None else updated_at
    return dep.contract(url, FEED, dep.deploy(url, FEED, decimals, answer, stamp))


def send(url: str, fn: Any, sender: str | None = None) -> None:
    """Send ``fn`` (a bound contract function) from ``sender`` (dev account 0) and mine it."""
    tx = fn.transact({"from": sender or dep.accounts(url)[0]})
    assert dep.web3_for(url).eth.wait_for_transaction_receipt(tx)["status"] == 1


def mint(url: str, token: Any, amount: int) -> None:
    send(url, token.functions.mint(dep.accounts(url)[1], amount))


def burn(url: str, token: Any, amount: int) -> None:
    send(url, token.functions.burn(amount), dep.accounts(url)[1])


def decoded(exc: BaseException) -> tuple[Any, ...]:
    got = dep.decode_error(GUARD, dep.revert_data(exc))
    assert got is not None, exc
    return (got[0], *got[1])


def refused(url: str, token: Any, amount: int, sender: str | None = None) -> tuple[Any, ...]:
    """The custom error (name, *args) a mint of ``amount`` reverts with; the supply stays."""
    supply = token.functions.totalSupply().call()
    with pytest.raises(ContractLogicError) as exc:
        send(url, token.functions.mint(dep.accounts(url)[1], amount), sender)
    assert token.functions.totalSupply().call() == supply
    return decoded(exc.value)


def view_error(token: Any, function: str) -> tuple[Any, ...]:
    with pytest.raises(ContractLogicError) as exc:
        getattr(token.functions, function)().call()
    return decoded(exc.value)


# --- the whole loop: attest, publish, mint ----------------------------------------------------


def sign(tmp_path: Path, name: str, as_of: int, valid_until: int, sequence: int) -> Path:
    out = tmp_path / name
    run = porv(
        "attest", "sign", "--tree", str(TREE), "--issuer", ISSUER, "--token", TOKEN,
        "--custodian", "custodian-a", "--as-of", format_rfc3339(as_of),
        "--valid-until", format_rfc3339(valid_until), "--sequence", str(sequence),
        "--key-file", str(CUSTODIAN_KEY), "-o", str(out),
    )  # fmt: skip
    assert run.code == 0, run.output
    return out


def publish(url: str, registry: str, att: Path) -> dict[str, Any]:
    run = porv(
        "publish", str(att), "--registry", f"31337:{registry}", "--rpc", url,
        "--key-file", str(SENDER_KEY), "--format", "json",
    )  # fmt: skip
    assert run.code == 0, run.output
    return run.json


def usd_at_6(att: Path) -> int:
    """The attestation's USD total in the feed's 6 decimals (truncating, as the registry)."""
    (usd,) = [t for t in load_attestation_file(att).message.totals if t.currency == "USD"]
    if usd.decimals <= 6:
        return usd.amount * 10 ** (6 - usd.decimals)
    return usd.amount // 10 ** (usd.decimals - 6)


def test_attest_publish_then_mint_within_reserves_only(chain: Node, tmp_path: Path) -> None:
    url = chain.url
    registry = reg.deploy_registry(url, ISSUER, TOKEN, "USD", 6)
    signer = secp256k1.address_of(load_key_file(CUSTODIAN_KEY, "secp256k1"))
    admin = ("--rpc", url, "--registry", f"31337:{registry}", "--custodian", "custodian-a")
    by_rpc = ("--signer-rpc", url, "--from", dep.accounts(url)[0])
    run = porv("registry", "register-signer", *admin, "--signer", signer, *by_rpc)
    assert run.code == 0, run.output
    sender = secp256k1.address_of(load_key_file(SENDER_KEY, "secp256k1"))
    funding = {"from": dep.accounts(url)[0], "to": sender, "value": hex(10**19), "gas": "0x5208"}
    rpc_request(url, "eth_sendTransaction", [funding])

    # the custodian attests, porv publishes: the feed answers the attested USD
    as_of = head_time(url) - 60
    att = sign(tmp_path, "a1.json", as_of, as_of + 30 * DAY, 1)
    report = publish(url, registry, att)
    reserve = usd_at_6(att)
    assert reserve > 0
    assert report["latest_round_data"]["answer"] == str(reserve)
    assert reg.latest_round_data(url, registry).updated_at == as_of

    # a 6-decimal token whose mints must stay within it, with answers at most 2 hours old
    token = guard(url, registry, 6, 2 * HOUR)
    assert token.functions.reserveFeed().call() == registry
    assert (token.functions.feedDecimals().call(), token.functions.maxAge().call()) == (6, 2 * HOUR)
    assert tuple(token.functions.reserve().call()) == (reserve, as_of)
    mint(url, token, reserve - 1)
    assert refused(url, token, 2) == ("ReserveExceeded", reserve + 1, reserve)
    mint(url, token, 1)  # exactly the reserve is fine
    assert token.functions.totalSupply().call() == reserve
    assert token.functions.mintable().call() == 0
    assert refused(url, token, 1) == ("ReserveExceeded", reserve + 1, reserve)
    # only the owner mints; a holder burns its own
    stranger = dep.accounts(url)[2]
    assert refused(url, token, 1, stranger) == ("OwnableUnauthorizedAccount", stranger)
    burn(url, token, 10)
    assert token.functions.mintable().call() == 10

    # two hours after as_of the answer is stale: no mint, burning still works
    jump_to(url, as_of + 2 * HOUR + 1)
    name, updated_at, block_time, max_age = refused(url, token, 1)
    assert (name, updated_at, max_age) == ("StaleReserve", as_of, 2 * HOUR)
    assert block_time > as_of + 2 * HOUR
    burn(url, token, 5)

    # a fresh attestation revives the mints
    as_of2 = head_time(url) - 1
    att2 = sign(tmp_path, "a2.json", as_of2, as_of2 + 6 * HOUR, 2)
    publish(url, registry, att2)
    mint(url, token, 15)
    assert token.functions.mintable().call() == 0

    # the attestation expires: the feed answers 0 dated 0, which blocks mints
    jump_to(url, as_of2 + 6 * HOUR + 1)
    assert reg.latest_round_data(url, registry).answer == 0
    assert refused(url, token, 0)[:2] == ("StaleReserve", 0)

    # a newer one counts again, until the owner revokes its signer
    as_of3 = head_time(url) - 1
    publish(url, registry, sign(tmp_path, "a3.json", as_of3, as_of3 + 30 * DAY, 3))
    burn(url, token, 1)
    mint(url, token, 1)
    run = porv("registry", "revoke-signer", *admin, "--signer", signer, *by_rpc)
    assert run.code == 0, run.output
    assert refused(url, token, 0)[:2] == ("StaleReserve", 0)
    assert view_error(token, "reserve")[:2] == ("StaleReserve", 0)


# --- any AggregatorV3: decimals --------------------------------------------------------------


@pytest.mark.parametrize(
    ("feed_decimals", "answer", "token_decimals", "reserve"),
    [
        (8, 1_000_00000199, 6, 1_000_000001),  # truncated: 0.00000099 USD does not mint
        (8, 99, 6, 0),  # less than one base unit of the token: nothing
        (6, 5_000000, 18, 5 * 10**18),
        (6, 7_000000, 6, 7_000000),
        (0, MAX_INT, 18, MAX_UINT),  # saturates above 2^256-1: covers any supply
        (77, MAX_INT, 0, 0),  # 2^255-1 / 10^77 = 0
        (255, MAX_INT, 0, 0),
        (0, 3, 255, MAX_UINT),
        (18, MAX_INT, 18, MAX_INT),  # int256's largest answer, unscaled: mints exactly that
    ],
    ids=[
        "8-to-6",
        "8-to-6-dust",
        "6-to-18",
        "6-to-6",
        "0-to-18",
        "77-to-0",
        "255-to-0",
        "0-255",
        "int256-max",
    ],
)
def test_the_answer_is_scaled_to_the_token_and_never_up(
    chain: Node, feed_decimals: int, answer: int, token_decimals: int, reserve: int
) -> None:
    url = chain.url
    feed = settable_feed(url, feed_decimals, answer)
    token = guard(url, feed.address, token_decimals)
    assert token.functions.feedDecimals().call() == feed_decimals
    got, updated_at = token.functions.reserve().call()
    assert (got, updated_at) == (reserve, feed.functions.updatedAt().call())
    assert token.functions.mintable().call() == reserve
    if reserve:
        mint(url, token, reserve)
        assert token.functions.totalSupply().call() == reserve
    if reserve == MAX_UINT:
        assert refused(url, token, 1) == ("SupplyOverflow", MAX_UINT, 1)
    else:
        assert refused(url, token, 1) == ("ReserveExceeded", reserve + 1, reserve)


# --- any AggregatorV3: a feed that cannot be trusted blocks mints -----------------------------


def test_a_bad_answer_or_a_bad_feed_blocks_mints(chain: Node) -> None:
    url = chain.url
    now = head_time(url)
    feed = settable_feed(url, 8, 500 * 10**8, now)
    token = guard(url, feed.address, 6, HOUR)
    mint(url, token, 100 * 10**6)

    def set_round(answer: int, updated_at: int) -> None:
        send(url, feed.functions.setRound(answer, updated_at))

    fns, unavailable, ok = feed.functions, ("ReserveFeedUnavailable", feed.address), 500 * 10**8
    cases: list[tuple[str, Any, tuple[Any, ...]]] = [
        ("negative", lambda: set_round(-1, now), ("InvalidReserveAnswer", -1)),
        ("zero", lambda: set_round(0, now), ("InvalidReserveAnswer", 0)),
        ("most negative", lambda: set_round(-(2**255), now), ("InvalidReserveAnswer", -(2**255))),
        ("dated 0", lambda: set_round(ok, 0), ("StaleReserve", 0)),
        ("too old", lambda: set_round(ok, now - HOUR - 60), ("StaleReserve", now - HOUR - 60)),
        ("future", lambda: set_round(ok, now + DAY), ("ReserveFromFuture", now + DAY)),
        ("reverts", lambda: send(url, fns.setMode(1)), unavailable),
        ("junk", lambda: send(url, fns.setMode(2)), unavailable),
        ("decimals", lambda: send(url, fns.setDecimals(6)), ("FeedDecimalsChanged", 8, 6)),
    ]
    for label, break_it, expected in cases:
        break_it()
        got = refused(url, token, 1)
        assert got[: len(expected)] == expected, label
        assert view_error(token, "mintable")[: len(expected)] == expected, label
        # a holder's burn never needs the feed
        burn(url, token, 1)
        # repair: the same feed at a fresh time mints again
        send(url, feed.functions.setMode(0))
        send(url, feed.functions.setDecimals(8))
        set_round(ok, head_time(url))
        mint(url, token, 1)


def test_the_guard_refuses_a_feed_it_cannot_read_at_deployment(chain: Node) -> None:
    url = chain.url
    feed = settable_feed(url, 8, 1)
    cases = [
        ((feed.address, 0), "InvalidGuardConfig"),  # maxAge 0
        (("0x" + "00" * 20, DAY), "InvalidGuardConfig"),
        ((dep.accounts(url)[3], DAY), "InvalidGuardConfig"),  # no code
        ((dep.deploy(url, "MerkleProofCheck"), DAY), "ReserveFeedUnavailable"),  # no decimals()
    ]
    for (address, max_age), error in cases:
        with pytest.raises(
            IncompleteError, match=f"deploying {GUARD} failed: reverted with {error}"
        ):
            dep.deploy(url, GUARD, "Guarded USD", "gUSD", 6, address, max_age)


def test_a_falling_reserve_stops_mints_until_burns_bring_the_supply_under_it(chain: Node) -> None:
    url = chain.url
    feed = settable_feed(url, 6, 1_000 * 10**6)
    token = guard(url, feed.address, 6)
    mint(url, token, 900 * 10**6)
    send(url, feed.functions.setRound(800 * 10**6, head_time(url)))  # reserves fall under supply
    assert token.functions.mintable().call() == 0
    assert refused(url, token, 1) == ("ReserveExceeded", 900 * 10**6 + 1, 800 * 10**6)
    burn(url, token, 150 * 10**6)
    assert token.functions.mintable().call() == 50 * 10**6
    mint(url, token, 50 * 10**6)
    assert token.functions.totalSupply().call() == 800 * 10**6


def _raw_feed(url: str, latest_prefix: bytes) -> str:
    """A hand-assembled feed: ``decimals()`` answers 6; anything else runs ``latest_prefix``,
    then answers round 1 with 1,000,000 (6 decimals), dated this block."""
    from eth_utils.address import to_checksum_address

    head = bytes.fromhex("60003560e01c8063313ce5671461ffff57")  # jump patched below
    body = latest_prefix + bytes.fromhex(
        "600160005264" + (10**12).to_bytes(5, "big").hex() + "602052"
        "4260405242606052600160805260a06000f3"
    )
    dest = len(head) + len(body)
    head = head[:-4] + bytes([0x61, *dest.to_bytes(2, "big"), 0x57])
    runtime = head + body + bytes.fromhex("5b600660005260206000f3")
    init = bytes([0x61, *len(runtime).to_bytes(2, "big"), 0x80, 0x60, 0x0C, 0x60, 0x00, 0x39])
    init += bytes([0x60, 0x00, 0xF3]) + runtime
    tx = {"from": dep.accounts(url)[0], "data": "0x" + init.hex(), "gas": hex(1_000_000)}
    tx_hash = rpc_request(url, "eth_sendTransaction", [tx])
    receipt = dep.web3_for(url).eth.wait_for_transaction_receipt(tx_hash, timeout=60)
    return str(to_checksum_address(receipt["contractAddress"]))


def test_a_feed_that_changes_state_while_answering_blocks_mints(chain: Node) -> None:
    """The guard reads its feed by static call: a feed that writes (the first step of any
    reentry into the token) cannot answer it, so mints stop; the same code read by a plain
    call answers a good round, and a feed without the write lets the same mint through."""
    url = chain.url
    honest = _raw_feed(url, b"")
    writer = _raw_feed(url, bytes.fromhex("6001600055"))  # sstore(0, 1)
    selector = "0xfeaf968c"  # latestRoundData()
    for feed in (honest, writer):
        answer = rpc_request(url, "eth_call", [{"to": feed, "data": selector}, "latest"])
        assert int(answer[2 + 64 : 2 + 128], 16) == 10**12
    ok = guard(url, honest, 6, HOUR)
    mint(url, ok, 10**12)
    blocked = guard(url, writer, 6, HOUR)
    assert refused(url, blocked, 1) == ("ReserveFeedUnavailable", writer)
    assert blocked.functions.totalSupply().call() == 0
