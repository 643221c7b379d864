"""The `poly:` region: pixels decoded and compared with the source, a shapely mask and the rectangle."""

import io
import math
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import pyvips
import shapely
from PIL import Image
from polygon_fixtures import HEIGHT, WIDTH, centre_mask, decode, flat, gradient, write_gradient_images
from shapely import make_valid
from shapely.geometry import Polygon
from shapely.ops import unary_union
from starlette.testclient import TestClient

from extensions.mask_settings import MaskSettings
from extensions.masking import masking_extension
from extensions.polygon_mask import rasterize_mask
from extensions.polygon_region import polygon_parser
from extensions.server import create_server_app
from extensions.server_settings import ServerSettings
from iiif_server.app import create_app
from iiif_server.convert import convert_to_pyramid
from iiif_server.errors import IIIFError
from iiif_server.region import Box
from iiif_server.settings import Settings

# A triangle with fractional vertices, so that no pixel centre falls on an edge at any tested size.
TRIANGLE = ((100.3, 50.2), (420.7, 80.1), (250.4, 330.6))
TRIANGLE_BOX = (100, 50, 321, 281)  # floor of the minima, ceil of the maxima
TRIANGLE_URL = "poly:" + flat(TRIANGLE)
TRIANGLE_RECT = "100,50,321,281"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_gradient_images(tmp_path_factory.mktemp("polygon-images"))
    flat_page = root.parent / "polygon-pyramid-flat.v"
    pyvips.Image.new_from_array(gradient(2400, 1600)).copy(interpretation="srgb").write_to_file(
        str(flat_page)
    )
    convert_to_pyramid(flat_page, root / "pyramid.tif", tile_size=256)
    flat_page.unlink()
    return root


@pytest.fixture(scope="module")
def client(folder: Path) -> Iterator[TestClient]:
    with TestClient(create_server_app(ServerSettings(Settings(image_root=folder)))) as test_client:
        yield test_client


def fetch(client: TestClient, region: str, size: str = "max", rotation: str = "0", tail: str = "default.png"):
    response = client.get(f"/iiif/3/gradient/{region}/{size}/{rotation}/{tail}")
    assert response.status_code == 200, response.text
    return response


def image_of(
    client: TestClient, region: str, size: str = "max", rotation: str = "0", tail: str = "default.png"
):
    return decode(fetch(client, region, size, rotation, tail).content)


