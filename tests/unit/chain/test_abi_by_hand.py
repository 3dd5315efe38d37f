"""The ABI that supply reading writes and reads by hand, against ``eth_abi``; and the EIP-55
checksum against ``eth_utils``. A hand-written decoder must never accept what ``eth_abi``'s
strict decoder refuses, nor read an answer differently."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
from eth_abi.abi import decode, encode
from eth_utils.address import is_address, to_checksum_address

from verifier.chain.supply import (
    _address_word,
    decode_results_canonical,
    encode_aggregate3,
    encode_results,
)
from verifier.errors import PolicyError
from verifier.model.validate import InvalidValueError, checksummed_address, eip55
from verifier.signatures import _pinned_address

ROOT = Path(__file__).resolve().parents[3]


def _rand_address(rng: random.Random) -> str:
    return "0x" + rng.randbytes(20).hex()


def test_eip55_matches_eth_utils() -> None:
    rng = random.Random(55)
    cases = ["0x" + "0" * 40, "0x" + "f" * 40, "0x" + "F" * 40]
    for _ in range(2000):
        raw = _rand_address(rng)[2:]
        cases.append("0x" + "".join(c.upper() if rng.random() < 0.5 else c for c in raw))
    for a in cases:
        assert eip55(a) == to_checksum_address(a)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "0x",
        "0x" + "a" * 39,
        "0x" + "a" * 41,
        "0X" + "a" * 40,
        "a" * 40,
        "0x" + "g" * 40,
        "0x" + "a" * 39 + "\n",
    ],
)
def test_eip55_refuses_what_is_not_an_address(bad: str) -> None:
    with pytest.raises(InvalidValueError):
        eip55(bad)


def test_checksummed_address_hint_is_the_eip55_form() -> None:
    good = to_checksum_address("0x" + "ab" * 20)
    assert checksummed_address(good) == good
    with pytest.raises(InvalidValueError) as info:
        checksummed_address(good.lower())
    assert info.value.hint == f"if this is the intended address, write it as {good}"


@pytest.mark.parametrize(
    "value",
    [
        "0x" + "ab" * 20,  # lower case: an address, not checksummed
        "ab" * 20,  # no 0x: eth_utils calls it an address
        "0X" + "AB" * 20,
        "0x" + "ab" * 19,
        "not an address",
        "",
    ],
)
def test_pinned_address_errors_as_eth_utils_decides(value: str) -> None:
    with pytest.raises(PolicyError) as info:
        _pinned_address(value, "pinned signer")
    if is_address(value):
        assert "is not EIP-55 checksummed" in info.value.message
        assert info.value.hint == f"write it as {to_checksum_address(value)}"
    else:
        assert info.value.message == f"pinned signer {value!r} is not an address"


def test_pinned_address_accepts_a_checksummed_address() -> None:
    good = to_checksum_address("0x" + "cd" * 20)
    assert _pinned_address(good, "pinned signer") == good


def test_address_word_and_aggregate3_match_eth_abi() -> None:
    rng = random.Random(3)
    for _ in range(300):
        a = to_checksum_address(_rand_address(rng))
        assert _address_word(a) == encode(["address"], [a])
        targets = [
            (to_checksum_address(_rand_address(rng)), rng.randbytes(rng.randrange(0, 100)))
            for _ in range(rng.randrange(0, 7))
        ]
        assert encode_aggregate3(targets) == encode(
            ["(address,bool,bytes)[]"], [[(t, True, cd) for t, cd in targets]]
        )


def _results(rng: random.Random) -> list[tuple[bool, bytes]]:
    return [
        (rng.random() < 0.7, rng.randbytes(rng.choice([0, 1, 31, 32, 33, 64, 100])))
        for _ in range(rng.randrange(0, 7))
    ]


def _strict(raw: bytes) -> list[tuple[bool, bytes]] | None:
    try:
        (items,) = decode(["(bool,bytes)[]"], raw, strict=True)
    except Exception:
        return None
    return [(ok, bytes(ret)) for ok, ret in items]


def test_results_encoding_and_canonical_decoding_match_eth_abi() -> None:
    rng = random.Random(4)
    for _ in range(300):
        items = _results(rng)
        raw = encode(["(bool,bytes)[]"], [items])
        assert encode_results(items) == raw
        assert decode_results_canonical(raw) == items == _strict(raw)


def _mutations(raw: bytes, rng: random.Random) -> list[bytes]:
    out = [raw[:-1], raw[:-32], raw + bytes(32), raw + b"\x01", raw[32:], b"", bytes(64)]
    for _ in range(40):
        b = bytearray(raw)
        if not b:
            break
        at = rng.randrange(len(b))
        b[at] = rng.choice([0, 1, 2, 0x20, 0x40, 0x60, 0x80, 0xFF, b[at] ^ 1])
        out.append(bytes(b))
    # offsets moved (a valid but non-canonical layout eth_abi may still read)
    if len(raw) >= 96:
        b = bytearray(raw)
        b[95] = (b[95] + 32) % 256
        out.append(bytes(b) + bytes(32))
    return out


def test_canonical_decoder_never_accepts_what_eth_abi_refuses() -> None:
    rng = random.Random(5)
    checked = fast_accepted = 0
    for _ in range(200):
        raw = encode(["(bool,bytes)[]"], [_results(rng)])
        for bad in _mutations(raw, rng):
            fast = decode_results_canonical(bad)
            checked += 1
            if fast is not None:  # accepted: eth_abi reads exactly the same items
                fast_accepted += 1
                assert fast == _strict(bad)
    assert checked > 1000 and fast_accepted > 0


def test_a_verify_run_imports_neither_eth_abi_nor_eth_utils() -> None:
    """Both cost a verify run about a tenth of a second; only rare paths (a feed, a wallet, a
    --registry, a non-canonical multicall answer, an address to normalise) import them."""
    code = (
        "import sys; import verifier.cli.verify, verifier.app.verify, verifier.chain.supply, "
        "verifier.chain.eip1271, verifier.chain.feed; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'eth_abi', 'eth_utils'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
