"""The public library API (verifier/__init__.py): every name resolves, and importing is cheap."""

from __future__ import annotations

import subprocess
import sys

import verifier
from verifier.app.recheck import recheck_result
from verifier.app.verify import run_verify
from verifier.checks.bundle import Outcome
from verifier.errors import ClaimFailedError, IncompleteError, InputError, PorvError
from verifier.local.loaders import load_bundle, load_policy


def test_every_public_name_resolves_to_the_implementation() -> None:
    assert verifier.verify is run_verify
    assert verifier.recheck is recheck_result
    assert verifier.load_policy is load_policy
    assert verifier.load_bundle is load_bundle
    assert verifier.Outcome is Outcome
    for family in (ClaimFailedError, InputError, IncompleteError):
        assert issubclass(family, verifier.PorvError)
    assert verifier.PorvError is PorvError
    assert all(hasattr(verifier, name) for name in verifier.__all__)


def test_unknown_name_is_an_attribute_error() -> None:
    try:
        verifier.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_import_loads_neither_the_verifier_nor_web3() -> None:
    code = (
        "import sys, verifier; "
        "print(sorted(m for m in sys.modules if m.startswith(('web3', 'verifier.app', "
        "'verifier.chain', 'verifier.checks'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
