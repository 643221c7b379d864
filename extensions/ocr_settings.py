"""Settings of the OCR extension, read from `IIIF_OCR_*` environment variables (see the README)."""

from dataclasses import dataclass

from iiif_server.env import env_flag, env_float, env_int


@dataclass(frozen=True)
class OCRSettings:
    """Detection input size, default filters, the predictions cache and warm-up."""

    detection_side: int = 1600
    min_confidence: float = 0.5
    min_area: float = 100.0
    cache_size: int = 256
    cache_mb: int = 32
    warm_up: bool = False

    @classmethod
    def from_env(cls) -> "OCRSettings":
        """Read `IIIF_OCR_DETECTION_SIDE`, `IIIF_OCR_MIN_CONFIDENCE`, `IIIF_OCR_MIN_AREA`, ... ."""
        defaults = cls()
        return cls(
            detection_side=env_int("IIIF_OCR_DETECTION_SIDE", defaults.detection_side),
            min_confidence=env_float("IIIF_OCR_MIN_CONFIDENCE", defaults.min_confidence),
            min_area=env_float("IIIF_OCR_MIN_AREA", defaults.min_area),
            cache_size=env_int("IIIF_OCR_CACHE_SIZE", defaults.cache_size),
            cache_mb=env_int("IIIF_OCR_CACHE_MB", defaults.cache_mb),
            warm_up=env_flag("IIIF_OCR_WARM_UP", defaults.warm_up),
        )
