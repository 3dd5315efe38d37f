"""The whole story on throwaway chains: what ``porv demo`` runs, and what the e2e tests reuse.

An issuer deploys its token on two chains and mints (some to a treasury the policy excludes);
two custodians build trees of their holdings and sign attestations (custodian A: 2-of-3
secp256k1 keys, EIP-712, or in ``porv demo`` a 2-of-3 Safe those keys own; custodian B: 2-of-3
BLS keys, one aggregate); two auditors co-sign a ReserveReport with BLS; the issuer assembles
the bundle; the holder writes a policy pinning all of that and runs the verifier. A mint made
after ``as_of`` must not count.

All keys are derived from fixed labels: they are demo keys, never to hold value.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from verifier.devnet.scenarios import DevnetInfo
from verifier.errors import InputError
from verifier.local.loaders import parse_holdings_csv
from verifier.local.state import atomic_write_text
from verifier.merkle.tree import StandardMerkleTree
from verifier.model.attestation import AttestationMessage, SignatureEntry
from verifier.model.bundle import BundleDeployment, TokenInfo, assemble
from verifier.model.timeutil import utc_date
from verifier.signatures import bls, secp256k1
from verifier.signatures.eip712 import attestation_digest, report_digest
from verifier.signatures.signing import message_for_tree, sign_entries

ISSUER = "Example Issuer Ltd"
SYMBOL = "pUSD"
CURRENCY = "USD"
DECIMALS = 6
#: Holdings scale for the built-in demo scenario: 25 × 9.75M USD = 243.75M of reserves against
#: 210M pUSD circulating (150M + 60M; the 35M in treasuries is excluded).
DEMO_SCALE = 25
_SECP_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_BLS_R = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001


def demo_secret(label: str, scheme: str) -> bytes:
    """A deterministic demo secret key for ``label`` (never use for value)."""
    seed = int.from_bytes(hashlib.sha256(f"porv-demo/{scheme}/{label}".encode()).digest(), "big")
    order = _SECP_N if scheme == "secp256k1" else _BLS_R
    return (seed % (order - 1) + 1).to_bytes(32, "big")


def _date(ts: int, days: int) -> str:
    return (datetime.fromtimestamp(ts, tz=UTC) + timedelta(days=days)).date().isoformat()


def holdings_csv(custodian: str, as_of: int, scale: int) -> str:
    """Demo holdings for a custodian, dated relative to ``as_of``, in major units × ``scale``.

    Custodian ``a`` holds bank deposits and short T-bills; ``b`` holds an overnight reverse
    repo on Treasuries, a government money fund and cash.
    """
    header = "holding_id,asset_class,currency,amount,maturity,counterparty,country,rating,"
    header += "collateral,collateral_value\n"
    if custodian == "a":
        rows = [
            f"A-DEP-1,bank_deposit_demand,USD,{1_200_000 * scale}.00,,Bank One NA,US,A+,,",
            f"A-DEP-2,bank_deposit_demand,USD,{800_000 * scale}.50,,Bank Two NA,US,AA-,,",
            f"A-TB-1,sovereign_debt,USD,{1_500_000 * scale}.00,{_date(as_of, 28)},US Treasury,"
            "US,AA+,,",
            f"A-TB-2,sovereign_debt,USD,{1_000_000 * scale}.00,{_date(as_of, 63)},US Treasury,"
            "US,AA+,,",
            f"A-TB-3,sovereign_debt,USD,{500_000 * scale}.00,{_date(as_of, 91)},US Treasury,"
            "US,AA+,,",
        ]
    else:
        rows = [
            f"B-REPO-1,reverse_repo,USD,{3_000_000 * scale}.00,{_date(as_of, 1)},Dealer One,US,"
            f"A,sovereign_debt,{3_060_000 * scale}.00",
            f"B-MMF-1,mmf_government,USD,{1_500_000 * scale}.00,,Gov Fund,US,AAA,,",
            f"B-CASH-1,cash,USD,{250_000 * scale}.25,,Custody Cash,US,,,",
        ]
    return header + "\n".join(rows) + "\n"


@dataclass
class ChainDeployment:
    """One chain of the demo: its URL and the token deployed there.

    ``excluded``: every address the policy and bundle exclude from the supply; None (the
    demo's case) means just the ``treasury``.
    """

    chain_id: int
    url: str
    token: str
    treasury: str
    excluded: tuple[str, ...] | None = None

    def excluded_addresses(self) -> tuple[str, ...]:
        """The addresses excluded from the supply on this chain."""
        return (self.treasury,) if self.excluded is None else self.excluded


@dataclass(frozen=True)
class DemoSafe:
    """A Safe that signs for custodian A: its chain, address, and owner keys that sign (at
    least the Safe's threshold, as its owners)."""

    chain_id: int
    address: str
    signing_keys: tuple[bytes, ...]


def demo_safe(net: DevnetInfo) -> DemoSafe | None:
    """The demo scenario's Safe (custodian A's keys own it, 2 of 3), signing with keys 0 and 1;
    None when the devnet has no Safe."""
    if not net.safes:
        return None
    safe = net.safes[0]
    return DemoSafe(safe.chain_id, safe.address, tuple(custodian_keys()["a"][: safe.threshold]))


def sign_safe(msg: AttestationMessage, safe: DemoSafe) -> list[SignatureEntry]:
    """One entry naming the Safe: its owners' signatures over its SafeMessage of the digest,
    sorted by owner address and concatenated (:func:`verifier.app.attest.sign_for_safe`)."""
    from verifier.app.attest import sign_for_safe

    digest = attestation_digest(msg)
    return [sign_for_safe(digest, safe.address, safe.chain_id, list(safe.signing_keys), ())]


@dataclass
class DemoFiles:
    """Where the demo wrote its files, and what a test may want to tamper with."""

    workdir: Path
    policy: Path
    bundle: Path
    state: Path
    as_of: int
    trees: dict[str, Path] = field(default_factory=dict)
    attestations: dict[str, Path] = field(default_factory=dict)
    operator_key: bytes = b""


def custodian_keys() -> dict[str, Any]:
    """The demo's keys: custodian A secp256k1 ×3, custodian B BLS ×3, auditors BLS ×2."""
    a = [demo_secret(f"custodian-a/{i}", "secp256k1") for i in range(3)]
    b = [demo_secret(f"custodian-b/{i}", "bls") for i in range(3)]
    aud = [demo_secret(f"auditor/{i}", "bls") for i in range(2)]
    return {"a": a, "b": b, "auditors": aud}


def sign_secp256k1(msg: AttestationMessage, keys: Sequence[bytes]) -> list[SignatureEntry]:
    """One secp256k1 entry per key over the EIP-712 digest."""
    return sign_entries(msg, keys, "secp256k1")


def sign_bls(msg: AttestationMessage, keys: Sequence[bytes]) -> list[SignatureEntry]:
    """One BLS aggregate entry by all ``keys`` over the EIP-712 digest."""
    return sign_entries(msg, keys, "bls")


def _toml_str(value: str) -> str:
    from verifier.model.policy import toml_string

    return toml_string(value)


#: The demo's custodians: custodian A signs with secp256k1 keys, custodian B with BLS keys.
CUSTODIANS: tuple[str, ...] = ("custodian-a", "custodian-b")


def policy_toml(
    deployments: Sequence[ChainDeployment],
    keys: dict[str, Any],
    *,
    jurisdictions: Sequence[str] = ("genius", "hkma", "mas"),
    finality: str | int = "latest",
    issuer: str = ISSUER,
    token: TokenInfo | None = None,
    custodians: Sequence[str] = CUSTODIANS,
    fx_date: str | None = None,
    safe: DemoSafe | None = None,
) -> str:
    """The holder's policy pinning the demo's deployments, keys and endpoints.

    ``fx_date`` (``YYYY-MM-DD``, the reserve's date) pins a USD/HKD rate of 7.80 on that day
    under ``[fx]`` (the centre of the Hong Kong dollar's 7.75-7.85 band), so the HKMA capital
    floor (HKD 25M) is compared with the USD capital the demo discloses.

    ``finality`` is written for every demo chain under ``[finality]``: ``"latest"`` by default,
    because the demo's local chains report no real finalized block (anvil's trails its head by
    64 blocks, the others' is the head). ``issuer``, ``token`` (default: the demo's pUSD) and
    ``custodians`` (a subset of :data:`CUSTODIANS`) let another scenario reuse the demo's keys.
    With ``safe``, custodian A is a Safe custodian: the policy pins the Safe under ``eip1271``
    (threshold 1: the Safe itself enforces its 2 of 3 owners).
    """
    tok = token or TokenInfo(SYMBOL, CURRENCY, DECIMALS)
    lines = [
        'format = "porv.policy/1"',
        f"issuer = {_toml_str(issuer)}",
        f"token = {_toml_str(tok.symbol)}",
        f"currency = {_toml_str(tok.currency)}",
        f"decimals = {tok.decimals}",
        "jurisdictions = [" + ", ".join(_toml_str(j) for j in jurisdictions) + "]",
        'max_age = "35d"',
        'min_coverage = "1.00"',
        "",
    ]
    for d in deployments:
        lines += [
            "[[deployments]]",
            f"chain_id = {d.chain_id}",
            f'address = "{d.token}"',
            "excluded = [" + ", ".join(f'"{a}"' for a in d.excluded_addresses()) + "]",
            "",
        ]
    signers = ", ".join(f'"{secp256k1.address_of(k)}"' for k in keys["a"])
    if "custodian-a" in custodians and safe is not None:
        lines += ["[[custodians]]", 'id = "custodian-a"', "# a Safe (EIP-1271), 2 of 3 owners"]
        lines += [f'eip1271 = [{{ chain_id = {safe.chain_id}, address = "{safe.address}" }}]']
        lines += ["threshold = 1", ""]
    elif "custodian-a" in custodians:
        lines += ["[[custodians]]", 'id = "custodian-a"', f"signers = [{signers}]"]
        lines += ["threshold = 2", ""]

    def bls_list(sks: Sequence[bytes]) -> str:
        items = [
            f'{{ pubkey = "0x{bls.secret_to_pubkey(k).hex()}", '
            f'pop = "0x{bls.pop_prove(k).hex()}" }}'
            for k in sks
        ]
        return "[\n  " + ",\n  ".join(items) + ",\n]"

    if "custodian-b" in custodians:
        lines += [
            "[[custodians]]",
            'id = "custodian-b"',
            f"bls = {bls_list(keys['b'])}",
            "threshold = 2",
            "",
        ]
    lines += ["[auditors]", f"bls = {bls_list(keys['auditors'])}", "threshold = 2", ""]
    lines += ["[rpc]"]
    lines += [f'"{d.chain_id}" = ["{d.url}"]' for d in deployments]
    value = f'"{finality}"' if isinstance(finality, str) else str(finality)
    lines += ["", "[finality]"]
    lines += [f'"{d.chain_id}" = {value}' for d in deployments]
    if fx_date is not None and tok.currency == "USD":
        lines += ["", "[fx]", f'"USD/HKD" = {{ rate = "7.80", as_of = "{fx_date}" }}']
    return "\n".join(lines) + "\n"


def write_demo_files(
    workdir: Path,
    deployments: Sequence[ChainDeployment],
    *,
    as_of: int,
    scale: int = DEMO_SCALE,
    valid_days: int = 30,
    sequence: int = 1,
    mutate: Callable[[dict[str, Any]], None] | None = None,
    finality: str | int = "latest",
    holdings: Mapping[str, str] | None = None,
    issuer: str = ISSUER,
    token: TokenInfo | None = None,
    jurisdictions: Sequence[str] = ("genius", "hkma", "mas"),
    safe: DemoSafe | None = None,
) -> DemoFiles:
    """Build trees, sign, assemble the bundle and write the policy into ``workdir``.

    Args:
        mutate: optional hook that may edit the bundle document before it is written
            (attack tests use it).
        finality: the policy's finality for every demo chain (see :func:`policy_toml`).
        holdings: custodian id (of :data:`CUSTODIANS`) -> its holdings CSV text; only these
            custodians are in the bundle and the policy. Default: the demo's holdings
            (:func:`holdings_csv`) for both.
        issuer, token, jurisdictions: written into the bundle and the policy (default: the
            demo's issuer and pUSD, and the demo's jurisdictions).
        safe: custodian A signs as this Safe (:func:`demo_safe`), pinned under ``eip1271``;
            default: with its keys directly.

    Raises:
        InputError: a custodian id that is not one of :data:`CUSTODIANS`.
        CsvError: a holdings CSV breaks a rule of DESIGN §2.
    """
    if holdings is None:
        holdings = {cid: holdings_csv(cid[-1], as_of, scale) for cid in CUSTODIANS}
    unknown = sorted(set(holdings) - set(CUSTODIANS))
    if unknown or not holdings:
        raise InputError(
            f"unknown demo custodian {unknown[0]!r}" if unknown else "no custodian holdings",
            hint=f"the demo's keys sign for: {', '.join(CUSTODIANS)}",
        )
    tok = token or TokenInfo(SYMBOL, CURRENCY, DECIMALS)
    workdir.mkdir(parents=True, exist_ok=True)
    keys = custodian_keys()
    files = DemoFiles(
        workdir=workdir,
        policy=workdir / "policy.toml",
        bundle=workdir / "bundle.json",
        state=workdir / "state",
        as_of=as_of,
        operator_key=demo_secret("operator", "secp256k1"),
    )
    valid_until = as_of + valid_days * 86400
    parts: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    digests: list[bytes] = []
    for cid in (c for c in CUSTODIANS if c in holdings):
        short = cid[-1]
        csv_path = workdir / f"{cid}.csv"
        atomic_write_text(csv_path, holdings[cid])
        tree = StandardMerkleTree.of(parse_holdings_csv(csv_path))
        tree_path = workdir / f"{cid}.tree.json"
        atomic_write_text(tree_path, json.dumps(tree.dump(), indent=1) + "\n")
        msg = message_for_tree(
            tree,
            issuer=issuer,
            token=tok.symbol,
            custodian=cid,
            as_of=as_of,
            valid_until=valid_until,
            sequence=sequence,
        )
        entries = (
            sign_bls(msg, keys["b"][:2])
            if short != "a"
            else sign_secp256k1(msg, keys["a"][:2])
            if safe is None
            else sign_safe(msg, safe)
        )
        att = {
            "format": "porv.attestation/1",
            "domain": {"name": "porv", "version": "1"},
            "message": msg.to_json(),
            "signatures": [e.to_json() for e in entries],
        }
        att_path = workdir / f"{cid}.attestation.json"
        atomic_write_text(att_path, json.dumps(att, indent=1) + "\n")
        files.trees[cid] = tree_path
        files.attestations[cid] = att_path
        parts.append((cid, tree.dump(), att))
        digests.append(attestation_digest(msg))
    report = report_digest(issuer, tok.symbol, as_of, digests)
    auditor_sig = bls.aggregate([bls.sign(report, k) for k in keys["auditors"]])
    doc = assemble(
        issuer=issuer,
        token=tok,
        as_of=as_of,
        deployments=[
            BundleDeployment(d.chain_id, d.token, d.excluded_addresses()) for d in deployments
        ],
        custodians=parts,
        auditor_report={
            "signers": ["0x" + bls.secret_to_pubkey(k).hex() for k in keys["auditors"]],
            "signature": "0x" + auditor_sig.hex(),
        },
        disclosures={"paid_up_capital": {"amount": "30000000", "currency": "USD"}},
    )
    if mutate is not None:
        mutate(doc)
    atomic_write_text(files.bundle, json.dumps(doc, indent=1) + "\n")
    policy = policy_toml(
        deployments,
        keys,
        finality=finality,
        issuer=issuer,
        token=tok,
        custodians=[c for c in CUSTODIANS if c in holdings],
        jurisdictions=jurisdictions,
        fx_date=utc_date(as_of),
        safe=safe,
    )
    atomic_write_text(files.policy, policy)
    return files


#: How far the demo chains' clocks run behind the wall clock (seconds).
CLOCK_LAG_S = 600


def start_demo_chains(kind: str) -> tuple[DevnetInfo, list[ChainDeployment], int]:
    """Start the demo scenario's two chains, pick ``as_of`` after its mints and make it final.

    The chains' clocks run :data:`CLOCK_LAG_S` behind the wall clock: a local chain stamps
    blocks mined in the same second one second apart, so a chain that keeps the wall clock's
    time runs ahead of it after a burst of deployments, and ``as_of`` would be later than the
    moment porv checks it.

    Returns:
        The devnet (stop it when done), the deployments, and ``as_of`` (unix seconds): the
        latest block time over both chains, so every mint so far is at or before it. One empty
        block after ``as_of`` is mined on each chain (:func:`seal_as_of`), so the pin at
        ``as_of`` is final under ``finality = "latest"``.
    """
    from verifier.devnet.scenarios import demo_scenario, run_scenario

    net = run_scenario(kind, demo_scenario(), genesis_time=int(time.time()) - CLOCK_LAG_S)
    try:
        deps = deployments_of(net)
        as_of = latest_time(deps)
        seal_as_of(deps, as_of)
    except BaseException:
        net.stop()
        raise
    return net, deps, as_of


def deployments_of(net: DevnetInfo) -> list[ChainDeployment]:
    """The token deployments of a running devnet (the treasury: its first excluded address)."""
    return [
        ChainDeployment(
            c.node.chain_id, c.node.url, c.token, c.excluded[0] if c.excluded else "", c.excluded
        )
        for c in net.chains
    ]


def latest_time(deployments: Sequence[ChainDeployment]) -> int:
    """The latest block time over the deployments' chains (unix seconds)."""
    from verifier.devnet.node import rpc_request

    return max(
        int(rpc_request(d.url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
        for d in deployments
    )


def seal_as_of(deployments: Sequence[ChainDeployment], as_of: int) -> None:
    """Mine one empty block after ``as_of`` on each chain, so that a pin at ``as_of`` exists
    and is final under ``finality = "latest"`` (DESIGN §1, "Final pin")."""
    from verifier.devnet.deploy import mine_after

    for d in {d.url: d for d in deployments}.values():
        mine_after(d.url, as_of)


def mint_after(deployment: ChainDeployment, as_of: int, amount: int) -> None:
    """Mint ``amount`` base units in a block strictly after ``as_of`` (must not count)."""
    from verifier.devnet.deploy import accounts, set_next_timestamp, token_mint

    set_next_timestamp(deployment.url, as_of + 5)
    holder = accounts(deployment.url)[4]
    token_mint(deployment.url, deployment.token, holder, amount)


def default_workdir() -> Path:
    """Where ``porv demo`` writes its files unless told otherwise."""
    return Path(os.environ.get("TMPDIR", "/tmp")) / f"porv-demo-{os.getpid()}"


def publish_demo_result(
    net: DevnetInfo, result: Mapping[str, Any], source: str, operator_key: bytes, *, now: int
) -> dict[str, Any]:
    """Attest the demo's verified result on EAS on chain 31337 and read it back.

    The demo's operator, who signed the result, is the attester (funded for gas by dev account
    0), so the read-back trusts exactly the result's signer, as ``porv recheck --eas`` does
    without ``--attester``.

    Returns:
        The publish report, with the read-back (``recheck_eas``'s section) under ``"readback"``.

    Raises:
        PorvError: Publishing or the read-back failed.
    """
    from verifier.app.eas import publish_eas, recheck_eas
    from verifier.devnet.deploy import accounts
    from verifier.devnet.node import rpc_request

    chain = net.chain(31337)
    if chain.eas is None:
        raise InputError('the demo chain 31337 has no EAS (the scenario\'s "eas": true)')
    url = chain.node.url
    operator = secp256k1.address_of(operator_key)
    fund = {"from": accounts(url)[0], "to": operator, "value": hex(10**18), "gas": hex(21000)}
    rpc_request(url, "eth_sendTransaction", [fund])
    report = publish_eas(result, source, 31337, chain.eas, url, operator_key, now=now)
    report["readback"] = recheck_eas(
        result,
        source,
        eas_opt=f"31337:{chain.eas}",
        uid_opt=str(report["uid"]),
        attester_opt=None,
        urls=[url],
        finality="latest",
        now=now,
    )
    return report
