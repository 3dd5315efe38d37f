"""``porv key new|show``: key files for ``attest sign``, ``publish`` and ``registry``."""

from __future__ import annotations

from typing import Any

import click

from verifier.cli.common import dump_json, emit, format_option, handle_errors, note

_SCHEME = click.option(
    "--scheme",
    type=click.Choice(["secp256k1", "bls"]),
    default="secp256k1",
    show_default=True,
    help="secp256k1 (an Ethereum address) or bls (BLS12-381, a public key and its proof of "
    "possession).",
)


def _render(info: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return dump_json({"status": "ok", **info})
    if info["scheme"] == "secp256k1":
        return "\n".join(
            [
                f"scheme   {info['scheme']}",
                f"address  {info['address']}",
                "policy   signers = [" + f'"{info["address"]}"' + "]",
            ]
        )
    return "\n".join(
        [
            f"scheme   {info['scheme']}",
            f"pubkey   {info['pubkey']}",
            f"pop      {info['pop']}",
            f'policy   bls = [{{ pubkey = "{info["pubkey"]}", pop = "{info["pop"]}" }}]',
        ]
    )


@click.group()
def key() -> None:
    """Make key files and show their public keys (never their secrets)."""


@key.command("new")
@_SCHEME
@click.option(
    "--output",
    "-o",
    "output",
    required=True,
    type=click.Path(),
    help="The new key file (created with mode 0600; an existing file is never replaced).",
)
@format_option("text", "json")
@handle_errors
def new_command(scheme: str, output: str, fmt: str) -> None:
    """Make a fresh secret key and write it to a new key file.

    The file is one line of 0x-hex, as `attest sign --key-file`, `publish --key-file` and
    `registry --key` read it, readable by its owner only. Prints the public part (as `key
    show` does): the address, or the BLS public key and proof of possession a policy pins.
    Exit 2, nothing written, if the file exists.
    """
    from verifier.app.keys import new_key

    info = new_key(output, scheme)
    emit(_render(info, fmt))
    note(f"porv key new: wrote a {scheme} key to {output} (mode 0600); keep it secret")


@key.command("show")
@click.argument("key_file", metavar="FILE", type=click.Path(dir_okay=False))
@_SCHEME
@format_option("text", "json")
@handle_errors
def show_command(key_file: str, scheme: str, fmt: str) -> None:
    """Print the public part of a key file: `address` (secp256k1), or `pubkey` and `pop` (BLS).

    A key file does not record its scheme: give --scheme bls for a BLS key. The values paste
    into a policy as they are (`signers = [...]`, `bls = [{ pubkey, pop }]`). The secret is
    never printed.
    """
    from verifier.app.keys import loose_mode, show_key

    emit(_render(show_key(key_file, scheme), fmt))
    mode = loose_mode(key_file)
    if mode is not None:
        note(
            f"porv: warning: {key_file} is readable or writable by others (mode {mode:04o}); "
            f"chmod 600 {key_file}",
            style="yellow",
        )
