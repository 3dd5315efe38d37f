"""The on-chain ``ReserveAttestationRegistry``: deploy, register signers, submit, read back.

The registry checks a custodian attestation's EIP-712 secp256k1 signature on-chain (domain
``{name: "porv", version: "1"}`` only), requires a strictly increasing ``sequence`` per
(issuer, token, custodian), stores the latest one and serves the attested reserves of the token
it is bound to through Chainlink's ``AggregatorV3Interface`` (see README, "Chains and supply").
It refuses expired attestations, an ``asOf`` its chain has not reached and a sequence jump above
``MAX_SEQUENCE_STEP``; its feed counts only unexpired records of still-registered signers (README,
"Publishing on-chain", the feed's rules).

Attestations are given in porv's JSON form (DESIGN §3): an attestation file
(``porv.attestation/1``), its ``message`` object, or any object with a ``to_json()`` method
returning that message object.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils.address import to_checksum_address

from verifier.chain.registry import NAME as NAME  # the contract name, for callers of this module
from verifier.devnet import deploy as dep
from verifier.errors import ClaimFailedError, IncompleteError, InputError, Location, redact_url


class RegistryRejectedError(ClaimFailedError):
    """The registry refused a submission (unknown signer, high s, sequence not increasing...).

    Attributes:
        reason: The contract's custom error name, e.g. ``"SequenceNotIncreasing"``.
        args_decoded: That error's decoded arguments.
    """

    kind = "registry_rejected"

    def __init__(self, message: str, *, reason: str, args_decoded: tuple[Any, ...] = ()) -> None:
        super().__init__(message)
        self.reason = reason
        self.args_decoded = args_decoded


@dataclass(frozen=True)
class AttestationRecord:
    """What the registry stores for (issuer, token, custodian)."""

    exists: bool
    sequence: int
    as_of: int
    valid_until: int
    holdings_root: bytes
    leaf_count: int
    digest: bytes
    signer: str
    submitted_at: int


@dataclass(frozen=True)
class RoundData:
    """One ``AggregatorV3Interface`` round."""

    round_id: int
    answer: int
    started_at: int
    updated_at: int
    answered_in_round: int


# --- attestation message -> ABI tuple ------------------------------------------------------

_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}\Z")


def _message_json(att: Any) -> tuple[Mapping[str, Any], str | None]:
    """The message object, and the first secp256k1 signature of a file (if any)."""
    if isinstance(att, str | Path):
        from verifier.local.loaders import load_attestation_file

        doc = load_attestation_file(att)  # the one strict reader of attestation files
        signature = next(
            ("0x" + e.signature.hex() for e in doc.signatures if e.scheme == "secp256k1"), None
        )
        return doc.message.to_json(), signature
    if isinstance(att, Mapping):
        return att, None
    to_json = getattr(att, "to_json", None)
    if callable(to_json):
        msg = to_json()
        if isinstance(msg, Mapping):
            return msg, None
    raise InputError(f"cannot use {type(att).__name__} as an attestation message")


def attestation_tuple(msg: Mapping[str, Any]) -> tuple[Any, ...]:
    """The ABI tuple of a ``ReserveAttestation`` message in porv's JSON form.

    The message is parsed by :meth:`AttestationMessage.from_json` (the one strict parser), so
    the registry is only ever sent what porv itself would accept.

    Args:
        msg: The message object (DESIGN §3): uint256 as decimal strings, uint64 and uint8 as
            integers, ``holdingsRoot`` as 0x-hex.

    Returns:
        ``(issuer, token, custodian, holdingsRoot, leafCount, totals, asOf, validUntil,
        sequence)`` with ``totals`` as ``[(currency, amount, decimals), ...]``.

    Raises:
        SchemaError: A field is missing or has the wrong type or range.
    """
    from verifier.model.attestation import AttestationMessage

    m = AttestationMessage.from_json(msg, source="attestation message")
    return (
        m.issuer,
        m.token,
        m.custodian,
        m.holdings_root,
        m.leaf_count,
        [(t.currency, t.amount, t.decimals) for t in m.totals],
        m.as_of,
        m.valid_until,
        m.sequence,
    )


def _signature_bytes(signature: Any) -> bytes:
    if isinstance(signature, bytes | bytearray):
        raw = bytes(signature)
    elif isinstance(signature, str) and re.fullmatch(r"0x[0-9a-fA-F]*", signature):
        raw = bytes.fromhex(signature[2:])
    else:
        raise InputError(
            "signature must be bytes or 0x-hex", location=Location(None, None, "signature")
        )
    if len(raw) != 65:
        raise InputError(
            f"signature must be 65 bytes (r‖s‖v), found {len(raw)}",
            location=Location(None, None, "signature"),
        )
    return raw


# --- revert decoding -------------------------------------------------------------------------


def decode_revert(data: Any) -> tuple[str, tuple[Any, ...]] | None:
    """Decode a registry custom error from revert data.

    Args:
        data: Revert data (0x-hex or bytes).

    Returns:
        ``(error name, decoded args)``, or None if the data is not one of the registry's errors.
    """
    return dep.decode_error(NAME, data)


# --- operations ------------------------------------------------------------------------------


def deploy_registry(
    url: str,
    issuer: str,
    token: str,
    currency: str,
    decimals: int,
    description: str | None = None,
    *,
    sender: str | None = None,
) -> str:
    """Deploy a registry bound to (issuer, token, currency, decimals) for its feed.

    Args:
        url: The node's JSON-RPC URL.
        issuer: Issuer name as in attestations.
        token: Token name as in attestations.
        currency: The currency whose attested totals the feed sums.
        decimals: The feed's decimals (attested totals are scaled to it, truncating).
        description: Feed description; ``"<token> reserves (<currency>)"`` by default.
        sender: Deployer and owner (an unlocked account); dev account 0 by default.

    Returns:
        The registry's checksummed address.

    Raises:
        IncompleteError: The deployment failed.
    """
    desc = description if description is not None else f"{token} reserves ({currency})"
    return dep.deploy(url, NAME, issuer, token, currency, decimals, desc, sender=sender)


def register_signer(
    url: str, registry: str, custodian: str, signer: str, sender: str | None = None
) -> Any:
    """Trust ``signer`` for ``custodian`` (owner only).

    Args:
        url: The node's JSON-RPC URL.
        registry: The registry's address.
        custodian: Custodian id as in attestations.
        signer: The signer's address.
        sender: The registry owner; dev account 0 by default.

    Returns:
        The receipt.

    Raises:
        IncompleteError: The transaction failed (e.g. sender is not the owner).
    """
    return dep.transact(
        url, NAME, registry, "registerSigner", custodian, to_checksum_address(signer), sender=sender
    )


def digest_of(url: str, registry: str, att: Any) -> bytes:
    """The registry's on-chain EIP-712 digest of an attestation (``digestOf``).

    Args:
        url: The node's JSON-RPC URL.
        registry: The registry's address.
        att: Attestation file path, message object, or object with ``to_json()``.

    Returns:
        The 32-byte digest.

    Raises:
        SchemaError: The message is malformed.
        IncompleteError: The call failed.
    """
    msg, _ = _message_json(att)
    c = dep.contract(url, NAME, registry)
    try:
        return bytes(c.functions.digestOf(attestation_tuple(msg)).call())
    except Exception as exc:
        raise IncompleteError(f"{redact_url(url)}: digestOf failed: {exc}") from exc


def submit_attestation(
    url: str,
    registry: str,
    att_file_or_message: Any,
    signature: Any = None,
    sender_key_or_account: Any = None,
) -> Any:
    """Submit a signed attestation to the registry and wait for the receipt.

    Args:
        url: The node's JSON-RPC URL.
        registry: The registry's address.
        att_file_or_message: An attestation file (its first secp256k1 signature is used when
            ``signature`` is None), a message object, or an object with ``to_json()``.
        signature: 65-byte ``r‖s‖v`` (bytes or 0x-hex).
        sender_key_or_account: Who pays: an unlocked account's address, a 32-byte private key
            (bytes or 0x-hex; the transaction is signed locally), or None for dev account 0.

    Returns:
        The transaction receipt.

    Raises:
        RegistryRejectedError: The registry refused it (``reason`` names the contract error).
        InputError: No or malformed signature, or malformed attestation.
        IncompleteError: The node failed.
    """
    msg, file_sig = _message_json(att_file_or_message)
    sig = _signature_bytes(signature if signature is not None else file_sig)
    return send_transaction(
        url, registry, "submit", (attestation_tuple(msg), sig), sender_key_or_account
    )


def send_transaction(
    url: str,
    registry: str,
    function: str,
    args: tuple[Any, ...],
    sender_key_or_account: Any = None,
    *,
    sender_url: str | None = None,
    name: str = NAME,
) -> Any:
    """Call ``function(*args)`` of the registry in a transaction and wait for a good receipt.

    The one way porv sends registry transactions (``publish``, ``registry register-signer``,
    ``revoke-signer``): signed locally with a private key (``eth_sendRawTransaction``), or
    ``eth_sendTransaction`` from an account the node or a remote signer holds unlocked.

    Args:
        url: The chain node's JSON-RPC URL (gas estimate, raw sends, the receipt).
        registry: The registry's address.
        function: The contract function, e.g. ``"registerSigner"``.
        args: Its arguments.
        sender_key_or_account: A 32-byte private key (bytes or 0x-hex), an unlocked account's
            address, or None for the node's dev account 0.
        sender_url: Where that account is unlocked (a remote signer that forwards
            ``eth_sendTransaction`` to the chain); ``url`` by default.
        name: The contract's name, for its ABI and custom errors (porv's registry by default;
            ``"EAS"`` and ``"SchemaRegistry"`` for ``porv publish --eas``).

    Returns:
        The receipt (status 1).

    Raises:
        RegistryRejectedError: The registry refused it (``reason`` names the contract error,
            or ``"reverted"`` for a failed receipt).
        IncompleteError: The node or the signer failed, or no receipt came in time.
    """
    w3 = dep.web3_for(url)
    key = _private_key(sender_key_or_account)
    try:
        if key is None:
            via = sender_url or url
            fn = getattr(dep.contract(via, name, registry).functions, function)(*args)
            sender = (
                to_checksum_address(sender_key_or_account)
                if sender_key_or_account
                else dep.accounts(via)[0]
            )
            tx_hash = fn.transact({"from": sender, "gas": _gas_limit(fn, sender)})
        else:
            from eth_account import Account

            fn = getattr(dep.contract(url, name, registry).functions, function)(*args)
            acct = Account.from_key(key)
            tx = fn.build_transaction(
                {
                    "from": acct.address,
                    "nonce": w3.eth.get_transaction_count(acct.address, "pending"),
                    "gas": _gas_limit(fn, acct.address),
                }
            )
            signed = acct.sign_transaction(tx)
            tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    except Exception as exc:
        decoded = dep.decode_error(name, dep.revert_data(exc))
        if decoded is not None:
            error, decoded_args = decoded
            what = "registry" if name == NAME else name
            raise RegistryRejectedError(
                f"{what} {registry} rejected {function}: {dep.call_text(error, decoded_args)}",
                reason=error,
                args_decoded=decoded_args,
            ) from exc
        raise IncompleteError(
            f"{redact_url(sender_url or url)}: {function} to {registry} failed: {exc}"
        ) from exc
    try:
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=dep.RECEIPT_TIMEOUT)
    except Exception as exc:
        raise IncompleteError(
            f"{redact_url(url)}: no receipt for {tx_hash.to_0x_hex()} within "
            f"{dep.RECEIPT_TIMEOUT:.0f} s"
        ) from exc
    if receipt["status"] != 1:
        raise RegistryRejectedError(
            f"{'registry' if name == NAME else name} {registry} reverted {function} "
            f"(tx {tx_hash.to_0x_hex()})",
            reason="reverted",
            args_decoded=(),
        )
    return receipt


def _gas_limit(fn: Any, sender: str) -> int:
    """The node's gas estimate plus half.

    anvil estimates the gas *used* after the storage refund, which is below the limit the call
    needs when it overwrites a stored record (seen: estimate 122,418, out of gas at that limit).
    """
    gas = int(fn.estimate_gas({"from": sender}))
    return gas + gas // 2


def _private_key(value: Any) -> bytes | None:
    if isinstance(value, bytes | bytearray) and len(value) == 32:
        return bytes(value)
    if isinstance(value, str) and re.fullmatch(r"0x[0-9a-fA-F]{64}", value):
        return bytes.fromhex(value[2:])
    return None


def latest(
    url: str, registry: str, issuer: str, token: str, custodian: str, *, block: Any = "latest"
) -> AttestationRecord:
    """The latest accepted attestation record of (issuer, token, custodian).

    Args:
        url: The node's JSON-RPC URL.
        registry: The registry's address.
        issuer: Issuer name.
        token: Token name.
        custodian: Custodian id.
        block: Block number or tag to read at.

    Returns:
        The record; ``exists`` is False if nothing was accepted yet.

    Raises:
        IncompleteError: The call failed.
    """
    c = dep.contract(url, NAME, registry)
    try:
        r = c.functions.latest(issuer, token, custodian).call(block_identifier=block)
    except Exception as exc:
        raise IncompleteError(f"{redact_url(url)}: registry.latest failed: {exc}") from exc
    return AttestationRecord(
        exists=bool(r[0]),
        sequence=int(r[1]),
        as_of=int(r[2]),
        valid_until=int(r[3]),
        holdings_root=bytes(r[4]),
        leaf_count=int(r[5]),
        digest=bytes(r[6]),
        signer=str(to_checksum_address(r[7])),
        submitted_at=int(r[8]),
    )


def latest_round_data(url: str, registry: str, *, block: Any = "latest") -> RoundData:
    """``latestRoundData()`` of the registry's AggregatorV3Interface feed.

    Args:
        url: The node's JSON-RPC URL.
        registry: The registry's (feed's) address.
        block: Block number or tag to read at.

    Returns:
        The latest round.

    Raises:
        RegistryRejectedError: No round yet (``NoDataPresent``).
        IncompleteError: The call failed.
    """
    return _round(url, registry, "latestRoundData", (), block)


def get_round_data(url: str, registry: str, round_id: int, *, block: Any = "latest") -> RoundData:
    """``getRoundData(roundId)`` of the registry's feed.

    Args:
        url: The node's JSON-RPC URL.
        registry: The registry's (feed's) address.
        round_id: The round.
        block: Block number or tag to read at.

    Returns:
        That round.

    Raises:
        RegistryRejectedError: Unknown round (``NoDataPresent``).
        IncompleteError: The call failed.
    """
    return _round(url, registry, "getRoundData", (round_id,), block)


def _round(url: str, registry: str, function: str, args: tuple[Any, ...], block: Any) -> RoundData:
    c = dep.contract(url, NAME, registry)
    try:
        r = getattr(c.functions, function)(*args).call(block_identifier=block)
    except Exception as exc:
        decoded = decode_revert(dep.revert_data(exc))
        if decoded is not None:
            raise RegistryRejectedError(
                f"{dep.call_text(function, args)}: {dep.call_text(*decoded)}",
                reason=decoded[0],
                args_decoded=decoded[1],
            ) from exc
        raise IncompleteError(f"{redact_url(url)}: {function} failed: {exc}") from exc
    return RoundData(int(r[0]), int(r[1]), int(r[2]), int(r[3]), int(r[4]))
