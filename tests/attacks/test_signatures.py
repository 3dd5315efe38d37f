"""Signature attacks: one key counted twice, malleable twins, unpinned keys, too few signers.

Counting loops over the keys the policy pins and asks which of them signed, so a key counts
once however many entries carry it. Custodian A signs with secp256k1 (2 of 3 pinned
addresses), custodian B with a BLS aggregate (2 of 3 pinned keys), the auditors with a BLS
aggregate over the ``ReserveReport`` (2 of 2).
"""

from __future__ import annotations

import coincurve

from tests.attacks.crafting import (
    KEYS,
    Doc,
    Workdir,
    as_of,
    assert_refused,
    attestation_digests,
    custodian,
    message,
    sign_bls,
    sign_entry,
    sign_report,
    sign_secp256k1,
    verify_cli,
)
from verifier.app.demo import ISSUER, SYMBOL, demo_secret
from verifier.signatures import bls, secp256k1
from verifier.signatures.eip712 import attestation_digest, report_digest

#: A well-formed secp256k1 key the policy does not pin.
STRANGER = demo_secret("custodian-a/stranger", "secp256k1")


def _a_signatures(doc: Doc) -> list[Doc]:
    return custodian(doc, "custodian-a")["signatures"]  # type: ignore[no-any-return]


def test_duplicate_secp256k1_signature_counted_once(work: Workdir) -> None:
    def same_signature_twice(doc: Doc) -> None:
        sigs = _a_signatures(doc)
        sigs[1] = dict(sigs[0])

    run = verify_cli(work.craft(same_signature_twice), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"duplicate_key"},
        words=[
            "custodian 'custodian-a': 1 distinct pinned key(s) signed, threshold 2",
            "counted once",
        ],
    )


def test_same_bls_key_listed_twice_in_one_aggregate_refused_as_malformed(work: Workdir) -> None:
    def one_bls_key_twice(doc: Doc) -> None:
        entry = custodian(doc, "custodian-b")
        k0 = KEYS["b"][0]
        # a genuine aggregate of the same key's signature twice verifies against [pk0, pk0]
        entry["signatures"] = [s.to_json() for s in sign_bls(message(entry), [k0, k0])]

    run = verify_cli(work.craft(one_bls_key_twice), work)

    # a signers list naming one key twice is not a well-formed aggregate: refused at load
    assert_refused(
        run,
        work,
        None,
        code=2,
        kinds={"schema_error"},
        words=[f"signer 0x{bls.secret_to_pubkey(KEYS['b'][0]).hex()} is listed twice"],
    )
    assert run.json["error"]["location"]["field"] == "signature.signers[1]"
    assert "custodians[1].signatures[0]" in run.json["error"]["location"]["file"]


def test_same_bls_key_in_two_aggregates_counted_once(work: Workdir) -> None:
    def one_bls_key_in_two_entries(doc: Doc) -> None:
        entry = custodian(doc, "custodian-b")
        (single,) = sign_bls(message(entry), KEYS["b"][:1])
        entry["signatures"] = [single.to_json(), single.to_json()]

    run = verify_cli(work.craft(one_bls_key_in_two_entries), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"duplicate_key"},
        words=["custodian 'custodian-b': 1 distinct pinned key(s) signed", "counted once"],
    )


def test_same_auditor_key_listed_twice_refused(work: Workdir) -> None:
    def one_auditor_twice(doc: Doc) -> None:
        a0 = KEYS["auditors"][0]
        sign_report(doc, [a0, a0])

    run = verify_cli(work.craft(one_auditor_twice), work)

    # like a custodian's aggregate naming one key twice: not well-formed, refused at load
    pk0 = "0x" + bls.secret_to_pubkey(KEYS["auditors"][0]).hex()
    assert_refused(
        run, work, None, code=2, kinds={"schema_error"}, words=[f"signer {pk0} is listed twice"]
    )
    assert run.json["error"]["location"]["field"] == "auditor_report.signers[1]"


def test_high_s_twin_added_to_reach_threshold_refused(work: Workdir) -> None:
    def low_and_high_s_of_one_key(doc: Doc) -> None:
        sigs = _a_signatures(doc)
        sigs[1] = dict(sigs[0])
        sigs[1]["signature"] = (
            "0x" + secp256k1.high_s_twin(bytes.fromhex(sigs[0]["signature"][2:])).hex()
        )

    run = verify_cli(work.craft(low_and_high_s_of_one_key), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"high_s"},
        words=["1 distinct pinned key(s) signed", "high-s signature (malleable twin)"],
    )


def test_high_s_signatures_alone_refused(work: Workdir) -> None:
    def only_high_s(doc: Doc) -> None:
        for sig in _a_signatures(doc):
            twin = secp256k1.high_s_twin(bytes.fromhex(sig["signature"][2:]))
            _, s, _ = secp256k1.split(twin)
            assert s > secp256k1.HALF_N
            sig["signature"] = "0x" + twin.hex()

    run = verify_cli(work.craft(only_high_s), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"high_s"},
        words=["0 distinct pinned key(s) signed", "signatures[0]: high-s", "signatures[1]: high-s"],
    )


def test_unknown_signer_refused(work: Workdir) -> None:
    def stranger_signs(doc: Doc) -> None:
        entry = custodian(doc, "custodian-a")
        (extra,) = sign_secp256k1(message(entry), [STRANGER])
        _a_signatures(doc)[1] = extra.to_json()

    run = verify_cli(work.craft(stranger_signs), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"unknown_signer"},
        words=[f"signer {secp256k1.address_of(STRANGER)} is not pinned"],
    )


