"""Property tests of every parser: a typed error (PorvError) or a result, never another exception.

DESIGN §1 "Bounded work": a hostile input ends in exit 2 (a hostile endpoint in exit 3), never a
crash. Each parser gets inputs made from a valid document of its format with one part replaced
(a value, a deleted or an added key, junk text) plus raw junk, and hostile values that broke
porv before: ~200 KB of brackets, lone surrogates, 5000-digit numbers, integers beyond 2^53,
trailing newlines, foreign digits, control characters.

Parsers: holdings CSV, tree dump, proof and multiproof, attestation file, bundle, policy (TOML),
rollback state, result (seal and recheck's reading), JSON text, and node answers (the RPC
client, its validators and the supply decoder). ``max_examples`` keeps the file under 30 s.
"""

from __future__ import annotations

import atexit
import copy
import functools
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_utils.address import to_checksum_address
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import verifier.signatures.signing  # noqa: F401  (imports py_ecc, which raises the recursion limit, now)
from verifier.errors import PorvError
from verifier.merkle.proof import MultiProofFile, ProofFile, proof_from_json
from verifier.merkle.tree import StandardMerkleTree
from verifier.model.attestation import AttestationFile
from verifier.model.bundle import BundleDeployment, TokenInfo, assemble, parse_bundle
from verifier.model.holdings import parse_holdings_text
from verifier.model.jsontext import (
    MAX_JSON_DEPTH,
    check_json_text,
    loads_strict,
    lone_surrogate_escape,
    parse_json,
)
from verifier.model.policy import Policy

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

AS_OF = 1_767_225_600  # 2026-01-01T00:00:00Z
ISSUER = "Fuzz Issuer"
SYMBOL = "fUSD"
KEY = (7).to_bytes(32, "big")

HOSTILE_STRINGS = [
    "",
    " ",
    "0",
    "-1",
    "1e5",
    "1E+400",
    "0x",
    "0x" + "ab" * 32 + "\n",
    "0x" + "AB" * 32,
    "9" * 5000,
    "1" * 79,
    str(2**64),
    "\ud800",
    "a\udfffb",
    "\x1b[31mred\x1b[0m",
    "\u202e",
    "\u200b",
    "\uff11\uff12",
    "\u0661",
    "2026-01-01T00:00:00Z\n",
    "2026-01-01",
    "USD",
    "usd",
    "cash",
    "[" * 200,
    "NaN",
    "x" * 300,
]
HOSTILE_INTS = [0, -1, 1, 255, 256, 2**53 - 1, 2**53, 2**63, 2**64 - 1, 2**64, 2**256, -(2**300)]

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from(HOSTILE_INTS)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(HOSTILE_STRINGS)
)
JUNK = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


# --- valid documents to start from ---------------------------------------------------------


def _csv() -> str:
    return (
        "holding_id,asset_class,currency,amount,maturity,counterparty,country,rating,"
        "collateral,collateral_value\n"
        "H-1,bank_deposit_demand,USD,1200000.00,,Bank One,US,A+,,\n"
        "H-2,sovereign_debt,USD,500000.50,2026-03-01,US Treasury,US,AA+,,\n"
        "H-3,reverse_repo,USD,300000.00,2026-01-02,Dealer,US,A,sovereign_debt,306000.00\n"
        "H-4,cash,USD,25.25,,Custody,US,,,\n"
    )


