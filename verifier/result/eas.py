"""A verified result as an EAS attestation: porv's schema, its data, and the comparison.

Pure code. The Ethereum Attestation Service stores attestations under a schema registered in its
``SchemaRegistry``; the schema's UID is ``keccak256(abi.encodePacked(schema, resolver,
revocable))``, so the same three values give the same UID on every deployment. porv's schema
(version :data:`SCHEMA_VERSION`, frozen: any change is a new version with a new UID) is
:data:`SCHEMA`, with no resolver and revocable, so that the operator who attested a wrong
result can withdraw it (``porv recheck --eas`` then fails on it). Its fields, ABI-encoded in
this order:

* ``issuer``, ``token``: the result's issuer and token symbol;
* ``asOf``: ``as_of`` in unix seconds;
* ``circulatingSupply``: ``supply.total_circulating`` in the token's base units, ``decimals``
  its decimals, ``currency`` the token's currency;
* ``reserves``: ``reserves.total_in_token_currency`` in units of ``10^-decimals`` of the
  currency, rounded down (never overstated);
* ``packs``, ``eligibleReserves``: each rule pack's eligible reserves (``coverage.eligible``),
  in pack-name order, scaled and rounded down the same way;
* ``status``: the result's status (porv publishes only ``verified``);
* ``resultDigest``: the result's ``digest``; ``bundleSha256``: ``inputs.bundle.sha256``.

The attestation expires (``expirationTime``) at the earliest ``valid_until`` of the result's
custodian attestations: from then on a custodian statement the result counts has expired, and
so has the result's claim.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from verifier.errors import Location, SchemaError
from verifier.model.keccak import keccak256
from verifier.model.timeutil import parse_rfc3339_utc

#: porv's EAS schema, version 1. Frozen: a change is a new version with a new schema UID.
SCHEMA_VERSION = "porv.eas/1"
SCHEMA = (
    "string issuer,string token,uint64 asOf,uint256 circulatingSupply,uint8 decimals,"
    "string currency,uint256 reserves,string[] packs,uint256[] eligibleReserves,string status,"
    "bytes32 resultDigest,bytes32 bundleSha256"
)
#: No resolver contract: EAS records the attestation as given.
RESOLVER = "0x" + "00" * 20
#: Revocable, so that the operator can withdraw a result attested by mistake.
REVOCABLE = True
#: The ABI types of :data:`SCHEMA`, in order.
SCHEMA_TYPES: tuple[str, ...] = tuple(part.split(" ")[0] for part in SCHEMA.split(","))
#: Attestation data longer than this is not porv's (a verified result with 64 packs is ~5 KiB).
MAX_DATA_BYTES = 64 * 1024

_HEX32 = re.compile(r"^0x[0-9a-f]{64}\Z")
_SHA256 = re.compile(r"^[0-9a-f]{64}\Z")
_AMOUNT = re.compile(r"^(0|[1-9][0-9]{0,77})(?:\.([0-9]{1,78}))?\Z")


def schema_uid(
    schema: str = SCHEMA, resolver: str = RESOLVER, revocable: bool = REVOCABLE
) -> bytes:
    """The UID EAS's ``SchemaRegistry`` gives a schema.

    Returns:
        ``keccak256(abi.encodePacked(schema, resolver, revocable))``.
    """
    return keccak256(schema.encode() + bytes.fromhex(resolver[2:]) + bytes([int(revocable)]))


@dataclass(frozen=True)
class EasFields:
    """The values of one attestation under :data:`SCHEMA`, in the schema's order."""

    issuer: str
    token: str
    asOf: int
    circulatingSupply: int
    decimals: int
    currency: str
    reserves: int
    packs: tuple[str, ...]
    eligibleReserves: tuple[int, ...]
    status: str
    resultDigest: bytes
    bundleSha256: bytes

    def values(self) -> tuple[Any, ...]:
        """The values in the schema's order, lists as lists (for the ABI encoder)."""
        return tuple(
            list(v) if isinstance(v, tuple) else v
            for v in (getattr(self, f.name) for f in fields(self))
        )

    def to_json(self) -> dict[str, Any]:
        """JSON form: integers as decimal strings, bytes as 0x-hex."""
        return {f.name: show(getattr(self, f.name)) for f in fields(self)}


