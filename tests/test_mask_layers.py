"""Masks filled byte-wise from cached layers: the pixels libvips' `ifthenelse` gives, kept per mask, and masks
too large to keep still filled."""

import numpy as np
import pytest
import pyvips
from polygon_fixtures import gradient, to_vips
from shapely.geometry import Polygon
from starlette.testclient import TestClient

from extensions.polygon_mask import PolygonMask
from extensions.server import create_server_app
from iiif_server import app, pipeline
from iiif_server.formats import fill_colour
from iiif_server.mask_layers import MaskLayerCache
from iiif_server.region import Box
from iiif_server.settings import Settings

BOX = Box(10, 20, 300, 200)
MASK = PolygonMask(Polygon([(15.5, 25.2), (300.7, 40.1), (250.4, 210.6), (30.2, 180.9)]))


def reference(image: pyvips.Image, background: tuple[int, int, int]) -> np.ndarray:
    """The fill as the pipeline made it before the layers: `ifthenelse` on the one-band mask."""
    return (
        MASK.rasterize(BOX, image.width, image.height)
        .ifthenelse(image, fill_colour(image, background))
        .numpy()
    )


@pytest.mark.parametrize("grey", [False, True])
@pytest.mark.parametrize("background", [(255, 255, 255), (200, 30, 77)])
def test_layers_fill_exactly_like_ifthenelse(monkeypatch: pytest.MonkeyPatch, grey: bool, background) -> None:
    monkeypatch.setattr(pipeline, "MASK_LAYERS", MaskLayerCache(8 << 20))
    image = to_vips(gradient(300, 200))
    if grey:  # one band, filled with the grey that (200, 30, 77) becomes
        image = image.colourspace("b-w")
    masked = pipeline.apply_mask(image, MASK, BOX, False, background)
    assert masked.format == "uchar" and masked.bands == image.bands
    expected = reference(image, background)
    assert np.array_equal(masked.numpy(), expected)
    assert (expected != masked.numpy()[0, 0]).any()  # not one flat colour: inside and outside differ


def test_a_repeated_mask_is_a_hit_and_a_mask_too_large_to_keep_is_still_filled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = to_vips(gradient(300, 200))
    layers = MaskLayerCache(8 << 20)
    monkeypatch.setattr(pipeline, "MASK_LAYERS", layers)
    first = pipeline.apply_mask(image, MASK, BOX, False, (255, 255, 255)).numpy()
    second = pipeline.apply_mask(image, MASK, BOX, False, (255, 255, 255)).numpy()
    assert layers.stats()["hits"] == 1 and layers.stats()["misses"] == 1
    assert layers.stats()["bytes"] == 2 * 300 * 200 * 3
    tiny = MaskLayerCache(4 * 2 * 300 * 200 * 3 - 1)  # the layers are just over a quarter of it
    monkeypatch.setattr(pipeline, "MASK_LAYERS", tiny)
    fallback = pipeline.apply_mask(image, MASK, BOX, False, (255, 255, 255)).numpy()
    assert tiny.stats() == {"hits": 0, "misses": 0, "hit_rate": None, "bytes": 0}
    assert np.array_equal(first, second) and np.array_equal(first, fallback)
    assert np.array_equal(first, reference(image, (255, 255, 255)))


def test_transparent_formats_take_the_one_band_mask(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "MASK_LAYERS", MaskLayerCache(8 << 20))
    image = to_vips(gradient(300, 200))
    masked = pipeline.apply_mask(image, MASK, BOX, True, (255, 255, 255)).numpy()
    assert masked.shape == (200, 300, 4)
    assert np.array_equal(masked[..., 3], MASK.rasterize(BOX, 300, 200).numpy())
    assert np.array_equal(masked[..., :3], image.numpy())


def test_the_server_sizes_the_cache_and_reports_it(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    layers = MaskLayerCache(0)  # this test's own, so that the process's stays as it was
    monkeypatch.setattr(pipeline, "MASK_LAYERS", layers)
    monkeypatch.setattr(app, "MASK_LAYERS", layers)
    to_vips(gradient()).pngsave(str(tmp_path / "page.png"))
    settings = Settings(image_root=tmp_path, mask_cache_mb=1, render_cache_mb=0)  # every answer rendered
    with TestClient(create_server_app(settings)) as client:
        assert layers.max_bytes == 1 << 20
        for _ in range(2):
            response = client.get("/iiif/3/page/poly:20,20,200,30,180,150/max/0/default.jpg")
            assert response.status_code == 200
        assert client.get("/metrics/cache").json()["mask_layers"]["hits"] == 1
