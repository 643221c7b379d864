"""PAGE's ReadingOrder element as one position per region: OCR-D and Kraken write it instead of `custom`."""

from collections.abc import Iterator

from lxml import etree

from .documents import element_label, local_name
from .geometry import number


def reading_positions(page: etree._Element) -> dict[str, str]:
    """Each region id the ReadingOrder names, with its place in it (`"0"`, `"1"`, ...): groups are read depth
    first, an OrderedGroup's members by their `index`, an UnorderedGroup's in document order."""
    order = page.find("{*}ReadingOrder")
    refs = [] if order is None else list(_region_refs(order))
    return {ref: str(position) for position, ref in enumerate(dict.fromkeys(refs))}


def _region_refs(group: etree._Element) -> Iterator[str]:
    """The `regionRef`s inside a group, in reading order."""
    members = [child for child in group if isinstance(child.tag, str)]  # no comments
    if local_name(group).startswith("OrderedGroup"):
        label = element_label(group, "id")
        members.sort(key=lambda member: number(member.get("index", "0"), label, "reading order index"))
    for member in members:
        if member.get("regionRef"):
            yield member.get("regionRef", "")
        yield from _region_refs(member)
