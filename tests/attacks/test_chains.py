"""Chain attacks: deployments added or dropped by the bundle, the wrong chain, a lying node.

Supply is read only from the deployments the policy pins, on endpoints that must prove they
serve the pinned chain and answer for the pinned block. A bundle that lists other deployments
fails (exit 1); an endpoint that serves another chain or lies about blocks stops the run
(exit 3, could not complete).
"""

from __future__ import annotations

import pytest

from tests.attacks.crafting import Doc, Workdir, assert_refused, chain_url, verify_cli
from tests.support.faultproxy import Fault, FaultProxy
from verifier.app.demo import ChainDeployment

#: An ERC-20 on a chain the policy does not pin (USDC on Ethereum mainnet).
NOT_PINNED = {
    "chain_id": 1,
    "address": "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
    "excluded": [],
}


def test_omitted_deployment_refused(work: Workdir) -> None:
    def drop_second_chain(doc: Doc) -> None:
        doc["deployments"] = doc["deployments"][:1]

    run = verify_cli(work.craft(drop_second_chain), work)

    assert_refused(
        run, work, None, code=1, kinds={"deployment_mismatch"}, words=["omitted 31338:0x"]
    )
    # supply still came from both pinned deployments, never from the bundle's list
    assert [d["chain_id"] for d in run.json["supply"]["deployments"]] == [31337, 31338]


def test_extra_deployment_refused(work: Workdir) -> None:
    def add_unpinned_chain(doc: Doc) -> None:
        doc["deployments"].append(dict(NOT_PINNED))

    run = verify_cli(work.craft(add_unpinned_chain), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"deployment_mismatch"},
        words=[f"not pinned 1:{NOT_PINNED['address']}"],
    )
    assert [d["chain_id"] for d in run.json["supply"]["deployments"]] == [31337, 31338]


def test_wrong_chain_id_endpoint_refused(work: Workdir, deployments: list[ChainDeployment]) -> None:
    bundle = work.write(work.bundle_doc())
    other = chain_url(deployments, 31338)

    run = verify_cli(bundle, work, "--rpc", f"31337={other}")

    assert_refused(
        run,
        work,
        None,
        code=3,
        kinds={"wrong_chain"},
        words=["serves chain id 31338, the policy pins 31337"],
    )
    assert run.json["supply"] is None


@pytest.mark.parametrize(
    ("lie", "words"),
    [
        (Fault.ANOTHER_BLOCK, "the node answered block"),
        (Fault.ANOTHER_HASH, "it was pinned as"),
    ],
)
def test_node_answering_for_a_different_block_refused(
    work: Workdir, deployments: list[ChainDeployment], lie: Fault, words: str
) -> None:
    bundle = work.write(work.bundle_doc())
    with FaultProxy(chain_url(deployments, 31337), lie) as proxy:
        run = verify_cli(bundle, work, "--rpc", f"31337={proxy.url}")

    assert_refused(run, work, None, code=3, kinds={"wrong_block"}, words=[words])


def test_deployment_with_other_excluded_addresses_refused(work: Workdir) -> None:
    def stop_excluding_the_treasury(doc: Doc) -> None:
        doc["deployments"][0]["excluded"] = []

    run = verify_cli(work.craft(stop_excluding_the_treasury), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"deployment_mismatch"},
        words=["excluded addresses of 31337:0x", "differ from the policy's"],
    )
    # the policy's exclusions are applied whatever the bundle says
    first = run.json["supply"]["deployments"][0]
    assert [e["address"] for e in first["excluded"]] == work.pristine["deployments"][0]["excluded"]


def test_one_lying_endpoint_among_two_refused(
    work: Workdir, deployments: list[ChainDeployment]
) -> None:
    bundle = work.write(work.bundle_doc())
    honest = chain_url(deployments, 31337)
    with FaultProxy(honest, Fault.ANOTHER_HASH) as proxy:
        liar = proxy.url
        run = verify_cli(bundle, work, "--rpc", f"31337={honest}", "--rpc", f"31337={liar}")

    assert_refused(
        run,
        work,
        None,
        code=3,
        kinds={"endpoints_disagree"},
        words=[f"endpoints {honest} and {liar} disagree", "hash"],
    )
