"""Attacks on ``porv recheck --eas`` (and ``porv publish --eas``).

Anyone can attest anything under porv's schema, an address the user names may hold any code,
and an endpoint may lie. Each attack below is one of those; porv must refuse it with the
exit code its kind deserves (1: the attestation does not say what the result says; 3: the
chain's answer cannot be believed), name why, and never print a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.eas import (
    OPERATOR,
    EasWorld,
    eas_world,
    fund,
    publish,
    recheck,
    write_key,
)
from tests.support.faultproxy import Fault, FaultProxy
from verifier.app.eas import recheck_eas
from verifier.chain.eas import selector
from verifier.devnet import registry as reg
from verifier.devnet.node import rpc_request
from verifier.errors import EndpointsDisagreeError, IncompleteError, NotFinalError, RpcError
from verifier.result import eas as schema
from verifier.signatures import secp256k1

ROOT = Path(__file__).resolve().parents[2]
#: another secp256k1 key (public, test-only): an attester nobody trusts
STRANGER_KEY = bytes.fromhex(
    (ROOT / "fixtures/keys/secp256k1-2.key").read_text().strip().removeprefix("0x")
)
STRANGER = secp256k1.address_of(STRANGER_KEY)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EasWorld]:
    with eas_world("embedded", tmp_path_factory.mktemp("eas-attacks")) as w:
        fund(w.url, STRANGER)
        yield w


@pytest.fixture(scope="module")
def uid(world: EasWorld) -> str:
    """The operator's honest attestation of the demo result."""
    code, report, err = publish(world)
    assert code == 0, err
    return str(report["uid"])


def _values(world: EasWorld) -> schema.EasFields:
    doc = json.loads(world.result.read_text())
    return schema.fields_of(doc, source="result")


def _expiration(world: EasWorld) -> int:
    return schema.expiration_of(json.loads(world.result.read_text()), source="result")


def _attest(world: EasWorld, key: bytes, data: bytes, *, schema_uid: bytes | None = None) -> str:
    """Attest raw ``data`` on the demo's EAS with ``key``; returns the UID."""
    request = (
        schema_uid or schema.schema_uid(),
        (schema.RESOLVER, _expiration(world), True, schema.ZERO32, data, 0),
    )
    receipt = reg.send_transaction(world.url, world.eas, "attest", (request,), key, name="EAS")
    (log,) = [lg for lg in receipt["logs"] if str(lg["address"]) == world.eas]
    return "0x" + bytes(log["data"]).hex()


def _message(report: Any) -> str:
    return str(report["error"]["message"])


# --- who attested ---------------------------------------------------------------------------


def test_an_attester_nobody_named_is_refused(world: EasWorld, uid: str) -> None:
    """The stranger attests the very same data: the result is signed by the operator, so
    without --attester only the operator counts."""
    copy = _attest(world, STRANGER_KEY, schema.encode(_values(world)))
    code, report, _ = recheck(world, copy)
    assert code == 1
    assert f"its attester is {STRANGER}, not {OPERATOR}" in _message(report)
    # the holder who names the stranger gets what they asked for
    code, report, err = recheck(world, copy, "--attester", STRANGER)
    assert code == 0, err
    assert report["eas"]["attester_trusted_by"] == "--attester"


def test_a_pinned_attester_overrides_the_result_signer(world: EasWorld, uid: str) -> None:
    code, report, _ = recheck(world, uid, "--attester", STRANGER)
    assert code == 1
    assert f"its attester is {OPERATOR}, not {STRANGER}" in _message(report)


def test_an_unsigned_result_needs_an_attester(world: EasWorld, uid: str, tmp_path: Path) -> None:
    doc = json.loads(world.result.read_text())
    del doc["signature"]  # the digest does not cover the signature: still a sealed result
    unsigned = tmp_path / "unsigned.json"
    unsigned.write_text(json.dumps(doc))
    code, report, _ = recheck(
        world, uid, "--policy", str(world.result.parent / "policy.toml"), result=unsigned
    )
    assert code == 2
    assert "the result is unsigned" in _message(report)
    code, _, err = recheck(
        world,
        uid,
        "--policy",
        str(world.result.parent / "policy.toml"),
        "--attester",
        OPERATOR,
        result=unsigned,
    )
    assert code == 0, err


# --- what was attested ----------------------------------------------------------------------


