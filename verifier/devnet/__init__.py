"""Tooling for tests, the demo and CI users: local chains, deployment and scenarios.

* :mod:`~verifier.devnet.node`: a running chain (:class:`~verifier.devnet.node.Node`) and the
  trusting JSON-RPC control client (``rpc_request``).
* :mod:`~verifier.devnet.nodes`: starting anvil, hardhat or the embedded chain.
* :mod:`~verifier.devnet.embedded`: the in-process chain (eth-tester / py-evm over HTTP).
* :mod:`~verifier.devnet.deploy`: deploying porv's contracts, mints, time control (web3).
* :mod:`~verifier.devnet.registry`: deploying a ``ReserveAttestationRegistry``, registering
  signers, submitting attestations.
* :mod:`~verifier.devnet.scenarios`: ``porv.scenario/1`` files and :func:`run_scenario`.

Everything here trusts the chain it talks to. Verification (``verifier.app.verify``,
``verifier.app.recheck``, ``verifier.chain``) never imports this package; an import contract
in ``pyproject.toml`` enforces it.
"""
