"""Local state: atomic file writes (and the rollback state of DESIGN §1.3)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from verifier.errors import Location, Rollback, SchemaError
from verifier.jsonio import load_json_file


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: temp file in the same folder, fsync, os.replace.

    A reader sees either the old file or the new one, never a half-written file, and a crash
    leaves no partial output behind.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` as UTF-8 atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode("utf-8"))


# --- rollback state (DESIGN §1.3) ---------------------------------------------------------

STATE_FORMAT = "porv.state/1"
STATE_FILE = "state.json"


@dataclass(frozen=True)
class Accepted:
    """The last attestation accepted for one (issuer, token, custodian)."""

    sequence: int
    digest: str  # 0x-hex EIP-712 digest of the attestation message
    as_of: int


def _key(issuer: str, token: str, custodian: str) -> str:
    # JSON list as key: no separator an issuer name could forge.
    return json.dumps([issuer, token, custodian], ensure_ascii=False)


class RollbackState:
    """Per-custodian rollback floor, kept in ``DIR/state.json``, written atomically.

    The floor survives expiry: an attestation that has since expired still stops an older one
    from being accepted (as TUF keeps expired metadata as the rollback reference).
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.path = Path(directory) / STATE_FILE
        self._entries: dict[str, Accepted] = self._read()

    def _read(self) -> dict[str, Accepted]:
        if not self.path.exists():
            return {}
        source = str(self.path)
        doc = load_json_file(source)
        if not isinstance(doc, dict) or doc.get("format") != STATE_FORMAT:
            raise SchemaError(
                f"not a {STATE_FORMAT} file",
                location=Location(file=source, field="format"),
                hint="point --state at a folder used only by porv",
            )
        entries: dict[str, Accepted] = {}
        raw = doc.get("custodians")
        if not isinstance(raw, dict):
            raise SchemaError("expected an object", location=Location(source, None, "custodians"))
        for key, value in raw.items():
            try:
                entries[key] = Accepted(
                    sequence=int(value["sequence"]),
                    digest=str(value["digest"]),
                    as_of=int(value["as_of"]),
                )
            except (KeyError, TypeError, ValueError):
                raise SchemaError(
                    "malformed entry", location=Location(source, None, f"custodians.{key}")
                ) from None
        return entries

    def get(self, issuer: str, token: str, custodian: str) -> Accepted | None:
        """The last accepted attestation for this custodian, if any."""
        return self._entries.get(_key(issuer, token, custodian))

    def check(self, issuer: str, token: str, custodian: str, sequence: int, digest: str) -> None:
        """Refuse a sequence below the floor, or equal to it with other content.

        Raises:
            Rollback: the attestation would roll this verifier's state back.
        """
        last = self.get(issuer, token, custodian)
        if last is None:
            return
        if sequence < last.sequence:
            raise Rollback(
                f"custodian {custodian!r}: attestation sequence {sequence} is below the last "
                f"accepted sequence {last.sequence} (rollback)",
                hint="an older attestation was replayed; ask the issuer for the current one",
            )
        if sequence == last.sequence and digest.lower() != last.digest.lower():
            raise Rollback(
                f"custodian {custodian!r}: sequence {sequence} was accepted before with other "
                f"content ({last.digest}, now {digest})",
                hint="the same sequence number must never sign two different statements",
            )

    def record(self, updates: dict[tuple[str, str, str], Accepted]) -> None:
        """Raise the floor for the given custodians and write the file atomically."""
        for (issuer, token, custodian), acc in updates.items():
            self._entries[_key(issuer, token, custodian)] = acc
        doc = {
            "format": STATE_FORMAT,
            "custodians": {
                k: {"sequence": v.sequence, "digest": v.digest, "as_of": v.as_of}
                for k, v in sorted(self._entries.items())
            },
        }
        atomic_write_text(self.path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
