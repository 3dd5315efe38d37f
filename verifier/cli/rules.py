"""``porv rules``: list and show the jurisdiction rule packs, check a composition offline."""

from __future__ import annotations

import datetime as _dt
import io
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import click

from verifier.cli.common import dump_json, emit, format_option, handle_errors, note, output_option
from verifier.errors import InputError, Location
from verifier.model.issuer_types import ISSUER_TYPES
from verifier.model.numbers import display_quantize, plain_decimal
from verifier.model.timeutil import TIME_OPTION_HELP, parse_time_option
from verifier.model.validate import is_currency_code

if TYPE_CHECKING:  # rich and the rule packs are imported by each command, not for ``--help``
    from rich.table import Table

    from verifier.rules import Pack, RulesReport
    from verifier.rules.risk import RiskReport

_WIDTH = 132
_CENT = Decimal("0.01")


def _render(*items: Any) -> str:
    """Render text lines as they are and rich tables as plain text (never colour)."""
    from rich.console import Console

    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.append(item + "\n")
            continue
        buf = io.StringIO()
        console = Console(
            file=buf,
            width=_WIDTH,
            color_system=None,
            no_color=True,
            highlight=False,
            emoji=False,
            markup=False,
        )
        console.print(item)
        out.append("\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n")
    return "".join(out)


def _table(*columns: str, title: str | None = None) -> Table:
    from rich import box
    from rich.table import Table

    table = Table(box=box.ASCII, title=title, title_justify="left", show_lines=False)
    for col in columns:
        table.add_column(col, overflow="fold")
    return table


@click.group("rules")
def rules() -> None:
    """Jurisdiction rule packs (GENIUS, MiCA, HKMA, MAS, UAE, Dubai, Japan, UK drafts, Basel
    SCO60) and an offline composition check."""


# --- list / show ----------------------------------------------------------------------------


def _pack_summary(pack: Pack) -> dict[str, object]:
    return {
        "name": pack.name,
        "title": pack.title,
        "law": pack.law,
        "status": pack.status,
        "effective_from": pack.effective_from.isoformat() if pack.effective_from else None,
        "effective_until": pack.effective_until.isoformat() if pack.effective_until else None,
        "regime": pack.regime,
        "issuer_types": list(pack.issuer_types) if pack.issuer_types is not None else None,
        "confidence": pack.confidence,
        "sha256": pack.sha256,
        "rules": [r.id for r in pack.rules],
    }


def _confidence_mix(pack: Pack) -> str:
    """How many rules are P, S and X, e.g. "P2 S1 X1"."""
    counts = {c: 0 for c in ("P", "S", "X")}
    for r in pack.rules:
        counts[r.confidence] = counts.get(r.confidence, 0) + 1
    return " ".join(f"{c}{n}" for c, n in counts.items() if n)


@rules.command("list")
@format_option("text", "json")
@handle_errors
def list_cmd(fmt: str) -> None:
    """List the rule packs shipped with porv."""
    from verifier.rules import list_packs, load_pack

    packs = [load_pack(name) for name in list_packs()]
    if fmt == "json":
        emit(dump_json({"status": "ok", "packs": [_pack_summary(p) for p in packs]}))
        return
    table = _table("Pack", "Title", "Status", "Effective", "Conf.", "Rules", "sha256")
    for p in packs:
        table.add_row(
            p.name,
            p.title,
            p.status.replace("_", " "),
            p.dates_text(),
            f"{p.confidence} ({_confidence_mix(p)})",
            str(len(p.rules)),
            p.sha256[:16] + "…",
        )
    emit(
        _render(
            table,
            "Status: in force = law; draft = readiness only, never compliance; informational = "
            "never decides verified. Conf.: the pack's, then per rule (P primary, S secondary, "
            "X our interpretation).",
        )
    )


def _param_text(value: Any) -> str:
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], Decimal):
        return f"{value[0]:f} {value[1]}"
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _param_json(value: Any) -> Any:
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], Decimal):
        return {"amount": f"{value[0]:f}", "currency": value[1]}
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Decimal):
        return f"{value:f}"
    return value


def _pack_json(pack: Pack) -> dict[str, object]:
    return {
        **_pack_summary(pack),
        "confidence": pack.confidence,
        "definitions": {
            "overnight_max_days": pack.overnight_max_days,
            "citation": pack.overnight_citation,
            "confidence": pack.overnight_confidence,
        },
        "eligibility": {
            "citation": pack.eligibility_citation,
            "confidence": pack.eligibility_confidence,
            "note": pack.eligibility_note,
            "assets": [
                {
                    "class": a.asset_class,
                    "tier": a.tier,
                    "conditions": a.conditions(),
                    "citation": a.citation,
                    "confidence": a.confidence,
                }
                for a in pack.assets
            ],
        },
        "parameters": [prm.to_json() for prm in pack.parameters],
        "note": pack.note,
        "rules": [
            {
                "id": r.id,
                "kind": r.kind,
                "title": r.title,
                "parameters": {k: _param_json(v) for k, v in r.params.items()},
                "citation": r.citation,
                "confidence": r.confidence,
            }
            for r in pack.rules
        ],
    }


