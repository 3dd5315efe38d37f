"""Reserve holdings: the fixed leaf layout of DESIGN §2 and the strict holdings CSV parser.

The dataclass and the ``LEAF_*`` constants are the shared interface. Everything that turns
outside text into a :class:`Holding` lives here too and rejects, never repairs, bad input:

* :func:`parse_holdings_text` parses the exporters' CSV (major units, ``YYYY-MM-DD`` dates;
  :func:`verifier.local.loaders.parse_holdings_csv` reads the file);
* :func:`holding_from_values` / :func:`holding_to_values` convert to and from the dump form
  of a ``standard-v1`` tree (integers as decimal strings, bytes as 0x-hex).
"""

from __future__ import annotations

import calendar
import csv
import datetime as _dt
import functools
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from verifier.errors import CsvError, InputError, Location, SchemaError
from verifier.model.numbers import MAX_DIGITS, plain_decimal
from verifier.model.validate import is_currency_code

#: The fixed leaf encoding, in order (DESIGN §2). This is the ``leafEncoding`` of every dump.
LEAF_ENCODING: tuple[str, ...] = (
    "string",  # 0 holding_id
    "string",  # 1 asset_class
    "string",  # 2 currency
    "uint256",  # 3 amount
    "uint8",  # 4 decimals
    "uint64",  # 5 maturity
    "string",  # 6 counterparty
    "string",  # 7 country
    "string",  # 8 rating
    "string",  # 9 collateral
    "uint256",  # 10 collateral_value
    "bytes32",  # 11 salt
)

LEAF_FIELDS: tuple[str, ...] = (
    "holding_id",
    "asset_class",
    "currency",
    "amount",
    "decimals",
    "maturity",
    "counterparty",
    "country",
    "rating",
    "collateral",
    "collateral_value",
    "salt",
)

ASSET_CLASSES: frozenset[str] = frozenset(
    {
        "cash",
        "central_bank_reserves",
        "bank_deposit_demand",
        "bank_deposit_term",
        "sovereign_debt",
        "supranational_debt",
        "public_sector_debt",
        "reverse_repo",
        "mmf_government",
        "mmf_other",
        "commercial_paper",
        "corporate_bond",
        "precious_metal",
        "crypto_asset",
        "secured_loan",
        "other",
    }
)

ZERO_SALT = b"\x00" * 32


@dataclass(frozen=True, slots=True)
class Holding:
    """One reserve holding, exactly the 12 leaf fields of DESIGN §2.

    Amounts are integers in minor units (``amount`` × 10^``decimals``); ``maturity`` is unix
    seconds of 00:00 UTC on the maturity date, 0 for none; ``salt`` is 32 bytes.
    """

    holding_id: str
    asset_class: str
    currency: str
    amount: int
    decimals: int
    maturity: int
    counterparty: str
    country: str
    rating: str
    collateral: str
    collateral_value: int
    salt: bytes = ZERO_SALT


# --- ISO 4217 ----------------------------------------------------------------------------

# Minor units of the ISO 4217 "List One" codes (current funds and fund codes, as published by
# the ISO 4217 maintenance agency, SIX). Codes whose minor unit is "N.A." (gold, SDR, test
# codes...) map to None: they are known currencies but need an explicit ``decimals``.
_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_FOUR = "CLF UYW"
_NONE = "XAG XAU XBA XBB XBC XBD XDR XPD XPT XSU XTS XUA XXX"
_TWO = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP "
    "BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD "
    "FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD "
    "KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD "
    "NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP "
    "SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED "
    "VES WST XCD XCG YER ZAR ZMW ZWG"
)

#: ISO 4217 code -> minor units (None: the code has no minor unit, "N.A." in the standard).
ISO4217_MINOR_UNITS: dict[str, int | None] = {
    **{code: 2 for code in _TWO.split()},
    **{code: 0 for code in _ZERO.split()},
    **{code: 3 for code in _THREE.split()},
    **{code: 4 for code in _FOUR.split()},
    **{code: None for code in _NONE.split()},
}


def minor_units(currency: str) -> int:
    """ISO 4217 minor units (default ``decimals``) of a currency code.

    Args:
        currency: a three-letter ISO 4217 code such as ``"USD"``.

    Returns:
        The number of fractional digits of the currency (2 for USD, 0 for JPY, 3 for KWD).

    Raises:
        InputError: the code is not in the ISO 4217 table, or has no minor unit ("N.A.", e.g.
            XAU), in which case a ``decimals`` value must be given explicitly.
    """
    try:
        return _minor_units(currency)
    except ValueError as exc:
        raise InputError(str(exc), location=Location(field="currency")) from None


