"""porv's pytest plugin as a user's project meets it: the README's example test file, run by
pytest in a folder outside the repository; interrupted runs; a fresh virtualenv.

The example is read from the README ("Testing your project with porv (pytest plugin)"), so the
documented file and the tested one cannot drift apart.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.support.interrupting import MARK, survivors

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Testing your project with porv (pytest plugin)"


def readme_example() -> str:
    """The complete test file shown in the README's plugin section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("```python\n", text.index(SECTION)) + len("```python\n")
    return text[start : text.index("```\n", start)]


def user_project(folder: Path, test_file: str) -> Path:
    """A user's project: one test file under ``tests/``, no conftest, no pytest config."""
    (folder / "tests").mkdir(parents=True)
    (folder / "tests" / "test_reserves.py").write_text(test_file, encoding="utf-8")
    return folder


def user_env(**extra: str) -> dict[str, str]:
    """The environment of a user's run: no porv variables, porv from this checkout, the
    plugin named with ``-p`` (so the run is the same whether or not this environment already
    has porv's entry point installed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORV_")}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            "NO_COLOR": "1",
            **extra,
        }
    )
    return env


PYTEST = [sys.executable, "-m", "pytest", "-p", "verifier.testing.plugin", "-p", "no:cacheprovider"]


def run_pytest(
    project: Path, *args: str, timeout: float = 240, **env: str
) -> subprocess.CompletedProcess[str]:
    """``pytest ARGS`` in a user's project; any process it left behind (a run that timed out)
    is killed, so that nothing leaks into the rest of the suite."""
    mark = uuid.uuid4().hex
    try:
        return subprocess.run(
            [*PYTEST, "-q", *args],
            cwd=project,
            env=user_env(**env, **{MARK: mark}),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    finally:
        for pid in survivors(mark):
            os.kill(pid, signal.SIGKILL)


def test_readme_example_passes_in_a_project_outside_the_repository(tmp_path: Path) -> None:
    project = user_project(tmp_path / "project", readme_example())
    run = run_pytest(project, "-W", "error")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 passed" in run.stdout, run.stdout


@pytest.mark.anvil
def test_readme_example_passes_on_anvil(tmp_path: Path) -> None:
    project = user_project(tmp_path / "project", readme_example())
    run = run_pytest(project, "--porv-chain", "anvil")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 passed" in run.stdout, run.stdout


def test_an_unknown_chain_kind_is_a_usage_error(tmp_path: Path) -> None:
    project = user_project(tmp_path / "project", "def test_x(porv_chain):\n    pass\n")
    (project / "pytest.ini").write_text("[pytest]\nporv_chain = ganache\n", encoding="utf-8")
    run = run_pytest(project, timeout=60)
    assert run.returncode == 4, run.stdout + run.stderr  # pytest's usage error
    assert "porv_chain = 'ganache' is not a chain kind" in run.stderr


def test_a_missing_chain_tool_fails_with_porv_s_hint(tmp_path: Path) -> None:
    project = user_project(tmp_path / "project", "def test_x(porv_chain):\n    pass\n")
    missing = tmp_path / "no-such-anvil"
    run = run_pytest(project, "--porv-chain", "anvil", timeout=60, PORV_ANVIL=str(missing))
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"cannot start anvil (chain id 31337): PORV_ANVIL={missing} does not exist" in run.stdout


def test_a_scenario_file_and_its_own_token(tmp_path: Path) -> None:
    """``--porv-scenario``: another issuer and token; the bundle and policy follow them."""
    scenario = {
        "format": "porv.scenario/1",
        "issuer": "Other Issuer plc",
        "token": {"symbol": "oEUR", "decimals": 2, "currency": "EUR"},
        "chains": [{"chain_id": 31337, "mints": [{"to": "account:1", "amount": "100000"}]}],
    }
    test_file = (
        "def test_other(porv_devnet, porv_bundle, porv_verify):\n"
        "    assert porv_devnet.to_json()['token']['symbol'] == 'oEUR'\n"
        "    rows = 'holding_id,asset_class,currency,amount,maturity,counterparty,country,"
        "rating,collateral,collateral_value\\nC-1,cash,EUR,1000.00,,Vault,DE,,,\\n'\n"
        "    bundle = porv_bundle(rows, jurisdictions=())\n"
        "    assert 'excluded = []' in bundle.policy.read_text()\n"
        "    outcome = porv_verify(bundle)\n"
        "    assert outcome.status == 'verified', [str(f) for f in outcome.failures]\n"
        "    short = porv_bundle(rows.replace('1000.00', '999.99'), jurisdictions=())\n"
        "    assert porv_verify(short).status == 'failed'\n"
    )
    project = user_project(tmp_path / "project", test_file)
    (project / "oeur.json").write_text(json.dumps(scenario), encoding="utf-8")
    run = run_pytest(project, "--porv-scenario", "oeur.json", timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


HANGING_TEST = """
import json, os, time

