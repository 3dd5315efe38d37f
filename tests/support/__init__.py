"""Shared test support: the fault-injecting JSON-RPC proxy (:mod:`tests.support.faultproxy`)."""
