"""How many of the reference's characters of one kind (spaces, accented letters) a reading reproduces."""

from collections.abc import Callable

from rapidfuzz.distance import Levenshtein


def reproduced(reference: str, hypothesis: str, wanted: Callable[[str], bool]) -> tuple[int, int]:
    """(reproduced, total) wanted characters of the reference: reproduced where Levenshtein's alignment of
    the two texts keeps the character as it is."""
    total = sum(map(wanted, reference))
    kept = sum(
        sum(map(wanted, reference[block.src_start : block.src_end]))
        for block in Levenshtein.opcodes(reference, hypothesis)
        if block.tag == "equal"
    )
    return kept, total


def is_space(character: str) -> bool:
    """A word space."""
    return character == " "