def test_another_schema_is_refused(world: EasWorld, uid: str) -> None:
    """The operator's own key, the result's exact data, but a look-alike schema (the same
    string, not revocable): not porv's schema UID."""
    lookalike = schema.schema_uid(revocable=False)
    reg.send_transaction(
        world.url,
        world.schema_registry,
        "register",
        (schema.SCHEMA, schema.RESOLVER, False),
        STRANGER_KEY,
        name="SchemaRegistry",
    )
    data = schema.encode(_values(world))
    request = (lookalike, (schema.RESOLVER, _expiration(world), False, schema.ZERO32, data, 0))
    key = bytes.fromhex(world.key_file.read_text().strip()[2:])
    receipt = reg.send_transaction(world.url, world.eas, "attest", (request,), key, name="EAS")
    (log,) = [lg for lg in receipt["logs"] if str(lg["address"]) == world.eas]
    other = "0x" + bytes(log["data"]).hex()
    code, report, _ = recheck(world, other)
    assert code == 1
    assert f"not porv's {schema.SCHEMA_VERSION} schema" in _message(report)


def test_junk_data_under_porv_schema_is_refused(world: EasWorld, uid: str) -> None:
    key = bytes.fromhex(world.key_file.read_text().strip()[2:])
    for junk in (b"\x01\x02\x03", schema.encode(_values(world)) + b"\0" * 32):
        junk_uid = _attest(world, key, junk)
        code, report, _ = recheck(world, junk_uid)
        assert code == 1
        assert "does not decode under porv's schema" in _message(report) or (
            "is not the canonical encoding" in _message(report)
        )


def test_an_unknown_uid_is_refused(world: EasWorld, uid: str) -> None:
    code, report, _ = recheck(world, "0x" + "ab" * 32)
    assert code == 1
    assert "EAS holds no attestation with this UID" in _message(report)


def test_a_revoked_attestation_is_refused(world: EasWorld, uid: str, tmp_path: Path) -> None:
    """An attester revokes its attestation: recheck fails; publishing again makes a new one."""
    revoker_key = bytes.fromhex("11" * 32)
    revoker = secp256k1.address_of(revoker_key)
    fund(world.url, revoker)
    key_file = write_key(tmp_path / "revoker.key", revoker_key)
    doomed = _attest(world, revoker_key, schema.encode(_values(world)))
    reg.send_transaction(
        world.url,
        world.eas,
        "revoke",
        ((schema.schema_uid(), (bytes.fromhex(doomed[2:]), 0)),),
        revoker_key,
        name="EAS",
    )
    code, report, _ = recheck(world, doomed, "--attester", revoker)
    assert code == 1
    assert "it was revoked at" in _message(report)
    from tests.support.eas import porv

    code, out, err = porv(
        "publish",
        str(world.result),
        "--eas",
        world.eas_opt,
        "--rpc",
        world.url,
        "--key-file",
        str(key_file),
        "--format",
        "json",
    )
    assert code == 0, err
    fresh = json.loads(out)
    assert fresh["outcome"] == "published"
    assert fresh["revoked_copies"] == 1
    assert fresh["uid"] != doomed


# --- what is at the address -----------------------------------------------------------------


def _returning(blob: bytes) -> bytes:
    """Code that answers every call with ``blob``: CODECOPY the bytes after it, RETURN them.

    As init code it deploys ``blob`` as the runtime code."""
    head_len = 13
    return (
        bytes([0x61, *len(blob).to_bytes(2, "big"), 0x80, 0x61, *head_len.to_bytes(2, "big")])
        + bytes([0x60, 0x00, 0x39, 0x60, 0x00, 0xF3])
        + blob
    )


def _deploy_runtime(url: str, runtime: bytes) -> str:
    """Deploy ``runtime`` as is."""
    from eth_utils.address import to_checksum_address

    tx = {
        "from": rpc_request(url, "eth_accounts")[0],
        "data": "0x" + _returning(runtime).hex(),
        "gas": hex(3_000_000),
    }
    tx_hash = rpc_request(url, "eth_sendTransaction", [tx])
    receipt = rpc_request(url, "eth_getTransactionReceipt", [tx_hash])
    return str(to_checksum_address(receipt["contractAddress"]))


