"""The command line: `convert` writes a tiled pyramid, `samples` the sample set, `serve` a real server."""

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import pyvips

from conformance.live_server import running_server
from iiif_server.sources import FolderSource, Level


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "iiif_server", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def flat_source(tmp_path_factory, image_root):
    """A 1200x900 PNG of the grid (150 px cells)."""
    path = tmp_path_factory.mktemp("convert") / "flat.png"
    pyvips.Image.new_from_file(str(image_root / "grid.png")).zoom(3, 3).pngsave(str(path))
    return path


def pages(path: Path) -> list[pyvips.Image]:
    first = pyvips.Image.new_from_file(str(path))
    return [pyvips.Image.new_from_file(str(path), page=p) for p in range(first.get("n-pages"))]


def test_convert_writes_a_tiled_pyramid(flat_source, tmp_path, grid):
    target = tmp_path / "out" / "pyramid.tif"
    result = run_cli("convert", str(flat_source), str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(target)
    levels = pages(target)
    assert [(p.width, p.height) for p in levels] == [(1200, 900), (600, 450), (300, 225)]
    for page in levels:
        assert (page.get("tile-width"), page.get("tile-height")) == (512, 512)
        assert page.get("vips-loader") == "tiffload"
    top = levels[0].numpy()
    for cy in range(6):
        for cx in range(8):
            grid.assert_close(top[cy * 150 + 75, cx * 150 + 75], grid.colour(cx, cy), 8)


def test_convert_with_a_tile_size(flat_source, tmp_path):
    target = tmp_path / "small-tiles.tif"
    result = run_cli("convert", str(flat_source), str(target), "--tile-size", "256")
    assert result.returncode == 0, result.stderr
    levels = pages(target)
    assert [(p.width, p.height) for p in levels] == [(1200, 900), (600, 450), (300, 225), (150, 112)]
    assert {(p.get("tile-width"), p.get("tile-height")) for p in levels} == {(256, 256)}


def test_converted_pyramid_is_served_from_its_levels(flat_source, tmp_path):
    target = tmp_path / "served.tif"
    assert run_cli("convert", str(flat_source), str(target), "--tile-size", "256").returncode == 0
    source = FolderSource(tmp_path, 10**9, 4).describe("served")
    assert source.levels == (
        Level(1200, 900),
        Level(600, 450, page=1),
        Level(300, 225, page=2),
        Level(150, 112, page=3),
    )


def test_convert_keeps_alpha(image_root, tmp_path):
    target = tmp_path / "alpha.tif"
    result = run_cli("convert", str(image_root / "alpha.png"), str(target), "--tile-size", "128")
    assert result.returncode == 0, result.stderr
    top = pyvips.Image.new_from_file(str(target))
    assert (top.bands, top.get("n-pages")) == (4, 3)
    pixels = top.numpy()
    assert (pixels[:, :200, 3] == 255).all() and (pixels[:, 200:, 3] == 0).all()


def test_convert_of_a_missing_file_fails(tmp_path):
    result = run_cli("convert", str(tmp_path / "missing.png"), str(tmp_path / "out.tif"))
    assert result.returncode != 0
    assert not (tmp_path / "out.tif").exists()


@pytest.mark.slow
def test_samples_are_written_once(tmp_path):
    folder = tmp_path / "samples"
    result = run_cli("samples", "--folder", str(folder), timeout=300)
    assert result.returncode == 0, result.stderr
    names = {"page1.tif", "page2.jpg", "transparent.png", "67352ccc-d1b0-11e1-89ae-279075081939.png"}
    names |= {"page1.gt.xml", "page2.gt.xml"}
    assert {p.name for p in folder.iterdir()} == names
    wrote = {line.removeprefix("wrote ") for line in result.stdout.splitlines() if line.startswith("wrote ")}
    assert wrote == {str(folder / name) for name in names}
    page = folder / "page1.tif"
    levels = pages(page)
    assert (levels[0].width, levels[0].height) == (6000, 8000)
    assert len(levels) > 1 and levels[0].get("tile-width") == 512
    assert pyvips.Image.new_from_file(str(folder / "page2.jpg")).width == 1200
    assert pyvips.Image.new_from_file(str(folder / "transparent.png")).bands == 4
    validator = pyvips.Image.new_from_file(str(folder / "67352ccc-d1b0-11e1-89ae-279075081939.png"))
    assert (validator.width, validator.height) == (1000, 1000)
    again = run_cli("samples", "--folder", str(folder))
    assert again.returncode == 0
    assert "wrote" not in again.stdout


def test_real_server_on_loopback(image_root, grid):
    with running_server(image_root) as live:
        base = f"{live.base_url}/iiif/3"
        info = httpx.get(f"{base}/sub%2Fimg/info.json", timeout=5)
        assert info.status_code == 200
        assert info.json()["id"] == f"{base}/sub%2Fimg"
        assert (info.json()["width"], info.json()["height"]) == (400, 300)

        tile = httpx.get(f"{base}/pyramid/2048,1024,2048,2048/256,/0/default.jpg", timeout=10)
        assert tile.status_code == 200
        assert tile.headers["content-type"] == "image/jpeg"
        assert tile.headers["access-control-allow-origin"] == "*"
        pixels = grid.decode(tile.content)
        assert pixels.shape == (256, 256, 3)
        grid.assert_shows(pixels, (2048, 1024, 2048, 2048), tolerance=16, cell=512)

        escape = httpx.get(f"{base}/..%2F..%2Fetc%2Fpasswd/info.json", timeout=5)
        assert escape.status_code == 400
