// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Multicall3
/// @notice Batches read calls into one `eth_call`. Its ABI is compatible with the widely deployed
///         Multicall3 for the functions porv uses (`aggregate3`, `getBlockNumber`,
///         `getCurrentBlockTimestamp`, `getEthBalance`, `getBlockHash`), so porv reads the same
///         way from a local chain as from a public one.
contract Multicall3 {
    struct Call3 {
        address target;
        bool allowFailure;
        bytes callData;
    }

    struct Result {
        bool success;
        bytes returnData;
    }

    /// @notice A call that was not allowed to fail did fail.
    error CallFailed(uint256 index, bytes returnData);

    /// @notice Run every call in order; revert if one whose `allowFailure` is false fails.
    function aggregate3(Call3[] calldata calls) external payable returns (Result[] memory results) {
        uint256 n = calls.length;
        results = new Result[](n);
        for (uint256 i = 0; i < n; ++i) {
            Call3 calldata c = calls[i];
            (bool ok, bytes memory data) = c.target.call(c.callData);
            if (!ok && !c.allowFailure) {
                revert CallFailed(i, data);
            }
            results[i] = Result(ok, data);
        }
    }

    /// @notice The number of the block the call runs in.
    function getBlockNumber() external view returns (uint256 blockNumber) {
        blockNumber = block.number;
    }

    /// @notice The timestamp of the block the call runs in.
    function getCurrentBlockTimestamp() external view returns (uint256 timestamp) {
        timestamp = block.timestamp;
    }

    /// @notice The hash of a recent block (zero beyond the last 256).
    function getBlockHash(uint256 blockNumber) external view returns (bytes32 blockHash) {
        blockHash = blockhash(blockNumber);
    }

    /// @notice The ether balance of `addr`.
    function getEthBalance(address addr) external view returns (uint256 balance) {
        balance = addr.balance;
    }

    /// @notice The chain id the call runs on.
    function getChainId() external view returns (uint256 chainid) {
        chainid = block.chainid;
    }
}
