"""Which annotation format a document is in, and parsing it with that format's module."""

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from . import alto_xml, custom_json, iiif, page_xml, w3c
from .documents import DOCUMENT, load_json, xml_root_name
from .json_fields import kind_of
from .model import AnnotationError, ImageSize, ParsedRegions

Parser = Callable[[bytes, ImageSize | None], ParsedRegions]

PARSERS: Mapping[str, Parser] = {
    "page_xml": page_xml.parse,
    "alto_xml": alto_xml.parse,
    "w3c": w3c.parse,
    "iiif": iiif.parse,
    "custom_json": custom_json.parse,
}
_XML_ROOTS = {"PcGts": "page_xml", "alto": "alto_xml"}
_IIIF_TYPES = ("AnnotationPage", "AnnotationList")
_W3C_TYPES = ("Annotation", "AnnotationCollection")


def detect_format(data: bytes) -> str:
    """The key in PARSERS for the document: by XML root element, or by JSON keys, `type` and `@context`."""
    start = data.removeprefix(b"\xef\xbb\xbf").lstrip()[:1]
    if start == b"<":
        root = xml_root_name(data)
        if root not in _XML_ROOTS:
            raise AnnotationError(DOCUMENT, f"unknown XML root element {root!r}; expected PcGts or alto")
        return _XML_ROOTS[root]
    if start in (b"{", b"["):
        return _json_format(load_json(data))
    raise AnnotationError(DOCUMENT, "not an XML or JSON document")


def _json_format(document: Any) -> str:
    """custom_json has `regions`; IIIF has its context or a page type; W3C has its context or types."""
    if isinstance(document, list):
        return "w3c"
    if not isinstance(document, dict):
        raise AnnotationError(DOCUMENT, "JSON document is neither an object nor a list")
    context = str(document.get("@context", ""))
    if "regions" in document:
        return "custom_json"
    if "iiif.io/api/presentation" in context or kind_of(document) in _IIIF_TYPES:
        return "iiif"
    if "w3.org/ns/anno" in context or kind_of(document) in _W3C_TYPES:
        return "w3c"
    raise AnnotationError(DOCUMENT, "unknown JSON format: no regions, and no annotation type or @context")


def parse_annotations(data: bytes, image_size: ImageSize | None = None) -> ParsedRegions:
    """The regions of a document in any supported format, and the elements it skipped (no outline at all);
    `image_size` resolves percent coordinates."""
    return PARSERS[detect_format(data)](data, image_size)


def load_annotations(path: Path, image_size: ImageSize | None = None) -> ParsedRegions:
    """The regions of an annotation file; an unreadable file is an AnnotationError naming the path."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise AnnotationError(str(path), error.strerror or str(error)) from None
    return parse_annotations(data, image_size)
