"""Server settings, read once from environment variables (see the README's settings table)."""

import os
from dataclasses import dataclass, field
from pathlib import Path

from .cache import CacheSettings
from .upstream_settings import UpstreamSettings

DEFAULT_IMAGE_ROOT = Path(__file__).resolve().parent.parent / "samples" / "generated"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw.strip() else default


def _optional_int(name: str, default: int | None) -> int | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    value = int(raw)
    return value if value > 0 else None


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    return default if not raw else raw in {"1", "true", "yes", "on"}


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


@dataclass(frozen=True)
class Settings:
    """Everything the server can be told; built from the environment by `from_env`."""

    image_root: Path = DEFAULT_IMAGE_ROOT
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    limits: Limits = field(default_factory=Limits)
    max_source_pixels: int = 1_000_000_000
    tile_size: int = 512
    source_cache_size: int = 64
    cache_max_age: int = 86400
    jpeg_quality: int = 85
    webp_quality: int = 80
    public_base_url: str | None = None
    trust_forwarded_headers: bool = False
    pixel_threads: int = 0
    max_url_length: int = 16384
    upstream: UpstreamSettings = field(default_factory=UpstreamSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)

    @classmethod
    def from_env(cls) -> "Settings":
        """Read `IIIF_*` environment variables; unset ones keep their defaults."""
        defaults = cls()
        base = os.environ.get("IIIF_PUBLIC_BASE_URL", "").strip().rstrip("/")
        return cls(
            image_root=Path(os.environ.get("IIIF_IMAGE_ROOT") or defaults.image_root).resolve(),
            host=os.environ.get("IIIF_HOST") or defaults.host,
            port=_int("IIIF_PORT", defaults.port),
            workers=_int("IIIF_WORKERS", defaults.workers),
            limits=Limits(
                max_width=_optional_int("IIIF_MAX_WIDTH", defaults.limits.max_width),
                max_height=_optional_int("IIIF_MAX_HEIGHT", defaults.limits.max_height),
                max_area=_optional_int("IIIF_MAX_AREA", defaults.limits.max_area),
            ),
            max_source_pixels=_int("IIIF_MAX_SOURCE_PIXELS", defaults.max_source_pixels),
            tile_size=_int("IIIF_TILE_SIZE", defaults.tile_size),
            source_cache_size=_int("IIIF_SOURCE_CACHE_SIZE", defaults.source_cache_size),
            cache_max_age=_int("IIIF_CACHE_MAX_AGE", defaults.cache_max_age),
            jpeg_quality=_int("IIIF_JPEG_QUALITY", defaults.jpeg_quality),
            webp_quality=_int("IIIF_WEBP_QUALITY", defaults.webp_quality),
            public_base_url=base or None,
            trust_forwarded_headers=_flag("IIIF_TRUST_FORWARDED_HEADERS", defaults.trust_forwarded_headers),
            pixel_threads=_int("IIIF_PIXEL_THREADS", defaults.pixel_threads),
            max_url_length=_int("IIIF_MAX_URL_LENGTH", defaults.max_url_length),
            upstream=UpstreamSettings.from_env(),
            cache=CacheSettings.from_env(),
        )
