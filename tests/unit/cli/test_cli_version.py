"""``porv --version`` names the backends in use; ``porv --help`` stays light."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata

import pytest

from tests.support.cli import porv
from verifier.app import about
from verifier.model.version import VERSION
from verifier.signatures import bls, secp256k1


def test_version_names_python_and_every_backend() -> None:
    proc = porv(["--version"])
    assert proc.code == 0, proc.stderr
    line = proc.stdout.strip()
    assert line.startswith(f"porv {VERSION} (python {platform.python_version()}; ")
    # This environment (scripts/test.sh installs ".[dev]") has every native backend.
    assert f"bls: py-arkworks-bls12381 {metadata.version('py-arkworks-bls12381')}" in line
    assert f"secp256k1: coincurve {metadata.version('coincurve')}" in line
    assert f"keccak: pycryptodome {metadata.version('pycryptodome')}" in line
    assert f"embedded chain: eth-tester {metadata.version('eth-tester')}" in line
    assert f"py-evm {metadata.version('py-evm')}" in line


def test_version_names_the_pure_fallbacks_when_native_libraries_are_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bls, "_native", None)
    monkeypatch.setattr(secp256k1, "_native", None)
    monkeypatch.setitem(sys.modules, "eth_tester", None)
    line = about.version_line()
    assert f"bls: py_ecc {metadata.version('py-ecc')} (pure Python reference)" in line
    assert f"secp256k1: eth-keys {metadata.version('eth-keys')} (pure Python)" in line
    assert "embedded chain: not installed (reinstall porv, or use --chain anvil)" in line
    proc = porv(["--version"], in_process=True)
    assert proc.code == 0 and proc.stdout.strip() == line


def test_help_imports_no_backend() -> None:
    """``porv --help`` must stay fast: no signature, chain or EVM library is imported for it."""
    code = (
        "import sys\n"
        "from verifier.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = {'py_ecc', 'py_arkworks_bls12381', 'coincurve', 'eth_keys', 'web3', "
        "'eth_tester', 'eth'}\n"
        "ours = ('verifier.signatures', 'verifier.app.about')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy "
        "or m.startswith(ours)), file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip() == "[]"
