"""Scenarios (``porv.scenario/1``): what to deploy on local chains, and :func:`run_scenario`.

A scenario describes one token on one or more chains, mints, excluded (issuer-held)
addresses, Multicall3, and optionally a :class:`ReserveAttestationRegistry`;
:func:`run_scenario` starts the chains (:mod:`verifier.devnet.nodes`) and deploys it
(:mod:`verifier.devnet.deploy`, :mod:`verifier.devnet.registry`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verifier.devnet.node import Node, rpc_request
from verifier.devnet.nodes import KINDS, find_repo_file, start_node
from verifier.errors import InputError, Location, SchemaError

SCENARIO_FORMAT = "porv.scenario/1"
_ACCOUNT_REF = re.compile(r"^account:([0-9]{1,2})\Z")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}\Z")
_SAFE_REF = re.compile(r"^safe:([0-9]{1,2})\Z")
#: Owners one scenario Safe may list (porv reads up to 16 signing owners' chunks plus their
#: contract owners' signatures; see verifier/signatures/wallet_keys.py).
MAX_SAFE_OWNERS = 16


@dataclass(frozen=True)
class Mint:
    """Mint ``amount`` base units to ``to`` (an address or ``account:N``)."""

    to: str
    amount: int


@dataclass(frozen=True)
class ChainPlan:
    """What to deploy on one chain."""

    chain_id: int
    mints: tuple[Mint, ...]
    excluded: tuple[str, ...]
    multicall3: bool = True
    registry: bool = False
    start_timestamp: int | None = None
    #: deploy EAS 1.9.0 (``SchemaRegistry``, then ``EAS``) on this chain
    eas: bool = False


@dataclass(frozen=True)
class CustodianPlan:
    """A custodian id and the signer addresses the registry trusts for it; ``threshold``
    (default 1) is how many of them the policy ``porv devnet up --policy-out`` writes
    requires."""

    id: str
    signers: tuple[str, ...]
    threshold: int = 1
    #: ``safe:N`` references to the scenario's Safes, pinned under the custodian's ``eip1271``
    eip1271: tuple[str, ...] = ()


@dataclass(frozen=True)
class SafePlan:
    """A Safe to create: its owners (addresses or ``account:N``), threshold and chain."""

    owners: tuple[str, ...]
    threshold: int
    chain_id: int


@dataclass(frozen=True)
class Scenario:
    """A parsed ``porv.scenario/1`` document (see README, "Chains and supply")."""

    issuer: str
    name: str
    symbol: str
    decimals: int
    currency: str
    chains: tuple[ChainPlan, ...]
    custodians: tuple[CustodianPlan, ...] = ()
    registry_decimals: int | None = None
    #: what ``porv devnet up --policy-out`` writes beside the deployments (the scenario's
    #: optional ``policy`` object; the policy loader checks the values)
    jurisdictions: tuple[str, ...] = ()
    max_age: str = "35d"
    min_coverage: str = "1.00"
    safes: tuple[SafePlan, ...] = ()


def _expect_keys(
    obj: Any, where: str, file: str | None, required: set[str], optional: set[str]
) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise SchemaError(f"{where} must be an object", location=Location(file, None, where))
    unknown = sorted(set(obj) - required - optional)
    if unknown:
        raise SchemaError(
            f"unknown key {unknown[0]!r} in {where}",
            location=Location(file, None, f"{where}.{unknown[0]}"),
        )
    missing = sorted(required - set(obj))
    if missing:
        raise SchemaError(
            f"missing key {missing[0]!r} in {where}",
            location=Location(file, None, f"{where}.{missing[0]}"),
        )
    return obj


def _typed(value: Any, kind: type, where: str, file: str | None) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SchemaError(
            f"{where} must be a {kind.__name__}, found {json.dumps(value)}",
            location=Location(file, None, where),
        )
    return value


def _address_ref(value: Any, where: str, file: str | None) -> str:
    text = _typed(value, str, where, file)
    if _ACCOUNT_REF.match(text) or _ADDRESS.match(text):
        return str(text)
    raise SchemaError(
        f"{where} must be a 0x address or 'account:N' (a dev account), found {text!r}",
        location=Location(file, None, where),
    )


def _amount(value: Any, where: str, file: str | None) -> int:
    text = _typed(value, str, where, file)
    if not re.fullmatch(r"0|[1-9][0-9]{0,77}", text):
        raise SchemaError(
            f"{where} must be a non-negative integer in base units as a decimal string, "
            f"found {text!r}",
            location=Location(file, None, where),
        )
    return int(text)


def parse_scenario(doc: Any, file: str | None = None) -> Scenario:
    """Validate a scenario document strictly (unknown keys are an error).

    Args:
        doc: The decoded JSON.
        file: Its file name, for error locations.

    Returns:
        The scenario.

    Raises:
        SchemaError: The document does not have the ``porv.scenario/1`` shape.
    """
    top = _expect_keys(
        doc,
        "scenario",
        file,
        {"format", "issuer", "token", "chains"},
        {"registry", "description", "policy", "safes"},
    )
    if top["format"] != SCENARIO_FORMAT:
        raise SchemaError(
            f"format must be {SCENARIO_FORMAT!r}, found {top['format']!r}",
            location=Location(file, None, "format"),
        )
    if "description" in top:
        _typed(top["description"], str, "description", file)
    issuer = _typed(top["issuer"], str, "issuer", file)
    tok = _expect_keys(top["token"], "token", file, {"symbol", "decimals", "currency"}, {"name"})
    symbol = _typed(tok["symbol"], str, "token.symbol", file)
    name = _typed(tok.get("name", symbol), str, "token.name", file)
    decimals = _typed(tok["decimals"], int, "token.decimals", file)
    if not 0 <= decimals <= 36:
        raise SchemaError("token.decimals must be 0..36", location=Location(file, None, "token"))
    currency = _typed(tok["currency"], str, "token.currency", file)

    chains_raw = _typed(top["chains"], list, "chains", file)
    if not chains_raw:
        raise SchemaError("chains must not be empty", location=Location(file, None, "chains"))
    chains: list[ChainPlan] = []
    seen_ids: set[int] = set()
    for i, raw in enumerate(chains_raw):
        where = f"chains[{i}]"
        obj = _expect_keys(
            raw,
            where,
            file,
            {"chain_id"},
            {"mints", "excluded", "multicall3", "registry", "start_timestamp", "eas"},
        )
        chain_id = _typed(obj["chain_id"], int, f"{where}.chain_id", file)
        if chain_id <= 0 or chain_id in seen_ids:
            raise SchemaError(
                f"{where}.chain_id must be positive and unique, found {chain_id}",
                location=Location(file, None, f"{where}.chain_id"),
            )
        seen_ids.add(chain_id)
        mints: list[Mint] = []
        for j, m in enumerate(_typed(obj.get("mints", []), list, f"{where}.mints", file)):
            mw = f"{where}.mints[{j}]"
            mobj = _expect_keys(m, mw, file, {"to", "amount"}, set())
            mints.append(
                Mint(_address_ref(mobj["to"], f"{mw}.to", file), _amount(mobj["amount"], mw, file))
            )
        excluded = tuple(
            _address_ref(e, f"{where}.excluded[{k}]", file)
            for k, e in enumerate(_typed(obj.get("excluded", []), list, f"{where}.excluded", file))
        )
        start_ts = obj.get("start_timestamp")
        if start_ts is not None:
            _typed(start_ts, int, f"{where}.start_timestamp", file)
        chains.append(
            ChainPlan(
                chain_id=chain_id,
                mints=tuple(mints),
                excluded=excluded,
                multicall3=_typed(obj.get("multicall3", True), bool, f"{where}.multicall3", file),
                registry=_typed(obj.get("registry", False), bool, f"{where}.registry", file),
                start_timestamp=start_ts,
                eas=_typed(obj.get("eas", False), bool, f"{where}.eas", file),
            )
        )

    safes = _parse_safes(top.get("safes", []), chains, file)
    custodians: list[CustodianPlan] = []
    registry_decimals: int | None = None
    if "registry" in top:
        reg = _expect_keys(top["registry"], "registry", file, set(), {"custodians", "decimals"})
        if "decimals" in reg:
            registry_decimals = _typed(reg["decimals"], int, "registry.decimals", file)
        for i, c in enumerate(_typed(reg.get("custodians", []), list, "registry.custodians", file)):
            where = f"registry.custodians[{i}]"
            cobj = _expect_keys(c, where, file, {"id", "signers"}, {"threshold", "eip1271"})
            signers = tuple(
                _address_ref(s, f"{where}.signers[{k}]", file)
                for k, s in enumerate(_typed(cobj["signers"], list, f"{where}.signers", file))
            )
            wallets = _safe_refs(cobj.get("eip1271", []), len(safes), f"{where}.eip1271", file)
            keys = len(signers) + len(wallets)
            threshold = _typed(cobj.get("threshold", 1), int, f"{where}.threshold", file)
            if "threshold" in cobj and not 1 <= threshold <= keys:
                raise SchemaError(
                    f"{where}.threshold must be 1..{keys} (the number of signers and Safes), "
                    f"found {threshold}",
                    location=Location(file, None, f"{where}.threshold"),
                )
            custodians.append(
                CustodianPlan(
                    _typed(cobj["id"], str, f"{where}.id", file), signers, threshold, wallets
                )
            )
    pol = _expect_keys(
        top.get("policy", {}), "policy", file, set(), {"jurisdictions", "max_age", "min_coverage"}
    )
    packs = _typed(pol.get("jurisdictions", []), list, "policy.jurisdictions", file)
    jurisdictions = tuple(
        _typed(j, str, f"policy.jurisdictions[{i}]", file) for i, j in enumerate(packs)
    )
    return Scenario(
        issuer=issuer,
        name=name,
        symbol=symbol,
        decimals=decimals,
        currency=currency,
        chains=tuple(chains),
        custodians=tuple(custodians),
        registry_decimals=registry_decimals,
        jurisdictions=jurisdictions,
        max_age=_typed(pol.get("max_age", "35d"), str, "policy.max_age", file),
        min_coverage=_typed(pol.get("min_coverage", "1.00"), str, "policy.min_coverage", file),
        safes=safes,
    )


def _parse_safes(raw: Any, chains: Sequence[ChainPlan], file: str | None) -> tuple[SafePlan, ...]:
    """The scenario's ``safes``: ``[{"owners": [...], "threshold": N, "chain_id"?: id}]``."""
    out: list[SafePlan] = []
    ids = [c.chain_id for c in chains]
    items = _typed(raw, list, "safes", file)
    if items:
        from verifier.devnet.safe import RESERVED_OWNERS
    for i, item in enumerate(items):
        where = f"safes[{i}]"
        obj = _expect_keys(item, where, file, {"owners", "threshold"}, {"chain_id"})
        owners_raw = _typed(obj["owners"], list, f"{where}.owners", file)
        if not 1 <= len(owners_raw) <= MAX_SAFE_OWNERS:
            raise SchemaError(
                f"{where}.owners must list 1..{MAX_SAFE_OWNERS} owners, found {len(owners_raw)}",
                location=Location(file, None, f"{where}.owners"),
            )
        owners = tuple(
            _address_ref(o, f"{where}.owners[{k}]", file) for k, o in enumerate(owners_raw)
        )
        for k, owner in enumerate(owners):
            if _ADDRESS.match(owner) and int(owner, 16) in RESERVED_OWNERS:
                raise SchemaError(
                    f"{where}.owners[{k}] {owner} cannot own a Safe (Safe's setup refuses the "
                    "zero address and its owner-list sentinel 0x…01)",
                    location=Location(file, None, f"{where}.owners[{k}]"),
                )
            if owner.lower() in (o.lower() for o in owners[:k]):
                raise SchemaError(
                    f"{where}.owners[{k}] repeats owner {owner}",
                    location=Location(file, None, f"{where}.owners[{k}]"),
                )
        threshold = _typed(obj["threshold"], int, f"{where}.threshold", file)
        if not 1 <= threshold <= len(owners):
            raise SchemaError(
                f"{where}.threshold must be 1..{len(owners)} (the number of owners), "
                f"found {threshold}",
                location=Location(file, None, f"{where}.threshold"),
            )
        chain_id = _typed(obj.get("chain_id", ids[0]), int, f"{where}.chain_id", file)
        if chain_id not in ids:
            raise SchemaError(
                f"{where}.chain_id {chain_id} is not one of the scenario's chains "
                f"({', '.join(str(c) for c in ids)})",
                location=Location(file, None, f"{where}.chain_id"),
            )
        out.append(SafePlan(owners, threshold, chain_id))
    return tuple(out)


