"""A dataset folder's lines as the Latin recogniser learns them: crops at its height, training texts, lines
with characters outside the charset left out and counted."""

from collections import Counter
from pathlib import Path

from models.dataset.records import read_dataset
from models.stage2.charset import Charset
from models.stage2.line_batches import LineSample, load_samples

from .charset import training_text, unknown_characters
from .ppocr_graph import HEIGHT


def dataset_lines(folder: Path, charset: Charset) -> tuple[list[LineSample], Counter[str]]:
    """Every line of the dataset (all splits) with a readable text, and the characters that left lines out."""
    info, records = read_dataset(folder)
    samples = load_samples(folder, info, records, HEIGHT)
    kept, left_out = [], Counter[str]()
    for sample in samples:
        text = training_text(sample.text)
        unknown = unknown_characters(text, charset)
        left_out.update(unknown)
        if text and not unknown:
            kept.append(LineSample(sample.pixels, text))
    return kept, left_out
