"""Shared pytest configuration. Chain fixtures live in tests/chains.py (a plugin), over
porv's pytest plugin (verifier/testing/plugin.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"

pytest_plugins = [p for p in ("tests.chains",) if (ROOT / "tests" / "chains.py").exists()]
# porv's pytest plugin is loaded by its entry point once porv is installed (pytest11: porv);
# loaded here only when it is not (a checkout on PYTHONPATH, PYTEST_DISABLE_PLUGIN_AUTOLOAD),
# since registering the module a second time is an error.
if "verifier.testing.plugin" not in sys.modules:
    pytest_plugins.insert(0, "verifier.testing.plugin")


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
