"""How sure a CER difference is: a paired bootstrap over the lines that two readings have in common."""

from collections.abc import Sequence

import numpy as np
from rapidfuzz.distance import Levenshtein

from .text_metrics import LineText, normalise


def character_edits(lines: Sequence[LineText]) -> tuple[np.ndarray, np.ndarray]:
    """Per line, the character edits of its reading and its reference's length (both normalised)."""
    pairs = [(normalise(line.reference), normalise(line.hypothesis)) for line in lines]
    edits = np.array([Levenshtein.distance(reference, read) for reference, read in pairs], dtype=np.int64)
    lengths = np.array([len(reference) for reference, _ in pairs], dtype=np.int64)
    return edits, lengths


def cer_change_interval(
    before: Sequence[LineText],
    after: Sequence[LineText],
    rounds: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """The bootstrap interval of corpus CER(after) - CER(before): lines resampled with replacement, the same
    draw for both readings, so that hard lines count on both sides."""
    if len(before) != len(after) or not before:
        raise ValueError("both readings need the same lines, at least one")
    if any(a.reference != b.reference for a, b in zip(before, after, strict=True)):
        raise ValueError("the two readings are not of the same lines in the same order")
    edits_before, lengths = character_edits(before)
    edits_after, _ = character_edits(after)
    draws = np.random.default_rng(seed).integers(0, len(before), size=(rounds, len(before)))
    characters = np.maximum(lengths[draws].sum(axis=1), 1)
    change = (edits_after[draws].sum(axis=1) - edits_before[draws].sum(axis=1)) / characters
    tail = (1.0 - confidence) / 2
    low, high = np.quantile(change, [tail, 1.0 - tail])
    return float(low), float(high)
