"""Stage 1: text-line polygons from a DB (differentiable binarisation) detection model."""

from dataclasses import dataclass

import cv2
import numpy as np
import onnxruntime as ort
from shapely import affinity
from shapely.geometry import Polygon, box

from extensions.polygon_geometry import largest_outline, reading_order, repaired

from .manifest import DbPostprocess, ManifestError, ModelManifest

STRIDE = 32  # the network's input sides must be multiples of this
MIN_SIDE = 3  # probability-map blobs narrower than this (in map pixels) are noise
SIMPLIFY = 0.002  # Douglas-Peucker tolerance, as a fraction of the contour's perimeter (PP-OCR's value)
MERGE_OVERLAP = 0.5  # regions covering more than this share of a smaller one are merged into it


@dataclass(frozen=True)
class DetectedRegion:
    """A text region: its polygon in input-image pixels, the mean text probability inside it, and its type."""

    polygon: tuple[tuple[float, float], ...]
    confidence: float
    region_type: str = "line"


class TextDetector:
    """Finds text lines on a page image; safe to call from several threads at once."""

    def __init__(self, session: ort.InferenceSession, manifest: ModelManifest, max_side: int) -> None:
        if manifest.task != "detection" or manifest.db is None:
            raise ManifestError(f"model {manifest.name!r} is not a detection model")
        if max_side < STRIDE:
            raise ValueError(f"the detector's longest side must be at least {STRIDE}, not {max_side}")
        self._session = session
        self._input = session.get_inputs()[0].name
        self.manifest = manifest
        self._db: DbPostprocess = manifest.db
        self.max_side = max_side

    def detect(
        self, image: np.ndarray, min_confidence: float = 0.5, min_area: float = 100.0
    ) -> list[DetectedRegion]:
        """Text regions of an (H, W, 3) uint8 RGB image at or above `min_confidence` and `min_area`
        (square pixels), in reading order: top to bottom, then left to right within a row."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or 0 in image.shape:
            raise ValueError(f"expected a non-empty (H, W, 3) uint8 image, got {image.shape} {image.dtype}")
        height, width = image.shape[:2]
        resized = _fit(image, self.max_side)
        probability = self._probability(resized)[: resized.shape[0], : resized.shape[1]]
        page = box(0, 0, width, height)
        regions = []
        factors = (width / resized.shape[1], height / resized.shape[0])
        for candidate, confidence in self._candidates(probability, min_confidence):
            polygon = largest_outline(affinity.scale(candidate, *factors, origin=(0, 0)).intersection(page))
            if polygon is not None and polygon.area >= min_area:
                regions.append((polygon, confidence))
        region_type = self.manifest.classes[0]
        ordered = reading_order(_merge_overlapping(regions), lambda region: region[0].bounds)
        return [
            DetectedRegion(_coordinates(polygon), round(confidence, 4), region_type)
            for polygon, confidence in ordered
        ]

    def _probability(self, image: np.ndarray) -> np.ndarray:
        """The network's text-probability map of `image`, padded to multiples of the stride."""
        pad_y, pad_x = -image.shape[0] % STRIDE, -image.shape[1] % STRIDE
        padded = cv2.copyMakeBorder(image, 0, pad_y, 0, pad_x, cv2.BORDER_REPLICATE)
        tensor = self.manifest.normalisation.apply(padded)[np.newaxis]
        return self._session.run(None, {self._input: tensor})[0][0, 0]

    def _candidates(self, probability: np.ndarray, min_confidence: float) -> list[tuple[Polygon, float]]:
        """Threshold → contours → simplify → score → unclip, in probability-map pixels."""
        bitmap = (probability > self._db.binary_threshold).astype(np.uint8)
        # As in rapidocr: the 2x2 dilation joins a line's loose parts and grows each blob by a pixel right and
        # down, so that contour points (pixel indices) lie evenly around the undilated blob.
        bitmap = cv2.dilate(bitmap, np.ones((2, 2), np.uint8))
        contours, _ = cv2.findContours(bitmap, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        candidates = []
        for contour in contours:
            left, top, width, height = cv2.boundingRect(contour)
            if min(width, height) < MIN_SIDE:
                continue
            points = cv2.approxPolyDP(contour, SIMPLIFY * cv2.arcLength(contour, True), True)
            if len(points) < 3:
                continue
            mask = np.zeros((height, width), np.uint8)
            cv2.fillPoly(mask, [points - (left, top)], 1)
            confidence = cv2.mean(probability[top : top + height, left : left + width], mask)[0]
            polygon = largest_outline(repaired([points.reshape(-1, 2)]))
            if confidence >= min_confidence and polygon is not None:
                distance = polygon.area * self._db.unclip_ratio / polygon.length
                candidates.append((polygon.buffer(distance, quad_segs=2), confidence))
        return candidates


def _fit(image: np.ndarray, max_side: int) -> np.ndarray:
    """`image` shrunk so that its longest side is at most `max_side`."""
    height, width = image.shape[:2]
    factor = max_side / max(height, width)
    if factor >= 1:
        return image
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _merge_overlapping(regions: list[tuple[Polygon, float]]) -> list[tuple[Polygon, float]]:
    """Regions overlapping a larger one by more than `MERGE_OVERLAP` of their area joined into it;
    the confidence of a merged region is the area-weighted mean."""
    merged: list[tuple[Polygon, float]] = []
    for polygon, confidence in sorted(regions, key=lambda region: -region[0].area):
        for index, (kept, kept_confidence) in enumerate(merged):
            if kept.intersection(polygon).area > MERGE_OVERLAP * polygon.area:
                union = largest_outline(kept.union(polygon)) or kept
                total = kept.area + polygon.area
                merged[index] = (union, (kept_confidence * kept.area + confidence * polygon.area) / total)
                break
        else:
            merged.append((polygon, confidence))
    return merged


def _coordinates(polygon: Polygon) -> tuple[tuple[float, float], ...]:
    """The exterior ring, without the repeated closing point, rounded to 1/100 pixel."""
    return tuple((round(x, 2), round(y, 2)) for x, y in polygon.exterior.coords[:-1])
