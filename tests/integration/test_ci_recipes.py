"""The README's "porv in CI" recipes and the repository's ``action.yml``, run on anvil.

From the section: the scenario (``json`` block), ``ci/make-bundle.sh`` (``sh`` block) and three
``yaml`` blocks: a workflow using porv's action, the plain-steps workflow and a GitLab CI job,
read with :mod:`tests.support.miniyaml` (PyYAML is not a dependency). They run in a temporary
folder holding only those files, a holdings CSV and a ``node_modules`` link (the npm install of
anvil the recipes make), with ``porv`` this checkout's.

What runs as written: every ``run:`` step of the plain workflow in order, each in its own
``bash -eo pipefail`` as GitHub runs ``shell: bash`` steps, honouring ``if: always()``; the
GitLab job's ``before_script`` and ``script`` lines in one ``bash -e`` session, then its
``after_script`` (which must stop the chain). ``pip``, ``npm`` and ``apt-get`` are stubs that
log their arguments (the log is checked): porv and anvil are already installed. The port
8545 is replaced by a free one throughout, so that a busy machine cannot fail the test.

``action.yml``: its composite steps run the way a runner would: ``if:`` conditions
(``always()``, ``inputs.X ==``/``!= 'v'``), ``${{ inputs.* }}``, ``${{ github.action_path }}``
and ``${{ steps.*.outputs.* }}`` substituted in ``env:`` and ``with:``, ``$GITHUB_OUTPUT``,
``$GITHUB_ENV`` and ``$GITHUB_STEP_SUMMARY`` files, with the inputs of the README's
workflow. Not exercised: the ``uses:`` steps (actions/setup-python, actions/upload-artifact:
only their inputs are checked), the "Install porv" step (it would pip install into the test's
environment) and the branch that npm installs anvil when none is found.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess as sp
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support import miniyaml

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
HEADING = "## porv in CI\n"
REGISTRY = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
ACTION_USES = "OWNER/porv@REF"
INSTALLS = {
    "pip install porv",
    "npm install --no-save @foundry-rs/anvil@1.7.1",
}


def section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.count(HEADING) == 1
    return text.split(HEADING, 1)[1].split("\n## ", 1)[0]


def blocks(text: str, lang: str) -> list[str]:
    return re.findall(r"^```" + lang + r"\n(.*?)^```$", text, flags=re.S | re.M)


@dataclass
class Recipe:
    """The section's files and CI configurations, with 8545 replaced by ``port``."""

    scenario: str
    make_bundle: str
    action_workflow: dict[str, Any]
    plain_workflow: dict[str, Any]
    gitlab: dict[str, Any]


def recipe(port: int = 8545) -> Recipe:
    text = section()
    assert "8545" in text
    text = text.replace("8545", str(port))
    (scenario,) = blocks(text, "json")
    (make_bundle,) = blocks(text, "sh")
    action, plain, gitlab = (miniyaml.load(b) for b in blocks(text, "yaml"))
    return Recipe(scenario, make_bundle, action, plain, gitlab)


def action_yml() -> dict[str, Any]:
    doc = miniyaml.load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


# --- the workspace -------------------------------------------------------------------------


@dataclass
class Workspace:
    root: Path
    env: dict[str, str]
    port: int
    recipe: Recipe

    def stub_log(self) -> list[str]:
        log = self.root.parent / "stubs.log"
        return log.read_text().splitlines() if log.exists() else []

    def result(self, name: str = "result.json") -> dict[str, Any]:
        doc = json.loads((self.root / "porv-results" / name).read_text())
        assert isinstance(doc, dict)
        return doc


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    from verifier.devnet.node import free_port

    port = free_port()
    rec = recipe(port)
    root = tmp_path / "repo"
    (root / "ci").mkdir(parents=True)
    (root / "ci" / "porv-scenario.json").write_text(rec.scenario)
    (root / "ci" / "make-bundle.sh").write_text(rec.make_bundle)
    shutil.copyfile(
        ROOT / "fixtures" / "holdings" / "custodian-a.csv", root / "ci" / "holdings.csv"
    )
    (root / "node_modules").symlink_to(ROOT / "node_modules")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _script(bin_dir / "porv", f'exec {sys.executable} -m verifier "$@"')
    for name in ("python", "python3"):
        (bin_dir / name).symlink_to(sys.executable)
    for name in ("pip", "npm", "apt-get"):
        _script(bin_dir / name, f'echo "{name} $*" >> {tmp_path / "stubs.log"}')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORV_", "GITHUB_"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)
    env["NO_COLOR"] = "1"
    try:
        yield Workspace(root, env, port, rec)
    finally:
        _stop_devnets(root)


