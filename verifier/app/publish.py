"""Publishing custodian attestations to a ``ReserveAttestationRegistry`` (``porv publish``).

The exporter's last step. For an attestation file, or every custodian of a bundle, porv takes
the first secp256k1 signature, checks it locally (low s, recovers to the signer it names) and
against the registry (the signer is registered for the custodian, the registry computes porv's
EIP-712 digest, the stored sequence is not ahead), and only when every attestation passes sends
the transactions, one per attestation, signed locally with ``--key-file`` (the sender pays gas;
it need not be the custodian). Each receipt is awaited and the record is read back: its digest
and sequence must be the ones porv computed.

Re-running is safe: an attestation the registry already holds (same sequence, same digest) is
reported as already published and nothing is sent. A stored sequence above the attestation's, or
the same sequence with another digest, is a rollback (exit 1) and nothing is sent at all.

The registry's feed counts only unexpired attestations, so publish refuses (exit 1, nothing sent)
an attestation that has expired by the wall clock or by the chain's latest block, whichever is
later; one as of a time the chain has not reached yet is refused too (exit 3: retry once the
chain has passed it), and so is a sequence more than the registry's ``MAX_SEQUENCE_STEP`` above
the stored one (exit 1). Between the checks and the transaction another sender can post first
(front-running): if the registry then holds this very attestation it is reported as already
published (exit 0); if it holds a higher sequence or other content, that is a rollback (exit 1).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from verifier.errors import (
    AttestationMismatchError,
    ClaimFailedError,
    ExpiredError,
    FutureAsOfError,
    IncompleteError,
    InputError,
    Location,
    RollbackError,
    SchemaError,
    WrongChainError,
    redact_url,
)
from verifier.model.attestation import AttestationMessage, SignatureEntry
from verifier.model.validate import InvalidValueError, checksummed_address, parse_chain_id

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}\Z")


@dataclass(frozen=True)
class Item:
    """One attestation to post: its message and the secp256k1 signature chosen for it."""

    label: str
    message: AttestationMessage
    signature: SignatureEntry | None


@dataclass(frozen=True)
class Planned:
    """What publishing one attestation needs to do after the preflight checks."""

    item: Item
    digest: bytes
    action: str  # "send" | "already_published" | "skipped"
    reason: str = ""


def parse_registry(value: str) -> tuple[int | None, str]:
    """``ADDR`` or ``CHAIN_ID:ADDR`` -> (expected chain id or None, checksummed address).

    Args:
        value: The ``--registry`` option.

    Returns:
        The expected chain id (None when not given) and the address.

    Raises:
        InputError: Malformed value or an address that is not EIP-55 checksummed.
    """
    chain_text, sep, addr = value.rpartition(":")
    try:
        chain_id = parse_chain_id(chain_text) if sep else None
        if not _ADDRESS.match(addr):
            raise InvalidValueError("")
    except InvalidValueError:
        raise InputError(
            f"--registry expects ADDR or CHAIN_ID:ADDR, found {value!r}",
            location=Location(None, None, "--registry"),
        ) from None
    try:
        return chain_id, checksummed_address(addr)
    except InvalidValueError as exc:
        raise InputError(
            f"registry address {addr!r} is not EIP-55 checksummed",
            hint=exc.hint,
            location=Location(None, None, "--registry"),
        ) from None


def load_items(path: str) -> list[Item]:
    """The attestations in an attestation file or a bundle, with their first secp256k1 signature.

    Args:
        path: A ``porv.attestation/1`` file or a ``porv.bundle/1`` file.

    Returns:
        One item per attestation (per custodian for a bundle), in file order.

    Raises:
        SchemaError: The file is neither, or does not parse strictly.
    """
    from verifier.local.jsonio import load_json_file
    from verifier.model.attestation import FORMAT as ATT_FORMAT
    from verifier.model.attestation import AttestationFile
    from verifier.model.bundle import BUNDLE_FORMAT, parse_bundle

    doc = load_json_file(path)
    fmt = doc.get("format") if isinstance(doc, dict) else None
    if fmt == ATT_FORMAT:
        att = AttestationFile.from_json(doc, source=path)
        return [Item(att.message.custodian, att.message, _first_secp(att.signatures))]
    if fmt == BUNDLE_FORMAT:
        bundle = parse_bundle(doc, source=path)
        return [Item(c.id, c.message, _first_secp(c.signatures)) for c in bundle.custodians]
    raise SchemaError(
        f"expected a {ATT_FORMAT} or {BUNDLE_FORMAT} file, found format {fmt!r}",
        location=Location(path, None, "format"),
    )


def _first_secp(entries: tuple[SignatureEntry, ...]) -> SignatureEntry | None:
    # the registry checks one ECDSA signature: a contract wallet's (a Safe's) cannot be it
    return next((e for e in entries if e.scheme == "secp256k1" and len(e.signature) == 65), None)


def check_local_signature(item: Item, digest: bytes) -> None:
    """The chosen signature must be low-s and recover to the signer it names.

    Args:
        item: The attestation and its signature.
        digest: porv's EIP-712 digest of the message.

    Raises:
        SignatureInvalidError: It does not, or there is no signature (HighSSignatureError for a
            high-s twin).
    """
    from verifier.errors import SignatureInvalidError
    from verifier.signatures import secp256k1

    if item.signature is None:
        raise SignatureInvalidError(f"{item.label}: no secp256k1 signature")
    recovered = secp256k1.recover(digest, item.signature.signature)
    if recovered != item.signature.signer:
        raise SignatureInvalidError(
            f"{item.label}: the secp256k1 signature recovers to {recovered}, "
            f"not to its stated signer {item.signature.signer}",
            hint="re-sign the attestation (porv attest sign) or fix the signer field",
        )


def check_window(label: str, msg: AttestationMessage, *, now: int, chain_time: int) -> None:
    """The registry accepts (and its feed counts) an attestation only while
    ``asOf <= block time <= validUntil``: refuse one it would refuse, before sending.

    Args:
        label: Custodian id for messages.
        msg: The attestation.
        now: The caller's clock (unix seconds).
        chain_time: The timestamp of the chain's latest block.

    Raises:
        ExpiredError: ``validUntil`` is before ``now`` or ``chain_time`` (exit 1).
        FutureAsOfError: ``asOf`` is after ``chain_time`` (exit 3: the chain has not reached it).
    """
    from verifier.model.timeutil import format_rfc3339

    later = max(now, chain_time)
    if msg.valid_until < later:
        raise ExpiredError(
            f"{label}: the attestation expired at {format_rfc3339(msg.valid_until)} "
            f"(validUntil {msg.valid_until}), {later - msg.valid_until} s before now "
            f"({format_rfc3339(later)}, the later of this machine's clock and the chain's "
            "latest block): the registry refuses an expired attestation and its feed would not "
            "count it; nothing was sent",
            hint="sign a new attestation with a later --valid-until and a higher --sequence",
        )
    if msg.as_of > chain_time:
        raise FutureAsOfError(
            f"{label}: as_of {format_rfc3339(msg.as_of)} is {msg.as_of - chain_time} s after the "
            f"chain's latest block ({format_rfc3339(chain_time)}): the registry accepts an "
            "attestation only once its chain has reached as_of; nothing was sent",
            hint="publish again once the chain has passed as_of",
        )


def decide(label: str, sequence: int, digest: bytes, stored: Any) -> str:
    """Compare an attestation with the registry's record: send it, or it is already there.

    Args:
        label: Custodian id for messages.
        sequence: The attestation's sequence.
        digest: porv's EIP-712 digest of it.
        stored: The registry's record (``exists``, ``sequence``, ``digest``).

    Returns:
        ``"send"`` or ``"already_published"``.

    Raises:
        RollbackError: The registry holds a higher sequence, or the same sequence with other
            content.
        ClaimFailedError: The sequence is more than ``MAX_SEQUENCE_STEP`` above the stored one
            (or above 0 for a first record): the registry refuses such a jump.
    """
    from verifier.chain.registry import MAX_SEQUENCE_STEP

    base = stored.sequence if stored.exists else 0
    if sequence > base + MAX_SEQUENCE_STEP:
        raise ClaimFailedError(
            f"{label}: sequence {sequence} is {sequence - base} above the registry's "
            f"{'stored sequence ' + str(base) if stored.exists else 'start (no record yet)'}; "
            f"the registry accepts a step of at most {MAX_SEQUENCE_STEP} (2^32), so that no key "
            "can push a record to 2^64-1 and lock it",
            hint=f"sign the attestation with a sequence from {base + 1} to "
            f"{base + MAX_SEQUENCE_STEP}",
        )
    if not stored.exists or stored.sequence < sequence:
        return "send"
    if stored.sequence == sequence:
        if stored.digest == digest:
            return "already_published"
        raise RollbackError(
            f"{label}: the registry already holds sequence {sequence} with digest "
            f"0x{stored.digest.hex()}, not this attestation's 0x{digest.hex()} "
            "(same sequence, other content)",
            hint="a new attestation needs a higher sequence",
        )
    raise RollbackError(
        f"{label}: the registry holds sequence {stored.sequence}, above this attestation's "
        f"{sequence}: posting it would roll the record back",
        hint="publish the newest attestation, with a sequence above the stored one",
    )


# --- IO ---------------------------------------------------------------------------------------


def _chain_id(url: str) -> int:
    from verifier.devnet.node import rpc_request

    raw = rpc_request(url, "eth_chainId")
    try:
        return int(str(raw), 16)
    except ValueError:
        raise IncompleteError(f"{redact_url(url)}: eth_chainId answered {raw!r}") from None


def _call(what: str, url: str, fn: Any) -> Any:
    try:
        return fn.call()
    except Exception as exc:
        raise IncompleteError(f"{redact_url(url)}: {what} failed: {exc}") from exc


def _chain_time(url: str) -> int:
    from verifier.devnet.node import rpc_request

    head = rpc_request(url, "eth_getBlockByNumber", ["latest", False])
    try:
        return int(str(head["timestamp"]), 16)
    except (TypeError, KeyError, ValueError):
        raise IncompleteError(
            f"{redact_url(url)}: the latest block has no readable timestamp ({head!r:.200})"
        ) from None


def preflight(url: str, registry: str, items: list[Item], *, now: int) -> list[Planned]:
    """Check every attestation against its signature, its validity window and the registry
    before sending any.

    Args:
        url: The node's JSON-RPC URL.
        registry: The registry's address.
        items: The attestations.
        now: The caller's clock (unix seconds).

    Returns:
        The plan per attestation.

    Raises:
        SignatureInvalidError: A signature that does not recover to its signer, or high s.
        ExpiredError: An attestation has expired.
        FutureAsOfError: An attestation is as of a time the chain has not reached.
        AttestationMismatchError: The registry computes another digest than porv.
        ClaimFailedError: The signer is not registered for the custodian, or the sequence
            jumps too far.
        RollbackError: The registry holds a newer or conflicting record.
        IncompleteError: A call failed.
    """
    from verifier.devnet import deploy as dep
    from verifier.devnet import registry as reg
    from verifier.signatures.eip712 import attestation_digest

    contract = dep.contract(url, reg.NAME, registry)
    chain_time = _chain_time(url)
    plans: list[Planned] = []
    for item in items:
        msg = item.message
        digest = attestation_digest(msg)
        if item.signature is None:
            plans.append(Planned(item, digest, "skipped", "no secp256k1 signature"))
            continue
        check_local_signature(item, digest)
        check_window(item.label, msg, now=now, chain_time=chain_time)
        onchain = bytes(
            _call(
                "digestOf",
                url,
                contract.functions.digestOf(reg.attestation_tuple(msg.to_json())),
            )
        )
        if onchain != digest:
            raise AttestationMismatchError(
                f"{item.label}: the registry computes digest 0x{onchain.hex()}, porv "
                f"0x{digest.hex()}: not a porv ReserveAttestationRegistry (domain porv/1)"
            )
        signer = item.signature.signer
        if not _call("isSigner", url, contract.functions.isSigner(msg.custodian, signer)):
            raise ClaimFailedError(
                f"{item.label}: signer {signer} is not registered for custodian "
                f"{msg.custodian!r} in registry {registry}",
                hint="the registry owner must call registerSigner first",
            )
        stored = reg.latest(url, registry, msg.issuer, msg.token, msg.custodian)
        action = decide(item.label, msg.sequence, digest, stored)
        plans.append(Planned(item, digest, action))
    return plans


def send(url: str, registry: str, plan: Planned, key: bytes) -> dict[str, Any]:
    """Submit one attestation, wait for the receipt, and read the record back.

    Args:
        url: The node's JSON-RPC URL.
        registry: The registry's address.
        plan: A planned ``send``.
        key: The sender's secp256k1 private key.

    Returns:
        ``outcome`` (``"published"``, or ``"already_published"`` with ``front_run`` when another
        sender posted this very attestation first), and tx hash, block number and the signer of
        the record read back.

    Raises:
        InputError: The plan has no signature.
        RollbackError: Another sender posted a higher sequence, or other content under this
            sequence, after the checks (front-running).
        RegistryRejectedError: The registry refused it.
        AttestationMismatchError: The record read back is not this attestation.
        IncompleteError: The node failed.
    """
    from verifier.devnet import registry as reg

    msg = plan.item.message
    if plan.item.signature is None:
        raise InputError(f"{plan.item.label}: no secp256k1 signature to submit")
    try:
        receipt = _submit(url, registry, msg, plan.item.signature.signature, key)
    except reg.RegistryRejectedError as exc:
        if exc.reason not in ("SequenceNotIncreasing", "reverted"):
            raise
        return _front_run(url, registry, plan, exc)
    block = int(receipt["blockNumber"])
    stored = reg.latest(url, registry, msg.issuer, msg.token, msg.custodian, block=block)
    if not stored.exists or stored.digest != plan.digest or stored.sequence != msg.sequence:
        raise AttestationMismatchError(
            f"{plan.item.label}: after the transaction the registry holds sequence "
            f"{stored.sequence} digest 0x{stored.digest.hex()}, expected {msg.sequence} "
            f"0x{plan.digest.hex()}"
        )
    return {
        "outcome": "published",
        "tx_hash": "0x" + bytes(receipt["transactionHash"]).hex(),
        "block_number": block,
        "signer": stored.signer,
    }


def _front_run(url: str, registry: str, plan: Planned, refused: Exception) -> dict[str, Any]:
    """The registry refused the sequence after the checks had passed: another sender's
    transaction came first. This very attestation there: reported; anything else: a rollback."""
    from verifier.devnet import registry as reg

    msg = plan.item.message
    stored = reg.latest(url, registry, msg.issuer, msg.token, msg.custodian)
    try:
        action = decide(plan.item.label, msg.sequence, plan.digest, stored)
    except RollbackError as exc:
        raise RollbackError(
            f"{exc.message}; another transaction changed the record after porv's checks "
            "(front-running)",
            hint=exc.hint,
        ) from refused
    if action != "already_published":
        raise refused
    return {"outcome": "already_published", "front_run": True, "signer": stored.signer}


def _submit(url: str, registry: str, msg: AttestationMessage, signature: bytes, key: bytes) -> Any:
    """Sign ``submit(att, signature)`` locally, send it and wait for the receipt."""
    from verifier.devnet import registry as reg

    return reg.submit_attestation(url, registry, msg.to_json(), signature, key)


def _round_json(url: str, registry: str, *, block: Any = "latest") -> dict[str, Any] | None:
    from verifier.devnet import registry as reg

    try:
        r = reg.latest_round_data(url, registry, block=block)
    except reg.RegistryRejectedError:
        return None  # NoDataPresent: nothing for the registry's own issuer/token yet
    return {
        "round_id": str(r.round_id),
        "answer": str(r.answer),
        "started_at": r.started_at,
        "updated_at": r.updated_at,
        "answered_in_round": str(r.answered_in_round),
    }


def run_publish(
    source: str,
    registry_opt: str,
    url: str,
    key_file: str,
    *,
    now: int | None = None,
    progress: Callable[[str], None] = lambda _line: None,
) -> dict[str, Any]:
    """Check every attestation of ``source``, then post the ones the registry does not hold.

    Args:
        source: An attestation file or a bundle.
        registry_opt: ``[CHAIN_ID:]ADDR`` of the ``ReserveAttestationRegistry``.
        url: The JSON-RPC endpoint (http/https).
        key_file: secp256k1 key file of the transaction sender (pays gas).
        now: The caller's clock (unix seconds) for expiry; this machine's clock by default.
        progress: Called with one line before each transaction is sent.

    Returns:
        The report: ``status``, ``chain_id``, ``registry``, ``sender``, ``attestations``
        (each with its ``outcome``) and ``latest_round_data``.

    Raises:
        InputError: Bad URL, registry option, key file or source (exit 2).
        ClaimFailedError: A rollback, an expired or rejected attestation (exit 1); nothing was
            sent unless another sender front-ran a transaction (then the earlier ones were).
        IncompleteError: The node failed or serves another chain, or an attestation is as of a
            time the chain has not reached (exit 3).
    """
    import time

    from verifier.local.keys import load_key_file
    from verifier.signatures import secp256k1

    if not url.startswith(("http://", "https://")):
        raise InputError(
            f"--rpc expects an http(s) URL, found {url!r}", location=Location(None, None, "--rpc")
        )
    expected_chain, registry = parse_registry(registry_opt)
    key = load_key_file(key_file, "secp256k1")
    items = load_items(source)
    if all(i.signature is None for i in items):
        raise InputError(
            f"{source}: no attestation carries a direct 65-byte secp256k1 signature (the "
            "registry checks one key's ECDSA signature; a contract wallet's, such as a Safe's, "
            "cannot be posted there)",
            location=Location(source, None, "signatures"),
        )

    chain_id = _chain_id(url)
    if expected_chain is not None and chain_id != expected_chain:
        raise WrongChainError(f"{url} serves chain id {chain_id}, expected {expected_chain}")
    from verifier.devnet.node import rpc_request

    if str(rpc_request(url, "eth_getCode", [registry, "latest"])) in ("0x", "", "None"):
        raise WrongChainError(
            f"no contract at {registry} on chain {chain_id} ({url})",
            hint="check the registry address and that --rpc serves the registry's chain",
        )
    plans = preflight(url, registry, items, now=int(time.time()) if now is None else now)

    report: dict[str, Any] = {
        "status": "ok",
        "chain_id": chain_id,
        "registry": registry,
        "sender": secp256k1.address_of(key),
        "attestations": [],
    }
    for plan in plans:
        msg = plan.item.message
        entry: dict[str, Any] = {
            "custodian": plan.item.label,
            "sequence": msg.sequence,
            "digest": "0x" + plan.digest.hex(),
            "outcome": plan.action,
        }
        if plan.action == "send":
            progress(f"porv publish: {plan.item.label}: sending sequence {msg.sequence}")
            entry.update(send(url, registry, plan, key))
        elif plan.action == "skipped":
            entry["reason"] = plan.reason
        report["attestations"].append(entry)
    report["latest_round_data"] = _round_json(url, registry)
    return report
