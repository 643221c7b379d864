"""Outlines of XML layout elements: their own, or else the box around the outlines nested in them.

Real exports leave some containers without coordinates (eScriptorium's ALTO `eSc_dummyblock_`, Kraken's
PAGE lines that have only a Baseline); their lines or words still carry geometry of their own.
"""

from collections.abc import Callable, Sequence

from lxml import etree

from ..polygon_geometry import Ring
from .geometry import bounding_box


def outlines(
    elements: Sequence[etree._Element], own: Callable[[etree._Element], Ring | None]
) -> list[Ring | None]:
    """For each element (in document order): `own(element)`, or else the bounding box of the outlines of the
    listed elements inside it; None when it has neither."""
    found: dict[etree._Element, Ring | None] = {}
    for element in reversed(elements):  # children are met before the elements that hold them
        outline = own(element)
        if outline is None:
            inside = [ring for d in element.iterdescendants() if (ring := found.get(d)) is not None]
            outline = bounding_box(inside) if inside else None
        found[element] = outline
    return [found[element] for element in elements]
