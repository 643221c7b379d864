"""The recogniser's classes (contract 5): CTC blank, the training texts' characters sorted, then the space."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

BLANK = 0
CHARSET_KEY = "character"  # the ONNX metadata entry listing the characters, one per line


def normalise_text(text: str) -> str:
    """A transcription with runs of whitespace (tabs, newlines) as single spaces, ends stripped."""
    return " ".join(text.split())


@dataclass(frozen=True)
class Charset:
    """Class 0 the blank, classes 1..n `characters`, class n + 1 the space."""

    characters: tuple[str, ...]

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> "Charset":
        """The sorted unique characters of `texts`, whitespace left out (it is the space class)."""
        return cls(tuple(sorted({char for text in texts for char in text if not char.isspace()})))

    @classmethod
    def from_metadata(cls, listing: str) -> "Charset":
        """The charset of an exported model from its `character` metadata entry."""
        return cls(tuple(listing.splitlines()))

    @property
    def classes(self) -> tuple[str, ...]:
        """Every class's text by index: '' for the blank, then the characters, then ' '."""
        return ("", *self.characters, " ")

    def __len__(self) -> int:
        return len(self.characters) + 2

    def metadata(self) -> str:
        """The characters newline-joined, as stored under `CHARSET_KEY`."""
        return "\n".join(self.characters)

    @cached_property
    def _index(self) -> dict[str, int]:
        return {char: position for position, char in enumerate(self.classes) if position != BLANK}

    def encode(self, text: str) -> list[int]:
        """Class indices of a normalised text; characters outside the charset are left out."""
        return [self._index[char] for char in normalise_text(text) if char in self._index]

    def decode_greedy(self, best: Sequence[int]) -> str:
        """Best class per step → text: repeats collapsed, blanks dropped, ends stripped (as served)."""
        kept = [c for step, c in enumerate(best) if c != BLANK and (step == 0 or c != best[step - 1])]
        return "".join(self.classes[c] for c in kept).strip()
