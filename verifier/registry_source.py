"""Attestations read from an on-chain ``ReserveAttestationRegistry`` (``verify --from-registry``).

The registry verified each custodian's EIP-712 signature on-chain and stores, per (issuer,
token, custodian), the digest it accepted and the signer it recovered. porv does not trust the
registry's owner (who chose which signers the registry accepts): a registry record counts only
as one signature by the recovered key, and only if the *policy* pins that key for the
custodian; its digest must be the digest of the attestation in the bundle, and its sequence must
not be newer than the bundle's (a newer one means the bundle is stale). Every endpoint the policy
lists for the registry's chain is asked and they must agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from verifier.errors import InputError, PorvError

_LATEST_TYPES = ["(bool,uint64,uint64,uint64,bytes32,uint256,bytes32,address,uint64)"]


@dataclass(frozen=True)
class RegistryEvidence:
    """What the registry holds for one custodian."""

    custodian: str
    exists: bool
    sequence: int
    digest: bytes
    signer: str

    def to_json(self) -> dict[str, Any]:
        """JSON form (kept in the result so recheck can re-derive offline)."""
        return {
            "custodian": self.custodian,
            "exists": self.exists,
            "sequence": self.sequence,
            "digest": "0x" + self.digest.hex(),
            "signer": self.signer,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> RegistryEvidence:
        """Inverse of :meth:`to_json`.

        Raises:
            KeyError, ValueError, TypeError: malformed object.
        """
        return cls(
            custodian=str(obj["custodian"]),
            exists=bool(obj["exists"]),
            sequence=int(obj["sequence"]),
            digest=bytes.fromhex(str(obj["digest"])[2:]),
            signer=str(obj["signer"]),
        )


def parse_registry_option(value: str, default_chain: int | None) -> tuple[int, str]:
    """``ADDR`` or ``CHAIN_ID:ADDR`` -> (chain id, checksummed address).

    Raises:
        InputError: malformed value, or no chain id known.
    """
    chain_text, sep, addr = value.rpartition(":")
    if sep and not chain_text.isdigit():
        raise InputError(f"--from-registry expects ADDR or CHAIN_ID:ADDR, found {value!r}")
    chain_id = int(chain_text) if sep else default_chain
    if chain_id is None:
        raise InputError(
            "--from-registry needs the registry's chain: write CHAIN_ID:ADDR or set "
            "[registry] chain_id in the policy"
        )
    if to_checksum_address(addr) != addr:
        raise InputError(f"registry address {addr!r} is not EIP-55 checksummed")
    return chain_id, addr


def read_registry(
    rpc: Mapping[int, Sequence[str]],
    chain_id: int,
    address: str,
    *,
    issuer: str,
    token: str,
    custodians: Sequence[str],
    now: int,
    timeout: float = 10.0,
) -> tuple[dict[str, RegistryEvidence], dict[str, Any]]:
    """Read each custodian's latest record and the feed's latest round.

    Returns:
        Evidence per custodian, and the JSON the result records under ``registry``.

    Raises:
        InputError: no endpoint for the registry's chain.
        IncompleteError: endpoints failed or disagree.
    """
    from verifier.chain.feed import read_feed
    from verifier.chain.rpc import call_all_endpoints

    urls = rpc.get(chain_id)
    if not urls:
        raise InputError(f"no RPC endpoint for the registry's chain {chain_id}")
    selector = keccak(text="latest(string,string,string)")[:4]
    evidence: dict[str, RegistryEvidence] = {}
    for cid in custodians:
        data = selector + encode(["string", "string", "string"], [issuer, token, cid])
        raw = call_all_endpoints(chain_id, urls, address, data, timeout=timeout)
        if raw is None:
            evidence[cid] = RegistryEvidence(cid, False, 0, b"\0" * 32, "")
            continue
        ((exists, seq, _as_of, _valid, _root, _count, digest, signer, _at),) = decode(
            _LATEST_TYPES, raw
        )
        evidence[cid] = RegistryEvidence(
            cid, bool(exists), int(seq), bytes(digest), str(to_checksum_address(signer))
        )
    info: dict[str, Any] = {
        "chain_id": chain_id,
        "address": address,
        "records": [e.to_json() for e in evidence.values()],
    }
    try:
        info["latest_round"] = read_feed(
            urls[0], address, now=now, chain_id=chain_id, timeout=timeout
        ).to_json()
    except PorvError as exc:  # reported beside the result; never decides it
        info["latest_round"] = None
        info["latest_round_error"] = str(exc)
    return evidence, info