def test_unknown_bls_signer_refused(work: Workdir) -> None:
    outsider = demo_secret("custodian-b/stranger", "bls")

    def outsider_in_aggregate(doc: Doc) -> None:
        sign_entry(custodian(doc, "custodian-b"), [KEYS["b"][0], outsider])

    run = verify_cli(work.craft(outsider_in_aggregate), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"unknown_signer"},
        words=[f"BLS signer 0x{bls.secret_to_pubkey(outsider).hex()} is not pinned"],
    )


def test_threshold_not_met_refused(work: Workdir) -> None:
    def one_signer_each(doc: Doc) -> None:
        sign_entry(custodian(doc, "custodian-a"), KEYS["a"][:1])
        sign_entry(custodian(doc, "custodian-b"), KEYS["b"][:1])

    run = verify_cli(work.craft(one_signer_each), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"threshold_not_met"},
        words=[
            "custodian 'custodian-a': 1 distinct pinned key(s) signed, threshold 2",
            "custodian 'custodian-b': 1 distinct pinned key(s) signed, threshold 2",
        ],
    )
    assert [a["threshold_met"] for a in run.json["attestations"]] == [False, False]


def test_auditor_aggregate_missing_one_auditor_refused(work: Workdir) -> None:
    def one_auditor(doc: Doc) -> None:
        sign_report(doc, KEYS["auditors"][:1])

    run = verify_cli(work.craft(one_auditor), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"threshold_not_met"},
        words=["1 auditor(s) signed, threshold 2"],
    )


def test_unknown_auditor_in_aggregate_refused(work: Workdir) -> None:
    outsider = demo_secret("auditor/stranger", "bls")

    def outsider_co_signs(doc: Doc) -> None:
        sign_report(doc, [KEYS["auditors"][0], outsider])

    run = verify_cli(work.craft(outsider_co_signs), work)

    # the auditors' aggregate is counted as a custodian's is: same kind, same words
    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"unknown_signer"},
        words=[
            "0 auditor(s) signed, threshold 2",
            f"BLS signer 0x{bls.secret_to_pubkey(outsider).hex()} is not pinned",
        ],
    )


def test_auditor_index_out_of_range_refused(work: Workdir) -> None:
    def index_of_no_auditor(doc: Doc) -> None:
        sign_report(doc)
        doc["auditor_report"]["signers"][1] = 7

    run = verify_cli(work.craft(index_of_no_auditor), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"unknown_signer"},
        words=["BLS signer index 7 is out of range (2 pinned BLS key(s))"],
    )


def test_auditor_aggregate_over_another_report_refused(work: Workdir) -> None:
    def report_of_yesterday(doc: Doc) -> None:
        other = report_digest(ISSUER, SYMBOL, as_of(doc) - 86400, attestation_digests(doc))
        sign_report(doc, over=other)

    run = verify_cli(work.craft(report_of_yesterday), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"threshold_not_met"},
        words=["auditor aggregate signature does not verify over the ReserveReport"],
    )


def _sign_with_nonce(digest: bytes, key: bytes, nonce: int) -> bytes:
    """A valid low-s ECDSA signature with a chosen nonce (not RFC 6979's)."""
    n = secp256k1.N
    x, y = coincurve.PublicKey.from_secret(nonce.to_bytes(32, "big")).point()
    r = x % n
    s = pow(nonce, -1, n) * (int.from_bytes(digest, "big") + r * int.from_bytes(key, "big")) % n
    recid = y & 1
    if s > secp256k1.HALF_N:
        s, recid = n - s, recid ^ 1
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([27 + recid])


def test_two_distinct_signatures_by_one_key_counted_once(work: Workdir) -> None:
    def one_key_signs_twice(doc: Doc) -> None:
        entry = custodian(doc, "custodian-a")
        key = KEYS["a"][0]
        digest = attestation_digest(message(entry))
        other = _sign_with_nonce(digest, key, nonce=0x1234567890ABCDEF)
        sigs = _a_signatures(doc)
        assert other.hex() != sigs[0]["signature"][2:]
        assert secp256k1.recover(digest, other) == sigs[0]["signer"]  # valid, same key
        sigs[1] = {**sigs[0], "signature": "0x" + other.hex()}

    run = verify_cli(work.craft(one_key_signs_twice), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"duplicate_key"},
        words=["1 distinct pinned key(s) signed", "already signed; counted once"],
    )


def test_same_bls_key_as_index_and_as_pubkey_counted_once(work: Workdir) -> None:
    k0 = KEYS["b"][0]
    pk0 = "0x" + bls.secret_to_pubkey(k0).hex()

    def one_key_two_spellings(doc: Doc) -> None:
        entry = custodian(doc, "custodian-b")
        (twice,) = sign_bls(message(entry), [k0, k0])
        entry["signatures"] = [{**twice.to_json(), "signers": [0, pk0]}]

    run = verify_cli(work.craft(one_key_two_spellings), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"duplicate_key"},
        words=["0 distinct pinned key(s) signed", f"BLS signer {pk0} is listed twice"],
    )


def test_same_auditor_as_index_and_as_pubkey_refused(work: Workdir) -> None:
    a0 = KEYS["auditors"][0]
    pk0 = "0x" + bls.secret_to_pubkey(a0).hex()

    def one_auditor_two_spellings(doc: Doc) -> None:
        sign_report(doc, [a0, a0])
        doc["auditor_report"]["signers"][0] = 0  # index of the same pinned key

    run = verify_cli(work.craft(one_auditor_two_spellings), work)

    assert_refused(
        run,
        work,
        None,
        code=1,
        kinds={"duplicate_key"},
        words=[
            "0 auditor(s) signed, threshold 2",
            f"auditor_report[0]: BLS signer {pk0} is listed twice",
        ],
    )