def show(value: Any) -> Any:
    """A field value for messages and JSON: bytes as 0x-hex, integers as decimal strings."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple | list):
        return [show(v) for v in value]
    return value


def scaled_down(text: Any, decimals: int, where: str) -> int:
    """A plain decimal string in units of ``10^-decimals``, rounded down.

    Raises:
        ValueError: not a plain non-negative decimal string.
    """
    m: re.Match[str] | None = _AMOUNT.match(text) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"{where}: expected a non-negative decimal string, found {text!r:.80}")
    frac = (m.group(2) or "").ljust(decimals, "0")[:decimals]
    scale: int = 10**decimals
    return int(m.group(1)) * scale + int(frac or "0")


def _get(doc: Mapping[str, Any], path: str) -> Any:
    value: Any = doc
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value:
            raise KeyError(path)
        value = value[key]
    return value


def fields_of(result: Mapping[str, Any], *, source: str) -> EasFields:
    """What porv attests on EAS for a result (module docstring).

    Args:
        result: A ``porv.result/1`` document.
        source: Its file name, for messages.

    Returns:
        The attestation's values.

    Raises:
        SchemaError: A field the schema needs is missing or malformed.
    """
    try:
        decimals = _get(result, "supply.decimals")
        if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 77:
            raise ValueError(f"supply.decimals: expected 0..77, found {decimals!r:.40}")
        eligible = _get(result, "coverage").get("eligible", {})
        if not isinstance(eligible, Mapping):
            raise ValueError("coverage.eligible: expected an object")
        packs = tuple(sorted(eligible))
        strings = {p: _get(result, p) for p in ("issuer", "token.symbol", "token.currency")}
        strings["status"] = result.get("status")
        for path, value in strings.items():
            if not isinstance(value, str):
                raise ValueError(f"{path}: expected a string, found {value!r:.40}")
        digest = _get(result, "digest")
        bundle_sha = _get(result, "inputs.bundle.sha256")
        if not isinstance(digest, str) or not _HEX32.match(digest):
            raise ValueError(f"digest: expected 0x and 64 hex digits, found {digest!r:.80}")
        if not isinstance(bundle_sha, str) or not _SHA256.match(bundle_sha):
            raise ValueError(
                f"inputs.bundle.sha256: expected 64 hex digits, found {bundle_sha!r:.80}"
            )
        supply = _get(result, "supply.total_circulating")
        values = EasFields(
            issuer=strings["issuer"],
            token=strings["token.symbol"],
            asOf=parse_rfc3339_utc(_get(result, "as_of")),
            circulatingSupply=scaled_down(supply, 0, "supply.total_circulating"),
            decimals=decimals,
            currency=strings["token.currency"],
            reserves=scaled_down(
                _get(result, "reserves.total_in_token_currency"),
                decimals,
                "reserves.total_in_token_currency",
            ),
            packs=packs,
            eligibleReserves=tuple(
                scaled_down(eligible[p], decimals, f"coverage.eligible.{p}") for p in packs
            ),
            status=strings["status"],
            resultDigest=bytes.fromhex(digest[2:]),
            bundleSha256=bytes.fromhex(bundle_sha),
        )
        _fits_schema(values)
        return values
    except KeyError as exc:
        raise SchemaError(
            f"{source}: the result has no {exc.args[0]} (porv's EAS schema needs it)",
            location=Location(source, None, str(exc.args[0])),
        ) from None
    except (ValueError, TypeError, AttributeError) as exc:
        raise SchemaError(f"{source}: {exc}", location=Location(source, None, None)) from None


def _fits_schema(values: EasFields) -> None:
    """Raise ValueError when ``values`` cannot be attested under :data:`SCHEMA`: an amount
    beyond ``uint256``, or data beyond :data:`MAX_DATA_BYTES` (what :func:`decode` reads)."""
    amounts = {
        "supply.total_circulating": values.circulatingSupply,
        "reserves.total_in_token_currency": values.reserves,
    } | {
        f"coverage.eligible.{p}": v
        for p, v in zip(values.packs, values.eligibleReserves, strict=True)
    }
    for path, amount in amounts.items():
        if amount >= 2**256:
            raise ValueError(
                f"{path}: {amount.bit_length()} bits in the units porv attests, above the "
                "schema's uint256"
            )
    size = len(encode(values))
    if size > MAX_DATA_BYTES:
        raise ValueError(
            f"the attestation's data would be {size} bytes ({len(values.packs)} packs), above "
            f"porv's cap of {MAX_DATA_BYTES} bytes"
        )


def expiration_of(result: Mapping[str, Any], *, source: str) -> int:
    """The attestation's ``expirationTime``: the earliest ``valid_until`` of the result's
    custodian attestations (unix seconds).

    Raises:
        SchemaError: The result lists no attestation, or a ``valid_until`` is malformed.
    """
    atts = result.get("attestations")
    if not isinstance(atts, list) or not atts:
        raise SchemaError(
            f"{source}: the result lists no attestation, so it has no expiry",
            location=Location(source, None, "attestations"),
        )
    try:
        return min(parse_rfc3339_utc(a["valid_until"]) for a in atts)
    except (KeyError, TypeError) as exc:
        raise SchemaError(
            f"{source}: an attestation has no readable valid_until ({exc})",
            location=Location(source, None, "attestations"),
        ) from None


def encode(values: EasFields) -> bytes:
    """ABI-encode the values under :data:`SCHEMA` (what ``abi.encode`` gives for them)."""
    from eth_abi.abi import encode as abi_encode

    return abi_encode(list(SCHEMA_TYPES), list(values.values()))


def decode(data: bytes) -> EasFields:
    """Decode attestation data under :data:`SCHEMA`, strictly.

    The data must be exactly the canonical encoding of what it decodes to (no trailing bytes,
    no offsets pointing elsewhere) and at most :data:`MAX_DATA_BYTES`.

    Raises:
        ValueError: The data is not porv's (why in the message).
    """
    from eth_abi.abi import decode as abi_decode

    if len(data) > MAX_DATA_BYTES:
        raise ValueError(f"{len(data)} bytes, above porv's cap of {MAX_DATA_BYTES}")
    try:
        raw = abi_decode(list(SCHEMA_TYPES), data, strict=True)
        items: list[Any] = [tuple(v) if isinstance(v, list | tuple) else v for v in raw]
        out = EasFields(*items)
    except Exception as exc:  # eth_abi raises many types for bad data; all mean "not porv's"
        raise ValueError(f"does not decode under porv's schema ({type(exc).__name__})") from None
    if encode(out) != data:
        raise ValueError("is not the canonical encoding of its values")
    if len(out.packs) != len(out.eligibleReserves):
        raise ValueError(
            f"lists {len(out.packs)} packs and {len(out.eligibleReserves)} eligible amounts"
        )
    return out


def differences(onchain: EasFields, expected: EasFields) -> list[tuple[str, Any, Any]]:
    """The fields that differ: ``(name, EAS value, result value)``."""
    return [
        (f.name, getattr(onchain, f.name), getattr(expected, f.name))
        for f in fields(EasFields)
        if getattr(onchain, f.name) != getattr(expected, f.name)
    ]


ZERO32 = b"\0" * 32


@dataclass(frozen=True)
class Attestation:
    """``EAS.getAttestation(uid)``: an all-zero ``uid`` means there is none."""

    uid: bytes
    schema: bytes
    time: int
    expiration_time: int
    revocation_time: int
    ref_uid: bytes
    recipient: str
    attester: str
    revocable: bool
    data: bytes


@dataclass(frozen=True)
class SchemaRecord:
    """``SchemaRegistry.getSchema(uid)``: an all-zero ``uid`` means not registered."""

    uid: bytes
    resolver: str
    revocable: bool
    schema: str

    def is_porv(self) -> bool:
        """Whether this is porv's schema record, exactly."""
        return (
            self.uid == schema_uid()
            and self.resolver.lower() == RESOLVER
            and self.revocable is REVOCABLE
            and self.schema == SCHEMA
        )