def _crafted(world: EasWorld, uid: str) -> bytes:
    """``getAttestation`` return data saying exactly what the result says, by the operator."""
    from eth_abi.abi import encode

    return encode(
        ["(bytes32,bytes32,uint64,uint64,uint64,bytes32,address,address,bool,bytes)"],
        [
            (
                bytes.fromhex(uid[2:]),
                schema.schema_uid(),
                world.as_of + 60,
                _expiration(world),
                0,
                schema.ZERO32,
                schema.RESOLVER,
                OPERATOR,
                True,
                schema.encode(_values(world)),
            )
        ],
    )


def test_a_fake_eas_answering_a_perfect_attestation_is_refused(world: EasWorld) -> None:
    """A contract that answers every call with a crafted attestation equal to the result: its
    code is not EAS's, so nothing it says is believed (exit 3), and publish refuses it too."""
    fake_uid = "0x" + "cd" * 32
    fake = _deploy_runtime(world.url, _returning(_crafted(world, fake_uid)))
    opt = f"31337:{fake}"
    code, out, _ = _recheck_at(world, opt, fake_uid)
    assert code == 3
    assert "is not EAS 1.9.0's runtime code" in _message(out)
    nonce = rpc_request(world.url, "eth_getTransactionCount", [OPERATOR, "latest"])
    from tests.support.eas import porv

    code, text, _ = porv(
        "publish",
        str(world.result),
        "--eas",
        opt,
        "--rpc",
        world.url,
        "--key-file",
        str(world.key_file),
        "--format",
        "json",
    )
    assert code == 3
    assert "is not EAS 1.9.0's runtime code" in json.loads(text)["error"]["message"]
    assert rpc_request(world.url, "eth_getTransactionCount", [OPERATOR, "latest"]) == nonce


def test_other_code_and_no_code_are_refused(world: EasWorld, uid: str) -> None:
    for address, why in (
        (world.deployments[0].token, "is not EAS 1.9.0's runtime code"),
        (world.schema_registry, "is not EAS 1.9.0's runtime code"),
        (OPERATOR, "no contract code at that address"),
    ):
        code, out, _ = _recheck_at(world, f"31337:{address}", uid)
        assert code == 3, address
        assert why in _message(out)


def test_a_proxy_in_front_of_the_real_eas_is_refused(world: EasWorld, uid: str) -> None:
    """An EIP-1167 proxy delegating every call to the real EAS answers what EAS answers (its
    own storage, though): its code is not EAS's, so nothing it answers is believed."""
    clone = bytes.fromhex(
        "363d3d373d3d3d363d73" + world.eas[2:].lower() + "5af43d82803e903d91602b57fd5bf3"
    )
    proxy = _deploy_runtime(world.url, clone)
    code, out, _ = _recheck_at(world, f"31337:{proxy}", uid)
    assert code == 3
    assert "is not EAS 1.9.0's runtime code" in _message(out)


def _recheck_at(world: EasWorld, eas_opt: str, uid: str) -> tuple[int, Any, str]:
    from tests.support.eas import porv

    code, out, err = porv(
        "recheck", str(world.result), "--eas", eas_opt, "--uid", uid, "--format", "json"
    )
    return code, json.loads(out), err


# --- endpoints ------------------------------------------------------------------------------


def _eas_read(world: EasWorld, urls: list[str], uid: str) -> dict[str, Any]:
    return recheck_eas(
        json.loads(world.result.read_text()),
        "result.json",
        eas_opt=world.eas_opt,
        uid_opt=uid,
        attester_opt=None,
        urls=urls,
        finality="latest",
        now=world.as_of + 120,
    )


