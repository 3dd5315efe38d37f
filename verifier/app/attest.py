"""``porv attest sign|verify``: build and sign a tree's attestation; check one against a tree.

The CLI parses the options (times, signer keys, threshold) and renders; this module loads the
key, tree and attestation files, signs or counts the signatures, and raises on a failed check.
"""

from __future__ import annotations

from dataclasses import dataclass

from verifier.app.tree import load_tree
from verifier.errors import InputError, Location, ThresholdNotMetError, TreeMismatchError
from verifier.model.attestation import AttestationFile, AttestationMessage, SignatureEntry
from verifier.model.timeutil import format_rfc3339
from verifier.signatures import VerificationResult


@dataclass(frozen=True)
class SignedAttestation:
    """A freshly signed attestation file, its EIP-712 digest and how many keys signed it."""

    document: AttestationFile
    digest: bytes
    key_count: int


def sign_attestation(
    tree_path: str,
    *,
    issuer: str,
    token: str,
    custodian: str,
    as_of: int,
    valid_until: int,
    sequence: int,
    key_files: tuple[str, ...],
    scheme: str,
    remote: tuple[tuple[str, str], ...] = (),
    safe: str | None = None,
    chain_id: int | None = None,
    rpc: str | None = None,
) -> SignedAttestation:
    """Build the attestation of a holdings tree and sign it with every key file and remote signer.

    Args:
        remote: ``(signer URL, checksummed address)`` pairs: each signs through
            ``eth_signTypedData_v4`` (:func:`verifier.chain.signer.sign_attestation_remote`,
            which checks the answer recovers to the address). secp256k1 only.
        safe: A Safe's checksummed address: every key and remote signer is one of its owners
            and signs its SafeMessage of the digest on ``chain_id`` (:func:`sign_for_safe`);
            the one entry names the Safe. ``rpc``: check the signature against the Safe
            there (``isValidSignature`` at the latest block) before anything is returned.

    Raises:
        InputError: ``valid_until`` is not after ``as_of``, no key or signer, a BLS scheme with
            remote signers, or one key given twice (two files, or a file and a signer).
        RemoteSignerError: A remote signer failed or answered anything but the address's own
            signature (exit 3); nothing is returned, so nothing gets written.
    """
    from verifier.local.keys import load_key_file
    from verifier.signatures import bls, count_signatures
    from verifier.signatures.eip712 import attestation_digest
    from verifier.signatures.signing import message_for_tree, sign_entries

    if valid_until <= as_of:
        raise InputError(
            f"--valid-until ({format_rfc3339(valid_until)}) must be after --as-of "
            f"({format_rfc3339(as_of)})",
            location=Location(field="--valid-until"),
        )
    if not key_files and not remote:
        raise InputError(
            "nothing to sign with: give --key-file, or --signer-rpc with --signer-address",
            location=Location(field="--key-file"),
        )
    if remote and scheme != "secp256k1":
        raise InputError(
            "remote signers (--signer-rpc) sign secp256k1 only (eth_signTypedData_v4)",
            location=Location(field="--scheme"),
        )
    if safe is not None and scheme != "secp256k1":
        raise InputError(
            "a Safe's owners sign secp256k1 (--safe takes no --scheme bls)",
            location=Location(field="--scheme"),
        )
    keys: list[bytes] = []
    for path in key_files:
        key = load_key_file(path, scheme)
        if key in keys:
            raise InputError(
                "two --key-file options hold the same key", location=Location(file=path)
            )
        keys.append(key)
    tree = load_tree(tree_path)
    message = message_for_tree(
        tree,
        issuer=issuer,
        token=token,
        custodian=custodian,
        as_of=as_of,
        valid_until=valid_until,
        sequence=sequence,
    )
    digest = attestation_digest(message)
    if safe is not None:
        entry = sign_for_safe(digest, safe, chain_id, keys, remote, rpc=rpc)
        document = AttestationFile(message=message, signatures=(entry,))
        return SignedAttestation(document, digest, len(keys) + len(remote))
    entries = sign_entries(message, keys, scheme) if keys else []
    if remote:
        from verifier.chain.signer import sign_attestation_remote

        named = {e.signer for e in entries}
        for _url, address in remote:
            if address in named:
                raise InputError(
                    f"signer {address} is given twice (a key file or another --signer-address)",
                    location=Location(field="--signer-address"),
                )
            named.add(address)
        for url, address in remote:
            signature = sign_attestation_remote(url, address, message)
            entries.append(SignatureEntry("secp256k1", address, (), signature))
    if scheme == "secp256k1":
        check = count_signatures(
            digest, entries, signers=[e.signer or "" for e in entries], threshold=len(entries)
        )
    else:
        pubkeys = [bls.secret_to_pubkey(k) for k in keys]
        check = count_signatures(digest, entries, bls_keys=pubkeys, threshold=len(pubkeys))
    if not check.ok:  # pragma: no cover - a signing backend bug, never expected
        raise ThresholdNotMetError(f"freshly made signatures do not verify: {check.describe()}")
    document = AttestationFile(message=message, signatures=tuple(entries))
    return SignedAttestation(document=document, digest=digest, key_count=len(keys) + len(remote))


