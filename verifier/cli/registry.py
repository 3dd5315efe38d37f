"""``porv registry register-signer|revoke-signer|remove-custodian``: the registry owner's
signer list and feed places.

Options and rendering only; the checks and the transaction are
:func:`verifier.app.registry_admin.change_signer` and
:func:`verifier.app.registry_admin.remove_custodian`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from verifier.cli.common import dump_json, emit, format_option, handle_errors, note

F = TypeVar("F", bound=Callable[..., Any])


def _options(func: F, *, signer: bool = True) -> F:
    signer_option = click.option(
        "--signer", required=True, metavar="ADDR", help="The signer's checksummed address."
    )
    for option in reversed(
        [
            click.option("--rpc", "url", required=True, metavar="URL", help="Chain JSON-RPC URL."),
            click.option(
                "--registry",
                "registry_opt",
                required=True,
                metavar="[CHAIN_ID:]ADDR",
                help="The ReserveAttestationRegistry; with CHAIN_ID the endpoint must serve it.",
            ),
            click.option("--custodian", required=True, help="Custodian id, as in attestations."),
            *([signer_option] if signer else []),
            click.option(
                "--key",
                "key_file",
                type=click.Path(dir_okay=False),
                default=None,
                help="The registry owner's secp256k1 key file (signs the transaction locally).",
            ),
            click.option(
                "--signer-rpc",
                default=None,
                metavar="URL",
                help="Instead of --key: where the owner's account is unlocked "
                "(eth_sendTransaction; a node's account, or a signer forwarding to the chain).",
            ),
            click.option(
                "--from",
                "sender",
                default=None,
                metavar="ADDR",
                help="With --signer-rpc: the owner's address there.",
            ),
        ]
    ):
        func = option(func)
    return func


def _run(action: str, fmt: str, **kwargs: Any) -> None:
    from verifier.app.registry_admin import change_signer

    report = change_signer(action, progress=note, **kwargs)
    if fmt == "json":
        emit(dump_json(report))
        return
    head = (
        f"registry {report['registry']} on chain {report['chain_id']}: custodian "
        f"{report['custodian']!r}, signer {report['signer']}: "
    )
    outcome = report["outcome"]
    if outcome in ("registered", "revoked"):
        emit(head + f"{outcome} in tx {report['tx_hash']} (block {report['block_number']})")
    elif outcome == "already_registered":
        emit(head + "already registered, nothing sent")
    else:
        emit(head + "not registered, nothing sent")


@click.group()
def registry() -> None:
    """Administer an existing ReserveAttestationRegistry (owner only)."""


@registry.command("register-signer")
@_options
@format_option("text", "json")
@handle_errors
def register_signer(fmt: str, **kwargs: Any) -> None:
    """Trust --signer for --custodian on the registry (registerSigner; owner only).

    The sender is the owner: --key FILE, or --signer-rpc URL --from ADDR. Nothing is sent if
    the signer is registered already. Exit 0 registered or already there, 1 the registry
    reverted (the error is named, e.g. OwnableUnauthorizedAccount), 2 bad input, 3 the node or
    signer failed or serves another chain.
    """
    _run("register", fmt, **kwargs)


@registry.command("revoke-signer")
@_options
@format_option("text", "json")
@handle_errors
def revoke_signer(fmt: str, **kwargs: Any) -> None:
    """Stop trusting --signer for --custodian on the registry (revokeSigner; owner only).

    Attestations the registry already accepted stay; new ones by this signer are refused.
    Nothing is sent if the signer is not registered. Exit codes as for register-signer.
    """
    _run("revoke", fmt, **kwargs)


def _custodian_options(func: F) -> F:
    return _options(func, signer=False)


@registry.command("remove-custodian")
@_custodian_options
@format_option("text", "json")
@handle_errors
def remove_custodian(fmt: str, **kwargs: Any) -> None:
    """Take --custodian out of the registry's feed (removeFeedCustodian; owner only).

    The feed stops counting it and frees its place; its signers stay registered and its
    stored records stay, and its next accepted attestation takes a place again. Nothing is
    sent if it has no place. Exit 0 removed or not in the feed, 1 the registry reverted (the
    error is named, e.g. OwnableUnauthorizedAccount), 2 bad input, 3 the node or signer failed
    or serves another chain.
    """
    from verifier.app.registry_admin import remove_custodian as run

    report = run(progress=note, **kwargs)
    if fmt == "json":
        emit(dump_json(report))
        return
    head = (
        f"registry {report['registry']} on chain {report['chain_id']}: custodian "
        f"{report['custodian']!r}: "
    )
    if report["outcome"] == "not_in_feed":
        emit(head + "not in the feed, nothing sent")
        return
    removed = report["removed"]
    counted = "counted" if removed["counted"] else "not counted"
    emit(
        head + f"removed from the feed in tx {report['tx_hash']} (block {report['block_number']}); "
        f"its contribution was {removed['amount']} base units as of {removed['as_of']} "
        f"(unix s, {counted}), signed by {removed['signer']}"
    )
    rnd = report["latest_round_data"]
    if rnd is not None:
        emit(f"latestRoundData after: answer {rnd['answer']}, updatedAt {rnd['updated_at']}")
