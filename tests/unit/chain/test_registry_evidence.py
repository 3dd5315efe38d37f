"""Registry evidence: the policy's pin, porv's code, signers porv recovers itself, and feed and
registry reads that every endpoint must agree on."""

from __future__ import annotations

import pytest

from tests.support.fakenode import FEED, U1, U2, Network, chain, feed_chain
from verifier.chain.contracts import load_contract, runtime_code_matches
from verifier.chain.feed import read_feed_all
from verifier.chain.registry import parse_registry_option
from verifier.chain.rpc import Call, call_all_endpoints, read_all_endpoints
from verifier.checks.bundle import _registry_signer
from verifier.checks.evidence import RegistryEvidence
from verifier.errors import (
    EndpointsDisagreeError,
    InputError,
    NotFinalError,
    RegistryUntrustedError,
    WrongChainError,
)
from verifier.model.policy import ContractRef
from verifier.signatures import secp256k1

REGISTRY = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
OTHER = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
KEY1, KEY2 = b"\x01" * 32, b"\x02" * 32
DIGEST = b"\x42" * 32


def test_runtime_code_is_compared_with_immutables_masked() -> None:
    art = load_contract("ReserveAttestationRegistry")
    code = bytes.fromhex(art.deployed_bytecode[2:])
    assert art.immutable_references, "the registry has immutables (domain separator, hashes)"
    assert runtime_code_matches("ReserveAttestationRegistry", code)
    start, length = art.immutable_references[0]
    filled = code[:start] + b"\xab" * length + code[start + length :]
    assert runtime_code_matches("ReserveAttestationRegistry", filled)
    outside = next(
        i for i in range(len(code)) if all(not s <= i < s + n for s, n in art.immutable_references)
    )
    changed = code[:outside] + bytes([code[outside] ^ 1]) + code[outside + 1 :]
    assert not runtime_code_matches("ReserveAttestationRegistry", changed)
    assert not runtime_code_matches("ReserveAttestationRegistry", code + b"\x00")
    assert not runtime_code_matches("ReserveAttestationRegistry", b"")


def test_from_registry_must_name_the_policys_pin() -> None:
    pin = ContractRef(31337, REGISTRY)
    assert parse_registry_option(REGISTRY, pin) == (31337, REGISTRY)
    assert parse_registry_option(f"31337:{REGISTRY}", pin) == (31337, REGISTRY)
    for value, words in (
        (OTHER, "policy pins"),
        (f"1:{REGISTRY}", "policy pins"),
        (REGISTRY.lower(), "checksummed"),
        ("nonsense", "checksummed"),
        (f"x:{REGISTRY}", "CHAIN_ID:ADDR"),
        (f"{'1' * 5000}:{REGISTRY}", "CHAIN_ID:ADDR"),
    ):
        with pytest.raises(InputError, match=words):
            parse_registry_option(value, pin)
    with pytest.raises(InputError, match=r"\[registry\]"):
        parse_registry_option(REGISTRY, None)


def evidence(signer: str, signature: bytes, **kw: object) -> RegistryEvidence:
    fields: dict[str, object] = {
        "custodian": "c",
        "exists": True,
        "sequence": 1,
        "digest": DIGEST,
        "signer": signer,
        "signature": signature,
    }
    fields.update(kw)
    return RegistryEvidence(**fields)  # type: ignore[arg-type]


def test_the_registry_signer_is_recovered_by_porv() -> None:
    a1, a2 = secp256k1.address_of(KEY1), secp256k1.address_of(KEY2)
    sig1 = secp256k1.sign(DIGEST, KEY1)
    assert _registry_signer("c", evidence(a1, sig1), DIGEST, 1) == a1
    # storage that names a pinned key the signature is not from: refused, never credited
    with pytest.raises(RegistryUntrustedError, match="recovers to"):
        _registry_signer("c", evidence(a2, sig1), DIGEST, 1)
    # a malleable twin, no signature, another code: refused
    with pytest.raises(RegistryUntrustedError, match="does not verify"):
        _registry_signer("c", evidence(a1, secp256k1.high_s_twin(sig1)), DIGEST, 1)
    with pytest.raises(RegistryUntrustedError, match="does not verify"):
        _registry_signer("c", evidence(a1, b""), DIGEST, 1)
    with pytest.raises(RegistryUntrustedError, match="no contract code"):
        _registry_signer("c", evidence(a1, sig1, untrusted="x has no contract code"), DIGEST, 1)


