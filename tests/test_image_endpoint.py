"""Image requests end to end: every region, size, rotation, quality and format, checked on the pixels."""

import math

import numpy as np
import pytest

from iiif_server.settings import Limits

FULL = (0, 0, 400, 300)

REGIONS = [
    ("full", FULL),
    ("square", (50, 0, 300, 300)),
    ("100,50,200,150", (100, 50, 200, 150)),
    ("300,200,500,500", (300, 200, 100, 100)),
    ("pct:25,50,50,50", (100, 150, 200, 150)),
    ("pct:10.5,0,20,100", (42, 0, 80, 300)),
    ("0,0,400,300", FULL),
]

# Size forms applied to the full 400x300 image, with the size each must produce.
SIZES = [
    ("max", (400, 300)),
    ("200,", (200, 150)),
    (",150", (200, 150)),
    (",100", (133, 100)),
    ("pct:50", (200, 150)),
    ("pct:12.5", (50, 38)),
    ("100,200", (100, 200)),
    ("!200,200", (200, 150)),
    ("!100,300", (100, 75)),
    ("^200,", (200, 150)),
    ("^600,", (600, 450)),
    ("^,450", (600, 450)),
    ("^pct:150", (600, 450)),
    ("^800,300", (800, 300)),
    ("^!800,800", (800, 600)),
]


def get_image(client, path: str, grid, status: int = 200):
    response = client.get(f"/iiif/3/{path}")
    assert response.status_code == status, response.text
    return grid.decode(response.content)


@pytest.mark.parametrize(("region", "box"), REGIONS)
def test_region_cuts_the_right_pixels(client, grid, region, box):
    pixels = get_image(client, f"grid/{region}/max/0/default.png", grid)
    x, y, w, h = box
    assert pixels.shape == (h, w, 3)
    grid.assert_shows(pixels, box, tolerance=0)
    grid.assert_close(pixels[0, 0], grid.at(x, y), 0)
    grid.assert_close(pixels[-1, -1], grid.at(x + w - 1, y + h - 1), 0)


@pytest.mark.parametrize(("size", "expected"), SIZES)
def test_size_gives_the_right_dimensions_and_pixels(client, grid, size, expected):
    pixels = get_image(client, f"grid/full/{size}/0/default.png", grid)
    assert pixels.shape == (expected[1], expected[0], 3)
    grid.assert_shows(pixels, FULL, tolerance=6)


def test_region_and_size_combine(client, grid):
    pixels = get_image(client, "grid/100,50,200,150/100,/0/default.png", grid)
    assert pixels.shape == (75, 100, 3)
    assert grid.assert_shows(pixels, (100, 50, 200, 150), tolerance=6) == 12


def test_upscaled_max_fills_the_limits(make_client, grid):
    client = make_client(limits=Limits(max_width=800, max_height=None, max_area=None))
    assert get_image(client, "grid/full/^max/0/default.png", grid).shape == (600, 800, 3)
    assert get_image(client, "grid/full/max/0/default.png", grid).shape == (300, 400, 3)


def test_max_is_shrunk_to_the_limits(make_client, grid):
    client = make_client(limits=Limits(max_width=None, max_height=None, max_area=30_000))
    pixels = get_image(client, "grid/full/max/0/default.png", grid)
    assert pixels.shape == (150, 200, 3)
    grid.assert_shows(pixels, FULL, tolerance=6)


def test_confined_size_is_held_within_the_limits(make_client, grid):
    client = make_client(limits=Limits(max_width=300, max_height=None, max_area=None))
    assert get_image(client, "grid/full/^!1000,1000/0/default.png", grid).shape == (225, 300, 3)


# Where a source point (x, y) of the 400x300 grid lands after each right-angle rotation or mirror.
RIGHT_ANGLES = [
    ("0", (400, 300), lambda x, y: (x, y)),
    ("90", (300, 400), lambda x, y: (300 - y, x)),
    ("180", (400, 300), lambda x, y: (400 - x, 300 - y)),
    ("270", (300, 400), lambda x, y: (y, 400 - x)),
    ("360", (400, 300), lambda x, y: (x, y)),
    ("!0", (400, 300), lambda x, y: (400 - x, y)),
    ("!90", (300, 400), lambda x, y: (300 - y, 400 - x)),
    ("!180", (400, 300), lambda x, y: (x, 300 - y)),
]


def assert_moved(pixels, grid, where, tolerance):
    """Every cell centre of the grid has its colour where `where` says it went."""
    for cy in range(6):
        for cx in range(8):
            u, v = where((cx + 0.5) * 50, (cy + 0.5) * 50)
            grid.assert_close(pixels[math.floor(v), math.floor(u), :3], grid.colour(cx, cy), tolerance)


