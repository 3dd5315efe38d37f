"""porv: proof-of-reserve verifier for fiat-backed stablecoins.

The public API is re-exported here as it is built; everything else is internal.
"""

from verifier.errors import ClaimFailed, IncompleteError, InputError, PorvError
from verifier.model.version import VERSION as __version__

__all__ = ["ClaimFailed", "IncompleteError", "InputError", "PorvError", "__version__"]
