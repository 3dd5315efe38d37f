"""The result for people: one document, in the same words, whatever the format.

:func:`build_view` turns a ``porv.result/1`` into a :class:`View`: the verdict first, then
circulating supply per chain and in total, eligible reserves and coverage per jurisdiction pack
(the number that decided) beside total reserves, every ineligible holding with its reason and
the pack's citation, the reserve composition, custodians with their signers, ``as_of``, expiry
and sequence, the rules with measured value, limit and citation, the market-risk estimate, the
checks and the seal. The text, markdown and HTML renderers (:mod:`~verifier.result.report`)
only lay this document out; the HTML page adds charts of the same numbers
(:mod:`~verifier.result.charts`).

Every string here may come from the bundle (ids, names, reasons): the view keeps them raw and
each renderer escapes them for its format. Outcomes are shown in one vocabulary
(:func:`outcome_word`). Pure functions: no IO.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from verifier.model.numbers import LADDER_BUCKETS, display_ratio, ladder_bucket, plain_decimal

#: Every outcome and status word porv's documents use, shown as one of pass / fail / skipped
#: (and error: a check that could not be decided).
_WORDS = {
    "pass": "pass",
    "passed": "pass",
    "ok": "pass",
    "true": "pass",
    "fail": "fail",
    "failed": "fail",
    "false": "fail",
    "skipped": "skipped",
    "skip": "skipped",
    "not_evaluated": "skipped",
    "error": "error",
}

#: What each status means, in the verdict line.
_VERDICTS = {
    "verified": "verified: every check passed",
    "failed": "not verified: a check failed",
    "error": "not decided: a check could not be completed",
}


def outcome_word(value: object) -> str:
    """The word every format shows for a check outcome, rule status or pack verdict.

    ``pass``, ``fail`` and ``skipped`` (``not_evaluated`` and ``skip`` are ``skipped``; a
    boolean is ``pass``/``fail``); ``error`` stays ``error``; anything else is shown as is.
    """
    key = str(value).lower() if isinstance(value, bool) else str(value)
    return _WORDS.get(key, key)


@dataclass(frozen=True)
class Table:
    """Rows under headers; ``numeric`` columns are right-aligned."""

    headers: tuple[str, ...]
    rows: Sequence[Sequence[str]]
    numeric: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Items:
    """A bulleted list."""

    items: list[str]


@dataclass(frozen=True)
class Para:
    """One line of prose."""

    text: str


Block = Table | Items | Para


@dataclass
class Section:
    """A titled part of the report; ``key`` names it for anchors and charts."""

    key: str
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class View:
    """The whole report: the status, the verdict lines and the sections, in order."""

    status: str
    verdict: str
    facts: list[str]
    sections: list[Section]
    chart_data: ChartData


@dataclass
class ChartData:
    """The numbers the HTML charts draw (all in major units, as Decimals)."""

    currency: str
    symbol: str
    #: (asset class, amount in the token currency)
    composition: list[tuple[str, Decimal]] = field(default_factory=list)
    #: (bucket label, amount), in ladder order
    ladder: list[tuple[str, Decimal]] = field(default_factory=list)
    #: how many holdings the ladder covers, of how many
    ladder_listed: int = 0
    ladder_count: int = 0
    #: (chain label, circulating)
    supply: list[tuple[str, Decimal]] = field(default_factory=list)
    #: (pack, eligible / supply, total reserves / supply, required / supply, covers)
    coverage: list[tuple[str, Decimal, Decimal, Decimal, bool]] = field(default_factory=list)


# -- numbers --------------------------------------------------------------------------------


def _dec(value: object) -> Decimal | None:
    """A plain decimal string (or int) from the result as a Decimal, else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        return None
    try:
        return plain_decimal(value, signed=True)
    except ValueError:
        return None


def amount(value: object, unit: str = "") -> str:
    """An amount with thousands separators and its unit; every digit kept ("1,234.50 USD").

    A value that is not a plain decimal is shown as it is (the renderer escapes it).
    """
    d = _dec(value)
    text = f"{d:,f}" if d is not None else ("-" if value is None else str(value))
    return f"{text} {unit}" if unit and d is not None else text


def _base_units(value: object, decimals: object) -> Decimal | None:
    """Base units (an integer string) at ``decimals`` as major units."""
    d = _dec(value)
    if d is None or not isinstance(decimals, int) or isinstance(decimals, bool):
        return None
    if not 0 <= decimals <= 255 or d != d.to_integral_value():
        return None
    text = f"{d.scaleb(-decimals):f}"
    return Decimal(text.rstrip("0").rstrip(".") if "." in text else text)