@functools.lru_cache(maxsize=1)
def _docs() -> dict[str, Any]:
    from verifier.signatures import secp256k1
    from verifier.signatures.signing import message_for_tree, sign_entries

    holdings = parse_holdings_text(_csv(), source="<fuzz>")
    tree = StandardMerkleTree.of(holdings)
    message = message_for_tree(
        tree,
        issuer=ISSUER,
        token=SYMBOL,
        custodian="cust-a",
        as_of=AS_OF,
        valid_until=AS_OF + 30 * 86_400,
        sequence=3,
    )
    attestation = AttestationFile(
        message=message, signatures=tuple(sign_entries(message, [KEY], "secp256k1"))
    ).to_json()
    token = to_checksum_address("0x" + "ab" * 20)
    treasury = to_checksum_address("0x" + "cd" * 20)
    bundle = assemble(
        issuer=ISSUER,
        token=TokenInfo(SYMBOL, "USD", 6),
        as_of=AS_OF,
        deployments=[BundleDeployment(31337, token, (treasury,))],
        custodians=[("cust-a", tree.dump(), attestation)],
    )
    policy = "\n".join(
        [
            'format = "porv.policy/1"',
            f'issuer = "{ISSUER}"',
            f'token = "{SYMBOL}"',
            'currency = "USD"',
            "decimals = 6",
            'jurisdictions = ["genius"]',
            'max_age = "35d"',
            'min_coverage = "1.00"',
            "",
            "[[deployments]]",
            "chain_id = 31337",
            f'address = "{token}"',
            f'excluded = ["{treasury}"]',
            "",
            "[[custodians]]",
            'id = "cust-a"',
            f'signers = ["{secp256k1.address_of(KEY)}"]',
            "threshold = 1",
            "",
            "[rpc]",
            '"31337" = ["http://127.0.0.1:1/v3/KEY"]',
            "",
        ]
    )
    return {
        "tree": tree.dump(),
        "proof": ProofFile.for_holding(tree, "H-2").to_json(),
        "multiproof": MultiProofFile.for_holdings(tree, ["H-1", "H-3"]).to_json(),
        "attestation": attestation,
        "bundle": bundle,
        "policy": policy,
        "state": {
            "format": "porv.state/1",
            "custodians": {"x": {"sequence": 3, "digest": "0x" + "11" * 32, "as_of": AS_OF}},
        },
    }


# --- mutation ---------------------------------------------------------------------------------


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            out += _paths(value, (*prefix, i))
    return out


@st.composite
def mutated(draw: st.DrawFn, name: str) -> Any:
    """A valid document of ``name`` with one to three parts replaced, deleted or added."""
    doc = copy.deepcopy(_result_files()[2] if name == "result" else _docs()[name])
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if not path:
            if op == "replace":
                doc = draw(JUNK)
            continue
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        if op == "replace":
            parent[last] = draw(JUNK)
        elif op == "delete":
            del parent[last]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", *HOSTILE_STRINGS[:5]]))] = draw(JUNK)
        else:
            parent.insert(last, draw(JUNK))
    return doc


def _typed(fn: Callable[[], Any]) -> None:
    """Run ``fn``: it may return or raise a PorvError, nothing else."""
    try:
        fn()
    except PorvError as exc:
        assert exc.exit_code in (1, 2, 3)
        exc.diagnostics().encode("utf-8")  # printable: never a lone surrogate in a message
        json.dumps(exc.to_json())


def _roundtrip(doc: Any) -> Any:
    """What a file holding ``doc`` reads back as (or a refusal), through the strict reader."""
    text = json.dumps(doc)
    return loads_strict(text, source="<fuzz>")


# --- JSON text ----------------------------------------------------------------------------


@FUZZ
@given(st.text(max_size=200) | st.sampled_from(HOSTILE_STRINGS))
def test_json_reader_typed_on_any_text(text: str) -> None:
    _typed(lambda: loads_strict(text, source="<fuzz>"))


@FUZZ
@given(
    depth=st.integers(1, 3 * MAX_JSON_DEPTH),
    opener=st.sampled_from(["[", '{"a":', '[{"b":']),
    closed=st.booleans(),
)
def test_json_depth_is_capped_before_parsing(depth: int, opener: str, closed: bool) -> None:
    closer = {"[": "]", '{"a":': "}", '[{"b":': "}]"}[opener]
    levels = len(closer)
    text = opener * depth + "1" + (closer * depth if closed else "")
    if closed and depth * levels <= MAX_JSON_DEPTH:
        parse_json(text)
    else:
        _typed(lambda: loads_strict(text, source="<fuzz>"))


@settings(FUZZ, max_examples=300)
@given(
    st.lists(
        st.sampled_from(["\\ud83d", "\\ude00", "\\\\", "a", "\\n", "\\uDBFF", "\\uDC00", '","']),
        max_size=8,
    )
)
def test_lone_surrogate_found_in_the_text_as_json_decodes_it(parts: list[str]) -> None:
    text = '["' + "".join(parts) + '"]'
    decoded = json.loads(text)
    lone = any(0xD800 <= ord(c) <= 0xDFFF for s in decoded for c in s)
    assert (lone_surrogate_escape(text) is not None) == lone
    _typed(lambda: check_json_text(text, source="<fuzz>"))


def test_200_kb_of_brackets_is_a_schema_error() -> None:
    for text in ("[" * 200_000, "{" * 200_000, '{"a":' * 40_000, "[" * 100_000 + "]" * 100_000):
        try:
            loads_strict(text, source="<fuzz>")
        except PorvError as exc:
            assert exc.exit_code == 2
        else:  # pragma: no cover
            raise AssertionError("deep JSON accepted")


