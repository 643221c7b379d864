"""The OCR extension: `pred:` regions and the OCR sidecars, on the in-process ONNX models."""

from typing import Any

from iiif_server.extension import Extension, RegionSyntax, Sidecar
from iiif_server.route_label import RouteLabel

from .ocr_settings import OCRSettings
from .ocr_sidecars import OCRSidecars
from .predicted_region import predicted_parser

# Both run the models: the IIIF_PROTECT group `ocr`.
PREDICTED_REGIONS = RouteLabel("masked", group="ocr", heavy=True)
OCR_SIDECARS = RouteLabel("sidecar", group="ocr", heavy=True)


def ocr_extension(settings: OCRSettings | None = None, registry: Any | None = None) -> Extension:
    """Build the extension (default settings unless given); the default model registry loads the PP-OCRv4
    models lazily."""
    from ocr_onnx import default_registry

    settings = settings or OCRSettings()
    registry = registry or default_registry()
    if settings.warm_up:
        registry.warm_up()
    sidecars = OCRSidecars(registry, settings)
    return Extension(
        name="ocr",
        region_syntaxes={"pred:": RegionSyntax(predicted_parser(sidecars.predicted), PREDICTED_REGIONS)},
        sidecars={name: Sidecar(handler, OCR_SIDECARS) for name, handler in sidecars.handlers().items()},
        attach=sidecars.attach,
        readiness=getattr(registry, "readiness", None),
    )
