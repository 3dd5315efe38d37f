"""``porv devnet up``: start local chain(s), deploy a scenario, print where, run until stopped."""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType

import click

from verifier.cli.common import (
    chain_kind_option,
    check_output_path,
    dump_json,
    emit,
    handle_errors,
    note,
    output_option,
)
from verifier.errors import InputError, Location


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
@click.option(
    "--policy-out",
    "policy_out",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Also write a complete porv.policy/1 for the running scenario to FILE (atomically, "
    "replacing only a regular file), before the JSON: deployments, custodians, registry, "
    "feed, endpoints, finality.",
)
@output_option
@handle_errors
def up(
    kind: str,
    scenario: str | None,
    port: int | None,
    genesis_time: str | None,
    policy_out: str | None,
    output: str | None,
) -> None:
    """Start the scenario's chains, deploy it, print JSON, run until interrupted.

    The JSON (stdout, or --output FILE) gives per chain its RPC URL, chain id, node PID and
    the addresses of the token, Multicall3, the registry and the excluded accounts, plus the
    deployments in the policy's shape and the scenario's Safes (address, chain, owners,
    threshold). With --policy-out, the policy file is written first
    (the scenario must name its custodians' signers). Once it is written, one line on stderr
    starts with
    "porv devnet: running": the chains are ready. SIGINT or SIGTERM stops every node and
    exits 0.
    """
    from verifier.app.devnet import (
        check_policy_out_scenario,
        devnet_policy_toml,
        genesis_time_option,
        load_devnet_scenario,
        start_devnet,
    )

    genesis = genesis_time_option(genesis_time)
    plan = load_devnet_scenario(scenario)
    if policy_out is not None:  # refused before any chain starts
        check_output_path(policy_out, option="--policy-out")
        for option, path in (("--output", output), ("--scenario", scenario)):
            if path is not None and os.path.realpath(path) == os.path.realpath(policy_out):
                raise InputError(
                    f"--policy-out {policy_out} is also the {option} file",
                    hint="write the policy to a file of its own",
                    location=Location(file=policy_out, field="--policy-out"),
                )
        check_policy_out_scenario(plan)
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
            doc = info.to_json()
            if policy_out is not None:
                emit(devnet_policy_toml(info), policy_out, option="--policy-out")
                doc["policy"] = os.path.abspath(policy_out)
            emit(dump_json(doc), output)
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
