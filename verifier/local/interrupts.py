"""SIGINT and SIGTERM: stop within a second, exit 130 / 143, leave nothing behind.

The console entry (:func:`verifier.cli.main`) calls :func:`install`. On the first signal:

* every JSON-RPC request in flight is abandoned (:func:`verifier.chain.rpc.abort_requests`,
  registered with :func:`on_first_signal` when the client is imported: its socket is shut
  down, so a read blocked on an endpoint that never answers returns at once);
* :class:`Interrupted` (a ``KeyboardInterrupt``) is raised in the main thread, so ``finally``
  blocks run: nodes are stopped, temporary folders removed, locks released, and no state is
  written (state is only written at the end of a run that completed);
* a watchdog thread makes sure the process is gone :data:`GRACE_S` later whatever is still
  blocked: it runs the cleanups still registered, reports, and exits with 128 + the signal
  number. A second signal does the same at once.

Anything that must not outlive an interrupt (a node's process group, a temporary folder)
registers a cleanup with :func:`on_interrupt` as soon as it exists and forgets it once undone;
:func:`deferred` holds an interrupt back over the few lines between creating such a thing and
registering it.

The report is one line on stderr and, for a command run with ``--format json``, a JSON object
with ``status: "error"`` and ``error.kind: "interrupted"`` on stdout; never a traceback.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import NoReturn

#: Seconds the main thread gets to unwind after a signal before the watchdog exits the process
#: (the contract is "stopped within 1 s"; unwinding normally takes a few milliseconds).
GRACE_S = 0.6

#: The signals porv handles, and the exit code of each (128 + its number, as shells report).
SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread when SIGINT or SIGTERM arrives."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """128 + the signal number: 130 for SIGINT, 143 for SIGTERM."""
        return 128 + self.signum


_lock = threading.RLock()
_cleanups: dict[int, Callable[[], None]] = {}
_tokens = itertools.count(1)
_exit_lock = threading.Lock()
_state = {"installed": 0, "json": 0, "fired": 0, "critical": 0, "pending": 0, "exiting": 0}
# Run first on a signal, before Interrupted is raised (the JSON-RPC client registers its abort
# here: this module sits below the network layer and does not import it).
_first_signal_hooks: list[Callable[[], None]] = []


def on_first_signal(hook: Callable[[], None]) -> None:
    """Run ``hook`` at the first SIGINT/SIGTERM, before the main thread is interrupted.

    For things that must stop at once rather than unwind (requests blocked on a socket).
    """
    with _lock:
        if hook not in _first_signal_hooks:
            _first_signal_hooks.append(hook)


def on_interrupt(cleanup: Callable[[], None]) -> int:
    """Register ``cleanup`` to run if the process is interrupted; returns a token for
    :func:`forget`. Cleanups run newest first, each at most once, errors ignored."""
    with _lock:
        token = next(_tokens)
        _cleanups[token] = cleanup
        return token


def forget(token: int) -> None:
    """Unregister a cleanup (it was done in the normal way)."""
    with _lock:
        _cleanups.pop(token, None)


@contextlib.contextmanager
def cleanup_on_interrupt(cleanup: Callable[[], None]) -> Iterator[None]:
    """Register ``cleanup`` for the duration of the block."""
    token = on_interrupt(cleanup)
    try:
        yield
    finally:
        forget(token)


def run_cleanups() -> None:
    """Run (and unregister) every registered cleanup, newest first."""
    with _lock:
        items = sorted(_cleanups.items(), reverse=True)
        _cleanups.clear()
    for _, cleanup in items:
        with contextlib.suppress(Exception):
            cleanup()


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold an interrupt back until the block ends (the watchdog still runs on time).

    For the few lines between creating something that must be cleaned up (a child process)
    and registering its cleanup.
    """
    with _lock:
        _state["critical"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["critical"] -= 1
            pending = _state["pending"] if _state["critical"] == 0 else 0
            if pending:
                _state["pending"] = 0
        if pending:
            raise Interrupted(pending)


def install() -> None:
    """Handle SIGINT and SIGTERM as described above (main thread only; idempotent)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in SIGNALS:
        signal.signal(sig, _handler)
    if sys.unraisablehook is not _unraisable:
        _previous_unraisablehook[0] = sys.unraisablehook
        sys.unraisablehook = _unraisable
    _state["installed"] = 1


# The hook in place before install(), for every unraisable exception that is not ours.
_previous_unraisablehook: list[Callable[[sys.UnraisableHookArgs], object]] = [
    sys.__unraisablehook__
]


def _unraisable(args: sys.UnraisableHookArgs) -> None:
    """A signal that lands in code whose exceptions Python cannot propagate (a weakref
    callback such as the import system's module-lock cleanup, a ``__del__``) has its
    :class:`Interrupted` "ignored", and Python would print a traceback. Say nothing: the
    signal is recorded, :func:`check` stops the run before anything is written or printed, and
    the watchdog ends the process :data:`GRACE_S` after the signal at the latest."""
    if isinstance(args.exc_value, Interrupted):
        return
    _previous_unraisablehook[0](args)


def ignore_late() -> None:
    """The command has finished: a signal from now on no longer interrupts anything (the
    process is exiting with its own code), and must not kill it half-way through exiting."""
    if _state["installed"] and not _state["fired"]:
        for sig in SIGNALS:
            signal.signal(sig, signal.SIG_IGN)


def installed() -> bool:
    """Whether :func:`install` ran in this process."""
    return bool(_state["installed"])


def set_json(flag: bool) -> None:
    """Whether the running command was asked for ``--format json`` (for the report)."""
    _state["json"] = int(bool(flag))


def fired() -> int:
    """The signal number that interrupted this process, 0 if none."""
    return int(_state["fired"])


def check() -> None:
    """Raise :class:`Interrupted` if a signal has arrived (a worker thread may have swallowed it
    as a failed read): nothing is written after an interrupt.

    Raises:
        Interrupted: porv was interrupted.
    """
    if _state["fired"]:
        raise Interrupted(int(_state["fired"]))


def finish(signum: int) -> NoReturn:
    """Run the remaining cleanups, report, and exit with 128 + ``signum`` (no interpreter
    shutdown: threads still blocked are not waited for)."""
    _state["exiting"] = 1
    with _exit_lock:  # one thread exits; another caller waits here until it has
        run_cleanups()
        _report(signum)
        os._exit(128 + signum)


def _report(signum: int) -> None:
    name = signal.Signals(signum).name
    with contextlib.suppress(Exception):
        sys.stderr.write(f"porv: interrupted by {name}; stopped\n")
        sys.stderr.flush()
    if _state["json"]:
        doc = {
            "status": "error",
            "error": {
                "kind": "interrupted",
                "message": f"interrupted by {name} before the run completed",
                "signal": name,
                "exit_code": 128 + signum,
            },
        }
        with contextlib.suppress(Exception):
            sys.stdout.write(json.dumps(doc, indent=2) + "\n")
            sys.stdout.flush()


def _watchdog(signum: int) -> None:
    time.sleep(GRACE_S)
    finish(signum)


def _handler(signum: int, frame: FrameType | None) -> None:
    if _state["exiting"]:
        return  # the exit is under way
    if _state["fired"]:
        finish(int(_state["fired"]))  # a second signal: now
    _state["fired"] = signum
    for hook in list(_first_signal_hooks):
        hook()
    threading.Thread(target=_watchdog, args=(signum,), name="porv-interrupt", daemon=True).start()
    with _lock:
        if _state["critical"]:
            _state["pending"] = signum
            return
    raise Interrupted(signum)
