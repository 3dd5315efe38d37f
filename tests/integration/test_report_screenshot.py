"""The HTML report in a real browser: headless Chromium's screenshot shows the banner and charts.

Chromium is Debian's ``chromium`` package (/usr/bin/chromium; scripts/test.sh installs it when
missing). Without it the test is skipped on a developer machine, but fails in CI (``CI=true``):
there the picture must be checked. The PNG is decoded here with zlib and struct.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest

from tests.unit.result.failing import failing_result
from verifier.app.report import eligibility_citations
from verifier.result.charts import (
    COVERED_COLOUR,
    LADDER_COLOUR,
    PALETTE,
    SHORT_COLOUR,
    SUPPLY_COLOUR,
)
from verifier.result.report import BANNER_COLOURS, render_html

CHROMIUM = os.environ.get("PORV_CHROMIUM", "/usr/bin/chromium")
WIDTH, HEIGHT = 1200, 1600

Pixel = tuple[int, int, int]


def chromium() -> str:
    """The browser, else skip (a developer machine) or fail (CI)."""
    found = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail(f"chromium is missing in CI ({CHROMIUM}); scripts/test.sh installs it")
    pytest.skip(f"chromium is not installed ({CHROMIUM}); scripts/test.sh installs it")


def screenshot(page: Path, png: Path, profile: Path) -> None:
    """Render ``page`` in headless Chromium, offline, to ``png`` (WIDTH x HEIGHT)."""
    argv = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--screenshot={png}",
        f"--window-size={WIDTH},{HEIGHT}",
        page.resolve().as_uri(),
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and png.exists(), proc.stderr[-2000:]


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGB rows of an 8-bit RGB or RGBA, non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, [], b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, prev, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        else:
            assert kind == 0, kind
        prev = line
        rows.append(bytes(line) if bpp == 3 else bytes(v for n, v in enumerate(line) if n % 4 != 3))
    return width, height, rows


def _rgb(hex_colour: str) -> Pixel:
    value = int(hex_colour.lstrip("#"), 16)
    return (value >> 16, (value >> 8) & 0xFF, value & 0xFF)


def _count(rows: list[bytes], colour: Pixel, y0: int, y1: int, tolerance: int = 8) -> int:
    """Pixels within ``tolerance`` of ``colour`` in rows y0..y1."""
    hits = 0
    for row in rows[y0:y1]:
        counts = Counter(zip(row[0::3], row[1::3], row[2::3], strict=True))
        hits += sum(
            n
            for px, n in counts.items()
            if all(abs(a - b) <= tolerance for a, b in zip(px, colour, strict=True))
        )
    return hits


def test_screenshot_shows_the_banner_and_the_charts(tmp_path: Path) -> None:
    result = failing_result(extra=400)  # GENIUS and MAS short, HKMA covered; a ladder to draw
    page = tmp_path / "result.html"
    page.write_text(render_html(result, citations=eligibility_citations(result)))
    png = tmp_path / "result.png"
    screenshot(page, png, tmp_path / "profile")
    width, height, rows = decode_png(png.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)

    # the top band is the red "failed" banner, across most of the width
    red = _rgb(BANNER_COLOURS["failed"])
    band = _count(rows, red, 4, 40)
    assert band > 0.8 * 36 * WIDTH, band
    # below it, each chart's own colour is drawn
    below = 120
    expected = {
        "coverage: covered (HKMA)": COVERED_COLOUR,
        "coverage: short (GENIUS, MAS)": SHORT_COLOUR,
        "composition: first class": PALETTE[0],
        "composition: second class": PALETTE[1],
        "maturity ladder": LADDER_COLOUR,
        "supply by chain": SUPPLY_COLOUR,
    }
    found = {name: _count(rows, _rgb(c), below, HEIGHT) for name, c in expected.items()}
    assert all(n >= 300 for n in found.values()), found
    # and the page is mostly white paper, not an error page
    assert _count(rows, (255, 255, 255), 0, HEIGHT, tolerance=0) > 0.4 * WIDTH * HEIGHT
