#!/usr/bin/env python3
"""Check that porv's runtime dependencies install from wheels on every supported pair.

For each (CPython version, platform) pair of the support matrix, this runs
``pip download --only-binary=:all:`` of the ``[project].dependencies`` of pyproject.toml (read
from the file, not a copy) with pip's target-platform options, so pip resolves the whole
dependency tree as an installer on that machine would and fails when some package of it has no
wheel there. It prints one line per pair and exits 1 naming every pair that does not resolve.

Environment markers are evaluated here for the target pair: pip evaluates them against the
interpreter running it, not the target. porv's own requirements are filtered before pip runs
(a requirement guarded by ``python_version`` is checked exactly where it applies), and the
downloaded wheels' dependencies are walked again with the target's marker values, so one that
only the target needs (``pywin32; platform_system == "Windows"``) is downloaded too.

Downloads go to a cache outside the checkout (``--cache-dir``, default
``$TMPDIR/porv-wheel-check``), so a second run only asks the index for its metadata.

    .venv/bin/python scripts/check_wheels.py [--jobs N] [--cache-dir DIR] [--extra NAME] [PAIR ...]

A PAIR is written ``3.13-linux-x86_64``; without any, all 16 pairs are checked.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parent.parent

PYTHONS = ("3.11", "3.12", "3.13", "3.14")

_MANYLINUX = ("2_17", "2_24", "2_28", "2_31", "2_34")


def _linux_tags(arch: str) -> list[str]:
    tags = [f"manylinux_{glibc}_{arch}" for glibc in _MANYLINUX]
    return [*tags, f"manylinux2014_{arch}"]


@dataclass(frozen=True)
class Platform:
    """One target platform: pip's ``--platform`` tags and the marker values it has."""

    name: str
    tags: tuple[str, ...]
    sys_platform: str
    platform_system: str
    platform_machine: str
    os_name: str


PLATFORMS = (
    Platform("linux-x86_64", tuple(_linux_tags("x86_64")), "linux", "Linux", "x86_64", "posix"),
    Platform("linux-aarch64", tuple(_linux_tags("aarch64")), "linux", "Linux", "aarch64", "posix"),
    # macOS 14 on Apple silicon; pip also accepts the wheels for older macOS versions (11.0+).
    Platform(
        "macos-arm64",
        ("macosx_14_0_arm64", "macosx_11_0_arm64"),
        "darwin",
        "Darwin",
        "arm64",
        "posix",
    ),
    Platform("windows-x64", ("win_amd64",), "win32", "Windows", "AMD64", "nt"),
)


@dataclass(frozen=True)
class Pair:
    python: str
    platform: Platform

    @property
    def name(self) -> str:
        return f"{self.python}-{self.platform.name}"

    def marker_environment(self) -> dict[str, str]:
        return {
            "implementation_name": "cpython",
            "implementation_version": f"{self.python}.0",
            "os_name": self.platform.os_name,
            "platform_machine": self.platform.platform_machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": self.platform.platform_system,
            "platform_version": "",
            "python_full_version": f"{self.python}.0",
            "python_version": self.python,
            "sys_platform": self.platform.sys_platform,
        }


ALL_PAIRS = tuple(Pair(py, plat) for py in PYTHONS for plat in PLATFORMS)