def attestation_problems(
    att: Attestation,
    *,
    attester: str,
    expected: EasFields,
    expiration: int,
    at: int,
) -> list[str]:
    """Everything that keeps ``att`` from being porv's attestation of a result, first the
    reason that makes the rest moot; empty when it is.

    Args:
        att: What EAS answered.
        attester: The attester the holder trusts (checksummed).
        expected: The result's values (:func:`fields_of`).
        expiration: The result's expiry (:func:`expiration_of`).
        at: The time to judge expiry at (unix seconds): the later of the block read and the
            caller's clock.

    Returns:
        One message per problem.
    """
    from verifier.model.timeutil import format_rfc3339

    def when(t: int) -> str:
        return f"{format_rfc3339(t)} ({t})" if 0 <= t < 2**63 else str(t)

    if att.uid == ZERO32:
        return ["EAS holds no attestation with this UID"]
    if att.schema != schema_uid():
        return [
            f"its schema is 0x{att.schema.hex()}, not porv's {SCHEMA_VERSION} schema "
            f"0x{schema_uid().hex()}"
        ]
    if att.attester.lower() != attester.lower():
        return [f"its attester is {att.attester}, not {attester}, the attester you trust"]
    problems: list[str] = []
    if att.revocation_time != 0:
        problems.append(f"it was revoked at {when(att.revocation_time)}")
    if att.expiration_time != 0 and att.expiration_time <= at:
        problems.append(f"it expired at {when(att.expiration_time)}, before {when(at)}")
    if att.expiration_time != expiration:
        problems.append(
            f"expirationTime is {when(att.expiration_time)} on EAS, {when(expiration)} for the "
            "result (its earliest custodian valid_until)"
        )
    if att.revocable is not REVOCABLE:
        problems.append(f"revocable is {att.revocable} on EAS, porv attests {REVOCABLE}")
    if att.recipient.lower() != RESOLVER or att.ref_uid != ZERO32:
        problems.append(
            f"recipient {att.recipient} and refUID 0x{att.ref_uid.hex()}: porv attests neither"
        )
    try:
        onchain = decode(att.data)
    except ValueError as exc:
        return [*problems, f"its data ({len(att.data)} bytes) {exc}"]
    problems += [
        f"{name} is {_quote(eas)} on EAS, {_quote(res)} in the result"
        for name, eas, res in differences(onchain, expected)
    ]
    return problems


def _quote(value: Any) -> str:
    """A field value for a message: strings quoted (control characters escaped), numbers
    plain, bytes as 0x-hex, lists in brackets; at most 200 characters."""
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, bytes):
        text = "0x" + value.hex()
    elif isinstance(value, tuple | list):
        text = "[" + ", ".join(_quote(v) for v in value) + "]"
    else:
        text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."
