"""The rollback floor (DESIGN §1.3) as data: the last attestation accepted per custodian.

Pure: :func:`verifier.checks.bundle.verify_bundle` compares against a :class:`Floor` and returns
the :class:`Accepted` updates; :mod:`verifier.local.state` reads and writes it under its lock.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from verifier.errors import RollbackError

STATE_FORMAT = "porv.state/1"


@dataclass(frozen=True)
class Accepted:
    """The last attestation accepted for one (issuer, token, custodian)."""

    sequence: int
    digest: str  # 0x-hex EIP-712 digest of the attestation message
    as_of: int


#: (issuer, token, custodian) -> what was accepted: the updates a verified run records.
Updates = Mapping[tuple[str, str, str], Accepted]


def _key(issuer: str, token: str, custodian: str) -> str:
    # JSON list as key: no separator an issuer name could forge.
    return json.dumps([issuer, token, custodian], ensure_ascii=False)


@dataclass(frozen=True)
class Floor:
    """A read-only snapshot of the rollback floor: the last accepted attestation per custodian.

    Pure: what :func:`verifier.checks.bundle.verify_bundle` compares against. The floor survives
    expiry: an attestation that has since expired still stops an older one from being accepted
    (as TUF keeps expired metadata as the rollback reference).
    """

    entries: Mapping[str, Accepted] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", MappingProxyType(dict(self.entries)))

    def get(self, issuer: str, token: str, custodian: str) -> Accepted | None:
        """The last accepted attestation for this custodian, if any."""
        return self.entries.get(_key(issuer, token, custodian))

    def check(self, issuer: str, token: str, custodian: str, sequence: int, digest: str) -> None:
        """Refuse a sequence below the floor, or equal to it with other content.

        Raises:
            RollbackError: the attestation would roll this verifier's state back.
        """
        last = self.get(issuer, token, custodian)
        if last is None:
            return
        if sequence < last.sequence:
            raise RollbackError(
                f"custodian {custodian!r}: attestation sequence {sequence} is below the last "
                f"accepted sequence {last.sequence} (rollback)",
                hint="an older attestation was replayed; ask the issuer for the current one",
            )
        if sequence == last.sequence and digest.lower() != last.digest.lower():
            raise RollbackError(
                f"custodian {custodian!r}: sequence {sequence} was accepted before with other "
                f"content ({last.digest}, now {digest})",
                hint="the same sequence number must never sign two different statements",
            )

    def raised(self, updates: Updates) -> Floor:
        """This floor raised by ``updates``; never lowered.

        Per custodian the higher sequence wins (an update below the floor leaves the floor as
        it is); the same sequence with the same content changes nothing.

        Raises:
            RollbackError: an update has the floor's sequence with other content (nothing is
                raised then, for any custodian).
        """
        entries = dict(self.entries)
        for (issuer, token, custodian), acc in updates.items():
            key = _key(issuer, token, custodian)
            last = entries.get(key)
            if last is not None and acc.sequence == last.sequence:
                self.check(issuer, token, custodian, acc.sequence, acc.digest)
                continue
            if last is None or acc.sequence > last.sequence:
                entries[key] = acc
        return Floor(entries)

    def to_json(self) -> dict[str, Any]:
        """The ``porv.state/1`` document."""
        return {
            "format": STATE_FORMAT,
            "custodians": {
                k: {"sequence": v.sequence, "digest": v.digest, "as_of": v.as_of}
                for k, v in sorted(self.entries.items())
            },
        }
