"""Stage 1 evaluation: run a line detector over a folder of annotated pages and score it (COCO mask AP)."""

import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyvips

from extensions.annotations import AnnotationError, load_annotations
from extensions.line_crops import to_array
from ocr_onnx.detection import TextDetector

from .detection_metrics import DetectionScores, PageDetections, detection_scores
from .reports import detection_table, write_report

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
ANNOTATION_ENDINGS = (".page.xml", ".gt.xml", ".xml", ".w3c.json", ".json")
"""Annotation file names tried for a page image NAME.ext, in this order: NAME.page.xml first."""
LINE_TYPES = ("TextLine", "line")


@dataclass(frozen=True)
class AnnotatedPage:
    """A page image and its annotation file."""

    image: Path
    annotation: Path


def annotated_pages(folder: Path) -> tuple[list[AnnotatedPage], list[Path]]:
    """The folder's page images paired with their annotation files, and the images that have none."""
    images = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    pages, unannotated = [], []
    for image in images:
        annotation = next(
            (found for end in ANNOTATION_ENDINGS if (found := image.with_name(image.stem + end)).is_file()),
            None,
        )
        if annotation is None:
            unannotated.append(image)
        else:
            pages.append(AnnotatedPage(image, annotation))
    return pages, unannotated


def read_page(path: Path) -> np.ndarray:
    """A page image as (H, W, 3) uint8 RGB, transparency flattened onto white."""
    image = pyvips.Image.new_from_file(str(path), access="sequential")
    if image.hasalpha():
        image = image.flatten(background=[255] * (image.bands - 1))
    return to_array(image.colourspace("srgb").cast("uchar")).copy()


def page_detections(page: AnnotatedPage, detector: TextDetector, min_confidence: float) -> PageDetections:
    """Detect the lines of one page and pair them with its true lines (regions of a line type, 3+ points)."""
    rgb = read_page(page.image)
    height, width = rgb.shape[:2]
    truth = [
        region.polygon
        for region in load_annotations(page.annotation, (width, height))
        if region.region_type in LINE_TYPES and len(region.polygon) >= 3
    ]
    found = [(region.polygon, region.confidence) for region in detector.detect(rgb, min_confidence)]
    return PageDetections(page.image.name, width, height, truth, found)


def evaluate_pages(folder: Path, detector: TextDetector, min_confidence: float, out: Path) -> str:
    """Score the detector on every annotated page of `folder`, write `stage1.json` and `stage1.md` into `out`,
    and return the Markdown table. Pages without annotation or with a broken one are listed, loudly."""
    pages, unannotated = annotated_pages(folder)
    skipped = [{"image": str(image), "reason": "no annotation file"} for image in unannotated]
    scored: list[PageDetections] = []
    for page in pages:
        try:
            scored.append(page_detections(page, detector, min_confidence))
        except (AnnotationError, pyvips.Error) as error:
            skipped.append({"image": str(page.image), "reason": str(error).strip()})
    for item in skipped:
        print(f"skipped {item['image']}: {item['reason']}", file=sys.stderr)
    if not scored:
        raise ValueError(f"{folder}: no page image with a readable annotation file")
    overall = detection_scores(scored)
    per_page = {page.name: detection_scores([page]) for page in scored}
    table = detection_table(overall, per_page)
    report = {
        "stage": 1,
        "pages_folder": str(folder),
        "detector": {"name": detector.manifest.name, "version": detector.manifest.version},
        "detector_max_side": detector.max_side,
        "min_confidence": min_confidence,
        "scores": asdict(overall),
        "pages": [_page_report(page, per_page[page.name]) for page in scored],
        "skipped": skipped,
    }
    write_report(out, "stage1", report, table)
    return table


def _page_report(page: PageDetections, scores: DetectionScores) -> dict[str, object]:
    """One page's scores and its detections (polygon and confidence), for the JSON report."""
    return {
        "image": page.name,
        "width": page.width,
        "height": page.height,
        "scores": asdict(scores),
        "found": [{"polygon": _points(polygon), "confidence": score} for polygon, score in page.found],
    }


def _points(polygon: Sequence[tuple[float, float]]) -> list[list[float]]:
    """A polygon as JSON pairs, to 0.1 pixel."""
    return [[round(x, 1), round(y, 1)] for x, y in polygon]
