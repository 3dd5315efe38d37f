"""The evidence the decisions take as data: supply read at the pinned blocks, registry records,
EIP-1271 wallet verdicts, FX rates read from the feeds the policy names (DESIGN §1, §8).

The orchestrators (:mod:`verifier.app.verify`, :mod:`verifier.app.recheck`) obtain them from the
chains (:mod:`verifier.chain.supply`, :mod:`verifier.chain.registry`,
:mod:`verifier.chain.eip1271`) or from a saved result, and pass them to
:func:`verifier.checks.bundle.verify_bundle`, which never reads a chain itself.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from verifier.errors import PorvError
from verifier.model import validate
from verifier.model.fx import MAX_FEED_DECIMALS, FxRate
from verifier.model.numbers import major

#: The policy's finality for a chain: ``"finalized"``, ``"latest"`` or N confirmations.
Finality = str | int


@dataclass(frozen=True)
class BlockHeader:
    """The header fields porv relies on (validated by :func:`verifier.chain.rpc.block_header`)."""

    number: int
    hash: str
    parent_hash: str
    timestamp: int


@dataclass(frozen=True)
class DeploymentSupply:
    """One deployment's supply at its chain's pinned block, in its own on-chain decimals."""

    chain_id: int
    address: str
    block_number: int
    block_hash: str
    block_timestamp: int
    total_supply: int
    decimals: int
    excluded: tuple[tuple[str, int], ...]
    circulating: int
    #: the finality the pin was checked with (None: pinned by block number or at the head)
    finality: Finality | None = None
    #: the pinned block's successor (the first block after as_of), when pinned by time
    successor: BlockHeader | None = None
    #: base units (at ``decimals``) added to ``circulating`` to round it up to the policy's
    #: decimals; 0 when it scaled exactly
    rounded_up: int = 0

    def to_json(self) -> dict[str, Any]:
        """JSON form: amounts as decimal strings (uint256 does not fit a JSON number)."""
        out: dict[str, Any] = {
            "chain_id": self.chain_id,
            "address": self.address,
            "block_number": self.block_number,
            "block_hash": self.block_hash,
            "block_timestamp": self.block_timestamp,
            "total_supply": str(self.total_supply),
            "decimals": self.decimals,
            "excluded": [{"address": a, "balance": str(b)} for a, b in self.excluded],
            "circulating": str(self.circulating),
        }
        if self.finality is not None:
            out["finality"] = self.finality
        if self.successor is not None:
            out["successor"] = {
                "block_number": self.successor.number,
                "block_hash": self.successor.hash,
                "block_timestamp": self.successor.timestamp,
            }
        if self.rounded_up:
            out["rounded_up"] = str(self.rounded_up)
        return out

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> DeploymentSupply:
        """Inverse of :meth:`to_json`, strict about types.

        Raises:
            KeyError: a field is missing.
            TypeError: a field has the wrong JSON type.
            ValueError: an amount is not a non-negative decimal string, or a hash is malformed.
        """

        def amount(v: Any) -> int:
            if not isinstance(v, str):
                raise TypeError(f"expected a decimal string, found {v!r}")
            if not v.isdigit() or not v.isascii() or (len(v) > 1 and v[0] == "0"):
                raise ValueError(f"not a non-negative decimal integer string: {v!r}")
            return int(v)

        def integer(v: Any) -> int:
            return validate.integer(v, lo=0)

        text = validate.string

        def hash_of(v: Any) -> str:
            validate.hex_bytes(v, 32)
            return str(v)

        block_hash = hash_of(doc["block_hash"])
        finality: Finality | None = None
        if "finality" in doc:
            finality = doc["finality"]
            if finality not in ("finalized", "latest") and not (
                type(finality) is int and finality >= 1
            ):
                raise ValueError(f"unknown finality {finality!r}")
        successor: BlockHeader | None = None
        if "successor" in doc:
            succ = doc["successor"]
            if not isinstance(succ, Mapping):
                raise TypeError("successor must be an object")
            successor = BlockHeader(
                number=integer(succ["block_number"]),
                hash=hash_of(succ["block_hash"]),
                parent_hash=hash_of(doc["block_hash"]),
                timestamp=integer(succ["block_timestamp"]),
            )
        excluded_doc = doc["excluded"]
        if not isinstance(excluded_doc, list):
            raise TypeError("excluded must be a list")
        return cls(
            chain_id=integer(doc["chain_id"]),
            address=text(doc["address"]),
            block_number=integer(doc["block_number"]),
            block_hash=block_hash,
            block_timestamp=integer(doc["block_timestamp"]),
            total_supply=amount(doc["total_supply"]),
            decimals=integer(doc["decimals"]),
            excluded=tuple((text(e["address"]), amount(e["balance"])) for e in excluded_doc),
            circulating=amount(doc["circulating"]),
            finality=finality,
            successor=successor,
            rounded_up=amount(doc["rounded_up"]) if "rounded_up" in doc else 0,
        )


@dataclass(frozen=True)
class EndpointStats:
    """HTTP requests one endpoint cost: before pinning (handshake, search) and the read."""

    url: str  # redacted: scheme, host and port only
    pin_requests: int
    read_requests: int


@dataclass(frozen=True)
class ChainStats:
    """How one chain was read."""

    chain_id: int
    method: str  # "multicall3" or "batch"
    endpoints: tuple[EndpointStats, ...]


@dataclass(frozen=True)
class SupplyReport:
    """Supply of every pinned deployment and the circulating total in ``decimals``."""

    deployments: tuple[DeploymentSupply, ...]
    total_circulating: int
    decimals: int
    #: how each chain was read (not part of the result's content)
    stats: tuple[ChainStats, ...] = field(default=(), compare=False)

    def to_json(self) -> dict[str, Any]:
        """JSON form (the ``supply`` section of a result)."""
        return {
            "deployments": [d.to_json() for d in self.deployments],
            "total_circulating": str(self.total_circulating),
            "decimals": self.decimals,
        }


def scale_up(circulating: int, decimals: int, token_decimals: int) -> tuple[int, int]:
    """Express ``circulating`` base units at ``decimals`` in ``token_decimals``, rounding up.

    Rounding is never in the issuer's favour: an amount finer than the policy's decimals (dust
    anyone can send to an excluded address) is rounded *up* to the next whole unit.

    Returns:
        ``(amount at token_decimals, base units at decimals added by rounding up)``.
    """
    if decimals <= token_decimals:
        return circulating * 10 ** (token_decimals - decimals), 0
    unit = 10 ** (decimals - token_decimals)
    q, r = divmod(circulating, unit)
    return (q + 1, unit - r) if r else (q, 0)


@dataclass(frozen=True)
class RegistryEvidence:
    """What the registry holds for one custodian.

    ``signature`` is the signature the registry stored with its record (65 bytes); porv
    recovers the signer from it itself. ``untrusted`` says why the registry cannot be used
    (no code, or code other than porv's registry); empty when its code is porv's.
    """

    custodian: str
    exists: bool
    sequence: int
    digest: bytes
    signer: str
    signature: bytes = b""
    untrusted: str = ""

    def to_json(self) -> dict[str, Any]:
        """JSON form (kept in the result so recheck can re-derive offline)."""
        out: dict[str, Any] = {
            "custodian": self.custodian,
            "exists": self.exists,
            "sequence": self.sequence,
            "digest": "0x" + self.digest.hex(),
            "signer": self.signer,
            "signature": "0x" + self.signature.hex(),
        }
        if self.untrusted:
            out["untrusted"] = self.untrusted
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> RegistryEvidence:
        """Inverse of :meth:`to_json`.

        Raises:
            KeyError, ValueError, TypeError: malformed object.
        """
        return cls(
            custodian=validate.string(obj["custodian"]),
            exists=validate.boolean(obj["exists"]),  # "false" is a string, not false
            sequence=validate.integer(obj["sequence"], lo=0),
            digest=validate.hex_bytes(obj["digest"]),
            signer=validate.string(obj["signer"]),
            signature=validate.hex_bytes(obj["signature"]),
            untrusted=validate.string(obj.get("untrusted", "")),
        )


def fx_rate_from_feed(
    base: str,
    quote: str,
    *,
    chain_id: int,
    address: str,
    block_number: int,
    block_timestamp: int,
    answer: int,
    decimals: int,
    updated_at: int,
) -> FxRate | str:
    """An ``[fx]`` feed's answer at the pinned block as a rate, or why it cannot be one.

    The reader (:func:`verifier.chain.feed.feed_reading`) already refused a zero round, an
    answer that is not positive, a zero ``updatedAt`` and an ``answeredInRound`` behind the
    round. Here: the answer's ``decimals`` is bounded, and the round must have been updated at
    or before the pinned block's time (a rate the chain had not yet seen at ``as_of`` is not
    the rate at ``as_of``). Its age against ``as_of`` is the rule's, as for a pinned rate
    (:func:`verifier.model.fx.rate_problem`).
    """
    where = f"{base}/{quote} feed {chain_id}:{address} at block {block_number}"
    if decimals > MAX_FEED_DECIMALS:
        return f"{where}: decimals() {decimals} is above {MAX_FEED_DECIMALS}"
    if answer <= 0 or updated_at <= 0:
        return f"{where}: answer {answer} or updatedAt {updated_at} is not positive"
    if updated_at > block_timestamp:
        return f"{where}: updatedAt {updated_at} is after the pinned block's time {block_timestamp}"
    day = _dt.datetime.fromtimestamp(updated_at, _dt.UTC).date()
    return FxRate(
        base,
        quote,
        major(answer, decimals),
        day,
        "feed",
        chain_id=chain_id,
        address=address,
        block_number=block_number,
        updated_at=updated_at,
    )


def fx_section(rates: tuple[FxRate, ...], unusable: Mapping[str, str]) -> dict[str, Any]:
    """The result's ``fx`` section: what the ``[fx]`` feeds gave (kept for recheck)."""
    return {"rates": [r.to_json() for r in rates], "unusable": dict(sorted(unusable.items()))}


