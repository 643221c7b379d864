"""Page scores pooled per data set and overall: detection P/R/F1 and corpus rates over lines and pages."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from models.evaluation.text_metrics import LineText, TextScores, text_scores

from .page_scores import PageScores
from .text_forms import raw, relaxed

ALL = "all"


@dataclass(frozen=True)
class LineDetection:
    """Precision, recall and F1 of found lines under one matching criterion."""

    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class Summary:
    """The figures of one engine on some pages; a rate is None when there was nothing to measure.

    Detection counts every true line; the text figures only the scored ones. Line CER/WER are over matched
    pairs; `missed_lines` are scored true lines no found line holds. Page CER is corpus CER over pages."""

    pages: int
    truth_lines: int
    found_lines: int
    baseline: LineDetection
    iou: LineDetection
    scored_lines: int
    missed_lines: int
    off_truth_lines: int
    extra_pieces: int
    line_cer: float | None
    line_wer: float | None
    line_cer_relaxed: float | None
    line_wer_relaxed: float | None
    page_cer: float | None
    page_cer_order_free: float | None
    page_cer_relaxed: float | None
    page_cer_order_free_relaxed: float | None
    spaces: float | None
    accents: float | None
    wide_characters: int
    seconds_per_page: float


def summarise(pages: Sequence[PageScores]) -> Summary:
    """Pool the pages (at least one): counts added, rates over all their lines or pages together."""
    if not pages:
        raise ValueError("no pages to summarise")
    truth = sum(p.truth_lines for p in pages)
    found = sum(p.found_lines for p in pages)
    matched = [pair for p in pages for pair in p.matched]
    line_raw, line_relaxed = _scores(matched, raw), _scores(matched, relaxed)
    ordered, order_free = [p.page_text for p in pages], [p.page_text_order_free for p in pages]
    return Summary(
        pages=len(pages),
        truth_lines=truth,
        found_lines=found,
        baseline=line_detection(sum(p.baseline_matches for p in pages), truth, found),
        iou=line_detection(sum(p.iou_matches for p in pages), truth, found),
        scored_lines=sum(p.scored_lines for p in pages),
        missed_lines=sum(p.missed_lines for p in pages),
        off_truth_lines=sum(p.off_truth_lines for p in pages),
        extra_pieces=sum(p.extra_pieces for p in pages),
        line_cer=line_raw.cer if line_raw else None,
        line_wer=line_raw.wer if line_raw else None,
        line_cer_relaxed=line_relaxed.cer if line_relaxed else None,
        line_wer_relaxed=line_relaxed.wer if line_relaxed else None,
        page_cer=_cer(ordered, raw),
        page_cer_order_free=_cer(order_free, raw),
        page_cer_relaxed=_cer(ordered, relaxed),
        page_cer_order_free_relaxed=_cer(order_free, relaxed),
        spaces=_share([p.spaces for p in pages]),
        accents=_share([p.accents for p in pages]),
        wide_characters=sum(p.wide_characters for p in pages),
        seconds_per_page=sum(p.seconds for p in pages) / len(pages),
    )


def line_detection(matches: int, truth: int, found: int) -> LineDetection:
    """Precision (matches over found lines), recall (over true lines) and their harmonic mean."""
    precision = matches / found if found else 0.0
    recall = matches / truth if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return LineDetection(precision, recall, f1)


def _scores(pairs: Sequence[LineText], form: Callable[[str], str]) -> TextScores | None:
    """Corpus CER and WER of text pairs in one form, None when the references hold no text."""
    converted = [LineText(form(pair.reference), form(pair.hypothesis)) for pair in pairs]
    if not any(pair.reference for pair in converted):
        return None
    return text_scores(converted)


def _cer(pairs: Sequence[LineText], form: Callable[[str], str]) -> float | None:
    """Corpus CER of text pairs in one form."""
    scores = _scores(pairs, form)
    return scores.cer if scores else None


def _share(counts: Sequence[tuple[int, int]]) -> float | None:
    """Reproduced over total, summed; None when there was nothing to reproduce."""
    total = sum(total for _, total in counts)
    return sum(kept for kept, _ in counts) / total if total else None


def by_dataset(pages: Sequence[PageScores]) -> dict[str, Summary]:
    """A summary per data set in the order they first appear, then `all` for every page together."""
    datasets = dict.fromkeys(page.dataset for page in pages)
    summaries = {name: summarise([page for page in pages if page.dataset == name]) for name in datasets}
    return {**summaries, ALL: summarise(pages)}
