"""model.validate: the one set of strict value checks, and the option parsers built on it."""

from __future__ import annotations

import pytest

from verifier.app.publish import parse_registry
from verifier.chain.registry import parse_registry_option
from verifier.cli.bundle import _parse_deployment
from verifier.cli.common import parse_rpc_overrides
from verifier.cli.supply import parse_multicall
from verifier.errors import InputError
from verifier.model import validate
from verifier.model.policy import ContractRef

ADDR = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
GOOD_CHAINS = ["1", "31337", "9" * 19]
BAD_CHAINS = ["0", "01", "", "x", "-1", "1" * 20, "\u00b2", "\u0661", " 1"]


def test_booleans_are_json_booleans() -> None:
    assert validate.boolean(False) is False
    for value in ("false", "true", 0, 1, None):
        with pytest.raises(validate.InvalidValueError):
            validate.boolean(value)


def test_integers_are_json_integers() -> None:
    assert validate.integer(5, lo=0, hi=9) == 5
    for value in (True, 1.0, "1", None):
        with pytest.raises(validate.InvalidValueError):
            validate.integer(value)
    with pytest.raises(validate.InvalidValueError, match=r"0\.\.9"):
        validate.integer(10, lo=0, hi=9)


def test_addresses_are_checksummed() -> None:
    assert validate.checksummed_address(ADDR) == ADDR
    with pytest.raises(validate.InvalidValueError) as info:
        validate.checksummed_address(ADDR.lower())
    assert info.value.hint is not None and ADDR in info.value.hint
    for value in (ADDR[:-1], ADDR + "0", 5, None):
        with pytest.raises(validate.InvalidValueError):
            validate.checksummed_address(value)


@pytest.mark.parametrize("text", GOOD_CHAINS)
def test_every_chain_option_accepts_the_same_chain_ids(text: str) -> None:
    n = int(text)
    assert validate.parse_chain_id(text) == n
    assert parse_rpc_overrides((f"{text}=http://a",)) == {n: ["http://a"]}
    assert parse_multicall((f"{text}={ADDR}",)) == {n: ADDR}
    assert _parse_deployment(f"{text}:{ADDR}") == (n, ADDR, ())
    assert parse_registry(f"{text}:{ADDR}") == (n, ADDR)
    assert parse_registry_option(f"{text}:{ADDR}", ContractRef(n, ADDR)) == (n, ADDR)


@pytest.mark.parametrize("text", BAD_CHAINS)
def test_every_chain_option_refuses_the_same_chain_ids(text: str) -> None:
    with pytest.raises(validate.InvalidValueError):
        validate.parse_chain_id(text)
    for parse in (
        lambda: parse_rpc_overrides((f"{text}=http://a",)),
        lambda: parse_multicall((f"{text}={ADDR}",)),
        lambda: _parse_deployment(f"{text}:{ADDR}"),
        lambda: parse_registry(f"{text}:{ADDR}"),
        lambda: parse_registry_option(f"{text}:{ADDR}", ContractRef(1, ADDR)),
    ):
        with pytest.raises(InputError):
            parse()


def test_messages_quote_at_most_a_short_prefix_of_hostile_values() -> None:
    with pytest.raises(validate.InvalidValueError) as info:
        validate.hex_bytes("0x" + "zz" * 500_000)
    assert len(str(info.value)) < 200 and "1000004 chars" in str(info.value)


def test_integers_beyond_the_str_digit_limit_are_shown_by_size_not_a_crash() -> None:
    huge = 1 << 20_000  # about 6,000 decimal digits: str() and json.dumps refuse it
    assert validate.shown(huge) == "<an integer of 20001 bits>"
    with pytest.raises(validate.InvalidValueError, match="20001 bits"):
        validate.integer(huge, lo=0, hi=10)
