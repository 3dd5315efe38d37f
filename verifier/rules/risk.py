"""A market-risk capital estimate on the reserve, after the Basel FRTB standardised approach.

This is a sensitivities-based estimate in the token currency (RULES.md, "Market-risk capital
estimate"), **not** a bank's regulatory figure. It answers: how much capital would absorb a
stressed move in rates, credit spreads and exchange rates on this reserve?

* **GIRR delta** (MAR21.42-21.46): each fixed-income holding's rate sensitivity is
  ``s = -V × T`` (the change in value per unit parallel rate move; ``V`` = market value,
  ``T`` = years to maturity, ACT/365), i.e. PV01 × 10 000 for a zero-coupon instrument. It is
  split linearly between the two neighbouring tenor vertices (0.25 … 30 y). Weighted
  sensitivity ``WS = RW × s``; RW ÷ √2 for USD, EUR, GBP, AUD, JPY, SEK, CAD. One bucket per
  currency; inside a bucket ``ρ = max(exp(-0.03 |Tk-Tl| / min(Tk,Tl)), 40 %)``; across
  currencies ``γ = 50 %``.
* **CSR delta** (MAR21.51-21.55): the same ``-V × T`` spread sensitivity on vertices 0.5, 1, 3,
  5, 10 y. Buckets: sovereigns / central banks / MDBs (investment grade 0.5 %, high yield or
  unrated 2.0 %), public sector (1.0 % / 4.0 %), financials and other corporates (5.0 % /
  12.0 %, the highest weights of their grade band, because the leaf does not carry the sector).
  Inside a bucket ``ρ = ρ_name × ρ_tenor`` (35 % across names, 65 % across tenors); across
  buckets the charges are added (correlation 1: an upper bound of MAR21.57).
* **FX delta** (MAR21.87-21.88): 15 % of the net position in each currency other than the token
  currency (the stablecoin liability is entirely in the token currency), 15 % / √2 for the
  USD pairs MAR21.88 lists; ``γ = 60 %`` across currencies.

The total is GIRR + CSR + FX. Simplifications, also listed in every report:
PV01 from maturity alone (zero-coupon, no yield curve), money market funds taken at a 60-day
weighted average maturity, demand deposits / cash / central-bank reserves without rate
sensitivity, deposits and repos without credit-spread charge (not traded instruments), the
medium correlation scenario only, no curvature or vega, no default risk charge. Amounts in
other currencies are converted only with a rate the caller supplies (``fx_rates``); without
one, those holdings are listed as unconverted and left out of every bucket, and the report is
marked incomplete. Pure: Decimal arithmetic only (``Decimal.sqrt``, ``Decimal.exp``).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal, DivisionByZero, InvalidOperation, Overflow, localcontext

from verifier.errors import InputError, Location
from verifier.model.disclosures import Disclosures
from verifier.model.holdings import Holding
from verifier.model.numbers import LADDER_BUCKETS, display_quantize, ladder_bucket, major
from verifier.rules.calendar import maturity_days
from verifier.rules.ratings import investment_grade
from verifier.rules.report import COMPACT_LISTED, MAX_LISTED

#: Working precision of the estimate (it is reported, never decides): rounding is fine here.
_PREC = 60


def _estimate_context() -> Context:
    """A fresh context for the estimate, whatever context the caller is in."""
    return Context(prec=_PREC, traps=[InvalidOperation, DivisionByZero, Overflow])


_CENT = Decimal("0.01")

#: MAR21.42 tenor vertices (years) and delta risk weights.
GIRR_VERTICES: tuple[Decimal, ...] = tuple(
    Decimal(v) for v in ("0.25", "0.5", "1", "2", "3", "5", "10", "15", "20", "30")
)
GIRR_RISK_WEIGHTS: tuple[Decimal, ...] = tuple(
    Decimal(v)
    for v in (
        "0.017",
        "0.017",
        "0.016",
        "0.013",
        "0.012",
        "0.011",
        "0.011",
        "0.011",
        "0.011",
        "0.011",
    )
)
#: MAR21.44: the weights may be divided by √2 for these currencies.
GIRR_SPECIFIED_CURRENCIES: frozenset[str] = frozenset(
    {"USD", "EUR", "GBP", "AUD", "JPY", "SEK", "CAD"}
)
GIRR_THETA = Decimal("0.03")
GIRR_RHO_FLOOR = Decimal("0.40")
GIRR_GAMMA = Decimal("0.50")

#: MAR21.51 CSR vertices (years).
CSR_VERTICES: tuple[Decimal, ...] = tuple(Decimal(v) for v in ("0.5", "1", "3", "5", "10"))
#: (MAR21.51 bucket number, label, MAR21.53 risk weight)
CSR_BUCKETS: dict[tuple[str, bool], tuple[int, str, Decimal]] = {
    ("sovereign", True): (1, "sovereigns, central banks, MDBs (IG)", Decimal("0.005")),
    ("public", True): (2, "public sector (IG)", Decimal("0.010")),
    ("financial", True): (3, "financials / corporates (IG)", Decimal("0.050")),
    ("sovereign", False): (9, "sovereigns, central banks, MDBs (HY/NR)", Decimal("0.020")),
    ("public", False): (10, "public sector (HY/NR)", Decimal("0.040")),
    ("financial", False): (11, "financials / corporates (HY/NR)", Decimal("0.120")),
}
CSR_RHO_NAME = Decimal("0.35")
CSR_RHO_TENOR = Decimal("0.65")
_CSR_SECTOR: dict[str, str] = {
    "sovereign_debt": "sovereign",
    "supranational_debt": "sovereign",
    "public_sector_debt": "public",
    "commercial_paper": "financial",
    "corporate_bond": "financial",
    "secured_loan": "financial",
}

#: MAR21.87-21.88.
FX_RISK_WEIGHT = Decimal("0.15")
FX_GAMMA = Decimal("0.60")
FX_USD_PAIRS: frozenset[str] = frozenset(
    {
        "EUR", "JPY", "GBP", "AUD", "CAD", "CHF", "MXN", "CNY", "NZD", "RUB",
        "HKD", "SGD", "TRY", "KRW", "SEK", "ZAR", "INR", "NOK", "BRL",
    }
)  # fmt: skip

#: Classes carrying rate sensitivity from their maturity.
_GIRR_CLASSES: frozenset[str] = frozenset(
    {
        "bank_deposit_term",
        "sovereign_debt",
        "supranational_debt",
        "public_sector_debt",
        "reverse_repo",
        "commercial_paper",
        "corporate_bond",
        "secured_loan",
    }
)
_MMF_CLASSES: frozenset[str] = frozenset({"mmf_government", "mmf_other"})
MMF_ASSUMED_DAYS = 60

SIMPLIFICATIONS: tuple[str, ...] = (
    "estimate after Basel FRTB standardised approach (MAR21), delta only: no curvature, "
    "vega or default risk charge; medium correlation scenario only",
    "rate and spread sensitivity s = -V x T from maturity alone (zero-coupon, ACT/365), "
    "split linearly between neighbouring vertices",
    f"money market funds taken at a {MMF_ASSUMED_DAYS}-day weighted average maturity",
    "cash, central-bank reserves and demand deposits carry no rate sensitivity",
    "term deposits and repos carry no credit-spread charge (not traded instruments); "
    "corporates charged at the financial-sector weights (sector not in the leaf)",
    "CSR bucket charges added across buckets (correlation 1, an upper bound)",
    "GIRR risk weights divided by sqrt(2) only for USD, EUR, GBP, AUD, JPY, SEK, CAD",
    "other currencies converted only at caller-supplied FX rates",
)


#: A :class:`RiskInput`'s fields as a tuple, in order (what the estimate works on).
_Row = tuple[str, str, str, Decimal, Decimal, bool, int | None]


@dataclass(frozen=True, slots=True)
class RiskInput:
    """One holding as the estimate sees it (``value`` in the token currency)."""

    holding_id: str
    asset_class: str
    currency: str
    value: Decimal
    tenor_years: Decimal
    girr: bool
    csr_bucket: int | None

    def to_json(self) -> dict[str, object]:
        """JSON form."""
        return {
            "holding_id": self.holding_id,
            "asset_class": self.asset_class,
            "currency": self.currency,
            "value": _q(self.value),
            "tenor_years": _q(self.tenor_years, Decimal("0.0001")),
            "girr": self.girr,
            "csr_bucket": self.csr_bucket,
        }


@dataclass(frozen=True, slots=True)
class BucketCharge:
    """One bucket: its weighted sensitivities (by vertex or currency) and its charge ``K_b``."""

    bucket: str
    risk_weights: tuple[tuple[str, Decimal], ...]
    weighted: tuple[tuple[str, Decimal], ...]
    charge: Decimal

    def to_json(self) -> dict[str, object]:
        """JSON form."""
        return {
            "bucket": self.bucket,
            "risk_weights": {k: _q(v, Decimal("0.000001")) for k, v in self.risk_weights},
            "weighted_sensitivities": {k: _q(v) for k, v in self.weighted},
            "charge": _q(self.charge),
        }


@dataclass(frozen=True, slots=True)
class RiskClassCharge:
    """A risk class (GIRR, CSR, FX): buckets and the aggregated charge."""

    name: str
    buckets: tuple[BucketCharge, ...]
    charge: Decimal

    def to_json(self) -> dict[str, object]:
        """JSON form."""
        return {
            "name": self.name,
            "buckets": [b.to_json() for b in self.buckets],
            "charge": _q(self.charge),
        }


@dataclass(frozen=True, slots=True)
class RiskReport:
    """The market-risk estimate on a reserve, in the token currency."""

    currency: str
    as_of: _dt.date
    inputs: tuple[RiskInput, ...]
    girr: RiskClassCharge
    csr: RiskClassCharge
    fx: RiskClassCharge
    reserve_total: Decimal
    disclosed_capital: Decimal | None
    unconverted: tuple[str, ...]
    simplifications: tuple[str, ...] = SIMPLIFICATIONS
    #: how many inputs and unconverted holdings there are (each tuple lists at most
    #: MAX_LISTED; every input counts in the charges)
    inputs_count: int = -1
    unconverted_count: int = -1
    #: value per :data:`LADDER_BUCKETS` bucket over every input (listed or not); empty:
    #: summed from ``inputs`` (a report built by hand)
    ladder: tuple[Decimal, ...] = ()

    def __post_init__(self) -> None:
        if self.inputs_count < 0:
            object.__setattr__(self, "inputs_count", len(self.inputs))
        if not self.ladder:
            object.__setattr__(self, "ladder", maturity_ladder(self.inputs))
        if self.unconverted_count < 0:
            object.__setattr__(self, "unconverted_count", len(self.unconverted))

    @property
    def total(self) -> Decimal:
        """GIRR + CSR + FX."""
        return self.girr.charge + self.csr.charge + self.fx.charge

    @property
    def complete(self) -> bool:
        """False when holdings in another currency lacked an FX rate and were left out."""
        return not self.unconverted

    @property
    def share_of_reserve(self) -> Decimal | None:
        """``total / reserve`` (``None`` for an empty reserve)."""
        if self.reserve_total == 0:
            return None
        with localcontext(_estimate_context()):
            return self.total / self.reserve_total

    @property
    def capital_covers(self) -> bool | None:
        """Whether the disclosed capital is at least the estimate (``None``: none disclosed)."""
        if self.disclosed_capital is None:
            return None
        return self.disclosed_capital >= self.total

    def to_json(self, detail: bool = True) -> dict[str, object]:
        """JSON form (``porv.risk/1``), amounts as decimal strings rounded to 0.01.

        ``detail``: list the per-holding ``inputs`` (up to MAX_LISTED) and up to MAX_LISTED
        unconverted holdings; without it (the compact form) there is no ``inputs`` list and
        COMPACT_LISTED unconverted holdings are listed. Both carry the counts and the
        ``ladder`` (value per time-to-maturity bucket, over every input).
        """
        share = self.share_of_reserve
        out: dict[str, object] = {
            "format": "porv.risk/1",
            "model": "FRTB standardised approach, delta (after Basel MAR21); an estimate",
            "currency": self.currency,
            "as_of": self.as_of.isoformat(),
            "reserve_total": _q(self.reserve_total),
        }
        if detail:
            out["inputs"] = [i.to_json() for i in self.inputs]
        out |= {
            "inputs_count": self.inputs_count,
            "ladder": [
                {"bucket": label, "value": _q(value)}
                for (label, _), value in zip(LADDER_BUCKETS, self.ladder, strict=True)
            ],
            "girr": self.girr.to_json(),
            "csr": self.csr.to_json(),
            "fx": self.fx.to_json(),
            "total": _q(self.total),
            "share_of_reserve": None if share is None else _q(share, Decimal("0.000001")),
            "disclosed_capital": (
                None if self.disclosed_capital is None else _q(self.disclosed_capital)
            ),
            "capital_covers": self.capital_covers,
            "complete": self.complete,
            "unconverted": list(self.unconverted[: MAX_LISTED if detail else COMPACT_LISTED]),
            "unconverted_count": self.unconverted_count,
            "simplifications": list(self.simplifications),
        }
        return out


def maturity_ladder(inputs: Sequence[RiskInput]) -> tuple[Decimal, ...]:
    """Value per :data:`LADDER_BUCKETS` bucket of ``inputs`` (summed as ``reserve_total``)."""
    sums = [Decimal(0)] * len(LADDER_BUCKETS)
    with localcontext(_estimate_context()):
        for i in inputs:
            n = ladder_bucket(i.tenor_years)
            sums[n] += i.value
    return tuple(sums)


def _ladder(rows: Sequence[_Row]) -> tuple[Decimal, ...]:
    """:func:`maturity_ladder` of the rows of :func:`market_risk`."""
    sums = [Decimal(0)] * len(LADDER_BUCKETS)
    buckets: dict[Decimal, int] = {}  # tenor -> ladder bucket (one per term)
    with localcontext(_estimate_context()):
        for row in rows:
            tenor = row[4]
            n = buckets.get(tenor)
            if n is None:
                n = buckets[tenor] = ladder_bucket(tenor)
            sums[n] += row[3]
    return tuple(sums)


def _q(value: Decimal, quantum: Decimal = _CENT) -> str:
    return f"{display_quantize(value, quantum):f}"


def capital_from_disclosures(disclosures: Disclosures, currency: str) -> Decimal | None:
    """The disclosed capital to compare the estimate with, if disclosed in ``currency``.

    The first of ``paid_up_capital``, ``own_funds``, ``base_capital`` disclosed in the token
    currency (no FX rates offline).

    Args:
        disclosures: validated disclosures.
        currency: the token currency.

    Returns:
        The amount, or ``None``.
    """
    for key in ("paid_up_capital", "own_funds", "base_capital"):
        money = disclosures.money(key)
        if money is not None and money.currency == currency:
            return money.amount
    return None


def _split(tenor: Decimal, vertices: tuple[Decimal, ...]) -> list[tuple[int, Decimal]]:
    """Linear allocation of a tenor to (vertex index, weight) pairs summing to 1."""
    if tenor <= vertices[0]:
        return [(0, Decimal(1))]
    if tenor >= vertices[-1]:
        return [(len(vertices) - 1, Decimal(1))]
    for i in range(len(vertices) - 1):
        lo, hi = vertices[i], vertices[i + 1]
        if lo <= tenor <= hi:
            if tenor == lo:
                return [(i, Decimal(1))]
            if tenor == hi:
                return [(i + 1, Decimal(1))]
            w_hi = (tenor - lo) / (hi - lo)
            return [(i, 1 - w_hi), (i + 1, w_hi)]
    raise AssertionError("unreachable: vertices are sorted")


def _aggregate(ws: Sequence[Decimal], rho: Sequence[Sequence[Decimal]]) -> Decimal:
    total = Decimal(0)
    for k, a in enumerate(ws):
        for m, b in enumerate(ws):
            total += rho[k][m] * a * b
    return max(total, Decimal(0)).sqrt()


def _across(charges: Sequence[Decimal], sums: Sequence[Decimal], gamma: Decimal) -> Decimal:
    """MAR21.4(5): sqrt(Σ K_b² + Σ_{b≠c} γ S_b S_c), S_b clamped to [-K_b, K_b]."""
    clamped = [max(min(s, k), -k) for s, k in zip(sums, charges, strict=True)]
    total = sum((k * k for k in charges), Decimal(0))
    for b, sb in enumerate(clamped):
        for c, sc in enumerate(clamped):
            if b != c:
                total += gamma * sb * sc
    return max(total, Decimal(0)).sqrt()


def _girr_rho(t1: Decimal, t2: Decimal) -> Decimal:
    if t1 == t2:
        return Decimal(1)
    return max((-GIRR_THETA * abs(t1 - t2) / min(t1, t2)).exp(), GIRR_RHO_FLOOR)


def market_risk(
    holdings: Sequence[Holding],
    *,
    currency: str,
    as_of: _dt.date,
    disclosed_capital: Decimal | None = None,
    fx_rates: Mapping[str, Decimal] | None = None,
    amounts: Sequence[Decimal] | None = None,
) -> RiskReport:
    """Estimate the market-risk capital on a reserve (GIRR, CSR and FX delta).

    Args:
        holdings: the reserve's holdings.
        currency: the token currency; the estimate is in it.
        as_of: the reserve date (tenors are measured from it).
        disclosed_capital: the issuer's capital in the token currency, to compare with.
        fx_rates: token-currency units per one unit of another currency, e.g.
            ``{"USD": Decimal("7.8")}`` for an HKD coin. Holdings in a currency without a
            rate are listed in ``unconverted`` and left out.
        amounts: each holding's ``major(amount, decimals)``, in order, when the caller has
            them (computed here when None).

    Returns:
        The :class:`RiskReport`.

    Raises:
        InputError: for a non-positive FX rate or a negative disclosed capital. A short-term or
            unknown rating is read as unrated (CSR high-yield/unrated weight), never an error.
    """
    rates = dict(fx_rates or {})
    for ccy, rate in rates.items():
        if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
            raise InputError(
                f"FX rate for {ccy} must be a positive decimal, got {rate!r}",
                location=Location(field=f"fx_rates.{ccy}"),
            )
    if disclosed_capital is not None and (
        not isinstance(disclosed_capital, Decimal) or disclosed_capital < 0
    ):
        raise InputError(
            f"disclosed capital must be a non-negative decimal, got {disclosed_capital!r}",
            location=Location(field="disclosed_capital"),
        )
    if amounts is None:
        amounts = [major(h.amount, h.decimals) for h in holdings]
    elif len(amounts) != len(holdings):
        raise InputError(f"{len(amounts)} amounts for {len(holdings)} holdings")
    with localcontext(_estimate_context()):
        # one row per input, RiskInput's fields in order (a RiskInput is made only for the
        # rows the report lists)
        rows: list[_Row] = []
        unconverted: list[str] = []
        unconverted_count = 0
        zero = Decimal(0)
        tenors: dict[int, Decimal] = {}  # days -> years: one Decimal per distinct term
        grades: dict[str, bool] = {}  # rating -> investment grade
        # 1. Inputs: value in the token currency, tenor, GIRR and CSR membership.
        by_maturity: dict[int, Decimal] = {}  # maturity -> tenor
        for h, native in zip(holdings, amounts, strict=True):
            if h.currency == currency:
                value = native
            elif h.currency in rates:
                value = native * rates[h.currency]
            else:
                unconverted_count += 1
                if len(unconverted) < MAX_LISTED:  # the rest are counted (MAX_LISTED)
                    unconverted.append(
                        f"{h.holding_id}: {native:f} {h.currency} (no {h.currency}/{currency} rate)"
                    )
                continue
            tenor = zero
            girr = False
            asset_class = h.asset_class
            if asset_class in _GIRR_CLASSES:
                if h.maturity != 0:
                    cached = by_maturity.get(h.maturity)
                    if cached is None:
                        days = max(maturity_days(h.maturity, as_of), 0)
                        cached = tenors.get(days)
                        if cached is None:
                            cached = tenors[days] = Decimal(days) / 365
                        by_maturity[h.maturity] = cached
                    tenor = cached
                    girr = tenor > 0
            elif asset_class in _MMF_CLASSES:
                tenor = Decimal(MMF_ASSUMED_DAYS) / 365
                girr = True
            bucket: int | None = None
            sector = _CSR_SECTOR.get(asset_class)
            if sector is not None and tenor > 0:
                # a short-term or unknown rating is unrated: high-yield/unrated bucket
                ig = grades.get(h.rating)
                if ig is None:
                    ig = grades[h.rating] = investment_grade(h.rating)
                bucket = CSR_BUCKETS[(sector, ig)][0]
            rows.append((h.holding_id, asset_class, h.currency, value, tenor, girr, bucket))

        girr_charge = _girr(rows)
        csr_charge = _csr(rows, holdings)
        fx_charge = _fx(rows, currency)
        reserve_total = sum((row[3] for row in rows), Decimal(0))
    listed = tuple(RiskInput(*row) for row in rows[:MAX_LISTED])
    return RiskReport(
        currency=currency,
        as_of=as_of,
        inputs=listed,
        inputs_count=len(rows),
        ladder=_ladder(rows),
        girr=girr_charge,
        csr=csr_charge,
        fx=fx_charge,
        reserve_total=reserve_total,
        disclosed_capital=disclosed_capital,
        unconverted=tuple(unconverted),
        unconverted_count=unconverted_count,
    )


def _girr(rows: Sequence[_Row]) -> RiskClassCharge:
    by_ccy: dict[str, list[Decimal]] = {}
    splits: dict[Decimal, list[tuple[int, Decimal]]] = {}  # tenor -> _split (one per term)
    for _, _, ccy, value, tenor, girr, _ in rows:
        if not girr:
            continue
        sens = by_ccy.get(ccy)
        if sens is None:
            sens = by_ccy[ccy] = [Decimal(0)] * len(GIRR_VERTICES)
        s = -value * tenor
        split = splits.get(tenor)
        if split is None:
            split = splits[tenor] = _split(tenor, GIRR_VERTICES)
        for idx, weight in split:
            sens[idx] += s * weight
    buckets: list[BucketCharge] = []
    sums: list[Decimal] = []
    rho = [[_girr_rho(a, b) for b in GIRR_VERTICES] for a in GIRR_VERTICES]
    for ccy in sorted(by_ccy):
        div = Decimal(2).sqrt() if ccy in GIRR_SPECIFIED_CURRENCIES else Decimal(1)
        weights = [rw / div for rw in GIRR_RISK_WEIGHTS]
        ws = [w * s for w, s in zip(weights, by_ccy[ccy], strict=True)]
        charge = _aggregate(ws, rho)
        labels = [f"{v:f}y" for v in GIRR_VERTICES]
        buckets.append(
            BucketCharge(
                bucket=ccy,
                risk_weights=tuple(zip(labels, weights, strict=True)),
                weighted=tuple((lab, w) for lab, w in zip(labels, ws, strict=True) if w != 0),
                charge=charge,
            )
        )
        sums.append(sum(ws, Decimal(0)))
    total = _across([b.charge for b in buckets], sums, GIRR_GAMMA)
    return RiskClassCharge("GIRR delta", tuple(buckets), total)


def _csr(rows: Sequence[_Row], holdings: Sequence[Holding]) -> RiskClassCharge:
    issuer = {h.holding_id: h.counterparty for h in holdings}
    # bucket -> (issuer, vertex index) -> sensitivity
    by_bucket: dict[int, dict[tuple[str, int], Decimal]] = {}
    splits: dict[Decimal, list[tuple[int, Decimal]]] = {}  # tenor -> _split (one per term)
    for hid, _, _, value, tenor, _, csr_bucket in rows:
        if csr_bucket is None:
            continue
        sens = by_bucket.get(csr_bucket)
        if sens is None:
            sens = by_bucket[csr_bucket] = {}
        s = -value * tenor
        split = splits.get(tenor)
        if split is None:
            split = splits[tenor] = _split(tenor, CSR_VERTICES)
        name = issuer.get(hid, "")
        for idx, weight in split:
            key = (name, idx)
            sens[key] = sens.get(key, Decimal(0)) + s * weight
    rw_of = {number: (label, rw) for number, label, rw in CSR_BUCKETS.values()}
    buckets: list[BucketCharge] = []
    for number in sorted(by_bucket):
        label, rw = rw_of[number]
        keys = sorted(by_bucket[number])
        ws = [rw * by_bucket[number][k] for k in keys]
        charge = _csr_bucket_charge(dict(zip(keys, ws, strict=True)))
        buckets.append(
            BucketCharge(
                bucket=f"{number}: {label}",
                risk_weights=((label, rw),),
                weighted=tuple(
                    (f"{name or 'unnamed'} @ {CSR_VERTICES[idx]:f}y", w)
                    for (name, idx), w in zip(keys, ws, strict=True)
                ),
                charge=charge,
            )
        )
    total = sum((b.charge for b in buckets), Decimal(0))
    return RiskClassCharge("CSR delta", tuple(buckets), total)


def _csr_bucket_charge(ws: Mapping[tuple[str, int], Decimal]) -> Decimal:
    """K_b for ρ = ρ_name × ρ_tenor, in linear time.

    With ρ_name = r_n + (1 - r_n)·[same name] and ρ_tenor = r_t + (1 - r_t)·[same vertex], the
    quadratic form Σ_k Σ_l ρ_kl WS_k WS_l expands into four sums of squares, so a bucket with
    thousands of issuers costs O(n), not O(n²). Equal to the pairwise sum (tested).
    """
    rn, rt = CSR_RHO_NAME, CSR_RHO_TENOR
    total = sum(ws.values(), Decimal(0))
    by_name: dict[str, Decimal] = {}
    by_vertex: dict[int, Decimal] = {}
    for (name, idx), w in ws.items():
        by_name[name] = by_name.get(name, Decimal(0)) + w
        by_vertex[idx] = by_vertex.get(idx, Decimal(0)) + w
    q = (
        rn * rt * total * total
        + rn * (1 - rt) * sum((v * v for v in by_vertex.values()), Decimal(0))
        + (1 - rn) * rt * sum((v * v for v in by_name.values()), Decimal(0))
        + (1 - rn) * (1 - rt) * sum((w * w for w in ws.values()), Decimal(0))
    )
    return max(q, Decimal(0)).sqrt()


def csr_bucket_charge_pairwise(ws: Mapping[tuple[str, int], Decimal]) -> Decimal:
    """The MAR21.54 pairwise form of :func:`_csr_bucket_charge` (a cross-check; O(n²)).

    Args:
        ws: weighted sensitivities keyed by (issuer, vertex index).

    Returns:
        K_b.
    """
    keys = list(ws)
    rho = [
        [
            (Decimal(1) if a[0] == b[0] else CSR_RHO_NAME)
            * (Decimal(1) if a[1] == b[1] else CSR_RHO_TENOR)
            for b in keys
        ]
        for a in keys
    ]
    return _aggregate([ws[k] for k in keys], rho)


def _fx(rows: Sequence[_Row], currency: str) -> RiskClassCharge:
    net: dict[str, Decimal] = {}
    for _, _, ccy, value, _, _, _ in rows:
        if ccy != currency:
            net[ccy] = net.get(ccy, Decimal(0)) + value
    buckets: list[BucketCharge] = []
    sums: list[Decimal] = []
    for ccy in sorted(net):
        usd_pair = "USD" in (ccy, currency) and ({ccy, currency} - {"USD"}) <= FX_USD_PAIRS
        rw = FX_RISK_WEIGHT / Decimal(2).sqrt() if usd_pair else FX_RISK_WEIGHT
        ws = rw * net[ccy]
        buckets.append(
            BucketCharge(
                bucket=f"{ccy}/{currency}",
                risk_weights=((f"{ccy}/{currency}", rw),),
                weighted=((f"net {ccy} position", ws),),
                charge=abs(ws),
            )
        )
        sums.append(ws)
    total = _across([b.charge for b in buckets], sums, FX_GAMMA)
    return RiskClassCharge("FX delta", tuple(buckets), total)
