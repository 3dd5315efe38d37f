"""The one way tests run the porv command line: :func:`porv`, giving a :class:`Run`.

By default ``porv ARGV`` runs as a user runs it, ``python -m verifier ARGV`` in a separate
process (coverage follows it: pyproject's ``[tool.coverage.run] patch = ["subprocess"]``).
``in_process=True`` runs the same entry point (``verifier.cli.main``) inside the test process,
in click's isolation (stdin, environment, separate stdout/stderr): for tests that monkeypatch
the code under test, and for speed. ``ATTACKS_IN_PROCESS=1`` makes in-process the default for
the attack suite while iterating locally (CI runs the real process).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess as sp
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Doc = dict[str, Any]

#: Seconds a ``porv`` subprocess may take before the test fails.
TIMEOUT = 120.0


@dataclass
class Run:
    """What one ``porv`` run left: exit code, stdout, stderr, and stdout as JSON if it is."""

    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Doc:
        """stdout parsed as a JSON object (parsed on each access)."""
        doc = json.loads(self.stdout)
        assert isinstance(doc, dict)
        return doc

    @property
    def output(self) -> str:
        """stdout, then stderr (for failure messages and "no traceback anywhere" checks)."""
        return self.stdout + self.stderr

    def kinds(self) -> list[str]:
        """``kind`` of every failed or errored check (or of the error, for exit 1/2 at load)."""
        doc = self.json
        if "checks" not in doc:
            return [doc["error"]["kind"]]
        return [c["kind"] for c in doc["checks"] if c["outcome"] in ("fail", "error")]

    def details(self) -> str:
        """Every failed check's detail (or the error message), one per line."""
        doc = self.json
        if "checks" not in doc:
            return str(doc["error"]["message"])
        return "\n".join(c["detail"] for c in doc["checks"] if c["outcome"] in ("fail", "error"))


def porv(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    timeout: float = TIMEOUT,
    cwd: Path | str | None = None,
    in_process: bool = False,
) -> Run:
    """Run ``porv ARGV`` and collect its exit code and what it printed.

    Args:
        env: variables set on top of the test's environment (which has ``NO_COLOR=1``).
        input: text on stdin.
        timeout: seconds the subprocess may take (not enforced in-process).
        cwd: the folder to run in.
        in_process: run ``verifier.cli.main`` in this process instead of a subprocess.
    """
    if in_process:
        return _in_process(argv, env=env, input=input, cwd=cwd)
    proc = sp.run(
        [sys.executable, "-m", "verifier", *argv],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, **env} if env is not None else None,
        input=input,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def _in_process(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None,
    input: str | None,
    cwd: Path | str | None,
) -> Run:
    from click.testing import CliRunner

    from verifier.cli import main

    code = 0
    with contextlib.ExitStack() as stack:
        if cwd is not None:
            stack.enter_context(contextlib.chdir(cwd))
        out, err, _ = stack.enter_context(CliRunner().isolation(input=input, env=env))
        try:
            main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        return Run(code, out.getvalue().decode(), err.getvalue().decode())
