"""pytest plugin: porv's own chain fixtures, thin aliases over porv's pytest plugin.

Every chain comes from :func:`verifier.testing.plugin.start_chain` (the one way tests start
a chain; loaded by tests/conftest.py):

* ``embedded_chain`` / ``anvil_chain`` / ``hardhat_chain``: one node per test module, chain id
  31337, started on a free 127.0.0.1 port and stopped by PID when the module ends.
* ``chain``: parametrized over the three kinds (for the conformance suite).
* ``start_chain``: factory for extra nodes with other chain ids, stopped after the test
  (the plugin's ``porv_start_chain``).

anvil and hardhat come from the project's npm install. If they are missing the fixtures fail
loudly (never skip): CI installs them with ``npm install``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from verifier.devnet.node import Node
from verifier.devnet.nodes import KINDS
from verifier.testing import plugin as porv_plugin

_MARKS = {"anvil": pytest.mark.anvil, "hardhat": pytest.mark.hardhat}


def _module_chain(kind: str) -> Iterator[Node]:
    node = porv_plugin.start_chain(kind, 31337)
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="module")
def embedded_chain() -> Iterator[Node]:
    """An embedded (py-evm) chain, chain id 31337, for the whole module."""
    yield from _module_chain("embedded")


@pytest.fixture(scope="module")
def anvil_chain() -> Iterator[Node]:
    """An anvil node, chain id 31337, for the whole module."""
    yield from _module_chain("anvil")


@pytest.fixture(scope="module")
def hardhat_chain() -> Iterator[Node]:
    """A Hardhat 3 node, chain id 31337, for the whole module."""
    yield from _module_chain("hardhat")


@pytest.fixture(
    scope="module",
    params=[pytest.param(kind, marks=_MARKS.get(kind, ())) for kind in KINDS],
)
def chain(request: pytest.FixtureRequest) -> Iterator[Node]:
    """One node of each kind (embedded, anvil, hardhat), chain id 31337, per module."""
    yield from _module_chain(str(request.param))


@pytest.fixture
def start_chain(porv_start_chain: Callable[..., Node]) -> Callable[..., Node]:
    """Factory ``start_chain(kind, chain_id) -> Node``; every node is stopped after the test."""
    return porv_start_chain