def crop(array: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = box
    return array[y : y + h, x : x + w]


def test_png_keeps_the_source_inside_and_is_transparent_outside(client: TestClient) -> None:
    response = fetch(client, TRIANGLE_URL)
    assert response.headers["content-type"] == "image/png"
    pixels = decode(response.content)
    assert pixels.shape == (281, 321, 4)
    inside = centre_mask(Polygon(TRIANGLE), TRIANGLE_BOX, 321, 281)
    assert 0.2 < inside.mean() < 0.8
    np.testing.assert_array_equal(pixels[..., 3], np.where(inside, 255, 0))
    np.testing.assert_array_equal(pixels[inside][:, :3], crop(gradient(), TRIANGLE_BOX)[inside])


@pytest.mark.parametrize("fmt", ["png", "webp", "tif", "gif"])
def test_alpha_formats_make_exactly_the_outside_transparent(client: TestClient, fmt: str) -> None:
    pixels = image_of(client, TRIANGLE_URL, tail=f"default.{fmt}")
    assert pixels.shape == (281, 321, 4)
    inside = centre_mask(Polygon(TRIANGLE), TRIANGLE_BOX, 321, 281)
    np.testing.assert_array_equal(pixels[..., 3], np.where(inside, 255, 0))
    error = np.abs(pixels[inside][:, :3].astype(int) - crop(gradient(), TRIANGLE_BOX)[inside]).mean()
    # png and tif are lossless; webp (quality 80) and gif (256 colours) only come close to the source.
    assert error == 0 if fmt in ("png", "tif") else error < 12


def test_gif_outside_pixels_use_the_transparent_palette_index(client: TestClient) -> None:
    gif = Image.open(io.BytesIO(fetch(client, TRIANGLE_URL, tail="default.gif").content))
    assert gif.mode == "P"
    transparent = gif.info["transparency"]
    indices = np.asarray(gif)
    inside = centre_mask(Polygon(TRIANGLE), TRIANGLE_BOX, 321, 281)
    assert (indices[~inside] == transparent).all()
    assert not (indices[inside] == transparent).any()


def _distance_mask(geometry: Polygon, box: tuple[int, int, int, int], distance: float) -> np.ndarray:
    """Pixels of `box` whose centre is more than `distance` pixels from the polygon's outline."""
    x, y, w, h = box
    xs, ys = np.meshgrid(x + np.arange(w) + 0.5, y + np.arange(h) + 0.5)
    return shapely.distance(geometry.boundary, shapely.points(xs, ys)) > distance


@pytest.mark.parametrize(("query", "fill"), [("", (255, 255, 255)), ("?bg=ff0000", (255, 0, 0))])
def test_jpg_fills_the_outside(client: TestClient, query: str, fill: tuple[int, int, int]) -> None:
    response = client.get(f"/iiif/3/gradient/{TRIANGLE_URL}/max/0/default.jpg{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    pixels = decode(response.content).astype(int)
    assert pixels.shape == (281, 321, 3)
    inside = centre_mask(Polygon(TRIANGLE), TRIANGLE_BOX, 321, 281)
    far = _distance_mask(Polygon(TRIANGLE), TRIANGLE_BOX, 4)
    # JPEG (quality 85, chroma subsampled) rings near the edges: four pixels away from the outline the
    # fill is within 8 levels for 99% of the channels (measured: 4 for white, 6 for red), 1 on average.
    outside_error = np.abs(pixels[far & ~inside] - fill)
    assert np.percentile(outside_error, 99) <= 8 and outside_error.mean() < 1
    assert np.abs(pixels[far & inside] - crop(gradient(), TRIANGLE_BOX)[far & inside]).mean() < 3


def test_bg_changes_nothing_for_alpha_formats(client: TestClient) -> None:
    plain = client.get(f"/iiif/3/gradient/{TRIANGLE_URL}/max/0/default.png")
    red = client.get(f"/iiif/3/gradient/{TRIANGLE_URL}/max/0/default.png?bg=ff0000")
    assert plain.content == red.content


def test_bad_bg_is_a_400(client: TestClient) -> None:
    response = client.get(f"/iiif/3/gradient/{TRIANGLE_URL}/max/0/default.jpg?bg=red")
    assert response.status_code == 400
    assert response.text.startswith("bg: ")


def test_centre_rule_on_a_small_axis_aligned_polygon(client: TestClient) -> None:
    # Edges 0.01 px either side of pixel centres: x 10.51..17.49 leaves columns 10 and 17 out,
    # y 20.49..26.51 takes rows 20 to 26 in; the box is still every pixel the bounds touch.
    rectangle = ((10.51, 20.49), (17.49, 20.49), (17.49, 26.51), (10.51, 26.51))
    alpha = image_of(client, "poly:" + flat(rectangle))[..., 3]
    expected = np.zeros((7, 8), dtype=np.uint8)
    expected[:, 1:7] = 255
    np.testing.assert_array_equal(alpha, expected)
    np.testing.assert_array_equal(
        alpha, np.where(centre_mask(Polygon(rectangle), (10, 20, 8, 7), 8, 7), 255, 0)
    )


def test_centre_rule_on_a_small_triangle(client: TestClient) -> None:
    # Inside: x > 3.2, y > 2.1, x + y < 15.3; at centres (i + .5, j + .5): i >= 3, j >= 2, i + j <= 14.
    triangle = ((3.2, 2.1), (13.2, 2.1), (3.2, 12.1))
    alpha = image_of(client, "poly:" + flat(triangle))[..., 3]
    u, v = np.meshgrid(np.arange(11), np.arange(11))
    expected = np.where(u + v <= 9, 255, 0)
    np.testing.assert_array_equal(alpha, expected)
    np.testing.assert_array_equal(
        alpha, np.where(centre_mask(Polygon(triangle), (3, 2, 11, 11), 11, 11), 255, 0)
    )


@pytest.mark.parametrize(
    ("size", "expected"),
    [("max", (321, 281)), ("pct:50", (161, 141)), ("!300,300", (300, 263)), ("^pct:200", (642, 562))],
)
def test_sizes_scale_the_box_and_the_mask_follows_output_pixel_centres(
    client: TestClient, size: str, expected: tuple[int, int]
) -> None:
    masked = image_of(client, TRIANGLE_URL, size)
    rectangle = image_of(client, TRIANGLE_RECT, size)
    width, height = expected
    assert masked.shape == (height, width, 4)
    assert rectangle.shape == (height, width, 3)
    inside = centre_mask(Polygon(TRIANGLE), TRIANGLE_BOX, width, height)
    np.testing.assert_array_equal(masked[..., 3], np.where(inside, 255, 0))
    np.testing.assert_array_equal(masked[..., :3][inside], rectangle[inside])


def test_canonical_link_of_a_polygon(client: TestClient) -> None:
    response = fetch(client, TRIANGLE_URL, "pct:50")
    canonical = f"http://testserver/iiif/3/gradient/{TRIANGLE_URL}/161,141/0/default.png"
    assert f'<{canonical}>;rel="canonical"' in response.headers["link"]


def test_rotation_90_turns_the_mask_with_the_pixels(client: TestClient) -> None:
    upright = image_of(client, TRIANGLE_URL)
    turned = image_of(client, TRIANGLE_URL, rotation="90")
    assert turned.shape == (321, 281, 4)
    np.testing.assert_array_equal(turned, np.rot90(upright, k=-1))


def test_mirror_flips_the_mask_with_the_pixels(client: TestClient) -> None:
    upright = image_of(client, TRIANGLE_URL)
    mirrored = image_of(client, TRIANGLE_URL, rotation="!0")
    np.testing.assert_array_equal(mirrored, upright[:, ::-1])


def test_rotation_30_keeps_the_mask_on_the_rotated_pixels(client: TestClient) -> None:
    masked = image_of(client, TRIANGLE_URL, rotation="30")
    rectangle = image_of(client, TRIANGLE_RECT, rotation="30")
    assert masked.shape == rectangle.shape
    height, width = masked.shape[:2]
    angle = math.radians(30)
    # The rotated box's bounding box, give or take libvips' rounding of the output size.
    assert abs(width - (321 * math.cos(angle) + 281 * math.sin(angle))) < 2
    assert abs(height - (321 * math.sin(angle) + 281 * math.cos(angle))) < 2
    opaque = masked[..., 3] == 255
    # Where the masked image is opaque the colours are exactly the rotated rectangle's.
    np.testing.assert_array_equal(masked[..., :3][opaque], rectangle[..., :3][opaque])
    assert (masked[..., 3] <= rectangle[..., 3]).all()
    # The opaque area is the triangle's, and its centroid is the triangle's centroid turned 30 degrees.
    area = Polygon(TRIANGLE).area
    assert abs((masked[..., 3] / 255).sum() - area) < 0.01 * area
    cx, cy = Polygon(TRIANGLE).centroid.coords[0]
    dx, dy = cx - (TRIANGLE_BOX[0] + 321 / 2), cy - (TRIANGLE_BOX[1] + 281 / 2)
    expected = (
        width / 2 + dx * math.cos(angle) - dy * math.sin(angle),
        height / 2 + dx * math.sin(angle) + dy * math.cos(angle),
    )
    ys, xs = np.nonzero(opaque)
    assert abs(xs.mean() + 0.5 - expected[0]) < 1 and abs(ys.mean() + 0.5 - expected[1]) < 1


@pytest.mark.parametrize("quality", ["gray", "bitonal"])
def test_gray_and_bitonal_keep_the_mask(client: TestClient, quality: str) -> None:
    masked = image_of(client, TRIANGLE_URL, "pct:50", tail=f"{quality}.png")
    rectangle = image_of(client, TRIANGLE_RECT, "pct:50", tail=f"{quality}.png")
    assert masked.shape == (141, 161, 2)
    assert rectangle.shape == (141, 161, 1)
    inside = centre_mask(Polygon(TRIANGLE), TRIANGLE_BOX, 161, 141)
    np.testing.assert_array_equal(masked[..., 1], np.where(inside, 255, 0))
    np.testing.assert_array_equal(masked[..., 0][inside], rectangle[..., 0][inside])
    if quality == "bitonal":
        assert set(np.unique(masked[..., 0][inside])) == {0, 255}


def test_gray_jpg_is_one_band_filled_white(client: TestClient) -> None:
    pixels = image_of(client, TRIANGLE_URL, tail="gray.jpg").astype(int)
    assert pixels.shape == (281, 321, 1)
    inside = centre_mask(Polygon(TRIANGLE), TRIANGLE_BOX, 321, 281)
    far = _distance_mask(Polygon(TRIANGLE), TRIANGLE_BOX, 4)
    outside_error = np.abs(pixels[far & ~inside] - 255)
    assert np.percentile(outside_error, 99) <= 8 and outside_error.mean() < 1


def test_percent_polygon_is_the_same_as_its_pixel_polygon(client: TestClient) -> None:
    percent = fetch(client, "poly:pct:10,10,50,10,30,50.3")
    pixels = fetch(client, "poly:60,40,300,40,180,201.2")
    assert percent.content == pixels.content
    assert "/gradient/poly:60,40,300,40,180,201.2/max/0/default.png>" in percent.headers["link"]
    assert decode(percent.content).shape == (162, 240, 4)


def test_rings_separated_by_semicolons_form_a_union(client: TestClient) -> None:
    # Two overlapping squares: the overlap stays opaque (a union, not an even-odd of the raw rings).
    first = ((10.2, 10.2), (60.2, 10.2), (60.2, 60.2), (10.2, 60.2))
    second = ((40.2, 40.2), (90.2, 40.2), (90.2, 90.2), (40.2, 90.2))
    alpha = image_of(client, f"poly:{flat(first)};{flat(second)}")[..., 3]
    assert alpha.shape == (81, 81)
    union = unary_union([Polygon(first), Polygon(second)])
    np.testing.assert_array_equal(alpha, np.where(centre_mask(union, (10, 10, 81, 81), 81, 81), 255, 0))
    assert alpha[45 - 10, 45 - 10] == 255  # in both squares
    assert alpha[80 - 10, 20 - 10] == 0  # in neither


def test_rings_that_enclose_a_hole_leave_it_transparent(client: TestClient) -> None:
    frame = [
        ((100.2, 100.2), (200.2, 100.2), (200.2, 120.2), (100.2, 120.2)),
        ((100.2, 180.2), (200.2, 180.2), (200.2, 200.2), (100.2, 200.2)),
        ((100.2, 100.2), (120.2, 100.2), (120.2, 200.2), (100.2, 200.2)),
        ((180.2, 100.2), (200.2, 100.2), (200.2, 200.2), (180.2, 200.2)),
    ]
    pixels = image_of(client, "poly:" + ";".join(flat(ring) for ring in frame))
    assert pixels.shape == (101, 101, 4)
    union = unary_union([Polygon(ring) for ring in frame])
    assert len(union.interiors) == 1
    np.testing.assert_array_equal(
        pixels[..., 3], np.where(centre_mask(union, (100, 100, 101, 101), 101, 101), 255, 0)
    )
    assert pixels[50, 50, 3] == 0 and pixels[10, 50, 3] == 255


def test_a_bow_tie_is_repaired_into_two_triangles(client: TestClient) -> None:
    bow_tie = ((10.2, 10.4), (110.3, 110.2), (110.3, 10.4), (10.2, 110.2))
    pixels = image_of(client, "poly:" + flat(bow_tie))
    assert pixels.shape == (101, 101, 4)
    repaired = make_valid(Polygon(bow_tie))
    assert repaired.geom_type == "MultiPolygon"
    np.testing.assert_array_equal(
        pixels[..., 3], np.where(centre_mask(repaired, (10, 10, 101, 101), 101, 101), 255, 0)
    )
    assert pixels[50, 5, 3] == 255  # left triangle
    assert pixels[50, 95, 3] == 255  # right triangle
    assert pixels[5, 50, 3] == 0 and pixels[95, 50, 3] == 0  # above and below the crossing


def test_a_polygon_partly_outside_is_clipped_to_the_image(client: TestClient) -> None:
    corner = ((-10.3, -10.6), (50.2, -10.6), (50.2, 30.4), (20.3, 50.2), (-10.3, 50.2))
    pixels = image_of(client, "poly:" + flat(corner))
    assert pixels.shape == (51, 51, 4)
    inside = centre_mask(Polygon(corner), (0, 0, 51, 51), 51, 51)
    assert not inside.all()
    np.testing.assert_array_equal(pixels[..., 3], np.where(inside, 255, 0))
    np.testing.assert_array_equal(pixels[inside][:, :3], gradient()[:51, :51][inside])


def test_a_polygon_on_the_last_pixels_of_the_image(client: TestClient) -> None:
    pixels = image_of(client, "poly:590.2,390.2,700,390.2,700,500,590.2,500")
    assert pixels.shape == (10, 10, 4)
    np.testing.assert_array_equal(pixels[..., 3], np.full((10, 10), 255))
    np.testing.assert_array_equal(pixels[..., :3], gradient()[390:, 590:])


def test_source_alpha_is_kept_inside_the_polygon(client: TestClient) -> None:
    square = ((250.2, 100.2), (350.2, 100.2), (350.2, 200.2), (250.2, 200.2))
    response = client.get(f"/iiif/3/gradient-alpha/poly:{flat(square)}/max/0/default.png")
    assert response.status_code == 200, response.text
    alpha = decode(response.content)[..., 3]
    assert alpha.shape == (101, 101)
    # Centres 250.5 to 349.5 are inside, 350.5 (the last column and row of the box) is not.
    expected = np.zeros((101, 101), dtype=np.uint8)
    expected[:100, :50] = 128  # x 250..299 lie in the half-transparent left half
    expected[:100, 50:100] = 255
    np.testing.assert_array_equal(alpha, expected)


@pytest.mark.parametrize("size", ["pct:25", "!500,500"])
def test_a_pyramid_level_gets_the_same_exact_mask(client: TestClient, size: str) -> None:
    slanted = ((400.3, 300.7), (1700.1, 410.2), (1690.6, 560.9), (410.8, 450.4))
    response = client.get(f"/iiif/3/pyramid/poly:{flat(slanted)}/{size}/0/default.png")
    assert response.status_code == 200, response.text
    pixels = decode(response.content)
    height, width = pixels.shape[:2]
    assert (width, height) == {"pct:25": (325, 65), "!500,500": (500, 100)}[size]
    inside = centre_mask(Polygon(slanted), (400, 300, 1301, 261), width, height)
    np.testing.assert_array_equal(pixels[..., 3], np.where(inside, 255, 0))


BAD_POLYGONS = [
    ("poly:10,10,20,20", "a polygon needs at least 3 distinct points"),
    ("poly:10,10,20,20,10,10", "a polygon needs at least 3 distinct points"),
    ("poly:10,10,20,20,30,30", "the polygon has zero area"),
    ("poly:a,b,c", "polygon coordinates must be decimal numbers"),
    ("poly:nan,1,20,3,4,50", "polygon coordinates must be decimal numbers"),
    ("poly:inf,1,20,3,4,50", "polygon coordinates must be decimal numbers"),
    ("poly:1e2,1,20,3,4,50", "polygon coordinates must be decimal numbers"),
    ("poly:\u0661\u0660,10,100,10,50,90", "polygon coordinates must be decimal numbers"),
    ("poly:10,10,20,20,30", "polygon coordinates must come in x,y pairs"),
    ("poly:10,10,20,20,30,30,40", "polygon coordinates must come in x,y pairs"),
    ("poly:", "poly: needs at least one ring of x,y pairs"),
    ("poly:700,500,800,500,800,600", "the polygon lies outside the 600x400 image"),
    ("poly:600,0,700,0,700,100", "the polygon lies outside the 600x400 image"),
    ("poly:pct:100,0,150,0,150,50", "the polygon lies outside the 600x400 image"),
    ("poly:10,10,100,10,50,90;10,10,20,20", "a polygon needs at least 3 distinct points"),
]


@pytest.mark.parametrize(("region", "reason"), BAD_POLYGONS)
def test_bad_polygons_are_400_with_the_reason(client: TestClient, region: str, reason: str) -> None:
    response = client.get(f"/iiif/3/gradient/{region}/max/0/default.png")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith(f"region: {reason}")


@pytest.fixture
def small_limits_client(folder: Path) -> Iterator[TestClient]:
    core = Settings(image_root=folder, max_url_length=300)
    with TestClient(
        create_server_app(ServerSettings(core, masks=MaskSettings(max_polygon_vertices=8)))
    ) as test_client:
        yield test_client


def test_too_many_vertices_is_413(small_limits_client: TestClient) -> None:
    eight = "poly:10,10,50,5,90,10,95,50,90,90,50,95,5,90,3,50"
    assert small_limits_client.get(f"/iiif/3/gradient/{eight}/max/0/default.png").status_code == 200
    nine = "poly:10,10,50,5,90,10,95,50,90,90,50,95,5,90,3,50,4,30"
    response = small_limits_client.get(f"/iiif/3/gradient/{nine}/max/0/default.png")
    assert response.status_code == 413
    assert response.text == "region: more than IIIF_MAX_POLYGON_VERTICES=8 vertices\n"


def test_vertices_of_every_ring_count_towards_the_limit(small_limits_client: TestClient) -> None:
    two_rings = "poly:10,10,50,10,30,40;100,100,150,100,150,150,100,150"
    assert small_limits_client.get(f"/iiif/3/gradient/{two_rings}/max/0/default.png").status_code == 200
    nine_in_three_rings = "poly:10,10,50,10,30,40;100,100,150,100,150,150;200,200,250,200,250,250"
    response = small_limits_client.get(f"/iiif/3/gradient/{nine_in_three_rings}/max/0/default.png")
    assert response.status_code == 413
    assert "IIIF_MAX_POLYGON_VERTICES=8" in response.text


def test_vertex_limit_from_mask_settings(folder: Path) -> None:
    app = create_app(Settings(image_root=folder), [masking_extension(MaskSettings(max_polygon_vertices=3))])
    with TestClient(app) as test_client:
        ok = test_client.get("/iiif/3/gradient/poly:10,10,50,10,30,40/max/0/default.png")
        too_many = test_client.get("/iiif/3/gradient/poly:10,10,50,10,50,40,10,40/max/0/default.png")
    assert ok.status_code == 200
    assert too_many.status_code == 413


def test_url_too_long_is_414(small_limits_client: TestClient) -> None:
    # 60 vertices would also be over the vertex limit: the length is checked first.
    ring = [(100 + 50 * math.cos(a / 10), 100 + 50 * math.sin(a / 10)) for a in range(60)]
    url = f"/iiif/3/gradient/poly:{flat(ring)}/max/0/default.png"
    assert len(url) > 300
    response = small_limits_client.get(url)
    assert response.status_code == 414
    assert response.text == "URL longer than IIIF_MAX_URL_LENGTH=300\n"


def test_info_json_advertises_the_polygon_service(client: TestClient) -> None:
    info = client.get("/iiif/3/gradient/info.json").json()
    assert (info["width"], info["height"]) == (WIDTH, HEIGHT)
    services = [s for s in info.get("service", []) if s.get("type") == "PolygonRegionService"]
    assert len(services) == 1
    service = services[0]
    assert service["id"] == "http://testserver/iiif/3/gradient#polygon-region"
    assert service["profile"].startswith("http")
    assert any(syntax.startswith("poly:pct:") for syntax in service["regionSyntax"])


def test_the_plain_core_knows_no_polygons(folder: Path) -> None:
    with TestClient(create_app(Settings(image_root=folder))) as plain:
        response = plain.get(f"/iiif/3/gradient/{TRIANGLE_URL}/max/0/default.png")
        info = plain.get("/iiif/3/gradient/info.json").json()
        rectangle = plain.get(f"/iiif/3/gradient/{TRIANGLE_RECT}/max/0/default.png")
    assert response.status_code == 400
    assert response.text.startswith("region: unknown region syntax")
    assert not any(s.get("type") == "PolygonRegionService" for s in info.get("service", []))
    assert rectangle.status_code == 200


def test_mask_request_is_cached_with_its_own_etag(client: TestClient) -> None:
    first = fetch(client, TRIANGLE_URL)
    again = client.get(
        f"/iiif/3/gradient/{TRIANGLE_URL}/max/0/default.png", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    other = fetch(client, "poly:100.3,50.2,420.7,80.1,250.4,330.7")
    assert other.headers["etag"] != first.headers["etag"]


def test_rasterising_a_many_vertex_polygon_on_a_whole_page_stays_small() -> None:
    # A rows x edges table would be 8000 x 2000 floats several times over (1.3 GB measured).
    angles = np.linspace(0, 2 * np.pi, 2000, endpoint=False)
    ring = tuple(zip(3000.3 + 2999 * np.cos(angles), 4000.3 + 3999 * np.sin(angles), strict=True))
    geometry = Polygon(ring)
    tracemalloc.start()
    try:
        mask = rasterize_mask([np.asarray(ring)], Box(0, 0, 6000, 8000), 6000, 8000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert mask.shape == (8000, 6000)
    assert peak < 150 * 2**20  # the 48 MB mask and the crossings (measured: 47 MB)
    rng = np.random.default_rng(3)
    xs, ys = rng.integers(0, 6000, 5000), rng.integers(0, 8000, 5000)
    expected = shapely.contains_xy(geometry, xs + 0.5, ys + 0.5)
    np.testing.assert_array_equal(mask[ys, xs], np.where(expected, 255, 0))


def test_gray_jpg_fill_is_the_grey_value_of_bg(client: TestClient) -> None:
    """`?bg=ff0000` on a gray jpg fills with the grey libvips makes of red (127), not red's first band."""
    body = fetch(client, "poly:100,100,300,100,100,300", tail="gray.jpg?bg=ff0000").content
    pixels = decode(body)
    assert pixels.shape[2] == 1
    assert abs(int(pixels[190, 190, 0]) - 127) <= 3


def test_jpg_rotation_corners_use_bg(client: TestClient) -> None:
    """Corners of a 30 degree rotation in jpg take the `?bg` colour too."""
    pixels = decode(fetch(client, "0,0,200,100", rotation="30", tail="default.jpg?bg=0000ff").content)
    assert np.abs(pixels[0, 0].astype(int) - [0, 0, 255]).max() <= 12


def test_a_repeated_polygon_is_resolved_once_per_image_size() -> None:
    parse = polygon_parser(100)
    region = parse("pct:10,10,50,10,30,40")
    first = region.resolve(600, 400)
    assert parse("pct:10,10,50,10,30,40").resolve(600, 400) is first  # equal regions share the work
    other = region.resolve(300, 200)
    assert other is not first and other.box.width * 2 == first.box.width
    with pytest.raises(IIIFError):  # an error is not remembered as an answer
        parse("10,10,20,20,30,30").resolve(600, 400)
    with pytest.raises(IIIFError):
        parse("10,10,20,20,30,30").resolve(600, 400)


def test_a_simple_polygon_inside_the_image_needs_no_shapely(monkeypatch: pytest.MonkeyPatch) -> None:
    """A line's quadrilateral is its own mask: same box, area and pixels as the repaired geometry gives."""
    import extensions.polygon_region as polygon_region

    line = ((470.5, 500.2), (1730.1, 480.7), (1730.1, 550.3), (470.5, 570.9))
    expected = polygon_region._mask_geometry([line])

    def no_shapely(rings: object) -> None:
        raise AssertionError("shapely was asked to repair a simple polygon")

    monkeypatch.setattr(polygon_region, "repaired", no_shapely)
    resolved = polygon_parser(100)(flat(line)).resolve(6000, 8000)
    assert (resolved.box.x, resolved.box.y, resolved.box.width, resolved.box.height) == (470, 480, 1261, 91)
    assert resolved.mask.area == expected.area
    mask = rasterize_mask(resolved.mask.rings, resolved.box, 630, 45)
    inside = centre_mask(expected, (470, 480, 1261, 91), 630, 45)
    np.testing.assert_array_equal(mask, np.where(inside, 255, 0))
    bow_tie = polygon_parser(100)("10,10,110,110,110,10,10,110")
    with pytest.raises(AssertionError, match="shapely"):  # a crossing ring still goes to shapely
        bow_tie.resolve(600, 400)
