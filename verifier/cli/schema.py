"""``porv schema bundle|policy|result``: print the published JSON Schemas."""

from __future__ import annotations

import click

from verifier.cli.common import dump_json, emit, handle_errors, output_option
from verifier.result.schemas import SCHEMAS


@click.command("schema")
@click.argument("which", type=click.Choice(sorted(SCHEMAS)))
@output_option
@handle_errors
def schema(which: str, output: str | None) -> None:
    """Print the JSON Schema (draft 2020-12) of a porv file format."""
    emit(dump_json(SCHEMAS[which]()), output)
