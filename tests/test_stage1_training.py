"""Stage 1 training: the shrunk-line targets, the U-Net's shape contract, and the tiny config trained end to
end (`models/configs/stage1_tiny.yaml`), exported, checked against PyTorch and served.

The tiny run trains a 120 k-parameter U-Net for 64 steps on 7 synthetic 620x877 pages (45 s on 2 idle CPU
cores). Measured with three training and page seeds, on four held-out pages (seeds 4242-4245): recall at IoU
0.5 0.93-1.0, precision 0.62-1.0, mean IoU 0.79-0.90; on this file's page (seed 4242) recall >= 0.93,
precision >= 0.83, mean IoU >= 0.79. The thresholds leave a margin for other CPUs and thread orders.
"""

import json
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from shapely.geometry import Polygon, box

from conformance.live_server import running_server
from extensions.annotations import load_annotations, parse_annotations
from models.config import ConfigError
from models.evaluation.detection_metrics import PageDetections, detection_scores
from models.evaluation.stage1_eval import annotated_pages, page_detections, read_page
from models.onnx_export import verify_onnx
from models.stage1.page_data import LinePatches, find_pages, load_page
from models.stage1.targets import rasterise, shrink_distance, shrunk
from models.stage1.train import NORMALISATION, run
from models.stage1.unet import UNet
from models.synthetic.pages import generate_pages
from ocr_onnx.manifest import load_manifest
from ocr_onnx.sessions import ModelRegistry, OnnxSettings

TINY = Path(__file__).resolve().parents[1] / "models" / "configs" / "stage1_tiny.yaml"
HELD_OUT_SEED = 4242  # the tiny config trains on seed 11
MIN_RECALL = 0.8
MIN_PRECISION = 0.6


def test_shrink_distance_is_dbs_offset() -> None:
    rectangle = box(0, 0, 100, 30)
    assert shrink_distance(rectangle, 0.4) == pytest.approx(3000 * (1 - 0.16) / 260)


def test_shrunk_line_lies_inside_with_about_r_squared_of_its_area() -> None:
    line = [(10, 10), (1010, 10), (1010, 30), (10, 30)]  # a long line: its height shrinks to r² of itself
    inner = Polygon(shrunk(line, 0.4))
    outer = Polygon(line)
    assert outer.contains(inner)
    assert inner.area / outer.area == pytest.approx(0.16, rel=0.12)
    assert inner.centroid.distance(outer.centroid) < 1e-6
    top, bottom = inner.bounds[1], inner.bounds[3]
    assert bottom - top == pytest.approx(20 - 2 * shrink_distance(outer, 0.4))


def test_shrunk_rotated_line_and_degenerate_ring() -> None:
    slanted = [(0, 0), (400, 60), (396, 86), (-4, 26)]
    inner = Polygon(shrunk(slanted, 0.4))
    assert Polygon(slanted).contains(inner) and inner.area > 0
    assert shrunk([(0, 0), (10, 0), (20, 0)], 0.4) is None


def test_rasterise_gives_coverage_at_scale_and_offset() -> None:
    rectangle = np.array([(10, 10), (110, 10), (110, 40), (10, 40)], np.float64)
    mask = rasterise([rectangle], (30, 60), 0.5, (2.25, 0.0))  # page x 10 → 5 - 2.25 = 2.75 in the mask
    assert mask.sum() == pytest.approx(50 * 15, rel=0.03)
    assert mask[10, 2] == pytest.approx(0.25, abs=0.07)  # a quarter of pixel column 2 is covered
    assert mask[10, 3] == 1.0 and mask[10, 1] == 0.0 and mask[4, 30] == 0.0


def test_patch_targets_lie_on_the_ink(tmp_path: Path) -> None:
    generate_pages(tmp_path, 1, seed=5, size=(620, 877))
    page = load_page(find_pages(tmp_path)[0])
    patches = LinePatches(
        [page],
        patch=256,
        input_size=896,
        scale_range=(0.8, 1.0),
        shrink_ratio=0.4,
        normalisation=NORMALISATION,
        count=6,
        seed=1,
    )
    for index in range(len(patches)):
        image, target = patches[index]
        assert image.shape == (3, 256, 256) and target.shape == (1, 256, 256)
        brightness = image.mean(dim=0)
        on_lines, off_lines = target[0] > 0.5, target[0] == 0
        if on_lines.sum() > 50:  # text rows are darker on average than paper
            assert brightness[on_lines].mean() < brightness[off_lines].mean() - 0.1


