"""Shared CLI plumbing: settings, error handling, output formats, atomic ``--output``."""

from __future__ import annotations

import functools
import itertools
import json
import os
import signal
import stat
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import click
from click.core import ParameterSource

from verifier.errors import (
    IncompleteError,
    InputError,
    Location,
    OutputNotWrittenError,
    OutputRefusedError,
    PorvError,
    redact_urls_in,
)
from verifier.model.display import escape_terminal
from verifier.result.verdict import status_of_exit

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


def show_logs() -> None:
    """Send porv's debug logs (loggers under ``verifier``) to stderr (``--verbose``)."""
    import logging  # here, not for ``porv --help``

    class _SafeLogFormatter(logging.Formatter):
        """Log lines as porv prints everything: URLs without secrets, no control bytes."""

        def format(self, record: logging.LogRecord) -> str:
            return escape_terminal(redact_urls_in(super().format(record)))

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_SafeLogFormatter("porv: %(name)s: %(message)s"))
    root = logging.getLogger("verifier")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG)
    root.propagate = False


def settings() -> Settings:
    """The current invocation's settings (defaults outside a click context)."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_object(Settings) if ctx is not None else None
    return obj if obj is not None else Settings()


#: The one suffix -> format table: ``-o result.html`` means ``--format html`` when --format is
#: not given (an explicit --format, or PORV_..._FORMAT, wins).
OUTPUT_SUFFIX_FORMATS = {
    ".json": "json",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".txt": "text",
    ".xml": "junit",
}


def format_of_output(path: str) -> str | None:
    """The format an ``--output`` file name asks for by its suffix (case-insensitive)."""
    return OUTPUT_SUFFIX_FORMATS.get(os.path.splitext(path)[1].lower())


class _FormatOption(click.Option):
    """``--format``; ``follows_output``: the --output suffix picks it when it is not given."""

    def __init__(self, *args: Any, follows_output: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.follows_output = follows_output


def format_option(
    *choices: str, default: str = "text", follows_output: bool = False
) -> Callable[[F], F]:
    """``--format`` with the given choices; JSON output always carries a ``status``.

    With ``follows_output`` (commands whose --format decides what --output holds), an
    ``--output`` suffix from :data:`OUTPUT_SUFFIX_FORMATS` chooses the format when --format is
    not given (:func:`handle_errors` applies it before the command runs).
    """
    hint = (
        f" Default: from the --output suffix (.json .md .html .txt .xml), else {default}."
        if follows_output
        else ""
    )
    return click.option(
        "--format",
        "fmt",
        cls=_FormatOption,
        follows_output=follows_output,
        type=click.Choice(list(choices)),
        default=default,
        show_default=not follows_output,
        help="Output format." + hint,
    )


def _format_from_output(ctx: click.Context) -> str | None:
    """The format the ``--output`` suffix picks for this command, or ``None`` to keep it.

    Raises:
        InputError: the suffix names a format this command does not write (exit 2).
    """
    option = next((p for p in ctx.command.params if isinstance(p, _FormatOption)), None)
    output = ctx.params.get("output")
    if option is None or not option.follows_output or not isinstance(output, str):
        return None
    if ctx.get_parameter_source("fmt") is not ParameterSource.DEFAULT:
        return None  # an explicit --format (or its environment variable) wins
    fmt = format_of_output(output)
    if fmt is None:
        return None
    choices = list(getattr(option.type, "choices", ()))
    if fmt not in choices:
        raise InputError(
            f"--output {output}: its suffix asks for {fmt}, which this command does not write "
            f"(formats: {', '.join(choices)})",
            location=Location(file=output, field="--output"),
            hint="give --format explicitly, or name a file ending in "
            + " / ".join(s for s, f in OUTPUT_SUFFIX_FORMATS.items() if f in choices),
        )
    return fmt


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


#: ``ctx.meta`` key under which ``--output`` is remembered for :func:`handle_errors`'s check.
_OUTPUT_META = "porv.output"


def _remember_output(ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    if value is not None:
        ctx.meta[_OUTPUT_META] = value
    return value


def output_option(func: F) -> F:
    """``--output FILE``: write the result there atomically instead of stdout.

    FILE must be a regular file or not exist yet, in an existing folder; anything else (a
    symbolic link, FIFO, device, folder) is refused before the command does any work
    (:func:`check_output_path`, run by :func:`handle_errors`).
    """
    return click.option(
        "--output",
        "-o",
        "output",
        type=click.Path(),
        default=None,
        callback=_remember_output,
        help="Write the result to FILE (atomically, replacing only a regular file) instead "
        "of stdout.",
    )(func)


def _refuse_output(path: str, why: str, option: str = "--output") -> OutputRefusedError:
    return OutputRefusedError(
        f"{option} {path} {why}; porv only replaces a regular file, atomically",
        location=Location(file=path, field=option),
        hint=f"omit {option} to print to stdout, or name a regular file in an existing folder"
        if option == "--output"
        else "name a regular file in an existing folder",
    )


def check_output_path(path: str, *, option: str = "--output") -> None:
    """Refuse an ``--output`` path (or another file option's: ``option``) porv would not
    replace, without touching it.

    Raises:
        OutputRefusedError: the path is a symbolic link, FIFO, device, socket, folder or other
            non-regular file, is not writable, or its folder is missing or not writable.
    """
    if not path:
        raise _refuse_output("''", "is empty", option)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise _refuse_output(path, "is under a path that is not a folder", option) from None
    except OSError as exc:
        raise _refuse_output(path, f"cannot be used ({exc.strerror or exc})", option) from None
    if st is not None:
        mode = st.st_mode
        kinds = (
            (stat.S_ISLNK, "is a symbolic link"),
            (stat.S_ISDIR, "is a folder"),
            (stat.S_ISFIFO, "is a FIFO (named pipe)"),
            (stat.S_ISCHR, "is a character device"),
            (stat.S_ISBLK, "is a block device"),
            (stat.S_ISSOCK, "is a socket"),
        )
        for test, why in kinds:
            if test(mode):
                raise _refuse_output(path, why, option)
        if not stat.S_ISREG(mode):
            raise _refuse_output(path, "is not a regular file", option)
        if not os.access(path, os.W_OK):
            raise _refuse_output(path, "is not writable", option)
    folder = os.path.dirname(path) or "."
    try:
        is_dir = stat.S_ISDIR(os.stat(folder).st_mode)
    except FileNotFoundError:
        why = f"is in a folder that does not exist ({folder})"
        raise _refuse_output(path, why, option) from None
    except OSError as exc:
        why = f"is in a folder that cannot be used ({exc.strerror})"
        raise _refuse_output(path, why, option) from None
    if not is_dir:
        raise _refuse_output(path, f"is under {folder}, which is not a folder", option)
    if not os.access(folder, os.W_OK):
        raise _refuse_output(path, f"is in a folder porv cannot write to ({folder})", option)


def atomic_write_text(path: str, text: str, *, make_parents: bool = True) -> None:
    """:func:`verifier.local.state.atomic_write_text`, imported on the first write (the state
    module is not needed for ``--help``)."""
    from verifier.local.state import atomic_write_text as write

    write(path, text, make_parents=make_parents)


def emit(text: str, output: str | None = None, *, option: str = "--output") -> None:
    """Write a finished result to ``output`` atomically, or to stdout (never after SIGINT or
    SIGTERM: an interrupted run writes nothing).

    Control and invisible characters from the inputs are shown as ``\\uXXXX`` (which JSON
    reads back as the same character), so no output can drive a terminal.

    Raises:
        OutputRefusedError: ``output`` became something porv does not replace (exit 2).
        OutputNotWrittenError: the file could not be written (exit 3); nothing was replaced.
    """
    from verifier.local import interrupts

    interrupts.check()
    text = escape_terminal(text, multiline=True)
    if not text.endswith("\n"):
        text += "\n"
    if output:
        # again: it may have changed since the command started
        check_output_path(output, option=option)
        try:
            atomic_write_text(output, text, make_parents=False)
        except OSError as exc:
            raise OutputNotWrittenError(
                f"the result could not be written to {output}: {exc.strerror or exc}",
                location=Location(file=output, field=option),
                hint="nothing was replaced; free space or pick another file"
                + (", or omit --output to print to stdout" if option == "--output" else ""),
            ) from None
    else:
        click.echo(text, nl=False)


def emit_chunks(chunks: Iterable[str], output: str | None = None) -> None:
    """:func:`emit` for a large document made in pieces: the same bytes, never held whole.

    The pieces are escaped one by one (the escaping works character by character, so this is
    the text :func:`emit` writes); the last piece must end with a newline. A file is written
    atomically and replaced only once every piece is written; an interrupt between pieces
    writes nothing.

    Raises:
        OutputRefusedError: ``output`` became something porv does not replace (exit 2).
        OutputNotWrittenError: the file could not be written (exit 3); nothing was replaced.
    """
    from verifier.local import interrupts

    interrupts.check()

    def pieces() -> Iterator[str]:
        for chunk in chunks:
            interrupts.check()
            yield escape_terminal(chunk, multiline=True)

    if not output:
        for piece in pieces():
            click.echo(piece, nl=False)
        return
    check_output_path(output)
    from verifier.local.state import atomic_write_chunks

    try:
        atomic_write_chunks(output, (p.encode("utf-8") for p in pieces()), make_parents=False)
    except OSError as exc:
        raise OutputNotWrittenError(
            f"the result could not be written to {output}: {exc.strerror or exc}",
            location=Location(file=output, field="--output"),
            hint="nothing was replaced; free space or pick another file, or omit --output to "
            "print to stdout",
        ) from None


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
    """A one-line summary or progress note on stderr (coloured only when allowed).

    The text is escaped (:func:`~verifier.model.display.escape_terminal`): it may quote inputs.
    """
    message = escape_terminal(message, multiline=True)
    use = settings().use_color()
    click.echo(click.style(message, fg=style) if (use and style) else message, err=True)


def wants_json() -> bool:
    """Whether the current command was asked for ``--format json``."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.params.get("fmt") == "json")


def handle_errors(func: F) -> F:
    """Decorator for command callbacks: PorvError -> diagnostics on stderr + exit code.

    An ``--output`` path (:func:`output_option`) is checked first, before the command runs;
    its suffix picks the format of a command whose ``--format`` follows it
    (:func:`format_option`).

    With ``--format json`` the error is also printed to stdout as ``{"status": "error", ...}``
    (exit 2/3) or ``{"status": "failed", ...}`` (exit 1), so JSON consumers always get a status.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from verifier.local import interrupts

        ctx = click.get_current_context(silent=True)
        try:
            fmt = _format_from_output(ctx) if ctx is not None else None
        except PorvError as exc:
            _report(exc)
            raise SystemExit(exc.exit_code) from None
        if fmt is not None and ctx is not None:
            kwargs["fmt"] = ctx.params["fmt"] = fmt
        interrupts.set_json(wants_json())  # an interrupt's report follows the same format
        try:
            output = ctx.meta.get(_OUTPUT_META) if ctx is not None else None
            if output is not None:
                check_output_path(output)  # before any work: nothing is read or written yet
            return func(*args, **kwargs)
        except PorvError as exc:
            _report(exc)
            raise SystemExit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def _print_traceback() -> None:
    """The current exception's traceback on stderr (``--verbose``)."""
    import traceback

    traceback.print_exc(file=sys.stderr)


def _report(exc: PorvError) -> None:
    from verifier.local import interrupts

    interrupts.check()  # an error caused by the interrupt itself is reported as the interrupt
    if settings().verbose:
        _print_traceback()
    status = status_of_exit(exc.exit_code)
    note(f"porv: {status}: {exc.diagnostics()}", style="red")
    if wants_json():
        emit(dump_json({"status": status, "error": exc.to_json()}))
    elif wants_junit():
        from verifier.result.junit import error_junit

        ctx = click.get_current_context(silent=True)
        command = ctx.command_path.removeprefix("porv").strip() if ctx is not None else "porv"
        emit(error_junit(command or "porv", exc.to_json()))


def wants_junit() -> bool:
    """Whether the current command was asked for ``--format junit`` (CI servers then get a
    JUnit document for an error too: one testcase, a failure for exit 1, else an error)."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.params.get("fmt") == "junit")


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
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):  # click wraps Ctrl-C in Abort
            _interrupted(exc.__cause__)
        click.echo("porv: aborted", err=True)
        raise SystemExit(3) from None
    except click.ClickException as exc:
        exc.show()
        _json_status(argv, InputError(exc.format_message()))
        raise SystemExit(2) from None
    except PorvError as exc:
        if verbose:
            _print_traceback()
        note(f"porv: {exc.diagnostics()}")
        _json_status(argv, exc)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt as exc:
        _interrupted(exc)
    except OSError as exc:
        if verbose:
            _print_traceback()
        err = InputError(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
        note(f"porv: error: {err.diagnostics()}")
        _json_status(argv, err)
        raise SystemExit(2) from None
    except Exception as exc:
        if verbose:
            _print_traceback()
        detail = redact_urls_in(f"{type(exc).__name__}: {exc}")
        note(f"porv: internal error ({detail}); rerun with --verbose")
        _json_status(argv, IncompleteError(f"internal error ({detail})"))
        raise SystemExit(3) from None


def _json_status(argv: list[str], exc: PorvError) -> None:
    """``{"status": "error", ...}`` on stdout for an error outside a command's own handler
    (usage errors, internal errors), when the command line asked for ``--format json``:
    a JSON consumer always gets a status. Best effort: stdout may be what failed."""
    wants = "--format=json" in argv or any(
        a == "--format" and b == "json" for a, b in itertools.pairwise(argv)
    )
    if not wants:
        return
    try:
        status = status_of_exit(exc.exit_code)
        click.echo(
            escape_terminal(dump_json({"status": status, "error": exc.to_json()}), multiline=True)
        )
    except (OSError, ValueError):
        pass


def _interrupted(exc: KeyboardInterrupt) -> NoReturn:
    """SIGINT / SIGTERM: exit 130 / 143 with a one-line report (JSON under --format json)."""
    from verifier.local import interrupts

    signum = exc.signum if isinstance(exc, interrupts.Interrupted) else int(signal.SIGINT)
    if interrupts.installed():
        interrupts.finish(signum)  # cleanups, report, exit without waiting for stuck threads
    click.echo("porv: interrupted", err=True)
    raise SystemExit(128 + signum) from None


#: Chain reads slower than this get a progress bar on stderr.
PROGRESS_AFTER_S = 1.0


def parse_rpc_overrides(values: tuple[str, ...]) -> dict[int, list[str]]:
    """``CHAIN_ID=URL`` options -> chain id -> URLs (repeat the option for more endpoints).

    Raises:
        InputError: an option is not ``CHAIN_ID=URL``.
    """
    from verifier.model.validate import InvalidValueError, split_chain_pair

    out: dict[int, list[str]] = {}
    for value in values:
        try:
            chain_id, url = split_chain_pair(value, "=")
        except InvalidValueError:
            url = ""
        if not url or any(ch.isspace() for ch in url):
            raise InputError(
                f"--rpc expects CHAIN_ID=URL, found {value!r}",
                location=Location(field="--rpc"),
            )
        out.setdefault(chain_id, []).append(url)
    return out


class ChainProgress:
    """A rich progress bar on stderr, shown only once reading has taken over a second, and
    gone once every chain is read."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.color = settings().use_color()  # read here: the timer thread has no click context
        self.lock = threading.Lock()
        self.bar: Any = None
        self.task: Any = None
        self.done = 0
        self.token = 0
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
            from verifier.local import interrupts

            # an interrupt must not leave the terminal with a half-drawn bar and no cursor
            self.token = interrupts.on_interrupt(self.bar.stop)
            self.task = self.bar.add_task("reading chains", total=self.total, completed=self.done)

    def __call__(self, *, chain_id: int, done: int, total: int, **_: Any) -> None:
        with self.lock:
            self.done, self.total = done, total
            if self.bar is not None:
                self.bar.update(
                    self.task, completed=done, total=total, description=f"chain {chain_id} read"
                )
        if 0 < total <= done:
            # every chain is read: no bar after this (nor rich imported by the timer thread
            # while the run checks the bundle)
            self.close()

    def close(self) -> None:
        from verifier.local import interrupts

        self.timer.cancel()
        with self.lock:
            if self.closed:
                return
            self.closed = True
            if self.bar is not None:
                self.bar.stop()
                interrupts.forget(self.token)
