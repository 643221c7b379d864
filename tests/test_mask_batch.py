"""`POST /mask/batch`: zip and JSON outputs, per-item errors and filters, limits and annotation documents."""

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from polygon_fixtures import centre_mask, decode, flat, gradient, write_gradient_images
from shapely import make_valid
from shapely.geometry import Polygon
from starlette.testclient import TestClient

from extensions.mask_settings import MaskSettings
from extensions.server import create_server_app
from extensions.server_settings import ServerSettings
from iiif_server.settings import Settings

FIELDS = {
    "annotation_id",
    "source_image",
    "bounding_box",
    "polygon_area",
    "extraction_timestamp",
    "scale_factor",
    "region_type",
    "confidence",
    "width",
    "height",
    "sha256",
    "status",
}
TRIANGLE = ((10.2, 10.2), (110.3, 10.2), (60.1, 90.7))  # box 10,10,101,81
LINE = ((100.5, 200.4), (400.2, 230.6), (400.2, 260.3), (100.5, 230.1))  # box 100,200,301,61
GOOD = [
    {"id": "tri", "polygon": [list(p) for p in TRIANGLE], "scale": 1, "type": "glyph", "confidence": 0.9},
    {"id": "line", "polygon": flat(LINE), "scale": 0.5, "type": "line", "confidence": 0.6, "text": "abc"},
    {"id": "big", "polygon": [c for p in TRIANGLE for c in p], "scale": 2},
]
# (id, width, height) of the images GOOD gives: the box scaled, halves rounded up.
SIZES = {"tri": (101, 81), "line": (151, 31), "big": (202, 162)}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_gradient_images(tmp_path_factory.mktemp("batch-images"))


@pytest.fixture(scope="module")
def client(folder: Path) -> Iterator[TestClient]:
    with TestClient(create_server_app(ServerSettings(Settings(image_root=folder)))) as test_client:
        yield test_client


def post(client: TestClient, body: Any, status: int = 200):
    response = client.post("/mask/batch", json=body)
    assert response.status_code == status, response.text
    return response


def read_zip(content: bytes) -> tuple[zipfile.ZipFile, list[dict[str, Any]]]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert archive.testzip() is None
    text = archive.read("metadata.jsonl").decode()
    assert text == "" or text.endswith("\n")
    return archive, [json.loads(line) for line in text.splitlines()]


def check_ok_entry(entry: dict[str, Any], image: bytes, started: datetime) -> None:
    """All metadata fields of a successful item agree with its image bytes."""
    assert set(entry) >= FIELDS
    assert entry["status"] == "ok"
    assert entry["source_image"] == "gradient"
    assert entry["sha256"] == hashlib.sha256(image).hexdigest()
    pixels = decode(image)
    assert (entry["width"], entry["height"]) == (pixels.shape[1], pixels.shape[0])
    assert (entry["width"], entry["height"]) == SIZES[entry["annotation_id"]]
    stamp = datetime.fromisoformat(entry["extraction_timestamp"])
    assert entry["extraction_timestamp"].endswith(("Z", "+00:00"))
    assert stamp.utcoffset() == timedelta(0)
    assert started - timedelta(seconds=1) <= stamp <= datetime.now(UTC)


def test_zip_has_an_image_per_ok_item_and_a_metadata_line_per_item(client: TestClient) -> None:
    started = datetime.now(UTC)
    response = post(client, {"identifier": "gradient", "annotations": GOOD})
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"] == 'attachment; filename="gradient-masks.zip"'
    archive, lines = read_zip(response.content)
    assert archive.namelist() == ["00000_tri.png", "00001_line.png", "00002_big.png", "metadata.jsonl"]
    assert [line["annotation_id"] for line in lines] == ["tri", "line", "big"]
    for line in lines:
        check_ok_entry(line, archive.read(line["file"]), started)
    tri, text_line, big = lines
    assert tri["bounding_box"] == [10, 10, 101, 81]
    assert text_line["bounding_box"] == [100, 200, 301, 61]
    assert (tri["scale_factor"], text_line["scale_factor"], big["scale_factor"]) == (1, 0.5, 2)
    assert (tri["region_type"], text_line["region_type"], big["region_type"]) == ("glyph", "line", None)
    assert (tri["confidence"], text_line["confidence"], big["confidence"]) == (0.9, 0.6, None)
    assert tri["polygon_area"] == round(Polygon(TRIANGLE).area, 2)
    assert text_line["polygon_area"] == round(Polygon(LINE).area, 2)


