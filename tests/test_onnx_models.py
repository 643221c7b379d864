"""The in-process ONNX models (`ocr_onnx`) on a rendered page of known text, their manifests and sessions.

The page is 1200x800: six lines of 200 dpi text (serif, sans, italic, bold; ink 31-39 px tall) at known
places, the last row holding two lines far apart. Measured on it (PP-OCRv4 mobile models from
rapidocr-onnxruntime 1.4.4, ONNX Runtime 1.32 on 2 CPU cores): the detector finds all 6 lines in reading
order, recall and precision 1.0 at IoU >= 0.5 (IoUs 0.66-0.97), confidences 0.87-0.95, each polygon covering
93-99.9 % of its ink box; the recogniser reads the true line boxes and the detected lines both with CER 0.0,
text confidences 0.95-1.0. The thresholds leave room for other CPUs and ONNX Runtime builds.
"""

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import pyvips
from shapely.geometry import Polygon, box

from benchmarks.ocr_metrics import Box, box_of, cer, match_boxes
from benchmarks.ocr_page import line_crops
from iiif_server.env import Env
from ocr_onnx import (
    DetectedRegion,
    ManifestError,
    ModelRegistry,
    OnnxSettings,
    Recognition,
    choose_providers,
    create_session,
    default_registry,
    detection,
    load_manifest,
    recognition,
)
from ocr_onnx import sessions as sessions_module

WIDTH, HEIGHT = 1200, 800
INK, PAPER = [35, 30, 40], [245, 240, 228]
MAX_CER = 0.03
MIN_TEXT_CONFIDENCE = 0.8
DEFAULTS = OnnxSettings()
PPOCR_REC = DEFAULTS.recognition_manifest.parent / "ppocrv4_rec.json"  # the default before latin_rec.json
CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TENSORRT = "TensorrtExecutionProvider"


@dataclass(frozen=True)
class Line:
    text: str
    font: str
    x: int
    y: int


LINES = [
    Line("The quick brown fox jumps over the lazy dog.", "serif", 60, 60),
    Line("Pack my box with five dozen liquor jugs", "sans", 90, 180),
    Line("Sphinx of black quartz, judge my vow!", "serif italic 14", 60, 300),
    Line("Masks keep neighbouring lines out.", "serif bold", 120, 430),
    Line("Hello world", "sans 14", 60, 580),
    Line("Page 12", "serif", 900, 585),
]


def render_page(lines: list[Line]) -> tuple[np.ndarray, list[Box]]:
    """Dark ink on paper, and each line's ink box (pyvips's text mask is as large as its ink)."""
    alpha = pyvips.Image.black(WIDTH, HEIGHT)
    boxes = []
    for line in lines:
        mask = pyvips.Image.text(line.text, font=line.font, dpi=200)
        alpha = alpha.insert(mask, line.x, line.y)
        boxes.append((line.x, line.y, mask.width, mask.height))
    return alpha.ifthenelse(INK, PAPER, blend=True).cast("uchar").numpy(), boxes


@pytest.fixture(scope="module")
def page() -> tuple[np.ndarray, list[Box]]:
    return render_page(LINES)


@pytest.fixture(scope="module")
def registry() -> ModelRegistry:
    return default_registry()


@pytest.fixture(scope="module")
def regions(registry: ModelRegistry, page: tuple[np.ndarray, list[Box]]) -> list[DetectedRegion]:
    return registry.detector().detect(page[0])


def line_boxes(ink_boxes: list[Box]) -> list[tuple[tuple[float, float], ...]]:
    """True line boxes: the ink and a quarter of its height around it (crops cut to the ink lose spaces)."""
    return [((x - h / 4, y - h / 4), (x + w + h / 4, y + h * 5 / 4)) for x, y, w, h in ink_boxes]


def page_cer(read: list[Recognition]) -> float:
    return cer("\n".join(line.text for line in LINES), "\n".join(result.text for result in read))


# --- Stage 1: detection ---------------------------------------------------------------------------------


def test_the_detector_finds_every_line_in_reading_order(
    regions: list[DetectedRegion], page: tuple[np.ndarray, list[Box]]
) -> None:
    match = match_boxes(page[1], [box_of(region.polygon) for region in regions])
    assert (match.recall, match.precision) == (1.0, 1.0), match
    assert match.pairs == tuple((index, index) for index in range(len(LINES)))
    assert all(0.5 <= region.confidence <= 1.0 and region.region_type == "line" for region in regions)


def test_polygons_cover_the_ink_in_input_pixels(
    regions: list[DetectedRegion], page: tuple[np.ndarray, list[Box]]
) -> None:
    """Each line's polygon lies on the page and covers at least 90 % of its ink box (measured: 93-99.9 %)."""
    for region, (x, y, width, height) in zip(regions, page[1], strict=True):
        polygon = Polygon(region.polygon)
        assert polygon.is_valid and box(0, 0, WIDTH, HEIGHT).contains(polygon)
        assert polygon.intersection(box(x, y, x + width, y + height)).area >= 0.9 * width * height


