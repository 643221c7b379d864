"""The masking extension: the `poly:` region syntax, its info.json service and `POST /mask/batch`."""

from typing import Any

from starlette.routing import Route

from iiif_server.extension import Extension, RegionSyntax
from iiif_server.route_label import LabelledRoute, RouteLabel

from .batch import MaskBatchEndpoint
from .mask_settings import MaskSettings
from .polygon_mask import MASK_RASTERS
from .polygon_region import RESOLVED_POLYGONS, polygon_parser

POLYGON_PROFILE = "https://iiif-mask-server.example.org/profiles/polygon-region/1.0"
POLYGON_REGIONS = RouteLabel("masked", heavy=True)
BATCH = RouteLabel("batch", group="batch", heavy=True)  # IIIF_PROTECT=batch


def polygon_service(service_id: str) -> list[dict[str, Any]]:
    """The info.json `service` entry that advertises the polygon region syntax."""
    return [
        {
            "id": f"{service_id}#polygon-region",
            "type": "PolygonRegionService",
            "profile": POLYGON_PROFILE,
            "regionSyntax": ["poly:x1,y1,x2,y2,x3,y3[,...][;ring...]", "poly:pct:x1,y1,..."],
            "outside": "transparent for png/webp/tif/gif; ?bg=RRGGBB fill (white by default) for jpg",
        }
    ]


def masking_extension(settings: MaskSettings | None = None) -> Extension:
    """Build the extension with its limits (the defaults unless given)."""
    settings = settings or MaskSettings()
    MASK_RASTERS.resize(settings.mask_cache_mb << 20)  # process-wide, as libvips' own cache
    RESOLVED_POLYGONS.resize(settings.polygon_cache_mb << 20)
    batch = MaskBatchEndpoint(settings)
    return Extension(
        name="masking",
        region_syntaxes={
            "poly:": RegionSyntax(polygon_parser(settings.max_polygon_vertices), POLYGON_REGIONS)
        },
        info_services=polygon_service,
        # A bound method: Starlette would call a plain callable instance as a raw ASGI app.
        routes=[LabelledRoute(Route("/mask/batch", batch.__call__, methods=["POST"]), BATCH)],
        attach=batch.attach,
    )
