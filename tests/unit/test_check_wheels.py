"""scripts/check_wheels.py: the 16 pairs, markers evaluated for the target, failures named.

The pip runs themselves need the package index and are exercised by scripts/test.sh; these
tests cover the decisions around them without the network.
"""

from __future__ import annotations

import importlib.util
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cw() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_wheels", ROOT / "scripts/check_wheels.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_wheels"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def pair(cw: ModuleType, name: str) -> object:
    return next(p for p in cw.ALL_PAIRS if p.name == name)


def test_sixteen_pairs(cw: ModuleType) -> None:
    names = [p.name for p in cw.ALL_PAIRS]
    assert len(set(names)) == 16
    for py in ("3.11", "3.12", "3.13", "3.14"):
        for plat in ("linux-x86_64", "linux-aarch64", "macos-arm64", "windows-x64"):
            assert f"{py}-{plat}" in names


def test_requirements_come_from_pyproject_with_markers_for_the_target(
    cw: ModuleType, tmp_path: Path
) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        "[project]\n"
        'name = "x"\n'
        "dependencies = [\n"
        '  "click>=8.1",\n'
        "  \"coincurve>=20; python_version < '3.14'\",\n"
        "  \"pywin32; sys_platform == 'win32'\",\n"
        "]\n"
        "[project.optional-dependencies]\n"
        'extra = ["rich>=13"]\n'
    )
    on = cw.requirements(pyproject, pair(cw, "3.13-linux-x86_64"), [])
    assert on == ["click>=8.1", "coincurve>=20"]
    assert cw.requirements(pyproject, pair(cw, "3.14-linux-x86_64"), []) == ["click>=8.1"]
    windows = cw.requirements(pyproject, pair(cw, "3.14-windows-x64"), ["extra"])
    assert windows == ["click>=8.1", "pywin32", "rich>=13"]
    with pytest.raises(SystemExit, match="no extra 'nope'"):
        cw.requirements(pyproject, pair(cw, "3.14-windows-x64"), ["nope"])


def test_the_real_pyproject_reads(cw: ModuleType) -> None:
    reqs = cw.requirements(ROOT / "pyproject.toml", pair(cw, "3.14-linux-x86_64"), [])
    names = {r.split(">")[0].split("<")[0].split("=")[0].split("[")[0] for r in reqs}
    assert "py-arkworks-bls12381" in names and "eth-tester" in names
    assert "coincurve" not in names  # no CPython 3.14 wheel: the marker leaves it out
    assert not any(";" in r for r in reqs)


def _wheel(folder: Path, name: str, requires: list[str]) -> None:
    path = folder / f"{name}-1.0-py3-none-any.whl"
    meta = "Metadata-Version: 2.1\nName: " + name + "\nVersion: 1.0\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}-1.0.dist-info/METADATA", meta)


def test_dependencies_only_the_target_needs_are_found(cw: ModuleType, tmp_path: Path) -> None:
    _wheel(
        tmp_path,
        "top",
        [
            "shared>=1",
            "winonly>=2; platform_system == 'Windows'",
            "old; python_version < '3.12'",
            "opt; extra == 'fast'",
        ],
    )
    _wheel(tmp_path, "shared", [])
    windows = pair(cw, "3.13-windows-x64").marker_environment()  # type: ignore[attr-defined]
    linux = pair(cw, "3.13-linux-x86_64").marker_environment()  # type: ignore[attr-defined]
    assert cw.unmet_for_target(tmp_path, ["top"], windows) == ["winonly>=2"]
    assert cw.unmet_for_target(tmp_path, ["top"], linux) == []
    assert cw.unmet_for_target(tmp_path, ["top[fast]"], linux) == ["opt"]
    py311 = pair(cw, "3.11-linux-x86_64").marker_environment()  # type: ignore[attr-defined]
    assert cw.unmet_for_target(tmp_path, ["top"], py311) == ["old"]


def test_failing_pairs_are_named_and_exit_1(
    cw: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def fake(p: object, reqs: list[str], cache: Path) -> tuple[object, bool, str]:
        bad = p.name.startswith("3.14-w")  # type: ignore[attr-defined]
        return p, not bad, "No matching distribution found for coincurve" if bad else "9 wheels"

    monkeypatch.setattr(cw, "check", fake)
    code = cw.main(["--cache-dir", str(tmp_path), "3.13-windows-x64", "3.14-windows-x64"])
    out = capsys.readouterr()
    assert code == 1
    assert "FAIL 3.14-windows-x64" in out.out and "coincurve" in out.out
    assert "1 of 2 (python, platform) pairs do not resolve" in out.err
    assert "3.14-windows-x64" in out.err and "3.13-windows-x64" not in out.err
    assert cw.main(["--cache-dir", str(tmp_path), "3.13-windows-x64"]) == 0
    with pytest.raises(SystemExit):
        cw.main(["3.10-linux-x86_64"])
