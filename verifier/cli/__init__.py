"""The ``porv`` command line: the only part of porv that prints.

Verbs live in one module each and are imported lazily, so ``porv --help`` and the offline verbs
start without importing the chain stack. Every error porv raises on purpose is a
:class:`~verifier.errors.PorvError`; it is caught once here, printed as diagnostics on stderr
(with a traceback only under ``--verbose``) and turned into the exit code of DESIGN §5.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

#: verb -> (module under verifier.cli, attribute holding the click command)
VERBS: dict[str, tuple[str, str]] = {
    "demo": ("demo", "demo"),
    "verify": ("verify", "verify"),
    "recheck": ("verify", "recheck"),
    "supply": ("supply", "supply"),
    "tree": ("tree", "tree"),
    "attest": ("attest", "attest"),
    "bundle": ("bundle", "bundle"),
    "rules": ("rules", "rules"),
    "publish": ("publish", "publish"),
    "devnet": ("devnet", "devnet"),
    "schema": ("schema", "schema"),
    "key": ("key", "key"),
    "registry": ("registry", "registry"),
}


class LazyGroup(click.Group):
    """A group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in VERBS if self._load(name) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        spec = VERBS.get(name)
        if spec is None:
            return None
        module_name, attr = spec
        try:
            module = importlib.import_module(f"verifier.cli.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"verifier.cli.{module_name}":
                return None
            raise
        command = getattr(module, attr, None)
        if not isinstance(command, click.Command):
            return None
        _name_envvars(command, f"PORV_{name.upper()}")
        return command


def _name_envvars(command: click.Command, prefix: str) -> None:
    """Give every option an environment variable named after its long flag.

    ``porv verify --format json`` reads ``PORV_VERIFY_FORMAT``, ``porv tree build --output``
    reads ``PORV_TREE_BUILD_OUTPUT``; ``--help`` shows each name.
    """
    for param in command.params:
        if isinstance(param, click.Option) and param.envvar is None:
            longest = max(param.opts, key=len).lstrip("-")
            param.envvar = f"{prefix}_{longest.upper().replace('-', '_')}"
            param.show_envvar = True
    if isinstance(command, click.Group):
        for sub_name, sub in command.commands.items():
            _name_envvars(sub, f"{prefix}_{sub_name.upper().replace('-', '_')}")


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=lambda ctx, _param, value: _show_version(ctx, value),
    help="Show the version and the backends in use (BLS, secp256k1, keccak, embedded chain).",
)
@click.option("--verbose", "-v", is_flag=True, help="Show tracebacks and debug logs on stderr.")
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour on stderr (auto: only on a TTY and without NO_COLOR).",
)
@click.pass_context
def cli(ctx: click.Context, verbose: bool, color: str) -> None:
    """porv: check that a stablecoin's supply is backed by lawful, attested reserves.

    Exit codes: 0 verified/ok, 1 a claim failed, 2 bad usage or input, 3 could not complete.
    """
    from verifier.cli.common import Settings, show_logs

    ctx.obj = Settings(verbose=verbose, color=color)
    if verbose:
        show_logs()


def _show_version(ctx: click.Context, value: bool) -> None:
    """``porv --version``: the backends are only imported here, not for ``--help``."""
    if not value or ctx.resilient_parsing:
        return
    from verifier.app.about import version_line

    click.echo(version_line())
    ctx.exit()


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point; every option also reads ``PORV_*`` environment variables.

    Called without ``argv`` (as ``porv`` or ``python -m verifier``), SIGINT and SIGTERM stop the
    run within a second with exit 130 / 143 (:mod:`verifier.local.interrupts`).
    """
    from verifier.local import interrupts

    if argv is not None:  # a caller inside its own process (tests): no signal handling
        from verifier.cli.common import run_main

        return run_main(cli, argv)
    interrupts.install()
    try:
        from verifier.cli.common import run_main

        return run_main(cli, sys.argv[1:])
    except KeyboardInterrupt as exc:  # landed outside run_main's own handling
        interrupts.finish(exc.signum if isinstance(exc, interrupts.Interrupted) else 2)
    finally:
        if interrupts.fired():  # even if the command ended its own way meanwhile
            interrupts.finish(interrupts.fired())
        interrupts.ignore_late()
