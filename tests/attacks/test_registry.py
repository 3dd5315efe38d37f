"""Registry evidence (``verify --from-registry``): only the policy's registry, only porv's code,
only signatures porv recovers itself, and every endpoint must agree (DESIGN §1, "Only the
policy adds trust"; issue 8, classes 3 and 6).

These tests change a chain (signers registered, attestations submitted, contracts deployed), so
the module starts its own demo chains instead of the folder's shared ones. The registry holds
custodian A's attestation signed by A's second key and custodian B's signed by a secp256k1 key
the policy also pins for B; A's third key never signs anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from eth_utils.crypto import keccak

from tests.attacks.crafting import (
    KEYS,
    Doc,
    Workdir,
    assert_refused,
    custodian,
    message,
    new_workdir,
    porv,
    sign_secp256k1,
    verify_cli,
)
from tests.support.faultproxy import Fault, FaultProxy, Rewrite
from verifier.app.demo import (
    ISSUER,
    SYMBOL,
    DemoFiles,
    demo_secret,
    start_demo_chains,
    write_demo_files,
)
from verifier.chain.contracts import load_contract
from verifier.devnet import registry as reg
from verifier.devnet.deploy import accounts, web3_for
from verifier.result.seal import seal
from verifier.signatures import secp256k1
from verifier.signatures.eip712 import attestation_digest

B_KEY = demo_secret("custodian-b/secp256k1", "secp256k1")
B_SIGNER = secp256k1.address_of(B_KEY)
A_SIGNERS = [secp256k1.address_of(k) for k in KEYS["a"]]
NOBODY = "0x000000000000000000000000000000000000dEaD"


def add_b_secp(doc: Doc) -> None:
    """Custodian B also signs with a secp256k1 key (the registry accepts only secp256k1)."""
    entry = custodian(doc, "custodian-b")
    (sig,) = sign_secp256k1(message(entry), [B_KEY])
    entry["signatures"].append(sig.to_json())


def pin_registry(policy: Path, address: str | None, chain_id: int = 31337) -> None:
    """Write ``[registry]`` into a copy of the demo policy (None: no pin) with B's secp key."""
    text = policy.read_text()
    anchor = 'id = "custodian-b"\n'
    if f'signers = ["{B_SIGNER}"]' not in text:
        text = text.replace(anchor, anchor + f'signers = ["{B_SIGNER}"]\n')
    text = text.split("\n[registry]\n")[0]
    if address is not None:
        text += f'\n[registry]\nchain_id = {chain_id}\naddress = "{address}"\n'
    policy.write_text(text)


def deploy_runtime(url: str, runtime: bytes) -> str:
    """Deploy raw runtime code (initcode: copy it to memory and return it)."""
    n = len(runtime)
    init = bytes.fromhex(f"61{n:04x}61{15:04x}600039" + f"61{n:04x}6000f3") + runtime
    w3 = web3_for(url)
    tx = w3.eth.send_transaction({"from": accounts(url)[0], "data": "0x" + init.hex()})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    return str(receipt["contractAddress"])


def returning(blob: bytes) -> bytes:
    """EVM runtime code that answers every call with ``blob``."""
    n = len(blob)
    return bytes.fromhex(f"61{n:04x}61{15:04x}600039" + f"61{n:04x}6000f3") + blob


def forged_record(digest: bytes, signer: str, sequence: int) -> bytes:
    """A ``latest(...)`` answer: exists, ``sequence``, ``digest``, ``signer``."""
    words = [1, sequence, 0, 2**63, 0, 0]
    out = b"".join(w.to_bytes(32, "big") for w in words[:4]) + b"\0" * 32 + (0).to_bytes(32, "big")
    out += digest + bytes.fromhex(signer[2:]).rjust(32, b"\0") + (1).to_bytes(32, "big")
    assert len(out) == 9 * 32
    return out


class Net:
    def __init__(self, url: str, registry: str, files: DemoFiles) -> None:
        self.url, self.registry, self.files = url, registry, files


