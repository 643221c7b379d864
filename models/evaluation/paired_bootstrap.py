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
    before: Sequence[Sequence[LineText]],
    after: Sequence[Sequence[LineText]],
    rounds: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """The bootstrap interval of corpus CER(after) - CER(before). Each side is one or more readings of the
    same lines (e.g. models trained with different seeds; a line's edits are averaged over them); lines are
    resampled with replacement, the same draw for both sides, so that hard lines count on both."""
    readings = [*before, *after]
    if not before or not after or not readings[0]:
        raise ValueError("both sides need at least one reading of at least one line")
    references = [line.reference for line in readings[0]]
    if any([line.reference for line in reading] != references for reading in readings):
        raise ValueError("the readings are not of the same lines in the same order")
    edits_before, lengths = _mean_edits(before)
    edits_after, _ = _mean_edits(after)
    draws = np.random.default_rng(seed).integers(0, len(references), size=(rounds, len(references)))
    characters = np.maximum(lengths[draws].sum(axis=1), 1)
    change = (edits_after[draws].sum(axis=1) - edits_before[draws].sum(axis=1)) / characters
    tail = (1.0 - confidence) / 2
    low, high = np.quantile(change, [tail, 1.0 - tail])
    return float(low), float(high)


def _mean_edits(readings: Sequence[Sequence[LineText]]) -> tuple[np.ndarray, np.ndarray]:
    """Each line's edits averaged over the readings, and its reference length."""
    counted = [character_edits(reading) for reading in readings]
    return np.mean([edits for edits, _ in counted], axis=0), counted[0][1]
