"""Attestations read from the policy's ``ReserveAttestationRegistry`` (``verify --from-registry``).

Only the policy adds trust (DESIGN §1): registry evidence counts only from the registry the
policy pins (``[registry] chain_id, address``), only if the code deployed there is porv's
``ReserveAttestationRegistry`` (compared byte for byte with the compiled artifact, immutables
masked) on every endpoint of the chain, and only as a signature porv recovers itself: the
registry stores the signature it accepted, porv recovers the key from it over the digest porv
computes for the bundle's attestation, and that key counts (once, with the same key's direct
signature) only if the policy pins it. The signer address the registry stores is never
believed: it only has to match the recovered one. A registry with no code or other code is a
failed claim of that custodian's ``registry`` step (kind ``registry_untrusted``).

Every read (code, records, signatures and the feed's latest round) goes to every endpoint the
policy lists for the registry's chain, in one batch each, at one block: the highest block the
chain's ``[finality]`` allows on any endpoint, which every endpoint must serve (a lagging one
is an error, never a reason to read lower, where it could hide a newer record; not the block
pinned for supply: an attestation as of a time is published after that
time), recorded in the result so that ``recheck --rpc`` reads again at that block. Endpoints
that disagree on anything: exit 3.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from eth_abi.abi import decode, encode
from eth_utils.address import to_checksum_address

from verifier.checks.evidence import RegistryEvidence
from verifier.errors import InputError, Location, PorvError, RpcError
from verifier.model.keccak import keccak256
from verifier.model.policy import Policy
from verifier.model.validate import (
    InvalidValueError,
    checksummed_address,
    parse_chain_id,
)

if TYPE_CHECKING:
    from verifier.model.policy import ContractRef

#: The registry contract porv deploys and recognises by its runtime code.
NAME = "ReserveAttestationRegistry"

#: The registry's ``MAX_SEQUENCE_STEP``: a record's sequence moves up by at most this in one
#: submission (a first record: at most this), so that no key can lock a record at 2^64-1.
MAX_SEQUENCE_STEP = 2**32

_LATEST_TYPES = ["(bool,uint64,uint64,uint64,bytes32,uint256,bytes32,address,uint64)"]
_SEL_LATEST = keccak256(b"latest(string,string,string)")[:4]
_SEL_SIGNATURE_OF = keccak256(b"signatureOf(string,string,string)")[:4]
_SEL_DECIMALS = bytes.fromhex("313ce567")
_SEL_LATEST_ROUND_DATA = bytes.fromhex("feaf968c")


def parse_registry_option(value: str, pinned: ContractRef | None) -> tuple[int, str]:
    """``ADDR`` or ``CHAIN_ID:ADDR`` -> (chain id, checksummed address): the policy's pin.

    The option names the registry the policy pins (``[registry]``); it cannot name another.

    Args:
        value: the ``--from-registry`` value.
        pinned: the policy's ``[registry]`` (a ``ContractRef``), or None.

    Raises:
        InputError: the policy pins no registry, the value is malformed, or it names another
            registry than the pinned one (exit 2).
    """
    where = Location(None, None, "--from-registry")
    if pinned is None:
        raise InputError(
            "--from-registry: the policy has no [registry] table; only the registry the "
            "policy pins can add evidence",
            hint='add to the policy: [registry] chain_id = N, address = "0x<checksummed>"',
            location=where,
        )
    chain_text, sep, addr = value.rpartition(":")
    try:
        chain_id = parse_chain_id(chain_text) if sep else pinned.chain_id
    except InvalidValueError:
        raise InputError(
            f"--from-registry expects ADDR or CHAIN_ID:ADDR, found {value!r}", location=where
        ) from None
    try:
        checksummed_address(addr)
    except InvalidValueError as exc:
        raise InputError(
            f"--from-registry: {addr!r} is not an EIP-55 checksummed address",
            hint=exc.hint,
            location=where,
        ) from None
    if (chain_id, addr) != (pinned.chain_id, pinned.address):
        raise InputError(
            f"--from-registry names registry {addr} on chain {chain_id}, but the policy pins "
            f"{pinned.address} on chain {pinned.chain_id} ([registry])",
            hint="only the registry the policy pins can add evidence",
            location=where,
        )
    return chain_id, addr


def read_pinned_registry(
    policy: Policy,
    chain_id: int,
    address: str,
    custodians: Sequence[str],
    *,
    now: int,
    block: int | None = None,
    timeout: float = 10.0,
) -> tuple[dict[str, RegistryEvidence], dict[str, Any]]:
    """:func:`read_registry` for the policy's issuer, token and endpoints, with the chain's
    finality from the policy (verify reads at the final block; recheck at ``block``)."""
    return read_registry(
        policy.rpc,
        chain_id,
        address,
        issuer=policy.issuer,
        token=policy.token,
        custodians=custodians,
        now=now,
        block=block,
        finality=policy.finality_for(chain_id),
        timeout=timeout,
    )


def read_registry(
    rpc: Mapping[int, Sequence[str]],
    chain_id: int,
    address: str,
    *,
    issuer: str,
    token: str,
    custodians: Sequence[str],
    now: int,
    block: int | None = None,
    finality: str | int = "finalized",
    timeout: float = 10.0,
) -> tuple[dict[str, RegistryEvidence], dict[str, Any]]:
    """Read the registry's code, each custodian's latest record and stored signature, and the
    feed's latest round, on every endpoint of its chain at one block.

    Args:
        block: the block to read at (recheck: the one the result recorded); by default the
            highest block ``finality`` allows, which every endpoint must allow.
        finality: the policy's finality for the registry's chain.

    Returns:
        Evidence per custodian (``untrusted`` set for all when the code is not porv's
        registry), and the JSON the result records under ``registry``.

    Raises:
        InputError: no endpoint for the registry's chain.
        EndpointsDisagreeError: endpoints differ on the block or any answer (exit 3).
        NotFinalError: an endpoint is behind the block the finality allows (exit 3).
        IncompleteError: endpoints failed, or porv's registry answered malformed data.
    """
    from verifier.chain.contracts import runtime_code_matches
    from verifier.chain.feed import feed_reading
    from verifier.chain.rpc import Call, eth_call, read_all_endpoints

    urls = rpc.get(chain_id)
    if not urls:
        raise InputError(f"no RPC endpoint for the registry's chain {chain_id}")

    calls = [Call("eth_getCode", (address,))]
    for cid in custodians:
        args = encode(["string", "string", "string"], [issuer, token, cid])
        calls += [
            eth_call(address, _SEL_LATEST + args),
            eth_call(address, _SEL_SIGNATURE_OF + args),
        ]
    calls += [eth_call(address, _SEL_DECIMALS), eth_call(address, _SEL_LATEST_ROUND_DATA)]
    header, answers = read_all_endpoints(
        chain_id, urls, calls, block=block, finality=finality, timeout=timeout
    )
    where = f"chain {chain_id} registry {address}"
    info: dict[str, Any] = {
        "chain_id": chain_id,
        "address": address,
        "block_number": header.number,
        "block_hash": header.hash,
    }
    code = answers[0] or b""
    untrusted = ""
    if not code:
        untrusted = f"{where} has no contract code at block {header.number}"
    elif not runtime_code_matches(NAME, code):
        untrusted = (
            f"{where}: the code at block {header.number} (keccak 0x{keccak256(code).hex()}, "
            f"{len(code)} bytes) is not porv's {NAME}"
        )
    if untrusted:
        info["code"] = "none" if not code else "other"
        evidence = {
            cid: RegistryEvidence(cid, False, 0, b"\0" * 32, "", b"", untrusted)
            for cid in custodians
        }
        info["records"] = [e.to_json() for e in evidence.values()]
        return evidence, info
    info["code"] = NAME
    evidence = {}
    for i, cid in enumerate(custodians):
        evidence[cid] = _record(where, cid, answers[1 + 2 * i], answers[2 + 2 * i])
    info["records"] = [e.to_json() for e in evidence.values()]
    try:
        info["latest_round"] = feed_reading(
            where,
            answers[-2],
            answers[-1],
            now=now,
            block_number=header.number,
            block_hash=header.hash,
            malformed=lambda message: RpcError(message),
        ).to_json()
    except PorvError as exc:  # reported beside the result; never decides it
        info["latest_round"] = None
        info["latest_round_error"] = exc.message
    return evidence, info


def _record(
    where: str, cid: str, latest: bytes | None, signature: bytes | None
) -> RegistryEvidence:
    """Decode ``latest(...)`` and ``signatureOf(...)`` answers of porv's registry.

    Raises:
        RpcError: an answer that porv's registry cannot give (every endpoint agreed on it).
    """
    try:
        ((exists, seq, _as_of, _valid, _root, _count, digest, signer, _at),) = decode(
            _LATEST_TYPES, latest or b"", strict=True
        )
        (stored,) = decode(["bytes"], signature or b"", strict=True)
    except Exception:
        raise RpcError(
            f"{where}: the record of custodian {cid!r} does not decode",
            hint="the endpoints agree on an answer porv's registry cannot give",
        ) from None
    return RegistryEvidence(
        cid,
        bool(exists),
        int(seq),
        bytes(digest),
        str(to_checksum_address(signer)),
        bytes(stored),
    )
