"""Holdings CSV parsing (DESIGN §2): every rule, errors naming file, line and column."""

from __future__ import annotations

import calendar
import datetime as dt
from pathlib import Path

import pytest

from verifier.errors import CsvError, InputError, Location, SchemaError
from verifier.local.loaders import parse_holdings_csv
from verifier.model.holdings import (
    LEAF_FIELDS,
    ZERO_SALT,
    Holding,
    check_holding,
    holding_from_values,
    holding_to_values,
    minor_units,
    parse_date,
)

HEADER = (
    "holding_id,asset_class,currency,amount,maturity,counterparty,country,rating,collateral,"
    "collateral_value"
)
GOOD = "T1,sovereign_debt,USD,1250000.50,2026-02-05,US Treasury,US,AA+,,"
REPO = "R1,reverse_repo,USD,100,2026-01-16,Dealer,US,,sovereign_debt,102.25"


def write(tmp_path: Path, text: str, name: str = "h.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_parses_good_rows(tmp_path: Path) -> None:
    hs = parse_holdings_csv(write(tmp_path, f"{HEADER}\n{GOOD}\n{REPO}\n"))
    assert hs[0] == Holding(
        holding_id="T1",
        asset_class="sovereign_debt",
        currency="USD",
        amount=125000050,
        decimals=2,
        maturity=calendar.timegm(dt.date(2026, 2, 5).timetuple()),
        counterparty="US Treasury",
        country="US",
        rating="AA+",
        collateral="",
        collateral_value=0,
        salt=ZERO_SALT,
    )
    assert hs[1].collateral_value == 10225 and hs[1].collateral == "sovereign_debt"
    assert hs[0].maturity == 1770249600


def test_columns_in_any_order_with_optional_columns(tmp_path: Path) -> None:
    cols = list(reversed(LEAF_FIELDS))
    salt = "0x" + "ab" * 32
    values = {
        "holding_id": "J1",
        "asset_class": "cash",
        "currency": "JPY",
        "amount": "5000",
        "decimals": "",
        "maturity": "",
        "counterparty": "Bank",
        "country": "JP",
        "rating": "",
        "collateral": "",
        "collateral_value": "",
        "salt": salt,
    }
    text = ",".join(cols) + "\n" + ",".join(values[c] for c in cols) + "\n"
    [h] = parse_holdings_csv(write(tmp_path, text))
    assert h.decimals == 0 and h.amount == 5000 and h.salt == bytes.fromhex("ab" * 32)
    values["decimals"] = "6"
    values["amount"] = "1.5"
    text = ",".join(cols) + "\n" + ",".join(values[c] for c in cols) + "\n"
    [h] = parse_holdings_csv(write(tmp_path, text))
    assert h.decimals == 6 and h.amount == 1_500_000


def test_shared_usdc_data(shared_data: Path) -> None:
    hs = parse_holdings_csv(shared_data / "usdc-2025-12-31.csv")
    assert len(hs) == 18
    assert sum(h.amount for h in hs) == 7_533_298_197_600  # 75,332,981,976 USD in cents


def test_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + f"{HEADER}\n{GOOD}\n".encode())
    assert len(parse_holdings_csv(path)) == 1


