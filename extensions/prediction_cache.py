"""Predicted regions by page version and model: in this process (hot, bounded by IIIF_OCR_CACHE_MB) and in the
app's shared predictions cache (Redis when configured), so every server process reads a page once."""

import json
from dataclasses import asdict
from typing import Any

from iiif_server.byte_cache import ByteBoundedCache
from iiif_server.cache import NamedCache
from iiif_server.sources import SourceImage

from .annotations.model import AnnotatedRegion

PredictionKey = tuple[str, ...]


def prediction_key(stage: str, source: SourceImage, *models: Any) -> PredictionKey:
    """The key of one stage's result on one image version (a file's mtime, an upstream info.json's digest)
    with the given models' manifests (each one's `key`: name, version, allowed charset)."""
    return (stage, str(source.path), source.version, *(model.key for model in models))


def regions_bytes(regions: list[AnnotatedRegion]) -> int:
    """An estimate of the memory of predicted regions: ~112 bytes a vertex, their text and a fixed part."""
    return sum(256 + 112 * len(region.polygon) + len(region.text or "") for region in regions)


def region_from(entry: dict[str, Any]) -> AnnotatedRegion:
    """An AnnotatedRegion back from its JSON form in the shared cache."""
    return AnnotatedRegion(**{**entry, "polygon": tuple((x, y) for x, y in entry["polygon"])})


class PredictionCache:
    """The hot cache in front of the shared one; blocking (the shared one may be Redis)."""

    def __init__(self, max_bytes: int, max_items: int, shared: NamedCache | None = None) -> None:
        self.hot: ByteBoundedCache[PredictionKey, list[AnnotatedRegion]] = ByteBoundedCache(
            max_bytes, regions_bytes, max_items=max_items
        )
        self.shared = shared

    def get(self, key: PredictionKey) -> list[AnnotatedRegion] | None:
        """What was predicted under `key` here or by another process, else None."""
        found = self.hot.get(key)
        if found is not None:
            return found
        stored = self.shared.get(repr(key)) if self.shared else None
        if stored is None:
            return None
        found = [region_from(entry) for entry in json.loads(stored)]
        self.hot.put(key, found)
        return found

    def put(self, key: PredictionKey, regions: list[AnnotatedRegion]) -> None:
        """Keep a prediction here and share it."""
        self.hot.put(key, regions)
        if self.shared:
            self.shared.set(repr(key), json.dumps([asdict(r) for r in regions]).encode())
