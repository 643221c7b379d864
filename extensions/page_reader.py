"""Stage 1 and Stage 2 on a served page: predicted line polygons with stable ids, and their text, cached."""

import itertools
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from typing import Any

import numpy as np
from shapely.geometry import Polygon
from shapely.ops import unary_union

from iiif_server.byte_cache import ByteBoundedCache
from iiif_server.cache import Caches, NamedCache
from iiif_server.errors import IIIFError
from iiif_server.pipeline import cut_and_scale
from iiif_server.pixel_errors import reading_pixels
from iiif_server.region import Box
from iiif_server.sources import FolderSource, SourceImage

from .annotations.model import AnnotatedRegion
from .line_crops import cut_line, to_array
from .ocr_settings import OCRSettings

TILE_OVERLAP = 0.25
"""Share of a detection tile that its neighbour covers too: more than a line is tall, so each line lies whole
in some tile, and the pieces of a line cut by a tile's edge overlap."""


def regions_bytes(regions: list[AnnotatedRegion]) -> int:
    """An estimate of the memory of predicted regions: ~112 bytes a vertex, their text and a fixed part."""
    return sum(256 + 112 * len(region.polygon) + len(region.text or "") for region in regions)


def region_ids(count: int) -> list[str]:
    """`r0001`, `r0002`, ...: stable for a given image and model, in the detector's reading order."""
    return [f"r{index:04d}" for index in range(1, count + 1)]


