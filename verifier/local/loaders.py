"""The file loaders: open an input strictly (:mod:`verifier.local.jsonio`), hand its content
to the pure parser in :mod:`verifier.model` or :mod:`verifier.merkle`.

Every loader raises the parser's typed error (exit 2) naming the file, also when the file
cannot be read, is not a regular file or is over its cap.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator

from verifier.errors import CsvError, Location, PolicyError
from verifier.local.jsonio import load_json_file, open_regular_file, read_regular_file
from verifier.local.jsonstream import read_json_text_compact
from verifier.merkle.proof import AnyProof, proof_from_json
from verifier.model.attestation import MAX_FILE_BYTES, AttestationFile
from verifier.model.bundle import Bundle, parse_bundle, read_bundle_document
from verifier.model.holdings import Holding, iter_holdings_lines
from verifier.model.jsontext import JsonReader
from verifier.model.policy import MAX_POLICY_BYTES, Policy, parse_policy


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Read and validate a policy file.

    Args:
        path: the TOML file.

    Returns:
        The validated policy; ``raw`` holds the file's bytes.

    Raises:
        PolicyError: the file cannot be read, is not a regular file, is over
            :data:`MAX_POLICY_BYTES`, is not UTF-8 TOML, or breaks a policy rule.
    """
    raw = read_regular_file(path, max_bytes=MAX_POLICY_BYTES, what="policy", error=PolicyError)
    return parse_policy(raw, source=str(path))


def load_bundle(path: str | os.PathLike[str]) -> Bundle:
    """Read and strictly parse a bundle file.

    Raises:
        SchemaError: unreadable or malformed bundle (exit 2).
        TreeMismatchError: a tree dump that does not hash to its own nodes (exit 1).
    """
    source = os.fspath(path)
    digest = hashlib.sha256()  # the bundle digest: of the file's exact bytes
    reader = JsonReader(read_json_text_compact(source, digest=digest.update), source=source)
    doc = read_bundle_document(reader, source)
    reader.end()
    del reader  # the text: the trees are in compact form by now
    return parse_bundle(doc, source=source, file_sha256=digest.hexdigest())


def load_attestation_file(path: str | os.PathLike[str]) -> AttestationFile:
    """Read and strictly parse a ``porv.attestation/1`` file.

    Args:
        path: The attestation file.

    Returns:
        The parsed attestation file.

    Raises:
        SchemaError: The file cannot be read, is not JSON, or does not match the format.
    """
    return AttestationFile.from_json(
        load_json_file(path, max_bytes=MAX_FILE_BYTES), source=os.fspath(path)
    )


def parse_holdings_csv(path: str | os.PathLike[str]) -> list[Holding]:
    """Read a holdings CSV (DESIGN §2) strictly.

    The header names the leaf fields in any order; ``decimals`` and ``salt`` are optional
    (an empty ``decimals`` cell means the ISO 4217 minor units of the currency, an empty
    ``salt`` the zero salt). Amounts are decimal strings in major units.

    Args:
        path: the CSV file (UTF-8, an optional byte-order mark is allowed).

    Returns:
        The holdings in file order.

    Raises:
        CsvError: the file cannot be read or decoded, a column is unknown, duplicated or
            missing, a row has the wrong number of cells, or a cell breaks a rule of DESIGN §2
            (amount with too many fractional digits, negative, unknown class or currency,
            duplicate holding_id, malformed date, bad country or salt, out of range). The
            error's location names the file, line and column.
    """
    return list(iter_holdings_csv(path))


def iter_holdings_csv(path: str | os.PathLike[str]) -> Iterator[Holding]:
    """Read a holdings CSV as :func:`parse_holdings_csv` does, one holding at a time.

    The file is decoded and parsed as it is read, so a caller that hashes each holding and
    drops it never holds the whole file. A bad row is reported when it is reached.

    Yields:
        The holdings in file order.

    Raises:
        CsvError: as :func:`parse_holdings_csv`.
    """
    name = os.fspath(path)
    try:
        with io.TextIOWrapper(
            open_regular_file(name, what="holdings CSV", error=CsvError),
            encoding="utf-8-sig",
            newline="",
        ) as fh:
            yield from iter_holdings_lines(fh, source=name)
    except UnicodeDecodeError:
        raise _not_utf8(name) from None
    except OSError as exc:
        raise CsvError(
            f"cannot read holdings CSV: {exc.strerror or exc}", location=Location(name)
        ) from None


def _not_utf8(name: str) -> CsvError:
    """The error for a CSV that is not UTF-8, naming the first bad byte of the whole file."""
    reason, start = "invalid UTF-8", 0
    try:
        with open_regular_file(name, what="holdings CSV", error=CsvError) as fh:
            fh.read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        reason, start = exc.reason, exc.start
    except OSError:  # pragma: no cover - the file went away between the two reads
        pass
    return CsvError(
        f"not UTF-8 text ({reason} at byte {start})",
        location=Location(name),
        hint="save the CSV as UTF-8",
    )


def load_proof_file(path: str | os.PathLike[str]) -> AnyProof:
    """Read a proof or multiproof file strictly (see :func:`proof_from_json`).

    Args:
        path: the JSON file.

    Returns:
        The proof model.

    Raises:
        SchemaError: unreadable, not JSON, or not a valid proof file.
    """
    source = os.fspath(path)
    return proof_from_json(load_json_file(source), source=source)
