"""PAGE XML (PcGts, any 20xx namespace): TextRegion, TextLine and Word with their Coords and TextEquiv.

Coords are read from `points="x1,y1 x2,y2 ..."` or, in the 2010 schema, from `<Point x y>` children.
The `custom` attribute (`structure {type:caption;} readingOrder {index:0;}`) becomes the region's properties
`("structure.type", "caption"), ("readingOrder.index", "0")`; `\\{};:` and white space in names and values
are written as `\\uXXXX`.
"""

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from lxml import etree

from .documents import DOCUMENT, element_label, load_xml, local_name
from .geometry import confidence, number, points_text, ring
from .layout import XSI, blocks, format_points, pixel_points, xml_bytes, xml_id
from .model import AnnotatedRegion, AnnotationError, ImageSize, Point

_ELEMENTS = ("TextRegion", "TextLine", "Word")
PAGE_2019 = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
_CUSTOM_GROUP = re.compile(r"([^\s{};:]+)\s*\{([^}]*)\}")
_ESCAPED = re.compile(r"\\u([0-9a-fA-F]{4})")
_TO_ESCAPE = re.compile(r"[\\{};:\s]")


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
        properties=parse_custom(element.get("custom", "")),
    )


def parse_custom(custom: str) -> tuple[tuple[str, str], ...]:
    """The `group {key:value; ...}` entries of a `custom` attribute as `("group.key", "value")` pairs;
    text that does not follow that syntax is skipped."""
    found = []
    for group, body in _CUSTOM_GROUP.findall(custom):
        for entry in body.split(";"):
            key, colon, value = entry.partition(":")
            if colon and key.strip():
                found.append((f"{group}.{_unescape(key.strip())}", _unescape(value.strip())))
    return tuple(found)


def format_custom(properties: Sequence[tuple[str, str]]) -> str:
    """Properties as a `custom` attribute, grouped by the part of each key before its first dot."""
    groups: dict[str, list[str]] = {}
    for key, value in properties:
        group, dot, name = key.partition(".")
        if not (dot and group and name) or _TO_ESCAPE.search(group):
            raise AnnotationError(key, "a property key is 'group.name', with no space or {};: in the group")
        groups.setdefault(group, []).append(f"{_escape(name)}:{_escape(value)};")
    return " ".join(f"{group} {{{' '.join(entries)}}}" for group, entries in groups.items())


def _escape(text: str) -> str:
    return _TO_ESCAPE.sub(lambda match: f"\\u{ord(match[0]):04x}", text)


def _unescape(text: str) -> str:
    return _ESCAPED.sub(lambda match: chr(int(match[1], 16)), text)


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


def serialize(
    regions: Sequence[AnnotatedRegion],
    image_filename: str,
    image_size: ImageSize,
    creator: str = "iiif-mask-server",
    created: datetime | None = None,
) -> bytes:
    """A PAGE 2019 document: block regions as TextRegions, the other regions as TextLines grouped into them
    by `layout.blocks`; points are whole pixels within the image. `created` (default now) is the date of
    Created and LastChange; regions' properties become `custom` attributes."""
    root = etree.Element(f"{{{PAGE_2019}}}PcGts", nsmap={None: PAGE_2019, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{PAGE_2019} {PAGE_2019}/pagecontent.xsd")
    metadata = _child(root, "Metadata")
    now = (created or datetime.now(UTC)).isoformat(timespec="seconds")
    for name, value in (("Creator", creator), ("Created", now), ("LastChange", now)):
        _child(metadata, name).text = value
    width, height = image_size
    page = _child(root, "Page", imageFilename=image_filename, imageWidth=str(width), imageHeight=str(height))
    for block in blocks(regions):
        text_region = _shaped(page, "TextRegion", block.region, image_size)
        for line in block.lines:
            _text_equiv(_shaped(text_region, "TextLine", line, image_size), line)
        _text_equiv(text_region, block.region)
    return xml_bytes(root)


def _child(parent: etree._Element, name: str, **attributes: str) -> etree._Element:
    """A new last child in the PAGE 2019 namespace."""
    return etree.SubElement(parent, f"{{{PAGE_2019}}}{name}", attributes)


def _shaped(parent: etree._Element, name: str, region: AnnotatedRegion, size: ImageSize) -> etree._Element:
    """A TextRegion or TextLine with id and Coords; a text-less region's confidence goes on Coords."""
    element = _child(parent, name, id=xml_id(region.id))
    if region.properties:
        element.set("custom", format_custom(region.properties))
    coords = _child(element, "Coords", points=format_points(pixel_points(region, size)))
    if region.text is None and region.confidence is not None:
        coords.set("conf", str(region.confidence))
    return element


def _text_equiv(element: etree._Element, region: AnnotatedRegion) -> None:
    """The region's text and its confidence as a TextEquiv, when it has text."""
    if region.text is None:
        return
    equiv = _child(element, "TextEquiv")
    if region.confidence is not None:
        equiv.set("conf", str(region.confidence))
    _child(equiv, "Unicode").text = region.text
