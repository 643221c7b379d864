"""Decoding the raw bytes: JSON, and XML with a parser that never fetches or expands entities."""

import io
import json
import re
from typing import Any

from lxml import etree

from .model import AnnotationError

DOCUMENT = "document"
_NAMESPACE = re.compile(r"\{[^}]*\}")


def load_json(data: bytes) -> Any:
    """The decoded JSON value; any decoding failure is an AnnotationError on the whole document."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as error:
        raise AnnotationError(DOCUMENT, f"not valid JSON: {error}") from None


def _parser() -> etree.XMLParser:
    """A parser that resolves no entities, loads no DTD and touches no network."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def load_xml(data: bytes, item: str = DOCUMENT) -> etree._Element:
    """The root element of a well-formed XML document that declares no entities; `item` names it in errors."""
    try:
        root = etree.fromstring(data, _parser())
    except (etree.XMLSyntaxError, ValueError) as error:
        raise AnnotationError(item, f"not well-formed XML: {error}") from None
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise AnnotationError(item, "XML entity declarations are not accepted")
    return root


def xml_root_name(data: bytes) -> str:
    """The local name of the root element, read without parsing the rest of the document."""
    events = etree.iterparse(
        io.BytesIO(data), events=("start",), resolve_entities=False, no_network=True, load_dtd=False
    )
    try:
        for _, element in events:
            return local_name(element)
    except etree.XMLSyntaxError as error:
        raise AnnotationError(DOCUMENT, f"not well-formed XML: {error}") from None
    raise AnnotationError(DOCUMENT, "not well-formed XML: no root element")


def local_name(element: etree._Element) -> str:
    """The tag without its namespace."""
    return etree.QName(element).localname


def element_label(element: etree._Element, id_attribute: str) -> str:
    """The element's id, or else its path from the root with namespaces left out (`Page/TextRegion[2]`)."""
    identifier = element.get(id_attribute)
    if identifier:
        return identifier
    tree = element.getroottree()
    path = _NAMESPACE.sub("", tree.getelementpath(element))
    root = local_name(tree.getroot())
    return root if path == "." else f"{root}/{path}"
