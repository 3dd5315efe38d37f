"""porv's EAS schema: the values taken from a result, their encoding, and the comparison."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from verifier.errors import SchemaError
from verifier.model.keccak import keccak256
from verifier.result import eas
from verifier.result.eas import Attestation

RESULT: dict[str, Any] = {
    "format": "porv.result/1",
    "status": "verified",
    "issuer": "Example Issuer Ltd",
    "token": {"symbol": "pUSD", "currency": "USD", "decimals": 6},
    "as_of": "2026-12-02T02:24:58Z",
    "inputs": {"bundle": {"path": "b.json", "sha256": "ab" * 32}},
    "supply": {"total_circulating": "210000000000000", "decimals": 6},
    "reserves": {"total_in_token_currency": "243750000.75"},
    "coverage": {"eligible": {"mas": "231250000.1234567", "genius": "243750000.75"}},
    "attestations": [
        {"valid_until": "2027-01-01T02:24:58Z"},
        {"valid_until": "2026-12-31T00:00:00Z"},
    ],
    "digest": "0x" + "cd" * 32,
}
OPERATOR = "0x3Cf84F3c5Da7E80b6237141087BFE0A9d40cc697"


def test_schema_uid_is_keccak_of_the_packed_schema() -> None:
    packed = eas.SCHEMA.encode() + b"\0" * 20 + b"\x01"
    assert eas.schema_uid() == keccak256(packed)
    assert eas.schema_uid().hex() == (
        "521d38fa690bc6c74c36acdebc1e1052a114489a9990dca4f6642b911c950fa6"
    )
    assert eas.schema_uid(revocable=False) != eas.schema_uid()
    assert len(eas.SCHEMA_TYPES) == 12


def test_fields_of_a_result() -> None:
    f = eas.fields_of(RESULT, source="r.json")
    assert f.asOf == 1796178298
    assert f.circulatingSupply == 210_000_000_000_000
    assert f.reserves == 243_750_000_750_000
    assert f.packs == ("genius", "mas")  # name order
    # 231250000.1234567 USD in micro-dollars, rounded down: never overstated
    assert f.eligibleReserves == (243_750_000_750_000, 231_250_000_123_456)
    assert f.resultDigest == b"\xcd" * 32 and f.bundleSha256 == b"\xab" * 32
    assert eas.expiration_of(RESULT, source="r.json") == 1798675200  # the earliest valid_until


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("supply", None),
        ("digest", "0x12"),
        ("coverage", {"eligible": {"genius": "1e9"}}),
        ("reserves", {"total_in_token_currency": "-1"}),
        ("issuer", 7),
        ("inputs", {"bundle": {"sha256": "AB" * 32}}),
    ],
)
def test_a_malformed_result_is_a_schema_error(path: str, value: Any) -> None:
    doc = copy.deepcopy(RESULT)
    if value is None:
        del doc[path]
    else:
        doc[path] = value
    with pytest.raises(SchemaError):
        eas.fields_of(doc, source="r.json")


def test_encoding_round_trips_and_decoding_is_strict() -> None:
    f = eas.fields_of(RESULT, source="r.json")
    data = eas.encode(f)
    assert eas.decode(data) == f
    for bad in (data + b"\0" * 32, data[:-1], b"", b"\0" * (eas.MAX_DATA_BYTES + 32)):
        with pytest.raises(ValueError):
            eas.decode(bad)


def _attestation(**over: Any) -> Attestation:
    f = eas.fields_of(RESULT, source="r.json")
    base: dict[str, Any] = {
        "uid": b"\x01" * 32,
        "schema": eas.schema_uid(),
        "time": 1796178400,
        "expiration_time": eas.expiration_of(RESULT, source="r.json"),
        "revocation_time": 0,
        "ref_uid": eas.ZERO32,
        "recipient": eas.RESOLVER,
        "attester": OPERATOR,
        "revocable": True,
        "data": eas.encode(f),
    }
    return Attestation(**{**base, **over})


def _problems(att: Attestation, at: int = 1796178500) -> list[str]:
    return eas.attestation_problems(
        att,
        attester=OPERATOR,
        expected=eas.fields_of(RESULT, source="r.json"),
        expiration=eas.expiration_of(RESULT, source="r.json"),
        at=at,
    )


def test_the_attestation_of_the_result_has_no_problem() -> None:
    assert _problems(_attestation()) == []


def test_each_problem_is_named() -> None:
    assert "no attestation" in _problems(_attestation(uid=eas.ZERO32))[0]
    assert "not porv's porv.eas/1 schema" in _problems(_attestation(schema=b"\2" * 32))[0]
    assert "not 0x3Cf8" in _problems(_attestation(attester="0x" + "11" * 20))[0]
    assert "revoked at" in _problems(_attestation(revocation_time=5))[0]
    assert "expired at" in _problems(_attestation(), at=1798675200)[0]
    assert "porv attests True" in _problems(_attestation(revocable=False))[0]
    other = eas.fields_of({**RESULT, "issuer": "Evil\nIssuer"}, source="r.json")
    (only,) = _problems(_attestation(data=eas.encode(other)))
    assert only == "issuer is 'Evil\\nIssuer' on EAS, 'Example Issuer Ltd' in the result"
    assert "does not decode" in _problems(_attestation(data=b"\1\2"))[0]


def test_amounts_up_to_uint256_only() -> None:
    top = 2**256 - 1
    doc = copy.deepcopy(RESULT)
    doc["supply"]["total_circulating"] = str(top)
    assert eas.fields_of(doc, source="r.json").circulatingSupply == top
    doc["supply"]["total_circulating"] = str(top + 1)
    with pytest.raises(SchemaError, match=r"supply\.total_circulating: 257 bits"):
        eas.fields_of(doc, source="r.json")
    doc = copy.deepcopy(RESULT)  # 10^71 dollars is 10^77 micro-dollars: fits; 10^72 does not
    doc["coverage"]["eligible"]["mas"] = "1" + "0" * 71
    eas.fields_of(doc, source="r.json")
    doc["coverage"]["eligible"]["mas"] = "1" + "0" * 72
    with pytest.raises(
        SchemaError, match=r"coverage\.eligible\.mas: .* above the schema's uint256"
    ):
        eas.fields_of(doc, source="r.json")


def test_data_beyond_the_cap_is_refused() -> None:
    doc = copy.deepcopy(RESULT)
    doc["issuer"] = "x" * eas.MAX_DATA_BYTES
    with pytest.raises(SchemaError, match=f"above porv's cap of {eas.MAX_DATA_BYTES} bytes"):
        eas.fields_of(doc, source="r.json")


def test_a_recipient_a_reference_or_no_expiry_is_not_porv_s() -> None:
    other = "0x" + "22" * 20
    assert any("porv attests neither" in p for p in _problems(_attestation(recipient=other)))
    assert any("porv attests neither" in p for p in _problems(_attestation(ref_uid=b"\3" * 32)))
    (never,) = _problems(_attestation(expiration_time=0))
    assert never.startswith("expirationTime is 1970-01-01T00:00:00Z (0) on EAS")
