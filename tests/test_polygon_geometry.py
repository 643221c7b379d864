"""The one polygon geometry: repair, the `min_area` measure, boxes, reading order; and `min_area` giving one
answer on `regions.json`, `ocr.json` and `/mask/batch`."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fixed_models import FixedModels
from polygon_fixtures import write_gradient_images
from starlette.testclient import TestClient

from extensions.annotations.geometry import ring
from extensions.annotations.model import AnnotationError
from extensions.mask_settings import MaskSettings
from extensions.masking import masking_extension
from extensions.ocr import ocr_extension
from extensions.ocr_settings import OCRSettings
from extensions.polygon_geometry import (
    bounds,
    largest_outline,
    masked_area,
    pixel_box,
    reading_order,
    repaired,
)
from iiif_server.app import create_app
from iiif_server.settings import Settings

# Crosses itself: its signed (shoelace) area is 0, its repaired two triangles cover 5000 px.
BOW_TIE = ((10.0, 10.0), (110.0, 110.0), (110.0, 10.0), (10.0, 110.0))
LINE = ((200.0, 20.0), (380.0, 20.0), (380.0, 60.0), (200.0, 60.0))  # 7200 px


def shoelace(ring: tuple[tuple[float, float], ...]) -> float:
    """The raw signed-area formula the old filters used."""
    edges = zip(ring, [*ring[1:], ring[0]], strict=True)
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in edges)) / 2


def test_a_bow_tie_is_repaired_into_two_triangles() -> None:
    geometry = repaired([BOW_TIE])
    assert shoelace(BOW_TIE) == 0
    assert geometry.is_valid and geometry.geom_type == "MultiPolygon" and geometry.area == 5000


def test_annotation_documents_keep_a_bow_tie_as_the_mask_does() -> None:
    assert ring(BOW_TIE, "bow") == BOW_TIE
    with pytest.raises(AnnotationError, match="no area"):
        ring([(0, 0), (5, 5), (10, 10)], "flat")


def test_rings_are_joined_and_rings_without_area_dropped() -> None:
    square = ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0))
    overlapping = ((5.0, 0.0), (15.0, 0.0), (15.0, 10.0), (5.0, 10.0))
    assert repaired([square, overlapping]).area == 150
    assert repaired([((0.0, 0.0), (5.0, 5.0), (10.0, 10.0))]).is_empty  # points on one line
    assert repaired([((0.0, 0.0), (1.0, 1.0))]).is_empty  # fewer than 3 points


def test_the_min_area_measure_counts_what_lies_inside_the_image() -> None:
    assert masked_area([BOW_TIE], 600, 400) == 5000
    assert masked_area([BOW_TIE], 60, 400) == 2500  # a 60 px wide image holds only the left triangle
    assert masked_area([((0.0, 0.0), (1.0, 1.0), (2.0, 2.0))], 600, 400) == 0


def test_the_largest_outline_leaves_out_small_parts_and_holes() -> None:
    outline = largest_outline(repaired([BOW_TIE, ((300.0, 300.0), (310.0, 300.0), (310.0, 310.0))]))
    assert outline is not None and outline.area == 2500
    assert largest_outline(repaired([((0.0, 0.0), (5.0, 5.0), (10.0, 10.0))])) is None


def test_boxes_in_coordinates_and_in_whole_pixels() -> None:
    assert bounds(BOW_TIE) == (10, 10, 110, 110)
    assert bounds([(3, 4), (1, 9)]) == (1, 4, 3, 9) and isinstance(bounds([(3, 4), (1, 9)])[0], int)
    assert pixel_box((10.2, 10.7, 110.3, 90.0)) == (10, 10, 101, 80)
    assert pixel_box((-5.5, 3.0, 4.0, 3.0)) == (0, 3, 4, 1)  # from 0 at the least, at least 1 pixel


def test_reading_order_is_rows_top_to_bottom_then_left_to_right() -> None:
    boxes = {
        "right": (300, 12, 400, 30),  # its centre (21) lies within the first line's rows 10..30
        "left": (10, 10, 200, 30),
        "below": (10, 50, 200, 70),
        "lower-right": (300, 45, 400, 80),  # centre 62.5 within 50..70: on the second row
    }
    assert reading_order(boxes, boxes.__getitem__) == ["left", "right", "below", "lower-right"]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder: Path = write_gradient_images(tmp_path_factory.mktemp("min-area"))
    models = FixedModels([BOW_TIE, LINE])
    extensions = [masking_extension(MaskSettings()), ocr_extension(OCRSettings(), registry=models)]
    with TestClient(create_app(Settings(image_root=folder), extensions)) as test_client:
        yield test_client


def kept_by_sidecar(client: TestClient, sidecar: str, min_area: float) -> set[str]:
    response = client.get(f"/iiif/3/gradient/{sidecar}", params={"min_area": min_area, "min_confidence": 0})
    assert response.status_code == 200, response.text
    ids = {item["id"].rsplit("/", 1)[1] for item in response.json()["items"]}
    return {region_id for region_id in ids if region_id.startswith("r")}  # lines, not their blocks


def kept_by_batch(client: TestClient, min_area: float) -> set[str]:
    annotations = [{"id": "r0001", "polygon": BOW_TIE}, {"id": "r0002", "polygon": LINE}]
    body = {"identifier": "gradient", "annotations": annotations, "min_area": min_area}
    response = client.post("/mask/batch", json={**body, "output_format": "json"})
    assert response.status_code == 200, response.text
    return {item["annotation_id"] for item in response.json()["items"] if item["status"] == "ok"}


@pytest.mark.parametrize(("min_area", "kept"), [(1000, {"r0001", "r0002"}), (6000, {"r0002"})])
def test_min_area_gives_the_same_answer_on_every_endpoint(
    client: TestClient, min_area: float, kept: set[str]
) -> None:
    """The bow-tie's raw shoelace area is 0; every endpoint measures its repaired 5000 px instead."""
    assert kept_by_sidecar(client, "regions.json", min_area) == kept
    assert kept_by_sidecar(client, "ocr.json", min_area) == kept
    assert kept_by_batch(client, min_area) == kept