def test_zip_images_are_masked_exactly(client: TestClient) -> None:
    archive, lines = read_zip(post(client, {"identifier": "gradient", "annotations": GOOD}).content)
    pixels = decode(archive.read(lines[0]["file"]))
    inside = centre_mask(Polygon(TRIANGLE), (10, 10, 101, 81), 101, 81)
    np.testing.assert_array_equal(pixels[..., 3], np.where(inside, 255, 0))
    np.testing.assert_array_equal(pixels[inside][:, :3], gradient()[10:91, 10:111][inside])
    scaled = decode(archive.read(lines[1]["file"]))
    inside = centre_mask(Polygon(LINE), (100, 200, 301, 61), 151, 31)
    np.testing.assert_array_equal(scaled[..., 3], np.where(inside, 255, 0))


@pytest.mark.parametrize("item", [0, 1, 2])
def test_a_batch_image_is_the_image_the_iiif_url_gives(client: TestClient, item: int) -> None:
    archive, lines = read_zip(post(client, {"identifier": "gradient", "annotations": GOOD}).content)
    polygon = [TRIANGLE, LINE, TRIANGLE][item]
    size = ["max", "pct:50", "^pct:200"][item]
    url = client.get(f"/iiif/3/gradient/poly:{flat(polygon)}/{size}/0/default.png")
    assert url.status_code == 200
    assert archive.read(lines[item]["file"]) == url.content


def test_json_output_carries_base64_images(client: TestClient) -> None:
    started = datetime.now(UTC)
    body = {"identifier": "gradient", "annotations": GOOD, "output_format": "json", "format": "webp"}
    document = post(client, body).json()
    assert document["source_image"] == "gradient"
    assert document["counts"] == {"ok": 3, "error": 0, "filtered": 0}
    assert [item["annotation_id"] for item in document["items"]] == ["tri", "line", "big"]
    for item in document["items"]:
        assert item["media_type"] == "image/webp"
        image = base64.b64decode(item["image_base64"])
        assert image[8:12] == b"WEBP"
        check_ok_entry(item, image, started)


def test_jpg_batch_fills_the_outside_with_bg(client: TestClient) -> None:
    body = {"identifier": "gradient", "annotations": GOOD[:1], "format": "jpg", "bg": "00ff00"}
    archive, _ = read_zip(post(client, body).content)
    assert archive.namelist() == ["00000_tri.jpg", "metadata.jsonl"]
    pixels = decode(archive.read("00000_tri.jpg")).astype(int)
    assert pixels.shape == (81, 101, 3)
    # The bottom corners of the triangle's box are far from its edges: pure fill, give or take JPEG.
    assert np.abs(pixels[75:, :5] - (0, 255, 0)).max() <= 12
    assert np.abs(pixels[75:, -5:] - (0, 255, 0)).max() <= 12


def test_bad_items_are_reported_and_the_others_extracted(client: TestClient) -> None:
    annotations = [
        GOOD[0],
        {"id": "two-points", "polygon": [[10, 10], [20, 20]]},
        {"id": "no-polygon", "scale": 1},
        "not an object",
        GOOD[1],
        {"id": "outside", "polygon": [[700, 500], [800, 500], [800, 600]]},
        {"id": "zero-area", "polygon": [[10, 10], [20, 20], [30, 30]]},
        {"id": "huge-scale", "polygon": [[10, 10], [50, 10], [50, 50]], "scale": 50},
        {"id": "words", "polygon": "a,b,c,d,e,f"},
        GOOD[2],
    ]
    started = datetime.now(UTC)
    archive, lines = read_zip(post(client, {"identifier": "gradient", "annotations": annotations}).content)
    assert [line["annotation_id"] for line in lines] == [
        "tri",
        "two-points",
        "no-polygon",
        "item0003",
        "line",
        "outside",
        "zero-area",
        "huge-scale",
        "words",
        "big",
    ]
    assert [line["status"] for line in lines] == ["ok", *["error"] * 3, "ok", *["error"] * 4, "ok"]
    assert archive.namelist() == ["00000_tri.png", "00004_line.png", "00009_big.png", "metadata.jsonl"]
    for line in lines:
        if line["status"] == "ok":
            check_ok_entry(line, archive.read(line["file"]), started)
        else:
            assert "file" not in line and "sha256" not in line
    assert all(line["source_image"] == "gradient" for line in lines)
    errors = {line["annotation_id"]: line["error"] for line in lines if line["status"] == "error"}
    assert "3 distinct" in errors["two-points"]
    assert "polygon" in errors["no-polygon"]
    assert "unreadable annotation" in errors["item0003"]
    assert errors["outside"] == "region: the polygon lies outside the 600x400 image"
    assert errors["zero-area"] == "region: the polygon has zero area"
    assert errors["huge-scale"].startswith("scale: ")
    assert "could not convert" in errors["words"]


