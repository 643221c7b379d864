"""The Latin recogniser's characters, the old PP-OCRv4 class each new one starts from, and training texts."""

import string
import unicodedata
from collections.abc import Mapping, Sequence

from models.dataset.line_text import line_text
from models.stage2.charset import Charset, normalise_text


def _code_points(first: int, last: int) -> str:
    return "".join(map(chr, range(first, last + 1)))


LATIN_1_SYMBOLS = _code_points(0xA1, 0xBF).replace("\u00ad", "")  # ¡ … ¿ without the soft hyphen
LATIN_1_LETTERS = _code_points(0xC0, 0xFF).replace("\u00d7", "").replace("\u00f7", "")
LATIN_EXTENDED_A = _code_points(0x100, 0x17F)  # ā … ž, œ, and the long s U+017F last
TYPOGRAPHY = "\u2018\u2019\u201a\u201b“”„‟\u2039\u203a\u2013—―\u2010\u2011…•†‡\u2032″\u2044€"
LATIN = Charset(
    tuple(
        dict.fromkeys(
            string.ascii_letters
            + string.digits
            + string.punctuation
            + LATIN_1_SYMBOLS
            + LATIN_1_LETTERS
            + LATIN_EXTENDED_A
            + TYPOGRAPHY
        )
    )
)
"""Class 0 the CTC blank, then these characters, then the space (the layout the server's decoder reads)."""

LOOKALIKES: Mapping[str, str] = {
    "\u017f": "f", "ß": "B", "æ": "a", "Æ": "A", "ø": "o", "Ø": "O", "œ": "o", "Œ": "O", "ð": "d",
    "Ð": "D", "þ": "p", "Þ": "P", "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "\u0131": "i", "ħ": "h",
    "Ħ": "H", "ŧ": "t", "Ŧ": "T", "ĸ": "k", "ŋ": "n", "Ŋ": "N", "¬": "-", "\u2010": "-", "\u2011": "-",
    "\u2013": "-", "—": "-", "―": "-", "\u201a": ",", "\u201b": "'", "„": '"', "‟": '"', "\u2039": "<",
    "\u203a": ">", "«": "<", "»": ">", "¡": "!", "¿": "?", "\u2032": "'", "″": '"', "\u2044": "/", "•": "·",
}  # fmt: skip
"""Characters with no decomposition whose old class is the nearest look-alike (long s: `f`)."""

LINE_END_HYPHEN = "¬"


def seed_class(character: str, old: Mapping[str, int]) -> int | None:
    """The old model's class a new character's output row starts from: the same character, else its base
    letter (`é` → `e`), else its look-alike (`ø` → `o`); None when there is none."""
    for candidate in (
        character,
        unicodedata.normalize("NFD", character)[0],
        LOOKALIKES.get(character, ""),
        unicodedata.normalize("NFKC", character)[:1],
    ):
        if candidate in old:
            return old[candidate]
    return None


def old_classes(classes: Sequence[str]) -> dict[str, int]:
    """A charset's class of each character (the blank left out)."""
    return {character: index for index, character in enumerate(classes) if index and character}


def training_text(text: str) -> str:
    """A transcription as the recogniser learns it: NFC, Cyrillic look-alikes Latin, `¬` the hyphen it is
    printed as, whitespace runs one space."""
    return normalise_text(line_text(text).replace(LINE_END_HYPHEN, "-"))


def unknown_characters(text: str, charset: Charset = LATIN) -> set[str]:
    """The characters of `text` the charset has no class for (the space has one)."""
    return {character for character in text if character != " " and character not in charset.characters}
