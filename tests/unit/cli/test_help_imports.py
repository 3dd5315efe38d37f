"""``porv --help`` and every ``porv <verb> [<sub>] --help`` import only the light modules.

Start-up time is measured by ``benchmarks/startup.py`` (issue 13: each ``--help`` at most 4x a
bare ``python -c pass``); this test guards what makes it hold, without timing anything: after
``python -m verifier ... --help``, run as a user runs it, ``sys.modules`` holds none of the
modules below. Click itself is the floor. (``sys.modules``, not ``-X importtime``: the latter
does not list the verb modules, which :class:`~verifier.cli.LazyGroup` loads through
``importlib.import_module``.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from verifier.cli import VERBS, LazyGroup

ROOT = Path(__file__).resolve().parents[3]

#: Third-party and standard-library packages (top-level names) a ``--help`` never needs.
HEAVY_PACKAGES = frozenset(
    {
        "web3",
        "eth_abi",
        "eth_account",
        "eth_utils",
        "eth_keys",
        "eth_typing",
        "eth_hash",
        "eth_tester",
        "eth",  # py-evm
        "py_ecc",
        "py_arkworks_bls12381",
        "coincurve",
        "Crypto",  # pycryptodome
        "rich",
        "rfc8785",
        "pydantic",
        "cytoolz",
        "toolz",
        "hexbytes",
        "requests",
        "tomllib",
        "http",
        "ssl",
        "socket",
        "email",
        "tempfile",
        "logging",
        "asyncio",
        "concurrent",
    }
)

#: porv's own modules that do the work: each command imports them when it runs.
HEAVY_OURS = (
    "verifier.signatures",
    "verifier.merkle",
    "verifier.rules",
    "verifier.checks",
    "verifier.devnet",
    "verifier.testing",
    "verifier.app.",  # verifier.app.deadline is light (its constant from verifier.chain.limits)
    "verifier.chain.",  # verifier.chain.limits is light
    "verifier.local.",  # verifier.local.interrupts is light (the entry point's signal handling)
    "verifier.model.policy",
    "verifier.model.holdings",
    "verifier.model.attestation",
    "verifier.model.bundle",
    "verifier.model.jsontext",
    "verifier.model.disclosures",
    "verifier.result.report",
    "verifier.result.charts",
    "verifier.result.view",
    "verifier.result.junit",
)
LIGHT_OURS = frozenset(
    {"verifier.app.deadline", "verifier.chain.limits", "verifier.local.interrupts"}
)

#: ``python -m verifier ARGV`` (the entry point users run), then on stderr as it exits the
#: modules it imported (not those loaded before it, e.g. by coverage's subprocess hook).
_PROBE = (
    "import atexit, json, runpy, sys\n"
    "before = set(sys.modules)\n"
    "atexit.register(lambda: print(json.dumps(sorted(set(sys.modules) - before)), "
    "file=sys.stderr))\n"
    "sys.argv = ['porv', *sys.argv[1:]]\n"
    "runpy.run_module('verifier', run_name='__main__', alter_sys=True)\n"
)


def _command_lines() -> list[tuple[str, ...]]:
    lines: list[tuple[str, ...]] = [()]
    for verb in sorted(VERBS):
        lines.append((verb,))
        command = LazyGroup._load(verb)
        if isinstance(command, click.Group):
            lines.extend((verb, sub) for sub in sorted(command.commands))
    return lines


def heavy_in(modules: list[str]) -> list[str]:
    """The modules of ``modules`` a ``--help`` must not import."""
    return sorted(
        m
        for m in modules
        if m.split(".")[0] in HEAVY_PACKAGES or (m.startswith(HEAVY_OURS) and m not in LIGHT_OURS)
    )


def imported_by(argv: tuple[str, ...]) -> list[str]:
    """Every module ``python -m verifier ARGV`` has imported when it exits."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    modules: list[str] = json.loads(proc.stderr.splitlines()[-1])
    return modules


@pytest.mark.parametrize("command", _command_lines(), ids=lambda c: " ".join(c) or "porv")
def test_help_imports_nothing_heavy(command: tuple[str, ...]) -> None:
    modules = imported_by((*command, "--help"))
    assert "click" in modules  # the reading worked
    if command:
        assert f"verifier.cli.{VERBS[command[0]][0]}" in modules
    assert heavy_in(modules) == []


def test_the_guard_sees_what_a_command_imports() -> None:
    """The same reading of a command that runs finds the heavy modules (the guard is live)."""
    modules = imported_by(("rules", "list", "--format", "json"))
    found = heavy_in(modules)
    assert "verifier.rules" in found and "verifier.rules.pack" in found
