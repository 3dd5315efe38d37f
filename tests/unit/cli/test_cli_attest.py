"""``porv attest sign|verify`` end to end (in-process), on the ethers and noble vector files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support import cli
from verifier.errors import InputError
from verifier.local.jsonio import load_json_file
from verifier.merkle.tree import StandardMerkleTree
from verifier.model.timeutil import parse_time_option as parse_iso_time
from verifier.signatures import secp256k1

ROOT = Path(__file__).resolve().parents[3]
SIG = ROOT / "fixtures/vectors/signatures"
BLSV = ROOT / "fixtures/vectors/bls"
KEYS = ROOT / "fixtures/keys"
TREE = str(SIG / "tree.json")
ATT = str(SIG / "attestation-secp256k1.json")
A0 = "0xB25c1d4453438c0D7E751AD5b03374E0C64b865D"
A1 = "0xfB6C4A87f40dB514558194b6e432074C9FfD3D28"
A2 = "0x521AfaF00D223f30288c8489f122b5940BBC5dca"
BLS_PKS = [k["publicKey"] for k in json.loads((BLSV / "vectors.json").read_text())["keys"]]
SIGN_ARGS = [
    "attest",
    "sign",
    "--tree",
    TREE,
    "--issuer",
    "Example Issuer Ltd",
    "--token",
    "HKDX",
    "--custodian",
    "custodian-a",
    "--as-of",
    "2025-12-01",
    "--valid-until",
    "2030-01-01T08:00:00+08:00",
    "--sequence",
    "3",
]


def porv(*args: str) -> tuple[int, str, str]:
    run = cli.porv(args, in_process=True)
    assert "Traceback" not in run.stderr
    return run.code, run.stdout, run.stderr


def edited(tmp_path: Path, source: str, change: Any) -> str:
    doc = json.loads(Path(source).read_text())
    change(doc)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(doc))
    return str(path)


def signer_args(*signers: str) -> list[str]:
    return [arg for s in signers for arg in ("--signer", s)]


def test_verify_accepts_the_ethers_signed_attestation() -> None:
    code, out, _ = porv("attest", "verify", ATT, "--tree", TREE, *signer_args(A0, A1))
    assert code == 0 and out.startswith("ok: attestation 0x")
    code, out, _ = porv(
        "attest", "verify", ATT, "--tree", TREE, *signer_args(A0, A1), "--format", "json"
    )
    data = json.loads(out)
    assert code == 0 and data["status"] == "ok" and data["signed"] == sorted([A0, A1])
    # Two of three pinned keys signed: fine with --threshold 2, not with the default (all).
    code, _, _ = porv(
        "attest",
        "verify",
        ATT,
        "--tree",
        TREE,
        *signer_args(A0, A1, A2),
        "--threshold",
        "2",
    )
    assert code == 0
    code, _, err = porv("attest", "verify", ATT, "--tree", TREE, *signer_args(A0, A1, A2))
    assert code == 1 and A2 in err and "did not sign" in err


def test_verify_fails_for_another_signer() -> None:
    code, out, err = porv(
        "attest", "verify", ATT, "--tree", TREE, "--signer", A2, "--format", "json"
    )
    assert code == 1 and "not pinned" in err
    assert json.loads(out)["status"] == "failed"


def test_verify_fails_for_a_changed_total(tmp_path: Path) -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["message"]["totals"][1]["amount"] = "223000051"

    code, _, err = porv(
        "attest", "verify", edited(tmp_path, ATT, change), "--tree", TREE,
        *signer_args(A0, A1),
    )  # fmt: skip
    assert code == 1 and "total HKD" in err and "recovers to" in err


def test_verify_fails_for_a_high_s_twin(tmp_path: Path) -> None:
    def change(doc: dict[str, Any]) -> None:
        sig = bytes.fromhex(doc["signatures"][0]["signature"][2:])
        doc["signatures"][0]["signature"] = "0x" + secp256k1.high_s_twin(sig).hex()

    code, _, err = porv(
        "attest", "verify", edited(tmp_path, ATT, change), "--tree", TREE, "--signer", A0
    )
    assert code == 1 and "high-s" in err


def test_verify_fails_for_a_root_that_is_not_the_trees(tmp_path: Path) -> None:
    tree = StandardMerkleTree.load(load_json_file(TREE), source=TREE)
    smaller = tmp_path / "smaller.json"
    smaller.write_text(json.dumps(StandardMerkleTree.of(tree.holdings[:4]).dump()))
    code, _, err = porv("attest", "verify", ATT, "--tree", str(smaller), "--signer", A0)
    assert code == 1 and "root: signed" in err and "leaf count" in err
    # A validly signed attestation of the smaller tree, checked against the real one.
    att = tmp_path / "small-att.json"
    key = str(KEYS / "secp256k1-0.key")
    args = [a if a != TREE else str(smaller) for a in SIGN_ARGS]
    code, _, _ = porv(*args, "--key-file", key, "-o", str(att))
    assert code == 0
    code, _, _ = porv("attest", "verify", str(att), "--tree", str(smaller), "--signer", A0)
    assert code == 0
    code, _, err = porv("attest", "verify", str(att), "--tree", TREE, "--signer", A0)
    assert code == 1 and "does not match the holdings tree" in err


def test_sign_secp256k1_reproduces_the_ethers_file(tmp_path: Path) -> None:
    out = tmp_path / "att.json"
    keys = [
        "--key-file",
        str(KEYS / "secp256k1-0.key"),
        "--key-file",
        str(KEYS / "secp256k1-1.key"),
    ]
    code, stdout, err = porv(*SIGN_ARGS, *keys, "-o", str(out))
    assert code == 0 and stdout == "" and "signed attestation" in err
    assert json.loads(out.read_text()) == json.loads(Path(ATT).read_text())
    code, stdout, _ = porv(*SIGN_ARGS, *keys)
    assert code == 0 and json.loads(stdout) == json.loads(Path(ATT).read_text())


def test_bls_sign_and_verify(tmp_path: Path) -> None:
    out = tmp_path / "bls.json"
    keys = [a for i in range(3) for a in ("--key-file", str(KEYS / f"bls-{i}.key"))]
    code, _, _ = porv(*SIGN_ARGS, *keys, "--scheme", "bls", "-o", str(out))
    assert code == 0
    # Same keys, same message: byte-identical to noble's aggregate.
    assert json.loads(out.read_text()) == json.loads((BLSV / "attestation-bls.json").read_text())
    for path in (out, BLSV / "attestation-bls-indices.json"):
        code, _, _ = porv("attest", "verify", str(path), "--tree", TREE, *signer_args(*BLS_PKS))
        assert code == 0


def test_bls_failures(tmp_path: Path) -> None:
    vectors = json.loads((BLSV / "vectors.json").read_text())
    source = str(BLSV / "attestation-bls.json")

    def with_signature(sig: str, signers: list[Any] | None = None) -> str:
        def change(doc: dict[str, Any]) -> None:
            doc["signatures"][0]["signature"] = sig
            if signers is not None:
                doc["signatures"][0]["signers"] = signers

        return edited(tmp_path, source, change)

    cases = [
        (with_signature(vectors["aggregateOfFirstTwo"]), "does not verify"),
        (with_signature(vectors["aggregate"], BLS_PKS[:2]), "does not verify"),
        (with_signature(vectors["aggregateOverOther"]), "does not verify"),
    ]
    for path, expected in cases:
        code, _, err = porv(
            "attest", "verify", path, "--tree", TREE, *signer_args(*BLS_PKS),
            "--threshold", "2",
        )  # fmt: skip
        assert code == 1 and expected in err
    # An aggregate of only two, honestly labelled, meets a threshold of 2 but not the default.
    honest = with_signature(vectors["aggregateOfFirstTwo"], BLS_PKS[:2])
    code, _, _ = porv(
        "attest",
        "verify",
        honest,
        "--tree",
        TREE,
        *signer_args(*BLS_PKS),
        "--threshold",
        "2",
    )
    assert code == 0
    code, _, err = porv("attest", "verify", honest, "--tree", TREE, *signer_args(*BLS_PKS))
    assert code == 1 and BLS_PKS[2] in err


@pytest.mark.parametrize(
    "args",
    [
        ["--signer", A0.lower()],
        ["--signer", "0x1234"],
        ["--signer", A0, "--signer", A0],
        ["--signer", A0, "--threshold", "2"],
        ["--signer", A0, "--threshold", "0"],
        ["--signer", BLS_PKS[0], "--signer", BLS_PKS[0]],
        [],
    ],
)
def test_verify_usage_errors_exit_2(args: list[str]) -> None:
    code, _, _ = porv("attest", "verify", ATT, "--tree", TREE, *args)
    assert code == 2


def test_verify_malformed_files_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "porv.attestation/1",')
    for att, tree in [(str(bad), TREE), (str(tmp_path / "none.json"), TREE), (ATT, str(bad))]:
        code, _, err = porv("attest", "verify", att, "--tree", tree, "--signer", A0)
        assert code == 2 and "porv: error" in err
    wrong_domain = edited(tmp_path, ATT, lambda d: d["domain"].update({"chainId": 1}))
    code, out, err = porv(
        "attest", "verify", wrong_domain, "--tree", TREE, "--signer", A0, "--format", "json"
    )
    assert code == 2 and "domain" in err and json.loads(out)["status"] == "error"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"--as-of": "2025-12-01T00:00:00"}, "--as-of"),
        ({"--valid-until": "2025-11-30"}, "--valid-until"),
        ({"--valid-until": "2026-02-30"}, "--valid-until"),
        ({"--sequence": "-1"}, "sequence"),
        ({"--sequence": str(2**64)}, "sequence"),
    ],
)
def test_sign_usage_errors_write_nothing(
    tmp_path: Path, change: dict[str, str], expected: str
) -> None:
    args = list(SIGN_ARGS)
    for option, value in change.items():
        args[args.index(option) + 1] = value
    out = tmp_path / "att.json"
    code, _, err = porv(*args, "--key-file", str(KEYS / "secp256k1-0.key"), "-o", str(out))
    assert code == 2 and expected in err and not out.exists()


def test_sign_key_file_errors_write_nothing(tmp_path: Path) -> None:
    secret = tmp_path / "bad.key"
    secret.write_text("0x" + "5e" * 31 + "\n")
    out = tmp_path / "att.json"
    code, _, err = porv(*SIGN_ARGS, "--key-file", str(secret), "-o", str(out))
    assert code == 2 and str(secret) in err and "5e5e" not in err and not out.exists()
    key = str(KEYS / "secp256k1-0.key")
    code, _, err = porv(*SIGN_ARGS, "--key-file", key, "--key-file", key, "-o", str(out))
    assert code == 2 and "same key" in err and not out.exists()
    args = [a if a != TREE else str(tmp_path / "missing-tree.json") for a in SIGN_ARGS]
    code, _, _ = porv(*args, "--key-file", key, "-o", str(out))
    assert code == 2 and not out.exists()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1970-01-01", 0),
        ("2025-12-01", 1_764_547_200),
        ("2025-12-01T00:00:00Z", 1_764_547_200),
        ("2025-12-01t00:00:00z", 1_764_547_200),
        ("2025-12-01T08:00:00+08:00", 1_764_547_200),
        ("2025-11-30T19:00:00-05:00", 1_764_547_200),
        ("2025-12-01T00:00:00.000Z", 1_764_547_200),
    ],
)
def test_iso_times(text: str, seconds: int) -> None:
    assert parse_iso_time(text, option="--as-of") == seconds


@pytest.mark.parametrize(
    "text",
    [
        "2025-12-01T00:00:00",
        "2025-12-01T00:00:00.5Z",
        "2025-12-01 00:00:00Z",
        "2025-13-01",
        "2025-02-29",
        "1969-12-31T23:59:59Z",
        "yesterday",
        "1764547200",
        "2025-12-01T24:00:00Z",
        "2025-12-01T00:00:00+25:00",
    ],
)
def test_iso_times_rejected(text: str) -> None:
    with pytest.raises(InputError):
        parse_iso_time(text, option="--as-of")


SAFE = "0x000000000000000000000000000000000000dEaD"


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--chain-id", "1"], "--chain-id goes with --safe"),
        (["--rpc", "http://127.0.0.1:1"], "--rpc goes with --safe"),
        (["--safe", SAFE], "--safe needs --chain-id"),
        (["--safe", SAFE.lower(), "--chain-id", "1"], "not EIP-55 checksummed"),
        (["--safe", "0x1234", "--chain-id", "1"], "--safe '0x1234'"),
        (["--safe", SAFE, "--chain-id", "1", "--rpc", "ftp://x"], "--rpc expects an http(s) URL"),
        (["--safe", SAFE, "--chain-id", "1", "--scheme", "bls"], "--safe takes no --scheme bls"),
    ],
)
def test_safe_options_are_checked_before_signing(
    tmp_path: Path, extra: list[str], words: str
) -> None:
    out = tmp_path / "att.json"
    key = ["--key-file", str(KEYS / "secp256k1-0.key")]
    code, _, stderr = porv(*SIGN_ARGS, *key, *extra, "--output", str(out))
    assert code == 2, stderr
    assert words in stderr
    assert not out.exists()


def test_safe_signature_from_key_files_is_sorted_by_owner(tmp_path: Path) -> None:
    """Without --rpc nothing asks the Safe: the entry names it, and the owners' chunks over its
    SafeMessage hash come sorted by owner address whatever the order of the key files."""
    from verifier.model.attestation import AttestationFile
    from verifier.signatures.eip712 import attestation_digest
    from verifier.signatures.wallet_keys import safe_message_hash

    out = tmp_path / "att.json"
    files = ("secp256k1-2.key", "secp256k1-0.key", "secp256k1-1.key")
    keys = [a for k in files for a in ("--key-file", str(KEYS / k))]
    code, _, stderr = porv(*SIGN_ARGS, *keys, "--safe", SAFE, "--chain-id", "5", "-o", str(out))
    assert code == 0, stderr
    assert f"Safe {SAFE} on chain 5, 3 owner(s)" in stderr
    doc = AttestationFile.from_json(load_json_file(str(out)), source="att")
    [entry] = doc.signatures
    assert entry.signer == SAFE and len(entry.signature) == 3 * 65
    hashed = safe_message_hash(attestation_digest(doc.message), SAFE, 5)
    owners = [secp256k1.recover(hashed, entry.signature[i : i + 65]) for i in (0, 65, 130)]
    assert owners == sorted([A0, A1, A2], key=lambda a: int(a, 16))
