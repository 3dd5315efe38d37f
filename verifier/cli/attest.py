"""``porv attest sign|verify``: custodian signing and the standalone attestation check."""

from __future__ import annotations

import re
import time

import click

from verifier.cli.common import (
    dump_json,
    emit,
    format_option,
    handle_errors,
    note,
    output_option,
)
from verifier.errors import InputError, Location
from verifier.model.numbers import UINT64_MAX, format_major
from verifier.model.timeutil import TIME_OPTION_HELP, format_rfc3339, parse_time_option

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_BLS_PUBKEY = re.compile(r"0x[0-9a-fA-F]{96}")


@click.group()
def attest() -> None:
    """Sign custodian attestations (EIP-712) and check them against a holdings tree."""


@attest.command("sign")
@click.option("--tree", "tree_path", required=True, help="Holdings tree (standard-v1 dump).")
@click.option("--issuer", required=True, help="Issuer name, as the policy pins it.")
@click.option("--token", required=True, help="Token symbol.")
@click.option("--custodian", required=True, help="Custodian id.")
@click.option("--as-of", "as_of", required=True, help=f"As-of time: {TIME_OPTION_HELP}.")
@click.option("--valid-until", "valid_until", required=True, help=f"Expiry: {TIME_OPTION_HELP}.")
@click.option(
    "--sequence",
    required=True,
    type=click.IntRange(0, UINT64_MAX),
    help="Attestation sequence number (must grow with every new attestation).",
)
@click.option(
    "--key-file",
    "key_files",
    multiple=True,
    help="Secret key file (one line of 0x-hex); repeat for several signers.",
)
@click.option(
    "--signer-rpc",
    "signer_rpcs",
    multiple=True,
    metavar="URL",
    help="A remote signer's JSON-RPC URL (eth_signTypedData_v4: Web3Signer, Frame, an unlocked "
    "node account); pairs with the --signer-address in the same position. Repeat.",
)
@click.option(
    "--signer-address",
    "signer_addresses",
    multiple=True,
    metavar="ADDR",
    help="The checksummed address the --signer-rpc in the same position signs with; its "
    "answer must recover to it. Repeat.",
)
@click.option(
    "--scheme",
    type=click.Choice(["secp256k1", "bls"]),
    default="secp256k1",
    show_default=True,
    help="secp256k1: one entry per key. bls: one aggregate naming every signer's public key.",
)
@click.option(
    "--safe",
    "safe",
    default=None,
    metavar="ADDR",
    help="Sign as this Safe (EIP-1271): every --key-file and --signer-address is an owner and "
    "signs the Safe's SafeMessage of the digest; one entry names the Safe.",
)
@click.option(
    "--chain-id",
    "chain_id",
    type=click.IntRange(min=1),
    default=None,
    help="The Safe's chain id (required with --safe: it is part of what the owners sign).",
)
@click.option(
    "--rpc",
    "rpc",
    default=None,
    metavar="URL",
    help="With --safe: check on this endpoint of the Safe's chain that the Safe accepts the "
    "signature (isValidSignature at the latest block) before writing.",
)
@output_option
@handle_errors
def sign_command(
    tree_path: str,
    issuer: str,
    token: str,
    custodian: str,
    as_of: str,
    valid_until: str,
    sequence: int,
    key_files: tuple[str, ...],
    signer_rpcs: tuple[str, ...],
    signer_addresses: tuple[str, ...],
    scheme: str,
    safe: str | None,
    chain_id: int | None,
    rpc: str | None,
    output: str | None,
) -> None:
    """Build the attestation of a holdings tree and sign it.

    The message takes the tree's root, leaf count and per-currency totals; the signatures are
    EIP-712 (domain {name: porv, version: 1}) over its digest. Several secp256k1 key files
    give several entries; several BLS key files give one aggregate with its signer list.
    The file (porv.attestation/1) goes to --output, or stdout.

    A key that lives in a wallet or key manager signs through --signer-rpc URL
    --signer-address ADDR (secp256k1; may be mixed with --key-file): porv sends the typed data
    with eth_signTypedData_v4 and writes nothing unless the answer is a low-s signature that
    recovers to ADDR (exit 3 otherwise, naming the endpoint and the address).

    A Safe custodian signs with --safe ADDR --chain-id N: each key file and remote signer is an
    owner and signs the Safe's SafeMessage hash of the digest (a remote signer gets the
    SafeMessage typed data, domain {chainId, verifyingContract: ADDR}); the owners' 65-byte
    signatures are sorted by owner address and concatenated into one entry whose signer is the
    Safe. With --rpc URL the Safe must accept it there first (exit 1 if not). Nothing is written
    on any failure.
    """
    from verifier.app.attest import sign_attestation

    remote = _remote_signers(signer_rpcs, signer_addresses)
    safe_address = _safe_option(safe, chain_id, rpc)

    signed = sign_attestation(
        tree_path,
        issuer=issuer,
        token=token,
        custodian=custodian,
        as_of=parse_time_option(as_of, option="--as-of"),
        valid_until=parse_time_option(valid_until, option="--valid-until"),
        sequence=sequence,
        key_files=key_files,
        scheme=scheme,
        remote=remote,
        safe=safe_address,
        chain_id=chain_id,
        rpc=rpc,
    )
    document, digest, message = signed.document, signed.digest, signed.document.message
    emit(dump_json(document.to_json()), output)
    how = (
        f"Safe {safe_address} on chain {chain_id}, {signed.key_count} owner(s)"
        if safe_address
        else f"{scheme}, {signed.key_count} key(s)"
    )
    note(
        f"signed attestation 0x{digest.hex()} ({how}) of tree "
        f"0x{message.holdings_root.hex()} ({message.leaf_count} holdings)"
        + (f" -> {output}" if output else "")
    )