def test_json_output_reports_errors_without_images(client: TestClient) -> None:
    annotations = [GOOD[0], {"id": "bad", "polygon": [[1, 1]]}, 7]
    document = post(client, {"identifier": "gradient", "annotations": annotations, "output_format": "json"})
    items = document.json()["items"]
    assert document.json()["counts"] == {"ok": 1, "error": 2, "filtered": 0}
    assert [item["status"] for item in items] == ["ok", "error", "error"]
    assert "image_base64" in items[0]
    assert "image_base64" not in items[1] and "image_base64" not in items[2]


def test_min_confidence_and_min_area_filter_items_with_a_reason(client: TestClient) -> None:
    small = {"id": "small", "polygon": [[300, 300], [305, 300], [305, 305]], "confidence": 0.99}
    body = {
        "identifier": "gradient",
        "annotations": [*GOOD, small],
        "min_confidence": 0.7,
        "min_area": 100,
    }
    archive, lines = read_zip(post(client, body).content)
    assert [(line["annotation_id"], line["status"]) for line in lines] == [
        ("tri", "ok"),
        ("line", "filtered"),
        ("big", "filtered"),
        ("small", "filtered"),
    ]
    assert archive.namelist() == ["00000_tri.png", "metadata.jsonl"]
    assert "min_confidence 0.7" in lines[1]["error"]
    assert "min_confidence 0.7" in lines[2]["error"]  # no confidence counts as below any minimum
    assert "min_area 100" in lines[3]["error"]
    counts = post(client, {**body, "output_format": "json"}).json()["counts"]
    assert counts == {"ok": 1, "error": 0, "filtered": 3}


def test_min_area_is_measured_on_the_repaired_polygon(client: TestClient) -> None:
    # A symmetric bow-tie has a signed area of 0, but its two repaired triangles cover 5000 px.
    bow_tie = [[10, 10], [110, 110], [110, 10], [10, 110]]
    body = {"identifier": "gradient", "annotations": [{"id": "bow", "polygon": bow_tie}], "min_area": 1000}
    document = post(client, {**body, "output_format": "json"}).json()
    item = document["items"][0]
    assert item["status"] == "ok", item
    assert item["polygon_area"] == make_valid(Polygon(bow_tie)).area == 5000


@pytest.fixture
def limited_client(folder: Path) -> Iterator[TestClient]:
    settings = ServerSettings(
        Settings(image_root=folder), masks=MaskSettings(max_batch_size=3, max_polygon_vertices=10)
    )
    with TestClient(create_server_app(settings)) as test_client:
        yield test_client


def test_batch_size_limit_is_413(limited_client: TestClient) -> None:
    post(limited_client, {"identifier": "gradient", "annotations": GOOD})
    response = post(limited_client, {"identifier": "gradient", "annotations": [*GOOD, GOOD[0]]}, 413)
    assert response.text == "annotations: 4 annotations, more than IIIF_MAX_BATCH_SIZE=3\n"