class PageReader:
    """Runs the models on pages of a FolderSource; results are cached per file version and model, in this
    process (hot) and in the app's shared predictions cache (Redis when configured).

    The app hands over its FolderSource and Caches when it is built (`attach`).
    """

    source: FolderSource

    def __init__(self, registry: Any, settings: OCRSettings) -> None:
        self.registry = registry
        self.settings = settings
        self._cache: ByteBoundedCache[tuple[Any, ...], list[AnnotatedRegion]] = ByteBoundedCache(
            settings.cache_mb << 20, regions_bytes, max_items=settings.cache_size
        )
        self.shared: NamedCache | None = None

    def attach(self, source: FolderSource, caches: Caches | None = None) -> None:
        """Read pages from the app's image source; share predictions through its caches."""
        self.source = source
        self.shared = caches.predictions if caches else None

    def _cached(
        self, key: tuple[Any, ...], compute: Callable[[], list[AnnotatedRegion]]
    ) -> list[AnnotatedRegion]:
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        stored = self.shared.get(repr(key)) if self.shared else None
        if stored is not None:
            hit = [_region_from(entry) for entry in json.loads(stored)]
        else:
            hit = compute()
            if self.shared:
                self.shared.set(repr(key), json.dumps([asdict(r) for r in hit]).encode())
        self._cache.put(key, hit)
        return hit

    def filters(self, min_confidence: float | None, min_area: float | None) -> tuple[float, float]:
        """The request's filters, or the settings' defaults."""
        return (
            self.settings.min_confidence if min_confidence is None else min_confidence,
            self.settings.min_area if min_area is None else min_area,
        )

    def regions(
        self, identifier: str, min_confidence: float | None = None, min_area: float | None = None
    ) -> list[AnnotatedRegion]:
        """Stage 1: the page's text-line polygons in full-image pixels, with ids and confidences."""
        source = self.source.describe(identifier)
        min_confidence, min_area = self.filters(min_confidence, min_area)
        detector = self.registry.detector()
        key = ("regions", source.path, source.mtime, detector.manifest.name, detector.manifest.version)
        found = self._cached(key, lambda: self._detect(source, identifier))
        return [r for r in found if (r.confidence or 0) >= min_confidence and _area(r) >= min_area]

    def _detect(self, source: SourceImage, identifier: str) -> list[AnnotatedRegion]:
        side = self.settings.detection_side
        scale = min(1.0, side / max(source.width, source.height))
        out_w, out_h = max(1, round(source.width * scale)), max(1, round(source.height * scale))
        with reading_pixels(source.path):
            page = cut_and_scale(source, self.source, Box(0, 0, source.width, source.height), out_w, out_h)
            if page.hasalpha():
                page = page.flatten(background=[255] * (page.bands - 1))
            pixels = to_array(page)
        detector = self.registry.detector()
        detected = detect_tiled(detector, pixels, detector.manifest.input_size)
        sx, sy = source.width / out_w, source.height / out_h
        return [
            AnnotatedRegion(
                id=region_id,
                polygon=tuple((x * sx, y * sy) for x, y in d.polygon),
                region_type=d.region_type,
                confidence=round(float(d.confidence), 4),
                source_image=identifier,
            )
            for region_id, d in zip(region_ids(len(detected)), detected, strict=True)
        ]

    def region(self, identifier: str, region_id: str) -> AnnotatedRegion:
        """One predicted region by id (unfiltered); 404 naming the list URL when there is none."""
        for region in self.regions(identifier, 0.0, 0.0):
            if region.id == region_id:
                return region
        raise IIIFError(
            404, f"no predicted region {region_id!r}; see /iiif/3/{identifier}/regions.json", "region"
        )

    def read_page(
        self, identifier: str, min_confidence: float | None = None, min_area: float | None = None
    ) -> list[AnnotatedRegion]:
        """Stage 2 on every predicted line: the regions with `text` and the text's confidence."""
        source = self.source.describe(identifier)
        models = (self.registry.detector().manifest, self.registry.recognizer().manifest)
        key = ("text", source.path, source.mtime, *((m.name, m.version) for m in models))
        lines = self.regions(identifier, 0.0, 0.0)
        read = self._cached(key, lambda: self.read_polygons(source, lines))
        keep = {r.id for r in self.regions(identifier, min_confidence, min_area)}
        return [r for r in read if r.id in keep]

    def read_crop(self, crop: np.ndarray) -> tuple[str, float]:
        """Text of any region crop: its lines are detected, read top to bottom and joined by newlines."""
        detected = self.registry.detector().detect(crop, min_confidence=self.settings.min_confidence)
        pieces = [crop[y0:y1, x0:x1] for x0, y0, x1, y1 in (_pixel_bounds(d.polygon, crop) for d in detected)]
        pieces = [p for p in pieces if p.size] or [crop]
        results = self.registry.recognizer().recognize(pieces)
        text = "\n".join(r.text for r in results if r.text)
        confidence = float(np.mean([r.confidence for r in results])) if results else 0.0
        return text, round(confidence, 4)

    def line_crop(self, source: SourceImage, line: AnnotatedRegion) -> np.ndarray:
        """A line cut as the recogniser's manifest says (mask, fill, deskew, height)."""
        recipe = self.registry.recognizer().manifest.crop
        return cut_line(
            source,
            self.source,
            line.polygon,
            _bounds(line),
            recipe.target_height,
            recipe.mask_polygon,
            recipe.deskew,
            recipe.background,
        )

    def read_polygons(self, source: SourceImage, lines: list[AnnotatedRegion]) -> list[AnnotatedRegion]:
        """Recognise each line from its masked, deskewed crop (batched in one call)."""
        with reading_pixels(source.path):
            crops = [self.line_crop(source, line) for line in lines]
        results = self.registry.recognizer().recognize(crops) if crops else []
        return [
            replace(line, text=result.text, confidence=round(float(result.confidence), 4))
            for line, result in zip(lines, results, strict=True)
        ]

    def read_predicted(self, identifier: str, region_id: str) -> tuple[str, float]:
        """The text of one predicted line."""
        line = self.region(identifier, region_id)
        read = self.read_polygons(self.source.describe(identifier), [line])[0]
        return read.text or "", read.confidence or 0.0


def _region_from(entry: dict[str, Any]) -> AnnotatedRegion:
    """An AnnotatedRegion back from its JSON form in the shared cache."""
    return AnnotatedRegion(**{**entry, "polygon": tuple((x, y) for x, y in entry["polygon"])})


def detect_tiled(detector: Any, page: np.ndarray, tile: int) -> list[Any]:
    """All the detector's regions of `page`, in reading order. A page larger than the detector's input (`tile`
    pixels a side) is read tile by tile at its own resolution (shrunk whole, lines a few pixels tall fall
    apart into words); the pieces of one line that neighbouring tiles found are joined."""
    height, width = page.shape[:2]
    if max(height, width) <= tile:
        return detector.detect(page, min_confidence=0.0, min_area=0.0)
    pieces = []
    tiles = itertools.product(_spans(height, tile), _spans(width, tile))
    for number, ((top, tile_height), (left, tile_width)) in enumerate(tiles):
        window = page[top : top + tile_height, left : left + tile_width]
        for found in detector.detect(window, min_confidence=0.0, min_area=0.0):
            moved = tuple((x + left, y + top) for x, y in found.polygon)
            pieces.append((number, replace(found, polygon=moved)))
    return _reading_order([_joined(group) for group in _same_lines(pieces)])


