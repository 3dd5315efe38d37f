"""Issue 14 through ``verify``: an informational pack never decides ``verified``; a pack outside
its dates or for another issuer type is refused (exit 2), naming what applies instead.

Reuses the offline harness of ``tests/unit/checks/test_steps.py`` (demo bundle, fake supply).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.checks.test_steps import _pop_checked_once, checks, demo_policy, run
from verifier.errors import RulePackError

__all__ = ["_pop_checked_once"]  # the BLS proof-of-possession cache, autouse here too

GENIUS_HKMA_MAS = '["genius", "hkma", "mas"]'


def _with(jurisdictions: str, extra: str = "", top: str = "") -> Any:
    """The demo policy with other jurisdictions, ``top`` keys after them, ``extra`` tables."""
    return demo_policy(lambda t: t.replace(GENIUS_HKMA_MAS, jurisdictions + top) + extra)


def test_informational_pack_failing_does_not_stop_verified() -> None:
    # every demo bill fails bcbs-g1b with a 1-day maturity limit: E = cash only, below supply
    policy = _with(
        '["genius", "hkma", "mas", "bcbs-g1b"]',
        "\n[pack_options.bcbs-g1b]\nparameters = { debt_max_days = 1 }\n",
    )
    out = run(policy=policy)
    assert out.status == "verified", checks(out)
    packs = {p["pack"]: p for p in out.result["rules"]["packs"]}
    g1b = packs["bcbs-g1b"]
    assert g1b["verdict"] == "fail" and g1b["decides"] is False
    assert g1b["verdict_text"] == "informational: fail (does not decide verified)"
    assert g1b["assessment"] == "informational"
    assert {p["name"]: p["value"] for p in g1b["parameters"]}["debt_max_days"] == 1
    assert checks(out)["coverage"]["outcome"] == "pass"
    assert checks(out)["rules"]["outcome"] == "pass"
    from verifier.result.report import render_text

    text = render_text(out.result)
    assert "fail (informational)" in text  # the report says the failing rule never decides


def test_informational_packs_alone_do_not_turn_the_coverage_check_off() -> None:
    # no pack decides: total reserves must still cover the supply (supply x1000 is short)
    from tests.unit.checks.test_steps import fake_supply

    policy = _with('["bcbs-g1b"]')
    out = run(policy=policy, supply=fake_supply(policy, scale=1000))
    assert out.status == "failed", checks(out)
    coverage = checks(out)["coverage"]
    assert coverage["outcome"] == "fail" and "reserves" in coverage["detail"]
    assert "< required" in coverage["detail"]


def test_informational_pack_alone_passes_vacuously_for_verified() -> None:
    policy = _with(
        '["bcbs-g1b"]', "\n[pack_options.bcbs-g1b]\nparameters = { debt_max_days = 1 }\n"
    )
    out = run(policy=policy)
    assert out.status == "verified"
    assert out.result["rules"]["packs"][0]["verdict"] == "fail"


def test_pack_for_another_issuer_type_is_refused() -> None:
    policy = _with('["jp-trust"]', top='\nissuer_type = "funds_transfer"')
    with pytest.raises(RulePackError) as info:
        run(policy=policy)
    assert "'jp-trust' does not apply to a funds_transfer issuer" in info.value.message
    assert info.value.exit_code == 2


def test_pack_not_in_force_on_as_of_names_the_version_that_is() -> None:
    # the demo reserve is dated 2026-01-15, before jp-trust's 2026-06-01
    policy = _with('["jp-trust"]', top='\nissuer_type = "trust_company"')
    with pytest.raises(
        RulePackError, match="the version in force on 2026-01-15 is 'jp-trust-2023'"
    ):
        run(policy=policy)


def test_policy_flags_for_a_pack_it_does_not_read_are_refused() -> None:
    policy = _with('["genius", "hkma", "mas"]', '\n[pack_options.genius]\nflags = ["x_flag"]\n')
    with pytest.raises(RulePackError, match="never reads"):
        run(policy=policy)