def percent(part: Decimal | None, whole: Decimal | None) -> str:
    """``part / whole`` as a percentage, rounded down to 0.01 % ("116.07 %")."""
    if part is None or whole is None or whole == 0:
        return "n/a"
    return f"{display_ratio(part * 100, whole, Decimal('0.01')):,f} %"


def _ratio(part: Decimal | None, whole: Decimal | None) -> Decimal:
    if part is None or whole is None or whole <= 0:
        return Decimal(0)
    return display_ratio(part, whole, Decimal("0.0001"))


def _with_unit(value: object, currency: str) -> str:
    """A rule's measured value or limit: an amount (in the token currency) gets its unit."""
    if value is None:
        return "-"
    return amount(value, currency) if _dec(value) is not None else str(value)


def _short_hash(value: object) -> str:
    text = str(value or "")
    return text[:12] + "…" if len(text) > 14 else text


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


# -- citations ------------------------------------------------------------------------------


def citation_label(pack: str, citation: str) -> str:
    """A citation named by its pack: ``GENIUS §4(a)(1)(A)(iii)``, ``HKMA Guideline 2.3.1``.

    A citation that already starts with the pack's name is kept as it is.
    """
    name = pack.upper()
    if not citation:
        return name
    if citation.upper().startswith(name):
        return citation
    return f"{name} {citation}"


def _pack_fallback_citation(pack: Mapping[str, Any]) -> str:
    """The citation the result itself carries for a pack's eligibility: its coverage rule."""
    for rule in pack.get("rules") or []:
        if isinstance(rule, Mapping) and rule.get("kind") == "eligible_coverage":
            return str(rule.get("citation") or "")
    return ""


def ineligible_line(
    entry: Mapping[str, Any], pack: str, citation: str, currency_of: str = ""
) -> str:
    """``"UST-1: maturity 94 days > limit 93 days (over by 1) (GENIUS §4(a)(1)(A)(iii)); ..."``.

    The holding, its reasons, the citation, then its amount and class.
    """
    reasons = "; ".join(str(r) for r in entry.get("reasons") or []) or "no reason recorded"
    unit = str(entry.get("currency") or currency_of)
    return (
        f"{entry.get('holding_id')}: {reasons} ({citation_label(pack, citation)}); "
        f"{amount(entry.get('amount'), unit)} {entry.get('asset_class')}"
    )


# -- sections -------------------------------------------------------------------------------


def _verdict(result: Mapping[str, Any]) -> tuple[str, list[str]]:
    status = str(result.get("status", "?"))
    verdict = "Verdict: " + _VERDICTS.get(status, status)
    lines: list[str] = []
    bad = [
        c
        for c in result.get("checks") or []
        if isinstance(c, Mapping) and c.get("outcome") in ("fail", "error")
    ]
    for c in bad:
        lines.append(f"{outcome_word(c.get('outcome'))}: {c.get('id')}: {c.get('detail')}")
    tok = result.get("token") or {}
    lines.append(
        f"Issuer {result.get('issuer')}, token {tok.get('symbol')} ({tok.get('currency')}), "
        f"reserves as of {result.get('as_of')}, checked {result.get('verified_at')}"
    )
    return verdict, lines


def _supply_section(result: Mapping[str, Any], symbol: str, chart: ChartData) -> Section:
    sec = Section("supply", "Circulating supply")
    supply = result.get("supply") or {}
    deployments = [d for d in supply.get("deployments") or [] if isinstance(d, Mapping)]
    decimals = supply.get("decimals")
    total = _base_units(supply.get("total_circulating"), decimals)
    if not deployments:
        sec.blocks.append(Para("Supply was not read: no supply figures in this result."))
        return sec
    sec.blocks.append(
        Para(
            f"Total circulating: {amount(str(total) if total is not None else None, symbol)}"
            f" on {_count(len(deployments), 'chain')}"
        )
    )
    rows = []
    for d in deployments:
        dec = d.get("decimals", decimals)
        excluded = sum(
            (
                _base_units(e.get("balance"), dec) or Decimal(0)
                for e in d.get("excluded") or []
                if isinstance(e, Mapping)
            ),
            Decimal(0),
        )
        circ = _base_units(d.get("circulating"), dec)
        rows.append(
            (
                str(d.get("chain_id")),
                str(d.get("address")),
                f"{d.get('block_number')} ({_short_hash(d.get('block_hash'))})",
                amount(_str(_base_units(d.get("total_supply"), dec)), symbol),
                amount(str(excluded), symbol),
                amount(_str(circ), symbol),
            )
        )
        chart.supply.append((f"chain {d.get('chain_id')}", circ or Decimal(0)))
    sec.blocks.append(
        Table(
            ("chain", "token", "block", "totalSupply", "excluded", "circulating"),
            rows,
            frozenset({3, 4, 5}),
        )
    )
    return sec