def requirements(pyproject: Path, pair: Pair, extras: list[str]) -> list[str]:
    """porv's runtime requirements (and those of ``extras``) that apply on ``pair``, no markers."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    lines: list[str] = list(project["dependencies"])
    optional = project.get("optional-dependencies", {})
    for extra in extras:
        if extra not in optional:
            raise SystemExit(f"check_wheels: pyproject.toml has no extra {extra!r}")
        lines.extend(optional[extra])
    out: list[str] = []
    environment = pair.marker_environment()
    for line in lines:
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate({**environment, "extra": ""}):
            continue
        req.marker = None
        out.append(str(req))
    return out


def _pip_env() -> dict[str, str]:
    """pip's environment with local wheel folders and extra indexes of this machine left out.

    The check is about what a user's pip finds on the package index, so a wheel that only
    lies in a local ``find-links`` folder must not make a pair pass.
    """
    env = dict(os.environ)
    env["PIP_CONFIG_FILE"] = os.devnull  # no config file: no local find-links or extra index
    env.pop("PIP_FIND_LINKS", None)
    env.pop("PIP_EXTRA_INDEX_URL", None)
    env["PIP_NO_INPUT"] = "1"
    return env


def _pip_download(pair: Pair, reqs: list[str], cache: Path, dest: str) -> tuple[bool, str]:
    nodot = pair.python.replace(".", "")
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        pair.python,
        "--abi",
        f"cp{nodot}",
        "--abi",
        "abi3",
        "--abi",
        "none",
        "--cache-dir",
        str(cache),
        "-d",
        dest,
    ]
    for tag in pair.platform.tags:
        cmd += ["--platform", tag]
    cmd += reqs
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=_pip_env())
    errors = [
        ln
        for ln in (proc.stderr + proc.stdout).splitlines()
        if ln.strip() and not ln.startswith("WARNING:")
    ]
    return proc.returncode == 0, "\n      ".join(errors[-4:])


def _requires(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(archive.read(name).decode("utf-8"))
    return meta.get_all("Requires-Dist") or []


def unmet_for_target(dest: Path, reqs: list[str], environment: dict[str, str]) -> list[str]:
    """Requirements that apply on the target but have no wheel in ``dest``.

    pip evaluates the markers of dependencies against the interpreter running it, so a
    dependency only the target needs (``pywin32; platform_system == "Windows"`` checked from
    Linux) is skipped. This walks the downloaded wheels' metadata from ``reqs`` with the
    target's marker values and returns what is missing, to be downloaded in turn.
    """
    wheels = {canonicalize_name(parse_wheel_filename(p.name)[0]): p for p in dest.glob("*.whl")}
    queue = [Requirement(r) for r in reqs]
    seen: set[tuple[str, frozenset[str]]] = set()
    unmet: list[str] = []
    while queue:
        req = queue.pop()
        key = (canonicalize_name(req.name), frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        wheel = wheels.get(key[0])
        if wheel is None:
            unmet.append(str(req))
            continue
        for line in _requires(wheel):
            dep = Requirement(line)
            extras = ("", *sorted(req.extras))
            if dep.marker is None or any(
                dep.marker.evaluate({**environment, "extra": e}) for e in extras
            ):
                dep.marker = None
                queue.append(dep)
    return sorted(set(unmet))


def check(pair: Pair, reqs: list[str], cache: Path) -> tuple[Pair, bool, str]:
    """Resolve ``reqs`` for one pair; (pair, resolved, a summary or pip's last error lines)."""
    with tempfile.TemporaryDirectory(prefix=f"porv-wheels-{pair.name}-") as dest:
        ok, errors = _pip_download(pair, reqs, cache, dest)
        added: list[str] = []
        for _ in range(5):  # each round adds the target-only dependencies of the last one
            if not ok:
                break
            unmet = unmet_for_target(Path(dest), reqs, pair.marker_environment())
            if not unmet or set(unmet) <= set(added):
                break
            added += unmet
            ok, errors = _pip_download(pair, unmet, cache, dest)
        count = len(list(Path(dest).glob("*.whl")))
    if not ok:
        return pair, False, errors
    extra = f" (with {', '.join(added)}: this platform's markers)" if added else ""
    return pair, True, f"{count} wheels{extra}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pairs", nargs="*", help="pairs to check, e.g. 3.13-windows-x64")
    parser.add_argument("--jobs", type=int, default=4, help="pip processes at once (4)")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "porv-wheel-check",
        help="pip cache outside the checkout ($TMPDIR/porv-wheel-check)",
    )
    parser.add_argument("--extra", action="append", default=[], help="also check this extra")
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    args = parser.parse_args(argv)

    by_name = {p.name: p for p in ALL_PAIRS}
    unknown = [name for name in args.pairs if name not in by_name]
    if unknown:
        parser.error(f"unknown pair(s) {', '.join(unknown)}; known: {', '.join(by_name)}")
    pairs = [by_name[name] for name in args.pairs] or list(ALL_PAIRS)
    args.cache_dir.mkdir(parents=True, exist_ok=True)

    started = time.monotonic()
    jobs = max(1, args.jobs)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [
            pool.submit(check, pair, requirements(args.pyproject, pair, args.extra), args.cache_dir)
            for pair in pairs
        ]
        results = [f.result() for f in futures]
    failed = []
    for pair, ok, detail in results:
        print(f"  {'ok  ' if ok else 'FAIL'} {pair.name:<22} {detail}")
        if not ok:
            failed.append(pair.name)
    elapsed = time.monotonic() - started
    what = "runtime dependencies" + "".join(f" + [{e}]" for e in args.extra)
    if failed:
        print(
            f"{len(failed)} of {len(pairs)} (python, platform) pairs do not resolve porv's {what} "
            f"to wheels: {', '.join(failed)} ({elapsed:.0f} s)",
            file=sys.stderr,
        )
        return 1
    print(f"all {len(pairs)} pairs resolve porv's {what} to wheels ({elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
