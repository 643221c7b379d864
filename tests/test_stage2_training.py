"""Stage 2 training: the charset layout, CTC shapes, and the tiny end-to-end run of `stage2_tiny.yaml`
(synthetic pages → dataset builder in process → CRNN + CTC → ONNX + manifest), read back by the server's
recogniser and served over HTTP.

Measured (tiny config, 1 CPU thread, `training.seed` 0/1/2): about 45 s for the whole run on a busy 2-core
machine; test-split CER of the served recogniser 0.06-0.10 (17 lines), validation CER 0.39-0.41 (a page in
another font); ONNX Runtime vs PyTorch at most 3e-6. An untrained model reads nothing: CER 1.0.
"""

import json
import math
from pathlib import Path

import httpx
import jiwer
import numpy as np
import pytest
import pyvips
import torch

from conformance.live_server import running_server
from extensions.ocr_settings import OCRSettings
from extensions.page_reading import read_crop
from models.config import load_config
from models.dataset.records import load_crop, read_dataset
from models.onnx_export import verify_onnx
from models.stage2.charset import Charset, normalise_text
from models.stage2.crnn import Crnn, CrnnShape, time_steps
from models.stage2.data_source import SYNTHETIC_DATASET, SYNTHETIC_PAGES
from models.stage2.fit import ctc_step, read_lines
from models.stage2.line_batches import batch_tensor, load_samples, width_batches
from models.stage2.train import NORMALISATION, Stage2Config, load_checkpoint, run
from ocr_onnx.manifest import load_manifest
from ocr_onnx.recognition import TextRecognizer
from ocr_onnx.sessions import ModelRegistry, OnnxSettings

CONFIGS = Path(__file__).resolve().parents[1] / "models" / "configs"
MAX_TEST_CER = 0.3
MAX_REGION_CER = 0.5


def test_charset_is_blank_then_sorted_characters_then_space() -> None:
    charset = Charset.from_texts(["ba c", "ab\tz\n", "c"])
    assert charset.classes == ("", "a", "b", "c", "z", " ")
    assert len(charset) == 6 and charset.metadata() == "a\nb\nc\nz"
    assert charset.encode(" ab  c?") == [1, 2, 5, 3]  # runs of space collapsed, unknown '?' left out
    assert charset.decode_greedy([0, 1, 1, 0, 1, 5, 5, 3, 0, 5]) == "aa c"
    assert Charset.from_metadata(charset.metadata()) == charset


def test_crnn_gives_one_probability_row_per_four_columns_and_a_finite_ctc_loss() -> None:
    torch.manual_seed(0)
    model = Crnn(CrnnShape(height=32, channels=(8, 8, 8, 8), hidden=8, layers=2), classes=7)
    for width in (13, 64, 130):
        probabilities = model.eval()(torch.randn(2, 3, 32, width))
        assert probabilities.shape == (2, time_steps(width), 7)
        assert torch.allclose(probabilities.sum(-1), torch.ones(2, time_steps(width)), atol=1e-5)
    optimiser = torch.optim.AdamW(model.parameters())
    labels = [torch.tensor([1, 2, 2, 3]), torch.tensor([4, 5])]
    loss = ctc_step(
        model.train(), optimiser, torch.nn.CTCLoss(zero_infinity=True), torch.randn(2, 3, 32, 64), labels
    )
    assert math.isfinite(loss) and loss > 0
    with pytest.raises(ValueError, match="multiple of 16"):
        Crnn(CrnnShape(height=40), classes=7)


def test_batches_group_similar_widths_and_pad_with_zeros() -> None:
    widths = [50, 300, 60, 310, 55, 290]
    assert width_batches(widths, 3) == [[0, 4, 2], [5, 1, 3]]
    images = [np.full((32, width, 3), 255, np.uint8) for width in (10, 20)]
    tensor = batch_tensor(images, NORMALISATION)
    assert tensor.shape == (2, 3, 32, 20)
    assert torch.all(tensor[0, :, :, :10] == 1.0) and torch.all(tensor[0, :, :, 10:] == 0.0)


def test_the_shipped_configs_parse() -> None:
    for name in ("stage2_tiny.yaml", "stage2_base.yaml"):
        settings = load_config(CONFIGS / name, Stage2Config)
        assert settings.data.synthetic is not None and settings.model.height % 16 == 0


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's output folder: pages/, dataset/, checkpoint.pt, model.onnx, manifest.json, metrics.json."""
    out = tmp_path_factory.mktemp("stage2")
    threads = torch.get_num_threads()
    manifest = run(CONFIGS / "stage2_tiny.yaml", out, "cpu")
    assert torch.get_num_threads() == threads  # the config's thread count held for the run only
    assert manifest == out / "manifest.json"
    return out