def _minor_units(currency: str) -> int:
    if currency not in ISO4217_MINOR_UNITS:
        raise ValueError(f"unknown currency {currency!r}: expected an ISO 4217 code like 'USD'")
    units = ISO4217_MINOR_UNITS[currency]
    if units is None:
        raise ValueError(
            f"currency {currency!r} has no ISO 4217 minor unit: give 'decimals' explicitly"
        )
    return units


# --- field validation (shared by the CSV parser and the dump loader) ---------------------

UINT8_MAX = 2**8 - 1
UINT64_MAX = 2**64 - 1
UINT256_MAX = 2**256 - 1

_COUNTRY_RE = re.compile(r"[A-Z]{2}")
_DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_UINT_RE = re.compile(r"0|[1-9][0-9]*")
_SALT_RE = re.compile(r"0x[0-9a-fA-F]{64}")

#: columns a holdings CSV must have; ``decimals`` and ``salt`` are optional
CSV_REQUIRED: tuple[str, ...] = tuple(f for f in LEAF_FIELDS if f not in ("decimals", "salt"))
_REQUIRED_NONEMPTY = ("holding_id", "asset_class", "currency", "amount")
_UINT_FIELDS = {
    "amount": UINT256_MAX,
    "decimals": UINT8_MAX,
    "maturity": UINT64_MAX,
    "collateral_value": UINT256_MAX,
}


def _check_text(field: str, value: str) -> None:
    """Semantic checks on the string fields, the same for CSV rows and dump values."""
    if field in _REQUIRED_NONEMPTY and value == "":
        raise ValueError(f"{field} is empty; it is required")
    if field == "holding_id" and value != value.strip():
        raise ValueError(f"holding_id {value!r} has leading or trailing whitespace")
    elif field == "asset_class" and value not in ASSET_CLASSES:
        raise ValueError(f"unknown asset class {value!r}; expected one of {_classes()}")
    elif field == "collateral" and value != "" and value not in ASSET_CLASSES:
        raise ValueError(
            f"unknown collateral class {value!r}; expected an asset class ({_classes()}) or empty"
        )
    elif field == "currency":
        if not is_currency_code(value) or value not in ISO4217_MINOR_UNITS:
            raise ValueError(f"unknown currency {value!r}: expected an ISO 4217 code like 'USD'")
    elif field == "country" and value != "" and not _COUNTRY_RE.fullmatch(value):
        raise ValueError(
            f"country {value!r} is not an ISO 3166 alpha-2 code (two capital letters) or empty"
        )


def _classes() -> str:
    return ", ".join(sorted(ASSET_CLASSES))


def _check_uint(field: str, value: int) -> None:
    limit = _UINT_FIELDS[field]
    if value < 0:
        raise ValueError(f"{field} is negative ({value})")
    if value > limit:
        raise ValueError(f"{field} {value} is out of range (max {limit})")


#: The common amount: up to 30 whole and 30 fractional digits (any other goes the long way)
_SHORT_MAJOR_RE = re.compile(r"([0-9]{1,30})(?:\.([0-9]{1,30}))?")


def _parse_major_units(field: str, text: str, decimals: int) -> int:
    """'1250000.50' with 2 decimals -> 125000050; never rounds, never guesses."""
    m = _SHORT_MAJOR_RE.fullmatch(text)
    if m is not None:
        whole, frac = m.group(1, 2)
        value: int
        if frac is None:
            value = int(whole) * 10**decimals
        elif len(frac) <= decimals:
            value = int(whole + frac) * 10 ** (decimals - len(frac))
        else:
            value = -1  # too many fractional digits: the long way says so
        if value >= 0:
            _check_uint(field, value)
            return value
    if text.startswith("-"):
        raise ValueError(f"{field} {text!r} is negative; holdings are non-negative amounts")
    try:
        # A uint256 in minor units, written in major units, may add `decimals` leading zeros.
        plain_decimal(text, max_digits=MAX_DIGITS + decimals)
    except ValueError as exc:
        raise ValueError(f"{field}: {exc}; write major units like '1250000.50'") from None
    whole, _, frac = text.partition(".")
    if len(frac) > decimals:
        raise ValueError(
            f"{field} {text!r} has {len(frac)} fractional digits but decimals is {decimals}"
        )
    value = int(whole + frac.ljust(decimals, "0"))
    _check_uint(field, value)
    return value


