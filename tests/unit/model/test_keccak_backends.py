"""Every Keccak-256 backend porv may pick gives Ethereum's Keccak; the known answers it is
checked against refuse any other function; pycryptodome is loaded only when it is used."""

from __future__ import annotations

import importlib
import subprocess
import sys
from typing import Any

import pytest
from eth_hash.auto import keccak as eth_keccak

from verifier.model import keccak as k

INPUTS = [b"", b"abc", bytes(range(256)) * 3, b"\x00" * 135, b"\xff" * 136, b"x" * 1000]


def test_known_answers_are_ethereum_keccak() -> None:
    for probe, digest in k._VECTORS:
        assert eth_keccak(probe).hex() == digest
    assert k._passes(eth_keccak)
    assert not k._passes(lambda data: bytes(32))
    assert not k._passes(lambda data: eth_keccak(data + b"\x00"))


def test_pycryptodome_regular_api_agrees() -> None:
    for data in INPUTS:
        assert k._keccak256_pycryptodome(data) == eth_keccak(data)


def test_without_pysha3_the_raw_library_is_picked_and_agrees(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = importlib.import_module

    def no_pysha3(name: str, *args: Any) -> Any:
        if name == "_pysha3":
            raise ImportError(name)
        return real(name, *args)

    monkeypatch.setattr(k.importlib, "import_module", no_pysha3)
    fn = k._pick_keccak()
    assert fn is not k._keccak256_pycryptodome  # the raw C library passed its self-test
    for data in INPUTS:
        assert fn(data) == eth_keccak(data)
    assert fn(bytearray(b"abc")) == eth_keccak(b"abc")  # type: ignore[arg-type]


def test_the_picked_backend_agrees() -> None:
    for data in INPUTS:
        assert k.keccak256(data) == eth_keccak(data)


def test_with_pysha3_pycryptodome_is_not_imported() -> None:
    """With safe-pysha3 picked, pycryptodome and ctypes are never loaded. A stand-in
    ``_pysha3`` that knows only the self-test's answers plays safe-pysha3 (not a dependency),
    so this runs on every install."""
    table = {probe: digest for probe, digest in k._VECTORS}
    code = f"""
import sys, types
table = {{k: bytes.fromhex(v) for k, v in {table!r}.items()}}
class _H:
    def __init__(self, data):
        self.data = bytes(data)
    def digest(self):
        return table[self.data]
sys.modules["_pysha3"] = types.SimpleNamespace(keccak_256=_H)
import verifier.model.keccak as k
print(k.BACKEND, any(m.startswith(("Crypto", "ctypes")) for m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["pysha3", "False"]
