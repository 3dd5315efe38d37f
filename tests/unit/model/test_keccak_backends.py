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


@pytest.mark.skipif(k.BACKEND != "pysha3", reason="safe-pysha3 is not installed")
def test_with_pysha3_pycryptodome_is_not_imported() -> None:
    code = (
        "import sys, verifier.model.keccak; print(any(m.startswith('Crypto') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