def _str(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:f}"


def _pack_required(pack: Mapping[str, Any], required: Decimal | None) -> Decimal | None:
    """The stricter of the policy's requirement and the pack's own coverage rule limit."""
    out = required
    for rule in pack.get("rules") or []:
        if isinstance(rule, Mapping) and rule.get("kind") == "eligible_coverage":
            limit = _dec(rule.get("limit"))
            if limit is not None and (out is None or limit > out):
                out = limit
    return out


def _coverage_section(result: Mapping[str, Any], currency: str, chart: ChartData) -> Section:
    sec = Section("coverage", "Coverage by jurisdiction")
    cov = result.get("coverage") or {}
    supply = _dec(cov.get("supply"))
    required = _dec(cov.get("required"))
    total = _dec(cov.get("reserves_in_token_currency"))
    sec.blocks.append(
        Para(
            f"Total reserves: {amount(cov.get('reserves_in_token_currency'), currency)}"
            f" ({percent(total, supply)} of circulating supply"
            f" {amount(cov.get('supply'), currency)});"
            f" required: {amount(cov.get('required'), currency)}"
            f" (supply × {cov.get('min_coverage', '-')})"
        )
    )
    packs = [p for p in (result.get("rules") or {}).get("packs") or [] if isinstance(p, Mapping)]
    if not packs:
        sec.blocks.append(
            Para("No jurisdiction pack was evaluated: total reserves decide the coverage check.")
        )
        if supply:
            covers = total is not None and required is not None and total >= required
            chart.coverage.append(
                (
                    "total",
                    _ratio(total, supply),
                    _ratio(total, supply),
                    _ratio(required, supply),
                    covers,
                )
            )
        return sec
    sec.blocks.append(
        Para(
            "Eligible reserves decide: each pack counts only the holdings it allows, and they "
            "must reach the requirement."
        )
    )
    rows = []
    for p in packs:
        eligible = _dec(p.get("eligible_total"))
        need = _pack_required(p, required)
        covers = eligible is not None and need is not None and eligible >= need
        rows.append(
            (
                str(p.get("pack")),
                amount(p.get("eligible_total"), currency),
                percent(eligible, supply),
                amount(_str(need), currency),
                amount(p.get("reserve_total"), currency),
                outcome_word("pass" if covers else "fail"),
                _pack_verdict(p),
            )
        )
        chart.coverage.append(
            (
                str(p.get("pack")),
                _ratio(eligible, supply),
                _ratio(_dec(p.get("reserve_total")), supply),
                _ratio(need, supply),
                covers,
            )
        )
    sec.blocks.append(
        Table(
            (
                "pack",
                "eligible reserves",
                "eligible coverage",
                "required",
                "total reserves",
                "coverage",
                "pack rules",
            ),
            rows,
            frozenset({1, 2, 3, 4}),
        )
    )
    return sec


def _ineligible_section(
    result: Mapping[str, Any],
    currency: str,
    citations: Mapping[str, Mapping[str, str]] | None,
) -> Section:
    sec = Section("ineligible", "Ineligible holdings")
    packs = [p for p in (result.get("rules") or {}).get("packs") or [] if isinstance(p, Mapping)]
    if not packs:
        sec.blocks.append(Para("No jurisdiction pack was evaluated."))
        return sec
    for p in packs:
        name = str(p.get("pack"))
        listed = [e for e in p.get("ineligible") or [] if isinstance(e, Mapping)]
        count = p.get("ineligible_count")
        count = count if isinstance(count, int) and not isinstance(count, bool) else len(listed)
        if not count:
            sec.blocks.append(Para(f"{name}: every holding is eligible."))
            continue
        eligible, total = _dec(p.get("eligible_total")), _dec(p.get("reserve_total"))
        left_out = (
            f"; {amount(str(total - eligible), currency)} of reserves not counted"
            if eligible is not None and total is not None
            else ""
        )
        sec.blocks.append(Para(f"{name}: {_count(count, 'ineligible holding')}{left_out}"))
        mine = (citations or {}).get(name) or {}
        fallback = mine.get("") or _pack_fallback_citation(p)
        items = [
            ineligible_line(e, name, mine.get(str(e.get("asset_class")), fallback), currency)
            for e in listed
        ]
        if count > len(listed):
            items.append(
                f"and {count - len(listed):,} more ({name}: the result lists the first "
                f"{len(listed):,} of {count:,})"
            )
        sec.blocks.append(Items(items))
    return sec


