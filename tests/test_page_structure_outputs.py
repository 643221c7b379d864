"""The page structure in every output: `regions.json?granularity=`, `pred:b…`, `ocr.json` block annotations,
PAGE TextRegions with their `@type` and TextLines, ALTO TextBlocks and Illustrations; and the layout model's
manifest, which stops the server at start when it does not match its file."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fixed_models import FixedModels
from lxml import etree
from polygon_fixtures import decode, to_vips
from starlette.testclient import TestClient

from extensions.annotations import alto_xml
from extensions.ocr import ocr_extension
from extensions.ocr_settings import OCRSettings
from extensions.polygon_geometry import Bounds, Ring
from iiif_server.app import create_app
from iiif_server.env import Env
from iiif_server.settings import Settings
from ocr_onnx.layout import LayoutDetector
from ocr_onnx.manifest import ManifestError, load_manifest
from ocr_onnx.onnx_settings import MANIFEST_DIR, OnnxSettings
from ocr_onnx.sessions import ModelRegistry, create_session

PAGE = "/iiif/3/columns"


def rect(x0: float, y0: float, x1: float, y1: float) -> Ring:
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


TITLE = rect(100, 40, 700, 80)
LEFT = [rect(60, 140 + 40 * i, 380, 170 + 40 * i) for i in range(5)]
RIGHT = [rect(420, 140 + 40 * i, 740, 170 + 40 * i) for i in range(2)]
IN_FIGURE = rect(450, 300, 560, 325)  # a word the detector found in the picture
CAPTION = rect(420, 400, 740, 430)


@dataclass(frozen=True)
class Found:
    box: Bounds
    region_type: str
    confidence: float = 0.8


LAYOUT = [
    Found((90, 35, 710, 85), "title"),
    Found((420, 250, 740, 390), "figure"),
    Found((410, 395, 750, 435), "caption"),
]


class FixedLayout:
    """A layout model that finds LAYOUT on any page."""

    manifest = type("Manifest", (), {"key": "fixed-layout@1"})()

    def detect(self, image: np.ndarray) -> list[Found]:
        return LAYOUT


class ModelsWithLayout(FixedModels):
    def __init__(self, polygons: list[Ring]) -> None:
        super().__init__(polygons)
        self._layout = FixedLayout()

    def layout(self) -> FixedLayout:
        return self._layout


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder: Path = tmp_path_factory.mktemp("structure")
    page = np.full((500, 800, 3), 255, np.uint8)
    for x0, y0 in (ring[0] for ring in [TITLE, *LEFT, *RIGHT, CAPTION]):
        page[int(y0) + 5 : int(y0) + 25, int(x0) + 5 : int(x0) + 200] = 0
    page[250:390, 420:740] = 128  # the figure
    to_vips(page).write_to_file(str(folder / "columns.png"))
    models = ModelsWithLayout([*RIGHT, IN_FIGURE, CAPTION, TITLE, *LEFT])  # the detector's order is not read
    app = create_app(Settings(image_root=folder), [ocr_extension(OCRSettings(), registry=models)])
    with TestClient(app) as test_client:
        yield test_client


def get_json(client: TestClient, path: str) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.json()


def short(annotation: dict[str, Any]) -> str:
    return annotation["id"].rsplit("/", 1)[1]


def left_edge(annotation: dict[str, Any]) -> int:
    path = annotation["target"]["selector"]["value"]  # <svg …><path d='M{x},{y} L…'/></svg>
    return min(int(point.split(",")[0]) for point in path.split("d='")[1].split("'")[0][1:-2].split(" L"))


def test_lines_are_listed_title_then_left_column_then_right(client: TestClient) -> None:
    items = get_json(client, f"{PAGE}/regions.json")["items"]
    assert [short(item) for item in items] == [f"r{i:04d}" for i in range(1, 10)]
    assert [left_edge(item) for item in items] == [100, *[60] * 5, 420, 420, 420]
    assert all(item["body"]["value"] == "line" and item["body"]["region_type"] == "line" for item in items)
    assert [item["body"]["block"] for item in items] == ["b0001", *["b0002"] * 5, "b0003", "b0003", "b0005"]


def test_blocks_are_listed_with_their_types(client: TestClient) -> None:
    items = get_json(client, f"{PAGE}/regions.json?granularity=block")["items"]
    assert [(short(item), item["body"]["value"]) for item in items] == [
        ("b0001", "title"),
        ("b0002", "paragraph"),
        ("b0003", "paragraph"),
        ("b0004", "figure"),
        ("b0005", "caption"),
    ]
    assert items[3]["seeAlso"][0]["id"].endswith("/pred:b0004/max/0/default.png")


def test_an_unknown_granularity_is_400(client: TestClient) -> None:
    response = client.get(f"{PAGE}/regions.json?granularity=word")
    assert response.status_code == 400
    assert "granularity must be one of line, block" in response.text


def test_a_block_is_a_predicted_region(client: TestClient) -> None:
    response = client.get(f"{PAGE}/pred:b0004/max/0/default.png")
    assert response.status_code == 200, response.text
    pixels = decode(response.content)
    assert pixels.shape[:2] == (140, 320)
    assert np.all(pixels[..., :3] == 128)  # the figure's grey
    assert client.get(f"{PAGE}/pred:b0002/ocr").json()["text"] == "\n".join(["text"] * 5)


def test_ocr_json_holds_text_blocks_each_before_its_lines_and_no_figure(client: TestClient) -> None:
    items = get_json(client, f"{PAGE}/ocr.json")["items"]
    order = [(short(item), item["body"]["textGranularity"]) for item in items]
    assert order == [
        ("b0001", "block"),
        ("r0001", "line"),
        ("b0002", "block"),
        *[(f"r{i:04d}", "line") for i in range(2, 7)],
        ("b0003", "block"),
        ("r0007", "line"),
        ("r0008", "line"),
        ("b0005", "block"),
        ("r0009", "line"),
    ]
    blocks = {short(item): item["body"] for item in items if item["body"]["textGranularity"] == "block"}
    assert blocks["b0002"]["value"] == "\n".join(["text"] * 5)
    assert (blocks["b0001"]["region_type"], blocks["b0005"]["region_type"]) == ("title", "caption")


def test_page_xml_nests_typed_text_regions_and_an_image_region(client: TestClient) -> None:
    root = etree.fromstring(client.get(f"{PAGE}/ocr.page.xml").content)
    regions = [
        (etree.QName(region).localname, region.get("id"), region.get("type"))
        for region in root.find("{*}Page")
        if etree.QName(region).localname in ("TextRegion", "ImageRegion")
    ]
    assert regions == [
        ("TextRegion", "b0001", "heading"),
        ("TextRegion", "b0002", "paragraph"),
        ("TextRegion", "b0003", "paragraph"),
        ("ImageRegion", "b0004", None),
        ("TextRegion", "b0005", "caption"),
    ]
    second = root.find("{*}Page/{*}TextRegion[@id='b0002']")
    assert [line.get("id") for line in second.findall("{*}TextLine")] == [f"r{i:04d}" for i in range(2, 7)]


def test_alto_holds_text_blocks_of_lines_and_an_illustration(client: TestClient) -> None:
    root = etree.fromstring(client.get(f"{PAGE}/ocr.alto.xml").content)
    space = root.find("{*}Layout/{*}Page/{*}PrintSpace")
    found = [(etree.QName(child).localname, child.get("ID"), child.get("TYPE")) for child in space]
    assert found == [
        ("TextBlock", "b0001", None),
        ("TextBlock", "b0002", None),
        ("TextBlock", "b0003", None),
        ("Illustration", "b0004", "figure"),
        ("TextBlock", "b0005", None),
    ]
    assert len(space.findall("{*}TextBlock[@ID='b0002']/{*}TextLine")) == 5
    typed = {r.id: dict(r.properties).get("structure.type") for r in alto_xml.parse(etree.tostring(root))}
    assert [typed[f"b000{i}"] for i in (1, 2, 3, 5)] == ["title", "paragraph", "paragraph", "caption"]


def test_a_page_with_no_text_has_an_empty_structure(tmp_path: Path) -> None:
    to_vips(np.full((100, 100, 3), 255, np.uint8)).write_to_file(str(tmp_path / "blank.png"))
    app = create_app(Settings(image_root=tmp_path), [ocr_extension(OCRSettings(), registry=FixedModels([]))])
    with TestClient(app) as blank:
        for granularity in ("line", "block"):
            assert get_json(blank, f"/iiif/3/blank/regions.json?granularity={granularity}")["items"] == []
        assert get_json(blank, "/iiif/3/blank/ocr.json")["items"] == []
        page = etree.fromstring(blank.get("/iiif/3/blank/ocr.page.xml").content).find("{*}Page")
        assert len(page) == 0


# --- the layout model's manifest ---------------------------------------------------------------------------


def test_the_bundled_layout_model_loads_and_types_regions() -> None:
    manifest = load_manifest(MANIFEST_DIR / "layout_cdla.json")
    detector = LayoutDetector(create_session(manifest, OnnxSettings()), manifest)
    page = np.full((1100, 850, 3), 255, np.uint8)
    for row in range(30):  # a page of text-like bars
        page[100 + 30 * row : 112 + 30 * row, 100:750] = 30
    found = detector.detect(page)
    assert found and {box.region_type for box in found} <= set(manifest.layout.region_types)
    assert all(0 <= b.box[0] < b.box[2] <= 850 and 0 <= b.box[1] < b.box[3] <= 1100 for b in found)


def test_a_layout_model_that_does_not_match_its_manifest_stops_the_server_at_start(tmp_path: Path) -> None:
    raw = json.loads((MANIFEST_DIR / "layout_cdla.json").read_text())
    raw["sha256"] = "0" * 64
    broken = tmp_path / "layout.json"
    broken.write_text(json.dumps(raw))
    registry = ModelRegistry(OnnxSettings(layout_manifest=broken))
    with pytest.raises(ManifestError, match=r"has sha256 .* the manifest expects 0000"):
        ocr_extension(OCRSettings(warm_up=True), registry=registry)


def test_layout_classes_must_be_the_models(tmp_path: Path) -> None:
    raw = json.loads((MANIFEST_DIR / "layout_cdla.json").read_text())
    raw["classes"] = list(reversed(raw["classes"]))
    manifest_path = tmp_path / "layout.json"
    manifest_path.write_text(json.dumps(raw))
    manifest = load_manifest(manifest_path)
    with pytest.raises(ManifestError, match="has classes"):
        LayoutDetector(create_session(manifest, OnnxSettings()), manifest)


def test_no_layout_model_unless_the_setting_names_one() -> None:
    for env in ({}, {"IIIF_ONNX_LAYOUT_MANIFEST": "none"}):
        settings = OnnxSettings.read(Env(env))
        assert settings.layout_manifest is None
        assert ModelRegistry(settings).layout() is None
    bundled = str(MANIFEST_DIR / "layout_cdla.json")
    settings = OnnxSettings.read(Env({"IIIF_ONNX_LAYOUT_MANIFEST": bundled}))
    assert ModelRegistry(settings).layout().manifest.name == "pp-picodet-layout-cdla"


def test_a_layout_manifest_naming_a_missing_file_stops_the_server_at_start(tmp_path: Path) -> None:
    raw = json.loads((MANIFEST_DIR / "layout_cdla.json").read_text())
    raw["file"] = "models/missing.onnx"
    manifest_path = tmp_path / "layout.json"
    manifest_path.write_text(json.dumps(raw))
    registry = ModelRegistry(OnnxSettings(layout_manifest=manifest_path))
    with pytest.raises(ManifestError, match=r"file .*missing\.onnx not found"):
        ocr_extension(OCRSettings(), registry=registry)
