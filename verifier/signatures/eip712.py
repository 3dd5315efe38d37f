"""EIP-712 typed-data encoding and digests (DESIGN §3).

porv signs in one fixed domain, ``{name: "porv", version: "1"}`` (no ``chainId``, no
``verifyingContract``: an attestation is about reserves, not about a chain). The attestation
and report structs are encoded by hand (their layout is fixed, so no type walking per call);
a small generic :func:`hash_struct` covers other structs, e.g. a result signer's own type.
Both are cross-checked in the tests against ``eth_account.messages.encode_typed_data`` and
ethers' ``TypedDataEncoder``.

Reference: https://eips.ethereum.org/EIPS/eip-712 (``encodeType``, ``encodeData``,
``hashStruct``; the digest is ``keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(message))``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from verifier.model.attestation import AttestationMessage
from verifier.model.keccak import keccak256

#: The EIP-712 domain of every porv attestation and report.
DOMAIN: dict[str, str] = {"name": "porv", "version": "1"}

#: EIP-712 type definitions (name, type) of porv's structs, in declaration order.
DOMAIN_TYPE: list[tuple[str, str]] = [("name", "string"), ("version", "string")]
TOTAL_TYPE: list[tuple[str, str]] = [
    ("currency", "string"),
    ("amount", "uint256"),
    ("decimals", "uint8"),
]
ATTESTATION_TYPE: list[tuple[str, str]] = [
    ("issuer", "string"),
    ("token", "string"),
    ("custodian", "string"),
    ("holdingsRoot", "bytes32"),
    ("leafCount", "uint256"),
    ("totals", "Total[]"),
    ("asOf", "uint64"),
    ("validUntil", "uint64"),
    ("sequence", "uint64"),
]
REPORT_TYPE: list[tuple[str, str]] = [
    ("issuer", "string"),
    ("token", "string"),
    ("asOf", "uint64"),
    ("attestations", "bytes32[]"),
]
ATTESTATION_TYPES: dict[str, list[tuple[str, str]]] = {
    "ReserveAttestation": ATTESTATION_TYPE,
    "Total": TOTAL_TYPE,
}
REPORT_TYPES: dict[str, list[tuple[str, str]]] = {"ReserveReport": REPORT_TYPE}

_ARRAY = re.compile(r"^(.*)\[([0-9]*)\]\Z")
_UINT = re.compile(r"^(u?)int([0-9]*)\Z")
_BYTES_N = re.compile(r"^bytes([0-9]+)\Z")


def _base_type(type_name: str) -> str:
    while (match := _ARRAY.match(type_name)) is not None:
        type_name = match.group(1)
    return type_name


def encode_type(primary: str, types: Mapping[str, Sequence[tuple[str, str]]]) -> str:
    """EIP-712 ``encodeType``: the primary struct, then its dependencies sorted by name.

    Args:
        primary: Name of the struct.
        types: Struct definitions, each a list of ``(field name, field type)``.

    Returns:
        The type string, e.g. ``"ReserveReport(string issuer,...)"``.

    Raises:
        ValueError: ``primary`` is not defined in ``types``.
    """
    if primary not in types:
        raise ValueError(f"type {primary!r} is not defined")
    deps: set[str] = set()
    pending = [primary]
    while pending:
        name = pending.pop()
        for _field, field_type in types[name]:
            base = _base_type(field_type)
            if base in types and base not in deps and base != primary:
                deps.add(base)
                pending.append(base)
    ordered = [primary, *sorted(deps)]
    return "".join(f"{name}({','.join(f'{t} {n}' for n, t in types[name])})" for name in ordered)


def type_hash(primary: str, types: Mapping[str, Sequence[tuple[str, str]]]) -> bytes:
    """``keccak256(encodeType(primary))``.

    Raises:
        ValueError: ``primary`` is not defined in ``types``.
    """
    return keccak256(encode_type(primary, types).encode("ascii"))


def _to_bytes(value: Any, field_type: str) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str) and value.startswith("0x"):
        return bytes.fromhex(value[2:])
    raise ValueError(f"expected bytes or 0x-hex for {field_type}, found {value!r}")


def _encode_value(
    field_type: str, value: Any, types: Mapping[str, Sequence[tuple[str, str]]]
) -> bytes:
    """EIP-712 ``encodeData`` of one member: always exactly 32 bytes."""
    if field_type in types:
        return hash_struct(field_type, types, value)
    array = _ARRAY.match(field_type)
    if array is not None:
        item_type, size = array.group(1), array.group(2)
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            raise ValueError(f"expected a list for {field_type}, found {value!r}")
        if size and len(value) != int(size):
            raise ValueError(f"expected {size} items for {field_type}, found {len(value)}")
        return keccak256(b"".join(_encode_value(item_type, item, types) for item in value))
    if field_type == "string":
        if not isinstance(value, str):
            raise ValueError(f"expected a string, found {value!r}")
        return keccak256(value.encode("utf-8"))
    if field_type == "bytes":
        return keccak256(_to_bytes(value, field_type))
    if field_type == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"expected a bool, found {value!r}")
        return int(value).to_bytes(32, "big")
    if field_type == "address":
        raw = _to_bytes(value, field_type)
        if len(raw) != 20:
            raise ValueError(f"expected a 20-byte address, found {len(raw)} bytes")
        return raw.rjust(32, b"\x00")
    bytes_n = _BYTES_N.match(field_type)
    if bytes_n is not None:
        size_n = int(bytes_n.group(1))
        raw = _to_bytes(value, field_type)
        if not 1 <= size_n <= 32 or len(raw) != size_n:
            raise ValueError(f"expected {size_n} bytes for {field_type}, found {len(raw)}")
        return raw.ljust(32, b"\x00")
    integer = _UINT.match(field_type)
    if integer is not None:
        bits = int(integer.group(2) or "256")
        if isinstance(value, bool) or not isinstance(value, int) or not 8 <= bits <= 256:
            raise ValueError(f"expected an integer for {field_type}, found {value!r}")
        if integer.group(1):  # uintN
            if not 0 <= value < 2**bits:
                raise ValueError(f"{value} out of range for {field_type}")
            return value.to_bytes(32, "big")
        if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
            raise ValueError(f"{value} out of range for {field_type}")
        return (value % 2**256).to_bytes(32, "big")
    raise ValueError(f"unsupported EIP-712 type {field_type!r}")


def hash_struct(
    primary: str, types: Mapping[str, Sequence[tuple[str, str]]], values: Mapping[str, Any]
) -> bytes:
    """EIP-712 ``hashStruct`` of one struct value, for any struct porv defines.

    Values are Python-typed: ``int`` for integers, ``bytes`` (or 0x-hex) for bytes and
    addresses, ``str`` for strings, lists for arrays, mappings for nested structs.

    Args:
        primary: Name of the struct.
        types: Struct definitions, each a list of ``(field name, field type)``.
        values: The struct's members by name (exactly the defined members).

    Returns:
        The 32-byte struct hash.

    Raises:
        ValueError: An undefined type, a missing or extra member, or a value that does not
            fit its type.
    """
    fields = types.get(primary)
    if fields is None:
        raise ValueError(f"type {primary!r} is not defined")
    names = [name for name, _ in fields]
    if set(values) != set(names):
        raise ValueError(f"{primary}: expected members {names}, found {sorted(values)}")
    encoded = [type_hash(primary, types)]
    encoded.extend(_encode_value(t, values[n], types) for n, t in fields)
    return keccak256(b"".join(encoded))


_DOMAIN_SEPARATOR = hash_struct(
    "EIP712Domain", {"EIP712Domain": DOMAIN_TYPE}, {"name": "porv", "version": "1"}
)
_TOTAL_TYPEHASH = type_hash("Total", ATTESTATION_TYPES)
_ATTESTATION_TYPEHASH = type_hash("ReserveAttestation", ATTESTATION_TYPES)
_REPORT_TYPEHASH = type_hash("ReserveReport", REPORT_TYPES)


def domain_separator() -> bytes:
    """``hashStruct(EIP712Domain{name: "porv", version: "1"})``."""
    return _DOMAIN_SEPARATOR


def typed_digest(struct_hash: bytes) -> bytes:
    """The signed digest ``keccak256(0x1901 ‖ domainSeparator ‖ structHash)`` in porv's domain.

    Raises:
        ValueError: ``struct_hash`` is not 32 bytes.
    """
    if len(struct_hash) != 32:
        raise ValueError("struct hash must be 32 bytes")
    return keccak256(b"\x19\x01" + _DOMAIN_SEPARATOR + bytes(struct_hash))


def attestation_struct_hash(msg: AttestationMessage) -> bytes:
    """``hashStruct(ReserveAttestation)`` of a message, encoded by hand (fixed layout)."""
    totals = b"".join(
        keccak256(
            _TOTAL_TYPEHASH
            + keccak256(t.currency.encode("utf-8"))
            + t.amount.to_bytes(32, "big")
            + t.decimals.to_bytes(32, "big")
        )
        for t in msg.totals
    )
    return keccak256(
        _ATTESTATION_TYPEHASH
        + keccak256(msg.issuer.encode("utf-8"))
        + keccak256(msg.token.encode("utf-8"))
        + keccak256(msg.custodian.encode("utf-8"))
        + msg.holdings_root
        + msg.leaf_count.to_bytes(32, "big")
        + keccak256(totals)
        + msg.as_of.to_bytes(32, "big")
        + msg.valid_until.to_bytes(32, "big")
        + msg.sequence.to_bytes(32, "big")
    )


def attestation_digest(msg: AttestationMessage) -> bytes:
    """The 32-byte EIP-712 digest custodians sign for an attestation message."""
    return typed_digest(attestation_struct_hash(msg))


def report_digest(
    issuer: str, token: str, as_of: int, attestation_digests: Sequence[bytes]
) -> bytes:
    """EIP-712 digest of ``ReserveReport(string issuer,string token,uint64 asOf,bytes32[] ...)``.

    Args:
        issuer: The bundle's issuer.
        token: The token symbol.
        as_of: The bundle's ``as_of`` in unix seconds.
        attestation_digests: The custodian attestations' digests, in bundle order.

    Returns:
        The digest auditors sign.

    Raises:
        ValueError: ``as_of`` is not a uint64 or a digest is not 32 bytes.
    """
    if isinstance(as_of, bool) or not 0 <= as_of < 2**64:
        raise ValueError("as_of must be a uint64")
    if any(len(d) != 32 for d in attestation_digests):
        raise ValueError("attestation digests must be 32 bytes each")
    struct = keccak256(
        _REPORT_TYPEHASH
        + keccak256(issuer.encode("utf-8"))
        + keccak256(token.encode("utf-8"))
        + as_of.to_bytes(32, "big")
        + keccak256(b"".join(bytes(d) for d in attestation_digests))
    )
    return typed_digest(struct)


def _json_types(types: Mapping[str, list[tuple[str, str]]]) -> dict[str, list[dict[str, str]]]:
    return {name: [{"name": n, "type": t} for n, t in fields] for name, fields in types.items()}


def attestation_typed_data(msg: AttestationMessage) -> dict[str, Any]:
    """The full EIP-712 JSON (``types``, ``primaryType``, ``domain``, ``message``).

    This is what ``eth_account.messages.encode_typed_data(full_message=...)``, ethers'
    ``signTypedData`` (drop ``types.EIP712Domain``) and wallets' ``eth_signTypedData_v4`` take.
    The message is in porv's JSON form (uint256 as decimal strings, uint64 as integers).
    """
    return {
        "types": _json_types({"EIP712Domain": DOMAIN_TYPE, **ATTESTATION_TYPES}),
        "primaryType": "ReserveAttestation",
        "domain": dict(DOMAIN),
        "message": msg.to_json(),
    }
