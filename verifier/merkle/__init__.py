"""Holdings trees: OpenZeppelin's StandardMerkleTree, leaf encoding and (multi)proofs.

:mod:`~verifier.merkle.tree` holds the tree, the proof checks and the streaming tree reader.
"""
