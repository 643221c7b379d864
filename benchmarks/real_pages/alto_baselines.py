"""Each ALTO TextLine's BASELINE, which the annotation parsers do not keep."""

from lxml import etree

from .lines import Point


def read_baselines(data: bytes) -> dict[str, tuple[Point, ...]]:
    """The BASELINE points of every TextLine with an ID and a baseline, by ID; `x y x y …` (eScriptorium)
    and `x,y x,y …` (ALTO 4.2) are both read."""
    root = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    baselines = {}
    for line in root.iter("{*}TextLine"):
        numbers = [float(value) for value in line.get("BASELINE", "").replace(",", " ").split()]
        if line.get("ID") and len(numbers) >= 4:
            baselines[line.get("ID", "")] = tuple(zip(numbers[::2], numbers[1::2], strict=True))
    return baselines