def _on_get_attestation(result: str) -> Any:
    """A rewrite answering ``getAttestation`` calls with ``result``."""
    sel = "0x" + selector("getAttestation(bytes32)").hex()

    def rewrite(call: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
        params = call.get("params") or [{}]
        if call.get("method") == "eth_call" and str(params[0].get("data", "")).startswith(sel):
            return {**item, "result": result}
        return item

    return rewrite


def test_the_honest_reading_passes(world: EasWorld, uid: str) -> None:
    assert _eas_read(world, [world.url], uid)["uid"] == uid


def test_an_endpoint_that_disagrees_is_refused(world: EasWorld, uid: str) -> None:
    """The second endpoint answers a crafted attestation (the operator's, another supply)."""
    att = bytearray(_crafted(world, uid))
    att[-40] ^= 1  # one byte of the data: another value
    lie = _on_get_attestation("0x" + att.hex())
    with (
        FaultProxy(world.url, rewrite=lie) as proxy,
        pytest.raises(EndpointsDisagreeError, match="disagree on the eth_call result"),
    ):
        _eas_read(world, [world.url, proxy.url], uid)


def _tx_from(sender: str) -> Any:
    """A rewrite answering ``eth_getTransactionByHash`` with another sender."""

    def rewrite(call: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
        if call.get("method") == "eth_getTransactionByHash" and isinstance(
            item.get("result"), dict
        ):
            return {**item, "result": {**item["result"], "from": sender.lower()}}
        return item

    return rewrite


def test_an_endpoint_lying_about_the_attesting_transaction(world: EasWorld, uid: str) -> None:
    """The attestation is read right, but the transaction that made it is said to come from
    someone else: beside an honest endpoint that is a disagreement (exit 3); alone, the
    attestation is not shown to be the operator's (exit 1)."""
    from verifier.errors import RecheckMismatchError

    with FaultProxy(world.url, rewrite=_tx_from(STRANGER)) as proxy:
        with pytest.raises(EndpointsDisagreeError, match="the transaction that attested"):
            _eas_read(world, [world.url, proxy.url], uid)
        with pytest.raises(RecheckMismatchError, match=f"from {STRANGER} to {world.eas}"):
            _eas_read(world, [proxy.url], uid)


def test_an_endpoint_lying_about_block_times_is_a_disagreement(world: EasWorld, uid: str) -> None:
    """The first endpoint dates every block 1,000 s early (same hashes): the blocks of the
    attestation's time are elsewhere on it. That is a disagreement with the honest endpoint
    (exit 3), not a verdict on the attestation (exit 1)."""

    def early(call: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
        result = item.get("result")
        if call.get("method") == "eth_getBlockByNumber" and isinstance(result, dict):
            return {
                **item,
                "result": {**result, "timestamp": hex(int(result["timestamp"], 16) - 1000)},
            }
        return item

    with (
        FaultProxy(world.url, rewrite=early) as proxy,
        pytest.raises(EndpointsDisagreeError, match="the blocks of time"),
    ):
        _eas_read(world, [proxy.url, world.url], uid)


def test_a_lagging_endpoint_is_refused(world: EasWorld, uid: str) -> None:
    with FaultProxy(world.url, Fault.LAG, lag=3) as proxy, pytest.raises(NotFinalError):
        _eas_read(world, [world.url, proxy.url], uid)


@pytest.mark.parametrize(
    "junk",
    ["0x", "0x1234", "0x" + "00" * 31, "0x" + "ff" * 640, "not hex", None],
)
def test_junk_return_data_is_refused(world: EasWorld, uid: str, junk: Any) -> None:
    lie = _on_get_attestation(junk)
    with FaultProxy(world.url, rewrite=lie) as proxy, pytest.raises(RpcError):
        _eas_read(world, [proxy.url], uid)


def test_a_huge_answer_is_refused(world: EasWorld, uid: str) -> None:
    lie = _on_get_attestation("0x" + "00" * (9 << 20))  # above the client's 8 MiB cap
    with FaultProxy(world.url, rewrite=lie) as proxy, pytest.raises(IncompleteError):
        _eas_read(world, [proxy.url], uid)


def test_an_endpoint_lie_through_the_cli_exits_3(world: EasWorld, uid: str) -> None:
    with FaultProxy(world.url, rewrite=_on_get_attestation("0x1234")) as proxy:
        code, report, _ = recheck(world, uid, "--rpc", f"31337={proxy.url}")
    assert code == 3
    assert report["status"] == "error"


# --- time -----------------------------------------------------------------------------------


def test_an_expired_attestation_is_refused(world: EasWorld, uid: str) -> None:
    """Read after the result's earliest custodian valid_until: the attestation has expired."""
    from verifier.errors import RecheckMismatchError

    doc = json.loads(world.result.read_text())
    late = _expiration(world) + 1
    with pytest.raises(RecheckMismatchError, match="it expired at"):
        recheck_eas(
            doc,
            "result.json",
            eas_opt=world.eas_opt,
            uid_opt=uid,
            attester_opt=None,
            urls=[world.url],
            finality="latest",
            now=late,
        )


def test_an_expired_result_is_not_published(world: EasWorld) -> None:
    from verifier.app.eas import publishable
    from verifier.errors import ExpiredError

    doc = json.loads(world.result.read_text())
    with pytest.raises(ExpiredError, match="expired at"):
        publishable(doc, "result.json", now=_expiration(world), chain_time=0)


def test_an_edited_result_is_not_published(world: EasWorld, tmp_path: Path) -> None:
    """One number changed after sealing: the digest no longer matches, nothing is sent."""
    doc = json.loads(world.result.read_text())
    doc["supply"]["total_circulating"] = "1"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(doc))
    nonce = rpc_request(world.url, "eth_getTransactionCount", [OPERATOR, "latest"])
    code, report, _ = publish(world, edited)
    assert code == 1
    assert "result digest is" in _message(report)
    assert rpc_request(world.url, "eth_getTransactionCount", [OPERATOR, "latest"]) == nonce


# --- storage a constructor wrote ------------------------------------------------------------


def _forged_eas(world: EasWorld, real_uid: str, attester: str, *, log: bool = False) -> str:
    """A contract whose runtime code is byte for byte the demo EAS's, deployed by init code
    that first copies the storage of the attestation ``real_uid`` (made on the real EAS by
    someone) with its attester slot rewritten to ``attester`` and, with ``log``, emits the
    ``Attested`` log EAS would have. No transaction of that attester ever touched it."""
    from verifier.model.keccak import keccak256

    uid = bytes.fromhex(real_uid[2:])

    def word(address: str, slot: int) -> int:
        return int(rpc_request(world.url, "eth_getStorageAt", [address, hex(slot), "latest"]), 16)

    # the mapping slot of EAS's attestation records: where keccak(uid . p) holds the uid
    (base,) = [
        b
        for p in range(16)
        if word(world.eas, b := int.from_bytes(keccak256(uid + p.to_bytes(32, "big")), "big"))
        == int.from_bytes(uid, "big")
    ]
    slots = {base + i: word(world.eas, base + i) for i in range(7)}
    data_len = (slots[base + 6] - 1) // 2  # long bytes: 2 * length + 1
    data_at = int.from_bytes(keccak256((base + 6).to_bytes(32, "big")), "big")
    slots |= {data_at + i: word(world.eas, data_at + i) for i in range((data_len + 31) // 32)}
    # recipient at +4; attester (low 160 bits) and revocable at +5
    slots[base + 5] = (slots[base + 5] >> 160 << 160) | int(attester, 16)
    prefix = b"".join(
        bytes([0x7F]) + v.to_bytes(32, "big") + bytes([0x7F]) + s.to_bytes(32, "big") + b"\x55"
        for s, v in slots.items()
    )
    if log:
        from verifier.chain.eas import ATTESTED_TOPIC, address_topic

        topics = [
            bytes.fromhex(t[2:])
            for t in (
                ATTESTED_TOPIC,
                address_topic(schema.RESOLVER),
                address_topic(attester),
                "0x" + schema.schema_uid().hex(),
            )
        ]
        prefix += bytes([0x7F]) + uid + bytes([0x60, 0x00, 0x52])  # mstore(0, uid)
        prefix += b"".join(bytes([0x7F]) + t for t in reversed(topics))
        prefix += bytes([0x60, 0x20, 0x60, 0x00, 0xA4])  # log4(0, 32, topics...)
    runtime = bytes.fromhex(rpc_request(world.url, "eth_getCode", [world.eas, "latest"])[2:])
    offset = len(prefix) + 13
    init = (
        prefix
        + bytes([0x61, *len(runtime).to_bytes(2, "big"), 0x80, 0x61, *offset.to_bytes(2, "big")])
        + bytes([0x60, 0x00, 0x39, 0x60, 0x00, 0xF3])
        + runtime
    )
    from eth_utils.address import to_checksum_address

    tx = {
        "from": rpc_request(world.url, "eth_accounts")[0],
        "data": "0x" + init.hex(),
        "gas": hex(12_000_000),
    }
    tx_hash = rpc_request(world.url, "eth_sendTransaction", [tx])
    receipt = rpc_request(world.url, "eth_getTransactionReceipt", [tx_hash])
    fake = str(to_checksum_address(receipt["contractAddress"]))
    assert rpc_request(world.url, "eth_getCode", [fake, "latest"])[2:] == runtime.hex()
    return fake


def test_an_eas_whose_constructor_wrote_the_attestation_is_refused(
    world: EasWorld, uid: str
) -> None:
    """The stranger attests the result on the real EAS, then deploys a copy of EAS whose init
    code wrote that attestation into its storage with the operator as attester. The code is
    EAS's to the byte and getAttestation answers a perfect attestation by the operator, who
    never sent anything to it: no transaction of the operator made it, so it is refused."""
    real = _attest(world, STRANGER_KEY, schema.encode(_values(world)))
    fake = _forged_eas(world, real, OPERATOR)
    code, out, _ = _recheck_at(world, f"31337:{fake}", real)
    assert code == 1, out
    message = _message(out)
    assert f"no transaction from {OPERATOR} to {fake}" in message


def test_publish_is_not_told_already_published_by_a_constructor_log(
    world: EasWorld, uid: str
) -> None:
    """The forged EAS also emitted, from its constructor, the Attested log of the operator:
    publish must not take it for the operator's earlier attestation of the result."""
    real = _attest(world, STRANGER_KEY, schema.encode(_values(world)))
    fake = _forged_eas(world, real, OPERATOR, log=True)
    from tests.support.eas import porv

    code, out, err = porv(
        "publish",
        str(world.result),
        "--eas",
        f"31337:{fake}",
        "--rpc",
        world.url,
        "--key-file",
        str(world.key_file),
        "--format",
        "json",
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["outcome"] == "published"
    assert report["uid"] != real
    # recheck does not take the forged log for the operator's either
    code, out, _ = _recheck_at(world, f"31337:{fake}", real)
    assert code == 1
    assert f"no transaction from {OPERATOR} to {fake}" in _message(out)
    # and the attestation the operator did send there rechecks
    code, out, _ = _recheck_at(world, f"31337:{fake}", report["uid"])
    assert code == 0, out


# --- results porv's schema cannot carry -----------------------------------------------------


def _resealed(world: EasWorld, tmp_path: Path, edit: Any) -> Path:
    """The world's result edited by ``edit`` and sealed again with the operator's key (a
    result porv never verified, but a well-formed, signed one)."""
    from tests.support.eas import OPERATOR_KEY
    from verifier.result.seal import seal

    doc = json.loads(world.result.read_text())
    edit(doc)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(seal(doc, sign_key=OPERATOR_KEY)))
    return path


def _set_reserves(doc: dict[str, Any]) -> None:
    doc["reserves"]["total_in_token_currency"] = "9" * 78


def _set_supply(doc: dict[str, Any]) -> None:
    doc["supply"]["total_circulating"] = str(2**256)


def _many_packs(doc: dict[str, Any]) -> None:
    doc["coverage"]["eligible"] = {f"pack-{i:05d}-" + "x" * 40: "1" for i in range(2000)}


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (_set_reserves, "reserves.total_in_token_currency"),
        (_set_supply, "supply.total_circulating"),
        (_many_packs, "bytes"),
    ],
)
def test_a_result_the_schema_cannot_carry_is_refused_before_sending(
    world: EasWorld, uid: str, tmp_path: Path, edit: Any, why: str
) -> None:
    """Numbers beyond uint256, or data beyond what recheck reads back: exit 2, nothing sent,
    a JSON status, no traceback."""
    path = _resealed(world, tmp_path, edit)
    nonce = rpc_request(world.url, "eth_getTransactionCount", [OPERATOR, "latest"])
    code, report, _ = publish(world, path)
    assert code == 2, report
    assert report["status"] == "error"
    assert why in _message(report)
    assert rpc_request(world.url, "eth_getTransactionCount", [OPERATOR, "latest"]) == nonce


def test_publish_reads_a_bounded_number_of_earlier_logs(world: EasWorld, uid: str) -> None:
    """An endpoint answers eth_getLogs with the real logs and 3,000 more (each a UID EAS does
    not hold): publish reads at most the newest 1,024 and goes on."""
    from verifier.app.eas import MAX_CANDIDATES

    def spam(call: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
        logs = item.get("result")
        if call.get("method") == "eth_getLogs" and isinstance(logs, list) and logs:
            junk = [{**logs[-1], "data": "0x" + f"{i + 1:064x}"} for i in range(3000)]
            return {**item, "result": logs + junk}
        return item

    from tests.support.eas import porv

    with FaultProxy(world.url, rewrite=spam) as proxy:
        code, out, err = porv(
            "publish",
            str(world.result),
            "--eas",
            world.eas_opt,
            "--rpc",
            proxy.url,
            "--key-file",
            str(world.key_file),
            "--format",
            "json",
        )
        assert code == 0, err
        assert json.loads(out)["outcome"] == "published"  # the real one is older than 1,024
        assert MAX_CANDIDATES < proxy.requests < MAX_CANDIDATES + 100
