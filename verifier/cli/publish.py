"""``porv publish``: post custodian attestations to a ``ReserveAttestationRegistry``, or a
verified result to EAS (``--eas``).

Options and rendering only; the checks and the transactions are
:func:`verifier.app.publish.run_publish` and :func:`verifier.app.eas.run_publish_eas`.
"""

from __future__ import annotations

import time
from typing import Any

import click

from verifier.cli.common import dump_json, emit, format_option, handle_errors, note


def _render_text(report: dict[str, Any]) -> str:
    lines = [
        f"registry {report['registry']} on chain {report['chain_id']} (sender {report['sender']})"
    ]
    for a in report["attestations"]:
        head = f"  {a['custodian']}: sequence {a['sequence']}, digest {a['digest']}: "
        if a["outcome"] == "published":
            lines.append(head + f"published in tx {a['tx_hash']} (block {a['block_number']})")
        elif a["outcome"] == "already_published" and a.get("front_run"):
            lines.append(head + "already published by another sender first, nothing changed")
        elif a["outcome"] == "already_published":
            lines.append(head + "already published, nothing sent")
        else:
            lines.append(head + f"skipped ({a['reason']})")
    r = report["latest_round_data"]
    if r is None:
        lines.append("latestRoundData: no round yet")
    else:
        lines.append(
            f"latestRoundData: round {r['round_id']}, answer {r['answer']}, "
            f"startedAt {r['started_at']}, updatedAt {r['updated_at']}"
        )
    return "\n".join(lines)


def _render_eas(report: dict[str, Any]) -> str:
    head = (
        f"EAS {report['eas']} on chain {report['chain_id']}, schema {report['schema_uid']} "
        f"({report['schema_version']}, {report['schema_outcome']}), attester {report['attester']}"
    )
    if report["outcome"] == "published":
        done = (
            f"attestation {report['uid']}: published in tx {report['tx_hash']} "
            f"(block {report['block_number']}), read back and equal"
        )
    else:
        done = f"attestation {report['uid']}: already published, nothing sent"
    return f"{head}\n{done}"


@click.command("publish")
@click.argument("source", metavar="ATT_OR_BUNDLE_OR_RESULT", type=click.Path(dir_okay=False))
@click.option(
    "--registry",
    "registry_opt",
    default=None,
    metavar="[CHAIN_ID:]ADDR",
    help="The ReserveAttestationRegistry; with CHAIN_ID the endpoint must serve that chain.",
)
@click.option(
    "--eas",
    "eas_opt",
    default=None,
    metavar="CHAIN_ID:ADDR",
    help="Attest a verified result (SOURCE: a porv.result/1 file) on this EAS contract instead.",
)
@click.option("--rpc", "url", required=True, metavar="URL", help="JSON-RPC endpoint (http/https).")
@click.option(
    "--key-file",
    required=True,
    type=click.Path(dir_okay=False),
    help="secp256k1 key file of the transaction sender (pays gas).",
)
@format_option("text", "json")
@handle_errors
def publish(
    source: str, registry_opt: str | None, eas_opt: str | None, url: str, key_file: str, fmt: str
) -> None:
    """Post each attestation of ATT_OR_BUNDLE (an attestation file or a bundle) on-chain.

    Uses each attestation's first secp256k1 signature. Idempotent: an attestation the registry
    already holds is not sent again. Exit 0 published or already there, 1 rejected, expired or
    a rollback, 2 bad input, 3 the node failed or serves another chain, or as_of is after the
    chain's latest block.

    With --eas instead of --registry, SOURCE is a verified result: porv registers its EAS
    schema once and attests the result (the --key-file key is the attester), or reports the
    UID of the attestation it already made; exit 1 for a result that is not verified.
    """
    from verifier.errors import InputError, Location

    if (registry_opt is None) == (eas_opt is None):
        raise InputError(
            "give exactly one of --registry (custodian attestations) and --eas (a result)",
            location=Location(None, None, "--registry"),
        )
    now = int(time.time())  # the one clock read of this run: expiry is judged against it
    if eas_opt is not None:
        from verifier.app.eas import run_publish_eas

        eas_report = run_publish_eas(source, eas_opt, url, key_file, now=now, progress=note)
        emit(dump_json(eas_report) if fmt == "json" else _render_eas(eas_report))
        note(f"porv publish: EAS attestation {eas_report['uid']}", style="green")
        return
    assert registry_opt is not None
    from verifier.app.publish import run_publish

    report = run_publish(source, registry_opt, url, key_file, now=now, progress=note)
    emit(dump_json(report) if fmt == "json" else _render_text(report))
    sent = sum(a["outcome"] == "published" for a in report["attestations"])
    already = sum(a["outcome"] == "already_published" for a in report["attestations"])
    skipped = len(report["attestations"]) - sent - already
    note(
        f"porv publish: {sent} published, {already} already published, {skipped} skipped",
        style="green",
    )
