"""W3C Web Annotations whose target is an SvgSelector, a FragmentSelector or a `#xywh=` IRI.

Open Annotation spellings (`@id`, `@type`, `oa:` prefixes, `on`, `resource`, `chars`, `full`, `oa:Choice`)
are read too, so IIIF Presentation 2 lists share this code.
"""

from typing import Any

from ..polygon_geometry import Point
from .documents import DOCUMENT, load_json
from .geometry import confidence, number, rectangle, ring
from .json_fields import Json, as_object, field, kind_of, label_of, listed, optional_str
from .model import AnnotatedRegion, AnnotationError, ImageSize, ParsedRegions
from .svg import svg_points

_TEXT_BODIES = ("TextualBody", "ContentAsText", "Text")  # the last two: Open Annotation `chars`
_GRANULARITY = "textGranularity"  # the IIIF Text Granularity extension: page, block, line, word, glyph
_REGION_TYPE = "region_type"  # the server's own: a block's type (paragraph, title, figure, …) or `line`


def parse(data: bytes, image_size: ImageSize | None = None) -> ParsedRegions:
    """Regions of a single annotation, a list of them, an AnnotationPage or an AnnotationCollection."""
    return ParsedRegions(annotation_region(a, label, image_size) for label, a in annotations(load_json(data)))


def annotations(document: Any) -> list[tuple[str, Json]]:
    """Every annotation in the document, each with the label that names it in errors (its id or path)."""
    if isinstance(document, list):
        return listed(document, "")
    kind = kind_of(as_object(document, DOCUMENT, "document"))
    if kind == "Annotation":
        return [(label_of(document, DOCUMENT), document)]
    if kind == "AnnotationPage":
        return listed(document.get("items"), "items")
    if kind == "AnnotationCollection":
        return listed(document["items"], "items") if "items" in document else _pages(document.get("first"))
    raise AnnotationError(DOCUMENT, f"expected an Annotation, AnnotationPage or -Collection, not {kind!r}")


def _pages(page: Any) -> list[tuple[str, Json]]:
    """The annotations of an embedded `first` page and of the embedded pages its `next` chain leads to."""
    if page is None:
        raise AnnotationError(DOCUMENT, "AnnotationCollection has neither items nor first")
    found: list[tuple[str, Json]] = []
    path = "first"
    while page is not None:
        if isinstance(page, str):
            raise AnnotationError(path, "annotation pages referenced by URL are not fetched; embed them")
        found += listed(as_object(page, path, "page").get("items"), f"{path}.items")
        page, path = page.get("next"), f"{path}.next"
    return found


def annotation_region(annotation: Json, label: str, image_size: ImageSize | None) -> AnnotatedRegion:
    """One annotation as a region: shape from its target, text and confidence from its textual body, type
    from the server's `region_type` or the text granularity, block from the server's `block`."""
    if kind_of(annotation) != "Annotation":
        raise AnnotationError(label, f"expected an Annotation, not {kind_of(annotation)!r}")
    points, source = target_shape(field(annotation, "target", "on"), label, image_size)
    body = _textual_body(annotation) or {}
    text = (
        optional_str(body, label, "value", "chars") if body else optional_str(annotation, label, "bodyValue")
    )
    own = body if "confidence" in body else annotation
    region_type, granularity, block = (
        _own_str(body, annotation, label, key) for key in (_REGION_TYPE, _GRANULARITY, "block")
    )
    return AnnotatedRegion(
        id=label,
        polygon=ring(points, label),
        region_type=region_type or granularity or "text",
        confidence=confidence(own.get("confidence"), label),
        text=text,
        source_image=source,
        parent=block,
    )


def _own_str(body: Json, annotation: Json, label: str, key: str) -> str | None:
    """A string property of the body, else of the annotation (None when neither has it)."""
    return (optional_str(body, label, key) if body else None) or optional_str(annotation, label, key)


def _textual_body(annotation: Json) -> Json | None:
    """The first textual body (TextualBody, or Open Annotation text with `chars`), if any."""
    bodies = field(annotation, "body", "resource")
    for body in bodies if isinstance(bodies, list) else [bodies]:
        if isinstance(body, dict) and kind_of(body) in _TEXT_BODIES:
            return body
    return None


