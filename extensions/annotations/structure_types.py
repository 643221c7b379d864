"""Structure types as eScriptorium, Kraken and Transkribus write them: SegmOnto's `Type:Subtype` names.

ALTO's TAGREFS and PAGE's `custom="structure {type:...}"` or `type` attribute all become the region property
`structure.type`. SegmOnto names zones (`MainZone`, `NumberingZone`) and lines (`DefaultLine`,
`HeadingLine`, eScriptorium's lowercase `default`), with an optional subtype after a colon
(`DefaultLine:Handwritten`, `DefaultLine:Signature`, `DefaultLine:Print`). The type never changes a
region's `region_type`: a TextLine is a text line whatever its structure type, an untyped one included.
"""

from .model import AnnotatedRegion

STRUCTURE_TYPE = "structure.type"


def structure_type_names(region: AnnotatedRegion) -> frozenset[str]:
    """The lowercase names a region's structure types answer to: each whole type and its colon-separated
    parts (`DefaultLine:Handwritten` gives `defaultline:handwritten`, `defaultline`, `handwritten`)."""
    names = set()
    for key, value in region.properties:
        if key == STRUCTURE_TYPE:
            names |= {value.lower(), *value.lower().split(":")}
    return frozenset(name for name in names if name)
