"""Limits of the masking extension (see the README's settings table)."""

from dataclasses import dataclass

from iiif_server.env import Env


@dataclass(frozen=True)
class MaskSettings:
    """Polygon and batch limits, and the memory of the polygon caches (per process)."""

    max_polygon_vertices: int = 10_000
    max_batch_size: int = 1000
    batch_threads: int = 4
    mask_cache_mb: int = 64
    polygon_cache_mb: int = 16

    @classmethod
    def read(cls, env: Env) -> "MaskSettings":
        """Read `IIIF_MAX_POLYGON_VERTICES`, `IIIF_MAX_BATCH_SIZE`, `IIIF_BATCH_THREADS`, `IIIF_MASK_CACHE_MB`
        and `IIIF_POLYGON_CACHE_MB`."""
        defaults = cls()
        return cls(
            max_polygon_vertices=env.integer("IIIF_MAX_POLYGON_VERTICES", defaults.max_polygon_vertices),
            max_batch_size=env.integer("IIIF_MAX_BATCH_SIZE", defaults.max_batch_size),
            batch_threads=env.integer("IIIF_BATCH_THREADS", defaults.batch_threads),
            mask_cache_mb=env.integer("IIIF_MASK_CACHE_MB", defaults.mask_cache_mb),
            polygon_cache_mb=env.integer("IIIF_POLYGON_CACHE_MB", defaults.polygon_cache_mb),
        )