@contextmanager
def registry_world(folder: Path) -> Iterator[Net]:
    """Demo chains whose registry holds A's and B's attestations (sequence 1), and files."""
    devnet, deployments, as_of = start_demo_chains("embedded")
    try:
        url = next(d.url for d in deployments if d.chain_id == 31337)
        registry = devnet.chain(31337).registry
        assert registry is not None
        files = write_demo_files(folder, deployments, as_of=as_of, mutate=add_b_secp)
        pin_registry(files.policy, registry)
        doc = json.loads(files.bundle.read_text())
        # A's second key and B's secp256k1 key are registered; A's third key is not used
        reg.register_signer(url, registry, "custodian-a", A_SIGNERS[1])
        reg.register_signer(url, registry, "custodian-b", B_SIGNER)
        for cid, key in (("custodian-a", KEYS["a"][1]), ("custodian-b", B_KEY)):
            msg = message(custodian(doc, cid))
            sig = secp256k1.sign(attestation_digest(msg), key)
            reg.submit_attestation(url, registry, msg.to_json(), sig)
        yield Net(url, registry, files)
    finally:
        devnet.stop()


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    with registry_world(tmp_path_factory.mktemp("registry")) as world:
        yield world


@pytest.fixture
def rwork(net: Net, tmp_path: Path) -> Workdir:
    return new_workdir(tmp_path / "work", net.files)


def only_a_signs_with(doc: Doc, *keys: bytes) -> None:
    entry = custodian(doc, "custodian-a")
    entry["signatures"] = [s.to_json() for s in sign_secp256k1(message(entry), keys)]


def test_pinned_registry_counts_the_recovered_signature_once(net: Net, rwork: Workdir) -> None:
    # control: A signs directly with its first key only; the registry holds its second key's
    # signature, which porv recovers itself: two distinct pinned keys
    bundle = rwork.craft(lambda d: only_a_signs_with(d, KEYS["a"][0]))
    run = verify_cli(bundle, rwork, "--from-registry", f"31337:{net.registry}")
    assert run.code == 0, run.stdout + run.stderr
    doc = run.json
    assert doc["status"] == "verified"
    (row,) = [a for a in doc["attestations"] if a["custodian"] == "custodian-a"]
    assert row["signers"] == sorted(A_SIGNERS[:2])
    assert doc["registry"]["code"] == "ReserveAttestationRegistry"
    assert doc["registry"]["block_number"] > 0
    # the same key directly and through the registry counts once: 1 of threshold 2
    bundle = rwork.craft(lambda d: only_a_signs_with(d, KEYS["a"][1]), "once.json")
    before = rwork.snapshot()
    run = verify_cli(bundle, rwork, "--from-registry", f"31337:{net.registry}")
    assert_refused(run, rwork, before, code=1, kinds={"duplicate_key"}, words=["1 distinct"])


def test_fake_registry_cannot_add_a_pinned_signer_that_never_signed(
    net: Net, rwork: Workdir
) -> None:
    # a few bytes of EVM code answer every call with a record "signed" by A's third key
    doc = rwork.bundle_doc()
    only_a_signs_with(doc, KEYS["a"][0])
    digest = attestation_digest(message(custodian(doc, "custodian-a")))
    fake = deploy_runtime(net.url, returning(forged_record(digest, A_SIGNERS[2], 1)))
    pin_registry(rwork.policy, fake)  # even pinned by the policy, the fake counts for nothing
    bundle = rwork.write(doc)
    run = verify_cli(bundle, rwork, "--from-registry", fake)
    assert_refused(
        run,
        rwork,
        None,
        code=1,
        kinds={"registry_untrusted", "threshold_not_met"},
        words=["is not porv's ReserveAttestationRegistry", "1 distinct"],
    )
    assert A_SIGNERS[2] not in json.dumps(run.json["attestations"])
    assert run.json["registry"]["code"] == "other"


