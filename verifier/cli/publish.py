"""``porv publish``: post custodian attestations to a ``ReserveAttestationRegistry``.

Options and rendering only; the checks and the transactions are
:func:`verifier.app.publish.run_publish`.
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


@click.command("publish")
@click.argument("source", metavar="ATT_OR_BUNDLE", type=click.Path(dir_okay=False))
@click.option(
    "--registry",
    "registry_opt",
    required=True,
    metavar="[CHAIN_ID:]ADDR",
    help="The ReserveAttestationRegistry; with CHAIN_ID the endpoint must serve that chain.",
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
def publish(source: str, registry_opt: str, url: str, key_file: str, fmt: str) -> None:
    """Post each attestation of ATT_OR_BUNDLE (an attestation file or a bundle) on-chain.

    Uses each attestation's first secp256k1 signature. Idempotent: an attestation the registry
    already holds is not sent again. Exit 0 published or already there, 1 rejected, expired or
    a rollback, 2 bad input, 3 the node failed or serves another chain, or as_of is after the
    chain's latest block.
    """
    from verifier.app.publish import run_publish

    now = int(time.time())  # the one clock read of this run: expiry is judged against it
    report = run_publish(source, registry_opt, url, key_file, now=now, progress=note)
    emit(dump_json(report) if fmt == "json" else _render_text(report))
    sent = sum(a["outcome"] == "published" for a in report["attestations"])
    already = sum(a["outcome"] == "already_published" for a in report["attestations"])
    skipped = len(report["attestations"]) - sent - already
    note(
        f"porv publish: {sent} published, {already} already published, {skipped} skipped",
        style="green",
    )