def test_hangs(porv_chain, porv_devnet):
    pids = [porv_chain.pid] + [chain.node.pid for chain in porv_devnet.chains]
    path = os.environ["PIDS_FILE"]
    with open(path + ".tmp", "w") as out:
        json.dump(pids, out)
    os.replace(path + ".tmp", path)
    time.sleep(120)
"""


@pytest.mark.anvil
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_session_leaves_no_node_running(tmp_path: Path, sig: signal.Signals) -> None:
    project = user_project(tmp_path / "project", HANGING_TEST)
    pids_file = tmp_path / "pids.json"
    mark = uuid.uuid4().hex
    proc = subprocess.Popen(
        [*PYTEST, "-q", "--porv-chain", "anvil"],
        cwd=project,
        env=user_env(PIDS_FILE=str(pids_file), **{MARK: mark}),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while not pids_file.exists():
            assert proc.poll() is None, proc.communicate()[0].decode(errors="replace")
            assert time.monotonic() < deadline, "the test never started its chains"
            time.sleep(0.1)
        pids = json.loads(pids_file.read_text(encoding="utf-8"))
        assert len(pids) == 3 and all(isinstance(p, int) for p in pids)
        nodes = sorted(set(survivors(mark)) - {proc.pid})
        assert nodes == sorted(pids)  # three anvil processes, all running
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=60)
        text = out.decode(errors="replace")
        assert proc.returncode == 2, text  # pytest: interrupted
        assert "KeyboardInterrupt" in text, text
        deadline = time.monotonic() + 5.0  # a stopped group may take a moment to be reaped
        while (alive := survivors(mark)) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        for pid in survivors(mark):
            os.kill(pid, signal.SIGKILL)  # do not leak them into the rest of the suite
    assert alive == [], f"node processes left running after {sig.name}: {alive}"


@pytest.mark.slow
def test_a_fresh_virtualenv_with_pip_install_porv_pytest(tmp_path: Path) -> None:
    """The issue's acceptance: a fresh folder outside the repository, a fresh virtualenv (no
    system site packages), ``pip install porv pytest`` (porv as a wheel of this checkout,
    its dependencies and pytest from the package index), then ``pytest``: the README's file
    passes. The plugin comes from the installed entry point alone."""
    source = tmp_path / "porv-src"  # built from a copy: the checkout gets no build/ folder
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "verifier", source / "verifier", ignore=shutil.ignore_patterns("__pycache__")
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORV_")}
    for key in ("PYTHONPATH", "VIRTUAL_ENV", "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_ADDOPTS"):
        env.pop(key, None)
    isolation = (
        ["--no-build-isolation"]
        if importlib.util.find_spec("setuptools") and importlib.util.find_spec("wheel")
        else []
    )
    started = time.monotonic()

    def step(argv: list[str], cwd: Path, timeout: float) -> str:
        run = subprocess.run(
            argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
        )
        assert run.returncode == 0, f"{' '.join(argv)}:\n{run.stdout}\n{run.stderr}"
        return run.stdout

    wheels = tmp_path / "wheels"
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *isolation]
    step([*pip_wheel, "-w", str(wheels), str(source)], tmp_path, 180)
    (wheel,) = wheels.glob("porv-*.whl")
    venv = tmp_path / "venv"
    step([sys.executable, "-m", "venv", str(venv)], tmp_path, 120)
    python = venv / "bin" / "python"
    step([str(python), "-m", "pip", "install", "-q", str(wheel), "pytest"], tmp_path, 300)
    installed = time.monotonic()
    project = user_project(tmp_path / "project", readme_example())
    out = step([str(python), "-m", "pytest", "-q"], project, 240)
    assert "4 passed" in out, out
    print(
        f"wheel + venv + pip install: {installed - started:.1f} s; "
        f"pytest: {time.monotonic() - installed:.1f} s"
    )
