"""Reading an EAS attestation the way porv reads everything on a chain: suspiciously.

An address the user names may hold anything, so before porv believes an answer:

* the code at the EAS address must be EAS 1.9.0's runtime code (the build porv ships, from
  ``@ethereum-attestation-service/eas-contracts``), equal outside the constructor's immutables,
  and so must the code of the ``SchemaRegistry`` that EAS names;
* every read goes through the one JSON-RPC client (:func:`verifier.chain.rpc.read_all_endpoints`)
  at one block chosen by the chain's finality, on every endpoint; endpoints must agree;
* return data is decoded strictly (exact ABI, canonical), and an answer that EAS 1.9.0 cannot
  give is an error (exit 3), never a traceback;
* runtime code says nothing about the storage the constructor wrote: init code may write any
  attestation, by any attester, into a contract that then holds EAS's code to the byte. So an
  attestation is believed to be its attester's only when a transaction sent by that attester
  to that EAS address emitted its ``Attested`` log (:func:`find_attesting_tx`); EAS emits it
  only when it writes a fresh UID, and a constructor's logs belong to a creation transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.address import to_checksum_address

from verifier.chain.contracts import load_contract
from verifier.chain.rpc import (
    Call,
    RpcClient,
    block_header,
    data,
    eth_call,
    hash32,
    quantity,
    read_all_endpoints,
)
from verifier.checks.evidence import BlockHeader
from verifier.errors import RpcError
from verifier.model.keccak import keccak256
from verifier.result.eas import Attestation, SchemaRecord

_ATTESTATION_TYPE = "(bytes32,bytes32,uint64,uint64,uint64,bytes32,address,address,bool,bytes)"
_SCHEMA_RECORD_TYPE = "(bytes32,address,bool,string)"
_PUSH32 = 0x7F
#: ``keccak256("Attested(address,address,bytes32,bytes32)")``
ATTESTED_TOPIC = "0x8bf46bf4cfd674fa735a3d63ec1c9ad4153f033c290341f3a588b75685141b35"


def selector(signature: str) -> bytes:
    """The 4-byte ABI selector of ``signature``, e.g. ``"getAttestation(bytes32)"``."""
    return keccak256(signature.encode())[:4]


def decode_attestation(raw: bytes | None) -> Attestation:
    """Decode ``getAttestation`` return data.

    Raises:
        ValueError: Not the ABI of EAS's ``Attestation`` struct (or the call reverted).
    """
    if raw is None:
        raise ValueError("getAttestation reverted")
    try:
        ((uid, schema, t, exp, rev, ref, recipient, attester, revocable, data),) = decode(
            [_ATTESTATION_TYPE], raw, strict=True
        )
    except Exception as exc:
        raise ValueError(f"getAttestation answered {len(raw)} bytes that do not decode") from exc
    return Attestation(
        bytes(uid),
        bytes(schema),
        int(t),
        int(exp),
        int(rev),
        bytes(ref),
        str(to_checksum_address(recipient)),
        str(to_checksum_address(attester)),
        bool(revocable),
        bytes(data),
    )


def decode_schema_record(raw: bytes | None) -> SchemaRecord:
    """Decode ``getSchema`` return data.

    Raises:
        ValueError: Not the ABI of EAS's ``SchemaRecord`` struct (or the call reverted).
    """
    if raw is None:
        raise ValueError("getSchema reverted")
    try:
        ((uid, resolver, revocable, schema),) = decode([_SCHEMA_RECORD_TYPE], raw, strict=True)
    except Exception as exc:
        raise ValueError(f"getSchema answered {len(raw)} bytes that do not decode") from exc
    return SchemaRecord(bytes(uid), str(to_checksum_address(resolver)), bool(revocable), schema)


def decode_address(raw: bytes | None, what: str) -> str:
    """Decode a single ``address`` return value.

    Raises:
        ValueError: Not exactly one ABI-encoded address (or the call reverted).
    """
    if raw is None:
        raise ValueError(f"{what} reverted")
    try:
        (addr,) = decode(["address"], raw, strict=True)
    except Exception as exc:
        raise ValueError(f"{what} answered {len(raw)} bytes that are not an address") from exc
    return str(to_checksum_address(addr))


@cache
def _masked(name: str) -> tuple[bytes, tuple[tuple[int, int], ...]]:
    """The artifact's runtime code and its immutable slots.

    The npm build artifacts list no immutable references; the compiler leaves each immutable
    as a ``PUSH32`` of 32 zero bytes for the constructor to fill in, so those are the slots.
    The walk skips push data, so a zero inside another push's operand is not taken for one.
    """
    code = bytes.fromhex(load_contract(name).deployed_bytecode.removeprefix("0x"))
    slots: list[tuple[int, int]] = []
    i = 0
    while i < len(code):
        op = code[i]
        if 0x60 <= op <= _PUSH32:
            n = op - 0x5F
            if op == _PUSH32 and code[i + 1 : i + 33] == b"\0" * 32:
                slots.append((i + 1, 32))
            i += 1 + n
        else:
            i += 1
    return code, tuple(slots)


def code_matches(name: str, code: bytes) -> bool:
    """Whether ``code`` is the runtime code of the shipped artifact ``name`` (``"EAS"`` or
    ``"SchemaRegistry"``): same length, same bytes outside its immutable slots."""
    want, slots = _masked(name)
    if len(code) != len(want):
        return False
    got = bytearray(code)
    for start, length in slots:
        got[start : start + length] = want[start : start + length]
    return bytes(got) == want


def require_eas_code(where: str, eas: str, code: bytes) -> None:
    """Refuse (exit 3) an address whose code is not EAS 1.9.0's: nothing it answers is believed.

    Raises:
        RpcError: No code at ``eas``, or other code than the shipped EAS build's.
    """
    if not code:
        raise RpcError(
            f"{where}: no contract code at that address ({eas})",
            hint="check the EAS address and the chain id (--eas CHAIN_ID:ADDR)",
        )
    if not code_matches("EAS", code):
        raise RpcError(
            f"{where}: the code at {eas} ({len(code)} bytes, keccak "
            f"0x{keccak256(code).hex()}) is not EAS 1.9.0's runtime code, so nothing it "
            "answers is believed",
            hint="name the chain's EAS contract (porv recognises the EAS 1.9.0 build)",
        )


def require_registry_code(where: str, registry: str, code: bytes) -> None:
    """Refuse (exit 3) a SchemaRegistry (the one EAS names) that is not EAS 1.9.0's.

    Raises:
        RpcError: Other code than the shipped SchemaRegistry build's.
    """
    if not code_matches("SchemaRegistry", code):
        raise RpcError(
            f"{where}: the SchemaRegistry EAS names, {registry}, does not hold EAS 1.9.0's "
            f"SchemaRegistry code ({len(code)} bytes)"
        )


@dataclass(frozen=True)
class EasReading:
    """What every endpoint agreed on at one block."""

    header: BlockHeader
    eas_code: bytes
    schema_registry: str
    registry_code: bytes
    attestation: Attestation
    schema_record: SchemaRecord


def read_eas(
    chain_id: int,
    urls: Sequence[str],
    eas: str,
    uid: bytes,
    schema_uid: bytes,
    *,
    finality: str | int = "finalized",
    timeout: float = 10.0,
    transport: Any = None,
) -> EasReading:
    """Read the attestation ``uid`` and the schema record ``schema_uid`` at one final block.

    Two rounds, both at the block the first chose: EAS's code, its ``getSchemaRegistry()`` and
    ``getAttestation(uid)``; then that registry's code and ``getSchema(schema_uid)``.

    Args:
        chain_id: The chain.
        urls: Its endpoints (all are asked; they must agree).
        eas: The EAS address the user named.
        uid: The attestation UID.
        schema_uid: porv's schema UID.
        finality: ``"finalized"``, ``"latest"`` or N confirmations.
        timeout: Seconds per HTTP attempt.
        transport: Replaces HTTP (tests).

    Returns:
        The reading. The code is returned as read: :func:`code_matches` judges it.

    Raises:
        RpcError: The endpoints failed, disagree, are not final, or answered what EAS cannot.
        InputError: No endpoint.
    """
    header, first = read_all_endpoints(
        chain_id,
        urls,
        [
            Call("eth_getCode", (eas,)),
            eth_call(eas, selector("getSchemaRegistry()")),
            eth_call(eas, selector("getAttestation(bytes32)") + encode(["bytes32"], [uid])),
        ],
        finality=finality,
        timeout=timeout,
        transport=transport,
    )
    where = f"chain {chain_id} EAS {eas} at block {header.number}"
    eas_code = first[0] or b""
    require_eas_code(where, eas, eas_code)
    try:
        registry = decode_address(first[1], "getSchemaRegistry()")
        attestation = decode_attestation(first[2])
    except ValueError as exc:
        raise RpcError(f"{where}: {exc}") from None
    _, second = read_all_endpoints(
        chain_id,
        urls,
        [
            Call("eth_getCode", (registry,)),
            eth_call(registry, selector("getSchema(bytes32)") + encode(["bytes32"], [schema_uid])),
        ],
        block=header.number,
        timeout=timeout,
        transport=transport,
    )
    registry_code = second[0] or b""
    require_registry_code(where, registry, registry_code)
    try:
        record = decode_schema_record(second[1])
    except ValueError as exc:
        raise RpcError(f"{where}: SchemaRegistry {registry}: {exc}") from None
    return EasReading(header, eas_code, registry, registry_code, attestation, record)


def address_topic(address: str) -> str:
    """An address as an indexed event topic (32 bytes, 0x-hex, lower case)."""
    return "0x" + "00" * 12 + address[2:].lower()


def attested_filter(
    eas: str, attester: str, schema_uid: bytes, lo: int | str, hi: int | str
) -> dict[str, Any]:
    """The ``eth_getLogs`` filter for ``Attested`` logs of ``attester`` under ``schema_uid``."""
    return {
        "address": eas,
        "fromBlock": hex(lo) if isinstance(lo, int) else lo,
        "toBlock": hex(hi) if isinstance(hi, int) else hi,
        "topics": [ATTESTED_TOPIC, None, address_topic(attester), "0x" + schema_uid.hex()],
    }


def sent_by(tx: Any, client: RpcClient) -> tuple[str, str | None]:
    """``(from, to)`` of an ``eth_getTransactionByHash`` answer (``to`` None for a creation).

    Raises:
        RpcError: Not a transaction object.
    """
    if not isinstance(tx, Mapping) or not isinstance(tx.get("from"), str):
        raise client.error("eth_getTransactionByHash answered no transaction object")
    to = tx.get("to")
    try:
        sender = str(to_checksum_address(tx["from"]))
        # a creation: null (the spec), or an empty string from some nodes
        target = None if to in (None, "", "0x") else str(to_checksum_address(to))
    except (ValueError, TypeError):
        raise client.error("eth_getTransactionByHash answered malformed addresses") from None
    return sender, target


@dataclass(frozen=True)
class AttestingTx:
    """The transaction whose ``Attested`` log carries an attestation's UID."""

    tx_hash: str
    block_number: int
    sender: str
    to: str | None


