"""``porv registry register-signer|revoke-signer|remove-custodian``: the owner's administration
of a registry.

A new custodian key needs no new chain: the ``ReserveAttestationRegistry``'s owner registers it
for a custodian (``registerSigner(custodian, signer)``) and revokes an old one
(``revokeSigner(custodian, signer)``), and takes a custodian out of the feed
(``removeFeedCustodian(custodian)``, freeing its place). porv checks the endpoint's chain
(against ``CHAIN_ID:`` when given), that the registry has code, and the current state
(``isSigner``; ``contributionOf`` for a custodian's place in the feed): a registry already in the
wanted state is reported and nothing is sent, so re-running is safe.
Otherwise it sends one transaction through the one registry transaction path
(:func:`verifier.devnet.registry.send_transaction`): signed locally with ``--key FILE``, or
``eth_sendTransaction`` from ``--from ADDR`` at ``--signer-rpc URL`` (a node's unlocked account
or a remote signer that forwards to the chain). The receipt must succeed and the state read
at its block must show the change; a revert is named with its function and the contract's error
(exit 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address

from verifier.errors import IncompleteError, InputError, Location, WrongChainError, redact_url
from verifier.model.validate import InvalidValueError, checksummed_address

#: action -> (contract function, the isSigner state it leaves, outcome when sent, when not)
ACTIONS: dict[str, tuple[str, bool, str, str]] = {
    "register": ("registerSigner", True, "registered", "already_registered"),
    "revoke": ("revokeSigner", False, "revoked", "not_registered"),
}


def _address(value: str, option: str) -> str:
    try:
        return checksummed_address(value)
    except InvalidValueError as exc:
        raise InputError(
            f"{option} {value!r} is not an EIP-55 checksummed 0x address",
            hint=exc.hint,
            location=Location(field=option),
        ) from None


def _http(url: str, option: str) -> None:
    if not url.startswith(("http://", "https://")):
        raise InputError(
            f"{option} expects an http(s) URL, found {url!r}", location=Location(field=option)
        )


def _is_signer(url: str, registry: str, custodian: str, signer: str, block: Any) -> bool:
    from verifier.devnet import deploy as dep
    from verifier.devnet import registry as reg

    fn = dep.contract(url, reg.NAME, registry).functions.isSigner(custodian, signer)
    try:
        answer = fn.call(block_identifier=block)
    except Exception as exc:
        raise IncompleteError(f"{redact_url(url)}: isSigner failed: {exc}") from exc
    if not isinstance(answer, bool):
        raise IncompleteError(f"{redact_url(url)}: isSigner answered {answer!r}, not a bool")
    return answer


@dataclass(frozen=True)
class _Owner:
    """A checked connection to a registry: its chain, address and the sending owner."""

    chain_id: int
    registry: str
    sender: str
    key_or_account: Any
    signer_rpc: str | None


def _connect(
    url: str,
    registry_opt: str,
    custodian: str,
    key_file: str | None,
    signer_rpc: str | None,
    sender: str | None,
) -> _Owner:
    """Check the options, the endpoint's chain and the registry's code; load the sender."""
    from verifier.app.publish import _chain_id, parse_registry
    from verifier.devnet.node import rpc_request

    _http(url, "--rpc")
    expected_chain, registry = parse_registry(registry_opt)
    if not custodian:
        raise InputError("--custodian is empty", location=Location(field="--custodian"))
    try:
        custodian.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(
            f"--custodian {custodian!r} is not text (bytes that are not UTF-8): the registry "
            "names custodians by their UTF-8 bytes, as attestations do",
            location=Location(field="--custodian"),
        ) from None
    if (key_file is None) == (signer_rpc is None):
        raise InputError(
            "give the registry owner as --key FILE, or as --signer-rpc URL with --from ADDR",
            location=Location(field="--key"),
        )
    sender_key_or_account: Any
    if key_file is not None:
        if sender is not None:
            raise InputError(
                "--from goes with --signer-rpc, not with --key", location=Location(field="--from")
            )
        from verifier.local.keys import load_key_file
        from verifier.signatures import secp256k1

        key = load_key_file(key_file, "secp256k1")
        sender_address = secp256k1.address_of(key)
        sender_key_or_account = key
    else:
        assert signer_rpc is not None
        _http(signer_rpc, "--signer-rpc")
        if sender is None:
            raise InputError(
                "--signer-rpc needs --from ADDR (the owner's account there)",
                location=Location(field="--from"),
            )
        sender_address = _address(sender, "--from")
        sender_key_or_account = sender_address

    chain_id = _chain_id(url)
    if expected_chain is not None and chain_id != expected_chain:
        raise WrongChainError(f"{url} serves chain id {chain_id}, expected {expected_chain}")
    if signer_rpc is not None and signer_rpc != url:
        signer_chain = _chain_id(signer_rpc)
        if signer_chain != chain_id:
            raise WrongChainError(
                f"--signer-rpc {signer_rpc} serves chain id {signer_chain}, --rpc {url} "
                f"serves {chain_id}: the transaction would go to another chain"
            )
    if str(rpc_request(url, "eth_getCode", [registry, "latest"])) in ("0x", "", "None"):
        raise WrongChainError(
            f"no contract at {registry} on chain {chain_id} ({url})",
            hint="check the registry address and that --rpc serves the registry's chain",
        )
    return _Owner(chain_id, registry, sender_address, sender_key_or_account, signer_rpc)


def change_signer(
    action: str,
    *,
    url: str,
    registry_opt: str,
    custodian: str,
    signer: str,
    key_file: str | None = None,
    signer_rpc: str | None = None,
    sender: str | None = None,
    progress: Callable[[str], None] = lambda _line: None,
) -> dict[str, Any]:
    """Register (``action="register"``) or revoke a custodian's signer on an existing registry.

    Args:
        action: ``"register"`` or ``"revoke"``.
        url: The chain node's JSON-RPC URL.
        registry_opt: ``[CHAIN_ID:]ADDR`` of the registry.
        custodian: Custodian id as in attestations.
        signer: The signer's checksummed address.
        key_file: The owner's secp256k1 key file (the transaction is signed locally), or
        signer_rpc: with ``sender``: where the owner's account is unlocked
            (``eth_sendTransaction``).
        sender: The owner's address at ``signer_rpc``.
        progress: Called with one line before the transaction is sent.

    Returns:
        The report: ``status``, ``action``, ``outcome`` (``registered``, ``revoked``,
        ``already_registered`` or ``not_registered``), ``chain_id``, ``registry``,
        ``custodian``, ``signer``, ``sender``, and ``tx_hash``/``block_number`` when sent.

    Raises:
        InputError: Bad URL, address, custodian, key file, or sender options (exit 2).
        RegistryRejectedError: The registry reverted (exit 1), e.g. the sender is not its owner.
        IncompleteError: The node or signer failed, serves another chain, or the change does
            not show after a successful receipt (exit 3).
    """
    from verifier.devnet import registry as reg

    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    function, wanted, done, unchanged = ACTIONS[action]
    signer_address = _address(signer, "--signer")
    owner = _connect(url, registry_opt, custodian, key_file, signer_rpc, sender)
    registry = owner.registry
    report: dict[str, Any] = {
        "status": "ok",
        "action": action,
        "chain_id": owner.chain_id,
        "registry": registry,
        "custodian": custodian,
        "signer": signer_address,
        "sender": owner.sender,
    }
    if _is_signer(url, registry, custodian, signer_address, "latest") == wanted:
        report["outcome"] = unchanged
        return report
    progress(f"porv registry: {function}({custodian!r}, {signer_address}) from {owner.sender}")
    receipt = reg.send_transaction(
        url,
        registry,
        function,
        (custodian, signer_address),
        owner.key_or_account,
        sender_url=owner.signer_rpc,
    )
    block = int(receipt["blockNumber"])
    if _is_signer(url, registry, custodian, signer_address, block) != wanted:
        raise IncompleteError(
            f"{redact_url(url)}: {function} succeeded in block {block}, but isSigner("
            f"{custodian!r}, {signer_address}) there is still {not wanted}"
        )
    report.update(
        outcome=done,
        tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
        block_number=block,
    )
    return report


def _contribution(url: str, registry: str, custodian: str, block: Any) -> dict[str, Any] | None:
    """``contributionOf(custodian)`` at ``block``: None if the custodian has no place in the
    feed (a custodian in the feed always has a registered, hence non-zero, signer)."""
    from verifier.devnet import deploy as dep
    from verifier.devnet import registry as reg

    fn = dep.contract(url, reg.NAME, registry).functions.contributionOf(custodian)
    try:
        amount, as_of, valid_until, signer, counted = fn.call(block_identifier=block)
    except Exception as exc:
        raise IncompleteError(f"{redact_url(url)}: contributionOf failed: {exc}") from exc
    if not isinstance(signer, str) or not isinstance(counted, bool):
        raise IncompleteError(f"{redact_url(url)}: contributionOf answered junk")
    if int(signer, 16) == 0:
        return None
    return {
        "amount": str(int(amount)),
        "as_of": int(as_of),
        "valid_until": int(valid_until),
        "signer": str(to_checksum_address(signer)),
        "counted": counted,
    }


def remove_custodian(
    *,
    url: str,
    registry_opt: str,
    custodian: str,
    key_file: str | None = None,
    signer_rpc: str | None = None,
    sender: str | None = None,
    progress: Callable[[str], None] = lambda _line: None,
) -> dict[str, Any]:
    """Take a custodian out of the registry's feed (``removeFeedCustodian``; owner only).

    Its signers stay registered and its stored records stay; the feed stops counting it and
    frees its place until its next accepted attestation. Nothing is sent if it has no place.

    Args:
        url: The chain node's JSON-RPC URL.
        registry_opt: ``[CHAIN_ID:]ADDR`` of the registry.
        custodian: Custodian id as in attestations.
        key_file: The owner's secp256k1 key file (the transaction is signed locally), or
        signer_rpc: with ``sender``: where the owner's account is unlocked
            (``eth_sendTransaction``).
        sender: The owner's address at ``signer_rpc``.
        progress: Called with one line before the transaction is sent.

    Returns:
        The report: ``status``, ``action`` (``remove_custodian``), ``outcome`` (``removed`` or
        ``not_in_feed``), ``chain_id``, ``registry``, ``custodian``, ``sender``, and when sent
        ``removed`` (its contribution before: ``amount`` in the feed's base units as a decimal
        string, ``as_of``, ``valid_until``, ``signer``, ``counted``), ``tx_hash``,
        ``block_number`` and ``latest_round_data`` at that block (None when the feed has no
        round).

    Raises:
        InputError: Bad URL, address, custodian, key file, or sender options (exit 2).
        RegistryRejectedError: The registry reverted (exit 1): not the owner, or ``NotInFeed``
            when another transaction removed it first.
        IncompleteError: The node or signer failed, serves another chain, or the custodian
            still has a place at the receipt's block (exit 3).
    """
    from verifier.app.publish import _round_json
    from verifier.devnet import registry as reg

    owner = _connect(url, registry_opt, custodian, key_file, signer_rpc, sender)
    registry = owner.registry
    report: dict[str, Any] = {
        "status": "ok",
        "action": "remove_custodian",
        "chain_id": owner.chain_id,
        "registry": registry,
        "custodian": custodian,
        "sender": owner.sender,
    }
    before = _contribution(url, registry, custodian, "latest")
    if before is None:
        report["outcome"] = "not_in_feed"
        return report
    progress(f"porv registry: removeFeedCustodian({custodian!r}) from {owner.sender}")
    receipt = reg.send_transaction(
        url,
        registry,
        "removeFeedCustodian",
        (custodian,),
        owner.key_or_account,
        sender_url=owner.signer_rpc,
    )
    block = int(receipt["blockNumber"])
    if _contribution(url, registry, custodian, block) is not None:
        raise IncompleteError(
            f"{redact_url(url)}: removeFeedCustodian succeeded in block {block}, but "
            f"{custodian!r} still has a place in the feed there"
        )
    report.update(
        outcome="removed",
        removed=before,
        tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
        block_number=block,
        latest_round_data=_round_json(url, registry, block=block),
    )
    return report
