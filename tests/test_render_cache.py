"""The encoded-image cache: a repeated request is served from memory, a changed file never is."""

import io
import os
from pathlib import Path

import numpy as np
import pyvips
from PIL import Image
from starlette.testclient import TestClient

from iiif_server.app import create_app
from iiif_server.render_cache import RenderedImages
from iiif_server.settings import Settings


def write_plain(path: Path, colour: tuple[int, int, int], mtime: float) -> None:
    pyvips.Image.black(300, 200).new_from_image(list(colour)).cast("uchar").copy(
        interpretation="srgb"
    ).pngsave(str(path))
    os.utime(path, (mtime, mtime))


def pixel(body: bytes) -> tuple[int, ...]:
    return tuple(int(v) for v in np.asarray(Image.open(io.BytesIO(body)).convert("RGB"))[10, 10])


def rendered_stats(client: TestClient) -> dict[str, int]:
    return client.get("/metrics/cache").json()["rendered"]


def test_repeat_is_a_hit_and_a_changed_file_is_rendered_again(tmp_path: Path) -> None:
    path = tmp_path / "plain.png"
    write_plain(path, (200, 30, 30), 1_000_000)
    with TestClient(create_app(Settings(image_root=tmp_path))) as client:
        url = "/iiif/3/plain.png/0,0,100,100/max/0/default.png"
        first, second = client.get(url), client.get(url)
        assert first.content == second.content and pixel(first.content) == (200, 30, 30)
        assert rendered_stats(client) | {"bytes": 0} == {"hits": 1, "misses": 1, "hit_rate": 0.5, "bytes": 0}
        write_plain(path, (30, 30, 200), 2_000_000)
        third = client.get(url)
        assert pixel(third.content) == (30, 30, 200)
        assert third.headers["etag"] != first.headers["etag"]


def test_zero_megabytes_turns_it_off(tmp_path: Path) -> None:
    write_plain(tmp_path / "plain.png", (10, 120, 10), 1_000_000)
    with TestClient(create_app(Settings(image_root=tmp_path, render_cache_mb=0))) as client:
        for _ in range(2):
            assert pixel(client.get("/iiif/3/plain.png/full/max/0/default.png").content) == (10, 120, 10)
        assert rendered_stats(client)["hits"] == 0


def test_bodies_above_the_item_limit_are_not_kept() -> None:
    cache = RenderedImages(max_bytes=1000, max_item_bytes=100)
    cache.put("small", b"x" * 100)
    cache.put("large", b"x" * 101)
    assert cache.get("small") == b"x" * 100 and cache.get("large") is None
    assert cache.stats() == {"hits": 1, "misses": 1, "hit_rate": 0.5, "bytes": 100}


def test_least_recently_used_bodies_leave_first() -> None:
    cache = RenderedImages(max_bytes=250, max_item_bytes=100)
    for key in ("a", "b"):
        cache.put(key, key.encode() * 100)
    cache.get("a")
    cache.put("c", b"c" * 100)
    assert cache.get("b") is None and cache.get("a") == b"a" * 100 and cache.get("c") == b"c" * 100
