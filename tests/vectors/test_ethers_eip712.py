"""porv agrees with ethers v6 on EIP-712 attestations, both ways.

The vectors are written by ``fixtures/vectors/gen-signatures.js`` (CI regenerates and diffs
them): ethers' typed data, ``TypedDataEncoder.hash`` digest and ``Wallet.signTypedData``
signatures. ethers' own ``verifyTypedData`` is run on porv-made signatures in a subprocess.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from eth_hash.auto import keccak

from verifier.local.keys import load_key_file
from verifier.model.attestation import AttestationMessage, SignatureEntry
from verifier.signatures import count_signatures, secp256k1
from verifier.signatures.eip712 import attestation_digest, attestation_typed_data

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "fixtures/vectors/signatures/vectors.json"
NODE = ROOT / "node_modules/.bin/node"


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(VECTORS.read_text())
    return data


def keys(vectors: dict[str, Any]) -> list[tuple[bytes, str]]:
    return [(load_key_file(ROOT / k["file"], "secp256k1"), k["address"]) for k in vectors["keys"]]


def test_vector_set_covers_the_cases(vectors: dict[str, Any]) -> None:
    names = {v["name"] for v in vectors["vectors"]}
    assert {"tree", "multi-currency", "empty-strings", "unicode-issuer"} <= names


def test_porv_digest_equals_ethers_digest(vectors: dict[str, Any]) -> None:
    for vector in vectors["vectors"]:
        msg = AttestationMessage.from_json(vector["typedData"]["message"], source=vector["name"])
        assert "0x" + attestation_digest(msg).hex() == vector["digest"], vector["name"]
        # porv's full typed data is the one ethers was given (same types, domain, message).
        assert attestation_typed_data(msg) == vector["typedData"]


def test_porv_verifies_ethers_signatures(vectors: dict[str, Any]) -> None:
    addresses = [address for _key, address in keys(vectors)]
    for vector in vectors["vectors"]:
        msg = AttestationMessage.from_json(vector["typedData"]["message"], source=vector["name"])
        digest = attestation_digest(msg)
        entries = [
            SignatureEntry("secp256k1", s["signer"], (), bytes.fromhex(s["signature"][2:]))
            for s in vector["signatures"]
        ]
        result = count_signatures(digest, entries, signers=addresses, threshold=len(addresses))
        assert result.ok and not result.problems, vector["name"]


def test_porv_signatures_are_byte_identical_to_ethers(vectors: dict[str, Any]) -> None:
    for vector in vectors["vectors"]:
        msg = AttestationMessage.from_json(vector["typedData"]["message"], source=vector["name"])
        digest = attestation_digest(msg)
        for (key, address), theirs in zip(keys(vectors), vector["signatures"], strict=True):
            assert theirs["signer"] == address == secp256k1.address_of(key)
            assert "0x" + secp256k1.sign(digest, key).hex() == theirs["signature"]


@pytest.mark.node
def test_ethers_verify_typed_data_accepts_porv_signatures(vectors: dict[str, Any]) -> None:
    if not NODE.exists():
        pytest.fail(f"{NODE} missing: run `npm install` (scripts/test.sh does)")
    # A key the vectors never used, so these signatures are porv's own work.
    key = keccak(b"porv-only signing key for the ethers check")
    cases = []
    for vector in vectors["vectors"]:
        msg = AttestationMessage.from_json(vector["typedData"]["message"], source=vector["name"])
        typed = attestation_typed_data(msg)
        types = {k: v for k, v in typed["types"].items() if k != "EIP712Domain"}
        cases.append(
            {
                "domain": typed["domain"],
                "types": types,
                "message": typed["message"],
                "signature": "0x" + secp256k1.sign(attestation_digest(msg), key).hex(),
            }
        )
    script = """
const { ethers } = require('ethers');
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const cases = JSON.parse(input);
  const out = cases.map((c) => ethers.verifyTypedData(c.domain, c.types, c.message, c.signature));
  process.stdout.write(JSON.stringify(out));
});
"""
    # uint64 values above 2^53 must reach ethers exactly: send them as decimal strings.
    for case in cases:
        for field in ("asOf", "validUntil", "sequence"):
            case["message"][field] = str(case["message"][field])
    payload = json.dumps(cases)
    proc = subprocess.run(
        [str(NODE), "-e", script],
        input=payload,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    recovered = json.loads(proc.stdout)
    assert recovered == [secp256k1.address_of(key)] * len(cases)
