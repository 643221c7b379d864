"""Synthetic pages: a layout filled with text in real fonts on paper, with its ground truth.

Each page is NAME.png, NAME.page.xml (TextRegion blocks holding TextLines, with `custom` properties) and
NAME.w3c.json (a IIIF AnnotationPage of the lines), all fixed by the seed and the page's index.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyvips
import shapely
from shapely.geometry import MultiPolygon, Polygon

from extensions.annotations import iiif, page_xml
from extensions.annotations.model import AnnotatedRegion

from . import backgrounds
from .fonts import FontFace, FontFamily, available_families
from .layouts import BlockPlan, PageLayout, plan_page
from .line_render import PlacedLine, characters_that_fit, place, set_text, size_for_band
from .text_source import MIN_CHARS, TextStream, caption_prefix, title

A4_150_DPI = (1240, 1754)
CREATOR = "iiif-train synth"
CREATED = datetime(2024, 1, 1, tzinfo=UTC)
"""The fixed date of every synthetic PAGE file, so that a seed gives the same bytes."""
MAX_CHARS = 60
_DOTS_PER_MM = 150 / 25.4


@dataclass(frozen=True)
class SyntheticPage:
    """A rendered page (H, W, 3) uint8 RGB, the text's ink coverage (H, W) float32 0..1 before paper and
    scanning, the layout, and the regions: each block (`TextRegion`) then its lines (`line`), in reading
    order."""

    image: np.ndarray
    ink: np.ndarray
    layout: PageLayout
    regions: tuple[AnnotatedRegion, ...]

    @property
    def lines(self) -> list[AnnotatedRegion]:
        return [r for r in self.regions if r.region_type == "line"]


def render_page(size: tuple[int, int], seed: int) -> SyntheticPage:
    """One page of `size` (width, height) from `seed`."""
    rng = np.random.default_rng(seed)
    width, height = size
    layout = plan_page(width, height, int(rng.integers(2**63)))
    families = available_families()
    body = families[rng.integers(len(families))]
    display = families[rng.integers(len(families))] if rng.random() < 0.5 else body
    coverage = np.zeros((height, width), np.float32)
    regions: list[AnnotatedRegion] = []
    for number, block in enumerate(layout.blocks, 1):
        face = _face(block, body, display)
        placed = _fill(block, face, rng, size)
        if not placed:
            continue
        block_id = f"r{number:02d}"
        lines = [
            _line_region(f"{block_id}l{n:02d}", block, face, line, text)
            for n, (line, text) in enumerate(placed, 1)
        ]
        for line, _ in placed:
            window = coverage[
                line.y : line.y + line.coverage.shape[0], line.x : line.x + line.coverage.shape[1]
            ]
            np.maximum(window, line.coverage**0.7 * rng.uniform(0.9, 1.0), out=window)  # solid stroke cores
        regions += [_block_region(block_id, block, lines), *lines]
    return SyntheticPage(_paint(layout, coverage, rng), coverage, layout, tuple(regions))


def _face(block: BlockPlan, body: FontFamily, display: FontFamily) -> FontFace:
    """Titles and headings in the display family, the rest in the body family, in the block's role."""
    family = display if block.structure in ("title", "heading") else body
    return {"regular": family.regular, "bold": family.bold, "italic": family.italic}[block.role]


def _texts(block: BlockPlan, rng: np.random.Generator) -> TextStream | None:
    """Running text for the block, or None where each line is a title of its own."""
    if block.structure in ("title", "heading", "header"):
        return None
    return TextStream(rng, caption_prefix(rng) if block.structure == "caption" else "")


def _fill(
    block: BlockPlan, face: FontFace, rng: np.random.Generator, page_size: tuple[int, int]
) -> list[tuple[PlacedLine, str]]:
    """Each slot's text set in `face` (words dropped until it fits its room) and placed on the page."""
    size = size_for_band(face, block.band)
    stream = _texts(block, rng)
    placed = []
    for slot in block.lines:
        wanted = min(MAX_CHARS, characters_that_fit(face, size, slot.width * slot.fill * 1.08))
        text = title(rng, wanted) if stream is None else stream.line(wanted)
        ink = set_text(text, face, size)
        while ink.width > slot.width and " " in text:
            text = text.rsplit(" ", 1)[0]
            ink = set_text(text, face, size)
        if ink.width > slot.width or len(text) < MIN_CHARS:
            continue
        x = slot.x + ((slot.width - ink.width) / 2 if slot.centred else 0)
        line_placement = block.placement.shifted(x - ink.left, slot.y - ink.band[0])
        placed.append((place(ink, line_placement, block.pad, page_size), text))
    return placed


