"""The one Keccak-256 of porv (the Ethereum hash, not NIST SHA3-256): leaves, nodes, EIP-712
digests, EIP-55 checksums, ABI selectors and code hashes all go through :func:`keccak256`.

Pure code. The fastest backend that passes a self-test is picked once: safe-pysha3's C
``keccak_256`` when it is installed (an optional speed-up, about three times faster per call;
it has no wheel for every platform, so porv does not require it), else pycryptodome's C
library called directly, else pycryptodome's regular API.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Known answers every backend must give before it is used (pycryptodome's and eth-hash's).
_VECTORS: tuple[tuple[bytes, str], ...] = (
    (b"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"),
    (b"abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"),
    (bytes(range(256)) * 3, "00e77ce2c4f77212a0d5df106b08157b77058479357a98a6039b457c469723e4"),
)


def _keccak256_pycryptodome(data: bytes) -> bytes:
    # imported on first use: a run on safe-pysha3 never loads pycryptodome's library
    from Crypto.Hash import keccak

    return keccak.new(data=data, digest_bits=256).digest()


def _passes(fn: Callable[[bytes], bytes]) -> bool:
    """Whether ``fn`` gives the known answers."""
    return all(fn(probe).hex() == digest for probe, digest in _VECTORS)


class _RawKeccak(threading.local):
    """Keccak-256 through pycryptodome's C library without its per-call Python wrapper.

    ``Crypto.Hash.keccak.new(...).digest()`` spends most of its ~6 µs allocating a state
    object and wrapping arguments; here one state per thread is reset and reused, about twice
    as fast. It is only used after a self-test against the regular API (see ``_pick_keccak``).
    """

    lib: Any = None

    def __init__(self) -> None:
        import ctypes

        state = ctypes.c_void_p()
        if self.lib.keccak_init(ctypes.byref(state), ctypes.c_size_t(64), ctypes.c_ubyte(24)):
            raise OSError("keccak_init failed")
        self.state = state
        self.buffer = ctypes.create_string_buffer(32)

    @classmethod
    def load(cls) -> None:
        import ctypes

        from Crypto.Hash import keccak

        path = next(Path(keccak.__file__).parent.glob("_keccak*.so"))
        lib = ctypes.CDLL(str(path))  # a handle of our own: argtypes do not leak to pycryptodome
        lib.keccak_init.restype = ctypes.c_int
        lib.keccak_reset.argtypes = [ctypes.c_void_p]
        lib.keccak_reset.restype = ctypes.c_int
        lib.keccak_absorb.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
        lib.keccak_absorb.restype = ctypes.c_int
        lib.keccak_digest.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_ubyte,
        ]
        lib.keccak_digest.restype = ctypes.c_int
        cls.lib = lib


def _pysha3_keccak() -> Callable[[bytes], bytes] | None:
    """safe-pysha3's C Keccak-256, if installed and it gives the known answers."""
    try:
        new = importlib.import_module("_pysha3").keccak_256
    except (ImportError, AttributeError):
        return None

    def fast(data: bytes) -> bytes:
        digest: bytes = new(data).digest()
        return digest

    return fast if _passes(fast) else None


def _pick_keccak() -> Callable[[bytes], bytes]:
    pysha3 = _pysha3_keccak()
    if pysha3 is not None:
        return pysha3
    try:
        import ctypes

        _RawKeccak.load()
        local = _RawKeccak()
        lib = _RawKeccak.lib
        reset, absorb, digest = lib.keccak_reset, lib.keccak_absorb, lib.keccak_digest

        def fast(data: bytes) -> bytes:
            state = local.state
            buffer = local.buffer
            try:
                if reset(state) or absorb(state, data, len(data)) or digest(state, buffer, 32, 1):
                    raise RuntimeError("keccak failed")  # pragma: no cover - C library errors
            except ctypes.ArgumentError:  # a bytearray or memoryview: the regular API takes it
                return _keccak256_pycryptodome(data)
            return buffer.raw

        for probe in (b"", b"abc", bytes(range(256)) * 3):
            if fast(probe) != _keccak256_pycryptodome(probe):  # pragma: no cover
                raise RuntimeError("self-test failed")
        return fast
    except Exception:  # pragma: no cover - any other pycryptodome build: the regular API
        return _keccak256_pycryptodome


#: Keccak-256 (the Ethereum hash, not NIST SHA3-256): ``keccak256(data) -> 32-byte digest``.
#: The picked function itself, not a wrapper: tree building calls it millions of times.
keccak256: Callable[[bytes], bytes] = _pick_keccak()

#: Which backend :data:`keccak256` is (for benchmarks): "pysha3", "pycryptodome-raw" or
#: "pycryptodome".
BACKEND = (
    "pycryptodome"
    if keccak256 is _keccak256_pycryptodome
    else "pycryptodome-raw"
    if keccak256.__qualname__.startswith("_pick_keccak")
    else "pysha3"
)
