"""porv's pytest plugin: local chains, a deployed scenario, signed bundles and verification.

Registered as the ``pytest11`` entry point ``porv``: installing porv makes these fixtures
available in every pytest run (README, "Testing your project with porv (pytest plugin)").

Fixtures:

* ``porv_chain``: one running local chain (chain id 31337) for the session, of the kind
  ``--porv-chain`` names (``embedded``, the default, needs nothing else; ``anvil`` and
  ``hardhat`` need their npm packages).
* ``porv_start_chain``: factory ``(kind, chain_id) -> Node`` for more chains; each is stopped
  after the test.
* ``porv_scenario``: what ``porv_devnet`` deploys: ``--porv-scenario FILE`` (or the ini
  option ``porv_scenario``), else porv's built-in demo scenario. Override the fixture to
  return a :class:`~verifier.devnet.scenarios.Scenario`, a ``porv.scenario/1`` document or
  a file path.
* ``porv_devnet``: that scenario deployed on chains of the chosen kind, for the session
  (a :class:`~verifier.devnet.scenarios.DevnetInfo`; ``to_json()`` is what
  ``porv devnet up`` prints).
* ``porv_bundle``: builder ``(holdings, ...) -> PorvBundle``: holdings rows (a list of
  dicts, or CSV text) signed with porv's demo keys into a bundle and a policy for the
  devnet, written to the test's ``tmp_path``.
* ``porv_verify``: ``(bundle, policy=None, *, now=None, state_dir=None) -> Outcome``
  (:func:`verifier.verify`; ``now`` defaults to the real clock).

Nodes are stopped when the session ends, also when it is interrupted: Ctrl-C makes pytest tear
the session down, SIGTERM is turned into the same interruption, and whatever node is still
registered with :mod:`verifier.local.interrupts` is killed when pytest unconfigures.

pytest loads this module in every run of every project where porv is installed: it imports
nothing heavy (web3, the crypto stacks, the devnet tooling) until a fixture is used.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from verifier.checks.bundle import Outcome
    from verifier.devnet.node import Node
    from verifier.devnet.scenarios import DevnetInfo, Scenario

#: The chain kinds ``--porv-chain`` accepts (:data:`verifier.devnet.nodes.KINDS`, spelled out
#: so that loading the plugin imports no devnet code; a test keeps them equal).
CHAIN_KINDS: tuple[str, ...] = ("embedded", "anvil", "hardhat")
DEFAULT_CHAIN = "embedded"
#: The chain id of ``porv_chain``.
CHAIN_ID = 31337
#: The jurisdictions whose rule packs the policies of ``porv_bundle`` name by default.
DEFAULT_JURISDICTIONS: tuple[str, ...] = ("genius", "hkma", "mas")

#: Holdings for one custodian: a list of rows (dicts keyed by the CSV columns of DESIGN §2) or
#: the CSV text itself.
Holdings = str | Sequence[Mapping[str, Any]]


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--porv-chain`` and ``--porv-scenario``, and their ini twins."""
    group = parser.getgroup("porv", "porv local chains (porv_* fixtures)")
    group.addoption(
        "--porv-chain",
        choices=CHAIN_KINDS,
        default=None,
        help="kind of local chain for porv_chain and porv_devnet "
        f"(default: the ini option porv_chain, else {DEFAULT_CHAIN})",
    )
    group.addoption(
        "--porv-scenario",
        metavar="FILE",
        default=None,
        help="porv.scenario/1 file that porv_devnet deploys "
        "(default: the ini option porv_scenario, else porv's built-in demo scenario)",
    )
    parser.addini("porv_chain", f"porv_chain/porv_devnet chain kind (default {DEFAULT_CHAIN})")
    parser.addini("porv_scenario", "porv.scenario/1 file for porv_devnet, relative to rootdir")


def pytest_configure(config: pytest.Config) -> None:
    """Refuse an unknown ``porv_chain`` ini value before any test runs."""
    kind = chain_kind(config)
    if kind not in CHAIN_KINDS:
        raise pytest.UsageError(
            f"porv_chain = {kind!r} is not a chain kind; one of: {', '.join(CHAIN_KINDS)}"
        )


def pytest_unconfigure(config: pytest.Config) -> None:
    """Last line of defence: kill any node still registered (a teardown that was cut short),
    and give SIGTERM back its previous handler."""
    _kill_registered_nodes()
    _restore_sigterm()


