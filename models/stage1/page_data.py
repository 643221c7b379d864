"""Stage 1 training data: page images with line polygons (contract 4), cut into random training patches."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from extensions.annotations import load_annotations
from models.evaluation.stage1_eval import LINE_TYPES, AnnotatedPage, annotated_pages, read_page
from ocr_onnx.manifest import Normalisation

from .targets import rasterise, shrunk


@dataclass(frozen=True)
class Page:
    """A page image, (H, W, 3) uint8 RGB, and its text lines as polygons in its pixels ((n, 2) arrays)."""

    name: str
    image: np.ndarray
    lines: tuple[np.ndarray, ...]


def find_pages(folder: Path) -> list[AnnotatedPage]:
    """The annotated pages of a folder (contract 4), sorted by name; raises when an image has no
    annotation file or the folder has no pages."""
    pages, unannotated = annotated_pages(folder)
    if unannotated:
        raise FileNotFoundError(f"{folder}: no annotation file for {[path.name for path in unannotated]}")
    if not pages:
        raise FileNotFoundError(f"{folder}: no annotated page images")
    return pages


def load_page(page: AnnotatedPage) -> Page:
    """A page image and its line polygons (regions of type TextLine or line)."""
    pixels = read_page(page.image)
    regions = load_annotations(page.annotation, (pixels.shape[1], pixels.shape[0]))
    lines = tuple(
        np.asarray(region.polygon, np.float64)
        for region in regions
        if region.region_type in LINE_TYPES and len(region.polygon) >= 3
    )
    return Page(page.image.stem, pixels, lines)


def fit_scale(shape: Sequence[int], side: int) -> float:
    """The factor `ocr_onnx.detection.TextDetector` shrinks a page of `shape` (H, W, ...) by to fit `side`."""
    return min(1.0, side / max(shape[0], shape[1]))


class LinePatches(torch.utils.data.Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """`count` random square patches of the pages per epoch, each page scaled as the detector scales it
    (longest side fitted to `input_size`) times a random factor in `scale_range`. An item is the normalised
    patch (3, P, P) and the coverage of the shrunk lines (1, P, P); items follow from `seed` and the epoch."""

    def __init__(
        self,
        pages: Sequence[Page],
        *,
        patch: int,
        input_size: int,
        scale_range: tuple[float, float],
        shrink_ratio: float,
        normalisation: Normalisation,
        count: int,
        seed: int,
    ) -> None:
        self.patch, self.scale_range, self.count, self.seed = patch, scale_range, count, seed
        self.normalisation = normalisation
        self.epoch = 0
        self._pages = []  # each page once at its largest training scale: pixels, shrunk lines, scales
        for page in pages:
            fit = fit_scale(page.image.shape, input_size)
            largest = min(1.0, fit * scale_range[1])
            kernels = [
                ring for ring in (shrunk(line, shrink_ratio) for line in page.lines) if ring is not None
            ]
            self._pages.append(
                (_resized(page.image, largest), [ring * largest for ring in kernels], largest, fit)
            )

    def set_epoch(self, epoch: int) -> None:
        """Draw another set of patches."""
        self.epoch = epoch

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng((self.seed, self.epoch, index))
        number = int(rng.integers(len(self._pages)))
        stored, kernels, stored_scale, fit = self._pages[number]
        scale = min(1.0, fit * rng.uniform(*self.scale_range)) / stored_scale
        image = _resized(stored, scale)
        height, width = image.shape[:2]
        top = int(rng.integers(max(1, height - self.patch + 1)))
        left = int(rng.integers(max(1, width - self.patch + 1)))
        window = image[top : top + self.patch, left : left + self.patch]
        pad_y, pad_x = self.patch - window.shape[0], self.patch - window.shape[1]
        window = cv2.copyMakeBorder(window, 0, pad_y, 0, pad_x, cv2.BORDER_REPLICATE)  # as the detector pads
        target = rasterise(kernels, (self.patch, self.patch), scale, (left, top))
        pixels = self.normalisation.apply(augmented(window, rng))
        return torch.from_numpy(pixels), torch.from_numpy(target)[None]


def augmented(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Light photometric noise: contrast and brightness per channel, sometimes blur, sensor noise."""
    pixels = image.astype(np.float32)
    contrast = rng.uniform(0.7, 1.2) * rng.uniform(0.95, 1.05, 3)
    pixels = (pixels - 128) * contrast + 128 + rng.uniform(-25, 25) + rng.uniform(-8, 8, 3)
    if rng.random() < 0.3:
        pixels = cv2.GaussianBlur(pixels, (0, 0), rng.uniform(0.3, 1.0))
    pixels += rng.normal(0, rng.uniform(0, 6), pixels.shape).astype(np.float32)
    return np.clip(pixels, 0, 255).astype(np.uint8)


def _resized(image: np.ndarray, scale: float) -> np.ndarray:
    """`image` scaled by `scale` (at most 1) with area averaging, as the detector shrinks pages."""
    if scale >= 1.0:
        return image
    height, width = image.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
