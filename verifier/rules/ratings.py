"""Credit ratings on one scale: S&P/Fitch long-term notches, Moody's mapped onto them.

RULES.md "Shared definitions": ratings are long-term ratings of the obligor. A short-term
rating (A-1+, F1+, P-1) or a string on no known scale leaves the holding *unrated*: it fails a
rating floor with that reason (:func:`unrated_reason`), and never stops the run.
"""

from __future__ import annotations

#: S&P/Fitch long-term scale, best first. ``SD``/``RD`` (selective default) rank with ``D``.
SP_SCALE: tuple[str, ...] = (
    "AAA",
    "AA+",
    "AA",
    "AA-",
    "A+",
    "A",
    "A-",
    "BBB+",
    "BBB",
    "BBB-",
    "BB+",
    "BB",
    "BB-",
    "B+",
    "B",
    "B-",
    "CCC+",
    "CCC",
    "CCC-",
    "CC",
    "C",
    "D",
)

#: Moody's long-term scale mapped to the S&P/Fitch notch of the same rank.
MOODYS_TO_SP: dict[str, str] = {
    "Aaa": "AAA",
    "Aa1": "AA+",
    "Aa2": "AA",
    "Aa3": "AA-",
    "A1": "A+",
    "A2": "A",
    "A3": "A-",
    "Baa1": "BBB+",
    "Baa2": "BBB",
    "Baa3": "BBB-",
    "Ba1": "BB+",
    "Ba2": "BB",
    "Ba3": "BB-",
    "B1": "B+",
    "B2": "B",
    "B3": "B-",
    "Caa1": "CCC+",
    "Caa2": "CCC",
    "Caa3": "CCC-",
    "Ca": "CC",
    "C": "C",
}

#: Spellings meaning "no rating".
UNRATED: frozenset[str] = frozenset({"", "NR", "N/R", "WR"})

#: Short-term scales (S&P A-1+…A-3, Fitch F1+…F3, Moody's P-1…P-3 and NP), matched in upper
#: case: not comparable with a long-term floor.
SHORT_TERM: frozenset[str] = frozenset(
    {"A-1+", "A-1", "A-2", "A-3", "F1+", "F1", "F2", "F3", "P-1", "P-2", "P-3", "NP"}
)

#: Lowest investment-grade notch.
INVESTMENT_GRADE_FLOOR = "BBB-"


def rating_rank(rating: str) -> int | None:
    """Rank of a rating on the S&P/Fitch scale: 0 = AAA, larger is worse; ``None`` if unrated.

    Moody's symbols are case-sensitive (``Aa3``) and mapped first; S&P/Fitch symbols are
    matched in upper case. ``SD`` and ``RD`` rank as ``D``.

    Args:
        rating: the leaf's ``rating`` field.

    Returns:
        The rank, or ``None`` when the holding is unrated.

    Raises:
        ValueError: if the rating is on neither scale (never guessed).
    """
    text = rating.strip()
    if text.upper() in UNRATED:
        return None
    if text in MOODYS_TO_SP:
        text = MOODYS_TO_SP[text]
    upper = text.upper()
    if upper in ("SD", "RD"):
        upper = "D"
    if upper not in SP_SCALE:
        raise ValueError(f"rating {rating!r} is on neither the S&P/Fitch nor the Moody's scale")
    return SP_SCALE.index(upper)


def unrated_reason(rating: str) -> str | None:
    """Why a holding's ``rating`` leaves it unrated although a string is given, or ``None``.

    Args:
        rating: the leaf's ``rating`` field.

    Returns:
        ``None`` for a long-term rating or an empty / "NR" field; otherwise the reason, e.g.
        "rating 'A-1+' is a short-term rating: record the obligor's long-term rating".
    """
    try:
        rating_rank(rating)
    except ValueError:
        text = rating.strip()
        if text.upper() in SHORT_TERM:
            return f"rating {text!r} is a short-term rating: record the obligor's long-term rating"
        return (
            f"rating {text!r} is on neither the S&P/Fitch nor the Moody's long-term scale: "
            "treated as unrated"
        )
    return None


def holding_rank(rating: str) -> int | None:
    """Rank of a holding's rating, ``None`` when unrated, short-term or unknown (never raises).

    Args:
        rating: the leaf's ``rating`` field.

    Returns:
        The rank on the S&P/Fitch long-term scale, or ``None``.
    """
    rank = _HOLDING_RANKS.get(rating, _UNSEEN)
    if rank is _UNSEEN:
        try:
            rank = rating_rank(rating)
        except ValueError:
            rank = None
        if len(_HOLDING_RANKS) < _MEMO_MAX:  # a reserve repeats a few ratings
            _HOLDING_RANKS[rating] = rank
    return rank  # type: ignore[return-value]


_UNSEEN = object()
_MEMO_MAX = 4096
#: :func:`holding_rank` of the ratings seen, and :func:`rating_rank` of the floors seen.
_HOLDING_RANKS: dict[str, object] = {}
_FLOOR_RANKS: dict[str, int | None] = {}


def at_least(rating: str, floor: str) -> bool:
    """Whether ``rating`` is ``floor`` or better; an unrated holding never is.

    A short-term or unknown holding rating counts as unrated (see :func:`unrated_reason`).

    Args:
        rating: the holding's rating.
        floor: the minimum notch (S&P/Fitch or Moody's long-term symbol).

    Returns:
        ``True`` when rated at or above ``floor``.

    Raises:
        ValueError: if ``floor`` is empty or on neither long-term scale.
    """
    floor_rank = _FLOOR_RANKS.get(floor, -1)
    if floor_rank == -1:
        floor_rank = rating_rank(floor)  # raises for a floor on neither scale
        if len(_FLOOR_RANKS) < _MEMO_MAX:
            _FLOOR_RANKS[floor] = floor_rank
    if floor_rank is None:
        raise ValueError("a rating floor cannot be 'unrated'")
    rank = holding_rank(rating)
    return rank is not None and rank <= floor_rank


def investment_grade(rating: str) -> bool:
    """Whether ``rating`` is BBB- or better (unrated is not investment grade).

    Args:
        rating: the holding's rating.

    Returns:
        ``True`` for investment grade (a short-term or unknown rating is not).
    """
    return at_least(rating, INVESTMENT_GRADE_FLOOR)
