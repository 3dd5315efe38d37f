"""Typed errors: one family per exit code of DESIGN §5, a subclass per attack or failure.

Every error carries a message saying what was expected, what was found and (where useful)
what to do, plus an optional location (file, line, field). The CLI catches :class:`PorvError`
once, prints :meth:`PorvError.diagnostics` and exits with :attr:`PorvError.exit_code`.

Families:

* :class:`ClaimFailedError` (exit 1): a claim does not hold (bad signature, proof does not verify,
  reserves short, a rule failed, rollback).
* :class:`InputError` (exit 2): usage error or an input that cannot be read (malformed file,
  schema violation, bad policy).
* :class:`IncompleteError` (exit 3): could not complete (RPC down, endpoints disagree, timeout).

Messages and hints pass through :func:`redact_urls_in`: :func:`redact_url` keeps an RPC URL's
scheme, host and port only (API keys live in the path, the query or the userinfo of hosted
endpoints, and results and messages are shared). This module is the bottom layer; it imports
nothing from the rest of porv.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# A URL inside free text (error messages from nodes and libraries): up to a space, quote or
# angle bracket, since a path may hold ";" "," and brackets (a key after them would be shown);
# a trailing bracket, ":" "." "!" "?" "," or ";" is the sentence's, not the URL's.
_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]*[^\s'\"<>(){},;:.!?]")


def redact_url(url: str) -> str:
    """An endpoint URL reduced to ``scheme://host[:port]`` (no userinfo, path, query, fragment).

    Anything that does not parse as ``scheme://host`` is shown as ``<url>``.
    """
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        port = parts.port
    except ValueError:
        return "<url>"
    if not parts.scheme or not host:
        return "<url>"
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port is not None else "")


def redact_urls_in(text: str) -> str:
    """``text`` with every URL in it reduced by :func:`redact_url`."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)


@dataclass(frozen=True)
class Location:
    """Where in an input a problem was found."""

    file: str | None = None
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file is not None:
            parts.append(self.file)
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.field is not None:
            parts.append(f"field {self.field!r}")
        return ", ".join(parts)


class PorvError(Exception):
    """Base of every error porv raises on purpose."""

    exit_code: int = 3
    #: short machine-readable kind, e.g. ``"rollback"``; subclasses override
    kind: str = "error"

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        location: Location | None = None,
    ) -> None:
        # messages quote URLs (endpoints, node errors): never with their secrets
        message = redact_urls_in(message)
        hint = redact_urls_in(hint) if hint else hint
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.location = location

    def diagnostics(self) -> str:
        """Human-readable text: where, what went wrong, what to do."""
        head = f"{self.location}: {self.message}" if self.location else self.message
        return f"{head}\n  hint: {self.hint}" if self.hint else head

    def to_json(self) -> dict[str, object]:
        """JSON form used by ``--format json`` error output."""
        out: dict[str, object] = {
            "kind": self.kind,
            "message": self.message,
            "exit_code": self.exit_code,
        }
        if self.hint:
            out["hint"] = self.hint
        if self.location:
            loc = self.location
            out["location"] = {
                k: v
                for k, v in (("file", loc.file), ("line", loc.line), ("field", loc.field))
                if v is not None
            }
        return out


# --- exit 1: a claim does not hold ------------------------------------------------------


class ClaimFailedError(PorvError):
    """A claim does not hold (exit 1)."""

    exit_code = 1
    kind = "claim_failed"


class ProofInvalidError(ClaimFailedError):
    """A Merkle proof or multiproof does not verify against the root."""

    kind = "proof_invalid"


class TreeMismatchError(ClaimFailedError):
    """A tree does not hash to the signed root, or its leaf count / totals differ."""

    kind = "tree_mismatch"


class SignatureInvalidError(ClaimFailedError):
    """A signature is malformed, does not verify, or is not by a trusted key."""

    kind = "signature_invalid"


class HighSSignatureError(SignatureInvalidError):
    """A secp256k1 signature with s in the upper half of the curve order (malleable twin)."""

    kind = "high_s"


class UnknownSignerError(SignatureInvalidError):
    """A signature recovers to / names a key that is not pinned."""

    kind = "unknown_signer"


class DuplicateKeyError(SignatureInvalidError):
    """One key offered for two votes (listed twice, or directly and through a wallet it owns)."""

    kind = "duplicate_key"


class WalletRefusedError(SignatureInvalidError):
    """An EIP-1271 contract wallet refuses the signature offered in its name."""

    kind = "wallet_refused"


class ThresholdNotMetError(SignatureInvalidError):
    """Fewer distinct pinned keys signed than the threshold requires."""

    kind = "threshold_not_met"