def test_filters_drop_unsure_and_small_regions(
    registry: ModelRegistry, page: tuple[np.ndarray, list[Box]]
) -> None:
    detector = registry.detector()
    assert detector.detect(page[0], min_confidence=0.99) == []
    small = detector.detect(page[0], min_area=20_000)
    assert 0 < len(small) < len(LINES)
    assert detector.detect(np.full((300, 400, 3), 255, np.uint8)) == []


def test_only_regions_mostly_inside_another_are_merged() -> None:
    """A fragment inside a line joins it (confidence weighted by area); lines that touch stay apart."""
    line, fragment, next_line = box(0, 0, 100, 20), box(80, 5, 110, 15), box(0, 18, 100, 38)
    merged = detection._merge_overlapping([(fragment, 0.6), (line, 0.9), (next_line, 0.8)])
    assert [round(polygon.area) for polygon, _ in merged] == [2100, 2000]
    assert merged[0][1] == pytest.approx((0.9 * 2000 + 0.6 * 300) / 2300)


def test_the_detector_refuses_other_arrays(registry: ModelRegistry) -> None:
    with pytest.raises(ValueError, match="uint8"):
        registry.detector().detect(np.zeros((100, 100), np.uint8))


# --- Stage 2: recognition -------------------------------------------------------------------------------


def test_the_recognizer_reads_the_true_lines(
    registry: ModelRegistry, page: tuple[np.ndarray, list[Box]]
) -> None:
    recognizer = registry.recognizer()
    read = recognizer.recognize(line_crops(page[0], line_boxes(page[1])))
    assert page_cer(read) <= MAX_CER, read
    assert min(result.confidence for result in read) >= MIN_TEXT_CONFIDENCE, read


def test_detected_lines_are_read(
    registry: ModelRegistry, page: tuple[np.ndarray, list[Box]], regions: list[DetectedRegion]
) -> None:
    recognizer = registry.recognizer()
    read = recognizer.recognize(line_crops(page[0], [r.polygon for r in regions]))
    assert page_cer(read) <= MAX_CER, read


def test_batches_keep_the_order_of_the_crops(page: tuple[np.ndarray, list[Box]]) -> None:
    """Batches of two: crops are sorted by width for the batches, answers come back in the callers' order."""
    recognizer = ModelRegistry(OnnxSettings(recognition_batch_size=2)).recognizer()
    crops = line_crops(page[0], line_boxes(page[1][::-1]))
    crops.insert(2, np.zeros((0, 10, 3), np.uint8))
    texts = [result.text for result in recognizer.recognize(crops)]
    expected = [line.text for line in reversed(LINES)]
    expected.insert(2, "")
    assert sum(cer(want, got) for want, got in zip(expected, texts, strict=True)) <= MAX_CER * len(LINES)
    assert texts[2] == ""


def test_the_recognizer_reads_batches_at_once_each_on_one_thread(page: tuple[np.ndarray, list[Box]]) -> None:
    """IIIF_ONNX_INTRA_THREADS=2: two batches at a time, each run on one thread, read as one after another."""
    recognizer = ModelRegistry(OnnxSettings(intra_threads=2, recognition_batch_size=2)).recognizer()
    assert recognizer._session.get_session_options().intra_op_num_threads == 1
    crops = line_crops(page[0], line_boxes(page[1]))
    one_at_a_time = recognition.TextRecognizer(recognizer._session, recognizer.manifest, 2, workers=1)
    assert recognizer.recognize(crops) == one_at_a_time.recognize(crops)


def test_batches_are_cut_by_padded_width() -> None:
    """Short crops share a run up to the batch size; a run stops before its padded width passes the budget."""
    widths = [100, 100, 120, 300, 300, 400, 900, 3000]
    batches = recognition.width_batches(list(range(8)), widths, batch_size=2)
    assert batches == [[0, 1], [2, 3], [4, 5], [6], [7]]
    wide = recognition.width_batches(list(range(8)), widths, batch_size=8)
    assert wide == [[0, 1, 2], [3, 4], [5], [6], [7]]
    assert all(len(b) * max(widths[i] for i in b) <= recognition.BATCH_COLUMNS for b in wide if len(b) > 1)


def test_the_recognizer_refuses_other_arrays(registry: ModelRegistry) -> None:
    crops = [np.full((48, 100, 3), 255, np.uint8), np.zeros((48, 100, 3), np.float32)]
    with pytest.raises(ValueError, match="crop 1"):
        registry.recognizer().recognize(crops)


