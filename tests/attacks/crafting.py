"""Crafting attack inputs from the demo scenario, and running ``porv verify`` on them.

Every crafted bundle starts from the demo's valid bundle (``verifier.app.demo.write_demo_files``)
and changes one thing. When the change touches a signed message, :func:`resign` signs again
with the demo's own keys (custodian A: secp256k1, custodian B: BLS, the two auditors: BLS over
the ``ReserveReport``), so the attack under test is the only thing wrong with the bundle.

``porv verify`` runs as a user runs it: ``python -m verifier verify ...`` in a separate process,
its exit code, stdout and stderr collected. For quick local iteration, ``ATTACKS_IN_PROCESS=1``
runs the same console-script entry point (``verifier.cli.main``) inside the test process
instead (about four times faster for this folder; CI uses the default).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tests.support import cli
from tests.support.cli import Run as Run
from verifier.app.demo import (
    ISSUER,
    SYMBOL,
    ChainDeployment,
    DemoFiles,
    custodian_keys,
)
from verifier.local.state import STATE_FILE
from verifier.merkle.tree import StandardMerkleTree
from verifier.model.attestation import AttestationMessage, SignatureEntry, Total
from verifier.model.holdings import Holding
from verifier.model.timeutil import format_rfc3339, parse_rfc3339_utc
from verifier.signatures import bls, secp256k1
from verifier.signatures.eip712 import attestation_digest, report_digest

Doc = dict[str, Any]

#: Run the CLI inside the test process (local iteration only; the default is a real process).
IN_PROCESS = os.environ.get("ATTACKS_IN_PROCESS") == "1"

KEYS: dict[str, Any] = custodian_keys()
#: The keys the demo signs with: two of the three pinned keys of each custodian.
SIGNING_KEYS: dict[str, list[bytes]] = {"custodian-a": KEYS["a"][:2], "custodian-b": KEYS["b"][:2]}


# --- the bundle document ----------------------------------------------------------------------


def custodian(doc: Doc, cid: str) -> Doc:
    """The custodian entry ``cid`` of a bundle document."""
    for entry in doc["custodians"]:
        if entry["id"] == cid:
            return entry  # type: ignore[no-any-return]
    raise KeyError(cid)


def message(entry: Doc) -> AttestationMessage:
    """The attestation message of a custodian entry, parsed."""
    return AttestationMessage.from_json(entry["attestation"], source="<attack>")


def set_message(entry: Doc, msg: AttestationMessage) -> None:
    """Replace a custodian entry's attestation message (signatures are left as they are)."""
    entry["attestation"] = msg.to_json()


def edit_message(entry: Doc, **changes: Any) -> None:
    """Change fields of a custodian entry's attestation message (``dataclasses.replace``)."""
    set_message(entry, replace(message(entry), **changes))


def tree(entry: Doc) -> StandardMerkleTree:
    """The holdings tree of a custodian entry, loaded (and checked) from its dump."""
    return StandardMerkleTree.load(entry["tree"], source="<attack>")


def set_holdings(entry: Doc, holdings: Sequence[Holding]) -> None:
    """Rebuild a custodian's tree from ``holdings`` and make its message match the new tree.

    The message gets the new root, leaf count and totals (call :func:`resign` afterwards).
    """
    new = StandardMerkleTree.of(list(holdings))
    entry["tree"] = new.dump()
    edit_message(
        entry,
        holdings_root=new.root,
        leaf_count=len(new),
        totals=tuple(Total(c, a, d) for c, a, d in new.totals()),
    )


def as_of(doc: Doc) -> int:
    """The bundle's ``as_of`` in unix seconds."""
    return parse_rfc3339_utc(doc["as_of"])


def set_as_of(doc: Doc, seconds: int) -> None:
    """Move the bundle's and every attestation's ``as_of`` (call :func:`resign` afterwards)."""
    doc["as_of"] = format_rfc3339(seconds)
    for entry in doc["custodians"]:
        edit_message(entry, as_of=seconds)


def sign_secp256k1(msg: AttestationMessage, keys: Sequence[bytes]) -> list[SignatureEntry]:
    """One secp256k1 signature entry per key over the message's EIP-712 digest."""
    digest = attestation_digest(msg)
    return [
        SignatureEntry("secp256k1", secp256k1.address_of(k), (), secp256k1.sign(digest, k))
        for k in keys
    ]


def sign_bls(msg: AttestationMessage, keys: Sequence[bytes]) -> list[SignatureEntry]:
    """One BLS aggregate entry by all ``keys`` (as listed, repeats kept) over the digest."""
    digest = attestation_digest(msg)
    signature = bls.aggregate([bls.sign(digest, k) for k in keys])
    signers = tuple("0x" + bls.secret_to_pubkey(k).hex() for k in keys)
    return [SignatureEntry("bls", None, signers, signature)]


def sign_entry(entry: Doc, keys: Sequence[bytes] | None = None) -> None:
    """Sign a custodian entry's message again with its demo keys (or ``keys``)."""
    msg = message(entry)
    cid = entry["id"]
    chosen = list(keys) if keys is not None else SIGNING_KEYS[cid]
    signed = sign_secp256k1(msg, chosen) if cid == "custodian-a" else sign_bls(msg, chosen)
    entry["signatures"] = [s.to_json() for s in signed]


def attestation_digests(doc: Doc) -> list[bytes]:
    """EIP-712 digests of the bundle's attestations, in bundle order."""
    return [attestation_digest(message(e)) for e in doc["custodians"]]


