"""`porv verify` and `porv recheck` end to end on two embedded chains (real py-evm over HTTP)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.support import cli
from tests.support.cli import Run
from verifier.app.demo import DemoFiles, start_demo_chains, write_demo_files
from verifier.result.schemas import result_schema
from verifier.result.seal import seal


def porv(*args: str) -> Run:
    return cli.porv(args)


@pytest.fixture(scope="module")
def devnet() -> Iterator[tuple[Any, Any, int]]:
    net, deps, as_of = start_demo_chains("embedded")
    try:
        yield net, deps, as_of
    finally:
        net.stop()


@pytest.fixture(scope="module")
def files(devnet: tuple[Any, Any, int], tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    _, deps, as_of = devnet
    return write_demo_files(tmp_path_factory.mktemp("verify"), deps, as_of=as_of)


@pytest.fixture(scope="module")
def verified(files: DemoFiles) -> tuple[Path, dict[str, Any]]:
    out = files.workdir / "result.json"
    proc = porv(
        "verify",
        str(files.bundle),
        "--policy",
        str(files.policy),
        "--state",
        str(files.state),
        "--format",
        "json",
        "--output",
        str(out),
    )
    assert proc.code == 0, proc.stderr
    assert proc.stdout == ""  # the result went to --output
    assert "porv: verified" in proc.stderr
    return out, json.loads(out.read_text())


def test_verified_result_shape(verified: tuple[Path, dict[str, Any]]) -> None:
    _, result = verified
    assert result["status"] == "verified"
    jsonschema.validate(result, result_schema())
    assert [c["outcome"] for c in result["checks"] if c["outcome"] not in ("pass", "skipped")] == []
    steps = {c["step"] for c in result["checks"]}
    assert steps == {str(n) for n in range(1, 11)}
    supply = result["supply"]
    assert supply["total_circulating"] == str(210_000_000 * 10**6)
    for dep in supply["deployments"]:
        assert dep["block_hash"].startswith("0x") and int(dep["block_number"]) > 0
    assert result["inputs"]["rollback_state"] is True
    assert set(result["inputs"]["rule_packs"]) == {"genius", "hkma", "mas"}
    assert result["coverage"]["ok"] is True
    assert result["risk"] is not None


def test_demo_hkma_capital_is_evaluated_at_the_pinned_usd_hkd_rate(
    files: DemoFiles, verified: tuple[Path, dict[str, Any]]
) -> None:
    # the demo policy pins USD/HKD 7.80 dated as_of: USD 30M paid-up capital is HKD 234M
    assert '"USD/HKD" = { rate = "7.80", as_of = "' in files.policy.read_text()
    _, result = verified
    hkma = next(p for p in result["rules"]["packs"] if p["pack"] == "hkma")
    rule = next(r for r in hkma["rules"] if r["id"] == "hkma.capital")
    assert rule["status"] == "pass", rule["message"]
    assert "1 USD = 7.80 HKD (policy, " in rule["message"]
    assert rule["fx"] == [
        {"pair": "USD/HKD", "rate": "7.80", "date": result["as_of"][:10], "source": "policy"}
    ]


def test_state_records_each_custodian(files: DemoFiles, verified: Any) -> None:
    state = json.loads((files.state / "state.json").read_text())
    assert state["format"] == "porv.state/1"
    assert len(state["custodians"]) == 2
    assert all(v["sequence"] == 1 for v in state["custodians"].values())


def test_reverify_same_attestations_is_fine(files: DemoFiles, verified: Any) -> None:
    proc = porv(
        "verify", str(files.bundle), "--policy", str(files.policy), "--state", str(files.state)
    )
    assert proc.code == 0, proc.stderr
    assert "porv result: VERIFIED" in proc.stdout


@pytest.mark.parametrize(
    ("fmt", "marker"), [("markdown", "# porv: verified"), ("html", "<h1>porv: verified</h1>")]
)
def test_other_formats(files: DemoFiles, fmt: str, marker: str) -> None:
    proc = porv("verify", str(files.bundle), "--policy", str(files.policy), "--format", fmt)
    assert proc.code == 0, proc.stderr
    assert marker in proc.stdout


def test_recheck_ok_offline(verified: tuple[Path, dict[str, Any]]) -> None:
    path, _ = verified
    proc = porv("recheck", str(path), "--format", "json")
    assert proc.code == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "ok"


def test_recheck_rereads_the_chains(verified: tuple[Path, dict[str, Any]], devnet: Any) -> None:
    path, _ = verified
    _, deps, _ = devnet
    rpc = [arg for d in deps for arg in ("--rpc", f"{d.chain_id}={d.url}")]
    proc = porv("recheck", str(path), *rpc)
    assert proc.code == 0, proc.stderr
    assert "re-read from the chains" in proc.stdout


@pytest.mark.parametrize(
    "edit",
    [
        lambda r: r["coverage"].update(ratio="9.999999"),
        lambda r: r["supply"]["deployments"][0].update(
            circulating=str(int(r["supply"]["deployments"][0]["circulating"]) - 1)
        ),
        lambda r: r["reserves"]["by_currency"].update(USD="1"),
        lambda r: r["checks"][0].update(detail="trust me"),
    ],
)
def test_recheck_catches_edits_even_when_resealed(
    verified: tuple[Path, dict[str, Any]], tmp_path: Path, edit: Any
) -> None:
    _, result = verified
    doc = json.loads(json.dumps(result))
    edit(doc)
    raw = tmp_path / "edited.json"
    raw.write_text(json.dumps(doc))
    proc = porv("recheck", str(raw))
    assert proc.code == 1
    assert "digest" in proc.stderr
    resealed = tmp_path / "resealed.json"
    resealed.write_text(json.dumps(seal(doc)))
    proc = porv("recheck", str(resealed))
    assert proc.code == 1, proc.stdout
    assert "does not re-derive" in proc.stderr or "does not add up" in proc.stderr


def test_recheck_refuses_another_bundle(
    verified: tuple[Path, dict[str, Any]], tmp_path: Path, files: DemoFiles
) -> None:
    path, _ = verified
    other = tmp_path / "other.json"
    doc = json.loads(files.bundle.read_text())
    doc["disclosures"] = {"paid_up_capital": {"amount": "1", "currency": "USD"}}
    other.write_text(json.dumps(doc))
    proc = porv("recheck", str(path), "--bundle", str(other))
    assert proc.code == 1
    assert "sha256" in proc.stderr


def test_endpoint_down_is_exit_3_with_error_status(files: DemoFiles) -> None:
    proc = porv(
        "verify",
        str(files.bundle),
        "--policy",
        str(files.policy),
        "--rpc",
        "31337=http://127.0.0.1:9",
        "--format",
        "json",
        "--timeout",
        "1",
    )
    assert proc.code == 3
    result = json.loads(proc.stdout)
    assert result["status"] == "error"
    assert any(c.get("kind") == "rpc_error" for c in result["checks"])
    assert "Traceback" not in proc.stderr


def test_fx_feed_read_at_the_pin_is_recorded_and_rechecked(
    devnet: tuple[Any, Any, int], tmp_path: Path
) -> None:
    """An [fx] feed is read at the supply pin; a feed with no round there gives no rate, the
    floor stays not_evaluated with the reason, and recheck re-derives it from the result."""
    net, deps, as_of = devnet
    registry = net.chain(31337).registry  # an AggregatorV3 with nothing published at the pin
    files = write_demo_files(tmp_path, deps, as_of=as_of)
    text = files.policy.read_text()
    start = text.index('"USD/HKD" = {')
    files.policy.write_text(text[:start] + f'"USD/HKD" = {{ feed = "31337:{registry}" }}\n')
    out = tmp_path / "result.json"
    proc = porv("verify", str(files.bundle), "--policy", str(files.policy), "--output", str(out))
    assert proc.code == 0, proc.stderr
    result = json.loads(out.read_text())
    jsonschema.validate(result, result_schema())
    assert result["fx"]["rates"] == []
    assert "USD/HKD feed gave no rate" in result["fx"]["unusable"]["USD/HKD"]
    hkma = next(p for p in result["rules"]["packs"] if p["pack"] == "hkma")
    rule = next(r for r in hkma["rules"] if r["id"] == "hkma.capital")
    assert rule["status"] == "not_evaluated" and "feed gave no rate" in rule["message"]
    proc = porv("recheck", str(out), "--format", "json")
    assert proc.code == 0, proc.stderr
    assert "fx" in json.loads(proc.stdout)["carried_over"]
    rpc = [arg for d in deps for arg in ("--rpc", f"{d.chain_id}={d.url}")]
    proc = porv("recheck", str(out), *rpc)  # the feed read again at the recorded pin
    assert proc.code == 0, proc.stderr


def test_feed_cross_check_reported_beside_reserves(
    devnet: tuple[Any, Any, int], tmp_path: Path
) -> None:
    """The policy's PoR feed (here the registry's AggregatorV3Interface) is read and reported
    beside the attested reserves; it never decides the status."""
    from verifier.devnet.registry import submit_attestation
    from verifier.local.keys import load_key_file
    from verifier.signatures.signing import message_for_tree, sign_entries

    net, deps, as_of = devnet
    registry = net.chain(31337).registry
    files = write_demo_files(tmp_path, deps, as_of=as_of)
    with files.policy.open("a", encoding="utf-8") as fh:
        fh.write(f'\n[feed]\nchain_id = 31337\naddress = "{registry}"\n')

    proc = porv("verify", str(files.bundle), "--policy", str(files.policy), "--format", "json")
    assert proc.code == 0, proc.stderr
    feed = json.loads(proc.stdout)["feed"]
    assert "reverted" in feed["error"]  # nothing published yet (NoDataPresent): reported

    # the registry trusts fixtures/keys/secp256k1-0.key for custodian-a (demo scenario)
    from verifier.merkle.tree import StandardMerkleTree

    tree = StandardMerkleTree.load(
        json.loads(files.trees["custodian-a"].read_text()), source="tree"
    )
    msg = message_for_tree(
        tree,
        issuer=net.scenario.issuer,
        token=net.scenario.symbol,
        custodian="custodian-a",
        as_of=as_of,
        valid_until=as_of + 86400 * 30,
        sequence=1,
    )
    key = load_key_file(Path(__file__).parents[2] / "fixtures/keys/secp256k1-0.key", "secp256k1")
    (entry,) = sign_entries(msg, [key], "secp256k1")
    submit_attestation(deps[0].url, registry, msg.to_json(), entry.signature)

    proc = porv("verify", str(files.bundle), "--policy", str(files.policy), "--format", "json")
    assert proc.code == 0, proc.stderr
    result = json.loads(proc.stdout)
    jsonschema.validate(result, result_schema())
    feed = result["feed"]
    a_total = sum(t[1] / 10 ** t[2] for t in tree.totals() if t[0] == "USD")
    assert float(feed["normalised"]) == pytest.approx(a_total)
    assert feed["attested_reserves"] == result["reserves"]["total_in_token_currency"]
    assert feed["staleness_s"] >= 0
