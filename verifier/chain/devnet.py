"""Local chains for tests, the demo and ``porv devnet up``: embedded, anvil and hardhat.

Every chain is reached through a JSON-RPC URL on ``127.0.0.1:<free port>``. anvil and hardhat
are child processes started in their own process group and stopped by PID (SIGTERM, then
SIGKILL after a timeout), so nothing outlives :meth:`Node.stop`. The embedded chain
(:mod:`verifier.chain.embedded`) runs in this process.

Tools come from the project's npm install: ``node_modules/.bin/anvil`` (or ``$PORV_ANVIL``) and
Hardhat 3 run by Node 22 from npm (``node_modules/.bin/node``; ``/usr/bin/node`` may be older),
found by walking up from the current directory and from this package's location.

A *scenario* (``porv.scenario/1``, see :func:`load_scenario`) describes what to deploy: one
token on one or more chains, mints, excluded (issuer-held) addresses, Multicall3, and
optionally a :class:`ReserveAttestationRegistry`; :func:`run_scenario` starts the chains and
deploys it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verifier.errors import IncompleteError, InputError, Location, SchemaError
from verifier.jsonio import parse_json

KINDS: tuple[str, ...] = ("embedded", "anvil", "hardhat")

#: How long to wait for a node to answer ``eth_chainId`` after starting it.
START_TIMEOUT = 60.0
#: How long to wait after SIGTERM before SIGKILL.
STOP_TIMEOUT = 5.0

_PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass
class Node:
    """A running local chain.

    Attributes:
        url: Its JSON-RPC URL (``http://127.0.0.1:<port>``).
        chain_id: The chain id it reports.
        kind: ``"embedded"``, ``"anvil"`` or ``"hardhat"``.
        pid: The node's process id, None for the in-process embedded chain.
    """

    url: str
    chain_id: int
    kind: str
    pid: int | None
    _stop: Callable[[], None] | None = field(default=None, repr=False)

    def stop(self) -> None:
        """Stop the node (idempotent): SIGTERM its process group, SIGKILL after a timeout."""
        stop, self._stop = self._stop, None
        if stop is not None:
            stop()

    @property
    def running(self) -> bool:
        """Whether :meth:`stop` has not been called yet."""
        return self._stop is not None

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- finding tools ----------------------------------------------------------------------------


def _search_roots() -> list[Path]:
    roots: list[Path] = []
    for start in (Path.cwd().resolve(), _PACKAGE_DIR):
        for folder in (start, *start.parents):
            if folder not in roots:
                roots.append(folder)
    return roots


def find_node_modules_file(relative: str) -> Path | None:
    """Find ``node_modules/<relative>`` walking up from the cwd and from porv's location.

    Args:
        relative: Path inside ``node_modules``, e.g. ``".bin/anvil"``.

    Returns:
        The first existing match, or None.
    """
    for root in _search_roots():
        candidate = root / "node_modules" / relative
        if candidate.exists():
            return candidate
    return None


def find_repo_file(relative: str) -> Path | None:
    """Find a file of porv's repository (e.g. the hardhat config) walking up as above.

    Args:
        relative: Path relative to the repository root.

    Returns:
        The first existing match, or None.
    """
    for root in _search_roots():
        candidate = root / relative
        if candidate.exists():
            return candidate
    return None


def anvil_binary() -> Path:
    """The anvil executable: ``$PORV_ANVIL`` or ``node_modules/.bin/anvil``.

    Returns:
        Its path.

    Raises:
        IncompleteError: anvil is not installed.
    """
    env = os.environ.get("PORV_ANVIL")
    if env:
        path = Path(env)
        if not path.exists():
            raise IncompleteError(f"PORV_ANVIL={env} does not exist")
        return path
    found = find_node_modules_file(".bin/anvil")
    if found is None:
        raise IncompleteError(
            "anvil not found (node_modules/.bin/anvil)",
            hint="run `npm install` in porv's repository, or set PORV_ANVIL",
        )
    # npm's .bin/anvil is a Node wrapper that spawns the platform binary installed beside it.
    # Run that binary directly when it is there: the PID porv holds is then anvil itself, which
    # it reaps on stop, rather than a wrapper whose child would be orphaned if the wrapper died.
    native = _native_anvil(found)
    return native if native is not None else found


def _native_anvil(wrapper: Path) -> Path | None:
    import platform

    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower()
    )
    system = platform.system().lower()
    if arch is None or system not in ("linux", "darwin"):
        return None
    scope = wrapper.resolve().parent.parent  # node_modules/@foundry-rs
    candidate = scope / f"anvil-{system}-{arch}" / "bin" / "anvil"
    return candidate if candidate.is_file() and os.access(candidate, os.X_OK) else None


def _hardhat_command() -> tuple[list[str], Path]:
    node = find_node_modules_file(".bin/node")
    cli = find_node_modules_file("hardhat/dist/src/cli.js")
    config = find_repo_file("devnet/hardhat/hardhat.config.ts")
    if node is None or cli is None or config is None:
        missing = [
            name
            for name, path in (
                ("node_modules/.bin/node (Node 22 from npm)", node),
                ("node_modules/hardhat", cli),
                ("devnet/hardhat/hardhat.config.ts", config),
            )
            if path is None
        ]
        raise IncompleteError(
            f"hardhat cannot start: missing {', '.join(missing)}",
            hint="run `npm install` in porv's repository",
        )
    if find_node_modules_file("@nomicfoundation/edr-linux-x64-gnu") is None and (
        os.uname().sysname == "Linux" and os.uname().machine == "x86_64"
    ):
        raise IncompleteError(
            "hardhat cannot start: its native EDR binding is not installed",
            hint=(
                "npm skips it when npm itself runs on Node < 22; run "
                '`PATH="$PWD/node_modules/node/bin:$PATH" npm install` in porv\'s repository'
            ),
        )
    return [str(node), str(cli), "--config", str(config)], config.parent


# --- processes ----------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post_json(url: str, payload: Any, *, timeout: float, what: str) -> Any:
    """POST a JSON-RPC payload (one call or a batch) to a local node; the decoded answer.

    Raises:
        IncompleteError: The node did not answer, or not with JSON.
    """
    req = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            # the shared reader: depth-capped before parsing, no repeated keys
            return parse_json(resp.read().decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise IncompleteError(f"{url}: {what} failed: {exc}") from exc


def rpc_request(url: str, method: str, params: Sequence[Any] = (), timeout: float = 10.0) -> Any:
    """One JSON-RPC call over HTTP, without web3 (used to probe and control nodes).

    Args:
        url: The node's URL.
        method: The JSON-RPC method.
        params: Its parameters.
        timeout: Seconds before giving up.

    Returns:
        The ``result`` member of the answer.

    Raises:
        IncompleteError: The node did not answer, or answered with an error.
    """
    payload = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    answer = post_json(url, payload, timeout=timeout, what=method)
    if not isinstance(answer, dict):
        raise IncompleteError(f"{url}: {method}: malformed answer {answer!r}")
    if "error" in answer:
        raise IncompleteError(f"{url}: {method}: {answer['error']}")
    return answer.get("result")


def _terminate(proc: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=timeout)
    else:
        # The leader is gone; make sure no child of its group is left behind.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def _spawn(
    kind: str,
    argv: list[str],
    chain_id: int,
    port: int,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = START_TIMEOUT,
    cleanup: Callable[[], None] | None = None,
) -> Node:
    from verifier import interrupts

    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop(), which owns the node
    with interrupts.deferred():  # an interrupt lands only once the group is registered
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() signals wrappers and children
        )

        def kill_now() -> None:
            _kill_group(proc)
            if cleanup is not None:
                cleanup()

        token = interrupts.on_interrupt(kill_now)
    url = f"http://127.0.0.1:{port}"

    stopped: list[bool] = []

    def stop() -> None:
        if stopped:
            return
        stopped.append(True)
        try:
            _terminate(proc)
        finally:
            interrupts.forget(token)
            log.close()
            if cleanup is not None:
                cleanup()

    try:
        return _await_node(kind, proc, log, url, chain_id, timeout, stop)
    except BaseException:  # an interrupt while waiting for the node to answer included
        stop()
        raise


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL a node's whole process group and reap it (on an interrupt: no waiting)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=1.0)


def _await_node(
    kind: str,
    proc: subprocess.Popen[bytes],
    log: Any,
    url: str,
    chain_id: int,
    timeout: float,
    stop: Callable[[], None],
) -> Node:
    """Wait until a just-started node answers ``eth_chainId`` with ``chain_id``."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            log.seek(0)
            tail = log.read()[-2000:].decode(errors="replace").strip()
            stop()
            raise IncompleteError(
                f"{kind} exited with code {proc.returncode} before answering on {url}",
                hint=tail or None,
            )
        try:
            answered = rpc_request(url, "eth_chainId", timeout=2.0)
        except IncompleteError:
            answered = None
        if answered is not None:
            if int(str(answered), 16) != chain_id:
                stop()
                raise IncompleteError(
                    f"{kind} on {url} reports chain id {answered}, not {chain_id}"
                )
            return Node(url=url, chain_id=chain_id, kind=kind, pid=proc.pid, _stop=stop)
        if time.monotonic() > deadline:
            stop()
            raise IncompleteError(f"{kind} did not answer on {url} within {timeout:.0f}s")
        time.sleep(0.1)


def start_anvil(chain_id: int = 31337, *, timeout: float = START_TIMEOUT) -> Node:
    """Start anvil on ``127.0.0.1:<free port>`` and wait until it answers ``eth_chainId``.

    Args:
        chain_id: The chain id anvil reports.
        timeout: Seconds to wait for it.

    Returns:
        The running node; stop it with :meth:`Node.stop` (or use it as a context manager).

    Raises:
        IncompleteError: anvil is missing, exits, or does not answer in time.
    """
    binary = anvil_binary()
    port = free_port()
    argv = [
        str(binary),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--chain-id",
        str(chain_id),
        "--silent",
    ]
    return _spawn("anvil", argv, chain_id, port, timeout=timeout)


def start_hardhat(chain_id: int = 31337, *, timeout: float = START_TIMEOUT) -> Node:
    """Start a Hardhat 3 node (Node 22 from npm) on ``127.0.0.1:<free port>``.

    Args:
        chain_id: The chain id the node reports.
        timeout: Seconds to wait for it.

    Returns:
        The running node.

    Raises:
        IncompleteError: hardhat or Node 22 is missing, exits, or does not answer in time.
    """
    command, config_dir = _hardhat_command()
    port = free_port()
    from verifier import interrupts

    with interrupts.deferred():
        workdir = tempfile.mkdtemp(prefix="porv-hardhat-")
        token = interrupts.on_interrupt(lambda: _remove_tree(workdir))
    env = dict(os.environ)
    env["PORV_HARDHAT_WORKDIR"] = workdir
    env["TMPDIR"] = workdir  # its caches (tsx) go where porv removes them when it stops
    env["HARDHAT_DISABLE_TELEMETRY_PROMPT"] = "true"
    env["DO_NOT_TRACK"] = "1"
    argv = [
        *command,
        "node",
        "--hostname",
        "127.0.0.1",
        "--port",
        str(port),
        "--chain-id",
        str(chain_id),
    ]

    def cleanup() -> None:
        interrupts.forget(token)
        _remove_tree(workdir)

    try:
        return _spawn(
            "hardhat",
            argv,
            chain_id,
            port,
            cwd=config_dir,
            env=env,
            timeout=timeout,
            cleanup=cleanup,
        )
    except BaseException:
        cleanup()
        raise


def _remove_tree(path: str) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def start_node(kind: str, chain_id: int = 31337) -> Node:
    """Start a local chain of the given kind.

    Args:
        kind: ``"embedded"``, ``"anvil"`` or ``"hardhat"``.
        chain_id: Its chain id.

    Returns:
        The running node.

    Raises:
        InputError: Unknown kind.
        IncompleteError: The node could not start.
    """
    if kind == "anvil":
        return start_anvil(chain_id)
    if kind == "hardhat":
        return start_hardhat(chain_id)
    if kind == "embedded":
        from verifier.chain.embedded import start_embedded

        return start_embedded(chain_id)
    raise InputError(f"unknown chain kind {kind!r}", hint=f"one of: {', '.join(KINDS)}")


def start_embedded(chain_id: int = 31337) -> Node:
    """Start an in-process embedded chain (see :func:`verifier.chain.embedded.start_embedded`).

    Args:
        chain_id: Its chain id.

    Returns:
        The running node (``pid`` is None).

    Raises:
        IncompleteError: eth-tester / py-evm are not installed.
    """
    from verifier.chain.embedded import start_embedded as _start

    return _start(chain_id)


# --- scenarios ----------------------------------------------------------------------------

SCENARIO_FORMAT = "porv.scenario/1"
_ACCOUNT_REF = re.compile(r"^account:([0-9]{1,2})\Z")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}\Z")


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


