"""Dataset lines as network input, made the way `ocr_onnx.recognition.TextRecognizer` makes it: each crop
scaled to the model's height keeping its aspect, normalised, right-padded with zeros to the batch's widest."""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from models.dataset.records import DatasetInfo, LineRecord, load_crop
from ocr_onnx.manifest import Normalisation
from ocr_onnx.recognition import batch_array, scaled_to_height

from .charset import normalise_text


@dataclass(frozen=True)
class LineSample:
    """One line: its crop already scaled to the model's height, and its normalised transcription."""

    pixels: np.ndarray
    text: str


def load_samples(
    folder: Path, info: DatasetInfo, records: Sequence[LineRecord], height: int
) -> list[LineSample]:
    """The records' crops, flattened onto the dataset's background, at the model's height; their texts."""
    return [
        LineSample(
            scaled_to_height(load_crop(folder, record, info.crop.background), height),
            normalise_text(record.text),
        )
        for record in records
    ]


def batch_tensor(images: Sequence[np.ndarray], normalisation: Normalisation) -> torch.Tensor:
    """(N, 3, H, widest W) float32, as the server's recogniser batches its crops."""
    return torch.from_numpy(batch_array(images, normalisation))


def width_batches(
    widths: Sequence[int], batch_size: int, rng: random.Random | None = None
) -> list[list[int]]:
    """Indices grouped into batches of similar width. With `rng`, the widths are jittered by up to 10 % before
    sorting (batches vary between epochs) and the batches are shuffled; without, narrowest first."""
    jitter = (lambda: rng.uniform(0.9, 1.1)) if rng else (lambda: 1.0)
    order = sorted(range(len(widths)), key=lambda index: widths[index] * jitter())
    batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
    if rng:
        rng.shuffle(batches)
    return batches
