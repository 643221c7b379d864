"""Settings of the OCR extension, read from `IIIF_OCR_*` environment variables (see the README)."""

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class OCRSettings:
    """Detection input size, default filters, the predictions cache and warm-up."""

    detection_side: int = 1600
    min_confidence: float = 0.5
    min_area: float = 100.0
    cache_size: int = 256
    warm_up: bool = False

    @classmethod
    def from_env(cls) -> "OCRSettings":
        """Read `IIIF_OCR_DETECTION_SIDE`, `IIIF_OCR_MIN_CONFIDENCE`, `IIIF_OCR_MIN_AREA`, ... ."""
        defaults = cls()
        env = os.environ.get
        return cls(
            detection_side=int(env("IIIF_OCR_DETECTION_SIDE") or defaults.detection_side),
            min_confidence=float(env("IIIF_OCR_MIN_CONFIDENCE") or defaults.min_confidence),
            min_area=float(env("IIIF_OCR_MIN_AREA") or defaults.min_area),
            cache_size=int(env("IIIF_OCR_CACHE_SIZE") or defaults.cache_size),
            warm_up=(env("IIIF_OCR_WARM_UP") or "").lower() in {"1", "true", "yes", "on"},
        )
