"""Credit ratings on one scale: S&P/Fitch long-term notches, Moody's mapped onto them."""

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


def at_least(rating: str, floor: str) -> bool:
    """Whether ``rating`` is ``floor`` or better; an unrated holding never is.

    Args:
        rating: the holding's rating.
        floor: the minimum notch (S&P/Fitch or Moody's symbol).

    Returns:
        ``True`` when rated at or above ``floor``.

    Raises:
        ValueError: if either rating is on neither scale, or ``floor`` is empty.
    """
    floor_rank = rating_rank(floor)
    if floor_rank is None:
        raise ValueError("a rating floor cannot be 'unrated'")
    rank = rating_rank(rating)
    return rank is not None and rank <= floor_rank


def investment_grade(rating: str) -> bool:
    """Whether ``rating`` is BBB- or better (unrated is not investment grade).

    Args:
        rating: the holding's rating.

    Returns:
        ``True`` for investment grade.

    Raises:
        ValueError: if the rating is on neither scale.
    """
    return at_least(rating, INVESTMENT_GRADE_FLOOR)
