"""Recognising EAS 1.9.0's runtime code at an address the user names."""

from __future__ import annotations

import pytest

from verifier.chain.contracts import load_contract
from verifier.chain.eas import _masked, code_matches


@pytest.mark.parametrize("name", ["EAS", "SchemaRegistry"])
def test_immutables_may_differ_nothing_else(name: str) -> None:
    code, slots = _masked(name)
    assert slots  # EAS: the registry and EIP-712 domain; SchemaRegistry: its version
    filled = bytearray(code)
    for start, length in slots:
        filled[start : start + length] = b"\x5a" * length
    assert code_matches(name, bytes(filled))
    outside = next(i for i in range(len(code)) if all(not s <= i < s + n for s, n in slots))
    changed = bytearray(filled)
    changed[outside] ^= 1
    assert not code_matches(name, bytes(changed))
    assert not code_matches(name, bytes(filled[:-1]))
    assert not code_matches(name, bytes(filled) + b"\0")
    assert not code_matches(name, b"")


def test_one_is_not_the_other() -> None:
    registry = bytes.fromhex(load_contract("SchemaRegistry").deployed_bytecode[2:])
    assert not code_matches("EAS", registry)
