"""A failing bundle's reports for people, and ``-o FILE`` choosing the format by its suffix.

The bundle is the demo's with custodian A holding a 94-day Treasury bill that GENIUS does not
count (93 days at most) and MAS does not either (3 calendar months): eligible reserves fall
short, the run fails (exit 1). Each report (``-o result.txt``, ``.md``, ``.html``) names the
bill with its reason and the pack's citation; ``-o result.json`` writes the result document,
which ``porv recheck -o recheck.json`` re-derives; an explicit ``--format`` wins over the suffix.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from tests.attacks.crafting import Doc, Workdir, porv
from tests.attacks.test_rules import SUPPLY_USD, _h, _midnight, _reserve
from verifier.model.display import escape_markdown

BILL = "A-UST-94"
GENIUS = f"{BILL}: maturity 94 days > limit 93 days (over by 1) (GENIUS §4(a)(1)(A)(iii))"
MAS = f"{BILL}: maturity "  # the date and days of MAS's calendar-month limit follow


def _failing(work: Workdir) -> Path:
    def mutate(doc: Doc) -> None:
        bill = _h(BILL, "sovereign_debt", SUPPLY_USD // 2, maturity=_midnight(doc, 94))
        deposit = _h("A-DEP", "bank_deposit_demand", SUPPLY_USD // 2)
        _reserve(doc, [deposit, bill], [_h("B-CASH", "cash", 1)])

    return work.craft(mutate)


def test_output_suffix_picks_the_format_and_every_report_names_the_bill(work: Workdir) -> None:
    bundle = _failing(work)
    base = ["verify", str(bundle), "--policy", str(work.policy)]
    shown = {
        ".txt": lambda s: s,
        ".md": escape_markdown,
        ".html": lambda s: html.escape(s, quote=True),
    }
    for suffix, escape in shown.items():
        out = work.path / f"result{suffix}"
        run = porv([*base, "-o", str(out)])
        assert run.code == 1, run.output
        assert run.stdout == "" and "Traceback" not in run.stderr
        text = out.read_text()
        assert escape(GENIUS) in text, (suffix, text[:3000])
        assert escape(MAS) in text and escape("(MAS SCS framework, reserve assets)") in text
    assert (work.path / "result.txt").read_text().startswith("porv result: FAILED")
    assert (work.path / "result.md").read_text().startswith("# porv: failed")
    assert (work.path / "result.html").read_text().startswith("<!doctype html>")

    result_json = work.path / "result.json"
    assert porv([*base, "-o", str(result_json)]).code == 1
    doc = json.loads(result_json.read_text())
    assert doc["status"] == "failed" and doc["format"] == "porv.result/1"
    genius = next(p for p in doc["rules"]["packs"] if p["pack"] == "genius")
    assert [i["holding_id"] for i in genius["ineligible"]] == [BILL]

    # an explicit --format wins over the suffix
    forced = work.path / "forced.html"
    assert porv([*base, "--format", "json", "-o", str(forced)]).code == 1
    again = json.loads(forced.read_text())  # the same document (verified_at is this run's)
    assert again["format"] == "porv.result/1" and again["rules"] == doc["rules"]

    # recheck writes its report by the suffix too
    recheck = work.path / "recheck.json"
    run = porv(["recheck", str(result_json), "-o", str(recheck)])
    assert run.code == 0, run.output
    report = json.loads(recheck.read_text())
    assert report["status"] == "ok" and report["digest"] == doc["digest"]
    assert report["result_status"] == "failed"
    # a suffix naming a format recheck does not write: exit 2, nothing written
    run = porv(["recheck", str(result_json), "-o", str(work.path / "recheck.html")])
    assert run.code == 2 and "does not write" in run.stderr
    assert not (work.path / "recheck.html").exists()
