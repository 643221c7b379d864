"""Which resolution is read: the smallest pyramid level (or JPEG/WebP shrink) still at least the output."""

import pytest

from iiif_server.pipeline import choose_level
from iiif_server.region import Box
from iiif_server.sources import FolderSource, Level

PYRAMID_LEVELS = (
    Level(4096, 3072),
    Level(2048, 1536, page=1),
    Level(1024, 768, page=2),
    Level(512, 384, page=3),
)


@pytest.fixture(scope="module")
def folder(image_root):
    return FolderSource(image_root, 10**9, 8)


def test_pyramid_levels_are_found(folder):
    source = folder.describe("pyramid")
    assert source.loader == "tiffload"
    assert source.levels == PYRAMID_LEVELS


def test_sub_ifd_levels_are_found(folder):
    assert folder.describe("subifd").levels == (
        Level(1024, 768),
        Level(512, 384, subifd=0),
        Level(256, 192, subifd=1),
    )


@pytest.mark.parametrize("identifier", ["grid", "grid_q95.jpg", "grid_lossless.webp", "alpha", "deep"])
def test_flat_images_have_one_level(folder, identifier):
    assert folder.describe(identifier).levels == (Level(400, 300),)


PYRAMID_CHOICES = [
    # box (x, y, w, h), output size, index of the level to read
    ((0, 0, 4096, 3072), (4096, 3072), 0),
    ((0, 0, 4096, 3072), (2049, 1537), 0),
    ((0, 0, 4096, 3072), (2048, 1536), 1),
    ((0, 0, 4096, 3072), (1500, 1125), 1),
    ((0, 0, 4096, 3072), (1024, 768), 2),
    ((0, 0, 4096, 3072), (512, 384), 3),
    ((0, 0, 4096, 3072), (100, 75), 3),
    ((0, 0, 4096, 3072), (4096, 100), 0),
    ((0, 0, 512, 512), (512, 512), 0),
    ((0, 0, 1024, 1024), (512, 512), 1),
    ((0, 0, 2048, 2048), (512, 512), 2),
    ((0, 0, 4096, 3072), (8192, 6144), 0),
    ((2048, 2048, 2048, 1024), (256, 128), 3),
    ((3584, 2560, 512, 512), (64, 64), 3),
    ((3584, 2560, 512, 512), (65, 65), 2),
]


@pytest.mark.parametrize(("box", "out", "index"), PYRAMID_CHOICES)
def test_pyramid_level_choice(folder, box, out, index):
    level, shrink = choose_level(folder.describe("pyramid"), Box(*box), *out)
    assert (level, shrink) == (PYRAMID_LEVELS[index], 1)


JPEG_CHOICES = [
    ((0, 0, 400, 300), (400, 300), 1),
    ((0, 0, 400, 300), (201, 151), 1),
    ((0, 0, 400, 300), (200, 150), 2),
    ((0, 0, 400, 300), (101, 76), 2),
    ((0, 0, 400, 300), (100, 75), 4),
    ((0, 0, 400, 300), (50, 37), 8),
    ((0, 0, 400, 300), (10, 8), 8),
    ((0, 0, 200, 200), (50, 50), 4),
    ((0, 0, 200, 200), (25, 25), 8),
    ((0, 0, 400, 300), (800, 600), 1),
]


@pytest.mark.parametrize("identifier", ["grid_q95.jpg", "grid_lossless.webp"])
@pytest.mark.parametrize(("box", "out", "shrink"), JPEG_CHOICES)
def test_shrink_on_load_factor(folder, identifier, box, out, shrink):
    assert choose_level(folder.describe(identifier), Box(*box), *out) == (Level(400, 300), shrink)


def test_png_is_never_shrunk_on_load(folder):
    assert choose_level(folder.describe("grid"), Box(0, 0, 400, 300), 50, 37) == (Level(400, 300), 1)


@pytest.fixture
def opened(monkeypatch):
    """Every (identifier's file name, level, shrink) the server opens, in order."""
    calls = []
    original = FolderSource.open

    def recording(self, source, level, shrink=1):
        calls.append((source.path.name, level, shrink))
        return original(self, source, level, shrink)

    monkeypatch.setattr(FolderSource, "open", recording)
    return calls


TILE_REQUESTS = [
    ("pyramid/0,0,4096,4096/512,/0/default.jpg", (384, 512), PYRAMID_LEVELS[3]),
    ("pyramid/2048,2048,2048,2048/256,/0/default.jpg", (128, 256), PYRAMID_LEVELS[3]),
    ("pyramid/1024,1024,1024,1024/256,/0/default.jpg", (256, 256), PYRAMID_LEVELS[2]),
    ("pyramid/1024,1024,1024,1024/512,/0/default.jpg", (512, 512), PYRAMID_LEVELS[1]),
    ("pyramid/1024,1024,512,512/max/0/default.jpg", (512, 512), PYRAMID_LEVELS[0]),
    ("pyramid/full/!300,300/90/gray.png", (300, 225), PYRAMID_LEVELS[3]),
]


@pytest.mark.parametrize(("path", "shape", "level"), TILE_REQUESTS)
def test_a_tile_request_opens_only_the_level_it_needs(make_client, grid, opened, path, shape, level):
    # Whole stored tiles would be sent without opening any level (test_stored_tiles.py).
    response = make_client(tile_passthrough=False).get(f"/iiif/3/{path}")
    assert response.status_code == 200
    assert grid.decode(response.content).shape[:2] == shape
    assert opened == [("pyramid.tif", level, 1)]


def test_the_reduced_level_has_the_right_pixels(make_client, grid, opened):
    response = make_client().get("/iiif/3/pyramid/2048,1024,2048,2048/256,/0/default.png")
    assert opened == [("pyramid.tif", PYRAMID_LEVELS[3], 1)]
    pixels = grid.decode(response.content)
    assert pixels.shape == (256, 256, 3)
    assert grid.assert_shows(pixels, (2048, 1024, 2048, 2048), tolerance=12, cell=512) == 16


def test_a_jpeg_thumbnail_is_shrunk_on_load(make_client, grid, opened):
    response = make_client().get("/iiif/3/grid_q95.jpg/full/,37/0/default.png")
    assert response.status_code == 200
    assert opened == [("grid_q95.jpg", Level(400, 300), 8)]
    pixels = grid.decode(response.content)
    assert pixels.shape == (37, 49, 3)
    grid.assert_shows(pixels, (0, 0, 400, 300), tolerance=20)


def test_a_sub_ifd_level_is_opened_and_shows_the_grid(make_client, grid, opened):
    response = make_client().get("/iiif/3/subifd/full/256,/0/default.png")
    assert opened == [("subifd.tif", Level(256, 192, subifd=1), 1)]
    pixels = grid.decode(response.content)
    assert pixels.shape == (192, 256, 3)
    assert grid.assert_shows(pixels, (0, 0, 1024, 768), tolerance=2, cell=128) == 48
