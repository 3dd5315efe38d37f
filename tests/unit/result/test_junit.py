"""``--format junit``: valid against the JUnit format CI servers read, one failure per failed
check or rule, every bundle string escaped, errors as a JUnit document too."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import xmlschema

from tests.support import cli
from tests.unit.result.failing import failing_result
from verifier.result.junit import error_junit, recheck_junit, result_junit

SCHEMA = xmlschema.XMLSchema(Path(__file__).resolve().parents[2] / "support" / "junit.xsd")
FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "holdings"
USDC = ["--supply", "75266033823", "--currency", "USD", "--as-of", "2025-12-31"]


@pytest.fixture(scope="module")
def failing() -> dict[str, Any]:
    return failing_result()


def _cases(doc: str) -> list[ET.Element]:
    SCHEMA.validate(doc)
    return list(ET.fromstring(doc).iter("testcase"))


def _deciding_rule_failures(result: dict[str, Any]) -> int:
    return sum(
        r["status"] == "fail"
        for p in result["rules"]["packs"]
        if p.get("decides", True)
        for r in p["rules"]
    )


def test_a_failing_result_has_one_failure_per_failed_check_and_rule(failing: Any) -> None:
    doc = result_junit(failing)
    cases = _cases(doc)
    failed_checks = sum(c["outcome"] == "fail" for c in failing["checks"])
    failures = [c for c in cases if c.find("failure") is not None]
    assert len(failures) == failed_checks + _deciding_rule_failures(failing) > 0
    suite = ET.fromstring(doc).find("testsuite")
    assert suite is not None and suite.get("failures") == str(len(failures))
    assert suite.get("tests") == str(len(cases))
    # the failure names what decided it: the detail, the rule's measured value and citation
    coverage = next(c for c in failures if c.get("name") == "genius.reserve-assets")
    failure = coverage.find("failure")
    assert failure is not None and "measured:" in (failure.text or "")
    assert "citation:" in (failure.text or "")


def test_an_informational_pack_never_fails_the_job(failing: Any) -> None:
    result = copy.deepcopy(failing)
    for pack in result["rules"]["packs"]:
        pack["decides"] = False
        pack["verdict_text"] = f"informational: {pack['verdict']} (does not decide verified)"
    cases = _cases(result_junit(result))
    rule_cases = [c for c in cases if str(c.get("classname")).startswith("porv.rules.")]
    assert rule_cases and all(c.find("failure") is None for c in rule_cases)
    skipped = [c.find("skipped") for c in rule_cases if c.find("skipped") is not None]
    assert any("informational" in str(s.get("message")) for s in skipped if s is not None)


def test_hostile_strings_are_escaped_and_control_characters_shown(failing: Any) -> None:
    result = copy.deepcopy(failing)
    hostile = 'x"/><testcase name="forged"/><script>alert(1)</script>]]>\x01\x1b[31m'
    result["checks"][0] = {**result["checks"][0], "id": hostile, "detail": hostile}
    doc = result_junit(result)
    cases = _cases(doc)
    assert not any(c.get("name") == "forged" for c in cases)
    first = cases[0]
    assert first.get("name") == hostile.replace("\x01", "\\x01").replace("\x1b", "\\x1b")
    assert "<script>" not in doc and "\x1b" not in doc


def test_recheck_and_error_documents() -> None:
    report = {"digest": "0x" + "ab" * 32, "result_status": "verified", "carried_over": ["supply"]}
    cases = _cases(recheck_junit(report, "result.json"))
    assert [c.find("skipped") is not None for c in cases] == [False, True]
    for code, child in ((1, "failure"), (2, "error"), (3, "error")):
        error = {"kind": "k", "message": "m <&>", "exit_code": code, "hint": "h"}
        (case,) = _cases(error_junit("verify", error))
        found = case.find(child)
        assert found is not None and found.get("type") == "k" and "hint: h" in (found.text or "")


def _porv(*args: str) -> cli.Run:
    return cli.porv(args, in_process=True)


def test_rules_check_junit_and_xml_suffix(shared_data: Path, tmp_path: Path) -> None:
    csv = str(shared_data / "usdc-2025-12-31.csv")
    run = _porv("rules", "check", csv, *USDC, "--pack", "genius", "--format", "junit")
    assert run.code == 0, run.stderr
    cases = _cases(run.stdout)
    assert cases and all(c.find("failure") is None for c in cases)
    out = tmp_path / "rules.xml"
    run = _porv("rules", "check", csv, *USDC, "--pack", "mica-emt", "-o", str(out))
    assert run.code == 1
    cases = _cases(out.read_text())
    assert any(c.find("failure") is not None for c in cases)


def test_an_error_under_junit_is_a_junit_error_and_nothing_is_written(tmp_path: Path) -> None:
    out = tmp_path / "rules.xml"
    missing = str(tmp_path / "missing.csv")
    run = _porv("rules", "check", missing, *USDC, "--pack", "genius", "--format", "junit")
    assert run.code == 2
    (case,) = _cases(run.stdout)
    error = case.find("error")
    assert error is not None and error.get("type")
    run = _porv("rules", "check", missing, *USDC, "--pack", "genius", "-o", str(out))
    assert run.code == 2 and not out.exists()
