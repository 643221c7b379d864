"""PAGE XML (PcGts, any 20xx namespace): TextRegion, TextLine and Word with their Coords and TextEquiv.

Coords are read from `points="x1,y1 x2,y2 ..."` or, in the 2010 schema, from `<Point x y>` children.
"""

from lxml import etree

from .documents import DOCUMENT, element_label, load_xml, local_name
from .geometry import confidence, number, points_text, ring
from .model import AnnotatedRegion, AnnotationError, ImageSize, Point

_ELEMENTS = ("TextRegion", "TextLine", "Word")


def parse(data: bytes, image_size: ImageSize | None = None) -> list[AnnotatedRegion]:
    """Every text region, line and word in document order; `image_size` is unused (coordinates are pixels)."""
    root = load_xml(data)
    if local_name(root) != "PcGts":
        raise AnnotationError(DOCUMENT, f"root element is {local_name(root)}, not PcGts")
    page = root.find("{*}Page")
    if page is None:
        raise AnnotationError(DOCUMENT, "PcGts has no Page")
    image = page.get("imageFilename")
    return [_region(element, image) for element in page.iter(*(f"{{*}}{name}" for name in _ELEMENTS))]


def _region(element: etree._Element, image: str | None) -> AnnotatedRegion:
    """One TextRegion, TextLine or Word; text and confidence come from its own primary TextEquiv."""
    label = element_label(element, "id")
    equiv = _primary_text_equiv(element, label)
    return AnnotatedRegion(
        id=label,
        polygon=ring(_coords(element, label), label),
        region_type=local_name(element),
        confidence=None if equiv is None else confidence(equiv.get("conf"), label),
        text=None if equiv is None else equiv.findtext("{*}Unicode"),
        source_image=image,
    )


def _coords(element: etree._Element, label: str) -> list[Point]:
    """The points of the element's Coords, from the `points` attribute or `<Point>` children."""
    coords = element.find("{*}Coords")
    if coords is None:
        raise AnnotationError(label, "missing Coords")
    points = coords.get("points")
    if points is not None:
        return points_text(points, label)
    return [
        (number(p.get("x"), label, "x"), number(p.get("y"), label, "y")) for p in coords.iterfind("{*}Point")
    ]


def _primary_text_equiv(element: etree._Element, label: str) -> etree._Element | None:
    """The element's own TextEquiv with the lowest index (PAGE's main reading), if any."""
    equivs = element.findall("{*}TextEquiv")
    if not equivs:
        return None
    return min(equivs, key=lambda equiv: number(equiv.get("index", "0"), label, "TextEquiv index"))
