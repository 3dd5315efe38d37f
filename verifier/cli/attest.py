"""``porv attest sign|verify``: custodian signing and the standalone attestation check."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import click

from verifier.cli.common import (
    dump_json,
    emit,
    format_option,
    handle_errors,
    note,
    output_option,
)
from verifier.errors import InputError, Location, ThresholdNotMetError, TreeMismatchError
from verifier.local.loaders import load_attestation_file
from verifier.model.attestation import UINT64_MAX, AttestationFile
from verifier.model.numbers import format_major
from verifier.model.timeutil import TIME_OPTION_HELP, format_rfc3339, parse_time_option

if TYPE_CHECKING:
    from verifier.merkle.tree import StandardMerkleTree

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_BLS_PUBKEY = re.compile(r"0x[0-9a-fA-F]{96}")


def _load_tree(path: str) -> StandardMerkleTree:
    from verifier.local.jsonio import load_json_file
    from verifier.merkle.tree import StandardMerkleTree

    return StandardMerkleTree.load(load_json_file(path), source=path)


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
    required=True,
    help="Secret key file (one line of 0x-hex); repeat for several signers.",
)
@click.option(
    "--scheme",
    type=click.Choice(["secp256k1", "bls"]),
    default="secp256k1",
    show_default=True,
    help="secp256k1: one entry per key. bls: one aggregate naming every signer's public key.",
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
    scheme: str,
    output: str | None,
) -> None:
    """Build the attestation of a holdings tree and sign it.

    The message takes the tree's root, leaf count and per-currency totals; the signatures are
    EIP-712 (domain {name: porv, version: 1}) over its digest. Several secp256k1 key files
    give several entries; several BLS key files give one aggregate with its signer list.
    The file (porv.attestation/1) goes to --output, or stdout.
    """
    from verifier.local.keys import load_key_file
    from verifier.signatures import bls, count_signatures
    from verifier.signatures.eip712 import attestation_digest
    from verifier.signatures.signing import message_for_tree, sign_entries

    as_of_s = parse_time_option(as_of, option="--as-of")
    valid_until_s = parse_time_option(valid_until, option="--valid-until")
    if valid_until_s <= as_of_s:
        raise InputError(
            f"--valid-until ({format_rfc3339(valid_until_s)}) must be after --as-of "
            f"({format_rfc3339(as_of_s)})",
            location=Location(field="--valid-until"),
        )
    keys: list[bytes] = []
    for path in key_files:
        key = load_key_file(path, scheme)
        if key in keys:
            raise InputError(
                "two --key-file options hold the same key", location=Location(file=path)
            )
        keys.append(key)
    tree = _load_tree(tree_path)
    message = message_for_tree(
        tree,
        issuer=issuer,
        token=token,
        custodian=custodian,
        as_of=as_of_s,
        valid_until=valid_until_s,
        sequence=sequence,
    )
    digest = attestation_digest(message)
    entries = sign_entries(message, keys, scheme)
    if scheme == "secp256k1":
        check = count_signatures(
            digest, entries, signers=[e.signer or "" for e in entries], threshold=len(entries)
        )
    else:
        pubkeys = [bls.secret_to_pubkey(k) for k in keys]
        check = count_signatures(digest, entries, bls_keys=pubkeys, threshold=len(pubkeys))
    if not check.ok:  # pragma: no cover - a signing backend bug, never expected
        raise ThresholdNotMetError(f"freshly made signatures do not verify: {check.describe()}")
    document = AttestationFile(message=message, signatures=tuple(entries))
    emit(dump_json(document.to_json()), output)
    note(
        f"signed attestation 0x{digest.hex()} ({scheme}, {len(keys)} key(s)) of tree "
        f"0x{message.holdings_root.hex()} ({message.leaf_count} holdings)"
        + (f" -> {output}" if output else "")
    )


def _parse_signer(value: str) -> tuple[str, str | bytes]:
    from verifier.model.validate import InvalidValueError, checksummed_address

    where = Location(field="--signer")
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
        f"--signer {value!r} is neither a 0x address (20 bytes) nor a BLS public key (48 bytes)",
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
    from verifier.signatures import check_attestation_against_tree, count_signatures
    from verifier.signatures.eip712 import attestation_digest

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
    document = load_attestation_file(attestation_path)
    tree = _load_tree(tree_path)
    message = document.message
    digest = attestation_digest(message)
    result = count_signatures(
        digest, document.signatures, signers=addresses, bls_keys=bls_keys, threshold=wanted
    )
    mismatch: TreeMismatchError | None = None
    try:
        check_attestation_against_tree(message, tree)
    except TreeMismatchError as exc:
        mismatch = exc
    if mismatch is not None:
        raise TreeMismatchError(
            f"{mismatch.message}; signatures: {result.describe()}", hint=mismatch.hint
        )
    if not result.ok:
        raise ThresholdNotMetError(
            f"signature threshold not met: {result.describe()}",
            hint="the attestation must be signed by the expected keys over exactly this message",
        )
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