@functools.lru_cache(maxsize=4096)
def parse_date(text: str) -> int:
    """``YYYY-MM-DD`` -> unix seconds of 00:00 UTC that day; ``""`` -> 0 (no maturity).

    Args:
        text: the date cell.

    Returns:
        Unix seconds (uint64).

    Raises:
        ValueError: the text is not a real calendar date in that exact form.
    """
    if text == "":
        return 0
    m = _DATE_RE.fullmatch(text)
    if m is None:
        raise ValueError(f"maturity {text!r} is not a date of the form YYYY-MM-DD (or empty)")
    try:
        day = _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError as exc:
        raise ValueError(f"maturity {text!r} is not a valid date: {exc}") from None
    seconds = calendar.timegm(day.timetuple())
    if seconds <= 0:
        raise ValueError(f"maturity {text!r} is not after 1970-01-01")
    return seconds


# --- CSV ---------------------------------------------------------------------------------


def parse_holdings_text(text: str, *, source: str) -> list[Holding]:
    """Parse holdings CSV text already read from ``source`` (the file: ``parse_holdings_csv``).

    Args:
        text: the whole CSV document.
        source: the file name used in error locations.

    Returns:
        The holdings in document order.

    Raises:
        CsvError: as :func:`verifier.local.loaders.parse_holdings_csv`.
    """
    return list(iter_holdings_lines(io.StringIO(text, newline=""), source=source))


def iter_holdings_lines(lines: Iterable[str], *, source: str) -> Iterator[Holding]:
    """Parse a holdings CSV given as lines (a text file opened with ``newline=""``), lazily.

    Each holding is checked as its row is read, so a caller can hash it and drop it: only
    the ids seen so far are kept (to refuse a duplicate, naming the line of the first).

    Args:
        lines: the CSV's lines, newlines kept.
        source: the file name used in error locations.

    Yields:
        The holdings in document order.

    Raises:
        CsvError: as :func:`verifier.local.loaders.parse_holdings_csv`, when the bad row is
            reached.
    """
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise CsvError(f"malformed CSV: {exc}", location=Location(source, 1)) from None
    if header is None or header == []:
        raise CsvError(
            "empty file: expected a header row naming the leaf fields",
            location=Location(source, 1),
        )
    columns = _check_header(header, source)
    # each leaf field's column (-1: an optional column left out): rows are read by position
    at = tuple(columns.index(f) if f in columns else -1 for f in LEAF_FIELDS)
    seen: dict[str, int] = {}
    while True:
        try:
            row = next(reader, None)
        except csv.Error as exc:
            raise CsvError(
                f"malformed CSV: {exc}", location=Location(source, reader.line_num)
            ) from None
        if row is None:
            break
        line = reader.line_num
        if len(row) != len(columns):
            what = "an empty line" if row == [] else f"{len(row)} cells"
            raise CsvError(
                f"row has {what}, the header has {len(columns)} columns",
                location=Location(source, line),
            )
        holding = _row_to_holding(row, at, source, line)
        first = seen.get(holding.holding_id)
        if first is not None:
            raise CsvError(
                f"duplicate holding_id {holding.holding_id!r} (first on line {first})",
                location=Location(source, line, "holding_id"),
                hint="every holding_id must be unique within a reserve",
            )
        seen[holding.holding_id] = line
        yield holding


def _check_header(header: list[str], source: str) -> list[str]:
    known = set(LEAF_FIELDS)
    seen: set[str] = set()
    for name in header:
        if name not in known:
            raise CsvError(
                f"unknown column {name!r}; expected the leaf fields {', '.join(LEAF_FIELDS)}",
                location=Location(source, 1, name),
            )
        if name in seen:
            raise CsvError(f"duplicate column {name!r}", location=Location(source, 1, name))
        seen.add(name)
    missing = [f for f in CSV_REQUIRED if f not in seen]
    if missing:
        raise CsvError(
            f"missing column(s) {', '.join(missing)}",
            location=Location(source, 1, missing[0]),
            hint="only 'decimals' and 'salt' may be left out",
        )
    return header


#: (field, value) pairs already checked by :func:`_check_text` (memo of a pure function)
_TEXT_OK: set[tuple[str, str]] = set()
#: (asset_class, currency, country, collateral) of rows whose four fields all passed
_ROW_TEXT_OK: set[tuple[str, str, str, str]] = set()
_CACHE_MAX = 65536