def target_shape(target: Any, label: str, image_size: ImageSize | None) -> tuple[list[Point], str | None]:
    """The points a target selects and the image (canvas) it belongs to."""
    if isinstance(target, list):
        if len(target) != 1:
            raise AnnotationError(label, f"annotation has {len(target)} targets; exactly one is supported")
        target = target[0]
    if isinstance(target, str):
        source, _, fragment = target.partition("#")
        return _fragment_or_whole(fragment, label, image_size), source
    target = as_object(target, label, "target")
    if "selector" not in target:
        identifier = field(target, "id", "@id")
        if not isinstance(identifier, str):
            raise AnnotationError(label, "target has neither a selector nor an id")
        return target_shape(identifier, label, image_size)
    source = _identifier(field(target, "source", "full"), label)
    return selector_points(target["selector"], label, image_size), source


def _fragment_or_whole(fragment: str, label: str, image_size: ImageSize | None) -> list[Point]:
    """The `xywh=` box of a target IRI's fragment, or the whole image when there is no fragment."""
    if fragment:
        return xywh_points(fragment, label, image_size)
    if image_size is None:
        raise AnnotationError(label, "target has no selector or #xywh= (a whole-image target needs the size)")
    return rectangle(0, 0, image_size[0], image_size[1], label)


def selector_points(selector: Any, label: str, image_size: ImageSize | None) -> list[Point]:
    """The points of an SvgSelector (preferred: it is the exact shape) or else of a FragmentSelector."""
    found: dict[str, Json] = {}
    for candidate in _selectors(selector, label):
        found.setdefault(kind_of(candidate), candidate)
    if "SvgSelector" in found:
        return svg_points(found["SvgSelector"].get("value"), label)
    if "FragmentSelector" in found:
        return xywh_points(found["FragmentSelector"].get("value"), label, image_size)
    raise AnnotationError(label, f"no SvgSelector or FragmentSelector among selectors {sorted(found)}")


def _selectors(selector: Any, label: str) -> list[Json]:
    """A selector, a list of them or a Choice, flattened (a Choice's `item` before its `default`)."""
    if isinstance(selector, list):
        return [found for part in selector for found in _selectors(part, label)]
    selector = as_object(selector, label, "selector")
    if kind_of(selector) == "Choice":
        choices = (selector.get("item"), selector.get("default"))
        return _selectors([choice for choice in choices if choice is not None], label)
    return [selector]


def xywh_points(fragment: Any, label: str, image_size: ImageSize | None) -> list[Point]:
    """The box of a media fragment `xywh=x,y,w,h`, `xywh=pixel:...` or `xywh=percent:...`."""
    if not isinstance(fragment, str):
        raise AnnotationError(label, "FragmentSelector value is not a string")
    parts = [p for p in fragment.split("&") if p.startswith("xywh=")]
    if len(parts) != 1:
        raise AnnotationError(label, f"fragment {fragment!r} has no single xywh=")
    unit, _, values = parts[0].removeprefix("xywh=").rpartition(":")
    numbers = values.split(",")
    if unit not in ("", "pixel", "percent") or len(numbers) != 4:
        raise AnnotationError(label, f"fragment {fragment!r} is not xywh=[pixel:|percent:]x,y,w,h")
    x, y, w, h = (number(n, label) for n in numbers)
    if unit != "percent":
        return rectangle(x, y, w, h, label)
    if image_size is None:
        raise AnnotationError(label, "percent coordinates need the image size")
    width, height = image_size
    return rectangle(x * width / 100, y * height / 100, w * width / 100, h * height / 100, label)


def _identifier(value: Any, label: str) -> str | None:
    """A resource's IRI, given as a string or as an object with an id."""
    if value is None or isinstance(value, str):
        return value
    identifier = field(as_object(value, label, "source"), "id", "@id")
    if not isinstance(identifier, str):
        raise AnnotationError(label, "target source has no id")
    return identifier
