"""EIP-712 encoding (against eth-account's independent encoder) and the strict attestation model."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from eth_account.messages import encode_typed_data
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.errors import SchemaError
from verifier.local.loaders import load_attestation_file
from verifier.model.attestation import AttestationFile, AttestationMessage, SignatureEntry, Total
from verifier.signatures.eip712 import (
    ATTESTATION_TYPES,
    DOMAIN,
    attestation_digest,
    attestation_typed_data,
    domain_separator,
    encode_type,
    hash_struct,
    report_digest,
    typed_digest,
)


def eth_account_digest(full_message: dict[str, Any]) -> bytes:
    signable = encode_typed_data(full_message=full_message)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sample(**changes: Any) -> AttestationMessage:
    fields: dict[str, Any] = {
        "issuer": "Example Issuer Ltd",
        "token": "HKDX",
        "custodian": "custodian-a",
        "holdings_root": bytes(range(32)),
        "leaf_count": 5,
        "totals": (Total("EUR", 1_000_000, 2), Total("HKD", 223_000_050, 2)),
        "as_of": 1_764_547_200,
        "valid_until": 1_893_456_000,
        "sequence": 3,
    }
    fields.update(changes)
    return AttestationMessage(**fields)


def test_encode_type_is_the_design_string() -> None:
    assert encode_type("ReserveAttestation", ATTESTATION_TYPES) == (
        "ReserveAttestation(string issuer,string token,string custodian,bytes32 holdingsRoot,"
        "uint256 leafCount,Total[] totals,uint64 asOf,uint64 validUntil,uint64 sequence)"
        "Total(string currency,uint256 amount,uint8 decimals)"
    )


def test_domain_separator_has_no_chain_id() -> None:
    expected = keccak(
        keccak(b"EIP712Domain(string name,string version)") + keccak(b"porv") + keccak(b"1")
    )
    assert domain_separator() == expected
    assert DOMAIN == {"name": "porv", "version": "1"}


def test_digest_matches_eth_account_with_json_typed_data() -> None:
    msg = sample()
    assert attestation_digest(msg) == eth_account_digest(attestation_typed_data(msg))


def test_hand_encoder_equals_generic_hash_struct() -> None:
    msg = sample()
    values = {
        "issuer": msg.issuer,
        "token": msg.token,
        "custodian": msg.custodian,
        "holdingsRoot": msg.holdings_root,
        "leafCount": msg.leaf_count,
        "totals": [
            {"currency": t.currency, "amount": t.amount, "decimals": t.decimals} for t in msg.totals
        ],
        "asOf": msg.as_of,
        "validUntil": msg.valid_until,
        "sequence": msg.sequence,
    }
    struct = hash_struct("ReserveAttestation", ATTESTATION_TYPES, values)
    assert typed_digest(struct) == attestation_digest(msg)


_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)


@settings(max_examples=40, deadline=None)
@given(
    issuer=_text,
    token=_text,
    root=st.binary(min_size=32, max_size=32),
    leaf_count=st.integers(0, 2**256 - 1),
    amounts=st.lists(st.tuples(st.integers(0, 2**256 - 1), st.integers(0, 255)), max_size=4),
    times=st.tuples(*[st.integers(0, 2**64 - 1)] * 3),
)
def test_digest_matches_eth_account_property(
    issuer: str,
    token: str,
    root: bytes,
    leaf_count: int,
    amounts: list[tuple[int, int]],
    times: tuple[int, int, int],
) -> None:
    totals = tuple(Total(f"C{i:02d}", a, d) for i, (a, d) in enumerate(amounts))
    msg = sample(
        issuer=issuer,
        token=token,
        holdings_root=root,
        leaf_count=leaf_count,
        totals=totals,
        as_of=times[0],
        valid_until=times[1],
        sequence=times[2],
    )
    assert attestation_digest(msg) == eth_account_digest(attestation_typed_data(msg))


def test_report_digest_matches_eth_account() -> None:
    digests = [keccak(b"a"), keccak(b"b")]
    full = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
            ],
            "ReserveReport": [
                {"name": "issuer", "type": "string"},
                {"name": "token", "type": "string"},
                {"name": "asOf", "type": "uint64"},
                {"name": "attestations", "type": "bytes32[]"},
            ],
        },
        "primaryType": "ReserveReport",
        "domain": DOMAIN,
        "message": {"issuer": "I", "token": "T", "asOf": 123, "attestations": digests},
    }
    assert report_digest("I", "T", 123, digests) == eth_account_digest(full)
    assert report_digest("I", "T", 123, digests[::-1]) != report_digest("I", "T", 123, digests)
    with pytest.raises(ValueError):
        report_digest("I", "T", -1, digests)
    with pytest.raises(ValueError):
        report_digest("I", "T", 1, [b"short"])


def test_generic_hash_struct_matches_eth_account_for_other_types() -> None:
    types = {
        "VerifiedResult": [
            ("digest", "bytes32"),
            ("status", "string"),
            ("flags", "bool[2]"),
            ("who", "address"),
            ("delta", "int64"),
            ("blob", "bytes"),
            ("inner", "Inner"),
        ],
        "Inner": [("tag", "bytes4"), ("n", "uint8")],
    }
    values = {
        "digest": b"\x11" * 32,
        "status": "verified",
        "flags": [True, False],
        "who": "0x" + "ab" * 20,
        "delta": -5,
        "blob": b"\x00\x01",
        "inner": {"tag": b"\xde\xad\xbe\xef", "n": 7},
    }
    full = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
            ],
            **{k: [{"name": n, "type": t} for n, t in v] for k, v in types.items()},
        },
        "primaryType": "VerifiedResult",
        "domain": DOMAIN,
        "message": values,
    }
    assert typed_digest(hash_struct("VerifiedResult", types, values)) == eth_account_digest(full)


@pytest.mark.parametrize(
    ("field_type", "value"),
    [
        ("uint8", 256),
        ("uint8", True),
        ("int8", 128),
        ("bytes32", b"\x00" * 31),
        ("address", b"\x00" * 19),
        ("string", 5),
        ("bool", 1),
        ("uint256[2]", [1]),
        ("uint256[]", "12"),
        ("fixed128x18", 1),
    ],
)
def test_hash_struct_rejects_values_that_do_not_fit(field_type: str, value: Any) -> None:
    with pytest.raises(ValueError):
        hash_struct("S", {"S": [("x", field_type)]}, {"x": value})


def test_hash_struct_rejects_wrong_members_and_unknown_types() -> None:
    with pytest.raises(ValueError):
        hash_struct("S", {"S": [("x", "uint8")]}, {"y": 1})
    with pytest.raises(ValueError):
        hash_struct("Nope", {"S": [("x", "uint8")]}, {"x": 1})
    with pytest.raises(ValueError):
        typed_digest(b"short")


# --- the strict model --------------------------------------------------------------------

VECTOR = (
    Path(__file__).resolve().parents[3] / "fixtures/vectors/signatures/attestation-secp256k1.json"
)


def good_doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(VECTOR.read_text())
    return doc


def test_round_trip_of_the_vector_file() -> None:
    doc = good_doc()
    parsed = AttestationFile.from_json(doc, source="x.json")
    assert parsed.to_json() == doc
    assert load_attestation_file(VECTOR) == parsed


def _set(doc: dict[str, Any], path: str, value: Any) -> None:
    target: Any = doc
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    last = keys[-1]
    if value is _DELETE:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("format", "porv.attestation/2", "format"),
        ("domain", {"name": "porv", "version": "1", "chainId": 1}, "domain"),
        ("domain", {"name": "porv", "version": "2"}, "domain"),
        ("extra", 1, "(top level)"),
        ("message.extra", 1, "message"),
        ("message.issuer", _DELETE, "message"),
        ("message.issuer", 5, "message.issuer"),
        ("message.issuer", "\ud800", "message.issuer"),
        ("message.holdingsRoot", "0x1234", "message.holdingsRoot"),
        ("message.holdingsRoot", "e53a" * 16, "message.holdingsRoot"),
        ("message.leafCount", 5, "message.leafCount"),
        ("message.leafCount", "05", "message.leafCount"),
        ("message.leafCount", "-5", "message.leafCount"),
        ("message.leafCount", str(2**256), "message.leafCount"),
        ("message.asOf", "1764547200", "message.asOf"),
        ("message.asOf", 2**64, "message.asOf"),
        ("message.asOf", -1, "message.asOf"),
        ("message.asOf", 1.5, "message.asOf"),
        ("message.sequence", True, "message.sequence"),
        ("message.totals", {}, "message.totals"),
        ("message.totals.0.decimals", 256, "message.totals[0].decimals"),
        ("message.totals.0.amount", 1000000, "message.totals[0].amount"),
        ("message.totals.0.currency", "", "message.totals[0].currency"),
        ("message.totals.1.currency", "EUR", "message.totals[1].currency"),
        ("message.totals.1.currency", "AAA", "message.totals[1].currency"),
        ("message.totals.0.extra", 1, "message.totals[0]"),
        ("signatures", {}, "signatures"),
        ("signatures.0.scheme", "ed25519", "signatures[0].scheme"),
        (
            "signatures.0.signer",
            "0xb25c1d4453438c0d7e751ad5b03374e0c64b865d",
            "signatures[0].signer",
        ),
        ("signatures.0.signer", "0x1234", "signatures[0].signer"),
        ("signatures.0.signature", "0x" + "00" * 8193, "signatures[0].signature"),
        ("signatures.0.signature", "0xzz", "signatures[0].signature"),
        ("signatures.0.signers", [], "signatures[0]"),
        ("signatures.0", "sig", "signatures[0]"),
    ],
)
def test_from_json_rejects_and_names_the_field(path: str, value: Any, field: str) -> None:
    doc = good_doc()
    _set(doc, path, value)
    with pytest.raises(SchemaError) as info:
        AttestationFile.from_json(doc, source="att.json")
    assert info.value.location is not None
    assert info.value.location.file == "att.json"
    assert info.value.location.field == field
    assert info.value.exit_code == 2


BLS_PK = "0x" + "aa" * 48


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"scheme": "bls", "signers": [], "signature": "0x" + "00" * 96}, "s.signers"),
        (
            {"scheme": "bls", "signers": [BLS_PK, BLS_PK], "signature": "0x" + "00" * 96},
            "s.signers[1]",
        ),
        ({"scheme": "bls", "signers": [0, 0], "signature": "0x" + "00" * 96}, "s.signers[1]"),
        ({"scheme": "bls", "signers": [-1], "signature": "0x" + "00" * 96}, "s.signers[0]"),
        ({"scheme": "bls", "signers": [True], "signature": "0x" + "00" * 96}, "s.signers[0]"),
        ({"scheme": "bls", "signers": ["0x12"], "signature": "0x" + "00" * 96}, "s.signers[0]"),
        ({"scheme": "bls", "signers": [0], "signature": "0x" + "00" * 95}, "s.signature"),
        ({"scheme": "bls", "signer": "x", "signatures": [0], "signature": "0x"}, "s"),
    ],
)
def test_bls_entries_are_strict(entry: dict[str, Any], field: str) -> None:
    with pytest.raises(SchemaError) as info:
        SignatureEntry.from_json(entry, source="b.json", field="s")
    assert info.value.location is not None and info.value.location.field == field


def test_bls_entry_round_trip_with_keys_and_indices() -> None:
    raw = {
        "scheme": "bls",
        "signers": [BLS_PK.upper().replace("0X", "0x"), 2],
        "signature": "0x" + "ab" * 96,
    }
    entry = SignatureEntry.from_json(raw, source="b.json")
    assert entry.signers == (BLS_PK, 2)
    assert entry.signer is None
    assert entry.to_json() == {
        "scheme": "bls",
        "signers": [BLS_PK, 2],
        "signature": "0x" + "ab" * 96,
    }


def test_message_constructor_keeps_invariants() -> None:
    with pytest.raises(SchemaError):
        sample(totals=(Total("USD", 1, 2), Total("EUR", 1, 2)))
    with pytest.raises(SchemaError):
        sample(sequence=2**64)
    with pytest.raises(SchemaError):
        sample(holdings_root=b"\x00" * 31)
    with pytest.raises(TypeError):
        sample(holdings_root="0x" + "00" * 32)
    msg = sample(totals=[Total("USD", 1, 2)], holdings_root=bytearray(32))
    assert isinstance(msg.totals, tuple) and isinstance(msg.holdings_root, bytes)


def test_loader_reports_json_errors_with_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "format": "porv.attestation/1",\n  "format": 1\n}\n')
    with pytest.raises(SchemaError):
        load_attestation_file(bad)
    bad.write_text("{\n  nope\n}")
    with pytest.raises(SchemaError) as info:
        load_attestation_file(bad)
    assert info.value.location is not None and info.value.location.line == 2
    with pytest.raises(SchemaError):
        load_attestation_file(tmp_path / "missing.json")


def test_changing_anything_changes_the_digest() -> None:
    base = attestation_digest(sample())
    variants = [
        sample(issuer="Example Issuer Ltd."),
        sample(token="HKDY"),
        sample(custodian="custodian-b"),
        sample(holdings_root=b"\x01" * 32),
        sample(leaf_count=6),
        sample(totals=(Total("EUR", 1_000_001, 2), Total("HKD", 223_000_050, 2))),
        sample(totals=(Total("EUR", 1_000_000, 3), Total("HKD", 223_000_050, 2))),
        sample(totals=(Total("EUR", 1_000_000, 2),)),
        sample(as_of=1),
        sample(valid_until=1),
        sample(sequence=4),
    ]
    digests = {attestation_digest(v) for v in variants}
    assert base not in digests and len(digests) == len(variants)
    doc = copy.deepcopy(attestation_typed_data(sample()))
    assert doc["message"]["leafCount"] == "5"