def _safe_refs(raw: Any, count: int, where: str, file: str | None) -> tuple[str, ...]:
    """A custodian's ``eip1271``: ``safe:N`` references to the scenario's ``safes``, once each."""
    refs: list[str] = []
    for k, item in enumerate(_typed(raw, list, where, file)):
        text = _typed(item, str, f"{where}[{k}]", file)
        m = _SAFE_REF.match(text)
        if not m or int(m.group(1)) >= count or text in refs:
            raise SchemaError(
                f"{where}[{k}] must be 'safe:N' naming one of the scenario's {count} Safe(s) "
                f"(safes[N]) once, found {text!r}",
                location=Location(file, None, f"{where}[{k}]"),
            )
        refs.append(text)
    return tuple(refs)


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and validate a scenario file.

    Args:
        path: A ``porv.scenario/1`` JSON file.

    Returns:
        The scenario.

    Raises:
        SchemaError: The file cannot be read, is not valid JSON, or lacks the scenario shape.
    """
    from verifier.local.jsonio import load_json_file

    file = str(path)
    doc = load_json_file(file)  # the shared strict reader: size cap, no duplicate keys
    return parse_scenario(doc, file)


#: The demo scenario, also shipped as ``fixtures/scenarios/demo.json`` (a test keeps them equal),
#: so that an installed porv can run ``porv devnet up`` without the repository.
DEMO_SCENARIO: dict[str, Any] = {
    "format": "porv.scenario/1",
    "description": "pUSD (6 decimals) on two local chains, an excluded treasury on each, a "
    "registry, EAS and Multicall3 on chain 31337. Amounts are base units. Signers are "
    "the public test-only keys fixtures/keys/secp256k1-0.key and -1.key. The Safe (2 of 3, on "
    "the first chain) is owned by the demo's custodian A keys.",
    "issuer": "Example Issuer Ltd",
    "token": {"name": "Porv USD", "symbol": "pUSD", "decimals": 6, "currency": "USD"},
    "chains": [
        {
            "chain_id": 31337,
            "multicall3": True,
            "registry": True,
            "eas": True,
            "mints": [
                {"to": "account:1", "amount": "120000000000000"},
                {"to": "account:2", "amount": "30000000000000"},
                {"to": "account:9", "amount": "25000000000000"},
            ],
            "excluded": ["account:9"],
        },
        {
            "chain_id": 31338,
            "multicall3": True,
            "mints": [
                {"to": "account:3", "amount": "60000000000000"},
                {"to": "account:9", "amount": "10000000000000"},
            ],
            "excluded": ["account:9"],
        },
    ],
    "safes": [
        {
            "owners": [
                "0x4Bb58E9b241E11488A817DF4DaF653e32d7D0b02",
                "0x7c26D4D8C2BD9414534a49A6e1e9914C38d3c071",
                "0x75c4A7Ff722e1D070d4A845123BEc75c0e851c1f",
            ],
            "threshold": 2,
        }
    ],
    "registry": {
        "decimals": 6,
        "custodians": [
            {"id": "custodian-a", "signers": ["0xB25c1d4453438c0D7E751AD5b03374E0C64b865D"]},
            {"id": "custodian-b", "signers": ["0xfB6C4A87f40dB514558194b6e432074C9FfD3D28"]},
        ],
    },
}


def demo_scenario() -> Scenario:
    """The built-in demo scenario (two chains, pUSD, a treasury excluded on each, a registry).

    Returns:
        The parsed scenario.
    """
    return parse_scenario(DEMO_SCENARIO, "<built-in demo scenario>")


def default_scenario_path() -> Path | None:
    """The shipped demo scenario (``fixtures/scenarios/demo.json``), if porv's repo is around."""
    return find_repo_file("fixtures/scenarios/demo.json")


