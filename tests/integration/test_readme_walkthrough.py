"""The README's "Exporter walkthrough" runs as written, on anvil.

The section's ``sh`` block starts the chain (``porv devnet up``, run here as a child process
in its own session, stopped with SIGINT as a user's Ctrl-C would); its ``console`` blocks are
the exporter's and the holder's commands, which run in order in one bash session (``$ `` starts
a command, other lines continue it) in a temporary folder, with ``porv`` this checkout's. So
the README cannot drift from what porv does: key new, remote signing, ``attest verify
--signer``, register-signer for the new keys, bundle, publish, and ``verify`` from the registry.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess as sp
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
HEADING = "## Exporter walkthrough\n"
#: the steps the walkthrough must show, in this order
STEPS = [
    "porv tree build",
    "porv tree prove",
    "porv tree verify-proof",
    "porv key new",
    "porv key show",
    "porv attest sign",
    "porv attest verify",
    "porv registry register-signer",
    "porv bundle assemble",
    "porv publish",
    "porv verify",
]


def section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.count(HEADING) == 1
    body = text.split(HEADING, 1)[1]
    return body.split("\n## ", 1)[0]


def blocks(text: str, lang: str) -> list[str]:
    return re.findall(r"^```" + lang + r"\n(.*?)^```$", text, flags=re.S | re.M)


def walkthrough() -> tuple[list[str], str]:
    """(the devnet command's argv, the console blocks as one bash script)."""
    text = section()
    (chain_block,) = blocks(text, "sh")
    (devnet_line,) = [x for x in chain_block.splitlines() if x.startswith("porv devnet up")]
    lines: list[str] = []
    for block in blocks(text, "console"):
        block_lines = block.splitlines()
        assert block_lines and block_lines[0].startswith("$ "), block
        lines += [x[2:] if x.startswith("$ ") else x for x in block_lines]
    return shlex.split(devnet_line), "\n".join(lines) + "\n"


def test_the_walkthrough_names_every_step_in_order() -> None:
    _, script = walkthrough()
    commands = [x for x in script.splitlines() if x.startswith("porv ")]
    positions = [next(i for i, c in enumerate(commands) if c.startswith(s)) for s in STEPS]
    assert positions == sorted(positions), commands
    assert "--signer-rpc" in script and "--key-file" in script  # both kinds of signer


def test_the_walkthrough_runs_as_written(tmp_path: Path) -> None:
    devnet_argv, script = walkthrough()
    (tmp_path / "fixtures").symlink_to(ROOT / "fixtures")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "porv"
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m verifier "$@"\n')
    wrapper.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)
    env.pop("NO_COLOR", None)
    assert devnet_argv[0] == "porv"
    chain = sp.Popen(
        [str(wrapper), *devnet_argv[1:]],
        cwd=tmp_path,
        env=env,
        stdout=sp.DEVNULL,
        stderr=sp.PIPE,
        start_new_session=True,
    )
    try:
        info = tmp_path / "devnet.json"
        deadline = time.monotonic() + 90
        while not (info.exists() and info.read_text().endswith("}\n")):
            assert chain.poll() is None, chain.stderr.read().decode() if chain.stderr else ""
            assert time.monotonic() < deadline, "porv devnet up did not write devnet.json"
            time.sleep(0.2)
        assert json.loads(info.read_text())["chains"][0]["registry"] in script
        run = sp.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        output = run.stdout + run.stderr
        assert run.returncode == 0, output
        assert "Traceback" not in output
        # every command exited 0 (bash -e): `porv verify` only does for a verified bundle
        assert run.stdout.count("registered in tx 0x") == 2
        assert "custodian-a: sequence 1" in run.stdout and "published in tx 0x" in run.stdout
        secret = (tmp_path / "custodian-a.key").read_text().strip()[2:]
        assert secret not in output
        registry = json.loads(info.read_text())["chains"][0]["registry"]
        verify = ["verify", "bundle.json", "--policy", "coin.toml", "--format", "json"]
        check = sp.run(
            [str(wrapper), *verify, "--from-registry", f"31337:{registry}"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        result = json.loads(check.stdout)
        assert result["status"] == "verified"
        assert [r["sequence"] for r in result["registry"]["records"]] == [1]
    finally:
        chain.send_signal(signal.SIGINT)  # the user's Ctrl-C: devnet up stops its node
        try:
            chain.wait(timeout=30)
        except sp.TimeoutExpired:
            chain.kill()
            chain.wait(timeout=10)
        if chain.stderr is not None:
            chain.stderr.close()
    assert chain.returncode == 0
