"""The body of `POST /mask/batch`, parsed into regions to extract (bad items kept as per-item errors)."""

import json
import math
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import unquote, urlsplit

from iiif_server.errors import IIIFError, bad_request, bounded
from iiif_server.formats import parse_background
from iiif_server.image_request import FORMATS, QUALITIES, Format, Quality

from .annotations.detect import parse_annotations
from .annotations.model import AnnotationError
from .region_extraction import RegionRequest

OUTPUT_FORMATS = ("zip", "json")


@dataclass(frozen=True)
class RejectedItem:
    """An annotation that could not even be read; it is reported, not dropped."""

    id: str
    reason: str


@dataclass(frozen=True)
class BatchRequest:
    """A parsed batch: the page, the items in order, and how to encode them."""

    identifier: str
    items: list[RegionRequest | RejectedItem]
    output_format: str
    format: Format
    quality: Quality
    background: tuple[int, int, int]
    min_confidence: float | None
    min_area: float | None


def identifier_from(body: dict[str, Any], this_host: str) -> str:
    """`identifier`; the identifier inside an `iiif_base_url` on this server; or, for another host, the image
    service URL itself (fetched through the upstream client, which checks the host)."""
    if body.get("identifier"):
        return str(body["identifier"])
    base_url = body.get("iiif_base_url")
    if not base_url:
        raise bad_request("identifier", "give `identifier` or `iiif_base_url`")
    parts = urlsplit(str(base_url))
    if parts.netloc and parts.netloc != this_host:
        return str(base_url).removesuffix("/info.json").rstrip("/")
    marker = "/iiif/3/"
    if marker not in parts.path:
        raise bad_request("iiif_base_url", "expected a URL of the form https://host/iiif/3/{identifier}")
    raw = parts.path.split(marker, 1)[1].split("/")[0]
    return unquote(raw.removesuffix("/info.json"))


def _points(value: Any) -> tuple[tuple[float, float], ...]:
    """A polygon given as [[x, y], ...], a flat [x1, y1, ...] list or an `x1,y1,...` string."""
    if isinstance(value, str):
        value = [float(v) for v in value.replace(";", ",").split(",")]
    if value and all(isinstance(v, int | float) for v in value):
        value = list(zip(value[0::2], value[1::2], strict=True))
    points = tuple((float(x), float(y)) for x, y in value)
    if len(set(points)) < 3 or not all(math.isfinite(c) for p in points for c in p):
        raise ValueError("a polygon needs at least 3 distinct finite points")
    return points


def _inline_item(index: int, raw: Any, default_scale: float) -> RegionRequest | RejectedItem:
    """One element of `annotations`."""
    item_id = str(raw.get("id", f"item{index:04d}")) if isinstance(raw, dict) else f"item{index:04d}"
    try:
        confidence = raw.get("confidence")
        return RegionRequest(
            id=item_id,
            polygon=_points(raw["polygon"]),
            scale=float(raw.get("scale", default_scale)),
            region_type=raw.get("type"),
            confidence=None if confidence is None else float(confidence),
            text=raw.get("text"),
        )
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        return RejectedItem(item_id, bounded(f"unreadable annotation: {error!r}"))


def _document_items(
    document: Any, default_scale: float, image_size: tuple[int, int]
) -> list[RegionRequest | RejectedItem]:
    """Regions from an annotation document in any supported format (a JSON value or an XML/JSON string); the
    elements it has no outline for (an empty eScriptorium block, a PAGE line with only a Baseline) follow as
    rejected items with the parser's reason."""
    data = document.encode() if isinstance(document, str) else json.dumps(document).encode()
    try:
        regions = parse_annotations(data, image_size)
    except AnnotationError as error:
        raise bad_request("document", str(error)) from error
    found: list[RegionRequest | RejectedItem] = [
        RegionRequest(r.id, r.polygon, default_scale, r.region_type, r.confidence, r.text) for r in regions
    ]
    return found + [RejectedItem(skipped.item, skipped.reason) for skipped in regions.skipped]


def _choice(value: Any, allowed: tuple[str, ...], parameter: str, default: str) -> str:
    value = default if value is None else value
    if value not in allowed:
        raise bad_request(parameter, f"{value!r} is not one of {', '.join(allowed)}")
    return str(value)


def _optional_float(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError) as error:
        raise bad_request(key, f"{value!r} is not a number") from error


def batch_identifier(body: Any, this_host: str) -> str:
    """The page a batch body names (`identifier_from`); 400 when the body is no JSON object."""
    if not isinstance(body, dict):
        raise bad_request("body", "expected a JSON object")
    return identifier_from(body, this_host)


def parse_batch(
    body: dict[str, Any], identifier: str, image_size: tuple[int, int], max_items: int
) -> BatchRequest:
    """Check the body of a batch on the page `identifier` (`batch_identifier`), `image_size` pixels (for an
    annotation document's percent coordinates)."""
    scale = _optional_float(body, "scale")
    scale = 1.0 if scale is None else scale
    if "document" in body:
        items: list[RegionRequest | RejectedItem] = list(_document_items(body["document"], scale, image_size))
    elif isinstance(body.get("annotations"), list):
        items = [_inline_item(i, raw, scale) for i, raw in enumerate(body["annotations"])]
    else:
        raise bad_request("annotations", "give `annotations` (a list) or `document` (an annotation document)")
    if len(items) > max_items:
        raise IIIFError(
            413, f"{len(items)} annotations, more than IIIF_MAX_BATCH_SIZE={max_items}", "annotations"
        )
    if body.get("bg") is not None and not isinstance(body["bg"], str):
        raise bad_request("bg", "expected a RRGGBB hex colour string")
    return BatchRequest(
        identifier=identifier,
        items=items,
        output_format=_choice(body.get("output_format"), OUTPUT_FORMATS, "output_format", "zip"),
        format=cast(Format, _choice(body.get("format"), FORMATS, "format", "png")),
        quality=cast(Quality, _choice(body.get("quality"), QUALITIES, "quality", "default")),
        background=parse_background(body.get("bg")),
        min_confidence=_optional_float(body, "min_confidence"),
        min_area=_optional_float(body, "min_area"),
    )
