"""Contract errors and calls in messages read as Solidity would print them, not as Python."""

from __future__ import annotations

from verifier.devnet.deploy import call_text


def test_bytes_are_hex_and_addresses_stay_checksummed() -> None:
    sender = "0x4Bb58E9b241E11488A817DF4DaF653e32d7D0b02"
    text = call_text("NotOwner", (sender, b"\x01\x02", (b"\xff", 7)))
    assert text == f"NotOwner({sender}, 0x0102, (0xff, 7))"
    assert "b'" not in text


def test_no_arguments() -> None:
    assert call_text("NoDataPresent", ()) == "NoDataPresent()"
