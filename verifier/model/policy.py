"""The holder's policy ``porv.policy/1`` (TOML, DESIGN §4): the root of trust.

The policy pins everything a verification trusts: the token's deployments, the custodians'
and auditors' keys and thresholds, freshness, coverage, jurisdictions and the RPC endpoints.
It is loaded strictly: any key this module does not know, a threshold below 1 or above the
number of keys, a key pinned twice (within a custodian, across custodians, or for a custodian
and the auditors), an address that is not EIP-55 checksummed, a BLS key whose proof of
possession does not verify, or a deployment pinned twice is refused with
:class:`~verifier.errors.PolicyError` (exit 2) naming the file, the line where it can be found
and the key path (``custodians[1].threshold``).

Nothing insecure is configurable: ``min_coverage`` below 1.00 and a threshold of 0 are
refused rather than clamped. ``[rpc]`` may be left out or incomplete because endpoints can be
given on the command line (:meth:`Policy.with_rpc`); the chain reader refuses a pinned chain
that ends up with no endpoint.

``[finality]`` mirrors ``[rpc]``: ``"<chain id>" = "finalized"`` (the default for a chain it
does not name: the block after ``as_of`` must be at or below every endpoint's ``finalized``
block), ``= N`` (N >= 1 blocks on top of it on every endpoint, for a chain without the tag) or
``= "latest"`` (it only has to exist; for a local development chain). A chain id the policy
pins no deployment on is refused.

``[fx]`` gives the rates capital floors in another currency are compared with, one direction
per pair (``1 BASE = rate QUOTE``; the other direction is used without dividing): either pinned
and dated, ``"USD/HKD" = { rate = "7.80", as_of = "2026-11-30" }`` (a positive decimal string,
never a TOML float; an undated ``"USD/HKD" = "7.80"`` is refused), or an AggregatorV3 feed read
at the pinned block of a chain the policy pins a deployment on, ``"USD/HKD" = { feed =
"1:0xAbC..." }``. A rate older than :data:`~verifier.model.fx.MAX_RATE_AGE_DAYS` days at
``as_of`` leaves the floor ``not_evaluated`` (:mod:`verifier.model.fx`).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from verifier.errors import Location, PolicyError
from verifier.model.fx import MAX_RATE_DIGITS, FxRate, parse_pair
from verifier.model.issuer_types import ISSUER_TYPES
from verifier.model.numbers import plain_decimal
from verifier.model.validate import (
    InvalidValueError,
    checksummed_address,
    hex_bytes,
    integer,
    is_currency_code,
    iso_date,
    parse_chain_id,
    split_chain_pair,
)

FORMAT = "porv.policy/1"

#: Jurisdiction rule packs a policy may name (DESIGN §7).
KNOWN_JURISDICTIONS: frozenset[str] = frozenset(
    {
        "hkma",
        "genius",
        "mica-emt",
        "mica-emt-significant",
        "mas",
        "cbuae-dpt",
        "cbuae-dpt-bank-sub",
        "vara-frva",
        "jp-trust",
        "jp-trust-2023",
        "uk-fca",
        "uk-boe-systemic",
        "bcbs-g1b",
    }
)

#: Options each rule pack accepts under ``[pack_options.<pack>]``. ``flags`` are the
#: regulator-side records the holder vouches for (an FCA notification, a UAE Art 22(3)
#: election, Basel conditions): the rule engine checks each name against the pack.
PACK_OPTION_KEYS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        name: frozenset(
            {"approved_currencies", "flags", "parameters"}
            if name == "hkma"
            else {"flags", "parameters"}
        )
        for name in KNOWN_JURISDICTIONS
    }
)

_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION_RE = re.compile(r"^([1-9][0-9]{0,9})([smhd])\Z")

#: The top-level keys a policy must have (the JSON Schema's ``required`` is this list).
REQUIRED_TOP_KEYS = (
    "format",
    "issuer",
    "token",
    "currency",
    "decimals",
    "jurisdictions",
    "max_age",
    "min_coverage",
    "deployments",
    "custodians",
)
_TOP_KEYS = frozenset(
    {
        *REQUIRED_TOP_KEYS,
        "auditors",
        "rpc",
        "pack_options",
        "feed",
        "registry",
        "finality",
        "issuer_type",
        "fx",
    }
)

BLS_PUBKEY_LEN = 48
BLS_POP_LEN = 96


# --- the model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PinnedDeployment:
    """A token contract the policy pins, and the issuer-held addresses excluded from supply."""

    chain_id: int
    address: str
    excluded: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON form (checksummed addresses)."""
        return {"chain_id": self.chain_id, "address": self.address, "excluded": list(self.excluded)}


@dataclass(frozen=True)
class ContractRef:
    """A contract on a pinned chain (feed, registry, EIP-1271 wallet)."""

    chain_id: int
    address: str

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {"chain_id": self.chain_id, "address": self.address}


#: An EIP-1271 contract wallet allowed to sign for a custodian.
ContractWallet = ContractRef


