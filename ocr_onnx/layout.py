"""Stage 1's layout model: typed page regions (paragraph, title, figure, caption, table, header, footer, …)
as upright boxes from a PP-PicoDet detector, decoded and suppressed as PaddleDetection's GFL head does."""

from dataclasses import dataclass

import cv2
import numpy as np
import onnxruntime as ort

from extensions.polygon_geometry import Bounds

from .manifest import LayoutPostprocess, ManifestError, ModelManifest

CLASSES_KEY = "character"  # the ONNX metadata entry listing the model's classes, one per line
MAX_BOXES = 100  # kept per class after suppression
NMS_CANDIDATES = 1000  # the best-scored anchors of a class that suppression looks at


@dataclass(frozen=True)
class LayoutRegion:
    """A typed region: its box in input-image pixels, its region type and score."""

    box: Bounds
    region_type: str
    confidence: float


class LayoutDetector:
    """Finds typed regions on a page image; safe to call from several threads at once."""

    def __init__(self, session: ort.InferenceSession, manifest: ModelManifest) -> None:
        if manifest.task != "layout" or manifest.layout is None:
            raise ManifestError(f"model {manifest.name!r} is not a layout model")
        self._post: LayoutPostprocess = manifest.layout
        expected = [1, 3, manifest.input_size, self._post.input_width]
        found = session.get_inputs()[0].shape
        if list(found) != expected:
            raise ManifestError(f"model {manifest.name!r} takes input {found}, the manifest says {expected}")
        listed = session.get_modelmeta().custom_metadata_map.get(CLASSES_KEY, "").splitlines()
        if listed and tuple(listed) != manifest.classes:
            raise ManifestError(
                f"model {manifest.name!r} has classes {listed}, the manifest {manifest.classes}"
            )
        self._session = session
        self._input = session.get_inputs()[0].name
        self.manifest = manifest

    def detect(self, image: np.ndarray) -> list[LayoutRegion]:
        """Typed regions of an (H, W, 3) uint8 RGB image above the manifest's score threshold."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or 0 in image.shape:
            raise ValueError(f"expected a non-empty (H, W, 3) uint8 image, got {image.shape} {image.dtype}")
        height, width = image.shape[:2]
        size = (self._post.input_width, self.manifest.input_size)
        resized = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        outputs = self._session.run(
            None, {self._input: self.manifest.normalisation.apply(resized)[np.newaxis]}
        )
        boxes, scores = _decoded(outputs, self._post.strides, size)
        factors = np.array([width / size[0], height / size[1]] * 2)
        limits = np.array([width, height] * 2)
        found = []
        for index, region_type in enumerate(self._post.region_types):
            for box, score in _suppressed(boxes, scores[:, index], self._post):
                x0, y0, x1, y1 = np.clip(box * factors, 0, limits).tolist()
                if x1 > x0 and y1 > y0:
                    found.append(LayoutRegion((x0, y0, x1, y1), region_type, round(float(score), 4)))
        return found


def _decoded(outputs: list[np.ndarray], strides: tuple[int, ...], size: tuple[int, int]):
    """Every anchor's box (x0, y0, x1, y1 in input pixels) and class scores: each head's distances to the
    four sides are the expectation of a softmax over bins, in units of its stride."""
    heads = len(strides)
    boxes, scores = [], []
    for stride, score, distribution in zip(strides, outputs[:heads], outputs[heads:], strict=True):
        columns, rows = -(-size[0] // stride), -(-size[1] // stride)
        xs, ys = np.meshgrid((np.arange(columns) + 0.5) * stride, (np.arange(rows) + 0.5) * stride)
        centres = np.stack([xs.ravel(), ys.ravel()] * 2, axis=1)
        bins = distribution[0].reshape(-1, distribution.shape[-1] // 4)
        weights = np.exp(bins - bins.max(axis=1, keepdims=True))
        weights /= weights.sum(axis=1, keepdims=True)
        distances = (weights @ np.arange(bins.shape[1])).reshape(-1, 4) * stride
        boxes.append(centres + distances * np.array([-1, -1, 1, 1]))
        scores.append(score[0])
    return np.concatenate(boxes), np.concatenate(scores)


def _suppressed(
    boxes: np.ndarray, scores: np.ndarray, post: LayoutPostprocess
) -> list[tuple[np.ndarray, float]]:
    """One class's boxes above the score threshold after hard non-maximum suppression, best first."""
    order = [index for index in np.argsort(-scores)[:NMS_CANDIDATES] if scores[index] > post.score_threshold]
    kept: list[int] = []
    for index in order:
        if all(_iou(boxes[index], boxes[other]) <= post.nms_iou for other in kept):
            kept.append(index)
            if len(kept) == MAX_BOXES:
                break
    return [(boxes[index], float(scores[index])) for index in kept]


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    across = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - across
    return float(across / union) if union > 0 else 0.0
