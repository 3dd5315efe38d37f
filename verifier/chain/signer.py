"""Remote signers: EIP-712 signatures from a key porv never sees (``eth_signTypedData_v4``).

Wallets, key managers and dev nodes that hold a key (Web3Signer, Frame, anvil and hardhat's
unlocked accounts, geth-style wallets) sign typed data through ``eth_signTypedData_v4(address,
typedData)``. porv sends the attestation's typed data built from the one EIP-712 definition
(:func:`verifier.signatures.eip712.attestation_typed_data`), and believes nothing it gets back:
the answer must be 65 bytes of 0x-hex, low-s, and recover over the digest porv computed itself
to exactly the address asked for. Anything else is a :class:`~verifier.errors.RemoteSignerError`
(exit 3) naming the endpoint (redacted) and the address.

The request goes through the one JSON-RPC client (:class:`~verifier.chain.rpc.RpcClient`:
bounded time, capped answer size, no redirects), with no retry: a signer may ask a person to
confirm, and a second request would ask twice.
"""

from __future__ import annotations

import json
from typing import Any

from verifier.chain.rpc import RpcClient, Transport
from verifier.errors import PorvError, RemoteSignerError, RpcError, redact_url
from verifier.model.attestation import AttestationMessage

#: Seconds to wait for a signature: a signer may wait for a person to confirm.
SIGN_TIMEOUT_S = 120.0
#: A signature is 65 bytes; an answer far bigger than that is not one.
_MAX_ANSWER_BYTES = 64 * 1024


class SignerClient(RpcClient):
    """:class:`RpcClient` for a signer endpoint (not a chain: messages name the signer)."""

    def where(self) -> str:
        return f"signer endpoint {redact_url(self.url)}"


def sign_attestation_remote(
    url: str,
    address: str,
    message: AttestationMessage,
    *,
    timeout: float = SIGN_TIMEOUT_S,
    transport: Transport | None = None,
) -> bytes:
    """Ask ``address``'s signer at ``url`` to sign an attestation; check what comes back.

    Args:
        url: The signer's JSON-RPC URL (http/https).
        address: The checksummed address that must have signed.
        message: The attestation.
        timeout: Seconds to wait for the answer.
        transport: Replaces the HTTP POST (tests).

    Returns:
        The 65-byte low-s signature ``r ‖ s ‖ v`` (v 27/28) over porv's digest, by ``address``.

    Raises:
        RemoteSignerError: The endpoint failed, refused, or answered anything but a well-formed
            low-s signature by ``address`` over this attestation's digest (exit 3).
    """
    from verifier.signatures.eip712 import attestation_digest, attestation_typed_data

    return _sign_typed(
        url,
        address,
        attestation_typed_data(message),
        attestation_digest(message),
        "this attestation (digest",
        timeout=timeout,
        transport=transport,
    )


def safe_message_typed_data(digest: bytes, safe: str, chain_id: int) -> dict[str, Any]:
    """The EIP-712 typed data of a Safe's SafeMessage over ``digest`` (``eth_signTypedData_v4``).

    Its hash is :func:`verifier.signatures.wallet_keys.safe_message_hash`: domain ``{chainId,
    verifyingContract: safe}``, type ``SafeMessage(bytes message)``, message the 32 digest bytes
    (what the Safe's CompatibilityFallbackHandler checks for ``isValidSignature(bytes32,
    bytes)``).
    """
    return {
        "types": {
            "EIP712Domain": [
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "SafeMessage": [{"name": "message", "type": "bytes"}],
        },
        "primaryType": "SafeMessage",
        "domain": {"chainId": chain_id, "verifyingContract": safe},
        "message": {"message": "0x" + digest.hex()},
    }


def sign_safe_message_remote(
    url: str,
    address: str,
    digest: bytes,
    safe: str,
    chain_id: int,
    *,
    timeout: float = SIGN_TIMEOUT_S,
    transport: Transport | None = None,
) -> bytes:
    """Ask Safe owner ``address``'s signer at ``url`` to sign the Safe's SafeMessage of
    ``digest`` (:func:`safe_message_typed_data`); check what comes back.

    Returns:
        The 65-byte low-s signature (v 27/28) over the SafeMessage hash porv computed, by
        ``address``: one owner chunk of the Safe's signature.

    Raises:
        RemoteSignerError: The endpoint failed, refused, or answered anything but ``address``'s
            low-s signature over that hash (exit 3).
    """
    from verifier.signatures.wallet_keys import safe_message_hash

    return _sign_typed(
        url,
        address,
        safe_message_typed_data(digest, safe, chain_id),
        safe_message_hash(digest, safe, chain_id),
        f"Safe {safe}'s SafeMessage on chain {chain_id} (hash",
        timeout=timeout,
        transport=transport,
    )


def _sign_typed(
    url: str,
    address: str,
    typed_data: dict[str, Any],
    hashed: bytes,
    what: str,
    *,
    timeout: float,
    transport: Transport | None,
) -> bytes:
    """``eth_signTypedData_v4`` of ``typed_data``; the answer must recover over ``hashed``
    (porv's own hash of it) to ``address``."""
    from verifier.signatures import secp256k1

    client = SignerClient(
        url,
        0,
        timeout=timeout,
        retries=0,
        max_response_bytes=_MAX_ANSWER_BYTES,
        transport=transport,
    )
    who = f"{client.where()} (signer {address})"
    typed = json.dumps(typed_data, separators=(",", ":"))
    try:
        answer = client.call("eth_signTypedData_v4", address, typed)
    except RpcError as exc:
        raise RemoteSignerError(
            f"{exc.message} (signer {address})",
            hint="check that the endpoint holds this address's key and allows eth_signTypedData_v4",
        ) from None
    if not isinstance(answer, str) or not answer.startswith("0x"):
        raise RemoteSignerError(f"{who}: answered {_show(answer)}, not a 0x-hex signature")
    try:
        raw = bytes.fromhex(answer[2:])
    except ValueError:
        raise RemoteSignerError(f"{who}: answered {_show(answer)}, not 0x-hex") from None
    if len(raw) != 65:
        raise RemoteSignerError(f"{who}: answered {len(raw)} bytes, a signature is 65 (r, s, v)")
    if raw[64] in (0, 1):  # some signers give the recovery id itself
        raw = raw[:64] + bytes([raw[64] + 27])
    try:
        recovered = secp256k1.recover(hashed, raw)
    except PorvError as exc:
        raise RemoteSignerError(f"{who}: the signature is not acceptable: {exc.message}") from None
    if recovered != address:
        raise RemoteSignerError(
            f"{who}: the signature recovers to {recovered}, not to {address}: it is not "
            f"{address}'s signature over {what} 0x{hashed.hex()})",
            hint="the endpoint signed with another key or over other data; nothing was written",
        )
    return raw


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
