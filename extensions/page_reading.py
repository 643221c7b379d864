"""Stage 1 and Stage 2 on pixels at hand (blocking: libvips and ONNX Runtime): a page's structure (blocks and
lines with stable ids), each line's text from its crop, and the text of any region's crop."""

from dataclasses import replace
from typing import Any

import numpy as np
import pyvips

from iiif_server.image_request import ImageRequest
from iiif_server.pipeline import build_image
from iiif_server.pixel_errors import reading_pixels
from iiif_server.plan import ImagePlan, plan
from iiif_server.region import FullRegion
from iiif_server.rotation import Rotation
from iiif_server.settings import Limits
from iiif_server.size import Size
from iiif_server.sources import LevelOpener, SourceImage

from .annotations.model import AnnotatedRegion
from .line_crops import LineCrop, cut_line, to_array
from .page_structure import filtered, page_structure
from .page_tiling import detect_tiled
from .polygon_geometry import masked_area
from .region_lines import LineMode, boxes_to_read

LinePixels = tuple[LineCrop, ImagePlan, LevelOpener]
"""A line to read: how to cut it, the pixels its cut reads, and where they come from."""


def detection_plan(source: SourceImage, side: int) -> ImagePlan:
    """The whole page at most `side` pixels a side (IIIF_OCR_DETECTION_SIDE): what Stage 1 reads, and all an
    upstream page is fetched at."""
    scale = min(1.0, side / max(source.width, source.height))
    size = Size("wh", width=max(1, round(source.width * scale)), height=max(1, round(source.height * scale)))
    request = ImageRequest("", FullRegion(), size, Rotation(), "default", "png")
    return plan(request, source.width, source.height, Limits(None, None, None))


def planned_pixels(source: SourceImage, opener: LevelOpener, image_plan: ImagePlan) -> np.ndarray:
    """The planned image as an (H, W, 3) RGB array, transparency flattened onto white."""
    with reading_pixels(source.path):
        image: pyvips.Image = build_image(source, opener, image_plan)
        if image.hasalpha():
            image = image.flatten(background=[255] * (image.bands - 1))
        return to_array(image)


def detect_structure(
    detector: Any, layout: Any, source: SourceImage, opener: LevelOpener, image_plan: ImagePlan
) -> list[AnnotatedRegion]:
    """Stage 1 on the planned page (`detection_plan`): the page structure in full-image pixels, blocks typed
    by the layout model (none: untyped) each followed by its whole lines, ids in reading order."""
    page = planned_pixels(source, opener, image_plan)
    detected = detect_tiled(detector, page, detector.manifest.input_size)
    boxes = layout.detect(page) if layout is not None else []
    sx, sy = source.width / image_plan.width, source.height / image_plan.height
    pieces = [replace(d, polygon=tuple((x * sx, y * sy) for x, y in d.polygon)) for d in detected]
    scaled = [replace(b, box=(b.box[0] * sx, b.box[1] * sy, b.box[2] * sx, b.box[3] * sy)) for b in boxes]
    return page_structure(pieces, scaled)


def read_lines(
    recognizer: Any, source: SourceImage, lines: list[AnnotatedRegion], pixels: list[LinePixels]
) -> list[AnnotatedRegion]:
    """Stage 2: each line recognised from its crop (batched in one call), with its text and confidence."""
    with reading_pixels(source.path):
        crops = [cut_line(source, opener, line, image_plan) for line, image_plan, opener in pixels]
    results = recognizer.recognize(crops) if crops else []
    return [
        replace(line, text=result.text, confidence=round(float(result.confidence), 4))
        for line, result in zip(lines, results, strict=True)
    ]


def read_crop(registry: Any, crop: np.ndarray, min_confidence: float, lines: LineMode) -> tuple[str, float]:
    """Text of any region's crop: its lines detected (unless `lines="one"`), then read as one line or line by
    line (`boxes_to_read`), top to bottom, and joined by newlines."""
    found = [] if lines == "one" else registry.detector().detect(crop, min_confidence=min_confidence)
    boxes = [b for b in (_pixel_bounds(d.polygon, crop) for d in found) if b[2] > b[0] and b[3] > b[1]]
    height, width = crop.shape[:2]
    pieces = [crop[y0:y1, x0:x1] for x0, y0, x1, y1 in boxes_to_read(boxes, width, height, lines)]
    results = registry.recognizer().recognize(pieces)
    text = "\n".join(r.text for r in results if r.text)
    confidence = float(np.mean([r.confidence for r in results])) if results else 0.0
    return text, round(confidence, 4)


def kept(
    structure: list[AnnotatedRegion], min_confidence: float, min_area: float, source: SourceImage
) -> list[AnnotatedRegion]:
    """The lines at or above both filters (`min_area` in square pixels of the polygon inside the image) and
    the blocks holding them; a non-text block stays when it passes the filters itself."""
    return filtered(
        structure,
        lambda r: (
            (r.confidence or 0) >= min_confidence
            and masked_area([r.polygon], source.width, source.height) >= min_area
        ),
    )


def _pixel_bounds(polygon: tuple[tuple[float, float], ...], crop: np.ndarray) -> tuple[int, int, int, int]:
    """The polygon's bounds as array slices, clipped to the crop."""
    xs, ys = np.asarray(polygon).T
    height, width = crop.shape[:2]
    return (
        max(0, int(xs.min())),
        max(0, int(ys.min())),
        min(width, int(np.ceil(xs.max()))),
        min(height, int(np.ceil(ys.max()))),
    )
