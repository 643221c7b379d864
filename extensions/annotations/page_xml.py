"""PAGE XML (PcGts, any 20xx namespace): TextRegion, TextLine and Word with their Coords and TextEquiv.

Coords are read from `points="x1,y1 x2,y2 ..."` or, in the 2010 schema, from `<Point x y>` children.
The `custom` attribute (`structure {type:caption;} readingOrder {index:0;}`) becomes the region's properties
`("structure.type", "caption"), ("readingOrder.index", "0")`; `\\{};:` and white space in names and values
are written as `\\uXXXX`. A `type` attribute (`heading`) and the region's place in the ReadingOrder element
fill in `structure.type` and `readingOrder.index` where `custom` leaves them out.

An element without Coords (a Kraken line with only a Baseline) gets the box around the elements inside it
that have some; one with no outline at all is skipped with a reason, not fatal.
"""

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from lxml import etree

from ..polygon_geometry import Ring
from .documents import DOCUMENT, element_label, load_xml, local_name
from .geometry import confidence, number, points_text, ring
from .layout import (
    NON_TEXT_TYPES,
    STRUCTURE_BLOCK_TYPES,
    XSI,
    blocks,
    format_points,
    pixel_points,
    xml_bytes,
    xml_id,
)
from .model import AnnotatedRegion, AnnotationError, ImageSize, ParsedRegions, SkippedItem
from .outlines import outlines
from .reading_order import reading_positions
from .structure_types import STRUCTURE_TYPE

_ELEMENTS = ("TextRegion", "TextLine", "Word")
NO_OUTLINE = "no outline: no Coords, and nothing inside it with Coords"
PAGE_2019 = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
_CUSTOM_GROUP = re.compile(r"([^\s{};:]+)\s*\{([^}]*)\}")
_ESCAPED = re.compile(r"\\u([0-9a-fA-F]{4})")
_TO_ESCAPE = re.compile(r"[\\{};:\s]")
TEXT_REGION_TYPES = {
    "paragraph": "paragraph",
    "title": "heading",
    "caption": "caption",
    "header": "header",
    "footer": "footer",
    "reference": "footnote",
}
"""PAGE's TextRegion `@type` of each block type of the server's page structure; other block types (table,
equation) are `other`, their own name in `custom`."""


def parse(data: bytes, image_size: ImageSize | None = None) -> ParsedRegions:
    """Every text region, line and word in document order, nested ones included (TextRegions inside a
    TableRegion); one without Coords takes the box around the elements inside it, and one with none at all is
    skipped. `image_size` is unused (coordinates are pixels)."""
    root = load_xml(data)
    if local_name(root) != "PcGts":
        raise AnnotationError(DOCUMENT, f"root element is {local_name(root)}, not PcGts")
    page = root.find("{*}Page")
    if page is None:
        raise AnnotationError(DOCUMENT, "PcGts has no Page")
    image = page.get("imageFilename")
    positions = reading_positions(page)
    elements = list(page.iter(*(f"{{*}}{name}" for name in _ELEMENTS)))
    regions, skipped = [], []
    for element, outline in zip(elements, outlines(elements, _own_outline), strict=True):
        label = element_label(element, "id")
        if outline is None:
            skipped.append(SkippedItem(label, NO_OUTLINE))
        else:
            regions.append(_region(element, label, outline, image, positions.get(element.get("id", ""))))
    return ParsedRegions(regions, skipped)


def _region(
    element: etree._Element, label: str, outline: Ring, image: str | None, position: str | None
) -> AnnotatedRegion:
    """One TextRegion, TextLine or Word; text and confidence come from its own primary TextEquiv."""
    equiv = _primary_text_equiv(element, label)
    return AnnotatedRegion(
        id=label,
        polygon=outline,
        region_type=local_name(element),
        confidence=None if equiv is None else confidence(equiv.get("conf"), label),
        text=None if equiv is None else equiv.findtext("{*}Unicode"),
        source_image=image,
        properties=_properties(element, position),
    )


def _properties(element: etree._Element, position: str | None) -> tuple[tuple[str, str], ...]:
    """The `custom` attribute's properties; the `type` attribute as `structure.type` and the ReadingOrder
    position as `readingOrder.index` where `custom` does not give them."""
    found = parse_custom(element.get("custom", ""))
    given = {key for key, _ in found}
    implied = ((STRUCTURE_TYPE, element.get("type")), ("readingOrder.index", position))
    return found + tuple((key, value) for key, value in implied if value and key not in given)


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


def _own_outline(element: etree._Element) -> Ring | None:
    """The element's Coords, from the `points` attribute or `<Point>` children; None without any."""
    label = element_label(element, "id")
    coords = element.find("{*}Coords")
    if coords is None:
        return None
    if (coords.get("points") or "").strip():
        return ring(points_text(coords.get("points", ""), label), label)
    points = [
        (number(p.get("x"), label, "x"), number(p.get("y"), label, "y")) for p in coords.iterfind("{*}Point")
    ]
    return ring(points, label) if points else None


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
    """A PAGE 2019 document: block regions as TextRegions (typed: `@type`), the other regions as TextLines
    grouped into them by `layout.blocks`, figures as ImageRegions and other non-text blocks (signatures,
    stamps: `graphic`) as GraphicRegions; points are whole pixels
    within the image. `created` (default now) is the date of Created and LastChange; regions' properties
    become `custom` attributes."""
    root = etree.Element(f"{{{PAGE_2019}}}PcGts", nsmap={None: PAGE_2019, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{PAGE_2019} {PAGE_2019}/pagecontent.xsd")
    metadata = _child(root, "Metadata")
    now = (created or datetime.now(UTC)).isoformat(timespec="seconds")
    for name, value in (("Creator", creator), ("Created", now), ("LastChange", now)):
        _child(metadata, name).text = value
    width, height = image_size
    page = _child(root, "Page", imageFilename=image_filename, imageWidth=str(width), imageHeight=str(height))
    for block in blocks(regions):
        if block.region.region_type in NON_TEXT_TYPES:
            kind = "ImageRegion" if block.region.region_type == "figure" else "GraphicRegion"
            _shaped(page, kind, block.region, image_size)
            continue
        text_region = _shaped(page, "TextRegion", _typed(block.region), image_size)
        if block.region.region_type in STRUCTURE_BLOCK_TYPES:
            text_region.set("type", TEXT_REGION_TYPES.get(block.region.region_type, "other"))
        for line in block.lines:
            _text_equiv(_shaped(text_region, "TextLine", line, image_size), line)
        _text_equiv(text_region, block.region)
    return xml_bytes(root)


def _typed(region: AnnotatedRegion) -> AnnotatedRegion:
    """A block whose type has no PAGE `@type` of its own, with its type as `structure.type` in `custom`."""
    if region.region_type not in STRUCTURE_BLOCK_TYPES or region.region_type in TEXT_REGION_TYPES:
        return region
    return replace(region, properties=((STRUCTURE_TYPE, region.region_type), *region.properties))


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
