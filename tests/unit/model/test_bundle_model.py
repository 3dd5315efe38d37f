"""Strict porv.bundle/1 loading, assembling, and the published JSON Schemas."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.support import cli
from tests.support.cli import Run
from verifier.app.demo import ChainDeployment, write_demo_files
from verifier.errors import SchemaError, TreeMismatchError
from verifier.local.loaders import load_bundle
from verifier.model.bundle import parse_bundle
from verifier.result.schemas import bundle_schema, policy_schema

AS_OF = 1_768_435_200  # 2026-01-15T00:00:00Z
DEPLOYMENTS = [
    ChainDeployment(31337, "http://127.0.0.1:1", "0x" + "ab" * 20, "0x" + "cd" * 20),
]


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from eth_utils.address import to_checksum_address

    deps = [
        ChainDeployment(
            d.chain_id, d.url, to_checksum_address(d.token), to_checksum_address(d.treasury)
        )
        for d in DEPLOYMENTS
    ]
    return write_demo_files(tmp_path_factory.mktemp("bundle"), deps, as_of=AS_OF)


@pytest.fixture
def doc(demo_files: Any) -> dict[str, Any]:
    return json.loads(demo_files.bundle.read_text())


def test_demo_bundle_loads(demo_files: Any) -> None:
    b = load_bundle(demo_files.bundle)
    assert b.as_of == AS_OF
    assert [c.id for c in b.custodians] == ["custodian-a", "custodian-b"]
    assert len(b.sha256) == 64


def test_bundle_and_policy_validate_against_published_schemas(demo_files: Any) -> None:
    jsonschema.validate(json.loads(demo_files.bundle.read_text()), bundle_schema())
    jsonschema.validate(tomllib.loads(demo_files.policy.read_text()), policy_schema())


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(extra=1), "extra"),
        (lambda d: d.update(format="porv.bundle/2"), "format"),
        (lambda d: d["token"].update(currency="usd"), "token.currency"),
        (lambda d: d.update(as_of="2026-01-15T00:00:00+01:00"), "as_of"),
        (lambda d: d.update(as_of="2026-02-30T00:00:00Z"), "as_of"),
        (
            lambda d: d["deployments"][0].update(address=d["deployments"][0]["address"].lower()),
            "deployments[0].address",
        ),
        (lambda d: d["deployments"].append(copy.deepcopy(d["deployments"][0])), "deployments[1]"),
        (lambda d: d["custodians"][1].update(id="custodian-a"), "custodians[1].id"),
        (lambda d: d["custodians"][0].update(signatures=[]), "custodians[0].signatures"),
        (lambda d: d["custodians"][0].pop("tree"), "custodians[0]"),
        (lambda d: d.update(custodians=[]), "custodians"),
        (lambda d: d["auditor_report"].update(signature="0x00"), "auditor_report.signature"),
        (lambda d: d.update(disclosures={"paid_up_capital": 5}), "paid_up_capital"),
        (lambda d: d["token"].update(decimals=True), "token.decimals"),
    ],
)
def test_malformed_bundles_are_schema_errors_naming_the_field(
    doc: dict[str, Any], mutate: Any, field: str
) -> None:
    mutate(doc)
    with pytest.raises(SchemaError) as err:
        parse_bundle(doc, source="b.json")
    assert field in str(err.value.diagnostics())
    assert "b.json" in err.value.diagnostics()


def test_tampered_tree_node_is_a_claim_failure(doc: dict[str, Any]) -> None:
    tree = doc["custodians"][0]["tree"]
    tree["values"][0]["value"][3] = str(int(tree["values"][0]["value"][3]) + 1)
    with pytest.raises(TreeMismatchError):
        parse_bundle(doc, source="b.json")


def test_duplicate_json_key_is_refused(tmp_path: Path, demo_files: Any) -> None:
    text = demo_files.bundle.read_text()
    bad = tmp_path / "dup.json"
    bad.write_text(text.replace('"issuer":', '"issuer": "X", "issuer":', 1))
    with pytest.raises(SchemaError, match="twice"):
        load_bundle(bad)


def _porv(*args: str, cwd: Path | None = None) -> Run:
    return cli.porv(args, cwd=cwd)


def test_bundle_assemble_cli_round_trips(demo_files: Any, tmp_path: Path) -> None:
    out = tmp_path / "assembled.json"
    proc = _porv(
        "bundle",
        "assemble",
        "--policy",
        str(demo_files.policy),
        "--custodian",
        str(demo_files.trees["custodian-a"]),
        str(demo_files.attestations["custodian-a"]),
        "--custodian",
        str(demo_files.trees["custodian-b"]),
        str(demo_files.attestations["custodian-b"]),
        "-o",
        str(out),
    )
    assert proc.code == 0, proc.stderr
    got = json.loads(out.read_text())
    want = json.loads(demo_files.bundle.read_text())
    want.pop("auditor_report")
    want.pop("disclosures")
    assert got == want


def test_bundle_assemble_refuses_mixed_as_of(demo_files: Any, tmp_path: Path) -> None:
    att = json.loads(demo_files.attestations["custodian-b"].read_text())
    att["message"]["asOf"] += 1
    other = tmp_path / "b.att.json"
    other.write_text(json.dumps(att))
    out = tmp_path / "never.json"
    proc = _porv(
        "bundle",
        "assemble",
        "--policy",
        str(demo_files.policy),
        "--custodian",
        str(demo_files.trees["custodian-a"]),
        str(demo_files.attestations["custodian-a"]),
        "--custodian",
        str(demo_files.trees["custodian-b"]),
        str(other),
        "-o",
        str(out),
    )
    assert proc.code == 1
    assert "asOf" in proc.stderr
    assert not out.exists()


def test_schema_cli_prints_each_schema() -> None:
    for which in ("bundle", "policy", "result"):
        proc = _porv("schema", which)
        assert proc.code == 0
        assert json.loads(proc.stdout)["title"] == f"porv.{which}/1"
