"""Rule attacks: matured holdings filling a shortfall, maturities no date type can hold.

* RULES.md "Matured holdings": a holding whose maturity date is before ``D`` (as_of's UTC
  date) is ineligible in every pack and class, also where the pack sets no maturity limit
  (MiCA; a GENIUS money-market fund).
* A maturity up to the leaf's uint64 maximum (a natural "perpetual") or in the year 10000 is
  valid data: the run ends on the merits, never in a crash.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tests.attacks.crafting import (
    Doc,
    Workdir,
    as_of,
    assert_refused,
    custodian,
    porv,
    resign,
    set_holdings,
    verify_cli,
)
from verifier.model.holdings import Holding

SALT = b"\0" * 32
DAY = 86_400
UINT64_MAX = 2**64 - 1
#: 10000-01-01T00:00:00Z: the first day Python's date cannot hold.
YEAR_10000 = 253_402_300_800
#: Circulating supply of the demo (pUSD, 2 decimals in USD holdings below are cents).
SUPPLY_USD = 210_000_000


def _h(hid: str, cls: str, usd: int, *, maturity: int = 0, rating: str = "AA+") -> Holding:
    return Holding(hid, cls, "USD", usd * 100, 2, maturity, "Obligor", "US", rating, "", 0, SALT)


def _midnight(doc: Doc, days: int) -> int:
    """Unix seconds of 00:00 UTC, ``days`` after as_of's UTC date."""
    return (as_of(doc) // DAY + days) * DAY


def _reserve(doc: Doc, a: Sequence[Holding], b: Sequence[Holding]) -> None:
    set_holdings(custodian(doc, "custodian-a"), a)
    set_holdings(custodian(doc, "custodian-b"), b)
    resign(doc)


def _jurisdictions(work: Workdir, *packs: str) -> None:
    listed = ", ".join(f'"{p}"' for p in packs)
    text = re.sub(
        r"jurisdictions = \[[^\]]*\]", f"jurisdictions = [{listed}]", work.policy.read_text()
    )
    work.policy.write_text(text)


def _ineligible(result: Doc, pack: str) -> dict[str, list[str]]:
    report = next(p for p in result["rules"]["packs"] if p["pack"] == pack)
    return {i["holding_id"]: i["reasons"] for i in report["ineligible"]}


def test_matured_bond_cannot_fill_a_mica_shortfall(work: Workdir) -> None:
    """40 % deposits and 60 % in a bond repaid two weeks before as_of: MiCA sets no maturity
    limit, the bond still does not count."""
    _jurisdictions(work, "mica-emt")
    deposits = SUPPLY_USD * 40 // 100

    def mutate(doc: Doc) -> None:
        bond = _h("A-BOND", "sovereign_debt", SUPPLY_USD - deposits, maturity=_midnight(doc, -14))
        _reserve(
            doc, [_h("A-DEP", "bank_deposit_demand", deposits), bond], [_h("B-CASH", "cash", 1)]
        )

    run = verify_cli(work.craft(mutate), work)
    assert_refused(
        run, work, None, code=1, kinds={"insufficient_reserves", "rule_failed"},
        words=["mica.reserve-assets"],
    )  # fmt: skip
    reasons = _ineligible(run.json, "mica-emt")["A-BOND"]
    assert len(reasons) == 1 and re.fullmatch(
        r"matured on \d{4}-\d{2}-\d{2}, before as_of \d{4}-\d{2}-\d{2}", reasons[0]
    ), reasons


def test_matured_money_fund_cannot_fill_a_genius_shortfall(work: Workdir) -> None:
    _jurisdictions(work, "genius")

    def mutate(doc: Doc) -> None:
        mmf = _h("B-MMF", "mmf_government", SUPPLY_USD // 2, maturity=_midnight(doc, -1))
        _reserve(doc, [_h("A-DEP", "bank_deposit_demand", SUPPLY_USD // 2)], [mmf])

    run = verify_cli(work.craft(mutate), work)
    assert_refused(
        run, work, None, code=1, kinds={"insufficient_reserves", "rule_failed"},
        words=["genius.reserve-assets"],
    )  # fmt: skip
    assert _ineligible(run.json, "genius")["B-MMF"][0].startswith("matured on ")


def test_a_holding_maturing_on_as_of_still_counts(work: Workdir) -> None:
    _jurisdictions(work, "genius")

    def mutate(doc: Doc) -> None:
        mmf = _h("B-MMF", "mmf_government", SUPPLY_USD // 2, maturity=_midnight(doc, 0))
        _reserve(doc, [_h("A-DEP", "bank_deposit_demand", SUPPLY_USD // 2)], [mmf])

    run = verify_cli(work.craft(mutate), work)
    assert run.code == 0, run.stdout + run.stderr


def test_perpetual_and_year_10000_maturities_do_not_crash(work: Workdir) -> None:
    """Signed holdings maturing at uint64 max and in the year 10000: rules, risk and the
    report handle them; the run ends on the merits (here verified: the deposits cover)."""

    def mutate(doc: Doc) -> None:
        far = [
            _h("A-PERP", "sovereign_debt", 1_000, maturity=UINT64_MAX),
            _h("A-Y10K", "supranational_debt", 1_000, maturity=YEAR_10000),
            _h("A-REPO", "bank_deposit_term", 1_000, maturity=UINT64_MAX - UINT64_MAX % DAY),
        ]
        _reserve(
            doc, [_h("A-DEP", "bank_deposit_demand", SUPPLY_USD), *far], [_h("B-CASH", "cash", 1)]
        )

    run = verify_cli(work.craft(mutate), work, "--detail")  # with each holding's risk inputs
    assert run.code == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    result = run.json
    assert result["status"] == "verified" and result["detail"] is True
    reasons = _ineligible(result, "genius")["A-PERP"]
    assert any("days > limit 93 days" in r for r in reasons), reasons
    hkma = _ineligible(result, "hkma")
    assert any(f"unix time {UINT64_MAX}" in r for r in hkma["A-PERP"]), hkma
    assert any("unix time 253402300800" in r for r in hkma["A-Y10K"]), hkma
    tenors = {i["holding_id"]: i["tenor_years"] for i in result["risk"]["inputs"]}
    assert float(tenors["A-PERP"]) > 5e11 and float(tenors["A-Y10K"]) > 7000
    bundle = work.path / "bundle.json"
    compact = verify_cli(bundle, work, state=False).json  # the default: the ladder instead
    assert "inputs" not in compact["risk"] and compact["detail"] is False
    assert compact["risk"]["ladder"] == result["risk"]["ladder"]
    assert {r["bucket"]: float(r["value"]) for r in compact["risk"]["ladder"]}["> 5 years"] > 0
    for fmt in ("text", "markdown", "html"):  # every report renders them
        shown = porv(["verify", str(bundle), "--policy", str(work.policy), "--format", fmt])
        assert shown.code == 0 and "Traceback" not in shown.stderr, shown.stderr
