"""`{region}/ocr` on real scans: each ground-truth line's box of two typewritten dev pages of
`../shared/ocr-train` (skipped without it) reads about as well as `ocr.json` reads those lines.

Measured (PP-OCRv4 mobile, ONNX Runtime on 2 CPU cores): the 29 line boxes at mean CER 0.026 (0.104 when each
piece the detector found in the box was read, `lines=detect`), `ocr.json` at 0.023 on its 27 matching lines.
"""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from benchmarks.ocr_metrics import box_of, cer, match_boxes
from extensions.annotations import alto_xml, iiif
from extensions.server import create_server_app
from extensions.server_settings import ServerSettings
from iiif_server.settings import Settings

OCR_TRAIN = Path(__file__).resolve().parents[2] / "shared" / "ocr-train"
PAGES = ("ehri-bf-19381105-de-03", "jls-sc0033b-s4-b01-f14-i081")  # German typescript, English letter
MATCH_IOU = 0.3  # ground-truth polygons are looser than the detector's

pytestmark = pytest.mark.skipif(not (OCR_TRAIN / "gt").is_dir(), reason="../shared/ocr-train is not here")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("ocr-train")
    for page in PAGES:
        shutil.copy(OCR_TRAIN / "images" / f"{page}.jpg", folder)
    with TestClient(create_server_app(ServerSettings(Settings(image_root=folder), ("masking", "ocr")))) as c:
        yield c


def test_line_boxes_read_about_as_well_as_ocr_json(client: TestClient) -> None:
    box_cers, page_cers = [], []
    for page in PAGES:
        regions = alto_xml.parse((OCR_TRAIN / "gt" / f"{page}.xml").read_bytes())
        truth = [r for r in regions if r.region_type == "TextLine" and r.text]
        for line in truth:
            x, y, w, h = (round(v) for v in box_of(line.polygon))
            answer = client.get(f"/iiif/3/{page}/{x},{y},{w},{h}/ocr")
            assert answer.status_code == 200, answer.text
            box_cers.append(cer(line.text or "", answer.json()["text"]))
        read = [
            r for r in iiif.parse(client.get(f"/iiif/3/{page}/ocr.json").content) if r.region_type == "line"
        ]
        found = match_boxes([box_of(r.polygon) for r in truth], [box_of(r.polygon) for r in read], MATCH_IOU)
        page_cers += [cer(truth[i].text or "", read[j].text or "") for i, j in found.pairs]
    box_mean, page_mean = sum(box_cers) / len(box_cers), sum(page_cers) / len(page_cers)
    assert len(box_cers) == 29 and len(page_cers) >= 25
    assert box_mean <= page_mean + 0.015, (box_mean, page_mean)
