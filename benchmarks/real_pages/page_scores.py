"""One page's scores: one engine's lines against the ground truth, as counts and text pairs to pool later.

Lines are paired one-to-one by baseline coverage (`line_matching`) for detection and line CER. For the
page text, every found line belongs to the true line of highest IoU among those whose baseline it holds a
part of (none when it holds no baseline). Ground-truth lines left out of the text figures (signatures,
handwriting, struck-out text) are dropped from the text, and so are the found lines that belong to them;
all lines count for detection.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from models.evaluation.text_metrics import LineText

from .char_shares import is_space, reproduced
from .line_matching import baseline_scores, best_rows, greedy_pairs, iou_scores
from .lines import PageReading, ReadLine, TruthLine
from .text_forms import is_accented, is_wide, raw


@dataclass(frozen=True)
class PageScores:
    """Detection counts, the matched line pairs and the page's text pairs (raw forms), and what was kept.

    `off_truth_lines` are found lines holding no true line's baseline (text the ground truth left out, or
    noise); `extra_pieces` the found lines beyond one on each true line they belong to (a split line's
    second piece).

    `page_text` is the true lines in file order against the found lines in the engine's order;
    `page_text_order_free` puts each found line at the place of the true line it belongs to (pieces of a
    split line left to right, a line on no true baseline where it sits on the page), so the difference
    between the two is what the engine's reading order costs."""

    page: str
    dataset: str
    truth_lines: int
    found_lines: int
    baseline_matches: int
    iou_matches: int
    scored_lines: int
    missed_lines: int
    off_truth_lines: int
    extra_pieces: int
    matched: tuple[LineText, ...]
    page_text: LineText
    page_text_order_free: LineText
    spaces: tuple[int, int]
    accents: tuple[int, int]
    wide_characters: int
    seconds: float


def score_page(page: str, dataset: str, truth: Sequence[TruthLine], reading: PageReading) -> PageScores:
    """Match the engine's lines to the true ones and collect what the summaries pool."""
    found = reading.lines
    coverage, iou = baseline_scores(truth, found), iou_scores(truth, found)
    partner = dict(greedy_pairs(coverage, iou))
    home = best_rows(coverage, iou, len(found))
    scored = [i for i, line in enumerate(truth) if line.scored]
    kept = [j for j in range(len(found)) if home[j] is None or truth[home[j]].scored]
    matched = tuple(LineText(raw(truth[i].text), raw(found[partner[i]].text)) for i in scored if i in partner)
    reference = "\n".join(truth[i].text for i in scored)
    in_truth_order = sorted(kept, key=lambda j: _place(home[j], found[j], truth))
    return PageScores(
        page=page,
        dataset=dataset,
        truth_lines=len(truth),
        found_lines=len(found),
        baseline_matches=len(partner),
        iou_matches=len(greedy_pairs(iou)),
        scored_lines=len(scored),
        missed_lines=sum(i not in partner for i in scored),
        off_truth_lines=sum(row is None for row in home),
        extra_pieces=sum(count - 1 for count in Counter(row for row in home if row is not None).values()),
        matched=matched,
        page_text=LineText(reference, "\n".join(found[j].text for j in kept)),
        page_text_order_free=LineText(reference, "\n".join(found[j].text for j in in_truth_order)),
        spaces=_summed(reproduced(pair.reference, pair.hypothesis, is_space) for pair in matched),
        accents=_summed(reproduced(pair.reference, pair.hypothesis, is_accented) for pair in matched),
        wide_characters=sum(is_wide(c) for line in found for c in line.text),
        seconds=reading.seconds,
    )


def _place(home: int | None, line: ReadLine, truth: Sequence[TruthLine]) -> tuple[int, int, float]:
    """Where a found line goes in the true order: on the true line it belongs to, left to right after that
    line's place; a line on no true baseline just before the first true line (in file order) whose baseline
    lies below its middle, so a letterhead the ground truth left out stays at the top."""
    if home is not None:
        return (home, 1, min(x for x, _ in line.polygon))
    middle = sum(y for _, y in line.polygon) / len(line.polygon)
    below = (i for i, true in enumerate(truth) if min(y for _, y in true.baseline) > middle)
    return (next(below, len(truth)), 0, middle)


def _summed(counts: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """(reproduced, total) summed over lines."""
    pairs = list(counts)
    return sum(kept for kept, _ in pairs), sum(total for _, total in pairs)
