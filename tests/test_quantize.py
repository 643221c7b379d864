"""`iiif-train quantize`: an INT8 copy of a model with its own manifest, which the server loads and reads."""

import json
from pathlib import Path

import pytest
from rendered_lines import rendered_line

from models.cli import main
from ocr_onnx import ModelRegistry, OnnxSettings, load_manifest
from ocr_onnx.onnx_settings import MANIFEST_DIR

pytest.importorskip("onnx")


def test_the_quantized_recogniser_has_its_own_manifest_and_reads(tmp_path: Path) -> None:
    source = MANIFEST_DIR / "ppocrv4_rec.json"
    main(["quantize", str(source), "--out", str(tmp_path)])
    written = tmp_path / "ppocrv4-rec-int8.json"
    raw, original = (
        json.loads(written.read_text(encoding="utf-8")),
        json.loads(source.read_text(encoding="utf-8")),
    )
    assert raw["name"] == "ppocrv4-rec-int8" and "INT8" in raw["version"]
    assert "package" not in raw and (tmp_path / raw["file"]).is_file()
    assert {key: raw[key] for key in ("crop", "allowed_charset", "normalisation", "charset_key")} == {
        key: original[key] for key in ("crop", "allowed_charset", "normalisation", "charset_key")
    }
    manifest = load_manifest(written)
    assert (
        manifest.verify().stat().st_size < 0.8 * load_manifest(source).verify().stat().st_size
    )  # int8 weights
    recognizer = ModelRegistry(OnnxSettings(recognition_manifest=written)).recognizer()
    assert recognizer.manifest.key != load_manifest(source).key  # its predictions are cached apart
    assert len(recognizer.charset) > 100
    (read,) = recognizer.recognize([rendered_line("Quantised models read")])
    assert read.text == "Quantised models read"
