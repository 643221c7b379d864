"""ALTO XML (v2 to v4, any namespace): TextBlock, TextLine and String as Shape/Polygon or HPOS/VPOS boxes.

Coordinates must be pixels (MeasurementUnit `pixel`, or none given). ALTO records no resolution, so `mm10`
and `inch1200` are converted only when `image_size` is given, by scaling the first Page's WIDTH and
HEIGHT onto it; without it they are an AnnotationError.

A block or line without coordinates of its own (eScriptorium's `eSc_dummyblock_`) gets the box around the
lines or strings inside it; an element with no outline at all is skipped with a reason, not fatal. The
labels of the tags an element's TAGREFS names (SegmOnto types such as `MainZone` or `DefaultLine:Print`)
become `("structure.type", label)` properties, as PAGE's `custom="structure {type:...}"` does.
"""

from collections.abc import Sequence

from lxml import etree

from iiif_server.numbers import round_half_up

from ..polygon_geometry import Ring, bounds
from .documents import DOCUMENT, element_label, load_xml, local_name
from .geometry import confidence, number, points_text, rectangle, ring
from .layout import (
    NON_TEXT_TYPES,
    STRUCTURE_BLOCK_TYPES,
    XSI,
    blocks,
    format_points,
    pixel_points,
    unused_id,
    xml_bytes,
    xml_id,
)
from .model import AnnotatedRegion, AnnotationError, ImageSize, ParsedRegions, SkippedItem
from .outlines import outlines
from .structure_types import STRUCTURE_TYPE

_ELEMENTS = ("TextBlock", "TextLine", "String")
_STRUCTURE_TAGS = ("OtherTag", "LayoutTag", "StructureTag")
NO_OUTLINE = "no outline: no Shape/Polygon, no HPOS/VPOS/WIDTH/HEIGHT box, and nothing inside it with one"
_PHYSICAL_UNITS = ("mm10", "inch1200")
_BOX = ("HPOS", "VPOS", "WIDTH", "HEIGHT")
ALTO_4 = "http://www.loc.gov/standards/alto/ns-v4#"
Box = tuple[int, int, int, int]
"""HPOS, VPOS, WIDTH, HEIGHT in whole pixels."""


def parse(data: bytes, image_size: ImageSize | None = None) -> ParsedRegions:
    """Every text block, line and string in document order; one without coordinates of its own takes the box
    around the elements inside it (eScriptorium's `eSc_dummyblock_`), and one with none at all is skipped."""
    root = load_xml(data)
    if local_name(root) != "alto":
        raise AnnotationError(DOCUMENT, f"root element is {local_name(root)}, not alto")
    scale = _scale(root, image_size)
    image = root.findtext("{*}Description/{*}sourceImageInformation/{*}fileName")
    image = image.strip() if image else None
    tags = _structure_tags(root)
    elements = list(root.iter(*(f"{{*}}{name}" for name in _ELEMENTS)))
    regions, skipped = [], []
    for element, outline in zip(elements, outlines(elements, lambda e: _own_outline(e, scale)), strict=True):
        label = element_label(element, "ID")
        if outline is None:
            skipped.append(SkippedItem(label, NO_OUTLINE))
        else:
            regions.append(_region(element, label, outline, image, tags))
    return ParsedRegions(regions, skipped)


def _structure_tags(root: etree._Element) -> dict[str, str]:
    """The LABEL of each layout, structure or other tag by ID: the SegmOnto type eScriptorium and Kraken write
    (`MainZone`, `DefaultLine:Handwritten`, `default`)."""
    return {
        tag.get("ID", ""): tag.get("LABEL", "")
        for tag in root.iterfind("{*}Tags/*")
        if local_name(tag) in _STRUCTURE_TAGS and tag.get("ID") and tag.get("LABEL")
    }


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


def _region(
    element: etree._Element, label: str, outline: Ring, image: str | None, tags: dict[str, str]
) -> AnnotatedRegion:
    """One TextBlock, TextLine or String; each tag its TAGREFS names becomes a `structure.type` property."""
    types = [(STRUCTURE_TYPE, tags[ref]) for ref in element.get("TAGREFS", "").split() if ref in tags]
    return AnnotatedRegion(
        id=label,
        polygon=outline,
        region_type=local_name(element),
        confidence=confidence(element.get("WC"), label),
        text=_text(element),
        source_image=image,
        properties=types,
    )


def _own_outline(element: etree._Element, scale: tuple[float, float]) -> Ring | None:
    """The element's Shape/Polygon POINTS, else its HPOS/VPOS/WIDTH/HEIGHT box (all four needed once one is
    given), in pixels; None when it has neither."""
    label = element_label(element, "ID")
    polygon = element.find("{*}Shape/{*}Polygon")
    if polygon is not None and polygon.get("POINTS", "").strip():
        points = points_text(polygon.get("POINTS", ""), label)
    elif any(element.get(key) is not None for key in _BOX):
        x, y, width, height = (number(element.get(key), label, key) for key in _BOX)
        points = rectangle(x, y, width, height, label)
    else:
        return None
    return ring([(x * scale[0], y * scale[1]) for x, y in points], label)


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


