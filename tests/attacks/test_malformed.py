"""Malformed bundles: refused at load with exit 2, naming the file and the field.

Nothing is written: no rollback state, and no ``--output`` file (a result is only written
once there is one).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.attacks.crafting import Doc, Workdir, assert_refused, verify_cli


def _unknown_key(doc: Doc) -> str:
    doc["custodians"][1]["comment"] = "trust me"
    return json.dumps(doc, indent=1)


def _wrong_format_version(doc: Doc) -> str:
    doc["format"] = "porv.bundle/2"
    return json.dumps(doc, indent=1)


def _duplicated_key(doc: Doc) -> str:
    text = json.dumps(doc, indent=1)
    first = '"issuer": "Example Issuer Ltd",'
    assert text.index(first) < text.index('"custodians"')  # the top-level one
    return text.replace(first, first + '\n "issuer": "Another Issuer Ltd",', 1)


def _bad_address_checksum(doc: Doc) -> str:
    doc["deployments"][1]["address"] = doc["deployments"][1]["address"].lower()
    return json.dumps(doc, indent=1)


@pytest.mark.parametrize(
    ("craft", "field", "words"),
    [
        pytest.param(
            _unknown_key, "custodians[1].comment", "unknown key(s) comment", id="unknown_key"
        ),
        pytest.param(
            _wrong_format_version,
            "format",
            "expected format 'porv.bundle/1', found 'porv.bundle/2'",
            id="wrong_format_version",
        ),
        pytest.param(
            _duplicated_key,
            "issuer",
            "key 'issuer' appears twice in one object",
            id="duplicated_json_key",
        ),
        pytest.param(
            _bad_address_checksum,
            "deployments[1].address",
            "is not an EIP-55 checksummed address",
            id="bad_address_checksum",
        ),
    ],
)
def test_malformed_bundle_refused_with_file_and_field_and_nothing_written(
    work: Workdir, craft: Callable[[Doc], str], field: str, words: str
) -> None:
    bundle = work.path / "bundle.json"
    bundle.write_text(craft(work.bundle_doc()) + "\n", encoding="utf-8")
    output = work.path / "result.json"

    run = verify_cli(bundle, work, "--output", str(output))

    assert_refused(run, work, None, code=2, kinds={"schema_error"}, words=[words])
    location = run.json["error"]["location"]
    assert location == {"file": str(bundle), "field": field}
    assert f"porv: error: {bundle}, field {field!r}: " in run.stderr
    assert not output.exists()
    assert sorted(p.name for p in work.path.iterdir()) == ["bundle.json", "policy.toml"]


def test_corrupted_state_file_refused_and_left_as_is(work: Workdir) -> None:
    bundle = work.write(work.bundle_doc())
    work.state.mkdir()
    work.state_file.write_text('{"format": "porv.state/1", "custodians": []}\n')
    before = work.snapshot()

    run = verify_cli(bundle, work)

    assert_refused(run, work, before, code=2, kinds={"schema_error"}, words=["expected an object"])
    assert run.json["error"]["location"] == {"file": str(work.state_file), "field": "custodians"}