def _row_to_holding(row: list[str], at: tuple[int, ...], source: str, line: int) -> Holding:
    """The holding of one CSV row; ``at`` gives each leaf field's column (-1: an optional
    column left out)."""
    i_id, i_ac, i_cur, i_amt, i_dec, i_mat, i_cp, i_co, i_ra, i_col, i_cv, i_salt = at
    hid, ac, cur, co, col = row[i_id], row[i_ac], row[i_cur], row[i_co], row[i_col]
    field = "holding_id"
    try:
        _check_text(field, hid)
        row_key = (ac, cur, co, col)
        if row_key not in _ROW_TEXT_OK:  # the same few combinations repeat on most rows
            for field, value in zip(
                ("asset_class", "currency", "country", "collateral"), row_key, strict=True
            ):
                key = (field, value)
                if key not in _TEXT_OK:
                    _check_text(field, value)
                    if len(_TEXT_OK) < _CACHE_MAX:
                        _TEXT_OK.add(key)
            if len(_ROW_TEXT_OK) < _CACHE_MAX:
                _ROW_TEXT_OK.add(row_key)
        field = "decimals"
        dec_text = "" if i_dec < 0 else row[i_dec]
        if dec_text == "":
            field = "currency"
            decimals = _minor_units(cur)
        else:
            if not _UINT_RE.fullmatch(dec_text):
                raise ValueError(f"decimals {dec_text!r} is not a whole number")
            decimals = int(dec_text)
            _check_uint("decimals", decimals)
        field = "amount"
        amount_text = row[i_amt]
        if amount_text == "":
            raise ValueError("amount is empty; it is required")
        amount = _parse_major_units("amount", amount_text, decimals)
        field = "collateral_value"
        cv_text = row[i_cv]
        collateral_value = 0 if cv_text == "" else _parse_major_units(field, cv_text, decimals)
        field = "maturity"
        maturity = parse_date(row[i_mat])
        field = "salt"
        salt_text = "" if i_salt < 0 else row[i_salt]
        salt = ZERO_SALT if salt_text == "" else _parse_salt(salt_text)
    except ValueError as exc:
        raise CsvError(str(exc), location=Location(source, line, field)) from None
    return Holding(  # positional: the leaf field order
        hid,
        ac,
        cur,
        amount,
        decimals,
        maturity,
        row[i_cp],
        co,
        row[i_ra],
        col,
        collateral_value,
        salt,
    )


def _parse_salt(text: str) -> bytes:
    if not _SALT_RE.fullmatch(text):
        raise ValueError(f"salt {text!r} is not 0x followed by 64 hex digits (32 bytes)")
    return bytes.fromhex(text[2:])


# --- dump values -------------------------------------------------------------------------


def holding_to_values(h: Holding) -> list[str]:
    """The dump form of a holding: LEAF_FIELDS order, integers as decimal strings, 0x-hex bytes.

    Args:
        h: the holding.

    Returns:
        Twelve strings, as they appear in a ``standard-v1`` dump's ``values[i].value``.
    """
    return [
        h.holding_id,
        h.asset_class,
        h.currency,
        str(h.amount),
        str(h.decimals),
        str(h.maturity),
        h.counterparty,
        h.country,
        h.rating,
        h.collateral,
        str(h.collateral_value),
        "0x" + h.salt.hex(),
    ]


def holding_from_values(values: Any, *, location: Location) -> Holding:
    """Strictly build a holding from a dump value (the inverse of :func:`holding_to_values`).

    Integer fields are canonical decimal strings (JSON integers are accepted too, as
    OpenZeppelin's library writes numbers it was given); ``salt`` is 0x + 64 hex digits.

    Args:
        values: the decoded JSON value: a list of exactly 12 items in LEAF_FIELDS order.
        location: where the value came from (file, index); the field is filled in on error.

    Returns:
        The holding.

    Raises:
        SchemaError: not a list of 12, a wrong JSON type, an out-of-range integer, or a
            field that breaks DESIGN §2 (unknown class or currency, empty holding_id, ...).
    """
    if not isinstance(values, list) or len(values) != len(LEAF_FIELDS):
        raise SchemaError(
            f"a holding value must be a list of {len(LEAF_FIELDS)} items "
            f"({', '.join(LEAF_FIELDS)})",
            location=location,
        )
    fast = plain_holding(values)
    if fast is not None:
        return fast
    out: dict[str, Any] = {}
    for field, kind, raw in zip(LEAF_FIELDS, LEAF_ENCODING, values, strict=True):
        try:
            out[field] = _value_from_json(field, kind, raw)
            if kind == "string":
                _check_text(field, out[field])
                if field in _MEMO_FIELDS and len(_TEXT_OK) < _CACHE_MAX:
                    _TEXT_OK.add((field, out[field]))
        except ValueError as exc:
            raise SchemaError(str(exc), location=replace(location, field=field)) from None
    return Holding(**out)


