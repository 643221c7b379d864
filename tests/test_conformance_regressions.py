"""Where the validator is weak or disagrees with the 3.0 spec text: the behaviour chosen, pinned here."""

from pathlib import Path

import pytest
import pyvips
from starlette.testclient import TestClient

from iiif_server.app import create_app
from iiif_server.samples import VALIDATOR_IDENTIFIER, validator_image
from iiif_server.settings import Limits, Settings

BASE = f"/iiif/3/{VALIDATOR_IDENTIFIER}"


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding only the validator's 1000x1000 test image."""
    folder = tmp_path_factory.mktemp("validator")
    validator_image(folder / f"{VALIDATOR_IDENTIFIER}.png")
    return folder


def app_client(images: Path, limits: Limits) -> TestClient:
    """A client whose limits are `limits`, for anonymous clients too."""
    return TestClient(create_app(Settings(image_root=images, limits=limits, anonymous_max_area=None)))


def test_confined_size_beyond_the_image_needs_the_caret(images: Path) -> None:
    """`!2000,3000` on 1000x1000 is 400 as the validator expects; `^!2000,3000` is 2000x2000."""
    api = app_client(images, Limits())
    assert api.get(f"{BASE}/full/!2000,3000/0/default.png").status_code == 400
    response = api.get(f"{BASE}/full/^!2000,3000/0/default.png")
    assert response.status_code == 200
    assert pyvips.Image.new_from_buffer(response.content, "").width == 2000


@pytest.mark.parametrize(
    ("limits", "side"),
    [
        (Limits(1500, None, None), 1500),
        (Limits(None, None, 1200 * 1200), 1200),
        (Limits(None, None, None), 1000),
    ],
)
def test_caret_max_grows_to_the_limits(images: Path, limits: Limits, side: int) -> None:
    """`^max` grows to maxWidth/maxHeight/maxArea; only without limits is it the full size size_up expects."""
    response = app_client(images, limits).get(f"{BASE}/full/^max/0/default.png")
    assert response.status_code == 200
    image = pyvips.Image.new_from_buffer(response.content, "")
    assert (image.width, image.height) == (side, side)


def test_size_full_is_refused(images: Path) -> None:
    """Version 3 replaced `full` by `max`; the validator's size_nofull accepts any non-200, we pin 400."""
    assert app_client(images, Limits()).get(f"{BASE}/full/full/0/default.jpg").status_code == 400


def test_bitonal_is_black_and_white_only(images: Path) -> None:
    """The validator's quality_bitonal passes any greyscale JPEG; a lossless bitonal has only 0 and 255."""
    response = app_client(images, Limits()).get(f"{BASE}/full/max/0/bitonal.png")
    assert response.status_code == 200
    image = pyvips.Image.new_from_buffer(response.content, "")
    assert image.bands == 1
    assert {int(value) for value in set(image.numpy().ravel().tolist())} == {0, 255}
