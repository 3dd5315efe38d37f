"""``porv verify`` (the holder's check) and ``porv recheck`` (re-derive a saved result)."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

from verifier.app.deadline import DEFAULT_DEADLINE_S
from verifier.cli.common import (
    ChainProgress,
    dump_json,
    emit,
    format_option,
    handle_errors,
    note,
    output_option,
    parse_rpc_overrides,
)
from verifier.errors import InputError, Location

if TYPE_CHECKING:
    from verifier.checks.bundle import Outcome


def render_result(result: Mapping[str, Any], fmt: str) -> str:
    """``result`` in ``fmt``: the JSON document itself, or a report for people that cites
    the packs the result names (:func:`~verifier.app.report.eligibility_citations`)."""
    if fmt == "json":
        return dump_json(result)
    if fmt == "junit":
        from verifier.result.junit import result_junit

        return result_junit(result)
    from verifier.app.report import eligibility_citations
    from verifier.result.report import render_html, render_markdown, render_text

    render = {"text": render_text, "markdown": render_markdown, "html": render_html}[fmt]
    return render(result, citations=eligibility_citations(result))


def deadline_option(func: Any) -> Any:
    """``--deadline SECONDS``: the whole run's budget, every endpoint read included."""
    return click.option(
        "--deadline",
        type=click.FloatRange(0.5, 86400),
        default=DEFAULT_DEADLINE_S,
        show_default=True,
        help="Seconds the whole run may take, every JSON-RPC read and retry included; a run "
        "still waiting on an endpoint then stops with exit 3 (kind deadline).",
    )(func)


def rpc_option(func: Any) -> Any:
    """``--rpc CHAIN_ID=URL`` (repeatable; also PORV_RPC, space-separated)."""
    return click.option(
        "--rpc",
        "rpc",
        multiple=True,
        metavar="CHAIN_ID=URL",
        help="JSON-RPC endpoint for a chain; repeat for several endpoints (all must agree). "
        "Replaces the policy's endpoints for that chain.",
    )(func)


@click.command("verify")
@click.argument("bundle_path", metavar="BUNDLE", type=click.Path(dir_okay=False))
@click.option(
    "--policy",
    "policy_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Your porv.policy/1 TOML: the pins you trust.",
)
@rpc_option
@click.option(
    "--state",
    "state_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder holding the rollback floor (last accepted sequence per custodian).",
)
@format_option("text", "json", "markdown", "html", "junit", follows_output=True)
@output_option
@click.option(
    "--sign-key-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Sign the result (EIP-712, secp256k1) with this operator key file.",
)
@click.option(
    "--from-registry",
    "registry",
    default=None,
    metavar="[CHAIN_ID:]ADDR",
    help="Also read each custodian's latest record and latestRoundData from the "
    "ReserveAttestationRegistry the policy pins ([registry] chain_id, address); ADDR must be "
    "that address (exit 2 otherwise, or when the policy pins none). Its code must be porv's "
    "registry on every endpoint of the chain, and a record counts only as the signature porv "
    "recovers from it, by a key the policy pins.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 300),
    default=10.0,
    show_default=True,
    help="Seconds per JSON-RPC request (bounded retries on top).",
)
@click.option(
    "--detail",
    is_flag=True,
    help="Write the detailed result: each holding's risk inputs and up to 1,000 ineligible "
    "holdings per pack. Default: the compact result (totals, counts, maturity ladder, the "
    "first 20 ineligible holdings per pack); the bundle re-derives the rest.",
)
@deadline_option
@handle_errors
def verify(
    bundle_path: str,
    policy_path: str,
    rpc: tuple[str, ...],
    state_dir: str | None,
    fmt: str,
    output: str | None,
    sign_key_file: str | None,
    registry: str | None,
    timeout: float,
    detail: bool,
    deadline: float,
) -> None:
    """Verify BUNDLE against your POLICY: supply, signatures, trees, coverage, rules.

    Exit 0 verified, 1 a claim failed, 2 bad input, 3 could not complete.
    """
    from verifier.app.deadline import Deadline
    from verifier.app.verify import run_verify

    run_deadline = Deadline(deadline)  # the one budget of this run, started first
    sign_key = _load_sign_key(sign_key_file)
    overrides = parse_rpc_overrides(rpc)
    now = int(time.time())  # the one clock read of this run
    bar = ChainProgress(total=0)

    def deliver(outcome: Outcome) -> None:
        # called under the state folder's lock: the floor moves only once this returned
        bar.close()
        emit(render_result(outcome.result, fmt), output)

    # A run makes tens of thousands of long-lived objects (holdings, risk rows) and almost no
    # cyclic garbage: the cycle collector would only walk them again and again. It is paused
    # for the run (about 0.02 s of a 30,000-holding verify; reference counting still frees
    # everything else at once) and resumed after, as it was.
    collecting = gc.isenabled()
    gc.disable()
    try:
        outcome = run_verify(
            bundle_path,
            policy_path,
            now=now,
            rpc_overrides=overrides,
            state_dir=state_dir,
            sign_key=sign_key,
            registry=registry,
            timeout=timeout,
            progress=bar,
            deliver=deliver,
            on_state_wait=lambda: note(
                f"porv: waiting for another run to release the state folder {state_dir}"
            ),
            deadline=run_deadline,
            on_warning=lambda message: note(f"porv: warning: {message}", style="yellow"),
            detail=detail,
        )
    finally:
        if collecting:
            gc.enable()
        bar.close()
    from verifier.result.verdict import summary_line

    note(summary_line(outcome.result), style="green" if outcome.exit_code == 0 else "red")
    raise SystemExit(outcome.exit_code)