@pytest.mark.parametrize(("manifest", "classes"), [(PPOCR_REC, 6625), (DEFAULTS.recognition_manifest, 339)])
def test_the_charset_comes_from_the_model(manifest: Path, classes: int) -> None:
    """The characters in the model's metadata (PP-OCRv4: 6623, the Latin default: 337), with the CTC blank
    first and the space last."""
    recognizer = ModelRegistry(OnnxSettings(recognition_manifest=manifest)).recognizer()
    assert len(recognizer.charset) == classes
    assert (recognizer.charset[0], recognizer.charset[-1]) == ("", " ")
    assert {"A", "z", "0", "!", "?"} <= set(recognizer.charset)
    assert recognizer.recognize([]) == []
    assert recognizer.recognize([np.full((48, 200, 3), 255, np.uint8)])[0].text == ""


# --- manifests ------------------------------------------------------------------------------------------


def test_the_default_manifests_match_their_files() -> None:
    detection = load_manifest(DEFAULTS.detection_manifest)
    recognition = load_manifest(DEFAULTS.recognition_manifest)
    assert detection.verify().name == "ppocrv4_det_folded.onnx"  # iiif-train fold of ppocrv4_det.json
    assert recognition.verify().name == "latin_rec_folded.onnx"  # iiif-train fold of latin_rec.json
    assert load_manifest(DEFAULTS.detection_manifest.parent / "ppocrv4_det.json").verify().name == (
        "ch_PP-OCRv4_det_infer.onnx"
    )  # the float ones stay selectable
    assert (
        load_manifest(DEFAULTS.recognition_manifest.parent / "latin_rec.json").verify().name
        == "latin_rec.onnx"
    )
    assert load_manifest(PPOCR_REC).verify().name == "ch_PP-OCRv4_rec_infer.onnx"  # still selectable
    assert (detection.task, detection.input_size % 32, detection.classes) == ("detection", 0, ("line",))
    assert recognition.crop is not None and recognition.crop.target_height == recognition.input_size == 48
    assert recognition.normalisation.channel_order == "BGR"


def test_ppocr_writes_latin_only() -> None:
    """Its allowed charset: Latin letters (Latin-1 Supplement, Extended-A and B), digits, ASCII punctuation,
    typographic quotes and dashes, § and ¬, the space; of these the "ch" dictionary lacks U+201E, U+2013,
    ¬ and most accented letters, and its CJK and fullwidth classes are never written."""
    allowed = load_manifest(PPOCR_REC).allowed_charset
    assert allowed is not None
    assert set("Azéßæøœſ09&!?,;‘’“”„–—§¬ ") <= allowed  # noqa: RUF001
    assert not set("中，：（「×÷") & allowed  # noqa: RUF001
    charset = ModelRegistry(OnnxSettings(recognition_manifest=PPOCR_REC)).recognizer().charset
    writable = {c for c in charset[1:] if c in allowed}
    assert len(writable) == 95 + 6 + 22  # ASCII, space; 4 quotes, em dash, §; 22 accented letters


def test_the_default_recogniser_can_write_every_latin_letter_and_nothing_wide(
    registry: ModelRegistry,
) -> None:
    """The Latin default's classes are all allowed, accented letters, the long s, `„` and `¬` included."""
    charset = set(registry.recognizer().charset[1:])
    allowed = load_manifest(DEFAULTS.recognition_manifest).allowed_charset
    assert allowed is not None and charset <= allowed
    assert set("Azéêßæøåœſ09&!?,;‘’“”„–—§¬° ") <= charset  # noqa: RUF001
    assert not set("中，：（「×÷") & allowed  # noqa: RUF001


def copied_manifest(folder: Path, source: Path, **changes: object) -> Path:
    """A copy of a manifest, with `changes`, written to `folder`."""
    raw = json.loads(source.read_text()) | changes
    target = folder / source.name
    target.write_text(json.dumps({key: value for key, value in raw.items() if value is not None}))
    return target


def test_a_tampered_model_file_is_refused(tmp_path: Path) -> None:
    original = load_manifest(DEFAULTS.detection_manifest).path.read_bytes()
    tampered = bytearray(original)
    tampered[len(tampered) // 2] ^= 0xFF
    (tmp_path / "det.onnx").write_bytes(bytes(tampered))
    manifest_path = copied_manifest(tmp_path, DEFAULTS.detection_manifest, package=None, file="det.onnx")
    manifest = load_manifest(manifest_path)
    with pytest.raises(ManifestError, match="sha256"):
        manifest.verify()
    with pytest.raises(ManifestError, match="sha256"):
        ModelRegistry(OnnxSettings(detection_manifest=manifest_path)).detector()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"package": "no_such_model_package"}, "not installed"),
        ({"task": "segmentation"}, "unknown task"),
        ({"crop": None}, "crop"),
        ({"normalisation": {"channel_order": "BGR", "mean": [0.5], "std": [0.5, 0.5, 0.5]}}, "three values"),
        ({"allowed_charset": {"sets": ["latin", "cyrillic"]}}, "unknown sets"),
        ({"allowed_charset": "latin"}, "allowed_charset must be an object"),
    ],
)
def test_broken_manifests_are_refused(tmp_path: Path, changes: dict[str, object], reason: str) -> None:
    with pytest.raises(ManifestError, match=reason):
        load_manifest(copied_manifest(tmp_path, DEFAULTS.recognition_manifest, **changes))