def _spans(length: int, tile: int) -> list[tuple[int, int]]:
    """Offsets and lengths of the fewest equal tiles (at most `tile` long) covering `length`, evenly spread,
    neighbours overlapping by at least `TILE_OVERLAP` of `tile`."""
    if length <= tile:
        return [(0, length)]
    overlap = round(tile * TILE_OVERLAP)
    count = math.ceil((length - overlap) / (tile - overlap))
    size = min(tile, math.ceil((length + (count - 1) * overlap) / count))
    return [(round(index * (length - size) / (count - 1)), size) for index in range(count)]


def _same_lines(pieces: Sequence[tuple[int, Any]]) -> list[list[Any]]:
    """Pieces grouped by line: two pieces from different tiles are one line when their boxes overlap across
    and share more than half the height of the shorter one."""
    boxes = [_box(found.polygon) for _, found in pieces]
    parent = list(range(len(pieces)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    order = sorted(range(len(pieces)), key=lambda index: boxes[index][1])
    for position, a in enumerate(order):
        ax0, ay0, ax1, ay1 = boxes[a]
        for b in order[position + 1 :]:
            bx0, by0, bx1, by1 = boxes[b]
            if by0 >= ay1:
                break
            across = bx0 <= ax1 and ax0 <= bx1
            shared = min(ay1, by1) - by0
            if pieces[a][0] != pieces[b][0] and across and shared > 0.5 * min(ay1 - ay0, by1 - by0):
                parent[root(b)] = root(a)
    groups: dict[int, list[Any]] = {}
    for index, (_, found) in enumerate(pieces):
        groups.setdefault(root(index), []).append(found)
    return list(groups.values())


def _joined(group: list[Any]) -> Any:
    """One region from the pieces of a line: their union (its hull if they do not touch), the confidence
    their area-weighted mean."""
    if len(group) == 1:
        return group[0]
    shapes = [Polygon(found.polygon) for found in group]
    union = unary_union(shapes)
    outline = union if isinstance(union, Polygon) else union.convex_hull
    areas = [shape.area for shape in shapes]
    confidence = sum(f.confidence * a for f, a in zip(group, areas, strict=True)) / max(sum(areas), 1e-9)
    polygon = tuple((round(x, 2), round(y, 2)) for x, y in outline.exterior.coords[:-1])
    return replace(group[0], polygon=polygon, confidence=round(confidence, 4))


def _reading_order(found: list[Any]) -> list[Any]:
    """The detector's order: rows top to bottom (a region joins a row when its vertical centre lies within the
    row's first region), each row left to right."""
    rows: list[list[Any]] = []
    for region in sorted(found, key=lambda region: _box(region.polygon)[1]):
        _, top, _, bottom = _box(region.polygon)
        if rows and _box(rows[-1][0].polygon)[1] <= (top + bottom) / 2 <= _box(rows[-1][0].polygon)[3]:
            rows[-1].append(region)
        else:
            rows.append([region])
    return [region for row in rows for region in sorted(row, key=lambda region: _box(region.polygon)[0])]


def _box(polygon: Sequence[tuple[float, float]]) -> tuple[float, float, float, float]:
    """x0, y0, x1, y1 of a polygon."""
    xs, ys = np.asarray(polygon).T
    return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())


def _area(region: AnnotatedRegion) -> float:
    xs, ys = np.asarray(region.polygon).T
    return float(abs(np.dot(xs, np.roll(ys, 1)) - np.dot(ys, np.roll(xs, 1))) / 2)


def _pixel_bounds(polygon: tuple[tuple[float, float], ...], crop: np.ndarray) -> tuple[int, int, int, int]:
    """The polygon's bounds as array slices, clipped to the crop."""
    xs, ys = np.asarray(polygon).T
    height, width = crop.shape[:2]
    return (
        max(0, int(xs.min())),
        max(0, int(ys.min())),
        min(width, int(np.ceil(xs.max()))),
        min(height, int(np.ceil(ys.max()))),
    )


def _bounds(region: AnnotatedRegion) -> tuple[int, int, int, int]:
    xs, ys = np.asarray(region.polygon).T
    x0, y0 = int(xs.min()), int(ys.min())
    return x0, y0, max(1, int(np.ceil(xs.max())) - x0), max(1, int(np.ceil(ys.max())) - y0)
