"""Stored JPEG tiles sent as they are: exactly the tile's pixels, a valid JPEG file, the same headers and
checks as a decoded tile, and only when nothing but the stored tile would be sent."""

from pathlib import Path

import numpy as np
import pytest
import pyvips
from starlette.testclient import TestClient

from iiif_server import stored_tiles
from iiif_server.access import token_digest
from iiif_server.app import IIIFImageAPI, create_app
from iiif_server.pipeline import level_scale
from iiif_server.service_settings import ServiceSettings
from iiif_server.settings import Settings
from iiif_server.stored_tiles import ADOBE_RGB, as_jfif, leading_segments
from iiif_server.tiff_tiles import RGB, YCBCR, read_layout

WIDTH, HEIGHT = 1301, 1029  # odd sides: the halved levels are 650x514, 325x257, ...
TOKEN = "stored-tiles-token"


def page(bands: int) -> pyvips.Image:
    """A smooth picture with detail everywhere (JPEG re-encoding changes it measurably)."""
    x, y = np.meshgrid(np.arange(WIDTH), np.arange(HEIGHT))
    channels = [
        (x * 0.2 + y * 0.05) % 256,
        128 + 60 * np.sin(x / 40) + 40 * np.cos(y / 30),
        (x // 32 + y // 32) * 37 % 256,
    ]
    pixels = np.dstack(channels[:bands]).astype(np.uint8)
    image = pyvips.Image.new_from_array(pixels)
    return image.copy(interpretation="srgb" if bands == 3 else "b-w")


# How libvips 8.18 writes JPEG-tiled TIFFs: below Q 90 YCbCr-coded 2x2 subsampled tiles (photometric YCbCr, no
# APPn marker); from Q 90 RGB-coded tiles with their own Adobe marker (photometric RGB); `rgbjpeg` below Q 90:
# photometric RGB around YCbCr-coded tiles (component ids 1, 2, 3), which libvips reads as RGB and a JPEG
# decoder as YCbCr: those are decoded.
VARIANTS = {
    "ycbcr": (3, {"Q": 75}),
    "rgb": (3, {"Q": 90}),
    "grey": (1, {"Q": 90}),
    "subifd": (3, {"Q": 80, "subifd": True}),
    "big": (3, {"Q": 90, "bigtiff": True}),
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stored")
    for name, (bands, options) in VARIANTS.items():
        page(bands).tiffsave(
            str(root / f"{name}.tif"),
            tile=True,
            tile_width=256,
            tile_height=256,
            pyramid=True,
            compression="jpeg",
            **options,
        )
    page(3).tiffsave(
        str(root / "rgb-coded-ycbcr.tif"), tile=True, pyramid=True, compression="jpeg", rgbjpeg=True
    )
    page(3).tiffsave(str(root / "secret-page.tif"), tile=True, pyramid=True, compression="jpeg", Q=90)
    page(3).tiffsave(str(root / "deflate.tif"), tile=True, tile_width=256, tile_height=256, pyramid=True)
    return root


def client_on(folder: Path, passthrough: bool = True) -> TestClient:
    service = ServiceSettings(tokens=frozenset({token_digest(TOKEN)}), private_prefixes=("secret-",))
    settings = Settings(image_root=folder, tile_passthrough=passthrough, service=service)
    return TestClient(create_app(settings))


@pytest.fixture(scope="module")
def on(folder: Path) -> TestClient:
    with client_on(folder) as client:
        yield client


@pytest.fixture(scope="module")
def off(folder: Path) -> TestClient:
    with client_on(folder, passthrough=False) as client:
        yield client


def decoded(body: bytes) -> np.ndarray:
    """A JPEG body's pixels; a warning (a damaged stream) fails."""
    image = pyvips.Image.jpegload_buffer(body, fail_on="warning")
    return image.numpy().reshape(image.height, image.width, image.bands).astype(int)


def stored(path: Path, level: int, window: tuple[int, int, int, int], subifd: bool = False) -> np.ndarray:
    """The pixels libvips decodes from the TIFF's level at `window`."""
    options = {"subifd": level - 1} if subifd and level else {"page": level}
    image = pyvips.Image.new_from_file(str(path), **options).crop(*window)
    return image.numpy().reshape(image.height, image.width, image.bands).astype(int)


# (level, scale factor, tile column and row): whole tiles inside the level, at full size and halved levels.
TILES = [(0, 1, 1, 2), (0, 1, 3, 0), (1, 2, 1, 1), (2, 4, 0, 0)]


def tile_path(name: str, scale: int, col: int, row: int, quality: str = "default") -> str:
    span = 256 * scale
    return f"/iiif/3/{name}/{col * span},{row * span},{span},{span}/256,256/0/{quality}.jpg"


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize(("level", "scale", "col", "row"), TILES)
def test_a_stored_tile_is_the_tile_itself(on, off, folder, name, level, scale, col, row):
    response = on.get(tile_path(name, scale, col, row))
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    pixels = decoded(response.content)
    truth = stored(folder / f"{name}.tif", level, (col * 256, row * 256, 256, 256), name == "subifd")
    assert np.array_equal(pixels, truth)  # not decoded and encoded again: exactly the stored pixels
    rendered = decoded(off.get(tile_path(name, scale, col, row)).content)
    assert rendered.shape == pixels.shape
    assert 0 < np.abs(rendered - pixels).mean() < 6  # the decoding path: one JPEG encoding away


def test_the_jpeg_says_how_its_colours_are_coded(on):
    ycbcr, rgb, grey = (on.get(tile_path(name, 1, 1, 1)).content for name in ("ycbcr", "rgb", "grey"))
    assert ycbcr[2:6] == b"\xff\xe0\x00\x10" and ycbcr[6:11] == b"JFIF\x00"
    assert rgb[2:4] == b"\xff\xee" and rgb[6:11] == b"Adobe" and rgb[17] == 0  # transform 0: RGB as it is
    assert grey[6:11] == b"JFIF\x00" and decoded(grey).shape == (256, 256, 1)
    assert np.abs(decoded(rgb) - decoded(ycbcr)).mean() < 6  # the same picture, read as colours


def test_an_rgb_tile_without_a_marker_gets_the_adobe_one(on):
    rgb = on.get(tile_path("rgb", 1, 2, 1)).content
    app_end, ids = leading_segments(rgb)
    assert ids == b"RGB" and rgb[2:app_end] == ADOBE_RGB
    bare = rgb[:2] + rgb[app_end:]  # a TIFF tile as another writer might store it
    assert as_jfif(b"", bare, RGB) == rgb
    assert as_jfif(b"", bare, YCBCR) is None  # R, G, B ids in a YCbCr TIFF: left to the decoder


# Windows of a stored level at its own size that are not one whole stored tile: (window, level, scale).
WINDOWS = [
    ((1280, 0, 21, 256), 0, 1),  # the right edge: the stored tile is padded to 256 px
    ((1024, 1024, 256, 5), 0, 1),  # the bottom edge
    ((128, 128, 256, 256), 0, 1),  # off the stored grid: four stored tiles
    ((300, 100, 200, 300), 1, 2),  # four stored tiles of the halved level
    ((0, 0, 325, 257), 2, 4),  # the whole of the quarter level
]


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize(("window", "level", "scale"), WINDOWS)
def test_other_windows_are_cut_from_the_stored_tiles(on, off, folder, name, window, level, scale):
    x, y, w, h = window
    full = f"{x * scale},{y * scale},{min(w * scale, WIDTH - x * scale)},{min(h * scale, HEIGHT - y * scale)}"
    path = f"/iiif/3/{name}/{full}/{w},{h}/0/default.jpg"
    cut, rendered = on.get(path), off.get(path)
    assert cut.status_code == rendered.status_code == 200
    pixels = decoded(cut.content)
    truth = stored(folder / f"{name}.tif", level, window, name == "subifd")
    assert pixels.shape == truth.shape == decoded(rendered.content).shape
    assert np.abs(pixels - truth).mean() < 6  # one JPEG encoding away from the stored pixels
    assert np.abs(pixels - decoded(rendered.content)).mean() < 2  # as libvips would encode them


@pytest.mark.parametrize(
    "path",
    [
        "ycbcr/256,256,256,256/200,200/0/default.jpg",  # scaled between levels
        "ycbcr/256,256,256,256/256,256/90/default.jpg",
        "ycbcr/256,256,256,256/256,256/!0/default.jpg",
        "ycbcr/256,256,256,256/256,256/0/gray.jpg",
        "ycbcr/256,256,256,256/256,256/0/default.png",
        "deflate/256,256,256,256/256,256/0/default.jpg",
        "rgb-coded-ycbcr/0,0,128,128/128,128/0/default.jpg",  # a whole stored tile with ambiguous colours
        "rgb-coded-ycbcr/64,64,128,128/128,128/0/default.jpg",
    ],
)
def test_anything_else_is_rendered(on, off, path):
    sent = on.get(f"/iiif/3/{path}")
    assert sent.status_code == 200
    assert sent.content == off.get(f"/iiif/3/{path}").content


def test_headers_checks_and_errors_are_those_of_a_rendered_tile(on, off, folder):
    path = tile_path("ycbcr", 1, 2, 2)
    sent, rendered = on.get(path), off.get(path)
    assert sent.content != rendered.content
    assert sent.headers["etag"] != rendered.headers["etag"]  # other bytes, other validator
    same = ("last-modified", "cache-control", "link", "access-control-allow-origin", "content-type")
    assert all(sent.headers[name] == rendered.headers[name] for name in same)
    again = on.get(path, headers={"If-None-Match": sent.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    private = "/iiif/3/secret-page/256,256,128,128/128,128/0/default.jpg"  # libvips' default: 128 px tiles
    assert on.get(private).status_code == 401
    opened = on.get(private, headers={"Authorization": f"Bearer {TOKEN}"})
    assert opened.status_code == 200 and opened.headers["cache-control"].startswith("private")
    assert np.array_equal(
        decoded(opened.content), stored(folder / "secret-page.tif", 0, (256, 256, 128, 128))
    )
    for bad in ("ycbcr/0,0,256,256/256,256/0/default.jpeg", "nothing/0,0,256,256/256,256/0/default.jpg"):
        assert on.get(f"/iiif/3/{bad}").status_code == off.get(f"/iiif/3/{bad}").status_code >= 400


def test_a_damaged_tile_is_left_to_the_decoder(folder, tmp_path, off):
    damaged = tmp_path / "ycbcr.tif"
    data = bytearray((folder / "ycbcr.tif").read_bytes())
    with open(folder / "ycbcr.tif", "rb") as file:
        tiles = read_layout(file).pages[0]
    index = tiles.tile_index(256, 256, 256, 256)
    data[tiles.offsets[index] : tiles.offsets[index] + 2] = b"\x00\x00"  # no SOI: not a JPEG stream
    damaged.write_bytes(bytes(data))
    with client_on(tmp_path) as client:
        path = tile_path("ycbcr", 1, 1, 1)
        assert client.get(path).status_code == client_on(tmp_path, False).get(path).status_code == 501
    assert as_jfif(b"", b"\x00\x00", 6) is None


def test_halved_levels_of_odd_sides_are_exact_powers_of_two():
    assert (level_scale(1029, 514), level_scale(1029, 515), level_scale(1301, 650)) == (2, 2, 2)
    assert (level_scale(1029, 257), level_scale(1000, 1000), level_scale(900, 300)) == (4, 1, 3)


def test_neighbouring_windows_share_their_decoded_tiles(folder, monkeypatch):
    decoded_tiles = []
    original = stored_tiles.decode
    monkeypatch.setattr(stored_tiles, "decode", lambda data: decoded_tiles.append(data) or original(data))
    paths = [f"/iiif/3/ycbcr/{x},128,256,256/256,256/0/default.jpg" for x in (128, 384)]  # 2 x 2 tiles each
    for kept_mb, decodes in ((32, 6), (0, 8)):
        decoded_tiles.clear()
        settings = Settings(image_root=folder, decoded_tiles_mb=kept_mb)
        with TestClient(create_app(settings)) as client:
            assert all(client.get(path).status_code == 200 for path in paths)
        assert len(decoded_tiles) == decodes


def test_info_json_offers_the_stored_grid_and_its_tiles_are_sent_as_stored(on, off, folder):
    for client in (on, off):  # whatever IIIF_TILE_PASSTHROUGH says, as IIIF_TILE_SIZE (512) does not fit
        assert client.get("/iiif/3/ycbcr/info.json").json()["tiles"] == [
            {"width": 256, "height": 256, "scaleFactors": [1, 2, 4, 8]}
        ]
    assert (
        on.get("/iiif/3/deflate/info.json").json()["tiles"][0]["width"] == 512
    )  # no JPEG tiles: the setting
    path = tile_path("ycbcr", 2, 1, 0)  # a tile of the advertised grid at scale factor 2
    assert np.array_equal(decoded(on.get(path).content), stored(folder / "ycbcr.tif", 1, (256, 0, 256, 256)))


def test_a_window_a_pixel_off_its_level_is_stretched_from_the_stored_tiles(on, off, folder, monkeypatch):
    # The right edge at scale factor 2: 21 px of the full size are ceil(21 / 2) = 11 px, but the halved level
    # (650 px of 1301) holds 10 of them: libvips would be asked to resample; the stored tiles are stretched.
    path = "/iiif/3/ycbcr/1280,0,21,512/11,256/0/default.jpg"
    rendered = decoded(off.get(path).content)
    renders = []
    monkeypatch.setattr(IIIFImageAPI, "render", lambda *args: renders.append(args))
    cut = decoded(on.get(path).content)
    assert renders == [] and cut.shape == rendered.shape == (256, 11, 3)
    assert np.abs(cut - rendered).mean() < 4
    truth = stored(folder / "ycbcr.tif", 1, (640, 0, 10, 256))
    assert np.abs(cut[:, :10] - truth).mean() < 8  # the level's pixels, a tenth wider
