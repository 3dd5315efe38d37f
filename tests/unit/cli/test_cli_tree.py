"""`porv tree build|root|prove|verify-proof`: outputs, exit codes, nothing written on error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import Run, porv
from verifier.local.loaders import parse_holdings_csv
from verifier.merkle.tree import StandardMerkleTree

ROOT = Path(__file__).resolve().parents[3]
DEMO_A = ROOT / "fixtures" / "holdings" / "custodian-a.csv"
HEADER = (
    "holding_id,asset_class,currency,amount,maturity,counterparty,country,rating,collateral,"
    "collateral_value"
)
GOOD = "T1,sovereign_debt,USD,100.50,2026-02-05,US Treasury,US,AA+,,"


def run(*args: str) -> Run:
    return porv(args, in_process=True)


@pytest.fixture
def tree_file(tmp_path: Path) -> Path:
    out = tmp_path / "tree.json"
    res = run("tree", "build", str(DEMO_A), "-o", str(out))
    assert res.code == 0, res.stderr
    return out


def test_build_writes_dump_and_summary(tree_file: Path) -> None:
    dump = json.loads(tree_file.read_text())
    expected = StandardMerkleTree.of(parse_holdings_csv(DEMO_A))
    assert dump == expected.dump()
    res = run("tree", "build", str(DEMO_A))
    assert json.loads(res.stdout) == expected.dump()
    assert expected.root_hex in res.stderr and "8 holdings" in res.stderr
    assert "USD 154,918,196.17" in res.stderr


def test_build_json_format(tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    res = run("tree", "build", str(DEMO_A), "-o", str(out), "--format", "json")
    status = json.loads(res.stdout)
    assert status["status"] == "ok" and status["leafCount"] == 8
    assert status["totals"] == [{"currency": "USD", "amount": "15491819617", "decimals": 2}]
    assert status["output"] == str(out) and out.exists()
    res = run("tree", "build", str(DEMO_A), "--format", "json")
    assert json.loads(res.stdout)["tree"]["format"] == "standard-v1"


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("T2,sovereign_debt,USD,1.505,,X,US,,,", "amount"),
        ("T2,sovereign_debt,USD,-1,,X,US,,,", "amount"),
        ("T2,gold,USD,1,,X,US,,,", "asset_class"),
        ("T2,cash,XYZ,1,,X,US,,,", "currency"),
        ("T1,cash,USD,1,,X,US,,,", "holding_id"),
        ("T2,cash,USD,1,2026-13-01,X,US,,,", "maturity"),
    ],
)
def test_build_malformed_csv_exits_2_and_writes_nothing(
    tmp_path: Path, row: str, field: str
) -> None:
    csv = tmp_path / "h.csv"
    csv.write_text(f"{HEADER}\n{GOOD}\n{row}\n")
    out = tmp_path / "out.json"
    res = run("tree", "build", str(csv), "-o", str(out))
    assert res.code == 2
    assert f"{csv}, line 3, field '{field}'" in res.stderr
    assert "Traceback" not in res.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [csv]
    res = run("tree", "build", str(csv), "--format", "json")
    err = json.loads(res.stdout)
    assert err["status"] == "error" and err["error"]["location"]["line"] == 3


def test_build_mixed_decimals_refused(tmp_path: Path) -> None:
    csv = tmp_path / "h.csv"
    csv.write_text(f"{HEADER},decimals\n{GOOD},\nT2,cash,USD,1,,X,US,,,,6\n")
    res = run("tree", "build", str(csv), "-o", str(tmp_path / "o.json"))
    assert res.code == 2 and "decimals 2 and 6" in res.stderr
    assert not (tmp_path / "o.json").exists()


def test_build_missing_file(tmp_path: Path) -> None:
    res = run("tree", "build", str(tmp_path / "nope.csv"))
    assert res.code == 2 and "cannot read" in res.stderr


def test_root(tree_file: Path) -> None:
    want = StandardMerkleTree.of(parse_holdings_csv(DEMO_A)).root_hex
    res = run("tree", "root", str(tree_file))
    assert res.code == 0 and res.stdout.strip() == want
    res = run("tree", "root", str(tree_file), "--format", "json")
    assert json.loads(res.stdout) == {"status": "ok", "root": want, "leafCount": 8}


def test_root_rejects_tampered_dump(tree_file: Path, tmp_path: Path) -> None:
    dump = json.loads(tree_file.read_text())
    dump["values"][0]["value"][3] = str(int(dump["values"][0]["value"][3]) + 1)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(dump))
    res = run("tree", "root", str(bad), "--format", "json")
    assert res.code == 1
    assert json.loads(res.stdout)["error"]["kind"] == "tree_mismatch"
    bad.write_text("{not json")
    assert run("tree", "root", str(bad)).code == 2


def test_prove_and_verify(tree_file: Path, tmp_path: Path) -> None:
    p = tmp_path / "p.json"
    res = run("tree", "prove", str(tree_file), "A-DDA-001", "-o", str(p))
    assert res.code == 0, res.stderr
    doc = json.loads(p.read_text())
    assert doc["format"] == "porv.proof/1" and doc["value"][0] == "A-DDA-001"
    res = run("tree", "verify-proof", str(p))
    assert res.code == 0 and "verified" in res.stdout
    # without --root the user is told what was (not) checked
    assert "only checks the proof against the root the file itself names" in res.stderr
    res = run("tree", "verify-proof", str(p), "--root", doc["root"], "--format", "json")
    assert json.loads(res.stdout)["status"] == "verified"
    assert json.loads(res.stdout)["root_checked"] is True
    assert "only checks" not in res.stderr
    res = run("tree", "verify-proof", str(p), "--root", "0x" + "00" * 32)
    assert res.code == 1
    assert run("tree", "verify-proof", str(p), "--root", "0x12").code == 2

    mp = tmp_path / "mp.json"
    ids = ["A-DDA-001", "A-REPO-ON-0116", "A-TBILL-912797SC2"]
    res = run("tree", "prove", str(tree_file), *ids)
    assert res.code == 0
    mp.write_text(res.stdout)
    doc = json.loads(res.stdout)
    assert doc["format"] == "porv.multiproof/1" and len(doc["leaves"]) == 3
    res = run("tree", "verify-proof", str(mp), "--format", "json")
    assert res.code == 0 and sorted(json.loads(res.stdout)["holdings"]) == sorted(ids)


def test_prove_unknown_id(tree_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    res = run("tree", "prove", str(tree_file), "NOPE", "-o", str(out))
    assert res.code == 2 and "NOPE" in res.stderr and not out.exists()
    res = run("tree", "prove", str(tree_file), "A-DDA-001", "A-DDA-001")
    assert res.code == 2
    assert run("tree", "prove", str(tree_file)).code == 2


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (lambda d: d["value"].__setitem__(3, str(int(d["value"][3]) + 1)), 1),
        (lambda d: d["proof"].pop(), 1),
        (lambda d: d["proof"].append(d["proof"][0]), 1),
        (lambda d: d.update(root="0x" + "ab" * 32), 1),
        (lambda d: d.update(extra=True), 2),
        (lambda d: d.pop("root"), 2),
        (lambda d: d.update(format="porv.proof/2"), 2),
        (lambda d: d.update(leafEncoding=["string"]), 2),
        (lambda d: d["proof"].__setitem__(0, "0x12"), 2),
        (lambda d: d.update(proof="0x"), 2),
        (lambda d: d["value"].__setitem__(1, "junk"), 2),
    ],
)
def test_verify_proof_tampered(tree_file: Path, tmp_path: Path, edit: object, code: int) -> None:
    res = run("tree", "prove", str(tree_file), "A-TBILL-912797RL3")
    doc = json.loads(res.stdout)
    edit(doc)  # type: ignore[operator]
    p = tmp_path / "p.json"
    p.write_text(json.dumps(doc))
    res = run("tree", "verify-proof", str(p), "--format", "json")
    assert res.code == code, res.stderr
    assert json.loads(res.stdout)["status"] == ("failed" if code == 1 else "error")


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (lambda d: d["leaves"][0].__setitem__(3, "1"), 1),
        (lambda d: d["proof"].pop(), 1),
        (lambda d: d["proofFlags"].__setitem__(0, not d["proofFlags"][0]), 1),
        (lambda d: d["proofFlags"].append(True), 1),
        (lambda d: d["leaves"].reverse(), 1),
        (lambda d: d.update(leaves=[]), 2),
        (lambda d: d["proofFlags"].__setitem__(0, 1), 2),
        (lambda d: d.update(value=[]), 2),
    ],
)
def test_verify_multiproof_tampered(
    tree_file: Path, tmp_path: Path, edit: object, code: int
) -> None:
    res = run("tree", "prove", str(tree_file), "A-DDA-001", "A-DDA-002", "A-REPO-ON-0116")
    doc = json.loads(res.stdout)
    edit(doc)  # type: ignore[operator]
    p = tmp_path / "mp.json"
    p.write_text(json.dumps(doc))
    res = run("tree", "verify-proof", str(p))
    assert res.code == code, res.stderr


def test_verify_proof_not_an_object(tmp_path: Path) -> None:
    p = tmp_path / "p.json"
    p.write_text("[]")
    res = run("tree", "verify-proof", str(p))
    assert res.code == 2 and "JSON object" in res.stderr


def test_dump_text_is_exact_json_even_with_tricky_strings(tmp_path: Path) -> None:
    csv = tmp_path / "h.csv"
    csv.write_text(
        f"{HEADER}\n"
        '"x},{""value"":[1]",cash,USD,1,,"a\\b ""q"" é 🏦",US,,,\n'
        'y,cash,USD,2,,"line\nbreak",US,,,\n',
        encoding="utf-8",
    )
    out = tmp_path / "t.json"
    res = run("tree", "build", str(csv), "-o", str(out))
    assert res.code == 0, res.stderr
    expected = StandardMerkleTree.of(parse_holdings_csv(csv))
    assert json.loads(out.read_text(encoding="utf-8")) == expected.dump()
    assert expected.holdings[0].holding_id == 'x},{"value":[1]'


def test_spinner_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from verifier.cli import tree as tree_cli

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    fake = Tty()
    monkeypatch.setattr("sys.stderr", fake)
    with tree_cli._stage("working"):
        pass
    assert fake.getvalue(), "a terminal gets the spinner (at least its cursor control)"
    plain = io.StringIO()
    monkeypatch.setattr("sys.stderr", plain)
    with tree_cli._stage("working"):
        pass
    assert plain.getvalue() == "", "a pipe or file gets nothing"


def test_build_reports_a_bad_row_after_many_good_ones(tmp_path: Path) -> None:
    """The CSV is parsed as it is read: a late bad row still exits 2 naming its line and
    field, and nothing is written."""
    rows = [f"T{i},cash,USD,1.00,,Bank,US,,," for i in range(1, 20001)]
    csv = tmp_path / "h.csv"
    csv.write_text("\n".join([HEADER, *rows, "T0,cash,USD,1.001,,Bank,US,,,"]) + "\n")
    out = tmp_path / "out.json"
    res = run("tree", "build", str(csv), "-o", str(out))
    assert res.code == 2, res.stderr
    assert f"{csv}, line 20002, field 'amount'" in res.stderr
    assert list(tmp_path.iterdir()) == [csv]


def test_build_not_utf8_names_the_byte_of_the_file(tmp_path: Path) -> None:
    rows = "".join(f"T{i},cash,USD,1.00,,Bank,US,,,\n" for i in range(1, 5001))
    data = (HEADER + "\n" + rows).encode() + b"T0,cash,USD,1,,B\xffnk,US,,,\n"
    csv = tmp_path / "h.csv"
    csv.write_bytes(data)
    res = run("tree", "build", str(csv), "-o", str(tmp_path / "out.json"))
    assert res.code == 2, res.stderr
    bad = data.index(b"\xff")
    assert f"at byte {bad})" in res.stderr
    assert list(tmp_path.iterdir()) == [csv]
