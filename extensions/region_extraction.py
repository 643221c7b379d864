"""Cut one masked region out of a page and describe it: the step shared by the batch endpoint and OCR."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyvips

from iiif_server.errors import IIIFError, bad_request
from iiif_server.formats import EncodeOptions
from iiif_server.image_request import Format, ImageRequest, Quality
from iiif_server.pipeline import render
from iiif_server.pixel_errors import libvips_reason
from iiif_server.plan import ImagePlan, plan
from iiif_server.rotation import Rotation
from iiif_server.settings import Limits
from iiif_server.size import Size
from iiif_server.sources import LevelOpener, SourceImage

from .polygon_mask import PolygonMask
from .polygon_region import PolygonRegion


@dataclass(frozen=True)
class RegionRequest:
    """One region to extract: its polygon in full-image pixels and the scale of the output."""

    id: str
    polygon: tuple[tuple[float, float], ...]
    scale: float = 1.0
    region_type: str | None = None
    confidence: float | None = None
    text: str | None = None


@dataclass(frozen=True)
class ExtractionOptions:
    """How every region of one batch is encoded."""

    format: Format = "png"
    quality: Quality = "default"
    background: tuple[int, int, int] = (255, 255, 255)
    encode: EncodeOptions = field(default_factory=EncodeOptions)
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True)
class Extracted:
    """An extracted region's metadata and, when it succeeded, its encoded bytes."""

    metadata: dict[str, Any]
    image: bytes | None


def _base_metadata(item: RegionRequest, identifier: str) -> dict[str, Any]:
    return {
        "annotation_id": item.id,
        "source_image": identifier,
        "region_type": item.region_type,
        "confidence": item.confidence,
        "text": item.text,
        "scale_factor": item.scale,
    }


def extract_region(
    item: RegionRequest,
    identifier: str,
    source: SourceImage,
    open_for: Callable[[ImagePlan], LevelOpener],
    options: ExtractionOptions,
) -> Extracted:
    """Mask one polygon out of the page, reading pixels from `open_for(plan)`; a bad item (an upstream
    failure included) gives an error entry, never an exception."""
    metadata = _base_metadata(item, identifier)
    try:
        if not 0 < item.scale <= 10:
            raise bad_request("scale", f"scale {item.scale} is outside (0, 10]")
        region = PolygonRegion((item.polygon,))
        size = Size("pct", upscale=item.scale > 1, percent=item.scale * 100)
        request = ImageRequest(identifier, region, size, Rotation(), options.quality, options.format)
        image_plan = plan(request, source.width, source.height, options.limits)
        image = render(source, open_for(image_plan), image_plan, options.encode, options.background)
    except IIIFError as error:
        return Extracted({**metadata, "status": "error", "error": str(error)}, None)
    except pyvips.Error as error:
        reason = libvips_reason(error, source.path)
        return Extracted({**metadata, "status": "error", "error": f"libvips: {reason}"}, None)
    mask = image_plan.region.mask
    assert isinstance(mask, PolygonMask)
    area = mask.area  # the min_area measure (masked_area)
    box = image_plan.region.box
    metadata.update(
        status="ok",
        bounding_box=[box.x, box.y, box.width, box.height],
        polygon_area=round(area, 2),
        width=image_plan.width,
        height=image_plan.height,
        format=options.format,
        sha256=hashlib.sha256(image).hexdigest(),
        extraction_timestamp=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    )
    return Extracted(metadata, image)
