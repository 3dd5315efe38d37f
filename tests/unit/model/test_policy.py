"""Strict loading of porv.policy/1: every refusal names file, line (where found) and key path."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support.cli import Run, porv
from verifier.errors import PolicyError
from verifier.local.loaders import load_policy
from verifier.model.policy import PinnedDeployment, Policy

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "fixtures" / "policies" / "example.toml"

A1 = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
A2 = "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"
A3 = "0x6813Eb9362372EEF6200f3b1dbC3f819671cBA69"
TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
TREASURY = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"

BASE = f"""\
format = "porv.policy/1"
issuer = "Issuer"
token = "TUSD"
currency = "USD"
decimals = 6
jurisdictions = ["genius"]
max_age = "35d"
min_coverage = "1.00"

[[deployments]]
chain_id = 31337
address = "{TOKEN}"
excluded = ["{TREASURY}"]

[[custodians]]
id = "bank-a"
signers = ["{A1}", "{A2}"]
threshold = 2

[rpc]
"31337" = ["http://127.0.0.1:8545"]
"""


def load(text: str) -> Policy:
    return Policy.from_toml_text(text, source="p.toml")


def refused(text: str) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        load(text)
    err = info.value
    assert err.exit_code == 2
    assert err.location is not None and err.location.file == "p.toml"
    return err


def test_minimal_policy_loads() -> None:
    p = load(BASE)
    assert p.issuer == "Issuer" and p.currency == "USD" and p.decimals == 6
    assert p.max_age == 35 * 86400
    assert p.min_coverage == Decimal("1.00")
    assert p.deployments == (PinnedDeployment(31337, TOKEN, (TREASURY,)),)
    assert p.custodians[0].threshold == 2 and p.custodians[0].signers == (A1, A2)
    assert p.rpc[31337] == ("http://127.0.0.1:8545",)
    assert p.auditors is None and p.feed is None
    assert p.canonical_bytes() == BASE.encode()
    assert len(p.sha256) == 64


def test_example_fixture_loads_with_bls_and_pops() -> None:
    p = load_policy(EXAMPLE)
    assert p.source == str(EXAMPLE)
    assert p.canonical_bytes() == EXAMPLE.read_bytes()
    assert [c.id for c in p.custodians] == ["bank-a", "bank-b"]
    bank_b = p.custodians[1]
    assert bank_b.key_count == 3 and len(bank_b.bls[0].pubkey) == 48
    assert bank_b.eip1271[0].chain_id == 31337
    assert p.auditors is not None and p.auditors.threshold == 1
    assert p.pack_options["hkma"]["approved_currencies"] == ("USD",)
    assert p.feed is not None and p.feed.chain_id == 31337
    assert p.to_json()["deployments"][0]["excluded"] == [TREASURY]


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("threshold = 2", "threshold = 0", "custodians[0].threshold"),
        ("threshold = 2", "threshold = 3", "custodians[0].threshold"),
        ("threshold = 2", "threshold = true", "custodians[0].threshold"),
        (f'"{A1}", "{A2}"', f'"{A1}", "{A1}"', "custodians[0].signers[1]"),
        (f'"{A1}"', f'"{A1.lower()}"', "custodians[0].signers[0]"),
        (f'"{A1}"', f'"{A1[:-1]}F"', "custodians[0].signers[0]"),
        (f'"{TREASURY}"', f'"{TREASURY.lower()}"', "deployments[0].excluded[0]"),
        (f'address = "{TOKEN}"', f'address = "{TOKEN.lower()}"', "deployments[0].address"),
        ('min_coverage = "1.00"', 'min_coverage = "0.99"', "min_coverage"),
        ('min_coverage = "1.00"', "min_coverage = 1.0", "min_coverage"),
        ('max_age = "35d"', 'max_age = "35 days"', "max_age"),
        ('max_age = "35d"', 'max_age = "0d"', "max_age"),
        ('currency = "USD"', 'currency = "usd"', "currency"),
        ('jurisdictions = ["genius"]', 'jurisdictions = ["narnia"]', "jurisdictions[0]"),
        ('format = "porv.policy/1"', 'format = "porv.policy/2"', "format"),
        ("decimals = 6", "decimals = -1", "decimals"),
        ("decimals = 6", "decimals = 78", "decimals"),
        ('issuer = "Issuer"', 'issuer = "Issuer"\nunexpected = 1', "unexpected"),
        ("threshold = 2", "threshold = 2\nquorum = 1", "custodians[0].quorum"),
        ('"31337" = ["http://127.0.0.1:8545"]', '"31337" = ["ftp://x"]', "rpc.31337[0]"),
        ('"31337" = ["http://127.0.0.1:8545"]', '"0x1" = ["http://x"]', "rpc.0x1"),
        ('"31337" = ["http://127.0.0.1:8545"]', '"31337" = []', "rpc.31337"),
    ],
)
def test_refused_with_key_path(old: str, new: str, field: str) -> None:
    assert old in BASE
    err = refused(BASE.replace(old, new, 1))
    assert err.location is not None and err.location.field == field
    assert err.location.line is not None


def test_line_points_at_the_offending_key() -> None:
    text = BASE.replace("threshold = 2", "threshold = 5")
    err = refused(text)
    assert err.location is not None and err.location.line is not None
    assert text.splitlines()[err.location.line - 1].strip() == "threshold = 5"


def test_second_array_table_line_is_found() -> None:
    text = BASE + f'\n[[custodians]]\nid = "bank-b"\nsigners = ["{A3}"]\nthreshold = 9\n'
    err = refused(text)
    assert err.location is not None and err.location.field == "custodians[1].threshold"
    assert err.location.line == len(text.splitlines())


def test_duplicate_toml_key_is_refused_with_line() -> None:
    err = refused(BASE.replace('token = "TUSD"', 'token = "TUSD"\ntoken = "X"'))
    assert err.location is not None and err.location.line == 4


def test_missing_required_key() -> None:
    err = refused(BASE.replace('max_age = "35d"\n', ""))
    assert err.location is not None and err.location.field == "max_age"


def test_duplicate_deployment() -> None:
    dup = f'\n[[deployments]]\nchain_id = 31337\naddress = "{TOKEN}"\n'
    err = refused(BASE.replace("[[custodians]]", dup + "\n[[custodians]]", 1))
    assert "pinned twice" in err.message


def test_same_token_address_on_two_chains_is_fine() -> None:
    other = f'\n[[deployments]]\nchain_id = 31338\naddress = "{TOKEN}"\n'
    p = load(BASE.replace("[[custodians]]", other + "\n[[custodians]]", 1))
    assert [d.chain_id for d in p.deployments] == [31337, 31338]


def test_key_pinned_for_two_custodians_is_refused() -> None:
    text = BASE + f'\n[[custodians]]\nid = "bank-b"\nsigners = ["{A2}"]\nthreshold = 1\n'
    err = refused(text)
    assert err.location is not None and err.location.field == "custodians[1].signers[0]"


def test_a_wallet_also_pinned_as_a_signer_is_refused() -> None:
    """A Safe listed both as a direct signer and under eip1271 would be two votes for one
    address: refused, whichever custodian lists it the second time."""
    wallet = f'eip1271 = [{{ chain_id = 31337, address = "{A2}" }}]\n'
    err = refused(
        BASE.replace(f'signers = ["{A1}", "{A2}"]\n', f'signers = ["{A1}", "{A2}"]\n' + wallet)
    )
    assert err.location is not None and err.location.field == "custodians[0].eip1271[0]"
    assert "pinned twice" in err.message
    other = f'\n[[custodians]]\nid = "bank-b"\n{wallet}threshold = 1\n'
    err = refused(BASE + other)
    assert err.location is not None and err.location.field == "custodians[1].eip1271[0]"


def test_duplicate_custodian_id() -> None:
    text = BASE + f'\n[[custodians]]\nid = "bank-a"\nsigners = ["{A3}"]\nthreshold = 1\n'
    assert "listed twice" in refused(text).message


def test_custodian_without_keys() -> None:
    err = refused(BASE.replace(f'signers = ["{A1}", "{A2}"]\n', ""))
    assert "pins no keys" in err.message


def test_rpc_is_optional_and_with_rpc_overrides() -> None:
    p = load(BASE.replace('[rpc]\n"31337" = ["http://127.0.0.1:8545"]\n', ""))
    assert dict(p.rpc) == {}
    q = p.with_rpc({31337: ["http://127.0.0.1:9999", "http://127.0.0.1:9998"]})
    assert q.rpc[31337] == ("http://127.0.0.1:9999", "http://127.0.0.1:9998")
    assert dict(p.rpc) == {}
    with pytest.raises(PolicyError):
        p.with_rpc({31337: ["nope"]})
    with pytest.raises(PolicyError):
        p.with_rpc({0: ["http://x"]})


def test_pack_options_must_name_a_listed_pack() -> None:
    text = BASE + '\n[pack_options.hkma]\napproved_currencies = ["USD"]\n'
    err = refused(text)
    assert err.location is not None and err.location.field == "pack_options.hkma"
    text = BASE.replace('["genius"]', '["hkma"]') + "\n[pack_options.hkma]\nother = 1\n"
    assert refused(text).location.field == "pack_options.hkma.other"  # type: ignore[union-attr]


def test_feed_and_registry_refs() -> None:
    p = load(BASE + f'\n[feed]\nchain_id = 31337\naddress = "{A3}"\n')
    assert p.feed is not None and p.feed.address == A3
    err = refused(BASE + f'\n[registry]\nchain_id = 31337\naddress = "{A3.lower()}"\n')
    assert err.location is not None and err.location.field == "registry.address"


def test_bad_proof_of_possession_is_refused() -> None:
    # the auditors' first PoP in place of bank-b's: a valid point but not this key's proof
    text = EXAMPLE.read_text()
    a = text.index('pop = "0x884b') + len('pop = "')
    b = text.index('pop = "0xa4f2') + len('pop = "')
    swapped = text[:a] + text[b : b + 194] + text[a + 194 :]
    err = refused_text(swapped)
    assert err.location is not None and err.location.field == "custodians[1].bls[0].pop"


def test_garbage_proof_of_possession_is_refused() -> None:
    text = EXAMPLE.read_text()
    a = text.index('pop = "0x884b') + len('pop = "')
    err = refused_text(text[:a] + "0x" + "11" * 96 + text[a + 194 :])
    assert err.location is not None and err.location.field == "custodians[1].bls[0].pop"


def test_auditor_key_shared_with_custodian_is_refused() -> None:
    lines = EXAMPLE.read_text().splitlines(keepends=True)
    bank_b = next(i for i, ln in enumerate(lines) if ln.startswith('  { pubkey = "0xa7b9'))
    auditor = next(i for i, ln in enumerate(lines) if ln.startswith('  { pubkey = "0xb8f1'))
    lines[auditor] = lines[bank_b]
    err = refused_text("".join(lines))
    assert err.location is not None and err.location.field == "auditors.bls[0].pubkey"


def refused_text(text: str) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        Policy.from_toml_text(text, source="example.toml")
    return info.value


def test_load_policy_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(tmp_path / "missing.toml")
    assert info.value.exit_code == 2
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe")
    with pytest.raises(PolicyError):
        load_policy(bad)


# --- the CLI refuses bad policies and options before any network access --------------------


def run_supply(*args: str) -> Run:
    return porv(["supply", *args], in_process=True)


def test_cli_bad_policy_exits_2_naming_file_line_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(BASE.replace("threshold = 2", "threshold = 3"))
    out = tmp_path / "out.json"
    res = run_supply("--policy", str(bad), "--format", "json", "--output", str(out))
    assert res.code == 2
    assert str(bad) in res.stderr and "custodians[0].threshold" in res.stderr
    line = BASE.splitlines().index("threshold = 2") + 1
    assert f"line {line}" in res.stderr
    assert "Traceback" not in res.output
    assert json.loads(res.stdout)["status"] == "error"
    assert not out.exists()


@pytest.mark.parametrize(
    "args",
    [
        ("--at", "2026-01-01T00:00:00"),
        ("--at", "2026-01-01T00:00:00+25:00"),
        ("--at", "2026-01-01T00:00:00Z", "--block", "5"),
        ("--rpc", "31337"),
        ("--rpc", "x=http://a"),
        ("--multicall", "31337=0x12"),
        ("--multicall", "1" * 5000 + "=0x" + "ab" * 20),
    ],
)
def test_cli_bad_options_exit_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    good = tmp_path / "p.toml"
    good.write_text(BASE.replace("http://127.0.0.1:8545", "http://127.0.0.1:9"))
    res = run_supply("--policy", str(good), *args)
    assert res.code == 2, res.output
    assert "Traceback" not in res.output


def test_cli_unreachable_endpoint_exits_3(tmp_path: Path) -> None:
    good = tmp_path / "p.toml"
    good.write_text(BASE.replace("http://127.0.0.1:8545", "http://127.0.0.1:9"))
    res = run_supply("--policy", str(good), "--timeout", "0.5", "--retries", "0")
    assert res.code == 3
    assert "chain 31337 endpoint http://127.0.0.1:9" in res.stderr


# --- [finality] -------------------------------------------------------------------------------


def test_finality_defaults_to_finalized_and_mirrors_rpc() -> None:
    p = load(BASE)
    assert dict(p.finality) == {} and p.finality_for(31337) == "finalized"
    for value, want in (('"latest"', "latest"), ('"finalized"', "finalized"), ("12", 12)):
        q = load(BASE + f'\n[finality]\n"31337" = {value}\n')
        assert q.finality_for(31337) == want
        assert q.to_json()["finality"] == {"31337": want}


@pytest.mark.parametrize(
    ("table", "field", "words"),
    [
        ('"31338" = "latest"', "finality.31338", "pins no deployment"),
        ('"0x7a69" = "latest"', "finality.0x7a69", "chain id as key"),
        ('"31337" = "safe"', "finality.31337", "expected"),
        ('"31337" = 0', "finality.31337", "confirmations"),
        ('"31337" = -3', "finality.31337", "confirmations"),
        ('"31337" = true', "finality.31337", "confirmations"),
        ('"31337" = 1.5', "finality.31337", "confirmations"),
        ('"31337" = "12"', "finality.31337", "confirmations"),
        ('"31337" = 1000001', "finality.31337", "confirmations"),
        (f'"{"1" * 5000}" = "latest"', f"finality.{'1' * 5000}", "chain id as key"),
    ],
)
def test_bad_finality_is_refused_naming_the_field(table: str, field: str, words: str) -> None:
    err = refused(BASE + f"\n[finality]\n{table}\n")
    assert err.location is not None and err.location.field == field
    assert err.location.line is not None
    assert words in err.message


def test_finality_must_be_a_table() -> None:
    err = refused(
        BASE.replace('min_coverage = "1.00"', 'min_coverage = "1.00"\nfinality = "latest"')
    )
    assert err.location is not None and err.location.field == "finality"


def test_finality_in_the_policy_schema() -> None:
    import tomllib

    import jsonschema

    from verifier.result.schemas import policy_schema

    doc = tomllib.loads(BASE + '\n[finality]\n"31337" = 6\n')
    jsonschema.validate(doc, policy_schema())
    doc["finality"] = {"31337": "safe"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, policy_schema())