def _slot(key: bytes, slot: int) -> bytes:
    """Storage slot of ``mapping[key]`` for a mapping declared at ``slot``."""
    return keccak(key + slot.to_bytes(32, "big"))


def forged_registry_init(records: dict[bytes, tuple[bytes, str, int, bytes]]) -> bytes:
    """Initcode that writes forged records into storage, then returns porv's registry code.

    ``records``: storage key -> (digest, signer, sequence, stored signature). Layout of
    ``ReserveAttestationRegistry``: ``_owner`` 0, ``issuer`` 1, ``token`` 2, ``currency`` 3,
    ``_description`` 4, ``_signers`` 5, ``_records`` 6, ``_signatures`` 7. Immutables stay zero
    (the code check masks them, so they cannot tell a forgery).
    """
    writes: list[tuple[bytes, bytes]] = []
    for key, (digest, signer, sequence, signature) in records.items():
        base = int.from_bytes(_slot(key, 6), "big")
        head = (1 | sequence << 8).to_bytes(32, "big")  # exists, sequence (asOf, validUntil 0)
        writes += [(base.to_bytes(32, "big"), head), ((base + 3).to_bytes(32, "big"), digest)]
        writes.append(((base + 4).to_bytes(32, "big"), bytes.fromhex(signer[2:]).rjust(32, b"\0")))
        sig_slot = _slot(key, 7)
        writes.append((sig_slot, (len(signature) * 2 + 1).to_bytes(32, "big")))
        data = int.from_bytes(keccak(sig_slot), "big")
        padded = signature.ljust(-(-len(signature) // 32) * 32, b"\0")
        for i in range(0, len(padded), 32):
            writes.append(((data + i // 32).to_bytes(32, "big"), padded[i : i + 32]))
    prefix = b"".join(b"\x7f" + value + b"\x7f" + slot + b"\x55" for slot, value in writes)
    runtime = bytes.fromhex(load_contract("ReserveAttestationRegistry").deployed_bytecode[2:])
    n, off = len(runtime), len(prefix) + 15
    return prefix + bytes.fromhex(f"61{n:04x}61{off:04x}600039" + f"61{n:04x}6000f3") + runtime


def test_porvs_code_with_forged_storage_adds_no_signer(net: Net, rwork: Workdir) -> None:
    # porv's exact runtime code, deployed by initcode that forged A's record: it names A's
    # third key (pinned, never signed) beside a real signature by a key the policy does not pin
    doc = rwork.bundle_doc()
    only_a_signs_with(doc, KEYS["a"][0])
    digest = attestation_digest(message(custodian(doc, "custodian-a")))
    outsider = secp256k1.sign(digest, b"\x07" * 32)
    # B's record is genuine (B's real signature), so A's forged one is the only thing wrong
    digest_b = attestation_digest(message(custodian(doc, "custodian-b")))
    genuine_b = (digest_b, B_SIGNER, 1, secp256k1.sign(digest_b, B_KEY))

    def key(cid: str) -> bytes:
        return keccak(b"".join(keccak(text=t) for t in (ISSUER, SYMBOL, cid)))

    init = forged_registry_init(
        {key("custodian-a"): (digest, A_SIGNERS[2], 1, outsider), key("custodian-b"): genuine_b}
    )
    w3 = web3_for(net.url)
    tx = w3.eth.send_transaction({"from": accounts(net.url)[0], "data": "0x" + init.hex()})
    forged = str(w3.eth.wait_for_transaction_receipt(tx)["contractAddress"])
    record = reg.latest(net.url, forged, ISSUER, SYMBOL, "custodian-a")
    assert (record.exists, record.digest, record.signer) == (True, digest, A_SIGNERS[2])
    pin_registry(rwork.policy, forged)
    run = verify_cli(rwork.write(doc), rwork, "--from-registry", forged)
    assert_refused(
        run,
        rwork,
        None,
        code=1,
        kinds={"registry_untrusted", "threshold_not_met"},
        words=["recovers to", "1 distinct"],
    )
    assert run.json["registry"]["code"] == "ReserveAttestationRegistry"
    (row,) = [a for a in run.json["attestations"] if a["custodian"] == "custodian-a"]
    assert row["signers"] == [A_SIGNERS[0]]


def test_registry_not_pinned_by_the_policy_is_refused(net: Net, rwork: Workdir) -> None:
    bundle = rwork.write(rwork.bundle_doc())
    pin_registry(rwork.policy, None)
    run = verify_cli(bundle, rwork, "--from-registry", f"31337:{net.registry}")
    assert_refused(run, rwork, None, code=2, kinds={"input_error"}, words=["[registry]"])
    # pinned: another address (or chain) on the command line is refused, not read
    pin_registry(rwork.policy, net.registry)
    for other in (NOBODY, f"31338:{net.registry}"):
        run = verify_cli(bundle, rwork, "--from-registry", other)
        assert_refused(run, rwork, None, code=2, kinds={"input_error"}, words=["policy pins"])


def test_pinned_registry_without_code_is_a_failed_claim(net: Net, rwork: Workdir) -> None:
    bundle = rwork.write(rwork.bundle_doc())
    pin_registry(rwork.policy, NOBODY)
    run = verify_cli(bundle, rwork, "--from-registry", NOBODY)
    assert_refused(
        run, rwork, None, code=1, kinds={"registry_untrusted"}, words=["no contract code"]
    )
    assert run.json["registry"]["code"] == "none"


def lie_about(registry: str) -> Rewrite:
    """A FaultProxy rewrite: the last hex digit of every ``eth_call`` answer from ``registry``
    changed."""

    def rewrite(call: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        params = call.get("params") or [{}]
        to = params[0].get("to", "") if isinstance(params[0], dict) else ""
        result = answer.get("result")
        if call.get("method") != "eth_call" or str(to).lower() != registry.lower():
            return answer
        if not isinstance(result, str) or len(result) <= 2:
            return answer
        return {**answer, "result": result[:-1] + ("0" if result[-1] != "0" else "1")}

    return rewrite


def test_endpoints_that_disagree_on_the_registry_stop_the_run(net: Net, rwork: Workdir) -> None:
    bundle = rwork.write(rwork.bundle_doc())
    with FaultProxy(net.url, rewrite=lie_about(net.registry)) as liar:
        run = verify_cli(
            bundle,
            rwork,
            "--from-registry",
            net.registry,
            "--rpc",
            f"31337={net.url}",
            "--rpc",
            f"31337={liar.url}",
        )
    assert_refused(run, rwork, None, code=3, kinds={"endpoints_disagree"}, words=["disagree"])


def test_edited_registry_evidence_fails_recheck_with_rpc(net: Net, rwork: Workdir) -> None:
    bundle = rwork.write(rwork.bundle_doc())
    out = rwork.path / "result.json"
    run = verify_cli(bundle, rwork, "--from-registry", net.registry, "--output", str(out))
    assert run.code == 0, run.stdout + run.stderr
    doc = json.loads(out.read_text())
    # the edit: the registry is said to hold A's *first* key's signature (taken from the
    # bundle, so it recovers), and the check says so; the counted signers do not change
    entry = custodian(rwork.bundle_doc(), "custodian-a")
    first = next(s for s in entry["signatures"] if s["signer"] == A_SIGNERS[0])
    (record,) = [r for r in doc["registry"]["records"] if r["custodian"] == "custodian-a"]
    assert record["signer"] == A_SIGNERS[1]
    record["signer"], record["signature"] = A_SIGNERS[0], first["signature"]
    for check in doc["checks"]:
        if check["id"] == "attestation:custodian-a:registry":
            check["detail"] = check["detail"].replace(A_SIGNERS[1], A_SIGNERS[0])
    del doc["digest"]
    edited = rwork.path / "edited.json"
    edited.write_text(json.dumps(seal(doc), indent=1))
    # offline, the registry section cannot be read again: carried over, and named so
    offline = porv(["recheck", str(edited), "--format", "json"])
    assert offline.code == 0, offline.stdout + offline.stderr
    assert "registry" in offline.json["carried_over"]
    # with --rpc, porv reads the pinned registry again through verify's reader
    online = porv(["recheck", str(edited), "--rpc", f"31337={net.url}", "--format", "json"])
    assert online.code == 1, online.stdout + online.stderr
    assert "Traceback" not in online.stderr
    assert online.json["status"] != "verified"
    assert "registry" in online.stdout
    # the unedited result re-derives with --rpc, registry included
    clean = porv(["recheck", str(out), "--rpc", f"31337={net.url}", "--format", "json"])
    assert clean.code == 0, clean.stdout + clean.stderr
    assert "registry" not in clean.json["carried_over"]


def test_endpoints_that_disagree_on_the_feed_stop_the_run(net: Net, rwork: Workdir) -> None:
    # the policy's [feed] (here the registry's AggregatorV3Interface), no --from-registry
    bundle = rwork.write(rwork.bundle_doc())
    with rwork.policy.open("a") as fh:
        fh.write(f'\n[feed]\nchain_id = 31337\naddress = "{net.registry}"\n')
    ok = verify_cli(bundle, rwork, state=False)
    assert ok.code == 0, ok.stdout + ok.stderr
    assert int(ok.json["feed"]["answer"]) > 0
    with FaultProxy(net.url, rewrite=lie_about(net.registry)) as liar:
        run = verify_cli(bundle, rwork, "--rpc", f"31337={net.url}", "--rpc", f"31337={liar.url}")
    assert_refused(run, rwork, None, code=3, kinds={"endpoints_disagree"}, words=["disagree"])


def test_a_lagging_endpoint_cannot_hide_a_newer_registry_sequence(tmp_path: Path) -> None:
    # the registry holds sequence 2 for A, the bundle is sequence 1 (stale); an endpoint one
    # block behind has not seen sequence 2: its lower head must not choose the read block
    with registry_world(tmp_path / "files") as world:
        work = new_workdir(tmp_path / "work", world.files)
        doc = work.bundle_doc()
        newer = replace(message(custodian(doc, "custodian-a")), sequence=2)
        sig = secp256k1.sign(attestation_digest(newer), KEYS["a"][1])
        reg.submit_attestation(world.url, world.registry, newer.to_json(), sig)
        bundle = work.write(doc)
        honest = verify_cli(bundle, work, "--from-registry", world.registry)
        assert_refused(honest, work, None, code=1, kinds={"rollback"}, words=["sequence 2"])
        with FaultProxy(world.url, Fault.LAG, lag=1) as behind:
            for urls in ((world.url, behind.url), (behind.url, world.url)):
                rpc = [f"--rpc=31337={u}" for u in urls]
                run = verify_cli(bundle, work, "--from-registry", world.registry, *rpc)
                assert_refused(
                    run,
                    work,
                    None,
                    code=3,
                    kinds={"not_final"},
                    words=[f"endpoint {behind.url} is behind", "chain 31337"],
                )
                assert "registry" not in run.json


def test_a_lagging_endpoint_cannot_choose_the_feed_block(net: Net, rwork: Workdir) -> None:
    bundle = rwork.write(rwork.bundle_doc())
    with rwork.policy.open("a") as fh:
        fh.write(f'\n[feed]\nchain_id = 31337\naddress = "{net.registry}"\n')
    with FaultProxy(net.url, Fault.LAG, lag=1) as behind:
        run = verify_cli(bundle, rwork, "--rpc", f"31337={net.url}", "--rpc", f"31337={behind.url}")
    assert_refused(
        run, rwork, None, code=3, kinds={"not_final"}, words=[f"endpoint {behind.url} is behind"]
    )
    assert "feed" not in run.json
