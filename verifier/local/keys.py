"""Key files: one line of 0x-hex holding a 32-byte secret (secp256k1 or BLS).

Errors name the file and what is wrong with it, and never echo any of its content: a key
file passed by mistake (or the wrong one) must not leak into logs or terminals.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path
from typing import Literal

from verifier.errors import KeyFileError, Location, OutputRefusedError
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


def generate_secret(scheme: str) -> bytes:
    """A fresh 32-byte secret key for ``scheme``, from the operating system's CSPRNG.

    Drawn uniformly in ``1..n-1`` (secp256k1) or ``1..r-1`` (BLS) by rejection: a draw out of
    range is thrown away, never reduced (reduction would bias the key).

    Raises:
        ValueError: Unknown scheme.
    """
    if scheme not in ("secp256k1", "bls"):
        raise ValueError(f"unknown key scheme {scheme!r}")
    limit = secp256k1.N if scheme == "secp256k1" else bls.R
    while True:
        key = secrets.token_bytes(32)
        if 1 <= int.from_bytes(key, "big") < limit:
            return key


def write_new_key_file(path: str | Path, key: bytes) -> None:
    """Create a key file holding ``key``, readable and writable by its owner only (0600).

    The file appears complete or not at all, and never replaces anything: the key is written
    to a temporary file created with ``O_EXCL`` and mode 0600 in the same folder, which is then
    hard-linked to ``path`` (a link fails if ``path`` exists, whatever it is) and removed.
    Where the file system has no hard links, ``path`` itself is created with ``O_EXCL``.

    Raises:
        OutputRefusedError: ``path`` exists (file, link, folder...) or cannot be created there;
            nothing was changed. The message never contains the key.
        ValueError: ``key`` is not 32 bytes.
    """
    if not isinstance(key, bytes) or len(key) != 32:
        raise ValueError("a key is 32 bytes")
    target = os.fspath(path)
    where = Location(file=target, field="--output")
    if os.path.lexists(target):
        raise _exists(target, where)
    folder = os.path.dirname(target) or "."
    data = ("0x" + key.hex() + "\n").encode("ascii")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    flags |= getattr(os, "O_NOFOLLOW", 0)
    tmp = os.path.join(folder, f".{os.path.basename(target)}.{secrets.token_hex(8)}.tmp")
    try:
        fd = os.open(tmp, flags, 0o600)
    except OSError as exc:
        raise OutputRefusedError(
            f"cannot create a key file in {folder}: {exc.strerror or 'error'}", location=where
        ) from None
    try:
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, target)
        except FileExistsError:
            raise _exists(target, where) from None
        except OSError:  # no hard links here: create the file itself, still exclusively
            _write_exclusive(target, flags, data, where)
    except OSError as exc:
        raise OutputRefusedError(
            f"cannot write the key file: {exc.strerror or 'error'}", location=where
        ) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _write_exclusive(target: str, flags: int, data: bytes, where: Location) -> None:
    try:
        fd = os.open(target, flags, 0o600)
    except FileExistsError:
        raise _exists(target, where) from None
    try:
        os.write(fd, data)
        os.fsync(fd)
    except OSError:
        os.close(fd)
        os.unlink(target)  # ours, created just now: never leave half a key behind
        raise
    os.close(fd)


def _exists(target: str, where: Location) -> OutputRefusedError:
    return OutputRefusedError(
        f"{target} already exists; porv never overwrites a key file",
        hint="pick a new file name, or move the old key away first if you mean to replace it",
        location=where,
    )