@rules.command("show")
@click.argument("pack_name", metavar="PACK")
@format_option("text", "json")
@handle_errors
def show(pack_name: str, fmt: str) -> None:
    """Print every rule of PACK with its parameters, citation and confidence.

    Confidence: P = read in the primary text, S = reputable secondary source,
    X = our interpretation.
    """
    from verifier.rules import load_pack

    pack = load_pack(pack_name)
    if fmt == "json":
        emit(dump_json({"status": "ok", "pack": _pack_json(pack)}))
        return
    binds = ", ".join(pack.issuer_types) if pack.issuer_types is not None else "any issuer"
    head = (
        f"{pack.name}: {pack.title}\n"
        f"Law: {pack.law}\n"
        f"Status: {pack.status.replace('_', ' ')}"
        + {
            "draft": " (results read 'readiness', never compliance)",
            "informational": " (never decides verified)",
        }.get(pack.status, "")
        + f"; effective {pack.dates_text()}; confidence {pack.confidence}\n"
        f"Binds: {binds}\n"
        f"Pack sha256: {pack.sha256}\n"
        f"Overnight = maturity at most {pack.overnight_max_days} calendar days after as_of "
        f"[{pack.overnight_confidence}] ({pack.overnight_citation})\n"
        "Confidence: P = primary text, S = secondary source, X = our interpretation\n"
    )
    rules_table = _table("Rule", "Kind", "Requirement", "Parameters", "Citation", "Conf.")
    for r in pack.rules:
        params = "; ".join(f"{k}={_param_text(v)}" for k, v in r.params.items() if v is not None)
        rules_table.add_row(r.id, r.kind, r.title, params, r.citation, r.confidence)
    elig = _table(
        "Asset class",
        "Conditions",
        "Citation",
        "Conf.",
        title=f"Eligible assets ({pack.eligibility_citation}) [{pack.eligibility_confidence}]",
    )
    for a in pack.assets:
        elig.add_row(a.asset_class, "; ".join(a.conditions()) or "-", a.citation, a.confidence)
    extra: list[Any] = []
    if pack.parameters:
        ptable = _table(
            "Parameter",
            "Type",
            "Default",
            "Meaning",
            "Conf.",
            title="Parameters (set with pack_options.<pack>.parameters or --param)",
        )
        for prm in pack.parameters:
            ptable.add_row(
                prm.name,
                prm.type,
                "unset" if prm.default is None else str(prm.default),
                prm.description,
                prm.confidence,
            )
        extra = ["", ptable]
    tail = (
        "Any other asset class is not eligible. Holdings in another currency than the token's "
        "count zero toward E. Rows of one class are tried in order.\n"
        + (f"Note: {pack.eligibility_note}\n" if pack.eligibility_note else "")
        + (f"Pack note: {pack.note}\n" if pack.note else "")
    )
    emit(head + "\n" + _render(rules_table, "", elig, *extra) + tail)


# --- check ----------------------------------------------------------------------------------


def _parse_decimal(text: str, option: str) -> Decimal:
    try:
        return plain_decimal(text)
    except ValueError as exc:
        raise InputError(
            f"expected a non-negative decimal amount: {exc}",
            location=Location(field=option),
        ) from None


def _parse_date(text: str) -> _dt.date:
    """``--as-of`` by the one time rule (:func:`parse_time_option`) -> its UTC date."""
    return _dt.datetime.fromtimestamp(parse_time_option(text, option="--as-of"), _dt.UTC).date()


def _parse_fx(values: tuple[str, ...]) -> dict[str, Decimal]:
    rates: dict[str, Decimal] = {}
    for item in values:
        ccy, sep, rate = item.partition("=")
        if not sep or not is_currency_code(ccy):
            raise InputError(
                f"expected CCY=RATE such as USD=7.8, got {item!r}",
                location=Location(field="--fx-rate"),
            )
        value = _parse_decimal(rate, "--fx-rate")
        if value == 0:
            raise InputError("an FX rate must be positive", location=Location(field="--fx-rate"))
        rates[ccy] = value
    return rates


