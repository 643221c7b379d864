"""Line texts as a dataset stores them: NFC, with Cyrillic look-alikes of Latin letters mapped back.

Some transcriptions type German umlauts with Cyrillic letters that look the same (`ӓ` U+04D3 for `ä`,
`ӧ` U+04E7 for `ö`, `Ӓ` U+04D2 for `Ä`); no Unicode normalisation (NFC or NFKC) joins them, so a recogniser
would learn two classes for one glyph. They are mapped only in lines with no other Cyrillic letter, so text
in a Cyrillic script keeps them. Everything else stays as transcribed, `¬` (a word broken at the line end),
the long s (U+017F) and `⟦…⟧` included.
"""

import unicodedata

LATIN_LOOKALIKES = {"\u04d3": "\u00e4", "\u04e7": "\u00f6", "\u04d2": "\u00c4", "\u04e6": "\u00d6"}
"""Cyrillic a and o with diaeresis, small and capital, and the Latin umlauts they stand for."""
_TO_LATIN = str.maketrans(LATIN_LOOKALIKES)


def line_text(text: str) -> str:
    """The text stripped and in NFC; Cyrillic look-alikes become Latin letters unless the line is Cyrillic."""
    text = unicodedata.normalize("NFC", text.strip())
    others = (c for c in text if c not in LATIN_LOOKALIKES)
    if any(unicodedata.name(c, "").startswith("CYRILLIC") for c in others):
        return text
    return text.translate(_TO_LATIN)
