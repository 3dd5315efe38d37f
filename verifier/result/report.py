"""Reporters for a ``porv.result/1``: text, markdown, html (JSON is the result itself).

Pure functions from the result dict to a string; the CLI decides where it goes. All three lay
out the same document (:func:`~verifier.result.view.build_view`), so they say the same thing
in the same words; the HTML page adds a verdict banner and charts
(:mod:`~verifier.result.charts`). Every value shown comes from a result whose ids and names
the issuer wrote: text escapes control and invisible characters
(:func:`~verifier.model.display.escape_terminal`), markdown also escapes HTML, markup and
table-breaking characters (:func:`~verifier.model.display.escape_markdown`), html escapes
HTML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from verifier.model.display import escape_markdown, escape_terminal
from verifier.result.charts import all_charts
from verifier.result.verdict import summary_line as summary_line  # its home is light
from verifier.result.view import Block, Items, Para, Table, build_view


def _t(value: Any) -> str:
    """A value for one line of a text report."""
    return escape_terminal(str(value))


def _m(value: Any) -> str:
    """A value for one line or cell of a markdown report."""
    return escape_markdown(str(value))


def _h(value: Any) -> str:
    """A value for an HTML page."""
    return html.escape(escape_terminal(str(value)), quote=True)


# -- text -----------------------------------------------------------------------------------


def _text_table(table: Table) -> list[str]:
    rows = [[_t(c) for c in row] for row in table.rows]
    widths = [len(h) for h in table.headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        out = [
            c.rjust(w) if n in table.numeric else c.ljust(w)
            for n, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(out).rstrip()

    return [line(table.headers), "  ".join("-" * w for w in widths), *map(line, rows)]


def _text_block(block: Block) -> list[str]:
    if isinstance(block, Para):
        return [_t(block.text)]
    if isinstance(block, Items):
        return ["- " + _t(item) for item in block.items]
    return _text_table(block)


def render_text(
    result: Mapping[str, Any], *, citations: Mapping[str, Mapping[str, str]] | None = None
) -> str:
    """A plain-text report a holder can read in a terminal (every value escaped)."""
    view = build_view(result, citations=citations)
    lines = [f"porv result: {_t(view.status).upper()}", _t(view.verdict)]
    lines += ["  " + _t(fact) for fact in view.facts]
    for section in view.sections:
        lines += ["", section.title]
        for block in section.blocks:
            lines += ["  " + x for x in _text_block(block)]
    return "\n".join(lines) + "\n"


# -- markdown -------------------------------------------------------------------------------


def _md_table(table: Table) -> list[str]:
    align = "".join("---:|" if n in table.numeric else "---|" for n in range(len(table.headers)))
    out = ["| " + " | ".join(_m(h) for h in table.headers) + " |", "|" + align]
    out += ["| " + " | ".join(_m(c) for c in row) + " |" for row in table.rows]
    return out


#: A line starting like this would open a heading, quote, list or rule in markdown.
_MD_BLOCK_START = re.compile(r"[#>+=-]|[0-9]+[.)]")


def _md_line(value: Any) -> str:
    """A paragraph or list item: escaped, and never read as a block of markup.

    Leading spaces are kept as entities (markdown would otherwise skip them and read what
    follows as a heading, quote, list or code block), and a block marker is escaped.
    """
    text = _m(value)
    body = text.lstrip(" \t")
    lead = "&#32;" * (len(text) - len(body))
    return lead + ("\\" + body if _MD_BLOCK_START.match(body) else body)


def _md_block(block: Block) -> list[str]:
    if isinstance(block, Para):
        return [_md_line(block.text)]
    if isinstance(block, Items):
        return ["- " + _md_line(item) for item in block.items]
    return _md_table(block)


def render_markdown(
    result: Mapping[str, Any], *, citations: Mapping[str, Mapping[str, str]] | None = None
) -> str:
    """A Markdown report (for CI summaries and issue comments); table-breaking characters and
    raw HTML in values are escaped."""
    view = build_view(result, citations=citations)
    lines = [f"# porv: {_m(view.status)}", "", f"**{_m(view.verdict)}**", ""]
    lines += ["- " + _md_line(fact) for fact in view.facts]
    for section in view.sections:
        lines += ["", f"## {section.title}"]
        for block in section.blocks:
            lines += ["", *_md_block(block)]
    return "\n".join(lines) + "\n"


# -- html -----------------------------------------------------------------------------------

#: Banner colour per status: green verified, red failed, amber anything else (not decided).
BANNER_COLOURS = {"verified": "#1a7f37", "failed": "#cf222e"}
UNDECIDED_COLOUR = "#bf8700"

_CSS = (
    "*{box-sizing:border-box}"
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
    "color:#1f2328;margin:0 auto;max-width:1100px;padding:0 16px 32px}"
    ".banner{color:#fff;padding:14px 20px;margin:0 -16px 16px}"
    ".banner h1{margin:0;font-size:26px}.banner p{margin:4px 0 0}"
    "h2{font-size:18px;border-bottom:1px solid #d0d7de;padding-bottom:4px;margin:24px 0 8px}"
    "table{border-collapse:collapse;width:100%;font-size:13px}"
    "th,td{border:1px solid #d0d7de;padding:3px 6px;text-align:left;vertical-align:top;"
    "overflow-wrap:anywhere}"
    "th{background:#f6f8fa}td.n{text-align:right;white-space:nowrap}"
    "ul{padding-left:20px;margin:6px 0}li{overflow-wrap:anywhere}"
    ".charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:12px}"
    "figure{margin:0;border:1px solid #d0d7de;padding:8px}"
    "figcaption{font-weight:600;margin-bottom:4px}"
    ".chart{width:100%;height:auto;font-size:12px}.chart .small{font-size:10px}"
    ".note{color:#57606a;font-size:12px;margin:4px 0 0}"
    ".pass{color:#1a7f37}.fail,.error{color:#cf222e;font-weight:600}.skipped{color:#6e7781}"
    "@media print{body{max-width:none;font-size:11px}.banner{margin:0 0 12px}"
    ".banner,.chart,td{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    ".charts{grid-template-columns:1fr 1fr}figure,tr{break-inside:avoid}"
    "h2{break-after:avoid}thead{display:table-header-group}}"
)

_WORD_CLASSES = frozenset({"pass", "fail", "error", "skipped"})


def _html_cell(value: str, numeric: bool) -> str:
    cls = value if value in _WORD_CLASSES else ("n" if numeric else "")
    return f'<td class="{cls}">{_h(value)}</td>' if cls else f"<td>{_h(value)}</td>"


def _html_block(block: Block) -> str:
    if isinstance(block, Para):
        return f"<p>{_h(block.text)}</p>"
    if isinstance(block, Items):
        return "<ul>" + "".join(f"<li>{_h(i)}</li>" for i in block.items) + "</ul>"
    head = "".join(f"<th>{_h(h)}</th>" for h in block.headers)
    body = "".join(
        "<tr>" + "".join(_html_cell(c, n in block.numeric) for n, c in enumerate(row)) + "</tr>"
        for row in block.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(
    result: Mapping[str, Any], *, citations: Mapping[str, Mapping[str, str]] | None = None
) -> str:
    """One self-contained HTML page: a coloured verdict banner, inline SVG charts, the report.

    No script, no external font, image or style sheet; every value is HTML-escaped; a print
    style sheet keeps the banner and charts in colour on paper.
    """
    view = build_view(result, citations=citations)
    status = _h(view.status)
    colour = BANNER_COLOURS.get(view.status, UNDECIDED_COLOUR)
    facts = "".join(f"<p>{_h(fact)}</p>" for fact in view.facts)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>porv: {status}</title><style>{_CSS}</style></head><body>",
        f'<header class="banner" style="background:{colour}">',
        f"<h1>porv: {status}</h1><p><strong>{_h(view.verdict)}</strong></p>{facts}</header>",
    ]
    charts = all_charts(view.chart_data)
    if charts:
        parts.append('<section class="charts">' + "".join(charts) + "</section>")
    for section in view.sections:
        parts.append(f'<section id="{_h(section.key)}"><h2>{_h(section.title)}</h2>')
        parts += [_html_block(b) for b in section.blocks]
        parts.append("</section>")
    parts.append("</body></html>")
    return "".join(parts) + "\n"