def fx_from_section(doc: Any) -> tuple[tuple[FxRate, ...], dict[str, str]]:
    """Inverse of :func:`fx_section`.

    Raises:
        KeyError, TypeError, ValueError: a malformed section.
    """
    if not isinstance(doc, Mapping) or set(doc) != {"rates", "unusable"}:
        raise ValueError("fx must be an object with rates and unusable")
    if not isinstance(doc["rates"], list) or not isinstance(doc["unusable"], Mapping):
        raise TypeError("fx.rates must be a list and fx.unusable an object")
    rates = tuple(FxRate.from_json(r) for r in doc["rates"])
    if any(r.source != "feed" for r in rates):
        raise ValueError("fx.rates holds only feed readings")
    unusable = {validate.string(k): validate.string(v) for k, v in doc["unusable"].items()}
    return rates, unusable


#: What an EIP-1271 verdict is keyed by: (chain id, wallet address, digest, signature).
WalletAsk = tuple[int, str, bytes, bytes]


@dataclass(frozen=True)
class Evidence:
    """What the chains said besides supply, as data for :func:`verify_bundle`.

    ``registry``: per custodian, what the policy's registry holds (``--from-registry``); None
    when the registry was not read (a custodian missing from it counts as holding nothing).
    ``fx_rates``: the ``[fx]`` feeds' readings as rates (:func:`fx_rate_from_feed`).
    ``wallets``: each EIP-1271 ``isValidSignature`` answer, keyed by :data:`WalletAsk`: True
    (the magic value), False (anything else), or the error that prevented the answer. A wallet
    entry with no verdict here was not asked and counts as not signed.
    """

    registry: Mapping[str, RegistryEvidence] | None = None
    wallets: Mapping[WalletAsk, bool | PorvError] = field(default_factory=dict)
    #: rates read from the AggregatorV3 feeds the policy's ``[fx]`` names, at the pinned
    #: blocks (pinned rates come from the policy itself)
    fx_rates: tuple[FxRate, ...] = ()
    #: per ``BASE/QUOTE`` pair of an ``[fx]`` feed that gave no usable rate: why
    fx_unusable: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "wallets", MappingProxyType(dict(self.wallets)))
        object.__setattr__(self, "fx_unusable", MappingProxyType(dict(self.fx_unusable)))
