"""The issuer-published bundle ``porv.bundle/1`` (DESIGN §4): strict loading and writing.

Nothing in a bundle is trusted; this module only checks its *shape* (exact key sets, types,
ranges, checksummed addresses, one custodian id once) and parses the parts other modules own
(tree dumps, attestation messages, signature entries). Whether the claims hold is decided by
:mod:`verifier.checks.bundle`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from verifier.errors import Location, SchemaError
from verifier.merkle.tree import StandardMerkleTree
from verifier.model import validate
from verifier.model.attestation import AttestationMessage, SignatureEntry, check_signature_count
from verifier.model.disclosures import parse_disclosures
from verifier.model.jsontext import JsonReader, write_canonical
from verifier.model.timeutil import format_rfc3339, parse_rfc3339_utc
from verifier.model.validate import is_currency_code

BUNDLE_FORMAT = "porv.bundle/1"

_TOP_REQUIRED = {"format", "issuer", "token", "as_of", "deployments", "custodians"}
_TOP_OPTIONAL = {"auditor_report", "disclosures"}


@dataclass(frozen=True)
class TokenInfo:
    """The token the bundle speaks for."""

    symbol: str
    currency: str
    decimals: int


@dataclass(frozen=True)
class BundleDeployment:
    """A deployment as the issuer lists it (compared with the policy's pins, never trusted)."""

    chain_id: int
    address: str
    excluded: tuple[str, ...]


@dataclass(frozen=True)
class CustodianEntry:
    """One custodian's tree, signed attestation message and signatures."""

    id: str
    tree: StandardMerkleTree
    message: AttestationMessage
    signatures: tuple[SignatureEntry, ...]


@dataclass(frozen=True)
class AuditorReport:
    """BLS aggregate of auditors over ``ReserveReport`` (DESIGN §3)."""

    signers: tuple[str | int, ...]
    signature: bytes


@dataclass(frozen=True)
class Bundle:
    """A parsed ``porv.bundle/1``; ``raw`` is the document as read, for hashing (each
    custodian's ``tree`` in its loaded form, which writes its own canonical JSON)."""

    issuer: str
    token: TokenInfo
    as_of: int
    deployments: tuple[BundleDeployment, ...]
    custodians: tuple[CustodianEntry, ...]
    auditor_report: AuditorReport | None
    disclosures: Mapping[str, Any]
    raw: Mapping[str, Any]
    source: str
    #: sha256 (hex) of the file's exact bytes, for a bundle read from a file.
    file_sha256: str | None = None

    @property
    def sha256(self) -> str:
        """The bundle digest the result records: sha256 (hex) of the file's exact bytes, as
        ``sha256sum`` prints it, for a bundle read from a file.

        A bundle parsed from a document in memory has no file: its digest is sha256 of the
        document's RFC 8785 canonical form, streamed into the hash piece by piece (``raw``
        holds each custodian's tree as the loaded :class:`StandardMerkleTree`, which writes
        its dump's canonical form itself).
        """
        if self.file_sha256 is not None:
            return self.file_sha256
        digest = hashlib.sha256()
        write_canonical(self.raw, digest.update, hook=_tree_dump)
        return digest.hexdigest()


def _tree_dump(value: Any, write: Callable[[bytes], Any]) -> bool:
    """A loaded tree in ``raw`` writes its own dump's canonical form."""
    if isinstance(value, StandardMerkleTree):
        value.write_canonical_dump(write)
        return True
    return False


# --- helpers --------------------------------------------------------------------------------


class _Ctx:
    """Carries the source file name for locations."""

    def __init__(self, source: str) -> None:
        self.source = source

    def loc(self, path: str) -> Location:
        return Location(file=self.source, field=path)

    def fail(self, path: str, message: str, hint: str | None = None) -> SchemaError:
        return SchemaError(message, location=self.loc(path), hint=hint)

    def obj(
        self,
        value: Any,
        path: str,
        required: set[str],
        optional: set[str] = frozenset(),  # type: ignore[assignment]
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected an object, found {type(value).__name__}")
        missing = sorted(required - value.keys())
        if missing:
            raise self.fail(path, f"missing key(s) {', '.join(missing)}")
        unknown = sorted(value.keys() - required - optional)
        if unknown:
            raise self.fail(
                f"{path}.{unknown[0]}" if path else unknown[0],
                f"unknown key(s) {', '.join(unknown)}",
                hint="porv.bundle/1 allows no extra keys; check the format version",
            )
        return value

    def string(self, value: Any, path: str, *, nonempty: bool = True) -> str:
        if not isinstance(value, str):
            raise self.fail(path, f"expected a string, found {type(value).__name__}")
        if nonempty and not value.strip():
            raise self.fail(path, "must not be empty")
        return value

    def integer(self, value: Any, path: str, lo: int, hi: int) -> int:
        try:
            return validate.integer(value, lo=lo, hi=hi)
        except validate.InvalidValueError as exc:
            raise self.fail(path, str(exc)) from None

    def address(self, value: Any, path: str) -> str:
        text = self.string(value, path)
        try:
            return validate.checksummed_address(text)
        except validate.InvalidValueError:
            raise self.fail(
                path,
                f"{text!r} is not an EIP-55 checksummed address",
                hint="addresses must be written with their checksum capitalisation",
            ) from None

    def array(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(path, f"expected an array, found {type(value).__name__}")
        return value

    def hexbytes(self, value: Any, path: str, length: int | None = None) -> bytes:
        text = self.string(value, path)
        try:
            return validate.hex_bytes(text, length)
        except validate.InvalidValueError as exc:
            raise self.fail(path, str(exc)) from None


# --- loading --------------------------------------------------------------------------------


def parse_bundle(doc: Any, *, source: str, file_sha256: str | None = None) -> Bundle:
    """Check the shape of a bundle document and parse its parts.

    ``file_sha256``: the sha256 of the file ``doc`` was read from (the bundle digest).

    Raises:
        SchemaError: anything not of the ``porv.bundle/1`` shape (exit 2).
        TreeMismatchError: a tree dump whose nodes do not match its values (exit 1).
    """
    c = _Ctx(source)
    top = c.obj(doc, "", _TOP_REQUIRED, _TOP_OPTIONAL)
    if top["format"] != BUNDLE_FORMAT:
        raise c.fail(
            "format",
            f"expected format {BUNDLE_FORMAT!r}, found {top['format']!r}",
            hint="this porv reads porv.bundle/1 only",
        )
    issuer = c.string(top["issuer"], "issuer")
    tok = c.obj(top["token"], "token", {"symbol", "currency", "decimals"})
    currency = c.string(tok["currency"], "token.currency")
    if not is_currency_code(currency):
        raise c.fail("token.currency", f"expected an ISO 4217 code, found {currency!r}")
    token = TokenInfo(
        symbol=c.string(tok["symbol"], "token.symbol"),
        currency=currency,
        decimals=c.integer(tok["decimals"], "token.decimals", 0, 77),
    )
    as_of = parse_rfc3339_utc(top["as_of"], location=c.loc("as_of"))

    deployments: list[BundleDeployment] = []
    seen_dep: set[tuple[int, str]] = set()
    for i, raw_dep in enumerate(c.array(top["deployments"], "deployments")):
        p = f"deployments[{i}]"
        dep = c.obj(raw_dep, p, {"chain_id", "address", "excluded"})
        chain_id = c.integer(dep["chain_id"], f"{p}.chain_id", 1, 2**63 - 1)
        address = c.address(dep["address"], f"{p}.address")
        excluded = tuple(
            c.address(a, f"{p}.excluded[{j}]")
            for j, a in enumerate(c.array(dep["excluded"], f"{p}.excluded"))
        )
        if len(set(excluded)) != len(excluded):
            raise c.fail(f"{p}.excluded", "an excluded address is listed twice")
        if (chain_id, address) in seen_dep:
            raise c.fail(p, f"deployment {chain_id}:{address} is listed twice")
        seen_dep.add((chain_id, address))
        deployments.append(BundleDeployment(chain_id, address, excluded))

    custodians: list[CustodianEntry] = []
    raw_custodians_read: list[Any] = []  # as read, each tree replaced by its loaded form
    seen_ids: set[str] = set()
    raw_custodians = c.array(top["custodians"], "custodians")
    if not raw_custodians:
        raise c.fail("custodians", "a bundle needs at least one custodian")
    for i, raw_cust in enumerate(raw_custodians):
        p = f"custodians[{i}]"
        cust = c.obj(raw_cust, p, {"id", "tree", "attestation", "signatures"})
        cid = c.string(cust["id"], f"{p}.id")
        if cid in seen_ids:
            raise c.fail(f"{p}.id", f"custodian {cid!r} appears twice")
        seen_ids.add(cid)
        tree = StandardMerkleTree.load(cust["tree"], source=f"{source}: {p}.tree")
        message = AttestationMessage.from_json(
            cust["attestation"], source=f"{source}: {p}.attestation"
        )
        raw_sigs = c.array(cust["signatures"], f"{p}.signatures")
        check_signature_count(len(raw_sigs), source=source, field=f"{p}.signatures")
        sigs = tuple(
            SignatureEntry.from_json(s, source=f"{source}: {p}.signatures[{j}]")
            for j, s in enumerate(raw_sigs)
        )
        if not sigs:
            raise c.fail(f"{p}.signatures", "an attestation needs at least one signature")
        custodians.append(CustodianEntry(cid, tree, message, sigs))
        raw_custodians_read.append({**cust, "tree": tree})

    auditor: AuditorReport | None = None
    if "auditor_report" in top:
        rep = c.obj(top["auditor_report"], "auditor_report", {"signers", "signature"})
        signers: list[str | int] = []
        for j, s in enumerate(c.array(rep["signers"], "auditor_report.signers")):
            sp = f"auditor_report.signers[{j}]"
            if isinstance(s, int) and not isinstance(s, bool):
                signer: str | int = c.integer(s, sp, 0, 10_000)
            else:
                signer = "0x" + c.hexbytes(s, sp, 48).hex()
            if signer in signers:
                # as for a custodian's BLS entry: one aggregate names each signer once
                raise c.fail(sp, f"signer {signer} is listed twice")
            signers.append(signer)
        if not signers:
            raise c.fail("auditor_report.signers", "needs at least one signer")
        auditor = AuditorReport(
            tuple(signers), c.hexbytes(rep["signature"], "auditor_report.signature", 96)
        )

    disclosures: Mapping[str, Any] = {}
    if "disclosures" in top:
        if not isinstance(top["disclosures"], dict):
            raise c.fail("disclosures", "expected an object")
        parse_disclosures(top["disclosures"], source=f"{source}: disclosures")
        disclosures = top["disclosures"]

    return Bundle(
        issuer=issuer,
        token=token,
        as_of=as_of,
        deployments=tuple(deployments),
        custodians=tuple(custodians),
        auditor_report=auditor,
        disclosures=disclosures,
        raw={**top, "custodians": raw_custodians_read},
        source=source,
        file_sha256=file_sha256,
    )


def read_bundle_document(reader: JsonReader, source: str) -> Any:
    """The bundle document from ``reader``, each tree dump turned into its compact form."""
    """The bundle document, each custodian's tree read by :meth:`StandardMerkleTree.read_dump`
    (its JSON is never held whole); every other part decoded as usual."""
    if reader.peek() != "{":
        return reader.value()
    doc: dict[str, Any] = {}
    for key in reader.object():
        if key != "custodians" or reader.peek() != "[":
            doc[key] = reader.value()
            continue
        custodians: list[Any] = []
        for i in reader.array():
            if reader.peek() != "{":
                custodians.append(reader.value())
                continue
            cust: dict[str, Any] = {}
            for ckey in reader.object():
                if ckey == "tree":
                    where = f"{source}: custodians[{i}].tree"
                    cust[ckey] = StandardMerkleTree.read_dump(reader, source=where)
                else:
                    cust[ckey] = reader.value()
            custodians.append(cust)
        doc[key] = custodians
    return doc


def assemble(
    *,
    issuer: str,
    token: TokenInfo,
    as_of: int,
    deployments: Sequence[BundleDeployment],
    custodians: Sequence[tuple[str, Mapping[str, Any], Mapping[str, Any]]],
    auditor_report: Mapping[str, Any] | None = None,
    disclosures: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build a bundle document from its parts (the inverse of :func:`parse_bundle`).

    Args:
        custodians: ``(custodian id, tree dump, attestation file JSON)`` per custodian.

    Raises:
        SchemaError: the parts do not form a valid bundle (the result is re-parsed).
    """
    doc: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "issuer": issuer,
        "token": {"symbol": token.symbol, "currency": token.currency, "decimals": token.decimals},
        "as_of": format_rfc3339(as_of),
        "deployments": [
            {"chain_id": d.chain_id, "address": d.address, "excluded": list(d.excluded)}
            for d in deployments
        ],
        "custodians": [
            {
                "id": cid,
                "tree": dict(tree),
                "attestation": dict(att["message"]),
                "signatures": list(att["signatures"]),
            }
            for cid, tree, att in custodians
        ],
    }
    if auditor_report is not None:
        doc["auditor_report"] = dict(auditor_report)
    if disclosures:
        doc["disclosures"] = dict(disclosures)
    parse_bundle(doc, source="<assembled bundle>")
    return doc
