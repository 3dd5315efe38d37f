"""``porv verify`` pauses the cycle collector for its run and leaves it as it found it, on
success and on error (the run is in this process here, as a library caller's would be)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

import verifier.app.verify
from tests.support import cli


def _verify(tmp_path: Path) -> cli.Run:
    policy = tmp_path / "policy.toml"
    policy.write_text("not a policy", encoding="utf-8")
    return cli.porv(
        ["verify", str(tmp_path / "missing.json"), "--policy", str(policy)], in_process=True
    )


def test_collector_on_before_is_on_after_an_error(tmp_path: Path) -> None:
    assert gc.isenabled()
    assert _verify(tmp_path).code == 2
    assert gc.isenabled()


def test_collector_off_before_stays_off(tmp_path: Path) -> None:
    gc.disable()
    try:
        assert _verify(tmp_path).code == 2
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_collector_is_paused_during_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []

    def run_verify(*_args: object, **_kwargs: object) -> None:
        seen.append(gc.isenabled())
        raise KeyboardInterrupt  # any way out of the run resumes the collector

    monkeypatch.setattr(verifier.app.verify, "run_verify", run_verify)
    _verify(tmp_path)
    assert seen == [False]
    assert gc.isenabled()
