"""The one time budget of a run, as the CLI sets it (``--deadline``) for the orchestrators.

:data:`DEFAULT_DEADLINE_S` comes from a light module so ``porv verify --help`` shows it
without importing the JSON-RPC client; :class:`Deadline` and :func:`deadline_scope` are
imported from :mod:`verifier.chain.rpc` on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from verifier.chain.limits import DEFAULT_DEADLINE_S

if TYPE_CHECKING:
    from verifier.chain.rpc import Deadline, deadline_scope

__all__ = ["DEFAULT_DEADLINE_S", "Deadline", "deadline_scope"]


def __getattr__(name: str) -> Any:
    if name in ("Deadline", "deadline_scope"):
        return getattr(importlib.import_module("verifier.chain.rpc"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
