"""porv's BLS (both backends: py-arkworks-bls12381 and py_ecc) agrees with @noble/curves in
Ethereum's POP ciphersuite.

Vectors from ``fixtures/vectors/gen-bls.js`` (noble ``bls12_381.longSignatures``, pubkeys in
G1, signatures in G2, tags ``BLS_SIG_..._POP_`` and ``BLS_POP_..._POP_``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from verifier.local.keys import load_key_file
from verifier.model.attestation import AttestationMessage
from verifier.signatures import bls
from verifier.signatures.eip712 import attestation_digest

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "fixtures/vectors/bls/vectors.json"
BACKENDS: list[bls.Backend] = ["native", "reference"]


def _b(text: str) -> bytes:
    return bytes.fromhex(text[2:])


@pytest.fixture(scope="module")
def v() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(VECTORS.read_text())
    return data


def test_ciphersuite_is_ethereums(v: dict[str, Any]) -> None:
    assert v["ciphersuite"] == bls.CIPHERSUITE
    assert v["popTag"] == bls.POP_TAG


def test_digest_is_the_attestation_digest(v: dict[str, Any]) -> None:
    msg = AttestationMessage.from_json(v["message"]["message"], source="bls vectors")
    assert attestation_digest(msg) == _b(v["digest"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_porv_verifies_nobles_three_signer_aggregate(
    v: dict[str, Any], backend: bls.Backend
) -> None:
    pks = [_b(k["publicKey"]) for k in v["keys"]]
    digest, aggregate = _b(v["digest"]), _b(v["aggregate"])
    assert bls.fast_aggregate_verify(pks, digest, aggregate, backend=backend)
    # Missing one signer: the aggregate of three does not verify for two keys, and the
    # aggregate of two does not verify for three.
    assert not bls.fast_aggregate_verify(pks[:2], digest, aggregate, backend=backend)
    assert not bls.fast_aggregate_verify(pks, digest, _b(v["aggregateOfFirstTwo"]), backend=backend)
    # Over another message.
    assert not bls.fast_aggregate_verify(pks, digest, _b(v["aggregateOverOther"]), backend=backend)
    assert bls.fast_aggregate_verify(
        pks, _b(v["otherDigest"]), _b(v["aggregateOverOther"]), backend=backend
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_nobles_proofs_of_possession_verify(v: dict[str, Any], backend: bls.Backend) -> None:
    for key in v["keys"]:
        assert bls.pop_verify(_b(key["publicKey"]), _b(key["pop"]), backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_porv_output_is_byte_identical_to_nobles(v: dict[str, Any], backend: bls.Backend) -> None:
    digest = _b(v["digest"])
    sks = [load_key_file(ROOT / k["file"], "bls") for k in v["keys"]]
    for sk, key, sig in zip(sks, v["keys"], v["signatures"], strict=True):
        assert bls.secret_to_pubkey(sk, backend=backend) == _b(key["publicKey"])
        assert bls.sign(digest, sk, backend=backend) == _b(sig)
    assert bls.aggregate([_b(s) for s in v["signatures"]], backend=backend) == _b(v["aggregate"])
    pops = [bls.pop_prove(sk, backend=backend) for sk in sks]
    assert pops == [_b(k["pop"]) for k in v["keys"]]
