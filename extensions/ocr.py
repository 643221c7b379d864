"""The OCR extension: `pred:` regions and the OCR sidecars, on the in-process ONNX models."""

from typing import Any
from urllib.parse import quote

from iiif_server.app import PREFIX
from iiif_server.extension import Extension, RegionSyntax, Sidecar
from iiif_server.route_label import RouteLabel

from .ocr_settings import OCRSettings
from .ocr_sidecars import OCRSidecars
from .predicted_region import predicted_parser

# Both run the models: the IIIF_PROTECT group `ocr`.
PREDICTED_REGIONS = RouteLabel("masked", group="ocr", heavy=True)
OCR_SIDECARS = RouteLabel("sidecar", group="ocr", heavy=True)
OCR_DOCUMENTS = ("ocr.json", "ocr.alto.xml", "ocr.page.xml")
PREDICTED_PROFILE = "https://iiif-mask-server.example.org/profiles/predicted-region/1.0"


def predicted_region_service(service_id: str) -> list[dict[str, Any]]:
    """The info.json `service` entry advertising the `pred:` region syntax and where its ids are listed."""
    return [
        {
            "id": f"{service_id}#predicted-region",
            "type": "PredictedRegionService",
            "profile": PREDICTED_PROFILE,
            "regionSyntax": ["pred:{region id}"],
            "regions": f"{service_id}/regions.json",
        }
    ]


def ocr_links(base_url: str, identifier: str) -> list[tuple[str, str]]:
    """The front page's links to an image's OCR outputs (read on first request: the models run then)."""
    service = f"{base_url}{PREFIX}{quote(identifier, safe='')}"
    return [(name, f"{service}/{name}") for name in OCR_DOCUMENTS]


def ocr_extension(settings: OCRSettings | None = None, registry: Any | None = None) -> Extension:
    """Build the extension (default settings unless given); the default model registry loads the PP-OCRv4
    models lazily."""
    from ocr_onnx import default_registry

    settings = settings or OCRSettings()
    registry = registry or default_registry()
    readiness = getattr(registry, "readiness", None)
    if readiness is not None:
        readiness()  # a manifest that cannot be read or names a missing file stops the server here
    if settings.warm_up:
        registry.warm_up()
    sidecars = OCRSidecars(registry, settings)
    return Extension(
        name="ocr",
        region_syntaxes={"pred:": RegionSyntax(predicted_parser(sidecars.predicted), PREDICTED_REGIONS)},
        info_services=predicted_region_service,
        sidecars={name: Sidecar(handler, OCR_SIDECARS) for name, handler in sidecars.handlers().items()},
        attach=sidecars.attach,
        image_links=ocr_links,
        readiness=getattr(registry, "readiness", None),
    )