@pytest.mark.parametrize(("rotation", "size", "where"), RIGHT_ANGLES)
def test_right_angle_rotation_and_mirroring(client, grid, rotation, size, where):
    pixels = get_image(client, f"grid/full/max/{rotation}/default.png", grid)
    assert pixels.shape == (size[1], size[0], 3)
    assert_moved(pixels, grid, where, tolerance=0)


def test_top_left_corner_goes_top_right_at_90(client, grid):
    pixels = get_image(client, "grid/full/max/90/default.png", grid)
    grid.assert_close(pixels[0, -1], grid.colour(0, 0), 0)
    grid.assert_close(pixels[-1, -1], grid.colour(7, 0), 0)
    grid.assert_close(pixels[-1, 0], grid.colour(7, 5), 0)


def rotated_30(x: float, y: float) -> tuple[float, float]:
    """Where a point of the 400x300 grid goes when turned 30 degrees clockwise onto its bounding box."""
    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))
    dx, dy = x - 200, y - 150
    return 496.41 / 2 + dx * c - dy * s, 459.81 / 2 + dx * s + dy * c


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_arbitrary_rotation_has_transparent_corners(client, grid, fmt):
    pixels = get_image(client, f"grid/full/max/30/default.{fmt}", grid)
    height, width, bands = pixels.shape
    assert abs(width - 496.41) <= 1 and abs(height - 459.81) <= 1
    assert bands == 4
    for corner in (pixels[0, 0], pixels[0, -1], pixels[-1, 0], pixels[-1, -1]):
        assert corner[3] == 0
    assert pixels[height // 2, width // 2, 3] == 255
    tolerance = 12 if fmt == "png" else 30
    assert_moved(pixels, grid, rotated_30, tolerance)


def test_arbitrary_rotation_has_white_corners_in_jpeg(client, grid):
    pixels = get_image(client, "grid/full/max/30/default.jpg", grid)
    height, width, bands = pixels.shape
    assert (abs(width - 496.41) <= 1, abs(height - 459.81) <= 1, bands) == (True, True, 3)
    for corner in (pixels[0, 0], pixels[0, -1], pixels[-1, 0], pixels[-1, -1]):
        grid.assert_close(corner, (255, 255, 255), 3)
    assert_moved(pixels, grid, rotated_30, tolerance=30)


def test_mirrored_arbitrary_rotation(client, grid):
    pixels = get_image(client, "grid/full/max/!30/default.png", grid)
    assert_moved(pixels, grid, lambda x, y: rotated_30(400 - x, y), tolerance=12)


def test_color_quality_is_the_default(client):
    color = client.get("/iiif/3/grid/full/max/0/color.png")
    default = client.get("/iiif/3/grid/full/max/0/default.png")
    assert color.status_code == default.status_code == 200
    assert color.content == default.content


@pytest.mark.parametrize(
    ("fmt", "bands", "chroma", "tolerance"), [("png", 1, 0, 2), ("jpg", 1, 0, 8), ("webp", 3, 3, 10)]
)
def test_gray_quality_is_the_luminance(client, grid, fmt, bands, chroma, tolerance):
    pixels = get_image(client, f"grid/full/max/0/gray.{fmt}", grid)
    assert pixels.shape == (300, 400, bands)
    spread = pixels.max(axis=2).astype(int) - pixels.min(axis=2).astype(int)
    assert spread.max() <= chroma
    for cy in range(6):
        for cx in range(8):
            value = pixels[cy * 50 + 25, cx * 50 + 25, 0]
            assert abs(float(value) - grid.grey(grid.colour(cx, cy))) <= tolerance


@pytest.mark.parametrize("fmt", ["png", "gif", "tif"])
def test_bitonal_quality_has_only_black_and_white(client, grid, fmt):
    pixels = get_image(client, f"grid/full/max/0/bitonal.{fmt}", grid)
    assert pixels.shape[:2] == (300, 400)
    assert set(np.unique(pixels).tolist()) == {0, 255}
    for cy in range(6):
        for cx in range(8):
            grey = grid.grey(grid.colour(cx, cy))
            if abs(grey - 128) > 3:
                assert pixels[cy * 50 + 25, cx * 50 + 25, 0] == (255 if grey >= 128 else 0)


def test_gray_keeps_the_alpha_band(client, grid):
    pixels = get_image(client, "alpha/full/max/0/gray.png", grid)
    assert pixels.shape == (300, 400, 2)
    assert (pixels[:, :200, 1] == 255).all()
    assert (pixels[:, 200:, 1] == 0).all()


FORMATS = [
    ("jpg", "image/jpeg", 12),
    ("png", "image/png", 0),
    ("webp", "image/webp", 12),
    ("tif", "image/tiff", 0),
    ("gif", "image/gif", 8),
]


@pytest.mark.parametrize(("fmt", "media_type", "tolerance"), FORMATS)
def test_format_content_type_and_pixels(client, grid, fmt, media_type, tolerance):
    response = client.get(f"/iiif/3/grid/100,50,200,150/max/0/default.{fmt}")
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    pixels = grid.decode(response.content)
    assert pixels.shape[:2] == (150, 200)
    grid.assert_shows(pixels, (100, 50, 200, 150), tolerance)


@pytest.mark.parametrize("fmt", ["png", "webp", "tif"])
def test_alpha_is_preserved(client, grid, fmt):
    pixels = get_image(client, f"alpha/full/max/0/default.{fmt}", grid)
    assert pixels.shape == (300, 400, 4)
    assert (pixels[:, :200, 3] == 255).all()
    assert (pixels[:, 200:, 3] == 0).all()
    grid.assert_shows(pixels[:, :200], (0, 0, 200, 300), tolerance=0 if fmt != "webp" else 12)


def test_alpha_is_flattened_onto_white_in_jpeg(client, grid):
    pixels = get_image(client, "alpha/full/max/0/default.jpg", grid)
    assert pixels.shape == (300, 400, 3)
    grid.assert_shows(pixels[:, :200], (0, 0, 200, 300), tolerance=12)
    assert (pixels[:, 216:] >= 250).all()


def test_alpha_survives_downscaling(client, grid):
    pixels = get_image(client, "alpha/full/200,/0/default.png", grid)
    assert pixels.shape == (150, 200, 4)
    assert (pixels[:, :95, 3] == 255).all()
    assert (pixels[:, 105:, 3] == 0).all()
    grid.assert_shows(pixels[:, :100], (0, 0, 200, 300), tolerance=6)


# Other sources of the same grid: each must serve the same picture.
SOURCES = [
    ("grid", 0),
    ("grid.png", 0),
    ("grid_q95.jpg", 10),
    ("grid_lossless.webp", 0),
    ("deep", 1),
    ("sub%2Fimg", 0),
    ("my%2Dimage", 0),
]


@pytest.mark.parametrize(("identifier", "tolerance"), SOURCES)
def test_each_source_format_serves_the_grid(client, grid, identifier, tolerance):
    pixels = get_image(client, f"{identifier}/full/max/0/default.png", grid)
    assert pixels.shape == (300, 400, 3)
    assert pixels.dtype == np.uint8
    grid.assert_shows(pixels, FULL, tolerance)


@pytest.mark.parametrize(("identifier", "tolerance"), SOURCES)
def test_each_source_format_serves_the_grid_reduced(client, grid, identifier, tolerance):
    pixels = get_image(client, f"{identifier}/full/pct:50/0/default.png", grid)
    assert pixels.shape == (150, 200, 3)
    grid.assert_shows(pixels, FULL, tolerance + 6)


def test_greyscale_source_stays_one_band(client, grid):
    pixels = get_image(client, "grey/full/max/0/default.png", grid)
    assert pixels.shape == (300, 400, 1)
    for cy in range(6):
        for cx in range(8):
            assert pixels[cy * 50 + 25, cx * 50 + 25, 0] == grid.colour(cx, cy)[0]


@pytest.mark.parametrize(("identifier", "tolerance"), [("grid_q95.jpg", 16), ("grid_lossless.webp", 10)])
def test_shrink_on_load_keeps_the_picture(client, grid, identifier, tolerance):
    pixels = get_image(client, f"{identifier}/full/50,/0/default.png", grid)
    assert pixels.shape == (38, 50, 3)
    grid.assert_shows(pixels, FULL, tolerance)


def test_pyramid_tile_shows_the_grid(client, grid):
    pixels = get_image(client, "pyramid/1024,512,1024,1024/256,/0/default.png", grid)
    assert pixels.shape == (256, 256, 3)
    grid.assert_shows(pixels, (1024, 512, 1024, 1024), tolerance=12, cell=512)


def test_pyramid_edge_tile_is_clipped(client, grid):
    pixels = get_image(client, "pyramid/3584,2560,512,512/max/0/default.png", grid)
    assert pixels.shape == (512, 512, 3)
    grid.assert_close(pixels[256, 256], grid.colour(7, 5), 12)
    pixels = get_image(client, "pyramid/2048,2048,4096,4096/256,/0/default.png", grid)
    assert pixels.shape == (128, 256, 3)
    grid.assert_shows(pixels, (2048, 2048, 2048, 1024), tolerance=12, cell=512)


def test_head_request_has_no_body(client):
    response = client.head("/iiif/3/grid/full/max/0/default.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content == b""
