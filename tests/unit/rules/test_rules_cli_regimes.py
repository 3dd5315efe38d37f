"""``porv rules list/show/check`` for issue 14: status, dates, confidence, readiness wording,
``--as-of`` version refusals, ``--issuer-type``, ``--flag`` and ``--param``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support import cli

HEADER = "holding_id,asset_class,currency,amount,maturity,counterparty,country,rating,collateral,collateral_value\n"  # noqa: E501


def porv(*args: str) -> tuple[int, str, str]:
    run = cli.porv(args, in_process=True)
    return run.code, run.stdout, run.stderr


def test_list_shows_status_dates_and_confidence() -> None:
    code, out, _ = porv("rules", "list")
    assert code == 0
    assert "informational" in out and "draft" in out and "in force" in out
    assert "from 2026-06-01" in out and "2023-06-01 to" in out
    assert "P (P2 S2 X1)" in out  # cbuae-dpt: the pack's confidence, then per rule
    code, out, _ = porv("rules", "list", "--format", "json")
    packs = {p["name"]: p for p in json.loads(out)["packs"]}
    assert packs["jp-trust-2023"]["effective_until"] == "2026-05-31"
    assert packs["jp-trust"]["issuer_types"] == ["trust_company"]
    assert packs["uk-fca"]["status"] == "draft" and packs["genius"]["status"] == "in_force"


def test_show_prints_citations_confidence_parameters_and_status() -> None:
    code, out, _ = porv("rules", "show", "bcbs-g1b")
    assert code == 0
    assert "Status: informational (never decides verified)" in out
    assert "deposit_min_rating" in out and "debt_max_days" in out
    assert "SCO60 footnote" in out  # a rule's citation
    code, out, _ = porv("rules", "show", "uk-fca")
    assert "results read 'readiness', never compliance" in out
    assert "tier expanded" in out and "fca.core-floor" in out
    code, out, _ = porv("rules", "show", "jp-trust", "--format", "json")
    pack = json.loads(out)["pack"]
    assert pack["effective_from"] == "2026-06-01" and pack["issuer_types"] == ["trust_company"]
    assert all(r["citation"] and r["confidence"] in "PSX" for r in pack["rules"])


def _csv(tmp_path: Path, rows: str) -> str:
    path = tmp_path / "h.csv"
    path.write_text(HEADER + rows)
    return str(path)


def test_check_as_of_refuses_a_version_not_in_force(tmp_path: Path) -> None:
    csv = _csv(tmp_path, "DEP,bank_deposit_demand,JPY,1000,,Bank,JP,,,\n")
    base = ["--supply", "1000", "--currency", "JPY", "--issuer-type", "trust_company"]
    code, out, err = porv(
        "rules", "check", csv, *base, "--pack", "jp-trust", "--as-of", "2026-05-31"
    )
    assert code == 2 and out == ""
    assert "the version in force on 2026-05-31 is 'jp-trust-2023'" in err
    code, _, err = porv(
        "rules", "check", csv, *base, "--pack", "jp-trust-2023", "--as-of", "2026-05-31"
    )
    assert code == 0, err
    code, _, err = porv("rules", "check", csv, *base, "--pack", "jp-trust", "--as-of", "2026-06-01")
    assert code == 0, err


def test_check_refuses_the_wrong_issuer_type(tmp_path: Path) -> None:
    csv = _csv(tmp_path, "DEP,bank_deposit_demand,JPY,1000,,Bank,JP,,,\n")
    args = ["--supply", "1000", "--currency", "JPY", "--as-of", "2026-07-01", "--pack", "jp-trust"]
    code, out, err = porv(
        "rules", "check", csv, *args, "--issuer-type", "funds_transfer", "--format", "json"
    )
    assert code == 2
    doc = json.loads(out)
    assert doc["status"] == "error" and "does not apply to a funds_transfer issuer" in json.dumps(
        doc
    )
    code, _, err = porv("rules", "check", csv, *args, "--issuer-type", "hedge_fund")
    assert code == 2 and "unknown issuer type" in err


def test_check_draft_reads_readiness_and_flags_open_the_gate(tmp_path: Path) -> None:
    csv = _csv(
        tmp_path,
        "DEP,bank_deposit_demand,GBP,100,,Bank,GB,,,\nMMF,mmf_government,GBP,900,,Fund,GB,,,\n",
    )
    args = ["--supply", "1000", "--currency", "GBP", "--as-of", "2026-07-01", "--pack", "uk-fca"]
    code, out, err = porv("rules", "check", csv, *args)
    assert code == 1
    assert "READINESS: FAIL (DRAFT RULES, NOT LAW IN FORCE BEFORE 2027-10-25)" in out
    assert "complian" not in out.lower() and "readiness: fail" in err
    code, out, err = porv(
        "rules", "check", csv, *args, "--flag", "uk-fca:fca_expanded_assets_notified"
    )
    assert code == 0, out
    code, _, err = porv("rules", "check", csv, *args, "--flag", "uk-fca")
    assert code == 2 and "PACK:FLAG" in err


def test_check_param_sets_a_documented_parameter(shared_data: Path) -> None:
    args = [
        str(shared_data / "eurc-2025-12-31.csv"), "--supply", "309608590", "--currency", "EUR",
        "--as-of", "2025-12-31", "--pack", "bcbs-g1b", "--format", "json",
    ]  # fmt: skip
    code, out, _ = porv("rules", "check", *args)
    assert code == 0 and json.loads(out)["rules"]["packs"][0]["verdict"] == "pass"
    code, out, _ = porv("rules", "check", *args, "--param", "bcbs-g1b:deposit_min_rating=A-")
    pack = json.loads(out)["rules"]["packs"][0]
    assert code == 0  # informational: a fail never decides
    assert pack["verdict"] == "fail" and pack["decides"] is False
    assert pack["ineligible"][0]["reasons"] == ["rating none below A-"]
    code, _, err = porv("rules", "check", *args, "--param", "bcbs-g1b:deposit_min_rating")
    assert code == 2 and "PACK:NAME=VALUE" in err
    code, _, err = porv("rules", "check", *args, "--param", "bcbs-g1b:deposit_min_rating=A-1+")
    assert code == 2 and "not a long-term rating" in err


def test_usdc_under_bcbs_g1b_shows_the_stressed_margin(shared_data: Path) -> None:
    code, out, _ = porv(
        "rules", "check", str(shared_data / "usdc-2025-12-31.csv"), "--supply", "75266033823",
        "--currency", "USD", "--as-of", "2025-12-31", "--pack", "bcbs-g1b",
    )  # fmt: skip
    assert code == 0
    assert "INFORMATIONAL: PASS (DOES NOT DECIDE VERIFIED)" in out
    assert "bcbs.stressed-coverage: eligible reserve E 75332981976.00 USD − market-risk" in out
    assert "margin 2994" in out