@dataclass
class ChainInfo:
    """One started chain of a devnet and what was deployed on it."""

    node: Node
    token: str
    multicall3: str | None
    excluded: tuple[str, ...]
    holders: dict[str, int]
    registry: str | None
    accounts: tuple[str, ...]
    block_number: int
    #: the timestamp of block ``block_number``, the last of the deployment (unix seconds)
    block_time: int = 0
    #: EAS and its SchemaRegistry, where the scenario asks for them (``"eas": true``)
    eas: str | None = None
    schema_registry: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON form (addresses checksummed, amounts as decimal strings)."""
        from verifier.model.timeutil import format_rfc3339

        return {
            "chain_id": self.node.chain_id,
            "kind": self.node.kind,
            "rpc": self.node.url,
            "pid": self.node.pid,
            "token": self.token,
            "multicall3": self.multicall3,
            "registry": self.registry,
            "eas": self.eas,
            "schema_registry": self.schema_registry,
            "excluded": list(self.excluded),
            "balances": {k: str(v) for k, v in self.holders.items()},
            "deployer": self.accounts[0],
            "block_number": self.block_number,
            "block_time": format_rfc3339(self.block_time),
        }


@dataclass
class SafeInfo:
    """A Safe a scenario created: its address, chain, owners (checksummed) and threshold."""

    address: str
    chain_id: int
    owners: tuple[str, ...]
    threshold: int

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "address": self.address,
            "chain_id": self.chain_id,
            "owners": list(self.owners),
            "threshold": self.threshold,
        }


@dataclass
class DevnetInfo:
    """Every chain a scenario started, with addresses; :meth:`stop` stops them all."""

    kind: str
    scenario: Scenario
    chains: list[ChainInfo]
    #: the scenario's Safes, in its order (``safe:N`` is ``safes[N]``)
    safes: list[SafeInfo] = field(default_factory=list)

    @property
    def nodes(self) -> list[Node]:
        """The running nodes."""
        return [c.node for c in self.chains]

    def chain(self, chain_id: int) -> ChainInfo:
        """The chain with this id.

        Raises:
            KeyError: No such chain in this devnet.
        """
        for c in self.chains:
            if c.node.chain_id == chain_id:
                return c
        raise KeyError(chain_id)

    def deployments(self) -> list[dict[str, Any]]:
        """The token deployments in the policy/bundle shape ``{chain_id, address, excluded}``."""
        return [
            {"chain_id": c.node.chain_id, "address": c.token, "excluded": list(c.excluded)}
            for c in self.chains
        ]

    def custodians(self) -> list[tuple[str, tuple[str, ...], int]]:
        """The scenario's registry custodians: ``(id, checksummed signers, threshold)``, each
        ``account:N`` resolved to that dev account (the same on every chain of a devnet)."""
        accounts = self.chains[0].accounts if self.chains else ()
        return [
            (c.id, tuple(_resolve(s, accounts) for s in c.signers), c.threshold)
            for c in self.scenario.custodians
        ]

    def custodian_wallets(self, custodian_id: str) -> list[SafeInfo]:
        """The Safes the scenario's custodian pins under ``eip1271`` (its ``safe:N``)."""
        plan = next((c for c in self.scenario.custodians if c.id == custodian_id), None)
        refs = plan.eip1271 if plan is not None else ()
        return [self.safes[int(ref.split(":")[1])] for ref in refs]

    @property
    def deployed_at(self) -> int:
        """The latest chain's last deployment block time (unix seconds): from then on, every
        deployment and mint counts (the earliest ``as_of`` that sees the whole scenario)."""
        return max((c.block_time for c in self.chains), default=0)

    def to_json(self) -> dict[str, Any]:
        """What ``porv devnet up`` prints."""
        from verifier.model.timeutil import format_rfc3339

        return {
            "status": "ok",
            "kind": self.kind,
            "issuer": self.scenario.issuer,
            "token": {
                "name": self.scenario.name,
                "symbol": self.scenario.symbol,
                "decimals": self.scenario.decimals,
                "currency": self.scenario.currency,
            },
            "chains": [c.to_json() for c in self.chains],
            "deployments": self.deployments(),
            "rpc": {str(c.node.chain_id): c.node.url for c in self.chains},
            "deployed_at": format_rfc3339(self.deployed_at),
            "safes": [s.to_json() for s in self.safes],
        }

    def stop(self) -> None:
        """Stop every node (idempotent)."""
        for c in self.chains:
            c.node.stop()

    def __enter__(self) -> DevnetInfo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _resolve(ref: str, accounts: Sequence[str]) -> str:
    from eth_utils.address import to_checksum_address

    m = _ACCOUNT_REF.match(ref)
    if m:
        index = int(m.group(1))
        if index >= len(accounts):
            raise InputError(
                f"{ref} does not exist: the chain has {len(accounts)} dev accounts",
                location=Location(None, None, ref),
            )
        return str(to_checksum_address(accounts[index]))
    return str(to_checksum_address(ref))


