"""Local chains for tests, the demo and ``porv devnet up``: embedded, anvil and hardhat.

Every chain is reached through a JSON-RPC URL on ``127.0.0.1:<free port>``. anvil and hardhat
are child processes started in their own process group and stopped by PID (SIGTERM, then
SIGKILL after a timeout), so nothing outlives :meth:`Node.stop`. The embedded chain
(:mod:`verifier.devnet.embedded`) runs in this process.

Tools come from the user's (or porv's own) npm install, found by walking up from the current
folder and then from this package's location: ``node_modules/.bin/anvil`` (or ``$PORV_ANVIL``,
or ``anvil`` on ``PATH``), and Hardhat 3 (``$PORV_HARDHAT``, ``node_modules/.bin/hardhat``)
run by Node >= 22 (``node_modules/.bin/node``, else ``node`` on ``PATH`` if recent enough).
Hardhat's config ships inside this package (``verifier/devnet/hardhat/``).

What to deploy on them is a scenario (:mod:`verifier.devnet.scenarios`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verifier.devnet.node import Node, free_port, rpc_request
from verifier.errors import IncompleteError, InputError

KINDS: tuple[str, ...] = ("embedded", "anvil", "hardhat")

#: How long to wait for a node to answer ``eth_chainId`` after starting it.
START_TIMEOUT = 60.0
#: How long to wait after SIGTERM before SIGKILL.
STOP_TIMEOUT = 5.0

_PACKAGE_DIR = Path(__file__).resolve().parent


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
    """The anvil executable: ``$PORV_ANVIL``, ``node_modules/.bin/anvil`` (from the current
    folder up, then from porv's location up), or ``anvil`` on ``PATH``.

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
        import shutil

        on_path = shutil.which("anvil")
        if on_path is not None:
            return Path(on_path)
        raise IncompleteError(
            "anvil not found (node_modules/.bin/anvil from the current folder up, nor on PATH)",
            hint="`npm install @foundry-rs/anvil` in your project, install Foundry, "
            "or set PORV_ANVIL",
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


#: The Hardhat 3 project porv runs ``hardhat node`` in: its config and the ``package.json`` that
#: marks the folder as ESM, shipped inside the package (copied to a temporary folder per node).
HARDHAT_PROJECT_DIR = _PACKAGE_DIR / "hardhat"
#: The oldest Node major version Hardhat 3 runs on.
HARDHAT_MIN_NODE = 22


@dataclass(frozen=True)
class HardhatTool:
    """How to run Hardhat: a Node >= 22 binary, Hardhat's CLI script and the ``node_modules``
    folder that holds it (Hardhat refuses a project that does not resolve it there)."""

    node: Path
    cli: Path
    node_modules: Path


def _hardhat_cli() -> Path:
    env = os.environ.get("PORV_HARDHAT")
    if env:
        path = Path(env)
        if not path.is_file():
            raise IncompleteError(
                f"PORV_HARDHAT={env} is not a file",
                hint="point it at node_modules/.bin/hardhat or "
                "node_modules/hardhat/dist/src/cli.js of an `npm install hardhat`",
            )
        return path.resolve()
    for root in _search_roots():
        for relative in (".bin/hardhat", "hardhat/dist/src/cli.js"):
            candidate = root / "node_modules" / relative
            if candidate.is_file():
                return candidate.resolve()
    raise IncompleteError(
        "hardhat not found (node_modules/.bin/hardhat or node_modules/hardhat from the current "
        "folder up, nor PORV_HARDHAT)",
        hint="`npm install hardhat` in your project (Hardhat 3, Node 22), or set PORV_HARDHAT",
    )


def _node_major(binary: Path) -> int | None:
    """The major version ``binary --version`` reports (``v22.1.0`` -> 22), or None."""
    import re

    try:
        answer = subprocess.run(
            [str(binary), "--version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.fullmatch(r"v([0-9]{1,4})\.[0-9.]+", answer.stdout.strip())
    return int(m.group(1)) if m and answer.returncode == 0 else None


def _node_binary() -> Path:
    found = find_node_modules_file(".bin/node")
    if found is not None:
        return found
    import shutil

    on_path = shutil.which("node")
    if on_path is None:
        raise IncompleteError(
            f"hardhat needs Node {HARDHAT_MIN_NODE} or later: no node_modules/.bin/node from "
            "the current folder up and no `node` on PATH",
            hint=f"`npm install node@{HARDHAT_MIN_NODE}` in your project, or put Node "
            f"{HARDHAT_MIN_NODE} first on PATH",
        )
    major = _node_major(Path(on_path))
    if major is None or major < HARDHAT_MIN_NODE:
        version = "an unknown version" if major is None else f"version {major}"
        raise IncompleteError(
            f"hardhat needs Node {HARDHAT_MIN_NODE} or later; `node` on PATH ({on_path}) is "
            f"{version}",
            hint=f"`npm install node@{HARDHAT_MIN_NODE}` in your project (porv then uses "
            f"node_modules/.bin/node), or put Node {HARDHAT_MIN_NODE} first on PATH",
        )
    return Path(on_path)


def hardhat_tool() -> HardhatTool:
    """Hardhat's CLI (``$PORV_HARDHAT``, else ``node_modules/.bin/hardhat`` or
    ``node_modules/hardhat/dist/src/cli.js`` from the current folder up, then from porv's
    location up) and a Node >= 22 to run it (``node_modules/.bin/node`` found the same way, else
    ``node`` on ``PATH`` if it is recent enough).

    Raises:
        IncompleteError: Hardhat, a recent Node or Hardhat's native EDR binding is missing.
    """
    cli = _hardhat_cli()
    node_modules = next((p for p in cli.parents if p.name == "node_modules"), None)
    if node_modules is None:
        raise IncompleteError(
            f"hardhat's CLI {cli} is not inside a node_modules folder",
            hint="Hardhat runs only from a local install: `npm install hardhat` in your project",
        )
    node = _node_binary()
    if (
        os.uname().sysname == "Linux"
        and os.uname().machine == "x86_64"
        and not (node_modules / "@nomicfoundation" / "edr-linux-x64-gnu").exists()
    ):
        raise IncompleteError(
            f"hardhat cannot start: its native EDR binding is not installed in {node_modules}",
            hint=(
                "npm skips it when npm itself runs on Node < 22; run `npm install` again with "
                'Node 22 first on PATH (e.g. `PATH="$PWD/node_modules/node/bin:$PATH" npm install`)'
            ),
        )
    return HardhatTool(node=node, cli=cli, node_modules=node_modules)


def _hardhat_project(tool: HardhatTool, workdir: str) -> Path:
    """Lay out the Hardhat project in ``workdir``: porv's config and ``package.json`` and a
    ``node_modules`` link to the folder holding Hardhat (it refuses a non-local install)."""
    import shutil

    project = Path(workdir) / "project"
    project.mkdir()
    for name in ("hardhat.config.ts", "package.json"):
        source = HARDHAT_PROJECT_DIR / name
        if not source.is_file():
            raise IncompleteError(
                f"porv's Hardhat project file {source} is missing from the installation",
                hint="reinstall porv",
            )
        shutil.copyfile(source, project / name)
    (project / "node_modules").symlink_to(tool.node_modules, target_is_directory=True)
    return project


# --- processes ----------------------------------------------------------------------------


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
    from verifier.local import interrupts

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


def start_anvil(
    chain_id: int = 31337,
    *,
    timeout: float = START_TIMEOUT,
    genesis_time: int | None = None,
    port: int | None = None,
) -> Node:
    """Start anvil on ``127.0.0.1:<free port>`` and wait until it answers ``eth_chainId``.

    Args:
        chain_id: The chain id anvil reports.
        timeout: Seconds to wait for it.
        genesis_time: The genesis block's time (unix seconds, ``--timestamp``); anvil's
            clock then runs that far behind the wall clock. Default: now.
        port: The port on 127.0.0.1; default: a free one.

    Returns:
        The running node; stop it with :meth:`Node.stop` (or use it as a context manager).

    Raises:
        IncompleteError: anvil is missing, exits, or does not answer in time.
    """
    binary = anvil_binary()
    port = free_port(port)
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
    if genesis_time is not None:
        argv += ["--timestamp", str(genesis_time)]
    return _spawn("anvil", argv, chain_id, port, timeout=timeout)


def start_hardhat(
    chain_id: int = 31337,
    *,
    timeout: float = START_TIMEOUT,
    genesis_time: int | None = None,
    port: int | None = None,
) -> Node:
    """Start a Hardhat 3 node on ``127.0.0.1:<free port>``.

    Hardhat and Node >= 22 are found by :func:`hardhat_tool`; the node runs in a temporary
    Hardhat project made of porv's shipped config (:data:`HARDHAT_PROJECT_DIR`) and a
    ``node_modules`` link to the folder holding Hardhat, removed when the node stops.

    Args:
        chain_id: The chain id the node reports.
        timeout: Seconds to wait for it.
        genesis_time: The genesis block's time (unix seconds; the config's ``initialDate``);
            the node's clock then runs that far behind the wall clock. Default: now.
        port: The port on 127.0.0.1; default: a free one.

    Returns:
        The running node.

    Raises:
        IncompleteError: hardhat or Node 22 is missing, exits, or does not answer in time.
    """
    tool = hardhat_tool()
    port = free_port(port)
    from verifier.local import interrupts

    with interrupts.deferred():
        workdir = tempfile.mkdtemp(prefix="porv-hardhat-")
        token = interrupts.on_interrupt(lambda: _remove_tree(workdir))

    def cleanup() -> None:
        interrupts.forget(token)
        _remove_tree(workdir)

    try:
        project = _hardhat_project(tool, workdir)
    except BaseException:
        cleanup()
        raise
    env = dict(os.environ)
    env["PORV_HARDHAT_WORKDIR"] = workdir
    env["TMPDIR"] = workdir  # its caches (tsx) go where porv removes them when it stops
    env["HARDHAT_DISABLE_TELEMETRY_PROMPT"] = "true"
    env["DO_NOT_TRACK"] = "1"
    env.pop("PORV_HARDHAT_INITIAL_DATE", None)
    if genesis_time is not None:
        env["PORV_HARDHAT_INITIAL_DATE"] = str(genesis_time)
    argv = [
        str(tool.node),
        str(tool.cli),
        "--config",
        str(project / "hardhat.config.ts"),
        "node",
        "--hostname",
        "127.0.0.1",
        "--port",
        str(port),
        "--chain-id",
        str(chain_id),
    ]
    try:
        return _spawn(
            "hardhat",
            argv,
            chain_id,
            port,
            cwd=project,
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


def start_node(
    kind: str, chain_id: int = 31337, *, genesis_time: int | None = None, port: int | None = None
) -> Node:
    """Start a local chain of the given kind.

    Args:
        kind: ``"embedded"``, ``"anvil"`` or ``"hardhat"``.
        chain_id: Its chain id.
        genesis_time: The genesis block's time (unix seconds); the chain's clock then runs
            that far behind the wall clock. Default: now.
        port: The port on 127.0.0.1; default: a free one.

    Returns:
        The running node.

    Raises:
        InputError: Unknown kind.
        IncompleteError: The node could not start.
    """
    if kind == "anvil":
        return start_anvil(chain_id, genesis_time=genesis_time, port=port)
    if kind == "hardhat":
        return start_hardhat(chain_id, genesis_time=genesis_time, port=port)
    if kind == "embedded":
        from verifier.devnet.embedded import start_embedded

        return start_embedded(chain_id, genesis_time=genesis_time, port=port)
    raise InputError(f"unknown chain kind {kind!r}", hint=f"one of: {', '.join(KINDS)}")


def start_embedded(chain_id: int = 31337) -> Node:
    """Start an in-process embedded chain (see :func:`verifier.devnet.embedded.start_embedded`).

    Args:
        chain_id: Its chain id.

    Returns:
        The running node (``pid`` is None).

    Raises:
        InputError: eth-tester / py-evm do not import (exit 2, with how to get them).
    """
    from verifier.devnet.embedded import start_embedded as _start

    return _start(chain_id)
