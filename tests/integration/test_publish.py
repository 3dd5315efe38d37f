"""``porv publish`` on a real anvil chain, and ``porv verify --from-registry`` reading it back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import cli
from verifier.app.demo import (
    ISSUER,
    SYMBOL,
    ChainDeployment,
    custodian_keys,
    demo_secret,
    start_demo_chains,
    write_demo_files,
)
from verifier.app.publish import check_window, decide, parse_registry
from verifier.devnet import registry as reg
from verifier.devnet.deploy import accounts
from verifier.devnet.node import free_port, rpc_request
from verifier.devnet.scenarios import DevnetInfo
from verifier.errors import (
    ClaimFailedError,
    ExpiredError,
    FutureAsOfError,
    InputError,
    RollbackError,
)
from verifier.local.loaders import load_attestation_file
from verifier.model.attestation import AttestationMessage
from verifier.signatures import secp256k1
from verifier.signatures.eip712 import attestation_digest

ROOT = Path(__file__).resolve().parents[2]
SENDER_KEY = ROOT / "fixtures/keys/secp256k1-2.key"
SENDER = "0x521AfaF00D223f30288c8489f122b5940BBC5dca"
B_KEY = demo_secret("custodian-b/secp256k1", "secp256k1")
B_SIGNER = secp256k1.address_of(B_KEY)


def porv(*args: str) -> tuple[int, str, str]:
    run = cli.porv(args, in_process=True)
    assert "Traceback" not in run.stderr
    return run.code, run.stdout, run.stderr


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("anvil", marks=pytest.mark.anvil),
        pytest.param("hardhat", marks=pytest.mark.hardhat),
    ],
)
def demo_net(
    request: pytest.FixtureRequest,
) -> Iterator[tuple[DevnetInfo, list[ChainDeployment], int, str]]:
    """The demo scenario on two local chains (anvil, hardhat); the custodians' keys registered."""
    net, deps, as_of = start_demo_chains(str(request.param))
    try:
        url = deps[0].url
        registry = net.chain(31337).registry
        assert registry is not None
        signer = secp256k1.address_of(custodian_keys()["a"][0])
        reg.register_signer(url, registry, "custodian-a", signer)
        reg.register_signer(url, registry, "custodian-b", B_SIGNER)
        rpc_request(
            url,
            "eth_sendTransaction",
            [{"from": accounts(url)[0], "to": SENDER, "value": hex(10**19)}],
        )
        yield net, deps, as_of, registry
    finally:
        net.stop()


def add_b_secp(doc: dict[str, Any]) -> None:
    """Custodian B also signs with a secp256k1 key, so the registry can hold its attestation."""
    entry = doc["custodians"][1]
    msg = AttestationMessage.from_json(entry["attestation"], source="<bundle>")
    sig = secp256k1.sign(attestation_digest(msg), B_KEY)
    entry["signatures"].append(
        {"scheme": "secp256k1", "signer": B_SIGNER, "signature": "0x" + sig.hex()}
    )


def files_for(
    tmp_path: Path, name: str, net: tuple[DevnetInfo, list[ChainDeployment], int, str], **kw: Any
) -> Any:
    """The demo's files, custodian B also signing with (and pinned for) ``B_KEY``; the policy
    pins the registry (``--from-registry`` reads only the policy's ``[registry]``)."""
    _, deps, as_of, registry = net
    files = write_demo_files(tmp_path / name, deps, as_of=as_of, mutate=add_b_secp, **kw)
    policy = files.policy.read_text()
    anchor = 'id = "custodian-b"\n'
    assert anchor in policy
    policy = policy.replace(anchor, anchor + f'signers = ["{B_SIGNER}"]\n')
    policy += f'\n[registry]\nchain_id = 31337\naddress = "{registry}"\n'
    files.policy.write_text(policy)
    return files


def publish_args(source: Path, url: str, registry: str, *extra: str) -> list[str]:
    return [
        "publish",
        str(source),
        "--registry",
        f"31337:{registry}",
        "--rpc",
        url,
        "--key-file",
        str(SENDER_KEY),
        *extra,
    ]


