"""Whole stored tiles answered by the short path (before the middlewares, on the event loop): the same bytes
and headers as the full path, and the full path whenever the answer could differ or needs reading first."""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import pyvips
from starlette.testclient import TestClient

from iiif_server.access import token_digest
from iiif_server.app import IIIFImageAPI, create_app
from iiif_server.service_settings import ServiceSettings
from iiif_server.settings import Settings

TILE = "/iiif/3/page/256,256,256,256/256,256/0/default.jpg"
SAME = ("etag", "last-modified", "cache-control", "link", "vary", "content-type", "content-length")


def write_page(path: Path, shift: int) -> None:
    """A 1024 x 768 JPEG-tiled pyramid in 256 px tiles; `shift` changes every pixel."""
    x, y = np.meshgrid(np.arange(1024), np.arange(768))
    pixels = np.dstack([(x + shift) % 256, (y + 2 * shift) % 256, (x // 8 + y // 8) % 256]).astype(np.uint8)
    image = pyvips.Image.new_from_array(pixels).copy(interpretation="srgb")
    image.tiffsave(str(path), tile=True, tile_width=256, tile_height=256, pyramid=True, compression="jpeg")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_page(tmp_path / "page.tif", 0)
    write_page(tmp_path / "secret-page.tif", 0)
    return tmp_path


@pytest.fixture
def full_path_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The folder-image requests that reached the Image API's own handler."""
    calls: list[str] = []
    original = IIIFImageAPI.local_image

    def counted(self, image_request, *args):
        calls.append(image_request.identifier)
        return original(self, image_request, *args)

    monkeypatch.setattr(IIIFImageAPI, "local_image", counted)
    return calls


def client_on(folder: Path, **options: object) -> TestClient:
    return TestClient(create_app(Settings(image_root=folder, **options)))  # type: ignore[arg-type]


def pixels(body: bytes) -> np.ndarray:
    image = pyvips.Image.new_from_buffer(body, "")
    return image.numpy().astype(int)


def test_tiles_of_a_described_image_skip_the_full_path_with_the_same_answer(folder, full_path_calls):
    with client_on(folder) as client, client_on(folder, render_cache_mb=0) as other:
        first = client.get("/iiif/3/page/0,0,256,256/256,256/0/default.jpg")  # describes the image
        short, full = client.get(TILE), other.get(TILE)
        assert full_path_calls == ["page", "page"]  # `client`'s first tile, `other`'s only one
        assert first.status_code == short.status_code == full.status_code == 200
        assert short.content == full.content and short.content[:2] == b"\xff\xd8"
        assert all(short.headers[name] == full.headers[name] for name in SAME)
        assert short.headers["access-control-allow-origin"] == "*" and "x-request-id" in short.headers
        v2 = client.get("/iiif/2/page/256,256,256,256/256,256/0/default.jpg")
        assert v2.content == short.content and full_path_calls == ["page", "page"]


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        (TILE, {"If-None-Match": '"x"'}),  # validators: the full path answers 304s
        (TILE + "?bg=000000", {}),
        (TILE, {"Authorization": "Bearer nobody"}),
        ("/iiif/3/page/256,256,256,256/200,200/0/default.jpg", {}),  # scaled between levels: libvips
        ("/iiif/3/page/256,256,256,256/256,256/0/default.png", {}),
        ("/iiif/3/page/0,0,1024,768/1024,768/0/default.jpg", {}),  # over 512 x 512 px: on a worker thread
        ("/iiif/3/page/0,384,1024,256/1024,256/0/default.jpg", {}),  # eight stored tiles
    ],
)
def test_anything_but_a_plain_stored_window_takes_the_full_path(folder, full_path_calls, path, headers):
    with client_on(folder) as client:
        client.get("/iiif/3/page/0,0,256,256/256,256/0/default.jpg")
        assert client.get(path, headers=headers).status_code == 200
        assert full_path_calls == ["page", "page"]


@pytest.mark.parametrize(
    "path",
    [
        "/iiif/3/page/128,128,256,256/256,256/0/default.jpg",  # off the stored grid: four stored tiles
        "/iiif/3/page/768,512,256,256/256,256/0/default.jpg",  # the bottom right corner
        "/iiif/3/page/0,0,1024,768/512,384/0/default.jpg",  # the whole halved level: two stored tiles
    ],
)
def test_small_windows_are_cut_on_the_short_path_as_on_the_full_one(folder, full_path_calls, path):
    with client_on(folder) as client, client_on(folder, render_cache_mb=0) as other:
        client.get("/iiif/3/page/0,0,256,256/256,256/0/default.jpg")
        short, full = client.get(path), other.get(path)
        assert full_path_calls == ["page", "page"]
        assert short.status_code == full.status_code == 200 and short.content == full.content
        assert all(short.headers[name] == full.headers[name] for name in SAME)


def test_errors_are_the_full_paths(folder, full_path_calls):
    with client_on(folder) as client:
        client.get(TILE)
        for path, status in (
            ("/iiif/3/page/256,256,256,256/256,256/0/default.jpeg", 400),
            ("/iiif/3/page/5000,0,256,256/256,256/0/default.jpg", 400),
            ("/iiif/3/none/256,256,256,256/256,256/0/default.jpg", 404),
        ):
            assert client.get(path).status_code == status


def test_a_changed_or_removed_file_is_read_again(folder, full_path_calls):
    with client_on(folder) as client:
        before = client.get(TILE).content
        write_page(folder / "page.tif", 40)
        os.utime(folder / "page.tif", (1, 1))  # another modification time, whatever the clock's resolution
        after = client.get(TILE)
        assert after.status_code == 200 and np.abs(pixels(after.content) - pixels(before)).mean() > 10
        assert full_path_calls == ["page", "page"]  # the new file is described the full way
        (folder / "page.tif").unlink()
        assert client.get(TILE).status_code == 404


def test_private_names_turn_the_short_path_off(folder, full_path_calls):
    service = ServiceSettings(tokens=frozenset({token_digest("t")}), private_prefixes=("secret-",))
    with client_on(folder, service=service) as client:
        assert [client.get(TILE).status_code for _ in range(2)] == [200, 200]
        assert full_path_calls == ["page", "page"]
        assert client.get(TILE.replace("page", "secret-page")).status_code == 401


def test_passthrough_off_leaves_stored_tiles_to_the_full_path(folder, full_path_calls):
    with client_on(folder, tile_passthrough=False, render_cache_mb=0) as client:
        assert client.get(TILE).content == client.get(TILE).content
        assert full_path_calls == ["page", "page"]


@pytest.mark.parametrize(
    "path",
    [
        "/iiif/3/page/256,256,256,256/200,200/0/default.png",  # rendered by libvips, kept
        "/iiif/3/page/full/max/0/default.jpg",  # over 512 x 512 px: cut on a worker thread, kept
        "/iiif/3/page/128,128,256,256/256,256/0/gray.jpg",
    ],
)
def test_a_kept_answer_is_sent_again_by_the_short_path(folder, full_path_calls, path):
    with client_on(folder) as client, client_on(folder, render_cache_mb=0) as other:
        first, again, full = client.get(path), client.get(path), other.get(path)
        assert full_path_calls == ["page", "page"]  # `client`'s first answer, and `other`'s
        assert first.status_code == again.status_code == 200
        assert again.content == first.content == full.content
        assert all(again.headers[name] == first.headers[name] for name in SAME)


def test_an_identifier_resolved_a_moment_ago_is_checked_again_when_its_file_goes(folder):
    shutil.copy(folder / "page.tif", folder / "copy.tif")
    with client_on(folder, render_cache_mb=0) as client:
        path = TILE.replace("page", "copy")
        assert client.get(path).status_code == 200
        (folder / "copy.tif").unlink()
        assert client.get(path).status_code == 404
        assert client.get(path.replace("default.jpg", "default.png")).status_code == 404
