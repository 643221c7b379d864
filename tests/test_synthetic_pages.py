"""Synthetic pages: deterministic, polygons that hold all the ink and do not overlap, every kind of line,
and ground truth that round-trips through PAGE XML and W3C annotations."""

import hashlib
from collections import Counter

import cv2
import numpy as np
import pytest
from lxml import etree
from shapely import STRtree
from shapely.geometry import Polygon

from extensions.annotations import AnnotatedRegion, load_annotations
from extensions.annotations.page_xml import format_custom, parse, parse_custom, serialize
from extensions.line_crops import skew_angle
from models.cli import main
from models.synthetic.fonts import available_families
from models.synthetic.line_render import _text_image
from models.synthetic.pages import generate_pages, page_seed, render_page, write_page
from models.synthetic.placement import Placement
from models.synthetic.text_source import CHARACTERS, WORDS

SMALL = (620, 877)
LINE_KEYS = {"structure.type", "synthetic.kind", "synthetic.angle", "synthetic.font"}


@pytest.fixture(scope="module")
def pages():
    """Four small pages of one run."""
    return [render_page(SMALL, page_seed(11, index)) for index in range(4)]


def line_mask(shape: tuple[int, ...], polygons) -> np.ndarray:
    """The pixels inside any of the polygons."""
    mask = np.zeros(shape[:2], np.uint8)
    for polygon in polygons:
        cv2.fillPoly(mask, [np.asarray(polygon, np.int32)], 1)
    return mask.astype(bool)


def test_same_seed_gives_the_same_files_and_another_seed_other_ones(tmp_path):
    first = generate_pages(tmp_path / "a", 2, seed=5, size=SMALL)
    second = generate_pages(tmp_path / "b", 2, seed=5, size=SMALL)
    other = generate_pages(tmp_path / "c", 1, seed=6, size=SMALL)
    assert [p.name for p in first] == ["synth-5-0000.png", "synth-5-0001.png"]
    for a, b in zip(first, second, strict=True):
        for suffix in (".png", ".page.xml", ".w3c.json"):
            name = a.name.removesuffix(".png") + suffix
            assert (a.parent / name).read_bytes() == (b.parent / name).read_bytes(), name
    assert first[0].read_bytes() != first[1].read_bytes()
    assert other[0].read_bytes() != first[0].read_bytes()
    image = cv2.imread(str(first[0]))
    assert image.shape == (SMALL[1], SMALL[0], 3)


def test_line_polygons_hold_all_the_dark_ink(pages):
    for page in pages:
        grey = page.image.mean(axis=2)
        paper = np.median(grey)
        dark = grey < 100
        inside = line_mask(grey.shape, [line.polygon for line in page.lines])
        assert dark.sum() > 1000
        assert (dark & inside).sum() / dark.sum() >= 0.98
        for line in page.lines:
            own = line_mask(grey.shape, [line.polygon])
            assert grey[own].min() < paper - 80, line.id  # every line has ink in it
        assert not inside.all()
        assert page.ink[inside].sum() / page.ink.sum() > 0.999  # the ink before blur and grain


def test_texts_hold_only_known_characters():
    assert set("".join(WORDS)) <= CHARACTERS
    assert not CHARACTERS & set("ÀÉÈÇÜÖÄ")  # capitals with accents would stand above the band


def test_line_polygons_do_not_overlap_and_sit_in_their_blocks(pages):
    for page in pages:
        lines = [Polygon(line.polygon) for line in page.lines]
        assert all(polygon.is_valid for polygon in lines)
        tree = STRtree(lines)
        pairs = [(a, b) for a, b in tree.query(lines, predicate="intersects").T if a < b]
        assert all(lines[a].intersection(lines[b]).area < 1 for a, b in pairs)
        blocks = {r.id: Polygon(r.polygon) for r in page.regions if r.region_type == "TextRegion"}
        for line in page.lines:
            assert blocks[line.id[:3]].buffer(1).contains(Polygon(line.polygon))


def test_every_kind_and_several_structures_appear_with_their_angles(pages):
    kinds, structures = Counter(), Counter()
    for page in pages:
        for line in page.lines:
            properties = dict(line.properties)
            assert properties.keys() >= LINE_KEYS
            kind, angle = properties["synthetic.kind"], float(properties["synthetic.angle"])
            kinds[kind] += 1
            structures[properties["structure.type"]] += 1
            limits = {"straight": (0, 0), "curved": (0, 0), "slanted": (2, 7), "rotated": (8, 25)}[kind]
            assert limits[0] <= abs(angle) <= limits[1]
            if kind in ("slanted", "rotated"):  # clockwise positive, as line_crops measures it
                assert skew_angle(line.polygon) == pytest.approx(angle, abs=1.0)
            assert 10 <= len(line.text) <= 60 and set(line.text) <= CHARACTERS
    assert set(kinds) == {"straight", "slanted", "rotated", "curved"}
    total = sum(kinds.values())
    assert kinds["straight"] / total > 0.25 and min(kinds.values()) / total > 0.05
    assert {"paragraph", "caption", "title"} <= set(structures)


