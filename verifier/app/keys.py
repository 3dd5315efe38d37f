"""``porv key new|show``: make a key file, and show what a policy pins for it.

A key file holds a secret (:mod:`verifier.local.keys`); what leaves this module is only its
public part: the address of a secp256k1 key, or the public key and proof of possession of a BLS
key, in the exact form a policy pins them (``signers = ["0x…"]``; ``bls = [{ pubkey = "0x…",
pop = "0x…" }]``). Nothing here returns, prints or puts in an error message the secret.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any


def public_info(key: bytes, scheme: str) -> dict[str, Any]:
    """The public part of a secret key, as a policy pins it.

    Returns:
        ``{"scheme", "address"}`` for secp256k1; ``{"scheme", "pubkey", "pop"}`` for BLS (the
        proof of possession is ``PopProve(sk)``, which the policy loader checks).

    Raises:
        ValueError: Unknown scheme or a key out of range.
    """
    from verifier.signatures import bls, secp256k1

    if scheme == "secp256k1":
        return {"scheme": scheme, "address": secp256k1.address_of(key)}
    if scheme == "bls":
        return {
            "scheme": scheme,
            "pubkey": "0x" + bls.secret_to_pubkey(key).hex(),
            "pop": "0x" + bls.pop_prove(key).hex(),
        }
    raise ValueError(f"unknown key scheme {scheme!r}")


def new_key(path: str | Path, scheme: str) -> dict[str, Any]:
    """Create a key file with a fresh secret (mode 0600, never over an existing file).

    Returns:
        :func:`public_info` of the new key, with ``file``.

    Raises:
        OutputRefusedError: ``path`` exists or cannot be created (exit 2); nothing changed.
    """
    from verifier.local.keys import generate_secret, write_new_key_file

    key = generate_secret(scheme)
    write_new_key_file(path, key)
    return {"file": str(path), **public_info(key, scheme)}


def show_key(path: str | Path, scheme: str) -> dict[str, Any]:
    """The public part of the key in a key file.

    Raises:
        KeyFileError: The file cannot be read or holds no key for ``scheme`` (exit 2).
    """
    from verifier.local.keys import load_key_file

    return {"file": str(path), **public_info(load_key_file(path, scheme), scheme)}


def loose_mode(path: str | Path) -> int | None:
    """The permission bits of a key file that others (group or world) can read or write, or
    None when only its owner can (or on Windows, where POSIX modes say nothing)."""
    if os.name == "nt":
        return None
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None
    return mode if mode & 0o077 else None
