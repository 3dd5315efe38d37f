"""Key files: one line of 0x-hex holding a 32-byte secret (secp256k1 or BLS).

Errors name the file and what is wrong with it, and never echo any of its content: a key
file passed by mistake (or the wrong one) must not leak into logs or terminals.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from verifier.errors import KeyFileError, Location
from verifier.local.jsonio import open_regular_file
from verifier.signatures import bls, secp256k1

Scheme = Literal["secp256k1", "bls"]

_KEY_LINE = re.compile(rb"0x[0-9a-fA-F]{64}")
#: Far above one line of 66 characters; anything bigger is not a key file.
_MAX_BYTES = 1024


def load_key_file(path: str | Path, scheme: str) -> bytes:
    """Read a secret key from a key file.

    The file holds exactly one line, ``0x`` and 64 hex digits, optionally ending with a
    newline. The key must be in range for the scheme (secp256k1: ``1..n-1``; BLS: ``1..r-1``).

    Args:
        path: The key file.
        scheme: ``"secp256k1"`` or ``"bls"``.

    Returns:
        The 32-byte secret key.

    Raises:
        KeyFileError: The file cannot be read, is not one line of 0x + 64 hex digits, or the
            key is out of range for the scheme. The message never contains the file's content.
        ValueError: Unknown scheme.
    """
    if scheme not in ("secp256k1", "bls"):
        raise ValueError(f"unknown key scheme {scheme!r}")
    where = Location(file=str(path))
    try:
        with open_regular_file(path, what="key file", error=KeyFileError) as handle:
            data = handle.read(_MAX_BYTES + 1)
    except OSError as exc:
        raise KeyFileError(
            f"cannot read key file: {exc.strerror or 'error'}", location=where
        ) from None
    if len(data) > _MAX_BYTES:
        raise KeyFileError("key file is too large to be a key file", location=where)
    for ending in (b"\r\n", b"\n"):
        if data.endswith(ending):
            data = data[: -len(ending)]
            break
    if not _KEY_LINE.fullmatch(data):
        raise KeyFileError(
            "key file does not hold one line of 0x followed by 64 hex digits",
            hint=f"write the 32-byte {scheme} secret key as 0x-hex on a single line",
            location=where,
        )
    key = bytes.fromhex(data[2:].decode("ascii"))
    value = int.from_bytes(key, "big")
    limit = secp256k1.N if scheme == "secp256k1" else bls.R
    if not 1 <= value < limit:
        raise KeyFileError(
            f"key is out of range for {scheme} (must be between 1 and the group order - 1)",
            location=where,
        )
    return key
