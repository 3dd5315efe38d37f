"""The one rule for choosing a signature backend: native when its library imported, else the
pure-Python reference; asking for the native one where it is missing is an error."""

from __future__ import annotations

from typing import Any, Literal

#: ``"native"`` (a compiled library) or ``"reference"`` (pure Python, the specification's).
Backend = Literal["native", "reference"]


def pick_backend(scheme: str, library: str, native: Any, backend: Backend | None) -> Backend:
    """The backend to use for ``scheme``.

    Args:
        scheme: The scheme's name, for messages (``"BLS"``, ``"secp256k1"``).
        library: The native library's name, for messages.
        native: The native module, or None if it did not import.
        backend: The one asked for; None picks native when it imported, else reference.

    Raises:
        ValueError: An unknown backend, or the native one where its library is missing.
    """
    if backend is None:
        return "native" if native is not None else "reference"
    if backend not in ("native", "reference"):
        raise ValueError(f"unknown {scheme} backend {backend!r}")
    if backend == "native" and native is None:
        raise ValueError(f"the native {scheme} backend ({library}) is not installed")
    return backend
