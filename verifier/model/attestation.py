"""Custodian attestations (DESIGN §3): the signed message, its signatures and the file.

Everything here is strict: ``from_json`` accepts exactly the documented key sets and types,
checks every integer against its Solidity range and every byte string against its length,
and raises :class:`~verifier.errors.SchemaError` naming the source and the field. Nothing is
coerced (``"1"`` is not an integer where an integer is required, ``true`` is not ``1``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from verifier.errors import Location, SchemaError
from verifier.model import validate
from verifier.model.numbers import UINT64_MAX, uint_from_text

FORMAT = "porv.attestation/1"
#: The only EIP-712 domain porv signs and accepts (no chainId, no verifyingContract).
DOMAIN_JSON: dict[str, str] = {"name": "porv", "version": "1"}

UINT8_MAX = 2**8 - 1
UINT256_MAX = 2**256 - 1

#: Attestation files are small; anything larger is refused before parsing.
MAX_FILE_BYTES = 4 * 1024 * 1024

#: Signature entries one attestation may carry (and BLS signers one aggregate may list). A
#: threshold counts distinct keys the policy pins, one vote each, and no policy pins this many;
#: beyond it a bundle only makes porv work (each contract-wallet entry costs a round trip to
#: every endpoint, each BLS aggregate a pairing), so more is malformed input (exit 2).
MAX_SIGNATURE_ENTRIES = 64

SCHEMES = ("secp256k1", "bls")

#: The longest signature a secp256k1 entry may carry (bytes): a contract wallet's (EIP-1271),
#: such as a Safe's owners' signatures concatenated; longer is malformed input (exit 2). A Safe
#: of up to 16 signing owners needs 16 × 65 = 1,040 bytes of owner chunks; each of them may be
#: a contract owner whose own signature follows in the dynamic part (a 32-byte length and its
#: bytes), and 8 KiB leaves 447 bytes to each of those 16: a nested Safe with 6 signing owners
#: (390 bytes) or a passkey (WebAuthn) owner's signature fits. The cap also bounds the work one
#: entry costs: every endpoint receives it in an ``isValidSignature`` call.
MAX_WALLET_SIGNATURE_BYTES = 8192

_DECIMAL = re.compile(r"0|[1-9][0-9]*")

_MESSAGE_KEYS = (
    "issuer",
    "token",
    "custodian",
    "holdingsRoot",
    "leafCount",
    "totals",
    "asOf",
    "validUntil",
    "sequence",
)
_TOTAL_KEYS = ("currency", "amount", "decimals")


def _fail(source: str, field: str, message: str, hint: str | None = None) -> SchemaError:
    return SchemaError(message, hint=hint, location=Location(file=source, field=field))


def _object(value: Any, keys: Sequence[str], *, source: str, field: str) -> Mapping[str, Any]:
    """Check that ``value`` is a JSON object with exactly ``keys``."""
    where = field or "(top level)"
    if not isinstance(value, dict):
        raise _fail(source, where, f"expected a JSON object, found {type(value).__name__}")
    missing = [k for k in keys if k not in value]
    extra = sorted(str(k) for k in value if k not in keys)
    if missing:
        raise _fail(source, where, f"missing key(s): {', '.join(missing)}")
    if extra:
        raise _fail(
            source, where, f"unknown key(s): {', '.join(extra)}", hint=f"allowed: {', '.join(keys)}"
        )
    return value


def _string(value: Any, *, source: str, field: str) -> str:
    if not isinstance(value, str):
        raise _fail(source, field, f"expected a string, found {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _fail(source, field, "string is not valid Unicode (lone surrogate)") from None
    return value


def _int(value: Any, maximum: int, label: str, *, source: str, field: str) -> int:
    """A JSON integer (not a bool, not a float, not a string) in ``0..maximum``."""
    try:
        return validate.integer(value, lo=0, hi=maximum)
    except validate.InvalidValueError as exc:
        raise _fail(source, field, f"{exc} ({label})") from None


def _uint256_string(value: Any, *, source: str, field: str) -> int:
    """A uint256 written as a canonical decimal string (no sign, no leading zeros)."""
    if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
        raise _fail(
            source,
            field,
            f"expected a uint256 as a decimal string, found {json.dumps(value)}",
            hint='write integers of 256 bits as strings, e.g. "1250000"',
        )
    number = uint_from_text(value, UINT256_MAX)
    if number is None:
        raise _fail(source, field, f"value ({len(value)} digits) is out of range for uint256")
    return number


def _hex_bytes(value: Any, length: int | None, *, source: str, field: str) -> bytes:
    try:
        return validate.hex_bytes(value, length)
    except validate.InvalidValueError as exc:
        raise _fail(source, field, str(exc)) from None


def _secp256k1_signature(value: Any, *, source: str, field: str) -> bytes:
    """A secp256k1 entry's signature: 65 bytes, or a contract wallet's of up to the cap.

    Parsing cannot know whether the signer is a wallet the policy pins (the counter does: a
    direct signature of any length but 65 never counts, and says why), so any length up to
    :data:`MAX_WALLET_SIGNATURE_BYTES` parses and anything longer is malformed input.
    """
    data = _hex_bytes(value, None, source=source, field=field)
    if len(data) > MAX_WALLET_SIGNATURE_BYTES:
        raise _fail(
            source,
            field,
            f"signature of {len(data)} bytes: a secp256k1 signature is 65 bytes, and a contract "
            f"wallet's (EIP-1271, e.g. a Safe's owners' signatures) at most "
            f"{MAX_WALLET_SIGNATURE_BYTES} bytes",
            hint="a Safe signature holds one 65-byte chunk per signing owner (sorted by owner), "
            "plus its contract owners' signatures",
        )
    return data


def _checksummed(value: Any, *, source: str, field: str) -> str:
    try:
        return validate.checksummed_address(value)
    except validate.InvalidValueError as exc:
        raise _fail(source, field, str(exc), hint=exc.hint) from None


@dataclass(frozen=True, slots=True)
class Total:
    """One per-currency total of an attestation: ``Total(string,uint256,uint8)``."""

    currency: str
    amount: int
    decimals: int

    def to_json(self) -> dict[str, Any]:
        """JSON form: amount as a decimal string, decimals as an integer."""
        return {"currency": self.currency, "amount": str(self.amount), "decimals": self.decimals}


@dataclass(frozen=True, slots=True)
class AttestationMessage:
    """The ``ReserveAttestation`` EIP-712 message (DESIGN §3)."""

    issuer: str
    token: str
    custodian: str
    holdings_root: bytes
    leaf_count: int
    totals: tuple[Total, ...]
    as_of: int
    valid_until: int
    sequence: int

    def __post_init__(self) -> None:
        # Constructed in code (e.g. by `attest sign`): keep the same invariants as from_json.
        if not isinstance(self.holdings_root, bytes | bytearray):
            raise TypeError("holdings_root must be bytes")
        object.__setattr__(self, "holdings_root", bytes(self.holdings_root))
        object.__setattr__(self, "totals", tuple(self.totals))
        AttestationMessage.from_json(self.to_json(), source="<attestation message>")

    @classmethod
    def from_json(cls, obj: Any, *, source: str) -> AttestationMessage:
        """Parse the JSON message object strictly.

        Args:
            obj: The decoded JSON value of the ``message`` object.
            source: Name of the input (file path) used in error locations.

        Returns:
            The message.

        Raises:
            SchemaError: A missing or unknown key, a wrong type, a value out of its range,
                a bad ``holdingsRoot``, or ``totals`` not sorted by currency or repeating one.
        """
        msg = _object(obj, _MESSAGE_KEYS, source=source, field="message")
        totals_raw = msg["totals"]
        if not isinstance(totals_raw, list):
            raise _fail(source, "message.totals", "expected a JSON array")
        totals: list[Total] = []
        for i, raw in enumerate(totals_raw):
            where = f"message.totals[{i}]"
            item = _object(raw, _TOTAL_KEYS, source=source, field=where)
            currency = _string(item["currency"], source=source, field=f"{where}.currency")
            if not currency:
                raise _fail(source, f"{where}.currency", "currency code is empty")
            total = Total(
                currency=currency,
                amount=_uint256_string(item["amount"], source=source, field=f"{where}.amount"),
                decimals=_int(
                    item["decimals"], UINT8_MAX, "uint8", source=source, field=f"{where}.decimals"
                ),
            )
            if totals and total.currency <= totals[-1].currency:
                problem = "repeats" if total.currency == totals[-1].currency else "is out of order"
                raise _fail(
                    source,
                    f"{where}.currency",
                    f"currency {total.currency!r} {problem}",
                    hint="totals list each currency once, sorted by code",
                )
            totals.append(total)
        message = object.__new__(cls)
        fields = {
            "issuer": _string(msg["issuer"], source=source, field="message.issuer"),
            "token": _string(msg["token"], source=source, field="message.token"),
            "custodian": _string(msg["custodian"], source=source, field="message.custodian"),
            "holdings_root": _hex_bytes(
                msg["holdingsRoot"], 32, source=source, field="message.holdingsRoot"
            ),
            "leaf_count": _uint256_string(
                msg["leafCount"], source=source, field="message.leafCount"
            ),
            "totals": tuple(totals),
            "as_of": _int(msg["asOf"], UINT64_MAX, "uint64", source=source, field="message.asOf"),
            "valid_until": _int(
                msg["validUntil"], UINT64_MAX, "uint64", source=source, field="message.validUntil"
            ),
            "sequence": _int(
                msg["sequence"], UINT64_MAX, "uint64", source=source, field="message.sequence"
            ),
        }
        # Bypass __post_init__ (which would re-parse): set the frozen slots directly.
        for name, value in fields.items():
            object.__setattr__(message, name, value)
        return message

    def to_json(self) -> dict[str, Any]:
        """JSON form (DESIGN §3): root as 0x-hex, uint256 as strings, uint64 as integers."""
        return {
            "issuer": self.issuer,
            "token": self.token,
            "custodian": self.custodian,
            "holdingsRoot": "0x" + bytes(self.holdings_root).hex(),
            "leafCount": str(self.leaf_count),
            "totals": [t.to_json() for t in self.totals],
            "asOf": self.as_of,
            "validUntil": self.valid_until,
            "sequence": self.sequence,
        }


def check_signature_count(count: int, *, source: str, field: str) -> None:
    """Refuse more than :data:`MAX_SIGNATURE_ENTRIES` signature entries on one attestation.

    Raises:
        SchemaError: too many entries (exit 2), naming the file and field.
    """
    if count > MAX_SIGNATURE_ENTRIES:
        raise _fail(
            source,
            field,
            f"{count} signature entries; at most {MAX_SIGNATURE_ENTRIES} per attestation",
            hint="list one entry per signing key (or one BLS aggregate)",
        )


@dataclass(frozen=True, slots=True)
class SignatureEntry:
    """One signature object: secp256k1 (``signer``) or a BLS aggregate (``signers``).

    ``signers`` holds BLS public keys as lowercase 0x-hex strings or integer indices into the
    verifier's pinned BLS key list; it is empty for secp256k1, and ``signer`` is ``None`` for BLS.
    """

    scheme: str
    signer: str | None
    signers: tuple[str | int, ...]
    signature: bytes

    @classmethod
    def from_json(cls, obj: Any, *, source: str, field: str = "signature") -> SignatureEntry:
        """Parse one signature object strictly.

        Args:
            obj: The decoded JSON object.
            source: Name of the input used in error locations.
            field: Path of this object inside the input, for error locations.

        Returns:
            The entry.

        Raises:
            SchemaError: Unknown scheme, wrong key set, a non-checksummed signer, a BLS signer
                that is neither a 48-byte key nor an index, a repeated BLS signer, or a
                signature of the wrong length.
        """
        if not isinstance(obj, dict):
            raise _fail(source, field, f"expected a JSON object, found {type(obj).__name__}")
        scheme = obj.get("scheme")
        if scheme == "secp256k1":
            entry = _object(obj, ("scheme", "signer", "signature"), source=source, field=field)
            return cls(
                scheme="secp256k1",
                signer=_checksummed(entry["signer"], source=source, field=f"{field}.signer"),
                signers=(),
                signature=_secp256k1_signature(
                    entry["signature"], source=source, field=f"{field}.signature"
                ),
            )
        if scheme == "bls":
            entry = _object(obj, ("scheme", "signers", "signature"), source=source, field=field)
            raw = entry["signers"]
            if not isinstance(raw, list) or not raw:
                raise _fail(source, f"{field}.signers", "expected a non-empty JSON array")
            if len(raw) > MAX_SIGNATURE_ENTRIES:
                raise _fail(
                    source,
                    f"{field}.signers",
                    f"{len(raw)} BLS signers listed; at most {MAX_SIGNATURE_ENTRIES}",
                )
            signers: list[str | int] = []
            for i, item in enumerate(raw):
                where = f"{field}.signers[{i}]"
                signer: str | int
                if isinstance(item, str):
                    signer = "0x" + _hex_bytes(item, 48, source=source, field=where).hex()
                else:
                    signer = _int(item, 2**31 - 1, "key index", source=source, field=where)
                if signer in signers:
                    raise _fail(source, where, f"signer {signer} is listed twice")
                signers.append(signer)
            return cls(
                scheme="bls",
                signer=None,
                signers=tuple(signers),
                signature=_hex_bytes(
                    entry["signature"], 96, source=source, field=f"{field}.signature"
                ),
            )
        raise _fail(
            source,
            f"{field}.scheme",
            f"unknown signature scheme {json.dumps(scheme)}",
            hint=f"one of: {', '.join(SCHEMES)}",
        )

    def to_json(self) -> dict[str, Any]:
        """JSON form of DESIGN §3."""
        sig = "0x" + bytes(self.signature).hex()
        if self.scheme == "secp256k1":
            return {"scheme": "secp256k1", "signer": self.signer, "signature": sig}
        return {"scheme": self.scheme, "signers": list(self.signers), "signature": sig}


@dataclass(frozen=True, slots=True)
class AttestationFile:
    """A ``porv.attestation/1`` file: the message and its signatures."""

    message: AttestationMessage
    signatures: tuple[SignatureEntry, ...]

    @classmethod
    def from_json(cls, obj: Any, *, source: str) -> AttestationFile:
        """Parse a whole attestation document strictly.

        Args:
            obj: The decoded JSON document.
            source: Name of the input used in error locations.

        Returns:
            The attestation file.

        Raises:
            SchemaError: Wrong ``format``, a domain other than exactly
                ``{"name": "porv", "version": "1"}``, or any problem of the message or
                the signatures.
        """
        doc = _object(obj, ("format", "domain", "message", "signatures"), source=source, field="")
        if doc["format"] != FORMAT:
            raise _fail(source, "format", f"expected {FORMAT!r}, found {json.dumps(doc['format'])}")
        if doc["domain"] != DOMAIN_JSON or not isinstance(doc["domain"], dict):
            raise _fail(
                source,
                "domain",
                f"expected exactly {json.dumps(DOMAIN_JSON)}, found {json.dumps(doc['domain'])}",
                hint="porv attestations use no chainId and no verifyingContract",
            )
        message = AttestationMessage.from_json(doc["message"], source=source)
        raw = doc["signatures"]
        if not isinstance(raw, list):
            raise _fail(source, "signatures", "expected a JSON array")
        check_signature_count(len(raw), source=source, field="signatures")
        entries = tuple(
            SignatureEntry.from_json(item, source=source, field=f"signatures[{i}]")
            for i, item in enumerate(raw)
        )
        return cls(message=message, signatures=entries)

    def to_json(self) -> dict[str, Any]:
        """JSON form of DESIGN §3."""
        return {
            "format": FORMAT,
            "domain": dict(DOMAIN_JSON),
            "message": self.message.to_json(),
            "signatures": [s.to_json() for s in self.signatures],
        }
