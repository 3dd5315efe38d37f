"""``porv key new|show``: 0600 files that never replace anything, public parts only, never a
secret in any output or error."""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from pathlib import Path

import pytest

from tests.support import cli
from verifier.errors import OutputRefusedError
from verifier.local.keys import generate_secret, load_key_file, write_new_key_file
from verifier.local.loaders import load_policy
from verifier.signatures import bls, secp256k1

ROOT = Path(__file__).resolve().parents[3]
POLICY = ROOT / "fixtures/policies/example.toml"


def porv(*args: str) -> cli.Run:
    run = cli.porv(args, in_process=True)
    assert "Traceback" not in run.output
    return run


def secret_hex(path: Path) -> str:
    """The key file's secret as hex digits (what must never be printed)."""
    text = path.read_text().strip()
    assert re.fullmatch(r"0x[0-9a-f]{64}", text)
    return text[2:]


def assert_no_secret(secret: str, *texts: str) -> None:
    for text in texts:
        assert secret.lower() not in text.lower()
        assert secret[:16].lower() not in text.lower()


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_new_secp256k1_file_mode_content_and_output(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "custodian.key"
    run = porv("key", "new", "-o", str(path), "--format", fmt)
    assert run.code == 0, run.output
    if sys.platform != "win32":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = load_key_file(path, "secp256k1")  # the format attest sign and publish read
    address = secp256k1.address_of(key)
    assert address in run.stdout
    if fmt == "json":
        doc = run.json
        assert doc == {
            "status": "ok",
            "file": str(path),
            "scheme": "secp256k1",
            "address": address,
        }
    else:
        assert f'signers = ["{address}"]' in run.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["custodian.key"]  # no temp file left
    assert_no_secret(secret_hex(path), run.stdout, run.stderr)
    for show_fmt in ("text", "json"):
        shown = porv("key", "show", str(path), "--format", show_fmt)
        assert shown.code == 0 and address in shown.stdout
        assert_no_secret(secret_hex(path), shown.stdout, shown.stderr)


def test_new_keys_differ(tmp_path: Path) -> None:
    for name in ("a.key", "b.key"):
        assert porv("key", "new", "-o", str(tmp_path / name)).code == 0
    assert (tmp_path / "a.key").read_text() != (tmp_path / "b.key").read_text()


def test_bls_pubkey_and_pop_paste_into_a_policy(tmp_path: Path) -> None:
    path = tmp_path / "auditor.key"
    run = porv("key", "new", "--scheme", "bls", "-o", str(path))
    assert run.code == 0, run.output
    key = load_key_file(path, "bls")
    shown = porv("key", "show", str(path), "--scheme", "bls", "--format", "json").json
    assert shown["pubkey"] == "0x" + bls.secret_to_pubkey(key).hex()
    assert bls.pop_verify(bytes.fromhex(shown["pubkey"][2:]), bytes.fromhex(shown["pop"][2:]))
    # the text output's policy line replaces the example policy's auditor list as it is
    (line,) = [x for x in run.stdout.splitlines() if x.startswith("policy ")]
    pasted = line.removeprefix("policy").strip()
    assert pasted.startswith("bls = [{ pubkey = ")
    text = POLICY.read_text()
    start = text.index("[auditors]\nbls = [")
    end = text.index("]\nthreshold", start) + 1
    policy_path = tmp_path / "policy.toml"
    policy_path.write_text(text[:start] + "[auditors]\n" + pasted + text[end:])
    policy = load_policy(policy_path)  # checks the proof of possession
    assert policy.auditors is not None
    assert [k.to_json() for k in policy.auditors.bls] == [
        {"pubkey": shown["pubkey"], "pop": shown["pop"]}
    ]
    assert_no_secret(secret_hex(path), run.stdout, run.stderr, json.dumps(shown))


@pytest.mark.parametrize("existing", ["file", "symlink", "dangling", "folder"])
def test_new_refuses_to_overwrite(tmp_path: Path, existing: str) -> None:
    path = tmp_path / "taken.key"
    other = tmp_path / "other"
    other.write_text("precious\n")
    if existing == "file":
        path.write_text("precious\n")
    elif existing == "symlink":
        path.symlink_to(other)
    elif existing == "dangling":
        path.symlink_to(tmp_path / "nowhere")
    else:
        path.mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    run = porv("key", "new", "-o", str(path), "--format", "json")
    assert run.code == 2, run.output
    assert run.json["status"] == "error"
    assert run.json["error"]["kind"] == "output_refused"
    assert "already exists" in run.json["error"]["message"]
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert other.read_text() == "precious\n"
    if existing == "file":
        assert path.read_text() == "precious\n"


def test_new_in_a_missing_folder_is_refused(tmp_path: Path) -> None:
    run = porv("key", "new", "-o", str(tmp_path / "nope" / "a.key"))
    assert run.code == 2
    assert "cannot create a key file" in run.stderr
    assert not (tmp_path / "nope").exists()


def test_write_new_key_file_without_hard_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_link(src: str, dst: str) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_link)
    key = generate_secret("secp256k1")
    path = tmp_path / "a.key"
    write_new_key_file(path, key)
    assert load_key_file(path, "secp256k1") == key
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.key"]
    with pytest.raises(OutputRefusedError, match="already exists"):
        write_new_key_file(path, generate_secret("secp256k1"))
    assert load_key_file(path, "secp256k1") == key


def test_generated_secrets_are_in_range() -> None:
    for scheme, limit in (("secp256k1", secp256k1.N), ("bls", bls.R)):
        for _ in range(50):
            assert 1 <= int.from_bytes(generate_secret(scheme), "big") < limit


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_show_errors_never_echo_the_file(tmp_path: Path, fmt: str) -> None:
    # in range for secp256k1 but not for BLS: the BLS error must not quote it
    secret = format(bls.R + 12345, "064x")
    path = tmp_path / "wrong.key"
    path.write_text("0x" + secret + "\n")
    run = porv("key", "show", str(path), "--scheme", "bls", "--format", fmt)
    assert run.code == 2
    assert "out of range for bls" in run.output
    assert_no_secret(secret, run.stdout, run.stderr)
    # two lines: not a key file, and neither line is echoed
    path.write_text("0x" + secret + "\n0x" + secret + "\n")
    run = porv("key", "show", str(path), "--format", fmt)
    assert run.code == 2
    assert_no_secret(secret, run.stdout, run.stderr)


def test_show_warns_about_a_key_file_others_can_read(tmp_path: Path) -> None:
    path = tmp_path / "a.key"
    assert porv("key", "new", "-o", str(path)).code == 0
    assert "warning" not in porv("key", "show", str(path)).stderr
    path.chmod(0o644)
    run = porv("key", "show", str(path))
    assert run.code == 0
    assert "readable or writable by others (mode 0644)" in run.stderr
    assert_no_secret(secret_hex(path), run.stdout, run.stderr)
