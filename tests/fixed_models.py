"""A stand-in model registry for the OCR extension: the detector "finds" the polygons it is given and the
recogniser reads every crop as the same text, so a test knows Stage 1's answer exactly and loads no model."""

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from extensions.polygon_geometry import Ring


@dataclass(frozen=True)
class Found:
    """What a detector returns for one region."""

    polygon: Ring
    confidence: float
    region_type: str = "line"


class FixedDetector:
    """Finds `polygons` (in page pixels) on any page at confidence 0.9, and counts its calls."""

    manifest = SimpleNamespace(name="fixed-detector", version="1", key="fixed-detector@1", input_size=4096)

    def __init__(self, polygons: list[Ring]) -> None:
        self.polygons = polygons
        self.calls = 0

    def detect(self, image: np.ndarray, min_confidence: float = 0.5, min_area: float = 100.0) -> list[Found]:
        self.calls += 1
        return [Found(polygon, 0.9) for polygon in self.polygons]


class SameText:
    """Reads every crop as `text`; its crops are masked, not deskewed."""

    crop = SimpleNamespace(target_height=32, mask_polygon=True, deskew=False, background=(255, 255, 255))
    manifest = SimpleNamespace(name="same-text", version="1", key="same-text@1", crop=crop)

    def recognize(self, crops: list[np.ndarray]) -> list[Any]:
        return [SimpleNamespace(text="text", confidence=0.9) for _ in crops]


class FixedModels:
    """The registry `ocr_extension(registry=...)` takes."""

    def __init__(self, polygons: list[Ring]) -> None:
        self._detector = FixedDetector(polygons)
        self._recognizer = SameText()

    def detector(self) -> FixedDetector:
        return self._detector

    def recognizer(self) -> SameText:
        return self._recognizer
