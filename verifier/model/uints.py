"""Unsigned integers written as decimal text: canonical digits, length checked before ``int()``.

Python refuses ``int()`` of a digit string over 4300 digits with a ValueError no caller
expects; a hostile input that long is simply out of range, so the length is checked first.
"""

from __future__ import annotations

import re

#: Digits of the widest integer porv reads, 2**256 - 1 (uint256 amounts): 78. Any longer digit
#: string is out of range for every field, without converting it.
MAX_UINT_DIGITS = 78

_CANONICAL = re.compile(r"0|[1-9][0-9]*")


def uint_from_text(text: str, limit: int) -> int | None:
    """Canonical decimal digits (no sign, no leading zero, ASCII) in ``0..limit``, else None."""
    if len(text) > MAX_UINT_DIGITS or not _CANONICAL.fullmatch(text):
        return None
    value = int(text)
    return value if value <= limit else None
