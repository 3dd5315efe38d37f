"""EAS (the Ethereum Attestation Service, 1.9.0 from npm) on local chains: deploy it.

``SchemaRegistry`` first, then ``EAS(schemaRegistry)``, from the chain's dev account 0 (or the
sender given), as the scenario's ``"eas": true`` asks. Publishing and reading attestations is
:mod:`verifier.app.eas` and :mod:`verifier.chain.eas`.
"""

from __future__ import annotations

from verifier.devnet import deploy as dep


def deploy_eas(url: str, *, sender: str | None = None) -> tuple[str, str]:
    """Deploy a ``SchemaRegistry`` and an ``EAS`` bound to it.

    Args:
        url: The node's JSON-RPC URL.
        sender: Deployer (an unlocked account); dev account 0 by default.

    Returns:
        ``(schema_registry, eas)``, checksummed addresses.

    Raises:
        IncompleteError: A deployment failed.
    """
    registry = dep.deploy(url, "SchemaRegistry", sender=sender)
    return registry, dep.deploy(url, "EAS", registry, sender=sender)
