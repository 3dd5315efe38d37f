"""Reporters: text, markdown and html render every section and escape what they show."""

from __future__ import annotations

from typing import Any

from verifier.result.report import render_html, render_markdown, render_text, summary_line


def result(status: str = "failed") -> dict[str, Any]:
    return {
        "format": "porv.result/1",
        "status": status,
        "issuer": "Issuer <b>|Ltd",
        "token": {"symbol": "pUSD", "currency": "USD", "decimals": 6},
        "as_of": "2026-01-15T00:00:00Z",
        "verified_at": "2026-01-15T00:05:00Z",
        "coverage": {
            "supply": "100",
            "required": "100",
            "ratio": "1.1",
            "reserves_in_token_currency": "110",
        },
        "risk": {"total": "0.5"},
        "supply": {
            "deployments": [
                {
                    "chain_id": 1,
                    "address": "0xabc",
                    "block_number": 7,
                    "block_hash": "0x" + "ab" * 32,
                    "total_supply": "120",
                    "circulating": "100",
                }
            ]
        },
        "rules": {
            "packs": [
                {
                    "rules": [
                        {
                            "id": "genius.currency",
                            "status": "pass",
                            "measured": "USD",
                            "limit": "USD",
                            "citation": "§4",
                            "confidence": "P",
                        }
                    ]
                }
            ]
        },
        "checks": [
            {"step": "1", "id": "binding", "outcome": "pass", "detail": "ok"},
            {
                "step": "5",
                "id": "attestation:a:rollback",
                "outcome": "fail",
                "detail": "sequence 1 below 2 | <script>",
                "kind": "rollback",
            },
        ],
        "digest": "0x" + "00" * 32,
        "signature": {"scheme": "secp256k1", "signer": "0xSigner", "signature": "0x"},
    }


def test_text_has_every_section() -> None:
    out = render_text(result())
    assert out.startswith("porv result: FAILED")
    for part in (
        "Checks",
        "Circulating supply",
        "Rules",
        "fail",
        "genius.currency",
        "signed by 0xSigner",
        "0.5 USD",
    ):
        assert part in out


def test_markdown_escapes_table_pipes() -> None:
    out = render_markdown(result())
    assert out.startswith("# porv: failed")
    assert "sequence 1 below 2 \\| &lt;script>" in out
    assert "<script" not in out  # raw HTML never passes through (DESIGN §1)
    assert "## Circulating supply" in out and "## Rules" in out


def test_html_escapes_everything_it_shows() -> None:
    out = render_html(result())
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "<h1>porv: failed</h1>" in out
    assert "<script" not in out.lower().replace("&lt;script&gt;", "")


def test_summary_line_names_failed_checks_by_kind() -> None:
    assert summary_line(result()) == "porv: failed: attestation:a:rollback (rollback)"
    ok = result("verified")
    ok["checks"] = ok["checks"][:1]
    assert summary_line(ok) == "porv: verified"


def test_sections_may_be_absent() -> None:
    bare = {"status": "error", "checks": [], "digest": "0x"}
    assert "porv result: ERROR" in render_text(bare)
    assert "# porv: error" in render_markdown(bare)
    assert "<h1>porv: error</h1>" in render_html(bare)