def chain_kind(config: pytest.Config) -> str:
    """The chain kind of this run: ``--porv-chain``, else the ini ``porv_chain``, else
    ``embedded``."""
    value = config.getoption("porv_chain", None) or config.getini("porv_chain")
    return str(value or DEFAULT_CHAIN).strip()


# --- starting chains (porv's own tests use these too) -----------------------------------------


def start_chain(
    kind: str,
    chain_id: int = CHAIN_ID,
    *,
    genesis_time: int | None = None,
    port: int | None = None,
) -> Node:
    """Start a local chain for a test; stop it with ``node.stop()``.

    A chain that cannot start (a kind that is not installed, a taken port) fails the test with
    porv's diagnostics and hint, never a skip.
    """
    from verifier.devnet.nodes import start_node
    from verifier.errors import PorvError

    _stop_on_sigterm()
    try:
        return start_node(kind, chain_id, genesis_time=genesis_time, port=port)
    except PorvError as exc:
        pytest.fail(f"cannot start {kind} (chain id {chain_id}): {exc.diagnostics()}", False)


def start_devnet(kind: str, scenario: Scenario) -> DevnetInfo:
    """Start a scenario's chains and deploy it; stop them with ``info.stop()``.

    The chains' clocks run :data:`verifier.app.demo.CLOCK_LAG_S` behind the wall clock, as
    the demo's do, so an ``as_of`` taken from a block is never after the verifier's clock.
    """
    from verifier.app.demo import CLOCK_LAG_S
    from verifier.devnet.scenarios import run_scenario
    from verifier.errors import PorvError

    _stop_on_sigterm()
    try:
        return run_scenario(kind, scenario, genesis_time=int(time.time()) - CLOCK_LAG_S)
    except PorvError as exc:
        pytest.fail(f"cannot start the {kind} devnet: {exc.diagnostics()}", False)


def as_scenario(value: Any, *, base: Path | None = None) -> Scenario:
    """A scenario from what a ``porv_scenario`` fixture returns: a
    :class:`~verifier.devnet.scenarios.Scenario`, a ``porv.scenario/1`` document (dict), a
    file path (relative to ``base``), or None for the built-in demo scenario.

    Raises:
        SchemaError: the document or file is not a valid scenario.
    """
    from verifier.devnet.scenarios import Scenario, demo_scenario, load_scenario, parse_scenario

    if value is None:
        return demo_scenario()
    if isinstance(value, Scenario):
        return value
    if isinstance(value, Mapping):
        return parse_scenario(dict(value), "<porv_scenario fixture>")
    if isinstance(value, str | os.PathLike):
        path = Path(value)
        return load_scenario(path if base is None or path.is_absolute() else base / path)
    raise TypeError(
        "porv_scenario must return a Scenario, a porv.scenario/1 dict, a file path or None; "
        f"got {type(value).__name__}"
    )


# --- bundles -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PorvBundle:
    """What ``porv_bundle`` wrote, and the public parts of the keys that signed it.

    Attributes:
        bundle: The signed ``porv.bundle/1`` file.
        policy: A ``porv.policy/1`` pinning the devnet's deployments, its RPC URLs and the keys.
        state: An empty state folder for ``porv verify --state-dir`` (the rollback floor).
        workdir: The folder holding them, the holdings CSVs, trees and attestations.
        as_of: The bundle's ``as_of`` (unix seconds).
        custodians: The custodian ids in the bundle.
        public_keys: ``custodian-a``: its three secp256k1 signer addresses (two sign);
            ``custodian-b``: its three BLS public keys (two sign); ``auditors``: the two
            auditors' BLS public keys (both sign). Hex with ``0x``. Demo keys: never hold value.
        trees: custodian id -> its holdings tree file.
        attestations: custodian id -> its signed attestation file.
    """

    bundle: Path
    policy: Path
    state: Path
    workdir: Path
    as_of: int
    custodians: tuple[str, ...]
    public_keys: dict[str, list[str]]
    trees: dict[str, Path] = field(default_factory=dict)
    attestations: dict[str, Path] = field(default_factory=dict)


def holdings_csv_text(rows: Holdings) -> str:
    """Holdings rows as CSV text: CSV text is kept as it is; the header of a list of dicts is
    the required columns of DESIGN §2, then any other key in first-seen order; a missing or
    None cell is empty. The CSV reader (:func:`verifier.local.loaders.parse_holdings_csv`)
    judges the result."""
    from verifier.model.holdings import CSV_REQUIRED

    if isinstance(rows, str):
        return rows
    columns: dict[str, None] = dict.fromkeys(CSV_REQUIRED)
    for row in rows:
        columns.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else str(v) for k, v in row.items()})
    return out.getvalue()