def test_unet_keeps_the_spatial_size_and_gives_probabilities() -> None:
    torch.manual_seed(0)
    model = UNet(base_channels=8, levels=4).eval()
    with torch.no_grad():
        probability = model(torch.randn(2, 3, 64, 96))
        logits = model.logits(torch.randn(1, 3, 32, 32))
    assert probability.shape == (2, 1, 64, 96) and logits.shape == (1, 1, 32, 32)
    assert probability.min() >= 0 and probability.max() <= 1
    assert 0.1 < sum(p.numel() for p in model.parameters()) / 1e6 < 0.2


def test_config_errors_name_the_key(tmp_path: Path) -> None:
    config = tmp_path / "stage1.yaml"
    config.write_text(TINY.read_text().replace("patch: 256", "patch: 250"))
    with pytest.raises(ConfigError, match=r"data\.patch: 250 is not a multiple of 8"):
        run(config, tmp_path / "out", "cpu")
    config.write_text(TINY.read_text().replace("levels: 4", "levels: 4\n  depth: 3"))
    with pytest.raises(ConfigError, match="depth"):
        run(config, tmp_path / "out", "cpu")
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny config trained, exported and calibrated (once for the module)."""
    torch.set_num_threads(2)
    return run(TINY, tmp_path_factory.mktemp("stage1"), "cpu")


@pytest.fixture(scope="module")
def held_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic page the tiny model never saw, with its PAGE XML."""
    folder = tmp_path_factory.mktemp("held-out")
    generate_pages(folder, 1, seed=HELD_OUT_SEED, size=(620, 877))
    return folder


def test_run_writes_checkpoint_model_and_calibrated_manifest(trained: Path) -> None:
    manifest = load_manifest(trained)
    assert manifest.task == "detection" and manifest.classes == ("line",)
    assert manifest.input_size == 896 and manifest.normalisation == NORMALISATION
    assert manifest.verify().stat().st_size < 5_000_000
    trials = json.loads((trained.parent / "calibration.json").read_text())
    assert len(trials) == 3 * 6 and manifest.db is not None
    assert trials[0]["db"] == {
        "binary_threshold": manifest.db.binary_threshold,
        "unclip_ratio": manifest.db.unclip_ratio,
    }
    assert trials[0]["scores"]["ap"] == max(trial["scores"]["ap"] for trial in trials)
    checkpoint = torch.load(trained.parent / "checkpoint.pt")
    assert len(checkpoint["history"]) == 8 and checkpoint["history"][-1] < checkpoint["history"][0]


def test_onnx_model_matches_pytorch(trained: Path, held_out: Path) -> None:
    checkpoint = torch.load(trained.parent / "checkpoint.pt")
    model = UNet(**checkpoint["unet"])
    model.load_state_dict(checkpoint["model"])
    page = read_page(next(held_out.glob("*.png")))[:320, :448]
    inputs = [torch.from_numpy(NORMALISATION.apply(page))[None], torch.randn(2, 3, 64, 128)]
    assert verify_onnx(model, load_manifest(trained).path, inputs) <= 1e-4


def test_server_detector_finds_the_held_out_lines(trained: Path, held_out: Path) -> None:
    detector = ModelRegistry(OnnxSettings(detection_manifest=trained)).detector()
    (page,) = annotated_pages(held_out)[0]
    detections = page_detections(page, detector, min_confidence=0.5)
    scores = detection_scores([detections])
    assert scores.truth >= 10
    assert scores.recall >= MIN_RECALL, scores
    assert scores.precision >= MIN_PRECISION, scores
    assert scores.mean_iou >= 0.7, scores
    for polygon, confidence in detections.found:
        assert 0.5 <= confidence <= 1 and Polygon(polygon).is_valid


def test_server_serves_regions_of_the_trained_model(trained: Path, held_out: Path, tmp_path: Path) -> None:
    (page,) = annotated_pages(held_out)[0]
    (tmp_path / "page.png").write_bytes(page.image.read_bytes())
    env = {"IIIF_ONNX_DET_MANIFEST": str(trained), "IIIF_EXTENSIONS": "masking,ocr"}
    url = "{}/iiif/3/page/regions.json"
    with (
        running_server(tmp_path, env=env) as server,
        urllib.request.urlopen(url.format(server.base_url)) as response,
    ):
        body = response.read()
    found = [(region.polygon, region.confidence) for region in parse_annotations(body)]
    truth = [
        region.polygon for region in load_annotations(page.annotation) if region.region_type == "TextLine"
    ]
    height, width = read_page(page.image).shape[:2]
    scores = detection_scores([PageDetections("page", width, height, truth, found)])
    assert json.loads(body)["type"] == "AnnotationPage"
    assert scores.recall >= MIN_RECALL and scores.precision >= MIN_PRECISION, scores
