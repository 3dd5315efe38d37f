"""``porv publish --eas`` and ``porv recheck --eas`` on every chain kind.

The demo's result is attested on the EAS the demo scenario deploys (chain 31337), once: a
second publish finds it and sends nothing. ``porv recheck --eas`` reads it back on the policy's
endpoint and compares it with the result; another verified result does not match it, and a
result that is not verified is never published.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.eas import OPERATOR, EasWorld, eas_world, publish, recheck
from verifier.devnet.node import rpc_request
from verifier.result.eas import SCHEMA, schema_uid


@pytest.fixture(
    scope="module",
    params=[
        "embedded",
        pytest.param("anvil", marks=pytest.mark.anvil),
        pytest.param("hardhat", marks=pytest.mark.hardhat),
    ],
)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EasWorld]:
    with eas_world(str(request.param), tmp_path_factory.mktemp("eas")) as w:
        yield w


@pytest.fixture(scope="module")
def published(world: EasWorld) -> str:
    """The UID of the demo result's attestation, published once for the module."""
    code, report, err = publish(world)
    assert code == 0, err
    assert report["outcome"] == "published"
    return str(report["uid"])


def _nonce(world: EasWorld) -> int:
    return int(rpc_request(world.url, "eth_getTransactionCount", [OPERATOR, "latest"]), 16)


def test_publish_registers_the_schema_and_attests(world: EasWorld, published: str) -> None:
    code, report, _ = publish(world)  # the second time: found, nothing sent
    assert code == 0
    assert report["schema_uid"] == "0x" + schema_uid().hex()
    assert report["schema"] == SCHEMA
    assert report["schema_registry"] == world.schema_registry
    assert report["attester"] == OPERATOR
    assert report["fields"]["status"] == "verified"
    assert report["fields"]["circulatingSupply"] == "210000000000000"
    assert report["fields"]["packs"] == ["genius", "hkma", "mas"]


def test_publish_again_finds_the_attestation_and_sends_nothing(
    world: EasWorld, published: str
) -> None:
    nonce = _nonce(world)
    head = rpc_request(world.url, "eth_blockNumber")
    code, report, err = publish(world)
    assert code == 0, err
    assert report["outcome"] == "already_published"
    assert report["schema_outcome"] == "present"
    assert report["uid"] == published
    assert "tx_hash" not in report
    assert _nonce(world) == nonce
    assert rpc_request(world.url, "eth_blockNumber") == head


def test_publish_text_names_the_uid(world: EasWorld, published: str) -> None:
    from tests.support.eas import porv

    code, out, _ = porv(
        "publish",
        str(world.result),
        "--eas",
        world.eas_opt,
        "--rpc",
        world.url,
        "--key-file",
        str(world.key_file),
    )
    assert code == 0
    assert f"attestation {published}: already published, nothing sent" in out


def test_recheck_with_the_attestation(world: EasWorld, published: str) -> None:
    code, report, err = recheck(world, published)
    assert code == 0, err
    assert report["status"] == "ok"
    eas = report["eas"]
    assert eas["uid"] == published
    assert eas["attester"] == OPERATOR
    assert eas["attester_trusted_by"] == "the result's operator signature"
    assert eas["eas"] == world.eas


def test_recheck_of_another_result_names_the_fields(
    world: EasWorld, published: str, tmp_path: Path
) -> None:
    other = world.verified(f"other-{tmp_path.name}", scale=30)
    code, report, _ = recheck(world, published, result=other)
    assert code == 1
    message = report["error"]["message"]
    assert "does not match the result" in message
    # 25 × 9,750,000.03 USD on EAS, 30 × that in the other result, in micro-dollars
    assert "reserves is 243750000750000 on EAS, 292500000750000 in the result" in message
    assert "resultDigest is 0x" in message
    assert "bundleSha256 is 0x" in message


def test_a_result_that_is_not_verified_is_not_published(
    world: EasWorld, published: str, tmp_path: Path
) -> None:
    failed = world.verified(f"failed-{tmp_path.name}", scale=1)  # 9.75M of reserves for 210M
    nonce = _nonce(world)
    code, report, _ = publish(world, failed)
    assert code == 1
    assert report["status"] == "failed"
    assert "status is 'failed'; porv publishes only a verified result" in report["error"]["message"]
    assert _nonce(world) == nonce


def test_recheck_text_names_the_attestation(world: EasWorld, published: str) -> None:
    from tests.support.eas import porv

    code, out, err = porv("recheck", str(world.result), "--eas", world.eas_opt, "--uid", published)
    assert code == 0, err
    assert f"EAS attestation {published} on chain 31337 (EAS {world.eas}" in out
    assert f"equal to the result, attested by {OPERATOR} (the result's operator signature)" in out
    assert " in tx 0x" in out
