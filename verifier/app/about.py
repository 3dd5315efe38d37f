"""What ``porv --version`` prints: porv's version, the Python, and the backends in use.

porv installs from wheels on CPython 3.11 to 3.14 on Linux, macOS and Windows, but not every
native library has a wheel everywhere; where one is missing porv runs on a pure-Python backend
(same bytes, slower). This names which one this install runs on:

    porv 0.1.0 (python 3.11.7; bls: py-arkworks-bls12381 0.5.0; secp256k1: coincurve 21.0.0;
    keccak: pycryptodome 3.24.1; embedded chain: eth-tester 0.14.0b1 + py-evm 0.12.1b1)

The BLS and secp256k1 backends are the ones the signing modules picked when they imported;
the embedded chain is only looked up (importing py-evm takes about a second). Versions come from
the installed distributions' metadata.
"""

from __future__ import annotations

import importlib.util
import platform
from importlib import metadata

from verifier.model.version import VERSION


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "(version unknown)"


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package that fails, or a None in sys.modules
        return False


def backends() -> dict[str, str]:
    """Each backend porv uses, by role: ``bls``, ``secp256k1``, ``keccak``, ``embedded chain``."""
    from verifier.signatures import bls, secp256k1

    if bls.backend_in_use() == "native":
        bls_name = f"py-arkworks-bls12381 {_version('py-arkworks-bls12381')}"
    else:
        bls_name = f"py_ecc {_version('py-ecc')} (pure Python reference)"
    if secp256k1.backend_in_use() == "native":
        secp_name = f"coincurve {_version('coincurve')}"
    else:
        secp_name = f"eth-keys {_version('eth-keys')} (pure Python)"
    if _importable("eth_tester") and _importable("eth"):
        chain = f"eth-tester {_version('eth-tester')} + py-evm {_version('py-evm')}"
    else:
        chain = "not installed (reinstall porv, or use --chain anvil)"
    return {
        "bls": bls_name,
        "secp256k1": secp_name,
        "keccak": f"pycryptodome {_version('pycryptodome')}",
        "embedded chain": chain,
    }


def version_line() -> str:
    """``porv VERSION (python X.Y.Z; bls: ...; secp256k1: ...; keccak: ...; embedded chain: ...)``.

    Imports the signature modules (and so their backends): only ``porv --version`` calls it.
    """
    parts = [f"python {platform.python_version()}"]
    parts += [f"{role}: {name}" for role, name in backends().items()]
    return f"porv {VERSION} ({'; '.join(parts)})"