def test_the_allowed_charset_is_part_of_the_cache_key(tmp_path: Path) -> None:
    """Predictions cached before the charset was set (or changed) are not served after."""
    shipped = load_manifest(DEFAULTS.recognition_manifest)
    plain = load_manifest(copied_manifest(tmp_path, DEFAULTS.recognition_manifest, allowed_charset=None))
    assert plain.key == f"{plain.name}@{plain.version}"
    assert shipped.key.startswith(f"{plain.key}+charset:")


def test_an_allowed_charset_leaving_no_character_is_refused_at_load(tmp_path: Path) -> None:
    manifest = copied_manifest(tmp_path, PPOCR_REC, allowed_charset={"characters": "ж"})
    with pytest.raises(ManifestError, match="allowed_charset leaves none of the model's 6624 characters"):
        ModelRegistry(OnnxSettings(recognition_manifest=manifest)).recognizer()


def test_a_recognition_model_is_no_detector() -> None:
    settings = OnnxSettings(detection_manifest=DEFAULTS.recognition_manifest)
    with pytest.raises(ManifestError, match="not a detection model"):
        ModelRegistry(settings).detector()


# --- sessions -------------------------------------------------------------------------------------------


def test_models_are_loaded_once_per_process(registry: ModelRegistry) -> None:
    assert default_registry() is registry
    assert registry.detector() is registry.detector()
    assert registry.recognizer() is registry.recognizer()


def test_threads_asking_at_once_share_one_session(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def counting(manifest: object, settings: OnnxSettings) -> object:
        calls.append(manifest)
        return create_session(manifest, settings)  # type: ignore[arg-type]

    monkeypatch.setattr(sessions_module, "create_session", counting)
    registry = ModelRegistry(DEFAULTS)
    found = []
    threads = [threading.Thread(target=lambda: found.append(registry.detector())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert all(detector is found[0] for detector in found)


@pytest.mark.parametrize(
    ("requested", "available", "chosen"),
    [
        ((), [CPU], [CPU]),
        ((), ["AzureExecutionProvider", CPU], [CPU]),
        ((), [TENSORRT, CUDA, CPU], [CUDA, CPU]),
        ((TENSORRT, CUDA, CPU), [TENSORRT, CUDA, CPU], [TENSORRT, CUDA, CPU]),
        ((CPU,), [CUDA, CPU], [CPU]),
    ],
)
def test_providers(requested: tuple[str, ...], available: list[str], chosen: list[str]) -> None:
    assert choose_providers(requested, available) == chosen


def test_a_missing_provider_that_was_asked_for_is_an_error() -> None:
    with pytest.raises(ValueError, match=CUDA):
        choose_providers((CUDA,), [CPU])


def test_without_a_gpu_sessions_run_on_the_cpu() -> None:
    session = create_session(load_manifest(DEFAULTS.detection_manifest), DEFAULTS)
    assert session.get_providers()[-1] == CPU
    if CUDA not in ort.get_available_providers():
        assert session.get_providers() == [CPU]


def test_settings_come_from_the_environment() -> None:
    environment = {
        "IIIF_ONNX_INTRA_THREADS": "2",
        "IIIF_ONNX_INTER_THREADS": "1",
        "IIIF_ONNX_PROVIDERS": f"{CUDA}, {CPU}",
        "IIIF_ONNX_DET_MAX_SIDE": "1280",
        "IIIF_ONNX_REC_BATCH_SIZE": "16",
    }
    settings = OnnxSettings.read(Env(environment))
    assert (settings.intra_threads, settings.inter_threads, settings.providers) == (2, 1, (CUDA, CPU))
    assert (settings.detection_max_side, settings.recognition_batch_size) == (1280, 16)
    assert settings.detection_manifest == DEFAULTS.detection_manifest


def test_sessions_use_the_usable_cores_and_do_not_spin() -> None:
    options = sessions_module.session_options(OnnxSettings())
    assert options.intra_op_num_threads == sessions_module.usable_cores() >= 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert sessions_module.session_options(OnnxSettings(intra_threads=3)).intra_op_num_threads == 3
