// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title MerkleProofCheck
/// @notice Test helper: checks porv's Merkle proofs of reserve holdings with OpenZeppelin's
///         `MerkleProof`, hashing the leaf on-chain exactly as OpenZeppelin's StandardMerkleTree
///         does: keccak256(bytes.concat(keccak256(abi.encode(...12 fields...)))).
contract MerkleProofCheck {
    /// @notice The 12 leaf fields of porv's holdings tree, in leaf order.
    struct Holding {
        string holdingId;
        string assetClass;
        string currency;
        uint256 amount;
        uint8 decimals;
        uint64 maturity;
        string counterparty;
        string country;
        string rating;
        string collateral;
        uint256 collateralValue;
        bytes32 salt;
    }

    /// @notice The StandardMerkleTree leaf hash of `h`.
    function leafHash(Holding calldata h) public pure returns (bytes32) {
        Holding memory m = h;
        // abi.encode of a struct with dynamic members is the encoding of the one-element tuple
        // (m): a 32-byte offset word followed by the encoding of (field0, ..., field11), which is
        // what abi.encode(field0, ..., field11) gives. Hash past the offset word (this also
        // avoids listing 12 values on the stack).
        bytes memory enc = abi.encode(m);
        bytes32 inner;
        assembly ("memory-safe") {
            inner := keccak256(add(enc, 0x40), sub(mload(enc), 0x20))
        }
        return keccak256(bytes.concat(inner));
    }

    /// @notice Whether `proof` proves `leaf` under `root`.
    function verify(bytes32[] calldata proof, bytes32 root, bytes32 leaf)
        external
        pure
        returns (bool)
    {
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    /// @notice Whether `proof` proves holding `h` under `root`, hashing the leaf on-chain.
    function verifyHolding(bytes32[] calldata proof, bytes32 root, Holding calldata h)
        external
        pure
        returns (bool)
    {
        return MerkleProof.verifyCalldata(proof, root, leafHash(h));
    }
}
