"""``porv bundle assemble``: join trees, attestation files and deployments into a bundle."""

from __future__ import annotations

import click

from verifier.cli.common import dump_json, emit, handle_errors, note, output_option
from verifier.errors import InputError
from verifier.model.validate import InvalidValueError, parse_chain_id


def _parse_deployment(value: str) -> tuple[int, str, tuple[str, ...]]:
    parts = value.split(":")
    try:
        if len(parts) not in (2, 3):
            raise InvalidValueError("")
        chain_id = parse_chain_id(parts[0])
    except InvalidValueError:
        raise InputError(
            f"--deployment expects CHAIN_ID:ADDRESS[:EXCLUDED,EXCLUDED...], found {value!r}"
        ) from None
    excluded = tuple(a for a in parts[2].split(",") if a) if len(parts) == 3 else ()
    return chain_id, parts[1], excluded


@click.group("bundle")
def bundle() -> None:
    """Build porv.bundle/1 files (exporters)."""


@bundle.command("assemble")
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Take issuer, token, currency, decimals and deployments from this policy.",
)
@click.option("--issuer", default=None, help="Issuer name (as signed in the attestations).")
@click.option("--token", "symbol", default=None, help="Token symbol (as signed).")
@click.option("--currency", default=None, help="ISO 4217 code of the token's currency.")
@click.option("--decimals", type=click.IntRange(0, 77), default=None, help="Token decimals.")
@click.option(
    "--deployment",
    "deployments",
    multiple=True,
    metavar="CHAIN_ID:ADDRESS[:EXCL,...]",
    help="A deployment (repeatable).",
)
@click.option(
    "--custodian",
    "custodians",
    multiple=True,
    nargs=2,
    required=True,
    type=click.Path(dir_okay=False),
    metavar="TREE ATTESTATION",
    help="A custodian's tree dump and its signed attestation file (repeatable).",
)
@click.option(
    "--auditor-report",
    type=click.Path(dir_okay=False),
    default=None,
    help="JSON {signers, signature}: the auditors' BLS aggregate.",
)
@click.option(
    "--disclosures",
    type=click.Path(dir_okay=False),
    default=None,
    help="JSON object of issuer disclosures (e.g. paid_up_capital).",
)
@output_option
@handle_errors
def assemble(
    policy_path: str | None,
    issuer: str | None,
    symbol: str | None,
    currency: str | None,
    decimals: int | None,
    deployments: tuple[str, ...],
    custodians: tuple[tuple[str, str], ...],
    auditor_report: str | None,
    disclosures: str | None,
    output: str | None,
) -> None:
    """Assemble a bundle; every attestation must share one asOf (the bundle's as_of).

    The custodian id of each entry is the one its attestation signs.
    """
    from verifier.app.bundle import assemble_bundle, policy_defaults
    from verifier.model.bundle import BundleDeployment, TokenInfo

    deps: list[BundleDeployment] = []
    if policy_path is not None:
        pol = policy_defaults(policy_path)
        issuer = issuer or pol.issuer
        symbol = symbol or pol.token
        currency = currency or pol.currency
        decimals = pol.decimals if decimals is None else decimals
        deps = list(pol.deployments)
    deps += [BundleDeployment(*_parse_deployment(v)) for v in deployments]
    missing = [
        n
        for n, v in (
            ("--issuer", issuer),
            ("--token", symbol),
            ("--currency", currency),
            ("--decimals", decimals),
        )
        if v is None
    ]
    if missing:
        raise InputError(f"missing {', '.join(missing)} (or give --policy)")
    assert issuer is not None and symbol is not None and currency is not None
    assert decimals is not None

    doc, n_custodians = assemble_bundle(
        issuer=issuer,
        token=TokenInfo(symbol, currency, decimals),
        deployments=deps,
        custodians=custodians,
        auditor_report=auditor_report,
        disclosures=disclosures,
    )
    emit(dump_json(doc), output)
    note(f"porv: bundle with {n_custodians} custodian(s), {len(deps)} deployment(s)")
