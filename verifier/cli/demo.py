"""``porv demo``: the whole story on throwaway chains, printed as a verified result."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from verifier.cli.common import (
    chain_kind_option,
    dump_json,
    emit,
    format_option,
    handle_errors,
    note,
)
from verifier.cli.verify import render_result


@click.command("demo")
@chain_kind_option
@format_option("text", "json", "markdown")
@click.option(
    "--workdir",
    type=click.Path(file_okay=False),
    default=None,
    help="Keep the demo's files (CSVs, trees, attestations, bundle, policy, result) "
    "here instead of a temporary folder.",
)
@handle_errors
def demo(kind: str, fmt: str, workdir: str | None) -> None:
    """Deploy a token on two chains, mint, build two custodians' trees, sign, assemble the
    bundle, write a policy, verify, and print the result.

    A mint made after as_of is included to show it does not count.
    """
    import shutil
    import tempfile

    from verifier.app.demo import (
        DEMO_SCALE,
        demo_safe,
        mint_after,
        start_demo_chains,
        write_demo_files,
    )
    from verifier.app.verify import run_verify
    from verifier.local import interrupts
    from verifier.result.verdict import summary_line

    t0 = time.monotonic()
    keep = workdir is not None
    with interrupts.deferred():  # a temporary folder porv made is removed, even on Ctrl-C
        folder = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="porv-demo-"))
        token = interrupts.on_interrupt(
            lambda: None if keep else shutil.rmtree(folder, ignore_errors=True)
        )
    try:
        note(f"porv demo: starting two {kind} chains (ids 31337, 31338), deploying pUSD, minting")
        net, deployments, as_of = start_demo_chains(kind)
    except BaseException:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
        interrupts.forget(token)
        raise
    try:
        mint_after(deployments[0], as_of, 1_000_000 * 10**6)
        note(
            "porv demo: building custodians' trees, signing (a 2-of-3 Safe, BLS 2-of-3, "
            "auditors BLS 2-of-2), assembling the bundle"
        )
        files = write_demo_files(
            folder, deployments, as_of=as_of, scale=DEMO_SCALE, safe=demo_safe(net)
        )
        note("porv demo: verifying")
        outcome = run_verify(
            files.bundle,
            files.policy,
            now=int(time.time()),
            state_dir=files.state,
            sign_key=files.operator_key,
            deliver=lambda out: write_demo_result(folder, out.result),
        )
        result_text = dump_json(outcome.result)
        eas_line = ""
        if outcome.exit_code == 0:
            from verifier.app.demo import publish_demo_result

            note("porv demo: attesting the result on EAS (chain 31337) and reading it back")
            eas = publish_demo_result(
                net,
                outcome.result,
                str(folder / "result.json"),
                files.operator_key,
                now=int(time.time()),
            )
            eas_line = f"porv demo: result attested on EAS {eas['eas']}: UID {eas['uid']}"
    finally:
        net.stop()
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
        interrupts.forget(token)
    emit(result_text if fmt == "json" else render_result(outcome.result, fmt))
    if keep:
        note(f"porv demo: files kept in {folder} (recheck with: porv recheck {folder}/result.json)")
    if eas_line:
        note(eas_line)
    note(
        f"{summary_line(outcome.result)} ({time.monotonic() - t0:.1f} s)",
        style="green" if outcome.exit_code == 0 else "red",
    )
    raise SystemExit(outcome.exit_code)


def write_demo_result(folder: Path, result: Mapping[str, Any]) -> None:
    """Write the demo's ``result.json`` (atomically); ``run_verify`` calls it before it
    records the rollback state, as for ``verify`` (DESIGN §1, "State never goes back")."""
    from verifier.local.state import atomic_write_text

    atomic_write_text(folder / "result.json", dump_json(result) + "\n")