def test_curved_lines_have_polygons_that_follow_the_wave(pages):
    curved = [
        line for page in pages for line in page.lines if dict(line.properties)["synthetic.kind"] == "curved"
    ]
    assert curved
    assert all(len(line.polygon) >= 26 for line in curved)  # 13 or more points a side


def test_page_xml_keeps_blocks_lines_and_properties(pages, tmp_path):
    page = pages[0]
    image = write_page(page, tmp_path, "p")
    parsed = load_annotations(tmp_path / "p.page.xml")
    lines = [r for r in parsed if r.region_type == "TextLine"]
    blocks = [r for r in parsed if r.region_type == "TextRegion"]
    assert [(r.id, r.polygon, r.text, r.properties) for r in lines] == [
        (r.id, r.polygon, r.text, r.properties) for r in page.lines
    ]
    assert len(blocks) == len(page.regions) - len(page.lines)
    assert dict(blocks[0].properties)["structure.type"] in {"title", "header", "paragraph", "caption"}
    assert all(r.source_image == image.name for r in parsed)
    xml = (tmp_path / "p.page.xml").read_text()
    assert "<Created>2024-01-01T00:00:00+00:00</Created>" in xml
    assert xml.index("<TextRegion") < xml.index("<TextLine")


def test_w3c_annotations_give_back_the_lines(pages, tmp_path):
    page = pages[1]
    write_page(page, tmp_path, "p")
    parsed = load_annotations(tmp_path / "p.w3c.json")
    assert [(r.polygon, r.text) for r in parsed] == [(r.polygon, r.text) for r in page.lines]
    assert [r.id for r in parsed] == [f"p.w3c.json/{r.id}" for r in page.lines]
    assert {r.region_type for r in parsed} == {"line"} and {r.source_image for r in parsed} == {"p.png"}


def test_cli_writes_the_pages(tmp_path, capsys):
    main(["synth", str(tmp_path / "out"), "--pages", "2", "--seed", "3", "--width", "400", "--height", "566"])
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [f"synth-3-000{n}.{s}" for n in (0, 1) for s in ("page.xml", "png", "w3c.json")]
    image = cv2.imread(str(tmp_path / "out" / "synth-3-0001.png"))
    assert image.shape == (566, 400, 3) and image.std() > 5
    assert load_annotations(tmp_path / "out" / "synth-3-0001.page.xml")
    assert "wrote 2 pages" in capsys.readouterr().out


def test_each_font_face_is_its_own():
    """Pango falls back to another font silently: every face must render differently."""
    renders = {}
    for family in available_families():
        for face in {family.regular, family.bold, family.italic}:
            image = _text_image("Hamburgefonstiv 1234 éüßç", face, 30)
            renders[face.name] = hashlib.sha256(image.write_to_memory()).hexdigest()
    assert len(set(renders.values())) == len(renders) >= 6
    assert {family.style for family in available_families()} == {"serif", "sans", "mono"}


def test_placement_inverts_what_it_applies():
    placement = Placement.rotation(12.5, (40, 10), (300, 200))
    placement = Placement(placement.matrix, amplitude=7, wavelength=250, phase=1.0).shifted(3, -2)
    points = np.array([[0.0, 0.0], [80.0, 20.0], [13.5, 7.25]])
    page = placement.apply(points)
    x, y = placement.invert(page[:, 0], page[:, 1])
    assert np.allclose(np.stack([x, y], 1), points)
    turned = Placement.rotation(90, (0, 0), (0, 0)).apply(np.array([[1.0, 0.0]]))
    assert np.allclose(turned, [[0, 1]])  # clockwise on screen: right turns to down


def test_page_custom_attribute_round_trip():
    properties = (("structure.type", "caption"), ("synthetic.font", "Nimbus Roman; {x}: a\\b"), ("a.b.c", ""))
    custom = format_custom(properties)
    assert custom.startswith("structure {type:caption;} synthetic {font:Nimbus\\u0020Roman\\u003b")
    assert parse_custom(custom) == properties
    assert parse_custom("readingOrder {index:0;} structure {type:heading;} junk") == (
        ("readingOrder.index", "0"),
        ("structure.type", "heading"),
    )
    region = AnnotatedRegion("l1", ((0, 0), (10, 0), (10, 5)), "line", text="x", properties=properties)
    parsed = parse(serialize([region], "p.png", (20, 20)))
    assert parsed[-1].properties == properties and parsed[0].properties == ()
    assert AnnotatedRegion("x", ((0, 0), (1, 0), (1, 1)), properties=[["k.a", "v"]]).properties == (
        ("k.a", "v"),
    )


def test_text_stays_light_outside_lines(pages):
    """Paper, stains, bleed-through and figures are never as dark as ink."""
    for page in pages:
        grey = page.image.mean(axis=2)
        outside = ~line_mask(
            grey.shape, [Polygon(line.polygon).buffer(2).exterior.coords for line in page.lines]
        )
        assert np.percentile(grey[outside], 0.1) > 120


def test_page_xml_puts_each_line_in_its_own_block(pages):
    page = pages[2]
    root = etree.fromstring(serialize(page.regions, "p.png", SMALL))
    parents = {line.get("id"): line.getparent().get("id") for line in root.iter("{*}TextLine")}
    assert parents == {line.id: line.id[:3] for line in page.lines}