class AttestationMismatchError(ClaimFailedError):
    """An attestation names another issuer, token or custodian, or another as_of."""

    kind = "mix_and_match"


class ExpiredError(ClaimFailedError):
    """An attestation is past validUntil or older than max_age (freeze attack)."""

    kind = "freeze"


class RollbackError(ClaimFailedError):
    """An attestation's sequence is below the last accepted, or equal with other content."""

    kind = "rollback"


class DeploymentMismatchError(ClaimFailedError):
    """The bundle's deployments are not exactly those the policy pins."""

    kind = "deployment_mismatch"


class DuplicateHoldingError(ClaimFailedError):
    """A holding id appears in more than one custodian's tree."""

    kind = "duplicate_holding"


class InsufficientReservesError(ClaimFailedError):
    """Eligible reserves are below circulating supply × min_coverage."""

    kind = "insufficient_reserves"


class RuleFailedError(ClaimFailedError):
    """A jurisdiction rule failed."""

    kind = "rule_failed"


class RegistryUntrustedError(ClaimFailedError):
    """The pinned registry is not porv's ``ReserveAttestationRegistry`` (no code, other code),
    or its record's stored signature does not recover to the signer it names."""

    kind = "registry_untrusted"


class RecheckMismatchError(ClaimFailedError):
    """A re-derived result differs from the saved one."""

    kind = "recheck_mismatch"


class TimeNotBoundError(RecheckMismatchError):
    """A result re-derives only at its own ``verified_at``, which no pinned operator signed."""

    kind = "time_not_bound"

    def to_json(self) -> dict[str, object]:
        return {**super().to_json(), "time_bound_by_signature": False}


# --- exit 2: bad usage or unreadable input ------------------------------------------------


class InputError(PorvError):
    """Usage error or an input that cannot be read (exit 2)."""

    exit_code = 2
    kind = "input_error"


class CsvError(InputError):
    """A malformed holdings CSV row or cell."""

    kind = "csv_error"


class SchemaError(InputError):
    """A JSON/TOML document that does not have the required shape."""

    kind = "schema_error"


class RulePackError(InputError):
    """An unknown rule pack name, or a rule-pack file that is malformed."""

    kind = "rule_pack_error"


class PolicyError(InputError):
    """A policy that is refused at load (threshold, duplicate keys, checksum, unknown keys)."""

    kind = "policy_error"


class KeyFileError(InputError):
    """A key file that cannot be read or holds no valid key."""

    kind = "key_file_error"


class OutputRefusedError(InputError):
    """``--output`` names something porv will not replace (a link, FIFO, device, folder)."""

    kind = "output_refused"


# --- exit 3: could not complete -----------------------------------------------------------


class IncompleteError(PorvError):
    """The check could not complete (exit 3)."""

    exit_code = 3
    kind = "incomplete"


class RpcError(IncompleteError):
    """A JSON-RPC endpoint failed, timed out, or answered something invalid."""

    kind = "rpc_error"


class WrongChainError(RpcError):
    """An endpoint reports a chain id other than the one pinned."""

    kind = "wrong_chain"


class EndpointsDisagreeError(RpcError):
    """Two endpoints for one chain answered differently (block hash or values)."""

    kind = "endpoints_disagree"


class WrongBlockError(RpcError):
    """A node answered for a block other than the one requested."""

    kind = "wrong_block"


class NotFinalError(IncompleteError):
    """The block pinned for ``as_of`` is not final yet on a chain (DESIGN §1, "Final pin").

    No block after ``as_of`` exists yet, an endpoint is behind, or the pinned block's
    successor is not finalized (or not deep enough) on every endpoint.
    """

    kind = "not_final"


class FutureAsOfError(NotFinalError):
    """The bundle's as_of lies in the future beyond the allowed clock skew (never final)."""

    kind = "future_as_of"


class HistoryUnavailableError(RpcError):
    """A node cannot serve state at the pinned block (pruned history)."""

    kind = "history_unavailable"


class StateLockedError(IncompleteError):
    """Another run holds the rollback state folder's lock for longer than porv waits."""

    kind = "state_locked"


class OutputNotWrittenError(IncompleteError):
    """The result could not be written where the user asked (disk full, folder gone)."""

    kind = "output_not_written"


class DeadlineExceededError(IncompleteError):
    """The run's deadline (``--deadline``) passed while an endpoint was still being asked."""

    kind = "deadline"


class RemoteSignerError(RpcError):
    """A remote signer (``eth_signTypedData_v4``) answered something that is not a signature by
    the address it was asked to sign with: a hostile or misconfigured endpoint."""

    kind = "remote_signer"