def serialize(regions: Sequence[AnnotatedRegion], image_filename: str, image_size: ImageSize) -> bytes:
    """ALTO v4 in pixels: TextBlocks of TextLines as `layout.blocks` groups them (a typed block naming its
    type's StructureTag in TAGREFS), non-text blocks (figures) as Illustrations with their TYPE; one String
    per word, with the line's confidence as WC (lines have none in ALTO) and an estimated box (see
    `_word_spans`)."""
    root = etree.Element(f"{{{ALTO_4}}}alto", nsmap={None: ALTO_4, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{ALTO_4} http://www.loc.gov/standards/alto/v4/alto-4-2.xsd")
    description = _child(root, "Description")
    _child(description, "MeasurementUnit").text = "pixel"
    _child(_child(description, "sourceImageInformation"), "fileName").text = image_filename
    _block_tags(root, regions)
    width, height = (str(side) for side in image_size)
    page = _child(
        _child(root, "Layout"),
        "Page",
        ID=unused_id("page", regions),
        PHYSICAL_IMG_NR="1",
        WIDTH=width,
        HEIGHT=height,
    )
    space = _child(page, "PrintSpace", HPOS="0", VPOS="0", WIDTH=width, HEIGHT=height)
    for block in blocks(regions):
        if block.region.region_type in NON_TEXT_TYPES:
            _shaped(space, "Illustration", block.region, image_size)[0].set("TYPE", block.region.region_type)
            continue
        text_block, _ = _shaped(space, "TextBlock", block.region, image_size)
        if block.region.region_type in STRUCTURE_BLOCK_TYPES:
            text_block.set("TAGREFS", _tag_id(block.region.region_type))
        for line in block.lines:
            _strings(*_shaped(text_block, "TextLine", line, image_size), line)
    return xml_bytes(root)


def _block_tags(root: etree._Element, regions: Sequence[AnnotatedRegion]) -> None:
    """A StructureTag for each block type of the server's page structure in the document (`paragraph`,
    `title`, …), which the typed TextBlocks name in TAGREFS."""
    types = sorted({r.region_type for r in regions if r.region_type in STRUCTURE_BLOCK_TYPES})
    if types:
        tags = _child(root, "Tags")
        for name in types:
            _child(tags, "StructureTag", ID=_tag_id(name), TYPE="block", LABEL=name)


def _tag_id(region_type: str) -> str:
    return f"BT_{region_type}"


def _child(parent: etree._Element, name: str, **attributes: str) -> etree._Element:
    """A new last child in the ALTO v4 namespace."""
    return etree.SubElement(parent, f"{{{ALTO_4}}}{name}", attributes)


def _shaped(
    parent: etree._Element, name: str, region: AnnotatedRegion, size: ImageSize
) -> tuple[etree._Element, Box]:
    """A TextBlock or TextLine with ID, the polygon's bounding box and its Shape/Polygon; and that box."""
    points = pixel_points(region, size)
    x0, y0, x1, y1 = bounds(points)
    box = (x0, y0, x1 - x0, y1 - y0)
    element = _child(parent, name, ID=xml_id(region.id), **dict(zip(_BOX, map(str, box), strict=True)))
    _child(_child(element, "Shape"), "Polygon", POINTS=format_points(points))
    return element, box


def _strings(line: etree._Element, box: Box, region: AnnotatedRegion) -> None:
    """One String per word, SP between them; a line without text gets one empty String (ALTO needs one)."""
    x, y, width, height = box
    words = (region.text or "").split() or [""]
    previous_end: int | None = None
    for word, (start, end) in zip(words, _word_spans(words, x, width), strict=True):
        if previous_end is not None:
            _child(line, "SP", HPOS=str(previous_end), VPOS=str(y), WIDTH=str(max(start - previous_end, 0)))
        string = _child(
            line,
            "String",
            CONTENT=word,
            HPOS=str(start),
            VPOS=str(y),
            WIDTH=str(end - start),
            HEIGHT=str(height),
        )
        if region.confidence is not None:
            string.set("WC", str(region.confidence))
        previous_end = end


def _word_spans(words: Sequence[str], x: int, width: int) -> list[tuple[int, int]]:
    """Estimated left and right edges of each word: the line's width split in proportion to character counts
    (one space between words); every word is at least a pixel wide."""
    total = len(" ".join(words)) or 1
    spans = []
    first = 0
    for word in words:
        last = first + (len(word) or 1)
        start = x + round_half_up(width * first / total)
        spans.append((start, max(x + round_half_up(width * last / total), start + 1)))
        first = last + 1
    return spans