def _distinct_owners(scenario: Scenario, safe: SafePlan, owners: Sequence[str]) -> None:
    """``account:N`` and that account's address are one owner: refused naming the field."""
    index = next(i for i, s in enumerate(scenario.safes) if s is safe)
    for k, owner in enumerate(owners):
        if owner in owners[:k]:
            first = safe.owners[owners.index(owner)]
            raise InputError(
                f"safes[{index}].owners[{k}] {safe.owners[k]} is owner {first} again "
                f"({owner}): a Safe's owners are distinct",
                location=Location(None, None, f"safes[{index}].owners[{k}]"),
            )


def run_scenario(
    kind: str, scenario: Scenario, *, genesis_time: int | None = None, port: int | None = None
) -> DevnetInfo:
    """Start one chain of ``kind`` per scenario chain and deploy the scenario on them.

    On each chain, dev account 0 deploys and owns the token (``TestStablecoin``), Multicall3
    and, where asked, the registry; then the mints run in order.

    Args:
        kind: ``"embedded"``, ``"anvil"`` or ``"hardhat"``.
        scenario: What to deploy (see :func:`load_scenario`).
        genesis_time: Every chain's genesis time (unix seconds); their clocks then run that
            far behind the wall clock. Default: now.
        port: The first chain's port on 127.0.0.1; the next chains take the ports after it.
            Default: free ones.

    Returns:
        The running devnet; call :meth:`DevnetInfo.stop` (or use ``with``) to stop it.

    Raises:
        InputError: Unknown kind, or a scenario reference to a missing dev account.
        IncompleteError: A node could not start or a deployment failed.
    """
    from verifier.devnet import deploy as dep

    if kind not in KINDS:
        raise InputError(f"unknown chain kind {kind!r}", hint=f"one of: {', '.join(KINDS)}")
    started: list[ChainInfo] = []
    made: dict[int, SafeInfo] = {}
    try:
        for i, plan in enumerate(scenario.chains):
            node = start_node(
                kind,
                plan.chain_id,
                genesis_time=genesis_time,
                port=None if port is None else port + i,
            )
            try:
                if plan.start_timestamp is not None:
                    dep.set_next_timestamp(node.url, plan.start_timestamp)
                accounts = tuple(dep.accounts(node.url))
                owner = accounts[0]
                token = dep.deploy(
                    node.url,
                    "TestStablecoin",
                    scenario.name,
                    scenario.symbol,
                    scenario.decimals,
                    sender=owner,
                )
                multicall = (
                    dep.deploy(node.url, "Multicall3", sender=owner) if plan.multicall3 else None
                )
                registry = None
                if plan.registry:
                    from verifier.devnet.registry import deploy_registry, register_signer

                    registry = deploy_registry(
                        node.url,
                        scenario.issuer,
                        scenario.symbol,
                        scenario.currency,
                        scenario.registry_decimals
                        if scenario.registry_decimals is not None
                        else scenario.decimals,
                        sender=owner,
                    )
                    for cust in scenario.custodians:
                        for signer in cust.signers:
                            register_signer(
                                node.url, registry, cust.id, _resolve(signer, accounts), owner
                            )
                schema_registry = eas = None
                if plan.eas:
                    from verifier.devnet.eas import deploy_eas

                    schema_registry, eas = deploy_eas(node.url, sender=owner)
                chain_safes = [s for s in scenario.safes if s.chain_id == plan.chain_id]
                if chain_safes:  # the Safe contracts once per chain that needs them
                    from verifier.devnet.safe import create_safe, deploy_safe_infra

                    infra = deploy_safe_infra(node.url, sender=owner)
                    for number, safe in enumerate(chain_safes):
                        owners = tuple(_resolve(o, accounts) for o in safe.owners)
                        _distinct_owners(scenario, safe, owners)
                        address = create_safe(
                            node.url, infra, owners, safe.threshold, salt=number, sender=owner
                        )
                        made[id(safe)] = SafeInfo(address, plan.chain_id, owners, safe.threshold)
                holders: dict[str, int] = {}
                for mint in plan.mints:
                    to = _resolve(mint.to, accounts)
                    dep.token_mint(node.url, token, to, mint.amount, sender=owner)
                    holders[to] = holders.get(to, 0) + mint.amount
                excluded = tuple(_resolve(e, accounts) for e in plan.excluded)
                head = rpc_request(node.url, "eth_getBlockByNumber", ["latest", False])
                block = int(str(head["number"]), 16)
                block_time = int(str(head["timestamp"]), 16)
            except BaseException:
                node.stop()
                raise
            started.append(
                ChainInfo(
                    node=node,
                    token=token,
                    multicall3=multicall,
                    excluded=excluded,
                    holders=holders,
                    registry=registry,
                    accounts=accounts,
                    block_number=block,
                    block_time=block_time,
                    eas=eas,
                    schema_registry=schema_registry,
                )
            )
    except BaseException:
        for c in started:
            c.node.stop()
        raise
    safes = [made[id(s)] for s in scenario.safes]
    return DevnetInfo(kind=kind, scenario=scenario, chains=started, safes=safes)
