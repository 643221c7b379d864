"""The OCR extension: `pred:` regions and the OCR sidecars, on the in-process ONNX models."""

from iiif_server.extension import Extension

from .ocr_settings import OCRSettings
from .ocr_sidecars import OCRSidecars
from .page_reader import PageReader
from .predicted_region import predicted_parser


def ocr_extension(settings: OCRSettings | None = None, registry: object | None = None) -> Extension:
    """Build the extension; the default model registry loads the PP-OCRv4 models lazily."""
    from ocr_onnx import default_registry

    settings = settings or OCRSettings.from_env()
    registry = registry or default_registry()
    if settings.warm_up:
        registry.warm_up()
    reader = PageReader(registry, settings)
    sidecars = OCRSidecars(reader)
    return Extension(
        name="ocr",
        region_syntaxes={"pred:": predicted_parser(reader)},
        sidecars=sidecars.handlers(),
        attach=reader.attach,
        readiness=getattr(registry, "readiness", None),
    )
