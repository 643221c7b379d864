"""JPEG 2000 sources, served like TIFFs in both API versions: JP2s made here with glymur (lossless and lossy,
tiled and untiled, with precincts, greyscale and RGB, 16-bit, one with an ICC profile) answer with the pixels
they hold, read from the resolution level and window a request needs; masks, batches and OCR read them
through the same page source; broken files answer 501 (or 413 from the header alone), never 500."""

import base64
import json
import random
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path

import glymur
import httpx
import numpy as np
import pytest
import pyvips
from starlette.testclient import TestClient
from test_mask_batch_memory import MB, PeakSampler

from conformance.live_server import running_server
from extensions.masking import masking_extension
from extensions.ocr import ocr_extension
from extensions.ocr_settings import OCRSettings
from iiif_server.app import create_app
from iiif_server.convert import convert_to_pyramid
from iiif_server.samples import SAMPLE_LINES, document_page
from iiif_server.settings import Settings

WIDTH, HEIGHT = 400, 300


def noise(height: int, width: int, bands: int, seed: int = 1) -> np.ndarray:
    """Random 8-bit samples: every pixel differs from its neighbours, so only an exact decode matches."""
    shape = (height, width, bands) if bands > 1 else (height, width)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def smooth(height: int, width: int) -> np.ndarray:
    """An RGB gradient, which lossy coding keeps within a few levels."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 255 // width, y * 255 // height, (x + y) * 255 // (width + height)], -1).astype(
        np.uint8
    )


def icc_profile() -> bytes:
    """libvips' built-in sRGB profile."""
    image = pyvips.Image.black(1, 1, bands=3).copy(interpretation="srgb")
    return bytes(image.icc_transform("srgb", input_profile="srgb", embedded=False).get("icc-profile-data"))


def with_icc(plain: Path, target: Path) -> None:
    """`plain` rewrapped with an ICC colour specification box instead of its enumerated sRGB one."""
    jp2 = glymur.Jp2k(str(plain))
    boxes = jp2.box
    header = next(box for box in boxes if box.box_id == "jp2h")
    colr = glymur.jp2box.ColourSpecificationBox(
        method=glymur.core.RESTRICTED_ICC_PROFILE, icc_profile=icc_profile()
    )
    header.box = [box if box.box_id != "colr" else colr for box in header.box]
    jp2.wrap(str(target), boxes=boxes)


def declaring(source: Path, target: Path, width: int, height: int) -> None:
    """A copy of `source` whose SIZ marker (and image header box) declare `width` x `height` pixels."""
    data = bytearray(source.read_bytes())
    siz = data.index(b"\xff\x51")
    struct.pack_into(">IIII", data, siz + 6, width, height, 0, 0)
    struct.pack_into(">IIII", data, siz + 22, width, height, 0, 0)  # one tile as big as the image
    ihdr = data.index(b"ihdr")
    struct.pack_into(">II", data, ihdr + 4, height, width)
    target.write_bytes(bytes(data))


