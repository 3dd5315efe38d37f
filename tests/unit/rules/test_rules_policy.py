"""Issue 14 in the policy: ``issuer_type``, and the regulator-side records a holder keeps for a
pack (``pack_options.<pack>.flags``, ``.parameters``); refusals name the key path."""

from __future__ import annotations

import tomllib

import jsonschema
import pytest

from tests.unit.model.test_policy import BASE, load, refused
from verifier.result.schemas import policy_schema

UK = BASE.replace('["genius"]', '["genius", "uk-fca", "bcbs-g1b"]')


def test_issuer_type_is_optional_and_checked() -> None:
    assert load(BASE).issuer_type is None
    assert "issuer_type" not in load(BASE).to_json()
    text = BASE.replace("decimals = 6", 'decimals = 6\nissuer_type = "trust_company"')
    policy = load(text)
    assert policy.issuer_type == "trust_company"
    assert policy.to_json()["issuer_type"] == "trust_company"
    jsonschema.validate(tomllib.loads(text), policy_schema())
    err = refused(BASE.replace("decimals = 6", 'decimals = 6\nissuer_type = "hedge_fund"'))
    assert err.location is not None and err.location.field == "issuer_type"
    assert "unknown issuer type 'hedge_fund'" in err.message
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            tomllib.loads(BASE.replace("decimals = 6", 'decimals = 6\nissuer_type = "x"')),
            policy_schema(),
        )


def test_every_shipped_pack_is_a_known_jurisdiction() -> None:
    text = BASE.replace('["genius"]', '["jp-trust", "cbuae-dpt", "vara-frva", "uk-boe-systemic"]')
    assert load(text).jurisdictions[0] == "jp-trust"
    jsonschema.validate(tomllib.loads(text), policy_schema())


def test_pack_flags_and_parameters() -> None:
    text = (
        UK
        + '\n[pack_options.uk-fca]\nflags = ["fca_expanded_assets_notified"]\n'
        + "\n[pack_options.bcbs-g1b]\n"
        + 'parameters = { deposit_min_rating = "A-", debt_max_days = 365 }\n'
    )
    policy = load(text)
    assert policy.pack_options["uk-fca"]["flags"] == ("fca_expanded_assets_notified",)
    assert dict(policy.pack_options["bcbs-g1b"]["parameters"]) == {
        "deposit_min_rating": "A-",
        "debt_max_days": 365,
    }


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ('[pack_options.uk-fca]\nflags = ["Bad Flag"]', "pack_options.uk-fca.flags[0]"),
        ('[pack_options.uk-fca]\nflags = ["a", "a"]', "pack_options.uk-fca.flags[1]"),
        ('[pack_options.uk-fca]\nflags = "a"', "pack_options.uk-fca.flags"),
        ("[pack_options.uk-fca]\nparameters = { x = true }", "pack_options.uk-fca.parameters.x"),
        ('[pack_options.uk-fca]\napproved_currencies = ["GBP"]', "pack_options.uk-fca"),
        ('[pack_options.jp-trust]\nflags = ["a"]', "pack_options.jp-trust"),
    ],
)
def test_bad_pack_options_are_refused(table: str, field: str) -> None:
    err = refused(UK + "\n" + table + "\n")
    assert err.location is not None and err.location.field is not None
    assert err.location.field.startswith(field)
