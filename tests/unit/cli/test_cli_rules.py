"""``porv rules``: list, show, check; exit codes 0/1/2 and the acceptance commands of issue 4."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import cli

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "holdings"
USDC = ["--supply", "75266033823", "--currency", "USD", "--as-of", "2025-12-31"]


def porv(*args: str) -> tuple[int, str, str]:
    run = cli.porv(args, in_process=True)
    return run.code, run.stdout, run.stderr


def test_list() -> None:
    code, out, _ = porv("rules", "list")
    assert code == 0
    for name in ("genius", "hkma", "mas", "mica-emt", "mica-emt-significant"):
        assert name in out
    code, out, _ = porv("rules", "list", "--format", "json")
    doc = json.loads(out)
    assert doc["status"] == "ok" and len(doc["packs"]) == 13  # issue 14: 8 more packs


def test_show_hkma_prints_every_rule_with_its_citation() -> None:
    code, out, _ = porv("rules", "show", "hkma")
    assert code == 0
    flat = " ".join(out.split())
    for rule_id, citation in [
        ("hkma.same-currency", "HKMA Guideline ch. 2"),
        ("hkma.full-backing", "HKMA Guideline 2.2.1"),
        ("hkma.capital", "Sch. 2"),
        ("hkma.redemption", "HKMA Guideline 3.3"),
    ]:
        assert rule_id in out
        assert citation in flat
    assert "Guideline 2.3.1" in out and "within 3 calendar months" in out
    code, out, _ = porv("rules", "show", "hkma", "--format", "json")
    doc = json.loads(out)
    rules = {r["id"]: r for r in doc["pack"]["rules"]}
    assert rules["hkma.capital"]["parameters"]["floor"] == {"amount": "25000000", "currency": "HKD"}
    assert rules["hkma.capital"]["confidence"] == "S"


def test_show_unknown_pack_exits_2() -> None:
    code, _, err = porv("rules", "show", "fatf")
    assert code == 2
    assert "unknown rule pack" in err and "Traceback" not in err


def test_acceptance_usdc_genius_hkma_mas_exits_0(shared_data: Path) -> None:
    csv = str(shared_data / "usdc-2025-12-31.csv")
    code, out, err = porv(
        "rules", "check", csv, *USDC, "--pack", "genius", "--pack", "hkma", "--pack", "mas"
    )
    assert code == 0, err
    assert "genius: US GENIUS Act -- PASS" in out
    assert "Market-risk capital estimate" in out and "Not mechanically checkable" in out
    assert "genius pass, hkma pass, mas pass" in err


def test_acceptance_usdc_mica_exits_1_naming_the_deposit_floor(shared_data: Path) -> None:
    csv = str(shared_data / "usdc-2025-12-31.csv")
    code, out, err = porv("rules", "check", csv, *USDC, "--pack", "mica-emt")
    assert code == 1
    assert "mica.deposits-floor" in err
    assert "11.97 % of supply; floor 30.00 %" in out
    code, out, _ = porv("rules", "check", csv, *USDC, "--pack", "mica-emt", "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["status"] == "failed"
    failed = [r for p in doc["rules"]["packs"] for r in p["rules"] if r["status"] == "fail"]
    assert [r["id"] for r in failed] == ["mica.deposits-floor"]
    assert doc["risk"]["currency"] == "USD"


def test_eurc_fails_genius_with_a_currency_reason(shared_data: Path) -> None:
    csv = str(shared_data / "eurc-2025-12-31.csv")
    args = ["--supply", "309608590", "--currency", "EUR", "--as-of", "2025-12-31"]
    code, _, _ = porv(
        "rules", "check", csv, *args, "--pack", "mica-emt", "--pack", "mica-emt-significant"
    )
    assert code == 0
    code, out, _ = porv("rules", "check", csv, *args, "--pack", "genius")
    assert code == 1
    assert "token currency EUR; genius covers only USD" in out


def test_hkd_with_disclosures_fx_rate_and_output_file(tmp_path: Path) -> None:
    disclosures = tmp_path / "disclosures.json"
    disclosures.write_text(
        json.dumps(
            {
                "paid_up_capital": {"amount": "25000000", "currency": "HKD"},
                "redemption_days": 1,
                "approved_currencies": ["USD"],
            }
        )
    )
    result = tmp_path / "out.json"
    code, out, _ = porv(
        "rules", "check", str(FIXTURES / "hkd-usd-assets.csv"),
        "--supply", "300000000", "--currency", "HKD", "--as-of", "2026-06-30",
        "--pack", "hkma", "--disclosures", str(disclosures), "--fx-rate", "USD=7.8",
        "--hkma-approved-currency", "USD",
        "--format", "json", "--output", str(result),
    )  # fmt: skip
    assert code == 0 and out == ""
    doc = json.loads(result.read_text())
    statuses = {r["id"]: r["status"] for r in doc["rules"]["packs"][0]["rules"]}
    assert set(statuses.values()) == {"pass"}
    assert doc["risk"]["disclosed_capital"] == "25000000.00"
    assert doc["risk"]["fx"]["buckets"][0]["bucket"] == "USD/HKD"


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"--supply": "-5"}, "--supply"),
        ({"--supply": "lots"}, "--supply"),
        ({"--currency": "usd"}, "--currency"),
        ({"--as-of": "2025-12-32"}, "--as-of"),
        ({"--as-of": "31/12/2025"}, "--as-of"),
        ({"--pack": "fatf"}, "unknown rule pack"),
        ({"--min-coverage": "x"}, "--min-coverage"),
        ({"--fx-rate": "EUR"}, "--fx-rate"),
        ({"--fx-rate": "EUR=0"}, "--fx-rate"),
    ],
)
def test_bad_input_exits_2(shared_data: Path, change: dict[str, str], needle: str) -> None:
    opts = {"--supply": "1", "--currency": "USD", "--as-of": "2025-12-31", "--pack": "genius"}
    opts.update(change)
    args = [x for kv in opts.items() for x in kv]
    code, out, err = porv("rules", "check", str(shared_data / "usdc-2025-12-31.csv"), *args)
    assert code == 2
    assert needle in err and "Traceback" not in err
    assert out == ""


def test_short_term_rating_does_not_stop_the_run(tmp_path: Path) -> None:
    # Issue 14: an A-1+ T-bill used to stop the whole run with exit 2; it is now unrated.
    base = ["--supply", "1", "--currency", "USD", "--as-of", "2025-12-31"]
    csv = tmp_path / "h.csv"
    csv.write_text(
        "holding_id,asset_class,currency,amount,maturity,counterparty,country,rating,collateral,"
        "collateral_value\nA,cash,USD,1,,Bank,US,,,\nB,sovereign_debt,USD,1,2026-01-20,UST,US,"
        "A-1+,,\nC,sovereign_debt,USD,1,2026-01-20,UST,US,Triple-A,,\n"
    )
    code, out, err = porv("rules", "check", str(csv), *base, "--pack", "genius")
    assert code == 0, err
    code, out, err = porv(
        "rules", "check", str(csv), *base, "--pack", "mica-emt", "--format", "json"
    )
    assert code == 1, err
    inel = {
        i["holding_id"]: i["reasons"] for i in json.loads(out)["rules"]["packs"][0]["ineligible"]
    }
    assert "short-term rating" in inel["B"][0] and "neither" in inel["C"][0]


def test_bad_csv_and_disclosures_exit_2(tmp_path: Path) -> None:
    base = ["--supply", "1", "--currency", "USD", "--as-of", "2025-12-31", "--pack", "mica-emt"]
    code, _, err = porv("rules", "check", str(tmp_path / "missing.csv"), *base)
    assert code == 2
    bad = tmp_path / "d.json"
    for text, needle in [
        ('{"paid_up_capitol": 1}', "unknown disclosure key"),
        ("{not json", "not valid JSON"),
        ("[1]", "expected a JSON object"),
    ]:
        bad.write_text(text)
        code, _, err = porv(
            "rules", "check", str(FIXTURES / "hkd-term-4m.csv"), *base,
            "--disclosures", str(bad),
        )  # fmt: skip
        assert code == 2
        assert needle in err
    code, out, _ = porv("rules", "check", str(tmp_path / "missing.csv"), *base, "--format", "json")
    assert code == 2
    assert json.loads(out)["status"] == "error"