@dataclass(frozen=True)
class FxPin:
    """One ``[fx]`` pair: a pinned, dated rate, or an AggregatorV3 feed to read."""

    base: str
    quote: str
    rate: FxRate | None = None
    feed: ContractRef | None = None

    @property
    def pair(self) -> str:
        """``BASE/QUOTE``."""
        return f"{self.base}/{self.quote}"

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        if self.rate is not None:
            return {"rate": f"{self.rate.rate:f}", "as_of": self.rate.date.isoformat()}
        assert self.feed is not None
        return {"feed": f"{self.feed.chain_id}:{self.feed.address}"}


@dataclass(frozen=True)
class BlsKey:
    """A pinned BLS12-381 G1 public key with its proof of possession (checked at load)."""

    pubkey: bytes
    pop: bytes

    @property
    def pubkey_hex(self) -> str:
        """The public key as lowercase 0x-hex."""
        return "0x" + self.pubkey.hex()

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {"pubkey": self.pubkey_hex, "pop": "0x" + self.pop.hex()}


@dataclass(frozen=True)
class CustodianPolicy:
    """The keys pinned for one custodian and how many distinct ones must sign."""

    id: str
    signers: tuple[str, ...]
    bls: tuple[BlsKey, ...]
    eip1271: tuple[ContractWallet, ...]
    threshold: int

    @property
    def key_count(self) -> int:
        """Number of distinct keys pinned for this custodian."""
        return len(self.signers) + len(self.bls) + len(self.eip1271)

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "id": self.id,
            "signers": list(self.signers),
            "bls": [k.to_json() for k in self.bls],
            "eip1271": [w.to_json() for w in self.eip1271],
            "threshold": self.threshold,
        }


@dataclass(frozen=True)
class AuditorPolicy:
    """The auditors' pinned BLS keys and the number of them that must sign the report."""

    bls: tuple[BlsKey, ...]
    threshold: int

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {"bls": [k.to_json() for k in self.bls], "threshold": self.threshold}


@dataclass(frozen=True)
class Policy:
    """A loaded, validated ``porv.policy/1``.

    ``raw`` keeps the file's exact bytes: results record their sha256 (:attr:`sha256`).
    """

    source: str
    raw: bytes = field(repr=False)
    issuer: str
    token: str
    currency: str
    decimals: int
    jurisdictions: tuple[str, ...]
    max_age: int
    min_coverage: Decimal
    deployments: tuple[PinnedDeployment, ...]
    custodians: tuple[CustodianPolicy, ...]
    auditors: AuditorPolicy | None
    rpc: Mapping[int, tuple[str, ...]]
    pack_options: Mapping[str, Mapping[str, Any]]
    feed: ContractRef | None = None
    registry: ContractRef | None = None
    #: chain id -> ``"finalized"``, ``"latest"`` or N confirmations (``[finality]``); a chain
    #: not named here is ``"finalized"`` (see :meth:`finality_for`)
    finality: Mapping[int, str | int] = field(default_factory=lambda: MappingProxyType({}))
    #: the issuer's type (``ISSUER_TYPES``), checked against the packs that bind a type
    issuer_type: str | None = None
    #: ``[fx]``: a pinned rate or a feed per currency pair, one direction per pair
    fx: tuple[FxPin, ...] = ()

    @property
    def fx_rates(self) -> tuple[FxRate, ...]:
        """The rates ``[fx]`` pins (feeds are read by the orchestrator)."""
        return tuple(p.rate for p in self.fx if p.rate is not None)

    @property
    def fx_feeds(self) -> tuple[FxPin, ...]:
        """The ``[fx]`` pairs read from a feed."""
        return tuple(p for p in self.fx if p.feed is not None)

    @classmethod
    def from_toml_text(cls, text: str, *, source: str = "<policy>") -> Policy:
        """Parse and validate a policy from TOML text.

        Args:
            text: the TOML document.
            source: file name used in error messages.

        Returns:
            The validated policy.

        Raises:
            PolicyError: the document is not valid TOML or breaks a rule of ``porv.policy/1``.
        """
        try:
            raw = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise PolicyError(
                f"policy text is not valid Unicode (a lone surrogate at character {exc.start})",
                location=Location(file=source),
            ) from None
        return _parse(text, raw, source)

    def finality_for(self, chain_id: int) -> str | int:
        """The finality a pin on ``chain_id`` needs (``"finalized"`` unless the policy says)."""
        return self.finality.get(chain_id, "finalized")

    def canonical_bytes(self) -> bytes:
        """The policy file's bytes exactly as loaded (what results hash)."""
        return self.raw

    @property
    def sha256(self) -> str:
        """Hex sha256 of the policy file's bytes."""
        return hashlib.sha256(self.raw).hexdigest()

    def with_rpc(self, overrides: Mapping[int, Sequence[str]]) -> Policy:
        """Return a copy whose endpoints for the given chains are replaced by ``overrides``.

        Endpoints given on the command line replace (not extend) the policy's for that chain,
        so a user can point porv at their own nodes.

        Args:
            overrides: chain id -> endpoint URLs.

        Returns:
            A new policy; this one is unchanged.

        Raises:
            PolicyError: an override URL is not http(s), is listed twice, or a chain id is bad.
        """
        merged = dict(self.rpc)
        for chain_id, urls in overrides.items():
            where = f"--rpc {chain_id}"
            if isinstance(chain_id, bool) or not isinstance(chain_id, int) or chain_id < 1:
                raise PolicyError(f"chain id must be a positive integer, got {chain_id!r}")
            merged[chain_id] = _urls(list(urls), where, "<command line>", None)
        return replace(self, rpc=MappingProxyType(merged))

    def to_json(self) -> dict[str, Any]:
        """JSON form of the trusted configuration (for reports and schemas)."""
        out: dict[str, Any] = {
            "format": FORMAT,
            "issuer": self.issuer,
            "token": self.token,
            "currency": self.currency,
            "decimals": self.decimals,
            "jurisdictions": list(self.jurisdictions),
            "max_age": self.max_age,
            "min_coverage": str(self.min_coverage),
            "deployments": [d.to_json() for d in self.deployments],
            "custodians": [c.to_json() for c in self.custodians],
            "auditors": self.auditors.to_json() if self.auditors else None,
            "rpc": {str(k): list(v) for k, v in self.rpc.items()},
            "feed": self.feed.to_json() if self.feed else None,
            "registry": self.registry.to_json() if self.registry else None,
            "finality": {str(k): v for k, v in self.finality.items()},
        }
        if self.issuer_type is not None:
            out["issuer_type"] = self.issuer_type
        if self.fx:
            out["fx"] = {p.pair: p.to_json() for p in self.fx}
        return out


