"""Local state: atomic file writes, and the rollback state of DESIGN §1.3 under its lock.

The rollback floor is read, compared and written under an exclusive lock on the state folder
(:func:`locked_state`), so two runs sharing a folder serialise; recording only ever raises
the floor (:meth:`Floor.raised`).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from verifier.checks.floor import STATE_FORMAT, Accepted, Floor, Updates
from verifier.errors import InputError, Location, SchemaError, StateLockedError
from verifier.local.jsonio import load_json_file

__all__ = [
    "STATE_FORMAT",
    "Accepted",
    "Floor",
    "RollbackState",
    "Updates",
    "atomic_write_bytes",
    "atomic_write_chunks",
    "atomic_write_text",
    "locked_state",
    "read_floor",
]


def atomic_write_bytes(
    path: str | os.PathLike[str], data: bytes, *, make_parents: bool = True
) -> None:
    """Write ``data`` to ``path`` atomically: temp file in the same folder, fsync, os.replace.

    A reader sees either the old file or the new one, never a half-written file, and a crash
    leaves no partial output behind. Whatever ``path`` was (a file, a link) is replaced, never
    written through.
    """
    atomic_write_chunks(path, (data,), make_parents=make_parents)


def atomic_write_chunks(
    path: str | os.PathLike[str], chunks: Iterable[bytes], *, make_parents: bool = True
) -> None:
    """:func:`atomic_write_bytes` for a document made in pieces (never held whole).

    If producing a piece raises, the temp file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    if make_parents:
        target.parent.mkdir(parents=True, exist_ok=True)
    # a short temp name: a target whose name fits also has a temp name that fits
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:32]}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_folder(target.parent)


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op where folders cannot be opened)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def atomic_write_text(
    path: str | os.PathLike[str], text: str, *, make_parents: bool = True
) -> None:
    """Write ``text`` as UTF-8 atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"), make_parents=make_parents)


# --- rollback state (DESIGN §1.3) ---------------------------------------------------------

STATE_FILE = "state.json"
#: The lock file inside the state folder; it exists only while a run holds the lock.
STATE_LOCK_FILE = ".state.lock"
#: How long a run waits (seconds) for another run on the same state folder to finish. A run
#: holds the lock for its chain reads, so this is longer than a normal run; a run stuck for
#: longer is reported (exit 3) rather than waited for without bound.
STATE_LOCK_WAIT_S = 120.0
#: How often a waiting run tries the lock again (seconds).
_LOCK_POLL_S = 0.05


def read_floor(path: str | os.PathLike[str]) -> Floor:
    """The floor kept in a ``porv.state/1`` file (empty when there is none).

    Raises:
        SchemaError: the file is not a ``porv.state/1`` document.
    """
    if not os.path.exists(path):
        return Floor()
    source = str(path)
    doc = load_json_file(source)
    if not isinstance(doc, dict) or doc.get("format") != STATE_FORMAT:
        raise SchemaError(
            f"not a {STATE_FORMAT} file",
            location=Location(file=source, field="format"),
            hint="point --state at a folder used only by porv",
        )
    # the one strict JSON-integer check (no bool, float, string or non-ASCII digits)
    from verifier.model.attestation import _int as json_uint
    from verifier.model.numbers import UINT64_MAX

    entries: dict[str, Accepted] = {}
    raw = doc.get("custodians")
    if not isinstance(raw, dict):
        raise SchemaError("expected an object", location=Location(source, None, "custodians"))
    for key, value in raw.items():
        at = f"custodians.{key}."
        try:
            entries[key] = Accepted(
                sequence=json_uint(
                    value["sequence"], UINT64_MAX, "uint64", source=source, field=at + "sequence"
                ),
                digest=str(value["digest"]),
                as_of=json_uint(
                    value["as_of"], UINT64_MAX, "uint64", source=source, field=at + "as_of"
                ),
            )
        except (KeyError, TypeError, ValueError):
            raise SchemaError(
                "malformed entry", location=Location(source, None, f"custodians.{key}")
            ) from None
    return Floor(entries)


class RollbackState:
    """The rollback state folder ``DIR`` (its floor in ``DIR/state.json``).

    Constructed directly it is a snapshot for reading; :func:`locked_state` holds the folder's
    exclusive lock from reading the floor to recording, so concurrent runs serialise.
    :meth:`record` always re-reads the file under the lock and only raises the floor, so even a
    stale snapshot can never lower it.
    """

    def __init__(self, directory: str | os.PathLike[str], *, _locked: bool = False) -> None:
        self.directory = Path(directory)
        self.path = self.directory / STATE_FILE
        self._locked = _locked
        self._floor = read_floor(self.path)

    @property
    def floor(self) -> Floor:
        """The floor as read (and as raised by this object's own :meth:`record` calls)."""
        return self._floor

    def get(self, issuer: str, token: str, custodian: str) -> Accepted | None:
        """The last accepted attestation for this custodian, if any."""
        return self._floor.get(issuer, token, custodian)

    def check(self, issuer: str, token: str, custodian: str, sequence: int, digest: str) -> None:
        """See :meth:`Floor.check`."""
        self._floor.check(issuer, token, custodian, sequence, digest)

    def record(self, updates: Updates) -> None:
        """Raise the floor for the given custodians (never lower it); write the file atomically.

        Under the folder's lock (taken here unless this object already holds it), the file is
        read again, raised by ``updates`` and written only if something changed.

        Raises:
            RollbackError: an update has a recorded sequence with other content; nothing is written.
            StateLockedError: the lock could not be had in time (exit 3); nothing is written.
        """
        if not self._locked:
            with folder_lock(self.directory):
                self._record(updates)
        else:
            self._record(updates)

    def _record(self, updates: Updates) -> None:
        current = read_floor(self.path)
        raised = current.raised(updates)
        if raised != current or not self.path.exists():
            text = json.dumps(raised.to_json(), indent=2, ensure_ascii=False) + "\n"
            atomic_write_text(self.path, text)
        self._floor = raised


@contextlib.contextmanager
def locked_state(
    directory: str | os.PathLike[str],
    *,
    wait: float | None = None,
    on_wait: Callable[[], None] | None = None,
) -> Iterator[RollbackState]:
    """The state folder under its exclusive lock, its floor read after the lock was taken.

    Args:
        wait: seconds to wait for another run's lock (default :data:`STATE_LOCK_WAIT_S`).
        on_wait: called once if the lock is held by another run and this one starts waiting.

    Raises:
        StateLockedError: the lock could not be had within ``wait`` (exit 3).
        InputError: the folder cannot be created or is not a folder (exit 2).
    """
    with folder_lock(directory, wait=wait, on_wait=on_wait):
        state = RollbackState(directory, _locked=True)
        try:
            yield state
        finally:
            state._locked = False  # kept past the block, it takes the lock again to record


@contextlib.contextmanager
def folder_lock(
    directory: str | os.PathLike[str],
    *,
    wait: float | None = None,
    on_wait: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Hold the exclusive lock of a state folder (``DIR/.state.lock``), waiting boundedly.

    The lock file is removed on release; a waiter that locked a file since removed (or
    replaced) tries again on the current one, so two holders never coexist.
    """
    folder = Path(directory)
    limit = STATE_LOCK_WAIT_S if wait is None else wait
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"state folder {folder} cannot be created: {exc.strerror or exc}",
            location=Location(file=str(folder), field="--state"),
        ) from None
    if not folder.is_dir():
        raise InputError(
            f"state folder {folder} is not a folder",
            location=Location(file=str(folder), field="--state"),
        )
    fd = _acquire(folder / STATE_LOCK_FILE, limit, on_wait)
    try:
        yield
    finally:
        _release(folder / STATE_LOCK_FILE, fd)


def _acquire(path: Path, limit: float, on_wait: Callable[[], None] | None) -> int:
    deadline = time.monotonic() + limit
    waited = False
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    while True:
        try:
            fd = os.open(path, flags, 0o600)
        except OSError as exc:
            raise InputError(
                f"state folder lock {path} cannot be opened: {exc.strerror or exc}",
                location=Location(file=str(path)),
                hint="point --state at a folder used only by porv",
            ) from None
        try:
            if _try_lock(fd):
                if _same_file(fd, path):
                    return fd
                # the holder removed (or someone replaced) the file we locked: start again
                _unlock(fd)
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
        if time.monotonic() >= deadline:
            raise StateLockedError(
                f"state folder {path.parent} is locked by another porv run; waited {limit:g} s",
                hint="let the other run finish (or stop it), then run again; "
                "no state was read or changed",
                location=Location(file=str(path.parent), field="--state"),
            )
        if not waited:
            waited = True
            if on_wait is not None:
                on_wait()
        time.sleep(_LOCK_POLL_S)


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (on_disk.st_dev, on_disk.st_ino)


def _release(path: Path, fd: int) -> None:
    try:
        # remove while still holding it, so a waiter that gets this file next sees it is stale
        with contextlib.suppress(OSError):  # Windows refuses while a waiter has it open
            os.unlink(path)
        _unlock(fd)
    finally:
        os.close(fd)


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
