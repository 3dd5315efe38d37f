"""Finding Hardhat and a Node >= 22 in the user's own project (``verifier.devnet.nodes``).

Fake installs in a temporary folder: Hardhat's CLI found from the current folder (as
``node_modules/.bin/hardhat`` or ``hardhat/dist/src/cli.js``) or through ``PORV_HARDHAT``;
Node from ``node_modules/.bin/node`` or from ``PATH`` only when its version is at least 22.
That a real Hardhat starts from the shipped config is tests/integration/test_devnet.py's
hardhat cases.
"""

from __future__ import annotations

import fnmatch
import os
import tomllib
from pathlib import Path

import pytest

from verifier.devnet import nodes
from verifier.errors import IncompleteError

ROOT = Path(__file__).resolve().parents[2]
NEEDS_EDR = os.uname().sysname == "Linux" and os.uname().machine == "x86_64"


def _script(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{text}\n")
    path.chmod(0o755)
    return path


def _project(folder: Path, *, node: str | None = "v22.1.0", edr: bool = True) -> Path:
    """A user project after `npm install hardhat` (and `node@22` unless ``node`` is None)."""
    nm = folder / "node_modules"
    cli = nm / "hardhat" / "dist" / "src" / "cli.js"
    cli.parent.mkdir(parents=True)
    cli.write_text("// hardhat\n")
    (nm / ".bin").mkdir()
    (nm / ".bin" / "hardhat").symlink_to(Path("..") / "hardhat" / "dist" / "src" / "cli.js")
    if node is not None:
        _script(nm / ".bin" / "node", f"echo {node}")
    if edr:
        (nm / "@nomicfoundation" / "edr-linux-x64-gnu").mkdir(parents=True)
    return nm


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """cwd in an empty project; porv's own location finds nothing; PATH only a fake bin."""
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    monkeypatch.setattr(nodes, "_PACKAGE_DIR", tmp_path / "site-packages" / "verifier")
    monkeypatch.delenv("PORV_HARDHAT", raising=False)
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    return project


def test_hardhat_and_node_from_the_current_folder_up(isolated: Path) -> None:
    nm = _project(isolated)
    sub = isolated / "packages" / "contracts"
    sub.mkdir(parents=True)
    os.chdir(sub)  # the fixture's monkeypatch.chdir restores the cwd
    tool = nodes.hardhat_tool()
    assert tool.cli == (nm / "hardhat" / "dist" / "src" / "cli.js").resolve()
    assert tool.node == nm / ".bin" / "node"
    assert tool.node_modules == nm.resolve()


def test_porv_hardhat_points_at_a_cli(
    isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(isolated)
    other = _project(tmp_path / "elsewhere")
    monkeypatch.setenv("PORV_HARDHAT", str(other / ".bin" / "hardhat"))
    tool = nodes.hardhat_tool()
    assert tool.node_modules == other.resolve()
    monkeypatch.setenv("PORV_HARDHAT", str(tmp_path / "missing.js"))
    with pytest.raises(IncompleteError, match=r"PORV_HARDHAT=.*is not a file"):
        nodes.hardhat_tool()
    loose = tmp_path / "cli.js"
    loose.write_text("//\n")
    monkeypatch.setenv("PORV_HARDHAT", str(loose))
    with pytest.raises(IncompleteError, match="not inside a node_modules folder"):
        nodes.hardhat_tool()


def test_no_hardhat_says_how_to_install_it(isolated: Path) -> None:
    with pytest.raises(IncompleteError, match="hardhat not found") as err:
        nodes.hardhat_tool()
    assert "npm install hardhat" in (err.value.hint or "")


@pytest.mark.parametrize(("version", "ok"), [("v22.3.0", True), ("v20.20.2", False), ("x", False)])
def test_node_on_path_only_when_at_least_22(
    isolated: Path, tmp_path: Path, version: str, ok: bool
) -> None:
    _project(isolated, node=None)
    on_path = _script(tmp_path / "bin" / "node", f"echo {version}")
    if ok:
        assert nodes.hardhat_tool().node == on_path
    else:
        with pytest.raises(IncompleteError, match="needs Node 22 or later") as err:
            nodes.hardhat_tool()
        assert str(on_path) in err.value.message and "npm install node@22" in (err.value.hint or "")


def test_no_node_at_all(isolated: Path) -> None:
    _project(isolated, node=None)
    with pytest.raises(IncompleteError, match="no `node` on PATH"):
        nodes.hardhat_tool()


@pytest.mark.skipif(not NEEDS_EDR, reason="the EDR binding check is for Linux x86_64")
def test_missing_native_binding_is_named(isolated: Path) -> None:
    _project(isolated, edr=False)
    with pytest.raises(IncompleteError, match="native EDR binding") as err:
        nodes.hardhat_tool()
    assert "Node 22 first on PATH" in (err.value.hint or "")


def test_the_project_is_the_shipped_config_and_a_link_to_node_modules(
    isolated: Path, tmp_path: Path
) -> None:
    nm = _project(isolated)
    tool = nodes.HardhatTool(node=Path("node"), cli=nm / "x.js", node_modules=nm)
    monkey_dir = tmp_path / "work"
    monkey_dir.mkdir()
    project = nodes._hardhat_project(tool, str(monkey_dir))
    assert sorted(p.name for p in project.iterdir()) == [
        "hardhat.config.ts",
        "node_modules",
        "package.json",
    ]
    assert (project / "node_modules").resolve() == nm.resolve()
    assert (project / "package.json").read_bytes() == (
        nodes.HARDHAT_PROJECT_DIR / "package.json"
    ).read_bytes()


def test_the_hardhat_project_files_are_package_data() -> None:
    """One copy of the config, inside the package, and pyproject ships it in the wheel."""
    assert nodes.HARDHAT_PROJECT_DIR == ROOT / "verifier" / "devnet" / "hardhat"
    shipped = sorted(p.name for p in nodes.HARDHAT_PROJECT_DIR.iterdir())
    assert shipped == ["hardhat.config.ts", "package.json"]
    assert not (ROOT / "devnet").exists()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["verifier"]
    for name in shipped:
        relative = f"devnet/hardhat/{name}"
        assert any(fnmatch.fnmatch(relative, g) for g in globs), (relative, globs)
    assert (
        "PORV_HARDHAT_INITIAL_DATE" in (nodes.HARDHAT_PROJECT_DIR / "hardhat.config.ts").read_text()
    )
