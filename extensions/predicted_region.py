"""The `pred:{region_id}` region syntax: a region the detector predicted, masked with its polygon.

Parsing gives a reference (`PredictedRegion`); the image route looks it up (Stage 1, or its cached result)
into plain geometry (`PredictedPolygon`) before `plan()`, which never runs a model."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio.from_thread

from iiif_server.region import RegionReference, ResolvedRegion

from .annotations.model import AnnotatedRegion
from .polygon_region import PolygonRegion

# The predicted line of an image by (identifier, region id), on the event loop (`OCRSidecars.predicted`).
PredictedLookup = Callable[[str, str], Awaitable[AnnotatedRegion]]


@dataclass(frozen=True)
class PredictedPolygon:
    """A predicted region's polygon once looked up: geometry like `poly:`, canonical as `pred:{region_id}`."""

    region_id: str
    polygon: PolygonRegion

    def resolve(self, width: int, height: int) -> ResolvedRegion:
        """The polygon's bounding box with the polygon as the mask."""
        resolved = self.polygon.resolve(width, height)
        return ResolvedRegion(resolved.box, f"pred:{self.region_id}", resolved.mask)


@dataclass(frozen=True)
class PredictedRegion(RegionReference):
    """`pred:{region_id}` of one image as parsed: a name, not geometry yet."""

    region_id: str
    identifier: str
    find: PredictedLookup

    def lookup(self) -> PredictedPolygon:
        """The predicted polygon (running Stage 1 unless its result is cached); 404 for an unknown id."""
        region = anyio.from_thread.run(self.find, self.identifier, self.region_id)  # from a worker thread
        return PredictedPolygon(self.region_id, PolygonRegion((region.polygon,)))


def predicted_parser(find: PredictedLookup):
    """A parser for the text after `pred:`."""

    def parse(text: str, identifier: str) -> PredictedRegion:
        return PredictedRegion(text, identifier, find)

    return parse