def _reserves_section(result: Mapping[str, Any], currency: str, chart: ChartData) -> Section:
    sec = Section("reserves", "Reserve composition")
    reserves = result.get("reserves") or {}
    rows = []
    for c in reserves.get("by_class") or []:
        if not isinstance(c, Mapping):
            continue
        rows.append((str(c.get("asset_class")), str(c.get("currency")), amount(c.get("amount"))))
        if c.get("currency") == currency:
            chart.composition.append(
                (str(c.get("asset_class")), _dec(c.get("amount")) or Decimal(0))
            )
    if not rows:
        sec.blocks.append(Para("No reserve figures in this result."))
        return sec
    by_currency = reserves.get("by_currency") or {}
    totals = ", ".join(f"{amount(v, str(k))}" for k, v in sorted(by_currency.items()))
    sec.blocks.append(Para(f"Total by currency: {totals or '-'}"))
    sec.blocks.append(Table(("asset class", "currency", "amount"), rows, frozenset({2})))
    return sec


def _ladder(result: Mapping[str, Any], chart: ChartData) -> None:
    """The maturity ladder: the risk estimate's ``ladder`` (value per bucket over every
    holding), else, in a result without one, summed from its listed per-holding inputs."""
    risk = result.get("risk") or {}
    rows = risk.get("ladder")
    if isinstance(rows, list):
        chart.ladder = [
            (str(r.get("bucket")), _dec(r.get("value")) or Decimal(0))
            for r in rows
            if isinstance(r, Mapping)
        ]
        return
    inputs = [i for i in risk.get("inputs") or [] if isinstance(i, Mapping)]
    sums = [Decimal(0)] * len(LADDER_BUCKETS)
    for i in inputs:
        tenor, value = _dec(i.get("tenor_years")), _dec(i.get("value"))
        if tenor is None or value is None:
            continue
        sums[ladder_bucket(tenor)] += value
    chart.ladder = [(label, sums[n]) for n, (label, _) in enumerate(LADDER_BUCKETS)]
    count = risk.get("inputs_count")
    chart.ladder_listed = len(inputs)
    chart.ladder_count = count if isinstance(count, int) and not isinstance(count, bool) else 0


def _custodians_section(result: Mapping[str, Any], currency: str) -> Section:
    sec = Section("custodians", "Custodians")
    by_custodian = (result.get("reserves") or {}).get("by_custodian") or {}
    rows = []
    signers: list[str] = []
    for a in result.get("attestations") or []:
        if not isinstance(a, Mapping):
            continue
        name = str(a.get("custodian"))
        held = by_custodian.get(name) or {}
        rows.append(
            (
                name,
                amount(held.get(currency), currency) if currency in held else "-",
                str(a.get("leaf_count", "-")),
                str(a.get("as_of")),
                str(a.get("valid_until")),
                str(a.get("sequence")),
                f"{len(a.get('signers') or [])} of threshold {a.get('threshold')}",
                outcome_word(bool(a.get("threshold_met")) and bool(a.get("fresh"))),
            )
        )
        keys = ", ".join(str(s) for s in a.get("signers") or []) or "none"
        signers.append(f"{name} signed by: {keys}")
    if not rows:
        sec.blocks.append(Para("No attestations in this result."))
        return sec
    sec.blocks.append(
        Table(
            (
                "custodian",
                "reserves",
                "holdings",
                "as_of",
                "valid until",
                "sequence",
                "signatures",
                "outcome",
            ),
            rows,
            frozenset({1, 2, 5}),
        )
    )
    sec.blocks.append(Items(signers))
    return sec


#: A draft pack's rules read as readiness; an informational pack's never decide.
_PACK_LABEL = {"draft": " (readiness)", "informational": " (informational)"}


