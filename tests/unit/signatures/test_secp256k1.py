"""secp256k1 signing/recovery (both backends, cross-checked with eth-account), key files,
threshold counting."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account
from eth_hash.auto import keccak
from eth_utils.address import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.errors import (
    DuplicateKeyError,
    HighSSignatureError,
    KeyFileError,
    PolicyError,
    SignatureInvalidError,
    TreeMismatchError,
)
from verifier.local.keys import load_key_file
from verifier.model.attestation import SignatureEntry
from verifier.signatures import (
    VerificationResult,
    check_attestation_against_tree,
    count_signatures,
    secp256k1,
)

KEYS = [keccak(f"unit test key {i}".encode()) for i in range(4)]
ADDRS = [secp256k1.address_of(k) for k in KEYS]
DIGEST = keccak(b"an EIP-712 digest")
BACKENDS: list[secp256k1.Backend] = ["native", "reference"]


def entry(key: bytes, digest: bytes = DIGEST, signer: str | None = None) -> SignatureEntry:
    sig = secp256k1.sign(digest, key)
    return SignatureEntry("secp256k1", signer or secp256k1.address_of(key), (), sig)


@settings(max_examples=30, deadline=None)
@given(key=st.integers(1, secp256k1.N - 1), digest=st.binary(min_size=32, max_size=32))
def test_sign_and_recover_match_eth_account(key: int, digest: bytes) -> None:
    sk = key.to_bytes(32, "big")
    ours = secp256k1.sign(digest, sk)
    theirs = Account.unsafe_sign_hash(digest, sk)
    assert ours == bytes(theirs.signature)
    assert secp256k1.address_of(sk) == Account.from_key(sk).address
    assert secp256k1.recover(digest, ours) == Account._recover_hash(digest, signature=ours)
    _r, s, v = secp256k1.split(ours)
    assert s <= secp256k1.HALF_N and v in (27, 28)
    # The pure-Python backend (eth-keys) is byte-identical to libsecp256k1 (coincurve).
    assert secp256k1.sign(digest, sk, backend="reference") == ours
    assert secp256k1.address_of(sk, backend="reference") == secp256k1.address_of(sk)
    assert secp256k1.recover(digest, ours, backend="reference") == secp256k1.recover(digest, ours)


def test_committed_keys_sign_alike_on_both_backends() -> None:
    for key in KEYS:
        sigs = {secp256k1.sign(DIGEST, key, backend=b) for b in BACKENDS}
        assert len(sigs) == 1
        (sig,) = sigs
        for backend in BACKENDS:
            assert secp256k1.address_of(key, backend=backend) == secp256k1.address_of(key)
            assert secp256k1.recover(DIGEST, sig, backend=backend) == secp256k1.address_of(key)


def test_without_coincurve_the_reference_backend_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = secp256k1.sign(DIGEST, KEYS[0], backend="native")
    monkeypatch.setattr(secp256k1, "_native", None)
    assert not secp256k1.native_available()
    assert secp256k1.backend_in_use() == "reference"
    assert secp256k1.sign(DIGEST, KEYS[0]) == expected
    assert secp256k1.recover(DIGEST, expected) == ADDRS[0]
    assert secp256k1.address_of(KEYS[0]) == ADDRS[0]
    with pytest.raises(ValueError, match="coincurve"):
        secp256k1.sign(DIGEST, KEYS[0], backend="native")
    with pytest.raises(ValueError, match="unknown"):
        secp256k1.recover(DIGEST, expected, backend="gpu")  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", BACKENDS)
def test_high_s_twin_recovers_elsewhere_but_is_refused(backend: secp256k1.Backend) -> None:
    sig = secp256k1.sign(DIGEST, KEYS[0])
    twin = secp256k1.high_s_twin(sig)
    assert twin != sig
    # eth-account (like ecrecover) accepts the twin for the same address: porv must not.
    assert Account._recover_hash(DIGEST, signature=twin) == ADDRS[0]
    with pytest.raises(HighSSignatureError):
        secp256k1.recover(DIGEST, twin, backend=backend)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s[:64],
        lambda s: s + b"\x00",
        lambda s: s[:64] + b"\x00",
        lambda s: s[:64] + b"\x1d",
        lambda s: b"\x00" * 32 + s[32:],
        lambda s: s[:32] + b"\x00" * 32 + s[64:],
        lambda s: secp256k1.N.to_bytes(32, "big") + s[32:],
        lambda s: b"\xff" * 32 + s[32:],
    ],
)
@pytest.mark.parametrize("backend", BACKENDS)
def test_malformed_signatures_raise_signature_invalid(
    mutate: object, backend: secp256k1.Backend
) -> None:
    sig = secp256k1.sign(DIGEST, KEYS[0])
    bad = mutate(sig)  # type: ignore[operator]
    with pytest.raises(SignatureInvalidError):
        secp256k1.recover(DIGEST, bad, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_recover_with_r_not_on_curve_is_invalid(backend: secp256k1.Backend) -> None:
    # x = 5 is not the x-coordinate of a secp256k1 point: nothing recovers.
    bad = (5).to_bytes(32, "big") + (1).to_bytes(32, "big") + b"\x1b"
    with pytest.raises(SignatureInvalidError):
        secp256k1.recover(DIGEST, bad, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_recover_to_the_point_at_infinity_is_invalid(backend: secp256k1.Backend) -> None:
    # Recovery gives Q = r^-1 (s R - z G). With R = G (r = Gx, even y: v 27), s = 1 and z = 1,
    # Q = r^-1 (G - G) is the point at infinity: no public key, not some address.
    gx = 0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798
    bad = gx.to_bytes(32, "big") + (1).to_bytes(32, "big") + b"\x1b"
    with pytest.raises(SignatureInvalidError):
        secp256k1.recover((1).to_bytes(32, "big"), bad, backend=backend)


def test_other_digest_recovers_to_another_address() -> None:
    sig = secp256k1.sign(DIGEST, KEYS[0])
    assert secp256k1.recover(keccak(b"other"), sig) != ADDRS[0]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        secp256k1.sign(b"short", KEYS[0])
    with pytest.raises(ValueError):
        secp256k1.sign(DIGEST, b"\x00" * 32)
    with pytest.raises(ValueError):
        secp256k1.address_of(secp256k1.N.to_bytes(32, "big"))
    with pytest.raises(SignatureInvalidError):
        secp256k1.high_s_twin(b"\x00" * 64 + b"\x05")


# --- key files -------------------------------------------------------------------------


def test_key_files(tmp_path: Path) -> None:
    good = tmp_path / "k.key"
    good.write_text("0x" + KEYS[0].hex() + "\n")
    assert load_key_file(good, "secp256k1") == KEYS[0]
    good.write_text("0x" + KEYS[0].hex().upper() + "\r\n")
    assert load_key_file(good, "secp256k1") == KEYS[0]
    secret = "0x" + "ab" * 31 + "cd"
    for text in [
        "",
        secret[:-2],
        secret + "\n\n",
        " " + secret,
        secret[2:],
        secret + "  # comment",
        "0x" + "00" * 32,
        "0x" + "ff" * 32,
        "x" * 5000,
    ]:
        good.write_text(text)
        with pytest.raises(KeyFileError) as info:
            load_key_file(good, "secp256k1")
        assert "abab" not in str(info.value.diagnostics()).lower()
        assert info.value.exit_code == 2
        assert info.value.location is not None and info.value.location.file == str(good)
    with pytest.raises(KeyFileError):
        load_key_file(tmp_path / "missing.key", "bls")
    good.write_text("0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001")
    with pytest.raises(KeyFileError):
        load_key_file(good, "bls")  # exactly the BLS group order
    assert load_key_file(good, "secp256k1")  # fine as a secp256k1 key
    with pytest.raises(ValueError):
        load_key_file(good, "ed25519")


def test_committed_test_keys_match_the_vector_addresses() -> None:
    root = Path(__file__).resolve().parents[3]
    for i, address in enumerate(
        [
            "0xB25c1d4453438c0D7E751AD5b03374E0C64b865D",
            "0xfB6C4A87f40dB514558194b6e432074C9FfD3D28",
            "0x521AfaF00D223f30288c8489f122b5940BBC5dca",
        ]
    ):
        key = load_key_file(root / f"fixtures/keys/secp256k1-{i}.key", "secp256k1")
        assert secp256k1.address_of(key) == address


# --- threshold counting (TUF-style) -----------------------------------------------------


def test_threshold_met_by_distinct_keys() -> None:
    result = count_signatures(
        DIGEST, [entry(KEYS[0]), entry(KEYS[1])], signers=ADDRS[:3], threshold=2
    ).require()
    assert result.ok
    assert result.signed == frozenset(ADDRS[:2])
    assert result.unsigned == frozenset([ADDRS[2]])
    assert result.problems == ()


def test_duplicate_entries_of_one_key_count_once() -> None:
    e = entry(KEYS[0])
    twin = SignatureEntry("secp256k1", ADDRS[0], (), secp256k1.high_s_twin(e.signature))
    result = count_signatures(DIGEST, [e, e, e, twin], signers=ADDRS[:2], threshold=2)
    assert not result.ok
    assert result.signed == frozenset([ADDRS[0]])
    assert any("counted once" in p for p in result.problems)
    assert any("high-s" in p for p in result.problems)
    assert result.kind == "high_s"  # the most specific problem names the failure
    with pytest.raises(DuplicateKeyError) as info:
        count_signatures(DIGEST, [e, e], signers=ADDRS[:2], threshold=2).require()
    text = info.value.message
    assert ADDRS[0] in text and ADDRS[1] in text and "did not sign" in text


def test_unknown_and_mislabelled_signers_do_not_count() -> None:
    stranger = entry(KEYS[3])
    mislabelled = entry(KEYS[3], signer=ADDRS[0])
    other_message = entry(KEYS[0], digest=keccak(b"other"))
    result = count_signatures(
        DIGEST, [stranger, mislabelled, other_message], signers=ADDRS[:2], threshold=1
    )
    assert result.signed == frozenset()
    assert len(result.problems) == 3
    assert "not pinned" in result.problems[0]
    assert "recovers to" in result.problems[1]
    assert "recovers to" in result.problems[2]


def test_extra_bad_signatures_do_not_spoil_a_met_threshold() -> None:
    bad = SignatureEntry("secp256k1", ADDRS[1], (), b"\x00" * 65)
    result = count_signatures(DIGEST, [bad, entry(KEYS[0])], signers=ADDRS[:2], threshold=1)
    assert result.ok and len(result.problems) == 1


def test_eip1271_wallets() -> None:
    wallet = to_checksum_address("0x" + "12" * 20)
    calls: list[tuple[str, bytes, bytes]] = []

    def checker(address: str, digest: bytes, signature: bytes) -> bool:
        calls.append((address, digest, signature))
        # a 1-of-1 contract wallet owned by KEYS[2]
        return secp256k1.recover(digest, signature) == ADDRS[2]

    owner_sig = SignatureEntry("secp256k1", wallet, (), secp256k1.sign(DIGEST, KEYS[2]))
    result = count_signatures(
        DIGEST,
        [owner_sig],
        signers=ADDRS[:1],
        threshold=1,
        eip1271=checker,
        eip1271_wallets=[wallet],
    )
    assert result.ok and result.signed == frozenset([wallet]) and calls
    rejected = SignatureEntry("secp256k1", wallet, (), secp256k1.sign(DIGEST, KEYS[1]))
    result = count_signatures(
        DIGEST, [rejected], threshold=1, eip1271=checker, eip1271_wallets=[wallet]
    )
    assert not result.ok and "rejects" in result.problems[0]
    high = SignatureEntry("secp256k1", wallet, (), secp256k1.high_s_twin(owner_sig.signature))
    result = count_signatures(
        DIGEST, [high], threshold=1, eip1271=checker, eip1271_wallets=[wallet]
    )
    assert not result.ok and "failed" in result.problems[0]
    result = count_signatures(DIGEST, [owner_sig], threshold=1, eip1271_wallets=[wallet])
    assert not result.ok and "no EIP-1271" in result.problems[0]


@pytest.mark.parametrize(
    ("signers", "threshold"),
    [
        (ADDRS[:2], 0),
        (ADDRS[:2], 3),
        ([ADDRS[0], ADDRS[0]], 1),
        ([ADDRS[0].lower()], 1),
        (["not an address"], 1),
    ],
)
def test_unusable_pins_are_refused(signers: list[str], threshold: int) -> None:
    with pytest.raises(PolicyError):
        count_signatures(DIGEST, [], signers=signers, threshold=threshold)


def test_result_describe_and_unknown_scheme() -> None:
    weird = SignatureEntry("ed25519", None, (), b"")
    result = count_signatures(DIGEST, [weird], signers=ADDRS[:1], threshold=1)
    assert isinstance(result, VerificationResult)
    assert "unknown scheme" in result.describe()


# --- attestation vs tree ----------------------------------------------------------------


class FakeTree:
    def __init__(self, root: bytes, n: int, totals: list[tuple[str, int, int]]) -> None:
        self.root = root
        self._n = n
        self._totals = totals

    def __len__(self) -> int:
        return self._n

    def totals(self) -> list[tuple[str, int, int]]:
        return self._totals


def test_check_attestation_against_tree() -> None:
    from tests.unit.signatures.test_eip712 import sample

    msg = sample()
    good = FakeTree(msg.holdings_root, 5, [("EUR", 1_000_000, 2), ("HKD", 223_000_050, 2)])
    check_attestation_against_tree(msg, good)
    hex_root = FakeTree("0x" + msg.holdings_root.hex(), 5, good.totals())  # type: ignore[arg-type]
    check_attestation_against_tree(msg, hex_root)
    cases = [
        (FakeTree(b"\x00" * 32, 5, good.totals()), "root"),
        (FakeTree(msg.holdings_root, 4, good.totals()), "leaf count"),
        (FakeTree(msg.holdings_root, 5, [("EUR", 1_000_001, 2), ("HKD", 223_000_050, 2)]), "EUR"),
        (FakeTree(msg.holdings_root, 5, [("EUR", 1_000_000, 3), ("HKD", 223_000_050, 2)]), "EUR"),
        (FakeTree(msg.holdings_root, 5, [("EUR", 1_000_000, 2)]), "HKD"),
        (FakeTree(msg.holdings_root, 5, [*good.totals(), ("USD", 1, 2)]), "USD"),
    ]
    for tree, what in cases:
        with pytest.raises(TreeMismatchError) as info:
            check_attestation_against_tree(msg, tree)
        assert what in info.value.message


def test_unusable_bls_pins_and_thresholds_are_refused() -> None:
    with pytest.raises(PolicyError):
        count_signatures(DIGEST, [], bls_keys=[b"\x00" * 47], threshold=1)
    with pytest.raises(PolicyError):
        count_signatures(DIGEST, [], signers=ADDRS[:1], threshold=True)
    with pytest.raises(PolicyError):
        count_signatures(DIGEST, [], bls_keys=[b"\xaa" * 48, b"\xaa" * 48], threshold=1)
