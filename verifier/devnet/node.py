"""A running local chain (:class:`Node`) and the small JSON-RPC client used to control one.

The control client trusts the node: it is for chains porv itself starts (tests, the demo,
``porv devnet``). Verification reads chains only through :mod:`verifier.chain.rpc`.
"""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from verifier.errors import IncompleteError
from verifier.model.jsontext import parse_json


@dataclass
class Node:
    """A running local chain.

    Attributes:
        url: Its JSON-RPC URL (``http://127.0.0.1:<port>``).
        chain_id: The chain id it reports.
        kind: ``"embedded"``, ``"anvil"`` or ``"hardhat"``.
        pid: The node's process id, None for the in-process embedded chain.
    """

    url: str
    chain_id: int
    kind: str
    pid: int | None
    _stop: Callable[[], None] | None = field(default=None, repr=False)

    def stop(self) -> None:
        """Stop the node (idempotent): SIGTERM its process group, SIGKILL after a timeout."""
        stop, self._stop = self._stop, None
        if stop is not None:
            stop()

    @property
    def running(self) -> bool:
        """Whether :meth:`stop` has not been called yet."""
        return self._stop is not None

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port(wanted: int | None = None) -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago: ``wanted`` if given, else any.

    A node started on a port that something else holds would fail, but whatever holds it
    may answer first and be taken for the new node: a wanted port is checked here.

    Raises:
        IncompleteError: ``wanted`` is in use or not a port.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", wanted or 0))
        except (OSError, OverflowError) as exc:
            raise IncompleteError(
                f"port {wanted} on 127.0.0.1 is not free: {getattr(exc, 'strerror', None) or exc}",
                hint="pick another --port, or stop what listens there",
            ) from exc
        return int(sock.getsockname()[1])


def post_json(url: str, payload: Any, *, timeout: float, what: str) -> Any:
    """POST a JSON-RPC payload (one call or a batch) to a local node; the decoded answer.

    Raises:
        IncompleteError: The node did not answer, or not with JSON.
    """
    req = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            # the shared reader: depth-capped before parsing, no repeated keys
            return parse_json(resp.read().decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise IncompleteError(f"{url}: {what} failed: {exc}") from exc


def rpc_request(url: str, method: str, params: Sequence[Any] = (), timeout: float = 10.0) -> Any:
    """One JSON-RPC call over HTTP, without web3 (used to probe and control nodes).

    Args:
        url: The node's URL.
        method: The JSON-RPC method.
        params: Its parameters.
        timeout: Seconds before giving up.

    Returns:
        The ``result`` member of the answer.

    Raises:
        IncompleteError: The node did not answer, or answered with an error.
    """
    payload = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    answer = post_json(url, payload, timeout=timeout, what=method)
    if not isinstance(answer, dict):
        raise IncompleteError(f"{url}: {method}: malformed answer {answer!r}")
    if "error" in answer:
        raise IncompleteError(f"{url}: {method}: {answer['error']}")
    return answer.get("result")
