"""The shared strict file reader: regular files only, bounded, never blocking on a FIFO."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from verifier.errors import CsvError, KeyFileError, PolicyError, SchemaError
from verifier.local.jsonio import load_json_file, read_regular_file
from verifier.local.keys import load_key_file
from verifier.local.loaders import load_policy, parse_holdings_csv


def test_regular_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('{"a": 1}', encoding="utf-8")
    assert load_json_file(path) == {"a": 1}
    assert read_regular_file(path, max_bytes=8) == b'{"a": 1}'


def test_larger_than_the_cap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(b" " * 100)
    with pytest.raises(SchemaError, match="larger than the 99 byte limit"):
        read_regular_file(path, max_bytes=99)


def test_a_file_reporting_no_size_is_still_capped() -> None:
    # /proc files are regular but report size 0: the read itself stops at the cap
    with pytest.raises(SchemaError, match="byte limit"):
        read_regular_file("/proc/self/maps", max_bytes=10)


@pytest.mark.parametrize(
    ("path", "kind"), [("/dev/zero", "character device"), ("/dev/null", "character device")]
)
def test_devices_are_refused(path: str, kind: str) -> None:
    with pytest.raises(SchemaError, match=kind) as info:
        load_json_file(path)
    assert info.value.exit_code == 2


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="directory"):
        load_json_file(tmp_path)


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    start = time.monotonic()
    with pytest.raises(SchemaError, match="FIFO"):
        load_json_file(fifo)
    assert time.monotonic() - start < 5


def test_every_loader_refuses_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    with pytest.raises(PolicyError, match="FIFO"):
        load_policy(fifo)
    with pytest.raises(CsvError, match="FIFO"):
        parse_holdings_csv(fifo)
    with pytest.raises(KeyFileError, match="FIFO"):
        load_key_file(fifo, "secp256k1")


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy"):
        load_policy(tmp_path / "missing.toml")


def test_path_at_names_the_field_a_text_offset_falls_in() -> None:
    import json

    from verifier.model.jsontext import lone_surrogate_escape, path_at

    doc = {"a": "{[,:", "custodians": [{"x": "]},"}, {"id": "ab\ud800"}], "t": {"s": 1}}
    text = json.dumps(doc)
    assert path_at(text, lone_surrogate_escape(text) or 0) == "custodians[1].id"
    key = '{"ok": [1, 2], "k\\ud800ey": 1}'
    assert path_at(key, lone_surrogate_escape(key) or 0) == "k\\ud800ey"
    assert path_at('"\\ud800"', 0) == "(top level)"