_T = TypeVar("_T", str, int)
_MEMO_FIELDS = frozenset({"asset_class", "currency", "country", "collateral"})


def _canonical_uint(text: str, limit: int) -> int | None:
    if len(text) > MAX_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    if text[0] == "0" and text != "0":
        return None
    value = int(text)
    return value if value <= limit else None


#: The canonical texts of a uint8 ("0".."255") and their values: ``decimals`` in one lookup.
_UINT8_TEXT = {str(i): i for i in range(UINT8_MAX + 1)}
#: Canonical uint256 texts already read, and their values (dates, zero collateral repeat).
_UINT_TEXT: dict[str, int] = {}
_ALL_STR = [str] * len(LEAF_FIELDS)


def _repeated_uint(text: str, limit: int) -> int | None:
    """``_canonical_uint(text, limit)``, remembering the texts seen (bounded)."""
    value = _UINT_TEXT.get(text)
    if value is None:
        value = _canonical_uint(text, UINT256_MAX)
        if value is None:
            return None
        if len(_UINT_TEXT) < _CACHE_MAX:
            _UINT_TEXT[text] = value
    return value if value <= limit else None


def plain_holding(v: list[Any]) -> Holding | None:
    """The common case of :func:`holding_from_values` for a list of 12 items (all strings,
    already-seen class, currency, country and collateral, canonical integers), or None to take
    the slow path that names the error. What it returns, :func:`holding_from_values` returns."""
    if list(map(type, v)) != _ALL_STR:
        return None
    hid, ac, cur, amt, dec, mat, cp, co, ra, col, cv, salt = v
    row = _ROW_SHARED.get((ac, cur, co, col))
    if row is None:
        if (ac, cur, co, col) not in _ROW_TEXT_OK:
            ok = _TEXT_OK
            if (
                ("asset_class", ac) not in ok
                or ("currency", cur) not in ok
                or ("country", co) not in ok
                or ("collateral", col) not in ok
            ):
                return None
            if len(_ROW_TEXT_OK) < _CACHE_MAX:  # each of the four passed _check_text
                _ROW_TEXT_OK.add((ac, cur, co, col))
        row = (_shared(ac), _shared(cur), _shared(co), _shared(col))
        if len(_ROW_SHARED) < _CACHE_MAX:
            _ROW_SHARED[(ac, cur, co, col)] = row
    if not hid or hid != hid.strip() or len(salt) != 66 or not salt.startswith("0x"):
        return None
    # amount: _canonical_uint(amt, UINT256_MAX), inline
    if len(amt) > MAX_DIGITS or not (amt.isascii() and amt.isdigit()):
        return None
    if amt[0] == "0" and amt != "0":
        return None
    amount = int(amt)
    decimals = _UINT8_TEXT.get(dec)
    maturity = _UINT_TEXT.get(mat)
    if maturity is None or maturity > UINT64_MAX:
        maturity = _repeated_uint(mat, UINT64_MAX)
    collateral_value = _UINT_TEXT.get(cv)
    if collateral_value is None:
        collateral_value = _repeated_uint(cv, UINT256_MAX)
    if amount > UINT256_MAX or decimals is None or maturity is None or collateral_value is None:
        return None
    try:
        salt_bytes = bytes.fromhex(salt[2:])
    except ValueError:
        return None
    if len(salt_bytes) != 32:
        return None  # pragma: no cover - 64 chars that fromhex accepts with spaces
    shared = _SHARED
    got = shared.get(cp)
    if got is None:
        got = _shared(cp)
    rating = shared.get(ra)
    if rating is None:
        rating = _shared(ra)
    return _holding(
        hid,
        row[0],
        row[1],
        amount,
        decimals,
        maturity,
        got,  # type: ignore[arg-type]
        row[2],
        rating,  # type: ignore[arg-type]
        row[3],
        collateral_value,
        ZERO_SALT if salt_bytes == ZERO_SALT else salt_bytes,
    )