def public_keys() -> dict[str, list[str]]:
    """The public parts of the demo keys that ``porv_bundle`` signs with."""
    from verifier.app.demo import custodian_keys
    from verifier.signatures import bls, secp256k1

    keys = custodian_keys()
    return {
        "custodian-a": [secp256k1.address_of(k) for k in keys["a"]],
        "custodian-b": ["0x" + bls.secret_to_pubkey(k).hex() for k in keys["b"]],
        "auditors": ["0x" + bls.secret_to_pubkey(k).hex() for k in keys["auditors"]],
    }


def build_bundle(
    workdir: Path,
    devnet: DevnetInfo,
    holdings: Holdings | Mapping[str, Holdings],
    *,
    as_of: int | None = None,
    valid_days: int = 30,
    sequence: int = 1,
    jurisdictions: Sequence[str] = DEFAULT_JURISDICTIONS,
    finality: str | int = "latest",
    mutate: Callable[[dict[str, Any]], None] | None = None,
) -> PorvBundle:
    """Sign holdings into a bundle and a policy for ``devnet`` (the demo's builders).

    Args:
        holdings: One custodian's rows (signed as ``custodian-a``: 2 of 3 secp256k1 keys), or
            ``{"custodian-a": rows, "custodian-b": rows}`` (``custodian-b``: 2 of 3 BLS keys).
        as_of: Default: the latest block time over the devnet's chains, so every mint so far
            counts. Either way one empty block after ``as_of`` is mined on each chain, so the
            pin at ``as_of`` is final under ``finality = "latest"``.
        jurisdictions: The rule packs the policy names (``()`` for none).
        mutate: Edits the bundle document before it is written.

    Raises:
        InputError: an unknown custodian id; CsvError: a row breaks a rule of DESIGN §2.
    """
    from verifier.app.demo import deployments_of, latest_time, seal_as_of, write_demo_files
    from verifier.model.bundle import TokenInfo

    per_custodian = holdings if isinstance(holdings, Mapping) else {"custodian-a": holdings}
    deployments = deployments_of(devnet)
    if as_of is None:
        as_of = latest_time(deployments)
    seal_as_of(deployments, as_of)
    plan = devnet.scenario
    files = write_demo_files(
        workdir,
        deployments,
        as_of=as_of,
        valid_days=valid_days,
        sequence=sequence,
        mutate=mutate,
        finality=finality,
        holdings={cid: holdings_csv_text(rows) for cid, rows in per_custodian.items()},
        issuer=plan.issuer,
        token=TokenInfo(plan.symbol, plan.currency, plan.decimals),
        jurisdictions=jurisdictions,
    )
    files.state.mkdir(exist_ok=True)
    return PorvBundle(
        bundle=files.bundle,
        policy=files.policy,
        state=files.state,
        workdir=files.workdir,
        as_of=as_of,
        custodians=tuple(files.trees),
        public_keys=public_keys(),
        trees=dict(files.trees),
        attestations=dict(files.attestations),
    )


def verify_bundle(
    bundle: PorvBundle | str | os.PathLike[str],
    policy: str | os.PathLike[str] | None = None,
    *,
    now: int | None = None,
    state_dir: str | os.PathLike[str] | None = None,
    **options: Any,
) -> Outcome:
    """:func:`verifier.verify` on a bundle and a policy.

    Args:
        bundle: A :class:`PorvBundle` (its policy and state folder are the defaults) or a
            bundle file.
        policy: The policy file (required with a bundle file).
        now: Unix seconds; default: the real clock.
        state_dir: The rollback-floor folder; default: the :class:`PorvBundle`'s, else none.
        options: More keyword arguments of :func:`verifier.verify` (``rpc_overrides``, ...).

    Raises:
        PorvError: bad input (exit 2) or a run that could not complete (exit 3); a claim
            that does not hold is not raised but reported in the outcome.
    """
    import verifier

    if isinstance(bundle, PorvBundle):
        policy = bundle.policy if policy is None else policy
        state_dir = bundle.state if state_dir is None else state_dir
        bundle = bundle.bundle
    if policy is None:
        raise TypeError("porv_verify: give the policy file with a bundle file")
    clock = int(time.time()) if now is None else now
    return verifier.verify(bundle, policy, now=clock, state_dir=state_dir, **options)


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def porv_chain_kind(pytestconfig: pytest.Config) -> str:
    """The chain kind of this run (``--porv-chain``)."""
    return chain_kind(pytestconfig)


