"""``porv supply``: circulating supply of every pinned deployment, one pinned block per chain."""

from __future__ import annotations

import re
import time
from typing import Any

import click

from verifier.cli.common import (
    ChainProgress,
    dump_json,
    emit,
    format_option,
    handle_errors,
    note,
    output_option,
    parse_rpc_overrides,
)
from verifier.errors import InputError, Location
from verifier.model.numbers import format_major
from verifier.model.timeutil import TIME_OPTION_HELP, parse_time_option
from verifier.model.validate import InvalidValueError, split_chain_pair

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def parse_multicall(values: tuple[str, ...]) -> dict[int, str]:
    """``CHAIN_ID=ADDRESS`` options -> chain id -> Multicall3 address.

    Raises:
        InputError: an option is not ``CHAIN_ID=0x<40 hex>`` or names a chain twice.
    """
    out: dict[int, str] = {}
    for value in values:
        try:
            chain_id, address = split_chain_pair(value, "=")
        except InvalidValueError:
            chain_id, address = 0, ""
        if not _ADDRESS.fullmatch(address) or chain_id in out:
            raise InputError(
                f"--multicall expects CHAIN_ID=0xADDRESS once per chain, found {value!r}",
                location=Location(field="--multicall"),
            )
        out[chain_id] = address
    return out


def render_text(report: Any, when: str) -> str:
    """A plain-text table of a :class:`~verifier.checks.evidence.SupplyReport`."""
    from verifier.model.timeutil import format_rfc3339

    headers = (
        "chain",
        "address",
        "block",
        "block hash",
        "block time",
        "decimals",
        "totalSupply",
        "excluded",
        "circulating",
    )
    rows: list[tuple[str, ...]] = []
    for d in report.deployments:
        excluded = sum(b for _, b in d.excluded)
        rows.append(
            (
                str(d.chain_id),
                d.address,
                str(d.block_number),
                d.block_hash,
                format_rfc3339(d.block_timestamp),
                str(d.decimals),
                str(d.total_supply),
                f"{excluded} ({len(d.excluded)} addr)",
                str(d.circulating),
            )
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    numeric = {2, 5, 6, 7, 8}

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [f"supply {when}", line(headers), line(tuple("-" * w for w in widths))]
    out.extend(line(r) for r in rows)
    for d in report.deployments:
        for addr, bal in d.excluded:
            out.append(f"  excluded on chain {d.chain_id}: {addr} {bal}")
        if d.rounded_up:
            out.append(
                f"  rounded up on chain {d.chain_id}: {d.address} circulating + {d.rounded_up} "
                f"base unit(s) to the policy's {report.decimals} decimals (never down)"
            )
    major = format_major(report.total_circulating, report.decimals)
    out.append(
        f"total circulating: {report.total_circulating} "
        f"(minor units at {report.decimals} decimals) = {major}"
    )
    return "\n".join(out) + "\n"


@click.command("supply")
@click.option(
    "--policy",
    "policy_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="The holder's policy (porv.policy/1 TOML) pinning the deployments.",
)
@click.option(
    "--at",
    "at",
    default=None,
    help=f"The final block at that time, an {TIME_OPTION_HELP} (default: each chain's head).",
)
@click.option("--block", "block", type=click.IntRange(min=0), default=None, help="Block number.")
@click.option(
    "--rpc",
    "rpc",
    multiple=True,
    metavar="CHAIN_ID=URL",
    help="Endpoint for a chain; repeat for several. Replaces the policy's for that chain.",
)
@click.option(
    "--multicall",
    "multicall",
    multiple=True,
    metavar="CHAIN_ID=ADDRESS",
    help="Multicall3 address on a chain (default: the canonical address, where it has code).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds per RPC attempt.",
)
@click.option(
    "--retries",
    type=click.IntRange(min=0, max=10),
    default=2,
    show_default=True,
    help="Extra attempts after a transport failure.",
)
@format_option("text", "json", follows_output=True)
@output_option
@handle_errors
def supply(
    policy_path: str,
    at: str | None,
    block: int | None,
    rpc: tuple[str, ...],
    multicall: tuple[str, ...],
    timeout: float,
    retries: int,
    fmt: str,
    output: str | None,
) -> None:
    """Circulating supply of every deployment the policy pins, at one block per chain.

    Every endpoint of a chain is asked and must agree on chain id, block hash and values.
    Exit 0 ok, 2 bad policy or options, 3 could not complete (endpoint down, disagreeing,
    wrong chain, pruned history).
    """
    from verifier.app.supply import load_supply_policy, run_supply
    from verifier.model.timeutil import format_rfc3339

    if at is not None and block is not None:
        raise InputError("give either --at or --block, not both", location=Location(field="--at"))
    as_of: int | None = None
    if block is None:
        as_of = (
            parse_time_option(at, option="--at")
            if at is not None
            else int(time.time())  # the CLI reads the clock; the core never does
        )
    policy = load_supply_policy(policy_path)
    overrides = parse_rpc_overrides(rpc)
    if overrides:
        policy = policy.with_rpc(overrides)
    chains = {d.chain_id for d in policy.deployments}
    bar = ChainProgress(len(chains)) if len(chains) > 1 else None
    try:
        run = run_supply(
            policy,
            as_of=as_of,
            at_given=at is not None,
            block=block,
            timeout=timeout,
            retries=retries,
            multicall=parse_multicall(multicall),
            progress=bar,
        )
    finally:
        if bar is not None:
            bar.close()
    report, feed = run.report, run.feed
    if run.feed_error is not None:
        note(f"porv: feed cross-check failed: {run.feed_error.diagnostics()}", style="yellow")
    when = (
        f"at block {block}"
        if block is not None
        else f"as of {format_rfc3339(as_of or 0)}"
        if at is not None
        else f"at the head ({format_rfc3339(as_of or 0)})"
    )
    if fmt == "json":
        doc = {
            "status": "ok",
            "token": policy.token,
            "currency": policy.currency,
            "as_of": format_rfc3339(as_of) if as_of is not None else None,
            "block": block,
            **report.to_json(),
        }
        if feed is not None:
            doc["feed"] = feed
        emit(dump_json(doc), output)
    else:
        text = render_text(report, when)
        if feed is not None:
            text += _feed_text(feed)
        emit(text, output)
    note(
        f"porv: supply read on {len(chains)} chain(s): total circulating "
        f"{format_major(report.total_circulating, report.decimals)} {policy.token}"
    )


def _feed_text(feed: dict[str, Any]) -> str:
    where = f"chain {feed['chain_id']} {feed['address']}"
    if feed["status"] != "ok":
        return f"feed {where}: not read ({feed['error'].get('message')})\n"
    return (
        f"feed {where}: {feed['normalised']} (round {feed['round_id']}, "
        f"updated {feed['staleness_s']} s ago)\n"
    )