def test_the_vertex_limit_applies_to_each_batch_item(limited_client: TestClient) -> None:
    ten = [[200 + 100 * np.cos(a), 200 + 100 * np.sin(a)] for a in np.linspace(0, 6, 10)]
    eleven = [[200 + 100 * np.cos(a), 200 + 100 * np.sin(a)] for a in np.linspace(0, 6, 11)]
    annotations = [{"id": "ten", "polygon": ten}, {"id": "eleven", "polygon": eleven}, GOOD[0]]
    body = {"identifier": "gradient", "annotations": annotations, "output_format": "json"}
    items = post(limited_client, body).json()["items"]
    assert [item["status"] for item in items] == ["ok", "error", "ok"]
    assert items[1]["error"] == "region: more than IIIF_MAX_POLYGON_VERTICES=10 vertices"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"identifier": "gradient", ', "body: the body is not JSON"),
        (b"\xff\xfe not utf-8", "body: the body is not JSON"),
        (b"[1, 2]", "body: expected a JSON object"),
        (b'{"identifier": "gradient"}', "annotations: give `annotations`"),
        (b'{"identifier": "gradient", "annotations": {}}', "annotations: give `annotations`"),
        (b'{"annotations": []}', "identifier: give `identifier` or `iiif_base_url`"),
        (b'{"identifier": "gradient", "annotations": [], "output_format": "tar"}', "output_format: "),
        (b'{"identifier": "gradient", "annotations": [], "format": "bmp"}', "format: "),
        (b'{"identifier": "gradient", "annotations": [], "quality": "sepia"}', "quality: "),
        (b'{"identifier": "gradient", "annotations": [], "bg": "red"}', "bg: "),
        (b'{"identifier": "gradient", "annotations": [], "min_area": "big"}', "min_area: "),
        (b'{"iiif_base_url": "http://testserver/images/gradient", "annotations": []}', "iiif_base_url: "),
    ],
)
def test_malformed_bodies_are_400(client: TestClient, content: bytes, reason: str) -> None:
    response = client.post("/mask/batch", content=content, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.text.startswith(reason)


def test_unknown_identifier_is_404(client: TestClient) -> None:
    response = post(client, {"identifier": "missing", "annotations": GOOD}, 404)
    assert response.text == "identifier: no image with identifier 'missing'\n"


def test_get_is_not_allowed(client: TestClient) -> None:
    assert client.get("/mask/batch").status_code == 405


@pytest.mark.parametrize(
    "base_url", ["http://testserver/iiif/3/gradient", "http://testserver/iiif/3/gradient/info.json"]
)
def test_iiif_base_url_on_this_server(client: TestClient, base_url: str) -> None:
    archive, lines = read_zip(post(client, {"iiif_base_url": base_url, "annotations": GOOD[:2]}).content)
    assert [line["status"] for line in lines] == ["ok", "ok"]
    assert [line["source_image"] for line in lines] == ["gradient", "gradient"]
    direct, _ = read_zip(post(client, {"identifier": "gradient", "annotations": GOOD[:2]}).content)
    assert archive.read("00000_tri.png") == direct.read("00000_tri.png")


def test_iiif_base_url_on_a_host_not_allowed_is_403(client: TestClient) -> None:
    body = {"iiif_base_url": "https://elsewhere.example.org/iiif/3/gradient", "annotations": GOOD}
    response = post(client, body, 403)
    assert "not under a configured upstream" in response.text
    assert "elsewhere" not in response.text  # refusals name no host: the server is no port scanner


PAGE_XML = """<?xml version="1.0" encoding="UTF-8"?>
<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15">
  <Page imageFilename="gradient.png" imageWidth="600" imageHeight="400">
    <TextRegion id="r1">
      <Coords points="10,10 300,10 300,200 10,200"/>
      <TextLine id="l1">
        <Coords points="20,20 280,30 280,60 20,50"/>
        <TextEquiv conf="0.95"><Unicode>first line</Unicode></TextEquiv>
      </TextLine>
      <TextLine id="l2">
        <Coords points="20,70 280,80 280,110 20,100"/>
        <TextEquiv conf="0.4"><Unicode>second line</Unicode></TextEquiv>
      </TextLine>
    </TextRegion>
  </Page>
</PcGts>
"""


def test_a_page_xml_document_given_as_a_string(client: TestClient) -> None:
    body = {"identifier": "gradient", "document": PAGE_XML, "scale": 0.5, "min_confidence": 0.5}
    archive, lines = read_zip(post(client, body).content)
    assert [(line["annotation_id"], line["status"]) for line in lines] == [
        ("r1", "filtered"),
        ("l1", "ok"),
        ("l2", "filtered"),
    ]
    first = lines[1]
    assert first["region_type"] == "TextLine"
    assert first["confidence"] == 0.95
    assert first["text"] == "first line"
    assert first["bounding_box"] == [20, 20, 260, 40]
    assert first["polygon_area"] == Polygon([(20, 20), (280, 30), (280, 60), (20, 50)]).area
    assert (first["width"], first["height"]) == (130, 20)
    assert first["sha256"] == hashlib.sha256(archive.read(first["file"])).hexdigest()


ESCRIPTORIUM_ALTO = """<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#">
  <Description><sourceImageInformation><fileName>scan_0001.tif</fileName></sourceImageInformation></Description>
  <Layout><Page ID="eSc_dummypage_" WIDTH="600" HEIGHT="400">
   <PrintSpace HPOS="0" VPOS="0" WIDTH="600" HEIGHT="400">
    <TextBlock ID="eSc_dummyblock_">
      <TextLine ID="l1" BASELINE="20 50 280 60" HPOS="20" VPOS="20" WIDTH="260" HEIGHT="40">
        <Shape><Polygon POINTS="20 20 280 30 280 60 20 50"/></Shape>
        <String ID="s1" CONTENT="first line" HPOS="20" VPOS="20" WIDTH="260" HEIGHT="40"/>
      </TextLine>
    </TextBlock>
    <TextBlock ID="empty"/>
  </PrintSpace></Page></Layout>
</alto>
"""


def test_alto_blocks_without_coordinates_keep_their_lines_or_are_reported(client: TestClient) -> None:
    body = {"identifier": "gradient", "document": ESCRIPTORIUM_ALTO, "output_format": "json"}
    items = post(client, body).json()["items"]
    assert [(item["annotation_id"], item["status"]) for item in items] == [
        ("eSc_dummyblock_", "ok"),
        ("l1", "ok"),
        ("s1", "ok"),
        ("empty", "error"),
    ]
    assert items[0]["bounding_box"] == [20, 20, 260, 40]  # the box around its line
    assert items[3]["error"].startswith("no outline")


W3C_PAGE = {
    "@context": "http://www.w3.org/ns/anno.jsonld",
    "id": "https://example.org/annotations/page1",
    "type": "AnnotationPage",
    "items": [
        {
            "id": "https://example.org/anno/1",
            "type": "Annotation",
            "body": {"type": "TextualBody", "value": "hello"},
            "target": {
                "source": "https://example.org/iiif/3/gradient",
                "selector": {
                    "type": "SvgSelector",
                    "value": "<svg xmlns='http://www.w3.org/2000/svg'>"
                    "<polygon points='10,10 100,10 100,60'/></svg>",
                },
            },
        },
        {
            "id": "https://example.org/anno/2",
            "type": "Annotation",
            "target": "https://example.org/iiif/3/gradient#xywh=200,100,50,40",
        },
    ],
}


def test_a_w3c_annotation_page_given_as_an_object(client: TestClient) -> None:
    body = {"identifier": "gradient", "document": W3C_PAGE, "output_format": "json"}
    document = post(client, body).json()
    first, second = document["items"]
    assert document["counts"] == {"ok": 2, "error": 0, "filtered": 0}
    assert first["annotation_id"] == "https://example.org/anno/1"
    assert first["text"] == "hello"
    assert first["bounding_box"] == [10, 10, 90, 50]
    assert first["polygon_area"] == 2250
    assert second["bounding_box"] == [200, 100, 50, 40]
    assert (second["width"], second["height"]) == (50, 40)
    pixels = decode(base64.b64decode(second["image_base64"]))
    assert (pixels[..., 3] == 255).all()
    np.testing.assert_array_equal(pixels[..., :3], gradient()[100:140, 200:250])


def test_a_zip_member_name_is_safe_for_any_annotation_id(client: TestClient) -> None:
    archive, _ = read_zip(post(client, {"identifier": "gradient", "document": W3C_PAGE}).content)
    assert archive.namelist()[:2] == [
        "00000_https___example.org_anno_1.png",
        "00001_https___example.org_anno_2.png",
    ]
    assert all("/" not in name for name in archive.namelist())


def test_an_unreadable_document_is_400(client: TestClient) -> None:
    response = post(client, {"identifier": "gradient", "document": "<PcGts><Page></PcGts>"}, 400)
    assert response.text.startswith("document: ")


def test_an_empty_batch_gives_an_empty_metadata_file(client: TestClient) -> None:
    archive, lines = read_zip(post(client, {"identifier": "gradient", "annotations": []}).content)
    assert archive.namelist() == ["metadata.jsonl"]
    assert archive.read("metadata.jsonl") == b""
    assert lines == []


def test_a_batch_scale_of_zero_is_an_error_per_item_not_a_silent_default(client: TestClient) -> None:
    body = {
        "identifier": "gradient",
        "scale": 0,
        "output_format": "json",
        "annotations": [{"id": "a", "polygon": [[10, 10], [100, 10], [100, 80]]}],
    }
    (item,) = post(client, body).json()["items"]
    assert item["status"] == "error"
    assert "scale 0.0 is outside" in item["error"]
