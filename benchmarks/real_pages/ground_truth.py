"""A page's ground-truth lines from its ALTO file: outline, text and type from the project's ALTO parser,
the baseline from `alto_baselines`, and the text mapped the way it is scored."""

from extensions.annotations import alto_xml
from extensions.annotations.structure_types import structure_type_names
from models.dataset.line_text import line_text

from .alto_baselines import read_baselines
from .lines import LINE_TYPES, TruthLine

UNSCORED_TYPES = frozenset({"signature", "handwritten"})
"""SegmOnto line types left out of the text figures: print and typewriter readers are not meant for them."""
STRUCK_OUT = "⟦"
"""Opens struck-out or illegible text (Stanford letters); such lines are left out of the text figures."""
LINE_END_HYPHEN = "¬"
"""A word broken at the line end (Gallica books); read as the hyphen it stands for."""


def truth_lines(data: bytes) -> list[TruthLine]:
    """Every TextLine of an ALTO document in file order; a line without a baseline is an error."""
    baselines = read_baselines(data)
    lines = []
    for region in alto_xml.parse(data):
        if region.region_type not in LINE_TYPES:
            continue
        if region.id not in baselines:
            raise ValueError(f"TextLine {region.id} has no BASELINE")
        text = scored_text(region.text or "")
        scored = not structure_type_names(region) & UNSCORED_TYPES and STRUCK_OUT not in text
        lines.append(TruthLine(region.id, text, region.polygon, baselines[region.id], scored))
    return lines


def scored_text(text: str) -> str:
    """A ground-truth text as scored: NFC, Cyrillic look-alikes of umlauts made Latin, `¬` made `-`."""
    return line_text(text).replace(LINE_END_HYPHEN, "-")