def test_publish_idempotent_rollback_and_verify_from_registry(
    tmp_path: Path,
    demo_net: tuple[DevnetInfo, list[ChainDeployment], int, str],
) -> None:
    _, deps, _, registry = demo_net
    url = deps[0].url
    seq2 = files_for(tmp_path, "seq2", demo_net, sequence=2)
    att = seq2.attestations["custodian-a"]
    digest = attestation_digest(load_attestation_file(att).message)

    # 1. publish: exit 0, record read back with porv's digest
    code, out, err = porv(*publish_args(att, url, registry, "--format", "json"))
    assert code == 0, err
    report = json.loads(out)
    assert report["status"] == "ok"
    assert report["chain_id"] == 31337
    assert report["sender"] == SENDER
    (entry,) = report["attestations"]
    assert entry["outcome"] == "published"
    assert entry["digest"] == "0x" + digest.hex()
    assert entry["tx_hash"].startswith("0x") and entry["block_number"] > 0
    record = reg.latest(url, registry, ISSUER, SYMBOL, "custodian-a")
    assert (record.exists, record.sequence, record.digest) == (True, 2, digest)
    (total,) = load_attestation_file(att).message.totals
    assert total.decimals <= 6
    assert report["latest_round_data"]["answer"] == str(total.amount * 10 ** (6 - total.decimals))

    # 2. re-run: nothing sent, exit 0
    block_before = rpc_request(url, "eth_blockNumber")
    code, out, err = porv(*publish_args(att, url, registry))
    assert code == 0, err
    assert "already published, nothing sent" in out
    assert rpc_request(url, "eth_blockNumber") == block_before

    # 3. a lower sequence is a rollback: exit 1, nothing sent
    seq1 = files_for(tmp_path, "seq1", demo_net, sequence=1)
    code, out, err = porv(*publish_args(seq1.attestations["custodian-a"], url, registry))
    assert code == 1
    assert "holds sequence 2, above this attestation's 1" in err
    # the same sequence with other content is one too
    other2 = files_for(tmp_path, "other2", demo_net, sequence=2, valid_days=20)
    code, out, err = porv(*publish_args(other2.attestations["custodian-a"], url, registry))
    assert code == 1
    assert "same sequence, other content" in err
    assert rpc_request(url, "eth_blockNumber") == block_before

    # 4. the whole bundle: custodian A is already there, B is sent
    code, out, err = porv(*publish_args(seq2.bundle, url, registry, "--format", "json"))
    assert code == 0, err
    report = json.loads(out)
    outcomes = [(a["custodian"], a["outcome"]) for a in report["attestations"]]
    assert outcomes == [("custodian-a", "already_published"), ("custodian-b", "published")]

    # 5. verify the sequence-2 bundle with the registry as extra evidence
    code, out, err = porv(
        "verify",
        str(seq2.bundle),
        "--policy",
        str(seq2.policy),
        "--from-registry",
        f"31337:{registry}",
        "--format",
        "json",
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["status"] == "verified"
    assert result["registry"]["latest_round"]["answer"] == report["latest_round_data"]["answer"]
    assert [r["sequence"] for r in result["registry"]["records"]] == [2, 2]

    # 6. a newer sequence on-chain makes the sequence-2 bundle stale: exit 1
    seq3 = files_for(tmp_path, "seq3", demo_net, sequence=3)
    code, _, err = porv(*publish_args(seq3.attestations["custodian-a"], url, registry))
    assert code == 0, err
    code, out, err = porv(
        "verify",
        str(seq2.bundle),
        "--policy",
        str(seq2.policy),
        "--from-registry",
        f"31337:{registry}",
        "--format",
        "json",
    )
    assert code == 1
    assert json.loads(out)["status"] == "failed"
    assert "the bundle is stale" in out


def test_publish_refusals(
    tmp_path: Path,
    demo_net: tuple[DevnetInfo, list[ChainDeployment], int, str],
) -> None:
    _, deps, _, registry = demo_net
    url = deps[0].url
    files = files_for(tmp_path, "r", demo_net, sequence=7)
    att = files.attestations["custodian-a"]

    # wrong chain: the endpoint serves 31338 / the registry is not on that chain
    code, _, err = porv(
        *publish_args(att, url, registry)[:3], f"31338:{registry}", "--rpc", url,
        "--key-file", str(SENDER_KEY),
    )  # fmt: skip
    assert code == 3 and "serves chain id 31337, expected 31338" in err
    code, _, err = porv(
        "publish", str(att), "--registry", registry, "--rpc", deps[1].url,
        "--key-file", str(SENDER_KEY),
    )  # fmt: skip
    assert code == 3 and "no contract at" in err

    # node down
    dead = f"http://127.0.0.1:{free_port()}"
    code, out, err = porv(*publish_args(att, dead, registry, "--format", "json"))
    assert code == 3
    assert json.loads(out)["status"] == "error"

    # malformed input: not JSON, not checksummed, bad key file
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, _, err = porv(*publish_args(bad, url, registry))
    assert code == 2 and "bad.json" in err
    code, _, err = porv(
        "publish", str(att), "--registry", registry.lower(), "--rpc", url,
        "--key-file", str(SENDER_KEY),
    )  # fmt: skip
    assert code == 2 and "checksummed" in err
    code, _, err = porv(
        "publish", str(att), "--registry", registry, "--rpc", url, "--key-file", str(bad)
    )
    assert code == 2

    # a signer the registry does not know: exit 1, nothing sent
    doc = json.loads(att.read_text())
    doc["signatures"] = doc["signatures"][1:]  # the second demo key is not registered
    other = tmp_path / "other-signer.json"
    other.write_text(json.dumps(doc))
    code, _, err = porv(*publish_args(other, url, registry))
    assert code == 1 and "not registered for custodian 'custodian-a'" in err

    # a signature naming another signer than the one it recovers to: exit 1
    doc = json.loads(att.read_text())
    doc["signatures"][0]["signer"] = doc["signatures"][1]["signer"]
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc))
    code, _, err = porv(*publish_args(forged, url, registry))
    assert code == 1 and "recovers to" in err
    assert reg.latest(url, registry, ISSUER, SYMBOL, "custodian-a").sequence < 7

    # an attestation that has already expired: refused before anything is sent, exit 1
    block_before = rpc_request(url, "eth_blockNumber")
    expired = files_for(tmp_path, "window", demo_net, sequence=8, valid_days=0)  # as_of, passed
    code, out, err = porv(
        *publish_args(expired.attestations["custodian-a"], url, registry, "--format", "json"),
    )
    assert code == 1, err
    assert "the attestation expired at" in err and "nothing was sent" in err
    assert json.loads(out)["error"]["kind"] == "freeze"
    assert rpc_request(url, "eth_blockNumber") == block_before
    # the registry refuses it too, whoever sends it
    with pytest.raises(reg.RegistryRejectedError) as refused:
        reg.submit_attestation(url, registry, str(expired.attestations["custodian-a"]))
    assert refused.value.reason == "AttestationExpired"

    # a sequence jumping towards 2^64-1 would lock the record: refused before sending
    far = files_for(tmp_path, "far", demo_net, sequence=2**64 - 1)
    code, _, err = porv(*publish_args(far.attestations["custodian-a"], url, registry))
    assert code == 1 and "the registry accepts a step of at most 4294967296" in err
    assert rpc_request(url, "eth_blockNumber") == block_before

    # a bundle whose custodian B signs only with BLS: A is sent, B skipped (the registry
    # checks secp256k1 only)
    plain = write_demo_files(tmp_path / "plain", deps, as_of=demo_net[2], sequence=9)
    code, out, err = porv(*publish_args(plain.bundle, url, registry, "--format", "json"))
    assert code == 0, err
    outcomes = [(a["custodian"], a["outcome"]) for a in json.loads(out)["attestations"]]
    assert outcomes == [("custodian-a", "published"), ("custodian-b", "skipped")]


