"""porv: proof-of-reserve verifier for fiat-backed stablecoins.

The public API is re-exported here as it is built; everything else is internal.
"""

from verifier.errors import ClaimFailed, IncompleteError, InputError, PorvError

__version__ = "0.1.0"

__all__ = ["ClaimFailed", "IncompleteError", "InputError", "PorvError", "__version__"]