#: Most blocks porv scans, one header each, to find the blocks of one timestamp.
_MAX_SEARCH_STEPS = 256


def _blocks_at(client: RpcClient, time: int, last: int) -> tuple[int, int] | None:
    """The first and last block in ``0..last`` whose timestamp is ``time`` (timestamps never
    decrease along a chain), by bisection; None when no block has it."""
    steps = 0

    def stamp(n: int) -> int:
        nonlocal steps
        steps += 1
        if steps > _MAX_SEARCH_STEPS:
            raise client.error(
                f"block timestamps do not bisect within {_MAX_SEARCH_STEPS} reads (they decrease)"
            )
        return block_header(
            client.call("eth_getBlockByNumber", hex(n), False), client, number=n
        ).timestamp

    def first_above(t: int) -> int:  # first block in 0..last+1 with timestamp > t
        lo, hi = 0, last + 1
        while lo < hi:
            mid = (lo + hi) // 2
            if stamp(mid) > t:
                hi = mid
            else:
                lo = mid + 1
        return lo

    start = first_above(time - 1)
    if start > last or stamp(start) != time:
        return None
    return start, first_above(time) - 1


def find_attesting_tx(
    chain_id: int,
    urls: Sequence[str],
    eas: str,
    uid: bytes,
    attester: str,
    schema_uid: bytes,
    time: int,
    block: int,
    *,
    timeout: float = 10.0,
    transport: Any = None,
) -> AttestingTx | None:
    """The transaction that emitted the ``Attested`` log of ``uid`` by ``attester``.

    Every endpoint finds the blocks whose timestamp is the attestation's ``time`` (up to
    ``block``, the block read) and is asked for the log there and for its transaction; they
    must agree on all three.

    Returns:
        The transaction, or None when no such log is there.

    Raises:
        RpcError: The endpoints failed, disagree, or answered malformed logs or transactions.
    """
    from verifier.errors import EndpointsDisagreeError, redact_url

    clients = [RpcClient(u, chain_id, timeout=timeout, transport=transport) for u in urls]
    # every endpoint finds the blocks itself: one that misdates blocks must not send the
    # others to look elsewhere and make "no such log" look like a verdict
    spans = [_blocks_at(c, time, block) for c in clients]
    for c, seen in zip(clients[1:], spans[1:], strict=True):
        if seen != spans[0]:
            raise EndpointsDisagreeError(
                f"chain {chain_id}: endpoints {redact_url(clients[0].url)} and "
                f"{redact_url(c.url)} disagree on the blocks of time {time} up to block "
                f"{block} ({spans[0]} and {seen})",
                hint="one of them is lagging, forked or lying; porv will not pick one",
            )
    span = spans[0]
    if span is None:
        return None
    found: list[tuple[str, int, str, str | None]] = []
    for c in clients:
        logs = c.call("eth_getLogs", attested_filter(eas, attester, schema_uid, *span))
        if not isinstance(logs, list):
            raise c.error(f"eth_getLogs answered {type(logs).__name__}, not a list")
        mine: list[tuple[str, int]] = []
        for log in logs:
            if not isinstance(log, Mapping):
                raise c.error("eth_getLogs answered a log that is not an object")
            topics = log.get("topics")
            if (
                log.get("removed") is True
                or str(log.get("address", "")).lower() != eas.lower()
                or not isinstance(topics, list)
                or [str(t).lower() for t in topics[:1] + topics[2:]]
                != [ATTESTED_TOPIC, address_topic(attester), "0x" + schema_uid.hex()]
            ):
                continue
            if data(log.get("data"), "Attested log data", c) == uid:
                mine.append(
                    (
                        hash32(log.get("transactionHash"), "log transactionHash", c),
                        quantity(log.get("blockNumber"), "log blockNumber", c, bits=64),
                    )
                )
        if len(mine) > 1:
            raise c.error(f"eth_getLogs answered {len(mine)} Attested logs of one UID")
        if not mine:
            found.append(("", 0, "", None))
            continue
        tx_hash, number = mine[0]
        tx = c.call("eth_getTransactionByHash", tx_hash)
        sender, to = sent_by(tx, c)
        found.append((tx_hash, number, sender, to))
    for c, other in zip(clients[1:], found[1:], strict=True):
        if other != found[0]:
            raise EndpointsDisagreeError(
                f"chain {chain_id}: endpoints {redact_url(clients[0].url)} and {redact_url(c.url)} "
                f"disagree on "
                f"the transaction that attested 0x{uid.hex()}",
                hint="one of them is lagging, forked or lying; porv will not pick one",
            )
    tx_hash, number, sender, to = found[0]
    return AttestingTx(tx_hash, number, sender, to) if tx_hash else None
