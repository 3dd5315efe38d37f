"""Reporters for a ``porv.result/1``: text, markdown, html (JSON is the result itself).

Pure functions from the result dict to a string; the CLI decides where it goes. Every value
shown comes from a result whose ids and names the issuer wrote: text escapes control and
invisible characters (:func:`~verifier.model.display.escape_terminal`), markdown also escapes
HTML and markup (:func:`~verifier.model.display.escape_markdown`), html escapes HTML.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from verifier.model.display import escape_markdown, escape_terminal

_MARK = {"pass": "ok", "fail": "FAIL", "error": "ERROR", "skipped": "skip"}


def _rows(result: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    return [
        (c["step"], c["id"], _MARK.get(c["outcome"], c["outcome"]), c["detail"])
        for c in result.get("checks", [])
    ]


def _supply_rows(result: Mapping[str, Any]) -> list[list[str]]:
    supply = result.get("supply") or {}
    rows = []
    for d in supply.get("deployments", []):
        rows.append(
            [
                str(d.get("chain_id")),
                str(d.get("address")),
                str(d.get("block_number")),
                str(d.get("block_hash", ""))[:18] + "…",
                str(d.get("total_supply")),
                str(d.get("circulating")),
            ]
        )
    return rows


def _rule_rows(result: Mapping[str, Any]) -> list[list[str]]:
    rules = result.get("rules") or {}
    out = []
    #: a draft pack's rules read as readiness, an informational pack's never decide
    label = {"draft": " (readiness)", "informational": " (informational)"}
    for pack, r in ((p, r) for p in rules.get("packs", []) for r in p.get("rules", [])):
        out.append(
            [
                str(r.get("id")),
                str(r.get("status")) + label.get(str(pack.get("status")), ""),
                str(r.get("measured", "")),
                str(r.get("limit", "")),
                f"{r.get('citation', '')} [{r.get('confidence', '')}]",
            ]
        )
    return out


def _t(value: Any) -> str:
    """A value for one line of a text report."""
    return escape_terminal(str(value))


def _m(value: Any) -> str:
    """A value for one line or cell of a markdown report."""
    return escape_markdown(str(value))


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    rows = [[_t(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return out


def _risk_total(result: Mapping[str, Any]) -> str:
    risk = result.get("risk") or {}
    total = risk.get("total")
    return f"{total} {result.get('token', {}).get('currency', '')}" if total is not None else "-"


def render_text(result: Mapping[str, Any]) -> str:
    """A plain-text report a holder can read in a terminal."""
    tok = result.get("token", {})
    cov = result.get("coverage", {})
    lines = [
        f"porv result: {_t(result.get('status', '?')).upper()}",
        f"  issuer {_t(result.get('issuer'))}  token {_t(tok.get('symbol'))}"
        f" ({_t(tok.get('currency'))})"
        f"  as of {_t(result.get('as_of'))}  checked {_t(result.get('verified_at'))}",
        f"  circulating {_t(cov.get('supply', '-'))}  required {_t(cov.get('required', '-'))}"
        f"  reserves in {_t(tok.get('currency'))}"
        f" {_t(cov.get('reserves_in_token_currency', '-'))}"
        f"  ratio {_t(cov.get('ratio', '-'))}",
        f"  market-risk capital estimate {_t(_risk_total(result))}",
        "",
        "Checks",
        *("  " + x for x in _table(["step", "check", "outcome", "detail"], _rows(result))),
    ]
    supply_rows = _supply_rows(result)
    if supply_rows:
        headers = ["chain", "address", "block", "hash", "totalSupply", "circulating"]
        lines += ["", "Supply", *("  " + x for x in _table(headers, supply_rows))]
    rule_rows = _rule_rows(result)
    if rule_rows:
        headers = ["rule", "status", "measured", "limit", "citation"]
        lines += ["", "Rules", *("  " + x for x in _table(headers, rule_rows))]
    lines += ["", f"digest {_t(result.get('digest'))}"]
    sig = result.get("signature")
    if sig:
        lines.append(f"signed by {_t(sig.get('signer'))}")
    return "\n".join(lines) + "\n"


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(_m(c) for c in row) + " |" for row in rows]
    return out


def render_markdown(result: Mapping[str, Any]) -> str:
    """A Markdown report (for CI summaries and issue comments)."""
    tok = result.get("token", {})
    cov = result.get("coverage", {})
    lines = [
        f"# porv: {_m(result.get('status'))}",
        "",
        f"- issuer: {_m(result.get('issuer'))}, token {_m(tok.get('symbol'))}"
        f" ({_m(tok.get('currency'))})",
        f"- as of {_m(result.get('as_of'))}, checked {_m(result.get('verified_at'))}",
        f"- circulating {_m(cov.get('supply', '-'))}, required {_m(cov.get('required', '-'))}, "
        f"ratio {_m(cov.get('ratio', '-'))}",
        f"- market-risk capital estimate: {_m(_risk_total(result))}",
        f"- digest {_m(result.get('digest'))}",
        "",
        "## Checks",
        "",
        *_md_table(["step", "check", "outcome", "detail"], [list(r) for r in _rows(result)]),
    ]
    if _supply_rows(result):
        lines += ["", "## Supply", ""]
        lines += _md_table(
            ["chain", "address", "block", "hash", "totalSupply", "circulating"],
            _supply_rows(result),
        )
    if _rule_rows(result):
        lines += ["", "## Rules", ""]
        lines += _md_table(["rule", "status", "measured", "limit", "citation"], _rule_rows(result))
    return "\n".join(lines) + "\n"


def render_html(result: Mapping[str, Any]) -> str:
    """A self-contained HTML page (no scripts, no external resources)."""

    def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    status = html.escape(str(result.get("status")))
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>porv: {status}</title>",
        "<style>body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:2px 6px}"
        "table{border-collapse:collapse}</style></head><body>",
        f"<h1>porv: {status}</h1>",
        f"<p>digest <code>{html.escape(str(result.get('digest')))}</code></p>",
        "<h2>Checks</h2>",
        table(["step", "check", "outcome", "detail"], [list(r) for r in _rows(result)]),
    ]
    if _supply_rows(result):
        parts += [
            "<h2>Supply</h2>",
            table(
                ["chain", "address", "block", "hash", "totalSupply", "circulating"],
                _supply_rows(result),
            ),
        ]
    if _rule_rows(result):
        parts += [
            "<h2>Rules</h2>",
            table(["rule", "status", "measured", "limit", "citation"], _rule_rows(result)),
        ]
    parts.append("</body></html>")
    return "".join(parts) + "\n"


def summary_line(result: Mapping[str, Any]) -> str:
    """One line for stderr: status and the failed checks."""
    bad = [
        f"{c['id']} ({c.get('kind', c['outcome'])})"
        for c in result.get("checks", [])
        if c["outcome"] in ("fail", "error")
    ]
    tail = f": {'; '.join(bad)}" if bad else ""
    return f"porv: {result.get('status')}{tail}"
