"""pytest plugin: local chain fixtures (loaded by tests/conftest.py).

* ``embedded_chain`` / ``anvil_chain`` / ``hardhat_chain``: one node per test module, chain id
  31337, started on a free 127.0.0.1 port and stopped by PID when the module ends.
* ``chain``: parametrized over the three kinds (for the conformance suite).
* ``start_chain``: factory for extra nodes with other chain ids, stopped after the test.

anvil and hardhat come from the project's npm install. If they are missing the fixtures fail
loudly (never skip): CI installs them with ``npm install``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from verifier.devnet.node import Node
from verifier.devnet.nodes import KINDS, start_node
from verifier.errors import PorvError

_MARKS = {"anvil": pytest.mark.anvil, "hardhat": pytest.mark.hardhat}


def _start(kind: str, chain_id: int) -> Node:
    try:
        return start_node(kind, chain_id)
    except PorvError as exc:
        pytest.fail(f"cannot start {kind} (chain id {chain_id}): {exc.diagnostics()}")


@pytest.fixture(scope="module")
def embedded_chain() -> Iterator[Node]:
    """An embedded (py-evm) chain, chain id 31337, for the whole module."""
    node = _start("embedded", 31337)
    yield node
    node.stop()


@pytest.fixture(scope="module")
def anvil_chain() -> Iterator[Node]:
    """An anvil node, chain id 31337, for the whole module."""
    node = _start("anvil", 31337)
    yield node
    node.stop()


@pytest.fixture(scope="module")
def hardhat_chain() -> Iterator[Node]:
    """A Hardhat 3 node, chain id 31337, for the whole module."""
    node = _start("hardhat", 31337)
    yield node
    node.stop()


@pytest.fixture(
    scope="module",
    params=[pytest.param(kind, marks=_MARKS.get(kind, ())) for kind in KINDS],
)
def chain(request: pytest.FixtureRequest) -> Iterator[Node]:
    """One node of each kind (embedded, anvil, hardhat), chain id 31337, per module."""
    node = _start(str(request.param), 31337)
    yield node
    node.stop()


@pytest.fixture
def start_chain() -> Iterator[Callable[[str, int], Node]]:
    """Factory ``start_chain(kind, chain_id) -> Node``; every node is stopped after the test."""
    started: list[Node] = []

    def factory(kind: str, chain_id: int) -> Node:
        node = _start(kind, chain_id)
        started.append(node)
        return node

    yield factory
    for node in started:
        node.stop()
