"""``porv bundle assemble``: join trees, attestation files and deployments into a bundle.

The CLI parses the options and renders; this module reads the policy, tree, attestation,
auditor-report and disclosure files and assembles the porv.bundle/1 document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from verifier.errors import AttestationMismatchError, InputError, Location
from verifier.model.bundle import BundleDeployment, TokenInfo


@dataclass(frozen=True)
class PolicyDefaults:
    """What a bundle takes from the holder's policy unless an option overrides it."""

    issuer: str
    token: str
    currency: str
    decimals: int
    deployments: list[BundleDeployment]


def policy_defaults(policy_path: str) -> PolicyDefaults:
    """Issuer, token, currency, decimals and deployments of a policy file."""
    from verifier.local.loaders import load_policy

    pol = load_policy(policy_path)
    return PolicyDefaults(
        issuer=pol.issuer,
        token=pol.token,
        currency=pol.currency,
        decimals=pol.decimals,
        deployments=[
            BundleDeployment(d.chain_id, d.address, tuple(d.excluded)) for d in pol.deployments
        ],
    )


def assemble_bundle(
    *,
    issuer: str,
    token: TokenInfo,
    deployments: list[BundleDeployment],
    custodians: Sequence[tuple[str, str]],
    auditor_report: str | None,
    disclosures: str | None,
) -> tuple[dict[str, Any], int]:
    """The bundle document of the custodians' (tree file, attestation file) pairs.

    Returns:
        The bundle document and its number of custodians.

    Raises:
        AttestationMismatchError: the attestations do not share one asOf.
        InputError: the disclosures file is not a JSON object.
    """
    from verifier.local.jsonio import load_json_file
    from verifier.local.loaders import load_attestation_file
    from verifier.model.bundle import assemble

    parts = []
    as_of: int | None = None
    for tree_path, att_path in custodians:
        att = load_attestation_file(att_path)
        msg = att.message
        if as_of is None:
            as_of = msg.as_of
        elif msg.as_of != as_of:
            raise AttestationMismatchError(
                f"{att_path}: asOf {msg.as_of} differs from the other attestations' {as_of}",
                hint="a bundle states the reserve at one instant: re-sign at a common as_of",
            )
        tree_doc = load_json_file(tree_path)
        parts.append((msg.custodian, tree_doc, att.to_json()))
    assert as_of is not None

    report = load_json_file(auditor_report) if auditor_report else None
    disc = load_json_file(disclosures) if disclosures else None
    if disc is not None and not isinstance(disc, dict):
        raise InputError("disclosures must be a JSON object", location=Location(disclosures))
    doc = assemble(
        issuer=issuer,
        token=token,
        as_of=as_of,
        deployments=deployments,
        custodians=parts,
        auditor_report=report,
        disclosures=disc,
    )
    return doc, len(parts)