@pytest.mark.parametrize(
    ("row", "field", "needle"),
    [
        ("T2,sovereign_debt,USD,1.505,,X,US,,,", "amount", "fractional digits"),
        ("T2,sovereign_debt,USD,-5,,X,US,,,", "amount", "negative"),
        ("T2,sovereign_debt,USD,1e6,,X,US,,,", "amount", "plain decimal"),
        ('T2,sovereign_debt,USD,"1,000",,X,US,,,', "amount", "plain decimal"),
        ("T2,sovereign_debt,USD,,,X,US,,,", "amount", "empty"),
        ("T2,gold_bars,USD,1,,X,US,,,", "asset_class", "unknown asset class"),
        ("T2,,USD,1,,X,US,,,", "asset_class", "empty"),
        ("T2,cash,ZZZ,1,,X,US,,,", "currency", "unknown currency"),
        ("T2,cash,usd,1,,X,US,,,", "currency", "unknown currency"),
        ("T2,cash,,1,,X,US,,,", "currency", "empty"),
        (",cash,USD,1,,X,US,,,", "holding_id", "empty"),
        (" T2,cash,USD,1,,X,US,,,", "holding_id", "whitespace"),
        ("T2,cash,USD,1,2026-02-30,X,US,,,", "maturity", "not a valid date"),
        ("T2,cash,USD,1,05/02/2026,X,US,,,", "maturity", "YYYY-MM-DD"),
        ("T2,cash,USD,1,2026-2-5,X,US,,,", "maturity", "YYYY-MM-DD"),
        ("T2,cash,USD,1,1969-12-31,X,US,,,", "maturity", "1970"),
        ("T2,cash,USD,1,,X,usa,,,", "country", "alpha-2"),
        ("T2,cash,USD,1,,X,us,,,", "country", "alpha-2"),
        ("T2,reverse_repo,USD,1,,X,US,,bonds,2", "collateral", "unknown collateral"),
        ("T2,reverse_repo,USD,1,,X,US,,sovereign_debt,-2", "collateral_value", "negative"),
        ("T2,reverse_repo,USD,1,,X,US,,sovereign_debt,2.001", "collateral_value", "fractional"),
        ("T1,cash,USD,1,,X,US,,,", "holding_id", "duplicate holding_id"),
        ("T2,cash,XAU,1,,X,US,,,", "currency", "decimals"),
        ("T2,cash,USD," + "9" * 80 + ",,X,US,,,", "amount", "out of range"),
    ],
)
def test_malformed_cells(tmp_path: Path, row: str, field: str, needle: str) -> None:
    path = write(tmp_path, f"{HEADER}\n{GOOD}\n{row}\n")
    with pytest.raises(CsvError) as info:
        parse_holdings_csv(path)
    assert info.value.location == Location(str(path), 3, field)
    assert needle in info.value.message
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    ("header_extra", "cell", "field", "needle"),
    [
        ("decimals", "2.5", "decimals", "whole number"),
        ("decimals", "256", "decimals", "out of range"),
        ("decimals", "-1", "decimals", "whole number"),
        ("salt", "0x1234", "salt", "64 hex"),
        ("salt", "ab" * 32, "salt", "64 hex"),
    ],
)
def test_malformed_optional_columns(
    tmp_path: Path, header_extra: str, cell: str, field: str, needle: str
) -> None:
    path = write(tmp_path, f"{HEADER},{header_extra}\n{GOOD},{cell}\n")
    with pytest.raises(CsvError) as info:
        parse_holdings_csv(path)
    assert info.value.location == Location(str(path), 2, field)
    assert needle in info.value.message


@pytest.mark.parametrize(
    ("header", "field", "needle"),
    [
        (HEADER + ",notes", "notes", "unknown column"),
        (HEADER + ",rating", "rating", "duplicate column"),
        (HEADER.replace(",country", ""), "country", "missing column"),
    ],
)
def test_bad_header(tmp_path: Path, header: str, field: str, needle: str) -> None:
    path = write(tmp_path, f"{header}\n")
    with pytest.raises(CsvError) as info:
        parse_holdings_csv(path)
    assert info.value.location == Location(str(path), 1, field)
    assert needle in info.value.message