SOURCES = {
    "lossless": noise(HEIGHT, WIDTH, 3),
    "grey": noise(HEIGHT, WIDTH, 1, seed=2),
    "icc": noise(HEIGHT, WIDTH, 3, seed=3),
    "lossy": smooth(600, 500),
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("jp2")
    glymur.Jp2k(str(root / "lossless.jp2"), data=SOURCES["lossless"], numres=4)
    glymur.Jp2k(str(root / "grey.j2k"), data=SOURCES["grey"], numres=3, psizes=[(64, 64)], cbsize=(32, 32))
    glymur.Jp2k(str(root / "plain.jp2"), data=SOURCES["icc"])
    with_icc(root / "plain.jp2", root / "icc.jp2")
    (root / "plain.jp2").unlink()
    lossy = dict(numres=4, tilesize=(256, 256), irreversible=True, cratios=[8], prog="RPCL")
    glymur.Jp2k(str(root / "lossy.jp2"), data=SOURCES["lossy"], **lossy)
    deep = (noise(HEIGHT, WIDTH, 1, seed=4).astype(np.uint16) * 257).astype(np.uint16)
    glymur.Jp2k(str(root / "deep.jp2"), data=deep)
    whole = (root / "lossy.jp2").read_bytes()
    (root / "truncated.jp2").write_bytes(whole[: len(whole) * 2 // 3])
    (root / "truncated.j2k").write_bytes((root / "grey.j2k").read_bytes()[:2000])
    declaring(root / "lossless.jp2", root / "huge.jp2", 100_000, 100_000)
    for name, pixels in SOURCES.items():  # the same pixels as PNG: what a JP2 must answer like
        pyvips.Image.new_from_array(pixels).pngsave(str(root / f"{name}-png.png"))
    return root


@pytest.fixture(scope="module")
def client(folder: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(image_root=folder), [masking_extension()])) as test_client:
        yield test_client


def pixels(response: httpx.Response) -> np.ndarray:
    assert response.status_code == 200, response.text
    image = pyvips.Image.new_from_buffer(response.content, "")
    array = image.numpy()
    return array if image.bands > 1 else array.reshape(image.height, image.width)


def level_decode(path: Path, reduce: int) -> np.ndarray:
    """OpenJPEG's own decode of a whole resolution level, for comparing reduced reads."""
    return glymur.Jp2k(str(path))[:: 2**reduce, :: 2**reduce]


@pytest.mark.parametrize("version", [2, 3])
def test_lossless_rgb_answers_its_exact_pixels(client: TestClient, version: int) -> None:
    source = SOURCES["lossless"]
    assert np.array_equal(pixels(client.get(f"/iiif/{version}/lossless/full/max/0/default.png")), source)
    region = pixels(client.get(f"/iiif/{version}/lossless.jp2/37,51,150,90/max/0/default.png"))
    assert np.array_equal(region, source[51:141, 37:187])


def test_greyscale_codestream_with_precincts(client: TestClient) -> None:
    assert np.array_equal(pixels(client.get("/iiif/3/grey/full/max/0/default.png")), SOURCES["grey"])
    tile = pixels(client.get("/iiif/2/grey.j2k/256,256,144,44/max/0/default.png"))
    assert np.array_equal(tile, SOURCES["grey"][256:300, 256:400])


def test_icc_profile_file_answers_its_pixels(client: TestClient, folder: Path) -> None:
    assert glymur.Jp2k(str(folder / "icc.jp2")).box[2].box[1].method == glymur.core.RESTRICTED_ICC_PROFILE
    assert np.array_equal(pixels(client.get("/iiif/3/icc/full/max/0/default.png")), SOURCES["icc"])


def test_sixteen_bit_samples_are_scaled_to_eight(client: TestClient) -> None:
    expected = noise(HEIGHT, WIDTH, 1, seed=4)  # stored as v * 257
    assert np.array_equal(pixels(client.get("/iiif/3/deep/full/max/0/default.png")), expected)


def test_lossy_tiled_file_is_close_to_its_source(client: TestClient) -> None:
    answered = pixels(client.get("/iiif/3/lossy/full/max/0/default.png")).astype(int)
    assert answered.shape == SOURCES["lossy"].shape
    assert np.abs(answered - SOURCES["lossy"]).mean() < 2
    tile = pixels(client.get("/iiif/2/lossy/256,256,244,344/max/0/default.png")).astype(int)
    assert np.abs(tile - SOURCES["lossy"][256:600, 256:500]).mean() < 2


def test_smaller_sizes_are_read_from_the_resolution_level(client: TestClient, folder: Path) -> None:
    # 100x75 is the level with two resolutions discarded: its pixels are OpenJPEG's, not a resize of level 0.
    assert np.array_equal(
        pixels(client.get("/iiif/3/lossless/full/100,75/0/default.png")),
        level_decode(folder / "lossless.jp2", 2),
    )
    # A tile of that level, window 64,64 to 128,75 of it (256,256,256,44 of the full image).
    tile = pixels(client.get("/iiif/3/lossless/256,256,144,44/36,11/0/default.png"))
    assert np.array_equal(tile, level_decode(folder / "lossless.jp2", 2)[64:75, 64:100])


@pytest.mark.parametrize("version", [2, 3])
def test_info_lists_the_resolution_levels_and_tile_grid(client: TestClient, version: int) -> None:
    untiled = client.get(f"/iiif/{version}/lossless/info.json").json()
    assert (untiled["width"], untiled["height"]) == (WIDTH, HEIGHT)
    sizes = [(size["width"], size["height"]) for size in untiled["sizes"]]
    assert sizes == [(50, 38), (100, 75), (200, 150), (400, 300)]  # its four resolutions (OpenJPEG's ceil)
    assert untiled["tiles"][0]["width"] == 512  # no grid of its own: the server's tile size
    tiled = client.get(f"/iiif/{version}/lossy/info.json").json()
    assert tiled["tiles"] == [{"width": 256, "height": 256, "scaleFactors": [1, 2, 4]}]


def test_folder_lists_jp2_identifiers(client: TestClient) -> None:
    answered = client.get("/", headers={"Accept": "application/json"})
    listed = json.dumps(answered.json())
    assert all(name in listed for name in ("lossless", "grey", "icc", "deep"))


@pytest.mark.parametrize(
    ("identifier", "reason"),
    [
        ("truncated", "truncated: its codestream needs"),
        ("truncated.j2k", "cannot decode truncated.j2k"),
    ],
)
def test_truncated_files_are_501_with_the_reason(
    client: TestClient, folder: Path, identifier: str, reason: str
) -> None:
    for path in ("full/max/0/default.jpg", "0,0,256,256/256,/0/default.jpg"):
        response = client.get(f"/iiif/3/{identifier}/{path}")
        assert response.status_code == 501, response.text
        assert reason in response.text and str(folder) not in response.text


def test_a_header_declaring_too_many_pixels_is_413_before_decoding(client: TestClient) -> None:
    # The codestream still holds 400x300 pixels: decoding it would fail (501); 413 says it never was.
    for path in ("info.json", "0,0,256,256/256,/0/default.jpg"):
        response = client.get(f"/iiif/3/huge/{path}")
        assert response.status_code == 413, response.text
        assert "IIIF_MAX_SOURCE_PIXELS" in response.text


def test_corrupt_bytes_never_answer_500(tmp_path: Path, folder: Path) -> None:
    whole = (folder / "lossless.jp2").read_bytes()
    randomness = random.Random(19)
    for n in range(24):
        damaged = bytearray(whole)
        start = randomness.randrange(0, 400) if n % 2 else randomness.randrange(400, len(whole))
        damaged[start : start + 16] = bytes(randomness.randrange(256) for _ in range(16))
        (tmp_path / f"bad{n}.jp2").write_bytes(bytes(damaged))
    with TestClient(create_app(Settings(image_root=tmp_path))) as damaged_client:
        for n in range(24):
            for path in ("info.json", "full/max/0/default.png", "100,100,64,64/max/0/default.png"):
                response = damaged_client.get(f"/iiif/3/bad{n}/{path}")
                assert response.status_code in (200, 400, 413, 501), (n, path, response.text)


POLYGON = "poly:40,40,360,60,300,260,60,240"


@pytest.mark.parametrize("name", ["lossless", "grey"])
def test_polygon_masks_match_the_same_pixels_as_png(client: TestClient, name: str) -> None:
    def get(identifier: str, size: str) -> np.ndarray:
        return pixels(client.get(f"/iiif/3/{identifier}/{POLYGON}/{size}/0/default.png"))

    assert np.array_equal(get(name, "max"), get(f"{name}-png", "max"))
    # Smaller, the JP2's pixels come from a resolution level (not a resize), the mask is the same.
    assert np.array_equal(get(name, "150,")[..., -1], get(f"{name}-png", "150,")[..., -1])


def test_mask_batch_on_a_jp2_matches_png(client: TestClient) -> None:
    def batch(identifier: str) -> list[np.ndarray]:
        annotations = [{"polygon": [[10 + i * 30, 20], [200, 30 + i * 10], [120, 250]]} for i in range(5)]
        body = {"identifier": identifier, "annotations": annotations, "output_format": "json"}
        answer = client.post("/mask/batch", json=body)
        assert answer.status_code == 200, answer.text
        items = answer.json()["items"]
        assert [item["status"] for item in items] == ["ok"] * 5
        return [pyvips.Image.new_from_buffer(base64.b64decode(i["image_base64"]), "").numpy() for i in items]

    for jp2_item, png_item in zip(batch("lossless"), batch("lossless-png"), strict=True):
        assert np.array_equal(jp2_item, png_item)


@pytest.fixture(scope="module")
def page_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("jp2-page")
    image, _ = document_page(900, 600, SAMPLE_LINES[:8], seed=5)
    samples = image.numpy()
    glymur.Jp2k(str(root / "page.jp2"), data=samples, numres=5)
    image.pngsave(str(root / "page-png.png"))
    return root


def test_ocr_reads_a_jp2_page_as_the_same_png(page_folder: Path) -> None:
    app = create_app(Settings(image_root=page_folder), [ocr_extension(OCRSettings())])
    with TestClient(app) as ocr_client:
        answers = [ocr_client.get(f"/iiif/3/{name}/ocr.json") for name in ("page", "page-png")]
    for answer in answers:
        assert answer.status_code == 200, answer.text
    texts = [
        [(item["target"], item["body"]["value"]) for item in answer.json()["items"]] for answer in answers
    ]
    assert len(texts[0]) >= 6
    assert [text for _, text in texts[0]] == [text for _, text in texts[1]]


@pytest.mark.slow
def test_a_tile_of_a_10000x14000_jp2_stays_under_200_mb(tmp_path: Path) -> None:
    """The real server, one 256 px tile of a tiled 10000x14000 RGB JP2 (420 MB decoded): its RSS grows by
    far less than 200 MB, as only the tile's code-blocks are decoded."""
    height, width, side = 14000, 10000, 1024
    writer = glymur.Jp2k(
        str(tmp_path / "master.jp2"), shape=(height, width, 3), tilesize=(side, side), numres=6
    )
    for index, tile in enumerate(writer.get_tilewriters()):
        row, column = divmod(index, -(-width // side))
        tile_h, tile_w = min(side, height - row * side), min(side, width - column * side)
        tile[:] = np.full((tile_h, tile_w, 3), (index * 7 % 256, row * 20, column * 20), dtype=np.uint8)
    with running_server(tmp_path) as live, httpx.Client(base_url=live.base_url, timeout=60) as http:
        assert http.get("/iiif/3/master/info.json").status_code == 200
        with PeakSampler(live.pid) as sampler:
            before = sampler.peak
            answer = http.get("/iiif/3/master/5120,7168,256,256/256,/0/default.png")
        assert answer.status_code == 200
        tile_index = 7 * 10 + 5  # row 7, column 5 of the 1024 px grid
        assert np.array_equal(pixels(answer)[0, 0], (tile_index * 7 % 256, 140, 100))
        assert sampler.peak - before < 200 * MB, (sampler.peak - before) / MB
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_without_openjpeg_jp2s_are_501_saying_what_to_install(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(folder / "lossless.jp2", tmp_path)
    monkeypatch.setattr(glymur.version, "openjpeg_version_tuple", [0, 0, 0])
    with TestClient(create_app(Settings(image_root=tmp_path))) as bare:
        response = bare.get("/iiif/3/lossless/info.json")
    assert response.status_code == 501
    assert "libopenjp2-7" in response.text


def test_convert_makes_a_pyramidal_tiff_of_a_jp2(tmp_path: Path, folder: Path) -> None:
    target = convert_to_pyramid(folder / "lossy.jp2", tmp_path / "lossy.tif")
    converted = pyvips.Image.new_from_file(str(target))
    assert converted.get("n-pages") > 1 or converted.get_typeof("n-subifds")
    assert np.abs(converted.numpy().astype(int) - SOURCES["lossy"]).mean() < 3
