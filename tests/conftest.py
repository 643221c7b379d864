"""Shared fixtures: a folder of small generated images whose every pixel is known, and clients on it.

The test picture is a grid of 8 x 6 cells, each filled with its own colour (`cell_colour`). The
400x300 images use 50 px cells; the 4096x3072 page-pyramid shows the same grid with 512 px cells and
the 1024x768 sub-IFD pyramid with 128 px cells, so a test can say which colour any point of any
response must have.
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import pyvips
from job_processes import RedisServer
from starlette.testclient import TestClient

from iiif_server.app import create_app
from iiif_server.convert import convert_to_pyramid
from iiif_server.settings import Settings

COLS, ROWS = 8, 6
CELL = 50
WIDTH, HEIGHT = COLS * CELL, ROWS * CELL
PYRAMID_CELL = 512
SUBIFD_CELL = 128
JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"


def cell_colour(cx: int, cy: int) -> tuple[int, int, int]:
    """The colour of cell (cx, cy): red counts columns, green rows, blue alternates like a chessboard."""
    return (cx * 32, cy * 48, 220 if (cx + cy) % 2 else 20)


def grey_of(rgb: tuple[int, int, int]) -> float:
    """The grey libvips makes of an sRGB colour: the sRGB encoding of its linear luminance."""

    def linear(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    y = 0.2126 * linear(rgb[0]) + 0.7152 * linear(rgb[1]) + 0.0722 * linear(rgb[2])
    encoded = 12.92 * y if y <= 0.0031308 else 1.055 * y ** (1 / 2.4) - 0.055
    return 255 * encoded


def grid_image(cell: int) -> pyvips.Image:
    """The 8 x 6 grid, `cell` pixels per cell, as an 8-bit sRGB image."""
    cells = np.array([[cell_colour(cx, cy) for cx in range(COLS)] for cy in range(ROWS)], dtype=np.uint8)
    return pyvips.Image.new_from_array(cells).copy(interpretation="srgb").zoom(cell, cell)


class Grid:
    """Checks that decoded responses show the grid."""

    colour = staticmethod(cell_colour)
    grey = staticmethod(grey_of)

    @staticmethod
    def at(x: float, y: float) -> tuple[int, int, int]:
        """The colour of the 400x300 grid at pixel (x, y)."""
        return cell_colour(int(x // CELL), int(y // CELL))

    @staticmethod
    def decode(body: bytes) -> np.ndarray:
        """A response body as an array of shape (height, width, bands)."""
        image = pyvips.Image.new_from_buffer(body, "")
        return image.numpy().reshape(image.height, image.width, image.bands)

    @staticmethod
    def assert_close(actual: object, expected: tuple[float, ...], tolerance: float) -> None:
        """Every channel of `actual` within `tolerance` of `expected`."""
        values = [float(v) for v in np.atleast_1d(np.asarray(actual))]
        assert len(values) == len(expected), (values, expected)
        assert all(abs(a - e) <= tolerance for a, e in zip(values, expected, strict=True)), (values, expected)

    @classmethod
    def assert_shows(
        cls, pixels: np.ndarray, box: tuple[int, int, int, int], tolerance: float, cell: int = CELL
    ) -> int:
        """Each cell centre inside the `x, y, w, h` box lands on its cell's colour; returns how many did."""
        height, width = pixels.shape[:2]
        x, y, w, h = box
        checked = 0
        for cy in range(ROWS):
            for cx in range(COLS):
                sx, sy = (cx + 0.5) * cell, (cy + 0.5) * cell
                if not (x <= sx < x + w and y <= sy < y + h):
                    continue
                u = int((sx - x) * width / w)
                v = int((sy - y) * height / h)
                cls.assert_close(pixels[v, u, :3], cell_colour(cx, cy), tolerance)
                checked += 1
        assert checked > 0
        return checked


def write_images(root: Path, outside: Path) -> None:
    """Every fixture image of the suite, written into `root` (and one file outside it)."""
    grid = grid_image(CELL)
    grid.pngsave(str(root / "grid.png"))
    grid.jpegsave(str(root / "grid_q95.jpg"), Q=95)
    grid.webpsave(str(root / "grid_lossless.webp"), lossless=True)
    (root / "sub").mkdir()
    grid.pngsave(str(root / "sub" / "img.png"))
    grid.pngsave(str(root / "my-image.png"))

    left_opaque = pyvips.Image.black(WIDTH, HEIGHT).draw_rect(255, 0, 0, WIDTH // 2, HEIGHT, fill=True)
    grid.bandjoin(left_opaque.cast("uchar")).pngsave(str(root / "alpha.png"))
    (grid.cast("ushort") * 257).cast("ushort").copy(interpretation="rgb16").pngsave(str(root / "deep.png"))
    grid[0].copy(interpretation="b-w").pngsave(str(root / "grey.png"))

    flat = root.parent / f"{root.name}-pyramid-flat.v"
    grid_image(PYRAMID_CELL).write_to_file(str(flat))
    convert_to_pyramid(flat, root / "pyramid.tif")
    flat.unlink()
    grid_image(SUBIFD_CELL).tiffsave(
        str(root / "subifd.tif"), tile=True, tile_width=256, tile_height=256, pyramid=True, subifd=True
    )

    (root / "broken.jp2").write_bytes(JP2_SIGNATURE + b"\x00\x00\x00\x14ftypjp2 " + bytes(200))
    grid.pngsave(str(outside / "secret.png"))
    os.symlink(outside / "secret.png", root / "escape.png")
    os.symlink(outside, root / "outdir")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes several seconds (writes a 6000x8000 page)")


@pytest.fixture(scope="session")
def image_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's image folder (read-only by convention: tests that change files copy it)."""
    root = tmp_path_factory.mktemp("images")
    write_images(root, tmp_path_factory.mktemp("outside"))
    return root


@pytest.fixture(scope="session")
def grid() -> type[Grid]:
    return Grid


@pytest.fixture(scope="session")
def client(image_root: Path) -> Iterator[TestClient]:
    """A client on the default settings over the image folder."""
    with TestClient(create_app(Settings(image_root=image_root))) as test_client:
        yield test_client


@pytest.fixture
def make_client(image_root: Path) -> Iterator[Callable[..., TestClient]]:
    """Clients on custom settings: `make_client(limits=Limits(...), image_root=other)`."""
    clients: list[TestClient] = []

    def make(**overrides: object) -> TestClient:
        options: dict[str, object] = {"image_root": image_root, **overrides}
        test_client = TestClient(create_app(Settings(**options)))  # type: ignore[arg-type]
        clients.append(test_client)
        return test_client

    yield make
    for test_client in clients:
        test_client.close()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A throw-away `redis-server` on a free loopback port, no persistence; skipped if not installed."""
    server = RedisServer()
    server.start()
    yield server.url
    server.kill()
