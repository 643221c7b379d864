"""Evaluation reports: the JSON record, a Markdown table of the scores, and a PNG of CER by group."""

import json
from collections.abc import Mapping
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .detection_metrics import DetectionScores
from .text_metrics import TextScores

PANEL_INCHES = (4.0, 4.0)  # width, height of one bar chart
DPI = 100
DETECTION_COLUMNS = (
    ("pages", "pages", "{:d}"),
    ("true lines", "truth", "{:d}"),
    ("found", "found", "{:d}"),
    ("AP@0.5", "ap50", "{:.3f}"),
    ("AP@[.5:.95]", "ap", "{:.3f}"),
    ("AP@0.75", "ap75", "{:.3f}"),
    ("AR@100", "ar100", "{:.3f}"),
    ("precision@0.5", "precision", "{:.3f}"),
    ("recall@0.5", "recall", "{:.3f}"),
    ("mean IoU@0.5", "mean_iou", "{:.3f}"),
)
TEXT_COLUMNS = (
    ("lines", "lines", "{:d}"),
    ("CER", "cer", "{:.4f}"),
    ("WER", "wer", "{:.4f}"),
    ("exact match", "exact_match", "{:.3f}"),
)
Column = tuple[str, str, str]


def detection_table(overall: DetectionScores, pages: Mapping[str, DetectionScores]) -> str:
    """Markdown: one row for all pages, then one per page."""
    rows = [("all", overall), *pages.items()]
    return _table(("page",), DETECTION_COLUMNS, [((name,), scores) for name, scores in rows])


def text_table(overall: TextScores, groups: Mapping[str, Mapping[str, TextScores]]) -> str:
    """Markdown: one row for all lines, then one per group of each grouping."""
    rows = [(("all", ""), overall)]
    rows += [
        ((grouping, group), scores) for grouping, found in groups.items() for group, scores in found.items()
    ]
    return _table(("grouping", "group"), TEXT_COLUMNS, rows)


def plot_cer_by_group(
    overall: TextScores, groups: Mapping[str, Mapping[str, TextScores]], target: Path
) -> Path:
    """A PNG with one bar chart of CER per grouping (all lines first), each bar labelled with its line count;
    each chart is PANEL_INCHES at DPI."""
    panels = {"all lines": {"all": overall}, **groups}
    width, height = PANEL_INCHES
    figure = Figure(figsize=(width * len(panels), height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    charts = figure.subplots(1, len(panels), squeeze=False)[0]
    for axes, (grouping, found) in zip(charts, panels.items(), strict=True):
        bars = axes.bar(list(found), [scores.cer for scores in found.values()], color="tab:blue")
        axes.bar_label(bars, labels=[f"{s.cer:.3f}\nn={s.lines}" for s in found.values()], fontsize=8)
        axes.set_title(grouping)
        axes.set_ylabel("CER")
        axes.set_ylim(0, max(0.01, *(scores.cer for scores in found.values())) * 1.2)
        axes.tick_params(axis="x", labelrotation=30, labelsize=8)
    figure.savefig(target, dpi=DPI)
    return target


def write_report(out: Path, stem: str, report: Mapping[str, object], table: str) -> tuple[Path, Path]:
    """Write `stem.json` (the whole report) and `stem.md` (the table) into `out`; return both paths."""
    out.mkdir(parents=True, exist_ok=True)
    json_path, markdown_path = out / f"{stem}.json", out / f"{stem}.md"
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    markdown_path.write_text(table, encoding="utf-8")
    return json_path, markdown_path


def _table(
    keys: tuple[str, ...], columns: tuple[Column, ...], rows: list[tuple[tuple[str, ...], object]]
) -> str:
    """A Markdown table: the key columns left-aligned, the score columns right-aligned."""
    lines = [
        "| " + " | ".join([*keys, *(title for title, _, _ in columns)]) + " |",
        "|" + "---|" * len(keys) + "---:|" * len(columns),
    ]
    for key, scores in rows:
        cells = [fmt.format(getattr(scores, field)) for _, field, fmt in columns]
        lines.append("| " + " | ".join([*key, *cells]) + " |")
    return "\n".join(lines) + "\n"
