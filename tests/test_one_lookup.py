"""Each request looks its image up once: a tile, a `poly:` image, an `ocr.json` and a `/mask/batch` each
describe the folder image exactly once (the SourceImage is handed down, never looked up again)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixed_models import FixedModels
from starlette.testclient import TestClient

from extensions.masking import masking_extension
from extensions.ocr import ocr_extension
from extensions.ocr_settings import OCRSettings
from iiif_server.app import create_app
from iiif_server.settings import Settings
from iiif_server.sources import FolderSource, SourceImage

LINE = ((20.0, 30.0), (220.0, 30.0), (220.0, 70.0), (20.0, 70.0))
POLYGON = [[60, 40], [330, 60], [300, 250], [80, 220]]


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The identifiers every FolderSource was asked to describe, in order."""
    asked: list[str] = []
    describe = FolderSource.describe

    def counted(self: FolderSource, identifier: str) -> SourceImage:
        asked.append(identifier)
        return describe(self, identifier)

    monkeypatch.setattr(FolderSource, "describe", counted)
    return asked


@pytest.fixture(scope="module")
def client(image_root: Path) -> Iterator[TestClient]:
    extensions = [masking_extension(), ocr_extension(OCRSettings(), FixedModels([LINE]))]
    with TestClient(create_app(Settings(image_root=image_root), extensions)) as test_client:
        yield test_client


BATCH = {"identifier": "grid", "annotations": [{"polygon": POLYGON}, {"polygon": POLYGON, "scale": 0.5}]}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/iiif/3/grid/0,0,256,256/256,/0/default.jpg", None),
        ("GET", "/iiif/3/grid/poly:60,40,330,60,300,250,80,220/max/0/default.png", None),
        ("GET", "/iiif/3/grid/ocr.json", None),
        ("POST", "/mask/batch", {**BATCH, "output_format": "json"}),
    ],
    ids=["tile", "poly", "ocr.json", "batch"],
)
def test_a_request_describes_its_image_once(
    client: TestClient, lookups: list[str], method: str, path: str, body: Any
) -> None:
    response = client.request(method, path, json=body)
    assert response.status_code == 200, response.text
    assert lookups == ["grid"]