def sign_report(
    doc: Doc, keys: Sequence[bytes] | None = None, *, over: bytes | None = None
) -> None:
    """The auditors' BLS aggregate over the bundle's ``ReserveReport`` (or over ``over``)."""
    chosen = list(keys) if keys is not None else KEYS["auditors"]
    digest = over or report_digest(ISSUER, SYMBOL, as_of(doc), attestation_digests(doc))
    doc["auditor_report"] = {
        "signers": ["0x" + bls.secret_to_pubkey(k).hex() for k in chosen],
        "signature": "0x" + bls.aggregate([bls.sign(digest, k) for k in chosen]).hex(),
    }


def resign(doc: Doc) -> None:
    """Sign every attestation and the auditor report again with the demo keys."""
    for entry in doc["custodians"]:
        sign_entry(entry)
    sign_report(doc)


# --- writing and running ----------------------------------------------------------------------


@dataclass
class Workdir:
    """A fresh folder with a copy of the demo's policy, a bundle to craft, and a state folder."""

    path: Path
    policy: Path
    state: Path
    pristine: Doc

    @property
    def state_file(self) -> Path:
        return self.state / STATE_FILE

    def bundle_doc(self) -> Doc:
        """A deep copy of the demo's valid bundle document, to mutate."""
        return copy.deepcopy(self.pristine)

    def write(self, doc: Doc, name: str = "bundle.json") -> Path:
        """Write a bundle document (as the issuer would publish it) and return its path."""
        path = self.path / name
        path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        return path

    def craft(self, mutate: Callable[[Doc], None], name: str = "bundle.json") -> Path:
        """Copy the valid bundle, apply ``mutate`` to it, write it; return its path."""
        doc = self.bundle_doc()
        mutate(doc)
        return self.write(doc, name)

    def snapshot(self) -> bytes | None:
        """The state file's bytes, or None when there is none."""
        return self.state_file.read_bytes() if self.state_file.exists() else None


def new_workdir(path: Path, files: DemoFiles) -> Workdir:
    """A fresh workdir under ``path`` from the demo files (the policy is copied)."""
    path.mkdir(parents=True, exist_ok=True)
    policy = path / "policy.toml"
    policy.write_bytes(files.policy.read_bytes())
    pristine = json.loads(files.bundle.read_text(encoding="utf-8"))
    return Workdir(path=path, policy=policy, state=path / "state", pristine=pristine)


def porv(argv: Sequence[str]) -> Run:
    """Run ``porv ARGV`` (in this process under ``ATTACKS_IN_PROCESS=1``)."""
    return cli.porv(argv, in_process=IN_PROCESS)


def verify_cli(
    bundle: Path,
    work: Workdir,
    *extra: str,
    state: bool = True,
) -> Run:
    """``porv verify BUNDLE --policy POLICY --state DIR --format json [EXTRA...]``."""
    argv = [str(bundle), "--policy", str(work.policy), "--format", "json"]
    if state:
        argv += ["--state", str(work.state)]
    return porv(["verify", *argv, *extra])


def assert_refused(
    run: Run,
    work: Workdir,
    before: bytes | None,
    *,
    code: int,
    kinds: set[str],
    words: Sequence[str] = (),
    only: bool = True,
) -> None:
    """The run was refused with ``code``, named the attack, and accepted/persisted nothing.

    Args:
        before: the state file's bytes before the run (None: there was none).
        kinds: the attack's kinds; each must be among the failed checks (``only``: and
            nothing else failed).
        words: phrases the failed checks' details must contain (case-insensitive).
    """
    assert run.code == code, f"exit {run.code}, expected {code}\n{run.stderr}\n{run.stdout}"
    assert "Traceback" not in run.stderr, run.stderr
    doc = run.json
    assert doc["status"] != "verified"
    assert doc["status"] == ("failed" if code == 1 else "error")
    found = run.kinds()
    assert kinds <= set(found), f"expected kinds {kinds}, found {found}: {run.details()}"
    if only:
        assert set(found) == kinds, f"unexpected kinds {set(found) - kinds}: {run.details()}"
    if run.stderr:  # the CLI's one-line summary (or diagnostics) on stderr names it too
        if "checks" in doc:
            assert all(f"({kind})" in run.stderr for kind in kinds), run.stderr
        else:
            assert doc["error"]["message"] in run.stderr, run.stderr
    details = run.details().lower()
    for word in words:
        assert word.lower() in details, f"{word!r} not in: {run.details()}"
    assert work.snapshot() == before, "the rollback state changed"
    leftovers = [p.name for p in work.state.glob("*")] if work.state.exists() else []
    if before is None:
        assert leftovers == [], f"state folder not empty: {leftovers}"


def chain_url(deployments: Sequence[ChainDeployment], chain_id: int) -> str:
    """The RPC URL of the demo chain with ``chain_id``."""
    return next(d.url for d in deployments if d.chain_id == chain_id)


def verify_api(bundle: Path, work: Workdir, *, now: int, state: bool = True) -> Run:
    """``run_verify`` with a chosen clock (for attacks that need time to pass), as a :class:`Run`.

    The exit code is the one the CLI would give; stdout holds the sealed result as JSON.
    """
    from verifier.app.verify import run_verify

    outcome = run_verify(bundle, work.policy, now=now, state_dir=work.state if state else None)
    return Run(outcome.exit_code, json.dumps(outcome.result), "")
