"""Finding the blocks of an attestation's time: bisection over headers, bounded."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from verifier.chain.eas import _MAX_SEARCH_STEPS, _blocks_at
from verifier.chain.rpc import RpcClient
from verifier.errors import RpcError


def _client(stamp: Callable[[int], int]) -> tuple[RpcClient, list[int]]:
    """A client whose node answers block n with timestamp ``stamp(n)``; the list counts reads."""
    reads: list[int] = []

    def transport(url: str, body: bytes, timeout: float, max_bytes: int) -> bytes:
        req = json.loads(body)
        n = int(req["params"][0], 16)
        reads.append(n)
        block: dict[str, Any] = {
            "number": hex(n),
            "hash": "0x" + f"{n + 1:064x}",
            "parentHash": "0x" + f"{n:064x}",
            "timestamp": hex(stamp(n)),
        }
        return json.dumps({"jsonrpc": "2.0", "id": req["id"], "result": block}).encode()

    return RpcClient("http://node.invalid", 1, transport=transport), reads


@pytest.mark.parametrize(
    ("time", "want"),
    [(1000, (0, 0)), (1024, (2, 4)), (1012, (1, 1)), (1013, None), (5000, None), (999, None)],
)
def test_the_blocks_of_a_time(time: int, want: tuple[int, int] | None) -> None:
    stamps = [1000, 1012, 1024, 1024, 1024, 1036, 1048]
    client, _ = _client(lambda n: stamps[n])
    assert _blocks_at(client, time, len(stamps) - 1) == want


def test_a_long_chain_takes_few_reads() -> None:
    client, reads = _client(lambda n: 1_600_000_000 + 12 * n)
    assert _blocks_at(client, 1_600_000_000 + 12 * 17_000_000, 20_000_000) == (
        17_000_000,
        17_000_000,
    )
    assert len(reads) < 60


def test_timestamps_that_run_backwards_end_in_an_error_or_nothing() -> None:
    """A lying node cannot make the search run on: it finds nothing or stops at the cap."""
    client, reads = _client(lambda n: 2**41 - n)
    try:
        assert _blocks_at(client, 2**41 - 5, 2**40) is None
    except RpcError as exc:
        assert "do not bisect" in str(exc)
    assert len(reads) <= _MAX_SEARCH_STEPS
