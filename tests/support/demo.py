"""The demo's two chains as a context manager, for fixtures that need chains of their own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from verifier.app.demo import ChainDeployment, start_demo_chains
from verifier.devnet.scenarios import DevnetInfo

#: The demo's devnet, its deployments (chain id, RPC URL, token, treasury) and ``as_of``.
DemoNet = tuple[DevnetInfo, list[ChainDeployment], int]


@contextmanager
def demo_chains(kind: str) -> Iterator[DemoNet]:
    """Start the demo's chains on ``kind`` (embedded, anvil, hardhat); stop them on exit."""
    net, deployments, as_of = start_demo_chains(kind)
    try:
        yield net, deployments, as_of
    finally:
        net.stop()
