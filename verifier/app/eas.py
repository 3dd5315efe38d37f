"""Results as EAS attestations: ``porv publish --eas`` and ``porv recheck --eas``.

Publishing (:func:`run_publish_eas`) takes a ``porv.result/1`` whose digest matches its content
(and whose signature, if any, recovers to its signer) and whose status is ``verified``; porv
never publishes a failed or incomplete result (exit 1: the file is well formed, its claim is
not one porv attests). Then, on the chain the endpoint serves:

1. the code at the EAS address must be EAS 1.9.0's, and so must the code of the
   ``SchemaRegistry`` it names (exit 3 otherwise: porv does not attest through unknown code);
2. porv's schema (:data:`verifier.result.eas.SCHEMA`) is registered once: ``getSchema(uid)``
   first, ``register`` only when it is missing, and the record is read back;
3. an attestation the sender already made of this very result is looked up (the newest
   :data:`MAX_CANDIDATES` ``Attested`` logs filtered by attester and schema UID, each candidate
   read with ``getAttestation`` and compared field by field, and its log's transaction sent by
   the attester to this EAS address); if one is there and not revoked, its UID is reported and
   nothing is sent;
4. otherwise ``attest`` is sent (signed locally with ``--key-file``), its receipt awaited, the
   UID taken from the receipt's ``Attested`` log, and the attestation read back at the receipt's
   block and compared field by field.

The attestation expires at the result's earliest custodian ``valid_until``, so a result whose
custodian statements have expired is refused (exit 1) and an on-chain consumer sees the
attestation expire when the result's claim does.

Rechecking (:func:`recheck_eas`) trusts nothing the chain says until it is checked: see
:mod:`verifier.chain.eas` for the reading, :func:`verifier.result.eas.attestation_problems` for
the judgement, and :func:`verifier.chain.eas.find_attesting_tx` for the transaction that must
have made the attestation (the attester's own, to this EAS address).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from verifier.chain.rpc import RpcClient
from verifier.errors import (
    AttestationMismatchError,
    ClaimFailedError,
    ExpiredError,
    InputError,
    Location,
    RecheckMismatchError,
    RpcError,
    WrongChainError,
    redact_url,
)
from verifier.model.validate import InvalidValueError, checksummed_address, parse_chain_id
from verifier.result import eas as schema
from verifier.result.eas import Attestation, EasFields, SchemaRecord

if TYPE_CHECKING:
    from verifier.chain.eas import AttestingTx

_UID = re.compile(r"^0x[0-9a-fA-F]{64}\Z")
#: ``publish`` looks at the attester's newest this many ``Attested`` logs for an earlier
#: attestation of the result (one per result it published; an endpoint may answer more).
MAX_CANDIDATES = 1024


def parse_eas(value: str, option: str = "--eas") -> tuple[int, str]:
    """``CHAIN_ID:ADDR`` -> (chain id, checksummed address).

    Raises:
        InputError: Malformed, or the address is not EIP-55 checksummed.
    """
    chain_text, sep, addr = value.partition(":")
    try:
        if not sep:
            raise InvalidValueError("")
        return parse_chain_id(chain_text), checksummed_address(addr)
    except InvalidValueError as exc:
        raise InputError(
            f"{option} expects CHAIN_ID:ADDR (an EIP-55 checksummed address), found {value!r}",
            hint=exc.hint or None,
            location=Location(None, None, option),
        ) from None


def parse_uid(value: str, option: str = "--uid") -> bytes:
    """An attestation UID: ``0x`` and 64 hex digits.

    Raises:
        InputError: Anything else.
    """
    if not _UID.match(value):
        raise InputError(
            f"{option} expects 0x and 64 hex digits, found {value!r:.80}",
            location=Location(None, None, option),
        )
    return bytes.fromhex(value[2:])


def load_result(path: str) -> tuple[dict[str, Any], str | None]:
    """A result file, its seal checked.

    Returns:
        The document and its operator signer (None when unsigned).

    Raises:
        SchemaError: Not a result.
        RecheckMismatchError: The digest does not match the content (exit 1).
        SignatureInvalidError: The signature does not recover to its signer (exit 1).
    """
    from verifier.local.jsonio import load_json_file
    from verifier.result.seal import check_seal

    doc = load_json_file(path)
    signer = check_seal(doc, source=path)
    return doc, signer


def publishable(
    doc: Mapping[str, Any], source: str, *, now: int, chain_time: int
) -> tuple[EasFields, int]:
    """What porv attests for a result, if it attests it at all.

    Args:
        doc: The result (seal checked).
        source: Its file name.
        now: This machine's clock (unix seconds).
        chain_time: The chain's latest block time.

    Returns:
        The schema's values and the attestation's ``expirationTime``.

    Raises:
        ClaimFailedError: The result is not ``verified``.
        ExpiredError: A custodian attestation the result counts has expired.
        SchemaError: A field is missing.
    """
    from verifier.model.timeutil import format_rfc3339

    status = doc.get("status")
    if status != "verified":
        raise ClaimFailedError(
            f"{source}: the result's status is {status!r}; porv publishes only a verified result",
            hint="fix what the result's failing checks name and verify again",
        )
    values = schema.fields_of(doc, source=source)
    expiration = schema.expiration_of(doc, source=source)
    later = max(now, chain_time)
    if expiration <= later:
        raise ExpiredError(
            f"{source}: the result's earliest custodian attestation expired at "
            f"{format_rfc3339(expiration)}, {later - expiration} s before now "
            f"({format_rfc3339(later)}, the later of this machine's clock and the chain's latest "
            "block): the result no longer holds and EAS refuses an expired attestation; nothing "
            "was sent",
            hint="verify a bundle with fresh attestations and publish that result",
        )
    return values, expiration


# --- IO: publishing ------------------------------------------------------------------------


def _client(url: str, chain_id: int) -> RpcClient:
    return RpcClient(url, chain_id)


def _eth_call(client: RpcClient, to: str, calldata: bytes, block: int | str) -> bytes | None:
    """``eth_call`` through the JSON-RPC client; None when it reverted."""
    from verifier.chain.rpc import data, eth_call

    call = eth_call(to, calldata, block)
    (item,) = client.exchange([call], as_batch=False)
    if "error" in item and client.is_revert(item):
        return None
    return data(client.result_of(call, item), "eth_call result", client)


def _tag(block: int | str) -> str:
    return hex(block) if isinstance(block, int) else block


def _code(client: RpcClient, address: str, block: int | str) -> bytes:
    from verifier.chain.rpc import data

    return data(client.call("eth_getCode", address, _tag(block)), "eth_getCode result", client)


def _read_attestation(client: RpcClient, eas: str, uid: bytes, block: int | str) -> Attestation:
    from eth_abi.abi import encode

    from verifier.chain.eas import decode_attestation, selector

    raw = _eth_call(
        client, eas, selector("getAttestation(bytes32)") + encode(["bytes32"], [uid]), block
    )
    try:
        return decode_attestation(raw)
    except ValueError as exc:
        raise RpcError(f"{client.where()}: EAS {eas}: {exc}") from None


def _read_schema(client: RpcClient, registry: str, block: int | str) -> SchemaRecord:
    from eth_abi.abi import encode

    from verifier.chain.eas import decode_schema_record, selector

    calldata = selector("getSchema(bytes32)") + encode(["bytes32"], [schema.schema_uid()])
    try:
        return decode_schema_record(_eth_call(client, registry, calldata, block))
    except ValueError as exc:
        raise RpcError(f"{client.where()}: SchemaRegistry {registry}: {exc}") from None


def _eas_contracts(client: RpcClient, eas: str) -> str:
    """Check the code at ``eas`` and at the registry it names; return the registry.

    Raises:
        RpcError: No code at ``eas``, or not EAS 1.9.0's (or its SchemaRegistry's).
    """
    from verifier.chain.eas import (
        decode_address,
        require_eas_code,
        require_registry_code,
        selector,
    )

    where = client.where()
    require_eas_code(where, eas, _code(client, eas, "latest"))
    try:
        registry = decode_address(
            _eth_call(client, eas, selector("getSchemaRegistry()"), "latest"),
            "getSchemaRegistry()",
        )
    except ValueError as exc:
        raise RpcError(f"{where}: EAS {eas}: {exc}") from None
    require_registry_code(where, registry, _code(client, registry, "latest"))
    return registry


def _ensure_schema(
    url: str, client: RpcClient, registry: str, key: bytes, progress: Callable[[str], None]
) -> str:
    """Register porv's schema unless it is there; returns ``"registered"`` or ``"present"``.

    Raises:
        RpcError: The registry holds another record under porv's UID.
        RegistryRejectedError: The registry refused the registration.
    """
    from verifier.devnet import registry as reg

    record = _read_schema(client, registry, "latest")
    if record.uid == schema.ZERO32:
        progress(f"porv publish: registering porv's EAS schema {schema.SCHEMA_VERSION}")
        try:
            receipt = reg.send_transaction(
                url,
                registry,
                "register",
                (schema.SCHEMA, schema.RESOLVER, schema.REVOCABLE),
                key,
                name="SchemaRegistry",
            )
            block: int | str = int(receipt["blockNumber"])
        except reg.RegistryRejectedError as exc:
            if exc.reason != "AlreadyExists":  # another sender registered it first: fine
                raise
            block = "latest"
        record = _read_schema(client, registry, block)
        outcome = "registered"
    else:
        outcome = "present"
    if not record.is_porv():
        raise RpcError(
            f"{client.where()}: SchemaRegistry {registry} answers getSchema(0x"
            f"{schema.schema_uid().hex()}) with uid 0x{record.uid.hex()}, resolver "
            f"{record.resolver}, revocable {record.revocable}, schema {record.schema!r:.200}: "
            "not porv's schema record"
        )
    return outcome


def _existing(
    client: RpcClient, eas: str, attester: str, values: EasFields, expiration: int
) -> tuple[str | None, int]:
    """The newest unrevoked attestation by ``attester`` of exactly this result, if any.

    Returns:
        Its UID (0x-hex) or None, and how many revoked copies were seen.
    """
    from verifier.chain.eas import attested_filter, sent_by
    from verifier.chain.rpc import data, hash32

    logs = client.call(
        "eth_getLogs", attested_filter(eas, attester, schema.schema_uid(), 0, "latest")
    )
    if not isinstance(logs, list):
        raise RpcError(f"{client.where()}: eth_getLogs answered {type(logs).__name__}, not a list")
    revoked = 0
    for log in reversed(logs[-MAX_CANDIDATES:]):
        if not isinstance(log, Mapping):
            raise RpcError(f"{client.where()}: eth_getLogs answered a log that is not an object")
        uid = data(log.get("data"), "Attested log data", client)
        if len(uid) != 32:
            raise RpcError(f"{client.where()}: an Attested log carries {len(uid)} bytes of data")
        att = _read_attestation(client, eas, uid, "latest")

        def fits(a: Attestation) -> bool:
            return not schema.attestation_problems(
                a, attester=attester, expected=values, expiration=expiration, at=0
            )

        live = fits(att)
        if not live and not (att.revocation_time and fits(replace(att, revocation_time=0))):
            continue
        # only a log the attester's own transaction to EAS emitted, not one a constructor wrote
        tx_hash = hash32(log.get("transactionHash"), "log transactionHash", client)
        if sent_by(client.call("eth_getTransactionByHash", tx_hash), client) != (attester, eas):
            continue
        if live:
            return "0x" + uid.hex(), revoked
        revoked += 1
    return None, revoked


def _attest(url: str, eas: str, values: EasFields, expiration: int, key: bytes) -> Any:
    from verifier.devnet import registry as reg

    request = (
        schema.schema_uid(),
        (schema.RESOLVER, expiration, schema.REVOCABLE, schema.ZERO32, schema.encode(values), 0),
    )
    return reg.send_transaction(url, eas, "attest", (request,), key, name="EAS")


def _uid_from_receipt(receipt: Any, eas: str, attester: str) -> bytes:
    """The UID of the ``Attested`` log EAS emitted in this receipt for this attester.

    Raises:
        AttestationMismatchError: No such log, or more than one.
    """
    from verifier.chain.eas import ATTESTED_TOPIC, address_topic

    found: list[bytes] = []
    for log in receipt["logs"]:
        topics = ["0x" + bytes(t).hex() for t in log["topics"]]
        if (
            str(log["address"]).lower() == eas.lower()
            and len(topics) == 4
            and topics[0] == ATTESTED_TOPIC
            and topics[2] == address_topic(attester)
            and topics[3] == "0x" + schema.schema_uid().hex()
        ):
            found.append(bytes(log["data"]))
    if len(found) != 1 or len(found[0]) != 32:
        raise AttestationMismatchError(
            f"EAS {eas}: the attest transaction emitted {len(found)} Attested log(s) for "
            f"{attester} under porv's schema, expected exactly one"
        )
    return found[0]


def run_publish_eas(
    source: str,
    eas_opt: str,
    url: str,
    key_file: str,
    *,
    now: int,
    progress: Callable[[str], None] = lambda _line: None,
) -> dict[str, Any]:
    """Attest a verified result on EAS (module docstring), or find that it already is.

    Args:
        source: A ``porv.result/1`` file.
        eas_opt: ``CHAIN_ID:ADDR`` of the EAS contract.
        url: The JSON-RPC endpoint (http/https) of that chain.
        key_file: secp256k1 key file of the attester (it signs and pays gas).
        now: This machine's clock (unix seconds).
        progress: Called with a line before each transaction.

    Returns:
        The report: ``status``, ``outcome`` (``published`` or ``already_published``), ``uid``,
        ``chain_id``, ``eas``, ``schema_registry``, ``schema_uid``, ``schema``, ``attester``,
        ``expiration_time``, ``fields`` and, when sent, ``tx_hash`` and ``block_number``.

    Raises:
        InputError: Bad URL, option, key file or result (exit 2).
        ClaimFailedError: A result that is not verified, has expired or was edited, or an
            attestation read back that is not the one sent (exit 1).
        IncompleteError: The node failed, serves another chain, or the code is not EAS (exit 3).
    """
    from verifier.local.keys import load_key_file

    if not url.startswith(("http://", "https://")):
        raise InputError(
            f"--rpc expects an http(s) URL, found {url!r}", location=Location(None, None, "--rpc")
        )
    chain_id, eas = parse_eas(eas_opt)
    key = load_key_file(key_file, "secp256k1")
    doc, _signer = load_result(source)
    return publish_eas(doc, source, chain_id, eas, url, key, now=now, progress=progress)


def publish_eas(
    doc: Mapping[str, Any],
    source: str,
    chain_id: int,
    eas: str,
    url: str,
    key: bytes,
    *,
    now: int,
    progress: Callable[[str], None] = lambda _line: None,
) -> dict[str, Any]:
    """:func:`run_publish_eas` on a loaded result (seal checked) and a loaded key."""
    from verifier.app.publish import _chain_time
    from verifier.signatures import secp256k1

    attester = secp256k1.address_of(key)
    client = _client(url, chain_id)
    from verifier.chain.rpc import quantity

    served = quantity(client.call("eth_chainId"), "eth_chainId", client, bits=64)
    if served != chain_id:
        raise WrongChainError(f"{redact_url(url)} serves chain id {served}, expected {chain_id}")
    values, expiration = publishable(doc, source, now=now, chain_time=_chain_time(url))
    registry = _eas_contracts(client, eas)
    schema_outcome = _ensure_schema(url, client, registry, key, progress)
    report: dict[str, Any] = {
        "status": "ok",
        "chain_id": chain_id,
        "eas": eas,
        "schema_registry": registry,
        "schema_uid": "0x" + schema.schema_uid().hex(),
        "schema": schema.SCHEMA,
        "schema_version": schema.SCHEMA_VERSION,
        "schema_outcome": schema_outcome,
        "attester": attester,
        "expiration_time": expiration,
        "fields": values.to_json(),
    }
    uid_hex, revoked = _existing(client, eas, attester, values, expiration)
    if revoked:
        report["revoked_copies"] = revoked
    if uid_hex is not None:
        report.update(outcome="already_published", uid=uid_hex)
        return report
    progress(f"porv publish: attesting result {values.resultDigest.hex()[:12]}… on EAS {eas}")
    receipt = _attest(url, eas, values, expiration, key)
    block = int(receipt["blockNumber"])
    uid = _uid_from_receipt(receipt, eas, attester)
    att = _read_attestation(client, eas, uid, block)
    problems = schema.attestation_problems(
        att, attester=attester, expected=values, expiration=expiration, at=0
    )
    if att.uid != uid:
        problems.insert(0, f"getAttestation answered uid 0x{att.uid.hex()}")
    if problems:
        raise AttestationMismatchError(
            f"EAS {eas}: attestation 0x{uid.hex()} read back at block {block} is not what porv "
            "sent: " + "; ".join(problems)
        )
    report.update(
        outcome="published",
        uid="0x" + uid.hex(),
        tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
        block_number=block,
        time=att.time,
    )
    return report


# --- IO: rechecking ------------------------------------------------------------------------


def recheck_eas(
    doc: Mapping[str, Any],
    source: str,
    *,
    eas_opt: str,
    uid_opt: str,
    attester_opt: str | None,
    urls: Sequence[str],
    finality: str | int,
    now: int,
    transport: Any = None,
) -> dict[str, Any]:
    """Compare the EAS attestation ``uid_opt`` with the result ``doc``.

    The attester must be the one the holder names (``--attester``) or, without it, the result's
    operator signer; an unsigned result needs ``--attester`` (exit 2): anyone can attest
    anything under porv's schema, so who attested is what makes an attestation mean something.

    Args:
        doc: The result (rechecked already by the caller).
        source: Its file name.
        eas_opt: ``CHAIN_ID:ADDR``.
        uid_opt: The attestation UID.
        attester_opt: The attester the holder trusts, or None.
        urls: The chain's endpoints (every one is read, they must agree).
        finality: The chain's finality (the policy's ``[finality]``, ``"finalized"`` by default).
        now: This recheck's clock (unix seconds).
        transport: Replaces HTTP (tests).

    Returns:
        The ``eas`` section of the recheck report (with ``tx_hash`` and ``tx_block_number``,
        the transaction that made the attestation).

    Raises:
        InputError: Bad options, no endpoint, or no attester to trust (exit 2).
        RecheckMismatchError: The attestation is missing, under another schema, by another
            attester, revoked, expired, differs in a field, or no transaction from the attester
            to this EAS address made it (exit 1, naming each).
        IncompleteError: Endpoints failed or disagree, the code is not EAS, or EAS answered
            what it cannot (exit 3).
    """
    from verifier.chain.eas import find_attesting_tx, read_eas
    from verifier.model.timeutil import format_rfc3339
    from verifier.result.seal import check_seal

    chain_id, eas = parse_eas(eas_opt)
    uid = parse_uid(uid_opt)
    signer = check_seal(doc, source=source)
    if attester_opt is not None:
        try:
            attester = checksummed_address(attester_opt)
        except InvalidValueError:
            raise InputError(
                f"--attester expects an EIP-55 checksummed address, found {attester_opt!r}",
                location=Location(None, None, "--attester"),
            ) from None
        trusted_by = "--attester"
    elif signer is not None:
        attester, trusted_by = signer, "the result's operator signature"
    else:
        raise InputError(
            f"{source}: the result is unsigned, so porv cannot tell whose EAS attestation to "
            "accept: anyone can attest anything under porv's schema",
            hint="name the attester you trust with --attester ADDR",
            location=Location(None, None, "--attester"),
        )
    if not urls:
        raise InputError(
            f"no RPC endpoint for chain {chain_id}, where EAS {eas} is",
            hint=f"give one with --rpc {chain_id}=URL or list it under [rpc] in the policy",
            location=Location(None, None, "--rpc"),
        )
    values = schema.fields_of(doc, source=source)
    expiration = schema.expiration_of(doc, source=source)
    reading = read_eas(
        chain_id, urls, eas, uid, schema.schema_uid(), finality=finality, transport=transport
    )
    where = f"EAS {eas} on chain {chain_id} at block {reading.header.number}"
    att = reading.attestation
    if att.uid not in (uid, schema.ZERO32):
        raise RpcError(
            f"{where}: getAttestation(0x{uid.hex()}) answered an attestation with UID "
            f"0x{att.uid.hex()}"
        )
    if (
        att.uid != schema.ZERO32
        and att.schema == schema.schema_uid()
        and not reading.schema_record.is_porv()
    ):
        raise RpcError(
            f"{where}: its SchemaRegistry {reading.schema_registry} does not hold porv's "
            f"schema record under 0x{schema.schema_uid().hex()} (it answers schema "
            f"{reading.schema_record.schema!r:.120}), yet EAS holds an attestation under it"
        )
    at = max(now, reading.header.timestamp)
    problems = schema.attestation_problems(
        att, attester=attester, expected=values, expiration=expiration, at=at
    )
    origin = None
    if not problems:
        origin = find_attesting_tx(
            chain_id,
            urls,
            eas,
            uid,
            attester,
            schema.schema_uid(),
            att.time,
            reading.header.number,
            transport=transport,
        )
        if origin is None or origin.sender != attester or origin.to != eas:
            problems.append(_not_sent(attester, eas, att.time, origin))
    if problems:
        raise RecheckMismatchError(
            f"{source}: {where}: attestation 0x{uid.hex()} does not match the result: "
            + "; ".join(problems),
            hint=f"the attester trusted is {attester} ({trusted_by})",
        )
    return {
        "uid": "0x" + uid.hex(),
        "chain_id": chain_id,
        "eas": eas,
        "schema_registry": reading.schema_registry,
        "schema_uid": "0x" + schema.schema_uid().hex(),
        "attester": att.attester,
        "attester_trusted_by": trusted_by,
        "time": format_rfc3339(att.time),
        "expiration_time": format_rfc3339(att.expiration_time),
        "block_number": reading.header.number,
        "block_hash": reading.header.hash,
        "tx_hash": origin.tx_hash if origin else None,
        "tx_block_number": origin.block_number if origin else None,
        "endpoints": len(urls),
    }


def _not_sent(attester: str, eas: str, time: int, origin: AttestingTx | None) -> str:
    """Why an attestation is not shown to be one ``attester`` sent to ``eas``."""
    from verifier.model.timeutil import format_rfc3339

    if origin is None:
        where = (
            f"no Attested log of it by {attester} in the blocks of its time "
            f"{format_rfc3339(time)} ({time})"
        )
    else:
        to = origin.to or "nothing (a contract creation)"
        where = (
            f"its Attested log is in transaction {origin.tx_hash} (block "
            f"{origin.block_number}) from {origin.sender} to {to}"
        )
    return (
        f"no transaction from {attester} to {eas} made it: {where}; porv believes an "
        "attestation only when its attester sent it to this EAS (code identical to EAS's can "
        "hold storage its constructor wrote)"
    )


def eas_endpoints(
    doc: Mapping[str, Any],
    source: str,
    policy_path: str | None,
    chain_id: int,
    overrides: Mapping[int, Sequence[str]] | None,
) -> tuple[list[str], str | int]:
    """The endpoints and finality for the EAS chain: the policy's ``[rpc]`` and ``[finality]``
    for it, with ``--rpc`` added (the policy is the one recheck re-derived the result from).

    Raises:
        InputError: The policy cannot be read.
    """
    from verifier.app.recheck import _named_path
    from verifier.local.loaders import load_policy

    inputs = doc.get("inputs")
    named = _named_path(
        inputs if isinstance(inputs, Mapping) else {}, "policy", policy_path, source
    )
    policy = load_policy(named)
    if overrides:
        policy = policy.with_rpc(overrides)
    return list(policy.rpc.get(chain_id, ())), policy.finality_for(chain_id)