# --- formats ----------------------------------------------------------------------------------


def test_deeply_nested_policy_is_a_policy_error() -> None:
    for text in ("a = " + "[" * 200_000, "a = " + "{b = " * 100_000):
        try:
            Policy.from_toml_text(text, source="<fuzz>")
        except PorvError as exc:
            assert exc.exit_code == 2
        else:  # pragma: no cover
            raise AssertionError("deep TOML accepted")


@FUZZ
@given(st.data())
def test_holdings_csv_typed(data: st.DataObject) -> None:
    lines = _csv().splitlines()
    row = data.draw(st.integers(0, len(lines) - 1))
    cells = lines[row].split(",")
    col = data.draw(st.integers(0, len(cells) - 1))
    cells[col] = data.draw(st.sampled_from(HOSTILE_STRINGS) | st.text(max_size=12))
    lines[row] = ",".join(cells)
    text = "\n".join(lines) + data.draw(st.sampled_from(["\n", "", "\r\n", "\n,,,"]))
    _typed(lambda: parse_holdings_text(text, source="<fuzz>"))


@FUZZ
@given(mutated("tree"))
def test_tree_dump_typed(doc: Any) -> None:
    _typed(lambda: StandardMerkleTree.load(_roundtrip(doc), source="<fuzz>"))


@FUZZ
@given(mutated("proof") | mutated("multiproof"))
def test_proof_typed(doc: Any) -> None:
    def run() -> None:
        proof = proof_from_json(_roundtrip(doc), source="<fuzz>")
        proof.verifies()

    _typed(run)


@FUZZ
@given(mutated("attestation"))
def test_attestation_typed(doc: Any) -> None:
    def run() -> None:
        from verifier.signatures.eip712 import attestation_digest

        att = AttestationFile.from_json(_roundtrip(doc), source="<fuzz>")
        attestation_digest(att.message)

    _typed(run)


@FUZZ
@given(mutated("bundle"))
def test_bundle_typed(doc: Any) -> None:
    def run() -> None:
        bundle = parse_bundle(_roundtrip(doc), source="<fuzz>")
        assert len(bundle.sha256) == 64

    _typed(run)


@FUZZ
@given(st.data())
def test_policy_typed(data: st.DataObject) -> None:
    lines = _docs()["policy"].splitlines()
    row = data.draw(st.integers(0, len(lines) - 1))
    op = data.draw(st.sampled_from(["value", "line", "drop", "dup"]))
    if op == "value" and "=" in lines[row]:
        key = lines[row].split("=", 1)[0]
        value = data.draw(JUNK)
        lines[row] = f"{key}= {json.dumps(value)}"
    elif op == "line":
        lines[row] = data.draw(st.text(max_size=30) | st.sampled_from(HOSTILE_STRINGS))
    elif op == "drop":
        del lines[row]
    else:
        lines.insert(row, lines[row])
    text = "\n".join(lines)
    _typed(lambda: Policy.from_toml_text(text, source="<fuzz>"))


@settings(FUZZ, max_examples=40)
@given(mutated("state") | JUNK)
def test_state_file_typed(doc: Any) -> None:
    from verifier.local.state import STATE_FILE, RollbackState

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / STATE_FILE).write_text(json.dumps(doc), encoding="utf-8")

        def run() -> None:
            state = RollbackState(tmp)
            state.check(ISSUER, SYMBOL, "x", 4, "0x" + "22" * 32)

        _typed(run)


@functools.lru_cache(maxsize=1)
def _result_files() -> tuple[str, str, dict[str, Any]]:
    """A bundle and policy on disk and a sealed result of them (supply faked, offline)."""
    from verifier.app.verify import build_inputs
    from verifier.checks.bundle import verify_bundle
    from verifier.checks.evidence import BlockHeader, DeploymentSupply, SupplyReport
    from verifier.local.loaders import load_bundle, load_policy
    from verifier.result.seal import seal

    folder = Path(tempfile.mkdtemp(prefix="porv-fuzz-"))  # cached across examples, so not tmp_path
    atexit.register(shutil.rmtree, folder, True)  # no temp folder left behind
    bundle_path = folder / "bundle.json"
    policy_path = folder / "policy.toml"
    bundle_path.write_text(json.dumps(_docs()["bundle"]), encoding="utf-8")
    policy_path.write_text(_docs()["policy"], encoding="utf-8")
    bundle, policy = load_bundle(bundle_path), load_policy(policy_path)
    dep = policy.deployments[0]
    supply = SupplyReport(
        deployments=(
            DeploymentSupply(
                chain_id=dep.chain_id,
                address=dep.address,
                block_number=7,
                block_hash="0x" + "11" * 32,
                block_timestamp=AS_OF - 5,
                decimals=6,
                total_supply=2_000_000_000_000,
                excluded=tuple((a, 10**12) for a in dep.excluded),
                circulating=10**12,
                finality="finalized",
                successor=BlockHeader(8, "0x" + "22" * 32, "0x" + "11" * 32, AS_OF + 7),
            ),
        ),
        total_circulating=10**12,
        decimals=6,
    )
    outcome = verify_bundle(
        bundle,
        policy,
        now=AS_OF + 60,
        supply=supply,
        floor=None,
        inputs=build_inputs(bundle, policy, state=False),
    )
    return str(bundle_path), str(policy_path), seal(outcome.result)


