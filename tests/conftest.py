"""Shared pytest configuration. Chain fixtures live in tests/chains.py (a plugin)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"

pytest_plugins = [p for p in ("tests.chains",) if (ROOT / "tests" / "chains.py").exists()]


@pytest.fixture(autouse=True)
def _no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests read plain text: never colour."""
    monkeypatch.setenv("NO_COLOR", "1")
    for key in list(os.environ):
        if key.startswith("PORV_"):
            monkeypatch.delenv(key)


@pytest.fixture
def shared_data() -> Path:
    """Folder of real published reserve compositions (../shared/data)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared data folder missing: {SHARED_DATA}")
    return SHARED_DATA
