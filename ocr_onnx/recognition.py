"""Stage 2: text of line crops from a CTC recognition model, read in batches of similar width."""

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np
import onnxruntime as ort

from .allowed_charset import allowed_classes
from .manifest import ManifestError, ModelManifest, Normalisation

BLANK = 0  # the CTC blank's class index
BATCH_COLUMNS = 1024
"""The most padded columns (crops x the widest, at the model's height) one run reads: on CPU one page's
60 lines took 8.3 s of CPU in batches of 8, 5.1 s one by one; short lines still share runs."""


@dataclass(frozen=True)
class Recognition:
    """The text read from one crop and the mean probability of its characters (0.0 when nothing was read)."""

    text: str
    confidence: float


class TextRecognizer:
    """Reads line crops made by the manifest's crop recipe; safe to call from several threads at once."""

    def __init__(
        self,
        session: ort.InferenceSession,
        manifest: ModelManifest,
        batch_size: int = 8,
        batch_columns: int = BATCH_COLUMNS,
        workers: int = 1,
    ) -> None:
        if manifest.task != "recognition" or manifest.crop is None or manifest.charset_key is None:
            raise ManifestError(f"model {manifest.name!r} is not a recognition model")
        if batch_size < 1:
            raise ValueError(f"batch size must be at least 1, not {batch_size}")
        self._session = session
        self._input = session.get_inputs()[0].name
        self.manifest = manifest
        self._height = manifest.crop.target_height
        self._batch_size = batch_size
        self._batch_columns = batch_columns
        self._workers = workers
        self.charset = _charset(session, manifest)
        try:
            self._allowed = allowed_classes(self.charset, manifest.allowed_charset)
        except ValueError as exc:
            raise ManifestError(f"model {manifest.name!r}: {exc}") from exc

    def recognize(self, crops: list[np.ndarray]) -> list[Recognition]:
        """The text of each (H, W, 3) uint8 RGB crop, in the crops' order; an empty crop reads as ''."""
        for index, crop in enumerate(crops):
            if crop.ndim != 3 or crop.shape[2] != 3 or crop.dtype != np.uint8:
                raise ValueError(f"crop {index}: expected (H, W, 3) uint8, got {crop.shape} {crop.dtype}")
        results = [Recognition("", 0.0)] * len(crops)
        readable = [index for index, crop in enumerate(crops) if crop.shape[0] and crop.shape[1]]
        readable.sort(key=lambda index: crops[index].shape[1] / crops[index].shape[0])
        widths = [scaled_width(crops[index], self._height) for index in readable]
        batches = width_batches(readable, widths, self._batch_size, self._batch_columns)
        with ThreadPoolExecutor(self._workers) as pool:  # runs release the GIL: `workers` batches at once
            reads = pool.map(self._read, [[crops[index] for index in batch] for batch in batches])
            for batch, recognitions in zip(batches, reads, strict=True):
                for index, recognition in zip(batch, recognitions, strict=True):
                    results[index] = recognition
        return results

    def _read(self, crops: list[np.ndarray]) -> list[Recognition]:
        """One network run over crops scaled to the model's height and padded to the widest."""
        scaled = [scaled_to_height(crop, self._height) for crop in crops]
        tensor = batch_array(scaled, self.manifest.normalisation)
        probabilities = self._session.run(None, {self._input: tensor})[0]
        return [greedy_decode(sequence, self.charset, self._allowed) for sequence in probabilities]


def greedy_decode(
    probabilities: np.ndarray, charset: Sequence[str], allowed: np.ndarray | None = None
) -> Recognition:
    """Greedy CTC decoding of (T, classes) scores: the best `allowed` class per step (the others' scores set
    to -inf first, so the best allowed character wins, not a deleted one), repeats collapsed, blanks dropped,
    ends stripped."""
    scores = probabilities if allowed is None else np.where(allowed, probabilities, -np.inf)
    best = scores.argmax(axis=1)
    keep = best != BLANK
    keep[1:] &= best[1:] != best[:-1]
    if not keep.any():
        return Recognition("", 0.0)
    text = "".join(charset[index] for index in best[keep]).strip()
    return Recognition(text, round(float(scores.max(axis=1)[keep].mean()), 4))


def width_batches(
    order: list[int], widths: list[int], batch_size: int, columns: int = BATCH_COLUMNS
) -> list[list[int]]:
    """`order` (crops sorted by width, `widths` theirs at the model's height) cut into runs of at most
    `batch_size` crops and `columns` padded columns (crops x the widest); a wider crop runs alone."""
    batches: list[list[int]] = []
    for index, width in zip(order, widths, strict=True):
        if batches and len(batches[-1]) < batch_size and (len(batches[-1]) + 1) * width <= columns:
            batches[-1].append(index)
        else:
            batches.append([index])
    return batches


def scaled_width(crop: np.ndarray, height: int) -> int:
    """The crop's width once scaled to `height` pixels tall: `ceil(height * w / h)`, at least 1."""
    return max(1, math.ceil(height * crop.shape[1] / crop.shape[0]))


def scaled_to_height(crop: np.ndarray, height: int) -> np.ndarray:
    """The crop `height` pixels tall and `scaled_width` wide, bilinear."""
    return cv2.resize(crop, (scaled_width(crop, height), height), interpolation=cv2.INTER_LINEAR)


def batch_array(images: Sequence[np.ndarray], normalisation: Normalisation) -> np.ndarray:
    """(N, 3, H, widest W) float32: each (H, W, 3) uint8 image (one height) normalised, zeros to its right."""
    tensor = np.zeros(
        (len(images), 3, images[0].shape[0], max(image.shape[1] for image in images)), np.float32
    )
    for slot, image in enumerate(images):
        tensor[slot, :, :, : image.shape[1]] = normalisation.apply(image)
    return tensor


def _charset(session: ort.InferenceSession, manifest: ModelManifest) -> tuple[str, ...]:
    """The classes of the model: the CTC blank, the characters listed in its metadata, then the space."""
    metadata = session.get_modelmeta().custom_metadata_map
    if manifest.charset_key not in metadata:
        raise ManifestError(f"model {manifest.name!r} has no {manifest.charset_key!r} entry in its metadata")
    charset = ("", *metadata[manifest.charset_key].splitlines(), " ")
    classes = session.get_outputs()[0].shape[-1]
    if isinstance(classes, int) and classes != len(charset):
        raise ManifestError(f"model {manifest.name!r} has {classes} classes but {len(charset)} characters")
    return charset