@settings(FUZZ, max_examples=40)
@given(st.data())
def test_result_recheck_typed(data: st.DataObject) -> None:
    from verifier.app.recheck import recheck_result
    from verifier.result.seal import seal

    bundle_path, policy_path, result = _result_files()
    doc = data.draw(st.just(copy.deepcopy(result)) | mutated("result") | JUNK)
    if isinstance(doc, dict) and data.draw(st.booleans()):
        _typed(lambda: seal(doc))  # a hostile editor reseals: the digest is only a hash

    def run() -> None:
        recheck_result(
            _roundtrip(doc),
            source="<fuzz>",
            bundle_path=bundle_path,
            policy_path=policy_path,
            now=AS_OF + 120,
        )

    _typed(run)


# --- node answers -------------------------------------------------------------------------


def _client(body: bytes) -> Any:
    from verifier.chain.rpc import RpcClient

    return RpcClient(
        "http://127.0.0.1:1/v3/KEY",
        31337,
        retries=0,
        transport=lambda *_: body,
        sleep=lambda _: None,
    )


ANSWER_ITEM = st.fixed_dictionaries(
    {
        "jsonrpc": st.sampled_from(["2.0", "1.0"]),
        "id": st.sampled_from([1, 2, 3, "1", None, 2**64]),
    },
    optional={"result": JUNK, "error": JUNK},
)


@settings(FUZZ, max_examples=100)
@given(
    st.binary(max_size=64)
    | st.lists(ANSWER_ITEM, max_size=4).map(lambda a: json.dumps(a).encode())
    | ANSWER_ITEM.map(lambda a: json.dumps(a).encode())
    | st.sampled_from([b"[" * 200_000, b'{"jsonrpc":"2.0","id":1,"result":' + b"[" * 70_000])
)
def test_node_answers_typed(body: bytes) -> None:
    from verifier.chain.rpc import Call, block_header, data, hash32, quantity

    client = _client(body)

    def run() -> None:
        results = client.batch([Call("eth_chainId"), Call("eth_getBlockByNumber", ("0x1", False))])
        quantity(results[0], "chain id", client, bits=64)
        block_header(results[1], client, number=1)

    _typed(run)
    value = _as_json(body)
    for check in (quantity, data, hash32):
        _typed(lambda check=check: check(value, "x", client))


def _as_json(body: bytes) -> Any:
    try:
        return parse_json(body.decode("utf-8"))
    except ValueError:  # JsonRefusedError and UnicodeDecodeError
        return None


@settings(FUZZ, max_examples=100)
@given(raw=st.binary(max_size=400), n=st.integers(0, 4))
def test_multicall_answer_decoding_typed(raw: bytes, n: int) -> None:
    from verifier.chain.supply import _decode_aggregate3, _word

    client = _client(b"")
    _typed(lambda: _decode_aggregate3(raw, n, client))
    _typed(lambda: _word(raw[:40] or None, "totalSupply", client))


@settings(FUZZ, max_examples=100)
@given(st.none() | st.binary(max_size=96) | st.just(bytes.fromhex("1626ba7e") + b"\x01" * 28))
def test_eip1271_answer_is_a_verdict_never_an_exception(answer: bytes | None) -> None:
    from unittest import mock

    from verifier.chain.eip1271 import EIP1271_MAGIC, eip1271_checker

    with mock.patch("verifier.chain.rpc.call_all_endpoints", return_value=answer):
        check = eip1271_checker({31337: ["http://127.0.0.1:1"]})
        verdict = check(31337, "0x" + "12" * 20, b"\0" * 32, b"\1" * 65, 5)
    assert verdict is (answer is not None and answer[:32] == EIP1271_MAGIC + bytes(28))
