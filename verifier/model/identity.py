"""When two ids are "the same" to a reader: the comparison key of holding ids (pure).

An issuer who lists one holding under two custodians can make the two ids differ only in what a
reader cannot see: a zero-width space, a non-breaking hyphen for "-", case, a full-width
letter, a Cyrillic "А" for a Latin "A". The cross-custodian duplicate check compares
:func:`identity_key` instead of the raw ids; messages keep showing the original ids (escaped).
"""

from __future__ import annotations

import re
import unicodedata

# Invisible code points beyond the Cc/Cf categories (Unicode "default ignorable"): combining
# grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian variation selectors,
# variation selectors.
_IGNORABLE = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]"
)

_ASCII_CONTROLS = re.compile("[\x00-\x1f\x7f]")

# Dashes and minus signs that look like "-" (NFKC already folds the small and full-width
# hyphen-minus and maps U+2011 to U+2010).
_DASHES = re.compile("[\u00ad\u02d7\u2043\u2212\u2796\ufe58\ufe63\uff0d]")

# Cyrillic and Greek letters drawn exactly like a Latin one (lowercase: the key is casefolded
# first). Not all of Unicode's confusables: the ones an id written in Latin script can hide.
_LOOK_ALIKE = str.maketrans(
    {
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "і": "i",
        "ј": "j",
        "ѕ": "s",
        "ԁ": "d",
        "ԛ": "q",
        "ԝ": "w",
        "α": "a",
        "β": "b",
        "ε": "e",
        "η": "n",
        "ι": "i",
        "κ": "k",
        "μ": "m",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "ζ": "z",
    }
)


def identity_key(text: str) -> str:
    """The key under which two ids count as the same.

    NFKC (full-width and compatibility forms), then every invisible code point dropped
    (controls, format characters such as zero-width spaces, bidi marks and the BOM, and the
    other default ignorables), every dash and minus sign made "-", whitespace runs made one
    space, case folded, look-alike Cyrillic and Greek letters made Latin, and NFKC again.
    """
    if text.isascii():  # the common case, and the same key the steps below give
        if text.isprintable() and " " not in text:  # no control, no whitespace: case only
            return text.lower()
        return " ".join(_ASCII_CONTROLS.sub("", text).split()).lower()
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    text = _IGNORABLE.sub("", text)
    text = "".join("-" if unicodedata.category(ch) == "Pd" else ch for ch in text)
    text = _DASHES.sub("-", text)
    text = " ".join(text.split())
    text = text.casefold().translate(_LOOK_ALIKE)
    return unicodedata.normalize("NFKC", text)
