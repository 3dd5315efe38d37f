"""``porv devnet up``: load a scenario (or the built-in demo) and start its local chains."""

from __future__ import annotations

from verifier.devnet.scenarios import DevnetInfo, Scenario


def load_devnet_scenario(path: str | None) -> Scenario:
    """The porv.scenario/1 file at ``path``, or the built-in demo scenario."""
    from verifier.devnet.scenarios import demo_scenario, load_scenario

    return load_scenario(path) if path else demo_scenario()


def start_devnet(kind: str, plan: Scenario) -> DevnetInfo:
    """Start the scenario's chains and deploy it; the caller stops them (``info.stop()``)."""
    from verifier.devnet.scenarios import run_scenario

    return run_scenario(kind, plan)
