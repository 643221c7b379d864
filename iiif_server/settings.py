"""Settings of the IIIF core (see the README's settings table), read from the environment through `Env`."""

from dataclasses import dataclass, field, replace
from pathlib import Path

from .cache import CacheSettings
from .env import Env
from .service_settings import ServiceSettings
from .upstream_settings import UpstreamSettings

DEFAULT_IMAGE_ROOT = Path(__file__).resolve().parent.parent / "samples" / "generated"


@dataclass(frozen=True)
class Limits:
    """Size limits advertised in info.json and enforced on every request."""

    max_width: int | None = 12000
    max_height: int | None = 12000
    max_area: int | None = 64_000_000

    def __post_init__(self) -> None:
        """As the specification says, maxHeight defaults to maxWidth."""
        if self.max_width and not self.max_height:
            object.__setattr__(self, "max_height", self.max_width)

    def with_area_at_most(self, area: int | None) -> "Limits":
        """These limits with maxArea lowered to `area` where that is lower (None: unchanged)."""
        if area is None or (self.max_area is not None and self.max_area <= area):
            return self
        return replace(self, max_area=area)


@dataclass(frozen=True)
class Settings:
    """Everything the IIIF core can be told; read from the environment by `read`."""

    image_root: Path = DEFAULT_IMAGE_ROOT
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    limits: Limits = field(default_factory=Limits)
    anonymous_max_area: int | None = 16_000_000
    max_source_pixels: int = 250_000_000
    tile_size: int = 512
    source_cache_size: int = 64
    source_cache_mb: int = 256
    vips_cache_mb: int = 100
    vips_cache_operations: int = 100
    render_cache_mb: int = 64
    render_cache_item_kb: int = 512
    tile_passthrough: bool = True
    decoded_tiles_mb: int = 32
    cache_max_age: int = 86400
    jpeg_quality: int = 85
    webp_quality: int = 80
    public_base_url: str | None = None
    trust_forwarded_headers: bool = False
    pixel_threads: int = 0
    max_url_length: int = 16384
    max_body_mb: int = 16
    upstream: UpstreamSettings = field(default_factory=UpstreamSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    # Not in repr: str(settings) is part of info.json ETags, and access rules do not change the bytes.
    service: ServiceSettings = field(default_factory=ServiceSettings, repr=False)

    @classmethod
    def read(cls, env: Env) -> "Settings":
        """Read the core's `IIIF_*` variables; unset ones keep their defaults."""
        defaults = cls()
        return cls(
            image_root=Path(env.text("IIIF_IMAGE_ROOT") or defaults.image_root).resolve(),
            host=env.text("IIIF_HOST", defaults.host),
            port=env.integer("IIIF_PORT", defaults.port),
            workers=env.integer("IIIF_WORKERS", defaults.workers),
            limits=Limits(
                max_width=env.limit("IIIF_MAX_WIDTH", defaults.limits.max_width),
                max_height=env.limit("IIIF_MAX_HEIGHT", defaults.limits.max_height),
                max_area=env.limit("IIIF_MAX_AREA", defaults.limits.max_area),
            ),
            anonymous_max_area=env.limit("IIIF_ANONYMOUS_MAX_AREA", defaults.anonymous_max_area),
            max_source_pixels=env.integer("IIIF_MAX_SOURCE_PIXELS", defaults.max_source_pixels),
            tile_size=env.integer("IIIF_TILE_SIZE", defaults.tile_size),
            source_cache_size=env.integer("IIIF_SOURCE_CACHE_SIZE", defaults.source_cache_size),
            source_cache_mb=env.integer("IIIF_SOURCE_CACHE_MB", defaults.source_cache_mb),
            vips_cache_mb=env.integer("IIIF_VIPS_CACHE_MB", defaults.vips_cache_mb),
            vips_cache_operations=env.integer("IIIF_VIPS_CACHE_OPERATIONS", defaults.vips_cache_operations),
            render_cache_mb=env.integer("IIIF_RENDER_CACHE_MB", defaults.render_cache_mb),
            render_cache_item_kb=env.integer("IIIF_RENDER_CACHE_ITEM_KB", defaults.render_cache_item_kb),
            tile_passthrough=env.flag("IIIF_TILE_PASSTHROUGH", defaults.tile_passthrough),
            decoded_tiles_mb=env.integer("IIIF_DECODED_TILES_MB", defaults.decoded_tiles_mb),
            cache_max_age=env.integer("IIIF_CACHE_MAX_AGE", defaults.cache_max_age),
            jpeg_quality=env.integer("IIIF_JPEG_QUALITY", defaults.jpeg_quality),
            webp_quality=env.integer("IIIF_WEBP_QUALITY", defaults.webp_quality),
            public_base_url=env.text("IIIF_PUBLIC_BASE_URL").rstrip("/") or None,
            trust_forwarded_headers=env.flag(
                "IIIF_TRUST_FORWARDED_HEADERS", defaults.trust_forwarded_headers
            ),
            pixel_threads=env.integer("IIIF_PIXEL_THREADS", defaults.pixel_threads),
            max_url_length=env.integer("IIIF_MAX_URL_LENGTH", defaults.max_url_length),
            max_body_mb=env.integer("IIIF_MAX_BODY_MB", defaults.max_body_mb),
            upstream=UpstreamSettings.read(env),
            cache=CacheSettings.read(env),
            service=ServiceSettings.read(env),
        )