def test_evidence_json_round_trip_keeps_the_signature() -> None:
    e = evidence(secp256k1.address_of(KEY1), secp256k1.sign(DIGEST, KEY1))
    assert RegistryEvidence.from_json(e.to_json()) == e
    bad = {**e.to_json(), "signature": "zz"}
    with pytest.raises(ValueError):
        RegistryEvidence.from_json(bad)


@pytest.mark.parametrize(
    ("field", "value"),
    [("exists", "false"), ("exists", 0), ("exists", 1), ("sequence", "1"), ("sequence", True)],
)
def test_evidence_json_booleans_and_integers_are_real(field: str, value: object) -> None:
    """A recorded ``"exists": "false"`` must not read as true (``bool("false")`` is True)."""
    e = evidence(secp256k1.address_of(KEY1), secp256k1.sign(DIGEST, KEY1), exists=False)
    with pytest.raises(ValueError):
        RegistryEvidence.from_json({**e.to_json(), field: value})


def test_feed_is_read_on_every_endpoint_and_they_must_agree() -> None:
    rnd = (7, 8_000_000, 900, 1_000, 7)
    same = Network({U1: feed_chain(rnd), U2: feed_chain(rnd)})
    reading = read_feed_all(31337, [U1, U2], FEED, now=1_600, transport=same.transport)
    assert reading.answer == 8_000_000 and reading.block_number == 199
    other = Network({U1: feed_chain(rnd), U2: feed_chain((7, 9_000_000, 900, 1_000, 7))})
    with pytest.raises(EndpointsDisagreeError, match="eth_call result"):
        read_feed_all(31337, [U1, U2], FEED, now=1_600, transport=other.transport)


def test_unpinned_reads_never_let_a_lagging_endpoint_choose_the_block() -> None:
    # DESIGN §1 "Final pin": an endpoint that is behind is an error, never a lower block
    behind = chain(blocks=150)
    for urls in ([U1, U2], [U2, U1]):
        net = Network({U1: chain(), U2: behind})
        for finality in ("finalized", "latest", 3):
            with pytest.raises(NotFinalError, match=f"endpoint {U2} is behind"):
                read_all_endpoints(
                    31337,
                    urls,
                    [Call("eth_getCode", (REGISTRY,))],
                    finality=finality,
                    transport=net.transport,
                )
    net = Network({U1: chain(), U2: chain()})
    header, (code,) = read_all_endpoints(
        31337, [U1, U2], [Call("eth_getCode", (REGISTRY,))], finality=3, transport=net.transport
    )
    assert header.number == 199 - 3 and code == b""


def test_wallet_reads_without_a_supply_pin_follow_the_chain_finality() -> None:
    # an EIP-1271 wallet on a chain where supply pinned no block: the policy's finality
    # chooses the block, and an endpoint behind it stops the run (exit 3)
    from unittest import mock

    from verifier.chain.eip1271 import eip1271_checker

    net = Network({U1: chain(), U2: chain(blocks=150)})
    seen: list[str | int] = []

    def via_fake(*args: object, **kw: object) -> bytes | None:
        seen.append(kw["finality"])  # type: ignore[arg-type]
        return call_all_endpoints(*args, **{**kw, "transport": net.transport})  # type: ignore[arg-type]

    with mock.patch("verifier.chain.rpc.call_all_endpoints", via_fake):
        check = eip1271_checker({31337: [U1, U2], 5: [U1]}, finality=lambda chain_id: 3)
        with pytest.raises(NotFinalError, match=f"endpoint {U2} is behind") as info:
            check(31337, FEED, b"\0" * 32, b"\1" * 65, None)
        with pytest.raises(WrongChainError, match="serves chain id 31337"):  # before any block
            check(5, FEED, b"\0" * 32, b"\1" * 65, None)
    assert info.value.exit_code == 3 and seen == [3, 3]
