// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";

/// @title GuardedStablecoin
/// @notice An example ERC-20 whose supply can never exceed the reserves a proof-of-reserve feed
///         attests (Secure-Mint): the owner's `mint` reverts unless `totalSupply + amount` is at
///         most the feed's latest answer, scaled from the feed's decimals to the token's, and
///         the answer is fresh (`block.timestamp - updatedAt <= maxAge`). The feed is any
///         Chainlink AggregatorV3Interface, e.g. porv's ReserveAttestationRegistry.
///
///         The guard fails closed: a feed that reverts, answers fewer than five words, has no
///         code, answers zero or less, dates its answer 0 (Chainlink's "round not complete"),
///         in the future or more than maxAge ago, or now reports other decimals than at
///         deployment, blocks every mint. Scaling down to the token's decimals truncates, so
///         rounding never lets more be minted than the feed attests.
///
///         The feed, its decimals and maxAge are fixed at deployment (immutable): nobody, not
///         even the owner, can point the guard at another feed, loosen the age or switch it
///         off. A token that needs another feed is a new deployment, visible to every holder.
///
///         Burning needs no feed: a holder burns its own tokens (`burn`) or those it is allowed
///         to (`burnFrom`), so redemptions keep working when the feed is down. The guard sees
///         this contract's totalSupply only: a token minted on several chains needs a feed and
///         a guard that count its supply across all of them.
contract GuardedStablecoin is ERC20, ERC20Burnable, Ownable {
    /// @notice The reserve feed every mint is checked against.
    AggregatorV3Interface public immutable reserveFeed;
    /// @notice The feed's decimals, read at deployment; a feed reporting others blocks mints.
    uint8 public immutable feedDecimals;
    /// @notice The oldest answer (seconds between its updatedAt and the block) a mint accepts.
    uint256 public immutable maxAge;
    uint8 private immutable _decimals;

    /// @notice `totalSupply + amount` (token base units) would exceed the reserve (the feed's
    ///         answer in token base units).
    error ReserveExceeded(uint256 supplyAfter, uint256 reserve);
    /// @notice The feed's answer is older than maxAge seconds at this block, or dated 0.
    error StaleReserve(uint256 updatedAt, uint256 blockTime, uint256 maxAge);
    /// @notice The feed dates its answer after this block.
    error ReserveFromFuture(uint256 updatedAt, uint256 blockTime);
    /// @notice The feed answered zero or less.
    error InvalidReserveAnswer(int256 answer);
    /// @notice The feed's call reverted, or it answered too little data (no code, not a feed).
    error ReserveFeedUnavailable(address feed);
    /// @notice The feed reports other decimals than at deployment.
    error FeedDecimalsChanged(uint8 expected, uint8 actual);
    /// @notice `totalSupply + amount` does not fit a uint256.
    error SupplyOverflow(uint256 totalSupply, uint256 amount);
    /// @notice Constructor arguments: no feed, a feed without code, or maxAge 0.
    error InvalidGuardConfig(address feed, uint256 maxAge);

    /// @param feed_ The reserve feed (AggregatorV3Interface).
    /// @param maxAge_ The oldest answer a mint accepts, in seconds (porv's registry dates its
    ///        answer by the oldest counted attestation's asOf, so this bounds that age).
    constructor(
        string memory name_,
        string memory symbol_,
        uint8 decimals_,
        AggregatorV3Interface feed_,
        uint256 maxAge_
    ) ERC20(name_, symbol_) Ownable(msg.sender) {
        if (address(feed_) == address(0) || address(feed_).code.length == 0 || maxAge_ == 0) {
            revert InvalidGuardConfig(address(feed_), maxAge_);
        }
        reserveFeed = feed_;
        maxAge = maxAge_;
        _decimals = decimals_;
        feedDecimals = _readDecimals(address(feed_));
    }

    /// @inheritdoc ERC20
    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    /// @notice Create `amount` base units for `to`, if the feed attests reserves covering the
    ///         supply after it (owner only). Reverts with ReserveExceeded, StaleReserve,
    ///         ReserveFromFuture, InvalidReserveAnswer, ReserveFeedUnavailable,
    ///         FeedDecimalsChanged or SupplyOverflow otherwise.
    function mint(address to, uint256 amount) external onlyOwner {
        (uint256 reserve_,) = _reserve();
        uint256 supply = totalSupply();
        if (amount > type(uint256).max - supply) revert SupplyOverflow(supply, amount);
        uint256 supplyAfter = supply + amount;
        if (supplyAfter > reserve_) revert ReserveExceeded(supplyAfter, reserve_);
        _mint(to, amount);
    }

    /// @notice The attested reserve in token base units and its updatedAt, with every check a
    ///         mint makes (reverts with the same errors).
    function reserve() external view returns (uint256 amount, uint256 updatedAt) {
        return _reserve();
    }

    /// @notice How many base units the owner can mint now (0 if the supply is at or above the
    ///         reserve); reverts with the same errors as a mint when the feed is unusable.
    function mintable() external view returns (uint256) {
        (uint256 reserve_,) = _reserve();
        uint256 supply = totalSupply();
        return reserve_ > supply ? reserve_ - supply : 0;
    }

    function _reserve() private view returns (uint256 amount, uint256 updatedAt) {
        address feed = address(reserveFeed);
        uint8 current = _readDecimals(feed);
        if (current != feedDecimals) revert FeedDecimalsChanged(feedDecimals, current);
        int256 answer;
        (answer, updatedAt) = _readLatest(feed);
        if (updatedAt == 0) revert StaleReserve(0, block.timestamp, maxAge);
        if (updatedAt > block.timestamp) revert ReserveFromFuture(updatedAt, block.timestamp);
        if (block.timestamp - updatedAt > maxAge) {
            revert StaleReserve(updatedAt, block.timestamp, maxAge);
        }
        if (answer <= 0) revert InvalidReserveAnswer(answer);
        amount = _scale(uint256(answer), feedDecimals, _decimals);
    }

    /// @dev `value` from `from` decimals to `to` decimals: truncating down, saturating up (a
    ///      reserve above 2^256-1 base units covers any supply, so the comparison stays exact).
    function _scale(uint256 value, uint8 from, uint8 to) private pure returns (uint256) {
        if (from == to) return value;
        if (from > to) {
            uint256 down = uint256(from - to);
            // 10**78 overflows; any value below 2^256 divided by 10**77 or more is 0
            return down >= 78 ? 0 : value / (10 ** down);
        }
        uint256 up = uint256(to - from);
        if (up >= 78) return type(uint256).max; // value >= 1 here
        uint256 factor = 10 ** up;
        return value > type(uint256).max / factor ? type(uint256).max : value * factor;
    }

    /// @dev `decimals()` of `feed` through a static call that copies at most one word back, so
    ///      a feed that reverts or answers junk gets a named error, never a decoding revert.
    function _readDecimals(address feed) private view returns (uint8) {
        bytes4 selector = AggregatorV3Interface.decimals.selector;
        bool ok;
        uint256 size;
        uint256 word;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            ok := staticcall(gas(), feed, ptr, 4, ptr, 32)
            size := returndatasize()
            word := mload(ptr)
        }
        if (!ok || size < 32 || word > type(uint8).max) revert ReserveFeedUnavailable(feed);
        return uint8(word);
    }

    /// @dev `latestRoundData()` of `feed`: (answer, updatedAt), read as whole words through a
    ///      static call that copies at most five words back (see _readDecimals).
    function _readLatest(address feed) private view returns (int256 answer, uint256 updatedAt) {
        bytes4 selector = AggregatorV3Interface.latestRoundData.selector;
        bool ok;
        uint256 size;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            ok := staticcall(gas(), feed, ptr, 4, ptr, 160)
            size := returndatasize()
            answer := mload(add(ptr, 32))
            updatedAt := mload(add(ptr, 96))
        }
        if (!ok || size < 160) revert ReserveFeedUnavailable(feed);
    }
}