def _pack_verdict(pack: Mapping[str, Any]) -> str:
    """A pack's verdict in words that say what kind it is: a law in force's pass/fail, a
    draft's readiness, an informational view that decides nothing."""
    if str(pack.get("status")) in _PACK_LABEL and pack.get("verdict_text"):
        return str(pack["verdict_text"])
    return outcome_word(pack.get("verdict"))


def _rules_section(result: Mapping[str, Any], currency: str) -> Section:
    sec = Section("rules", "Rules")
    rules = result.get("rules") or {}
    rows = []
    for p in rules.get("packs") or []:
        if not isinstance(p, Mapping):
            continue
        for r in p.get("rules") or []:
            if not isinstance(r, Mapping):
                continue
            cite = str(r.get("citation") or "")
            if r.get("confidence"):
                cite += f" [{r.get('confidence')}]"
            rows.append(
                (
                    str(r.get("id")),
                    outcome_word(r.get("status")) + _PACK_LABEL.get(str(p.get("status")), ""),
                    _with_unit(r.get("measured"), currency),
                    _with_unit(r.get("limit"), currency),
                    cite,
                )
            )
    if not rows:
        sec.blocks.append(Para("No rules were evaluated."))
        return sec
    sec.blocks.append(Table(("rule", "outcome", "measured", "limit", "citation"), rows))
    scope = rules.get("out_of_scope") or []
    if scope:
        sec.blocks.append(
            Para("Not checked mechanically (out of scope): " + ", ".join(map(str, scope)))
        )
    return sec


def _risk_section(result: Mapping[str, Any]) -> Section | None:
    risk = result.get("risk")
    if not isinstance(risk, Mapping):
        return None
    unit = str(risk.get("currency") or (result.get("token") or {}).get("currency") or "")
    sec = Section("risk", "Market risk")
    share = _dec(risk.get("share_of_reserve"))
    text = f"Market-risk capital estimate: {amount(risk.get('total'), unit)}"
    if share is not None:
        text += f" ({percent(share, Decimal(1))} of reserves)"
    sec.blocks.append(Para(text + "; an estimate, it does not decide the verdict"))
    return sec


def _checks_section(result: Mapping[str, Any]) -> Section:
    sec = Section("checks", "Checks")
    rows = [
        (
            str(c.get("step")),
            str(c.get("id")),
            outcome_word(c.get("outcome")),
            str(c.get("detail")),
        )
        for c in result.get("checks") or []
        if isinstance(c, Mapping)
    ]
    sec.blocks.append(Table(("step", "check", "outcome", "detail"), rows))
    return sec


def _seal_section(result: Mapping[str, Any]) -> Section:
    sec = Section("seal", "Seal")
    items = [f"digest {result.get('digest')}"]
    sig = result.get("signature")
    if isinstance(sig, Mapping):
        items.append(f"signed by {sig.get('signer')} ({sig.get('scheme')})")
    else:
        items.append("not signed by an operator")
    inputs = result.get("inputs") or {}
    for name in ("bundle", "policy"):
        doc = inputs.get(name)
        if isinstance(doc, Mapping):
            items.append(f"{name} sha256 {doc.get('sha256')}")
    sec.blocks.append(Items(items))
    return sec


def build_view(
    result: Mapping[str, Any], *, citations: Mapping[str, Mapping[str, str]] | None = None
) -> View:
    """The report of ``result`` as a format-neutral document.

    Args:
        result: a ``porv.result/1`` document (sections may be absent).
        citations: per pack, the eligibility citation of each asset class (key ``""``: the
            pack's general eligibility citation), from the pack files the result names by
            sha256. Without them an ineligible holding cites its pack's coverage rule.
    """
    tok = result.get("token") or {}
    currency = str(tok.get("currency") or "")
    symbol = str(tok.get("symbol") or currency)
    chart = ChartData(currency=currency, symbol=symbol)
    verdict, facts = _verdict(result)
    sections: list[Section | None] = [
        _supply_section(result, symbol, chart),
        _coverage_section(result, currency, chart),
        _ineligible_section(result, currency, citations),
        _reserves_section(result, currency, chart),
        _custodians_section(result, currency),
        _rules_section(result, currency),
        _risk_section(result),
        _checks_section(result),
        _seal_section(result),
    ]
    _ladder(result, chart)
    return View(
        status=str(result.get("status", "?")),
        verdict=verdict,
        facts=facts,
        sections=[s for s in sections if s is not None],
        chart_data=chart,
    )
