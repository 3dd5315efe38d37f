"""The one time budget of a run, as the CLI sets it (``--deadline``) for the orchestrators."""

from __future__ import annotations

from verifier.chain.rpc import DEFAULT_DEADLINE_S, Deadline, deadline_scope

__all__ = ["DEFAULT_DEADLINE_S", "Deadline", "deadline_scope"]
