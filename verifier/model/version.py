"""porv's version: ``porv --version`` and the ``verifier`` member of every result name it."""

VERSION = "0.1.0"
