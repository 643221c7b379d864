"""The benchmark's results: two Markdown tables (detection; text), the JSON record and a PNG bar chart."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .page_scores import PageScores
from .summary import Summary, summarise

Summaries = Mapping[str, Mapping[str, Summary]]
"""engine → data set (and `all`) → summary."""
Column = tuple[str, Callable[[Summary], str]]
PANEL_INCHES = (6.0, 4.0)
DPI = 100


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


DETECTION_COLUMNS: tuple[Column, ...] = (
    ("pages", lambda s: str(s.pages)),
    ("true lines", lambda s: str(s.truth_lines)),
    ("found", lambda s: str(s.found_lines)),
    ("baseline P", lambda s: _rate(s.baseline.precision)),
    ("baseline R", lambda s: _rate(s.baseline.recall)),
    ("baseline F1", lambda s: _rate(s.baseline.f1)),
    ("IoU P", lambda s: _rate(s.iou.precision)),
    ("IoU R", lambda s: _rate(s.iou.recall)),
    ("IoU F1", lambda s: _rate(s.iou.f1)),
    ("missed (scored)", lambda s: f"{s.missed_lines} / {s.scored_lines}"),
    ("on no true line", lambda s: str(s.off_truth_lines)),
    ("extra pieces", lambda s: str(s.extra_pieces)),
    ("s/page", lambda s: f"{s.seconds_per_page:.1f}"),
)
TEXT_COLUMNS: tuple[Column, ...] = (
    ("line CER", lambda s: _rate(s.line_cer)),
    ("line WER", lambda s: _rate(s.line_wer)),
    ("page CER", lambda s: _rate(s.page_cer)),
    ("page CER order-free", lambda s: _rate(s.page_cer_order_free)),
    ("relaxed line CER", lambda s: _rate(s.line_cer_relaxed)),
    ("relaxed line WER", lambda s: _rate(s.line_wer_relaxed)),
    ("relaxed page CER", lambda s: _rate(s.page_cer_relaxed)),
    ("relaxed order-free", lambda s: _rate(s.page_cer_order_free_relaxed)),
    ("spaces", lambda s: _percent(s.spaces)),
    ("accents", lambda s: _percent(s.accents)),
    ("CJK chars", lambda s: str(s.wide_characters)),
)


def markdown(summaries: Summaries) -> str:
    """The detection table and the text table, rows by data set and then engine."""
    return f"{_table(summaries, DETECTION_COLUMNS)}\n{_table(summaries, TEXT_COLUMNS)}"


def _table(summaries: Summaries, columns: tuple[Column, ...]) -> str:
    """One Markdown table: data set and engine left-aligned, the figures right-aligned."""
    lines = [
        "| data set | engine | " + " | ".join(title for title, _ in columns) + " |",
        "|---|---|" + "---:|" * len(columns),
    ]
    for dataset in _datasets(summaries):
        for engine, found in summaries.items():
            cells = [cell(found[dataset]) for _, cell in columns]
            lines.append(f"| {dataset} | {engine} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def json_record(
    run: Mapping[str, object], summaries: Summaries, pages: Mapping[str, Sequence[PageScores]]
) -> dict[str, object]:
    """What was run, the summaries, and each engine's figures per page."""
    return {
        **run,
        "summaries": {
            engine: {name: asdict(s) for name, s in found.items()} for engine, found in summaries.items()
        },
        "per_page": {
            engine: [
                {"page": page.page, "dataset": page.dataset, **asdict(summarise([page]))} for page in scores
            ]
            for engine, scores in pages.items()
        },
    }


def plot(summaries: Summaries, target: Path) -> Path:
    """A PNG with two grouped bar charts, page CER and line F1 (baseline), one bar per engine and data set."""
    datasets = _datasets(summaries)
    panels: dict[str, Callable[[Summary], float | None]] = {
        "page CER (reading order)": lambda s: s.page_cer,
        "line F1 (baseline criterion)": lambda s: s.baseline.f1,
    }
    width, height = PANEL_INCHES
    figure = Figure(figsize=(width * len(panels), height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    bar_width = 0.8 / len(summaries)
    for axes, (title, value) in zip(figure.subplots(1, len(panels)), panels.items(), strict=True):
        for n, (engine, found) in enumerate(summaries.items()):
            heights = [value(found[dataset]) or 0.0 for dataset in datasets]
            places = [x + (n - (len(summaries) - 1) / 2) * bar_width for x in range(len(datasets))]
            bars = axes.bar(places, heights, bar_width, label=engine)
            axes.bar_label(bars, labels=[f"{h:.3f}" for h in heights], fontsize=7)
        axes.set_xticks(range(len(datasets)), datasets, fontsize=8)
        axes.set_title(title)
        axes.legend(fontsize=8)
    figure.savefig(target, dpi=DPI)
    return target


def _datasets(summaries: Summaries) -> list[str]:
    """The data sets of all engines in first-seen order (`all` last, as every summary has it)."""
    return list(dict.fromkeys(name for found in summaries.values() for name in found))