def test_publish_front_run(
    tmp_path: Path,
    demo_net: tuple[DevnetInfo, list[ChainDeployment], int, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another sender posts between porv's checks and its transaction."""
    import verifier.app.publish as pub

    _, deps, _, registry = demo_net
    url = deps[0].url
    checked = pub.preflight

    def front_run(first: Path) -> None:
        def preflight(*args: Any, **kw: Any) -> Any:
            plans = checked(*args, **kw)
            reg.submit_attestation(url, registry, str(first))  # dev account 0 pays, first
            return plans

        monkeypatch.setattr(pub, "preflight", preflight)

    # the same attestation got there first: reported as already published, exit 0
    same = files_for(tmp_path, "s20", demo_net, sequence=20).attestations["custodian-a"]
    front_run(same)
    code, out, err = porv(*publish_args(same, url, registry, "--format", "json"))
    assert code == 0, err
    (entry,) = json.loads(out)["attestations"]
    assert (entry["outcome"], entry["front_run"]) == ("already_published", True)
    same = files_for(tmp_path, "s21", demo_net, sequence=21).attestations["custodian-a"]
    front_run(same)
    code, out, err = porv(*publish_args(same, url, registry))
    assert code == 0, err
    assert "already published by another sender first, nothing changed" in out

    # a higher sequence got there first: a rollback, exit 1
    ours = files_for(tmp_path, "s22", demo_net, sequence=22).attestations["custodian-a"]
    theirs = files_for(tmp_path, "s23", demo_net, sequence=23).attestations["custodian-a"]
    front_run(theirs)
    code, out, err = porv(*publish_args(ours, url, registry, "--format", "json"))
    assert code == 1
    assert "holds sequence 23, above this attestation's 22" in err
    assert "front-running" in err
    assert json.loads(out)["error"]["kind"] == "rollback"
    assert reg.latest(url, registry, ISSUER, SYMBOL, "custodian-a").sequence == 23


# --- offline parts ------------------------------------------------------------------------------


@dataclass
class Stored:
    exists: bool
    sequence: int
    digest: bytes


def test_decide() -> None:
    d1, d2 = b"\x01" * 32, b"\x02" * 32
    assert decide("c", 1, d1, Stored(False, 0, b"\0" * 32)) == "send"
    assert decide("c", 5, d1, Stored(True, 4, d2)) == "send"
    assert decide("c", 5, d1, Stored(True, 5, d1)) == "already_published"
    with pytest.raises(RollbackError, match="same sequence, other content"):
        decide("c", 5, d1, Stored(True, 5, d2))
    with pytest.raises(RollbackError, match="holds sequence 6, above this attestation's 5"):
        decide("c", 5, d1, Stored(True, 6, d1))
    # the registry's step bound: at most 2^32 above the stored sequence (or above 0)
    assert decide("c", 2**32, d1, Stored(False, 0, b"\0" * 32)) == "send"
    assert decide("c", 7 + 2**32, d1, Stored(True, 7, d2)) == "send"
    for seq, stored in (
        (2**32 + 1, Stored(False, 0, b"\0" * 32)),
        (2**64 - 1, Stored(True, 7, d2)),
    ):
        with pytest.raises(ClaimFailedError, match="a step of at most 4294967296") as exc:
            decide("c", seq, d1, stored)
        assert exc.value.exit_code == 1


def test_check_window() -> None:
    msg = load_attestation_file(
        ROOT / "fixtures/vectors/signatures/attestation-secp256k1.json"
    ).message
    check_window("c", msg, now=msg.valid_until, chain_time=msg.as_of)  # the last valid second
    with pytest.raises(ExpiredError, match=r"expired at .* 1 s before now") as expired:
        check_window("c", msg, now=msg.as_of, chain_time=msg.valid_until + 1)  # chain ahead
    assert expired.value.exit_code == 1
    with pytest.raises(ExpiredError):
        check_window("c", msg, now=msg.valid_until + 1, chain_time=msg.as_of)  # clock ahead
    with pytest.raises(FutureAsOfError, match="is 60 s after the chain's latest block") as early:
        check_window("c", msg, now=msg.as_of, chain_time=msg.as_of - 60)
    assert early.value.exit_code == 3


def test_parse_registry() -> None:
    addr = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
    assert parse_registry(addr) == (None, addr)
    assert parse_registry(f"31337:{addr}") == (31337, addr)
    for bad in (addr.lower(), f"x:{addr}", "0x1234", f"31337:{addr}00"):
        with pytest.raises(InputError):
            parse_registry(bad)


def test_publish_input_errors(tmp_path: Path) -> None:
    """Malformed input exits 2 before any node is contacted (the URL has no node)."""
    dead = f"http://127.0.0.1:{free_port()}"
    reg_addr = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"format": "porv.policy/1"}))
    code, _, err = porv(*publish_args(policy, dead, reg_addr))
    assert code == 2 and "porv.attestation/1 or porv.bundle/1" in err
    doc = json.loads((ROOT / "fixtures/vectors/signatures/attestation-secp256k1.json").read_text())
    doc["signatures"] = [
        {"scheme": "bls", "signers": ["0x" + "11" * 48], "signature": "0x" + "22" * 96}
    ]
    bls_only = tmp_path / "bls-only.json"
    bls_only.write_text(json.dumps(doc))
    code, _, err = porv(*publish_args(bls_only, dead, reg_addr))
    assert code == 2 and "no attestation carries a direct 65-byte secp256k1 signature" in err
    code, _, err = porv(
        "publish", str(policy), "--registry", reg_addr, "--rpc", "ftp://x",
        "--key-file", str(SENDER_KEY),
    )  # fmt: skip
    assert code == 2 and "--rpc expects" in err