def sign_for_safe(
    digest: bytes,
    safe: str,
    chain_id: int | None,
    keys: list[bytes],
    remote: tuple[tuple[str, str], ...],
    *,
    rpc: str | None = None,
) -> SignatureEntry:
    """A Safe's signature over an attestation digest, from its owners' keys and signers.

    Each owner signs the Safe's SafeMessage hash of the digest
    (:func:`verifier.signatures.wallet_keys.safe_message_hash`: the hash the Safe's
    CompatibilityFallbackHandler checks for EIP-1271 ``isValidSignature(bytes32, bytes)``): a key
    file directly, a remote signer through ``eth_signTypedData_v4`` over the SafeMessage typed
    data (its answer must recover to the owner over the hash porv computed). The 65-byte owner
    signatures are sorted by owner address, ascending, and concatenated, as a Safe requires.

    The chain id is part of the hash and must be given: porv does not take it from an endpoint
    (a wrong id yields a signature the Safe refuses). With ``rpc``, porv checks that the endpoint
    serves that chain and that the Safe accepts the signature at its latest block.

    Raises:
        InputError: No chain id, or one owner twice.
        RemoteSignerError: A remote signer failed (exit 3).
        WalletRefusedError: With ``rpc``, the Safe does not accept the signature (exit 1).
        PorvError: With ``rpc``, the endpoint failed or serves another chain (exit 3).
    """
    from verifier.signatures import secp256k1
    from verifier.signatures.wallet_keys import safe_message_hash, wallet_keys

    if chain_id is None:
        raise InputError(
            "--safe needs --chain-id: the Safe's chain id is part of what its owners sign",
            location=Location(field="--chain-id"),
        )
    hashed = safe_message_hash(digest, safe, chain_id)
    chunks: dict[str, bytes] = {}
    for key in keys:
        chunks[secp256k1.address_of(key)] = secp256k1.sign(hashed, key)
    for _url, address in remote:
        if address in chunks:
            raise InputError(
                f"owner {address} is given twice (a key file or another --signer-address)",
                location=Location(field="--signer-address"),
            )
        chunks[address] = b""
    if safe in chunks:
        raise InputError(
            f"the Safe {safe} cannot sign as its own owner", location=Location(field="--safe")
        )
    if remote:
        from verifier.chain.signer import sign_safe_message_remote

        for url, address in remote:
            chunks[address] = sign_safe_message_remote(url, address, digest, safe, chain_id)
    owners = sorted(chunks, key=lambda a: int(a, 16))  # a Safe wants ascending owners
    signature = b"".join(chunks[o] for o in owners)
    read = wallet_keys(digest, signature, wallet=safe, chain_id=chain_id)
    if not set(owners) <= set(read.recovered):  # pragma: no cover - a signing backend bug
        raise ThresholdNotMetError("freshly made Safe owner signatures do not recover")
    if rpc is not None:
        from verifier.chain.eip1271 import eip1271_checker
        from verifier.errors import WalletRefusedError

        check = eip1271_checker({chain_id: [rpc]}, finality=lambda _chain: "latest")
        if not check(chain_id, safe, digest, signature, None):
            raise WalletRefusedError(
                f"the Safe {safe} on chain {chain_id} does not accept the signature of "
                f"{len(owners)} owner(s) ({', '.join(owners)}) at its latest block; nothing "
                "was written",
                hint="sign with at least the Safe's threshold of its current owners",
            )
    return SignatureEntry("secp256k1", safe, (), signature)


@dataclass(frozen=True)
class CheckedAttestation:
    """An attestation that passed: its message, digest and the signature count."""

    message: AttestationMessage
    digest: bytes
    result: VerificationResult


def check_attestation(
    attestation_path: str,
    tree_path: str,
    *,
    signers: list[str],
    bls_keys: list[bytes],
    threshold: int,
) -> CheckedAttestation:
    """Check an attestation file's signatures against the expected keys and its tree.

    Raises:
        TreeMismatchError: the tree is not the signed one (the signature count is named too).
        ThresholdNotMetError: fewer than ``threshold`` of the expected keys signed.
    """
    from verifier.local.loaders import load_attestation_file
    from verifier.signatures import check_attestation_against_tree, count_signatures
    from verifier.signatures.eip712 import attestation_digest

    document = load_attestation_file(attestation_path)
    tree = load_tree(tree_path)
    message = document.message
    digest = attestation_digest(message)
    result = count_signatures(
        digest, document.signatures, signers=signers, bls_keys=bls_keys, threshold=threshold
    )
    mismatch: TreeMismatchError | None = None
    try:
        check_attestation_against_tree(message, tree)
    except TreeMismatchError as exc:
        mismatch = exc
    if mismatch is not None:
        raise TreeMismatchError(
            f"{mismatch.message}; signatures: {result.describe()}", hint=mismatch.hint
        )
    if not result.ok:
        raise ThresholdNotMetError(
            f"signature threshold not met: {result.describe()}",
            hint="the attestation must be signed by the expected keys over exactly this message",
        )
    return CheckedAttestation(message=message, digest=digest, result=result)
