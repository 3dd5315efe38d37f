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
///         custodian, and a strictly increasing sequence per (issuer, token, custodian) that
///         moves up by at most MAX_SEQUENCE_STEP at a time. It refuses an attestation that has
///         expired (validUntil before the block) or is as of a time the chain has not reached.
///
///         The registry is bound at construction to one (issuer, token, currency, decimals):
///         as a Chainlink AggregatorV3Interface feed its answer is the sum, over custodians, of
///         each custodian's latest attested total in that currency for that issuer and token,
///         scaled to the feed's decimals (truncating), counting only the attestations that are
///         unexpired at the current block (block.timestamp <= validUntil) and whose signer is
///         still registered for the custodian. Revoking the signer of a custodian's feed record
///         voids that record for good (re-registering the signer does not bring it back) and
///         frees the custodian's place in the feed; a signer trusted again after a revocation
///         is accepted only for attestations as of a time after it. startedAt and updatedAt are
///         the asOf of the oldest counted attestation: the answer is only as recent as its
///         oldest part. When nothing counts, the latest round answers 0 with startedAt =
///         updatedAt = 0 (Chainlink's "round not complete"), so a consumer that checks the
///         answer or its age fails closed. An accepted attestation of the bound issuer and
///         token, a revocation of the signer of a custodian's feed record, and the owner's
///         removal of a custodian start a new round; the latest round's data is computed at the
///         block it is read at (expiry needs no transaction), an earlier round keeps the data it
///         had when it was started. Attestations of other issuers or tokens are stored too but
///         do not move the feed.
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

    /// @notice A custodian's part of the feed: its latest record of the bound issuer and token,
    ///         packed in two storage slots (signer, validUntil | amount, asOf) for a cheap read.
    struct Contribution {
        address signer;
        uint64 validUntil;
        uint192 amount;
        uint64 asOf;
    }

    /// @notice The most custodians the feed sums. latestRoundData reads every one of them
    ///         (four storage words each, about 9,500 gas cold: measured about 330,000 gas for a
    ///         full feed), and a consumer calls it inside its own transactions; a running total
    ///         cannot replace the loop, because an attestation expires without any transaction.
    ///         Only a custodian with a signer the owner registered can take a place, and it
    ///         gives the place up when the owner revokes the signer of its feed record or removes
    ///         it (removeFeedCustodian); its next accepted attestation takes a place again.
    uint256 public constant MAX_FEED_CUSTODIANS = 32;

    /// @notice The most a record's sequence can move up in one submission (a record's first
    ///         sequence is at most this). A sequence of 2^64-1 would otherwise lock the record for
    ///         ever; with this step, a leaked or dishonest key needs 2^32 accepted transactions to
    ///         exhaust the range, and the owner revokes it long before. A unix time in seconds
    ///         fits as a first sequence.
    uint64 public constant MAX_SEQUENCE_STEP = 2 ** 32;

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
    /// custodian hash => its latest record of the bound issuer and token, as the feed sums it
    mapping(bytes32 => Contribution) private _contribution;
    /// the custodians that have a contribution (at most MAX_FEED_CUSTODIANS)
    bytes32[] private _feedCustodians;
    uint80 private _latestRound;
    mapping(uint80 => Round) private _rounds;
    /// custodian hash => its position in _feedCustodians plus one (0: not in the feed)
    mapping(bytes32 => uint256) private _feedIndex;
    /// custodian hash => signer => block time of the signer's latest revocation (0: never)
    mapping(bytes32 => mapping(address => uint64)) private _revokedAt;

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
    event FeedCustodianRemoved(string custodian);
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    error UnknownSigner(address signer);
    error SequenceNotIncreasing(uint64 stored, uint64 given);
    error SequenceJumpTooLarge(uint64 stored, uint64 given, uint64 maxStep);
    error ValidityWindowInvalid(uint64 asOf, uint64 validUntil);
    error AttestationExpired(uint64 validUntil, uint256 blockTime);
    error AsOfInFuture(uint64 asOf, uint256 blockTime);
    error TooManyFeedCustodians(uint256 max);
    error SignedBeforeRevocation(uint64 asOf, uint64 revokedAt);
    error NotInFeed(string custodian);
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

    /// @notice Trust `signer` to sign attestations for `custodian`. After a revocation the
    ///         signer is trusted only for attestations as of a time after it: what it signed
    ///         before (and the feed record the revocation voided) never counts again.
    function registerSigner(string calldata custodian, address signer) external onlyOwner {
        if (signer == address(0)) revert ZeroSigner();
        _setSigner(keccak256(bytes(custodian)), signer, true);
        emit SignerRegistered(custodian, signer);
    }

    /// @notice Stop trusting `signer` for `custodian`. If the custodian's feed record was
    ///         signed by `signer`, it is voided for good and the custodian leaves the feed,
    ///         freeing its place (a new round).
    function revokeSigner(string calldata custodian, address signer) external onlyOwner {
        _setSigner(keccak256(bytes(custodian)), signer, false);
        emit SignerRevoked(custodian, signer);
    }

    function _setSigner(bytes32 custodianHash, address signer, bool trusted) private {
        bool changed = _signers[custodianHash][signer] != trusted;
        _signers[custodianHash][signer] = trusted;
        if (!changed || trusted) return;
        _revokedAt[custodianHash][signer] = uint64(block.timestamp);
        // a registered signer is never address 0, so an empty contribution never matches
        if (_contribution[custodianHash].signer == signer) {
            _leaveFeed(custodianHash);
            _newRound();
        }
    }

    /// @notice Take `custodian` out of the feed and free its place (a new round). Its signers
    ///         stay registered; its next accepted attestation of the bound issuer and token
    ///         (a higher sequence, as ever) takes a place again. Reverts with NotInFeed if it
    ///         has no place.
    function removeFeedCustodian(string calldata custodian) external onlyOwner {
        bytes32 custodianHash = keccak256(bytes(custodian));
        if (_feedIndex[custodianHash] == 0) revert NotInFeed(custodian);
        _leaveFeed(custodianHash);
        _newRound();
        emit FeedCustodianRemoved(custodian);
    }

    /// @dev Delete the custodian's contribution and free its place: the last custodian moves
    ///      into it (constant gas, the order of _feedCustodians carries no meaning).
    function _leaveFeed(bytes32 custodianHash) private {
        uint256 index = _feedIndex[custodianHash];
        delete _contribution[custodianHash];
        if (index == 0) return;
        uint256 last = _feedCustodians.length;
        if (index != last) {
            bytes32 moved = _feedCustodians[last - 1];
            _feedCustodians[index - 1] = moved;
            _feedIndex[moved] = index;
        }
        _feedCustodians.pop();
        delete _feedIndex[custodianHash];
    }

    /// @notice The block time of the latest revocation of `signer` for `custodian` (0 if it
    ///         was never revoked); the signer's attestations as of then or earlier are refused.
    function revokedAt(string calldata custodian, address signer) external view returns (uint64) {
        return _revokedAt[keccak256(bytes(custodian))][signer];
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
    ///         a signer registered for its custodian, it is unexpired and as of a time the chain
    ///         has reached (asOf <= block.timestamp <= validUntil), and its sequence is above the
    ///         stored one by at most MAX_SEQUENCE_STEP (a first record: 1 to MAX_SEQUENCE_STEP,
    ///         or 0).
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
        uint64 revokedAt_ = _revokedAt[custodianHash][signer];
        if (revokedAt_ != 0 && att.asOf <= revokedAt_) {
            revert SignedBeforeRevocation(att.asOf, revokedAt_);
        }
        if (att.validUntil < att.asOf) revert ValidityWindowInvalid(att.asOf, att.validUntil);
        if (att.validUntil < block.timestamp) {
            revert AttestationExpired(att.validUntil, block.timestamp);
        }
        if (att.asOf > block.timestamp) revert AsOfInFuture(att.asOf, block.timestamp);

        bytes32 key = keyOf(att.issuer, att.token, att.custodian);
        Record storage rec = _records[key];
        if (rec.exists && att.sequence <= rec.sequence) {
            revert SequenceNotIncreasing(rec.sequence, att.sequence);
        }
        // uint256: stored + step cannot overflow uint64 arithmetic
        if (uint256(att.sequence) > uint256(rec.sequence) + MAX_SEQUENCE_STEP) {
            revert SequenceJumpTooLarge(rec.sequence, att.sequence, MAX_SEQUENCE_STEP);
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
            _contribute(custodianHash, signer, att);
            _newRound();
        }
    }

    function _contribute(bytes32 custodianHash, address signer, ReserveAttestation calldata att)
        private
    {
        Contribution storage c = _contribution[custodianHash];
        if (_feedIndex[custodianHash] == 0) {
            // the custodian takes a place: first contribution, or back after leaving the feed
            if (_feedCustodians.length >= MAX_FEED_CUSTODIANS) {
                revert TooManyFeedCustodians(MAX_FEED_CUSTODIANS);
            }
            _feedCustodians.push(custodianHash);
            _feedIndex[custodianHash] = _feedCustodians.length;
        }
        uint256 amount = _amountIn(att.totals);
        // at most 32 amounts below 2^192 each: their sum fits an int256
        if (amount > type(uint192).max) revert AnswerOverflow();
        c.signer = signer;
        c.validUntil = att.validUntil;
        c.amount = uint192(amount);
        c.asOf = att.asOf;
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

    /// @dev Start a round holding the answer as of this block (what getRoundData returns for
    ///      it once a later round exists).
    function _newRound() private {
        uint80 roundId = _latestRound + 1;
        _latestRound = roundId;
        Round memory r = _current();
        _rounds[roundId] = r;
        emit AnswerUpdated(r.answer, roundId, r.updatedAt);
    }

    /// @dev The answer at the current block: the sum of the contributions that are unexpired
    ///      and whose signer is still registered, dated by the oldest of them (bounded loop:
    ///      at most MAX_FEED_CUSTODIANS).
    function _current() private view returns (Round memory r) {
        uint256 total;
        uint64 oldest = type(uint64).max;
        bool any;
        uint256 n = _feedCustodians.length;
        for (uint256 i = 0; i < n; ++i) {
            bytes32 custodianHash = _feedCustodians[i];
            Contribution storage c = _contribution[custodianHash];
            if (block.timestamp > c.validUntil) continue;
            if (!_signers[custodianHash][c.signer]) continue;
            total += c.amount;
            if (c.asOf < oldest) oldest = c.asOf;
            any = true;
        }
        if (!any) return Round(0, 0, 0);
        return Round(int256(total), oldest, oldest);
    }

    /// @notice The number of custodians the feed sums (each counts only while unexpired and
    ///         signed by a registered signer).
    function feedCustodianCount() external view returns (uint256) {
        return _feedCustodians.length;
    }

    /// @notice A custodian's part of the feed and whether it counts at the current block.
    function contributionOf(string calldata custodian)
        external
        view
        returns (uint256 amount, uint64 asOf, uint64 validUntil, address signer, bool counted)
    {
        bytes32 custodianHash = keccak256(bytes(custodian));
        Contribution storage c = _contribution[custodianHash];
        counted = c.signer != address(0) && block.timestamp <= c.validUntil
            && _signers[custodianHash][c.signer];
        return (c.amount, c.asOf, c.validUntil, c.signer, counted);
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
        Round memory r = roundId == _latestRound ? _current() : _rounds[roundId];
        return (roundId, r.answer, r.startedAt, r.updatedAt, roundId);
    }

    /// @inheritdoc AggregatorV3Interface
    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return getRoundData(_latestRound);
    }
}
