"""The verifiable result ``porv.result/1``: canonical JSON, digest, operator signature.

``digest`` = sha256 over the RFC 8785 (JCS) canonical JSON of the result without its
``digest`` and ``signature`` members. The optional ``signature`` is an EIP-712 secp256k1
signature by the verifier operator's key over ``VerifiedResult(bytes32 digest)`` in the porv
domain, so the same tools that check custodian attestations check results.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from verifier.errors import RecheckMismatchError, SchemaError, SignatureInvalidError
from verifier.model.jsontext import write_canonical
from verifier.signatures import secp256k1
from verifier.signatures.eip712 import hash_struct, typed_digest

RESULT_FORMAT = "porv.result/1"
_SEAL_KEYS = ("digest", "signature")
_RESULT_TYPES: dict[str, list[tuple[str, str]]] = {"VerifiedResult": [("digest", "bytes32")]}


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def content_digest(result: Mapping[str, Any]) -> str:
    """``0x`` + sha256 of the canonical JSON of ``result`` without digest and signature.

    The canonical form is streamed into the hash, never built whole (a result listing many
    holdings is large).
    """
    body = {k: v for k, v in result.items() if k not in _SEAL_KEYS}
    digest = hashlib.sha256()
    write_canonical(body, digest.update)
    return "0x" + digest.hexdigest()


def signing_digest(digest_hex: str) -> bytes:
    """EIP-712 digest the operator signs for a result digest."""
    struct = hash_struct("VerifiedResult", _RESULT_TYPES, {"digest": bytes.fromhex(digest_hex[2:])})
    return typed_digest(struct)


def seal(result: dict[str, Any], *, sign_key: bytes | None = None) -> dict[str, Any]:
    """Add ``digest`` (and ``signature`` when a key is given) to a result, in place.

    Returns:
        The same dict, for chaining.
    """
    for key in _SEAL_KEYS:
        result.pop(key, None)
    digest = content_digest(result)
    result["digest"] = digest
    if sign_key is not None:
        sig = secp256k1.sign(signing_digest(digest), sign_key)
        result["signature"] = {
            "scheme": "secp256k1",
            "signer": secp256k1.address_of(sign_key),
            "signature": "0x" + sig.hex(),
        }
    return result


def check_seal(result: Mapping[str, Any], *, source: str) -> str | None:
    """Check a result's digest and, if present, its operator signature.

    Returns:
        The checksummed operator address when the result is signed, else None.

    Raises:
        SchemaError: not a porv.result/1 document.
        RecheckMismatchError: the digest does not match the content (the result was edited).
        SignatureInvalidError: the signature does not recover to the named signer.
    """
    if not isinstance(result, Mapping) or result.get("format") != RESULT_FORMAT:
        raise SchemaError(f"{source}: not a {RESULT_FORMAT} document")
    stated = result.get("digest")
    actual = content_digest(result)
    if stated != actual:
        raise RecheckMismatchError(
            f"{source}: result digest is {stated!r} but its content hashes to {actual}",
            hint="the result was changed after it was written; do not trust its numbers",
        )
    sig = result.get("signature")
    if sig is None:
        return None
    if not isinstance(sig, Mapping) or sig.get("scheme") != "secp256k1":
        raise SchemaError(f"{source}: signature must be a secp256k1 signature object")
    try:
        raw = bytes.fromhex(str(sig["signature"])[2:])
    except (KeyError, ValueError):
        raise SchemaError(f"{source}: signature.signature is not hex") from None
    signer = secp256k1.recover(signing_digest(actual), raw)
    if signer != sig.get("signer"):
        raise SignatureInvalidError(
            f"{source}: result signature recovers to {signer}, not the named {sig.get('signer')}"
        )
    return signer
