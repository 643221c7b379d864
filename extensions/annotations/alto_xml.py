"""ALTO XML (v2 to v4, any namespace): TextBlock, TextLine and String as Shape/Polygon or HPOS/VPOS boxes.

Coordinates must be pixels (MeasurementUnit `pixel`, or none given). ALTO records no resolution, so `mm10`
and `inch1200` are converted only when `image_size` is given, by scaling the first Page's WIDTH and
HEIGHT onto it; without it they are an AnnotationError.
"""

from lxml import etree

from .documents import DOCUMENT, element_label, load_xml, local_name
from .geometry import confidence, number, points_text, rectangle, ring
from .model import AnnotatedRegion, AnnotationError, ImageSize, Point

_ELEMENTS = ("TextBlock", "TextLine", "String")
_PHYSICAL_UNITS = ("mm10", "inch1200")
_BOX = ("HPOS", "VPOS", "WIDTH", "HEIGHT")


def parse(data: bytes, image_size: ImageSize | None = None) -> list[AnnotatedRegion]:
    """Every text block, line and string in document order."""
    root = load_xml(data)
    if local_name(root) != "alto":
        raise AnnotationError(DOCUMENT, f"root element is {local_name(root)}, not alto")
    scale = _scale(root, image_size)
    image = root.findtext("{*}Description/{*}sourceImageInformation/{*}fileName")
    image = image.strip() if image else None
    return [_region(element, scale, image) for element in root.iter(*(f"{{*}}{name}" for name in _ELEMENTS))]


def _scale(root: etree._Element, image_size: ImageSize | None) -> tuple[float, float]:
    """Pixels per document unit along x and y."""
    unit = (root.findtext("{*}Description/{*}MeasurementUnit") or "pixel").strip()
    if unit == "pixel":
        return (1.0, 1.0)
    if unit not in _PHYSICAL_UNITS:
        raise AnnotationError(DOCUMENT, f"unknown MeasurementUnit {unit!r}")
    page = root.find("{*}Layout/{*}Page")
    if image_size is None or page is None:
        raise AnnotationError(DOCUMENT, f"{unit} coordinates need the image size and a Page size")
    label = element_label(page, "ID")
    width, height = (number(page.get(key), label, f"Page {key}") for key in ("WIDTH", "HEIGHT"))
    if width <= 0 or height <= 0:
        raise AnnotationError(label, f"Page size {width}x{height} has no area")
    return (image_size[0] / width, image_size[1] / height)


def _region(element: etree._Element, scale: tuple[float, float], image: str | None) -> AnnotatedRegion:
    """One TextBlock, TextLine or String."""
    label = element_label(element, "ID")
    return AnnotatedRegion(
        id=label,
        polygon=ring([(x * scale[0], y * scale[1]) for x, y in _points(element, label)], label),
        region_type=local_name(element),
        confidence=confidence(element.get("WC"), label),
        text=_text(element),
        source_image=image,
    )


def _points(element: etree._Element, label: str) -> list[Point]:
    """The Shape/Polygon POINTS when there are some, else the HPOS/VPOS/WIDTH/HEIGHT box."""
    polygon = element.find("{*}Shape/{*}Polygon")
    if polygon is not None:
        return points_text(polygon.get("POINTS", ""), label)
    x, y, width, height = (number(element.get(key), label, key) for key in _BOX)
    return rectangle(x, y, width, height, label)


def _text(element: etree._Element) -> str | None:
    """A String's CONTENT; a line's Strings joined by spaces (a HYP glued on); a block's lines by newlines."""
    kind = local_name(element)
    if kind == "String":
        return element.get("CONTENT")
    if kind == "TextLine":
        text = ""
        for child in element.iterchildren("{*}String", "{*}HYP"):
            glue = " " if text and local_name(child) == "String" else ""
            text += glue + child.get("CONTENT", "")
        return text or None
    lines = [_text(line) for line in element.iterchildren("{*}TextLine")]
    return "\n".join(line or "" for line in lines) or None