#: Largest policy file read: a holder's pins (keys with proofs of possession, endpoints) fit in
#: a few kilobytes; the cap keeps a hostile path (or a result naming one) from costing memory.
MAX_POLICY_BYTES = 4 * 1024 * 1024


def parse_policy(raw: bytes, *, source: str) -> Policy:
    """Validate a policy file's bytes (UTF-8 TOML); ``raw`` is kept in the policy.

    Raises:
        PolicyError: not UTF-8 TOML, or breaks a policy rule.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(
            f"policy is not UTF-8 (byte {exc.start})", location=Location(file=source)
        ) from None
    return _parse(text, raw, source)


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string (for writers of policy files).

    JSON's string escapes are TOML's, except that TOML also wants DEL escaped and takes no
    surrogate escapes (so non-ASCII text is written as itself, in UTF-8).
    """
    import json

    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


# --- parsing -----------------------------------------------------------------------------


class _Ctx:
    """Error construction with a best-effort line number for a key path."""

    def __init__(self, text: str, source: str) -> None:
        self.lines = text.splitlines()
        self.source = source

    def fail(self, path: str, message: str, hint: str | None = None) -> PolicyError:
        return PolicyError(
            message,
            hint=hint,
            location=Location(file=self.source, line=self._line_of(path), field=path),
        )

    def _line_of(self, path: str) -> int | None:
        """Best-effort line of ``path`` (``a[1].b``); falls back to the enclosing table."""
        segs = [
            (n, int(i) if i else None) for n, i in re.findall(r"([^.\[\]]+)(?:\[(\d+)\])?", path)
        ]
        while segs:
            line = self._find(segs)
            if line is not None:
                return line
            segs = segs[:-1]
        return None

    def _find(self, segs: list[tuple[str, int | None]]) -> int | None:
        names = [n for n, _ in segs]
        parent = segs[:-1]
        parent_names = names[:-1]
        parent_idx = parent[-1][1] if parent else None
        leaf, leaf_idx = segs[-1]
        cur: list[str] = []
        cur_idx: int | None = None
        counts: dict[str, int] = {}
        for no, raw_line in enumerate(self.lines, start=1):
            line = raw_line.strip()
            m = re.match(r"^\[\[\s*([^\]]+?)\s*\]\]", line)
            if m:
                cur = [t.strip().strip('"') for t in m.group(1).split(".")]
                key = ".".join(cur)
                cur_idx = counts.get(key, 0)
                counts[key] = cur_idx + 1
                if cur == names and (leaf_idx is None or leaf_idx == cur_idx):
                    return no
                continue
            m = re.match(r"^\[\s*([^\]]+?)\s*\]", line)
            if m:
                cur = [t.strip().strip('"') for t in m.group(1).split(".")]
                cur_idx = None
                if cur == names:
                    return no
                continue
            m = re.match(r'^"?([A-Za-z0-9_\-/]+)"?\s*=', line)
            if (
                m
                and m.group(1) == leaf
                and cur == parent_names
                and (parent_idx is None or parent_idx == cur_idx)
            ):
                return no
        return None


