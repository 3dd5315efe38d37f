"""The registry's reserve feed must not overstate (issue 12, item 0).

``latestRoundData`` is what a minting guard or any AggregatorV3 consumer believes. These
attacks run on anvil and on the embedded chain: the answer counts only attestations that are
unexpired at the current block and whose signer is still registered; ``updatedAt`` and
``startedAt`` are the oldest counted contribution's ``asOf``; an expired attestation, one as of
a time the chain has not reached, or a sequence jumping towards 2^64-1 is refused. A revoked
key's record is void for good (re-registering the key does not bring it back), and a custodian
that leaves the feed (its record's key revoked, or removed by the owner) frees its place.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from verifier.chain.feed import feed_reading
from verifier.chain.registry import MAX_SEQUENCE_STEP
from verifier.devnet import deploy as dep
from verifier.devnet import registry as reg
from verifier.devnet.node import Node, rpc_request
from verifier.devnet.nodes import start_node
from verifier.errors import IncompleteError
from verifier.model.attestation import AttestationMessage, Total
from verifier.signatures import secp256k1
from verifier.signatures.eip712 import attestation_digest

ISSUER = "Example Issuer Ltd"
TOKEN = "pUSD"
KEY_A = bytes.fromhex("a1" * 32)
KEY_B = bytes.fromhex("b2" * 32)
M = 10**6  # one USD at the feed's 6 decimals
MAX_STEP = 2**32
assert MAX_SEQUENCE_STEP == MAX_STEP


@pytest.fixture(
    scope="module",
    params=["embedded", pytest.param("anvil", marks=pytest.mark.anvil)],
)
def node(request: pytest.FixtureRequest) -> Iterator[Node]:
    started = start_node(str(request.param), 31337)
    try:
        yield started
    finally:
        started.stop()


def head_time(url: str) -> int:
    return int(rpc_request(url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)


def jump_to(url: str, ts: int) -> None:
    """Mine a block stamped ``ts`` (later than the head)."""
    dep.set_next_timestamp(url, ts)
    dep.mine(url)


def att(
    custodian: str, sequence: int, usd: int, as_of: int, valid_until: int, **kw: Any
) -> AttestationMessage:
    fields: dict[str, Any] = {
        "issuer": ISSUER,
        "token": TOKEN,
        "custodian": custodian,
        "holdings_root": bytes(32),
        "leaf_count": 1,
        "totals": (Total("USD", usd * M, 6),),
        "as_of": as_of,
        "valid_until": valid_until,
        "sequence": sequence,
    }
    fields.update(kw)
    return AttestationMessage(**fields)


def submit(url: str, registry: str, msg: AttestationMessage, key: bytes) -> Any:
    return reg.submit_attestation(url, registry, msg, secp256k1.sign(attestation_digest(msg), key))


def rejected(url: str, registry: str, msg: AttestationMessage, key: bytes) -> tuple[str, Any]:
    with pytest.raises(reg.RegistryRejectedError) as exc:
        submit(url, registry, msg, key)
    return exc.value.reason, exc.value.args_decoded


def fresh_registry(url: str) -> str:
    registry = reg.deploy_registry(url, ISSUER, TOKEN, "USD", 6)
    reg.register_signer(url, registry, "custodian-a", secp256k1.address_of(KEY_A))
    reg.register_signer(url, registry, "custodian-b", secp256k1.address_of(KEY_B))
    return registry


def revoke(url: str, registry: str, custodian: str, key: bytes) -> None:
    reg.send_transaction(url, registry, "revokeSigner", (custodian, secp256k1.address_of(key)))


def test_issue_scenario_reserves_moved_signer_revoked_and_expired(node: Node) -> None:
    """a and b attest 100M each; the reserves move to b (200M); a's signer is revoked and a's
    attestation expires: the feed answers 200M, not 300M."""
    url = node.url
    registry = fresh_registry(url)
    t = head_time(url)
    submit(url, registry, att("custodian-a", 1, 100_000_000, t - 100, t + 1_000), KEY_A)
    submit(url, registry, att("custodian-b", 1, 100_000_000, t - 100, t + 100_000), KEY_B)
    assert reg.latest_round_data(url, registry).answer == 200_000_000 * M
    b2 = att("custodian-b", 2, 200_000_000, t - 10, t + 100_000)
    submit(url, registry, b2, KEY_B)
    revoke(url, registry, "custodian-a", KEY_A)
    jump_to(url, t + 1_001)
    r = reg.latest_round_data(url, registry)
    assert r.answer == 200_000_000 * M
    assert (r.started_at, r.updated_at) == (b2.as_of, b2.as_of)
    assert r.answered_in_round == r.round_id


def test_expired_attestation_stops_counting(node: Node) -> None:
    url = node.url
    registry = fresh_registry(url)
    t = head_time(url)
    a = att("custodian-a", 1, 100, t - 50, t + 500)
    b = att("custodian-b", 1, 40, t - 20, t + 50_000)
    submit(url, registry, a, KEY_A)
    submit(url, registry, b, KEY_B)
    jump_to(url, t + 500)  # the last second a is valid (block.timestamp <= validUntil)
    assert reg.latest_round_data(url, registry).answer == 140 * M
    jump_to(url, t + 501)
    r = reg.latest_round_data(url, registry)
    assert r.answer == 40 * M
    assert r.updated_at == b.as_of
    # getRoundData of the latest round is the same live answer
    assert reg.get_round_data(url, registry, r.round_id) == r


def test_revoked_signer_stops_counting_and_a_new_signer_restores(node: Node) -> None:
    url = node.url
    registry = fresh_registry(url)
    t = head_time(url)
    submit(url, registry, att("custodian-a", 1, 100, t - 50, t + 50_000), KEY_A)
    submit(url, registry, att("custodian-b", 1, 40, t - 20, t + 50_000), KEY_B)
    before = reg.latest_round_data(url, registry)
    assert before.answer == 140 * M
    revoke(url, registry, "custodian-a", KEY_A)
    after = reg.latest_round_data(url, registry)
    assert after.answer == 40 * M
    assert after.round_id > before.round_id  # the revocation opened a new round
    assert reg.get_round_data(url, registry, before.round_id).answer == 140 * M
    # a's new key continues the sequence and counts again
    new_key = bytes.fromhex("a2" * 32)
    reg.register_signer(url, registry, "custodian-a", secp256k1.address_of(new_key))
    assert reg.latest_round_data(url, registry).answer == 40 * M
    submit(url, registry, att("custodian-a", 2, 90, t - 5, t + 50_000), new_key)
    assert reg.latest_round_data(url, registry).answer == 130 * M


def test_updated_at_is_the_oldest_contribution_not_the_last_submission(node: Node) -> None:
    url = node.url
    registry = fresh_registry(url)
    t = head_time(url)
    old = att("custodian-a", 1, 100, t - 86_400 * 20, t + 50_000)
    submit(url, registry, old, KEY_A)
    jump_to(url, t + 600)
    receipt = submit(url, registry, att("custodian-b", 1, 40, t + 500, t + 50_000), KEY_B)
    block_time = dep.web3_for(url).eth.get_block(receipt["blockNumber"])["timestamp"]
    r = reg.latest_round_data(url, registry)
    assert r.answer == 140 * M
    assert r.updated_at == old.as_of != block_time
    assert r.started_at == old.as_of


def test_nothing_counts_answers_zero_and_no_update_time(node: Node) -> None:
    url = node.url
    registry = fresh_registry(url)
    t = head_time(url)
    submit(url, registry, att("custodian-a", 1, 100, t - 50, t + 100), KEY_A)
    jump_to(url, t + 101)
    r = reg.latest_round_data(url, registry)
    assert (r.answer, r.started_at, r.updated_at) == (0, 0, 0)
    # porv's reader (and any consumer following Chainlink's advice) sees no valid round
    c = dep.contract(url, reg.NAME, registry)
    raw = dep.web3_for(url).eth.call(
        {"to": registry, "data": c.encode_abi("latestRoundData", [])}, "latest"
    )
    dec = (6).to_bytes(32, "big")
    with pytest.raises(IncompleteError, match="answer 0 is not positive"):
        feed_reading(
            "feed",
            dec,
            bytes(raw),
            now=t + 200,
            block_number=0,
            block_hash="",
            malformed=IncompleteError,
        )


def test_expired_attestation_is_refused(node: Node) -> None:
    url = node.url
    registry = fresh_registry(url)
    t = head_time(url)
    expired = att("custodian-a", 1, 100, t - 1_000, t - 1)
    reason, args = rejected(url, registry, expired, KEY_A)
    assert reason == "AttestationExpired"
    assert args[0] == t - 1 and args[1] > t - 1
    assert not reg.latest(url, registry, ISSUER, TOKEN, "custodian-a").exists


def test_as_of_after_the_chain_clock_is_refused(node: Node) -> None:
    """A future ``asOf`` would make a stale contribution look fresh for ever."""
    url = node.url
    registry = fresh_registry(url)
    t = head_time(url)
    reason, args = rejected(url, registry, att("custodian-a", 1, 1, t + 86_400, t + 90_000), KEY_A)
    assert reason == "AsOfInFuture"
    assert args[0] == t + 86_400


def test_sequence_cannot_be_pushed_to_the_maximum(node: Node) -> None:
    """A leaked key cannot lock a record by submitting sequence 2^64-1 (or close to it)."""
    url = node.url
    registry = fresh_registry(url)
    c = dep.contract(url, reg.NAME, registry)
    assert c.functions.MAX_SEQUENCE_STEP().call() == MAX_SEQUENCE_STEP  # what publish checks
    t = head_time(url)
    for seq in (2**64 - 1, MAX_STEP + 1):
        reason, args = rejected(url, registry, att("custodian-a", seq, 1, t - 5, t + 9_000), KEY_A)
        assert reason == "SequenceJumpTooLarge"
        assert args == (0, seq, MAX_STEP)
    submit(url, registry, att("custodian-a", 5, 1, t - 5, t + 9_000), KEY_A)
    reason, args = rejected(
        url, registry, att("custodian-a", 5 + MAX_STEP + 1, 1, t - 5, t + 9_000), KEY_A
    )
    assert (reason, args) == ("SequenceJumpTooLarge", (5, 5 + MAX_STEP + 1, MAX_STEP))
    submit(url, registry, att("custodian-a", 5 + MAX_STEP, 2, t - 4, t + 9_000), KEY_A)
    record = reg.latest(url, registry, ISSUER, TOKEN, "custodian-a")
    assert record.sequence == 5 + MAX_STEP
    # the record is not locked: the next step is still open
    submit(url, registry, att("custodian-a", 6 + MAX_STEP, 3, t - 3, t + 9_000), KEY_A)


@pytest.mark.anvil
def test_feed_custodians_are_capped_and_the_read_is_bounded() -> None:
    """The feed iterates its custodians: at most 32, so a full read has a known bound."""
    node = start_node("anvil", 31337)
    try:
        url = node.url
        registry = reg.deploy_registry(url, ISSUER, TOKEN, "USD", 6)
        c = dep.contract(url, reg.NAME, registry)
        cap = c.functions.MAX_FEED_CUSTODIANS().call()
        assert cap == 32
        t = head_time(url)
        for i in range(cap + 1):
            key = (i + 1).to_bytes(32, "big")
            cid = f"custodian-{i:02d}"
            reg.register_signer(url, registry, cid, secp256k1.address_of(key))
            msg = att(cid, 1, 1, t - 5, t + 90_000)
            if i < cap:
                submit(url, registry, msg, key)
            else:
                reason, args = rejected(url, registry, msg, key)
                assert (reason, args) == ("TooManyFeedCustodians", (cap,))
                # another token's attestation is not in the feed, so not capped
                submit(url, registry, att(cid, 1, 1, t - 5, t + 90_000, token="pEUR"), key)
        assert c.functions.feedCustodianCount().call() == cap
        assert reg.latest_round_data(url, registry).answer == cap * M
        gas = c.functions.latestRoundData().estimate_gas()
        assert gas < 350_000, gas  # measured 326,304 with 32 custodians on anvil
    finally:
        node.stop()


def test_re_registering_a_revoked_signer_does_not_bring_back_its_total(node: Node) -> None:
    """A key revoked because it signed a wrong total: re-registering it (the owner trusts it
    again) must not resurrect that total, nor any other attestation it signed as of a time
    before the revocation. Only a new attestation as of after the revocation counts."""
    url = node.url
    registry = fresh_registry(url)
    t = head_time(url)
    submit(url, registry, att("custodian-a", 1, 1_000, t - 50, t + 50_000), KEY_A)  # wrong
    submit(url, registry, att("custodian-b", 1, 40, t - 20, t + 50_000), KEY_B)
    assert reg.latest_round_data(url, registry).answer == 1_040 * M
    presigned = att("custodian-a", 2, 2_000, t - 10, t + 50_000)  # signed before, never sent
    revoke(url, registry, "custodian-a", KEY_A)
    revoked_at = head_time(url)
    assert reg.latest_round_data(url, registry).answer == 40 * M
    reg.register_signer(url, registry, "custodian-a", secp256k1.address_of(KEY_A))
    c = dep.contract(url, reg.NAME, registry)
    r = reg.latest_round_data(url, registry)
    assert r.answer == 40 * M, "the revoked record counts again after re-registration"
    assert c.functions.contributionOf("custodian-a").call()[4] is False
    assert c.functions.revokedAt("custodian-a", secp256k1.address_of(KEY_A)).call() == revoked_at
    reason, args = rejected(url, registry, presigned, KEY_A)
    assert (reason, args) == ("SignedBeforeRevocation", (t - 10, revoked_at))
    edge = att("custodian-a", 2, 2_000, revoked_at, t + 50_000)  # as of the revocation's second
    assert rejected(url, registry, edge, KEY_A)[0] == "SignedBeforeRevocation"
    assert reg.latest_round_data(url, registry).answer == 40 * M
    # the record the feed no longer counts stays readable as what was accepted
    assert reg.latest(url, registry, ISSUER, TOKEN, "custodian-a").sequence == 1
    # a new attestation, as of after the revocation, with a higher sequence counts normally
    jump_to(url, revoked_at + 10)
    fixed = att("custodian-a", 2, 90, revoked_at + 5, revoked_at + 50_000)
    submit(url, registry, fixed, KEY_A)
    assert reg.latest_round_data(url, registry).answer == 130 * M
    # another custodian's revocation of the same address does not touch custodian-a
    reg.register_signer(url, registry, "custodian-c", secp256k1.address_of(KEY_A))
    revoke(url, registry, "custodian-c", KEY_A)
    assert reg.latest_round_data(url, registry).answer == 130 * M


def test_revoking_another_signer_of_the_custodian_keeps_its_record(node: Node) -> None:
    """Only the record signed by the revoked key is voided."""
    url = node.url
    registry = fresh_registry(url)
    other = bytes.fromhex("a3" * 32)
    reg.register_signer(url, registry, "custodian-a", secp256k1.address_of(other))
    t = head_time(url)
    submit(url, registry, att("custodian-a", 1, 100, t - 50, t + 50_000), KEY_A)
    revoke(url, registry, "custodian-a", other)
    assert reg.latest_round_data(url, registry).answer == 100 * M
    c = dep.contract(url, reg.NAME, registry)
    assert c.functions.feedCustodianCount().call() == 1


ZERO_ADDRESS = "0x" + "00" * 20
ONE = (1).to_bytes(32, "big")  # custodian-00's key in fill_feed


def rejected_call(url: str, registry: str, function: str, args: tuple[Any, ...]) -> tuple[str, Any]:
    with pytest.raises(reg.RegistryRejectedError) as exc:
        reg.send_transaction(url, registry, function, args)
    return exc.value.reason, exc.value.args_decoded


def fill_feed(url: str, registry: str, n: int, t: int) -> None:
    for i in range(n):
        key = (i + 1).to_bytes(32, "big")
        cid = f"custodian-{i:02d}"
        reg.register_signer(url, registry, cid, secp256k1.address_of(key))
        submit(url, registry, att(cid, 1, 1, t - 5, t + 90_000), key)


@pytest.mark.anvil
def test_a_freed_feed_place_takes_a_new_custodian() -> None:
    """The 32 places are not spent for ever: revoking the signer of a custodian's record, or
    the owner removing the custodian, frees its place (swap and pop, bounded gas)."""
    node = start_node("anvil", 31337)
    try:
        url = node.url
        registry = reg.deploy_registry(url, ISSUER, TOKEN, "USD", 6)
        c = dep.contract(url, reg.NAME, registry)
        cap = c.functions.MAX_FEED_CUSTODIANS().call()
        t = head_time(url)
        fill_feed(url, registry, cap, t)
        late_key = bytes.fromhex("c3" * 32)
        reg.register_signer(url, registry, "late", secp256k1.address_of(late_key))
        late = att("late", 1, 1_000, t - 5, t + 90_000)
        assert rejected(url, registry, late, late_key)[0] == "TooManyFeedCustodians"
        # the owner revokes custodian-05's key: its place is free
        revoke(url, registry, "custodian-05", (6).to_bytes(32, "big"))
        assert c.functions.feedCustodianCount().call() == cap - 1
        submit(url, registry, late, late_key)
        assert c.functions.feedCustodianCount().call() == cap
        assert reg.latest_round_data(url, registry).answer == (cap - 1 + 1_000) * M
        # the owner removes custodian-00 (its key stays registered): its place is free too
        receipt = reg.send_transaction(url, registry, "removeFeedCustodian", ("custodian-00",))
        # freeing the place is constant gas; the new round it opens reads every place
        # (measured 383,721 with 32 places on anvil)
        assert receipt["gasUsed"] < 450_000, receipt["gasUsed"]
        assert c.functions.feedCustodianCount().call() == cap - 1
        assert reg.latest_round_data(url, registry).answer == (cap - 2 + 1_000) * M
        assert c.functions.contributionOf("custodian-00").call()[3] == ZERO_ADDRESS
        later_key = bytes.fromhex("c4" * 32)
        reg.register_signer(url, registry, "later", secp256k1.address_of(later_key))
        submit(url, registry, att("later", 1, 7, t - 5, t + 90_000), later_key)
        assert reg.latest_round_data(url, registry).answer == (cap - 2 + 1_007) * M
        # a removed custodian comes back with its next attestation (a higher sequence only)
        assert rejected(url, registry, att("custodian-00", 1, 1, t - 5, t + 90_000), ONE)[0] == (
            "SequenceNotIncreasing"
        )
        assert rejected(url, registry, att("custodian-00", 2, 1, t - 4, t + 90_000), ONE)[0] == (
            "TooManyFeedCustodians"
        )
        reason, args = rejected_call(url, registry, "removeFeedCustodian", ("nobody",))
        assert (reason, args) == ("NotInFeed", ("nobody",))
        gas = c.functions.latestRoundData().estimate_gas()
        assert gas < 350_000, gas  # measured 326,304 after swaps, as with the first 32
    finally:
        node.stop()


def test_remove_feed_custodian_is_owner_only_and_opens_a_round(node: Node) -> None:
    url = node.url
    registry = fresh_registry(url)
    t = head_time(url)
    submit(url, registry, att("custodian-a", 1, 100, t - 50, t + 50_000), KEY_A)
    submit(url, registry, att("custodian-b", 1, 40, t - 20, t + 50_000), KEY_B)
    before = reg.latest_round_data(url, registry)
    stranger = dep.accounts(url)[3]
    with pytest.raises(reg.RegistryRejectedError) as exc:
        reg.send_transaction(url, registry, "removeFeedCustodian", ("custodian-a",), stranger)
    assert exc.value.reason == "OwnableUnauthorizedAccount"
    assert reg.latest_round_data(url, registry) == before
    reg.send_transaction(url, registry, "removeFeedCustodian", ("custodian-a",))
    after = reg.latest_round_data(url, registry)
    assert after.answer == 40 * M and after.round_id == before.round_id + 1
    assert reg.get_round_data(url, registry, before.round_id).answer == 140 * M
    submit(url, registry, att("custodian-a", 2, 60, t - 10, t + 50_000), KEY_A)
    assert reg.latest_round_data(url, registry).answer == 100 * M
