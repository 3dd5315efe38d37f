"""Compiled contracts porv ships: ABI and bytecode, loaded from the JSON next to this file.

The Solidity sources and the compile script live in ``contracts_abi/`` at the repository root;
``node contracts_abi/compile.js`` writes ``verifier/chain/contracts/<Name>.json`` here so that
``pip install .`` ships the build output (CI recompiles and fails if it differs). The same
script copies the published build artifacts of the third-party contracts porv deploys on local
chains (Safe 1.4.1 from ``@safe-global/safe-contracts``, EAS 1.9.0 from
``@ethereum-attestation-service/eas-contracts``; versions pinned in ``package-lock.json``); each
of those records its npm package, version and licence under ``"npm"``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from verifier.errors import InputError

#: Every contract shipped with porv.
CONTRACT_NAMES: tuple[str, ...] = (
    "CompatibilityFallbackHandler",
    "EAS",
    "GuardedStablecoin",
    "MerkleProofCheck",
    "Multicall3",
    "ReserveAttestationRegistry",
    "Safe",
    "SafeProxyFactory",
    "SchemaRegistry",
    "TestAggregatorV3",
    "TestContractWallet",
    "TestStablecoin",
)


@dataclass(frozen=True)
class ContractArtifact:
    """A compiled contract: its ABI and creation / runtime bytecode (0x-hex).

    ``immutable_references`` are the ``(start, length)`` byte ranges of the runtime code that
    the constructor fills in (Solidity immutables): deployed code matches this artifact when it
    equals ``deployed_bytecode`` outside those ranges (:func:`runtime_code_matches`).
    """

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    immutable_references: tuple[tuple[int, int], ...] = ()


@cache
def load_contract(name: str) -> ContractArtifact:
    """Load the compiled artifact of one of porv's contracts.

    Args:
        name: A contract name from :data:`CONTRACT_NAMES`, e.g. ``"TestStablecoin"``.

    Returns:
        The contract's ABI and bytecode.

    Raises:
        InputError: ``name`` is not a contract porv ships, or its artifact is unreadable.
    """
    if name not in CONTRACT_NAMES:
        raise InputError(
            f"unknown contract {name!r}",
            hint=f"one of: {', '.join(CONTRACT_NAMES)}",
        )
    try:
        text = resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8")
        raw = json.loads(text)
        return ContractArtifact(
            name=name,
            abi=list(raw["abi"]),
            bytecode=str(raw["bytecode"]),
            deployed_bytecode=str(raw["deployedBytecode"]),
            immutable_references=tuple(
                (int(start), int(length)) for start, length in raw.get("immutableReferences", [])
            ),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"contract artifact {name}.json is missing or malformed: {exc}",
            hint="run `node contracts_abi/compile.js` from the repository root",
        ) from exc


def runtime_code_matches(name: str, code: bytes) -> bool:
    """Whether ``code`` (from ``eth_getCode``) is the runtime code of porv's contract ``name``.

    Equal length, and equal bytes everywhere except the artifact's immutable ranges.

    Raises:
        InputError: ``name`` is not a contract porv ships, or its artifact is unreadable.
    """
    art = load_contract(name)
    want = bytearray(bytes.fromhex(art.deployed_bytecode.removeprefix("0x")))
    if len(code) != len(want):
        return False
    got = bytearray(code)
    for start, length in art.immutable_references:
        want[start : start + length] = got[start : start + length]
    return bytes(got) == bytes(want)
