"""Holdings trees: OpenZeppelin's StandardMerkleTree, leaf encoding and (multi)proofs.

* :mod:`~verifier.merkle.tree`: the tree, the proof checks and the streaming tree reader.
* :mod:`~verifier.merkle.proof`: the proof files ``porv tree prove`` writes and ``porv tree
  verify`` reads.
"""
