"""Networks, treated as suspicious: every answer is checked, every read bounded.

* :mod:`~verifier.chain.rpc`: the one JSON-RPC client (deadlines, caps, endpoints compared).
* :mod:`~verifier.chain.supply`: circulating supply at pinned, final blocks.
* :mod:`~verifier.chain.feed`, :mod:`~verifier.chain.finality`: the reserve feed, finality.
* :mod:`~verifier.chain.registry`: reads of a ``ReserveAttestationRegistry`` (evidence).
* :mod:`~verifier.chain.eip1271`: asking contract wallets whether they signed.
* :mod:`~verifier.chain.contracts`: the compiled contracts porv ships (ABI, bytecode).

Never imports the devnet tooling (:mod:`verifier.devnet`), which trusts the chain.
"""
