"""Shared test support: the fault-injecting JSON-RPC proxy in front of a real node
(:mod:`tests.support.faultproxy`) and the one fake EVM node (:mod:`tests.support.fakenode`)."""
