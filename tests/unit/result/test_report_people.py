"""The result for people (issue 10): the same document in text, markdown and HTML.

A failing result (a 94-day Treasury bill GENIUS does not count) must name every ineligible
holding with its reason and the pack's citation in every format; outcomes use one vocabulary;
the HTML page is self-contained, has a coloured banner and charts, and stays under 1 MB for a
30,000-holding bundle.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from tests.unit.result.failing import failing_result
from verifier.app.report import eligibility_citations
from verifier.model.display import escape_markdown
from verifier.result.report import (
    BANNER_COLOURS,
    UNDECIDED_COLOUR,
    render_html,
    render_markdown,
    render_text,
)
from verifier.result.view import citation_label, outcome_word

RENDERERS = {"text": render_text, "markdown": render_markdown, "html": render_html}
SHOWN = {
    "text": lambda s: s,
    "markdown": escape_markdown,
    "html": lambda s: html.escape(s, quote=True),
}


@pytest.fixture(scope="module")
def failing() -> dict[str, Any]:
    return failing_result()


@pytest.fixture(scope="module")
def large() -> dict[str, Any]:
    return failing_result(extra=30_000 - 3)


def _render(fmt: str, result: dict[str, Any]) -> str:
    return RENDERERS[fmt](result, citations=eligibility_citations(result))


def _ineligible_lines(result: dict[str, Any]) -> list[str]:
    """``"ID: reasons (PACK citation)"`` for every ineligible holding the result lists."""
    citations = eligibility_citations(result)
    lines = []
    for pack in result["rules"]["packs"]:
        for entry in pack["ineligible"]:
            mine = citations[pack["pack"]]
            cite = mine.get(entry["asset_class"], mine[""])  # a class the pack does not list
            label = citation_label(pack["pack"], cite)
            lines.append(f"{entry['holding_id']}: {'; '.join(entry['reasons'])} ({label})")
    return lines


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_every_ineligible_holding_is_named_with_its_reason(fmt: str, failing: Any) -> None:
    out = _render(fmt, failing)
    expected = "UST-1: maturity 94 days > limit 93 days (over by 1) (GENIUS §4(a)(1)(A)(iii))"
    assert SHOWN[fmt](expected) in out
    lines = _ineligible_lines(failing)
    assert len(lines) == 2  # GENIUS and MAS refuse the bill; HKMA counts it
    for line in lines:
        assert SHOWN[fmt](line) in out, line


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_verdict_first_then_supply_coverage_ineligible_custodians_rules_checks(
    fmt: str, failing: Any
) -> None:
    out = _render(fmt, failing)
    out = re.sub(r'<section class="charts">.*?</section>', "", out, flags=re.S)
    words = [
        "porv",
        "Verdict: not verified: a check failed",
        "Circulating supply",
        "Total circulating: 100,000,000 pUSD on 2 chains",
        "Coverage by jurisdiction",
        "Ineligible holdings",
        "Reserve composition",
        "Custodians",
        "Rules",
        "Checks",
        "Seal",
    ]
    at = [out.find(SHOWN[fmt](w)) for w in words]
    assert -1 not in at, dict(zip(words, at, strict=True))
    assert at == sorted(at)
    # the number that decided, with total reserves beside it, amounts with their unit
    for part in ("55,000,000.00 USD", "55.00 %", "100,000,000 USD", "115,000,000.00 USD"):
        assert SHOWN[fmt](part) in out
    # custodians with signers, as_of, expiry and sequence
    for part in (
        "custodian-a",
        "2026-02-14T00:00:00Z",
        "0x4Bb58E9b241E11488A817DF4DaF653e32d7D0b02",
    ):
        assert part in out
    # rules with measured value, limit (with units) and citation
    assert "genius.reserve-assets" in out and "Pub. L. 119-27 §4(a)(1)(A)" in out


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_one_vocabulary_pass_fail_skipped(fmt: str, failing: Any) -> None:
    out = _render(fmt, failing)
    text = re.sub(r"<[^>]*>", " ", out) if fmt == "html" else out
    cells = set(re.findall(r"\b(ok|OK|FAIL|skip|not_evaluated|ERROR)\b", text))
    assert not cells, cells
    for word in ("pass", "fail", "skipped"):
        assert re.search(rf"\b{word}\b", text)


def test_outcome_word_maps_every_status() -> None:
    assert [outcome_word(w) for w in ("pass", "ok", True)] == ["pass"] * 3
    assert [outcome_word(w) for w in ("fail", "failed", False)] == ["fail"] * 3
    assert [outcome_word(w) for w in ("skipped", "skip", "not_evaluated")] == ["skipped"] * 3
    assert outcome_word("error") == "error"


def test_without_pack_files_the_result_own_citation_is_used(failing: Any) -> None:
    out = render_text(failing)  # no citations: the pack's coverage rule, from the result
    assert "(GENIUS Pub. L. 119-27 §4(a)(1)(A))" in out
    assert "(MAS SCS framework, reserve assets)" in out


def test_a_pack_file_of_another_version_is_not_cited(failing: Any) -> None:
    changed = {**failing, "rules": {**failing["rules"]}}
    changed["rules"]["packs"] = [{**p, "sha256": "00" * 32} for p in failing["rules"]["packs"]]
    assert eligibility_citations(changed) == {}


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_capped_lists_say_and_n_more(fmt: str) -> None:
    result = failing_result(extra=2_400)
    genius = next(p for p in result["rules"]["packs"] if p["pack"] == "genius")
    listed, count = len(genius["ineligible"]), genius["ineligible_count"]
    assert listed == 1000 and count > listed
    out = _render(fmt, result)
    assert SHOWN[fmt](f"and {count - listed:,} more") in out


@pytest.mark.parametrize(
    ("status", "colour"),
    [("verified", BANNER_COLOURS["verified"]), ("failed", BANNER_COLOURS["failed"]),
     ("error", UNDECIDED_COLOUR)],
)  # fmt: skip
def test_banner_colour_follows_the_status(status: str, colour: str, failing: Any) -> None:
    out = render_html({**failing, "status": status})
    assert f'class="banner" style="background:{colour}"' in out


def test_html_is_self_contained_with_the_four_charts(failing: Any) -> None:
    out = _render("html", failing)
    low = out.lower()
    for banned in ("<script", "<link", "<img", "@import", "url(", "http:", "https:", "src="):
        assert banned not in low, banned
    assert low.count("<svg") == 4
    for title in (
        "Reserve composition by asset class",
        "Maturity ladder",
        "Circulating supply by chain",
        "Eligible coverage against each pack&#x27;s requirement",
    ):
        assert title in out
    assert "@media print" in out


def test_chart_labels_from_the_bundle_are_escaped(failing: Any) -> None:
    hostile = {**failing, "reserves": {**failing["reserves"]}}
    hostile["reserves"]["by_class"] = [
        {"asset_class": "<script>alert(1)</script>", "currency": "USD", "amount": "5"}
    ]
    out = render_html(hostile)
    assert "<script" not in out and "&lt;script&gt;" in out


def test_html_for_30000_holdings_is_under_1_mb(large: Any) -> None:
    size = len(_render("html", large).encode())
    assert size < 1_000_000, size
    # and every listed ineligible holding is still there, the rest counted
    out = _render("text", large)
    for line in _ineligible_lines(large)[::97]:
        assert line in out
    for pack in large["rules"]["packs"]:
        more = pack["ineligible_count"] - len(pack["ineligible"])
        if more:
            assert f"and {more:,} more ({pack['pack']}" in out


def test_markdown_lines_never_open_a_block_from_a_holding_id(failing: Any) -> None:
    hostile = {**failing, "rules": {**failing["rules"]}}
    packs = [dict(p) for p in failing["rules"]["packs"]]
    packs[0]["ineligible"] = [{**packs[0]["ineligible"][0], "holding_id": "# 1. | > <b>"}]
    hostile["rules"]["packs"] = packs
    out = render_markdown(hostile)
    assert "- \\# 1. \\| > &lt;b>: maturity 94 days" in out


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_a_draft_pack_reads_as_readiness_and_never_as_law(fmt: str, failing: Any) -> None:
    import copy

    result = copy.deepcopy(failing)
    pack = result["rules"]["packs"][0]
    pack["status"] = "draft"
    pack["verdict_text"] = f"readiness: {pack['verdict']} (draft rules, not law in force)"
    text = _render(fmt, result)
    assert "readiness: " in text and "(readiness)" in text
    assert "compliant" not in text.lower()


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_the_largest_legal_amounts_render(fmt: str, failing: Any) -> None:
    # a holding may hold up to 2^256 - 1 base units at 0 decimals: 78 digits, beyond the
    # default 28-digit Decimal context the charts would otherwise quantize in
    import copy

    big = str(2**256 - 1)
    result = copy.deepcopy(failing)
    result["rules"]["packs"][0]["eligible_total"] = big
    result["coverage"]["reserves_in_token_currency"] = big
    for entry in (result.get("risk") or {}).get("inputs") or []:
        entry["value"] = big
    text = _render(fmt, result)
    assert text


def test_markdown_block_markers_after_leading_spaces_are_not_markup(failing: Any) -> None:
    import copy

    result = copy.deepcopy(failing)
    pack = next(p for p in result["rules"]["packs"] if p["ineligible"])
    forged = "   # ALL RESERVES VERIFIED BY REGULATOR"
    pack["ineligible"][0]["holding_id"] = forged
    md = _render("markdown", result)
    line = next(x for x in md.splitlines() if "ALL RESERVES" in x)
    assert line.startswith("- &#32;&#32;&#32;\\# ALL RESERVES"), line
    for text in ("  > quoted", " 1. listed", "    code"):
        pack["ineligible"][0]["holding_id"] = text
        md = _render("markdown", result)
        line = next(x for x in md.splitlines() if text.strip()[-5:] in x)
        assert line.startswith("- &#32;"), line


def test_compact_result_draws_the_ladder_from_its_buckets(failing: Any) -> None:
    """A compact result has no per-holding risk inputs: the ladder comes from its buckets, and
    draws what the inputs would (every input is listed in this small result)."""
    import copy

    compact = copy.deepcopy(failing)
    del compact["risk"]["inputs"]
    from_inputs = copy.deepcopy(failing)
    del from_inputs["risk"]["ladder"]
    out = render_html(compact)
    assert "Maturity ladder" in out
    assert out == render_html(from_inputs)