def _check_text(report: RulesReport, risk: RiskReport, n_holdings: int) -> str:
    parts: list[Any] = [
        f"Reserve check: {n_holdings} holdings, supply {report.supply:f} {report.currency}, "
        f"as of {report.as_of.isoformat()}, min coverage {report.min_coverage:f}",
        "Confidence: P = primary text, S = secondary source, X = our interpretation",
        "",
    ]
    for p in report.packs:
        parts.append(f"== {p.pack}: {p.title} -- {p.verdict_text.upper()}")
        parts.append(f"   {p.law}")
        if p.status != "in_force" or p.effective_from or p.effective_until:
            dates = [
                f"from {p.effective_from.isoformat()}" if p.effective_from else "",
                f"until {p.effective_until.isoformat()}" if p.effective_until else "",
            ]
            parts.append(
                f"   status {p.status.replace('_', ' ')}"
                + (f", effective {' '.join(d for d in dates if d)}" if any(dates) else "")
            )
        parts.append(f"   pack sha256 {p.sha256}")
        parts.append(
            f"   eligible reserve E = {p.eligible_total:f} {report.currency} "
            f"(reserve in {report.currency}: {p.reserve_total:f})"
            + (
                f", after deductions from {p.eligible_gross:f}"
                if p.eligible_gross is not None and p.eligible_gross != p.eligible_total
                else ""
            )
        )
        table = _table("Rule", "Status", "Measured", "Limit", "Citation", "Conf.")
        for r in p.rules:
            table.add_row(
                r.id,
                r.status.upper().replace("_", " "),
                r.measured or "-",
                r.limit or "-",
                r.citation,
                r.confidence,
            )
        parts.append(table)
        for r in p.rules:
            parts.append(f"   {r.id}: {r.message}")
        if p.ineligible:
            inel = _table(
                "Holding", "Class", "Amount", "Reasons", title=f"   Ineligible under {p.pack}"
            )
            for i in p.ineligible:
                inel.add_row(
                    i.holding_id, i.asset_class, f"{i.amount:f} {i.currency}", "; ".join(i.reasons)
                )
            parts.append(inel)
            if p.ineligible_count > len(p.ineligible):
                more = p.ineligible_count - len(p.ineligible)
                parts.append(f"   and {more} more ineligible holding(s), not listed")
        else:
            parts.append(f"   every holding is eligible under {p.pack}")
        parts.append("")
    parts.append(
        f"== Market-risk capital estimate (after Basel FRTB standardised approach), {risk.currency}"
    )
    rtable = _table("Risk class", "Bucket", "Charge")
    for cls in (risk.girr, risk.csr, risk.fx):
        if not cls.buckets:
            rtable.add_row(cls.name, "-", "0.00")
        for b in cls.buckets:
            rtable.add_row(cls.name, b.bucket, f"{display_quantize(b.charge, _CENT):f}")
        if len(cls.buckets) > 1:
            rtable.add_row(cls.name, "(aggregated)", f"{display_quantize(cls.charge, _CENT):f}")
    rtable.add_row("Total", "", f"{display_quantize(risk.total, _CENT):f}")
    parts.append(rtable)
    share = risk.share_of_reserve
    if share is not None:
        parts.append(
            f"   total = {display_quantize(share * 100, Decimal('0.0001')):f} % of the reserve "
            f"{display_quantize(risk.reserve_total, _CENT):f} {risk.currency}"
        )
    if risk.disclosed_capital is not None:
        verdict = "covers" if risk.capital_covers else "does NOT cover"
        parts.append(
            f"   disclosed capital {risk.disclosed_capital:f} {risk.currency} {verdict} "
            "the estimate"
        )
    else:
        parts.append(f"   no capital disclosed in {risk.currency} to compare with")
    for item in risk.unconverted:
        parts.append(f"   left out (no FX rate): {item}")
    parts.append("   Simplifications of the model:")
    parts.extend(f"   - {item}" for item in risk.simplifications)
    parts.append("")
    parts.append("Not mechanically checkable (out of scope, not checked):")
    parts.extend(f"   - {item}" for item in report.out_of_scope)
    return _render(*parts)


