"""The sample pages' ground truth: each line's box is exactly its rendered ink; it is written as PAGE XML."""

import itertools
import os
from pathlib import Path

import numpy as np
import pytest
import pyvips

from extensions.annotations import page_xml
from iiif_server.samples import SAMPLE_LINES, PageLine, document_page, generate_samples

INK = 200  # a pixel is ink when its darkest channel is below this; the paper never is (its minimum is ~200)


def ink_mask(image: pyvips.Image, threshold: int = INK) -> np.ndarray:
    pixels = image.numpy().reshape(image.height, image.width, image.bands)
    return pixels[..., :3].min(axis=2) < threshold


def ink_box(ink: np.ndarray, line: PageLine, pad: int) -> tuple[int, int, int, int]:
    """The bounding box of the ink in the line's box grown by `pad` pixels (within the page)."""
    x, y, w, h = line.box
    x0, y0 = max(0, x - pad), max(0, y - pad)
    ys, xs = np.nonzero(ink[y0 : y + h + pad, x0 : x + w + pad])
    assert len(xs), f"no ink around {line}"
    return (
        x0 + int(xs.min()),
        y0 + int(ys.min()),
        int(xs.max() - xs.min()) + 1,
        int(ys.max() - ys.min()) + 1,
    )


@pytest.mark.parametrize("size", [(1200, 900), (2400, 1600), (1000, 750)])
def test_ground_truth_boxes_are_the_ink_of_each_line(size: tuple[int, int]) -> None:
    page, lines = document_page(*size, SAMPLE_LINES)
    assert (page.width, page.height) == size
    ink = ink_mask(page)
    assert len(lines) >= 20
    gap = min(b.box[1] - (a.box[1] + a.box[3]) for a, b in itertools.pairwise(lines))
    assert gap >= 6
    for line in lines:
        assert line.text in SAMPLE_LINES
        assert ink_box(ink, line, gap // 2) == line.box
    inside_lines = np.zeros(size[1], bool)
    for line in lines:
        inside_lines[line.box[1] : line.box[1] + line.box[3]] = True
    assert not ink[~inside_lines].any(), "ink outside every line's rows"
    assert inside_lines.sum() < size[1] / 2  # the checks above are not vacuous: most rows are paper


def test_the_same_seed_draws_the_same_page() -> None:
    page, first = document_page(1200, 1600, SAMPLE_LINES, seed=11)
    same, again = document_page(1200, 1600, SAMPLE_LINES, seed=11)
    _, other = document_page(1200, 1600, SAMPLE_LINES, seed=12)
    assert first == again
    assert page.numpy().tobytes() == same.numpy().tobytes()  # the paper's noise too
    assert [line.text for line in first] != [line.text for line in other]
    assert [line.box[1::2] for line in first] == [line.box[1::2] for line in other]  # lines are as tall


def edges(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    x, y, w, h = box
    return x, y, x + w, y + h


def gt_lines(path: Path | bytes) -> list[tuple[str | None, tuple[int, int, int, int]]]:
    """Text and box of each TextLine of a ground-truth PAGE XML file (or its bytes)."""
    found = []
    for region in page_xml.parse(path if isinstance(path, bytes) else path.read_bytes()):
        if region.region_type == "TextLine":
            xs, ys = zip(*region.polygon, strict=True)
            box = (int(min(xs)), int(min(ys)), int(max(xs) - min(xs)), int(max(ys) - min(ys)))
            found.append((region.text, box))
    return found


def test_generate_samples_writes_ground_truth_next_to_each_page(tmp_path: Path) -> None:
    written = generate_samples(tmp_path, page_size=(1200, 1600))
    assert {tmp_path / "page1.gt.xml", tmp_path / "page2.gt.xml"} <= set(written)
    _, lines = document_page(1200, 1600, SAMPLE_LINES)
    assert gt_lines(tmp_path / "page1.gt.xml") == [(line.text, line.box) for line in lines]
    page2 = gt_lines(tmp_path / "page2.gt.xml")
    assert page2 == [(line.text, line.box) for line in document_page(1200, 1600, SAMPLE_LINES, seed=11)[1]]
    assert page2 != gt_lines(tmp_path / "page1.gt.xml")
    ink = ink_mask(pyvips.Image.new_from_file(str(tmp_path / "page2.jpg")), threshold=128)
    for text, box in page2:  # the JPEG's darker ink (its ringing is lighter), within a pixel
        found = ink_box(ink, PageLine(text or "", box), 4)
        assert all(abs(a - b) <= 1 for a, b in zip(edges(found), edges(box), strict=True)), (found, box)


def test_missing_ground_truth_is_written_for_existing_pages(tmp_path: Path) -> None:
    generate_samples(tmp_path, page_size=(1200, 1600))
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in tmp_path.iterdir()}
    for name in ("page1.gt.xml", "page2.gt.xml"):
        os.utime(tmp_path / name, ns=(0, 0))
    assert generate_samples(tmp_path, page_size=(1200, 1600)) == []  # all present: nothing rewritten
    assert (tmp_path / "page1.gt.xml").stat().st_mtime_ns == 0
    (tmp_path / "page1.gt.xml").unlink()
    (tmp_path / "page2.gt.xml").unlink()
    assert sorted(generate_samples(tmp_path, page_size=(1200, 1600))) == [
        tmp_path / "page1.gt.xml",
        tmp_path / "page2.gt.xml",
    ]
    for name, (mtime, data) in before.items():
        if name.endswith(".gt.xml"):
            assert gt_lines(tmp_path / name) == gt_lines(data)
        else:
            assert (tmp_path / name).stat().st_mtime_ns == mtime, f"{name} was rewritten"
