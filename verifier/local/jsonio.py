"""Strict file reading shared by every loader: regular files only, size caps, strict JSON.

Every input file porv reads (bundle, policy, result, state, trees, CSV, key files) is opened by
:func:`open_regular_file`: a FIFO, a device such as ``/dev/zero``, a socket or a directory is
refused at once (exit 2) instead of blocking on an open or reading without end, and no more
than the cap is ever read. The text is parsed by :mod:`verifier.model.jsontext`.
"""

from __future__ import annotations

import os
import stat
from typing import IO, Any

from verifier.errors import InputError, Location, SchemaError
from verifier.model.jsontext import loads_strict

#: Upper bound on any JSON input porv reads (a 1M-holding tree dump is well under this).
MAX_JSON_BYTES = 512 * 1024 * 1024


#: Flags for opening an input: never block on a FIFO's open (no writer), never make a terminal
#: the controlling one, never leak the descriptor into a child process.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def _not_regular(mode: int) -> str | None:
    """What a file is when it is not a regular file (None when it is one)."""
    for test, name in (
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return None if stat.S_ISREG(mode) else "not a regular file"


def open_regular_file(
    path: str | os.PathLike[str],
    *,
    what: str = "file",
    error: type[InputError] = SchemaError,
    max_bytes: int | None = None,
) -> IO[bytes]:
    """Open an input file for reading in binary, refusing anything but a regular file.

    The open never blocks (``O_NONBLOCK``: a FIFO without a writer opens at once) and the kind
    of file is taken from the opened descriptor (``fstat``), so a path swapped between a check
    and the open cannot slip a device or a FIFO in. Symbolic links are followed.

    Args:
        what: how messages name the file (``"policy"``, ``"holdings CSV"``...).
        error: the typed error to raise (an :class:`InputError`, exit 2).
        max_bytes: refuse a file whose size already exceeds this.

    Raises:
        InputError: (``error``) the file cannot be opened, is not a regular file, or is too
            large.
    """
    source = os.fspath(path)
    where = Location(file=source)
    try:
        fd = os.open(source, _OPEN_FLAGS)
    except OSError as exc:
        raise error(f"cannot read {what}: {exc.strerror or exc}", location=where) from None
    try:
        info = os.fstat(fd)
        kind = _not_regular(info.st_mode)
        if kind is not None:
            raise error(
                f"cannot read {what}: {source} is {kind}, not a regular file",
                location=where,
                hint="give the path of a regular file",
            )
        if max_bytes is not None and info.st_size > max_bytes:
            raise error(
                f"{what} is larger than the {max_bytes} byte limit ({info.st_size} bytes)",
                location=where,
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular_file(
    path: str | os.PathLike[str],
    *,
    max_bytes: int,
    what: str = "file",
    error: type[InputError] = SchemaError,
) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (see :func:`open_regular_file`).

    Raises:
        InputError: (``error``) unreadable, not a regular file, or larger than ``max_bytes``
            (never more than ``max_bytes + 1`` bytes are read, even if the file grows).
    """
    source = os.fspath(path)
    with open_regular_file(source, what=what, error=error, max_bytes=max_bytes) as fh:
        try:
            data = fh.read(max_bytes + 1)
        except OSError as exc:
            raise error(
                f"cannot read {what}: {exc.strerror or exc}", location=Location(file=source)
            ) from None
    if len(data) > max_bytes:
        raise error(
            f"{what} is larger than the {max_bytes} byte limit", location=Location(file=source)
        )
    return data


def load_json_file(path: str | os.PathLike[str], *, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """Read and strictly parse a JSON file (see :func:`loads_strict`).

    Raises:
        SchemaError: unreadable, not a regular file, too large, not UTF-8, or not valid JSON.
    """
    source = os.fspath(path)
    data = read_regular_file(source, max_bytes=max_bytes)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SchemaError(
            f"not UTF-8 text (byte {exc.start})", location=Location(file=source)
        ) from None
    return loads_strict(text, source=source)
