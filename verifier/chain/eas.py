"""Reading an EAS attestation the way porv reads everything on a chain: suspiciously.

An address the user names may hold anything, so before porv believes an answer:

* the code at the EAS address must be EAS 1.9.0's runtime code (the build porv ships, from
  ``@ethereum-attestation-service/eas-contracts``), equal outside the constructor's immutables,
  and so must the code of the ``SchemaRegistry`` that EAS names;
* every read goes through the one JSON-RPC client (:func:`verifier.chain.rpc.read_all_endpoints`)
  at one block chosen by the chain's finality, on every endpoint; endpoints must agree;
* return data is decoded strictly (exact ABI, canonical), and an answer that EAS 1.9.0 cannot
  give is an error (exit 3), never a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.address import to_checksum_address

from verifier.chain.contracts import load_contract
from verifier.chain.rpc import Call, read_all_endpoints
from verifier.checks.evidence import BlockHeader
from verifier.errors import RpcError
from verifier.merkle.keccak import keccak256
from verifier.result.eas import Attestation, SchemaRecord

_ATTESTATION_TYPE = "(bytes32,bytes32,uint64,uint64,uint64,bytes32,address,address,bool,bytes)"
_SCHEMA_RECORD_TYPE = "(bytes32,address,bool,string)"
_PUSH32 = 0x7F


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


def _eth_call(to: str, calldata: bytes) -> Call:
    return Call("eth_call", ({"to": to, "data": "0x" + calldata.hex()},))


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
            _eth_call(eas, selector("getSchemaRegistry()")),
            _eth_call(eas, selector("getAttestation(bytes32)") + encode(["bytes32"], [uid])),
        ],
        finality=finality,
        timeout=timeout,
        transport=transport,
    )
    where = f"chain {chain_id} EAS {eas} at block {header.number}"
    eas_code = first[0] or b""
    if not eas_code:
        raise RpcError(
            f"{where}: no contract code at that address",
            hint="check the EAS address and the chain id (--eas CHAIN_ID:ADDR)",
        )
    if not code_matches("EAS", eas_code):
        raise RpcError(
            f"{where}: the code there ({len(eas_code)} bytes, keccak "
            f"0x{keccak256(eas_code).hex()}) is not EAS 1.9.0's runtime code, so nothing it "
            "answers is believed",
            hint="name the chain's EAS contract (porv recognises the EAS 1.9.0 build)",
        )
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
            _eth_call(registry, selector("getSchema(bytes32)") + encode(["bytes32"], [schema_uid])),
        ],
        block=header.number,
        timeout=timeout,
        transport=transport,
    )
    registry_code = second[0] or b""
    if not code_matches("SchemaRegistry", registry_code):
        raise RpcError(
            f"{where}: the SchemaRegistry it names, {registry}, does not hold EAS 1.9.0's "
            f"SchemaRegistry code ({len(registry_code)} bytes)"
        )
    try:
        record = decode_schema_record(second[1])
    except ValueError as exc:
        raise RpcError(f"{where}: SchemaRegistry {registry}: {exc}") from None
    return EasReading(header, eas_code, registry, registry_code, attestation, record)
