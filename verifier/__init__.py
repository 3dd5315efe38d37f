"""porv: proof-of-reserve verifier for fiat-backed stablecoins.

The public library API; everything else is internal and may move.

* :func:`verify` (:func:`verifier.app.verify.run_verify`): load a bundle and a policy, read
  the chains, verify, seal the result and (with ``state_dir``) raise the rollback floor.
  Returns an :class:`Outcome` (``status``, ``exit_code``, ``result``, ``failures``).
* :func:`recheck` (:func:`verifier.app.recheck.recheck_result`): re-derive a sealed result
  (offline, or against the chains with ``rpc_overrides``) and compare.
* :func:`load_policy`, :func:`load_bundle`: the strict loaders (typed errors, exit 2).
* The error families, one per exit code: :class:`PorvError` (base), :class:`ClaimFailedError`
  (1: a claim does not hold), :class:`InputError` (2: bad input), :class:`IncompleteError`
  (3: could not complete); each has ``kind``, ``diagnostics()`` and ``to_json()``.

Example::

    import time
    import verifier

    try:
        outcome = verifier.verify(
            "bundle.json", "policy.toml", now=int(time.time()), state_dir="porv-state"
        )
    except verifier.PorvError as err:  # bad input (2), or could not complete (3)
        raise SystemExit(err.diagnostics()) from None
    print(outcome.status)  # "verified" or "failed"
    for failure in outcome.failures:
        print(failure.kind, failure)

Importing :mod:`verifier` is cheap: the verifier itself (web3, the crypto stacks) is imported
on first use of :func:`verify`, :func:`recheck` or a loader.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from verifier.errors import ClaimFailedError, IncompleteError, InputError, PorvError
from verifier.model.version import VERSION as __version__

if TYPE_CHECKING:
    from verifier.app.recheck import recheck_result as recheck
    from verifier.app.verify import run_verify as verify
    from verifier.checks.bundle import Outcome
    from verifier.local.loaders import load_bundle, load_policy

__all__ = [
    "ClaimFailedError",
    "IncompleteError",
    "InputError",
    "Outcome",
    "PorvError",
    "__version__",
    "load_bundle",
    "load_policy",
    "recheck",
    "verify",
]

# name -> (module, attribute), imported on first use (PEP 562)
_LAZY = {
    "verify": ("verifier.app.verify", "run_verify"),
    "recheck": ("verifier.app.recheck", "recheck_result"),
    "load_policy": ("verifier.local.loaders", "load_policy"),
    "load_bundle": ("verifier.local.loaders", "load_bundle"),
    "Outcome": ("verifier.checks.bundle", "Outcome"),
}


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'verifier' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
