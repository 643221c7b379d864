"""Limits of the masking extension, read from `IIIF_*` environment variables (see the README)."""

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class MaskSettings:
    """Polygon and batch limits."""

    max_polygon_vertices: int = 10_000
    max_batch_size: int = 1000
    batch_threads: int = 4

    @classmethod
    def from_env(cls) -> "MaskSettings":
        """Read `IIIF_MAX_POLYGON_VERTICES`, `IIIF_MAX_BATCH_SIZE`, `IIIF_BATCH_THREADS`."""
        defaults = cls()
        return cls(
            max_polygon_vertices=int(
                os.environ.get("IIIF_MAX_POLYGON_VERTICES") or defaults.max_polygon_vertices
            ),
            max_batch_size=int(os.environ.get("IIIF_MAX_BATCH_SIZE") or defaults.max_batch_size),
            batch_threads=int(os.environ.get("IIIF_BATCH_THREADS") or defaults.batch_threads),
        )