def test_row_shape_errors(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\n{GOOD}\n{GOOD},extra\n")
    with pytest.raises(CsvError) as info:
        parse_holdings_csv(path)
    assert info.value.location == Location(str(path), 3)
    path = write(tmp_path, f"{HEADER}\n\n{GOOD}\n")
    with pytest.raises(CsvError, match="empty line") as info:
        parse_holdings_csv(path)
    assert info.value.location == Location(str(path), 2)


def test_unreadable_inputs(tmp_path: Path) -> None:
    with pytest.raises(CsvError, match="empty file"):
        parse_holdings_csv(write(tmp_path, ""))
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(f"{HEADER}\n".encode() + b"T2,cash,USD,1,,Caf\xe9,FR,,,\n")
    with pytest.raises(CsvError, match="UTF-8"):
        parse_holdings_csv(bad)
    with pytest.raises(CsvError, match="cannot read"):
        parse_holdings_csv(tmp_path / "missing.csv")
    with pytest.raises(CsvError, match="malformed CSV") as info:
        parse_holdings_csv(write(tmp_path, f'{HEADER}\n{GOOD}\nT3,"cash"x,USD,1,,X,US,,,\n'))
    assert info.value.location is not None and info.value.location.line == 3


def test_minor_units_table() -> None:
    assert minor_units("USD") == 2
    assert minor_units("JPY") == 0
    assert minor_units("KWD") == 3
    assert minor_units("CLF") == 4
    with pytest.raises(InputError, match="unknown currency"):
        minor_units("ABC")
    with pytest.raises(InputError, match="no ISO 4217 minor unit"):
        minor_units("XAU")


def test_parse_date() -> None:
    assert parse_date("") == 0
    assert parse_date("1970-01-02") == 86400
    assert parse_date("2026-01-15") == 1768435200


def test_values_round_trip(tmp_path: Path) -> None:
    [h, r] = parse_holdings_csv(write(tmp_path, f"{HEADER}\n{GOOD}\n{REPO}\n"))
    for x in (h, r):
        vals = holding_to_values(x)
        assert all(isinstance(v, str) for v in vals)
        assert holding_from_values(vals, location=Location("t.json")) == x
    mixed: list[object] = list(holding_to_values(h))
    mixed[4] = 2  # JSON integer, as OZ's dump writes numbers it was given
    assert holding_from_values(mixed, location=Location()) == h


@pytest.mark.parametrize(
    ("index", "value", "needle"),
    [
        (3, "-1", "canonical"),
        (3, "01", "canonical"),
        (3, 1.5, "integer"),
        (3, True, "integer"),
        (4, "256", "out of range"),
        (5, str(2**64), "out of range"),
        (0, 7, "JSON string"),
        (1, "junk", "unknown asset class"),
        (11, "0x00", "64 hex"),
        (11, None, "0x-hex"),
    ],
)
def test_values_strict(index: int, value: object, needle: str) -> None:
    vals: list[object] = list(holding_to_values(_holding()))
    vals[index] = value
    with pytest.raises(SchemaError, match=needle) as info:
        holding_from_values(vals, location=Location("t.json"))
    assert info.value.location == Location("t.json", None, LEAF_FIELDS[index])


def test_values_shape() -> None:
    with pytest.raises(SchemaError, match="list of 12"):
        holding_from_values(["a"], location=Location())
    with pytest.raises(SchemaError, match="list of 12"):
        holding_from_values({"holding_id": "x"}, location=Location())


def test_check_holding() -> None:
    check_holding(_holding())
    from dataclasses import replace

    with pytest.raises(SchemaError, match="out of range"):
        check_holding(replace(_holding(), decimals=300))
    with pytest.raises(SchemaError, match="must be an int"):
        check_holding(replace(_holding(), amount="1"))  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="must be a str"):
        check_holding(replace(_holding(), rating=1))  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="32 bytes"):
        check_holding(replace(_holding(), salt=b"\x00"))


def _holding() -> Holding:
    return Holding("H", "cash", "USD", 1, 2, 0, "Bank", "US", "", "", 0)


@pytest.mark.parametrize(
    ("index", "value"),
    [(0, ""), (0, " x"), (3, "01"), (3, "١"), (3, ""), (4, "256"), (11, "0x" + "zz" * 32)],
)
def test_values_fast_path_rejects_like_slow_path(index: int, value: str) -> None:
    good = holding_to_values(_holding())
    assert holding_from_values(list(good), location=Location()) == _holding()  # warms memo
    vals = list(good)
    vals[index] = value
    with pytest.raises(SchemaError):
        holding_from_values(vals, location=Location())


def test_crlf_and_no_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "crlf.csv"
    path.write_bytes(f"{HEADER}\r\n{GOOD}\r\n{REPO}".encode())
    assert [h.holding_id for h in parse_holdings_csv(path)] == ["T1", "R1"]


def test_unicode_line_separators_stay_inside_cells(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\nU1,cash,USD,1,,Bank\u2028Two\x0cThree,US,,,\n{GOOD}\n")
    hs = parse_holdings_csv(path)
    assert hs[0].counterparty == "Bank\u2028Two\x0cThree" and len(hs) == 2
