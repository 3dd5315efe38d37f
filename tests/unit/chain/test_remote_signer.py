"""Remote signers (``eth_signTypedData_v4``) that lie: another key, a high-s twin, garbage, an
error. Each is refused with exit 3 naming the endpoint (redacted) and the address, and
``attest sign`` writes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import cli
from tests.support.fakenode import FakeNode
from verifier.chain.signer import sign_attestation_remote
from verifier.errors import RemoteSignerError
from verifier.local.keys import load_key_file
from verifier.model.attestation import AttestationMessage, Total
from verifier.signatures import secp256k1
from verifier.signatures.eip712 import attestation_digest, attestation_typed_data

ROOT = Path(__file__).resolve().parents[3]
KEY = load_key_file(ROOT / "fixtures/keys/secp256k1-0.key", "secp256k1")
OTHER = load_key_file(ROOT / "fixtures/keys/secp256k1-1.key", "secp256k1")
ADDRESS = secp256k1.address_of(KEY)
TREE = ROOT / "fixtures/vectors/signatures/tree.json"
MSG = AttestationMessage(
    issuer="Example Issuer Ltd",
    token="HKDX",
    custodian="custodian-a",
    holdings_root=b"\x42" * 32,
    leaf_count=7,
    totals=(Total("USD", 10**40, 2),),
    as_of=1764547200,
    valid_until=1767225600,
    sequence=3,
)


def answer(result: object) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": 1, "result": result}).encode()


@pytest.fixture
def node_for() -> Iterator[list[FakeNode]]:
    started: list[FakeNode] = []
    yield started
    for node in started:
        node.stop()


def serve(started: list[FakeNode], body: bytes) -> str:
    node = FakeNode(body=body).start()
    started.append(node)
    return node.url + "/v1/SECRET-API-KEY"


def test_a_good_answer_is_returned(node_for: list[FakeNode]) -> None:
    sig = secp256k1.sign(attestation_digest(MSG), KEY)
    url = serve(node_for, answer("0x" + sig.hex()))
    assert sign_attestation_remote(url, ADDRESS, MSG) == sig
    # v as the bare recovery id (0/1) is the same signature
    bare = sig[:64] + bytes([sig[64] - 27])
    url = serve(node_for, answer("0x" + bare.hex()))
    assert sign_attestation_remote(url, ADDRESS, MSG) == sig


def test_the_typed_data_is_porvs_one_definition() -> None:
    seen: list[dict[str, object]] = []
    sig = secp256k1.sign(attestation_digest(MSG), KEY)

    def transport(url: str, body: bytes, timeout: float, max_bytes: int) -> bytes:
        request = json.loads(body)
        seen.append(request)
        return answer("0x" + sig.hex())

    sign_attestation_remote("http://signer", ADDRESS, MSG, transport=transport)
    (request,) = seen
    assert request["method"] == "eth_signTypedData_v4"
    address, typed = request["params"]  # type: ignore[misc]
    assert address == ADDRESS
    assert json.loads(typed) == attestation_typed_data(MSG)


BAD_ANSWERS = {
    "another key": "0x" + secp256k1.sign(attestation_digest(MSG), OTHER).hex(),
    "high-s twin": "0x" + secp256k1.high_s_twin(secp256k1.sign(attestation_digest(MSG), KEY)).hex(),
    "other data": "0x" + secp256k1.sign(b"\x00" * 32, KEY).hex(),
    "64 bytes": "0x" + secp256k1.sign(attestation_digest(MSG), KEY)[:64].hex(),
    "not hex": "0xnothex",
    "no 0x": secp256k1.sign(attestation_digest(MSG), KEY).hex(),
    "a number": 12,
    "null": None,
    "bad v": "0x" + (secp256k1.sign(attestation_digest(MSG), KEY)[:64] + b"\x05").hex(),
}


@pytest.mark.parametrize("case", sorted(BAD_ANSWERS))
def test_bad_answers_are_refused(node_for: list[FakeNode], case: str) -> None:
    url = serve(node_for, answer(BAD_ANSWERS[case]))
    with pytest.raises(RemoteSignerError) as info:
        sign_attestation_remote(url, ADDRESS, MSG)
    err = info.value
    assert err.exit_code == 3 and err.kind == "remote_signer"
    assert ADDRESS in err.message
    assert "signer endpoint http://127.0.0.1:" in err.message
    assert "SECRET-API-KEY" not in err.diagnostics()


def test_an_error_answer_is_refused(node_for: list[FakeNode]) -> None:
    body = json.dumps(
        {"jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": "unknown account"}}
    ).encode()
    url = serve(node_for, body)
    with pytest.raises(RemoteSignerError, match="unknown account") as info:
        sign_attestation_remote(url, ADDRESS, MSG)
    assert ADDRESS in info.value.message
    assert "SECRET-API-KEY" not in info.value.diagnostics()


def sign_args(url: str, out: Path, *extra: str) -> list[str]:
    return [
        "attest",
        "sign",
        "--tree",
        str(TREE),
        "--issuer",
        "Example Issuer Ltd",
        "--token",
        "HKDX",
        "--custodian",
        "custodian-a",
        "--as-of",
        "2025-12-01",
        "--valid-until",
        "2026-01-01",
        "--sequence",
        "3",
        "--signer-rpc",
        url,
        "--signer-address",
        ADDRESS,
        "-o",
        str(out),
        *extra,
    ]


def test_cli_refuses_another_keys_signature_and_writes_nothing(
    node_for: list[FakeNode], tmp_path: Path
) -> None:
    # a node that signs anything with another key (whatever it is asked), beside a file key
    url = serve(node_for, answer(BAD_ANSWERS["another key"]))
    out = tmp_path / "att.json"
    run = cli.porv(sign_args(url, out, "--key-file", str(ROOT / "fixtures/keys/secp256k1-2.key")))
    assert run.code == 3, run.output
    assert "recovers to" in run.stderr and ADDRESS in run.stderr
    assert "signer endpoint http://127.0.0.1:" in run.stderr
    assert "SECRET-API-KEY" not in run.output
    assert "Traceback" not in run.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_cli_pairs_and_schemes_are_checked(tmp_path: Path) -> None:
    out = tmp_path / "att.json"
    args = sign_args("http://127.0.0.1:1", out)
    unpaired = args[: args.index("--signer-address")] + args[args.index("--signer-address") + 2 :]
    run = cli.porv(unpaired, in_process=True)
    assert run.code == 2 and "in pairs" in run.stderr
    run = cli.porv([*args, "--scheme", "bls"], in_process=True)
    assert run.code == 2 and "secp256k1 only" in run.stderr
    run = cli.porv(sign_args("ftp://x", out), in_process=True)
    assert run.code == 2 and "http(s) URL" in run.stderr
    lower = sign_args("http://127.0.0.1:1", out)
    lower[lower.index(ADDRESS)] = ADDRESS.lower()
    run = cli.porv(lower, in_process=True)
    assert run.code == 2 and "checksummed" in run.stderr
    twice = [*args, "--key-file", str(ROOT / "fixtures/keys/secp256k1-0.key")]
    run = cli.porv(twice, in_process=True)
    assert run.code == 2 and "given twice" in run.stderr
    nothing = args[: args.index("--signer-rpc")] + args[args.index("--signer-address") + 2 :]
    run = cli.porv(nothing, in_process=True)
    assert run.code == 2 and "nothing to sign with" in run.stderr
    assert not out.exists()


SAFE = "0x000000000000000000000000000000000000dEaD"


def test_a_safe_owner_signs_the_safe_message(node_for: list[FakeNode]) -> None:
    """The SafeMessage typed data porv sends hashes to porv's own Safe message hash (checked
    with eth-account), and the owner's answer must recover over that hash to the owner."""
    from eth_account.messages import encode_typed_data

    from verifier.chain.signer import safe_message_typed_data, sign_safe_message_remote
    from verifier.model.keccak import keccak256
    from verifier.signatures.wallet_keys import safe_message_hash

    digest = attestation_digest(MSG)
    hashed = safe_message_hash(digest, SAFE, 31337)
    encoded = encode_typed_data(full_message=safe_message_typed_data(digest, SAFE, 31337))
    assert keccak256(b"\x19" + encoded.version + encoded.header + encoded.body) == hashed
    good = secp256k1.sign(hashed, KEY)
    url = serve(node_for, answer("0x" + good.hex()))
    assert sign_safe_message_remote(url, ADDRESS, digest, SAFE, 31337) == good
    # the owner signed the digest itself, or the Safe message on another chain: refused
    for wrong in (
        secp256k1.sign(digest, KEY),
        secp256k1.sign(safe_message_hash(digest, SAFE, 1), KEY),
    ):
        url = serve(node_for, answer("0x" + wrong.hex()))
        with pytest.raises(RemoteSignerError) as info:
            sign_safe_message_remote(url, ADDRESS, digest, SAFE, 31337)
        assert f"not {ADDRESS}'s signature over Safe {SAFE}'s SafeMessage on chain 31337" in (
            info.value.message
        )
        assert "SECRET-API-KEY" not in info.value.message