#: (asset_class, currency, country, collateral) of rows :func:`plain_holding` accepted -> the
#: same four, each the object :func:`_shared` keeps
_ROW_SHARED: dict[tuple[str, str, str, str], tuple[str, str, str, str]] = {}


def _holding_setters() -> Any:
    """The slot setters of :class:`Holding`'s fields, in order, checked to be everything its
    ``__init__`` does (a frozen dataclass sets each field, nothing more)."""
    import dataclasses

    names = [f.name for f in dataclasses.fields(Holding)]
    if (
        names != list(LEAF_FIELDS)
        or Holding.__slots__ != tuple(LEAF_FIELDS)
        or hasattr(Holding, "__post_init__")
    ):
        raise AssertionError("Holding is no longer 12 plain slots: update _holding")
    return tuple(getattr(Holding, name).__set__ for name in names)


(_S0, _S1, _S2, _S3, _S4, _S5, _S6, _S7, _S8, _S9, _S10, _S11) = _holding_setters()
_new = object.__new__


def _holding(
    holding_id: str,
    asset_class: str,
    currency: str,
    amount: int,
    decimals: int,
    maturity: int,
    counterparty: str,
    country: str,
    rating: str,
    collateral: str,
    collateral_value: int,
    salt: bytes,
) -> Holding:
    """``Holding(...)`` of fields already checked, built slot by slot: the frozen dataclass's
    ``__init__`` does the same through ``object.__setattr__``, at about twice the cost."""
    h: Holding = _new(Holding)
    _S0(h, holding_id)
    _S1(h, asset_class)
    _S2(h, currency)
    _S3(h, amount)
    _S4(h, decimals)
    _S5(h, maturity)
    _S6(h, counterparty)
    _S7(h, country)
    _S8(h, rating)
    _S9(h, collateral)
    _S10(h, collateral_value)
    _S11(h, salt)
    return h


#: One object per repeated value (class, currency, counterparty, rating, date) across holdings:
#: a parsed dump keeps one copy of each instead of one per holding. Bounded, like the memos.
_SHARED: dict[str | int, str | int] = {}


def _shared(value: _T) -> _T:
    got = _SHARED.get(value)
    if got is not None:
        return got  # type: ignore[return-value]
    if len(_SHARED) < _CACHE_MAX:
        _SHARED[value] = value
    return value


def _value_from_json(field: str, kind: str, raw: Any) -> Any:
    if kind == "string":
        if not isinstance(raw, str):
            raise ValueError(f"{field} must be a JSON string, found {type(raw).__name__}")
        return raw
    if kind == "bytes32":
        if not isinstance(raw, str):
            raise ValueError(f"{field} must be a 0x-hex string, found {type(raw).__name__}")
        return _parse_salt(raw)
    # uint8 / uint64 / uint256
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise ValueError(f"{field} must be an integer as a decimal string, found {raw!r}")
    if isinstance(raw, str):
        if not _UINT_RE.fullmatch(raw):
            raise ValueError(f"{field} {raw!r} is not a canonical unsigned decimal integer")
        if len(raw) > MAX_DIGITS:
            raise ValueError(
                f"{field} has {len(raw)} digits: out of range (max {_UINT_FIELDS[field]})"
            )
        raw = int(raw)
    _check_uint(field, raw)
    return raw


def check_holding(h: Holding, *, location: Location | None = None) -> None:
    """Check that a holding built in code fits its ABI types and DESIGN §2.

    Args:
        h: the holding.
        location: reported with the error.

    Raises:
        SchemaError: a field has the wrong Python type, is out of range, or breaks DESIGN §2.
    """
    where = location or Location()
    for field, kind in zip(LEAF_FIELDS, LEAF_ENCODING, strict=True):
        value = getattr(h, field)
        try:
            if kind == "string":
                if not isinstance(value, str):
                    raise ValueError(f"{field} must be a str, found {type(value).__name__}")
                _check_text(field, value)
            elif kind == "bytes32":
                if not isinstance(value, bytes) or len(value) != 32:
                    raise ValueError(f"{field} must be 32 bytes")
            else:
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ValueError(f"{field} must be an int, found {type(value).__name__}")
                _check_uint(field, value)
        except ValueError as exc:
            raise SchemaError(str(exc), location=replace(where, field=field)) from None