def _parse(text: str, raw: bytes, source: str) -> Policy:
    ctx = _Ctx(text, source)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise PolicyError(
            f"policy is not valid TOML: {exc}",
            hint="duplicate keys and malformed values are refused; fix the line named",
            location=Location(file=source, line=int(m.group(1)) if m else None),
        ) from None
    except RecursionError:  # tomllib recurses per nested array or inline table
        raise PolicyError(
            "policy is not valid TOML: arrays or inline tables nested too deeply",
            location=Location(file=source),
        ) from None

    _no_unknown(ctx, doc, _TOP_KEYS, "")
    for key in REQUIRED_TOP_KEYS:
        if key not in doc:
            raise ctx.fail(key, f"required key {key!r} is missing")
    fmt = doc["format"]
    if fmt != FORMAT:
        raise ctx.fail("format", f"expected format {FORMAT!r}, found {fmt!r}")

    issuer = _string(ctx, doc["issuer"], "issuer")
    token = _string(ctx, doc["token"], "token")
    currency = _string(ctx, doc["currency"], "currency")
    if not is_currency_code(currency):
        raise ctx.fail("currency", f"expected an ISO 4217 code like 'USD', found {currency!r}")
    decimals = _int(ctx, doc["decimals"], "decimals", lo=0, hi=77)  # 10**78 > 2**256
    jurisdictions = _jurisdictions(ctx, doc["jurisdictions"])
    max_age = _duration(ctx, doc["max_age"], "max_age")
    min_coverage = _coverage(ctx, doc["min_coverage"])
    deployments = _deployments(ctx, doc["deployments"])
    custodians = _custodians(ctx, doc["custodians"])
    auditors = _auditors(ctx, doc["auditors"]) if "auditors" in doc else None
    _no_shared_keys(ctx, custodians, auditors)
    rpc = _rpc(ctx, doc.get("rpc", {}))
    pack_options = _pack_options(ctx, doc.get("pack_options", {}), jurisdictions)
    feed = _contract_ref(ctx, doc["feed"], "feed") if "feed" in doc else None
    registry = _contract_ref(ctx, doc["registry"], "registry") if "registry" in doc else None
    finality = _finality(ctx, doc.get("finality", {}), deployments)
    fx = _fx(ctx, doc.get("fx", {}), deployments)
    issuer_type = None
    if "issuer_type" in doc:
        issuer_type = _string(ctx, doc["issuer_type"], "issuer_type")
        if issuer_type not in ISSUER_TYPES:
            raise ctx.fail(
                "issuer_type",
                f"unknown issuer type {issuer_type!r}",
                hint=f"known: {', '.join(sorted(ISSUER_TYPES))}",
            )

    return Policy(
        source=source,
        raw=raw,
        issuer=issuer,
        token=token,
        currency=currency,
        decimals=decimals,
        jurisdictions=jurisdictions,
        max_age=max_age,
        min_coverage=min_coverage,
        deployments=deployments,
        custodians=custodians,
        auditors=auditors,
        rpc=MappingProxyType(rpc),
        pack_options=MappingProxyType(pack_options),
        feed=feed,
        registry=registry,
        finality=MappingProxyType(finality),
        issuer_type=issuer_type,
        fx=fx,
    )


def _no_unknown(ctx: _Ctx, table: Mapping[str, Any], known: frozenset[str], path: str) -> None:
    for key in table:
        if key not in known:
            full = f"{path}.{key}" if path else key
            raise ctx.fail(
                full,
                f"unknown key {key!r}",
                hint=f"allowed here: {', '.join(sorted(known))}",
            )


