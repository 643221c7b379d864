"""`pred:` regions are looked up into a polygon before `plan()`, which stays pure geometry (runs no model)."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fixed_models import FixedModels
from polygon_fixtures import write_gradient_images
from starlette.testclient import TestClient

from extensions.ocr import ocr_extension
from extensions.ocr_settings import OCRSettings
from extensions.polygon_region import PolygonRegion
from extensions.predicted_region import PredictedPolygon, PredictedRegion
from iiif_server.app import create_app
from iiif_server.image_request import ImageRequest, looked_up
from iiif_server.plan import plan
from iiif_server.region import Box, ParsedRegion, RegionReference
from iiif_server.rotation import Rotation
from iiif_server.settings import Limits, Settings
from iiif_server.size import Size

LINE = ((20.5, 30.0), (220.0, 30.0), (220.0, 70.2), (20.5, 70.2))


@dataclass
class Lookups:
    """Every (identifier, region id) a test's Stage 1 was asked for."""

    asked: list[tuple[str, str]] = field(default_factory=list)

    async def find(self, identifier: str, region_id: str) -> None:
        self.asked.append((identifier, region_id))


@dataclass(frozen=True)
class NamedLine(RegionReference):
    """A region reference like `pred:`: its lookup gives LINE named by `region_id`."""

    region_id: str

    def lookup(self) -> PredictedPolygon:
        return PredictedPolygon(self.region_id, PolygonRegion((LINE,)))


def request_for(region: ParsedRegion) -> ImageRequest:
    return ImageRequest("page", region, Size("max"), Rotation(), "default", "png")


def test_plan_refuses_a_pred_region_and_runs_no_model() -> None:
    lookups = Lookups()
    region = PredictedRegion("r0001", "page", lookups.find)
    with pytest.raises(TypeError, match=r"plan\(\) takes geometry, not a PredictedRegion"):
        plan(request_for(region), 600, 400, Limits())
    assert lookups.asked == []


def test_a_looked_up_reference_plans_as_its_polygon_named_by_its_id() -> None:
    request = looked_up(request_for(NamedLine("r0001")))
    assert request == request_for(PredictedPolygon("r0001", PolygonRegion((LINE,))))
    result = plan(request, 600, 400, Limits())
    assert result.region.box == Box(20, 30, 200, 41)
    assert result.region.mask is not None
    assert result.canonical_path == "page/pred:r0001/max/0/default.png"


def test_geometry_is_not_looked_up() -> None:
    request = request_for(PolygonRegion((LINE,)))
    assert looked_up(request) is request


@pytest.fixture(scope="module")
def models() -> FixedModels:
    return FixedModels([LINE])


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, models: FixedModels) -> Iterator[TestClient]:
    folder: Path = write_gradient_images(tmp_path_factory.mktemp("pred"))
    app = create_app(Settings(image_root=folder), [ocr_extension(OCRSettings(), registry=models)])
    with TestClient(app) as test_client:
        yield test_client


def test_the_image_route_serves_a_prediction_by_its_id(client: TestClient, models: FixedModels) -> None:
    for _ in range(2):
        response = client.get("/iiif/3/gradient/pred:r0001/max/0/default.png")
        assert response.status_code == 200, response.text
        assert "/iiif/3/gradient/pred:r0001/max/0/default.png>" in response.headers["link"]
        assert (response.headers["content-type"], len(response.content) > 0) == ("image/png", True)
    assert models.detector().calls == 1  # Stage 1 once, then its cached result


def test_an_unknown_prediction_is_404_naming_the_list(client: TestClient) -> None:
    response = client.get("/iiif/3/gradient/pred:r0009/max/0/default.png")
    assert response.status_code == 404
    assert "no predicted region 'r0009'; see /iiif/3/gradient/regions.json" in response.text


def test_image_api_2_serves_and_advertises_predictions(client: TestClient) -> None:
    response = client.get("/iiif/2/gradient/pred:r0001/full/0/default.png")
    assert response.status_code == 200, response.text
    assert "/iiif/2/gradient/pred:r0001/full/0/default.png>" in response.headers["link"]
    assert response.content == client.get("/iiif/3/gradient/pred:r0001/max/0/default.png").content
    (service,) = client.get("/iiif/2/gradient/info.json").json()["service"]
    assert service["@type"] == "PredictedRegionService"
    assert service["regions"] == "http://testserver/iiif/2/gradient/regions.json"
    assert client.get("/iiif/3/gradient/info.json").json()["service"][0]["id"].endswith("#predicted-region")