def _script(path: Path, body: str) -> None:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _devnets(root: Path) -> list[int]:
    """PIDs of ``porv devnet up`` processes running in ``root`` (the ones this test started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(entry / "cwd")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if cwd == str(root) and b"devnet" in cmdline and b"up" in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def _stop_devnets(root: Path, timeout: float = 30) -> None:
    for pid in _devnets(root):
        os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + timeout
    while _devnets(root):
        if time.monotonic() > deadline:
            for pid in _devnets(root):
                os.kill(pid, signal.SIGKILL)
            pytest.fail("porv devnet up did not stop on SIGINT")
        time.sleep(0.1)


def _bash(
    script: str, ws: Workspace, *, env: Mapping[str, str] | None = None
) -> sp.CompletedProcess[str]:
    return sp.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=ws.root,
        env={**ws.env, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        stdin=sp.DEVNULL,
    )


def _assert_verified(ws: Workspace) -> None:
    result = ws.result()
    assert result["status"] == "verified", json.dumps(result, indent=1)[:3000]
    assert [r["sequence"] for r in result["registry"]["records"]] == [1]
    html = (ws.root / "porv-results" / "result.html").read_text()
    assert html.lstrip().lower().startswith("<!doctype html") and "verified" in html
    policy = (ws.root / "porv-results" / "policy.toml").read_text()
    assert f'"31337" = ["http://127.0.0.1:{ws.port}"]' in policy
    devnet = json.loads((ws.root / "porv-results" / "devnet.json").read_text())
    assert devnet["chains"][0]["registry"] == REGISTRY


# --- static checks -----------------------------------------------------------------------


def test_the_recipes_and_the_action_agree() -> None:
    rec = recipe()
    action = action_yml()
    assert action["runs"]["using"] == "composite"
    declared = action["inputs"]
    # the README's workflow uses the action with inputs it declares
    (step,) = [
        s for s in rec.action_workflow["jobs"]["porv"]["steps"] if s.get("uses") == ACTION_USES
    ]
    assert set(step["with"]) <= set(declared), set(step["with"]) - set(declared)
    # every step is a `uses:` or a bash script that takes inputs only through env
    ids = {s["id"] for s in action["runs"]["steps"] if "id" in s}
    for s in action["runs"]["steps"]:
        assert ("uses" in s) != ("run" in s), s
        if "run" in s:
            assert s["shell"] == "bash" and "${{" not in s["run"], s["name"]
        for text in [*s.get("env", {}).values(), *s.get("with", {}).values(), s.get("if", "")]:
            for expr in [*re.findall(r"\$\{\{\s*(.*?)\s*\}\}", text), s.get("if", "")]:
                for ref in re.findall(r"inputs\.([a-z-]+)", expr):
                    assert ref in declared, (s["name"], ref)
                for ref in re.findall(r"steps\.([a-z-]+)\.outputs", expr):
                    assert ref in ids, (s["name"], ref)
    uses = [s["uses"] for s in action["runs"]["steps"] if "uses" in s]
    assert uses == ["actions/setup-python@v5", "actions/upload-artifact@v4"]
    # the plain workflow and the GitLab job run the same porv commands
    plain = "\n".join(s["run"] for s in rec.plain_workflow["jobs"]["porv"]["steps"] if "run" in s)
    job = rec.gitlab["porv"]
    gitlab = "\n".join([*job["before_script"], *job["script"]])

    def porv_commands(text: str) -> list[str]:
        joined = re.sub(r"\\\n\s*", "", text)
        found = re.findall(r"\bporv (?:devnet up|verify) [^&\n|<]*", joined)
        return [re.sub(r"\s+", " ", m).strip() for m in found]

    # (the GitLab job writes the HTML first, as it has no `if: always()`)
    assert sorted(porv_commands(plain)) == sorted(porv_commands(gitlab))
    assert len(porv_commands(plain)) == 3
    assert "bash ci/make-bundle.sh" in plain and "bash ci/make-bundle.sh" in gitlab


# --- the recipes, run ---------------------------------------------------------------------


def test_github_plain_steps_run_as_written(workspace: Workspace) -> None:
    ws = workspace
    steps = ws.recipe.plain_workflow["jobs"]["porv"]["steps"]
    failed = False
    ran = []
    for step in steps:
        if "uses" in step:
            if step["uses"].startswith("actions/upload-artifact"):
                assert step["if"] == "always()"
                assert (ws.root / step["with"]["path"]).is_dir()
            continue
        assert step.get("if") in (None, "always()"), step
        if failed and step.get("if") != "always()":
            continue
        run = _bash(step["run"], ws)
        ran.append(step["name"])
        assert run.returncode == 0, (step["name"], run.stdout + run.stderr)
        assert "Traceback" not in run.stdout + run.stderr
    assert len(ran) == 5
    assert set(ws.stub_log()) == INSTALLS
    _assert_verified(ws)


def test_gitlab_job_runs_as_written(workspace: Workspace) -> None:
    ws = workspace
    job = ws.recipe.gitlab["porv"]
    assert job["artifacts"] == {"when": "always", "paths": ["porv-results/"]}
    run = _bash("\n".join([*job["before_script"], *job["script"]]), ws)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert set(ws.stub_log()) == {
        *INSTALLS,
        "apt-get update -qq",
        "apt-get install -y -qq nodejs npm",
    }
    _assert_verified(ws)
    assert _devnets(ws.root)
    after = _bash("\n".join(job["after_script"]), ws)
    assert after.returncode == 0, after.stderr
    deadline = time.monotonic() + 30
    while _devnets(ws.root):
        assert time.monotonic() < deadline, "after_script did not stop the chain"
        time.sleep(0.1)


# --- the action, run --------------------------------------------------------------------------


@dataclass
class StepRun:
    name: str
    how: str  # "ran", "skipped" (its if: was false), "uses", "not run here"
    code: int = 0
    output: str = ""


@dataclass
class ActionRun:
    steps: list[StepRun] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    uploads: list[dict[str, str]] = field(default_factory=list)

    def step(self, name: str) -> StepRun:
        (found,) = [s for s in self.steps if s.name == name]
        return found

    @property
    def failed(self) -> bool:
        return any(s.code != 0 for s in self.steps)

    @property
    def log(self) -> str:
        return "\n".join(f"== {s.name} ({s.how}, {s.code})\n{s.output}" for s in self.steps)


def run_action(ws: Workspace, inputs: Mapping[str, str], runner_env: dict[str, str]) -> ActionRun:
    """Run action.yml's steps with ``inputs``; ``runner_env`` is the job's environment so far
    (what earlier steps wrote to ``$GITHUB_ENV``), updated in place."""
    action = action_yml()
    declared = action["inputs"]
    assert set(inputs) <= set(declared), set(inputs) - set(declared)
    values = {k: inputs.get(k, v.get("default") or "") for k, v in declared.items()}
    outputs: dict[str, dict[str, str]] = {}
    gh = ws.root.parent / "gh"
    gh.mkdir(exist_ok=True)

    def expand(text: str) -> str:
        def one(m: re.Match[str]) -> str:
            expr = m.group(1)
            if expr == "github.action_path":
                return str(ROOT)
            if mi := re.fullmatch(r"inputs\.([a-z-]+)", expr):
                return values[mi.group(1)]
            if ms := re.fullmatch(r"steps\.([a-z-]+)\.outputs\.([a-z-]+)", expr):
                return outputs.get(ms.group(1), {}).get(ms.group(2), "")
            raise AssertionError(f"expression not handled here: {expr}")

        return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", one, text)

    def condition(expr: str | None, failed: bool) -> bool:
        if not expr:
            return not failed
        parts = [p.strip() for p in expr.split("&&")]
        always = "always()" in parts
        ok = True
        for part in parts:
            if part == "always()":
                continue
            m = re.fullmatch(r"inputs\.([a-z-]+) (==|!=) '([^']*)'", part)
            assert m, f"condition not handled here: {part}"
            same = values[m.group(1)] == m.group(3)
            ok = ok and (same if m.group(2) == "==" else not same)
        return ok and (always or not failed)

    result = ActionRun()
    for n, step in enumerate(action["runs"]["steps"]):
        name = step["name"]
        if not condition(step.get("if"), result.failed):
            result.steps.append(StepRun(name, "skipped"))
            continue
        if "uses" in step:
            with_ = {k: expand(v) for k, v in step.get("with", {}).items()}
            if step["uses"].startswith("actions/upload-artifact"):
                result.uploads.append(with_)
            result.steps.append(StepRun(name, "uses"))
            continue
        if name == "Install porv":  # would pip install into the test's environment
            result.steps.append(StepRun(name, "not run here"))
            continue
        files = {
            "GITHUB_OUTPUT": gh / f"output-{n}",
            "GITHUB_ENV": gh / f"env-{n}",
            "GITHUB_STEP_SUMMARY": gh / "summary.md",
        }
        for key in ("GITHUB_OUTPUT", "GITHUB_ENV"):
            files[key].write_text("")
        env = {
            **runner_env,
            **{k: str(v) for k, v in files.items()},
            "RUNNER_TEMP": str(gh),
            "GITHUB_ACTION_PATH": str(ROOT),
            **{k: expand(v) for k, v in step.get("env", {}).items()},
        }
        run = _bash(step["run"], ws, env=env)
        result.steps.append(StepRun(name, "ran", run.returncode, run.stdout + run.stderr))
        if "id" in step:
            outputs[step["id"]] = dict(
                line.split("=", 1) for line in files["GITHUB_OUTPUT"].read_text().splitlines()
            )
        runner_env.update(
            dict(line.split("=", 1) for line in files["GITHUB_ENV"].read_text().splitlines())
        )
    result.outputs = {k: expand(v["value"]) for k, v in action["outputs"].items()}
    return result


def test_the_action_runs_with_the_readme_inputs(workspace: Workspace) -> None:
    ws = workspace
    (step,) = [
        s
        for s in ws.recipe.action_workflow["jobs"]["porv"]["steps"]
        if s.get("uses") == ACTION_USES
    ]
    inputs = {**step["with"], "port": str(ws.port)}  # the README keeps the default, 8545
    runner_env: dict[str, str] = {}
    run = run_action(ws, inputs, runner_env)
    assert not run.failed, run.log
    assert [s.how for s in run.steps] == [
        "uses",
        "not run here",
        "ran",
        "ran",
        "ran",
        "uses",
        "ran",
    ]
    assert run.outputs["exit-code"] == "0" and run.outputs["status"] == "verified", run.log
    assert run.outputs["policy"] == str(ws.root / "porv-results" / "policy.toml")
    assert runner_env["PORV_DEVNET_POLICY"] == run.outputs["policy"]
    assert int(run.outputs["devnet-pid"]) in _devnets(ws.root)
    _assert_verified(ws)
    assert run.uploads == [
        {"name": "porv-results", "path": "porv-results", "if-no-files-found": "ignore"}
    ]
    assert "porv: verified" in run.step("Fail on porv's exit code").output
    summary = (ws.root.parent / "gh" / "summary.md").read_text()
    assert "status `verified`, exit code 0" in summary

    # the chain still runs (until the job ends): a second use of the action checks a policy
    # that asks for more coverage than the reserves give: exit 1 fails the job
    policy = (ws.root / "porv-results" / "policy.toml").read_text()
    assert 'min_coverage = "1.00"' in policy
    (ws.root / "strict.toml").write_text(policy.replace('"1.00"', '"2.00"'))
    again = {**inputs, "start-anvil": "false", "prepare": "", "policy": "strict.toml"}
    again["results-dir"] = "strict-results"
    run = run_action(ws, again, runner_env)
    assert run.outputs["exit-code"] == "1" and run.outputs["status"] == "failed", run.log
    last = run.step("Fail on porv's exit code")
    assert last.code == 1 and "::error title=porv::a claim failed (exit 1" in last.output
    assert (ws.root / "strict-results" / "result.html").is_file()

    # junit: results.xml where porv offers --format junit, else a clear error (exit 2)
    run = run_action(ws, {**again, "junit": "true", "results-dir": "junit-results"}, runner_env)
    help_text = _bash("porv verify --help", ws).stdout
    if "junit" in help_text:
        assert (ws.root / "junit-results" / "results.xml").is_file(), run.log
    else:
        porv_step = run.step("Run porv")
        assert porv_step.code == 2 and "--format junit" in porv_step.output, run.log
        assert "does not offer" in porv_step.output
        assert run.step("Fail on porv's exit code").how == "skipped"
        assert not (ws.root / "junit-results" / "result.json").exists()

    # a missing input is an error naming it
    run = run_action(ws, {"command": "verify", "policy": "strict.toml"}, runner_env)
    assert run.step("Run porv").code == 2 and "needs the inputs bundle and policy" in run.log

    # args are shell words, never expanded; an unterminated quote is an error
    run = run_action(ws, {**again, "args": "--rpc '31337=http://x"}, runner_env)
    assert run.step("Run porv").code == 2 and "not a list of shell words" in run.log

    # rules check: the holdings CSV and the options in args
    args = "ci/holdings.csv --pack genius --supply 100000000 --currency USD --as-of 2026-01-15"
    run = run_action(ws, {"command": "rules check", "args": args, "results-dir": "rules"}, {})
    code = run.outputs["exit-code"]
    assert code in ("0", "1"), run.log
    assert (ws.root / "rules" / "result.json").is_file()
    assert (ws.root / "rules" / "result.txt").is_file()
    assert run.step("Fail on porv's exit code").code == int(code)
