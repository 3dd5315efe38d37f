"""Hostile inputs (DESIGN §1, "Bounded work" and "Results carry no secrets and no control bytes").

Each attack runs the real CLI on a crafted file and checks: the exit code and kind, a JSON
status under ``--format json``, no traceback, no ``verified``, and an unchanged state file.

* nesting: ~200 KB of ``[`` in a bundle, a state file, a result or a node's answer;
* values nothing can encode: lone surrogates, a 5000-digit amount in a later tree value, and
  uint64 values beyond 2^53 (which ``porv attest sign`` itself produces);
* secrets: an RPC URL's API key (path, query, userinfo) never reaches results or messages;
* display: escape sequences and HTML in ids never reach a terminal or markdown raw;
* look-alike holding ids (zero-width space, non-breaking hyphen, case) across custodians;
* a block hash with a trailing newline; one wallet pinned on two chains.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.attacks.crafting import (
    KEYS,
    Doc,
    Workdir,
    assert_refused,
    chain_url,
    custodian,
    message,
    porv,
    resign,
    set_holdings,
    sign_report,
    tree,
    verify_cli,
)
from tests.support.fakenode import FakeNode
from verifier.app.demo import ChainDeployment
from verifier.local.state import STATE_FILE

DEEP = "[" * 200_000


def _no_crash(run: Any) -> None:
    assert "Traceback" not in run.stderr, run.stderr
    assert "internal error" not in run.stderr, run.stderr


def _accepted_once(work: Workdir) -> bytes:
    """Verify the pristine bundle once, so a state file exists; its bytes."""
    run = verify_cli(work.write(work.bundle_doc()), work)
    assert run.code == 0, run.stderr
    state = work.snapshot()
    assert state is not None
    return state


# --- class 10: deep nesting ---------------------------------------------------------------


def test_deeply_nested_bundle_is_refused_not_a_crash(work: Workdir) -> None:
    before = _accepted_once(work)
    bundle = work.path / "deep.json"
    bundle.write_text(DEEP, encoding="utf-8")

    run = verify_cli(bundle, work)

    assert_refused(run, work, before, code=2, kinds={"schema_error"}, words=["nested deeper"])
    assert run.json["error"]["location"] == {"file": str(bundle)}


def test_deeply_nested_state_is_refused_not_a_crash(work: Workdir) -> None:
    work.state.mkdir()
    work.state_file.write_text('{"format": ' + DEEP, encoding="utf-8")
    before = work.snapshot()

    run = verify_cli(work.write(work.bundle_doc()), work)

    assert_refused(run, work, before, code=2, kinds={"schema_error"}, words=["nested deeper"])
    assert run.json["error"]["location"]["file"].endswith(STATE_FILE)


def test_deeply_nested_result_is_refused_by_recheck(work: Workdir) -> None:
    result = work.path / "result.json"
    result.write_text('{"status": "verified", "checks": ' + DEEP, encoding="utf-8")

    run = porv(["recheck", str(result), "--format", "json"])

    assert run.code == 2, run.stderr
    _no_crash(run)
    assert run.json["status"] == "error"
    assert run.json["error"]["kind"] == "schema_error"


def test_deeply_nested_node_answer_is_the_endpoints_fault(work: Workdir) -> None:
    before = _accepted_once(work)
    with FakeNode(body=b'{"jsonrpc": "2.0", "id": 1, "result": ' + DEEP.encode()) as node:
        run = verify_cli(work.write(work.bundle_doc()), work, "--rpc", f"31337={node.url}")

    assert_refused(run, work, before, code=3, kinds={"rpc_error"}, words=["nested deeper"])


# --- class 15: values nothing can encode -----------------------------------------------------


def _surrogate_issuer(doc: Doc) -> None:
    doc["issuer"] = "Example Issuer Ltd\ud800"


def _surrogate_token(doc: Doc) -> None:
    doc["token"]["symbol"] = "pUSD\udfff"


def _surrogate_custodian(doc: Doc) -> None:
    doc["custodians"][0]["id"] = "custodian-a\ud83d"


@pytest.mark.parametrize(
    ("craft", "field"),
    [
        pytest.param(_surrogate_issuer, "issuer", id="issuer"),
        pytest.param(_surrogate_token, "token.symbol", id="token"),
        pytest.param(_surrogate_custodian, "custodians[0].id", id="custodian"),
    ],
)
def test_lone_surrogate_is_a_schema_error_naming_the_field(
    work: Workdir, craft: Callable[[Doc], None], field: str
) -> None:
    before = _accepted_once(work)
    bundle = work.craft(craft)  # json.dumps writes the lone surrogate as a \\ud8xx escape
    assert "\\ud8" in bundle.read_text() or "\\udf" in bundle.read_text()

    run = verify_cli(bundle, work)

    assert_refused(run, work, before, code=2, kinds={"schema_error"}, words=["surrogate"])
    assert run.json["error"]["location"]["field"] == field


def test_5000_digit_amount_in_a_later_tree_value_is_a_schema_error(work: Workdir) -> None:
    before = _accepted_once(work)

    def craft(doc: Doc) -> None:
        values = custodian(doc, "custodian-a")["tree"]["values"]
        values[-1]["value"][3] = "9" * 5000

    run = verify_cli(work.craft(craft), work)

    assert_refused(run, work, before, code=2, kinds={"schema_error"}, words=["amount"])


def _key_file(path: Path, key: bytes) -> str:
    path.write_text("0x" + key.hex() + "\n", encoding="utf-8")
    return str(path)


def test_attest_sign_with_sequence_beyond_2_53_verifies_and_rechecks(work: Workdir) -> None:
    """``attest sign`` accepts any uint64 sequence; verify and recheck must read what it made.

    Canonical JSON writes an integer beyond 2^53 as its exact digits (see verifier/result/seal.py).
    """
    doc = work.bundle_doc()
    entry = custodian(doc, "custodian-a")
    tree_file = work.path / "tree-a.json"
    tree_file.write_text(json.dumps(entry["tree"]), encoding="utf-8")
    msg = message(entry)
    sequence = 2**64 - 1
    att_file = work.path / "att-a.json"
    run = porv(
        [
            "attest",
            "sign",
            "--tree",
            str(tree_file),
            "--issuer",
            msg.issuer,
            "--token",
            msg.token,
            "--custodian",
            msg.custodian,
            "--as-of",
            doc["as_of"],
            "--valid-until",
            "2099-01-01T00:00:00Z",
            "--sequence",
            str(sequence),
            "--key-file",
            _key_file(work.path / "k0", KEYS["a"][0]),
            "--key-file",
            _key_file(work.path / "k1", KEYS["a"][1]),
            "-o",
            str(att_file),
        ]
    )
    assert run.code == 0, run.stderr
    signed = json.loads(att_file.read_text(encoding="utf-8"))
    assert signed["message"]["sequence"] == sequence
    entry["attestation"] = signed["message"]
    entry["signatures"] = signed["signatures"]
    sign_report(doc)  # the auditors co-sign the new attestation digest
    bundle = work.write(doc)
    result = work.path / "result.json"

    run = verify_cli(bundle, work, "--output", str(result))

    _no_crash(run)
    assert run.code == 0, run.stderr + run.stdout
    saved = json.loads(result.read_text(encoding="utf-8"))
    assert saved["status"] == "verified"
    assert str(sequence) in (work.snapshot() or b"").decode()
    again = porv(["recheck", str(result), "--format", "json"])
    _no_crash(again)
    assert again.code == 0, again.stderr + again.stdout


def test_valid_until_beyond_2_53_is_refused_or_read_never_a_crash(work: Workdir) -> None:
    from tests.attacks.crafting import edit_message

    def craft(doc: Doc) -> None:
        edit_message(custodian(doc, "custodian-a"), valid_until=2**53 + 1, sequence=2**60)
        resign(doc)

    run = verify_cli(work.craft(craft), work)

    _no_crash(run)
    assert run.code in (0, 1, 2), run.stderr
    assert "status" in run.json


# --- class 16: secrets in RPC URLs ------------------------------------------------------------

SECRET = "SeCrEtApIkEy0123"


@pytest.mark.parametrize(
    "shape",
    [
        pytest.param("http://127.0.0.1:{port}/v3/" + SECRET, id="path"),
        pytest.param("http://127.0.0.1:{port}/?apikey=" + SECRET, id="query"),
        pytest.param("http://user:" + SECRET + "@127.0.0.1:{port}/", id="userinfo"),
    ],
)
def test_api_key_in_rpc_url_never_in_result_or_messages(
    work: Workdir, deployments: list[ChainDeployment], shape: str
) -> None:
    port = chain_url(deployments, 31337).rsplit(":", 1)[1]
    url = shape.format(port=port)
    bundle = work.write(work.bundle_doc())
    out = work.path / "result.json"

    ok = verify_cli(bundle, work, "--rpc", f"31337={url}", "--output", str(out), state=False)

    # (urllib sends no userinfo: that endpoint fails; its message must not show the secret)
    assert ok.code == (3 if "@" in url else 0), ok.stderr
    assert SECRET not in ok.stdout + ok.stderr + out.read_text(encoding="utf-8")

    # a dead endpoint: the error message names it, without its secret
    dead = shape.format(port=1)
    before = work.snapshot()
    run = verify_cli(bundle, work, "--rpc", f"31337={dead}", "--timeout", "0.5")
    assert run.code == 3, run.stderr
    _no_crash(run)
    assert SECRET not in run.stdout + run.stderr
    assert "127.0.0.1:1" in run.stdout
    assert work.snapshot() == before


def test_verbose_logs_carry_no_url_secret(
    work: Workdir, deployments: list[ChainDeployment]
) -> None:
    """``--verbose`` logs every endpoint exchange; they show the endpoint without its secret."""
    port = chain_url(deployments, 31337).rsplit(":", 1)[1]
    bundle = work.write(work.bundle_doc())

    run = porv(
        [
            "--verbose",
            "verify",
            str(bundle),
            "--policy",
            str(work.policy),
            "--format",
            "json",
            "--rpc",
            f"31337=http://127.0.0.1:{port}/v3/{SECRET}?apikey={SECRET}",
        ]
    )

    assert run.code == 0, run.stderr
    assert f"porv: verifier.chain.rpc: chain 31337 endpoint http://127.0.0.1:{port}" in run.stderr
    assert "porv: verifier.app.verify: supply: chain 31337" in run.stderr
    assert SECRET not in run.stdout + run.stderr


# --- class 17 and 18: display and look-alike ids -------------------------------------------------


def _add_to_b(doc: Doc, holding_id: str, *, rename_a: bool = False) -> None:
    """Custodian B also lists custodian A's first holding, under ``holding_id``; re-signed.

    ``rename_a``: A's holding is renamed to ``holding_id`` too (an exact duplicate).
    """
    a_entry = custodian(doc, "custodian-a")
    a = tree(a_entry).holdings[0]
    if rename_a:
        a = replace(a, holding_id=holding_id)
        set_holdings(a_entry, [a, *tree(a_entry).holdings[1:]])
    b = custodian(doc, "custodian-b")
    set_holdings(b, [*tree(b).holdings, replace(a, holding_id=holding_id)])
    resign(doc)


@pytest.mark.parametrize(
    "twin",
    [
        pytest.param("A-DEP\u200b-1", id="zero_width_space"),
        pytest.param("A\u2011DEP-1", id="non_breaking_hyphen"),
        pytest.param("a-dep-1", id="case"),
        pytest.param("\ufeffA-DEP-1", id="bom"),
        pytest.param("A\u2212DEP\u20101", id="minus_and_hyphen"),
        pytest.param("Ａ-DEP-1", id="fullwidth"),
    ],
)
def test_look_alike_holding_ids_across_custodians_fail_duplicate_holding(
    work: Workdir, twin: str
) -> None:
    assert tree(custodian(work.pristine, "custodian-a")).holdings[0].holding_id == "A-DEP-1"

    run = verify_cli(work.craft(lambda d: _add_to_b(d, twin)), work)

    assert_refused(run, work, None, code=1, kinds={"duplicate_holding"}, words=["A-DEP-1"])


def test_escape_sequences_in_ids_never_reach_the_terminal_raw(work: Workdir) -> None:
    evil = "A-DEP-1\x1b[2K\r\x1b[32mporv: verified\x1b[0m\u202e\x9b31m"
    bundle = work.craft(lambda d: _add_to_b(d, evil, rename_a=True))

    for fmt in ("text", "markdown", "json", "html"):
        run = porv(["verify", str(bundle), "--policy", str(work.policy), "--format", fmt])
        assert run.code == 1, run.stderr
        _no_crash(run)
        for stream in (run.stdout, run.stderr):
            for raw in ("\x1b", "\r", "\u202e", "\x9b"):
                assert raw not in stream, (fmt, stream)
        assert "32mporv: verified" in run.stdout, fmt  # shown, escaped
        assert "duplicate_holding" in run.stderr


def test_markdown_never_passes_raw_html(work: Workdir) -> None:
    evil = "A-DEP-1<img src=x onerror=alert(1)>*b*|"
    bundle = work.craft(lambda d: _add_to_b(d, evil, rename_a=True))

    run = porv(["verify", str(bundle), "--policy", str(work.policy), "--format", "markdown"])

    assert run.code == 1, run.stderr
    _no_crash(run)
    assert "<img" not in run.stdout
    assert "&lt;img src=x onerror=alert(1)>\\*b\\*\\|" in run.stdout


# --- class 19: trailing newline in a hash --------------------------------------------------------


def test_block_hash_with_trailing_newline_from_a_node_is_refused(work: Workdir) -> None:
    from verifier.chain.rpc import RpcClient, hash32
    from verifier.errors import RpcError

    client = RpcClient("http://127.0.0.1:1", 31337)
    with pytest.raises(RpcError, match="32-byte hash"):
        hash32("0x" + "ab" * 32 + "\n", "block hash", client)


def test_tree_node_with_trailing_newline_is_refused(work: Workdir) -> None:
    before = _accepted_once(work)

    def craft(doc: Doc) -> None:
        nodes = custodian(doc, "custodian-a")["tree"]["tree"]
        nodes[0] = nodes[0] + "\n"

    run = verify_cli(work.craft(craft), work)

    assert_refused(run, work, before, code=2, kinds={"schema_error"})


def test_timestamp_with_trailing_newline_or_foreign_digits_is_refused(work: Workdir) -> None:
    before = _accepted_once(work)
    shapes: list[Callable[[str], str]] = [
        lambda t: t + "\n",
        lambda t: t.replace("2", "\uff12"),  # full-width digit two
        lambda t: t.replace("0", "\u0660"),  # Arabic-Indic digit zero
    ]
    for shape in shapes:

        def craft(doc: Doc, shape: Callable[[str], str] = shape) -> None:
            doc["as_of"] = shape(doc["as_of"])

        run = verify_cli(work.craft(craft), work)
        assert_refused(run, work, before, code=2, kinds={"schema_error"}, words=["RFC 3339"])


def test_trailing_newline_in_a_bundle_currency_is_refused(work: Workdir) -> None:
    def craft(doc: Doc) -> None:
        doc["token"]["currency"] += "\n"

    run = verify_cli(work.craft(craft), work)

    assert_refused(run, work, None, code=2, kinds={"schema_error"}, words=["ISO 4217"])
    assert run.json["error"]["location"]["field"] == "token.currency"


def test_trailing_newline_in_a_policy_duration_is_refused_at_load(work: Workdir) -> None:
    text = work.policy.read_text(encoding="utf-8")
    assert 'max_age = "35d"' in text
    work.policy.write_text(text.replace('max_age = "35d"', 'max_age = "35d\\n"'), "utf-8")

    run = verify_cli(work.write(work.bundle_doc()), work)

    assert_refused(run, work, None, code=2, kinds={"policy_error"})
    assert run.json["error"]["location"]["field"] == "max_age"


# --- class 26: one wallet pinned on two chains ---------------------------------------------------


def test_wallet_pinned_at_one_address_on_two_chains_is_refused_at_load(work: Workdir) -> None:
    text = work.policy.read_text(encoding="utf-8")
    wallet = "0x" + "12" * 20
    from eth_utils.address import to_checksum_address

    wallet = to_checksum_address(wallet)
    extra = (
        f'\n[[custodians.eip1271]]\nchain_id = 31337\naddress = "{wallet}"\n'
        f'\n[[custodians.eip1271]]\nchain_id = 31338\naddress = "{wallet}"\n'
    )
    work.policy.write_text(text + extra, encoding="utf-8")

    run = verify_cli(work.write(work.bundle_doc()), work)

    assert_refused(run, work, None, code=2, kinds={"policy_error"}, words=[wallet, "chains"])
    # at load: the policy file and the entry are named (a late failure named neither)
    location = run.json["error"]["location"]
    assert location["file"] == str(work.policy)
    assert location["field"] == "custodians[1].eip1271[1]"


def test_wallet_address_pinned_for_two_custodians_on_two_chains_is_refused_at_load(
    work: Workdir,
) -> None:
    from eth_utils.address import to_checksum_address

    wallet = to_checksum_address("0x" + "34" * 20)
    text = work.policy.read_text(encoding="utf-8")
    first_b = text.index('[[custodians]]\nid = "custodian-b"')  # end of custodian-a's table
    text = (
        text[:first_b]
        + f'eip1271 = [{{ chain_id = 31337, address = "{wallet}" }}]\n'
        + text[first_b:]
    )
    text += f'\n[[custodians.eip1271]]\nchain_id = 31338\naddress = "{wallet}"\n'
    work.policy.write_text(text, encoding="utf-8")

    run = verify_cli(work.write(work.bundle_doc()), work)

    assert_refused(run, work, None, code=2, kinds={"policy_error"}, words=[wallet])
    assert run.json["error"]["location"]["file"] == str(work.policy)
