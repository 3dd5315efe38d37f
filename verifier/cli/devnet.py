"""``porv devnet up``: start local chain(s), deploy a scenario, print where, run until stopped."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from verifier.cli.common import (
    chain_kind_option,
    dump_json,
    emit,
    handle_errors,
    note,
    output_option,
)


@click.group()
def devnet() -> None:
    """Local chains with porv's contracts deployed, for trying porv and for CI."""


@devnet.command("up")
@chain_kind_option
@click.option(
    "--scenario",
    type=click.Path(dir_okay=False),
    default=None,
    help="A porv.scenario/1 JSON file (default: the built-in demo scenario).",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="The first chain's port on 127.0.0.1; the next chains take the ports after it "
    "(default: free ports).",
)
@click.option(
    "--genesis-time",
    "genesis_time",
    default=None,
    metavar="TIME",
    help="The chains' genesis time (RFC 3339 or YYYY-MM-DD, now or in the past); their clocks "
    "then run that far behind, so that a bundle dated then can be replayed.",
)
@output_option
@handle_errors
def up(
    kind: str, scenario: str | None, port: int | None, genesis_time: str | None, output: str | None
) -> None:
    """Start the scenario's chains, deploy it, print JSON, run until interrupted.

    The JSON (stdout, or --output FILE) gives per chain its RPC URL, chain id, node PID and
    the addresses of the token, Multicall3, the registry and the excluded accounts, plus the
    deployments in the policy's shape. Once it is written, one line on stderr starts with
    "porv devnet: running": the chains are ready. SIGINT or SIGTERM stops every node and
    exits 0.
    """
    from verifier.app.devnet import genesis_time_option, load_devnet_scenario, start_devnet

    genesis = genesis_time_option(genesis_time)
    plan = load_devnet_scenario(scenario)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # While the chains start, an interrupt is porv's usual one (exit 130/143, every node
    # started so far killed); once they run, it is the way to stop them (exit 0).
    note(f"porv devnet: starting {len(plan.chains)} {kind} chain(s)...")
    info = start_devnet(kind, plan, genesis_time=genesis, port=port)
    try:
        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            emit(dump_json(info.to_json()), output)
            urls = ", ".join(f"{c.node.chain_id}={c.node.url}" for c in info.chains)
            note(f"porv devnet: running ({urls}); press Ctrl-C to stop")
            while not stop.wait(0.5):
                pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    finally:
        info.stop()
    note("porv devnet: stopped")
