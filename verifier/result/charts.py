"""Inline SVG charts of a result (reserve composition, maturity ladder, supply by chain,
coverage against each pack's requirement), drawn from a :class:`~verifier.result.view.ChartData`.

Plain SVG text: no script, no font or image fetched, every label HTML-escaped (labels such as
asset classes and pack names come from the bundle). Widths are computed with Decimals so the
same result always draws the same picture. Pure functions: no IO.
"""

from __future__ import annotations

import html
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, localcontext

from verifier.result.view import ChartData, amount

#: Series colours: none is a verdict colour, and each chart has one of its own.
PALETTE = ("#0969da", "#1b7c83", "#bc4c00", "#bf3989", "#6e7781", "#953800", "#0a3069", "#4d2d00")
SUPPLY_COLOUR = "#54aeff"
LADDER_COLOUR = "#8250df"
COVERED_COLOUR = "#2da44e"
SHORT_COLOUR = "#cf222e"
TOTAL_COLOUR = "#d0d7de"
REQUIRED_COLOUR = "#24292f"

_W = 560  # viewBox width
_LABEL_W = 110  # left column for labels
_BAR_W = 280  # bar track width


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _px(value: Decimal) -> str:
    """A coordinate with one decimal."""
    return f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_EVEN):f}"


def _frac(part: Decimal, whole: Decimal) -> Decimal:
    if whole <= 0 or part <= 0:
        return Decimal(0)
    return min(part / whole, Decimal(1))


def _svg(height: int, label: str, body: list[str]) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {_W} {height}" role="img" aria-label="{_e(label)}">'
        + "".join(body)
        + "</svg>"
    )


def _figure(title: str, svg: str, note: str = "") -> str:
    caption = f"<figcaption>{_e(title)}</figcaption>"
    tail = f'<p class="note">{_e(note)}</p>' if note else ""
    return f"<figure>{caption}{svg}{tail}</figure>"


def _hbars(rows: list[tuple[str, Decimal]], unit: str, colour: str, label: str) -> str:
    """Horizontal bars, one per row, scaled to the largest value."""
    top = max((v for _, v in rows), default=Decimal(0))
    body = []
    for n, (name, value) in enumerate(rows):
        y = 8 + n * 28
        width = Decimal(_BAR_W) * _frac(value, top)
        body.append(
            f'<text x="{_LABEL_W - 6}" y="{y + 15}" text-anchor="end">{_e(name)}</text>'
            f'<rect x="{_LABEL_W}" y="{y}" width="{_px(width)}" height="20" fill="{colour}"/>'
            f'<text x="{_px(_LABEL_W + width + 6)}" y="{y + 15}">'
            f"{_e(amount(f'{value:f}', unit))}</text>"
        )
    return _svg(16 + 28 * len(rows), label, body)


def composition_chart(data: ChartData) -> str:
    """Reserve composition by asset class: one 100 % stacked bar and a legend."""
    rows = [(name, value) for name, value in data.composition if value > 0]
    total = sum((v for _, v in rows), Decimal(0))
    if not rows or total <= 0:
        return ""
    body = []
    x = Decimal(0)
    track = Decimal(_W - 20)
    for n, (_, value) in enumerate(rows):
        width = track * value / total
        colour = PALETTE[n % len(PALETTE)]
        body.append(
            f'<rect x="{_px(10 + x)}" y="8" width="{_px(width)}" height="36" fill="{colour}"/>'
        )
        x += width
    for n, (name, value) in enumerate(rows):
        y = 60 + n * 22
        colour = PALETTE[n % len(PALETTE)]
        share = (value * 100 / total).quantize(Decimal("0.1"))
        body.append(
            f'<rect x="10" y="{y}" width="14" height="14" fill="{colour}"/>'
            f'<text x="30" y="{y + 12}">{_e(name)}: {_e(amount(f"{value:f}", data.currency))}'
            f" ({share:f} %)</text>"
        )
    svg = _svg(66 + 22 * len(rows), "reserve composition by asset class", body)
    return _figure(f"Reserve composition by asset class ({data.currency})", svg)


