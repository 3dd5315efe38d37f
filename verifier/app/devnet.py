"""``porv devnet up``: load a scenario (or the built-in demo) and start its local chains."""

from __future__ import annotations

import time

from verifier.devnet.scenarios import DevnetInfo, Scenario
from verifier.errors import InputError, Location


def load_devnet_scenario(path: str | None) -> Scenario:
    """The porv.scenario/1 file at ``path``, or the built-in demo scenario."""
    from verifier.devnet.scenarios import demo_scenario, load_scenario

    return load_scenario(path) if path else demo_scenario()


def genesis_time_option(text: str | None, *, now: int | None = None) -> int | None:
    """``--genesis-time``: unix seconds, now or in the past (a chain whose clock runs ahead
    would date every block after the moment a verifier checks it).

    Raises:
        InputError: Not a time (the one time parser's rule), or in the future.
    """
    if text is None:
        return None
    from verifier.model.timeutil import MAX_FUTURE_SKEW_S, format_rfc3339, parse_time_option

    value = parse_time_option(text, option="--genesis-time")
    clock = int(time.time()) if now is None else now
    if value > clock + MAX_FUTURE_SKEW_S:
        raise InputError(
            f"--genesis-time {format_rfc3339(value)} is in the future "
            f"(now {format_rfc3339(clock)})",
            hint="give now or a time in the past",
            location=Location(field="--genesis-time"),
        )
    return min(value, clock)


def start_devnet(
    kind: str, plan: Scenario, *, genesis_time: int | None = None, port: int | None = None
) -> DevnetInfo:
    """Start the scenario's chains and deploy it; the caller stops them (``info.stop()``)."""
    from verifier.devnet.scenarios import run_scenario

    return run_scenario(kind, plan, genesis_time=genesis_time, port=port)
