// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";

/// @title ReserveAttestationRegistry
/// @notice Stores custodians' latest signed reserve attestations after checking, on-chain, the
///         EIP-712 secp256k1 signature (porv's domain {name: "porv", version: "1"}, with no
///         chainId and no verifyingContract) against signers the owner registered for that
///         custodian, and a strictly increasing sequence per (issuer, token, custodian).
///
///         The registry is bound at construction to one (issuer, token, currency, decimals):
///         as a Chainlink AggregatorV3Interface feed its answer is the sum, over custodians, of
///         each custodian's latest attested total in that currency for that issuer and token,
///         scaled to the feed's decimals (truncating). Every accepted attestation of the bound
///         issuer and token starts a new round: startedAt = the attestation's asOf, updatedAt =
///         the block timestamp. Attestations of other issuers or tokens are stored too but do
///         not move the feed.
contract ReserveAttestationRegistry is Ownable, AggregatorV3Interface {
    struct Total {
        string currency;
        uint256 amount;
        uint8 decimals;
    }

    struct ReserveAttestation {
        string issuer;
        string token;
        string custodian;
        bytes32 holdingsRoot;
        uint256 leafCount;
        Total[] totals;
        uint64 asOf;
        uint64 validUntil;
        uint64 sequence;
    }

    /// @notice What the registry keeps of the latest accepted attestation of a key.
    struct Record {
        bool exists;
        uint64 sequence;
        uint64 asOf;
        uint64 validUntil;
        bytes32 holdingsRoot;
        uint256 leafCount;
        bytes32 digest;
        address signer;
        uint64 submittedAt;
    }

    struct Round {
        int256 answer;
        uint64 startedAt;
        uint64 updatedAt;
    }

    bytes32 public constant DOMAIN_TYPEHASH = keccak256("EIP712Domain(string name,string version)");
    bytes32 public constant TOTAL_TYPEHASH =
        keccak256("Total(string currency,uint256 amount,uint8 decimals)");
    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "ReserveAttestation(string issuer,string token,string custodian,bytes32 holdingsRoot,"
        "uint256 leafCount,Total[] totals,uint64 asOf,uint64 validUntil,uint64 sequence)"
        "Total(string currency,uint256 amount,uint8 decimals)"
    );
    /// @notice keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256("porv"), keccak256("1"))).
    bytes32 public immutable DOMAIN_SEPARATOR;

    string public issuer;
    string public token;
    string public currency;
    uint8 private immutable _decimals;
    string private _description;

    bytes32 private immutable _issuerHash;
    bytes32 private immutable _tokenHash;
    bytes32 private immutable _currencyHash;

    /// custodian hash => signer => registered
    mapping(bytes32 => mapping(address => bool)) private _signers;
    /// keccak256(abi.encode(issuerHash, tokenHash, custodianHash)) => latest record
    mapping(bytes32 => Record) private _records;
    /// the same key => the signature (65 bytes r‖s‖v) the latest record was accepted with
    mapping(bytes32 => bytes) private _signatures;
    /// custodian hash => its current contribution to the feed's answer
    mapping(bytes32 => uint256) private _contribution;
    uint256 private _reserveTotal;
    uint80 private _latestRound;
    mapping(uint80 => Round) private _rounds;

    event SignerRegistered(string custodian, address indexed signer);
    event SignerRevoked(string custodian, address indexed signer);
    event AttestationSubmitted(
        bytes32 indexed key,
        string custodian,
        address indexed signer,
        bytes32 indexed digest,
        bytes32 holdingsRoot,
        uint64 sequence,
        uint64 asOf,
        uint64 validUntil
    );
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    error UnknownSigner(address signer);
    error SequenceNotIncreasing(uint64 stored, uint64 given);
    error ValidityWindowInvalid(uint64 asOf, uint64 validUntil);
    error ZeroSigner();
    error NoDataPresent();
    error AnswerOverflow();

    constructor(
        string memory issuer_,
        string memory token_,
        string memory currency_,
        uint8 decimals_,
        string memory description_
    ) Ownable(msg.sender) {
        issuer = issuer_;
        token = token_;
        currency = currency_;
        _decimals = decimals_;
        _description = description_;
        _issuerHash = keccak256(bytes(issuer_));
        _tokenHash = keccak256(bytes(token_));
        _currencyHash = keccak256(bytes(currency_));
        DOMAIN_SEPARATOR = keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256("porv"), keccak256("1")));
    }

    // --- signers --------------------------------------------------------------------------

    /// @notice Trust `signer` to sign attestations for `custodian`.
    function registerSigner(string calldata custodian, address signer) external onlyOwner {
        if (signer == address(0)) revert ZeroSigner();
        _signers[keccak256(bytes(custodian))][signer] = true;
        emit SignerRegistered(custodian, signer);
    }

    /// @notice Stop trusting `signer` for `custodian`.
    function revokeSigner(string calldata custodian, address signer) external onlyOwner {
        _signers[keccak256(bytes(custodian))][signer] = false;
        emit SignerRevoked(custodian, signer);
    }

    /// @notice Whether `signer` is registered for `custodian`.
    function isSigner(string calldata custodian, address signer) external view returns (bool) {
        return _signers[keccak256(bytes(custodian))][signer];
    }

    // --- EIP-712 --------------------------------------------------------------------------

    /// @notice The EIP-712 digest porv signs for `att` (domain {name: "porv", version: "1"}).
    function digestOf(ReserveAttestation calldata att) public view returns (bytes32) {
        return MessageHashUtils.toTypedDataHash(DOMAIN_SEPARATOR, _structHash(att));
    }

    function _structHash(ReserveAttestation calldata att) private pure returns (bytes32) {
        // hashStruct = keccak256(typeHash ‖ enc(issuer) ‖ ... ‖ enc(sequence)), built from two
        // abi.encode halves to keep the stack shallow (ten words at once is too deep).
        bytes memory first = abi.encode(
            ATTESTATION_TYPEHASH,
            keccak256(bytes(att.issuer)),
            keccak256(bytes(att.token)),
            keccak256(bytes(att.custodian)),
            att.holdingsRoot,
            att.leafCount
        );
        bytes memory second =
            abi.encode(_totalsHash(att.totals), att.asOf, att.validUntil, att.sequence);
        return keccak256(bytes.concat(first, second));
    }

    function _totalsHash(Total[] calldata totals) private pure returns (bytes32) {
        bytes32[] memory hashes = new bytes32[](totals.length);
        for (uint256 i = 0; i < totals.length; ++i) {
            hashes[i] = keccak256(
                abi.encode(
                    TOTAL_TYPEHASH,
                    keccak256(bytes(totals[i].currency)),
                    totals[i].amount,
                    totals[i].decimals
                )
            );
        }
        return keccak256(abi.encodePacked(hashes));
    }

    // --- submission -----------------------------------------------------------------------

    /// @notice The storage key of (issuer, token, custodian).
    function keyOf(string memory issuer_, string memory token_, string memory custodian)
        public
        pure
        returns (bytes32)
    {
        return keccak256(
            abi.encode(keccak256(bytes(issuer_)), keccak256(bytes(token_)), keccak256(bytes(custodian)))
        );
    }

    /// @notice Accept `att` if `signature` (65 bytes r‖s‖v, low s) over its EIP-712 digest is by
    ///         a signer registered for its custodian and its sequence is above the stored one.
    /// @return digest The attestation's EIP-712 digest.
    function submit(ReserveAttestation calldata att, bytes calldata signature)
        external
        returns (bytes32 digest)
    {
        digest = digestOf(att);
        // OpenZeppelin's ECDSA reverts on malformed signatures and on high-s twins.
        address signer = ECDSA.recoverCalldata(digest, signature);
        bytes32 custodianHash = keccak256(bytes(att.custodian));
        if (!_signers[custodianHash][signer]) revert UnknownSigner(signer);
        if (att.validUntil < att.asOf) revert ValidityWindowInvalid(att.asOf, att.validUntil);

        bytes32 key = keyOf(att.issuer, att.token, att.custodian);
        Record storage rec = _records[key];
        if (rec.exists && att.sequence <= rec.sequence) {
            revert SequenceNotIncreasing(rec.sequence, att.sequence);
        }
        rec.exists = true;
        rec.sequence = att.sequence;
        rec.asOf = att.asOf;
        rec.validUntil = att.validUntil;
        rec.holdingsRoot = att.holdingsRoot;
        rec.leafCount = att.leafCount;
        rec.digest = digest;
        rec.signer = signer;
        rec.submittedAt = uint64(block.timestamp);
        _signatures[key] = signature;
        _emitSubmitted(key, signer, digest, att);

        if (keccak256(bytes(att.issuer)) == _issuerHash && keccak256(bytes(att.token)) == _tokenHash) {
            _newRound(custodianHash, _amountIn(att.totals), att.asOf);
        }
    }

    function _emitSubmitted(
        bytes32 key,
        address signer,
        bytes32 digest,
        ReserveAttestation calldata att
    ) private {
        emit AttestationSubmitted(
            key, att.custodian, signer, digest, att.holdingsRoot, att.sequence, att.asOf, att.validUntil
        );
    }

    function _amountIn(Total[] calldata totals) private view returns (uint256) {
        for (uint256 i = 0; i < totals.length; ++i) {
            if (keccak256(bytes(totals[i].currency)) == _currencyHash) {
                uint8 d = totals[i].decimals;
                uint256 amount = totals[i].amount;
                if (d == _decimals) return amount;
                if (d < _decimals) return amount * (10 ** uint256(_decimals - d));
                return amount / (10 ** uint256(d - _decimals));
            }
        }
        return 0;
    }

    function _newRound(bytes32 custodianHash, uint256 amount, uint64 asOf) private {
        _reserveTotal = _reserveTotal - _contribution[custodianHash] + amount;
        _contribution[custodianHash] = amount;
        if (_reserveTotal > uint256(type(int256).max)) revert AnswerOverflow();
        uint80 roundId = _latestRound + 1;
        _latestRound = roundId;
        int256 answer = int256(_reserveTotal);
        _rounds[roundId] = Round(answer, asOf, uint64(block.timestamp));
        emit AnswerUpdated(answer, roundId, block.timestamp);
    }

    /// @notice The latest accepted attestation record of (issuer, token, custodian); `exists` is
    ///         false if none was accepted.
    function latest(string calldata issuer_, string calldata token_, string calldata custodian)
        external
        view
        returns (Record memory)
    {
        return _records[keyOf(issuer_, token_, custodian)];
    }

    /// @notice The signature the latest record of (issuer, token, custodian) was accepted with
    ///         (empty if none), so that a reader can recover the signer itself instead of
    ///         trusting the stored `signer`.
    function signatureOf(string calldata issuer_, string calldata token_, string calldata custodian)
        external
        view
        returns (bytes memory)
    {
        return _signatures[keyOf(issuer_, token_, custodian)];
    }

    // --- AggregatorV3Interface ------------------------------------------------------------

    /// @inheritdoc AggregatorV3Interface
    function decimals() external view returns (uint8) {
        return _decimals;
    }

    /// @inheritdoc AggregatorV3Interface
    function description() external view returns (string memory) {
        return _description;
    }

    /// @inheritdoc AggregatorV3Interface
    function version() external pure returns (uint256) {
        return 1;
    }

    /// @inheritdoc AggregatorV3Interface
    function getRoundData(uint80 roundId)
        public
        view
        returns (uint80, int256, uint256, uint256, uint80)
    {
        if (roundId == 0 || roundId > _latestRound) revert NoDataPresent();
        Round storage r = _rounds[roundId];
        return (roundId, r.answer, r.startedAt, r.updatedAt, roundId);
    }

    /// @inheritdoc AggregatorV3Interface
    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return getRoundData(_latestRound);
    }
}
