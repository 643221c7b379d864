"""The pipeline's mask steps on images in memory: the fill for formats without alpha, the alpha band for the
others, and the shared, read-only raster they take."""

import numpy as np
import pytest
import pyvips

from extensions.polygon_mask import PolygonMask
from iiif_server.formats import WHITE, EncodeOptions, encode
from iiif_server.pipeline import FILL_IN_MEMORY_PIXELS, apply_mask, filled
from iiif_server.region import Box


def source(height: int, width: int, bands: int) -> tuple[np.ndarray, pyvips.Image, np.ndarray]:
    """Random pixels, the libvips image over a copy of them, and a random read-only mask."""
    rng = np.random.default_rng(17)
    pixels = rng.integers(0, 256, (height, width, bands), dtype=np.uint8)
    interpretation = "srgb" if bands == 3 else "b-w"
    image = pyvips.Image.new_from_memory(pixels.copy(), width, height, bands, "uchar")
    mask = np.where(rng.random((height, width)) < 0.6, 255, 0).astype(np.uint8)
    mask.flags.writeable = False
    return pixels, image.copy(interpretation=interpretation), mask


def array(image: pyvips.Image) -> np.ndarray:
    return image.numpy().reshape(image.height, image.width, image.bands)


@pytest.mark.parametrize(
    ("height", "width", "bands", "fill"),
    [
        (31, 47, 3, [200.0, 100.0, 50.0]),  # in memory, filled in place
        (31, 47, 3, [255.0, 255.0, 255.0]),  # white: or-ed alone
        (31, 47, 1, [127.0]),
        (1001, 1000, 3, [200.0, 100.0, 50.0]),  # above FILL_IN_MEMORY_PIXELS: libvips, streaming
    ],
)
def test_filled_paints_exactly_the_outside_and_leaves_the_source_alone(
    height: int, width: int, bands: int, fill: list[float]
) -> None:
    pixels, image, mask = source(height, width, bands)
    assert (height * width > FILL_IN_MEMORY_PIXELS) == (height == 1001)
    expected = np.where(mask[..., np.newaxis] == 255, pixels, np.array(fill, np.uint8))
    out = filled(image, mask, fill)
    assert out.interpretation == image.interpretation
    np.testing.assert_array_equal(array(out), expected)
    np.testing.assert_array_equal(array(filled(image, mask, fill)), expected)  # a second time: the same
    np.testing.assert_array_equal(array(image), pixels)  # the fill went into a buffer of its own


@pytest.mark.parametrize(("bands", "quality"), [(3, 85), (3, 95), (1, 85)])
def test_a_filled_jpeg_written_from_memory_has_the_pixels_libvips_writes(bands: int, quality: int) -> None:
    """OpenCV's libjpeg-turbo with libvips' settings (no colour subsampling from quality 90 on)."""
    _, image, mask = source(64, 80, bands)
    painted = filled(image, mask, [255.0] * bands)
    ours = encode(painted, "jpg", EncodeOptions(jpeg_quality=quality), WHITE, in_memory=True)
    theirs = painted.jpegsave_buffer(Q=quality, keep="none")
    assert ours != theirs  # written by the other encoder...
    decoded = [array(pyvips.Image.new_from_buffer(body, "")) for body in (ours, theirs)]
    np.testing.assert_array_equal(decoded[0], decoded[1])  # ...to the same pixels


def test_a_transparent_mask_is_the_alpha_band_and_keeps_every_colour() -> None:
    pixels, image, mask = source(31, 47, 3)
    out = array(apply_mask(image, mask, True, WHITE))
    np.testing.assert_array_equal(out[..., 3], mask)
    np.testing.assert_array_equal(out[..., :3], pixels)


def test_a_raster_is_made_once_and_cannot_be_written() -> None:
    mask = PolygonMask((np.array([[10.5, 10.5], [90.5, 20.5], [50.5, 80.5]]),), 1.0)
    first = mask.rasterize(Box(10, 10, 81, 71), 40, 35)
    assert first.shape == (35, 40) and set(np.unique(first)) == {0, 255}
    assert mask.rasterize(Box(10, 10, 81, 71), 40, 35) is first
    with pytest.raises(ValueError, match="read-only"):
        first[0, 0] = 255