@pytest.fixture(scope="module")
def recognizer(trained: Path) -> TextRecognizer:
    return ModelRegistry(OnnxSettings(recognition_manifest=trained / "manifest.json")).recognizer()


def test_manifest_carries_the_dataset_crop_recipe_and_the_training_charset(
    trained: Path, recognizer: TextRecognizer
) -> None:
    manifest = load_manifest(trained / "manifest.json")
    info, records = read_dataset(trained / SYNTHETIC_DATASET)
    assert manifest.task == "recognition" and manifest.name == "crnn-tiny"
    assert manifest.crop is not None and manifest.crop.target_height == manifest.input_size == 32
    assert (manifest.crop.mask_polygon, manifest.crop.deskew) == (info.crop.mask_polygon, info.crop.deskew)
    assert manifest.crop.background == info.crop.background
    training = Charset.from_texts(normalise_text(r.text) for r in records if r.split == "train")
    assert recognizer.charset == training.classes  # the registry also checked the model's class count
    assert len(training.characters) > 40


def test_onnx_runtime_matches_pytorch_on_held_out_batches(trained: Path) -> None:
    model, _ = load_checkpoint(trained / "checkpoint.pt")
    info, records = read_dataset(trained / SYNTHETIC_DATASET)
    samples = load_samples(trained / SYNTHETIC_DATASET, info, [r for r in records if r.split == "test"], 32)
    batches = width_batches([sample.pixels.shape[1] for sample in samples], 4)
    inputs = [
        batch_tensor([samples[i].pixels for i in batch], NORMALISATION) for batch in (batches[0], batches[-1])
    ]
    assert inputs[0].shape[3] < inputs[1].shape[3]
    assert verify_onnx(model, trained / "model.onnx", inputs) <= 1e-4
    assert json.loads((trained / "metrics.json").read_text())["onnx_max_difference"] <= 1e-4


def test_the_served_recogniser_reads_held_out_lines_as_pytorch_does(
    trained: Path, recognizer: TextRecognizer
) -> None:
    info, records = read_dataset(trained / SYNTHETIC_DATASET)
    test = [record for record in records if record.split == "test"]
    crops = [load_crop(trained / SYNTHETIC_DATASET, record, info.crop.background) for record in test]
    served = [result.text for result in recognizer.recognize(crops)]
    truth = [normalise_text(record.text) for record in test]
    assert len(test) >= 10
    assert jiwer.cer(truth, served) <= MAX_TEST_CER
    model, charset = load_checkpoint(trained / "checkpoint.pt")
    samples = load_samples(trained / SYNTHETIC_DATASET, info, test, 32)
    one_by_one = TextRecognizer(recognizer._session, recognizer.manifest, batch_size=1)  # unpadded
    alone = [result.text for result in one_by_one.recognize(crops)]
    assert alone == read_lines(model, charset, NORMALISATION, samples, 1, torch.device("cpu"))


def test_the_server_reads_a_region_with_the_trained_model(trained: Path) -> None:
    """`GET /iiif/3/{id}/{x,y,w,h}/ocr` from a server started with IIIF_ONNX_REC_MANIFEST: the answer is what
    the trained model reads in this process (text and confidence), and close to the ground truth."""
    _, records = read_dataset(trained / SYNTHETIC_DATASET)
    line = next(r for r in records if r.split == "test" and r.properties.get("synthetic.kind") == "straight")
    x, y, width, height = line.bbox
    x, y, width, height = max(0, x - 4), max(0, y - 4), width + 8, height + 8
    manifest = trained / "manifest.json"
    with running_server(trained / SYNTHETIC_PAGES, env={"IIIF_ONNX_REC_MANIFEST": str(manifest)}) as server:
        url = f"{server.base_url}/iiif/3/{line.identifier}/{x},{y},{width},{height}/ocr"
        response = httpx.get(url, timeout=60)
    assert response.status_code == 200, response.text
    answer = response.json()
    page = pyvips.Image.new_from_file(str(trained / SYNTHETIC_PAGES / line.identifier)).numpy()[..., :3]
    registry = ModelRegistry(OnnxSettings(recognition_manifest=manifest))
    crop = np.ascontiguousarray(page[y : y + height, x : x + width])
    text, confidence = read_crop(registry, crop, OCRSettings().min_confidence, "auto")
    assert answer["text"] and answer["text"] == text
    assert answer["confidence"] == pytest.approx(confidence, abs=1e-3)
    assert jiwer.cer(normalise_text(line.text), answer["text"]) <= MAX_REGION_CER