@pytest.fixture(scope="session")
def porv_chain(porv_chain_kind: str) -> Iterator[Node]:
    """A running local chain (chain id 31337) for the whole session, stopped at its end."""
    node = start_chain(porv_chain_kind, CHAIN_ID)
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture
def porv_start_chain() -> Iterator[Callable[..., Node]]:
    """Factory ``porv_start_chain(kind, chain_id=31337, *, genesis_time=None, port=None)``;
    every chain it started is stopped after the test."""
    started: list[Node] = []

    def factory(
        kind: str,
        chain_id: int = CHAIN_ID,
        *,
        genesis_time: int | None = None,
        port: int | None = None,
    ) -> Node:
        node = start_chain(kind, chain_id, genesis_time=genesis_time, port=port)
        started.append(node)
        return node

    try:
        yield factory
    finally:
        for node in reversed(started):
            node.stop()


@pytest.fixture(scope="session")
def porv_scenario(pytestconfig: pytest.Config) -> Any:
    """What ``porv_devnet`` deploys: ``--porv-scenario`` / ini ``porv_scenario`` (a file), or
    None for porv's built-in demo scenario. Override it (session scope) to return a
    ``Scenario``, a ``porv.scenario/1`` dict or a path."""
    option = pytestconfig.getoption("porv_scenario", None)
    if option:
        return Path(option).resolve()
    ini = str(pytestconfig.getini("porv_scenario") or "").strip()
    return pytestconfig.rootpath / ini if ini else None


@pytest.fixture(scope="session")
def porv_devnet(
    porv_chain_kind: str, porv_scenario: Any, pytestconfig: pytest.Config
) -> Iterator[DevnetInfo]:
    """The scenario deployed on chains of the chosen kind, for the session (shared by every
    test: a mint made by one test is seen by the next), stopped at the session's end."""
    from verifier.errors import PorvError

    try:
        scenario = as_scenario(porv_scenario, base=pytestconfig.rootpath)
    except PorvError as exc:
        pytest.fail(f"porv_scenario: {exc.diagnostics()}", False)
    net = start_devnet(porv_chain_kind, scenario)
    try:
        yield net
    finally:
        net.stop()


@pytest.fixture
def porv_bundle(porv_devnet: DevnetInfo, tmp_path: Path) -> Callable[..., PorvBundle]:
    """Builder ``porv_bundle(holdings, *, as_of=None, valid_days=30, sequence=1,
    jurisdictions=("genius", "hkma", "mas"), finality="latest", mutate=None) -> PorvBundle``:
    the holdings signed into a bundle and a policy for ``porv_devnet``, under ``tmp_path``."""
    counter = itertools.count(1)

    def build(holdings: Holdings | Mapping[str, Holdings], **options: Any) -> PorvBundle:
        workdir = tmp_path / f"porv-bundle-{next(counter)}"
        return build_bundle(workdir, porv_devnet, holdings, **options)

    return build


@pytest.fixture
def porv_verify() -> Callable[..., Outcome]:
    """Helper ``porv_verify(bundle, policy=None, *, now=None, state_dir=None, **options)``
    returning the :class:`verifier.Outcome` (``status``, ``exit_code``, ``result``,
    ``failures``); ``now`` defaults to the real clock."""
    return verify_bundle


# --- interruptions ---------------------------------------------------------------------------

_sigterm: dict[str, Any] = {}


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    if _sigterm.get("fired"):  # a second SIGTERM: no more unwinding
        _kill_registered_nodes()
        os._exit(128 + signum)
    _sigterm["fired"] = True
    raise KeyboardInterrupt("SIGTERM")


def _stop_on_sigterm() -> None:
    """Make SIGTERM interrupt the run like Ctrl-C does, so that pytest tears the session down
    and the nodes stop (only where SIGTERM still has its default action)."""
    if "previous" in _sigterm or threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return
    _sigterm["previous"] = signal.signal(signal.SIGTERM, _on_sigterm)


def _restore_sigterm() -> None:
    previous = _sigterm.pop("previous", None)
    _sigterm.pop("fired", None)
    if previous is not None and signal.getsignal(signal.SIGTERM) is _on_sigterm:
        signal.signal(signal.SIGTERM, previous)


def _kill_registered_nodes() -> None:
    interrupts = sys.modules.get("verifier.local.interrupts")
    if interrupts is not None:
        interrupts.run_cleanups()
