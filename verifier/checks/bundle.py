"""The orchestrator: DESIGN §1 as numbered steps, with one clock read passed down.

Each step records a :class:`Check` (pass / fail / error / skipped) instead of stopping at the
first failed claim, so a holder sees everything that is wrong at once; an input that cannot be
read (exit 2) stops at once. Pure: nothing here reads a chain, a file or the clock, and nothing
writes. The supply read at the pinned blocks, the registry's records, the EIP-1271 wallets'
answers and the rollback floor come in as data; the updates to the floor come back in
:attr:`Outcome.accepted`, filled only when every check passed; the orchestrator
(:mod:`verifier.app.verify`) reads the evidence first and writes the result first, the state
second.

Steps (tags in the code below: ``# [n]``):

1. binding      the bundle speaks for the policy's issuer and token (symbol, currency, decimals)
2. as_of        the bundle's as_of is not in the future beyond a small clock skew
3. deployments  exactly the deployments the policy pins, with the policy's excluded addresses
4. supply       totalSupply − excluded balances at the last block ≤ as_of on every chain
5. attestations per custodian: pinned custodian, issuer/token/custodian/as_of binding,
                freshness (validUntil, max_age), distinct-key threshold, tree ↔ signed root,
                leaf count and totals, rollback floor
6. auditors     BLS aggregate over ReserveReport meets the auditors' threshold (if pinned)
7. holdings     no holding id under two custodians
8. coverage     eligible reserves ≥ circulating supply × min_coverage
9. rules        every rule of every jurisdiction pack the policy names passes
10. risk        market-risk capital estimate (reported; compared with disclosed capital)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from verifier.checks.evidence import (
    Evidence,
    RegistryEvidence,
    SupplyReport,
    WalletAsk,
    fx_section,
)
from verifier.checks.floor import Accepted, Floor
from verifier.errors import (
    AttestationMismatchError,
    ClaimFailedError,
    DeploymentMismatchError,
    DuplicateHoldingError,
    ExpiredError,
    FutureAsOfError,
    IncompleteError,
    InsufficientReservesError,
    PorvError,
    RegistryUntrustedError,
    RollbackError,
    RuleFailedError,
    SignatureInvalidError,
    ThresholdNotMetError,
)
from verifier.model.attestation import SignatureEntry
from verifier.model.bundle import Bundle, CustodianEntry
from verifier.model.disclosures import parse_disclosures
from verifier.model.holdings import Holding
from verifier.model.identity import identity_key
from verifier.model.numbers import display_ratio, exact, major
from verifier.model.policy import Policy
from verifier.model.timeutil import MAX_FUTURE_SKEW_S, format_rfc3339
from verifier.model.version import VERSION
from verifier.result.seal import RESULT_FORMAT
from verifier.result.verdict import exit_code, verdict
from verifier.rules import evaluate, load_pack
from verifier.rules.report import COMPACT_LISTED, MAX_LISTED
from verifier.rules.risk import capital_from_disclosures, market_risk
from verifier.signatures import (
    ONE_KEY_ONE_VOTE,
    check_attestation_against_tree,
    count_signatures,
    secp256k1,
)
from verifier.signatures.eip712 import attestation_digest, report_digest
from verifier.signatures.wallet_keys import wallet_keys

#: Registry evidence for a custodian the registry was not asked about (treated as absent).
_ABSENT = RegistryEvidence("", False, 0, b"\0" * 32, "")


def as_of_in_future(as_of: int, now: int) -> bool:
    """Step 2's rule: ``as_of`` is beyond the allowed clock skew (no pin at it can be final).

    The orchestrator uses it too: supply is not read for such a bundle.
    """
    return as_of > now + MAX_FUTURE_SKEW_S


def pinned_blocks(supply: SupplyReport | PorvError | None) -> dict[int, int]:
    """Chain id -> the block supply pinned on it (empty when supply was not read).

    EIP-1271 wallets are asked at these blocks (else at the head), so a result re-derives the
    same way later.
    """
    if not isinstance(supply, SupplyReport):
        return {}
    return {d.chain_id: d.block_number for d in supply.deployments}


def wallet_asks(bundle: Bundle, policy: Policy) -> list[tuple[str, WalletAsk]]:
    """The EIP-1271 questions a verification needs, in the order the counter meets them.

    Per attestation of a pinned custodian, the first secp256k1 entry naming each wallet the
    policy pins for it: one round trip per pinned wallet and attestation (a wallet votes once;
    entries repeating it are refused without asking, see the signatures step). Entries naming
    anything else need no round trip.

    Returns:
        ``(custodian id, (chain id, wallet, digest, signature))`` for each question.
    """
    pinned = {c.id: c for c in policy.custodians}
    asks: list[tuple[str, WalletAsk]] = []
    for entry in bundle.custodians:
        cpol = pinned.get(entry.id)
        if cpol is None or not cpol.eip1271:
            continue
        chains = {w.address: w.chain_id for w in cpol.eip1271}
        digest = attestation_digest(entry.message)
        asked: set[str] = set()
        for sig in entry.signatures:
            wallet = sig.signer or ""
            if sig.scheme != "secp256k1" or wallet not in chains or wallet in asked:
                continue
            asked.add(wallet)
            asks.append((entry.id, (chains[wallet], wallet, digest, sig.signature)))
    return asks


def keys_of_other_custodians(bundle: Bundle, policy: Policy) -> dict[str, dict[str, str]]:
    """Per pinned custodian, the secp256k1 keys that speak for another custodian (address ->
    why): every key another custodian pins, and every key porv recovers from the signature
    entry of another custodian's pinned wallet (the one :func:`wallet_asks` asks about). A
    wallet vote carrying one of them does not count (``count_signatures(foreign=...)``): the
    policy refuses a key pinned for two custodians, and a key behind a wallet is no different.

    Only *recovered* keys of another custodian's wallet are taken (a signature over a hash of
    that custodian's digest, which only that key can make), never the owners a Safe chunk only
    names: another custodian could name anyone.
    """
    speaks: dict[str, dict[str, str]] = {c.id: {} for c in policy.custodians}
    for cust in policy.custodians:
        for signer in cust.signers:
            speaks[cust.id].setdefault(signer, f"is pinned for custodian {cust.id!r}")
        for w in cust.eip1271:
            speaks[cust.id].setdefault(w.address, f"is pinned for custodian {cust.id!r}")
    asks = wallet_asks(bundle, policy) if len(policy.custodians) > 1 else []
    for cid, (chain_id, wallet, digest, signature) in asks:
        found = wallet_keys(digest, signature, wallet=wallet, chain_id=chain_id)
        for key in found.recovered:
            speaks[cid].setdefault(
                key, f"also signs custodian {cid!r}'s attestation through its wallet {wallet}"
            )
    own = {c.id: set(c.signers) | {w.address for w in c.eip1271} for c in policy.custodians}
    return {
        cid: {
            k: why
            for other, keys in speaks.items()
            if other != cid
            for k, why in keys.items()
            if k not in own[cid]  # a key this custodian pins speaks for it
        }
        for cid in speaks
    }


@dataclass
class Check:
    """The outcome of one numbered step (or sub-step) of DESIGN §1."""

    step: str
    id: str
    outcome: str  # pass | fail | error | skipped
    detail: str
    kind: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "step": self.step,
            "id": self.id,
            "outcome": self.outcome,
            "detail": self.detail,
        }
        if self.kind:
            out["kind"] = self.kind
        return out


@dataclass
class Outcome:
    """What :func:`verify_bundle` found: the result document and the errors behind it."""

    result: dict[str, Any]
    failures: list[PorvError] = field(default_factory=list)
    #: (issuer, token, custodian) -> the attestation to record as the new rollback floor;
    #: empty unless the status is ``verified``. The orchestrator records it, after the result.
    accepted: dict[tuple[str, str, str], Accepted] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return str(self.result["status"])

    @property
    def exit_code(self) -> int:
        return exit_code(self.status)


class _Run:
    """Collects checks; a claim failure is recorded and the run goes on."""

    def __init__(self) -> None:
        self.checks: list[Check] = []
        self.failures: list[PorvError] = []

    @contextmanager
    def step(self, step: str, check_id: str, ok_detail: str = "ok") -> Iterator[Check]:
        check = Check(step, check_id, "pass", ok_detail)
        self.checks.append(check)
        try:
            yield check
        except ClaimFailedError as exc:
            check.outcome, check.detail, check.kind = "fail", exc.message, exc.kind
            self.failures.append(exc)
        except IncompleteError as exc:
            check.outcome, check.detail, check.kind = "error", exc.message, exc.kind
            self.failures.append(exc)

    def skip(self, step: str, check_id: str, why: str) -> None:
        self.checks.append(Check(step, check_id, "skipped", why))

    @property
    def status(self) -> str:
        return verdict(c.outcome for c in self.checks)


def _major(amount: int, decimals: int) -> Decimal:
    return major(amount, decimals)


def _dec(value: Decimal) -> str:
    """Exact decimal string, no exponent (normalised without rounding)."""
    with exact():
        return format(value.normalize(), "f") if value != 0 else "0"


def verify_bundle(
    bundle: Bundle,
    policy: Policy,
    *,
    now: int,
    supply: SupplyReport | PorvError | None,
    floor: Floor | None = None,
    evidence: Evidence | None = None,
    inputs: Mapping[str, Any] | None = None,
    detail: bool = False,
) -> Outcome:
    """Run the numbered steps of DESIGN §1 over a parsed bundle and policy. Pure: no chain,
    file or clock is read; every input is an argument.

    Args:
        now: the one clock read of this run (unix seconds), passed down to every step.
        supply: circulating supply read at the policy's pins for ``bundle.as_of``, or the
            error (``ClaimFailedError`` or ``IncompleteError``) that reading raised: step 4 records
            it. None: not read, which is right only when ``as_of`` is in the future
            (:func:`as_of_in_future`; step 4 is skipped then); otherwise step 4 is an error.
        floor: the rollback floor (read-only; None: no floor kept). Nothing is written here:
            what to record comes back in :attr:`Outcome.accepted`.
        evidence: the registry's records per custodian (``--from-registry``; its digest must
            be the bundle attestation's, its sequence not newer, and the key porv recovers from
            its stored signature counts as one signature if the policy pins it) and the
            EIP-1271 wallets' verdicts (:func:`wallet_asks` lists the questions); a wallet
            entry without a verdict counts as not signed.
        inputs: what the result records under ``inputs`` (paths and hashes).
        detail: the detailed result (``porv verify --detail``): per-holding risk inputs and
            up to MAX_LISTED ineligible and unconverted holdings. Without it (the compact
            result) those sections keep their totals, counts and maturity ladder, and list
            at most COMPACT_LISTED holdings each; the bundle re-derives the rest.

    Returns:
        The outcome: the result document (not yet sealed), the failures behind it, and the
        floor updates to record if it is ``verified``.
    """
    run = _Run()
    evidence = evidence or Evidence()
    registry = evidence.registry
    as_of = bundle.as_of

    # [1] binding: the bundle speaks for the issuer and token the holder pinned
    with run.step("1", "binding", "bundle names the pinned issuer and token"):
        wrong = [
            f"{name}: policy {want!r}, bundle {got!r}"
            for name, want, got in (
                ("issuer", policy.issuer, bundle.issuer),
                ("token", policy.token, bundle.token.symbol),
                ("currency", policy.currency, bundle.token.currency),
                ("decimals", policy.decimals, bundle.token.decimals),
            )
            if want != got
        ]
        if wrong:
            raise AttestationMismatchError(
                "bundle is for another issuer or token (mix-and-match): " + "; ".join(wrong)
            )

    # [2] as_of: not in the future beyond the allowed skew (never final: exit 3); within the
    #     skew, the chains decide in [4]: the pin holds only once a block after as_of exists
    future = as_of_in_future(as_of, now)
    with run.step("2", "as_of", f"as_of {format_rfc3339(as_of)} is not in the future"):
        if future:
            raise FutureAsOfError(
                f"not final yet: bundle as_of {format_rfc3339(as_of)} is {as_of - now} s in the "
                f"future (allowed skew {MAX_FUTURE_SKEW_S} s)",
                hint="a reserve cannot be attested for a time that has not come",
            )

    # [3] deployments: exactly the pinned ones, with the pinned exclusions
    with run.step("3", "deployments", f"{len(policy.deployments)} pinned deployment(s)"):
        pinned = {(d.chain_id, d.address): tuple(sorted(d.excluded)) for d in policy.deployments}
        listed = {(d.chain_id, d.address): tuple(sorted(d.excluded)) for d in bundle.deployments}
        problems = [f"omitted {c}:{a}" for (c, a) in pinned.keys() - listed.keys()]
        problems += [f"not pinned {c}:{a}" for (c, a) in listed.keys() - pinned.keys()]
        problems += [
            f"excluded addresses of {c}:{a} differ from the policy's"
            for (c, a) in pinned.keys() & listed.keys()
            if pinned[(c, a)] != listed[(c, a)]
        ]
        if problems:
            raise DeploymentMismatchError(
                "bundle deployments are not the pinned ones: " + "; ".join(sorted(problems)),
                hint="supply is read from the policy's pins only; a bundle cannot add or drop one",
            )

    # [4] supply at the pinned blocks (always from the policy's pins, never the bundle's)
    report: SupplyReport | None = None
    if future:
        run.skip("4", "supply", "as_of is in the future: no pin at as_of can be final")
    else:
        with run.step("4", "supply") as check:
            if isinstance(supply, PorvError):
                raise supply
            if supply is None:
                raise IncompleteError("supply was not read at the policy's pins")
            report = supply
            check.detail = (
                f"circulating {_dec(_major(report.total_circulating, report.decimals))} "
                f"{policy.currency} on {len(report.deployments)} deployment(s)"
                + _rounding_note(report)
            )

    # [5] attestations, per custodian
    att_rows: list[dict[str, Any]] = []
    digests: list[bytes] = []
    accepted: dict[tuple[str, str, str], Accepted] = {}
    pinned_custodians = {c.id: c for c in policy.custodians}
    foreign = keys_of_other_custodians(bundle, policy)
    for entry in bundle.custodians:
        digest = attestation_digest(entry.message)
        digests.append(digest)
        row, acc = _check_custodian(
            run,
            entry,
            digest,
            policy,
            pinned_custodians,
            now,
            as_of,
            floor,
            evidence.wallets,
            None if registry is None else registry.get(entry.id, _ABSENT),
            foreign.get(entry.id, {}),
        )
        att_rows.append(row)
        if acc is not None:
            accepted[(policy.issuer, policy.token, entry.id)] = acc
    for cid in sorted(pinned_custodians.keys() - {e.id for e in bundle.custodians}):
        run.skip(
            "5", f"attestation:{cid}", "pinned custodian not in the bundle: no reserves counted"
        )

    # [6] auditors
    if policy.auditors is None:
        run.skip("6", "auditors", "the policy names no auditors")
    else:
        with run.step("6", "auditors") as check:
            check.detail = _check_auditors(bundle, policy, digests)

    # [7] holdings: no holding id under two custodians
    holdings: list[Holding] = []
    with run.step("7", "holdings") as check:
        # ids are compared by identity_key: invisible characters, look-alike dashes and
        # letters, and case cannot make one holding two (the messages show the ids as written)
        owner: dict[str, tuple[str, str]] = {}
        dups: list[str] = []
        for entry in bundle.custodians:
            for h in entry.tree.holdings:
                key = identity_key(h.holding_id)
                first = owner.setdefault(key, (entry.id, h.holding_id))
                if first[0] != entry.id and first[1] == h.holding_id:
                    dups.append(f"{h.holding_id!r} ({first[0]} and {entry.id})")
                elif first[0] != entry.id:
                    dups.append(
                        f"{h.holding_id!r} ({entry.id}) looks like {first[1]!r} ({first[0]})"
                    )
                holdings.append(h)
        if dups:
            raise DuplicateHoldingError(
                "holding counted under two custodians: "
                + ", ".join(dups[:5])
                + (f" and {len(dups) - 5} more" if len(dups) > 5 else "")
            )
        check.detail = f"{len(holdings)} holding(s) across {len(bundle.custodians)} custodian(s)"

    # [8] coverage and [9] rules
    reserves = _reserves(bundle, policy.currency)
    coverage: dict[str, Any] = {"min_coverage": _dec(policy.min_coverage)}
    rules_json: dict[str, Any] | None = None
    risk_json: dict[str, Any] | None = None
    as_of_date = datetime.fromtimestamp(as_of, tz=UTC).date()
    amounts = [major(h.amount, h.decimals) for h in holdings]  # for the packs and the risk
    if report is None:
        run.skip("8", "coverage", "supply could not be read")
        run.skip("9", "rules", "supply could not be read")
    else:
        s_major = _major(report.total_circulating, report.decimals)
        coverage["supply"] = _dec(s_major)
        rules_report = evaluate(
            holdings,
            packs=list(policy.jurisdictions),
            supply=s_major,
            currency=policy.currency,
            as_of=as_of_date,
            disclosures=bundle.disclosures,
            options=policy.pack_options,
            min_coverage=policy.min_coverage,
            issuer_type=policy.issuer_type,
            # rates from the policy only: pinned in [fx], or read from the feeds it names
            fx_rates=policy.fx_rates + evidence.fx_rates,
            fx_unusable=evidence.fx_unusable,
            amounts=amounts,
        )
        rules_json = rules_report.to_json(MAX_LISTED if detail else COMPACT_LISTED)
        with run.step("8", "coverage") as check:
            check.detail = _check_coverage(coverage, reserves, rules_report, s_major, policy)
        with run.step("9", "rules") as check:
            if not policy.jurisdictions:
                check.outcome, check.detail = "skipped", "the policy names no jurisdiction"
            elif not rules_report.passed:
                failed = [
                    f"{r.id} ({r.message})" if getattr(r, "message", "") else r.id
                    for r in rules_report.deciding_failures  # informational packs never decide
                ]
                raise RuleFailedError("rules failed: " + "; ".join(failed))
            else:
                check.detail = "every rule of " + ", ".join(policy.jurisdictions) + " passes"

    # [10] risk: reported, never decides the verdict
    capital = capital_from_disclosures(parse_disclosures(bundle.disclosures), policy.currency)
    risk = market_risk(
        holdings,
        currency=policy.currency,
        as_of=as_of_date,
        disclosed_capital=capital,
        amounts=amounts,
    )
    risk_json = risk.to_json(detail=detail)
    run.checks.append(Check("10", "risk", "pass", "market-risk capital estimate reported"))

    status = run.status

    result: dict[str, Any] = {
        "format": RESULT_FORMAT,
        "status": status,
        "verifier": {"name": "porv", "version": VERSION},
        "verified_at": format_rfc3339(now),
        "issuer": policy.issuer,
        "token": {"symbol": policy.token, "currency": policy.currency, "decimals": policy.decimals},
        "as_of": format_rfc3339(as_of),
        "inputs": dict(inputs or {}),
        "supply": _supply_json(report),
        "reserves": reserves,
        "coverage": coverage,
        "attestations": att_rows,
        "rules": rules_json,
        "risk": risk_json,
        "checks": [c.to_json() for c in run.checks],
        "detail": detail,
    }
    if policy.fx_feeds:  # what the [fx] feeds answered at the pins, so a recheck re-derives
        result["fx"] = fx_section(evidence.fx_rates, evidence.fx_unusable)
    return Outcome(
        result=result, failures=run.failures, accepted=accepted if status == "verified" else {}
    )


def _check_custodian(
    run: _Run,
    entry: CustodianEntry,
    digest: bytes,
    policy: Policy,
    pinned: Mapping[str, Any],
    now: int,
    as_of: int,
    floor: Floor | None,
    wallets: Mapping[WalletAsk, bool | PorvError],
    evidence: RegistryEvidence | None,
    foreign: Mapping[str, str],
) -> tuple[dict[str, Any], Accepted | None]:
    msg = entry.message
    cid = entry.id
    row: dict[str, Any] = {
        "custodian": cid,
        "digest": "0x" + digest.hex(),
        "root": "0x" + msg.holdings_root.hex(),
        "leaf_count": msg.leaf_count,
        "totals": [
            {"currency": t.currency, "amount": str(t.amount), "decimals": t.decimals}
            for t in msg.totals
        ],
        "as_of": format_rfc3339(msg.as_of),
        "valid_until": format_rfc3339(msg.valid_until),
        "sequence": msg.sequence,
    }

    def step(name: str, detail: str = "ok") -> Any:
        return run.step("5", f"attestation:{cid}:{name}", detail)

    n_before = len(run.failures)
    with step("binding", "names the pinned issuer, token, custodian and as_of"):
        if cid not in pinned:
            raise AttestationMismatchError(
                f"custodian {cid!r} is not pinned by the policy",
                hint="only custodians the holder pinned can vouch for reserves",
            )
        wrong = [
            f"{name}: expected {want!r}, signed {got!r}"
            for name, want, got in (
                ("issuer", policy.issuer, msg.issuer),
                ("token", policy.token, msg.token),
                ("custodian", cid, msg.custodian),
                ("asOf", format_rfc3339(as_of), format_rfc3339(msg.as_of)),
            )
            if want != got
        ]
        if wrong:
            raise AttestationMismatchError(
                f"attestation under custodian {cid!r} is for something else (mix-and-match): "
                + "; ".join(wrong)
            )

    n_fresh = len(run.failures)
    with step("freshness", f"valid until {format_rfc3339(msg.valid_until)}"):
        if now > msg.valid_until:
            raise ExpiredError(
                f"custodian {cid!r}: attestation expired at {format_rfc3339(msg.valid_until)} "
                f"(now {format_rfc3339(now)}) (freeze)"
            )
        if now - msg.as_of > policy.max_age:
            raise ExpiredError(
                f"custodian {cid!r}: attestation is {(now - msg.as_of) // 86400} days old, "
                f"above max_age {policy.max_age // 86400} days (freeze)"
            )
    row["fresh"] = len(run.failures) == n_fresh

    registry_signer: str | None = None
    if evidence is not None:
        with step("registry", "the registry holds this attestation") as check:
            registry_signer = _registry_signer(cid, evidence, digest, msg.sequence)
            check.detail = (
                f"sequence {evidence.sequence}; its stored signature recovers to "
                f"{registry_signer}"
                + (
                    ""
                    if cid in pinned and registry_signer in pinned[cid].signers
                    else " (not pinned)"
                )
            )

    with step("signatures") as check:
        cpol = pinned.get(cid)
        if cpol is None:
            raise ThresholdNotMetError(f"custodian {cid!r} has no pinned keys")

        asked: set[str] = set()

        def checker(wallet: str, dig: bytes, sig: bytes) -> bool:
            for w in cpol.eip1271:
                if w.address == wallet:
                    # one round trip per pinned wallet and attestation (wallet_asks): a wallet
                    # votes once, so entries repeating it cannot make porv ask again and again
                    if w.address in asked:
                        raise SignatureInvalidError(
                            f"{wallet} was already asked (EIP-1271) for this attestation; "
                            "one check per pinned wallet"
                        )
                    answer = wallets.get((w.chain_id, w.address, dig, sig))
                    if answer is None:
                        return False  # not asked (no chain to ask): not signed
                    asked.add(w.address)
                    if isinstance(answer, PorvError):
                        raise answer
                    return answer
            return False  # not a wallet the policy pins: no round trip

        sig_result = count_signatures(
            digest,
            entry.signatures,
            signers=cpol.signers,
            bls_keys=[k.pubkey for k in cpol.bls],
            threshold=cpol.threshold,
            eip1271=checker,
            eip1271_wallets=[w.address for w in cpol.eip1271],
            eip1271_chains={w.address: w.chain_id for w in cpol.eip1271},  # Safe message hash
            # recovered by porv from the stored signature: one more vote, one key counts once
            recovered=[("registry", registry_signer)] if registry_signer is not None else (),
            foreign=foreign,  # keys that speak for another custodian
        )
        signed = sig_result.signed
        row["signers"] = sorted(signed)
        row["threshold"] = cpol.threshold
        row["threshold_met"] = sig_result.ok
        rule = f" ({ONE_KEY_ONE_VOTE})" if cpol.eip1271 else ""
        if not sig_result.ok:
            raise sig_result.failure(
                f"custodian {cid!r}: {len(signed)} distinct pinned key(s) signed, "
                f"threshold {cpol.threshold}{rule}"
                + (f"; problems: {'; '.join(sig_result.problems)}" if sig_result.problems else "")
            )
        check.detail = f"{len(signed)} of threshold {cpol.threshold} pinned keys{rule}"

    with step("tree", f"{len(entry.tree)} holdings hash to the signed root"):
        check_attestation_against_tree(msg, entry.tree)

    with step("rollback", f"sequence {msg.sequence} does not roll back") as check:
        if floor is None:
            check.outcome, check.detail = "skipped", "no --state folder: no rollback floor kept"
        else:
            floor.check(policy.issuer, policy.token, cid, msg.sequence, "0x" + digest.hex())

    ok = len(run.failures) == n_before
    acc = Accepted(msg.sequence, "0x" + digest.hex(), msg.as_of) if ok else None
    return row, acc


def _registry_signer(cid: str, evidence: RegistryEvidence, digest: bytes, sequence: int) -> str:
    """The key porv recovers from the registry's stored signature over ``digest``.

    The registry's own ``signer`` is never believed; it only has to agree.

    Raises:
        RegistryUntrustedError: the registry is not porv's (no code, other code), or its stored
            signature does not recover, over porv's digest, to the signer it names.
        AttestationMismatchError: the registry holds no attestation, or another one.
        RollbackError: the registry holds a newer sequence (the bundle is stale).
    """
    if evidence.untrusted:
        raise RegistryUntrustedError(
            f"custodian {cid!r}: {evidence.untrusted}; its records count for nothing",
            hint="the policy's [registry] must be porv's ReserveAttestationRegistry",
        )
    if not evidence.exists:
        raise AttestationMismatchError(
            f"custodian {cid!r}: the registry holds no attestation for it"
        )
    if evidence.sequence > sequence:
        raise RollbackError(
            f"custodian {cid!r}: the registry holds sequence {evidence.sequence}, newer "
            f"than the bundle's {sequence} (the bundle is stale)"
        )
    if evidence.digest != digest:
        raise AttestationMismatchError(
            f"custodian {cid!r}: the registry's attestation (digest "
            f"0x{evidence.digest.hex()}) is not the bundle's (0x{digest.hex()})"
        )
    try:
        recovered = secp256k1.recover(digest, evidence.signature)
    except SignatureInvalidError as exc:  # high-s twins included
        raise RegistryUntrustedError(
            f"custodian {cid!r}: the signature the registry stores does not verify over the "
            f"attestation's digest 0x{digest.hex()}: {exc.message}"
        ) from None
    if recovered != evidence.signer:
        raise RegistryUntrustedError(
            f"custodian {cid!r}: the registry's record names signer {evidence.signer}, but "
            f"its stored signature recovers to {recovered}"
        )
    return recovered


def _check_auditors(bundle: Bundle, policy: Policy, digests: Sequence[bytes]) -> str:
    """The auditors' aggregate over the ReserveReport, counted as custodians' signatures are."""
    assert policy.auditors is not None
    rep = bundle.auditor_report
    if rep is None:
        raise ThresholdNotMetError("the policy names auditors but the bundle has no auditor_report")
    digest = report_digest(policy.issuer, policy.token, bundle.as_of, digests)
    threshold = policy.auditors.threshold
    result = count_signatures(
        digest,
        [SignatureEntry("bls", None, rep.signers, rep.signature)],
        bls_keys=[k.pubkey for k in policy.auditors.bls],
        threshold=threshold,
        label="auditor_report",
    )
    if not result.ok:
        why = (
            [
                "auditor aggregate signature does not verify over the ReserveReport of these "
                "attestations"
            ]
            if "signature_invalid" in result.problem_kinds
            else []
        )
        raise result.failure(
            f"{len(result.signed)} auditor(s) signed, threshold {threshold}; "
            + "; ".join([*why, *result.problems] or ["too few auditors in the aggregate"])
        )
    return f"{len(result.signed)} of threshold {threshold} auditors"


def _reserves(bundle: Bundle, token_currency: str) -> dict[str, Any]:
    with exact():
        return _reserves_exact(bundle, token_currency)


def _reserves_exact(bundle: Bundle, token_currency: str) -> dict[str, Any]:
    by_class: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    by_currency: dict[str, Decimal] = defaultdict(Decimal)
    by_custodian: dict[str, dict[str, Decimal]] = {}
    for entry in bundle.custodians:
        # minor units summed per class, currency and decimals, then made major once: the
        # sums are exact, so the totals are the ones adding each holding gives (value and
        # exponent: the smallest of the terms')
        groups: dict[tuple[str, str, int], int] = {}
        for h in entry.tree.holdings:
            key = (h.asset_class, h.currency, h.decimals)
            groups[key] = groups.get(key, 0) + h.amount
        per: dict[str, Decimal] = defaultdict(Decimal)
        for (asset_class, currency, decimals), amount in groups.items():
            v = _major(amount, decimals)
            by_class[(asset_class, currency)] += v
            by_currency[currency] += v
            per[currency] += v
        by_custodian[entry.id] = per
    return {
        "by_class": [
            {"asset_class": k[0], "currency": k[1], "amount": _dec(v)}
            for k, v in sorted(by_class.items())
        ],
        "by_currency": {k: _dec(v) for k, v in sorted(by_currency.items())},
        "by_custodian": {
            cid: {k: _dec(v) for k, v in sorted(per.items())} for cid, per in by_custodian.items()
        },
        "total_in_token_currency": _dec(by_currency.get(token_currency, Decimal(0))),
    }


def _check_coverage(
    coverage: dict[str, Any],
    reserves: Mapping[str, Any],
    rules_report: Any,
    s_major: Decimal,
    policy: Policy,
) -> str:
    with exact():  # required = supply × min_coverage, compared exactly: nothing rounds
        required = s_major * policy.min_coverage
        coverage["required"] = _dec(required)
        total = Decimal(reserves["total_in_token_currency"])
        coverage["reserves_in_token_currency"] = _dec(total)
        coverage["ratio"] = (
            _dec(display_ratio(total, s_major, Decimal("0.000001"))) if s_major else None
        )
        eligible: dict[str, str] = {}
        short: list[str] = []
        for pack in policy.jurisdictions:
            e = rules_report.pack(pack).eligible_total
            eligible[pack] = _dec(e)
            if e < required and rules_report.pack(pack).decides:  # informational: never decides
                short.append(f"{pack}: eligible {_dec(e)} < required {_dec(required)}")
        coverage["eligible"] = eligible
        # No pack that decides (none named, or only informational ones): every reserve counts,
        # and it must still cover the supply. A policy never turns this check off.
        deciding = [p for p in policy.jurisdictions if rules_report.pack(p).decides]
        if not deciding and total < required:
            short.append(f"reserves {_dec(total)} < required {_dec(required)}")
        coverage["ok"] = not short
        if short:
            raise InsufficientReservesError(
                f"eligible reserves below circulating supply × {_dec(policy.min_coverage)}: "
                + "; ".join(short)
            )
        if not deciding:
            return (
                f"reserves cover {_dec(required)} {policy.currency} required (no pack decides: "
                "every reserve counted)"
            )
        return f"eligible reserves cover {_dec(required)} {policy.currency} required"


def _rounding_note(report: SupplyReport) -> str:
    """Says which deployments' supply was rounded up to the policy's decimals, and by how much."""
    rounded = [
        f"chain {d.chain_id} token {d.address} by {d.rounded_up} base unit(s) at {d.decimals} "
        "decimals"
        for d in report.deployments
        if d.rounded_up
    ]
    if not rounded:
        return ""
    return f"; rounded up to the policy's {report.decimals} decimals (never down): " + "; ".join(
        rounded
    )


def _supply_json(report: SupplyReport | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {
        "deployments": [d.to_json() for d in report.deployments],
        "total_circulating": str(report.total_circulating),
        "decimals": report.decimals,
    }


def pack_hashes(packs: Sequence[str]) -> dict[str, str]:
    """sha256 of each rule pack used, for the result's ``inputs``."""
    return {p: load_pack(p).sha256 for p in packs}
