// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";

/// @title TestAggregatorV3
/// @notice A settable AggregatorV3Interface feed for tests: anyone sets its answer, updatedAt
///         and decimals, and can make latestRoundData revert or answer junk (one word instead of
///         five). Used by porv's tests of feed consumers (GuardedStablecoin); never a real feed.
contract TestAggregatorV3 is AggregatorV3Interface {
    /// @notice How latestRoundData answers.
    enum Mode {
        Normal,
        Revert,
        Junk
    }

    uint8 public decimals;
    int256 public answer;
    uint256 public updatedAt;
    uint80 public roundId;
    Mode public mode;

    error FeedDown();

    constructor(uint8 decimals_, int256 answer_, uint256 updatedAt_) {
        decimals = decimals_;
        _set(answer_, updatedAt_);
    }

    /// @notice A new round answering `answer_` as of `updatedAt_`.
    function setRound(int256 answer_, uint256 updatedAt_) external {
        _set(answer_, updatedAt_);
    }

    function setDecimals(uint8 decimals_) external {
        decimals = decimals_;
    }

    function setMode(Mode mode_) external {
        mode = mode_;
    }

    function _set(int256 answer_, uint256 updatedAt_) private {
        answer = answer_;
        updatedAt = updatedAt_;
        roundId += 1;
    }

    /// @inheritdoc AggregatorV3Interface
    function description() external pure returns (string memory) {
        return "porv test feed";
    }

    /// @inheritdoc AggregatorV3Interface
    function version() external pure returns (uint256) {
        return 1;
    }

    /// @inheritdoc AggregatorV3Interface
    function getRoundData(uint80 roundId_)
        external
        view
        returns (uint80, int256, uint256, uint256, uint80)
    {
        if (roundId_ != roundId) revert FeedDown();
        return (roundId, answer, updatedAt, updatedAt, roundId);
    }

    /// @inheritdoc AggregatorV3Interface
    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        if (mode == Mode.Revert) revert FeedDown();
        if (mode == Mode.Junk) {
            assembly ("memory-safe") {
                mstore(0, 1)
                return(0, 32)
            }
        }
        return (roundId, answer, updatedAt, updatedAt, roundId);
    }
}
