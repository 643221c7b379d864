"""The two forms texts are compared in, and the kinds of character the benchmark counts.

raw: NFC, whitespace runs made one space. relaxed: NFKC (the long s U+017F becomes `s`, full-width
punctuation ASCII), case-folded, punctuation removed, whitespace runs made one space: what is left is the
letters and digits and where the words break.
"""

import unicodedata

from models.evaluation.text_metrics import normalise

LETTERS_WITHOUT_MARK = frozenset("\u017fæøœßÆØŒ")
"""Letters that carry no combining mark after NFD but are as easily lost as accented ones."""
WIDE = ("W", "F")
"""East Asian Width classes of CJK ideographs, kana, hangul and full-width forms and punctuation."""


def raw(text: str) -> str:
    """NFC, stripped, each whitespace run one space."""
    return normalise(unicodedata.normalize("NFC", text))


def relaxed(text: str) -> str:
    """NFKC, case-folded, punctuation (Unicode P*) removed, stripped, each whitespace run one space."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return normalise("".join(c for c in folded if not unicodedata.category(c).startswith("P")))


def is_accented(character: str) -> bool:
    """A letter with a combining mark after NFD (é, ä, å), or one of LETTERS_WITHOUT_MARK (æ, ø, long s)."""
    if character in LETTERS_WITHOUT_MARK:
        return True
    return any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", character))


def is_wide(character: str) -> bool:
    """A CJK character: ideograph, kana, hangul, or full-width form or punctuation (U+FF0C for a comma)."""
    return unicodedata.east_asian_width(character) in WIDE