def _table(ctx: _Ctx, value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ctx.fail(path, f"expected a table, found {type(value).__name__}")
    return value


def _list(ctx: _Ctx, value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise ctx.fail(path, f"expected an array, found {type(value).__name__}")
    return value


def _string(ctx: _Ctx, value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ctx.fail(path, f"expected a non-empty string, found {value!r}")
    if value != value.strip():
        raise ctx.fail(path, f"leading/trailing whitespace in {value!r}")
    return value


def _int(ctx: _Ctx, value: Any, path: str, *, lo: int | None = None, hi: int | None = None) -> int:
    try:
        return integer(value, lo=lo, hi=hi)
    except InvalidValueError as exc:
        raise ctx.fail(path, str(exc)) from None


def _address(ctx: _Ctx, value: Any, path: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"0x[0-9a-fA-F]{40}", value):
        raise ctx.fail(path, f"expected a 0x-prefixed 20-byte address, found {value!r}")
    try:
        return checksummed_address(value)
    except InvalidValueError:
        raise ctx.fail(
            path,
            f"address {value} is not EIP-55 checksummed",
            hint="write the checksummed form (mixed case); a lowercase or mistyped address "
            "is refused so that a typo cannot pin the wrong key",
        ) from None


def _hexbytes(ctx: _Ctx, value: Any, path: str, length: int) -> bytes:
    try:
        return hex_bytes(value, length)
    except InvalidValueError:
        raise ctx.fail(path, f"expected 0x-hex of {length} bytes, found {value!r}") from None


def _jurisdictions(ctx: _Ctx, value: Any) -> tuple[str, ...]:
    items = _list(ctx, value, "jurisdictions")
    seen: list[str] = []
    for i, item in enumerate(items):
        path = f"jurisdictions[{i}]"
        if not isinstance(item, str) or item not in KNOWN_JURISDICTIONS:
            raise ctx.fail(
                path,
                f"unknown jurisdiction {item!r}",
                hint=f"known: {', '.join(sorted(KNOWN_JURISDICTIONS))}",
            )
        if item in seen:
            raise ctx.fail(path, f"jurisdiction {item!r} listed twice")
        seen.append(item)
    return tuple(seen)


def _duration(ctx: _Ctx, value: Any, path: str) -> int:
    if not isinstance(value, str):
        raise ctx.fail(path, f'expected a duration string like "35d", found {value!r}')
    m = _DURATION_RE.match(value)
    if not m:
        raise ctx.fail(
            path, f"expected a positive duration with unit s, m, h or d, found {value!r}"
        )
    return int(m.group(1)) * _DURATION_UNITS[m.group(2)]


def _coverage(ctx: _Ctx, value: Any) -> Decimal:
    if not isinstance(value, str):
        raise ctx.fail(
            "min_coverage",
            f'expected a decimal string like "1.00", found {value!r}',
            hint="a string keeps the value exact (TOML floats are binary)",
        )
    try:
        dec = plain_decimal(value)
    except ValueError as exc:
        raise ctx.fail("min_coverage", f"expected a decimal string: {exc}") from None
    if dec < 1:
        raise ctx.fail(
            "min_coverage",
            f"min_coverage must be at least 1.00, found {value}",
            hint="reserves below circulating supply are never verified",
        )
    return dec


def _deployments(ctx: _Ctx, value: Any) -> tuple[PinnedDeployment, ...]:
    items = _list(ctx, value, "deployments")
    if not items:
        raise ctx.fail("deployments", "at least one deployment must be pinned")
    out: list[PinnedDeployment] = []
    seen: set[tuple[int, str]] = set()
    for i, item in enumerate(items):
        path = f"deployments[{i}]"
        tbl = _table(ctx, item, path)
        _no_unknown(ctx, tbl, frozenset({"chain_id", "address", "excluded"}), path)
        for key in ("chain_id", "address"):
            if key not in tbl:
                raise ctx.fail(f"{path}.{key}", f"required key {key!r} is missing")
        chain_id = _int(ctx, tbl["chain_id"], f"{path}.chain_id", lo=1)
        address = _address(ctx, tbl["address"], f"{path}.address")
        excluded: list[str] = []
        for j, ex in enumerate(_list(ctx, tbl.get("excluded", []), f"{path}.excluded")):
            ex_path = f"{path}.excluded[{j}]"
            addr = _address(ctx, ex, ex_path)
            if addr in excluded:
                raise ctx.fail(ex_path, f"excluded address {addr} listed twice")
            if addr == address:
                raise ctx.fail(ex_path, "the token contract itself cannot be excluded")
            excluded.append(addr)
        if (chain_id, address) in seen:
            raise ctx.fail(path, f"deployment {address} on chain {chain_id} is pinned twice")
        seen.add((chain_id, address))
        out.append(PinnedDeployment(chain_id, address, tuple(excluded)))
    return tuple(out)


def _bls_keys(ctx: _Ctx, value: Any, path: str) -> tuple[BlsKey, ...]:
    items = _list(ctx, value, path)
    if not items:
        return ()
    from verifier.signatures.bls import pop_verify

    out: list[BlsKey] = []
    for i, item in enumerate(items):
        kp = f"{path}[{i}]"
        tbl = _table(ctx, item, kp)
        _no_unknown(ctx, tbl, frozenset({"pubkey", "pop"}), kp)
        for key in ("pubkey", "pop"):
            if key not in tbl:
                raise ctx.fail(
                    f"{kp}.{key}",
                    f"required key {key!r} is missing",
                    hint="every pinned BLS key needs its proof of possession (rogue-key defence)",
                )
        pubkey = _hexbytes(ctx, tbl["pubkey"], f"{kp}.pubkey", BLS_PUBKEY_LEN)
        pop = _hexbytes(ctx, tbl["pop"], f"{kp}.pop", BLS_POP_LEN)
        try:
            ok = bool(pop_verify(pubkey, pop))
        except Exception:  # a malformed point is a bad proof, not a crash
            ok = False
        if not ok:
            raise ctx.fail(
                f"{kp}.pop",
                f"proof of possession does not verify for BLS key {tbl['pubkey']}",
                hint="ask the key holder for PopProve(sk) of this exact public key",
            )
        out.append(BlsKey(pubkey, pop))
    return tuple(out)


def _threshold(ctx: _Ctx, tbl: Mapping[str, Any], path: str, key_count: int) -> int:
    if "threshold" not in tbl:
        raise ctx.fail(f"{path}.threshold", "required key 'threshold' is missing")
    value = _int(ctx, tbl["threshold"], f"{path}.threshold")
    if value < 1:
        raise ctx.fail(f"{path}.threshold", f"threshold must be at least 1, found {value}")
    if value > key_count:
        raise ctx.fail(
            f"{path}.threshold",
            f"threshold {value} is above the {key_count} key(s) pinned",
            hint="pin more keys or lower the threshold; it could never be met",
        )
    return value


def _custodians(ctx: _Ctx, value: Any) -> tuple[CustodianPolicy, ...]:
    items = _list(ctx, value, "custodians")
    if not items:
        raise ctx.fail("custodians", "at least one custodian must be pinned")
    out: list[CustodianPolicy] = []
    ids: set[str] = set()
    for i, item in enumerate(items):
        path = f"custodians[{i}]"
        tbl = _table(ctx, item, path)
        _no_unknown(ctx, tbl, frozenset({"id", "signers", "bls", "eip1271", "threshold"}), path)
        if "id" not in tbl:
            raise ctx.fail(f"{path}.id", "required key 'id' is missing")
        cid = _string(ctx, tbl["id"], f"{path}.id")
        if cid in ids:
            raise ctx.fail(f"{path}.id", f"custodian {cid!r} is listed twice")
        ids.add(cid)
        signers: list[str] = []
        for j, s in enumerate(_list(ctx, tbl.get("signers", []), f"{path}.signers")):
            sp = f"{path}.signers[{j}]"
            addr = _address(ctx, s, sp)
            if addr in signers:
                raise ctx.fail(sp, f"signer {addr} is pinned twice for custodian {cid!r}")
            signers.append(addr)
        bls = _bls_keys(ctx, tbl.get("bls", []), f"{path}.bls")
        seen_bls: set[bytes] = set()
        for j, k in enumerate(bls):
            if k.pubkey in seen_bls:
                raise ctx.fail(
                    f"{path}.bls[{j}].pubkey",
                    f"BLS key {k.pubkey_hex} is pinned twice for custodian {cid!r}",
                )
            seen_bls.add(k.pubkey)
        wallets: list[ContractRef] = []
        for j, w in enumerate(_list(ctx, tbl.get("eip1271", []), f"{path}.eip1271")):
            ref = _contract_ref(ctx, w, f"{path}.eip1271[{j}]")
            if ref in wallets or ref.address in signers:
                raise ctx.fail(
                    f"{path}.eip1271[{j}]",
                    f"contract wallet {ref.address} is pinned twice for custodian {cid!r}",
                )
            _one_chain_per_wallet(ctx, cid, ref, wallets, f"{path}.eip1271[{j}]")
            wallets.append(ref)
        key_count = len(signers) + len(bls) + len(wallets)
        if key_count == 0:
            raise ctx.fail(path, f"custodian {cid!r} pins no keys (signers, bls or eip1271)")
        threshold = _threshold(ctx, tbl, path, key_count)
        out.append(CustodianPolicy(cid, tuple(signers), bls, tuple(wallets), threshold))
    return tuple(out)


def _one_chain_per_wallet(
    ctx: _Ctx, cid: str, ref: ContractRef, wallets: Sequence[ContractRef], path: str
) -> None:
    """A wallet address is one key: the signature counter knows it by address alone, so the
    same address pinned on two chains would count twice (it is refused at every verify)."""
    for other in wallets:
        if other.address == ref.address:
            raise ctx.fail(
                path,
                f"contract wallet {ref.address} is pinned on two chains ({other.chain_id} and "
                f"{ref.chain_id}) for custodian {cid!r}; one address is one key",
                hint="pin the wallet on the one chain whose contract holds the custodian's keys",
            )


def _auditors(ctx: _Ctx, value: Any) -> AuditorPolicy:
    tbl = _table(ctx, value, "auditors")
    _no_unknown(ctx, tbl, frozenset({"bls", "threshold"}), "auditors")
    bls = _bls_keys(ctx, tbl.get("bls", []), "auditors.bls")
    if not bls:
        raise ctx.fail("auditors.bls", "[auditors] pins no BLS keys")
    seen: set[bytes] = set()
    for j, k in enumerate(bls):
        if k.pubkey in seen:
            raise ctx.fail(f"auditors.bls[{j}].pubkey", f"BLS key {k.pubkey_hex} pinned twice")
        seen.add(k.pubkey)
    return AuditorPolicy(bls, _threshold(ctx, tbl, "auditors", len(bls)))


def _key_ids(custodian: CustodianPolicy) -> Iterator[tuple[str, str]]:
    for j, s in enumerate(custodian.signers):
        yield s, f"signers[{j}]"
    for j, k in enumerate(custodian.bls):
        yield k.pubkey_hex, f"bls[{j}].pubkey"
    for j, w in enumerate(custodian.eip1271):
        yield w.address, f"eip1271[{j}]"  # by address alone: one address on two chains is one key


def _no_shared_keys(
    ctx: _Ctx, custodians: Sequence[CustodianPolicy], auditors: AuditorPolicy | None
) -> None:
    """One key speaks for one party: a key pinned twice would count for two thresholds."""
    owner: dict[str, str] = {}
    for i, cust in enumerate(custodians):
        for key, sub in _key_ids(cust):
            path = f"custodians[{i}].{sub}"
            if key in owner:
                raise ctx.fail(
                    path,
                    f"key {key} is pinned for custodian {cust.id!r} and also at {owner[key]}",
                    hint="each key may speak for one custodian only",
                )
            owner[key] = path
    if auditors is not None:
        for j, k in enumerate(auditors.bls):
            if k.pubkey_hex in owner:
                raise ctx.fail(
                    f"auditors.bls[{j}].pubkey",
                    f"auditor key {k.pubkey_hex} is also pinned at {owner[k.pubkey_hex]}",
                    hint="an auditor's key must be independent of the custodians' keys",
                )


def _urls(items: list[Any], path: str, source: str, ctx: _Ctx | None) -> tuple[str, ...]:
    def fail(p: str, msg: str) -> PolicyError:
        if ctx is not None:
            return ctx.fail(p, msg)
        return PolicyError(msg, location=Location(file=source, field=p))

    if not items:
        raise fail(path, "expected at least one endpoint URL")
    out: list[str] = []
    for j, url in enumerate(items):
        up = f"{path}[{j}]"
        if not isinstance(url, str):
            raise fail(up, f"expected a URL string, found {url!r}")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise fail(up, f"expected an http(s) JSON-RPC URL, found {url!r}")
        if url in out:
            raise fail(up, f"endpoint {url} listed twice")
        out.append(url)
    return tuple(out)


def _rpc(ctx: _Ctx, value: Any) -> dict[int, tuple[str, ...]]:
    tbl = _table(ctx, value, "rpc")
    out: dict[int, tuple[str, ...]] = {}
    for key, urls in tbl.items():
        path = f"rpc.{key}"
        out[_chain_key(ctx, key, path)] = _urls(_list(ctx, urls, path), path, ctx.source, ctx)
    return out


def _chain_key(ctx: _Ctx, key: str, path: str) -> int:
    """A table key naming a chain (``[rpc]``, ``[finality]``): ASCII digits, at most 19."""
    try:
        return parse_chain_id(key)
    except InvalidValueError:
        raise ctx.fail(path, f"expected a chain id as key, found {key!r}") from None


#: Most confirmations a policy may ask for: a bound on input, far beyond any chain's reorg depth.
MAX_CONFIRMATIONS = 1_000_000


def _finality(
    ctx: _Ctx, value: Any, deployments: Sequence[PinnedDeployment]
) -> dict[int, str | int]:
    """``[finality]``: ``"<chain id>" = "finalized" | "latest" | N`` (N confirmations)."""
    tbl = _table(ctx, value, "finality")
    chains = {d.chain_id for d in deployments}
    out: dict[int, str | int] = {}
    for key, item in tbl.items():
        path = f"finality.{key}"
        if _chain_key(ctx, key, path) not in chains:
            raise ctx.fail(
                path,
                f"finality given for chain {key}, where the policy pins no deployment",
                hint=f"pinned chains: {', '.join(str(c) for c in sorted(chains))}",
            )
        valid = item in ("finalized", "latest") if isinstance(item, str) else False
        valid = valid or (type(item) is int and 1 <= item <= MAX_CONFIRMATIONS)
        if not valid:
            raise ctx.fail(
                path,
                f'expected "finalized", "latest" or a number of confirmations 1..'
                f"{MAX_CONFIRMATIONS}, found {item!r}",
                hint='"finalized" (the default) for chains that serve the tag; N confirmations '
                'for chains without it; "latest" only for a local development chain',
            )
        out[int(key)] = item
    return out


def _pack_options(
    ctx: _Ctx, value: Any, jurisdictions: tuple[str, ...]
) -> dict[str, Mapping[str, Any]]:
    tbl = _table(ctx, value, "pack_options")
    out: dict[str, Mapping[str, Any]] = {}
    for pack, opts in tbl.items():
        path = f"pack_options.{pack}"
        if pack not in PACK_OPTION_KEYS:
            raise ctx.fail(path, f"rule pack {pack!r} takes no options")
        if pack not in jurisdictions:
            raise ctx.fail(path, f"options given for pack {pack!r}, which is not in jurisdictions")
        opt_tbl = _table(ctx, opts, path)
        _no_unknown(ctx, opt_tbl, PACK_OPTION_KEYS[pack], path)
        parsed: dict[str, Any] = {}
        if "approved_currencies" in opt_tbl:
            ap = f"{path}.approved_currencies"
            codes: list[str] = []
            for j, code in enumerate(_list(ctx, opt_tbl["approved_currencies"], ap)):
                if not isinstance(code, str) or not is_currency_code(code):
                    raise ctx.fail(f"{ap}[{j}]", f"expected an ISO 4217 code, found {code!r}")
                if code in codes:
                    raise ctx.fail(f"{ap}[{j}]", f"currency {code} listed twice")
                codes.append(code)
            parsed["approved_currencies"] = tuple(codes)
        if "flags" in opt_tbl:
            fp = f"{path}.flags"
            flags: list[str] = []
            for j, flag in enumerate(_list(ctx, opt_tbl["flags"], fp)):
                if not isinstance(flag, str) or not re.match(r"^[a-z0-9][a-z0-9_]*\Z", flag):
                    raise ctx.fail(f"{fp}[{j}]", f"expected a lower_case flag name, found {flag!r}")
                if flag in flags:
                    raise ctx.fail(f"{fp}[{j}]", f"flag {flag} listed twice")
                flags.append(flag)
            parsed["flags"] = tuple(flags)
        if "parameters" in opt_tbl:
            pp = f"{path}.parameters"
            params: dict[str, str | int] = {}
            for key, val in _table(ctx, opt_tbl["parameters"], pp).items():
                if isinstance(val, bool) or not isinstance(val, str | int):
                    raise ctx.fail(f"{pp}.{key}", f"expected a string or integer, found {val!r}")
                params[key] = val
            parsed["parameters"] = MappingProxyType(params)
        out[pack] = MappingProxyType(parsed)
    return out


def _contract_ref(ctx: _Ctx, value: Any, path: str) -> ContractRef:
    tbl = _table(ctx, value, path)
    _no_unknown(ctx, tbl, frozenset({"chain_id", "address"}), path)
    for key in ("chain_id", "address"):
        if key not in tbl:
            raise ctx.fail(f"{path}.{key}", f"required key {key!r} is missing")
    return ContractRef(
        _int(ctx, tbl["chain_id"], f"{path}.chain_id", lo=1),
        _address(ctx, tbl["address"], f"{path}.address"),
    )


_FX_FORM = '{ rate = "7.80", as_of = "2026-11-30" } or { feed = "CHAIN_ID:0xAddress" }'


def _fx(ctx: _Ctx, value: Any, deployments: Sequence[PinnedDeployment]) -> tuple[FxPin, ...]:
    """``[fx]``: ``"BASE/QUOTE" = { rate, as_of }`` or ``{ feed = "CHAIN_ID:ADDR" }``."""
    tbl = _table(ctx, value, "fx")
    chains = {d.chain_id for d in deployments}
    out: list[FxPin] = []
    for key, item in tbl.items():
        path = f"fx.{key}"
        try:
            base, quote = parse_pair(key)
        except InvalidValueError as exc:
            raise ctx.fail(path, str(exc), hint=exc.hint) from None
        for other in out:
            if {other.base, other.quote} == {base, quote}:
                raise ctx.fail(
                    path,
                    f"pair {key} is pinned, and so is {other.pair}: pin one direction only",
                    hint="the other direction is derived exactly; two could disagree",
                )
        if not isinstance(item, dict):
            undated = isinstance(item, str)
            raise ctx.fail(
                path,
                f"expected a dated rate or a feed, found {item!r}"
                + (" (a rate needs its date)" if undated else ""),
                hint=f'write "{key}" = {_FX_FORM}; rates are decimal strings, never floats',
            )
        _no_unknown(ctx, item, frozenset({"rate", "as_of", "feed"}), path)
        if "feed" in item:
            if "rate" in item or "as_of" in item:
                raise ctx.fail(path, f"pair {key} names a feed and a rate: give one")
            out.append(FxPin(base, quote, feed=_fx_feed(ctx, item["feed"], f"{path}.feed", chains)))
            continue
        for k in ("rate", "as_of"):
            if k not in item:
                raise ctx.fail(f"{path}.{k}", f"required key {k!r} is missing", hint=_FX_FORM)
        rate = _fx_rate(ctx, item["rate"], f"{path}.rate")
        day = item["as_of"]
        if type(day) is not _dt.date:  # a TOML date literal is taken as it is; else a string
            try:
                day = iso_date(day)
            except InvalidValueError as exc:
                raise ctx.fail(f"{path}.as_of", str(exc)) from None
        out.append(FxPin(base, quote, rate=FxRate(base, quote, rate, day)))
    return tuple(out)


def _fx_rate(ctx: _Ctx, value: Any, path: str) -> Decimal:
    if not isinstance(value, str):
        raise ctx.fail(
            path,
            f'expected a decimal string like "7.80", found {value!r}',
            hint="a string keeps the rate exact (TOML floats are binary)",
        )
    try:
        rate = plain_decimal(value, max_digits=MAX_RATE_DIGITS)
    except ValueError as exc:
        raise ctx.fail(path, f"expected a positive decimal string: {exc}") from None
    if rate <= 0:
        raise ctx.fail(path, f"a rate must be above 0, found {value}")
    return rate


def _fx_feed(ctx: _Ctx, value: Any, path: str, chains: set[int]) -> ContractRef:
    try:
        chain_id, address = split_chain_pair(value if isinstance(value, str) else "", ":")
        address = checksummed_address(address)
    except InvalidValueError as exc:
        raise ctx.fail(
            path,
            f"expected CHAIN_ID:0xAddress (EIP-55) of an AggregatorV3 feed, found {value!r}"
            + (f" ({exc})" if "checksum" in str(exc) else ""),
            hint=exc.hint,
        ) from None
    if chain_id not in chains:
        raise ctx.fail(
            path,
            f"feed on chain {chain_id}, where the policy pins no deployment (no pinned block "
            "to read it at)",
            hint=f"pinned chains: {', '.join(str(c) for c in sorted(chains))}",
        )
    return ContractRef(chain_id, address)
