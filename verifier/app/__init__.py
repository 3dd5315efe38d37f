"""Orchestrators: read inputs, take one clock reading, call the pure layers, then persist.

* :mod:`~verifier.app.verify`: :func:`~verifier.app.verify.run_verify` (lock state, read the
  floor, verify, deliver the result, then raise the floor).
* :mod:`~verifier.app.recheck`: :func:`~verifier.app.recheck.recheck_result` (offline and
  online rechecks of a sealed result).
* :mod:`~verifier.app.publish`: posting attestations to a registry.
* :mod:`~verifier.app.demo`: the self-contained demo on local chains.
* :mod:`~verifier.app.supply`: ``porv supply`` (the chain reads and the feed beside them).
* :mod:`~verifier.app.attest`: signing an attestation and checking one against a tree.
* :mod:`~verifier.app.tree`, :mod:`~verifier.app.bundle`, :mod:`~verifier.app.rules`: the
  file reading and checks behind ``porv tree``, ``porv bundle assemble``, ``porv rules check``.
* :mod:`~verifier.app.devnet`: starting a scenario's local chains (``porv devnet up``).
* :mod:`~verifier.app.deadline`: the run's time budget, as the CLI sets it.

Nothing here prints; the CLI (:mod:`verifier.cli`) renders. ``verify`` and ``recheck`` never
import the devnet tooling.
"""
