"""JUnit XML for CI servers: one ``testsuite`` per run, one ``testcase`` per check or rule.

CI servers (GitHub Actions test reporters, GitLab's ``artifacts:reports:junit``, Jenkins)
read the common JUnit format: ``<testsuites>`` holding ``<testsuite>`` elements with ``tests``,
``failures``, ``errors`` and ``skipped`` counts, whose ``<testcase name classname>`` children
hold at most one ``<failure>``, ``<error>`` or ``<skipped>``. porv maps:

* a check or rule that passed: a bare ``testcase``;
* ``fail``: ``<failure type="<kind>" message="...">`` with the detail as its text;
* ``error`` (a check that could not be decided): ``<error>``;
* ``skipped`` / ``not_evaluated``, and a rule of a pack that does not decide the verdict (an
  informational pack): ``<skipped message="...">``;
* a run that stopped with an error (bad input, an endpoint, a mismatch on recheck): one
  ``testcase`` for the command, ``<failure>`` for exit 1, ``<error>`` for exit 2 and 3.

Every string comes from the result, which quotes the bundle: it is escaped by the XML writer,
and characters XML 1.0 cannot carry at all (most control characters) are shown as ``\\xNN``.
Pure: no IO, no clock (times come from the result).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Characters XML 1.0 cannot carry, even escaped.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
#: What a testcase can hold, by porv's outcome word.
_CHILD = {"fail": "failure", "error": "error", "skipped": "skipped", "not_evaluated": "skipped"}


@dataclass(frozen=True)
class Case:
    """One testcase: ``outcome`` is pass, fail, error or skipped."""

    classname: str
    name: str
    outcome: str
    message: str = ""
    kind: str = ""
    detail: str = ""


def xml_text(value: object) -> str:
    """``value`` as text XML 1.0 can carry: disallowed characters become ``\\xNN``."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))


def suite(
    name: str,
    cases: Sequence[Case],
    *,
    properties: Iterable[tuple[str, object]] = (),
    timestamp: str | None = None,
) -> str:
    """The JUnit XML document of one run (``<testsuites>`` with one ``<testsuite>``)."""
    counts = {
        "failures": sum(c.outcome == "fail" for c in cases),
        "errors": sum(c.outcome == "error" for c in cases),
        "skipped": sum(_CHILD.get(c.outcome) == "skipped" for c in cases),
    }
    totals = {"tests": str(len(cases)), **{k: str(v) for k, v in counts.items()}}
    root = ET.Element("testsuites", {"name": xml_text(name), **totals})
    attrs = {"name": xml_text(name), **totals, "time": "0"}
    if timestamp:
        attrs["timestamp"] = xml_text(timestamp.removesuffix("Z"))
    node = ET.SubElement(root, "testsuite", attrs)
    props = [(k, v) for k, v in properties if v is not None]
    if props:
        holder = ET.SubElement(node, "properties")
        for key, value in props:
            ET.SubElement(holder, "property", {"name": xml_text(key), "value": xml_text(value)})
    for case in cases:
        attrs = {"name": xml_text(case.name), "classname": xml_text(case.classname), "time": "0"}
        element = ET.SubElement(node, "testcase", attrs)
        child = _CHILD.get(case.outcome)
        if child is None:
            continue
        detail = {"message": xml_text(case.message)}
        if child != "skipped":
            detail["type"] = xml_text(case.kind or case.outcome)
        sub = ET.SubElement(element, child, detail)
        if case.detail and child != "skipped":
            sub.text = xml_text(case.detail)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _rule_cases(rules: Mapping[str, Any], prefix: str) -> list[Case]:
    """One case per rule of every pack; a pack that does not decide gives skipped cases."""
    cases: list[Case] = []
    for pack in rules.get("packs") or []:
        if not isinstance(pack, Mapping):
            continue
        name = str(pack.get("pack"))
        decides = pack.get("decides", True) is not False
        for rule in pack.get("rules") or []:
            if not isinstance(rule, Mapping):
                continue
            status = str(rule.get("status"))
            measured, limit = rule.get("measured"), rule.get("limit")
            message = str(rule.get("message") or "")
            detail = (
                f"{message}\nmeasured: {measured}\nlimit: {limit}\n"
                f"citation: {rule.get('citation', '')} [{rule.get('confidence', '')}]"
            )
            if not decides and status == "fail":
                status = "skipped"
                message = f"{pack.get('verdict_text') or 'informational'}: {message}"
            cases.append(
                Case(
                    classname=f"{prefix}.{name}",
                    name=str(rule.get("id")),
                    outcome="skipped" if status == "not_evaluated" else status,
                    message=message,
                    kind=f"rule:{rule.get('kind', '')}",
                    detail=detail,
                )
            )
    return cases


def result_junit(result: Mapping[str, Any]) -> str:
    """A verify result: its checks (in step order), then every rule of every pack."""
    cases = [
        Case(
            classname=f"porv.verify.step{c.get('step')}",
            name=str(c.get("id")),
            outcome=str(c.get("outcome")),
            message=str(c.get("detail") or ""),
            kind=str(c.get("kind") or f"check:{c.get('id')}"),
            detail=str(c.get("detail") or ""),
        )
        for c in result.get("checks") or []
        if isinstance(c, Mapping)
    ]
    cases += _rule_cases(result.get("rules") or {}, "porv.rules")
    token = result.get("token") if isinstance(result.get("token"), str) else None
    return suite(
        f"porv verify {result.get('issuer', '')} {token or ''}".strip(),
        cases,
        properties=[
            ("status", result.get("status")),
            ("as_of", result.get("as_of")),
            ("verified_at", result.get("verified_at")),
            ("digest", result.get("digest")),
        ],
        timestamp=str(result.get("verified_at") or "") or None,
    )


def rules_junit(rules: Mapping[str, Any]) -> str:
    """``rules check``: one case per rule of every pack (the ``porv.rules/1`` document)."""
    return suite(
        "porv rules check",
        _rule_cases(rules, "porv.rules"),
        properties=[("passed", rules.get("passed")), ("as_of", rules.get("as_of"))],
    )


def recheck_junit(report: Mapping[str, Any], source: str) -> str:
    """A recheck that re-derived the result: the re-derivation passed; what was carried over
    (not re-read offline) is listed as skipped."""
    cases = [
        Case(
            "porv.recheck",
            "re-derived digest",
            "pass",
        )
    ]
    cases += [
        Case("porv.recheck.carried_over", str(item), "skipped", "carried over: not re-read")
        for item in report.get("carried_over") or []
    ]
    return suite(
        f"porv recheck {source}",
        cases,
        properties=[
            ("digest", report.get("digest")),
            ("result_status", report.get("result_status")),
            ("supply_source", report.get("supply_source")),
        ],
    )


def error_junit(command: str, error: Mapping[str, Any]) -> str:
    """A run that stopped with an error: exit 1 is a failure, exit 2 and 3 an error."""
    code = error.get("exit_code")
    message = str(error.get("message") or "")
    hint = error.get("hint")
    return suite(
        f"porv {command}",
        [
            Case(
                classname="porv",
                name=command,
                outcome="fail" if code == 1 else "error",
                message=message,
                kind=str(error.get("kind") or "error"),
                detail=message + (f"\nhint: {hint}" if hint else ""),
            )
        ],
        properties=[("exit_code", code)],
    )
