"""The real multi-column case: two printed dev pages of `../shared/ocr-train` (skipped without it) set side by
side as columns (`benchmarks.multi_column`), read by the server with its real models: `ocr.json` reads the
left column before the right one, so the page reads in the server's order almost as well as in the true one.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
import pyvips
from starlette.testclient import TestClient

from benchmarks.multi_column.composite import compose
from benchmarks.real_pages.ground_truth import truth_lines
from benchmarks.real_pages.lines import PageReading, read_lines
from benchmarks.real_pages.page_scores import score_page
from extensions.annotations import iiif
from extensions.server import create_server_app
from extensions.server_settings import ServerSettings
from iiif_server.settings import Settings
from models.evaluation.text_metrics import text_scores

OCR_TRAIN = Path(__file__).resolve().parents[2] / "shared" / "ocr-train"
PAGES = ("g18-bpt6k70173w-f5", "g18-bpt6k70173w-f6")  # La Henriade: 23 and 15 lines of verse

pytestmark = pytest.mark.skipif(not (OCR_TRAIN / "gt").is_dir(), reason="../shared/ocr-train is not here")


@pytest.fixture(scope="module")
def two_columns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, list]]:
    folder = tmp_path_factory.mktemp("columns")
    images = [pyvips.Image.new_from_file(str(OCR_TRAIN / "images" / f"{page}.jpg")) for page in PAGES]
    truths = [truth_lines((OCR_TRAIN / "gt" / f"{page}.xml").read_bytes()) for page in PAGES]
    pixels, truth = compose(images, truths)
    pyvips.Image.new_from_array(pixels).copy(interpretation="srgb").write_to_file(str(folder / "columns.png"))
    with TestClient(
        create_server_app(ServerSettings(Settings(image_root=folder), ("masking", "ocr")))
    ) as client:
        yield client, truth


def test_two_columns_are_read_one_after_the_other(two_columns: tuple[TestClient, list]) -> None:
    client, truth = two_columns
    response = client.get("/iiif/3/columns/ocr.json")
    assert response.status_code == 200, response.text
    page = score_page(
        "columns", "gallica18-fr", truth, PageReading(read_lines(iiif.parse(response.content)), 0)
    )
    ordered = text_scores([page.page_text]).cer
    order_free = text_scores([page.page_text_order_free]).cer
    assert page.baseline_matches >= 0.95 * len(truth)
    assert ordered <= 1.1 * order_free + 0.005, (ordered, order_free)
    blocks = client.get("/iiif/3/columns/regions.json?granularity=block").json()["items"]
    lefts = sorted({int(b["target"]["selector"]["value"].split("M")[1].split(",")[0]) for b in blocks})
    assert len(lefts) >= 2  # a block in each column
