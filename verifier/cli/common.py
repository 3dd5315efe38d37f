"""Shared CLI plumbing: settings, error handling, output formats, atomic ``--output``."""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from verifier.errors import InputError, Location, PorvError
from verifier.state import atomic_write_text

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Settings:
    """Global options of the ``porv`` group."""

    verbose: bool = False
    color: str = "auto"

    def use_color(self) -> bool:
        """Colour only on a TTY, never with NO_COLOR (unless --color always)."""
        if self.color == "always":
            return True
        if self.color == "never" or os.environ.get("NO_COLOR"):
            return False
        return sys.stderr.isatty()


def settings() -> Settings:
    """The current invocation's settings (defaults outside a click context)."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_object(Settings) if ctx is not None else None
    return obj if obj is not None else Settings()


def format_option(*choices: str, default: str = "text") -> Callable[[F], F]:
    """``--format`` with the given choices; JSON output always carries a ``status``."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default=default,
        show_default=True,
        help="Output format.",
    )


def chain_kind_option(func: F) -> F:
    """``--chain embedded|anvil|hardhat`` (default embedded) for verbs that start local chains."""
    return click.option(
        "--chain",
        "kind",
        type=click.Choice(["embedded", "anvil", "hardhat"]),
        default="embedded",
        show_default=True,
        help="Which local chain: the in-process py-evm chain, or anvil / hardhat from the "
        "project's npm install.",
    )(func)


def output_option(func: F) -> F:
    """``--output FILE``: write the result there atomically instead of stdout."""
    return click.option(
        "--output",
        "-o",
        "output",
        type=click.Path(dir_okay=False, writable=True),
        default=None,
        help="Write the result to FILE (atomically) instead of stdout.",
    )(func)


def emit(text: str, output: str | None = None) -> None:
    """Write a finished result to ``output`` atomically, or to stdout."""
    if not text.endswith("\n"):
        text += "\n"
    if output:
        atomic_write_text(output, text)
    else:
        click.echo(text, nl=False)


def dump_json(obj: Any) -> str:
    """Pretty JSON for stdout/files (the digest uses RFC 8785 elsewhere).

    Same text as ``json.dumps(obj, indent=2, ensure_ascii=False)``, joined in batches: with
    ``indent``, ``json.dumps`` lists every token as its own string before joining them, many
    times the size of the text for a large result.
    """
    encoder = json.JSONEncoder(indent=2, sort_keys=False, ensure_ascii=False)
    pieces: list[str] = []
    batch: list[str] = []
    for chunk in encoder.iterencode(obj):
        batch.append(chunk)
        if len(batch) >= 8192:
            pieces.append("".join(batch))
            batch.clear()
    pieces.append("".join(batch))
    return "".join(pieces)


def note(message: str, *, style: str | None = None) -> None:
    """A one-line summary or progress note on stderr (coloured only when allowed)."""
    use = settings().use_color()
    click.echo(click.style(message, fg=style) if (use and style) else message, err=True)


def wants_json() -> bool:
    """Whether the current command was asked for ``--format json``."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.params.get("fmt") == "json")


def handle_errors(func: F) -> F:
    """Decorator for command callbacks: PorvError -> diagnostics on stderr + exit code.

    With ``--format json`` the error is also printed to stdout as ``{"status": "error", ...}``
    (exit 2/3) or ``{"status": "failed", ...}`` (exit 1), so JSON consumers always get a status.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PorvError as exc:
            _report(exc)
            raise SystemExit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def _report(exc: PorvError) -> None:
    if settings().verbose:
        traceback.print_exc(file=sys.stderr)
    label = {1: "failed", 2: "error", 3: "error"}.get(exc.exit_code, "error")
    note(f"porv: {label}: {exc.diagnostics()}", style="red")
    if wants_json():
        status = "failed" if exc.exit_code == 1 else "error"
        click.echo(dump_json({"status": status, "error": exc.to_json()}))


def run_main(group: click.Group, argv: list[str]) -> Any:
    """Run the CLI: usage errors exit 2, PorvError its own code, anything else 3.

    An unexpected exception is a bug; it is reported in one line (traceback with --verbose)
    and exits 3 ("could not complete"), never with a bare traceback.
    """
    verbose = "--verbose" in argv or "-v" in argv[:1]
    try:
        return group.main(
            args=argv, prog_name="porv", auto_envvar_prefix="PORV", standalone_mode=False
        )
    except click.exceptions.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except click.exceptions.Abort:
        click.echo("porv: aborted", err=True)
        raise SystemExit(3) from None
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(2) from None
    except PorvError as exc:
        if verbose:
            traceback.print_exc(file=sys.stderr)
        click.echo(f"porv: {exc.diagnostics()}", err=True)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        click.echo("porv: interrupted", err=True)
        raise SystemExit(130) from None
    except OSError as exc:
        if verbose:
            traceback.print_exc(file=sys.stderr)
        err = InputError(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
        click.echo(f"porv: error: {err.diagnostics()}", err=True)
        raise SystemExit(2) from None
    except Exception as exc:
        if verbose:
            traceback.print_exc(file=sys.stderr)
        click.echo(
            f"porv: internal error ({type(exc).__name__}: {exc}); rerun with --verbose", err=True
        )
        raise SystemExit(3) from None


#: Chain reads slower than this get a progress bar on stderr.
PROGRESS_AFTER_S = 1.0


def parse_rpc_overrides(values: tuple[str, ...]) -> dict[int, list[str]]:
    """``CHAIN_ID=URL`` options -> chain id -> URLs (repeat the option for more endpoints).

    Raises:
        InputError: an option is not ``CHAIN_ID=URL``.
    """
    out: dict[int, list[str]] = {}
    for value in values:
        m = re.fullmatch(r"([1-9][0-9]*)=(\S+)", value)
        if not m:
            raise InputError(
                f"--rpc expects CHAIN_ID=URL, found {value!r}",
                location=Location(field="--rpc"),
            )
        out.setdefault(int(m.group(1)), []).append(m.group(2))
    return out


class ChainProgress:
    """A rich progress bar on stderr, shown only once reading has taken over a second."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.color = settings().use_color()  # read here: the timer thread has no click context
        self.lock = threading.Lock()
        self.bar: Any = None
        self.task: Any = None
        self.done = 0
        self.closed = False
        self.timer = threading.Timer(PROGRESS_AFTER_S, self._show)
        self.timer.daemon = True
        self.timer.start()

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import Progress

        with self.lock:
            if self.closed or self.bar is not None:
                return
            console = Console(file=sys.stderr, no_color=not self.color)
            self.bar = Progress(console=console, transient=True)
            self.bar.start()
            self.task = self.bar.add_task("reading chains", total=self.total, completed=self.done)

    def __call__(self, *, chain_id: int, done: int, total: int, **_: Any) -> None:
        with self.lock:
            self.done, self.total = done, total
            if self.bar is not None:
                self.bar.update(
                    self.task, completed=done, total=total, description=f"chain {chain_id} read"
                )

    def close(self) -> None:
        self.timer.cancel()
        with self.lock:
            self.closed = True
            if self.bar is not None:
                self.bar.stop()
