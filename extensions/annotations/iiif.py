"""IIIF Presentation 3 Annotation and AnnotationPage, and Presentation 2 `sc:AnnotationList`, read as W3C."""

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

from .documents import DOCUMENT, load_json
from .json_fields import Json, as_object, kind_of, listed
from .layout import BLOCK_TYPES, pixel_points
from .model import AnnotatedRegion, AnnotationError, ImageSize, ParsedRegions
from .svg import polygon_svg
from .w3c import annotation_region, annotations

PRESENTATION_3 = "http://iiif.io/api/presentation/3/context.json"
MEDIA_TYPE = f'application/ld+json;profile="{PRESENTATION_3}"'
"""The media type of every Presentation 3 document the server sends (AnnotationPages, manifests)."""
_GRANULARITIES = ("page", "block", "line", "word", "glyph")  # the IIIF Text Granularity extension


def parse(data: bytes, image_size: ImageSize | None = None) -> ParsedRegions:
    """Regions of a Presentation 3 Annotation or AnnotationPage, or of a Presentation 2 AnnotationList."""
    document = as_object(load_json(data), DOCUMENT, "document")
    kind = kind_of(document)
    if kind == "AnnotationList":
        found = listed(document.get("resources", []), "resources")
    elif kind in ("Annotation", "AnnotationPage"):
        found = annotations(document)
    else:
        raise AnnotationError(
            DOCUMENT, f"expected an AnnotationPage, Annotation or AnnotationList, not {kind!r}"
        )
    return ParsedRegions(annotation_region(annotation, label, image_size) for label, annotation in found)


def annotation_page(
    page_id: str,
    target_source: str,
    regions: Sequence[AnnotatedRegion],
    motivation: str,
    see_also: Callable[[AnnotatedRegion], str] | None = None,
) -> dict[str, Any]:
    """A Presentation 3 AnnotationPage: one annotation per region, id `{page_id}/{region id}`, whose target
    is the region's polygon (whole pixels) as an SvgSelector on `target_source`."""
    items = [_annotation(page_id, target_source, region, motivation, see_also) for region in regions]
    return {"@context": PRESENTATION_3, "id": page_id, "type": "AnnotationPage", "items": items}


def _annotation(
    page_id: str,
    target_source: str,
    region: AnnotatedRegion,
    motivation: str,
    see_also: Callable[[AnnotatedRegion], str] | None,
) -> Json:
    """One annotation; its `confidence` and `textGranularity` go on the body, or on it when it has none."""
    annotation: Json = {
        "id": f"{page_id}/{quote(region.id, safe='')}",
        "type": "Annotation",
        "motivation": motivation,
    }
    body = _body(region, motivation)
    if body is not None:
        annotation["body"] = body
    (body if body is not None else annotation).update(_properties(region, motivation))
    selector = {"type": "SvgSelector", "value": polygon_svg(pixel_points(region))}
    annotation["target"] = {"type": "SpecificResource", "source": target_source, "selector": selector}
    if see_also is not None:
        annotation["seeAlso"] = [{"id": see_also(region), "type": "Image", "format": "image/png"}]
    return annotation


def _body(region: AnnotatedRegion, motivation: str) -> Json | None:
    """A TextualBody: the region type as a tag when tagging, else the text (None when there is none)."""
    if motivation == "tagging":
        return {"type": "TextualBody", "value": region.region_type, "purpose": "tagging"}
    if region.text is not None:
        return {"type": "TextualBody", "value": region.text, "format": "text/plain"}
    return None


def _properties(region: AnnotatedRegion, motivation: str) -> Json:
    """The region's confidence (the project's own property, not in the W3C model; w3c reads it back) and,
    for text, its IIIF text granularity (`block` for a block type, else the type when it is one); where the
    region belongs to a page structure (`parent`, or a block type), its `region_type` and its block."""
    found: Json = {}
    granularity = "block" if region.region_type in BLOCK_TYPES else region.region_type
    if motivation != "tagging" and granularity in _GRANULARITIES:
        found["textGranularity"] = granularity
    if region.parent is not None or region.region_type in BLOCK_TYPES:
        found["region_type"] = region.region_type
    if region.parent is not None:
        found["block"] = region.parent
    if region.confidence is not None:
        found["confidence"] = float(region.confidence)
    return found