def _properties(block: BlockPlan, face: FontFace | None) -> tuple[tuple[str, str], ...]:
    """What the page records of a block or line: structure type, kind, angle (and wave), font."""
    found = [
        ("structure.type", block.structure),
        ("synthetic.kind", block.kind),
        ("synthetic.angle", f"{round(block.angle, 2):g}"),
    ]
    if block.kind == "curved":
        found += [
            ("synthetic.amplitude", f"{block.placement.amplitude:.1f}"),
            ("synthetic.wavelength", f"{block.placement.wavelength:.0f}"),
        ]
    if face is not None:
        found.append(("synthetic.font", face.name))
    return tuple(found)


def _line_region(
    identifier: str, block: BlockPlan, face: FontFace, line: PlacedLine, text: str
) -> AnnotatedRegion:
    """A line's region: its polygon in whole pixels (rounded half up), text and properties."""
    polygon = tuple((float(np.floor(x + 0.5)), float(np.floor(y + 0.5))) for x, y in line.polygon)
    return AnnotatedRegion(identifier, polygon, "line", text=text, properties=_properties(block, face))


def _block_region(identifier: str, block: BlockPlan, lines: list[AnnotatedRegion]) -> AnnotatedRegion:
    """A block's region: the convex hull of its lines, their texts one per line."""
    hull = MultiPolygon([Polygon(line.polygon) for line in lines]).convex_hull
    polygon = tuple((float(x), float(y)) for x, y in shapely.get_coordinates(hull.exterior)[:-1])
    text = "\n".join(line.text or "" for line in lines)
    return AnnotatedRegion(identifier, polygon, "TextRegion", text=text, properties=_properties(block, None))


def _paint(layout: PageLayout, coverage: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Paper with figures, bleed-through and the ink of the lines, as a scanner sees it."""
    sheet = backgrounds.paper(rng, layout.width, layout.height)
    for x0, y0, x1, y1 in layout.figures:
        left, top, right, bottom = round(x0), round(y0), round(x1), round(y1)
        sheet[top:bottom, left:right] = backgrounds.figure(rng, right - left, bottom - top)
    if rng.random() < 0.4:
        sheet = backgrounds.bleed_through(sheet, coverage, rng)
    ink = backgrounds.ink_colour(rng)
    page = sheet * (1 - coverage[:, :, None]) + ink[None, None, :] * coverage[:, :, None]
    return backgrounds.scan(page, rng)


def write_page(page: SyntheticPage, folder: Path, name: str) -> Path:
    """NAME.png, NAME.page.xml and NAME.w3c.json in `folder`; returns the image's path."""
    height, width = page.image.shape[:2]
    image_path = folder / f"{name}.png"
    image = pyvips.Image.new_from_array(page.image, interpretation="srgb")
    image.copy(xres=_DOTS_PER_MM, yres=_DOTS_PER_MM).pngsave(str(image_path))
    xml = page_xml.serialize(page.regions, image_path.name, (width, height), CREATOR, CREATED)
    (folder / f"{name}.page.xml").write_bytes(xml)
    annotations = iiif.annotation_page(f"{name}.w3c.json", image_path.name, page.lines, "supplementing")
    (folder / f"{name}.w3c.json").write_text(json.dumps(annotations, ensure_ascii=False, indent=1) + "\n")
    return image_path


def page_seed(seed: int, index: int) -> int:
    """The seed of page `index` of a run with `seed`."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1, np.uint64)[0])


def generate_pages(folder: Path, count: int, seed: int, size: tuple[int, int] = A4_150_DPI) -> list[Path]:
    """`count` pages, `synth-SEED-NNNN`, written to `folder` (made if missing); returns the image paths."""
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_page(render_page(size, page_seed(seed, index)), folder, f"synth-{seed}-{index:04d}")
        for index in range(count)
    ]
