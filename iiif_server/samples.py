"""Sample images for a fresh clone: a large pyramidal document page, the validator's test image, and more."""

import importlib.util
import random
from dataclasses import dataclass
from pathlib import Path

import pyvips

from .convert import convert_to_pyramid

VALIDATOR_IDENTIFIER = "67352ccc-d1b0-11e1-89ae-279075081939"
PAGE_WIDTH, PAGE_HEIGHT = 6000, 8000
SAMPLE_LINES = [
    "The quick brown fox jumps over the lazy dog.",
    "IIIF Image API three point zero, level two.",
    "Polygon masks keep neighbouring lines out.",
    "Libraries, archives and machine learning teams.",
    "Every line of this page is rendered text.",
]


@dataclass(frozen=True)
class PageLine:
    """One rendered line of a sample page: its text and its ink box `x, y, width, height` in page pixels."""

    text: str
    box: tuple[int, int, int, int]

    @property
    def polygon(self) -> tuple[tuple[int, int], ...]:
        """The box as a clockwise ring of its four corners."""
        x, y, w, h = self.box
        return ((x, y), (x + w, y), (x + w, y + h), (x, y + h))


def validator_image(path: Path) -> Path:
    """The IIIF validator's 1000x1000 grid of 100 px squares, coloured from its own table."""
    from iiif_validator.validator import ValidationInfo

    colors = ValidationInfo().colorInfo
    image = pyvips.Image.black(1000, 1000, bands=3)
    for x in range(10):
        for y in range(10):
            image = image.draw_rect(list(colors[x][y]), x * 100, y * 100, 100, 100, fill=True)
    image.cast("uchar").copy(interpretation="srgb").pngsave(str(path))
    return path


def document_page(
    width: int, height: int, lines: list[str], seed: int = 7
) -> tuple[pyvips.Image, list[PageLine]]:
    """A paper-coloured page of rendered text lines (grey ink), deterministic from `seed`, and its ground
    truth: the lines drawn, top to bottom."""
    drawn: list[PageLine] = []
    rng = random.Random(seed)
    page = pyvips.Image.black(width, height).new_from_image([246, 240, 226]).copy(interpretation="srgb")
    noise = pyvips.Image.gaussnoise(-(-width // 8), -(-height // 8), sigma=6, mean=0, seed=seed).resize(8)
    page = (page + noise.crop(0, 0, width, height)).cast("uchar")
    margin = width // 12
    dpi = max(72, width // 20)
    y = margin
    while True:
        line = rng.choice(lines)
        text = pyvips.Image.text(line, font="serif", dpi=dpi)  # as large as its ink, no more
        if y + text.height > height - margin:
            break
        ink = text.new_from_image([40, 30, 25]).bandjoin(text).copy(interpretation="srgb")
        page = page.composite2(ink, "over", x=margin, y=y).flatten()
        drawn.append(PageLine(line, (margin, y, text.width, text.height)))
        y += int(text.height * 1.8)
    return page.cast("uchar"), drawn


def write_ground_truth(lines: list[PageLine], image: Path, size: tuple[int, int], target: Path) -> Path:
    """The lines of a page as PAGE XML (one TextLine per line, its ink box as Coords, its text)."""
    from extensions.annotations.model import AnnotatedRegion  # the core itself never needs the extensions
    from extensions.annotations.page_xml import serialize

    regions = [
        AnnotatedRegion(f"l{n:04d}", line.polygon, "line", text=line.text) for n, line in enumerate(lines, 1)
    ]
    target.write_bytes(serialize(regions, image.name, size))
    return target


def generate_samples(folder: Path, page_size: tuple[int, int] = (PAGE_WIDTH, PAGE_HEIGHT)) -> list[Path]:
    """Write the sample set into `folder` (skipping files already there) and return their paths.

    The validator's test image needs the `iiif-validator` package (a test dependency) for its colour table.
    Each document page gets its ground truth next to it (`page1.gt.xml`, PAGE XML), written when missing:
    the same seed draws the same lines, so it matches a page written before.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    validator_png = folder / f"{VALIDATOR_IDENTIFIER}.png"
    if not validator_png.exists() and importlib.util.find_spec("iiif_validator"):
        written.append(validator_image(validator_png))
    page_tif = folder / "page1.tif"
    page, lines = document_page(*page_size, SAMPLE_LINES)
    if not page_tif.exists():
        flat = folder / ".page1-flat.v"
        page.write_to_file(str(flat))
        written.append(convert_to_pyramid(flat, page_tif))
        flat.unlink()
    if not (folder / "page1.gt.xml").exists():
        written.append(write_ground_truth(lines, page_tif, page_size, folder / "page1.gt.xml"))
    small = folder / "page2.jpg"
    page, lines = document_page(1200, 1600, SAMPLE_LINES, seed=11)
    if not small.exists():
        page.jpegsave(str(small), Q=90)
        written.append(small)
    if not (folder / "page2.gt.xml").exists():
        written.append(write_ground_truth(lines, small, (1200, 1600), folder / "page2.gt.xml"))
    logo = folder / "transparent.png"
    if not logo.exists():
        disc = pyvips.Image.black(400, 300).draw_circle(255, 200, 150, 120, fill=True)
        colour = pyvips.Image.black(400, 300).new_from_image([200, 30, 60]).copy(interpretation="srgb")
        colour.bandjoin(disc).cast("uchar").pngsave(str(logo))
        written.append(logo)
    return written
