"""Result digest and operator signature: any edit breaks the seal."""

from __future__ import annotations

import copy

import pytest

from verifier.errors import RecheckMismatchError, SchemaError, SignatureInvalidError
from verifier.model.jsontext import canonical_bytes
from verifier.result.seal import RESULT_FORMAT, check_seal, content_digest, seal
from verifier.signatures import secp256k1

KEY = bytes.fromhex("11" * 32)


def sample() -> dict[str, object]:
    return {
        "format": RESULT_FORMAT,
        "status": "verified",
        "supply": {"total_circulating": "210000000000000", "decimals": 6},
        "checks": [{"step": "1", "id": "binding", "outcome": "pass", "detail": "ok"}],
        "note": "ünïcode",
    }


def test_digest_is_rfc8785_canonical_and_key_order_free() -> None:
    a = sample()
    b = dict(reversed(list(sample().items())))
    assert content_digest(a) == content_digest(b)
    assert canonical_bytes({"b": 1, "a": [True, None]}) == b'{"a":[true,null],"b":1}'


def test_seal_and_check_unsigned() -> None:
    doc = seal(sample())
    assert doc["digest"].startswith("0x") and len(doc["digest"]) == 66
    assert check_seal(doc, source="r.json") is None


def test_signed_result_recovers_operator() -> None:
    doc = seal(sample(), sign_key=KEY)
    assert check_seal(doc, source="r.json") == secp256k1.address_of(KEY)


@pytest.mark.parametrize("path", [("status",), ("supply", "total_circulating"), ("note",)])
def test_any_edit_breaks_the_digest(path: tuple[str, ...]) -> None:
    doc = seal(sample(), sign_key=KEY)
    edited = copy.deepcopy(doc)
    target = edited
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "1" if target[path[-1]] != "1" else "2"
    with pytest.raises(RecheckMismatchError, match="digest"):
        check_seal(edited, source="r.json")


def test_resealed_with_another_key_names_wrong_signer() -> None:
    doc = seal(sample(), sign_key=KEY)
    other = seal(copy.deepcopy(doc), sign_key=bytes.fromhex("22" * 32))
    other["signature"]["signer"] = doc["signature"]["signer"]
    with pytest.raises(SignatureInvalidError):
        check_seal(other, source="r.json")


def test_not_a_result() -> None:
    with pytest.raises(SchemaError):
        check_seal({"format": "something/1"}, source="r.json")
