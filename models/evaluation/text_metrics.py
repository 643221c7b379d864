"""Stage 2 scores: character and word error rates (jiwer) and exact-match accuracy, overall and per group.

Both texts are normalised first: ends stripped, every run of whitespace (newlines too) made one space;
nothing else (case, punctuation and Unicode forms count). Rates over several lines are corpus rates:
all edits over all reference characters (or words), so long lines weigh more than short ones.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import jiwer


@dataclass(frozen=True)
class LineText:
    """One line's true and read text, and its groups (grouping name → group, e.g. slant → 2-5°)."""

    reference: str
    hypothesis: str
    groups: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TextScores:
    """Scores of a set of lines: how many, CER, WER, and the share read exactly right."""

    lines: int
    cer: float
    wer: float
    exact_match: float


def normalise(text: str) -> str:
    """The text stripped, with each run of whitespace replaced by one space."""
    return " ".join(text.split())


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate of one normalised text pair: edits over the reference's length (1 per extra
    character when the reference is empty)."""
    return float(jiwer.cer(normalise(reference), normalise(hypothesis)))


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate of one normalised text pair: word edits over the reference's word count."""
    return float(jiwer.wer(normalise(reference), normalise(hypothesis)))


def exact_match(reference: str, hypothesis: str) -> bool:
    """Whether the two texts are equal once normalised."""
    return normalise(reference) == normalise(hypothesis)


def text_scores(lines: Sequence[LineText]) -> TextScores:
    """Corpus CER and WER and the exact-match share of the lines (at least one)."""
    if not lines:
        raise ValueError("no lines to score")
    references = [normalise(line.reference) for line in lines]
    hypotheses = [normalise(line.hypothesis) for line in lines]
    exact = sum(exact_match(line.reference, line.hypothesis) for line in lines)
    return TextScores(
        lines=len(lines),
        cer=float(jiwer.cer(references, hypotheses)),
        wer=float(jiwer.wer(references, hypotheses)),
        exact_match=exact / len(lines),
    )


def grouped_scores(lines: Sequence[LineText]) -> dict[str, dict[str, TextScores]]:
    """Scores per grouping and group, e.g. {"slant": {"0-2°": ..., "2-5°": ...}}; groups named by a number
    come first in numeric order, then the others by name."""
    members: dict[str, dict[str, list[LineText]]] = {}
    for line in lines:
        for grouping, group in line.groups.items():
            members.setdefault(grouping, {}).setdefault(group, []).append(line)
    return {
        grouping: {group: text_scores(found) for group, found in sorted(groups.items(), key=_group_order)}
        for grouping, groups in members.items()
    }


def _group_order(item: tuple[str, object]) -> tuple[bool, float, str]:
    """Sort key of a (group, value) pair: leading number first (so 2-5° comes before 10+°), then the name."""
    number = re.match(r"\d+(\.\d+)?", item[0])
    return (number is None, float(number.group()) if number else 0.0, item[0])