def _safe_option(safe: str | None, chain_id: int | None, rpc: str | None) -> str | None:
    """``--safe`` checksummed; ``--chain-id`` and ``--rpc`` only with it."""
    if safe is None:
        for value, name in ((chain_id, "--chain-id"), (rpc, "--rpc")):
            if value is not None:
                raise InputError(f"{name} goes with --safe", location=Location(field=name))
        return None
    if chain_id is None:
        raise InputError(
            "--safe needs --chain-id: the Safe's chain id is part of what its owners sign",
            location=Location(field="--chain-id"),
        )
    if rpc is not None and not rpc.startswith(("http://", "https://")):
        raise InputError(
            f"--rpc expects an http(s) URL, found {rpc!r}", location=Location(field="--rpc")
        )
    kind, parsed = _parse_signer(safe, field="--safe")
    if kind != "secp256k1" or not isinstance(parsed, str):
        raise InputError(f"--safe {safe!r} is not a 0x address", location=Location(field="--safe"))
    return parsed


def _remote_signers(
    urls: tuple[str, ...], addresses: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    """``--signer-rpc`` / ``--signer-address`` pairs, by position, addresses checksummed."""
    if len(urls) != len(addresses):
        raise InputError(
            f"{len(urls)} --signer-rpc and {len(addresses)} --signer-address: give them in "
            "pairs, one address per signer URL",
            location=Location(field="--signer-address"),
        )
    pairs: list[tuple[str, str]] = []
    for url, value in zip(urls, addresses, strict=True):
        if not url.startswith(("http://", "https://")):
            raise InputError(
                f"--signer-rpc expects an http(s) URL, found {url!r}",
                location=Location(field="--signer-rpc"),
            )
        kind, parsed = _parse_signer(value, field="--signer-address")
        if kind != "secp256k1" or not isinstance(parsed, str):
            raise InputError(
                f"--signer-address {value!r} is not a 0x address",
                location=Location(field="--signer-address"),
            )
        pairs.append((url, parsed))
    return tuple(pairs)


def _parse_signer(value: str, field: str = "--signer") -> tuple[str, str | bytes]:
    from verifier.model.validate import InvalidValueError, checksummed_address

    where = Location(field=field)
    if _ADDRESS.fullmatch(value):
        try:
            return "secp256k1", checksummed_address(value)
        except InvalidValueError as exc:
            raise InputError(
                f"signer address {value} is not EIP-55 checksummed",
                hint=exc.hint,
                location=where,
            ) from None
    if _BLS_PUBKEY.fullmatch(value):
        return "bls", bytes.fromhex(value[2:])
    raise InputError(
        f"{field} {value!r} is neither a 0x address (20 bytes) nor a BLS public key (48 bytes)",
        location=where,
    )


@attest.command("verify")
@click.argument("attestation_path", metavar="ATTESTATION")
@click.option("--tree", "tree_path", required=True, help="Holdings tree (standard-v1 dump).")
@click.option(
    "--signer",
    "signer_values",
    multiple=True,
    required=True,
    help="An expected signer: checksummed address or 0x BLS public key (48 bytes). Repeat.",
)
@click.option(
    "--threshold",
    type=click.IntRange(min=1),
    default=None,
    help="How many distinct --signer keys must have signed. Default: every --signer named.",
)
@format_option("text", "json")
@handle_errors
def verify_command(
    attestation_path: str,
    tree_path: str,
    signer_values: tuple[str, ...],
    threshold: int | None,
    fmt: str,
) -> None:
    """Check an attestation file's signatures and its tree.

    Exit 0 when at least --threshold of the --signer keys (default: all of them) signed
    exactly this message and the tree's root, leaf count and per-currency totals are the
    signed ones; exit 1 otherwise (another signer, a changed message, a high-s twin, a BLS
    aggregate missing a signer, a tree that is not the signed one); exit 2 for malformed input.

    BLS keys named here are trusted as given: pin keys whose proof of possession you checked
    (a policy file checks them when it loads).
    """
    from verifier.app.attest import check_attestation

    addresses: list[str] = []
    bls_keys: list[bytes] = []
    for value in signer_values:
        kind, parsed = _parse_signer(value)
        if kind == "secp256k1":
            assert isinstance(parsed, str)
            if parsed in addresses:
                raise InputError(f"--signer {parsed} is given twice")
            addresses.append(parsed)
        else:
            assert isinstance(parsed, bytes)
            if parsed in bls_keys:
                raise InputError(f"--signer 0x{parsed.hex()} is given twice")
            bls_keys.append(parsed)
    wanted = len(signer_values) if threshold is None else threshold
    if wanted > len(signer_values):
        raise InputError(
            f"--threshold {wanted} is more than the {len(signer_values)} --signer key(s) given",
            location=Location(field="--threshold"),
        )
    checked = check_attestation(
        attestation_path, tree_path, signers=addresses, bls_keys=bls_keys, threshold=wanted
    )
    message, digest, result = checked.message, checked.digest, checked.result
    for problem in result.problems:
        note(f"porv: warning: {problem}", style="yellow")
    now = int(time.time())
    if message.valid_until < now:
        note(
            f"porv: warning: attestation expired at {format_rfc3339(message.valid_until)}",
            style="yellow",
        )
    summary = {
        "status": "ok",
        "attestation": attestation_path,
        "digest": "0x" + digest.hex(),
        "issuer": message.issuer,
        "token": message.token,
        "custodian": message.custodian,
        "holdingsRoot": "0x" + message.holdings_root.hex(),
        "leafCount": str(message.leaf_count),
        "asOf": format_rfc3339(message.as_of),
        "validUntil": format_rfc3339(message.valid_until),
        "sequence": message.sequence,
        "threshold": result.threshold,
        "signed": sorted(result.signed),
        "unsigned": sorted(result.unsigned),
        "problems": list(result.problems),
    }
    if fmt == "json":
        emit(dump_json(summary))
        return
    lines = [
        f"ok: attestation {summary['digest']}",
        f"  issuer {message.issuer!r}, token {message.token!r}, custodian {message.custodian!r}",
        f"  as of {summary['asOf']}, valid until {summary['validUntil']}, "
        f"sequence {message.sequence}",
        f"  tree root {summary['holdingsRoot']} matches ({message.leaf_count} holdings; totals "
        + ", ".join(f"{t.currency} {format_major(t.amount, t.decimals)}" for t in message.totals)
        + ")",
        f"  signed by {len(result.signed)} of {len(signer_values)} expected key(s), "
        f"threshold {result.threshold}: " + ", ".join(sorted(result.signed)),
    ]
    emit("\n".join(lines))
