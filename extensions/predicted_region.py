"""The `pred:{region_id}` region syntax: a region the detector predicted, masked with its polygon."""

from dataclasses import dataclass

from iiif_server.region import ResolvedRegion

from .page_reader import PageReader
from .polygon_region import PolygonRegion


@dataclass(frozen=True)
class PredictedRegion:
    """A predicted region of one image, looked up (running Stage 1 if needed) when resolved."""

    region_id: str
    identifier: str
    reader: PageReader

    def resolve(self, width: int, height: int) -> ResolvedRegion:
        """The predicted polygon's bounding box with the polygon as the mask; 404 for an unknown id."""
        region = self.reader.region(self.identifier, self.region_id)
        resolved = PolygonRegion((region.polygon,)).resolve(width, height)
        return ResolvedRegion(resolved.box, f"pred:{self.region_id}", resolved.mask)


def predicted_parser(reader: PageReader):
    """A parser for the text after `pred:`."""

    def parse(text: str, identifier: str) -> PredictedRegion:
        return PredictedRegion(text, identifier, reader)

    return parse
