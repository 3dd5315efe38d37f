"""``porv demo`` on every chain kind, and ``porv recheck`` on the result it keeps.

The demo runs as a user would run it (a subprocess of ``python -m verifier``). Its kept result
must recheck, and no number in it may be edited without recheck noticing: first as a plain
edit (the digest no longer matches), then with the digest and operator signature recomputed,
so the edit is caught by re-deriving the result from the bundle and policy it names.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support import cli
from tests.support.cli import Run
from verifier.app.demo import demo_secret
from verifier.app.recheck import recheck_result
from verifier.errors import RecheckMismatchError
from verifier.result.seal import seal

ROOT = Path(__file__).resolve().parents[2]
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
#: What offline recheck takes from the result as recorded (it has no chain to compare them
#: with): each deployment's block number and time, and its successor's time (the times are
#: still bounded by as_of, on either side). ``porv recheck --rpc`` re-reads the blocks.
OFFLINE_AS_RECORDED = re.compile(
    r"^supply\.deployments\.\d+\.(block_number|block_timestamp|successor\.block_timestamp)$"
)


def run_porv(*args: str, timeout: float = 120) -> Run:
    return cli.porv(args, cwd=ROOT, timeout=timeout)


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("anvil", marks=pytest.mark.anvil),
        pytest.param("hardhat", marks=pytest.mark.hardhat),
    ],
)
def test_demo_on_a_real_chain(kind: str) -> None:
    proc = run_porv("demo", "--chain", kind)
    assert proc.code == 0, proc.stderr
    assert proc.stdout.startswith("porv result: VERIFIED")
    assert f"starting two {kind} chains" in proc.stderr
    assert "porv: verified" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert_checked_after_as_of(proc.stdout)


def assert_checked_after_as_of(text: str) -> None:
    """The header's ``as of`` is before its ``checked`` (the chain's clock is not ahead)."""
    found = re.search(r"as of (\S+?),? +checked (\S+)", text)
    assert found, text
    as_of, checked = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in found.groups())
    assert as_of < checked, found.group(0)


@pytest.fixture(scope="module")
def kept_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``porv demo --format json --workdir DIR`` on the embedded chain; yields DIR."""
    workdir = tmp_path_factory.mktemp("demo")
    proc = run_porv("demo", "--format", "json", "--workdir", str(workdir))
    assert proc.code == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == "verified"
    assert json.loads((workdir / "result.json").read_text()) == result
    assert result["as_of"] < result["verified_at"], (result["as_of"], result["verified_at"])
    yield workdir


def test_recheck_of_kept_result(kept_demo: Path) -> None:
    proc = run_porv("recheck", str(kept_demo / "result.json"))
    assert proc.code == 0, proc.stderr
    assert proc.stdout.startswith("recheck ok:")
    edited = kept_demo / "edited.json"
    doc = json.loads((kept_demo / "result.json").read_text())
    doc["coverage"]["ratio"] = "1.200000"
    edited.write_text(json.dumps(doc, indent=2))
    proc = run_porv("recheck", str(edited), "--format", "json")
    assert proc.code == 1
    assert json.loads(proc.stdout)["status"] == "failed"
    assert "Traceback" not in proc.stderr


def numbers(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every number in a JSON value (integers, and decimal strings), with its path."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from numbers(v, (*path, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from numbers(v, (*path, str(i)))
    elif (isinstance(value, int | float) and not isinstance(value, bool)) or (
        isinstance(value, str) and _NUMBER.fullmatch(value)
    ):
        yield path, value


def bumped(value: Any) -> Any:
    """The number with its last digit changed (same type, same format)."""
    if isinstance(value, int | float):
        return value + 1
    return value[:-1] + str((int(value[-1]) + 1) % 10)


def edit(doc: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    node: Any = out
    for key in path[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    last = path[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


def recheck_fails(doc: dict[str, Any]) -> bool:
    try:
        recheck_result(doc, source="edited.json", bundle_path=None, policy_path=None)
    except RecheckMismatchError:
        return True
    return False


def test_recheck_catches_every_edited_number(kept_demo: Path) -> None:
    doc = json.loads((kept_demo / "result.json").read_text())
    found = list(numbers(doc))
    assert len(found) > 50
    missed = [p for p, v in found if not recheck_fails(edit(doc, p, bumped(v)))]
    assert missed == []


def test_recheck_rederives_resealed_edits(kept_demo: Path) -> None:
    """Someone who recomputes the digest and re-signs still cannot change a derived number."""
    doc = json.loads((kept_demo / "result.json").read_text())
    key = demo_secret("operator", "secp256k1")
    missed = []
    for path, value in numbers(doc):
        if path[0] in ("digest", "signature"):
            continue
        changed = edit(doc, path, bumped(value))
        changed.pop("digest", None)
        changed.pop("signature", None)
        seal(changed, sign_key=key)
        if not recheck_fails(changed):
            missed.append(".".join(path))
    assert [m for m in missed if not OFFLINE_AS_RECORDED.match(m)] == []


def test_demo_writes_its_result_before_it_records_the_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DESIGN §1 "State never goes back": the floor moves only once the result is written
    from verifier.local.state import RollbackState

    workdir = tmp_path / "demo"
    seen: list[bool] = []
    record = RollbackState.record

    def recording(self: RollbackState, updates: Any) -> None:
        seen.append((workdir / "result.json").is_file())
        record(self, updates)

    monkeypatch.setattr(RollbackState, "record", recording)
    res = cli.porv(["demo", "--format", "json", "--workdir", str(workdir)], in_process=True)
    assert res.code == 0, res.output
    assert seen == [True]
    assert json.loads((workdir / "result.json").read_text())["status"] == "verified"


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_demo_without_the_embedded_chain_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fmt: str
) -> None:
    """An install where eth-tester does not import: exit 2, naming the fix, nothing else."""
    import sys

    monkeypatch.setitem(sys.modules, "eth_tester", None)  # `import eth_tester` raises
    proc = cli.porv(["demo", "--format", fmt, "--workdir", str(tmp_path / "demo")], in_process=True)
    assert proc.code == 2, proc.stderr
    assert "embedded chain needs eth-tester and py-evm" in proc.stderr
    assert "--chain anvil" in proc.stderr and "pip install" in proc.stderr
    assert "Traceback" not in proc.stderr
    if fmt == "json":
        assert proc.json["status"] == "error"
