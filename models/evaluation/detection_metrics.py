"""Stage 1 scores: COCO mask AP/AR of detected line polygons against the true ones (pycocotools), and
plain precision, recall and mean IoU of the one-to-one matches at IoU >= 0.5."""

import contextlib
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pycocotools import mask as coco_mask
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from extensions.polygon_geometry import Ring

LINE_CATEGORY = 1
MAX_DETECTIONS = 10_000  # per page: COCO's 100 is too few for text lines
RECALL_DETECTIONS = 100  # AR@100, as COCO reports it
MATCH_IOU = 0.5


@dataclass(frozen=True)
class PageDetections:
    """One page: its size, the true line polygons and the found ones with their confidences."""

    name: str
    width: int
    height: int
    truth: Sequence[Ring]
    found: Sequence[tuple[Ring, float]]


@dataclass(frozen=True)
class DetectionScores:
    """COCO AP at IoU 0.5, 0.75 and averaged over 0.5:0.05:0.95, AR@100, and the plain counts at IoU 0.5."""

    pages: int
    truth: int
    found: int
    ap50: float
    ap75: float
    ap: float
    ar100: float
    precision: float
    recall: float
    mean_iou: float


def detection_scores(pages: Sequence[PageDetections]) -> DetectionScores:
    """Score all pages together, as one COCO evaluation with a single category, `line`."""
    truth, found, rles = _coco_annotations(pages)
    if not truth:
        raise ValueError("no true lines to score against")
    images = [{"id": n, "width": p.width, "height": p.height} for n, p in enumerate(pages, start=1)]
    evaluation = COCOeval(_coco(images, truth), _coco(images, found), iouType="segm")
    evaluation.params.maxDets = [RECALL_DETECTIONS, MAX_DETECTIONS]
    evaluation.params.areaRng, evaluation.params.areaRngLbl = [[0, 1e10]], ["all"]
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
        evaluation.evaluate()
        evaluation.accumulate()
    precision, recall = evaluation.eval["precision"], evaluation.eval["recall"]
    thresholds = list(np.round(evaluation.params.iouThrs, 2))
    at_50, at_75 = thresholds.index(0.5), thresholds.index(0.75)
    pairs = [
        (int(found_id), int(truth_id))
        for result in evaluation.evalImgs
        if result is not None
        for found_id, truth_id in zip(result["dtIds"], result["dtMatches"][at_50], strict=True)
        if truth_id > 0
    ]
    ious = [float(coco_mask.iou([rles[f]], [rles[t]], [0])[0, 0]) for f, t in pairs]
    return DetectionScores(
        pages=len(pages),
        truth=len(truth),
        found=len(found),
        ap50=_mean(precision[at_50, :, 0, 0, -1]),
        ap75=_mean(precision[at_75, :, 0, 0, -1]),
        ap=_mean(precision[:, :, 0, 0, -1]),
        ar100=_mean(recall[:, 0, 0, 0]),
        precision=len(pairs) / len(found) if found else 0.0,
        recall=len(pairs) / len(truth),
        mean_iou=float(np.mean(ious)) if ious else 0.0,
    )


def polygon_rle(polygon: Ring, width: int, height: int) -> dict:
    """The polygon rasterised by pycocotools as a run-length encoded mask of a width x height image."""
    if len(polygon) < 3:
        raise ValueError(f"a polygon needs at least 3 points, got {len(polygon)}")
    flat = [float(value) for point in polygon for value in point]
    return coco_mask.merge(coco_mask.frPyObjects([flat], height, width))


def _coco_annotations(pages: Sequence[PageDetections]) -> tuple[list[dict], list[dict], dict[int, dict]]:
    """COCO annotations of the true and found lines (ids from 1, unique across both) and each id's RLE."""
    truth: list[dict] = []
    found: list[dict] = []
    rles: dict[int, dict] = {}
    items = [
        (image_id, page, polygon, score)
        for image_id, page in enumerate(pages, start=1)
        for polygon, score in [*((p, None) for p in page.truth), *page.found]
    ]
    for annotation_id, (image_id, page, polygon, score) in enumerate(items, start=1):
        rle = rles[annotation_id] = polygon_rle(polygon, page.width, page.height)
        annotation = {
            "id": annotation_id,
            "image_id": image_id,
            "category_id": LINE_CATEGORY,
            "segmentation": rle,
            "area": float(coco_mask.area(rle)),
            "bbox": coco_mask.toBbox(rle).tolist(),
            "iscrowd": 0,
        }
        if score is None:
            truth.append(annotation)
        else:
            found.append({**annotation, "score": float(score)})
    return truth, found, rles


def _coco(images: list[dict], annotations: list[dict]) -> COCO:
    """An in-memory COCO dataset (COCO.loadRes fails on an empty result list, so results are built alike)."""
    coco = COCO()
    coco.dataset = {
        "images": images,
        "annotations": annotations,
        "categories": [{"id": LINE_CATEGORY, "name": "line"}],
    }
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def _mean(values: np.ndarray) -> float:
    """The mean of COCO's table entries that are defined (it writes -1 where there is nothing to measure)."""
    defined = values[values > -1]
    return float(defined.mean()) if defined.size else 0.0
