"""Settings of the OCR extension: the `IIIF_OCR_*` variables (see the README)."""

from dataclasses import dataclass

from iiif_server.env import Env


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
    def read(cls, env: Env) -> "OCRSettings":
        """Read `IIIF_OCR_DETECTION_SIDE`, `IIIF_OCR_MIN_CONFIDENCE`, `IIIF_OCR_MIN_AREA`, ... ."""
        defaults = cls()
        return cls(
            detection_side=env.integer("IIIF_OCR_DETECTION_SIDE", defaults.detection_side),
            min_confidence=env.decimal("IIIF_OCR_MIN_CONFIDENCE", defaults.min_confidence),
            min_area=env.decimal("IIIF_OCR_MIN_AREA", defaults.min_area),
            cache_size=env.integer("IIIF_OCR_CACHE_SIZE", defaults.cache_size),
            cache_mb=env.integer("IIIF_OCR_CACHE_MB", defaults.cache_mb),
            warm_up=env.flag("IIIF_OCR_WARM_UP", defaults.warm_up),
        )
