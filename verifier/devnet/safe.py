"""Safe (safe-global, v1.4.1 from npm) on local chains: the singleton, the proxy factory and
the fallback handler, Safe proxies, and owner-signed Safe transactions.

A Safe answers EIP-1271 ``isValidSignature(bytes32, bytes)`` through its
``CompatibilityFallbackHandler``: the owners' signatures over the Safe's SafeMessage hash of the
digest (:func:`verifier.signatures.wallet_keys.safe_message_hash`), 65 bytes each, sorted by
owner address. Dev helpers only: porv verifies Safes it never deployed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address

from verifier.devnet import deploy as dep
from verifier.errors import IncompleteError, InputError, redact_url

__all__ = ["SafeInfra", "create_safe", "deploy_safe_infra", "exec_safe_transaction", "swap_owner"]

_ZERO = "0x" + "00" * 20
#: The head of a Safe's owner list (``SENTINEL_OWNERS`` in OwnerManager.sol).
_SENTINEL = "0x" + "00" * 19 + "01"


@dataclass(frozen=True)
class SafeInfra:
    """The Safe contracts every proxy on one chain shares."""

    singleton: str
    factory: str
    fallback_handler: str


#: Addresses Safe's ``setup`` refuses as owners (GS203): zero, and 0x…01, the owner list's
#: sentinel.
RESERVED_OWNERS = frozenset({0, 1})


def deploy_safe_infra(url: str, *, sender: str | None = None) -> SafeInfra:
    """Deploy the Safe singleton, SafeProxyFactory and CompatibilityFallbackHandler.

    Raises:
        IncompleteError: A deployment failed.
    """
    return SafeInfra(
        singleton=dep.deploy(url, "Safe", sender=sender),
        factory=dep.deploy(url, "SafeProxyFactory", sender=sender),
        fallback_handler=dep.deploy(url, "CompatibilityFallbackHandler", sender=sender),
    )


def create_safe(
    url: str,
    infra: SafeInfra,
    owners: Sequence[str],
    threshold: int,
    *,
    salt: int = 0,
    sender: str | None = None,
) -> str:
    """Create a Safe proxy with ``owners`` and ``threshold``, set up with the fallback handler.

    Returns:
        The Safe's checksummed address.

    Raises:
        InputError: No owner, an owner twice, a reserved owner (:data:`RESERVED_OWNERS`), or a
            threshold outside 1..len(owners).
        IncompleteError: The factory reverted or the node failed.
    """
    checked = [str(to_checksum_address(o)) for o in owners]
    if not checked or len(set(checked)) != len(checked):
        raise InputError(f"a Safe needs distinct owners, found {checked}")
    reserved = [o for o in checked if int(o, 16) in RESERVED_OWNERS]
    if reserved:
        raise InputError(
            f"{reserved[0]} cannot own a Safe (Safe's setup refuses the zero address and its "
            "owner-list sentinel 0x…01)"
        )
    if not 1 <= threshold <= len(checked):
        raise InputError(f"Safe threshold {threshold} must be 1..{len(checked)} (the owners)")
    safe = dep.contract(url, "Safe", infra.singleton)
    initializer = safe.encode_abi(
        "setup",
        [checked, threshold, _ZERO, b"", infra.fallback_handler, _ZERO, 0, _ZERO],
    )
    factory = dep.contract(url, "SafeProxyFactory", infra.factory)
    fn = factory.functions.createProxyWithNonce(infra.singleton, initializer, salt)
    who = sender or dep.accounts(url)[0]
    try:
        address = fn.call({"from": who})
    except Exception as exc:  # web3 raises many types; all mean "could not create"
        raise IncompleteError(
            f"{redact_url(url)}: creating a Safe proxy failed: {type(exc).__name__}: {exc}"
        ) from exc
    dep.transact(
        url,
        "SafeProxyFactory",
        infra.factory,
        "createProxyWithNonce",
        infra.singleton,
        initializer,
        salt,
        sender=who,
    )
    return str(to_checksum_address(address))


def exec_safe_transaction(
    url: str, safe: str, data: bytes, owner_keys: Sequence[bytes], *, sender: str | None = None
) -> Any:
    """Run a call of the Safe on itself (``to = safe``), signed by ``owner_keys`` (raw ECDSA
    over the Safe transaction hash, sorted by owner address).

    Returns:
        The receipt.

    Raises:
        IncompleteError: The Safe reverted (e.g. too few owners signed).
    """
    from verifier.signatures import secp256k1

    contract = dep.contract(url, "Safe", safe)
    nonce = contract.functions.nonce().call()
    args = (safe, 0, data, 0, 0, 0, 0, _ZERO, _ZERO)
    tx_hash = bytes(contract.functions.getTransactionHash(*args, nonce).call())
    ordered = sorted(owner_keys, key=lambda k: int(secp256k1.address_of(k), 16))
    signatures = b"".join(secp256k1.sign(tx_hash, k) for k in ordered)
    return dep.transact(url, "Safe", safe, "execTransaction", *args, signatures, sender=sender)


def swap_owner(
    url: str,
    safe: str,
    old: str,
    new: str,
    owner_keys: Sequence[bytes],
    *,
    sender: str | None = None,
) -> Any:
    """Replace owner ``old`` with ``new`` (``swapOwner``), signed by ``owner_keys``.

    Raises:
        InputError: ``old`` is not an owner.
        IncompleteError: The Safe reverted.
    """
    contract = dep.contract(url, "Safe", safe)
    owners = [str(to_checksum_address(o)) for o in contract.functions.getOwners().call()]
    old, new = str(to_checksum_address(old)), str(to_checksum_address(new))
    if old not in owners:
        raise InputError(f"{old} is not an owner of Safe {safe}")
    index = owners.index(old)
    prev = _SENTINEL if index == 0 else owners[index - 1]
    data = bytes.fromhex(str(contract.encode_abi("swapOwner", [prev, old, new]))[2:])
    return exec_safe_transaction(url, safe, data, owner_keys, sender=sender)
