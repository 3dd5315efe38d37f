"""porv's contracts on real local chains: registry (EIP-712 on-chain, sequence, feed),
EIP-1271 wallet, on-chain Merkle proofs of holdings, the test token."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from web3.logs import DISCARD

from verifier.devnet import deploy as dep
from verifier.devnet import registry as reg
from verifier.devnet.node import Node
from verifier.errors import IncompleteError
from verifier.merkle.tree import StandardMerkleTree, leaf_hash
from verifier.model.attestation import AttestationMessage, Total
from verifier.model.holdings import Holding
from verifier.signatures import secp256k1
from verifier.signatures.eip712 import attestation_digest

pytestmark = pytest.mark.anvil

ISSUER = "Example Issuer Ltd"
TOKEN = "pUSD"
KEY_A = bytes.fromhex("aa" * 32)
KEY_B = bytes.fromhex("bb" * 32)
KEY_OTHER = bytes.fromhex("cc" * 32)


def message(custodian: str = "custodian-a", sequence: int = 1, usd: int = 5_000_000, **kw: object):
    fields: dict[str, object] = {
        "issuer": ISSUER,
        "token": TOKEN,
        "custodian": custodian,
        "holdings_root": bytes(range(32)),
        "leaf_count": 3,
        "totals": (Total("EUR", 7_000, 2), Total("USD", usd, 6)),
        "as_of": 1_767_225_600,
        "valid_until": 4_102_444_800,  # 2100: the registry refuses an expired attestation
        "sequence": sequence,
    }
    fields.update(kw)
    return AttestationMessage(**fields)  # type: ignore[arg-type]


def sign(msg: AttestationMessage, key: bytes) -> bytes:
    return secp256k1.sign(attestation_digest(msg), key)


@pytest.fixture(scope="module")
def registry(anvil_chain: Node) -> str:
    address = reg.deploy_registry(anvil_chain.url, ISSUER, TOKEN, "USD", 6)
    reg.register_signer(anvil_chain.url, address, "custodian-a", secp256k1.address_of(KEY_A))
    reg.register_signer(anvil_chain.url, address, "custodian-b", secp256k1.address_of(KEY_B))
    return address


# --- EIP-712 digest equality ------------------------------------------------------------------


@pytest.mark.parametrize(
    "msg",
    [
        message(),
        message(custodian="Bänk «Zürich» 銀行", totals=()),
        message(sequence=2**64 - 1, usd=2**256 - 1, leaf_count=0, holdings_root=b"\xff" * 32),
    ],
    ids=["two-totals", "unicode-no-totals", "extremes"],
)
def test_registry_digest_equals_porv_and_eth_account(
    anvil_chain: Node, registry: str, msg: AttestationMessage
) -> None:
    on_chain = reg.digest_of(anvil_chain.url, registry, msg)
    reference = encode_typed_data(
        full_message={
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                ],
                "ReserveAttestation": [
                    {"name": "issuer", "type": "string"},
                    {"name": "token", "type": "string"},
                    {"name": "custodian", "type": "string"},
                    {"name": "holdingsRoot", "type": "bytes32"},
                    {"name": "leafCount", "type": "uint256"},
                    {"name": "totals", "type": "Total[]"},
                    {"name": "asOf", "type": "uint64"},
                    {"name": "validUntil", "type": "uint64"},
                    {"name": "sequence", "type": "uint64"},
                ],
                "Total": [
                    {"name": "currency", "type": "string"},
                    {"name": "amount", "type": "uint256"},
                    {"name": "decimals", "type": "uint8"},
                ],
            },
            "primaryType": "ReserveAttestation",
            "domain": {"name": "porv", "version": "1"},
            "message": {
                "issuer": msg.issuer,
                "token": msg.token,
                "custodian": msg.custodian,
                "holdingsRoot": msg.holdings_root,
                "leafCount": msg.leaf_count,
                "totals": [
                    {"currency": t.currency, "amount": t.amount, "decimals": t.decimals}
                    for t in msg.totals
                ],
                "asOf": msg.as_of,
                "validUntil": msg.valid_until,
                "sequence": msg.sequence,
            },
        }
    )
    eth_account_digest = b"\x19" + reference.version + reference.header + reference.body
    from eth_utils.crypto import keccak

    assert on_chain == attestation_digest(msg)
    assert on_chain == keccak(eth_account_digest)


def test_digest_of_embedded_equals_porv(embedded_chain: Node) -> None:
    address = reg.deploy_registry(embedded_chain.url, ISSUER, TOKEN, "USD", 6)
    msg = message()
    assert reg.digest_of(embedded_chain.url, address, msg) == attestation_digest(msg)


# --- submissions ------------------------------------------------------------------------------


def test_registry_accepts_porv_signed_attestation_and_rejects_replays(
    anvil_chain: Node, registry: str
) -> None:
    url = anvil_chain.url
    msg = message(sequence=5)
    receipt = reg.submit_attestation(url, registry, msg, sign(msg, KEY_A))
    assert receipt["status"] == 1
    events = (
        dep.contract(url, reg.NAME, registry)
        .events.AttestationSubmitted()
        .process_receipt(receipt, errors=DISCARD)
    )
    assert len(events) == 1
    assert events[0]["args"]["digest"] == attestation_digest(msg)
    assert events[0]["args"]["signer"] == secp256k1.address_of(KEY_A)

    record = reg.latest(url, registry, ISSUER, TOKEN, "custodian-a")
    assert record.exists and record.sequence == 5
    assert record.digest == attestation_digest(msg)
    assert record.holdings_root == msg.holdings_root
    assert record.signer == secp256k1.address_of(KEY_A)

    # the same attestation again: rejected
    with pytest.raises(reg.RegistryRejectedError) as replay:
        reg.submit_attestation(url, registry, msg, sign(msg, KEY_A))
    assert replay.value.reason == "SequenceNotIncreasing"
    assert replay.value.args_decoded == (5, 5)
    assert replay.value.exit_code == 1

    # a lower sequence: rejected
    lower = message(sequence=4)
    with pytest.raises(reg.RegistryRejectedError) as low:
        reg.submit_attestation(url, registry, lower, sign(lower, KEY_A))
    assert low.value.reason == "SequenceNotIncreasing"

    # a higher one: accepted, and stored
    higher = message(sequence=6, usd=6_000_000)
    reg.submit_attestation(url, registry, higher, sign(higher, KEY_A))
    assert reg.latest(url, registry, ISSUER, TOKEN, "custodian-a").sequence == 6


def test_registry_rejects_high_s_twin(anvil_chain: Node, registry: str) -> None:
    msg = message(custodian="custodian-b", sequence=1)
    good = sign(msg, KEY_B)
    twin = secp256k1.high_s_twin(good)
    assert twin != good
    with pytest.raises(reg.RegistryRejectedError) as exc:
        reg.submit_attestation(anvil_chain.url, registry, msg, twin)
    assert exc.value.reason == "ECDSAInvalidSignatureS"
    assert not reg.latest(anvil_chain.url, registry, ISSUER, TOKEN, "custodian-b").exists


def test_registry_rejects_unregistered_signer(anvil_chain: Node, registry: str) -> None:
    msg = message(custodian="custodian-a", sequence=100)
    with pytest.raises(reg.RegistryRejectedError) as exc:
        reg.submit_attestation(anvil_chain.url, registry, msg, sign(msg, KEY_OTHER))
    assert exc.value.reason == "UnknownSigner"
    assert exc.value.args_decoded == (secp256k1.address_of(KEY_OTHER),)
    # custodian-b's key is registered, but not for custodian-a
    with pytest.raises(reg.RegistryRejectedError) as cross:
        reg.submit_attestation(anvil_chain.url, registry, msg, sign(msg, KEY_B))
    assert cross.value.reason == "UnknownSigner"


def test_registry_rejects_changed_message(anvil_chain: Node, registry: str) -> None:
    signed = message(custodian="custodian-a", sequence=200)
    changed = message(custodian="custodian-a", sequence=200, usd=999)
    with pytest.raises(reg.RegistryRejectedError) as exc:
        reg.submit_attestation(anvil_chain.url, registry, changed, sign(signed, KEY_A))
    assert exc.value.reason == "UnknownSigner"  # recovers to some other address


def test_only_owner_registers_signers(anvil_chain: Node, registry: str) -> None:
    other = dep.accounts(anvil_chain.url)[3]
    with pytest.raises(IncompleteError, match=r"OwnableUnauthorizedAccount"):
        reg.register_signer(
            anvil_chain.url, registry, "custodian-a", secp256k1.address_of(KEY_OTHER), other
        )


def test_submit_from_file_with_local_key(anvil_chain: Node, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    url = anvil_chain.url
    address = reg.deploy_registry(url, ISSUER, TOKEN, "USD", 6)
    reg.register_signer(url, address, "custodian-a", secp256k1.address_of(KEY_A))
    msg = message(sequence=1)
    att = tmp_path / "att.json"
    att.write_text(
        json.dumps(
            {
                "format": "porv.attestation/1",
                "domain": {"name": "porv", "version": "1"},
                "message": msg.to_json(),
                "signatures": [
                    {
                        "scheme": "secp256k1",
                        "signer": secp256k1.address_of(KEY_A),
                        "signature": "0x" + sign(msg, KEY_A).hex(),
                    }
                ],
            }
        )
    )
    # pay with a funded key signed locally (anvil's first dev key is public knowledge)
    payer = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
    receipt = reg.submit_attestation(url, address, str(att), None, payer)
    assert receipt["from"] == Account.from_key(payer).address
    assert reg.latest(url, address, ISSUER, TOKEN, "custodian-a").sequence == 1


# --- AggregatorV3Interface feed ---------------------------------------------------------------


def test_feed_sums_custodians_and_keeps_rounds(anvil_chain: Node) -> None:
    url = anvil_chain.url
    feed = reg.deploy_registry(url, ISSUER, TOKEN, "USD", 6, "pUSD reserves")
    reg.register_signer(url, feed, "custodian-a", secp256k1.address_of(KEY_A))
    reg.register_signer(url, feed, "custodian-b", secp256k1.address_of(KEY_B))
    c = dep.contract(url, reg.NAME, feed)
    assert c.functions.decimals().call() == 6
    assert c.functions.description().call() == "pUSD reserves"
    assert c.functions.version().call() == 1
    with pytest.raises(reg.RegistryRejectedError) as empty:
        reg.latest_round_data(url, feed)
    assert empty.value.reason == "NoDataPresent"

    a1 = message("custodian-a", 1, usd=5_000_000)
    reg.submit_attestation(url, feed, a1, sign(a1, KEY_A))
    # custodian-b reports USD with 2 decimals: scaled to the feed's 6
    b1 = message("custodian-b", 1, totals=(Total("USD", 300, 2),))
    reg.submit_attestation(url, feed, b1, sign(b1, KEY_B))
    latest = reg.latest_round_data(url, feed)
    assert latest.round_id == 2 and latest.answered_in_round == 2
    assert latest.answer == 5_000_000 + 3_000_000
    # dated by the oldest counted attestation, not by the last submission's block
    assert latest.started_at == latest.updated_at == min(a1.as_of, b1.as_of)

    # custodian-a's new total replaces its old one (not added)
    a2 = message("custodian-a", 2, usd=1_000_000)
    reg.submit_attestation(url, feed, a2, sign(a2, KEY_A))
    assert reg.latest_round_data(url, feed).answer == 1_000_000 + 3_000_000
    assert reg.get_round_data(url, feed, 1).answer == 5_000_000
    assert reg.get_round_data(url, feed, 2).answer == 8_000_000
    for unknown in (0, 4):
        with pytest.raises(reg.RegistryRejectedError):
            reg.get_round_data(url, feed, unknown)

    # another token's attestation is stored but does not move the feed
    other = message("custodian-a", 1, token="pEUR", usd=10**12)
    reg.submit_attestation(url, feed, other, sign(other, KEY_A))
    assert reg.latest(url, feed, ISSUER, "pEUR", "custodian-a").exists
    assert reg.latest_round_data(url, feed).round_id == 3


# --- EIP-1271 wallet --------------------------------------------------------------------------


def test_contract_wallet_accepts_owner_signature_only(anvil_chain: Node) -> None:
    url = anvil_chain.url
    owner = secp256k1.address_of(KEY_A)
    wallet = dep.deploy(url, "TestContractWallet", owner)
    c = dep.contract(url, "TestContractWallet", wallet)
    digest = attestation_digest(message())
    good = sign(message(), KEY_A)
    assert c.functions.isValidSignature(digest, good).call() == bytes.fromhex("1626ba7e")
    assert c.functions.isValidSignature(digest, sign(message(), KEY_B)).call() == b"\xff" * 4
    twin = secp256k1.high_s_twin(good)
    assert c.functions.isValidSignature(digest, twin).call() == b"\xff" * 4
    assert c.functions.isValidSignature(digest, good[:64]).call() == b"\xff" * 4


# --- Merkle proofs of holdings verify on-chain ------------------------------------------------


def _holdings() -> list[Holding]:
    return [
        Holding(
            holding_id=f"H-{i:03d}",
            asset_class="sovereign_debt" if i % 2 else "bank_deposit_demand",
            currency="USD",
            amount=1_000_000 * (i + 1) + 17,
            decimals=2,
            maturity=1_798_761_600 if i % 2 else 0,
            counterparty=f"Bank {i} «Ü»",
            country="US",
            rating="AA+",
            collateral="",
            collateral_value=0,
            salt=bytes([i]) * 32,
        )
        for i in range(7)
    ]


def _as_tuple(h: Holding) -> tuple[object, ...]:
    return (
        h.holding_id,
        h.asset_class,
        h.currency,
        h.amount,
        h.decimals,
        h.maturity,
        h.counterparty,
        h.country,
        h.rating,
        h.collateral,
        h.collateral_value,
        h.salt,
    )


def test_porv_merkle_proofs_verify_with_openzeppelin_merkleproof(anvil_chain: Node) -> None:
    url = anvil_chain.url
    checker = dep.contract(url, "MerkleProofCheck", dep.deploy(url, "MerkleProofCheck"))
    holdings = _holdings()
    tree = StandardMerkleTree.of(holdings)
    for h in holdings:
        proof = tree.get_proof(h.holding_id)
        assert checker.functions.leafHash(_as_tuple(h)).call() == leaf_hash(h)
        assert checker.functions.verify(proof, tree.root, leaf_hash(h)).call() is True
        assert checker.functions.verifyHolding(proof, tree.root, _as_tuple(h)).call() is True
    # one changed amount, or a missing sibling: the proof no longer verifies
    h = holdings[3]
    proof = tree.get_proof(h.holding_id)
    changed = (*_as_tuple(h)[:3], h.amount + 1, *_as_tuple(h)[4:])
    assert checker.functions.verifyHolding(proof, tree.root, changed).call() is False
    assert checker.functions.verifyHolding(proof[:-1], tree.root, _as_tuple(h)).call() is False


# --- the test token ---------------------------------------------------------------------------


def test_token_mint_burn_owner_only(anvil_chain: Node) -> None:
    url = anvil_chain.url
    accounts = dep.accounts(url)
    token = dep.deploy(url, "TestStablecoin", "Porv USD", "pUSD", 6)
    c = dep.contract(url, "TestStablecoin", token)
    assert (c.functions.name().call(), c.functions.symbol().call()) == ("Porv USD", "pUSD")
    assert c.functions.decimals().call() == 6
    dep.token_mint(url, token, accounts[1], 1_000)
    dep.token_burn(url, token, accounts[1], 400)
    assert c.functions.totalSupply().call() == 600
    assert c.functions.balanceOf(accounts[1]).call() == 600
    with pytest.raises(IncompleteError, match=r"OwnableUnauthorizedAccount"):
        dep.token_mint(url, token, accounts[2], 1, sender=accounts[2])


def test_artifacts_load_and_unknown_names_are_refused() -> None:
    from verifier.chain.contracts import CONTRACT_NAMES, load_contract
    from verifier.errors import InputError

    for name in CONTRACT_NAMES:
        art = load_contract(name)
        for code in (art.bytecode, art.deployed_bytecode):
            assert code.startswith("0x") and len(code) > 100
            bytes.fromhex(code[2:])
        assert any(item.get("type") == "function" for item in art.abi)
    with pytest.raises(InputError, match="unknown contract"):
        load_contract("NoSuchContract")


def test_registry_accepts_and_rejects_on_every_chain_kind(chain: Node) -> None:
    url = chain.url
    address = reg.deploy_registry(url, ISSUER, TOKEN, "USD", 6)
    reg.register_signer(url, address, "custodian-a", secp256k1.address_of(KEY_A))
    msg = message(sequence=3)
    assert reg.digest_of(url, address, msg) == attestation_digest(msg)
    good = sign(msg, KEY_A)
    reg.submit_attestation(url, address, msg, good)
    assert reg.latest(url, address, ISSUER, TOKEN, "custodian-a").sequence == 3
    assert reg.latest_round_data(url, address).answer == 5_000_000
    rejected = {}
    for name, att, sig in (
        ("replay", msg, good),
        ("high-s", message(sequence=4), secp256k1.high_s_twin(sign(message(sequence=4), KEY_A))),
        ("unknown", message(sequence=5), sign(message(sequence=5), KEY_OTHER)),
    ):
        with pytest.raises(reg.RegistryRejectedError) as exc:
            reg.submit_attestation(url, address, att, sig)
        rejected[name] = exc.value.reason
    assert rejected == {
        "replay": "SequenceNotIncreasing",
        "high-s": "ECDSAInvalidSignatureS",
        "unknown": "UnknownSigner",
    }