def _load_sign_key(path: str | None) -> bytes | None:
    if path is None:
        return None
    from verifier.local.keys import load_key_file

    return load_key_file(path, "secp256k1")


@click.command("recheck")
@click.argument("result_path", metavar="RESULT", type=click.Path(dir_okay=False))
@click.option(
    "--bundle",
    "bundle_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="The bundle the result names (default: the path recorded in it).",
)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="The policy the result names (default: the path recorded in it).",
)
@rpc_option
@click.option(
    "--operator",
    "operators",
    multiple=True,
    metavar="ADDR",
    help="A verifier operator you trust (checksummed address; repeatable): only a result "
    "signed by one binds its verified_at.",
)
@click.option(
    "--eas",
    "eas_opt",
    default=None,
    metavar="CHAIN_ID:ADDR",
    help="Also compare the EAS attestation --uid on this EAS contract with the result "
    "(endpoints: the policy's [rpc] for CHAIN_ID and --rpc).",
)
@click.option("--uid", "uid_opt", default=None, metavar="UID", help="The EAS attestation UID.")
@click.option(
    "--attester",
    "attester_opt",
    default=None,
    metavar="ADDR",
    help="The EAS attester you trust (default: the result's operator signer).",
)
@format_option("text", "json", "junit", follows_output=True)
@output_option
@deadline_option
@handle_errors
def recheck(
    result_path: str,
    bundle_path: str | None,
    policy_path: str | None,
    rpc: tuple[str, ...],
    operators: tuple[str, ...],
    eas_opt: str | None,
    uid_opt: str | None,
    attester_opt: str | None,
    fmt: str,
    output: str | None,
    deadline: float,
) -> None:
    """Re-derive RESULT from its bundle and policy and compare; exit 1 on any difference.

    Give the bundle and policy with --bundle/--policy; otherwise the paths the result records
    are used (regular files only). Offline, every signature, threshold and number is checked
    again; what needs a chain (supply, a contract wallet's verdict, the rollback state, registry
    and feed answers) is carried over and listed. With --rpc the pinned blocks and wallets are
    read again. An unsigned verified_at (or one not signed by an --operator) is only the
    result's claim: a verified result must then also hold at this recheck's time.

    With --eas CHAIN_ID:ADDR --uid UID the EAS attestation is then read on every endpoint of
    that chain and compared with the result: porv's schema, the attester you trust (--attester,
    else the result's operator signer), not revoked, not expired, every field equal.
    """
    from verifier.app.deadline import Deadline, deadline_scope
    from verifier.app.recheck import recheck_result
    from verifier.local.jsonio import load_json_file

    pinned = _operator_addresses(operators)
    if (eas_opt is None) != (uid_opt is None) or (attester_opt and eas_opt is None):
        raise InputError(
            "--eas CHAIN_ID:ADDR and --uid UID go together (--attester needs them)",
            location=Location(field="--eas" if eas_opt is None else "--uid"),
        )
    if eas_opt is not None and uid_opt is not None:
        from verifier.app.eas import parse_eas, parse_uid

        eas_chain, _ = parse_eas(eas_opt)
        parse_uid(uid_opt)
    now = int(time.time())  # the one clock read of this run
    overrides = parse_rpc_overrides(rpc) if rpc else None
    with deadline_scope(Deadline(deadline)):
        doc = load_json_file(result_path)
        report = recheck_result(
            doc,
            source=os.fspath(result_path),
            bundle_path=bundle_path,
            policy_path=policy_path,
            rpc_overrides=overrides,
            operators=pinned,
            now=now,
        )
        if eas_opt is not None and uid_opt is not None:
            from verifier.app.eas import eas_endpoints, recheck_eas

            urls, finality = eas_endpoints(
                doc, os.fspath(result_path), policy_path, eas_chain, overrides
            )
            report["eas"] = recheck_eas(
                doc,
                os.fspath(result_path),
                eas_opt=eas_opt,
                uid_opt=uid_opt,
                attester_opt=attester_opt,
                urls=urls,
                finality=finality,
                now=now,
            )
    if fmt == "json":
        emit(dump_json({"status": "ok", **report}), output)
        return
    if fmt == "junit":
        from verifier.result.junit import recheck_junit

        emit(recheck_junit(report, os.fspath(result_path)), output)
        return
    if report["time_bound_by_signature"]:
        bound = f"bound by the signature of operator {report['signed_by']}"
    else:
        bound = "not bound by a signature of an operator you named (--operator)"
        if report["result_status"] == "verified":
            bound += f"; the result also verifies at this recheck's time {report['rechecked_at']}"
    lines = [
        f"recheck ok: {result_path} re-derives to digest {report['digest']}"
        f" (supply {report['supply_source']}); status {report['result_status']}",
        f"verified_at {report['verified_at']}: {bound}",
    ]
    lines += [f"carried over: {item}" for item in report["carried_over"]]
    if "eas" in report:
        e = report["eas"]
        lines.append(
            f"EAS attestation {e['uid']} on chain {e['chain_id']} (EAS {e['eas']}, block "
            f"{e['block_number']}, {e['endpoints']} endpoint(s)): equal to the result, attested "
            f"by {e['attester']} ({e['attester_trusted_by']}) in tx {e['tx_hash']} (block "
            f"{e['tx_block_number']}), expires {e['expiration_time']}"
        )
    emit("\n".join(_printable(line) for line in lines), output)


def _printable(text: str) -> str:
    """``text`` with control and other non-printable characters shown as escapes."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def _operator_addresses(values: tuple[str, ...]) -> list[str]:
    """``--operator`` values: EIP-55 checksummed addresses, else exit 2."""
    from verifier.model.validate import InvalidValueError, checksummed_address

    for value in values:
        try:
            checksummed_address(value)
        except InvalidValueError:
            raise InputError(
                f"--operator expects an EIP-55 checksummed address, found {value!r}",
                location=Location(field="--operator"),
            ) from None
    return list(values)
