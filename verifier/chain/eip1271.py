"""EIP-1271 checks: asking a contract wallet whether it signed a digest.

A custodian or auditor may sign with a smart-contract wallet; its "signature" holds only if the
wallet's ``isValidSignature`` answers the magic value, on every endpoint of its chain, at the
block the verification is bound to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

#: An EIP-1271 checker: (chain id, wallet address, digest, signature, block or None for the
#: head) -> valid? The orchestrators ask each wallet at the block pinned for supply on its
#: chain, if any, so a result re-derives the same way later; the answers go to
#: :func:`verifier.checks.bundle.verify_bundle` as data.
Eip1271Checker = Callable[[int, str, bytes, bytes, int | None], bool]
#: ``isValidSignature(bytes32,bytes)`` selector, also the magic value a valid call returns.
EIP1271_MAGIC = bytes.fromhex("1626ba7e")


def eip1271_checker(
    rpc: Mapping[int, Sequence[str]],
    *,
    timeout: float = 10.0,
    finality: Callable[[int], str | int] | None = None,
) -> Eip1271Checker:
    """An EIP-1271 checker that asks every endpoint of the wallet's chain (they must agree).

    A wallet is read at the block supply pinned on its chain, else at the highest block the
    chain's ``finality`` (default ``"finalized"``) allows, which every endpoint must allow
    (a lagging endpoint: exit 3). A wallet on a chain with no endpoint, a revert, or any
    answer other than the magic value counts as "not signed"; endpoints that disagree
    raise (exit 3).
    """
    from verifier.chain.rpc import call_all_endpoints

    def check(
        chain_id: int, wallet: str, digest: bytes, signature: bytes, block: int | None
    ) -> bool:
        from eth_abi.abi import encode  # only when a wallet is asked (a tenth of a second)

        urls = rpc.get(chain_id)
        if not urls:
            return False
        data = EIP1271_MAGIC + encode(["bytes32", "bytes"], [digest, signature])
        answer = call_all_endpoints(
            chain_id,
            urls,
            wallet,
            data,
            block=block,
            finality=finality(chain_id) if finality is not None else "finalized",
            timeout=timeout,
        )
        # exactly the ABI word of bytes4 magic (zero padding): anything else, junk included, is
        # "not signed" (decoding a hostile answer raised, exit 3 without a JSON status)
        return answer is not None and answer[:32] == EIP1271_MAGIC + bytes(28)

    return check
