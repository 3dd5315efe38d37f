"""Attacks on ``porv registry register-signer|revoke-signer|remove-custodian`` inputs.

A custodian id is a string the registry hashes as UTF-8: one that is not text (a lone
surrogate, which is how Python carries undecodable command-line bytes) cannot name any
custodian, and must be refused as bad input (exit 2) before anything is read or sent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import cli
from verifier.devnet import registry as reg
from verifier.devnet.deploy import accounts
from verifier.devnet.node import Node, rpc_request


@pytest.fixture(scope="module")
def registry(embedded_chain: Node) -> str:
    return reg.deploy_registry(embedded_chain.url, "Example Issuer Ltd", "pUSD", "USD", 6)


@pytest.mark.parametrize(
    ("command", "extra"),
    [
        ("remove-custodian", ()),
        ("register-signer", ("--signer", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8")),
        ("revoke-signer", ("--signer", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8")),
    ],
)
def test_a_custodian_that_is_not_text_is_bad_input(
    embedded_chain: Node, registry: str, tmp_path: Path, command: str, extra: tuple[str, ...]
) -> None:
    url = embedded_chain.url
    head = rpc_request(url, "eth_blockNumber")
    owner = accounts(url)[0]
    run = cli.porv(
        [
            "registry",
            command,
            "--rpc",
            url,
            "--registry",
            f"31337:{registry}",
            "--custodian",
            "custodian-\udcff",
            "--signer-rpc",
            url,
            "--from",
            owner,
            *extra,
            "--format",
            "json",
        ],
        in_process=True,
    )
    assert "Traceback" not in run.output
    assert run.code == 2, run.output
    assert "--custodian" in run.json["error"]["message"]
    assert rpc_request(url, "eth_blockNumber") == head
