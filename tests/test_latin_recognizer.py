"""The Latin recogniser fine-tuned from PP-OCRv4 (models/latin_rec): its charset, the old classes its new
ones start from, its training texts, and its export, which writes trained weights back into PP-OCRv4's own
ONNX graph (checked on the untrained model: it must read exactly as PP-OCRv4 with its allowed charset)."""

import unicodedata
from pathlib import Path

import onnx
import pytest

from benchmarks.ocr_page import line_crops
from models.latin_rec.charset import LATIN, seed_class, training_text, unknown_characters
from models.stage2.charset import CHARSET_KEY
from ocr_onnx import ManifestError, ModelRegistry, OnnxSettings, load_manifest
from ocr_onnx.manifest import file_sha256
from ocr_onnx.onnx_settings import MANIFEST_DIR
from tests.test_onnx_models import LINES, copied_manifest, line_boxes, render_page

PPOCR = MANIFEST_DIR / "ppocrv4_rec.json"


def test_the_charset_has_latin_letters_with_diacritics_and_nothing_wide() -> None:
    assert set("AZaz09äöüßÄÖÜæøåÆØÅéèêëàâçœŒſ&„“”‘’–—¬°§") <= set(LATIN.characters)  # noqa: RUF001
    assert LATIN.classes[0] == "" and LATIN.classes[-1] == " "
    assert not [c for c in LATIN.characters if unicodedata.east_asian_width(c) in ("W", "F")]
    assert len(set(LATIN.characters)) == len(LATIN.characters)


@pytest.mark.parametrize(
    ("character", "expected"),
    [("é", "é"), ("ê", "e"), ("Å", "A"), ("ſ", "f"), ("ø", "o"), ("„", '"'), ("¬", "-"), ("¤", None)],  # noqa: RUF001
)
def test_new_classes_start_from_the_character_its_base_letter_or_a_look_alike(
    character: str, expected: str | None
) -> None:
    old = {c: index for index, c in enumerate('-"efoAé', start=1)}
    assert seed_class(character, old) == (old[expected] if expected else None)


def test_training_texts_read_the_line_end_hyphen_as_printed_and_umlauts_as_latin() -> None:
    assert training_text("  e\u0301t\u00e9   qu'il e¬ ") == "été qu'il e-"
    assert training_text("F\u04e7rster") == "Förster"  # Cyrillic o with diaeresis typed for ö
    assert unknown_characters("⟦Mr.⟧ Förster") == {"⟦", "⟧"}


def test_the_untrained_export_reads_like_ppocr_with_its_allowed_charset(tmp_path: Path) -> None:
    """Rows copied from the old classifier, written back into the old graph: the same text, line by line
    (with lower confidences: an accented letter's row starts as a copy of its base letter's, sharing its
    probability until training tells them apart)."""
    pytest.importorskip("onnx2torch")
    from models.latin_rec.ppocr_graph import trained_onnx
    from models.latin_rec.recognizer import from_ppocr

    source = load_manifest(PPOCR).verify()
    model = from_ppocr(source, LATIN)
    onnx.save(
        trained_onnx(source, model.ppocr, model.head, {CHARSET_KEY: LATIN.metadata()}), tmp_path / "m.onnx"
    )
    manifest = copied_manifest(
        tmp_path, PPOCR, package=None, file="m.onnx", sha256=file_sha256(tmp_path / "m.onnx")
    )
    image, boxes = render_page(LINES)
    crops = line_crops(image, line_boxes(boxes))
    ours = ModelRegistry(OnnxSettings(recognition_manifest=manifest)).recognizer()
    theirs = ModelRegistry(OnnxSettings(recognition_manifest=PPOCR)).recognizer()
    assert (len(ours.charset), len(theirs.charset)) == (len(LATIN), 6625)
    assert [r.text for r in ours.recognize(crops)] == [r.text for r in theirs.recognize(crops)]


def test_a_model_whose_charset_does_not_match_its_classes_is_refused_at_load(tmp_path: Path) -> None:
    """One character missing from the metadata would shift every later class by one: the model never loads."""
    model = onnx.load(str(load_manifest(PPOCR).verify()))
    entry = next(prop for prop in model.metadata_props if prop.key == CHARSET_KEY)
    entry.value = entry.value.split("\n", 1)[1]
    onnx.save(model, tmp_path / "m.onnx")
    manifest = copied_manifest(
        tmp_path, PPOCR, package=None, file="m.onnx", sha256=file_sha256(tmp_path / "m.onnx")
    )
    with pytest.raises(ManifestError, match="has 6625 classes but 6624 characters"):
        ModelRegistry(OnnxSettings(recognition_manifest=manifest)).recognizer()