@rules.command("check")
@click.argument("holdings_csv", metavar="HOLDINGS.csv", type=click.Path(dir_okay=False))
@click.option(
    "--pack", "packs", multiple=True, required=True, help="Rule pack to apply (repeatable)."
)
@click.option(
    "--supply", required=True, help="Circulating supply in major units, e.g. 75266033823."
)
@click.option("--currency", required=True, help="Token currency (ISO 4217), e.g. USD.")
@click.option(
    "--as-of", "as_of", required=True, help=f"Reserve date (its UTC date): {TIME_OPTION_HELP}."
)
@click.option(
    "--disclosures",
    "disclosures_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="JSON object of issuer disclosures (paid_up_capital, own_funds, ...).",
)
@click.option(
    "--min-coverage", default="1", show_default=True, help="Coverage factor for HKMA full backing."
)
@click.option(
    "--fx-rate",
    "fx_rates",
    multiple=True,
    help="CCY=RATE: token-currency units per unit of CCY, for the risk estimate (repeatable).",
)
@click.option(
    "--hkma-approved-currency",
    "hkma_approved",
    multiple=True,
    help="A currency the HKMA approved for the reserve (repeatable); disclosures cannot grant it.",
)
@click.option(
    "--issuer-type",
    "issuer_type",
    default=None,
    help="The issuer's type, for packs that bind one: " + ", ".join(sorted(ISSUER_TYPES)) + ".",
)
@click.option(
    "--flag",
    "flags",
    multiple=True,
    help="PACK:FLAG, a regulator-side record you vouch for, as a policy's "
    "pack_options.PACK.flags would (e.g. uk-fca:fca_expanded_assets_notified; repeatable).",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    help="PACK:NAME=VALUE, a value for a pack's documented parameter (see rules show; "
    "e.g. bcbs-g1b:deposit_min_rating=A-; repeatable).",
)
@format_option("text", "json", "junit", follows_output=True)
@output_option
@handle_errors
def check(
    holdings_csv: str,
    packs: tuple[str, ...],
    supply: str,
    currency: str,
    as_of: str,
    disclosures_path: str | None,
    min_coverage: str,
    fx_rates: tuple[str, ...],
    hkma_approved: tuple[str, ...],
    issuer_type: str | None,
    flags: tuple[str, ...],
    params: tuple[str, ...],
    fmt: str,
    output: str | None,
) -> None:
    """Check a holdings CSV against rule packs; exit 0 if every pack passes, 1 if one fails."""
    from verifier.app.rules import check_rules

    # 1. Parse every input before evaluating anything; bad input exits 2, nothing written.
    supply_value = _parse_decimal(supply, "--supply")
    if not is_currency_code(currency):
        raise InputError(
            f"expected an ISO 4217 code such as USD, got {currency!r}",
            location=Location(field="--currency"),
        )
    as_of_date = _parse_date(as_of)
    coverage = _parse_decimal(min_coverage, "--min-coverage")
    rates = _parse_fx(fx_rates)
    if issuer_type is not None and issuer_type not in ISSUER_TYPES:
        raise InputError(
            f"unknown issuer type {issuer_type!r}",
            location=Location(field="--issuer-type"),
            hint="known: " + ", ".join(sorted(ISSUER_TYPES)),
        )
    pack_flags: dict[str, list[str]] = {}
    for item in flags:
        name, sep, flag = item.partition(":")
        if not sep or not name or not flag:
            raise InputError(
                f"expected PACK:FLAG such as uk-fca:fca_expanded_assets_notified, got {item!r}",
                location=Location(field="--flag"),
            )
        pack_flags.setdefault(name, []).append(flag)
    pack_params: dict[str, dict[str, str]] = {}
    for item in params:
        name, sep, assignment = item.partition(":")
        key, eq, value = assignment.partition("=")
        if not sep or not eq or not name or not key or not value:
            raise InputError(
                f"expected PACK:NAME=VALUE such as bcbs-g1b:deposit_min_rating=A-, got {item!r}",
                location=Location(field="--param"),
            )
        pack_params.setdefault(name, {})[key] = value
    # 2. Read the files, then the rules and the risk estimate.
    checked = check_rules(
        holdings_csv,
        disclosures_path=disclosures_path,
        packs=packs,
        supply=supply_value,
        currency=currency,
        as_of=as_of_date,
        min_coverage=coverage,
        fx_rates=rates,
        hkma_approved=hkma_approved,
        issuer_type=issuer_type,
        flags=pack_flags,
        params=pack_params,
    )
    report, risk = checked.report, checked.risk
    # 3. Report: result on stdout (or --output), one-line summary on stderr.
    status = "ok" if report.passed else "failed"
    if fmt == "json":
        emit(
            dump_json({"status": status, "rules": report.to_json(), "risk": risk.to_json()}), output
        )
    elif fmt == "junit":
        from verifier.result.junit import rules_junit

        emit(rules_junit(report.to_json()), output)
    else:
        emit(_check_text(report, risk, checked.n_holdings), output)
    summary = ", ".join(f"{p.pack} {p.verdict_text}" for p in report.packs)
    failed = [r.id for r in report.deciding_failures]
    note(
        f"porv rules: {summary}" + (f" (failed: {', '.join(failed)})" if failed else ""),
        style="green" if report.passed else "red",
    )
    if not report.passed:
        raise SystemExit(1)