@dataclass(frozen=True)
class CustodianPlan:
    """A custodian id and the signer addresses the registry trusts for it."""

    id: str
    signers: tuple[str, ...]


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
        doc, "scenario", file, {"format", "issuer", "token", "chains"}, {"registry", "description"}
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
            {"mints", "excluded", "multicall3", "registry", "start_timestamp"},
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
            )
        )

    custodians: list[CustodianPlan] = []
    registry_decimals: int | None = None
    if "registry" in top:
        reg = _expect_keys(top["registry"], "registry", file, set(), {"custodians", "decimals"})
        if "decimals" in reg:
            registry_decimals = _typed(reg["decimals"], int, "registry.decimals", file)
        for i, c in enumerate(_typed(reg.get("custodians", []), list, "registry.custodians", file)):
            where = f"registry.custodians[{i}]"
            cobj = _expect_keys(c, where, file, {"id", "signers"}, set())
            signers = tuple(
                _address_ref(s, f"{where}.signers[{k}]", file)
                for k, s in enumerate(_typed(cobj["signers"], list, f"{where}.signers", file))
            )
            custodians.append(CustodianPlan(_typed(cobj["id"], str, f"{where}.id", file), signers))
    return Scenario(
        issuer=issuer,
        name=name,
        symbol=symbol,
        decimals=decimals,
        currency=currency,
        chains=tuple(chains),
        custodians=tuple(custodians),
        registry_decimals=registry_decimals,
    )


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and validate a scenario file.

    Args:
        path: A ``porv.scenario/1`` JSON file.

    Returns:
        The scenario.

    Raises:
        SchemaError: The file cannot be read, is not valid JSON, or lacks the scenario shape.
    """
    from verifier.jsonio import load_json_file

    file = str(path)
    doc = load_json_file(file)  # the shared strict reader: size cap, no duplicate keys
    return parse_scenario(doc, file)


#: The demo scenario, also shipped as ``fixtures/scenarios/demo.json`` (a test keeps them equal),
#: so that an installed porv can run ``porv devnet up`` without the repository.
DEMO_SCENARIO: dict[str, Any] = {
    "format": "porv.scenario/1",
    "description": "pUSD (6 decimals) on two local chains, an excluded treasury on each, a "
    "registry and Multicall3 on chain 31337. Amounts are base units. Signers are "
    "the public test-only keys fixtures/keys/secp256k1-0.key and -1.key.",
    "issuer": "Example Issuer Ltd",
    "token": {"name": "Porv USD", "symbol": "pUSD", "decimals": 6, "currency": "USD"},
    "chains": [
        {
            "chain_id": 31337,
            "multicall3": True,
            "registry": True,
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

    def to_json(self) -> dict[str, Any]:
        """JSON form (addresses checksummed, amounts as decimal strings)."""
        return {
            "chain_id": self.node.chain_id,
            "kind": self.node.kind,
            "rpc": self.node.url,
            "pid": self.node.pid,
            "token": self.token,
            "multicall3": self.multicall3,
            "registry": self.registry,
            "excluded": list(self.excluded),
            "balances": {k: str(v) for k, v in self.holders.items()},
            "deployer": self.accounts[0],
            "block_number": self.block_number,
        }


@dataclass
class DevnetInfo:
    """Every chain a scenario started, with addresses; :meth:`stop` stops them all."""

    kind: str
    scenario: Scenario
    chains: list[ChainInfo]

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

    def to_json(self) -> dict[str, Any]:
        """What ``porv devnet up`` prints."""
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


def run_scenario(kind: str, scenario: Scenario) -> DevnetInfo:
    """Start one chain of ``kind`` per scenario chain and deploy the scenario on them.

    On each chain, dev account 0 deploys and owns the token (``TestStablecoin``), Multicall3
    and, where asked, the registry; then the mints run in order.

    Args:
        kind: ``"embedded"``, ``"anvil"`` or ``"hardhat"``.
        scenario: What to deploy (see :func:`load_scenario`).

    Returns:
        The running devnet; call :meth:`DevnetInfo.stop` (or use ``with``) to stop it.

    Raises:
        InputError: Unknown kind, or a scenario reference to a missing dev account.
        IncompleteError: A node could not start or a deployment failed.
    """
    from verifier.chain import deploy as dep

    if kind not in KINDS:
        raise InputError(f"unknown chain kind {kind!r}", hint=f"one of: {', '.join(KINDS)}")
    started: list[ChainInfo] = []
    try:
        for plan in scenario.chains:
            node = start_node(kind, plan.chain_id)
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
                    from verifier.chain.registry import deploy_registry, register_signer

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
                holders: dict[str, int] = {}
                for mint in plan.mints:
                    to = _resolve(mint.to, accounts)
                    dep.token_mint(node.url, token, to, mint.amount, sender=owner)
                    holders[to] = holders.get(to, 0) + mint.amount
                excluded = tuple(_resolve(e, accounts) for e in plan.excluded)
                block = int(str(rpc_request(node.url, "eth_blockNumber")), 16)
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
                )
            )
    except BaseException:
        for c in started:
            c.node.stop()
        raise
    return DevnetInfo(kind=kind, scenario=scenario, chains=started)