def ladder_chart(data: ChartData) -> str:
    """The maturity ladder: value per time-to-maturity bucket, as columns."""
    if not data.ladder or all(v == 0 for _, v in data.ladder):
        return ""
    top = max(v for _, v in data.ladder)
    col_w = Decimal(_W - 20) / len(data.ladder)
    body = []
    for n, (name, value) in enumerate(data.ladder):
        height = Decimal(150) * _frac(value, top)
        x = 10 + col_w * n
        body.append(
            f'<rect x="{_px(x + 6)}" y="{_px(170 - height)}" width="{_px(col_w - 12)}" '
            f'height="{_px(height)}" fill="{LADDER_COLOUR}"/>'
            f'<text x="{_px(x + col_w / 2)}" y="188" text-anchor="middle">{_e(name)}</text>'
            f'<text x="{_px(x + col_w / 2)}" y="{_px(164 - height)}" text-anchor="middle" '
            f'class="small">{_e(_compact(value))}</text>'
        )
    body.append(f'<line x1="10" y1="170" x2="{_W - 10}" y2="170" stroke="{REQUIRED_COLOUR}"/>')
    note = ""
    if data.ladder_count > data.ladder_listed:
        note = (
            f"From the first {data.ladder_listed:,} of {data.ladder_count:,} holdings the "
            "result lists (the JSON counts the rest)."
        )
    svg = _svg(196, "maturity ladder", body)
    return _figure(f"Maturity ladder: value by time to maturity ({data.currency})", svg, note)


def _compact(value: Decimal) -> str:
    """A short label for a column: 1.2 bn, 37.5 m, 12.0 k."""
    for size, suffix in (
        (Decimal(10) ** 9, " bn"),
        (Decimal(10) ** 6, " m"),
        (Decimal(1000), " k"),
    ):
        if value >= size:
            return f"{(value / size).quantize(Decimal('0.1')):f}{suffix}"
    return f"{value.quantize(Decimal('1')):f}" if value else "0"


def supply_chart(data: ChartData) -> str:
    """Circulating supply per chain."""
    if not data.supply:
        return ""
    svg = _hbars(data.supply, data.symbol, SUPPLY_COLOUR, "circulating supply by chain")
    return _figure(f"Circulating supply by chain ({data.symbol})", svg)


def coverage_chart(data: ChartData) -> str:
    """Eligible coverage per pack against its requirement (total reserves behind, grey)."""
    if not data.coverage:
        return ""
    top = max(max(e, t, r) for _, e, t, r, _ in data.coverage) * Decimal("1.1")
    top = max(top, Decimal(1))
    body = []
    for n, (name, eligible, total, required, covers) in enumerate(data.coverage):
        y = 8 + n * 34
        colour = COVERED_COLOUR if covers else SHORT_COLOUR
        w_total = Decimal(_BAR_W) * _frac(total, top)
        w_elig = Decimal(_BAR_W) * _frac(eligible, top)
        x_req = _LABEL_W + Decimal(_BAR_W) * _frac(required, top)
        body.append(
            f'<text x="{_LABEL_W - 6}" y="{y + 17}" text-anchor="end">{_e(name)}</text>'
            f'<rect x="{_LABEL_W}" y="{y}" width="{_px(w_total)}" height="24" '
            f'fill="{TOTAL_COLOUR}"/>'
            f'<rect x="{_LABEL_W}" y="{y + 4}" width="{_px(w_elig)}" height="16" '
            f'fill="{colour}"/>'
            f'<line x1="{_px(x_req)}" y1="{y - 3}" x2="{_px(x_req)}" y2="{y + 27}" '
            f'stroke="{REQUIRED_COLOUR}" stroke-width="2"/>'
            f'<text x="{_LABEL_W + _BAR_W + 8}" y="{y + 17}">'
            f"{_e(_pct(eligible))} (needs {_e(_pct(required))})</text>"
        )
    svg = _svg(16 + 34 * len(data.coverage), "coverage against each pack's requirement", body)
    note = (
        "Bar: eligible reserves as a share of circulating supply (green covers, red is short); "
        "grey: total reserves; line: the pack's requirement."
    )
    return _figure("Eligible coverage against each pack's requirement", svg, note)


def _pct(ratio: Decimal) -> str:
    return f"{(ratio * 100).quantize(Decimal('0.1'), rounding=ROUND_DOWN):f} %"


#: Decimal digits for chart arithmetic: amounts reach 78 digits (a uint256 at 0 decimals), and a
#: shown figure keeps one decimal after them, so the default 28 would fail to quantize them.
_PREC = 160


def all_charts(data: ChartData) -> list[str]:
    """Every chart the data allows, in report order (empty strings dropped)."""
    with localcontext(prec=_PREC):
        charts = [
            coverage_chart(data),
            composition_chart(data),
            ladder_chart(data),
            supply_chart(data),
        ]
    return [c for c in charts if c]
